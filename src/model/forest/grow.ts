// This file is longer than 600 lines because the grower is one self-contained function compiled from its own source
// text for each training (see compileGrower): the hot loops, the histogram scans and the partitions must live inside
// it, as const-bound closures, to run at the speed measured in docs/forest.md; it cannot be split into modules.
import { Rng } from '../../util/rng.js';
import type { BinnedData } from './bins.js';

/**
 * Everything a thread needs to grow trees; typed arrays only, so it crosses to a worker without copying. The bins
 * (BinnedData) are where splits are found and where out-of-bag and held-out rows ride down each tree (`bin <= b`
 * is exactly `x <= edge[b]`), so no thread needs the raw values; held-out rows (heldOut of them, after the
 * training rows in each column) are never drawn, and each tree reports their leaves.
 */
export interface GrowData extends BinnedData {
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
  /** The leaf each held-out row reaches (GrowData.heldOut), in their order. */
  heldOutLeaves: Int32Array;
}

/** Grows one tree: the tree's number decides its random stream, so any thread grows the same tree. */
export type Grower = (tree: number) => GrownTree;

let compiled = 0;

/**
 * Compiles a grower for one training on one thread. V8 optimizes loops over typed arrays held in `const`
 * bindings of a closure that exists once about 2× better than loops over typed arrays passed as arguments
 * (measured here: 4.3–5.3 ns against 8.4–10 ns per row of the histogram fill), so the whole grower is one
 * self-contained function whose source is compiled afresh (`new Function`, made unique, so that V8's
 * compilation cache cannot share one closure between trainings, which measured 4× slower still).
 */
export function compileGrower(data: GrowData, settings: GrowSettings): Grower {
  const source = `"use strict"; return (${growerFactory.toString()})(data, settings, Rng); // grower ${++compiled}`;
  const factory = new Function('data', 'settings', 'Rng', source) as (d: GrowData, s: GrowSettings, r: typeof Rng) => Grower;
  return factory(data, settings, Rng);
}

/**
 * The grower, depth-first as scikit-learn's DepthFirstTreeBuilder, splitting on histograms of binned features.
 * Self-contained on purpose: it is compiled from its own source text (see compileGrower), so it may refer to
 * nothing outside itself but its three parameters. Scratch arrays are reused from tree to tree.
 */
function growerFactory(data: GrowData, settings: GrowSettings, RngClass: typeof Rng): Grower {
  const MISSING_BIN = 255;
  const PURE = 1e-12;
  // The best split found so far in a node: [proxy, bin, missing goes left (0/1), first non-empty bin after it].
  const PROXY = 0;
  const BIN = 1;
  const MISSING_LEFT = 2;
  const NEXT_BIN = 3;

  const ROWS = data.rows;
  const HELD_OUT = data.heldOut;
  const STRIDE = data.stride;
  const FEATURES = data.features;
  const BINS = data.bins;
  const EDGES = data.edges;
  const EDGE_START = data.edgeStart;
  const CLASS_INDEX = data.classIndex ?? new Int32Array(0);
  const CLASS_WEIGHT = data.classWeight;
  const TARGET = data.target ?? new Float64Array(0);
  const CLASSIFICATION = data.classIndex !== null;
  const K = CLASSIFICATION ? data.classes : 1;
  // While growing, a node's stats are K weighted class counts (classification) or [Σw, Σwy, Σwy²] (regression).
  const WIDTH = CLASSIFICATION ? K : 3;
  // Histograms over the 256 bin codes (the last for missing): per class weights, or [Σw, Σwy]; and row counts.
  const HIST_WIDTH = CLASSIFICATION ? K : 2;
  const MAX_DEPTH = settings.maxDepth;
  const MIN_SPLIT = settings.minSamplesSplit;
  const MIN_LEAF = settings.minSamplesLeaf;
  // Rows per bin are needed only to hold minSamplesLeaf > 1: with 1, a side is non-empty when its weight is.
  const COUNTING = MIN_LEAF > 1;
  const MTRY = settings.featuresPerSplit;
  const BOOTSTRAP = settings.bootstrap;
  const BOOTSTRAP_SIZE = settings.bootstrapSize;

  const COUNTS = new Int32Array(ROWS);
  // A node's rows are INDEX[start .. end); beside each, in the same slot, its weight and its class (or target),
  // moved with it when a node is partitioned. The fill then reads them in order instead of at random rows: at
  // 3,000,000 rows, two cache misses fewer per row and feature (in CPU profiles of a 2-tree training on those rows,
  // fill and partition fell from 9.6 s to 5.2 s, on a busy machine).
  const INDEX = new Int32Array(ROWS);
  const SLOT_W = new Float64Array(ROWS);
  const SLOT_C = new Int32Array(CLASSIFICATION ? ROWS : 0);
  const SLOT_Y = new Float64Array(CLASSIFICATION ? 0 : ROWS);
  // Passengers: the rows the bootstrap left out, then the held-out rows (ROWS and above). A node's are
  // OOB_INDEX[nodeOobStart .. nodeOobEnd), partitioned with its split, so that each lands in its leaf as the tree
  // grows (a walk down the finished tree per row cost as much as the histogram fill: four cache misses a level
  // where the partition has one).
  const OOB_INDEX = new Int32Array((BOOTSTRAP ? ROWS : 0) + HELD_OUT);
  const HIST = new Float64Array(256 * HIST_WIDTH);
  const HIST_COUNT = new Int32Array(256);
  const LEFT = new Float64Array(WIDTH);
  const RIGHT = new Float64Array(WIDTH);
  const BEST = new Float64Array(4);
  const ORDER = new Int32Array(FEATURES);

  // Growable node arrays.
  let capacity = Math.max(16, Math.min(2 * ROWS, 1 << 16));
  let count = 0;
  let nodeStart = new Int32Array(capacity);
  let nodeEnd = new Int32Array(capacity);
  let nodeDepth = new Int32Array(capacity);
  let nodeConstants = new Int32Array(capacity);
  let nodeFeature = new Int32Array(capacity);
  let nodeBin = new Int32Array(capacity);
  let nodeLeft = new Int32Array(capacity);
  let nodeMissingLeft = new Uint8Array(capacity);
  let nodeStats = new Float64Array(capacity * WIDTH);
  let nodeOobStart = new Int32Array(capacity);
  let nodeOobEnd = new Int32Array(capacity);

  function widen<T extends Int32Array | Uint8Array | Float64Array>(a: T, size: number): T {
    const b = new (a.constructor as new (n: number) => T)(size);
    b.set(a);
    return b;
  }

  function addNode(start: number, end: number, depth: number, constants: number, oobStart: number, oobEnd: number): number {
    if (count === capacity) {
      capacity *= 2;
      nodeStart = widen(nodeStart, capacity);
      nodeEnd = widen(nodeEnd, capacity);
      nodeDepth = widen(nodeDepth, capacity);
      nodeConstants = widen(nodeConstants, capacity);
      nodeFeature = widen(nodeFeature, capacity);
      nodeBin = widen(nodeBin, capacity);
      nodeLeft = widen(nodeLeft, capacity);
      nodeMissingLeft = widen(nodeMissingLeft, capacity);
      nodeStats = widen(nodeStats, capacity * WIDTH);
      nodeOobStart = widen(nodeOobStart, capacity);
      nodeOobEnd = widen(nodeOobEnd, capacity);
    }
    const id = count++;
    nodeStart[id] = start;
    nodeEnd[id] = end;
    nodeDepth[id] = depth;
    nodeConstants[id] = constants;
    nodeFeature[id] = -1;
    nodeBin[id] = 0;
    nodeLeft[id] = -1;
    nodeMissingLeft[id] = 0;
    nodeOobStart[id] = oobStart;
    nodeOobEnd[id] = oobEnd;
    for (let c = 0; c < WIDTH; c++) nodeStats[id * WIDTH + c] = 0;
    return id;
  }

  /** Fills a feature's histogram over a node's rows; returns the lowest and highest present bin and whether any is missing, packed. */
  function fillClassHistogram(base: number, start: number, end: number): number {
    let lo = 255;
    let hi = -1;
    let missing = 0;
    for (let s = start; s < end; s++) {
      const b = BINS[base + INDEX[s]];
      HIST[b * K + SLOT_C[s]] += SLOT_W[s];
      if (COUNTING) HIST_COUNT[b]++;
      if (b !== MISSING_BIN) {
        if (b < lo) lo = b;
        if (b > hi) hi = b;
      } else missing = 1;
    }
    return lo | ((hi + 1) << 9) | (missing << 18);
  }

  function fillTargetHistogram(base: number, start: number, end: number): number {
    let lo = 255;
    let hi = -1;
    let missing = 0;
    for (let s = start; s < end; s++) {
      const b = BINS[base + INDEX[s]];
      const wi = SLOT_W[s];
      HIST[b * 2] += wi;
      HIST[b * 2 + 1] += wi * SLOT_Y[s];
      if (COUNTING) HIST_COUNT[b]++;
      if (b !== MISSING_BIN) {
        if (b < lo) lo = b;
        if (b > hi) hi = b;
      } else missing = 1;
    }
    return lo | ((hi + 1) << 9) | (missing << 18);
  }

  /** Whether a split leaves rows (minSamplesLeaf of them, when that is above 1) and weight on both sides. */
  function admissible(nL: number, n: number, wL: number, w: number): boolean {
    return (!COUNTING || (nL >= MIN_LEAF && n - nL >= MIN_LEAF)) && wL > 0 && w - wL > 0;
  }

  /** Keeps a candidate split in BEST when it beats the best so far. */
  function offer(proxy: number, bin: number, missingLeft: number): boolean {
    if (!(proxy > BEST[PROXY])) return false;
    BEST[PROXY] = proxy;
    BEST[BIN] = bin;
    BEST[MISSING_LEFT] = missingLeft;
    BEST[NEXT_BIN] = -1;
    return true;
  }

  /**
   * Tries every threshold of one feature's class histogram, missing values to the right and (when there are
   * any) to the left; keeps a split better than BEST, which maximizes Σ_c L_c²/wL + Σ_c R_c²/wR (Gini). The
   * sums of squares are updated per bin for the classes present in it only.
   */
  function scanClassSplits(missing: number, lo: number, hi: number, n: number, w: number, statsAt: number): boolean {
    const m = MISSING_BIN * K;
    const missingCount = COUNTING ? HIST_COUNT[MISSING_BIN] : 0;
    const hasMissing = missing === 1;
    let missingWeight = 0;
    // Σ L², Σ R², and the same with the missing rows moved left: Σ (L + M)², Σ (R − M)².
    let sqL = 0;
    let sqR = 0;
    let sqLM = 0;
    let sqRM = 0;
    for (let c = 0; c < K; c++) {
      const t = nodeStats[statsAt + c];
      const mc = HIST[m + c];
      missingWeight += mc;
      sqR += t * t;
      sqLM += mc * mc;
      sqRM += (t - mc) * (t - mc);
      LEFT[c] = 0;
    }
    let wL = 0;
    let nL = 0;
    let improved = false;
    let awaitingNext = false;
    // With missing values present, "every present value left, missing right" is a split too.
    const last = hasMissing ? hi : hi - 1;
    for (let b = lo; b <= last; b++) {
      const at = b * K;
      let binWeight = 0;
      for (let c = 0; c < K; c++) {
        const h = HIST[at + c];
        if (h === 0) continue;
        const l = LEFT[c];
        const r = nodeStats[statsAt + c] - l;
        sqL += h * (2 * l + h);
        sqR += h * (h - 2 * r);
        if (hasMissing) {
          const mc = HIST[m + c];
          sqLM += h * (2 * (l + mc) + h);
          sqRM += h * (h - 2 * (r - mc));
        }
        LEFT[c] = l + h;
        binWeight += h;
      }
      // An empty bin moves no row across: the split is the one before it.
      if (binWeight === 0) continue;
      if (awaitingNext) {
        BEST[NEXT_BIN] = b;
        awaitingNext = false;
      }
      wL += binWeight;
      if (COUNTING) nL += HIST_COUNT[b];
      if (admissible(nL, n, wL, w)) {
        const proxy = sqL / wL + sqR / (w - wL);
        if (offer(proxy, b, 0)) {
          awaitingNext = true;
          improved = true;
        }
      }
      if (hasMissing && b < hi) {
        const nL2 = nL + missingCount;
        const wL2 = wL + missingWeight;
        if (admissible(nL2, n, wL2, w)) {
          const proxy = sqLM / wL2 + sqRM / (w - wL2);
          if (offer(proxy, b, 1)) {
            awaitingNext = true;
            improved = true;
          }
        }
      }
    }
    return improved;
  }

  /** As scanClassSplits, for regression: maximizes (ΣwyL)²/wL + (ΣwyR)²/wR (least squares). */
  function scanTargetSplits(missing: number, lo: number, hi: number, n: number, w: number, sum: number): boolean {
    const missingCount = COUNTING ? HIST_COUNT[MISSING_BIN] : 0;
    const hasMissing = missing === 1;
    const missingW = HIST[MISSING_BIN * 2];
    const missingS = HIST[MISSING_BIN * 2 + 1];
    let wL = 0;
    let sL = 0;
    let nL = 0;
    let improved = false;
    let awaitingNext = false;
    const last = hasMissing ? hi : hi - 1;
    for (let b = lo; b <= last; b++) {
      if (HIST[b * 2] === 0) continue;
      if (awaitingNext) {
        BEST[NEXT_BIN] = b;
        awaitingNext = false;
      }
      wL += HIST[b * 2];
      sL += HIST[b * 2 + 1];
      if (COUNTING) nL += HIST_COUNT[b];
      if (admissible(nL, n, wL, w)) {
        const sR = sum - sL;
        const proxy = (sL * sL) / wL + (sR * sR) / (w - wL);
        if (offer(proxy, b, 0)) {
          awaitingNext = true;
          improved = true;
        }
      }
      if (hasMissing && b < hi) {
        const nL2 = nL + missingCount;
        const wL2 = wL + missingW;
        const sL2 = sL + missingS;
        if (admissible(nL2, n, wL2, w)) {
          const sR = sum - sL2;
          const proxy = (sL2 * sL2) / wL2 + (sR * sR) / (w - wL2);
          if (offer(proxy, b, 1)) {
            awaitingNext = true;
            improved = true;
          }
        }
      }
    }
    return improved;
  }

  // Plain loops: most ranges are a few values, where a call to fill() costs more than the clearing.
  function clearHistogram(lo: number, hi: number, missing: number): void {
    for (let i = lo * HIST_WIDTH, end = (hi + 1) * HIST_WIDTH; i < end; i++) HIST[i] = 0;
    if (missing === 1) for (let i = MISSING_BIN * HIST_WIDTH; i < (MISSING_BIN + 1) * HIST_WIDTH; i++) HIST[i] = 0;
    if (COUNTING) {
      for (let b = lo; b <= hi; b++) HIST_COUNT[b] = 0;
      HIST_COUNT[MISSING_BIN] = 0;
    }
  }

  /** Moves a node's rows that go left before those that go right, totalling each side; returns where right starts. */
  function partitionClass(base: number, start: number, end: number, bin: number, missingLeft: number): number {
    let a = start;
    let z = end - 1;
    while (a <= z) {
      const i = INDEX[a];
      const b = BINS[base + i];
      const wi = SLOT_W[a];
      const ci = SLOT_C[a];
      if (b === MISSING_BIN ? missingLeft === 1 : b <= bin) {
        LEFT[ci] += wi;
        a++;
      } else {
        RIGHT[ci] += wi;
        INDEX[a] = INDEX[z];
        SLOT_W[a] = SLOT_W[z];
        SLOT_C[a] = SLOT_C[z];
        INDEX[z] = i;
        SLOT_W[z] = wi;
        SLOT_C[z] = ci;
        z--;
      }
    }
    return a;
  }

  /**
   * The out-of-bag rows of a node split as partitionClass splits its rows; returns where the right ones start.
   * Written out again on purpose (the grower's hot loops stay unrolled): one partition taking its arrays as
   * arguments would lose the const-bound typed arrays that make these loops ~2× faster (see compileGrower).
   */
  function partitionOutOfBag(base: number, start: number, end: number, bin: number, missingLeft: number): number {
    let a = start;
    let z = end - 1;
    while (a <= z) {
      const i = OOB_INDEX[a];
      const b = BINS[base + i];
      if (b === MISSING_BIN ? missingLeft === 1 : b <= bin) a++;
      else {
        OOB_INDEX[a] = OOB_INDEX[z];
        OOB_INDEX[z] = i;
        z--;
      }
    }
    return a;
  }

  function partitionTarget(base: number, start: number, end: number, bin: number, missingLeft: number): number {
    let a = start;
    let z = end - 1;
    while (a <= z) {
      const i = INDEX[a];
      const b = BINS[base + i];
      const wi = SLOT_W[a];
      const yi = SLOT_Y[a];
      const side = (b === MISSING_BIN ? missingLeft === 1 : b <= bin) ? LEFT : RIGHT;
      side[0] += wi;
      side[1] += wi * yi;
      side[2] += wi * yi * yi;
      if (side === LEFT) a++;
      else {
        INDEX[a] = INDEX[z];
        SLOT_W[a] = SLOT_W[z];
        SLOT_Y[a] = SLOT_Y[z];
        INDEX[z] = i;
        SLOT_W[z] = wi;
        SLOT_Y[z] = yi;
        z--;
      }
    }
    return a;
  }

  function total(a: Float64Array, at: number): number {
    let s = 0;
    for (let c = 0; c < K; c++) s += a[at + c];
    return s;
  }

  function impurity(a: Float64Array, at: number): number {
    if (CLASSIFICATION) {
      const w = total(a, at);
      if (w <= 0) return 0;
      let s = 0;
      for (let c = 0; c < K; c++) s += a[at + c] * a[at + c];
      return 1 - s / (w * w);
    }
    const w = a[at];
    if (w <= 0) return 0;
    const mean = a[at + 1] / w;
    return Math.max(0, a[at + 2] / w - mean * mean);
  }

  function weightOf(a: Float64Array, at: number): number {
    return CLASSIFICATION ? total(a, at) : a[at];
  }

  /**
   * The out-of-bag rows with the leaf each reached, and the held-out rows' leaves: the passengers of each leaf. A
   * present value's bin is ≤ a node's bin exactly when the value is ≤ its threshold, so this is where prediction on
   * the raw values takes the row.
   */
  function placePassengers(tree: GrownTree, outside: number, passengers: number): void {
    const oobRows = new Int32Array(outside);
    const oobLeaves = new Int32Array(outside);
    const heldOut = new Int32Array(HELD_OUT);
    let j = 0;
    for (let node = 0; node < count; node++) {
      if (nodeFeature[node] >= 0) continue;
      for (let s = nodeOobStart[node], end = nodeOobEnd[node]; s < end; s++) {
        const i = OOB_INDEX[s];
        if (i >= ROWS) heldOut[i - ROWS] = node;
        else {
          oobRows[j] = i;
          oobLeaves[j++] = node;
        }
      }
    }
    if (j !== outside || passengers !== outside + HELD_OUT) throw new Error(`grower: ${j} of ${outside} out-of-bag rows placed`);
    tree.oobRows = oobRows;
    tree.oobLeaves = oobLeaves;
    tree.heldOutLeaves = heldOut;
  }

  function finish(importance: Float64Array): GrownTree {
    const n = count;
    const threshold = new Float64Array(n);
    const value = new Float64Array(n * K);
    for (let i = 0; i < n; i++) {
      const f = nodeFeature[i];
      if (f >= 0) {
        // The last bin as a threshold means "every present value left, missing right".
        const edgesOfFeature = EDGE_START[f + 1] - EDGE_START[f];
        threshold[i] = nodeBin[i] < edgesOfFeature ? EDGES[EDGE_START[f] + nodeBin[i]] : Infinity;
      }
      const at = i * WIDTH;
      if (CLASSIFICATION) {
        const w = total(nodeStats, at);
        for (let c = 0; c < K; c++) value[i * K + c] = w > 0 ? nodeStats[at + c] / w : 0;
      } else {
        value[i] = nodeStats[at] > 0 ? nodeStats[at + 1] / nodeStats[at] : 0;
      }
    }
    return {
      nodes: n,
      feature: nodeFeature.slice(0, n),
      threshold,
      left: nodeLeft.slice(0, n),
      missingLeft: nodeMissingLeft.slice(0, n),
      value,
      importance,
      oobRows: new Int32Array(0),
      oobLeaves: new Int32Array(0),
      heldOutLeaves: new Int32Array(0),
    };
  }

  return function growTree(tree: number): GrownTree {
    const rng = new RngClass(settings.seed, tree);
    // The bootstrap is drawn first from the tree's stream: as counts per row, used as weights.
    COUNTS.fill(0);
    if (BOOTSTRAP) for (let j = 0; j < BOOTSTRAP_SIZE; j++) COUNTS[rng.int(ROWS)]++;
    else COUNTS.fill(1);
    let inBag = 0;
    for (let i = 0; i < ROWS; i++) {
      const c = COUNTS[i];
      if (c === 0) continue;
      SLOT_W[inBag] = CLASSIFICATION && CLASS_WEIGHT ? c * CLASS_WEIGHT[CLASS_INDEX[i]] : c;
      if (CLASSIFICATION) SLOT_C[inBag] = CLASS_INDEX[i];
      else SLOT_Y[inBag] = TARGET[i];
      INDEX[inBag++] = i;
    }
    count = 0;
    const importance = new Float64Array(FEATURES);
    for (let f = 0; f < FEATURES; f++) ORDER[f] = f;

    let outside = 0;
    if (BOOTSTRAP) for (let i = 0; i < ROWS; i++) if (COUNTS[i] === 0) OOB_INDEX[outside++] = i;
    const passengers = outside + HELD_OUT;
    for (let h = 0; h < HELD_OUT; h++) OOB_INDEX[outside + h] = ROWS + h;
    const root = addNode(0, inBag, 0, 0, 0, passengers);
    for (let s = 0; s < inBag; s++) {
      if (CLASSIFICATION) nodeStats[SLOT_C[s]] += SLOT_W[s];
      else {
        nodeStats[0] += SLOT_W[s];
        nodeStats[1] += SLOT_W[s] * SLOT_Y[s];
        nodeStats[2] += SLOT_W[s] * SLOT_Y[s] * SLOT_Y[s];
      }
    }
    const stack: number[] = [root];

    while (stack.length > 0) {
      const node = stack.pop()!;
      const start = nodeStart[node];
      const end = nodeEnd[node];
      const depth = nodeDepth[node];
      const n = end - start;
      const statsAt = node * WIDTH;
      const w = weightOf(nodeStats, statsAt);
      const nodeImpurity = impurity(nodeStats, statsAt);
      if (depth >= MAX_DEPTH || n < MIN_SPLIT || n < 2 * MIN_LEAF || nodeImpurity <= PURE) continue;

      BEST[PROXY] = -Infinity;
      let bestFeature = -1;
      // Features known to be constant here (constant in an ancestor) sit at ORDER[0 .. constants) and are
      // never drawn; those found constant in this node join them, for the children (scikit-learn's rule).
      let constants = nodeConstants[node];
      let undrawn = FEATURES;
      let visited = 0;
      while (undrawn > constants && visited < MTRY) {
        const r = constants + rng.int(undrawn - constants);
        const f = ORDER[r];
        const base = f * STRIDE;
        const range = CLASSIFICATION ? fillClassHistogram(base, start, end) : fillTargetHistogram(base, start, end);
        const lo = range & 0x1ff;
        const hi = ((range >>> 9) & 0x1ff) - 1;
        const missing = range >>> 18;
        if (hi <= lo && (hi < 0 || missing === 0)) {
          ORDER[r] = ORDER[constants];
          ORDER[constants] = f;
          constants++;
          clearHistogram(lo, hi, missing);
          continue;
        }
        undrawn--;
        ORDER[r] = ORDER[undrawn];
        ORDER[undrawn] = f;
        visited++;
        const improved = CLASSIFICATION
          ? scanClassSplits(missing, lo, hi, n, w, statsAt)
          : scanTargetSplits(missing, lo, hi, n, w, nodeStats[statsAt + 1]);
        if (improved) bestFeature = f;
        clearHistogram(lo, hi, missing);
      }
      if (bestFeature < 0) continue;

      let bestBin = BEST[BIN];
      // Put the threshold mid-way across the empty bins between the two sides, as scikit-learn puts it mid-way
      // between the two values.
      if (BEST[NEXT_BIN] > bestBin) bestBin = (bestBin + BEST[NEXT_BIN] - 1) >> 1;
      const missingLeft = BEST[MISSING_LEFT];
      LEFT.fill(0);
      RIGHT.fill(0);
      const middle = CLASSIFICATION
        ? partitionClass(bestFeature * STRIDE, start, end, bestBin, missingLeft)
        : partitionTarget(bestFeature * STRIDE, start, end, bestBin, missingLeft);
      const oobStart = nodeOobStart[node];
      const oobEnd = nodeOobEnd[node];
      const oobMiddle = oobStart < oobEnd ? partitionOutOfBag(bestFeature * STRIDE, oobStart, oobEnd, bestBin, missingLeft) : oobStart;
      const leftChild = addNode(start, middle, depth + 1, constants, oobStart, oobMiddle);
      const rightChild = addNode(middle, end, depth + 1, constants, oobMiddle, oobEnd);
      nodeStats.set(LEFT, leftChild * WIDTH);
      nodeStats.set(RIGHT, rightChild * WIDTH);
      nodeFeature[node] = bestFeature;
      nodeBin[node] = bestBin;
      nodeMissingLeft[node] = missingLeft;
      nodeLeft[node] = leftChild;
      importance[bestFeature] +=
        w * nodeImpurity - weightOf(LEFT, 0) * impurity(LEFT, 0) - weightOf(RIGHT, 0) * impurity(RIGHT, 0);
      stack.push(rightChild, leftChild);
    }

    const grown = finish(importance);
    placePassengers(grown, outside, passengers);
    return grown;
  };
}
