import { MISSING_BIN } from './options.js';
import { Rng } from './rng.js';

/** Everything a thread needs to grow trees; typed arrays only, so it crosses to a worker without copying. */
export interface GrowData {
  rows: number;
  features: number;
  bins: Uint8Array;
  edges: Float64Array;
  edgeStart: Int32Array;
  /** Classification: the class index of each row (0..classes-1). */
  classIndex: Int32Array | null;
  classes: number;
  /** Classification: each class's weight (classWeight), applied on top of bootstrap counts. */
  classWeight: Float64Array | null;
  /** Regression: the target. */
  target: Float64Array | null;
}

export interface GrowSettings {
  seed: number;
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  featuresPerSplit: number;
  bootstrap: boolean;
  bootstrapSize: number;
}

/** One grown tree. Children are allocated in pairs: a split node's right child is left + 1. */
export interface GrownTree {
  nodes: number;
  /** -1 for a leaf. */
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  /** 1 when a missing value goes left. */
  missingLeft: Uint8Array;
  /** Per node: the class fractions (classification, `classes` values) or the mean (regression, 1 value). */
  value: Float64Array;
  /** Weighted impurity decrease per feature, unnormalized. */
  importance: Float64Array;
  /** The rows this tree's bootstrap left out, and the leaf each reaches (for the out-of-bag score). */
  oobRows: Int32Array;
  oobLeaves: Int32Array;
}

/**
 * Which rows a tree draws, as counts per row. Drawn first from the tree's own stream, so that out-of-bag
 * scoring can redraw it without the tree.
 */
export function drawBootstrap(rng: Rng, rows: number, size: number, counts: Int32Array): void {
  counts.fill(0);
  for (let j = 0; j < size; j++) counts[rng.int(rows)]++;
}

export function treeRng(seed: number, tree: number): Rng {
  return new Rng(seed, tree);
}

const PURE = 1e-12;
// The best split found so far in a node: [proxy, bin, missing goes left (0/1), first non-empty bin after it].
const PROXY = 0;
const BIN = 1;
const MISSING_LEFT = 2;
const NEXT_BIN = 3;

/**
 * Grows tree number `tree` depth-first, as scikit-learn's DepthFirstTreeBuilder does, but splits on histograms
 * of binned features. The hot loops are small functions of typed arrays, so that V8 optimizes each on its own.
 */
export function growTree(data: GrowData, settings: GrowSettings, tree: number): GrownTree {
  const { rows, features, bins } = data;
  const rng = treeRng(settings.seed, tree);
  const classIndex = data.classIndex;
  const target = data.target;
  const classification = classIndex !== null;
  const k = classification ? data.classes : 1;
  // While growing, a node's stats are k weighted class counts (classification) or [Σw, Σwy, Σwy²] (regression).
  const width = classification ? k : 3;

  const counts = new Int32Array(rows);
  if (settings.bootstrap) drawBootstrap(rng, rows, settings.bootstrapSize, counts);
  else counts.fill(1);
  const index = new Int32Array(rows);
  const weight = new Float64Array(rows);
  let inBag = 0;
  for (let i = 0; i < rows; i++) {
    const c = counts[i];
    if (c === 0) continue;
    index[inBag++] = i;
    weight[i] = classIndex && data.classWeight ? c * data.classWeight[classIndex[i]] : c;
  }

  const nodes = new NodeStore(width, Math.max(16, Math.min(2 * inBag, 1 << 16)));
  const importance = new Float64Array(features);
  const featureOrder = new Int32Array(features);
  for (let f = 0; f < features; f++) featureOrder[f] = f;
  const mtry = settings.featuresPerSplit;
  const minLeaf = settings.minSamplesLeaf;
  // Rows per bin are needed only to hold minSamplesLeaf > 1: with 1, a side is non-empty when its weight is.
  const counting = minLeaf > 1;
  // Histograms over the 256 bin codes (the last for missing): per class weights, or [Σw, Σwy]; and row counts.
  const histWidth = classification ? k : 2;
  const hist = new Float64Array(256 * histWidth);
  const histCount = new Int32Array(256);
  const leftStats = new Float64Array(width);
  const rightStats = new Float64Array(width);
  const best = new Float64Array(4);

  const root = nodes.add(0, inBag, 0, 0);
  if (classIndex) addClassStats(index, 0, inBag, classIndex, weight, nodes.stats, root * width);
  else addTargetStats(index, 0, inBag, target!, weight, nodes.stats, root * width);
  const stack: number[] = [root];

  while (stack.length > 0) {
    const node = stack.pop()!;
    const start = nodes.start[node];
    const end = nodes.end[node];
    const depth = nodes.depth[node];
    const n = end - start;
    const statsAt = node * width;
    let stats = nodes.stats;
    const w = classification ? total(stats, statsAt, k) : stats[statsAt];
    const impurity = classification ? gini(stats, statsAt, k, w) : variance(stats, statsAt);
    if (depth >= settings.maxDepth || n < settings.minSamplesSplit || n < 2 * minLeaf || impurity <= PURE) continue;

    best[PROXY] = -Infinity;
    let bestFeature = -1;
    // Features known to be constant here (constant in an ancestor) sit at featureOrder[0 .. constants) and are
    // never drawn; those found constant in this node join them, for the children (scikit-learn's rule).
    let constants = nodes.constants[node];
    let undrawn = features;
    let visited = 0;
    while (undrawn > constants && visited < mtry) {
      const r = constants + rng.int(undrawn - constants);
      const f = featureOrder[r];
      const base = f * rows;
      const range = classIndex
        ? fillClassHistogram(bins, base, index, start, end, classIndex, weight, hist, histCount, counting, k)
        : fillTargetHistogram(bins, base, index, start, end, target!, weight, hist, histCount, counting);
      const lo = range & 0x1ff;
      const hi = ((range >>> 9) & 0x1ff) - 1;
      const missing = range >>> 18;
      if (hi <= lo && (hi < 0 || missing === 0)) {
        featureOrder[r] = featureOrder[constants];
        featureOrder[constants] = f;
        constants++;
        clearHistogram(hist, histCount, lo, hi, histWidth);
        continue;
      }
      undrawn--;
      featureOrder[r] = featureOrder[undrawn];
      featureOrder[undrawn] = f;
      visited++;
      const improved = classIndex
        ? scanClassSplits(hist, histCount, counting, missing, lo, hi, k, n, w, stats, statsAt, minLeaf, leftStats, best)
        : scanTargetSplits(hist, histCount, counting, missing, lo, hi, n, w, stats[statsAt + 1], minLeaf, best);
      if (improved) bestFeature = f;
      clearHistogram(hist, histCount, lo, hi, histWidth);
    }
    if (bestFeature < 0) continue;

    let bestBin = best[BIN];
    // Put the threshold mid-way across the empty bins between the two sides, as scikit-learn puts it mid-way
    // between the two values.
    if (best[NEXT_BIN] > bestBin) bestBin = (bestBin + best[NEXT_BIN] - 1) >> 1;
    const missingLeft = best[MISSING_LEFT];
    leftStats.fill(0);
    rightStats.fill(0);
    const middle = classIndex
      ? partitionClass(bins, bestFeature * rows, index, start, end, bestBin, missingLeft, classIndex, weight, leftStats, rightStats)
      : partitionTarget(bins, bestFeature * rows, index, start, end, bestBin, missingLeft, target!, weight, leftStats, rightStats);
    const leftChild = nodes.add(start, middle, depth + 1, constants);
    const rightChild = nodes.add(middle, end, depth + 1, constants);
    stats = nodes.stats;
    stats.set(leftStats, leftChild * width);
    stats.set(rightStats, rightChild * width);
    nodes.feature[node] = bestFeature;
    nodes.bin[node] = bestBin;
    nodes.missingLeft[node] = missingLeft;
    nodes.left[node] = leftChild;

    const wL = classification ? total(leftStats, 0, k) : leftStats[0];
    const wR = classification ? total(rightStats, 0, k) : rightStats[0];
    const impL = classification ? gini(leftStats, 0, k, wL) : variance(leftStats, 0);
    const impR = classification ? gini(rightStats, 0, k, wR) : variance(rightStats, 0);
    importance[bestFeature] += w * impurity - wL * impL - wR * impR;

    stack.push(rightChild, leftChild);
  }

  const grown = nodes.finish(data, classification, k, importance);
  if (settings.bootstrap) placeOutOfBag(data, grown, nodes.bin, counts, rows - inBag);
  return grown;
}

/** Walks each row left out of the bag down the tree on its bins, which split exactly as its raw values do. */
function placeOutOfBag(data: GrowData, tree: GrownTree, bin: Int32Array, counts: Int32Array, outside: number): void {
  const rows = new Int32Array(outside);
  const leaves = new Int32Array(outside);
  const { feature, left, missingLeft } = tree;
  let j = 0;
  for (let i = 0; i < data.rows; i++) {
    if (counts[i] !== 0) continue;
    let node = 0;
    let f = feature[0];
    while (f >= 0) {
      const b = data.bins[f * data.rows + i];
      node = (b === MISSING_BIN ? missingLeft[node] === 1 : b <= bin[node]) ? left[node] : left[node] + 1;
      f = feature[node];
    }
    rows[j] = i;
    leaves[j++] = node;
  }
  tree.oobRows = rows;
  tree.oobLeaves = leaves;
}

/** Fills a feature's class histogram over a node's rows; returns the lowest and highest present bin, packed. */
function fillClassHistogram(
  bins: Uint8Array,
  base: number,
  index: Int32Array,
  start: number,
  end: number,
  y: Int32Array,
  weight: Float64Array,
  hist: Float64Array,
  histCount: Int32Array,
  counting: boolean,
  k: number,
): number {
  let lo = 255;
  let hi = -1;
  let missing = 0;
  for (let s = start; s < end; s++) {
    const i = index[s];
    const b = bins[base + i];
    hist[b * k + y[i]] += weight[i];
    if (counting) histCount[b]++;
    if (b !== MISSING_BIN) {
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    } else missing = 1;
  }
  return lo | ((hi + 1) << 9) | (missing << 18);
}

function fillTargetHistogram(
  bins: Uint8Array,
  base: number,
  index: Int32Array,
  start: number,
  end: number,
  y: Float64Array,
  weight: Float64Array,
  hist: Float64Array,
  histCount: Int32Array,
  counting: boolean,
): number {
  let lo = 255;
  let hi = -1;
  let missing = 0;
  for (let s = start; s < end; s++) {
    const i = index[s];
    const b = bins[base + i];
    const wi = weight[i];
    hist[b * 2] += wi;
    hist[b * 2 + 1] += wi * y[i];
    if (counting) histCount[b]++;
    if (b !== MISSING_BIN) {
      if (b < lo) lo = b;
      if (b > hi) hi = b;
    } else missing = 1;
  }
  return lo | ((hi + 1) << 9) | (missing << 18);
}

/**
 * Tries every threshold of one feature's class histogram, missing values to the right and (when there are
 * any) to the left; keeps a split better than `best`, which maximizes Σ_c L_c²/wL + Σ_c R_c²/wR (Gini).
 * The sums of squares are updated per bin for the classes present in it only, so a bin costs O(k) loads
 * but arithmetic only for its classes.
 */
function scanClassSplits(
  hist: Float64Array,
  histCount: Int32Array,
  counting: boolean,
  missing: number,
  lo: number,
  hi: number,
  k: number,
  n: number,
  w: number,
  stats: Float64Array,
  statsAt: number,
  minLeaf: number,
  left: Float64Array,
  best: Float64Array,
): boolean {
  const m = MISSING_BIN * k;
  const missingCount = counting ? histCount[MISSING_BIN] : 0;
  const hasMissing = missing === 1;
  let missingWeight = 0;
  // Σ L², Σ R², and the same with the missing rows moved left: Σ (L + M)², Σ (R − M)².
  let sqL = 0;
  let sqR = 0;
  let sqLM = 0;
  let sqRM = 0;
  for (let c = 0; c < k; c++) {
    const t = stats[statsAt + c];
    const mc = hist[m + c];
    missingWeight += mc;
    sqR += t * t;
    sqLM += mc * mc;
    sqRM += (t - mc) * (t - mc);
    left[c] = 0;
  }
  let wL = 0;
  let nL = 0;
  let improved = false;
  let awaitingNext = false;
  // With missing values present, "every present value left, missing right" is a split too.
  const last = hasMissing ? hi : hi - 1;
  for (let b = lo; b <= last; b++) {
    const at = b * k;
    let binWeight = 0;
    for (let c = 0; c < k; c++) {
      const h = hist[at + c];
      if (h === 0) continue;
      const l = left[c];
      const r = stats[statsAt + c] - l;
      sqL += h * (2 * l + h);
      sqR += h * (h - 2 * r);
      if (hasMissing) {
        const mc = hist[m + c];
        sqLM += h * (2 * (l + mc) + h);
        sqRM += h * (h - 2 * (r - mc));
      }
      left[c] = l + h;
      binWeight += h;
    }
    // An empty bin moves no row across: the split is the one before it.
    if (binWeight === 0) continue;
    if (awaitingNext) {
      best[NEXT_BIN] = b;
      awaitingNext = false;
    }
    wL += binWeight;
    if (counting) nL += histCount[b];
    if ((!counting || (nL >= minLeaf && n - nL >= minLeaf)) && wL > 0 && w - wL > 0) {
      const proxy = sqL / wL + sqR / (w - wL);
      if (proxy > best[PROXY]) {
        best[PROXY] = proxy;
        best[BIN] = b;
        best[MISSING_LEFT] = 0;
        best[NEXT_BIN] = -1;
        awaitingNext = true;
        improved = true;
      }
    }
    if (hasMissing && b < hi) {
      const nL2 = nL + missingCount;
      const wL2 = wL + missingWeight;
      if ((!counting || (nL2 >= minLeaf && n - nL2 >= minLeaf)) && wL2 > 0 && w - wL2 > 0) {
        const proxy = sqLM / wL2 + sqRM / (w - wL2);
        if (proxy > best[PROXY]) {
          best[PROXY] = proxy;
          best[BIN] = b;
          best[MISSING_LEFT] = 1;
          best[NEXT_BIN] = -1;
          awaitingNext = true;
          improved = true;
        }
      }
    }
  }
  return improved;
}

/** As scanClassSplits, for regression: maximizes (ΣwyL)²/wL + (ΣwyR)²/wR (least squares). */
function scanTargetSplits(
  hist: Float64Array,
  histCount: Int32Array,
  counting: boolean,
  missing: number,
  lo: number,
  hi: number,
  n: number,
  w: number,
  sum: number,
  minLeaf: number,
  best: Float64Array,
): boolean {
  const missingCount = counting ? histCount[MISSING_BIN] : 0;
  const hasMissing = missing === 1;
  const missingW = hist[MISSING_BIN * 2];
  const missingS = hist[MISSING_BIN * 2 + 1];
  let wL = 0;
  let sL = 0;
  let nL = 0;
  let improved = false;
  let awaitingNext = false;
  const last = hasMissing ? hi : hi - 1;
  for (let b = lo; b <= last; b++) {
    if (hist[b * 2] === 0) continue;
    if (awaitingNext) {
      best[NEXT_BIN] = b;
      awaitingNext = false;
    }
    wL += hist[b * 2];
    sL += hist[b * 2 + 1];
    if (counting) nL += histCount[b];
    if ((!counting || (nL >= minLeaf && n - nL >= minLeaf)) && wL > 0 && w - wL > 0) {
      const sR = sum - sL;
      const proxy = (sL * sL) / wL + (sR * sR) / (w - wL);
      if (proxy > best[PROXY]) {
        best[PROXY] = proxy;
        best[BIN] = b;
        best[MISSING_LEFT] = 0;
        best[NEXT_BIN] = -1;
        awaitingNext = true;
        improved = true;
      }
    }
    if (hasMissing && b < hi) {
      const nL2 = nL + missingCount;
      const wL2 = wL + missingW;
      const sL2 = sL + missingS;
      if ((!counting || (nL2 >= minLeaf && n - nL2 >= minLeaf)) && wL2 > 0 && w - wL2 > 0) {
        const sR = sum - sL2;
        const proxy = (sL2 * sL2) / wL2 + (sR * sR) / (w - wL2);
        if (proxy > best[PROXY]) {
          best[PROXY] = proxy;
          best[BIN] = b;
          best[MISSING_LEFT] = 1;
          best[NEXT_BIN] = -1;
          awaitingNext = true;
          improved = true;
        }
      }
    }
  }
  return improved;
}

function clearHistogram(hist: Float64Array, histCount: Int32Array, lo: number, hi: number, histWidth: number): void {
  if (hi >= lo) {
    hist.fill(0, lo * histWidth, (hi + 1) * histWidth);
    histCount.fill(0, lo, hi + 1);
  }
  hist.fill(0, MISSING_BIN * histWidth, (MISSING_BIN + 1) * histWidth);
  histCount[MISSING_BIN] = 0;
}

/** Moves a node's rows that go left before those that go right, totalling each side; returns where right starts. */
function partitionClass(
  bins: Uint8Array,
  base: number,
  index: Int32Array,
  start: number,
  end: number,
  bin: number,
  missingLeft: number,
  y: Int32Array,
  weight: Float64Array,
  left: Float64Array,
  right: Float64Array,
): number {
  let a = start;
  let z = end - 1;
  while (a <= z) {
    const i = index[a];
    const b = bins[base + i];
    if (b === MISSING_BIN ? missingLeft === 1 : b <= bin) {
      left[y[i]] += weight[i];
      a++;
    } else {
      right[y[i]] += weight[i];
      index[a] = index[z];
      index[z] = i;
      z--;
    }
  }
  return a;
}

function partitionTarget(
  bins: Uint8Array,
  base: number,
  index: Int32Array,
  start: number,
  end: number,
  bin: number,
  missingLeft: number,
  y: Float64Array,
  weight: Float64Array,
  left: Float64Array,
  right: Float64Array,
): number {
  let a = start;
  let z = end - 1;
  while (a <= z) {
    const i = index[a];
    const b = bins[base + i];
    const wi = weight[i];
    const yi = y[i];
    const side = (b === MISSING_BIN ? missingLeft === 1 : b <= bin) ? left : right;
    side[0] += wi;
    side[1] += wi * yi;
    side[2] += wi * yi * yi;
    if (side === left) a++;
    else {
      index[a] = index[z];
      index[z] = i;
      z--;
    }
  }
  return a;
}

function addClassStats(index: Int32Array, start: number, end: number, y: Int32Array, weight: Float64Array, out: Float64Array, at: number): void {
  for (let s = start; s < end; s++) out[at + y[index[s]]] += weight[index[s]];
}

function addTargetStats(index: Int32Array, start: number, end: number, y: Float64Array, weight: Float64Array, out: Float64Array, at: number): void {
  for (let s = start; s < end; s++) {
    const i = index[s];
    out[at] += weight[i];
    out[at + 1] += weight[i] * y[i];
    out[at + 2] += weight[i] * y[i] * y[i];
  }
}

function total(a: Float64Array, at: number, k: number): number {
  let s = 0;
  for (let c = 0; c < k; c++) s += a[at + c];
  return s;
}

function gini(a: Float64Array, at: number, k: number, w: number): number {
  if (w <= 0) return 0;
  let s = 0;
  for (let c = 0; c < k; c++) s += a[at + c] * a[at + c];
  return 1 - s / (w * w);
}

function variance(a: Float64Array, at: number): number {
  const w = a[at];
  if (w <= 0) return 0;
  const mean = a[at + 1] / w;
  return Math.max(0, a[at + 2] / w - mean * mean);
}

/** Growable node arrays. */
class NodeStore {
  count = 0;
  capacity: number;
  start: Int32Array;
  end: Int32Array;
  depth: Int32Array;
  constants: Int32Array;
  feature: Int32Array;
  bin: Int32Array;
  left: Int32Array;
  missingLeft: Uint8Array;
  stats: Float64Array;

  constructor(
    private readonly width: number,
    capacity: number,
  ) {
    this.capacity = capacity;
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.depth = new Int32Array(capacity);
    this.constants = new Int32Array(capacity);
    this.feature = new Int32Array(capacity);
    this.bin = new Int32Array(capacity);
    this.left = new Int32Array(capacity);
    this.missingLeft = new Uint8Array(capacity);
    this.stats = new Float64Array(capacity * width);
  }

  add(start: number, end: number, depth: number, constants: number): number {
    if (this.count === this.capacity) this.grow();
    const id = this.count++;
    this.start[id] = start;
    this.end[id] = end;
    this.depth[id] = depth;
    this.constants[id] = constants;
    this.feature[id] = -1;
    this.left[id] = -1;
    return id;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    this.start = widenInt32(this.start, capacity);
    this.end = widenInt32(this.end, capacity);
    this.depth = widenInt32(this.depth, capacity);
    this.constants = widenInt32(this.constants, capacity);
    this.feature = widenInt32(this.feature, capacity);
    this.bin = widenInt32(this.bin, capacity);
    this.left = widenInt32(this.left, capacity);
    const missingLeft = new Uint8Array(capacity);
    missingLeft.set(this.missingLeft);
    this.missingLeft = missingLeft;
    const stats = new Float64Array(capacity * this.width);
    stats.set(this.stats);
    this.stats = stats;
    this.capacity = capacity;
  }

  finish(data: GrowData, classification: boolean, k: number, importance: Float64Array): GrownTree {
    const n = this.count;
    const feature = this.feature.slice(0, n);
    const left = this.left.slice(0, n);
    const missingLeft = this.missingLeft.slice(0, n);
    const threshold = new Float64Array(n);
    const value = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      const f = feature[i];
      if (f >= 0) {
        // The last bin as a threshold means "every present value left, missing right".
        const edgesOfFeature = data.edgeStart[f + 1] - data.edgeStart[f];
        threshold[i] = this.bin[i] < edgesOfFeature ? data.edges[data.edgeStart[f] + this.bin[i]] : Infinity;
      }
      const at = i * this.width;
      if (classification) {
        const w = total(this.stats, at, k);
        for (let c = 0; c < k; c++) value[i * k + c] = w > 0 ? this.stats[at + c] / w : 0;
      } else {
        value[i] = this.stats[at] > 0 ? this.stats[at + 1] / this.stats[at] : 0;
      }
    }
    const none = new Int32Array(0);
    return { nodes: n, feature, threshold, left, missingLeft, value, importance, oobRows: none, oobLeaves: none };
  }
}

function widenInt32(a: Int32Array, capacity: number): Int32Array {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}
