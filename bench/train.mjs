// `npm run bench:train`: our forest and scikit-learn's on the same CSV files, side by side, in one run.
// Each data set is split once (75/25, stratified, seeded) into train.csv and test.csv under bench/.out/, which
// both sides read. Our timings are medians of fresh processes (start-up and JIT warm-up included);
// scikit-learn's are medians of fit() calls in one process (its import time excluded).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsv, encodeTable, splitRows } from '../dist/index.js';
import { Rng } from './rng.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(here, '.out');
const PYTHON = '/usr/bin/python3';
const quick = process.argv.includes('--quick');

function writeSplit(name, featureRows, y, task) {
  const dir = join(out, name);
  mkdirSync(dir, { recursive: true });
  const split = splitRows(y, 0.25, 1, task === 'classification');
  const header = featureRows.columns.map((_, i) => `x${i}`).concat('target').join(',');
  for (const part of ['train', 'test']) {
    const lines = [header];
    for (const r of split[part]) {
      const v = featureRows.values.subarray(r * featureRows.width, (r + 1) * featureRows.width);
      lines.push(Array.from(v, (n) => String(n)).concat(String(y[r])).join(','));
    }
    writeFileSync(join(dir, `${part}.csv`), lines.join('\n') + '\n');
  }
  return { train: join(dir, 'train.csv'), test: join(dir, 'test.csv'), rows: split.train.length, features: featureRows.width };
}

function fromCsv(name, file, target, drop = [], fillMissing = false) {
  const table = parseCsv(readFileSync(file, 'utf8'), file);
  const enc = encodeTable(table, { target, drop });
  // Numeric class codes on both sides, so that both CSV readers see only numbers.
  const classes = Array.from(new Set(enc.y)).sort();
  const y = enc.y.map((v) => classes.indexOf(v));
  const values = enc.x.values;
  // scikit-learn 1.2's forest takes no missing values: Telco's 11 blank TotalCharges (tenure 0) become 0.
  if (fillMissing) for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) values[i] = 0;
  return writeSplit(name, { values, width: enc.x.columns, columns: enc.featureNames }, y, 'classification');
}

/** 100,000 × 20: ten informative features in a non-linear rule, ten of noise, 5 % of labels flipped. */
function synthetic(name, rows, width, seed) {
  const rng = new Rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng.float())) * Math.cos(2 * Math.PI * rng.float());
  const values = new Float64Array(rows * width);
  const y = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const x = values.subarray(r * width, (r + 1) * width);
    for (let c = 0; c < width; c++) x[c] = Math.round(normal() * 1e6) / 1e6;
    const s = x[0] + 2 * x[1] * x[2] - x[3] * x[3] + Math.sin(3 * x[4]) + 0.5 * x[5] - x[6] * x[7] + Math.abs(x[8]) - 0.8 + 0.3 * x[9];
    y[r] = (s > 0) !== rng.float() < 0.05 ? 1 : 0;
  }
  return writeSplit(name, { values, width, columns: new Array(width).fill(0) }, y, 'classification');
}

const fixtures = join(root, 'test/fixtures/datasets');
const sets = [
  { name: 'breast cancer', files: fromCsv('breast-cancer', join(fixtures, 'breast-cancer.csv'), 'target'), trees: 100, maxDepth: null, repeats: 5 },
  { name: 'digits', files: fromCsv('digits', join(fixtures, 'digits.csv'), 'target'), trees: 100, maxDepth: null, repeats: 5 },
  {
    name: 'telco churn',
    files: fromCsv('telco', join(root, 'templates/model-repo/data/churn.csv'), 'Churn', ['customerID'], true),
    trees: 200,
    maxDepth: 12,
    repeats: 5,
  },
  { name: 'synthetic', files: synthetic('synthetic', quick ? 20_000 : 100_000, 20, 20261123), trees: 100, maxDepth: null, repeats: 1 },
];

const haveSklearn = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;
if (!haveSklearn) console.log(`scikit-learn is not importable from ${PYTHON} (apt-get install python3-sklearn): its columns are skipped.\n`);

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
function ours(set, workers, predict) {
  const job = { ...set.files, task: 'classification', trees: set.trees, maxDepth: set.maxDepth, seed: 7, workers, predict };
  const text = execFileSync(process.execPath, [join(here, 'train-one.mjs'), JSON.stringify(job)], { encoding: 'utf8' });
  return JSON.parse(text);
}

const results = [];
for (const set of sets) {
  process.stderr.write(`${set.name}: ${set.files.rows} × ${set.files.features} …\n`);
  const one = [];
  const two = [];
  for (let r = 0; r < set.repeats; r++) {
    one.push(ours(set, 1, r === 0));
    two.push(ours(set, 2, false));
  }
  const first = one[0];
  const row = {
    data: set.name,
    rows: set.files.rows,
    features: set.files.features,
    trees: set.trees,
    maxDepth: set.maxDepth,
    ours: {
      train1: median(one.map((o) => o.train)),
      train2: median(two.map((o) => o.train)),
      score: first.score,
      peak_rss_mb: median(one.map((o) => o.peak_rss_mb)),
      row_us: first.row_us,
      batch_rows_per_s: first.batch_rows_per_s,
    },
  };
  if (haveSklearn) {
    const job = { ...set.files, task: 'classification', trees: set.trees, maxDepth: set.maxDepth, seed: 7, repeats: set.repeats };
    row.sklearn = JSON.parse(execFileSync(PYTHON, [join(here, 'sklearn_forest.py'), JSON.stringify(job)], { encoding: 'utf8' }));
  }
  results.push(row);
}

const f = (n, d = 2) => (n === undefined ? '–' : n.toFixed(d));
const k = (n) => (n === undefined ? '–' : `${Math.round(n / 1000)}k`);
const lines = [
  '| data (train rows × features) | ours 1 thread | ours 2 threads | sklearn n_jobs=1 | n_jobs=2 | ratio 1 thread | ratio 2 threads | held-out acc ours / sklearn | peak RSS ours / sklearn | one row ours / sklearn | batch rows/s ours / sklearn (ratio) |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];
for (const r of results) {
  const s = r.sklearn ?? {};
  const o = r.ours;
  lines.push(
    `| ${r.data} (${r.rows} × ${r.features}, ${r.trees} trees${r.maxDepth ? `, depth ${r.maxDepth}` : ''}) | ${f(o.train1, 3)} s | ${f(o.train2, 3)} s | ${f(s.train_n_jobs1, 3)} s | ${f(s.train_n_jobs2, 3)} s | ` +
      `${s.train_n_jobs1 ? f(o.train1 / s.train_n_jobs1) + '×' : '–'} | ${s.train_n_jobs1 ? f(o.train2 / s.train_n_jobs1) + '×' : '–'} | ` +
      `${f(o.score, 4)} / ${f(s.score, 4)} | ${f(o.peak_rss_mb, 0)} / ${f(s.peak_rss_mb, 0)} MB | ${f(o.row_us, 1)} / ${f(s.row_us, 0)} µs | ` +
      `${k(o.batch_rows_per_s)} / ${k(s.batch_rows_per_s)} (${s.batch_rows_per_s ? f(o.batch_rows_per_s / s.batch_rows_per_s, 1) + '×' : '–'}) |`,
  );
}
console.log(lines.join('\n'));
if (haveSklearn) console.log(`\nscikit-learn ${results[0].sklearn.sklearn}; ratio = our training time ÷ scikit-learn n_jobs=1 (lower is faster).`);
// The issue's memory target is for training on the whole 100,000 × 20 set, not its 75 % training part.
const synth = sets.find((s) => s.name === 'synthetic').files;
const all = join(out, 'synthetic', 'all.csv');
const [trainText, testText] = [readFileSync(synth.train, 'utf8'), readFileSync(synth.test, 'utf8')];
writeFileSync(all, trainText + testText.slice(testText.indexOf('\n') + 1));
const whole = ours({ name: 'synthetic, all rows', files: { ...synth, train: all }, trees: 100, maxDepth: null }, 1, false);
console.log(`\nTraining on all ${quick ? '20,000' : '100,000'} synthetic rows (1 thread): ${whole.train.toFixed(1)} s, peak RSS ${whole.peak_rss_mb.toFixed(0)} MB.`);
results.push({ data: 'synthetic, all rows', ours: { train1: whole.train, peak_rss_mb: whole.peak_rss_mb } });
writeFileSync(join(out, 'train-results.json'), JSON.stringify(results, null, 2) + '\n');
