// `npm run bench:sweep` [-- --workers N]: issue 18's targets for `bramble sweep` on the Telco template
// (templates/model-repo: 7,043 rows, 5,634 on the training side of its split).
// - 24 configurations × 5 folds (trees 100/200 × maxDepth 6/10/14 × minSamplesLeaf 1/5/10/20), grid search with
//   2 worker threads: ≤ 60 s from start to exit.
// - Successive halving over the same 24: its best within 0.005 of the grid's best (both means over the same 5 folds
//   on every training row), at ≤ 0.4× the grid's training time (the seconds its trials spent training).
// - Two simulated runners: `--shard 1/2` and `--shard 2/2` as two processes at once, one thread each, then
//   `--gather`, against the whole sweep in one process with one thread: ≤ 0.6× its time. Each simulated runner is
//   pinned to a core of its own with taskset (where it exists), the one-runner baseline to the first: a runner is
//   one machine's worth of compute, and two runners have two. Reported, not failed on: whatever else runs on these
//   two cores runs on the "runners" too.
// Each case runs in a fresh copy of the template outside git (no bramble/runs branch is written), from spawn to exit.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cli = join(root, 'dist', 'cli.js');
const template = join(root, 'templates', 'model-repo');
const TARGETS = { gridSeconds: 60, halvingGap: 0.005, halvingShare: 0.4, shardShare: 0.6 };

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
const workers = option('--workers', '2');

const SWEEP = (strategy) => `
sweep:
  strategy: ${strategy}
  params:
    trees: [100, 200]
    maxDepth: [6, 10, 14]
    minSamplesLeaf: [1, 5, 10, 20]
  folds: 5
  metric: roc_auc
`;

/** A fresh copy of the template with a sweep block. */
function repo(strategy) {
  const dir = mkdtempSync(join(tmpdir(), `bramble-sweep-${strategy}-`));
  cpSync(template, dir, { recursive: true });
  writeFileSync(join(dir, 'ml.yaml'), readFileSync(join(template, 'ml.yaml'), 'utf8') + SWEEP(strategy));
  return dir;
}

/** Runs the CLI; resolves with its parsed --json output and the wall seconds from spawn to exit. */
function sweep(dir, args, cpu = null) {
  const started = performance.now();
  const command = [process.execPath, cli, 'sweep', dir, '--json', ...args];
  const pinned = cpu !== null && TASKSET !== null ? [TASKSET, '-c', String(cpu), ...command] : command;
  return new Promise((resolve, reject) => {
    const child = spawn(pinned[0], pinned.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`bramble sweep ${args.join(' ')} exited ${code}: ${err}`));
      else resolve({ result: JSON.parse(out).sweep, seconds: (performance.now() - started) / 1000 });
    });
  });
}

const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path)) ?? null;
const mark = (ok) => (ok ? 'ok  ' : 'MISS');
const dirs = [];
let failed = false;
try {
  const gridDir = repo('grid');
  const halvingDir = repo('halving');
  dirs.push(gridDir, halvingDir);
  const grid = await sweep(gridDir, ['--workers', workers]);
  const halving = await sweep(halvingDir, ['--workers', workers]);
  const gap = grid.result.best.mean - halving.result.best.mean;
  const share = halving.result.trainSeconds / grid.result.trainSeconds;
  const lines = [];
  const gridOk = grid.seconds <= TARGETS.gridSeconds;
  lines.push(`${mark(gridOk)} grid, 24 configurations × 5 folds, ${workers} threads: ${grid.seconds.toFixed(1)} s (target ≤ ${TARGETS.gridSeconds} s); best trial ${grid.result.best.trial}, roc_auc ${grid.result.best.mean.toFixed(4)} ± ${grid.result.best.sd.toFixed(4)}`);
  const halvingOk = gap <= TARGETS.halvingGap && share <= TARGETS.halvingShare;
  lines.push(
    `${mark(halvingOk)} halving: best trial ${halving.result.best.trial}, roc_auc ${halving.result.best.mean.toFixed(4)} (${gap.toFixed(4)} below the grid's; target ≤ ${TARGETS.halvingGap}), training ${halving.result.trainSeconds.toFixed(1)} s = ${share.toFixed(2)}× the grid's ${grid.result.trainSeconds.toFixed(1)} s (target ≤ ${TARGETS.halvingShare}×); ${halving.seconds.toFixed(1)} s in all`,
  );

  const oneDir = repo('grid');
  const shardDir = repo('grid');
  dirs.push(oneDir, shardDir);
  const one = await sweep(oneDir, ['--workers', '1'], 0);
  const started = performance.now();
  const shards = await Promise.all([sweep(shardDir, ['--workers', '1', '--shard', '1/2'], 0), sweep(shardDir, ['--workers', '1', '--shard', '2/2'], 1)]);
  const gathered = await sweep(shardDir, ['--gather'], 0);
  const split = (performance.now() - started) / 1000;
  const same = gathered.result.best.trial === one.result.best.trial && gathered.result.best.mean === one.result.best.mean;
  const shardOk = split / one.seconds <= TARGETS.shardShare && same;
  if (!same) failed = true;
  lines.push(
    `${mark(shardOk)} two simulated runners (one thread each${TASKSET !== null ? ', a core each' : ', unpinned (no taskset)'}, then --gather): ${split.toFixed(1)} s = ${(split / one.seconds).toFixed(2)}× one runner's ${one.seconds.toFixed(1)} s (target ≤ ${TARGETS.shardShare}×; the shards ${shards.map((s) => `${s.seconds.toFixed(1)} s`).join(' and ')}, the gather ${gathered.seconds.toFixed(1)} s); ${same ? 'the same best trial and score' : 'a DIFFERENT choice'}`,
  );
  console.log(`bramble sweep on the Telco template (${grid.result.trials} trials, ${grid.result.folds} folds)\n${lines.join('\n')}`);
  failed = failed || !(gridOk && halvingOk);
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
