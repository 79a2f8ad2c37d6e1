// `npm run bench:scale [-- --quick] [-- --only 1m,5m,parquet] [-- --repeats N] [-- --sklearn]`: `bramble run` at the sizes of
// issue 10's targets, side by side with XGBoost's random forest, each in a fresh process timed from outside.
//
// Decisions:
// - Both sides pay for everything a user pays for: Bramble's whole `bramble run` (CSV read, validation, profile,
//   split, features, training on every core, evaluation, the sealed artifact); XGBoost's process from Python's
//   start (pandas read_csv, fit with n_jobs=2, predict). The ratio is wall over wall.
// - The same rows on both sides: the CSV has a `fold` column (every fourth row is 1); ml.yaml's
//   `split: { by: fold }` holds out exactly those rows for Bramble (the latest values of `fold`), and
//   bench/xgb_forest.py holds out the same ones. `fold` is dropped from Bramble's features.
// - Peak RSS from outside, by GNU time's %M (the process and its largest moment, worker threads included); the
//   Python side reads its own ru_maxrss, which is the same measure.
// - Runs alternate (Bramble, XGBoost, Bramble, …) so that a busy moment on this shared machine hits both sides.
// - The data is generated once per size into bench/.out/scale/ and reused; model folders are temporary folders
//   outside this repository (so that the lineage step does not hash its work tree), with a copy of the data: Bramble
//   refuses a data file that links outside the model repository.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeClassificationCsv } from './make-classification.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(here, '.out', 'scale');
const PYTHON = '/usr/bin/python3';
const TIME = '/usr/bin/time';
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : fallback;
};
const only = new Set(option('only', '1m,5m,parquet').split(','));
const repeats = Number(option('repeats', '1'));
const cli = join(root, 'dist', 'cli.js');
mkdirSync(out, { recursive: true });

const haveXgboost = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import xgboost, pandas'], { stdio: 'ignore' }).status === 0;
const haveTime = existsSync(TIME);
if (!haveXgboost) console.log(`XGBoost or pandas is not importable from ${PYTHON} (apt-get install python3-xgboost python3-pandas): its columns are skipped.\n`);

// --sklearn: scikit-learn's own make_classification (bench/sklearn_classification.py) instead of ours.
const sklearnData = args.includes('--sklearn');

/** The CSV for `rows` rows, generated once. */
function dataFile(rows) {
  const file = join(out, `classification-${sklearnData ? 'sklearn-' : ''}${rows}x20.csv`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${rows.toLocaleString('en')} × 20${sklearnData ? ' with scikit-learn' : ''} …\n`);
    if (sklearnData) {
      const r = spawnSync(PYTHON, [join(here, 'sklearn_classification.py'), String(rows), `${file}.partial`], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`bench/sklearn_classification.py exited ${r.status}`);
    } else {
      writeClassificationCsv({ file: `${file}.partial`, rows });
    }
    renameSync(`${file}.partial`, file);
  }
  return file;
}

function modelRepo(file, trees) {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-bench-scale-'));
  mkdirSync(join(dir, 'data'));
  copyFileSync(file, join(dir, 'data', 'rows.csv'));
  writeFileSync(
    join(dir, 'ml.yaml'),
    `name: bench-scale
task: classification
data:
  train: data/rows.csv
  target: target
features:
  - drop: [fold]
model:
  type: random-forest
  params: { trees: ${trees} }
  seed: 7
split: { test: 0.25, by: fold }
metrics: [accuracy]
`,
  );
  return dir;
}

/** A command timed from outside: wall seconds, peak RSS in MB (GNU time), stdout. */
function timed(command, argv, env = {}) {
  const started = performance.now();
  const r = haveTime
    ? spawnSync(TIME, ['-f', 'peak-kb %M', command, ...argv], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } })
    : spawnSync(command, argv, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } });
  const wall = (performance.now() - started) / 1000;
  const kb = /peak-kb (\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0) throw new Error(`${command} ${argv.join(' ')} exited ${r.status}:\n${(r.stderr ?? '').slice(-4000)}`);
  return { wall, peakMb: kb ? Number(kb[1]) / 1024 : NaN, stdout: r.stdout };
}

function bramble(dir) {
  const t = timed(process.execPath, [cli, 'run', dir, '--json']);
  const result = JSON.parse(t.stdout);
  return { wall: t.wall, peakMb: t.peakMb, accuracy: result.evaluation.accuracy, train: result.split.train, test: result.split.test, seconds: result.seconds };
}

function xgboost(file, trees) {
  const t = timed(PYTHON, [join(here, 'xgb_forest.py'), JSON.stringify({ file, trees, threads: 2, seed: 7 })]);
  const result = JSON.parse(t.stdout);
  return { wall: t.wall, peakMb: Number.isNaN(t.peakMb) ? result.peak_rss_mb : t.peakMb, accuracy: result.accuracy, train: result.train_rows, test: result.test_rows, fit: result.fit_s, read: result.read_s };
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const rows = [];

function sideBySide(label, size, trees, withXgboost, targets) {
  const file = dataFile(size);
  const ours = [];
  const theirs = [];
  for (let i = 0; i < repeats; i++) {
    const dir = modelRepo(file, trees);
    process.stderr.write(`${label}: bramble run (${i + 1}/${repeats}) …\n`);
    ours.push(bramble(dir));
    process.stderr.write(`  ${JSON.stringify(ours[ours.length - 1])}\n`);
    rmSync(dir, { recursive: true, force: true });
    if (withXgboost) {
      process.stderr.write(`${label}: XGBoost RF (${i + 1}/${repeats}) …\n`);
      theirs.push(xgboost(file, trees));
      process.stderr.write(`  ${JSON.stringify(theirs[theirs.length - 1])}\n`);
    }
  }
  const o = { wall: median(ours.map((r) => r.wall)), peakMb: median(ours.map((r) => r.peakMb)), accuracy: ours[0].accuracy, train: ours[0].train, test: ours[0].test };
  const x = theirs.length > 0 ? { wall: median(theirs.map((r) => r.wall)), fit: median(theirs.map((r) => r.fit)), read: median(theirs.map((r) => r.read)), peakMb: median(theirs.map((r) => r.peakMb)), accuracy: theirs[0].accuracy, train: theirs[0].train, test: theirs[0].test } : null;
  if (x && (x.train !== o.train || x.test !== o.test)) throw new Error(`the two sides split differently: Bramble ${o.train}/${o.test}, XGBoost ${x.train}/${x.test}`);
  rows.push({ label: sklearnData ? `${label} (scikit-learn's data)` : label, size, trees, ours: o, xgboost: x, runs: { ours, xgboost: theirs }, targets });
}

const M = (n) => (quick ? Math.round(n / 10) : n);
if (only.has('1m')) sideBySide(`${M(1_000_000).toLocaleString('en')} × 20 CSV`, M(1_000_000), 100, haveXgboost, { ratio: 0.7, accuracy: 0.005, peakMb: 700 });
if (only.has('5m')) sideBySide(`${M(5_000_000).toLocaleString('en')} × 20 CSV`, M(5_000_000), 100, false, { peakMb: 2560 });
if (only.has('parquet')) {
  const { runParquet } = await import('./run-parquet.mjs');
  for (const row of await runParquet({ quick, repeats, timed, cli, out })) rows.push(row);
}

const f = (n, d = 2) => (n === undefined || n === null || Number.isNaN(n) ? '–' : n.toFixed(d));
const lines = [
  '| data | trees | train / test rows | bramble run | XGBoost RF (n_jobs=2) | ratio (target) | held-out acc Bramble / XGBoost (Δ) | peak RSS Bramble / XGBoost (target) |',
  '|---|---|---|---|---|---|---|---|',
];
for (const r of rows) {
  const o = r.ours;
  const x = r.xgboost;
  const ratio = x ? o.wall / x.wall : null;
  const t = r.targets;
  const mark = (ok) => (ok ? '✓' : '✗');
  lines.push(
    `| ${r.label} | ${r.trees} | ${o.train.toLocaleString('en')} / ${o.test.toLocaleString('en')} | ${f(o.wall, 1)} s | ${x ? `${f(x.wall, 1)} s (read ${f(x.read, 1)}, fit ${f(x.fit, 1)})` : '–'} | ` +
      `${ratio !== null ? `${f(ratio)}× (≤ ${t.ratio} ${mark(ratio <= t.ratio)})` : t.seconds ? `${f(o.wall, 1)} s (≤ ${t.seconds} s ${mark(o.wall <= t.seconds)})` : '–'} | ` +
      `${f(o.accuracy, 4)} / ${x ? `${f(x.accuracy, 4)} (${o.accuracy >= x.accuracy ? '+' : ''}${f(o.accuracy - x.accuracy, 4)} ${mark(Math.abs(o.accuracy - x.accuracy) <= t.accuracy)})` : '–'} | ` +
      `${f(o.peakMb, 0)} / ${x ? f(x.peakMb, 0) : '–'} MB (≤ ${t.peakMb} ${mark(o.peakMb <= t.peakMb)}) |`,
  );
}
console.log(lines.join('\n'));
console.log(`\nratio = bramble run's wall time ÷ XGBoost's (process start to accuracy, read_csv included); medians of ${repeats} run(s) each, alternating.${quick ? ' --quick: a tenth of the rows; the targets are for the full sizes.' : ''}`);
writeFileSync(join(out, 'results.json'), JSON.stringify(rows, null, 2) + '\n');
