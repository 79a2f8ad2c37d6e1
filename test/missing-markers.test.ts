// ml.yaml's missing markers travel with the model: a "." that training read as missing is missing when served and
// when predicted in batch, with the very same scores as null.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openArtifact } from '../src/model/artifact.js';
import { runPipeline } from '../src/pipeline/run.js';
import { ServedModel } from '../src/serve/model.js';
import { bramble } from './helpers/cli.js';


/** 600 rows: x (a number, "." when unknown), kind (a category, "?" when unknown), y from a rule on x. */
function makeRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-markers-'));
  mkdirSync(join(dir, 'data'));
  const lines = ['x,kind,y'];
  for (let i = 0; i < 600; i++) {
    const x = (i * 37) % 100;
    const unknownX = i % 10 === 3;
    const unknownKind = i % 7 === 2;
    lines.push(`${unknownX ? '.' : x},${unknownKind ? '?' : ['a', 'b', 'c'][i % 3]},${x > 50 ? 'yes' : 'no'}`);
  }
  writeFileSync(join(dir, 'data/train.csv'), lines.join('\n') + '\n');
  writeFileSync(
    join(dir, 'ml.yaml'),
    [
      'name: markers',
      'task: classification',
      'data:',
      '  train: data/train.csv',
      '  target: y',
      "  missing: ['.']",
      'schema:',
      '  columns:',
      '    x: { type: number, nullable: true }',
      "    kind: { type: category, nullable: true, missing: ['?'] }",
      'features:',
      '  - onehot: [kind]',
      'model:',
      '  type: random-forest',
      '  params: { trees: 10 }',
      'split: { test: 0.25, seed: 3 }',
    ].join('\n') + '\n',
  );
  return dir;
}

describe('missing markers from ml.yaml', () => {
  let dir: string;
  let text: string;

  beforeAll(async () => {
    dir = makeRepo();
    const result = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
    expect(result.validation.success).toBe(true);
    text = readFileSync(result.artifact?.path ?? '', 'utf8');
  });

  it('are saved with the inputs they apply to', () => {
    const artifact = openArtifact(text, 'model.json') as unknown as { features: { version: number; inputs: { name: string; missing?: string[] }[] } };
    expect(artifact.features.version).toBe(2);
    expect(artifact.features.inputs).toEqual([
      { name: 'x', kind: 'number', missing: ['.'] },
      { name: 'kind', kind: 'text', missing: ['.', '?'] },
    ]);
  });

  it('a served "." or "?" scores exactly as null, and is accepted by the request schema', () => {
    const model = ServedModel.load(text, 'model.json');
    const marked = model.predict([{ x: '.', kind: '?' }, { x: 70, kind: '?' }], (i) => `row ${i}`);
    const nulls = model.predict([{ x: null, kind: null }, { x: 70, kind: null }], (i) => `row ${i}`);
    expect(Array.from(marked.probabilities ?? [])).toEqual(Array.from(nulls.probabilities ?? []));
    // Any other text is still refused.
    expect(() => model.predict([{ x: 'n.a.', kind: 'a' }], () => 'row 1')).toThrow('row 1');
  });

  it('bramble predict reads the markers as training did: the training file scores without an error', () => {
    const r = bramble(['predict', '--model', join(dir, '.bramble/model.json'), join(dir, 'data/train.csv')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows).toHaveLength(601);
    // Line 5 of the file (i = 3) has x ".": scored like a row whose x is missing.
    const model = ServedModel.load(text, 'model.json');
    const expected = model.predict([{ x: null, kind: 'a' }], () => 'row');
    expect(rows[0]).toBe('prediction,p_no,p_yes');
    const [pNo, pYes] = Array.from(expected.probabilities ?? []);
    expect(rows[4]).toBe(`${String(expected.predictions[0])},${pNo},${pYes}`);
    expect(pNo).toBeGreaterThan(0);
    expect(pYes).toBeGreaterThan(0);
  });
});
