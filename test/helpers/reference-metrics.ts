/**
 * The metric cases of test/evaluate.test.ts (recorded figures) and test/reference/metrics.test.ts (live): seeded
 * random data (binary with string and numeric labels and an overridden positive class, three classes, one never
 * predicted, one never present, and regression) and scikit-learn's answers on them, checked field by field (no
 * `any` crosses from JSON). Probabilities are multiples of 1/8, 1/10 or 1/20, so scores tie (ROC AUC's
 * half-counted pairs), argmax ties (the first class wins), probabilities of exactly 0 and 1 occur (log loss
 * clipping) and values land on bin edges.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateClassification, type ClassificationEvaluation } from '../../src/model/evaluate.js';
import type { Label } from '../../src/model/forest/forest.js';
import { Rng } from '../../src/util/rng.js';
import { FIGURE_FILES, fingerprint, parseJsonObject, readFigures, runPython, SKLEARN_METRICS_SCRIPT, type FigureFile, type PythonRun } from './reference.js';

export interface ClassificationCase {
  name: string;
  task: 'classification';
  classes: Label[];
  labels: Label[];
  probabilities: number[][];
  positive: Label | null;
}

export interface RegressionCase {
  name: string;
  task: 'regression';
  actual: number[];
  predicted: number[];
}

export type Case = ClassificationCase | RegressionCase;

function normal(rng: Rng): number {
  const u = 1 - rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
}

/** A label drawn from the row's probabilities, blurred so the model is good but not perfect. */
function draw(rng: Rng, classes: readonly Label[], probabilities: readonly number[], blur: number): Label {
  const k = classes.length;
  let u = rng.float();
  for (let c = 0; c < k; c++) {
    u -= (1 - blur) * probabilities[c] + blur / k;
    if (u < 0) return classes[c];
  }
  return classes[k - 1];
}

/** Two classes; the positive class's probability is a multiple of 1/steps (0 and 1 included). */
function binaryCase(name: string, classes: Label[], rows: number, steps: number, seed: number, positive: Label | null): ClassificationCase {
  const rng = new Rng(seed, 0xe7a1);
  const probabilities: number[][] = [];
  const labels: Label[] = [];
  for (let r = 0; r < rows; r++) {
    const p = rng.int(steps + 1) / steps;
    const row = [1 - p, p];
    probabilities.push(row);
    labels.push(draw(rng, classes, row, 0.3));
  }
  return { name, task: 'classification', classes, labels, probabilities, positive };
}

/** Three classes, probabilities (i, j, 10 − i − j) / 10; `cap` bounds the last class's share (in tenths). */
function multiclassCase(name: string, classes: Label[], rows: number, seed: number, cap = 10, present = 3): ClassificationCase {
  const rng = new Rng(seed, 0xe7a2);
  const probabilities: number[][] = [];
  const labels: Label[] = [];
  for (let r = 0; r < rows; r++) {
    const last = rng.int(cap + 1);
    const first = rng.int(10 - last + 1);
    const row = [first / 10, (10 - last - first) / 10, last / 10];
    probabilities.push(row);
    let label = draw(rng, classes, row, 0.3);
    if (present < 3 && label === classes[2]) label = classes[rng.int(2)];
    labels.push(label);
  }
  return { name, task: 'classification', classes, labels, probabilities, positive: null };
}

function regressionCase(name: string, rows: number, seed: number): RegressionCase {
  const rng = new Rng(seed, 0xe7a3);
  const actual: number[] = [];
  const predicted: number[] = [];
  for (let r = 0; r < rows; r++) {
    const y = 50 + 10 * normal(rng);
    actual.push(y);
    predicted.push(0.9 * y + 5 + 3 * normal(rng));
  }
  return { name, task: 'regression', actual, predicted };
}

const oneClass = binaryCase('binary, one class present', ['No', 'Yes'], 30, 10, 4, null);
oneClass.labels = oneClass.labels.map(() => 'Yes');

export const CLASSIFICATION_CASES: ClassificationCase[] = [
  binaryCase('binary No/Yes, positive by default', ['No', 'Yes'], 240, 20, 1, null),
  binaryCase('binary 0/1, positive overridden to 0', [0, 1], 150, 8, 2, 0),
  binaryCase('binary, coarse scores (many ties)', ['neg', 'pos'], 200, 4, 3, null),
  oneClass,
  multiclassCase('three classes', ['a', 'b', 'c'], 300, 5),
  // Class 3's probability never exceeds 0.3 while the larger of the others is at least 0.35: it is never predicted.
  multiclassCase('three classes, one never predicted', [1, 2, 3], 200, 6, 3),
  multiclassCase('three classes, one never present nor predicted', ['x', 'y', 'z'], 120, 7, 3, 2),
];
export const REGRESSION_CASES: RegressionCase[] = [regressionCase('regression', 300, 8), regressionCase('regression, few rows', 5, 9)];

// ---------------------------------------------------------------------------------------------------------------
// The reference's answers, checked field by field (no `any` crosses from JSON)

export interface SkCalibration {
  counts: number[];
  prob_true: number[];
  prob_pred: number[];
}

export interface SkClassification {
  name: string;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  macro: { precision: number; recall: number; f1: number };
  per_class: { precision: number[]; recall: number[]; f1: number[]; support: number[] };
  roc_auc: number | null;
  roc_auc_error: string | null;
  log_loss: number;
  confusion: number[][];
  calibration: SkCalibration;
}

export interface SkRegression {
  name: string;
  rmse: number;
  mae: number;
  r2: number;
}

type Json = Record<string, unknown>;

function record(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`scikit-learn's metrics: ${where} is not an object`);
  return v as Json;
}

function num(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new Error(`scikit-learn's metrics: ${where}.${key} is ${JSON.stringify(v)}, not a number`);
  return v;
}

function numOrNull(o: Json, key: string, where: string): number | null {
  return o[key] === null ? null : num(o, key, where);
}

function nums(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || !v.every((x): x is number => typeof x === 'number')) throw new Error(`scikit-learn's metrics: ${where} is not a list of numbers`);
  return v;
}

function triple(o: Json, where: string): { precision: number; recall: number; f1: number } {
  return { precision: num(o, 'precision', where), recall: num(o, 'recall', where), f1: num(o, 'f1', where) };
}

function parseClassification(o: Json, name: string): SkClassification {
  const perClass = record(o.per_class, `${name}.per_class`);
  const calibration = record(o.calibration, `${name}.calibration`);
  const confusion = o.confusion;
  if (!Array.isArray(confusion)) throw new Error(`scikit-learn's metrics: ${name}.confusion is not a list`);
  const error = o.roc_auc_error;
  return {
    name,
    accuracy: num(o, 'accuracy', name),
    ...triple(o, name),
    macro: triple(record(o.macro, `${name}.macro`), `${name}.macro`),
    per_class: {
      precision: nums(perClass.precision, `${name}.per_class.precision`),
      recall: nums(perClass.recall, `${name}.per_class.recall`),
      f1: nums(perClass.f1, `${name}.per_class.f1`),
      support: nums(perClass.support, `${name}.per_class.support`),
    },
    roc_auc: numOrNull(o, 'roc_auc', name),
    roc_auc_error: typeof error === 'string' ? error : null,
    log_loss: num(o, 'log_loss', name),
    confusion: confusion.map((row, i) => nums(row, `${name}.confusion[${i}]`)),
    calibration: {
      counts: nums(calibration.counts, `${name}.calibration.counts`),
      prob_true: nums(calibration.prob_true, `${name}.calibration.prob_true`),
      prob_pred: nums(calibration.prob_pred, `${name}.calibration.prob_pred`),
    },
  };
}

/** Our evaluation of a classification case. */
export function evaluateCase(c: ClassificationCase): ClassificationEvaluation {
  return evaluateClassification({
    labels: c.labels,
    classes: c.classes,
    probabilities: Float64Array.from(c.probabilities.flat()),
    ...(c.positive === null ? {} : { positive: c.positive }),
  });
}

export interface MetricsReference {
  classification: Map<string, SkClassification>;
  regression: Map<string, SkRegression>;
}

/** scikit-learn's results (sklearn_metrics.py's `results`), by case name. */
export function parseMetricResults(results: unknown): MetricsReference {
  if (!Array.isArray(results)) throw new Error("scikit-learn's metrics: results is not a list");
  const out: MetricsReference = { classification: new Map(), regression: new Map() };
  for (const [i, item] of results.entries()) {
    const o = record(item, `results[${i}]`);
    if (typeof o.name !== 'string') throw new Error(`scikit-learn's metrics: results[${i}] has no name`);
    if ('rmse' in o) out.regression.set(o.name, { name: o.name, rmse: num(o, 'rmse', o.name), mae: num(o, 'mae', o.name), r2: num(o, 'r2', o.name) });
    else out.classification.set(o.name, parseClassification(o, o.name));
  }
  return out;
}

export const METRIC_CASES: readonly Case[] = [...CLASSIFICATION_CASES, ...REGRESSION_CASES];

/** The JSON file sklearn_metrics.py reads; its fingerprint ties the recorded figures to these cases. */
export function metricCasesJson(cases: readonly Case[] = METRIC_CASES): string {
  return JSON.stringify({ cases });
}

export interface MetricsRun {
  sklearn: string;
  numpy: string;
  /** As printed, for recording. */
  results: unknown[];
  reference: MetricsReference;
}

/** Runs test/reference/sklearn_metrics.py on the cases. */
export async function runSklearnMetrics(cases: readonly Case[] = METRIC_CASES, run: PythonRun = {}): Promise<MetricsRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-metrics-'));
  try {
    const file = join(dir, 'cases.json');
    writeFileSync(file, metricCasesJson(cases));
    return await runPython(
      SKLEARN_METRICS_SCRIPT,
      [file],
      (stdout) => {
        const top = parseJsonObject(stdout, SKLEARN_METRICS_SCRIPT);
        if (typeof top.sklearn !== 'string' || typeof top.numpy !== 'string' || !Array.isArray(top.results)) {
          throw new Error(`${SKLEARN_METRICS_SCRIPT}: the output lacks sklearn, numpy or results`);
        }
        return { sklearn: top.sklearn, numpy: top.numpy, results: top.results, reference: parseMetricResults(top.results) };
      },
      { timeoutMs: 120_000, ...run },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface MetricsFigures {
  /** The fingerprint of metricCasesJson() when recorded. */
  data: string;
  results: unknown[];
  reference: MetricsReference;
}

export function metricsFigures(results: unknown[]): { data: string; results: unknown[] } {
  return { data: fingerprint(metricCasesJson()), results };
}

export function readMetricsFigures(): FigureFile<MetricsFigures> {
  return readFigures(FIGURE_FILES.metrics, (v, where) => {
    const o = record(v, where);
    if (typeof o.data !== 'string' || !Array.isArray(o.results)) throw new Error(`${where}: figures need data (a fingerprint) and results`);
    return { data: o.data, results: o.results, reference: parseMetricResults(o.results) };
  });
}
