// Window profiles added up: a month of a model in one environment from the thirty daily profiles the monitor wrote
// to git, without the logs (which the host has long rotated away). whylogs' idea — profiles that merge — on
// Bramble's own profile format, so that the merged profile goes through the same `detectDrift` as a window's.
//
// What merges exactly and what does not:
// - counts, missing, true counts, mean, standard deviation (pooled: Chan et al.'s parallel variance), min, max and
//   the performance sums (confusion matrix, log loss, squared and absolute errors) are exact;
// - a number column's 101-quantile sketch is the mixture of the windows' sketches: each sketch read as the
//   piecewise-linear CDF drift already reads it as, weighted by its count, and inverted at every percentile. Each
//   sketch is within ~0.01 of its window's CDF, so the mixture is within ~0.01 of the month's;
// - category counts add up over the values each window kept (its PROFILE_FREQUENCIES most frequent); a value rarer
//   than those in a window is in that window's `other`, so a merged count is a lower bound where `other` > 0;
// - distinct counts do not merge: a number column's becomes null ("unknown"), a category's the largest window's
//   (a lower bound); ROC AUC needs the scores' order and is not summarised (null, with the reason).
import { PROFILE_FORMAT, PROFILE_FREQUENCIES, PROFILE_QUANTILES, PROFILE_SKETCH, PROFILE_TOP, PROFILE_VERSION, type ColumnProfile, type TableProfile } from '../data/profile.js';
import type { MetricValues } from '../model/evaluate.js';
import type { PerformanceSums } from './accumulate.js';

type NumberLike = Extract<ColumnProfile, { kind: 'number' | 'date' }>;
type Category = Extract<ColumnProfile, { kind: 'category' }>;

/** The profile of all the windows' rows together, from their profiles. The columns are the first profile's, in its order. */
export function mergeProfiles(profiles: readonly TableProfile[]): TableProfile {
  if (profiles.length === 0) throw new Error('mergeProfiles: no profiles');
  if (profiles.length === 1) return profiles[0];
  const columns = profiles[0].columns.map((first) => {
    const all = profiles.map((p) => p.columns.find((c) => c.name === first.name));
    const same: ColumnProfile[] = [];
    for (const c of all) if (c !== undefined && c.kind === first.kind) same.push(c);
    return mergeColumn(same);
  });
  let rows = 0;
  for (const p of profiles) rows += p.rows;
  return { format: PROFILE_FORMAT, version: PROFILE_VERSION, rows, quantiles: [...PROFILE_QUANTILES], columns };
}

function mergeColumn(columns: readonly ColumnProfile[]): ColumnProfile {
  const first = columns[0];
  let count = 0;
  let missing = 0;
  for (const c of columns) {
    count += c.count;
    missing += c.missing;
  }
  switch (first.kind) {
    case 'number':
    case 'date':
      return { ...mergeNumbers(columns as NumberLike[]), name: first.name, kind: first.kind, count, missing } as NumberLike;
    case 'boolean': {
      let trues = 0;
      for (const c of columns) trues += c.kind === 'boolean' ? c.trues : 0;
      return { name: first.name, kind: 'boolean', count, missing, trues };
    }
    case 'category':
      return mergeCategories(columns as Category[], count, missing);
    case 'string': {
      let distinct = 0;
      for (const c of columns) distinct = Math.max(distinct, c.kind === 'string' ? c.distinct : 0);
      return { name: first.name, kind: 'string', count, missing, distinct };
    }
  }
}

function mergeNumbers(columns: readonly NumberLike[]): Omit<NumberLike, 'name' | 'kind' | 'count' | 'missing'> {
  const present = columns.filter((c) => c.count > 0 && c.mean !== null);
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const c of present) {
    n += c.count;
    sum += c.count * (c.mean as number);
    min = Math.min(min, c.min as number);
    max = Math.max(max, c.max as number);
  }
  if (n === 0) return { distinct: null, mean: null, std: null, min: null, max: null, quantiles: null, sketch: null };
  const mean = sum / n;
  let m2 = 0;
  for (const c of present) {
    const s = c.std ?? 0;
    const d = (c.mean as number) - mean;
    m2 += (c.count - 1) * s * s + c.count * d * d;
  }
  const sketches = present.filter((c) => c.sketch !== undefined && c.sketch !== null);
  const sketch = sketches.length === present.length ? mixtureSketch(sketches.map((c) => ({ knots: c.sketch as readonly number[], weight: c.count / n }))) : null;
  const quantiles = sketch === null ? null : PROFILE_QUANTILES.map((level) => sketch[PROFILE_SKETCH.indexOf(level)]);
  return { distinct: null, mean, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : null, min, max, quantiles, sketch };
}

/**
 * The CDF a 101-quantile sketch stands for at x (right-continuous), or with `left` its limit from the left. The
 * sketch is a piecewise-linear quantile function: between two different knots the CDF rises linearly, and knots that
 * repeat (a value that fills several percentiles, as 0 does in a 0/1 column) are a jump — an atom.
 */
export function sketchCdf(knots: readonly number[], x: number, left = false): number {
  const last = knots.length - 1;
  if (left ? x <= knots[0] : x < knots[0]) return 0;
  if (left ? x > knots[last] : x >= knots[last]) return 1;
  // The largest j with knots[j] ≤ x (or < x from the left), by binary search.
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (left ? knots[mid] < x : knots[mid] <= x) lo = mid;
    else hi = mid;
  }
  const span = knots[lo + 1] - knots[lo];
  return (lo + (span > 0 ? Math.min(1, (x - knots[lo]) / span) : 0)) / last;
}

/**
 * The quantiles at PROFILE_SKETCH's levels of the mixture Σ weight·CDF(sketch). On the union of the knots, the
 * mixture is linear between two neighbouring knots (from its value at the first to its left limit at the second)
 * and jumps at a knot where some part has an atom; each level is found on the rise or at the jump it falls in.
 */
function mixtureSketch(parts: readonly { knots: readonly number[]; weight: number }[]): number[] {
  const xs: number[] = [];
  for (const p of parts) for (const x of p.knots) xs.push(x);
  xs.sort((a, b) => a - b);
  const grid: number[] = [];
  for (const x of xs) if (grid.length === 0 || grid[grid.length - 1] !== x) grid.push(x);
  const at = (x: number, left: boolean): number => {
    let f = 0;
    for (const p of parts) f += p.weight * sketchCdf(p.knots, x, left);
    return Math.min(1, f);
  };
  const cdf = grid.map((x) => at(x, false));
  const before = grid.map((x) => at(x, true));
  return PROFILE_SKETCH.map((level) => {
    if (level <= 0) return grid[0];
    if (level >= 1) return grid[grid.length - 1];
    let k = 0;
    while (k < grid.length - 1 && cdf[k] < level) k++;
    if (k === 0 || before[k] < level || before[k] <= cdf[k - 1]) return grid[k];
    return grid[k - 1] + ((level - cdf[k - 1]) / (before[k] - cdf[k - 1])) * (grid[k] - grid[k - 1]);
  });
}

function mergeCategories(columns: readonly Category[], count: number, missing: number): Category {
  const counts = new Map<string, number>();
  let other = 0;
  let distinct = 0;
  for (const c of columns) {
    distinct = Math.max(distinct, c.distinct);
    other += c.other ?? 0;
    for (const [value, n] of c.frequencies ?? c.top) counts.set(value, (counts.get(value) ?? 0) + n);
  }
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const frequencies = ranked.slice(0, PROFILE_FREQUENCIES);
  for (const [, n] of ranked.slice(PROFILE_FREQUENCIES)) other += n;
  return { name: columns[0].name, kind: 'category', count, missing, distinct: Math.max(distinct, counts.size), top: frequencies.slice(0, PROFILE_TOP), frequencies, other };
}

/** The windows' performance sums added up; null when none had a joined row or the tasks differ. */
export function mergePerformance(sums: readonly PerformanceSums[]): PerformanceSums | null {
  const used = sums.filter((s) => s.rows > 0);
  if (used.length === 0) return null;
  const first = used[0];
  if (first.task === 'regression') {
    const total = { task: 'regression' as const, rows: 0, absError: 0, squaredError: 0, sum: 0, sumOfSquares: 0 };
    for (const s of used) {
      if (s.task !== 'regression') return null;
      total.rows += s.rows;
      total.absError += s.absError;
      total.squaredError += s.squaredError;
      total.sum += s.sum;
      total.sumOfSquares += s.sumOfSquares;
    }
    return total;
  }
  const k = first.classes.length;
  const confusion = first.classes.map(() => new Array<number>(k).fill(0));
  let rows = 0;
  let logLoss = 0;
  for (const s of used) {
    if (s.task !== 'classification' || s.classes.map(String).join('\u0000') !== first.classes.map(String).join('\u0000')) return null;
    rows += s.rows;
    logLoss += s.logLoss;
    for (let a = 0; a < k; a++) for (let p = 0; p < k; p++) confusion[a][p] += s.confusion[a][p];
  }
  return { task: 'classification', rows, classes: first.classes, confusion, logLoss };
}

/** The metrics the sums determine, as src/model/evaluate.ts defines them (binary: about the last class; else macro). */
export function metricsOfSums(sums: PerformanceSums): MetricValues {
  const n = sums.rows;
  if (sums.task === 'regression') {
    const total = sums.sumOfSquares - (sums.sum * sums.sum) / n;
    return { rmse: Math.sqrt(sums.squaredError / n), mae: sums.absError / n, r2: total > 0 ? 1 - sums.squaredError / total : null };
  }
  const m = sums.confusion;
  const k = m.length;
  let right = 0;
  for (let c = 0; c < k; c++) right += m[c][c];
  const scores = (c: number): { precision: number; recall: number; f1: number } => {
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < k; j++) {
      predicted += m[j][c];
      actual += m[c][j];
    }
    const precision = predicted === 0 ? 0 : m[c][c] / predicted;
    const recall = actual === 0 ? 0 : m[c][c] / actual;
    return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
  };
  let precision: number;
  let recall: number;
  let f1: number;
  if (k === 2) ({ precision, recall, f1 } = scores(1));
  else {
    // Macro over the classes present in the labels or the predictions, as scikit-learn averages.
    const present: number[] = [];
    for (let c = 0; c < k; c++) {
      let seen = 0;
      for (let j = 0; j < k; j++) seen += m[c][j] + m[j][c];
      if (seen > 0) present.push(c);
    }
    precision = recall = f1 = 0;
    for (const c of present) {
      const s = scores(c);
      precision += s.precision / present.length;
      recall += s.recall / present.length;
      f1 += s.f1 / present.length;
    }
  }
  return { accuracy: right / n, precision, recall, f1, roc_auc: null, log_loss: sums.logLoss / n };
}
