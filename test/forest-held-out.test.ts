// Held-out rows scored while the trees grow (TrainOptions.heldOut): binned with the training rows' edges and carried
// down each tree with its out-of-bag rows. The scores must be the batch predictor's on the raw values, to the bit —
// with missing values, values past every edge, regression, no bootstrap, and on one or two threads.
import { describe, expect, it } from 'vitest';
import { RandomForest } from '../src/model/forest/forest.js';
import type { Matrix } from '../src/util/matrix.js';
import type { ForestOptions } from '../src/model/forest/options.js';
import { holdOut, loadDataset, type DatasetName } from './helpers/data.js';

/** The matrix with some values made missing and some pushed past the training range, deterministically. */
function roughened(m: Matrix): Matrix {
  const values = Float64Array.from(m.values);
  for (let i = 0; i < values.length; i += 7) values[i] = NaN;
  for (let i = 3; i < values.length; i += 29) values[i] = values[i] * 1e6;
  for (let i = 5; i < values.length; i += 31) values[i] = -Infinity;
  return { rows: m.rows, columns: m.columns, values };
}

const bits = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

const cases: Array<[string, DatasetName, ForestOptions, boolean]> = [
  ['classification, missing and out-of-range values', 'breast-cancer', { trees: 12, seed: 3 }, true],
  ['10 classes, leaves of 3, subsampled', 'digits', { trees: 10, seed: 5, minSamplesLeaf: 3, maxSamples: 0.5 }, false],
  ['regression', 'diabetes', { task: 'regression', trees: 10, seed: 9 }, true],
  ['without bootstrap (no out-of-bag rows to ride with)', 'wine', { trees: 6, seed: 1, bootstrap: false, maxFeatures: 0.5 }, true],
];

describe('held-out scores made while training', () => {
  for (const [name, dataset, options, rough] of cases) {
    for (const workers of [1, 2]) {
      it(`${name}, ${workers} thread(s): equal to scores() to the bit`, async () => {
        const { train, test } = holdOut(loadDataset(dataset));
        const heldOut = rough ? roughened(test.x) : test.x;
        const forest = await new RandomForest(options).train(train.x, train.y, { workers, parallelAfterMs: 0, heldOut });
        const during = forest.heldOutScores;
        expect(during).not.toBeNull();
        const after = forest.scores(heldOut);
        expect(during!.length).toBe(after.length);
        expect(bits(during!)).toBe(bits(after));
      });
    }
  }

  it('the model is the same bytes with or without held-out rows', async () => {
    const { train, test } = holdOut(loadDataset('breast-cancer'));
    const a = await new RandomForest({ trees: 8, seed: 2 }).train(train.x, train.y, { workers: 1, heldOut: test.x });
    const b = await new RandomForest({ trees: 8, seed: 2 }).train(train.x, train.y, { workers: 1 });
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    expect(b.heldOutScores).toBeNull();
  });

  it('held-out rows of another width are refused with the widths named', async () => {
    const { train } = holdOut(loadDataset('breast-cancer'));
    const wrong = { rows: 2, columns: 3, values: new Float64Array(6) };
    await expect(new RandomForest({ trees: 2 }).train(train.x, train.y, { workers: 1, heldOut: wrong })).rejects.toThrow(/3 features but the model takes 30/);
  });
});
