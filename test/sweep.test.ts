// bramble sweep: folds that survive appended data, determinism, every trial a run record, resumption after a
// killed sweep, shards gathered with one missing, and `bramble run` unchanged by a sweep beside it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assignFolds } from '../src/data/split.js';
import { cellValue, getColumn } from '../src/data/table.js';
import { prepare, runPipeline, type Prepared } from '../src/pipeline/run.js';
import { readRunRecords } from '../src/usecases/runs.js';
import { runSweep, shardOf, type SweepSummary } from '../src/usecases/sweep.js';
import { sweepTrials, type Trial } from '../src/sweep/space.js';
import { bramble, CLI } from './helpers/cli.js';
import { AUTHOR } from './helpers/git.js';
import { sweepRepo, sweepRows } from './helpers/sweep-repo.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
function repo(sweep: string, options: Parameters<typeof sweepRepo>[1] = {}): string {
  const dir = sweepRepo(sweep, options);
  made.push(dir);
  return dir;
}

const quiet = { info: () => undefined, warn: () => undefined };
const ports = { git: { env: {} }, log: quiet, clock: { now: () => performance.now() }, versions: { bramble: 'test', node: 'test' } };

const GRID = `sweep:
  params:
    trees: [5, 15]
    maxDepth: [1, 6]
    minSamplesLeaf: [1, 20]
  folds: 3
  metric: roc_auc
`;

/** The trial indices in shard K of N's record file, ascending. */
function shardTrials(folder: string, k: number, n: number): number[] {
  const lines = readFileSync(join(folder, `shard-${k}-of-${n}.jsonl`), 'utf8').trim().split('\n');
  return lines.map((line) => (JSON.parse(line) as { sweep: { trial: number } }).sweep.trial).sort((a, b) => a - b);
}

/** What decides a sweep's outcome, without times and record ids. */
function scores(s: SweepSummary): unknown {
  return { id: s.id, best: s.best?.trial, ranked: s.ranked.map((o) => ({ trial: o.trial, swept: o.swept, folds: o.folds, mean: o.mean, sd: o.sd })) };
}

async function prepared(dir: string): Promise<Prepared> {
  const p = await prepare(dir);
  if (!('split' in p)) throw new Error('validation failed');
  return p;
}

/** Each training row's fold, by its data.id. */
async function foldsById(dir: string, folds: number, seed: number): Promise<Map<string, number>> {
  const p = await prepared(dir);
  const assigned = assignFolds(p.split.identities, p.split.train, folds, seed);
  const ids = getColumn(p.loaded.table, 'uid');
  const out = new Map<string, number>();
  p.split.train.forEach((r, i) => out.set(String(cellValue(ids, r)), assigned[i]));
  return out;
}

describe('folds', () => {
  it('keep every row in its fold when rows are appended and the file reordered, and give each fold about a fifth of the rows', async () => {
    const rows = sweepRows(600, 11);
    const before = await foldsById(repo(GRID, { data: rows }), 5, 9);
    const appended = [...sweepRows(300, 12, 600), ...rows].reverse();
    const after = await foldsById(repo(GRID, { data: appended }), 5, 9);
    let kept = 0;
    for (const [id, fold] of before) {
      if (!after.has(id)) continue; // A row can only cross from train to test at a stratified cut-off.
      expect(after.get(id)).toBe(fold);
      kept++;
    }
    expect(kept).toBeGreaterThan(before.size * 0.97);
    // Each fold holds about a fifth of the training rows.
    const counts = [0, 0, 0, 0, 0];
    for (const fold of after.values()) counts[fold]++;
    for (const c of counts) expect(Math.abs(c / after.size - 0.2)).toBeLessThan(0.05);
  });

  it('put rows that repeat data.id in the same fold', async () => {
    const rows = sweepRows(300, 4).map((line, i) => line.replace(/^u\d+/, `u${Math.floor(i / 3)}`));
    const dir = repo(GRID, { data: rows });
    const p = await prepared(dir);
    const assigned = assignFolds(p.split.identities, p.split.train, 4, 1);
    const ids = getColumn(p.loaded.table, 'uid');
    const seen = new Map<string, number>();
    p.split.train.forEach((r, i) => {
      const id = String(cellValue(ids, r));
      if (seen.has(id)) expect(assigned[i]).toBe(seen.get(id));
      seen.set(id, assigned[i]);
    });
    expect(seen.size).toBeLessThan(p.split.train.length);
  });

  it('refuse more folds than a class can fill, naming the fold and the fix', async () => {
    const dir = repo(GRID.replace('folds: 3', 'folds: 20'), { rows: 12 });
    await expect(runSweep({ dir, workers: 1 }, ports)).rejects.toMatchObject({ code: 'E_SWEEP_FOLDS', message: expect.stringContaining('lower sweep.folds in ml.yaml') });
  });
});

describe('shards', () => {
  // The benchmark's grid: 2 tree counts × 3 depths × 4 leaf sizes, the leaf size varying fastest. Split by index
  // modulo 2, shard 1 would draw every minSamplesLeaf 1 and 10 trial and shard 2 every 5 and 20.
  const BENCH = `sweep:
  params:
    trees: [100, 200]
    maxDepth: [6, 10, 14]
    minSamplesLeaf: [1, 5, 10, 20]
  folds: 5
`;
  it('put every trial in exactly one shard, the same on every machine, and share the forests evenly', async () => {
    const p = await prepared(repo(BENCH));
    const config = p.config;
    const trials = sweepTrials(config.sweep as NonNullable<typeof config.sweep>, 7);
    const rows = p.split.train.length;
    // Trees × levels a tree can grow, computed here independently of the split's own estimate.
    const work = (t: Trial): number => Number(t.params.trees) * Math.min(Number(t.params.maxDepth), Math.log2(rows / Number(t.params.minSamplesLeaf)));
    const total = trials.reduce((sum, t) => sum + work(t), 0);
    for (const n of [1, 2, 3, 5]) {
      const shares = Array.from({ length: n }, (_, k) => shardOf(trials, { k: k + 1, n }, config, rows));
      expect(shares.flat().map((t) => t.index).sort((a, b) => a - b)).toEqual(trials.map((t) => t.index));
      expect(shardOf(trials, { k: 1, n }, config, rows)).toEqual(shares[0]);
      let heaviest = 0;
      for (const share of shares) heaviest = Math.max(heaviest, share.reduce((sum, t) => sum + work(t), 0));
      expect(heaviest / (total / n)).toBeLessThan(1.08);
    }
    const modulo = [0, 1].map((k) => trials.filter((t) => t.index % 2 === k).reduce((sum, t) => sum + work(t), 0));
    expect(Math.max(modulo[0], modulo[1]) / (total / 2)).toBeGreaterThan(1.08);
  });
});

describe('bramble sweep', () => {
  const whole = repo(GRID);
  let wholeResult: SweepSummary;

  it('scores every trial on the folds, best first, and is the same when repeated elsewhere', async () => {
    const first = await runSweep({ dir: whole, workers: 1 }, ports);
    wholeResult = first.sweep as SweepSummary;
    expect(wholeResult.trained).toBe(8);
    expect(wholeResult.ranked).toHaveLength(8);
    for (const o of wholeResult.ranked) expect(o.folds).toHaveLength(3);
    const means = wholeResult.ranked.map((o) => o.mean as number);
    expect([...means].sort((a, b) => b - a)).toEqual(means);
    // A single split on one feature (maxDepth 1, 5 trees) is clearly worse than deeper trees here.
    expect(wholeResult.best?.swept.maxDepth).toBe(6);
    const again = await runSweep({ dir: repo(GRID), workers: 2 }, ports);
    expect(scores(again.sweep as SweepSummary)).toEqual(scores(wholeResult));
  });

  it('finds its recorded trials when run again, and trains none', async () => {
    const second = (await runSweep({ dir: whole, workers: 1 }, ports)).sweep as SweepSummary;
    expect(second.trained).toBe(0);
    expect(second.found).toBe(8);
    expect(scores(second)).toEqual(scores(wholeResult));
  });

  it('shards: each trains its share; --gather names the missing shard and chooses among what finished', async () => {
    const dir = repo(GRID);
    const one = bramble(['sweep', dir, '--shard', '1/3', '--workers', '1', '--json']);
    expect(one.status).toBe(0);
    const oneSweep = JSON.parse(one.stdout).sweep as SweepSummary;
    expect(oneSweep.shard).toEqual({ k: 1, n: 3 });
    expect(oneSweep.best).toBeNull();
    expect(bramble(['sweep', dir, '--shard', '2/3', '--workers', '1']).stdout).toContain('a shard chooses nothing');
    const held = new Set([...shardTrials(oneSweep.folder, 1, 3), ...shardTrials(oneSweep.folder, 2, 3)]);
    const rest = [0, 1, 2, 3, 4, 5, 6, 7].filter((t) => !held.has(t));
    expect(rest.length).toBeGreaterThan(0);
    const partial = bramble(['sweep', dir, '--gather', '--json']);
    expect(partial.status).toBe(0);
    const gathered = JSON.parse(partial.stdout).sweep as SweepSummary;
    expect(gathered.missing).toEqual({ rung: 0, trials: rest });
    expect(gathered.trained).toBe(0);
    const finished = wholeResult.ranked.filter((o) => held.has(o.trial));
    expect(gathered.best?.trial).toBe(finished[0].trial);
    expect(bramble(['sweep', dir, '--gather']).stdout).toContain(`missing: ${rest.length} trials have no record (${rest.join(', ')}); chosen from the ${8 - rest.length} that finished`);
    expect(bramble(['sweep', dir, '--shard', '3/3', '--workers', '1']).status).toBe(0);
    // Shard 3 trained exactly the missing trials: every trial is in one shard only.
    expect(shardTrials(oneSweep.folder, 3, 3)).toEqual(rest);
    const all = JSON.parse(bramble(['sweep', dir, '--gather', '--json']).stdout).sweep as SweepSummary;
    expect(all.missing).toBeNull();
    expect(scores(all)).toEqual(scores(wholeResult));
  });

  it.each([
    [['--shard', '4/3'], '--shard "4/3" is not a shard; give K/N with 1 ≤ K ≤ N'],
    [['--shard', '1/2', '--gather'], '--gather reads every shard, so it takes no --shard'],
    [['--top', '0'], '--top is "0"; give a whole number of trials to show, ≥ 1'],
  ])('refuses %j', (args, message) => {
    const r = bramble(['sweep', whole, ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('says what to add when ml.yaml has no sweep block', () => {
    const dir = repo('');
    const r = bramble(['sweep', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('ml.yaml has no sweep: block; add one');
  });

  it('resumes a killed sweep: the trials recorded before the kill are found, the rest trained, the choice the same', async () => {
    const sweep = GRID.replace('trees: [5, 15]', 'trees: [40, 60, 80]');
    const dir = repo(sweep, { rows: 1500 });
    const child = spawn(process.execPath, [CLI, 'sweep', dir, '--workers', '1'], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const folder = join(dir, '.bramble', 'sweeps');
    const lines = (): number => {
      const found = existsSync(folder) ? bramble(['sweep', dir, '--gather', '--json']) : null;
      return found === null || found.status !== 0 ? 0 : (JSON.parse(found.stdout).sweep as SweepSummary).found;
    };
    let recorded = 0;
    for (let i = 0; i < 600 && recorded === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      recorded = lines();
    }
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    expect(recorded).toBeGreaterThan(0);
    const resumed = (await runSweep({ dir, workers: 1 }, ports)).sweep as SweepSummary;
    expect(resumed.found).toBeGreaterThanOrEqual(recorded);
    expect(resumed.found).toBeLessThan(12);
    expect(resumed.found + resumed.trained).toBe(12);
    const fresh = (await runSweep({ dir: repo(sweep, { rows: 1500 }), workers: 1 }, ports)).sweep as SweepSummary;
    expect(scores(resumed)).toEqual(scores(fresh));
  });

  it('skips a line cut short by a kill, and trains that trial again', async () => {
    const dir = repo(GRID);
    const first = (await runSweep({ dir, workers: 1 }, ports)).sweep as SweepSummary;
    const file = join(first.folder, 'trials.jsonl');
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    writeFileSync(file, `${text.slice(0, -1).join('\n')}\n${text[text.length - 1].slice(0, 80)}`);
    const warnings: string[] = [];
    const again = (await runSweep({ dir, workers: 1 }, { ...ports, log: { info: () => undefined, warn: (m: string) => warnings.push(m) } })).sweep as SweepSummary;
    expect(again.trained).toBe(1);
    expect(warnings.join('\n')).toContain('trials.jsonl:8: not JSON');
    expect(scores(again)).toEqual(scores(first));
  });

  it('halving ends on one trial scored on every row, among the grid best', async () => {
    const dir = repo(GRID.replace('  params:', '  strategy: halving\n  params:'), { rows: 900 });
    const result = (await runSweep({ dir, workers: 1 }, ports)).sweep as SweepSummary;
    expect(result.strategy).toBe('halving');
    // 8 candidates: rounds on 1/9, 1/3 and all of the rows, with 8, 3 and 1 trials.
    expect(result.trained).toBe(12);
    expect(result.ranked).toHaveLength(1);
    expect(result.ranked[0].share).toBe(1);
    const grid = (await runSweep({ dir: repo(GRID, { rows: 900 }), workers: 1 }, ports)).sweep as SweepSummary;
    expect(grid.ranked.slice(0, 4).map((o) => o.trial)).toContain(result.best?.trial);
  });
});

describe('in a git repository', () => {
  it('every trial is a run record on bramble/runs, shown by bramble runs; bramble run writes the same model as before', async () => {
    const dir = repo(GRID, { git: true });
    const env = { GIT_COMMITTER_NAME: AUTHOR.name, GIT_COMMITTER_EMAIL: AUTHOR.email };
    const before = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
    const artifactBefore = readFileSync(before.artifact?.path as string, 'utf8');
    const result = (await runSweep({ dir, workers: 1 }, { ...ports, git: { env } })).sweep as SweepSummary;
    const { records } = await readRunRecords({ dir }, { git: { env }, log: quiet });
    const trials = records.filter((r) => r.command === 'sweep');
    expect(trials).toHaveLength(8);
    for (const r of trials) {
      expect(r.artifact).toBeNull();
      expect(r.sweep?.id).toBe(result.id);
      expect(r.metrics.roc_auc).toBe(r.sweep?.mean);
      expect(r.source.commit).toMatch(/^[0-9a-f]{40}$/);
    }
    expect(trials.map((r) => r.sweep?.trial).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const best = trials.find((r) => r.sweep?.trial === result.best?.trial);
    expect(best?.params).toMatchObject({ ...result.params.best });
    const shown = bramble(['runs', 'show', best?.id as string], { cwd: dir });
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('– (a sweep trial keeps no model)');
    expect(shown.stdout).toContain(`${result.id} trial ${result.best?.trial} of 8 (grid)`);
    expect(shown.stdout).toContain(`roc_auc ${result.best?.mean?.toFixed(4)} ± ${result.best?.sd?.toFixed(4)} over 3 folds: `);
    // A trial's score is a cross-validation mean, not a held-out score: runs best compares models only.
    expect(bramble(['runs', 'best', 'roc_auc'], { cwd: dir }).stdout).toBe('no run on bramble/runs has a value of roc_auc\n');
    const after = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
    expect(readFileSync(after.artifact?.path as string, 'utf8')).toBe(artifactBefore);
  });
});

