// `node bench/forest-row.mjs [--model FILE] [--data CSV]`: one-row prediction, side by side in one process.
// The model (default: the template's churn model, trained into a temporary folder) scores every row of its own
// training CSV, each row transformed once beforehand as the server does it; then, per layout, the median time of one
// row over several passes of all rows, in random order (so that the branch predictor cannot learn a few rows).
// Every path's scores are compared to the batch path's, bit for bit, before any time is taken. Options: --passes N (15).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
};

const work = mkdtempSync(join(tmpdir(), 'bramble-bench-row-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

// The engine's own modules, bundled from src/ (the library entry does not export them).
const entry = join(work, 'entry.mjs');
await build({
  stdin: {
    contents: `export { openModel } from './src/model/open.ts'; export { parseCsv } from './src/data/csv.ts';`,
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  outfile: entry,
  loader: { '.hbs': 'text' },
  banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  logLevel: 'warning',
});
const { openModel, parseCsv } = await import(pathToFileURL(entry).href);

let modelFile = option('--model', null);
let dataFile = option('--data', join(root, 'templates/model-repo/data/churn.csv'));
if (!modelFile) {
  const repo = join(work, 'repo');
  mkdirSync(repo);
  cpSync(join(root, 'templates/model-repo/ml.yaml'), join(repo, 'ml.yaml'));
  cpSync(join(root, 'templates/model-repo/data'), join(repo, 'data'), { recursive: true });
  const r = spawnSync(process.execPath, [join(root, 'dist/cli.js'), 'run', repo], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bramble run failed:\n${r.stdout}${r.stderr}`);
  modelFile = join(repo, '.bramble/model.json');
}
const { features, forest } = openModel(readFileSync(modelFile, 'utf8'), modelFile);
const table = parseCsv(readFileSync(dataFile, 'utf8'), dataFile);
const kinds = new Map(features.inputs.map((i) => [i.name, i.kind]));
const width = features.width;
const rows = table.rows.length;
const x = new Float64Array(rows * width);
const row = new Float64Array(width);
for (let r = 0; r < rows; r++) {
  const record = {};
  table.header.forEach((name, c) => {
    const text = table.rows[r][c];
    record[name] = kinds.get(name) === 'number' ? (text === '' || Number.isNaN(Number(text)) ? null : Number(text)) : text === '' ? null : text;
  });
  features.transformRow(record, row);
  x.set(row, r * width);
}
const flat = forest.flat;
const classes = flat.width;
const batch = new Float64Array(rows * classes);
flat.predictBatch(x, rows, width, batch);

// Paths to compare: each takes row r into out.
const paths = [['FlatForest.predictRow (the served path)', (r, out) => flat.predictRow(x.subarray(r * width, (r + 1) * width), out)]];
if (typeof flat.predictRowTested === 'function') paths.unshift(['predictRowTested (before: a branch per node, to the leaf)', (r, out) => flat.predictRowTested(x.subarray(r * width, (r + 1) * width), out)]);

const out = new Float64Array(classes);
for (const [name, predict] of paths) {
  for (let r = 0; r < rows; r++) {
    predict(r, out);
    for (let c = 0; c < classes; c++) {
      if (!Object.is(out[c], batch[r * classes + c])) throw new Error(`${name}: row ${r} score ${c} is ${out[c]}, the batch path gave ${batch[r * classes + c]}`);
    }
  }
}

const order = Int32Array.from({ length: rows }, (_, i) => i);
for (let i = rows - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}
const passes = Number(option('--passes', '15'));
const results = paths.map(([name]) => ({ name, times: [] }));
for (let p = 0; p < passes; p++) {
  // Interleaved: each pass times every path once, so that a busy moment of the machine hits them alike.
  paths.forEach(([, predict], k) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rows; i++) predict(order[i], out);
    results[k].times.push(Number(process.hrtime.bigint() - t0) / 1000 / rows);
  });
}
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
process.stdout.write(`model ${modelFile}: ${flat.trees} trees, ${flat.nodes} nodes, ${width} features; ${rows} rows, ${passes} passes; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
process.stdout.write('| path | median µs per row | min |\n|---|---|---|\n');
for (const r of results) process.stdout.write(`| ${r.name} | ${median(r.times).toFixed(2)} | ${[...r.times].sort((p, q) => p - q)[0].toFixed(2)} |\n`);
process.stdout.write(`all paths bit-identical to predictBatch on ${rows} rows.\n`);
