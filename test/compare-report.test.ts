// `bramble compare --report FILE` writes the report the compare action posts as the pull request's comment: the
// same use-case builds it, and the same renderer lays it out at the comment's limit.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARTIFACT } from '../src/model/artifact.js';
import { runPipeline } from '../src/pipeline/run.js';
import { renderReport } from '../src/report/render.js';
import { REPORT } from '../src/report/view.js';
import { compare } from '../src/usecases/compare.js';
import { bramble } from './helpers/cli.js';

const template = join(import.meta.dirname, '../templates/model-repo');

/** The template (outside git: no registry, so no history) with a model of `trees` trees trained into `file`. */
async function modelOf(dir: string, trees: number, file: string): Promise<string> {
  const yaml = join(dir, 'ml.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/trees: \d+/, `trees: ${trees}`));
  const run = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
  if (!run.artifact) throw new Error('the template failed validation');
  const path = join(dir, file);
  cpSync(run.artifact.path, path);
  return path;
}

describe('bramble compare --report', () => {
  it('writes the Markdown of the pull request comment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-compare-report-'));
    cpSync(template, dir, { recursive: true, filter: (src) => !src.includes(ARTIFACT.folder) });
    const champion = await modelOf(dir, 5, 'champion.json');
    const candidate = await modelOf(dir, 8, 'candidate.json');
    const out = join(dir, 'report.md');

    const r = bramble(['compare', dir, '--candidate', candidate, '--champion', champion, '--report', out]);
    expect(r.stderr).toBe('');
    expect([0, 1]).toContain(r.status);
    const ports = { git: { env: {} }, log: { info: () => undefined, warn: () => undefined } };
    const request = { dir, candidate, champion, report: { run: { url: null, sha: null, ref: null }, fetch: false } };
    const { report } = await compare(request, ports);
    if (report === null) throw new Error('nothing was compared');
    const markdown = readFileSync(out, 'utf8');
    expect(markdown).toBe(renderReport(report, REPORT.commentLimit).markdown);
    expect(markdown).toContain(REPORT.marker('churn'));
  });

  it('refuses a --report in a folder that does not exist before any work', () => {
    const r = bramble(['compare', template, '--candidate', 'a.json', '--champion', 'b.json', '--report', '/no/such/folder/report.md']);
    expect(r.stderr).toBe('bramble: --report /no/such/folder/report.md: the folder /no/such/folder does not exist; create it first (mkdir -p /no/such/folder)\n');
    expect(r.status).toBe(2);
    expect(existsSync('/no/such/folder')).toBe(false);
  });
});
