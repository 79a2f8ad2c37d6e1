// Our side of `npm run bench:train`, one fresh process per run so that start-up and JIT warm-up are counted
// as a user's `bramble train` would pay them. Prints one JSON object.
import { readFileSync } from 'node:fs';
import { RandomForest } from '../dist/index.js';

const job = JSON.parse(process.argv[2]);

/** Numbers straight from the lines, keeping no field strings: the loader must not dominate peak memory. */
function load(path) {
  const text = readFileSync(path, 'utf8');
  let at = text.indexOf('\n') + 1;
  const columns = text.slice(0, at).split(',').length - 1;
  const rows = text.slice(at).split('\n').filter((l) => l !== '').length;
  const values = new Float64Array(rows * columns);
  const y = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const end = text.indexOf('\n', at);
    const line = text.slice(at, end < 0 ? text.length : end);
    let from = 0;
    for (let c = 0; c <= columns; c++) {
      const comma = line.indexOf(',', from);
      const n = Number(line.slice(from, comma < 0 ? line.length : comma));
      if (c < columns) values[r * columns + c] = n;
      else y[r] = n;
      from = comma + 1;
    }
    at = end + 1;
  }
  return { x: { rows, columns, values }, y };
}

const train = load(job.train);
const test = load(job.test);
const classification = job.task === 'classification';
const forest = new RandomForest({ task: job.task, trees: job.trees, maxDepth: job.maxDepth, seed: job.seed });
const t0 = performance.now();
await forest.train(train.x, train.y, { workers: job.workers });
const trainSeconds = (performance.now() - t0) / 1000;
const out = { train: trainSeconds, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };

if (job.predict) {
  const pred = forest.predict(test.x);
  if (classification) out.score = pred.filter((p, i) => p === test.y[i]).length / test.y.length;
  else {
    const mean = test.y.reduce((a, b) => a + b, 0) / test.y.length;
    let res = 0;
    let tot = 0;
    test.y.forEach((v, i) => {
      res += (v - pred[i]) ** 2;
      tot += (v - mean) ** 2;
    });
    out.score = 1 - res / tot;
  }
  // One row at a time into a reused buffer: what a model server does per request. The median of many calls,
  // each timed over a small group of rows, because one call is below the timer's resolution.
  const cols = test.x.columns;
  const rows = Array.from({ length: Math.min(test.x.rows, 1000) }, (_, i) => test.x.values.subarray(i * cols, (i + 1) * cols));
  const outRow = new Float64Array(classification ? forest.classes.length : 1);
  const group = 20;
  const samples = [];
  for (let pass = 0; pass < 5; pass++) {
    for (let g = 0; g + group <= rows.length; g += group) {
      const s = process.hrtime.bigint();
      for (let j = g; j < g + group; j++) forest.flat.predictRow(rows[j], outRow);
      samples.push(Number(process.hrtime.bigint() - s) / 1000 / group);
    }
  }
  samples.sort((a, b) => a - b);
  out.row_us = samples[samples.length >> 1];
  // The whole test set at once, repeated for at least half a second.
  const scores = new Float64Array(test.x.rows * forest.flat.width);
  let n = 0;
  const b0 = performance.now();
  do {
    forest.scores(test.x, scores);
    n += test.x.rows;
  } while (performance.now() - b0 < 500);
  out.batch_rows_per_s = n / ((performance.now() - b0) / 1000);
}
console.log(JSON.stringify(out));
