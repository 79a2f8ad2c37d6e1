// Scores a model's predictions on the held-out split: pure functions over arrays, computed the way scikit-learn
// 1.2.1 computes them (test/evaluate.test.ts checks every number against it, live). A metric that the held-out
// rows cannot define (ROC AUC with one class present, R² of a constant target) is null, with the reason beside it,
// rather than a made-up number: a gate on it then fails as a missing metric instead of passing by accident.
import type { ClassificationMetric, Metric, RegressionMetric } from './metric-names.js';
import { errorClass } from '../errors.js';
import type { Label } from './forest/forest.js';

export class EvaluationInputError extends errorClass('E_EVALUATION_INPUT') {}

/**
 * Numbers that define the metrics, in one place. `logLossEpsilon` is where probabilities are clipped before the
 * logarithm: scikit-learn 1.2's default `eps="auto"` is the float64 machine epsilon (2.2e-16), not the 1e-15 of
 * releases before 1.2; we follow the release the tests check against (and scikit-learn ≥ 1.5 clips the same way).
 */
export const EVALUATION = {
  calibrationBins: 10,
  logLossEpsilon: Number.EPSILON,
  /** How far a row of probabilities may sum from 1 (float noise from averaging trees), as np.allclose would. */
  probabilitySumTolerance: 1e-6,
} as const;

export type MetricValues = Partial<Record<Metric, number | null>>;
/** Why a metric is null, for the metrics that are. */
export type MetricReasons = Partial<Record<Metric, string>>;

export interface ClassScores {
  label: Label;
  precision: number;
  recall: number;
  f1: number;
  /** Held-out rows of this class. */
  support: number;
}

export interface CalibrationBin {
  /** The bin is (lower, upper]; the first also holds 0. A probability on an edge falls in the lower bin, as in numpy's searchsorted. */
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability in the bin; null when the bin is empty. */
  meanPredicted: number | null;
  /** Share of the bin's rows where the event happened; null when the bin is empty. */
  observedRate: number | null;
}

export interface Calibration {
  /**
   * `positive`: the predicted probability of the positive class against whether the row is positive (binary).
   * `top-label`: the probability of the predicted class against whether the prediction is right (multiclass).
   */
  of: 'positive' | 'top-label';
  /** The positive class for `positive`; null for `top-label`. */
  label: Label | null;
  bins: CalibrationBin[];
}

export interface ClassificationEvaluation {
  task: 'classification';
  rows: number;
  classes: Label[];
  /** The class that binary precision, recall, F1 and ROC AUC are about; null with three or more classes. */
  positive: Label | null;
  accuracy: number;
  /** For the positive class (two classes), or the macro average (three or more). */
  precision: number;
  recall: number;
  f1: number;
  /** Unweighted mean over the classes present in the held-out labels or the predictions (scikit-learn's default). */
  macro: { precision: number; recall: number; f1: number };
  /** Every class of the model, in `classes` order; a class never predicted has precision 0 (zero_division=0). */
  perClass: ClassScores[];
  /** Binary: Mann–Whitney with ties counted half. Multiclass: one-vs-rest, macro. Null when undefined. */
  roc_auc: number | null;
  log_loss: number;
  /** matrix[actual][predicted], both in `classes` order (scikit-learn's confusion_matrix). */
  confusion: { classes: Label[]; matrix: number[][] };
  calibration: Calibration;
  reasons: MetricReasons;
}

export interface RegressionEvaluation {
  task: 'regression';
  rows: number;
  rmse: number;
  mae: number;
  /** Null when the held-out target is constant (scikit-learn reports 1 or 0 there; neither measures anything). */
  r2: number | null;
  reasons: MetricReasons;
}

export type Evaluation = ClassificationEvaluation | RegressionEvaluation;

export interface ClassificationInput {
  /** The held-out rows' true labels. */
  labels: readonly Label[];
  /** The model's classes: the columns of `probabilities`, in order (the forest's `classes`: sorted). */
  classes: readonly Label[];
  /** rows × classes, row-major (the forest's `scores`). */
  probabilities: Float64Array;
  /**
   * The class binary metrics are about. Default: the second of the two classes, which for sorted classes is "Yes"
   * of [No, Yes], 1 of [0, 1] and true of [false, true] — scikit-learn's pos_label=1 and roc_auc_score's classes_[1].
   * Only for two classes: with more, precision, recall and F1 are macro averages.
   */
  positive?: Label;
}

const CLASSIFICATION_KEYS: readonly ClassificationMetric[] = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'];
const REGRESSION_KEYS: readonly RegressionMetric[] = ['rmse', 'mae', 'r2'];

/** The metrics ml.yaml can name and gate, out of an evaluation. */
export function metricsOf(evaluation: Evaluation): MetricValues {
  const out: MetricValues = {};
  if (evaluation.task === 'classification') {
    for (const key of CLASSIFICATION_KEYS) out[key] = evaluation[key];
  } else {
    for (const key of REGRESSION_KEYS) out[key] = evaluation[key];
  }
  return out;
}

function shown(label: unknown): string {
  return typeof label === 'string' ? JSON.stringify(label) : String(label);
}

function listed(labels: readonly Label[]): string {
  return `[${labels.map(shown).join(', ')}]`;
}

function checkClassification(input: ClassificationInput): { rows: number; k: number; actual: Int32Array; positiveIndex: number } {
  const { labels, classes, probabilities, positive } = input;
  const rows = labels.length;
  const k = classes.length;
  if (rows === 0) {
    throw new EvaluationInputError('cannot evaluate on 0 held-out rows; raise split.test or add data so the held-out split has rows', { rows });
  }
  if (k < 2) {
    throw new EvaluationInputError(`the model has ${k} class(es) ${listed(classes)}; classification metrics need at least 2`, { classes });
  }
  const index = new Map<Label, number>();
  classes.forEach((c, i) => {
    if (index.has(c)) throw new EvaluationInputError(`class ${shown(c)} appears twice in classes ${listed(classes)}; each class names one column of probabilities`, { classes });
    index.set(c, i);
  });
  if (probabilities.length !== rows * k) {
    throw new EvaluationInputError(
      `probabilities hold ${probabilities.length} values but ${rows} rows × ${k} classes need ${rows * k}; give one probability per class per held-out row`,
      { rows, classes: k, values: probabilities.length },
    );
  }
  const actual = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const i = index.get(labels[r]);
    if (i === undefined) {
      throw new EvaluationInputError(
        `held-out row ${r}: label ${shown(labels[r])} is not one of the model's classes ${listed(classes)}; the training split never saw it — stratify the split (split.stratify) or drop the rare class`,
        { row: r, label: labels[r], classes },
      );
    }
    actual[r] = i;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const p = probabilities[r * k + c];
      if (!(p >= 0 && p <= 1)) {
        throw new EvaluationInputError(`held-out row ${r}: the probability of class ${shown(classes[c])} is ${p}; probabilities must lie in [0, 1]`, { row: r, class: classes[c], value: p });
      }
      sum += p;
    }
    if (Math.abs(sum - 1) > EVALUATION.probabilitySumTolerance) {
      throw new EvaluationInputError(`held-out row ${r}: the class probabilities sum to ${sum}, not 1; pass probabilities (predictProba), not raw scores`, { row: r, sum });
    }
  }
  let positiveIndex = -1;
  if (positive !== undefined) {
    const i = index.get(positive);
    if (i === undefined) {
      throw new EvaluationInputError(`positive class ${shown(positive)} is not one of the model's classes ${listed(classes)}; use one of them`, { positive, classes });
    }
    if (k > 2) {
      throw new EvaluationInputError(
        `positive class ${shown(positive)} was given but the model has ${k} classes ${listed(classes)}; with more than two, precision, recall and F1 are macro averages — leave positive out`,
        { positive, classes },
      );
    }
    positiveIndex = i;
  } else if (k === 2) {
    positiveIndex = 1;
  }
  return { rows, k, actual, positiveIndex };
}

/** Predicted class per row: the most probable; the first (in class order) on ties, as numpy's argmax. */
function argmaxRows(probabilities: Float64Array, rows: number, k: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestP = probabilities[r * k];
    for (let c = 1; c < k; c++) {
      const p = probabilities[r * k + c];
      if (p > bestP) {
        best = c;
        bestP = p;
      }
    }
    out[r] = best;
  }
  return out;
}

function classScores(tp: number, predicted: number, support: number): { precision: number; recall: number; f1: number } {
  // zero_division=0: a class never predicted has precision 0, a class never present has recall 0.
  const precision = predicted === 0 ? 0 : tp / predicted;
  const recall = support === 0 ? 0 : tp / support;
  const denominator = precision + recall;
  // The same expression as scikit-learn's (1 + β²)·p·r / (β²·p + r), so the last bits agree too.
  const f1 = denominator === 0 ? 0 : (2 * precision * recall) / denominator;
  return { precision, recall, f1 };
}

/**
 * Area under the ROC curve of `score` for rows where `isPositive`: the Mann–Whitney statistic, the share of
 * (positive, negative) pairs ordered right, a tie counted half. Null when either side is empty.
 */
function binaryAuc(score: (r: number) => number, isPositive: (r: number) => boolean, rows: number): number | null {
  const order = Array.from({ length: rows }, (_, r) => r).sort((a, b) => score(a) - score(b));
  let positives = 0;
  let negativesBelow = 0;
  let pairs = 0;
  for (let start = 0; start < rows; ) {
    const s = score(order[start]);
    let end = start;
    let p = 0;
    let n = 0;
    while (end < rows && score(order[end]) === s) {
      if (isPositive(order[end])) p++;
      else n++;
      end++;
    }
    // Counted in halves so the sum stays an exact integer until the one division.
    pairs += 2 * p * negativesBelow + p * n;
    negativesBelow += n;
    positives += p;
    start = end;
  }
  const negatives = rows - positives;
  if (positives === 0 || negatives === 0) return null;
  return pairs / (2 * positives * negatives);
}

function calibrationBins(value: (r: number) => number, happened: (r: number) => boolean, rows: number): CalibrationBin[] {
  const n = EVALUATION.calibrationBins;
  // numpy's linspace(0, 1, n + 1) edges are i × (1/n) (3 × 0.1 = 0.30000000000000004); binning uses them exactly.
  const step = 1 / n;
  const inner = Array.from({ length: n - 1 }, (_, i) => (i + 1) * step);
  const count = new Array<number>(n).fill(0);
  const sum = new Array<number>(n).fill(0);
  const events = new Array<number>(n).fill(0);
  for (let r = 0; r < rows; r++) {
    const p = value(r);
    let bin = 0;
    while (bin < inner.length && inner[bin] < p) bin++;
    count[bin]++;
    sum[bin] += p;
    if (happened(r)) events[bin]++;
  }
  return count.map((c, i) => ({
    lower: i / n,
    upper: (i + 1) / n,
    count: c,
    meanPredicted: c === 0 ? null : sum[i] / c,
    observedRate: c === 0 ? null : events[i] / c,
  }));
}

/** Classification metrics of held-out probabilities; see ClassificationEvaluation for what each number means. */
export function evaluateClassification(input: ClassificationInput): ClassificationEvaluation {
  const { rows, k, actual, positiveIndex } = checkClassification(input);
  const { probabilities } = input;
  const classes = [...input.classes];
  const predicted = argmaxRows(probabilities, rows, k);
  const reasons: MetricReasons = {};

  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    matrix[actual[r]][predicted[r]]++;
    if (actual[r] === predicted[r]) correct++;
  }

  const perClass: ClassScores[] = classes.map((label, c) => {
    let predictedAs = 0;
    let support = 0;
    for (let i = 0; i < k; i++) {
      predictedAs += matrix[i][c];
      support += matrix[c][i];
    }
    return { label, ...classScores(matrix[c][c], predictedAs, support), support };
  });
  const present = perClass.filter((s, c) => s.support > 0 || matrix.some((row) => row[c] > 0));
  const mean = (pick: (s: ClassScores) => number): number => present.reduce((sum, s) => sum + pick(s), 0) / present.length;
  const macro = { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1) };
  const headline = positiveIndex >= 0 ? perClass[positiveIndex] : macro;

  let rocAuc: number | null;
  if (positiveIndex >= 0) {
    rocAuc = binaryAuc((r) => probabilities[r * k + positiveIndex], (r) => actual[r] === positiveIndex, rows);
    if (rocAuc === null) {
      const only = classes[actual[0]];
      reasons.roc_auc = `undefined: all ${rows} held-out rows are ${shown(only)}, and ROC AUC needs rows of both classes; stratify the split (split.stratify) or add data`;
    }
  } else {
    const missing: Label[] = [];
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const auc = binaryAuc((r) => probabilities[r * k + c], (r) => actual[r] === c, rows);
      if (auc === null) missing.push(classes[c]);
      else sum += auc;
    }
    rocAuc = missing.length === 0 ? sum / k : null;
    if (rocAuc === null) {
      reasons.roc_auc = `undefined: no held-out row is of class ${missing.map(shown).join(', ')}, and one-vs-rest ROC AUC needs rows of every class; stratify the split (split.stratify) or add data`;
    }
  }

  // scikit-learn 1.2: clip to [ε, 1 − ε], renormalise each row, then the mean of −ln p(true class).
  const eps = EVALUATION.logLossEpsilon;
  const clip = (p: number): number => Math.min(Math.max(p, eps), 1 - eps);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += clip(probabilities[r * k + c]);
    loss -= Math.log(clip(probabilities[r * k + actual[r]]) / sum);
  }

  const calibration: Calibration =
    positiveIndex >= 0
      ? {
          of: 'positive',
          label: classes[positiveIndex],
          bins: calibrationBins((r) => probabilities[r * k + positiveIndex], (r) => actual[r] === positiveIndex, rows),
        }
      : {
          of: 'top-label',
          label: null,
          bins: calibrationBins((r) => probabilities[r * k + predicted[r]], (r) => actual[r] === predicted[r], rows),
        };

  return {
    task: 'classification',
    rows,
    classes,
    positive: positiveIndex >= 0 ? classes[positiveIndex] : null,
    accuracy: correct / rows,
    precision: headline.precision,
    recall: headline.recall,
    f1: headline.f1,
    macro,
    perClass,
    roc_auc: rocAuc,
    log_loss: loss / rows,
    confusion: { classes: [...classes], matrix },
    calibration,
    reasons,
  };
}

/** RMSE, MAE and R² of held-out predictions (scikit-learn's mean_squared_error(squared=False), mean_absolute_error, r2_score). */
export function evaluateRegression(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionEvaluation {
  const rows = actual.length;
  if (rows === 0) {
    throw new EvaluationInputError('cannot evaluate on 0 held-out rows; raise split.test or add data so the held-out split has rows', { rows });
  }
  if (predicted.length !== rows) {
    throw new EvaluationInputError(`${predicted.length} predictions for ${rows} held-out rows; give one prediction per row`, { rows, predictions: predicted.length });
  }
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    for (const [what, v] of [['target', actual[r]], ['prediction', predicted[r]]] as const) {
      if (!Number.isFinite(v)) {
        throw new EvaluationInputError(`held-out row ${r}: the ${what} is ${v}; regression metrics need finite numbers — impute or drop the row`, { row: r, [what]: v });
      }
    }
    sum += actual[r];
  }
  const mean = sum / rows;
  let squared = 0;
  let absolute = 0;
  let spread = 0;
  for (let r = 0; r < rows; r++) {
    const e = actual[r] - predicted[r];
    squared += e * e;
    absolute += Math.abs(e);
    spread += (actual[r] - mean) ** 2;
  }
  const reasons: MetricReasons = {};
  let r2: number | null = 1 - squared / spread;
  if (spread === 0) {
    r2 = null;
    reasons.r2 = `undefined: every one of the ${rows} held-out targets is ${actual[0]}, so there is no variance to explain; add data with varied targets`;
  }
  return { task: 'regression', rows, rmse: Math.sqrt(squared / rows), mae: absolute / rows, r2, reasons };
}

export interface FeatureImportance {
  feature: string;
  importance: number;
}

/** Features by importance, most important first; equal importances keep the features' order. */
export function rankImportances(features: readonly string[], importances: ArrayLike<number>): FeatureImportance[] {
  if (features.length !== importances.length) {
    throw new EvaluationInputError(
      `${importances.length} importances for ${features.length} features; pass the names of the encoded columns the model was trained on`,
      { features: features.length, importances: importances.length },
    );
  }
  return features
    .map((feature, i) => ({ feature, importance: importances[i] }))
    .sort((a, b) => b.importance - a.importance);
}
