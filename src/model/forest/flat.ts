import type { GrownTree } from './grow.js';

/**
 * All trees of a forest in one set of typed arrays, one array per node field. A split node's children sit at
 * left and left + 1; a leaf has feature -1. Prediction walks these arrays and allocates nothing.
 */
export class FlatForest {
  constructor(
    /** Values per leaf: the number of classes, or 1 for regression. */
    readonly width: number,
    readonly roots: Int32Array,
    readonly feature: Int32Array,
    readonly threshold: Float64Array,
    readonly left: Int32Array,
    readonly missingLeft: Uint8Array,
    readonly value: Float64Array,
  ) {}

  get trees(): number {
    return this.roots.length;
  }

  get nodes(): number {
    return this.feature.length;
  }

  /** The leaf that row `x` (values from `at`, NaN or null for missing) reaches in the tree rooted at `root`. */
  leaf(root: number, x: ArrayLike<number | null>, at: number): number {
    const feature = this.feature;
    const threshold = this.threshold;
    const left = this.left;
    let node = root;
    let f = feature[node];
    while (f >= 0) {
      const v = x[at + f];
      const t = threshold[node];
      // NaN (and null, below) compare false both ways: that is the missing branch.
      node = v === null ? (this.missingLeft[node] === 1 ? left[node] : left[node] + 1)
        : v <= t ? left[node]
        : v > t ? left[node] + 1
        : this.missingLeft[node] === 1 ? left[node] : left[node] + 1;
      f = feature[node];
    }
    return node;
  }

  /** One row: the mean of the trees' leaf values into out[outAt .. outAt + width). Allocates nothing. */
  predictRow(x: ArrayLike<number | null>, out: Float64Array, outAt = 0): void {
    this.predictor().row(x, out, outAt);
  }

  /**
   * One row by the walk that tests every node for a leaf and a missing value: what predictRow does for a row with
   * a missing value, and what it did for every row before the walk without tests (kept to compare, in bench/ and
   * the tests). The same numbers as predictRow, to the bit.
   */
  predictRowTested(x: ArrayLike<number | null>, out: Float64Array, outAt = 0): void {
    this.predictor().exact(x, out, outAt);
  }

  /**
   * Many rows (row-major, NaN for missing): tree by tree over all rows, which keeps one tree's nodes in cache
   * (2.3× faster than row by row in BASELINES.md). out holds rows × width values.
   */
  predictBatch(x: Float64Array, rows: number, features: number, out: Float64Array): void {
    this.predictor().batch(x, rows, features, out);
  }

  /**
   * For the one-row walk: per group of `lanes` trees (in order), the depth of its deepest tree, and the highest
   * feature a split reads (-1 when none does). Found by walking each tree depth first, one pending sibling a level.
   */
  shape(lanes: number): { groupDepth: Int32Array; maxFeature: number } {
    const groupDepth = new Int32Array(Math.ceil(this.trees / lanes));
    const stack: number[] = [];
    let maxFeature = -1;
    for (let t = 0; t < this.trees; t++) {
      stack.push(this.roots[t], 0);
      let deepest = 0;
      while (stack.length > 0) {
        const d = stack.pop() as number;
        const i = stack.pop() as number;
        const f = this.feature[i];
        if (f < 0) {
          if (d > deepest) deepest = d;
          continue;
        }
        if (f > maxFeature) maxFeature = f;
        stack.push(this.left[i], d + 1, this.left[i] + 1, d + 1);
      }
      const g = (t / lanes) | 0;
      if (deepest > groupDepth[g]) groupDepth[g] = deepest;
    }
    return { groupDepth, maxFeature };
  }

  private compiled: Predictor | undefined;

  private predictor(): Predictor {
    this.compiled ??= compilePredictor(this);
    return this.compiled;
  }
}

/**
 * Joins grown trees into one forest as they arrive, in their numbers' order (the bytes of the model must not depend
 * on which thread finished first), so that a grown tree's arrays can go at once: holding all grown trees and then
 * copying them into the forest cost twice the forest's ~200 MB at a million rows. The arrays are sized from the
 * first tree (trees of one forest differ little) and grow by a quarter when that was too little.
 */
export class FlatForestBuilder {
  private readonly roots: Int32Array;
  private feature = new Int32Array(0);
  private threshold = new Float64Array(0);
  private left = new Int32Array(0);
  private missingLeft = new Uint8Array(0);
  private value = new Float64Array(0);
  private nodes = 0;
  private added = 0;

  constructor(
    private readonly width: number,
    private readonly trees: number,
  ) {
    this.roots = new Int32Array(trees);
  }

  /** The next tree in number order; its node arrays are emptied once copied. */
  add(t: GrownTree): void {
    const offset = this.nodes;
    const need = offset + t.nodes;
    if (need > this.feature.length) {
      const guess = this.added === 0 ? Math.ceil(t.nodes * this.trees * 1.1) : Math.ceil(this.feature.length * 1.25);
      this.resize(Math.max(need, guess));
    }
    this.roots[this.added++] = offset;
    this.feature.set(t.feature, offset);
    this.threshold.set(t.threshold, offset);
    this.missingLeft.set(t.missingLeft, offset);
    this.value.set(t.value, offset * this.width);
    const left = this.left;
    for (let i = 0; i < t.nodes; i++) left[offset + i] = t.left[i] < 0 ? -1 : t.left[i] + offset;
    this.nodes = need;
    t.feature = new Int32Array(0);
    t.threshold = new Float64Array(0);
    t.left = new Int32Array(0);
    t.missingLeft = new Uint8Array(0);
    t.value = new Float64Array(0);
  }

  /** The forest, its arrays views of the used part (no copy is made to trim them). */
  finish(): FlatForest {
    const n = this.nodes;
    return new FlatForest(
      this.width,
      this.roots,
      this.feature.subarray(0, n),
      this.threshold.subarray(0, n),
      this.left.subarray(0, n),
      this.missingLeft.subarray(0, n),
      this.value.subarray(0, n * this.width),
    );
  }

  /** Field by field, so that only one field is ever held twice. */
  private resize(capacity: number): void {
    const n = this.nodes;
    this.feature = widened(this.feature, new Int32Array(capacity), n);
    this.threshold = widened(this.threshold, new Float64Array(capacity), n);
    this.left = widened(this.left, new Int32Array(capacity), n);
    this.missingLeft = widened(this.missingLeft, new Uint8Array(capacity), n);
    this.value = widened(this.value, new Float64Array(capacity * this.width), n * this.width);
  }
}

/** `to` with the first `used` values of `from`. */
function widened<T extends Int32Array | Float64Array | Uint8Array>(from: T, to: T, used: number): T {
  to.set(from.subarray(0, used));
  return to;
}

interface Predictor {
  exact(x: ArrayLike<number | null>, out: Float64Array, outAt: number): void;
  row(x: ArrayLike<number | null>, out: Float64Array, outAt: number): void;
  batch(x: Float64Array, rows: number, features: number, out: Float64Array): void;
}

let compiled = 0;

/**
 * Compiles the walk for one forest, for the reason the grower is compiled per training (grow.ts): V8 keeps
 * typed arrays held in `const` bindings of a closure that exists once as constants, and walks them faster.
 * Both paths add the trees' values in tree order and scale once, so they give the same numbers to the bit.
 */
function compilePredictor(forest: FlatForest): Predictor {
  const source = `"use strict"; return (${predictorFactory.toString()})(forest); // predictor ${++compiled}`;
  return (new Function('forest', source) as (f: FlatForest) => Predictor)(forest);
}

/**
 * Self-contained: compiled from its own source text, so it refers to nothing outside itself but `forest`.
 *
 * The one-row path walks its own copy of the nodes, built here on first use (16 bytes a node): a node's threshold
 * (float64) and its feature and left child (int32) side by side in one buffer, so one cache line holds all of a
 * node; and every leaf made a node that leads to itself (threshold +Infinity, left child itself). Then a tree
 * is walked a fixed number of steps — its depth — with no test for a leaf, and the child is chosen without a
 * branch: `left + ((v > threshold) | 0)`, which V8 compiles to a compare and a flag, where a branch is
 * mispredicted on half the nodes. Eight trees are walked in the same loop, so their loads overlap; the group's
 * steps are its deepest tree's. The leaves reached are then added in tree order, as the batch path adds them, so
 * the sums are the same to the bit.
 *
 * `v > t` is `!(v <= t)` for every number but NaN, which goes the node's missing way: a row with a NaN (or a
 * null) takes the walk that tests each node (`exact`). Thresholds stay float64: no split can move.
 */
function predictorFactory(forest: FlatForest): Predictor {
  const WIDTH = forest.width;
  const ROOTS = forest.roots;
  const TREES = forest.roots.length;
  const FEATURE = forest.feature;
  const THRESHOLD = forest.threshold;
  const LEFT = forest.left;
  const MISSING_LEFT = forest.missingLeft;
  const VALUE = forest.value;
  const SCALE = 1 / TREES;
  const NODES = FEATURE.length;

  const PACKED = new ArrayBuffer(16 * NODES);
  const NODE_THRESHOLD = new Float64Array(PACKED);
  const NODE_INT = new Int32Array(PACKED);
  for (let i = 0; i < NODES; i++) {
    const split = FEATURE[i] >= 0;
    NODE_THRESHOLD[2 * i] = split ? THRESHOLD[i] : Infinity;
    NODE_INT[4 * i + 2] = split ? FEATURE[i] : 0;
    NODE_INT[4 * i + 3] = split ? LEFT[i] : i;
  }
  // Each group of eight trees is walked as many steps as its deepest tree is deep.
  const LANES = 8;
  const GROUPS = Math.ceil(TREES / LANES);
  const { groupDepth: GROUP_DEPTH, maxFeature } = forest.shape(LANES);
  const LEAVES = new Int32Array(GROUPS * LANES);
  /** A row must reach this far for the walk without tests (a value past its end would read as undefined). */
  const MIN_LENGTH = maxFeature + 1;

  function exact(x: ArrayLike<number | null>, out: Float64Array, outAt: number): void {
    for (let c = 0; c < WIDTH; c++) out[outAt + c] = 0;
    for (let t = 0; t < TREES; t++) {
      let node = ROOTS[t];
      let f = FEATURE[node];
      while (f >= 0) {
        const v = x[f];
        const th = THRESHOLD[node];
        const l = LEFT[node];
        // NaN compares false both ways, and so does null here: the missing branch.
        node = v === null ? l + 1 - MISSING_LEFT[node] : v <= th ? l : v > th ? l + 1 : l + 1 - MISSING_LEFT[node];
        f = FEATURE[node];
      }
      const at = node * WIDTH;
      for (let c = 0; c < WIDTH; c++) out[outAt + c] += VALUE[at + c];
    }
    for (let c = 0; c < WIDTH; c++) out[outAt + c] *= SCALE;
  }

  /** The leaves of trees first … first + 7 (a tree past the last stays on node 0, never read). */
  function walkGroup(x: ArrayLike<number>, first: number, steps: number): void {
    const last = TREES - 1;
    let a = ROOTS[first];
    let b = first + 1 <= last ? ROOTS[first + 1] : 0;
    let c = first + 2 <= last ? ROOTS[first + 2] : 0;
    let d = first + 3 <= last ? ROOTS[first + 3] : 0;
    let e = first + 4 <= last ? ROOTS[first + 4] : 0;
    let f = first + 5 <= last ? ROOTS[first + 5] : 0;
    let g = first + 6 <= last ? ROOTS[first + 6] : 0;
    let h = first + 7 <= last ? ROOTS[first + 7] : 0;
    for (let s = steps; s > 0; s--) {
      a = NODE_INT[(a << 2) + 3] + (((x[NODE_INT[(a << 2) + 2]] > NODE_THRESHOLD[a << 1]) as unknown as number) | 0);
      b = NODE_INT[(b << 2) + 3] + (((x[NODE_INT[(b << 2) + 2]] > NODE_THRESHOLD[b << 1]) as unknown as number) | 0);
      c = NODE_INT[(c << 2) + 3] + (((x[NODE_INT[(c << 2) + 2]] > NODE_THRESHOLD[c << 1]) as unknown as number) | 0);
      d = NODE_INT[(d << 2) + 3] + (((x[NODE_INT[(d << 2) + 2]] > NODE_THRESHOLD[d << 1]) as unknown as number) | 0);
      e = NODE_INT[(e << 2) + 3] + (((x[NODE_INT[(e << 2) + 2]] > NODE_THRESHOLD[e << 1]) as unknown as number) | 0);
      f = NODE_INT[(f << 2) + 3] + (((x[NODE_INT[(f << 2) + 2]] > NODE_THRESHOLD[f << 1]) as unknown as number) | 0);
      g = NODE_INT[(g << 2) + 3] + (((x[NODE_INT[(g << 2) + 2]] > NODE_THRESHOLD[g << 1]) as unknown as number) | 0);
      h = NODE_INT[(h << 2) + 3] + (((x[NODE_INT[(h << 2) + 2]] > NODE_THRESHOLD[h << 1]) as unknown as number) | 0);
    }
    LEAVES[first] = a;
    LEAVES[first + 1] = b;
    LEAVES[first + 2] = c;
    LEAVES[first + 3] = d;
    LEAVES[first + 4] = e;
    LEAVES[first + 5] = f;
    LEAVES[first + 6] = g;
    LEAVES[first + 7] = h;
  }

  return {
    exact,

    row(x: ArrayLike<number | null>, out: Float64Array, outAt: number): void {
      if (x.length < MIN_LENGTH) return exact(x, out, outAt);
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        if (v === null || v !== v) return exact(x, out, outAt);
      }
      const values = x as ArrayLike<number>;
      for (let g = 0; g < GROUPS; g++) walkGroup(values, g * LANES, GROUP_DEPTH[g]);
      // Two classes (the common case) in one pass over the leaves: each sum adds the same values in the same order.
      if (WIDTH === 2) {
        let s0 = 0;
        let s1 = 0;
        for (let t = 0; t < TREES; t++) {
          const at = LEAVES[t] << 1;
          s0 += VALUE[at];
          s1 += VALUE[at + 1];
        }
        out[outAt] = s0 * SCALE;
        out[outAt + 1] = s1 * SCALE;
        return;
      }
      for (let c = 0; c < WIDTH; c++) {
        let sum = 0;
        for (let t = 0; t < TREES; t++) sum += VALUE[LEAVES[t] * WIDTH + c];
        out[outAt + c] = sum * SCALE;
      }
    },

    batch(x: Float64Array, rows: number, features: number, out: Float64Array): void {
      out.fill(0, 0, rows * WIDTH);
      for (let t = 0; t < TREES; t++) {
        const root = ROOTS[t];
        for (let r = 0; r < rows; r++) {
          const base = r * features;
          let node = root;
          let f = FEATURE[node];
          while (f >= 0) {
            const v = x[base + f];
            const th = THRESHOLD[node];
            const l = LEFT[node];
            node = v <= th ? l : v > th ? l + 1 : l + 1 - MISSING_LEFT[node];
            f = FEATURE[node];
          }
          const at = node * WIDTH;
          const o = r * WIDTH;
          for (let c = 0; c < WIDTH; c++) out[o + c] += VALUE[at + c];
        }
      }
      for (let i = 0; i < rows * WIDTH; i++) out[i] *= SCALE;
    },
  };
}
