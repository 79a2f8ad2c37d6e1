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

  static fromTrees(trees: readonly GrownTree[], width: number): FlatForest {
    let total = 0;
    for (const t of trees) total += t.nodes;
    const roots = new Int32Array(trees.length);
    const feature = new Int32Array(total);
    const threshold = new Float64Array(total);
    const left = new Int32Array(total);
    const missingLeft = new Uint8Array(total);
    const value = new Float64Array(total * width);
    let offset = 0;
    trees.forEach((t, ti) => {
      roots[ti] = offset;
      feature.set(t.feature, offset);
      threshold.set(t.threshold, offset);
      missingLeft.set(t.missingLeft, offset);
      value.set(t.value, offset * width);
      for (let i = 0; i < t.nodes; i++) left[offset + i] = t.left[i] < 0 ? -1 : t.left[i] + offset;
      offset += t.nodes;
    });
    return new FlatForest(width, roots, feature, threshold, left, missingLeft, value);
  }

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

  /** One row: the mean of the trees' leaf values into out[outAt .. outAt + width). */
  predictRow(x: ArrayLike<number | null>, out: Float64Array, outAt = 0): void {
    const width = this.width;
    const value = this.value;
    const roots = this.roots;
    for (let c = 0; c < width; c++) out[outAt + c] = 0;
    for (let t = 0; t < roots.length; t++) {
      const at = this.leaf(roots[t], x, 0) * width;
      for (let c = 0; c < width; c++) out[outAt + c] += value[at + c];
    }
    const scale = 1 / roots.length;
    for (let c = 0; c < width; c++) out[outAt + c] *= scale;
  }

  /**
   * Many rows (row-major, NaN for missing): tree by tree over all rows, which keeps one tree's nodes in cache
   * (2.3× faster than row by row in BASELINES.md). out holds rows × width values.
   */
  predictBatch(x: Float64Array, rows: number, features: number, out: Float64Array): void {
    const width = this.width;
    const value = this.value;
    const feature = this.feature;
    const threshold = this.threshold;
    const left = this.left;
    const missingLeft = this.missingLeft;
    out.fill(0, 0, rows * width);
    for (let t = 0; t < this.roots.length; t++) {
      const root = this.roots[t];
      for (let r = 0; r < rows; r++) {
        const base = r * features;
        let node = root;
        let f = feature[node];
        while (f >= 0) {
          const v = x[base + f];
          const th = threshold[node];
          node = v <= th ? left[node] : v > th ? left[node] + 1 : missingLeft[node] === 1 ? left[node] : left[node] + 1;
          f = feature[node];
        }
        const at = node * width;
        const o = r * width;
        for (let c = 0; c < width; c++) out[o + c] += value[at + c];
      }
    }
    const scale = 1 / this.roots.length;
    for (let i = 0; i < rows * width; i++) out[i] *= scale;
  }
}
