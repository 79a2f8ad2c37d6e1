// The Parquet row of `npm run bench:scale` (issue 10's target: 3,000,000 rows × 5 columns, `ordinal` on two
// 300-value categories, 20 trees, ≤ 60 s and ≤ 1.5 GB here). Alone: `npm run bench:scale -- --only parquet`.
//
// Decisions:
// - Flight-like rows: origin and destination (300 airports each, as text), distance, departure hour, and whether
//   the flight was delayed. Each airport has a hidden delay propensity, so the model has to tell 300 categories
//   apart; with `ordinal` they cost one column each instead of 600 one-hot columns.
// - Written by hyparquet-writer (pinned devDependency; Debian has no pyarrow), snappy-compressed in row groups of
//   100,000 — what pandas/pyarrow write by default, in kind if not in size.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from './rng.mjs';

/** Writes the flights file once; returns its path. */
export async function flightsParquet(out, rows) {
  const file = join(out, `flights-${rows}x5.parquet`);
  if (existsSync(file)) return file;
  process.stderr.write(`generating ${rows.toLocaleString('en')} flights as Parquet …\n`);
  const { parquetWriteFile } = await import('hyparquet-writer');
  const rng = new Rng(20261206, 0xf1);
  const AIRPORTS = 300;
  const codes = Array.from({ length: AIRPORTS }, (_, i) => `A${String(i).padStart(3, '0')}`);
  const propensity = Float64Array.from({ length: AIRPORTS }, () => rng.float() * 2 - 1);
  const origin = new Array(rows);
  const destination = new Array(rows);
  const distance = new Float64Array(rows);
  const hour = new Int32Array(rows);
  const delayed = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = rng.int(AIRPORTS);
    const d = (o + 1 + rng.int(AIRPORTS - 1)) % AIRPORTS;
    origin[r] = codes[o];
    destination[r] = codes[d];
    distance[r] = Math.round((100 + rng.float() * 2900) * 10) / 10;
    hour[r] = rng.int(24);
    const s = 1.2 * propensity[o] + 0.8 * propensity[d] + 0.08 * (hour[r] - 12) + 0.0002 * (distance[r] - 1500);
    delayed[r] = rng.float() < 1 / (1 + Math.exp(-3 * s)) ? 'yes' : 'no';
  }
  parquetWriteFile({
    filename: `${file}.partial`,
    columnData: [
      { name: 'origin', data: origin, type: 'STRING' },
      { name: 'destination', data: destination, type: 'STRING' },
      { name: 'distance', data: distance, type: 'DOUBLE' },
      { name: 'hour', data: hour, type: 'INT32' },
      { name: 'delayed', data: delayed, type: 'STRING' },
    ],
    rowGroupSize: 100_000,
  });
  renameSync(`${file}.partial`, file);
  return file;
}

function modelRepo(file, params) {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-bench-parquet-'));
  mkdirSync(join(dir, 'data'));
  copyFileSync(file, join(dir, 'data', 'flights.parquet'));
  writeFileSync(
    join(dir, 'ml.yaml'),
    `name: bench-flights
task: classification
data:
  train: data/flights.parquet
  target: delayed
features:
  - ordinal: [origin, destination]
model:
  type: random-forest
  params: ${params}
  seed: 7
split: { test: 0.2, stratify: true, seed: 7 }
metrics: [accuracy, roc_auc]
`,
  );
  return dir;
}

/**
 * Rows of the scale table: `bramble run` on the flights file, timed from outside, with the forest's defaults
 * (fully grown trees, as the target is stated) and with minSamplesLeaf 50. The labels are noisy (no model gets
 * far past 0.74), so fully grown trees memorise noise: ~1.3 million nodes a tree, an 860 MB artifact. The second
 * row shows what leaves of 50 rows cost and score on the same rows.
 */
export async function runParquet({ quick, repeats, timed, cli, out }) {
  const rows = quick ? 300_000 : 3_000_000;
  const file = await flightsParquet(out, rows);
  const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const results = [];
  for (const [name, params] of [
    ['defaults', '{ trees: 20 }'],
    ['minSamplesLeaf 50', '{ trees: 20, minSamplesLeaf: 50 }'],
  ]) {
    const runs = [];
    for (let i = 0; i < repeats; i++) {
      const dir = modelRepo(file, params);
      process.stderr.write(`${rows.toLocaleString('en')} × 5 Parquet (${name}): bramble run (${i + 1}/${repeats}) …\n`);
      const t = timed(process.execPath, [cli, 'run', dir, '--json']);
      const result = JSON.parse(t.stdout);
      runs.push({ wall: t.wall, peakMb: t.peakMb, accuracy: result.evaluation.accuracy, train: result.split.train, test: result.split.test, artifactMb: result.artifact.bytes / 2 ** 20 });
      process.stderr.write(`  ${JSON.stringify(runs[runs.length - 1])}\n`);
      rmSync(dir, { recursive: true, force: true });
    }
    results.push({
      label: `${rows.toLocaleString('en')} × 5 Parquet, ordinal on 2 × 300 categories, ${name} (artifact ${Math.round(runs[0].artifactMb)} MB)`,
      size: rows,
      trees: 20,
      ours: { wall: median(runs.map((r) => r.wall)), peakMb: median(runs.map((r) => r.peakMb)), accuracy: runs[0].accuracy, train: runs[0].train, test: runs[0].test },
      xgboost: null,
      runs: { ours: runs },
      targets: { seconds: 60, peakMb: 1536 },
    });
  }
  return results;
}
