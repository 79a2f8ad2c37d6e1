/**
 * Reference scoring for test/forest-reference.test.ts: the fixture data sets and a Friedman #1 generator, a
 * seeded train/test split written to CSV, scikit-learn run on those very rows by test/reference/sklearn_forest.py
 * (Debian's /usr/bin/python3), our forest and ml-random-forest scored on the same held-out rows.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { parseCsv } from '../../src/data/csv.js';
import { encodeTable, takeRows } from '../../src/data/encode.js';
import { splitRows } from '../../src/data/split.js';
import { RandomForest, type Label, type Matrix } from '../../src/model/forest/forest.js';
import type { ForestOptions, MaxFeatures, Task } from '../../src/model/forest/options.js';
import { Rng } from '../../src/model/forest/rng.js';

/** Debian's interpreter: python3-sklearn and python3-numpy are installed for it only, not for a pyenv python3. */
export const SKLEARN_PYTHON = '/usr/bin/python3';
export const SKLEARN_SCRIPT = fileURLToPath(new URL('../reference/sklearn_forest.py', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/datasets/', import.meta.url));
const NO_SKIP = 'CI installs it; the reference tests fail rather than skip without it';
const INSTALL_HINT = `install it with \`apt-get install python3-sklearn\` (${NO_SKIP})`;

export interface Dataset {
  name: string;
  task: Task;
  x: Matrix;
  y: Label[];
}

export interface Part {
  x: Matrix;
  y: Label[];
}

export interface SplitData {
  train: Part;
  test: Part;
}

/** A fixture from test/fixtures/datasets (header row, `target` column), encoded as our CLI encodes it. */
export function loadFixture(name: string, task: Task): Dataset {
  const file = join(FIXTURES, `${name}.csv`);
  const table = parseCsv(readFileSync(file, 'utf8'), file);
  const { x, y } = encodeTable(table, { target: 'target', numericTarget: task === 'regression' }, file);
  return { name, task, x, y };
}

/** A standard normal draw (Box-Muller) from our seeded generator. */
function normal(rng: Rng): number {
  const u = 1 - rng.float();
  const v = rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * Friedman #1 (scikit-learn's make_friedman1): 10 features uniform on [0, 1), of which 5 matter,
 * y = 10 sin(π x0 x1) + 20 (x2 − 0.5)² + 10 x3 + 5 x4 + N(0, noise²).
 */
export function friedman1(rows: number, seed: number, noise = 1): Dataset {
  const columns = 10;
  const rng = new Rng(seed, 0xf1);
  const values = new Float64Array(rows * columns);
  const y: number[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * columns;
    for (let c = 0; c < columns; c++) values[o + c] = rng.float();
    y[r] =
      10 * Math.sin(Math.PI * values[o] * values[o + 1]) +
      20 * (values[o + 2] - 0.5) ** 2 +
      10 * values[o + 3] +
      5 * values[o + 4] +
      noise * normal(rng);
  }
  return { name: `friedman1-${rows}`, task: 'regression', x: { rows, columns, values }, y };
}

/** Our seeded split (stratified for classification), as the matrices both sides train and score on. */
export function splitDataset(data: Dataset, testShare: number, seed: number): SplitData {
  const { train, test } = splitRows(data.y, testShare, seed, data.task === 'classification');
  return {
    train: { x: takeRows(data.x, train), y: train.map((i) => data.y[i]) },
    test: { x: takeRows(data.x, test), y: test.map((i) => data.y[i]) },
  };
}

function csvField(value: Label): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * One part as CSV: a header, the features (JavaScript's shortest round-trip form, which Python's float() reads
 * back to the identical double) and the target last.
 */
export function partToCsv(part: Part): string {
  const { rows, columns, values } = part.x;
  const lines: string[] = [[...Array.from({ length: columns }, (_, c) => `x${c}`), 'target'].join(',')];
  for (let r = 0; r < rows; r++) {
    const fields: string[] = new Array(columns + 1);
    for (let c = 0; c < columns; c++) {
      const v = values[r * columns + c];
      if (!Number.isFinite(v)) throw new Error(`row ${r} column ${c} is ${v}; the reference data must be complete and finite`);
      fields[c] = String(v);
    }
    fields[columns] = csvField(part.y[r]);
    lines.push(fields.join(','));
  }
  return `${lines.join('\n')}\n`;
}

export interface SplitFiles {
  train: string;
  test: string;
}

/** Writes a split as `<tag>-train.csv` and `<tag>-test.csv` in `dir`. */
export function writeSplit(dir: string, tag: string, split: SplitData): SplitFiles {
  const files = { train: join(dir, `${tag}-train.csv`), test: join(dir, `${tag}-test.csv`) };
  writeFileSync(files.train, partToCsv(split.train));
  writeFileSync(files.test, partToCsv(split.test));
  return files;
}

export interface SklearnJob {
  name: string;
  task: Task;
  n_estimators: number;
  max_features: MaxFeatures;
  seeds: number[];
  splits: SplitFiles[];
}

export interface SklearnResult {
  name: string;
  /** scores[split][seed]: held-out accuracy or R². */
  scores: number[][];
  mean: number;
  /** scikit-learn's time for the job: reading, fitting and scoring. */
  seconds: number;
}

export interface SklearnBatch {
  sklearn: string;
  numpy: string;
  results: SklearnResult[];
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function parseResult(v: unknown, printed: string): SklearnResult {
  if (typeof v !== 'object' || v === null) throw new Error(`${SKLEARN_SCRIPT} printed a result that is not an object: ${printed}`);
  const { name, scores, mean, seconds } = v as Record<string, unknown>;
  if (typeof name !== 'string' || !isFiniteNumber(mean) || !isFiniteNumber(seconds)) {
    throw new Error(`${SKLEARN_SCRIPT} printed a result without its name, mean or seconds: ${printed}`);
  }
  if (!Array.isArray(scores) || !scores.every((s): s is number[] => Array.isArray(s) && s.every(isFiniteNumber))) {
    throw new Error(`${SKLEARN_SCRIPT} printed ${name}'s scores as something other than lists of numbers: ${printed}`);
  }
  return { name, scores, mean, seconds };
}

function parseBatch(stdout: string): SklearnBatch {
  const printed = stdout.slice(0, 500);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(`${SKLEARN_SCRIPT} printed something that is not JSON: ${printed}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${SKLEARN_SCRIPT} printed ${printed}, not an object`);
  const { sklearn, numpy, results } = parsed as Record<string, unknown>;
  if (typeof sklearn !== 'string' || typeof numpy !== 'string' || !Array.isArray(results)) {
    throw new Error(`${SKLEARN_SCRIPT} printed ${printed}: sklearn, numpy (strings) or results (a list) is missing`);
  }
  return { sklearn, numpy, results: results.map((r) => parseResult(r, printed)) };
}

/**
 * Runs scikit-learn on the jobs in one Python process (importing scikit-learn takes a second), in the background.
 * Rejects (so the tests fail, never skip) when /usr/bin/python3 is missing or cannot import scikit-learn, saying
 * how to install it. `signal` stops the process (when the tests that wanted it were filtered out).
 */
export function runSklearn(jobs: readonly SklearnJob[], signal?: AbortSignal): Promise<SklearnBatch> {
  return new Promise((resolve, reject) => {
    execFile(
      SKLEARN_PYTHON,
      [SKLEARN_SCRIPT, JSON.stringify({ jobs })],
      { encoding: 'utf8', timeout: 300_000, maxBuffer: 16 * 1024 * 1024, signal },
      (error, stdout, stderr) => {
        if (!error) {
          try {
            resolve(parseBatch(stdout));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
          return;
        }
        const code: unknown = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(new Error(`${SKLEARN_PYTHON} is missing, so scikit-learn cannot be the reference; ${INSTALL_HINT}`));
        } else if (code === 3) {
          reject(new Error(`${stderr.trim()} (${NO_SKIP})`));
        } else {
          reject(new Error(`${SKLEARN_PYTHON} ${SKLEARN_SCRIPT} failed (${String(code ?? error.signal)}): ${stderr.trim() || error.message}`));
        }
      },
    );
  });
}

/** Null when /usr/bin/python3 imports scikit-learn, else what is wrong and how to fix it. */
export function sklearnProblem(): string | null {
  const run = spawnSync(SKLEARN_PYTHON, ['-c', 'import sklearn.ensemble, numpy; print(sklearn.__version__)'], { encoding: 'utf8' });
  if (run.error) return `${SKLEARN_PYTHON} cannot be run (${run.error.message}); ${INSTALL_HINT}`;
  if (run.status !== 0) {
    const last = run.stderr.trim().split('\n').pop() ?? '';
    return `${SKLEARN_PYTHON} cannot import scikit-learn (${last}); ${INSTALL_HINT}`;
  }
  return null;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('the mean of nothing');
  return xs.reduce((s, v) => s + v, 0) / xs.length;
}

export function accuracy(predicted: readonly unknown[], truth: readonly Label[]): number {
  if (predicted.length !== truth.length) throw new Error(`${predicted.length} predictions for ${truth.length} rows`);
  let right = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) right++;
  return right / truth.length;
}

/** The coefficient of determination, as scikit-learn's r2_score. */
export function r2(predicted: readonly unknown[], truth: readonly Label[]): number {
  if (predicted.length !== truth.length) throw new Error(`${predicted.length} predictions for ${truth.length} rows`);
  const t = truth.map((v, i) => {
    if (typeof v !== 'number') throw new Error(`target ${i} is ${JSON.stringify(v)}, not a number`);
    return v;
  });
  const m = mean(t);
  let residual = 0;
  let spread = 0;
  for (let i = 0; i < t.length; i++) {
    const p = predicted[i];
    if (typeof p !== 'number') throw new Error(`prediction ${i} is ${JSON.stringify(p)}, not a number`);
    residual += (t[i] - p) ** 2;
    spread += (t[i] - m) ** 2;
  }
  return 1 - residual / spread;
}

/** Held-out accuracy (classification) or R² (regression) of our forest trained on the split's training rows. */
export async function scoreOurs(options: ForestOptions, split: SplitData, workers: number): Promise<number> {
  const forest = await new RandomForest(options).train(split.train.x, split.train.y, { workers });
  const predicted = forest.predict(split.test.x);
  return options.task === 'regression' ? r2(predicted, split.test.y) : accuracy(predicted, split.test.y);
}

function toRows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, r) => Array.from(m.values.subarray(r * m.columns, (r + 1) * m.columns)));
}

export interface MlForestOptions {
  nEstimators: number;
  /** A fraction of the features each tree sees (ml-random-forest samples features per tree, not per split). */
  maxFeatures: number;
  seed: number;
}

/**
 * Held-out accuracy or R² of ml-random-forest (bagging with replacement, features drawn without replacement)
 * on the split. Its classifier wants class indices 0..k−1, so labels are mapped through their sorted order.
 */
export function scoreMlForest(task: Task, options: MlForestOptions, split: SplitData): number {
  const common = { ...options, replacement: false, useSampleBagging: true, noOOB: true };
  const train = toRows(split.train.x);
  const test = toRows(split.test.x);
  if (task === 'regression') {
    const model = new RandomForestRegression(common);
    const target = split.train.y.map((v) => {
      if (typeof v !== 'number') throw new Error(`regression target ${JSON.stringify(v)} is not a number`);
      return v;
    });
    model.train(train, target);
    return r2(model.predict(test), split.test.y);
  }
  const classes = Array.from(new Set(split.train.y)).sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  const index = new Map<Label, number>(classes.map((c, i) => [c, i]));
  const model = new RandomForestClassifier(common);
  model.train(
    train,
    split.train.y.map((v) => index.get(v) ?? -1),
  );
  const predicted = model.predict(test).map((i) => classes[i]);
  return accuracy(predicted, split.test.y);
}
