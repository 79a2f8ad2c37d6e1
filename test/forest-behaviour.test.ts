// What a trained forest does, checked from the outside on real and synthetic data: held-out accuracy, the
// probabilities and importances it reports, its tree structure under maxDepth and minSamplesLeaf, missing
// values, class weights, the one-row paths and progress reports.
import { describe, expect, it } from 'vitest';
import { RandomForest, type Label } from '../src/model/forest/forest.js';
import type { Matrix } from '../src/util/matrix.js';
import type { FlatForest } from '../src/model/forest/flat.js';
import type { ForestOptions } from '../src/model/forest/options.js';
import {
  accuracy,
  holdOut,
  loadDataset,
  normal,
  recall,
  rSquared,
  seeded,
  toRows,
  type Dataset,
  type DatasetName,
  type HeldOut,
} from './helpers/data.js';

// Each (data set, options) pair is trained once per file and shared by the tests that only read the model.
const trained = new Map<string, Promise<{ forest: RandomForest; split: HeldOut }>>();

function trainHeldOut(name: DatasetName, options: ForestOptions): Promise<{ forest: RandomForest; split: HeldOut }> {
  const key = `${name} ${JSON.stringify(options)}`;
  let hit = trained.get(key);
  if (!hit) {
    const split = holdOut(loadDataset(name), 0.25, 7, options.task !== 'regression');
    hit = new RandomForest(options).train(split.train.x, split.train.y, { workers: 1 }).then((forest) => ({ forest, split }));
    trained.set(key, hit);
  }
  return hit;
}

const CLASSIFIERS: readonly [DatasetName, ForestOptions][] = [
  ['iris', { trees: 30, seed: 1 }],
  ['wine', { trees: 30, seed: 1 }],
  ['breast-cancer', { trees: 50, seed: 1 }],
  ['digits', { trees: 50, seed: 1 }],
];
const REGRESSOR: ForestOptions = { task: 'regression', trees: 30, seed: 1 };

/** The depth of every leaf of one tree, walking from its root: feature -1 is a leaf, children at left, left + 1. */
function leafDepths(flat: FlatForest, tree: number): number[] {
  const depths: number[] = [];
  const stack: [number, number][] = [[flat.roots[tree], 0]];
  let visited = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (++visited > flat.nodes) throw new Error(`tree ${tree} visits more nodes than the forest has`);
    if (flat.feature[node] < 0) depths.push(depth);
    else stack.push([flat.left[node], depth + 1], [flat.left[node] + 1, depth + 1]);
  }
  return depths;
}

/** Training rows per leaf of one tree (rows routed through the flat arrays, as prediction routes them). */
function rowsPerLeaf(flat: FlatForest, tree: number, x: Matrix): Map<number, number[]> {
  const leaves = new Map<number, number[]>();
  for (let r = 0; r < x.rows; r++) {
    const leaf = flat.leaf(flat.roots[tree], x.values, r * x.columns);
    const list = leaves.get(leaf);
    if (list) list.push(r);
    else leaves.set(leaf, [r]);
  }
  return leaves;
}

function leafCount(flat: FlatForest, tree: number): number {
  return leafDepths(flat, tree).length;
}

describe('held-out quality', () => {
  it.each<[DatasetName, ForestOptions, number]>([
    ['iris', CLASSIFIERS[0][1], 0.9],
    ['wine', CLASSIFIERS[1][1], 0.93],
    ['breast-cancer', CLASSIFIERS[2][1], 0.92],
    ['digits', CLASSIFIERS[3][1], 0.93],
  ])('%s: held-out accuracy at least the floor', async (name, options, floor) => {
    const { forest, split } = await trainHeldOut(name, options);
    const predicted = forest.predict(split.test.x);
    expect(accuracy(predicted, split.test.y)).toBeGreaterThanOrEqual(floor);
    expect(new Set(predicted).size).toBeGreaterThan(1);
    for (const label of new Set(predicted)) expect(forest.classes).toContain(label);
  });

  it('diabetes: held-out R² at least 0.3', async () => {
    const { forest, split } = await trainHeldOut('diabetes', REGRESSOR);
    expect(forest.classes).toBeNull();
    expect(rSquared(forest.predict(split.test.x), split.test.y)).toBeGreaterThanOrEqual(0.3);
  });

  it.each([...CLASSIFIERS, ['diabetes', REGRESSOR] as [DatasetName, ForestOptions]])(
    '%s: rows and a matrix of the same values predict the same',
    async (name, options) => {
      const { forest, split } = await trainHeldOut(name, options);
      expect(forest.predict(toRows(split.test.x))).toEqual(forest.predict(split.test.x));
    },
  );
});

describe('probabilities', () => {
  it.each(CLASSIFIERS)('%s: every held-out row sums to 1 within 1e-12, each in [0, 1]', async (name, options) => {
    const { forest, split } = await trainHeldOut(name, options);
    const proba = forest.predictProba(split.test.x);
    expect(proba).toHaveLength(split.test.x.rows);
    const off: number[] = [];
    for (const row of proba) {
      expect(row).toHaveLength(forest.classes!.length);
      const sum = row.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-12) off.push(sum);
      for (const p of row) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThanOrEqual(1);
      }
    }
    expect(off).toEqual([]);
  });

  it.each(CLASSIFIERS)('%s: the predicted label is the most probable class', async (name, options) => {
    const { forest, split } = await trainHeldOut(name, options);
    const proba = forest.predictProba(split.test.x);
    const labels = forest.predict(split.test.x);
    proba.forEach((row, r) => {
      const best = Math.max(...row);
      expect(row[forest.classes!.indexOf(labels[r])]).toBe(best);
    });
  });
});

/** A synthetic set where only feature 0 carries the target; features 1..4 are noise. */
function signalInFeatureZero(task: 'classification' | 'regression', n: number, seed: number): Dataset {
  const random = seeded(seed);
  const columns = 5;
  const values = new Float64Array(n * columns);
  const y: Label[] = [];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < columns; c++) values[i * columns + c] = random();
    const x0 = values[i * columns];
    y.push(task === 'classification' ? (x0 > 0.5 ? 'high' : 'low') : 3 * x0 + 0.1 * normal(random));
  }
  return { x: { rows: n, columns, values }, y };
}

describe('feature importances', () => {
  it.each([...CLASSIFIERS, ['diabetes', REGRESSOR] as [DatasetName, ForestOptions]])(
    '%s: one per feature, all ≥ 0, summing to 1 within 1e-12',
    async (name, options) => {
      const { forest, split } = await trainHeldOut(name, options);
      const importances = Array.from(forest.featureImportances);
      expect(importances).toHaveLength(split.train.x.columns);
      expect(importances.filter((v) => !(v >= 0))).toEqual([]);
      expect(Math.abs(importances.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
    },
  );

  it.each(['classification', 'regression'] as const)('%s: the only informative feature ranks first', async (task) => {
    const data = signalInFeatureZero(task, 400, 21);
    const forest = await new RandomForest({ task, trees: 20, seed: 2 }).train(data.x, data.y, { workers: 1 });
    const importances = Array.from(forest.featureImportances);
    const rest = Math.max(...importances.slice(1));
    expect(importances[0]).toBeGreaterThan(rest);
    expect(importances[0]).toBeGreaterThan(0.5);
  });
});

describe('out-of-bag score', () => {
  it('breast cancer: in [0, 1] and within 0.05 of the held-out accuracy', async () => {
    const { forest, split } = await trainHeldOut('breast-cancer', CLASSIFIERS[2][1]);
    const oob = forest.oobScore;
    if (oob === null) throw new Error('a bootstrapped forest has an out-of-bag score');
    expect(oob).toBeGreaterThanOrEqual(0);
    expect(oob).toBeLessThanOrEqual(1);
    const heldOut = accuracy(forest.predict(split.test.x), split.test.y);
    expect(Math.abs(oob - heldOut)).toBeLessThanOrEqual(0.05);
  });

  it('diabetes: an R² (positive, at most 1) for regression', async () => {
    const { forest } = await trainHeldOut('diabetes', REGRESSOR);
    const oob = forest.oobScore;
    if (oob === null) throw new Error('a bootstrapped forest has an out-of-bag score');
    expect(oob).toBeGreaterThan(0.2);
    expect(oob).toBeLessThanOrEqual(1);
  });

  it.each<[DatasetName, ForestOptions]>([
    ['iris', { trees: 10, seed: 1, bootstrap: false }],
    ['diabetes', { task: 'regression', trees: 10, seed: 1, bootstrap: false }],
  ])('%s: null without bootstrap', async (name, options) => {
    const { forest } = await trainHeldOut(name, options);
    expect(forest.oobScore).toBeNull();
  });
});

describe('tree structure', () => {
  it.each([1, 3, 6])('maxDepth %i: no root-to-leaf path is longer, and some path reaches it', async (maxDepth) => {
    const { forest } = await trainHeldOut('breast-cancer', { trees: 15, seed: 3, maxDepth });
    const flat = forest.flat;
    expect(flat.trees).toBe(15);
    let deepest = 0;
    for (let t = 0; t < flat.trees; t++) {
      const depths = leafDepths(flat, t);
      for (const d of depths) expect(d).toBeLessThanOrEqual(maxDepth);
      deepest = Math.max(deepest, ...depths);
    }
    expect(deepest).toBe(maxDepth);
  });

  it('without maxDepth, the same data grows deeper than 3', async () => {
    const { forest } = await trainHeldOut('breast-cancer', { trees: 15, seed: 3 });
    let deepest = 0;
    for (let t = 0; t < forest.flat.trees; t++) deepest = Math.max(deepest, ...leafDepths(forest.flat, t));
    expect(deepest).toBeGreaterThan(3);
  });

  // Checkable from outside without bootstrap: every training row is in every tree once, with weight 1, and
  // routing it through the flat arrays reproduces the training partition (bin edges are raw-value thresholds).
  it.each([5, 12])('minSamplesLeaf %i: every leaf holds at least that many training rows', async (minSamplesLeaf) => {
    const data = loadDataset('breast-cancer');
    const options: ForestOptions = { trees: 8, seed: 4, bootstrap: false };
    const limited = await new RandomForest({ ...options, minSamplesLeaf }).train(data.x, data.y, { workers: 1 });
    const free = await new RandomForest(options).train(data.x, data.y, { workers: 1 });
    const classes = limited.classes!;
    let smallestFree = Infinity;
    for (let t = 0; t < 8; t++) {
      const leaves = rowsPerLeaf(limited.flat, t, data.x);
      // Every leaf is reached, so the counts below cover the whole tree.
      expect(leaves.size).toBe(leafCount(limited.flat, t));
      for (const [leaf, rows] of leaves) {
        expect(rows.length).toBeGreaterThanOrEqual(minSamplesLeaf);
        // The leaf's stored class fractions are exactly those of the rows that reach it.
        classes.forEach((label, c) => {
          const share = rows.filter((r) => data.y[r] === label).length / rows.length;
          expect(Math.abs(limited.flat.value[leaf * classes.length + c] - share)).toBeLessThanOrEqual(1e-12);
        });
      }
      for (const rows of rowsPerLeaf(free.flat, t, data.x).values()) smallestFree = Math.min(smallestFree, rows.length);
    }
    // The setting is what holds the leaves up: unconstrained, the same trees have smaller leaves.
    expect(smallestFree).toBeLessThan(minSamplesLeaf);
  });
});

/** A set where the missingness of feature 0 is the class (classification) or shifts the target (regression). */
function missingIsSignal(task: 'classification' | 'regression', n: number, seed: number): Dataset {
  const random = seeded(seed);
  const values = new Float64Array(n * 3);
  const y: Label[] = [];
  for (let i = 0; i < n; i++) {
    const absent = random() < 0.4;
    values[i * 3] = absent ? NaN : normal(random);
    values[i * 3 + 1] = normal(random);
    values[i * 3 + 2] = normal(random);
    y.push(task === 'classification' ? (absent ? 'absent' : 'present') : (absent ? 10 : 0) + 0.1 * normal(random));
  }
  return { x: { rows: n, columns: 3, values }, y };
}

describe('missing values', () => {
  it('classification: learns from missingness, and routes null and NaN alike', async () => {
    const split = holdOut(missingIsSignal('classification', 400, 5));
    const forest = await new RandomForest({ trees: 20, seed: 1 }).train(split.train.x, split.train.y, { workers: 1 });
    expect(accuracy(forest.predict(split.test.x), split.test.y)).toBeGreaterThanOrEqual(0.95);
    const rows = [
      [null, 0.1, -0.2],
      [NaN, 0.1, -0.2],
      [null, -1.5, 2],
      [NaN, 1.5, -2],
    ];
    expect(forest.predict(rows)).toEqual(['absent', 'absent', 'absent', 'absent']);
    expect(rows.map((r) => forest.predictRow(r))).toEqual(['absent', 'absent', 'absent', 'absent']);
    expect(forest.predict({ rows: 1, columns: 3, values: Float64Array.from([NaN, 0.1, -0.2]) })).toEqual(['absent']);
    // null and NaN are the same missing value, to the last bit of the probabilities.
    expect(forest.predictProba([[null, 0.3, 0.3]])).toEqual(forest.predictProba([[NaN, 0.3, 0.3]]));
    expect(forest.predict([[0.3, 0.1, -0.2], [-2, 0, 0], [2.5, 0, 0]])).toEqual(['present', 'present', 'present']);
    expect(forest.featureImportances[0]).toBeGreaterThan(0.5);
  });

  it('regression: learns from missingness, and routes null and NaN alike', async () => {
    const split = holdOut(missingIsSignal('regression', 400, 6), 0.25, 7, false);
    const forest = await new RandomForest({ task: 'regression', trees: 20, seed: 1 }).train(split.train.x, split.train.y, {
      workers: 1,
    });
    expect(rSquared(forest.predict(split.test.x), split.test.y)).toBeGreaterThanOrEqual(0.95);
    const [byNull, byNaN, present] = forest.predict([
      [null, 0.1, -0.2],
      [NaN, 0.1, -0.2],
      [0.4, 0.1, -0.2],
    ]);
    expect(byNull).toBe(byNaN);
    expect(byNull).toBeGreaterThan(9);
    expect(present).toBeLessThan(1);
    // predict turns null into NaN before the trees see it; predictRow hands the trees null itself.
    const rowByNull = forest.predictRow([null, 0.1, -0.2]);
    expect(rowByNull).toBe(forest.predictRow([NaN, 0.1, -0.2]));
    expect(rowByNull).toBe(byNull);
  });
});

/** Two overlapping classes, "rare" about 8 % of rows. */
function imbalanced(n: number, seed: number): Dataset {
  const random = seeded(seed);
  const values = new Float64Array(n * 4);
  const y: Label[] = [];
  for (let i = 0; i < n; i++) {
    const rare = random() < 0.08;
    y.push(rare ? 'rare' : 'common');
    for (let c = 0; c < 4; c++) values[i * 4 + c] = normal(random) + (rare && c < 2 ? 1.2 : 0);
  }
  return { x: { rows: n, columns: 4, values }, y };
}

describe('class weights', () => {
  // Leaves of at least 10 rows stay mixed, so a weight can move their majority (fully grown leaves are pure).
  it.each<[string, ForestOptions['classWeight']]>([
    ['"balanced"', 'balanced'],
    ['{ rare: 12 }', { rare: 12 }],
  ])('%s raises held-out recall of the minority class', async (_, classWeight) => {
    const split = holdOut(imbalanced(1600, 3));
    const options: ForestOptions = { trees: 30, seed: 1, minSamplesLeaf: 10 };
    const plain = await new RandomForest(options).train(split.train.x, split.train.y, { workers: 1 });
    const weighted = await new RandomForest({ ...options, classWeight }).train(split.train.x, split.train.y, { workers: 1 });
    const before = recall(plain.predict(split.test.x), split.test.y, 'rare');
    const after = recall(weighted.predict(split.test.x), split.test.y, 'rare');
    expect(after).toBeGreaterThanOrEqual(before + 0.2);
  });
});

describe('one-row paths', () => {
  it.each(CLASSIFIERS)('%s: predictRow and predictProbaRow give exactly the batch numbers', async (name, options) => {
    const { forest, split } = await trainHeldOut(name, options);
    const rows = toRows(split.test.x);
    const labels = forest.predict(split.test.x);
    const proba = forest.predictProba(split.test.x);
    const out = new Float64Array(forest.classes!.length);
    const mismatches: string[] = [];
    rows.forEach((row, r) => {
      if (forest.predictRow(row) !== labels[r]) mismatches.push(`label of row ${r}`);
      const returned = forest.predictProbaRow(row, out);
      if (returned !== out) mismatches.push(`predictProbaRow returned another array for row ${r}`);
      for (let c = 0; c < out.length; c++) if (out[c] !== proba[r][c]) mismatches.push(`p[${r}][${c}]`);
    });
    expect(mismatches).toEqual([]);
  });

  it('diabetes: predictRow gives exactly the batch values', async () => {
    const { forest, split } = await trainHeldOut('diabetes', REGRESSOR);
    const values = forest.predict(split.test.x);
    const mismatches = toRows(split.test.x).filter((row, r) => forest.predictRow(row) !== values[r]);
    expect(mismatches).toEqual([]);
  });

  it('predictProbaRow fills and returns the array it is given', async () => {
    const { forest, split } = await trainHeldOut('iris', CLASSIFIERS[0][1]);
    const out = new Float64Array([7, 7, 7]);
    const row = toRows(split.test.x)[0];
    expect(forest.predictProbaRow(row, out)).toBe(out);
    expect(Array.from(out)).toEqual(forest.predictProba([row])[0]);
  });
});

describe('progress', () => {
  it.each([1, 2])('with %i worker(s): called with (1..T, T) in order, ending at (T, T)', async (workers) => {
    const iris = loadDataset('iris');
    const calls: [number, number][] = [];
    await new RandomForest({ trees: 12, seed: 1 }).train(iris.x, iris.y, {
      workers,
      onProgress: (done, total) => calls.push([done, total]),
    });
    expect(calls).toEqual(Array.from({ length: 12 }, (_, i) => [i + 1, 12]));
  });
});
