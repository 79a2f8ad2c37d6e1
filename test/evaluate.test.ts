/**
 * Every metric of src/model/evaluate.ts against scikit-learn 1.2.1, computed live by test/reference/sklearn_metrics.py
 * (Debian's /usr/bin/python3) on seeded random data written to a temporary JSON file: binary with string and numeric
 * labels and an overridden positive class, three classes (one never predicted, one never present), and regression.
 * Probabilities are multiples of 1/8, 1/10 or 1/20, so scores tie (ROC AUC's half-counted pairs), argmax ties (the
 * first class wins), probabilities of exactly 0 and 1 occur (log loss clipping) and values land on bin edges.
 *
 * Agreement is to 1e-12, relative to max(1, |value|): the two sides sum in different orders (numpy sums pairwise,
 * ROC AUC there is a trapezoid over the curve, here a pair count), which moves the last bits and nothing more.
 * Without scikit-learn these tests fail, saying how to install it; they never skip.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EVALUATION,
  evaluateClassification,
  evaluateRegression,
  metricsOf,
  rankImportances,
  type ClassificationEvaluation,
} from '../src/model/evaluate.js';
import type { Label } from '../src/model/forest/forest.js';
import { Rng } from '../src/model/forest/rng.js';

const SKLEARN_PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./reference/sklearn_metrics.py', import.meta.url));
const INSTALL = 'install it with `apt-get install python3-sklearn` (CI installs it; these tests fail rather than skip without it)';
const TOLERANCE = 1e-12;

// ---------------------------------------------------------------------------------------------------------------
// Seeded data

interface ClassificationCase {
  name: string;
  task: 'classification';
  classes: Label[];
  labels: Label[];
  probabilities: number[][];
  positive: Label | null;
}

interface RegressionCase {
  name: string;
  task: 'regression';
  actual: number[];
  predicted: number[];
}

type Case = ClassificationCase | RegressionCase;

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

const CLASSIFICATION_CASES: ClassificationCase[] = [
  binaryCase('binary No/Yes, positive by default', ['No', 'Yes'], 240, 20, 1, null),
  binaryCase('binary 0/1, positive overridden to 0', [0, 1], 150, 8, 2, 0),
  binaryCase('binary, coarse scores (many ties)', ['neg', 'pos'], 200, 4, 3, null),
  oneClass,
  multiclassCase('three classes', ['a', 'b', 'c'], 300, 5),
  // Class 3's probability never exceeds 0.3 while the larger of the others is at least 0.35: it is never predicted.
  multiclassCase('three classes, one never predicted', [1, 2, 3], 200, 6, 3),
  multiclassCase('three classes, one never present nor predicted', ['x', 'y', 'z'], 120, 7, 3, 2),
];
const REGRESSION_CASES: RegressionCase[] = [regressionCase('regression', 300, 8), regressionCase('regression, few rows', 5, 9)];

// ---------------------------------------------------------------------------------------------------------------
// The reference's answers, checked field by field (no `any` crosses from JSON)

interface SkCalibration {
  counts: number[];
  prob_true: number[];
  prob_pred: number[];
}

interface SkClassification {
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

interface SkRegression {
  name: string;
  rmse: number;
  mae: number;
  r2: number;
}

type Json = Record<string, unknown>;

function record(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${SCRIPT}: ${where} is not an object`);
  return v as Json;
}

function num(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new Error(`${SCRIPT}: ${where}.${key} is ${JSON.stringify(v)}, not a number`);
  return v;
}

function numOrNull(o: Json, key: string, where: string): number | null {
  return o[key] === null ? null : num(o, key, where);
}

function nums(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || !v.every((x): x is number => typeof x === 'number')) throw new Error(`${SCRIPT}: ${where} is not a list of numbers`);
  return v;
}

function triple(o: Json, where: string): { precision: number; recall: number; f1: number } {
  return { precision: num(o, 'precision', where), recall: num(o, 'recall', where), f1: num(o, 'f1', where) };
}

function parseClassification(o: Json, name: string): SkClassification {
  const perClass = record(o.per_class, `${name}.per_class`);
  const calibration = record(o.calibration, `${name}.calibration`);
  const confusion = o.confusion;
  if (!Array.isArray(confusion)) throw new Error(`${SCRIPT}: ${name}.confusion is not a list`);
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

interface Reference {
  sklearn: string;
  classification: Map<string, SkClassification>;
  regression: Map<string, SkRegression>;
}

function parseReference(stdout: string): Reference {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(`${SCRIPT} printed something that is not JSON: ${stdout.slice(0, 300)}`);
  }
  const top = record(parsed, 'the output');
  if (typeof top.sklearn !== 'string' || !Array.isArray(top.results)) throw new Error(`${SCRIPT}: the output lacks sklearn or results`);
  const out: Reference = { sklearn: top.sklearn, classification: new Map(), regression: new Map() };
  for (const [i, item] of top.results.entries()) {
    const o = record(item, `results[${i}]`);
    if (typeof o.name !== 'string') throw new Error(`${SCRIPT}: results[${i}] has no name`);
    if ('rmse' in o) out.regression.set(o.name, { name: o.name, rmse: num(o, 'rmse', o.name), mae: num(o, 'mae', o.name), r2: num(o, 'r2', o.name) });
    else out.classification.set(o.name, parseClassification(o, o.name));
  }
  return out;
}

function runReference(cases: readonly Case[], dir: string): Promise<Reference> {
  const file = join(dir, 'cases.json');
  writeFileSync(file, JSON.stringify({ cases }));
  return new Promise((resolve, reject) => {
    execFile(SKLEARN_PYTHON, [SCRIPT, file], { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) {
        try {
          resolve(parseReference(stdout));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
        return;
      }
      const code: unknown = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') reject(new Error(`${SKLEARN_PYTHON} is missing, so scikit-learn cannot be the reference; ${INSTALL}`));
      else if (code === 3) reject(new Error(`${stderr.trim()} (${INSTALL})`));
      else reject(new Error(`${SKLEARN_PYTHON} ${SCRIPT} failed (${String(code ?? error.signal)}): ${stderr.trim() || error.message}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------

function close(ours: number | null, theirs: number | null, what: string): void {
  if (theirs === null || ours === null) {
    expect(ours, what).toBe(theirs);
    return;
  }
  expect(Math.abs(ours - theirs), `${what}: ours ${ours}, scikit-learn ${theirs}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(theirs)));
}

function evaluateCase(c: ClassificationCase): ClassificationEvaluation {
  return evaluateClassification({
    labels: c.labels,
    classes: c.classes,
    probabilities: Float64Array.from(c.probabilities.flat()),
    ...(c.positive === null ? {} : { positive: c.positive }),
  });
}

let dir = '';
let reference: Reference;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bramble-metrics-'));
  reference = await runReference([...CLASSIFICATION_CASES, ...REGRESSION_CASES], dir);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('classification metrics agree with scikit-learn', () => {
  it('runs the scikit-learn release the tolerances were set against', () => {
    expect(reference.sklearn).toBe('1.2.1');
  });

  it.each(CLASSIFICATION_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const sk = reference.classification.get(name);
    if (!sk) throw new Error(`scikit-learn returned nothing for ${name}`);
    const ours = evaluateCase(c);

    close(ours.accuracy, sk.accuracy, 'accuracy');
    close(ours.precision, sk.precision, 'precision');
    close(ours.recall, sk.recall, 'recall');
    close(ours.f1, sk.f1, 'f1');
    close(ours.macro.precision, sk.macro.precision, 'macro precision');
    close(ours.macro.recall, sk.macro.recall, 'macro recall');
    close(ours.macro.f1, sk.macro.f1, 'macro f1');
    ours.perClass.forEach((s, i) => {
      close(s.precision, sk.per_class.precision[i], `precision of ${String(s.label)}`);
      close(s.recall, sk.per_class.recall[i], `recall of ${String(s.label)}`);
      close(s.f1, sk.per_class.f1[i], `f1 of ${String(s.label)}`);
      expect(s.support, `support of ${String(s.label)}`).toBe(sk.per_class.support[i]);
    });
    close(ours.roc_auc, sk.roc_auc, 'roc_auc');
    expect(ours.reasons.roc_auc === undefined, `roc_auc reason vs scikit-learn's "${sk.roc_auc_error}"`).toBe(sk.roc_auc_error === null);
    close(ours.log_loss, sk.log_loss, 'log_loss');
    expect(ours.confusion.matrix).toEqual(sk.confusion);

    expect(ours.calibration.bins.map((b) => b.count)).toEqual(sk.calibration.counts);
    const filled = ours.calibration.bins.filter((b) => b.count > 0);
    expect(filled).toHaveLength(sk.calibration.prob_pred.length);
    filled.forEach((b, i) => {
      close(b.meanPredicted, sk.calibration.prob_pred[i], `mean predicted in (${b.lower}, ${b.upper}]`);
      close(b.observedRate, sk.calibration.prob_true[i], `observed rate in (${b.lower}, ${b.upper}]`);
    });
  });

  it('the cases reach the edges they are meant to', () => {
    const [byDefault, overridden, , single, three, neverPredicted, neverPresent] = CLASSIFICATION_CASES.map(evaluateCase);
    expect(byDefault).toMatchObject({ positive: 'Yes', calibration: { of: 'positive', label: 'Yes' } });
    expect(overridden).toMatchObject({ positive: 0, calibration: { of: 'positive', label: 0 } });
    expect(single.roc_auc).toBeNull();
    expect(single.reasons.roc_auc).toBe(
      'undefined: all 30 held-out rows are "Yes", and ROC AUC needs rows of both classes; stratify the split (split.stratify) or add data',
    );
    expect(three).toMatchObject({ positive: null, calibration: { of: 'top-label', label: null }, precision: three.macro.precision });
    // zero_division=0: class 3 is in the held-out labels but never predicted.
    expect(neverPredicted.perClass[2]).toMatchObject({ label: 3, precision: 0, recall: 0, f1: 0 });
    expect(neverPredicted.perClass[2].support).toBeGreaterThan(0);
    expect(neverPredicted.confusion.matrix.map((row) => row[2])).toEqual([0, 0, 0]);
    expect(neverPresent.roc_auc).toBeNull();
    expect(neverPresent.reasons.roc_auc).toContain('no held-out row is of class "z"');
    // Macro averages leave out a class absent from both the labels and the predictions, as scikit-learn does.
    const [x, y] = neverPresent.perClass;
    expect(neverPresent.macro.recall).toBe((x.recall + y.recall) / 2);
    // A true class predicted at probability 0 is clipped at ε, not an infinite loss.
    const withZero = CLASSIFICATION_CASES[0].probabilities.some((row, r) => row[CLASSIFICATION_CASES[0].classes.indexOf(CLASSIFICATION_CASES[0].labels[r])] === 0);
    expect(withZero).toBe(true);
    expect(byDefault.log_loss).toBeLessThan(-Math.log(EVALUATION.logLossEpsilon));
  });
});

describe('regression metrics agree with scikit-learn', () => {
  it.each(REGRESSION_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const sk = reference.regression.get(name);
    if (!sk) throw new Error(`scikit-learn returned nothing for ${name}`);
    const ours = evaluateRegression(c.actual, c.predicted);
    close(ours.rmse, sk.rmse, 'rmse');
    close(ours.mae, sk.mae, 'mae');
    close(ours.r2, sk.r2, 'r2');
    expect(metricsOf(ours)).toEqual({ rmse: ours.rmse, mae: ours.mae, r2: ours.r2 });
  });
});

describe('evaluation edge cases', () => {
  const twoRows = { labels: ['No', 'Yes'], classes: ['No', 'Yes'], probabilities: Float64Array.from([0.7, 0.3, 0.4, 0.6]) };

  it('picks the first class when probabilities tie', () => {
    const e = evaluateClassification({ labels: ['a', 'b'], classes: ['a', 'b', 'c'], probabilities: Float64Array.from([0.4, 0.4, 0.2, 0.3, 0.35, 0.35]) });
    expect(e.confusion.matrix).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
  });

  it('takes the headline metrics for the named class', () => {
    expect(metricsOf(evaluateClassification(twoRows))).toEqual({ accuracy: 1, precision: 1, recall: 1, f1: 1, roc_auc: 1, log_loss: -(Math.log(0.7) + Math.log(0.6)) / 2 });
  });

  it.each([
    ['no rows', { labels: [], classes: ['No', 'Yes'], probabilities: new Float64Array(0) }, 'cannot evaluate on 0 held-out rows'],
    ['a label the model never saw', { ...twoRows, labels: ['No', 'Maybe'] }, 'held-out row 1: label "Maybe" is not one of the model\'s classes ["No", "Yes"]'],
    ['too few probabilities', { ...twoRows, probabilities: Float64Array.from([1, 0, 1]) }, 'probabilities hold 3 values but 2 rows × 2 classes need 4'],
    ['scores that are not probabilities', { ...twoRows, probabilities: Float64Array.from([0.7, 0.7, 0.4, 0.6]) }, 'held-out row 0: the class probabilities sum to 1.4, not 1'],
    ['a probability of NaN', { ...twoRows, probabilities: Float64Array.from([Number.NaN, 1, 0.4, 0.6]) }, 'held-out row 0: the probability of class "No" is NaN'],
    ['a positive class that is not a class', { ...twoRows, positive: 'yes' }, 'positive class "yes" is not one of the model\'s classes ["No", "Yes"]'],
    [
      'a positive class with three classes',
      { labels: ['a'], classes: ['a', 'b', 'c'], probabilities: Float64Array.from([1, 0, 0]), positive: 'a' },
      'with more than two, precision, recall and F1 are macro averages — leave positive out',
    ],
    ['one class', { labels: ['a'], classes: ['a'], probabilities: Float64Array.from([1]) }, 'the model has 1 class(es) ["a"]'],
  ])('rejects %s', (_, input, message) => {
    expect(() => evaluateClassification(input)).toThrow(message);
    expect(() => evaluateClassification(input)).toThrowError(expect.objectContaining({ code: 'E_EVALUATION_INPUT' }));
  });

  it.each([
    ['no rows', [], [], 'cannot evaluate on 0 held-out rows'],
    ['mismatched lengths', [1, 2], [1], '1 predictions for 2 held-out rows'],
    ['a missing target', [1, Number.NaN], [1, 2], 'held-out row 1: the target is NaN'],
    ['an infinite prediction', [1, 2], [1, Number.POSITIVE_INFINITY], 'held-out row 1: the prediction is Infinity'],
  ])('rejects regression input with %s', (_, actual, predicted, message) => {
    expect(() => evaluateRegression(actual, predicted)).toThrow(message);
  });

  it('reports R² of a constant target as undefined, with the reason', () => {
    const e = evaluateRegression([3, 3, 3], [2, 3, 4]);
    expect(e).toEqual({
      task: 'regression',
      rows: 3,
      rmse: Math.sqrt(2 / 3),
      mae: 2 / 3,
      r2: null,
      reasons: { r2: 'undefined: every one of the 3 held-out targets is 3, so there is no variance to explain; add data with varied targets' },
    });
  });

  it('ranks feature importances, most important first, ties in feature order', () => {
    expect(rankImportances(['age', 'tenure', 'charges', 'plan'], Float64Array.from([0.1, 0.5, 0.3, 0.1]))).toEqual([
      { feature: 'tenure', importance: 0.5 },
      { feature: 'charges', importance: 0.3 },
      { feature: 'age', importance: 0.1 },
      { feature: 'plan', importance: 0.1 },
    ]);
    expect(() => rankImportances(['age'], [0.5, 0.5])).toThrow('2 importances for 1 features');
  });
});
