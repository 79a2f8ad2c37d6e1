// How sure a live metric is: a 95 % confidence interval for the metric the monitor watches, on the rows that got
// their ground truth. A live ROC AUC of 0.74 on 120 rows and on 120,000 rows are different news; the interval says
// which.
//
// Decisions: closed forms where the metric has one that is standard and cheap — Wilson's score interval for the
// proportions (accuracy; binary precision and recall), Hanley & McNeil's (1982) standard error for a binary ROC
// AUC — and otherwise a percentile bootstrap with a fixed seed (same rows, same interval), over per-row terms where
// the metric is a mean of them (log loss, MAE, RMSE, binary F1 from the four counts) so that a resample costs one
// pass. The bootstrap for R² and the multiclass metrics re-evaluates each resample, so it is capped at BOOTSTRAP.rows
// rows (a seeded subsample, said in `method`).
import { evaluateClassification, evaluateRegression, metricsOf } from '../model/evaluate.js';
import type { Label } from '../model/forest/input.js';
import type { Metric } from '../model/metric-names.js';
import { Rng } from '../util/rng.js';

export const BOOTSTRAP = { resamples: 200, seed: 0, rows: 20_000 } as const;

/** The 0.975 quantile of the standard normal: a two-sided 95 % interval. */
const Z = 1.959963984540054;

export interface MetricInterval {
  readonly low: number;
  readonly high: number;
  /** How it was computed, for the report: "Wilson", "Hanley–McNeil", "bootstrap (200 resamples, seed 0)". */
  readonly method: string;
}

/** The joined rows of one window and version: truths, predictions, and rows × classes probabilities (classification). */
export interface JoinedRows {
  readonly labels: readonly Label[];
  readonly predicted: readonly Label[];
  readonly probabilities: Float64Array;
  readonly classes: readonly Label[] | null;
}

/** The 95 % interval of `metric` on `rows`, or null where the metric is undefined (one class only, no rows). */
export function metricInterval(metric: Metric, rows: JoinedRows): MetricInterval | null {
  const n = rows.labels.length;
  if (n === 0) return null;
  const classes = rows.classes;
  if (classes === null) return regressionInterval(metric, rows);
  const binary = classes.length === 2;
  const positive = classes[classes.length - 1];
  const k = classes.length;
  if (metric === 'accuracy') {
    let right = 0;
    for (let i = 0; i < n; i++) if (String(rows.labels[i]) === String(rows.predicted[i])) right++;
    return wilson(right, n);
  }
  if (binary && (metric === 'precision' || metric === 'recall')) {
    const c = counts(rows, positive);
    return metric === 'precision' ? wilson(c.tp, c.tp + c.fp) : wilson(c.tp, c.tp + c.fn);
  }
  if (binary && metric === 'roc_auc') return hanleyMcNeil(rows, positive);
  if (binary && metric === 'f1') {
    const outcome = new Uint8Array(n);
    for (let i = 0; i < n; i++) outcome[i] = (String(rows.labels[i]) === String(positive) ? 2 : 0) + (String(rows.predicted[i]) === String(positive) ? 1 : 0);
    return bootstrap(n, (pick) => {
      const c = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) c[outcome[pick(i)]]++;
      const tp = c[3];
      return tp === 0 ? 0 : (2 * tp) / (2 * tp + c[1] + c[2]);
    });
  }
  if (metric === 'log_loss') {
    const loss = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const c = classes.findIndex((label) => String(label) === String(rows.labels[i]));
      let sum = 0;
      for (let j = 0; j < k; j++) sum += rows.probabilities[i * k + j];
      const p = Math.min(Math.max(rows.probabilities[i * k + c] / sum, Number.EPSILON), 1 - Number.EPSILON);
      loss[i] = -Math.log(p);
    }
    return meanBootstrap(loss, (mean) => mean);
  }
  return evaluatedBootstrap(metric, rows);
}

function regressionInterval(metric: Metric, rows: JoinedRows): MetricInterval | null {
  const n = rows.labels.length;
  if (metric === 'mae' || metric === 'rmse') {
    const terms = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const e = Number(rows.labels[i]) - Number(rows.predicted[i]);
      terms[i] = metric === 'mae' ? Math.abs(e) : e * e;
    }
    return meanBootstrap(terms, metric === 'mae' ? (m) => m : Math.sqrt);
  }
  return evaluatedBootstrap(metric, rows);
}

/** Wilson's score interval for `hits` of `n`. */
function wilson(hits: number, n: number): MetricInterval | null {
  if (n === 0) return null;
  const p = hits / n;
  const z2 = Z * Z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half), method: 'Wilson' };
}

function counts(rows: JoinedRows, positive: Label): { tp: number; fp: number; fn: number } {
  const c = { tp: 0, fp: 0, fn: 0 };
  const pos = String(positive);
  for (let i = 0; i < rows.labels.length; i++) {
    const actual = String(rows.labels[i]) === pos;
    const predicted = String(rows.predicted[i]) === pos;
    if (actual && predicted) c.tp++;
    else if (predicted) c.fp++;
    else if (actual) c.fn++;
  }
  return c;
}

/** Hanley & McNeil (1982): the AUC's standard error from the AUC and the two class counts. */
function hanleyMcNeil(rows: JoinedRows, positive: Label): MetricInterval | null {
  const n = rows.labels.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) if (String(rows.labels[i]) === String(positive)) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0 || rows.classes === null) return null;
  const auc = evaluateClassification({ labels: rows.labels, classes: rows.classes, probabilities: rows.probabilities }).roc_auc;
  if (auc === null) return null;
  const q1 = auc / (2 - auc);
  const q2 = (2 * auc * auc) / (1 + auc);
  const se = Math.sqrt((auc * (1 - auc) + (nPos - 1) * (q1 - auc * auc) + (nNeg - 1) * (q2 - auc * auc)) / (nPos * nNeg));
  return { low: Math.max(0, auc - Z * se), high: Math.min(1, auc + Z * se), method: 'Hanley–McNeil' };
}

/** The percentile interval of `statistic` over BOOTSTRAP.resamples resamples of n rows; `pick(i)` is the i-th drawn row. */
function bootstrap(n: number, statistic: (pick: (i: number) => number) => number | null, method = `bootstrap (${BOOTSTRAP.resamples} resamples, seed ${BOOTSTRAP.seed})`): MetricInterval | null {
  const rng = new Rng(BOOTSTRAP.seed);
  const drawn = new Int32Array(n);
  const values: number[] = [];
  for (let b = 0; b < BOOTSTRAP.resamples; b++) {
    for (let i = 0; i < n; i++) drawn[i] = Math.floor(rng.float() * n);
    const v = statistic((i) => drawn[i]);
    if (v !== null && Number.isFinite(v)) values.push(v);
  }
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  return { low: percentile(values, 0.025), high: percentile(values, 0.975), method };
}

function meanBootstrap(terms: Float64Array, finish: (mean: number) => number): MetricInterval | null {
  const n = terms.length;
  return bootstrap(n, (pick) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += terms[pick(i)];
    return finish(sum / n);
  });
}

/** Re-evaluates each resample: R² and the multiclass metrics. At most BOOTSTRAP.rows rows, a seeded subsample past it. */
function evaluatedBootstrap(metric: Metric, rows: JoinedRows): MetricInterval | null {
  const all = rows.labels.length;
  const n = Math.min(all, BOOTSTRAP.rows);
  const base = new Int32Array(n);
  const sampler = new Rng(BOOTSTRAP.seed, 1);
  for (let i = 0; i < n; i++) base[i] = n === all ? i : Math.floor(sampler.float() * all);
  const k = rows.classes?.length ?? 0;
  const method = `bootstrap (${BOOTSTRAP.resamples} resamples, seed ${BOOTSTRAP.seed}${n < all ? `, on ${n} of ${all} rows` : ''})`;
  return bootstrap(
    n,
    (pick) => {
      const labels: Label[] = [];
      const predicted: number[] = [];
      const probabilities = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        const r = base[pick(i)];
        labels.push(rows.labels[r]);
        if (rows.classes === null) predicted.push(Number(rows.predicted[r]));
        for (let j = 0; j < k; j++) probabilities[i * k + j] = rows.probabilities[r * k + j];
      }
      const evaluation = rows.classes === null ? evaluateRegression(labels.map(Number), predicted) : evaluateClassification({ labels, classes: rows.classes, probabilities });
      return metricsOf(evaluation)[metric] ?? null;
    },
    method,
  );
}

/** numpy's default (linear) percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}
