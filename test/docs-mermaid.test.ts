// The Mermaid diagrams in docs/ parse with mermaid itself (in jsdom), as GitHub renders them: a diagram that does
// not parse shows as an error box where a newcomer expected the map.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMermaid, mermaidBlocks } from './helpers/mermaid.js';

const DOCS = join(import.meta.dirname, '../docs');

const DIAGRAMS = readdirSync(DOCS)
  .filter((name) => name.endsWith('.md'))
  .flatMap((name) => mermaidBlocks(readFileSync(join(DOCS, name), 'utf8')).map((block, i): [string, string] => [`${name} #${i + 1}`, block]));

/** What mermaid.parse reports for each kind of diagram docs/ uses. */
const DIAGRAM_TYPES: Record<string, string> = { flowchart: 'flowchart-v2', graph: 'flowchart-v2' };

describe('the Mermaid diagrams of docs/', () => {
  it('include the map of the layers in docs/architecture.md', () => {
    expect(DIAGRAMS.map(([where]) => where)).toContain('architecture.md #1');
  });

  it.each(DIAGRAMS)('%s parses', async (_, block) => {
    const mermaid = await loadMermaid();
    // The diagram mermaid read must be the one the block declares (a new kind of diagram in docs/ is added here).
    const declared = block.trim().split(/\s/)[0];
    await expect(mermaid.parse(block)).resolves.toMatchObject({ diagramType: DIAGRAM_TYPES[declared] ?? `a known kind, not ${declared}` });
  });
});
