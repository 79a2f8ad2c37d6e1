import type { CodedColumn, Column, Table } from './table.js';

/**
 * The quantile levels every number column is profiled at. Values between order statistics are interpolated
 * linearly (numpy's default, which pandas' describe uses): with the n present values sorted as x[0..n−1], the
 * level p sits at h = (n−1)·p and gives x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]), computed as numpy does.
 */
export const PROFILE_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

/** How many of the most frequent values a category profile keeps. */
export const PROFILE_TOP = 10;

/**
 * The levels of each number column's `sketch`: every percentile, 0 to 100 %. Drift tests need the reference
 * distribution itself, not a few summary numbers, and 101 quantiles approximate any CDF to within 0.01 in
 * probability for under a kilobyte per column. `i / 100` is the same double as the literal, so the levels of
 * PROFILE_QUANTILES are found among these exactly.
 */
export const PROFILE_SKETCH = Array.from({ length: 101 }, (_, i) => i / 100);

/**
 * How many categories a profile keeps the counts of; rows in the rarer ones are summed in `other`. Enough for a
 * chi-square or Jensen–Shannon comparison of any real category column, while a column that is really an id
 * cannot copy the data into the artifact.
 */
export const PROFILE_FREQUENCIES = 200;

/**
 * Distinct values of a number column are counted exactly up to this many; past it the count is null ("many").
 * Whether a number column is really a handful of codes is what drift needs; an exact count of a million
 * distinct doubles would cost a hash set far larger than the caches, for no use.
 */
export const PROFILE_DISTINCT_LIMIT = 100_000;

export const PROFILE_FORMAT = 'bramble-profile';
export const PROFILE_VERSION = 1;

/**
 * A summary of a table, stored in the model artifact as the reference for drift. Plain JSON (no NaN: what
 * cannot be computed is null), and the same table always gives the same profile.
 */
export interface TableProfile {
  readonly format: typeof PROFILE_FORMAT;
  readonly version: typeof PROFILE_VERSION;
  readonly rows: number;
  /** The levels of each number column's `quantiles`, in order. */
  readonly quantiles: readonly number[];
  readonly columns: readonly ColumnProfile[];
}

export type ColumnProfile = NumberProfile | DateProfile | BooleanProfile | CategoryProfile | StringProfile;

interface Counts {
  readonly name: string;
  /** Present (not missing) values. */
  readonly count: number;
  readonly missing: number;
}

export interface NumberProfile extends Counts {
  readonly kind: 'number';
  /** Distinct present values (−0 is counted, and written, as 0); null when there are more than PROFILE_DISTINCT_LIMIT. */
  readonly distinct: number | null;
  readonly mean: number | null;
  /** The sample standard deviation (n − 1), as pandas reports it; null below two values. */
  readonly std: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** At the levels in `TableProfile.quantiles`; null when the column has no values. */
  readonly quantiles: readonly number[] | null;
  /**
   * Only with `distributions`: the distribution for drift, as quantiles at the levels of PROFILE_SKETCH (0, 1,
   * …, 100 %); null when the column has no values.
   */
  readonly sketch?: readonly number[] | null;
}

/**
 * A date column, profiled as instants: every figure (mean, std, min, max, quantiles, sketch) is in milliseconds
 * since 1970 UTC, so that drift runs the same numeric tests on it as on numbers (the Wasserstein distance is
 * divided by the reference's std, so the unit does not matter).
 */
export interface DateProfile extends Omit<NumberProfile, 'kind'> {
  readonly kind: 'date';
}

export interface BooleanProfile extends Counts {
  readonly kind: 'boolean';
  readonly trues: number;
}

export interface CategoryProfile extends Counts {
  readonly kind: 'category';
  readonly distinct: number;
  /** The most frequent values with their counts, most frequent first; ties in value order. */
  readonly top: readonly (readonly [string, number])[];
  /** Only with `distributions`: like `top`, but the PROFILE_FREQUENCIES most frequent — the distribution for drift. */
  readonly frequencies?: readonly (readonly [string, number])[];
  /** Only with `distributions`: rows whose value is rarer than all of `frequencies` (0 unless there are more distinct values than it keeps). */
  readonly other?: number;
}

/** Free text and ids: no values are kept, because they would only copy the data (and its ids) into the artifact. */
export interface StringProfile extends Counts {
  readonly kind: 'string';
  readonly distinct: number;
}

export interface ProfileOptions {
  /**
   * Also keep each column's distribution (`sketch`, `frequencies`, `other`): what a reference profile for drift
   * needs. Off by default, because a summary shown to a person has no use for 101 quantiles per column; the
   * summary fields are the same either way, and come from the same single selection.
   */
  readonly distributions?: boolean;
}

/**
 * Profiles every column with scans over its typed array. Quantiles come from selection on one scratch copy
 * (expected linear time) rather than a sort, which was most of the time in arquero's profile of the same data.
 */
export function profileTable(table: Table, options: ProfileOptions = {}): TableProfile {
  const scratch = new NumberScratch(table.rows);
  const distributions = options.distributions === true;
  return {
    format: PROFILE_FORMAT,
    version: PROFILE_VERSION,
    rows: table.rows,
    quantiles: [...PROFILE_QUANTILES],
    columns: table.columns.map((column) => profileColumn(column, scratch, distributions)),
  };
}

function profileColumn(column: Column, scratch: NumberScratch, distributions: boolean): ColumnProfile {
  switch (column.kind) {
    case 'number':
      return profileNumbers(column.name, column.values, scratch, distributions);
    case 'date':
      return { ...profileNumbers(column.name, column.values, scratch, distributions), kind: 'date' };
    case 'boolean':
      return profileBooleans(column.name, column.values);
    case 'category':
    case 'string':
      return profileCodes(column, distributions);
  }
}

/** Buffers reused from column to column, so that profiling 20 columns allocates them once. */
class NumberScratch {
  readonly values: Float64Array;
  private table: Float64Array = new Float64Array(0);
  private readonly bits = new Float64Array(1);
  private readonly words = new Uint32Array(this.bits.buffer);

  constructor(rows: number) {
    this.values = new Float64Array(rows);
  }

  /**
   * Distinct values among values[0..n), or null past `limit`: an open-addressing set over the doubles' bits (NaN
   * marks a free slot), at most half full.
   */
  distinct(n: number, limit: number): number | null {
    let size = 16;
    while (size < Math.min(n, limit + 1) * 2) size *= 2;
    if (this.table.length < size) this.table = new Float64Array(size);
    const table = this.table.subarray(0, size);
    table.fill(NaN);
    const shift = 32 - Math.log2(size);
    const values = this.values;
    const bits = this.bits;
    const words = this.words;
    const mask = size - 1;
    let distinct = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      bits[0] = v;
      let slot = Math.imul(words[0] ^ Math.imul(words[1], 0x9e3779b1), 0x85ebca6b) >>> shift;
      for (;;) {
        const k = table[slot];
        if (k !== k) {
          if (distinct === limit) return null;
          table[slot] = v;
          distinct++;
          break;
        }
        if (k === v) break;
        slot = (slot + 1) & mask;
      }
    }
    return distinct;
  }
}

function profileNumbers(name: string, values: Float64Array, scratch: NumberScratch, distributions: boolean): NumberProfile {
  const present = scratch.values;
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    // + 0 makes −0 into 0: they are one value, and which of them an order statistic picked would be arbitrary.
    const v = values[i] + 0;
    if (v !== v) continue;
    present[n++] = v;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const missing = values.length - n;
  if (n === 0) {
    const empty: NumberProfile = { name, kind: 'number', count: 0, missing, distinct: 0, mean: null, std: null, min: null, max: null, quantiles: null };
    return distributions ? { ...empty, sketch: null } : empty;
  }
  // Two passes with the correction term (Chan, Golub & LeVeque): sound even when the mean dwarfs the spread.
  const rough = sum / n;
  let deviation = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const d = present[i] - rough;
    deviation += d;
    squares += d * d;
  }
  const mean = rough + deviation / n;
  const std = n > 1 ? Math.sqrt(Math.max(0, (squares - (deviation * deviation) / n) / (n - 1))) : null;
  const distinct = scratch.distinct(n, PROFILE_DISTINCT_LIMIT);
  if (!distributions) {
    const quantiles = selectQuantiles(present, n, PROFILE_QUANTILES);
    return { name, kind: 'number', count: n, missing, distinct, mean, std, min, max, quantiles };
  }
  // One selection gives both: the summary levels are among the sketch's, as the same doubles.
  const sketch = selectQuantiles(present, n, PROFILE_SKETCH);
  const quantiles = PROFILE_QUANTILES.map((p) => sketch[PROFILE_SKETCH.indexOf(p)]);
  return { name, kind: 'number', count: n, missing, distinct, mean, std, min, max, quantiles, sketch };
}

/**
 * Quantiles of values[0..n) by linear interpolation (numpy's "linear" method). Only the order statistics below
 * each level are selected — the middle one over the whole range, then the others within the part on their side —
 * and the one just above each is the smallest value between it and the next selected one. Reorders `values`.
 */
export function selectQuantiles(values: Float64Array, n: number, levels: readonly number[]): number[] {
  if (n === 0) return levels.map(() => NaN);
  const positions = levels.map((p) => (n - 1) * p);
  const below = [...new Set(positions.map((h) => Math.floor(h)))].sort((a, b) => a - b);
  selectMany(values, 0, n - 1, below, 0, below.length - 1);
  const above = new Map<number, number>();
  below.forEach((k, i) => {
    if (k + 1 >= n) return;
    // Everything in (k, next] lies between values[k] and values[next], so its minimum is order statistic k + 1.
    const next = i + 1 < below.length ? below[i + 1] : n - 1;
    let min = values[k + 1];
    for (let j = k + 2; j <= next; j++) if (values[j] < min) min = values[j];
    above.set(k, min);
  });
  return positions.map((h) => {
    const k = Math.floor(h);
    const b = above.get(k);
    return b === undefined ? values[k] : lerp(values[k], b, h - k);
  });
}

/** Places each of the order statistics ks[a..b] (ascending) at its index, within values[lo..hi]. */
function selectMany(values: Float64Array, lo: number, hi: number, ks: readonly number[], a: number, b: number): void {
  if (a > b) return;
  const mid = (a + b) >> 1;
  const k = ks[mid];
  select(values, lo, hi, k);
  selectMany(values, lo, k - 1, ks, a, mid - 1);
  selectMany(values, k + 1, hi, ks, mid + 1, b);
}

/** numpy's _lerp: from the nearer end, so that t = 1 gives b exactly and the result stays within [a, b]. */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * Moves the k-th smallest of values[lo..hi] to index k, smaller-or-equal ones before it and greater-or-equal
 * ones after. Floyd–Rivest: on large ranges it first selects within a small sample around where k should fall,
 * so that the pivot is nearly right and about one pass over the range is enough. If partitioning keeps going
 * badly, a sort of what is left takes over, so no input can make it quadratic.
 */
function select(values: Float64Array, lo: number, hi: number, k: number): void {
  let left = lo;
  let right = hi;
  let budget = 3 * Math.ceil(Math.log2(hi - lo + 2)) + 16;
  while (right > left) {
    if (budget-- === 0) {
      values.subarray(left, right + 1).sort();
      return;
    }
    if (right - left > 600) {
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      select(values, Math.max(left, Math.floor(k - (m * s) / n + sd)), Math.min(right, Math.floor(k + ((n - m) * s) / n + sd)), k);
    }
    const t = values[k];
    let i = left;
    let j = right;
    swap(values, left, k);
    if (values[right] > t) swap(values, left, right);
    while (i < j) {
      swap(values, i, j);
      i++;
      j--;
      while (values[i] < t) i++;
      while (values[j] > t) j--;
    }
    if (values[left] === t) {
      swap(values, left, j);
    } else {
      j++;
      swap(values, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

function swap(values: Float64Array, a: number, b: number): void {
  const t = values[a];
  values[a] = values[b];
  values[b] = t;
}

function profileBooleans(name: string, values: Float64Array): BooleanProfile {
  let missing = 0;
  let trues = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) missing++;
    else if (v === 1) trues++;
  }
  return { name, kind: 'boolean', count: values.length - missing, missing, trues };
}

function profileCodes(column: CodedColumn, distributions: boolean): CategoryProfile | StringProfile {
  const { codes, categories } = column.values;
  const counts = new Int32Array(categories.length);
  let missing = 0;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code < 0) missing++;
    else counts[code]++;
  }
  let distinct = 0;
  for (let c = 0; c < counts.length; c++) if (counts[c] > 0) distinct++;
  const base = { name: column.name, count: codes.length - missing, missing, distinct };
  if (column.kind === 'string') return { ...base, kind: 'string' };
  if (!distributions) return { ...base, kind: 'category', top: mostFrequent(counts, categories, PROFILE_TOP) };
  const frequencies = mostFrequent(counts, categories, PROFILE_FREQUENCIES);
  let kept = 0;
  for (const [, count] of frequencies) kept += count;
  return { ...base, kind: 'category', top: frequencies.slice(0, PROFILE_TOP), frequencies, other: base.count - kept };
}

/** The `limit` most frequent values in one pass (no sort of all values): by count, then by value. */
function mostFrequent(counts: Int32Array, categories: readonly string[], limit: number): [string, number][] {
  const top: [string, number][] = [];
  const before = (a: [string, number], b: [string, number]): boolean => a[1] > b[1] || (a[1] === b[1] && a[0] < b[0]);
  for (let c = 0; c < counts.length; c++) {
    if (counts[c] === 0) continue;
    const entry: [string, number] = [categories[c], counts[c]];
    if (top.length === limit && !before(entry, top[limit - 1])) continue;
    let at = top.length < limit ? top.length : limit - 1;
    top[at] = entry;
    while (at > 0 && before(top[at], top[at - 1])) {
      [top[at], top[at - 1]] = [top[at - 1], top[at]];
      at--;
    }
  }
  return top;
}
