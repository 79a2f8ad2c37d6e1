import { errorClass } from '../errors.js';
import { ks2SampPValue } from './ks.js';
import { PROFILE_SKETCH, type ColumnProfile, type TableProfile } from './profile.js';
import { alignTable } from './validate.js';

/**
 * Evidently's defaults (its DataDriftPreset), which the issue names as the starting point. Up to
 * `smallSample` reference rows, statistical tests whose p-value below 0.05 means drift; above it, distances
 * whose value at or above 0.1 means drift — because on large samples every test rejects for differences too
 * small to matter, while a distance measures how large the change is.
 */
export const DRIFT_DEFAULTS = {
  smallSample: 1000,
  share: 0.5,
  thresholds: { ks: 0.05, chi2: 0.05, wasserstein: 0.1, jensen_shannon: 0.1 },
} as const;

export const DRIFT_FORMAT = 'bramble-drift';
export const DRIFT_VERSION = 1;

export type DriftTest = 'ks' | 'wasserstein' | 'chi2' | 'jensen_shannon';

export interface DriftOptions {
  /** The share of compared columns that must drift for the data set to count as drifted: ml.yaml `monitor.drift.share`. */
  readonly share?: number;
  /** Compare only these columns (the model's inputs); all columns of the reference when not given. */
  readonly columns?: readonly string[];
  /** Reference rows up to which the small-sample tests (KS, chi-square) are used. */
  readonly smallSample?: number;
  readonly thresholds?: Partial<Record<DriftTest, number>>;
}

export interface ColumnDrift {
  readonly column: string;
  readonly kind: 'numeric' | 'categorical';
  readonly test: DriftTest;
  /**
   * The test's own statistic: KS's D, the chi-square sum, the Wasserstein distance divided by the reference's
   * standard deviation, or the Jensen–Shannon distance (natural log). Null only for a chi-square with a value
   * the reference never had (an infinite statistic).
   */
  readonly statistic: number | null;
  /** For KS and chi-square; null for the distances. */
  readonly pValue: number | null;
  /** What is compared with the threshold: the p-value for tests (drift below it), the statistic for distances (drift at or above it). */
  readonly score: number;
  readonly threshold: number;
  readonly drifted: boolean;
  /** Present values compared, in the reference and in the current data. */
  readonly referenceCount: number;
  readonly currentCount: number;
}

export interface DriftResult {
  readonly format: typeof DRIFT_FORMAT;
  readonly version: typeof DRIFT_VERSION;
  readonly share: number;
  /** Drifted columns over compared columns. */
  readonly driftedShare: number;
  readonly datasetDrift: boolean;
  readonly columns: readonly ColumnDrift[];
  /** Columns not compared, with the reason (free text and id columns, columns with no values). */
  readonly skipped: readonly { readonly column: string; readonly reason: string }[];
}

/** The profiles cannot be compared: a column gone from the current data, or a reference made without distributions. */
export class DriftInputError extends errorClass('E_DRIFT_INPUT') {}

/**
 * Compares each column of the current data's profile with the reference (the champion's training data), and
 * the data set as a whole by the share of columns that drifted. Both profiles must come from
 * `profileTable(table, { distributions: true })`.
 *
 * KS and Wasserstein are computed from the 101-quantile sketches, not the raw values, which the reference
 * profile does not keep: each sketch is read as a piecewise-linear quantile function (equivalently CDF). The
 * sketch places every percentile exactly (to numpy's interpolation between neighbouring order statistics), so
 * the CDFs are off by at most about 0.01 between knots; KS's D is within ~0.01 of the raw-sample D, and the
 * Wasserstein integral is off by at most the spread within one percentile, a small fraction of the std.
 */
export function detectDrift(reference: TableProfile, current: TableProfile, options: DriftOptions = {}): DriftResult {
  const share = options.share ?? DRIFT_DEFAULTS.share;
  const smallSample = options.smallSample ?? DRIFT_DEFAULTS.smallSample;
  const thresholds = { ...DRIFT_DEFAULTS.thresholds, ...options.thresholds };
  const small = reference.rows <= smallSample;
  const names = options.columns ?? reference.columns.map((c) => c.name);
  const results: ColumnDrift[] = [];
  const skipped: { column: string; reason: string }[] = [];
  for (const name of names) {
    const ref = reference.columns.find((c) => c.name === name);
    const cur = current.columns.find((c) => c.name === name);
    if (ref === undefined) throw new DriftInputError(`the reference profile has no column ${JSON.stringify(name)}; compare only columns the champion was trained on`, { column: name });
    if (cur === undefined) {
      throw new DriftInputError(`the current data has no column ${JSON.stringify(name)}, which the champion was trained on; restore the column in the data`, { column: name });
    }
    if (ref.kind === 'string' || cur.kind === 'string') {
      skipped.push({ column: name, reason: 'free text or ids: no distribution to compare' });
      continue;
    }
    if (ref.count === 0 || cur.count === 0) {
      skipped.push({ column: name, reason: `no values in the ${ref.count === 0 ? 'reference' : 'current data'}` });
      continue;
    }
    if ((ref.kind === 'number' && cur.kind === 'number') || (ref.kind === 'date' && cur.kind === 'date')) {
      results.push(numericDrift(name, ref, cur, small, thresholds));
    } else if (!isInstantsOrNumbers(ref) && !isInstantsOrNumbers(cur)) {
      results.push(categoricalDrift(name, frequencies(ref), frequencies(cur), ref.count, cur.count, small, thresholds));
    } else {
      throw new DriftInputError(`${name} was ${describeKind(ref)} in the reference but is ${describeKind(cur)} now; fix the data, or declare its type in ml.yaml's schema`, {
        column: name,
      });
    }
  }
  const drifted = results.filter((r) => r.drifted).length;
  const driftedShare = results.length === 0 ? 0 : drifted / results.length;
  return { format: DRIFT_FORMAT, version: DRIFT_VERSION, share, driftedShare, datasetDrift: results.length > 0 && driftedShare >= share, columns: results, skipped };
}

function describeKind(column: ColumnProfile): string {
  return column.kind === 'number' ? 'numbers' : column.kind === 'date' ? 'dates' : column.kind === 'boolean' ? 'true/false' : 'labels';
}

/** Dates drift as the instants they are, with the numeric tests; a column that changed between the two is an error. */
function isInstantsOrNumbers(column: ColumnProfile): boolean {
  return column.kind === 'number' || column.kind === 'date';
}

type Thresholds = Record<DriftTest, number>;
type NumberProfile = Extract<ColumnProfile, { kind: 'number' | 'date' }>;

function numericDrift(name: string, ref: NumberProfile, cur: NumberProfile, small: boolean, thresholds: Thresholds): ColumnDrift {
  const a = sketchOf(ref, 'reference');
  const b = sketchOf(cur, 'current');
  const counts = { referenceCount: ref.count, currentCount: cur.count };
  if (small) {
    const d = ksStatistic(a, b);
    const p = ksPValue(d, ref.count, cur.count);
    return { column: name, kind: 'numeric', test: 'ks', statistic: d, pValue: p, score: p, threshold: thresholds.ks, drifted: p < thresholds.ks, ...counts };
  }
  // numpy's std (population, ddof 0) as Evidently divides by, floored as Evidently does so a constant column cannot divide by 0.
  const std = ref.std === null ? 0 : ref.std * Math.sqrt((ref.count - 1) / ref.count);
  const w = wassersteinDistance(a, b) / Math.max(std, 0.001);
  return { column: name, kind: 'numeric', test: 'wasserstein', statistic: w, pValue: null, score: w, threshold: thresholds.wasserstein, drifted: w >= thresholds.wasserstein, ...counts };
}

function sketchOf(profile: NumberProfile, which: string): readonly number[] {
  const sketch = profile.sketch;
  if (sketch === undefined || sketch === null || sketch.length !== PROFILE_SKETCH.length) {
    throw new DriftInputError(`the ${which} profile of ${profile.name} has no distribution sketch; profile the data with { distributions: true } (retrain the champion if its profile predates it)`, {
      column: profile.name,
    });
  }
  return sketch;
}

/** Counts by value; rare categories beyond the profile's cap are one bucket, so both sides are cut the same way. */
function frequencies(profile: ColumnProfile): Map<string, number> {
  if (profile.kind === 'boolean') return new Map([['true', profile.trues], ['false', profile.count - profile.trues]]);
  if (profile.kind !== 'category' || profile.frequencies === undefined) {
    throw new DriftInputError(`the profile of ${profile.name} has no category frequencies; profile the data with { distributions: true } (retrain the champion if its profile predates it)`, {
      column: profile.name,
    });
  }
  const counts = new Map(profile.frequencies.map(([value, count]) => [value, count]));
  if ((profile.other ?? 0) > 0) counts.set(OTHER, (counts.get(OTHER) ?? 0) + (profile.other ?? 0));
  return counts;
}

/** The bucket of categories rarer than the profile keeps; not a string a CSV field can produce unnoticed. */
const OTHER = '\u0000other';

function categoricalDrift(
  name: string,
  ref: Map<string, number>,
  cur: Map<string, number>,
  referenceCount: number,
  currentCount: number,
  small: boolean,
  thresholds: Thresholds,
): ColumnDrift {
  const keys = [...new Set([...ref.keys(), ...cur.keys()])];
  const r = keys.map((k) => ref.get(k) ?? 0);
  const c = keys.map((k) => cur.get(k) ?? 0);
  const counts = { referenceCount, currentCount };
  if (small) {
    const { statistic, pValue } = chiSquareTest(c, r);
    return {
      column: name,
      kind: 'categorical',
      test: 'chi2',
      statistic: Number.isFinite(statistic) ? statistic : null,
      pValue,
      score: pValue,
      threshold: thresholds.chi2,
      drifted: pValue < thresholds.chi2,
      ...counts,
    };
  }
  const js = jensenShannonDistance(r, c);
  return { column: name, kind: 'categorical', test: 'jensen_shannon', statistic: js, pValue: null, score: js, threshold: thresholds.jensen_shannon, drifted: js >= thresholds.jensen_shannon, ...counts };
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics on sketches

/**
 * The sketch's CDF at x: 0 below the first quantile, 1 from the last, linear between neighbouring quantiles
 * and jumping over ties (a value that fills several percentiles). `left` gives the limit from below, F(x−).
 */
export function sketchCdf(sketch: readonly number[], x: number, left = false): number {
  const last = sketch.length - 1;
  if (left ? x <= sketch[0] : x < sketch[0]) return 0;
  if (left ? x > sketch[last] : x >= sketch[last]) return 1;
  // The largest i with q[i] ≤ x (from the right) or q[i] < x (from the left), by bisection.
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (left ? sketch[mid] < x : sketch[mid] <= x) lo = mid;
    else hi = mid;
  }
  const a = sketch[lo];
  const b = sketch[hi];
  const t = b > a ? (x - a) / (b - a) : 1;
  return (lo + Math.min(1, Math.max(0, t))) / last;
}

/**
 * KS's D = sup |F − G| between two sketches. Both CDFs are linear between the union of their knots, so the
 * supremum is at a knot, from one side or the other.
 */
export function ksStatistic(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (const x of [...a, ...b]) {
    d = Math.max(d, Math.abs(sketchCdf(a, x) - sketchCdf(b, x)), Math.abs(sketchCdf(a, x, true) - sketchCdf(b, x, true)));
  }
  return d;
}

/**
 * The 1-Wasserstein distance ∫₀¹ |Qa(u) − Qb(u)| du between the sketches' quantile functions, read as linear
 * between the percentiles: on each percentile the difference is linear, so its absolute value integrates exactly.
 */
export function wassersteinDistance(a: readonly number[], b: readonly number[]): number {
  const h = 1 / (a.length - 1);
  let total = 0;
  for (let i = 0; i + 1 < a.length; i++) {
    const d0 = a[i] - b[i];
    const d1 = a[i + 1] - b[i + 1];
    if ((d0 >= 0 && d1 >= 0) || (d0 <= 0 && d1 <= 0)) total += (h * (Math.abs(d0) + Math.abs(d1))) / 2;
    // The sign changes inside: two triangles.
    else total += (h * (d0 * d0 + d1 * d1)) / (2 * (Math.abs(d0) + Math.abs(d1)));
  }
  return total;
}

/**
 * The two-sample KS p-value for the statistic D between n and m values, as scipy's `ks_2samp` (two-sided, method
 * 'auto', which Evidently calls) gives it: up to 10,000 values on each side the exact probability, counting lattice
 * paths with D rounded to the lattice of steps 1/lcm(n, m); beyond that the exact one-sample distribution
 * `kstwo.sf(D, round(n·m/(n+m)))`. The port is src/data/ks.ts; it equals scipy 1.10.1 to 1e-9, absolute and relative.
 */
export function ksPValue(d: number, n: number, m: number): number {
  return ks2SampPValue(d, n, m);
}

/**
 * P(K > λ) for the Kolmogorov distribution. The alternating series 2Σ(−1)^(k−1)e^(−2k²λ²) converges fast only
 * for large λ; below 1.18 the Jacobi-theta form of the CDF, √(2π)/λ · Σ e^(−(2k−1)²π²/(8λ²)), converges in a
 * few terms instead (and would lose the small tail to cancellation above it).
 */
export function kolmogorovSf(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    const w = (Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k <= 20; k++) {
      const term = Math.exp(-(2 * k - 1) * (2 * k - 1) * w);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum));
  }
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-17 * sum) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/**
 * Pearson's chi-square test of the observed counts against the reference's proportions scaled to the observed
 * total (Evidently's chi_stat_test). A value the reference never had makes the statistic infinite and p 0.
 */
export function chiSquareTest(observed: readonly number[], reference: readonly number[]): { statistic: number; pValue: number } {
  const total = observed.reduce((s, v) => s + v, 0);
  const refTotal = reference.reduce((s, v) => s + v, 0);
  let statistic = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = (reference[i] * total) / refTotal;
    const diff = observed[i] - expected;
    if (expected === 0) statistic += diff === 0 ? 0 : Infinity;
    else statistic += (diff * diff) / expected;
  }
  const df = observed.length - 1;
  if (df < 1) return { statistic: 0, pValue: 1 };
  return { statistic, pValue: Number.isFinite(statistic) ? chiSquareSf(statistic, df) : 0 };
}

/** P(X > x) for chi-square with `df` degrees of freedom: the regularized upper incomplete gamma Q(df/2, x/2). */
export function chiSquareSf(x: number, df: number): number {
  if (!(x > 0)) return 1;
  return gammaQ(df / 2, x / 2);
}

/**
 * Q(a, x) = Γ(a, x)/Γ(a). Below x = a + 1 the power series for P converges fast and Q = 1 − P loses nothing
 * that matters (Q is not small there); above it, the continued fraction gives Q itself, so tiny tail
 * probabilities keep their relative accuracy (Numerical Recipes §6.2, with modified Lentz).
 */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(logPrefix)));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.max(0, Math.exp(logPrefix) * h));
}

/** ln Γ(z) for z > 0 by Lanczos (g = 7, 9 terms): about 15 significant digits. */
export function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - logGamma(1 - z);
  const g = 7;
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const x = z - 1;
  let sum = coefficients[0];
  for (let i = 1; i < coefficients.length; i++) sum += coefficients[i] / (x + i);
  const t = x + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The Jensen–Shannon distance (the square root of the divergence, natural log) between two sets of counts, as scipy's. */
export function jensenShannonDistance(a: readonly number[], b: readonly number[]): number {
  const sa = a.reduce((s, v) => s + v, 0);
  const sb = b.reduce((s, v) => s + v, 0);
  let divergence = 0;
  for (let i = 0; i < a.length; i++) {
    const p = a[i] / sa;
    const q = b[i] / sb;
    const m = (p + q) / 2;
    if (p > 0) divergence += p * Math.log(p / m);
    if (q > 0) divergence += q * Math.log(q / m);
  }
  return Math.sqrt(Math.max(0, divergence / 2));
}

// ---------------------------------------------------------------------------------------------------------------
// Terminal form

const TEST_NAMES: Record<DriftTest, string> = {
  ks: 'Kolmogorov–Smirnov',
  wasserstein: 'Wasserstein (normed)',
  chi2: 'chi-square',
  jensen_shannon: 'Jensen–Shannon',
};

/** The drift table as plain text: one row per column, then the verdict for the data set. */
export function formatDrift(result: DriftResult): string {
  const header = ['column', 'kind', 'test', 'statistic', 'p-value', 'threshold', 'verdict'];
  const rows = result.columns.map((c) => [
    c.column,
    c.kind,
    TEST_NAMES[c.test],
    c.statistic === null ? '∞' : formatNumber(c.statistic),
    c.pValue === null ? '' : formatNumber(c.pValue),
    `${c.pValue === null ? '≥' : '<'} ${c.threshold}`,
    c.drifted ? 'DRIFT' : 'ok',
  ]);
  const drifted = result.columns.filter((c) => c.drifted).length;
  const percent = (x: number): string => `${Math.round(x * 1000) / 10} %`;
  const lines = [
    `Drift: ${drifted} of ${result.columns.length} columns drifted (${percent(result.driftedShare)}); the data set drifts at ${percent(result.share)} or more — ${result.datasetDrift ? 'DRIFT' : 'no drift'}`,
    '',
    ...alignTable(header, rows, [3, 4]),
  ];
  if (result.skipped.length > 0) lines.push('', 'Not compared:', ...result.skipped.map((s) => `  ${s.column}: ${s.reason}`));
  return `${lines.join('\n')}\n`;
}

function formatNumber(x: number): string {
  if (x === 0) return '0';
  return Math.abs(x) >= 1e-4 && Math.abs(x) < 1e6 ? x.toFixed(4) : x.toExponential(2);
}
