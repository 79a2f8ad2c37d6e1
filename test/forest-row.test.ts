/**
 * The one-row walk (FlatForest.predictRow: packed nodes, leaves that lead to themselves, eight trees at a time, a
 * child chosen without a branch) gives the batch path's numbers to the bit, on every reference data set, for
 * classification with 2, 3 and 10 classes and for regression, for tree counts that are and are not multiples of
 * eight, shallow and fully grown trees; and rows with missing values (NaN, null) or too short take the walk that
 * tests each node, which sends them the node's missing way, not the walk without tests (which would send them left).
 */
import { describe, expect, it } from 'vitest';
import { RandomForest, type Label } from '../src/model/forest/forest.js';
import type { Matrix } from '../src/util/matrix.js';
import { loadFixture, type Dataset } from './helpers/reference.js';

/** Every row of x through predictRow and predictRowTested, each compared with the batch path's scores with Object.is. */
function mismatches(forest: RandomForest, x: Matrix): string[] {
  const flat = forest.flat;
  const width = flat.width;
  const batch = forest.scores(x);
  const fast = new Float64Array(width);
  const tested = new Float64Array(width);
  const wrong: string[] = [];
  for (let r = 0; r < x.rows; r++) {
    const row = x.values.subarray(r * x.columns, (r + 1) * x.columns);
    flat.predictRow(row, fast);
    flat.predictRowTested(row, tested);
    for (let c = 0; c < width; c++) {
      const want = batch[r * width + c];
      if (!Object.is(fast[c], want)) wrong.push(`row ${r} score ${c}: predictRow ${fast[c]}, batch ${want}`);
      if (!Object.is(tested[c], want)) wrong.push(`row ${r} score ${c}: predictRowTested ${tested[c]}, batch ${want}`);
    }
  }
  return wrong;
}

/** The data with every k-th value (offset by the column) made NaN: missing values in training and prediction. */
function withHoles(x: Matrix, k: number): Matrix {
  const values = Float64Array.from(x.values);
  for (let i = 0; i < values.length; i++) if ((i * 7 + Math.floor(i / x.columns)) % k === 0) values[i] = NaN;
  return { rows: x.rows, columns: x.columns, values };
}

async function trained(data: Dataset, x: Matrix, y: Label[], trees: number, maxDepth: number | null, seed: number): Promise<RandomForest> {
  const forest = new RandomForest({ task: data.task, trees, maxDepth, seed, maxFeatures: 'sqrt' });
  await forest.train(x, y, { workers: 1 });
  return forest;
}

const SETS: [string, 'classification' | 'regression'][] = [
  ['iris', 'classification'],
  ['wine', 'classification'],
  ['breast-cancer', 'classification'],
  ['digits', 'classification'],
  ['diabetes', 'regression'],
];

describe('the one-row walk gives the batch path its numbers to the bit', () => {
  for (const [name, task] of SETS) {
    it(`${name} (${task}): 1, 13 and 40 trees, depth 4 and fully grown, with and without missing values`, async () => {
      const data = loadFixture(name, task);
      const holed = withHoles(data.x, 11);
      let compared = 0;
      for (const [trees, maxDepth, seed] of [
        [1, null, 1],
        [13, 4, 2],
        [40, null, 3],
      ] as const) {
        for (const x of [data.x, holed]) {
          const forest = await trained(data, x, data.y, trees, maxDepth, seed);
          expect(forest.flat.trees).toBe(trees);
          expect(mismatches(forest, x)).toEqual([]);
          // A forest trained without holes, asked about rows with holes: every missing value goes its node's way.
          if (x === data.x) expect(mismatches(forest, holed)).toEqual([]);
          compared += x.rows;
        }
      }
      expect(compared).toBeGreaterThan(0);
    });
  }
});

describe('rows the walk without tests must not take', () => {
  it('a NaN goes the way its node learned for missing values, left or right, as in the batch path', async () => {
    // Missing values of feature 0 mean "high": training puts them right of every split on it.
    const rows = 400;
    const values = new Float64Array(rows * 2);
    const y: number[] = [];
    for (let r = 0; r < rows; r++) {
      const v = r % 4 === 0 ? NaN : (r % 97) / 97;
      values[r * 2] = v;
      values[r * 2 + 1] = (r * 31) % 17;
      y.push(Number.isNaN(v) || v > 0.5 ? 1 : 0);
    }
    const x = { rows, columns: 2, values };
    const forest = new RandomForest({ trees: 9, seed: 5, maxFeatures: 'all' });
    await forest.train(x, y, { workers: 1 });
    const flat = forest.flat;
    // Splits that send missing values right: the walk without tests would send them left (NaN > t is false).
    let right = 0;
    for (let i = 0; i < flat.nodes; i++) if (flat.feature[i] >= 0 && flat.missingLeft[i] === 0) right++;
    expect(right).toBeGreaterThan(0);
    expect(mismatches(forest, x)).toEqual([]);
    const out = new Float64Array(2);
    flat.predictRow(Float64Array.of(NaN, 3), out);
    expect(out[1]).toBeGreaterThan(0.9);
  });

  it('a row of numbers and nulls (a plain array) scores as the same row with NaN', async () => {
    const data = loadFixture('iris', 'classification');
    const forest = await trained(data, data.x, data.y, 17, null, 4);
    const row: (number | null)[] = Array.from(data.x.values.subarray(0, data.x.columns));
    row[2] = null;
    const nan = Float64Array.from(row, (v) => (v === null ? NaN : v));
    const a = new Float64Array(3);
    const b = new Float64Array(3);
    forest.flat.predictRow(row, a);
    forest.flat.predictRow(nan, b);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(forest.predictProbaRow(row, new Float64Array(3)))).toEqual(Array.from(forest.scores({ rows: 1, columns: 4, values: nan })));
  });

  it('a row shorter than the features the trees read scores its absent values as missing, as predictRowTested does', async () => {
    const data = loadFixture('wine', 'classification');
    const forest = await trained(data, data.x, data.y, 10, null, 6);
    const short = data.x.values.subarray(0, 3);
    const a = new Float64Array(3);
    const b = new Float64Array(3);
    forest.flat.predictRow(short, a);
    forest.flat.predictRowTested(short, b);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('a forest loaded from its JSON walks as the one trained', async () => {
    const data = loadFixture('breast-cancer', 'classification');
    const forest = await trained(data, data.x, data.y, 21, 8, 9);
    const loaded = RandomForest.fromJSON(JSON.parse(JSON.stringify(forest.toJSON())));
    expect(mismatches(loaded, data.x)).toEqual([]);
  });
});
