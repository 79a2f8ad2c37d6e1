/**
 * The reference comparisons' shared half: which Python runs the reference scripts and how, the figures
 * `npm run reference:record` wrote to test/reference-figures/, and the forest's data sets, cases and scoring.
 *
 * Decisions:
 * - One set of cases, two suites. `npm test` runs where only Node and git are installed: it computes our figures
 *   afresh and compares them with scikit-learn's recorded ones, at the live tolerances. `npm run test:reference`
 *   (test/reference/, run by .ci/run after installing python3-sklearn) runs scikit-learn live against the same
 *   cases, and checks that it still gives the recorded figures. test/reference/record.ts writes them.
 * - Every recorded figure carries a SHA-256 fingerprint of the exact bytes the reference read, and the case's
 *   parameters. The recorded-figure tests regenerate the data and fail when either differs, so a change to a
 *   generator, the split or a fixture can never be compared with figures of other rows.
 * - The interpreter is BRAMBLE_REFERENCE_PYTHON, else Debian's /usr/bin/python3: python3-sklearn is installed for
 *   it only, not for a pyenv python3. Pointing it at nothing shows that `npm test` needs no Python.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import { parseCsv } from '../../src/data/csv.js';
import { encodeTable, takeRows } from '../../src/data/encode.js';
import { splitRows } from '../../src/data/split.js';
import { RandomForest, type Label } from '../../src/model/forest/forest.js';
import type { Matrix } from '../../src/util/matrix.js';
import type { ForestOptions, MaxFeatures, Task } from '../../src/model/forest/options.js';
import { Rng } from '../../src/util/rng.js';
import { REFERENCE_PYTHON_ENV, referencePython } from './reference-python.js';

// ---------------------------------------------------------------------------------------------------------------
// The interpreter and the scripts

export { DEBIAN_PYTHON, REFERENCE_PYTHON_ENV, referencePython } from './reference-python.js';

export const SKLEARN_FOREST_SCRIPT = fileURLToPath(new URL('../reference/sklearn_forest.py', import.meta.url));
export const SKLEARN_METRICS_SCRIPT = fileURLToPath(new URL('../reference/sklearn_metrics.py', import.meta.url));
export const SCIPY_JOBS_SCRIPT = fileURLToPath(new URL('../reference/scipy_jobs.py', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/datasets/', import.meta.url));
const NO_SKIP = 'the reference suite fails rather than skips without it; .ci/run installs it';
const INSTALL_HINT = `install it with \`apt-get install python3-sklearn\` or point ${REFERENCE_PYTHON_ENV} at a python3 that has it (${NO_SKIP})`;

export interface PythonRun {
  python?: string;
  /** Stops the process (when the tests that wanted it were filtered out). */
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Runs a reference script and parses what it prints. Rejects, saying how to install scikit-learn, when the
 * interpreter is missing or the script exits 3 (a library it needs is missing); the scripts exit 2 on bad input.
 */
export function runPython<T>(script: string, args: readonly string[], parse: (stdout: string) => T, run: PythonRun = {}): Promise<T> {
  const python = run.python ?? referencePython();
  return new Promise((resolve, reject) => {
    execFile(
      python,
      [script, ...args],
      { encoding: 'utf8', timeout: run.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024, signal: run.signal },
      (error, stdout, stderr) => {
        if (!error) {
          try {
            resolve(parse(stdout));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
          return;
        }
        const code: unknown = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(new Error(`${python} is missing, so scikit-learn cannot be the reference; ${INSTALL_HINT}`));
        } else if (code === 3) {
          reject(new Error(`${stderr.trim()} (${NO_SKIP})`));
        } else {
          reject(new Error(`${python} ${script} failed (${String(code ?? error.signal)}): ${stderr.trim() || error.message}`));
        }
      },
    );
  });
}

/** Null when the interpreter imports scikit-learn, scipy and numpy, else what is wrong and how to fix it. */
export function pythonProblem(python = referencePython()): string | null {
  const run = spawnSync(python, ['-c', 'import sklearn.ensemble, scipy.stats, numpy'], { encoding: 'utf8' });
  if (run.error) return `${python} cannot be run (${run.error.message}); ${INSTALL_HINT}`;
  if (run.status !== 0) {
    const last = run.stderr.trim().split('\n').pop() ?? '';
    return `${python} cannot import scikit-learn (${last}); ${INSTALL_HINT}`;
  }
  return null;
}

/** Parses a script's JSON output into an object, naming the script when it is not one. */
export function parseJsonObject(stdout: string, script: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(`${script} printed something that is not JSON: ${stdout.slice(0, 300)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${script} printed ${stdout.slice(0, 300)}, not an object`);
  return parsed as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// Recorded figures

export const FIGURES_DIR = fileURLToPath(new URL('../reference-figures/', import.meta.url));
export const FIGURE_FILES = { forest: 'forest.json', metrics: 'metrics.json', drift: 'drift.json' } as const;
export const RECORD_HINT = 'run `npm run reference:record` (it needs python3-sklearn) and commit test/reference-figures/';

/** What every figures file says beside its figures: when and with what they were recorded. */
export interface Provenance {
  /** ISO 8601 instant of the recording. */
  recorded: string;
  command: string;
  /** The interpreter and its version. */
  python: string;
  /** Library name → version: scikit-learn, numpy, scipy. */
  versions: Record<string, string>;
}

export interface FigureFile<T> extends Provenance {
  figures: T;
}

/** The SHA-256 of the exact text a reference read: what ties a recorded figure to its data. */
export function fingerprint(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:`).update(part);
  return hash.digest('hex');
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** Reads test/reference-figures/<file>: its provenance checked here, its figures by `parse`. */
export function readFigures<T>(file: string, parse: (figures: unknown, where: string) => T): FigureFile<T> {
  const path = join(FIGURES_DIR, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path} is missing; ${RECORD_HINT}`);
    throw err;
  }
  const top = parseJsonObject(text, path);
  const { recorded, command, python, versions, figures } = top;
  if (typeof recorded !== 'string' || Number.isNaN(Date.parse(recorded)) || typeof command !== 'string' || typeof python !== 'string' || !isStringRecord(versions)) {
    throw new Error(`${path}: recorded (a date), command, python and versions are required beside the figures; ${RECORD_HINT}`);
  }
  return { recorded, command, python, versions, figures: parse(figures, path) };
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

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

// ---------------------------------------------------------------------------------------------------------------
// The forest's cases against scikit-learn

export const TEST_SHARE = 0.25;
/** The tolerances on mean held-out scores: 1.5 points of accuracy, 0.02 of R². */
export const TOLERANCE: Record<Task, number> = { classification: 0.015, regression: 0.02 };
export const METRIC: Record<Task, string> = { classification: 'accuracy', regression: 'R²' };

export interface SklearnCase {
  name: string;
  data: () => Dataset;
  /** Split seeds 0..splits−1; each split is scored with every forest seed. */
  splits: number;
  seeds: number[];
  trees: number;
  /** scikit-learn's defaults: sqrt for classifiers, every feature for regressors. */
  maxFeatures: MaxFeatures;
  /** What scikit-learn's own mean must reach, so that a broken reference (wrong column, bad split) shows. */
  floor: number;
}

const FIVE_SEEDS = [0, 1, 2, 3, 4];

export const SKLEARN_CASES: readonly SklearnCase[] = [
  { name: 'breast-cancer', data: () => loadFixture('breast-cancer', 'classification'), splits: 3, seeds: FIVE_SEEDS, trees: 100, maxFeatures: 'sqrt', floor: 0.93 },
  { name: 'digits', data: () => loadFixture('digits', 'classification'), splits: 1, seeds: FIVE_SEEDS, trees: 100, maxFeatures: 'sqrt', floor: 0.95 },
  { name: 'wine', data: () => loadFixture('wine', 'classification'), splits: 5, seeds: FIVE_SEEDS, trees: 100, maxFeatures: 'sqrt', floor: 0.93 },
  { name: 'iris', data: () => loadFixture('iris', 'classification'), splits: 5, seeds: FIVE_SEEDS, trees: 100, maxFeatures: 'sqrt', floor: 0.9 },
  { name: 'diabetes', data: () => loadFixture('diabetes', 'regression'), splits: 3, seeds: FIVE_SEEDS, trees: 100, maxFeatures: 'all', floor: 0.35 },
  { name: 'friedman1', data: () => friedman1(2000, 1), splits: 1, seeds: FIVE_SEEDS, trees: 100, maxFeatures: 'all', floor: 0.8 },
];

/** A case's data split as both sides see it, and the fingerprint of the CSV text scikit-learn reads. */
export interface PreparedCase {
  case: SklearnCase;
  task: Task;
  splits: SplitData[];
  fingerprint: string;
}

export function prepareCase(c: SklearnCase): PreparedCase {
  const data = c.data();
  const splits = Array.from({ length: c.splits }, (_, seed) => splitDataset(data, TEST_SHARE, seed));
  const texts = splits.flatMap((s) => [partToCsv(s.train), partToCsv(s.test)]);
  return { case: c, task: data.task, splits, fingerprint: fingerprint(...texts) };
}

/** The job sklearn_forest.py runs for a case, its splits written as CSV files in `dir`. */
export function sklearnJob(p: PreparedCase, dir: string): SklearnJob {
  return {
    name: p.case.name,
    task: p.task,
    n_estimators: p.case.trees,
    max_features: p.case.maxFeatures,
    seeds: p.case.seeds,
    splits: p.splits.map((s, i) => writeSplit(dir, `${p.case.name}-${i}`, s)),
  };
}

/** Our forest's held-out scores on every split and seed of a case (split-major, as scikit-learn's). */
export async function scoreCase(p: PreparedCase, workers: number): Promise<{ scores: number[]; seconds: number }> {
  const started = performance.now();
  const scores: number[] = [];
  for (const split of p.splits) {
    for (const seed of p.case.seeds) {
      scores.push(await scoreOurs({ task: p.task, trees: p.case.trees, maxFeatures: p.case.maxFeatures, seed }, split, workers));
    }
  }
  return { scores, seconds: (performance.now() - started) / 1000 };
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

function parseScores(v: unknown, where: string): number[][] {
  if (!Array.isArray(v) || !v.every((s): s is number[] => Array.isArray(s) && s.every(isFiniteNumber))) {
    throw new Error(`${where}: scores are something other than lists of numbers`);
  }
  return v;
}

function parseResult(v: unknown, printed: string): SklearnResult {
  if (typeof v !== 'object' || v === null) throw new Error(`${SKLEARN_FOREST_SCRIPT} printed a result that is not an object: ${printed}`);
  const { name, scores, mean, seconds } = v as Record<string, unknown>;
  if (typeof name !== 'string' || !isFiniteNumber(mean) || !isFiniteNumber(seconds)) {
    throw new Error(`${SKLEARN_FOREST_SCRIPT} printed a result without its name, mean or seconds: ${printed}`);
  }
  return { name, scores: parseScores(scores, `${SKLEARN_FOREST_SCRIPT} (${name})`), mean, seconds };
}

function parseBatch(stdout: string): SklearnBatch {
  const printed = stdout.slice(0, 500);
  const { sklearn, numpy, results } = parseJsonObject(stdout, SKLEARN_FOREST_SCRIPT);
  if (typeof sklearn !== 'string' || typeof numpy !== 'string' || !Array.isArray(results)) {
    throw new Error(`${SKLEARN_FOREST_SCRIPT} printed ${printed}: sklearn, numpy (strings) or results (a list) is missing`);
  }
  return { sklearn, numpy, results: results.map((r) => parseResult(r, printed)) };
}

/** Runs scikit-learn on the jobs in one Python process (importing scikit-learn takes a second), in the background. */
export function runSklearn(jobs: readonly SklearnJob[], run: PythonRun = {}): Promise<SklearnBatch> {
  return runPython(SKLEARN_FOREST_SCRIPT, [JSON.stringify({ jobs })], parseBatch, run);
}

/** A recorded scikit-learn figure for one case: its parameters, the fingerprint of its data and its scores. */
export interface ForestFigure {
  data: string;
  task: Task;
  trees: number;
  maxFeatures: MaxFeatures;
  seeds: number[];
  splits: number;
  /** scores[split][seed], as scikit-learn printed them. */
  scores: number[][];
  mean: number;
}

/** The figure to record for a prepared case from scikit-learn's result on it. */
export function forestFigure(p: PreparedCase, result: SklearnResult): ForestFigure {
  return {
    data: p.fingerprint,
    task: p.task,
    trees: p.case.trees,
    maxFeatures: p.case.maxFeatures,
    seeds: p.case.seeds,
    splits: p.case.splits,
    scores: result.scores,
    mean: result.mean,
  };
}

export function parseForestFigures(v: unknown, where: string): Record<string, ForestFigure> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: figures must be an object of cases`);
  const out: Record<string, ForestFigure> = {};
  for (const [name, f] of Object.entries(v)) {
    const at = `${where}: ${name}`;
    if (typeof f !== 'object' || f === null) throw new Error(`${at} is not an object`);
    const { data, task, trees, maxFeatures, seeds, splits, scores, mean } = f as Record<string, unknown>;
    if (typeof data !== 'string' || (task !== 'classification' && task !== 'regression') || !isFiniteNumber(trees) || !isFiniteNumber(splits) || !isFiniteNumber(mean)) {
      throw new Error(`${at} lacks data, task, trees, splits or mean`);
    }
    if (typeof maxFeatures !== 'string' && !isFiniteNumber(maxFeatures)) throw new Error(`${at}: maxFeatures is ${JSON.stringify(maxFeatures)}`);
    if (!Array.isArray(seeds) || !seeds.every(isFiniteNumber)) throw new Error(`${at}: seeds is not a list of numbers`);
    out[name] = { data, task, trees, maxFeatures: maxFeatures as MaxFeatures, seeds, splits, scores: parseScores(scores, at), mean };
  }
  return out;
}

export function readForestFigures(): FigureFile<Record<string, ForestFigure>> {
  return readFigures(FIGURE_FILES.forest, parseForestFigures);
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
