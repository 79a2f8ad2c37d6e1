// The gate judges fairly under change: `bramble run` finds the champion in the registry itself, and scores it only
// on held-out rows it never trained on — the leak that refused good pull requests when a PR appended rows.
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { commitAll, editMlYaml, git, makeModelRepo } from './helpers/model-repo.js';
import { bramble } from './helpers/cli.js';

interface RunJson {
  evaluation: { roc_auc: number };
  split: { train: number; test: number; skipped: number; share: number; classShares: Record<string, number> };
  champion?: {
    file: string;
    version?: string;
    env?: string;
    via: string;
    metrics: { roc_auc: number };
    candidateMetrics: { roc_auc: number };
    compared: { rows: number; heldOut: number; excluded: number; notes: string[] };
  };
  gates: { passed: boolean };
}

function runJson(dir: string, ...args: string[]): RunJson {
  const r = bramble(['run', '.', '--json', '--workers', '1', ...args], { cwd: dir });
  if (r.status !== 0) throw new Error(`bramble run exited ${r.status}: ${r.stderr}${r.stdout.slice(0, 2000)}`);
  return JSON.parse(r.stdout) as RunJson;
}

/** Appends `n` copies of existing rows under new customer ids: new data, the same distribution. */
function appendRows(dir: string, n: number): void {
  const path = join(dir, 'data/churn.csv');
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  const added: string[] = [];
  for (let i = 0; i < n; i++) {
    const source = lines[1 + ((i * 7919) % (lines.length - 1))];
    added.push(source.replace(/^[^,]+/, `${String(9000 + i).padStart(4, '0')}-ZZZZ${String.fromCharCode(65 + (i % 26))}`));
  }
  appendFileSync(path, added.join('\n') + '\n');
}

describe('the champion from the registry, scored on rows it never saw', () => {
  let dir: string;
  let first: RunJson;

  beforeAll(() => {
    dir = makeModelRepo({ trees: 30 });
    first = runJson(dir);
    expect(bramble(['register'], { cwd: dir }).status).toBe(0);
    expect(bramble(['promote', 'churn@v1.0.0', 'prod'], { cwd: dir }).status).toBe(0);
  }, 120_000);

  it('a first run has no champion and says why', () => {
    expect(first.champion).toBeUndefined();
    const again = bramble(['run', '.', '--workers', '1'], { cwd: makeModelRepo({ trees: 5 }) });
    expect(again.stdout).toContain('champion: none (the registry assigns prod no version of churn)');
    const outside = mkdtempSync(join(tmpdir(), 'bramble-no-git-'));
    cpSync(join(import.meta.dirname, '../templates/model-repo'), outside, { recursive: true, filter: (src) => !src.includes('.bramble') });
    writeFileSync(join(outside, 'ml.yaml'), readFileSync(join(outside, 'ml.yaml'), 'utf8').replace(/trees: \d+/, 'trees: 5'));
    expect(bramble(['run', '.', '--workers', '1'], { cwd: outside }).stdout).toContain('champion: none (. is not in a git repository, so there is no registry to ask what prod serves)');
  });

  it('reports the split obtained: stratified class shares within a point', () => {
    expect(first.split.train + first.split.test).toBe(7043);
    expect(first.split.skipped).toBe(0);
    for (const share of Object.values(first.split.classShares)) expect(Math.abs(share - 0.2)).toBeLessThan(0.01);
  });

  it('appending 20 rows: run uses what prod serves, and the champion scores within ±0.01 of its own held-out figure', () => {
    appendRows(dir, 20);
    commitAll(dir, 'twenty more customers');
    const second = runJson(dir);
    expect(second.champion).toMatchObject({ file: 'churn@v1.0.0', version: 'v1.0.0', env: 'prod', via: 'compare.against: prod' });
    const champion = second.champion as NonNullable<RunJson['champion']>;
    expect(Math.abs(champion.metrics.roc_auc - first.evaluation.roc_auc)).toBeLessThanOrEqual(0.01);
    // The held-out side barely moved, so almost every held-out row is one the champion never saw.
    expect(champion.compared.heldOut).toBe(second.split.test);
    expect(champion.compared.rows + champion.compared.excluded).toBe(champion.compared.heldOut);
    expect(champion.compared.excluded).toBeLessThan(40);
    expect(champion.compared.notes[0]).toMatch(/^\d+ held-out rows? (is|are) among churn@v1\.0\.0's training rows \(its training-row filter\), left out$|^churn@v1\.0\.0 trained on none of the held-out rows$/);
    expect(second.gates.passed).toBe(true);
    const text = bramble(['run', '.', '--workers', '1'], { cwd: dir });
    expect(text.stdout).toContain('champion: churn@v1.0.0 (serves prod)');
    expect(text.stdout).toMatch(/compared: both models scored on \d+ of \d+ held-out rows|compared: both models scored on all \d+ held-out rows/);
  }, 120_000);

  it('a champion trained under another seed: its training rows are recognised and left out', () => {
    editMlYaml(dir, (t) => t.replace(/split: \{([^}]*)seed: \d+/, 'split: {$1seed: 12345'));
    expect(readFileSync(join(dir, 'ml.yaml'), 'utf8')).toContain('seed: 12345');
    const run = runJson(dir);
    const champion = run.champion as NonNullable<RunJson['champion']>;
    // A new seed puts about 80 % of the new held-out rows among the champion's training rows: all are left out.
    expect(champion.compared.excluded / champion.compared.heldOut).toBeGreaterThan(0.75);
    expect(champion.compared.excluded / champion.compared.heldOut).toBeLessThan(0.85);
    expect(Math.abs(champion.metrics.roc_auc - first.evaluation.roc_auc)).toBeLessThan(0.05);
    // Unfiltered, the champion would have scored far above its held-out figure.
    expect(champion.metrics.roc_auc).toBeLessThan(0.9);
    editMlYaml(dir, (t) => t.replace('seed: 12345', 'seed: 7'));
  }, 120_000);

  it.each([
    ['a file', (d: string) => join(d, '.bramble/model.json'), 'champion.json'],
    ['a version', () => 'churn@v1.0.0', 'churn@v1.0.0'],
    ['an environment', () => 'prod', 'churn@v1.0.0'],
  ])('--champion takes %s', (_, spec, label) => {
    const copy = join(dir, 'champion.json');
    writeFileSync(copy, readFileSync(join(dir, '.bramble/model.json')));
    const value = spec(dir) === join(dir, '.bramble/model.json') ? 'champion.json' : spec(dir);
    const run = runJson(dir, '--champion', value);
    expect(run.champion?.file).toBe(label);
    expect(run.champion?.via).toBe(`--champion ${value}`);
  }, 120_000);

  it.each([
    ['staging', 'staging serves no version of churn (the registry assigns it none); promote one first (bramble promote churn@v1.0.0 staging), or run without --champion'],
    ['churn@v9.0.0', 'churn@v9.0.0 does not exist; churn has v1.0.0'],
    ['prdo', '--champion prdo is not a file, a version (churn@v1.2.0) or an environment of ml.yaml; did you mean prod?'],
    ['missing/model.json', 'the model missing/model.json does not exist; give the path of a model.json, a version (churn@v1.2.0) or an environment (dev, staging, prod)'],
  ])('--champion %s is a clear error, exit 2', (spec, message) => {
    const r = bramble(['run', '.', '--champion', spec], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`bramble: ${message}\n`);
  });

  it('compare takes the champion the same ways and reports the rows compared', () => {
    const r = bramble(['compare', '.', '--candidate', '.bramble/model.json', '--champion', 'prod'], { cwd: dir });
    expect(r.stdout).toContain('champion: churn@v1.0.0');
    expect(r.stdout).toMatch(/compared: both models scored on (all )?\d+/);
  });
});

describe('a repository whose remote is a path', () => {
  it('finds the champion in the local tags, and says why it did not fetch', () => {
    const dir = makeModelRepo({ trees: 5 });
    git(dir, 'remote', 'add', 'origin', '/srv/git/churn.git');
    expect(bramble(['run', '.', '--workers', '1'], { cwd: dir }).status).toBe(0);
    const r = bramble(['run', '.', '--workers', '1'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('bramble: the remote origin is /srv/git/churn.git; the champion comes from the local tags');
    expect(r.stdout).toContain('champion: none (the registry assigns prod no version of churn)');
  }, 120_000);
});

describe('rows without a target', () => {
  it('are an error naming data.skip_missing_target, or are left out and counted with it', () => {
    const dir = makeModelRepo({ trees: 5 });
    const path = join(dir, 'data/churn.csv');
    const lines = readFileSync(path, 'utf8').split('\n');
    // Line 4 of the file (the third customer) loses its Churn value.
    lines[3] = lines[3].replace(/,(Yes|No)\r?$/, ',');
    writeFileSync(path, lines.join('\n'));
    editMlYaml(dir, (t) => t.replace(/Churn:( +)\{ type: category,/, 'Churn:$1{ type: category, nullable: true,'));
    const refused = bramble(['run', '.'], { cwd: dir });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(
      'bramble: data/churn.csv:4: the target Churn is missing; every training row needs one — fill it in, or set data.skip_missing_target: true in ml.yaml to leave such rows out\n',
    );
    editMlYaml(dir, (t) => t.replace('  target: Churn\n', '  target: Churn\n  skip_missing_target: true\n'));
    const run = runJson(dir);
    expect(run.split.skipped).toBe(1);
    expect(run.split.train + run.split.test).toBe(7042);
    expect(bramble(['run', '.', '--workers', '1'], { cwd: dir }).stdout).toContain('1 rows without a target left out (data.skip_missing_target)');
  }, 120_000);
});
