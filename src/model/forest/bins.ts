import { MISSING_BIN } from './options.js';

/**
 * Features mapped to small integer bins, once, before any tree grows: a split search then fills a histogram
 * per feature instead of sorting at every node (scikit-learn's forest sorts; LightGBM's and scikit-learn's
 * HistGradientBoosting bin). Bin edges are exact midpoints between neighbouring values seen in training, so
 * `bin <= b` in training is exactly `x <= edge[b]` at prediction time, on raw values.
 */
export interface BinnedData {
  rows: number;
  /** Held-out rows binned after the training rows, with the training rows' edges. */
  heldOut: number;
  /** rows + heldOut: the length of one feature's column. */
  stride: number;
  features: number;
  /** Column-major: bins[f * stride + i]; MISSING_BIN marks a missing value. */
  bins: Uint8Array;
  /** All features' edges, end to end; feature f's are edges[edgeStart[f] .. edgeStart[f + 1]). */
  edges: Float64Array;
  edgeStart: Int32Array;
}

/**
 * Bins row-major values (NaN is missing) into at most `maxBins` bins per feature, by equal-frequency cuts; then
 * the `heldOut` rows of `held` (row-major too) with the same edges, after the training rows in each column.
 */
export function binFeatures(
  x: Float64Array,
  rows: number,
  features: number,
  maxBins: number,
  shared = false,
  held: Float64Array = new Float64Array(0),
  heldOut = 0,
): BinnedData {
  const stride = rows + heldOut;
  const bytes = stride * features;
  const bins = new Uint8Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const allEdges: Float64Array[] = [];
  const edgeStart = new Int32Array(features + 1);
  const column = new Float64Array(rows);
  let total = 0;
  for (let f = 0; f < features; f++) {
    let present = 0;
    for (let i = 0; i < rows; i++) {
      const v = x[i * features + f];
      if (v === v) column[present++] = v;
    }
    const sorted = column.subarray(0, present).sort();
    const edges = cutPoints(sorted, maxBins);
    allEdges.push(edges);
    edgeStart[f] = total;
    total += edges.length;
    binColumn(x, rows, features, f, edges, bins, f * stride);
    binColumn(held, heldOut, features, f, edges, bins, f * stride + rows);
  }
  edgeStart[features] = total;
  const edges = new Float64Array(shared ? new SharedArrayBuffer(total * 8) : new ArrayBuffer(total * 8));
  for (let f = 0; f < features; f++) edges.set(allEdges[f], edgeStart[f]);
  return { rows, heldOut, stride, features, bins, edges, edgeStart };
}

/** Column f of row-major `x` into bins[at ..): the first edge not below each value, or MISSING_BIN for NaN. */
function binColumn(x: Float64Array, rows: number, features: number, f: number, edges: Float64Array, bins: Uint8Array, at: number): void {
  const last = edges.length;
  for (let i = 0; i < rows; i++) {
    const v = x[i * features + f];
    if (v !== v) {
      bins[at + i] = MISSING_BIN;
      continue;
    }
    // The first edge not below v: v <= edges[b] and v > edges[b - 1].
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    bins[at + i] = lo;
  }
}

/** At most maxBins - 1 thresholds between distinct sorted values, each the midpoint of its two neighbours. */
function cutPoints(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  const distinct: number[] = [];
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(i);
  const out: number[] = [];
  if (distinct.length <= maxBins) {
    for (let j = 1; j < distinct.length; j++) out.push(midpoint(sorted[distinct[j] - 1], sorted[distinct[j]]));
    return Float64Array.from(out);
  }
  // Equal-frequency cuts, each moved to the next change of value so that ties never straddle a cut.
  let previous = -1;
  for (let q = 1; q < maxBins; q++) {
    let at = Math.floor((q * n) / maxBins);
    if (at <= previous) at = previous + 1;
    while (at < n && sorted[at] === sorted[at - 1]) at++;
    if (at >= n) break;
    out.push(midpoint(sorted[at - 1], sorted[at]));
    previous = at;
  }
  return Float64Array.from(out);
}

function midpoint(a: number, b: number): number {
  const m = a / 2 + b / 2;
  // As in scikit-learn: rounding can land the midpoint on b, which must go right.
  return m >= b || m < a ? a : m;
}
