// Bad input to RandomForest: each one must be refused with its own message (naming the value and the fix) and
// its stable code, and never with a crash or a silently wrong model.
import { describe, expect, it } from 'vitest';
import { RandomForest, type Row, type Rows } from '../src/model/forest/forest.js';
import type { Matrix } from '../src/util/matrix.js';
import type { ForestOptions } from '../src/model/forest/options.js';
import { caught, loadDataset, rejected } from './helpers/data.js';

// A small, well-formed training set: 6 rows, 3 features, 2 classes. Every bad case below changes one thing.
const X: number[][] = [
  [0.1, 1, 5],
  [0.4, 2, 3],
  [0.35, 1, 2],
  [0.8, 3, 1],
  [0.9, 2, 2],
  [0.2, 1, 4],
];
const Y = ['a', 'b', 'a', 'b', 'b', 'a'];

/** X with one value replaced (the rows are copied; X itself is never changed). */
function withValue(row: number, column: number, value: unknown): Row[] {
  const copy: unknown[][] = X.map((r) => r.slice());
  copy[row][column] = value;
  return copy as Row[];
}

function withRow(row: number, value: unknown): Rows {
  const copy: unknown[] = X.map((r) => r.slice());
  copy[row] = value;
  return copy as Rows;
}

function asMatrix(rows: readonly (readonly number[])[]): Matrix {
  return { rows: rows.length, columns: rows[0].length, values: Float64Array.from(rows.flat()) };
}

/** Forest options that TypeScript would refuse, as a caller in plain JavaScript (or a YAML file) could give. */
function untyped(options: unknown): ForestOptions {
  return options as ForestOptions;
}

const KNOWN = 'task, trees, maxDepth, minSamplesSplit, minSamplesLeaf, maxFeatures, bootstrap, maxSamples, classWeight, maxBins, seed';

describe('the small training set itself', () => {
  it('trains, so that every failure below comes from the one thing each case changes', async () => {
    const forest = await new RandomForest({ trees: 5, seed: 1 }).train(X, Y, { workers: 1 });
    expect(forest.isTrained).toBe(true);
    expect(forest.classes).toEqual(['a', 'b']);
    expect(forest.features).toBe(3);
  });
});

interface TrainCase {
  what: string;
  x: Rows;
  y: readonly unknown[];
  options?: ForestOptions;
  workers?: number;
  code: string;
  message: string;
  data?: Record<string, unknown>;
}

const trainCases: TrainCase[] = [
  // The training set's size.
  {
    what: 'an empty list of rows',
    x: [],
    y: [],
    code: 'E_TRAINING_DATA',
    message: 'the training set is empty (0 rows); give at least 2 rows',
    data: { rows: 0 },
  },
  {
    what: 'an empty matrix',
    x: { rows: 0, columns: 3, values: new Float64Array(0) },
    y: [],
    code: 'E_TRAINING_DATA',
    message: 'the training set is empty (0 rows); give at least 2 rows',
    data: { rows: 0 },
  },
  {
    what: 'fewer labels than rows',
    x: X,
    y: Y.slice(0, 5),
    code: 'E_TRAINING_DATA',
    message: 'y has 5 labels but X has 6 rows; give one label per row',
    data: { rows: 6, labels: 5 },
  },
  {
    what: 'more labels than rows',
    x: X,
    y: [...Y, 'a'],
    code: 'E_TRAINING_DATA',
    message: 'y has 7 labels but X has 6 rows; give one label per row',
    data: { rows: 6, labels: 7 },
  },
  {
    what: 'more labels than matrix rows',
    x: asMatrix(X.slice(0, 4)),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'y has 6 labels but X has 4 rows; give one label per row',
    data: { rows: 4, labels: 6 },
  },
  // Labels.
  {
    what: 'a single string class',
    x: X,
    y: ['a', 'a', 'a', 'a', 'a', 'a'],
    code: 'E_TRAINING_DATA',
    message:
      'y has a single class ("a"); classification needs at least 2 classes — check the target column or use task "regression"',
    data: { classes: ['a'] },
  },
  {
    what: 'a single numeric class',
    x: X,
    y: [3, 3, 3, 3, 3, 3],
    code: 'E_TRAINING_DATA',
    message:
      'y has a single class (3); classification needs at least 2 classes — check the target column or use task "regression"',
    data: { classes: [3] },
  },
  {
    what: 'boolean labels',
    x: X,
    y: [true, false, true, false, false, true],
    code: 'E_TRAINING_DATA',
    message: 'y[0] is a boolean (true); class labels must be strings or finite numbers',
    data: { row: 0 },
  },
  {
    what: 'an object label',
    x: X,
    y: ['a', 'b', { label: 'a' }, 'b', 'b', 'a'],
    code: 'E_TRAINING_DATA',
    message: 'y[2] is an object; class labels must be strings or finite numbers',
    data: { row: 2 },
  },
  {
    what: 'an array label',
    x: X,
    y: ['a', ['b'], 'a', 'b', 'b', 'a'],
    code: 'E_TRAINING_DATA',
    message: 'y[1] is an array; class labels must be strings or finite numbers',
    data: { row: 1 },
  },
  {
    what: 'a null label',
    x: X,
    y: ['a', 'b', 'a', null, 'b', 'a'],
    code: 'E_TRAINING_DATA',
    message: 'y[3] is null; class labels must be strings or finite numbers',
    data: { row: 3 },
  },
  {
    what: 'an undefined label',
    x: X,
    y: ['a', 'b', 'a', 'b', undefined, 'a'],
    code: 'E_TRAINING_DATA',
    message: 'y[4] is undefined; class labels must be strings or finite numbers',
    data: { row: 4 },
  },
  {
    what: 'a NaN label',
    x: X,
    y: [0, 1, 0, NaN, 1, 0],
    code: 'E_TRAINING_DATA',
    message: 'y[3] is NaN; class labels must be strings or finite numbers',
    data: { row: 3 },
  },
  {
    what: 'an Infinity label',
    x: X,
    y: [0, 1, 0, 1, Infinity, 0],
    code: 'E_TRAINING_DATA',
    message: 'y[4] is Infinity; class labels must be strings or finite numbers',
    data: { row: 4 },
  },
  {
    what: 'a number among string labels',
    x: X,
    y: ['a', 'b', 'a', 1, 'b', 'a'],
    code: 'E_TRAINING_DATA',
    message: 'y[3] is 1 but y[0] is a string; class labels must be all strings or all numbers',
    data: { row: 3 },
  },
  {
    what: 'a string among numeric labels',
    x: X,
    y: [0, '1', 0, 1, 1, 0],
    code: 'E_TRAINING_DATA',
    message: 'y[1] is "1" but y[0] is a number; class labels must be all strings or all numbers',
    data: { row: 1 },
  },
  {
    what: 'a string regression target',
    x: X,
    y: [1.5, 2, '3.5', 4, 5, 6],
    options: { task: 'regression' },
    code: 'E_TRAINING_DATA',
    message: 'y[2] is "3.5"; regression targets must be finite numbers',
    data: { row: 2 },
  },
  {
    what: 'a null regression target',
    x: X,
    y: [1.5, 2, 3.5, 4, null, 6],
    options: { task: 'regression' },
    code: 'E_TRAINING_DATA',
    message: 'y[4] is null; regression targets must be finite numbers',
    data: { row: 4 },
  },
  {
    what: 'a NaN regression target',
    x: X,
    y: [NaN, 2, 3.5, 4, 5, 6],
    options: { task: 'regression' },
    code: 'E_TRAINING_DATA',
    message: 'y[0] is NaN; regression targets must be finite numbers',
    data: { row: 0 },
  },
  // Feature values.
  {
    what: 'NaN in a row (null marks missing there)',
    x: withValue(2, 1, NaN),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[2][1] is NaN; features must be finite numbers — use null for a missing value',
    data: { row: 2, column: 1, value: 'NaN' },
  },
  {
    what: 'Infinity in a row',
    x: withValue(0, 0, Infinity),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[0][0] is Infinity; features must be finite numbers — use null for a missing value',
    data: { row: 0, column: 0, value: 'Infinity' },
  },
  {
    what: '-Infinity in a row',
    x: withValue(5, 2, -Infinity),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[5][2] is -Infinity; features must be finite numbers — use null for a missing value',
    data: { row: 5, column: 2, value: '-Infinity' },
  },
  {
    what: 'Infinity in a matrix',
    x: asMatrix(withValue(1, 2, Infinity) as number[][]),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[1][2] is Infinity; features must be finite numbers (NaN marks a missing value in a matrix)',
  },
  {
    what: 'a string feature value',
    x: withValue(1, 0, '0.4'),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[1][0] is "0.4"; features must be numbers, or null for a missing value',
    data: { row: 1, column: 0 },
  },
  {
    what: 'a boolean feature value',
    x: withValue(4, 2, true),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[4][2] is a boolean (true); features must be numbers, or null for a missing value',
    data: { row: 4, column: 2 },
  },
  // The shape of X.
  {
    what: 'a row shorter than the first',
    x: withRow(3, [0.8, 3]),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[3] has 2 values but X[0] has 3; every row needs the same number of features',
    data: { row: 3, expected: 3, got: 2 },
  },
  {
    what: 'a row longer than the first',
    x: withRow(1, [0.4, 2, 3, 7]),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[1] has 4 values but X[0] has 3; every row needs the same number of features',
    data: { row: 1, expected: 3, got: 4 },
  },
  {
    what: 'a number where the first row should be',
    x: withRow(0, 5),
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[0] is 5; each row must be an array of numbers',
  },
  {
    what: 'rows without values',
    x: [[], [], [], [], [], []],
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'X[0] has no values; each row needs at least one feature',
  },
  {
    what: 'a matrix whose size disagrees with its values',
    x: { rows: 6, columns: 3, values: new Float64Array(17) },
    y: Y,
    code: 'E_TRAINING_DATA',
    message: 'the training matrix has 17 values for 6 × 3; they must agree',
  },
  // Options that can only be checked against the data.
  {
    what: 'maxFeatures above the number of features',
    x: X,
    y: Y,
    options: { maxFeatures: 4 },
    code: 'E_FOREST_OPTION',
    message: 'forest option maxFeatures is 4 but the data has 3 features; use an integer from 1 to 3, a fraction, "sqrt", "log2" or "all"',
    data: { option: 'maxFeatures', value: 4, features: 3 },
  },
  {
    what: 'maxSamples above the number of rows',
    x: X,
    y: Y,
    options: { maxSamples: 7 },
    code: 'E_FOREST_OPTION',
    message: 'forest option maxSamples is 7 but the data has 6 rows; use at most 6 or a fraction',
    data: { option: 'maxSamples', value: 7, rows: 6 },
  },
  {
    what: 'classWeight naming a string class not in y',
    x: X,
    y: Y,
    options: { classWeight: { a: 2, c: 3 } },
    code: 'E_TRAINING_DATA',
    message: 'classWeight names class "c", which is not in y; the classes are a, b',
  },
  {
    what: 'classWeight naming a numeric class not in y',
    x: X,
    y: [0, 1, 0, 1, 1, 0],
    options: { classWeight: { '1': 2, '2': 3 } },
    code: 'E_TRAINING_DATA',
    message: 'classWeight names class "2", which is not in y; the classes are 0, 1',
  },
  {
    what: 'workers 0',
    x: X,
    y: Y,
    workers: 0,
    code: 'E_TRAINING_DATA',
    message: 'workers is 0; use an integer ≥ 1',
    data: { workers: 0 },
  },
  {
    what: 'workers 1.5',
    x: X,
    y: Y,
    workers: 1.5,
    code: 'E_TRAINING_DATA',
    message: 'workers is 1.5; use an integer ≥ 1',
    data: { workers: 1.5 },
  },
];

describe('train refuses bad training data', () => {
  it.each(trainCases)('$what', async ({ x, y, options, workers, code, message, data }) => {
    const forest = new RandomForest({ trees: 5, seed: 1, ...options });
    const training = forest.train(x, y, { workers: workers ?? 1 });
    await expect(training).rejects.toThrow(message);
    const err = await rejected(training);
    expect(err).toMatchObject({ code, message });
    if (data) expect(err).toMatchObject({ data });
    expect(forest.isTrained).toBe(false);
  });

  it('accepts null and undefined as missing values in rows', async () => {
    const rows: Row[] = withValue(2, 1, null);
    rows[4] = [0.9, undefined as unknown as null, 2];
    const forest = await new RandomForest({ trees: 5, seed: 1 }).train(rows, Y, { workers: 1 });
    expect(forest.isTrained).toBe(true);
    expect(forest.features).toBe(3);
    expect(forest.predict([[null, null, null]])).toHaveLength(1);
  });

  it('accepts NaN as a missing value in a matrix', async () => {
    const values = Float64Array.from(X.flat());
    values[4] = NaN;
    const forest = await new RandomForest({ trees: 5, seed: 1 }).train({ rows: 6, columns: 3, values }, Y, { workers: 1 });
    expect(forest.isTrained).toBe(true);
  });

  it('checks maxFeatures against the data at train time, not at construction', async () => {
    const iris = loadDataset('iris');
    const forest = new RandomForest({ trees: 5, maxFeatures: 5 });
    expect(forest.params.maxFeatures).toBe(5);
    const training = forest.train(iris.x, iris.y, { workers: 1 });
    await expect(training).rejects.toThrow(
      'forest option maxFeatures is 5 but the data has 4 features; use an integer from 1 to 4, a fraction, "sqrt", "log2" or "all"',
    );
    await expect(training).rejects.toMatchObject({ code: 'E_FOREST_OPTION', name: 'ForestOptionError' });
  });
});

describe('forest options', () => {
  it('fills in the defaults, with "all" features per split for regression', () => {
    expect(new RandomForest().params).toEqual({
      task: 'classification',
      trees: 100,
      maxDepth: null,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      maxFeatures: 'sqrt',
      bootstrap: true,
      maxSamples: null,
      classWeight: null,
      maxBins: 255,
      seed: 0,
    });
    expect(new RandomForest({ task: 'regression' }).params.maxFeatures).toBe('all');
  });

  it.each([
    ['tree', 'trees'],
    ['max_depth', 'maxDepth'],
    ['min_samples_leaf', 'minSamplesLeaf'],
    ['maxBin', 'maxBins'],
    ['Seed', 'seed'],
    ['boostrap', 'bootstrap'],
  ])('refuses the unknown option %s and suggests %s', (given, suggestion) => {
    const message = `unknown forest option "${given}"; did you mean "${suggestion}"? Known options: ${KNOWN}`;
    const build = (): RandomForest => new RandomForest(untyped({ [given]: 10 }));
    expect(build).toThrow(message);
    expect(caught(build)).toMatchObject({
      code: 'E_FOREST_OPTION',
      name: 'ForestOptionError',
      message,
      data: { option: given, suggestion },
    });
  });

  it('refuses an unknown option that resembles none, without a suggestion', () => {
    const message = `unknown forest option "colour"; Known options: ${KNOWN}`;
    const build = (): RandomForest => new RandomForest(untyped({ colour: 10 }));
    expect(build).toThrow(message);
    expect(caught(build)).toMatchObject({ code: 'E_FOREST_OPTION', message, data: { option: 'colour', suggestion: undefined } });
  });

  it.each([
    ['n_estimators', 'trees'],
    ['random_state', 'seed'],
    ['class_weight', 'classWeight'],
  ])("points scikit-learn's %s at %s", (given, suggestion) => {
    const build = (): RandomForest => new RandomForest(untyped({ [given]: 10 }));
    expect(build).toThrow(`unknown forest option "${given}"; did you mean "${suggestion}"? Known options: ${KNOWN}`);
  });

  it.each([
    [{ rows: 2, columns: 0, values: new Float64Array(0) }, 'the training matrix is 2 × 0; rows must be an integer ≥ 0 and columns an integer ≥ 1'],
    [{ rows: -1, columns: 3, values: new Float64Array(0) }, 'the training matrix is -1 × 3; rows must be an integer ≥ 0 and columns an integer ≥ 1'],
    [{ rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6] }, "the training matrix's values are an array; give a Float64Array (row-major, NaN for missing)"],
  ])('refuses a malformed matrix %#', async (matrix, message) => {
    await expect(new RandomForest({ trees: 2 }).train(matrix as unknown as Matrix, ['a', 'b'])).rejects.toMatchObject({ code: 'E_TRAINING_DATA', message });
  });

  it.each([
    [5, 'forest options must be an object (got 5)'],
    [null, 'forest options must be an object (got null)'],
    [[10], 'forest options must be an object (got [10])'],
    ['fast', 'forest options must be an object (got "fast")'],
  ])('refuses options that are not an object: %j', (options, message) => {
    const build = (): RandomForest => new RandomForest(untyped(options));
    expect(build).toThrow(message);
    expect(caught(build)).toMatchObject({ code: 'E_FOREST_OPTION', message });
  });

  const INTEGER_TREES = 'an integer from 1 to 100000';
  const DEPTH = 'null (no limit) or an integer from 1 to 1000';
  const FEATURES = '"sqrt", "log2", "all", a fraction in (0, 1) or an integer ≥ 1';
  const SAMPLES = 'null (as many as rows), a fraction in (0, 1] or an integer ≥ 2';
  const WEIGHT = 'null, "balanced", or a map from class label to a positive weight';
  const BINS = 'an integer from 2 to 255';
  const SEED = 'an integer from 0 to 4294967295';

  it.each<{ options: Record<string, unknown>; option: string; value: unknown; shown: string; allowed: string }>([
    { options: { trees: 0 }, option: 'trees', value: 0, shown: '0', allowed: INTEGER_TREES },
    { options: { trees: 1.5 }, option: 'trees', value: 1.5, shown: '1.5', allowed: INTEGER_TREES },
    { options: { trees: 100_001 }, option: 'trees', value: 100_001, shown: '100001', allowed: INTEGER_TREES },
    { options: { trees: '10' }, option: 'trees', value: '10', shown: '"10"', allowed: INTEGER_TREES },
    { options: { maxDepth: 0 }, option: 'maxDepth', value: 0, shown: '0', allowed: DEPTH },
    { options: { maxDepth: 2.5 }, option: 'maxDepth', value: 2.5, shown: '2.5', allowed: DEPTH },
    { options: { minSamplesSplit: 1 }, option: 'minSamplesSplit', value: 1, shown: '1', allowed: 'an integer ≥ 2' },
    { options: { minSamplesLeaf: 0 }, option: 'minSamplesLeaf', value: 0, shown: '0', allowed: 'an integer ≥ 1' },
    { options: { maxFeatures: 'half' }, option: 'maxFeatures', value: 'half', shown: '"half"', allowed: FEATURES },
    { options: { maxFeatures: 0 }, option: 'maxFeatures', value: 0, shown: '0', allowed: FEATURES },
    { options: { maxFeatures: 1.5 }, option: 'maxFeatures', value: 1.5, shown: '1.5', allowed: FEATURES },
    { options: { maxFeatures: -0.5 }, option: 'maxFeatures', value: -0.5, shown: '-0.5', allowed: FEATURES },
    { options: { bootstrap: 'yes' }, option: 'bootstrap', value: 'yes', shown: '"yes"', allowed: 'true or false' },
    { options: { bootstrap: 1 }, option: 'bootstrap', value: 1, shown: '1', allowed: 'true or false' },
    { options: { maxSamples: 1.5 }, option: 'maxSamples', value: 1.5, shown: '1.5', allowed: SAMPLES },
    { options: { maxSamples: 0 }, option: 'maxSamples', value: 0, shown: '0', allowed: SAMPLES },
    {
      options: { maxSamples: 0.5, bootstrap: false },
      option: 'maxSamples',
      value: 0.5,
      shown: '0.5',
      allowed: 'null when bootstrap is false (it sizes the bootstrap sample)',
    },
    { options: { classWeight: 'auto' }, option: 'classWeight', value: 'auto', shown: '"auto"', allowed: WEIGHT },
    { options: { classWeight: { a: -1 } }, option: 'classWeight', value: { a: -1 }, shown: '{"a":-1}', allowed: WEIGHT },
    { options: { classWeight: { a: 0 } }, option: 'classWeight', value: { a: 0 }, shown: '{"a":0}', allowed: WEIGHT },
    { options: { classWeight: { a: '2' } }, option: 'classWeight', value: { a: '2' }, shown: '{"a":"2"}', allowed: WEIGHT },
    { options: { classWeight: ['a'] }, option: 'classWeight', value: ['a'], shown: '["a"]', allowed: WEIGHT },
    {
      options: { classWeight: 'balanced', task: 'regression' },
      option: 'classWeight',
      value: 'balanced',
      shown: '"balanced"',
      allowed: 'null for regression',
    },
    { options: { maxBins: 1 }, option: 'maxBins', value: 1, shown: '1', allowed: BINS },
    { options: { maxBins: 256 }, option: 'maxBins', value: 256, shown: '256', allowed: BINS },
    { options: { seed: -1 }, option: 'seed', value: -1, shown: '-1', allowed: SEED },
    { options: { seed: 1.5 }, option: 'seed', value: 1.5, shown: '1.5', allowed: SEED },
    { options: { seed: 2 ** 32 }, option: 'seed', value: 2 ** 32, shown: '4294967296', allowed: SEED },
    {
      options: { task: 'clustering' },
      option: 'task',
      value: 'clustering',
      shown: '"clustering"',
      allowed: '"classification" or "regression"',
    },
  ])('refuses $options', ({ options, option, value, shown, allowed }) => {
    const message = `forest option ${option} is ${shown}; allowed: ${allowed}`;
    const build = (): RandomForest => new RandomForest(untyped(options));
    expect(build).toThrow(message);
    expect(caught(build)).toMatchObject({ code: 'E_FOREST_OPTION', name: 'ForestOptionError', message, data: { option, value, allowed } });
  });

  it.each<[string, Record<string, unknown>]>([
    ['the edges of each range', { trees: 1, maxDepth: 1, minSamplesSplit: 2, minSamplesLeaf: 1, maxBins: 2, seed: 0 }],
    ['the upper edges', { trees: 100_000, maxDepth: 1000, maxBins: 255, seed: 4_294_967_295 }],
    ['fractions', { maxFeatures: 0.5, maxSamples: 1 }],
    ['a class weight map', { classWeight: { a: 2, b: 0.5 } }],
    ['no depth limit and maxSamples as a count', { maxDepth: null, maxSamples: 2 }],
  ])('accepts %s', (_, options) => {
    expect(new RandomForest(untyped(options)).params).toMatchObject(options);
  });
});

describe('prediction refuses bad input', () => {
  const trained = (): Promise<RandomForest> => new RandomForest({ trees: 5, seed: 1 }).train(X, Y, { workers: 1 });

  it.each<{ what: string; call: (f: RandomForest) => unknown; message: string; data?: Record<string, unknown> }>([
    {
      what: 'predict, rows with too few features',
      call: (f) => f.predict([[1, 2]]),
      message: 'X[0] has 2 values but the model takes 3 features',
      data: { columns: 2, expectColumns: 3 },
    },
    {
      what: 'predictProba, rows with too many features',
      call: (f) => f.predictProba([[1, 2, 3, 4]]),
      message: 'X[0] has 4 values but the model takes 3 features',
      data: { columns: 4, expectColumns: 3 },
    },
    {
      what: 'predict, a later row of another length',
      call: (f) => f.predict([[1, 2, 3], [1, 2, 3, 4]]),
      message: 'X[1] has 4 values but X[0] has 3; every row needs the same number of features',
      data: { row: 1, expected: 3, got: 4 },
    },
    {
      what: 'predict, a matrix with too few features',
      call: (f) => f.predict({ rows: 1, columns: 2, values: new Float64Array(2) }),
      message: 'the prediction data has 2 features but the model takes 3',
    },
    {
      what: 'scores, a matrix with too many features',
      call: (f) => f.scores({ rows: 2, columns: 4, values: new Float64Array(8) }),
      message: 'the prediction data has 4 features but the model takes 3',
    },
    {
      what: 'predictRow, too few features',
      call: (f) => f.predictRow([1, 2]),
      message: 'the row has 2 values but the model takes 3 features',
      data: { values: 2, features: 3 },
    },
    {
      what: 'predictProbaRow, too many features',
      call: (f) => f.predictProbaRow([1, 2, 3, 4], new Float64Array(2)),
      message: 'the row has 4 values but the model takes 3 features',
      data: { values: 4, features: 3 },
    },
    {
      what: 'predict, Infinity in a row',
      call: (f) => f.predict([[1, Infinity, 3]]),
      message: 'X[0][1] is Infinity; features must be finite numbers — use null for a missing value',
      data: { row: 0, column: 1, value: 'Infinity' },
    },
    {
      what: 'predict, a string in a row',
      call: (f) => f.predict([[1, 2, 3], [1, 2, '3' as unknown as number]]),
      message: 'X[1][2] is "3"; features must be numbers, or null for a missing value',
      data: { row: 1, column: 2 },
    },
  ])('$what', async ({ call, message, data }) => {
    const forest = await trained();
    expect(() => call(forest)).toThrow(message);
    const err = caught(() => call(forest));
    expect(err).toMatchObject({ code: 'E_TRAINING_DATA', name: 'TrainingDataError', message });
    if (data) expect(err).toMatchObject({ data });
  });

  it('predicts NaN and null in rows as missing values rather than refusing them', async () => {
    const forest = await trained();
    const labels = forest.predict([[NaN, null, 3], [null, NaN, NaN]]);
    expect(labels).toHaveLength(2);
    for (const label of labels) expect(['a', 'b']).toContain(label);
  });

  it.each<[string, (f: RandomForest) => unknown]>([
    ['predictProba', (f) => f.predictProba(X)],
    ['predictProbaRow', (f) => f.predictProbaRow(X[0], new Float64Array(1))],
  ])('refuses %s on a regression forest', async (_, call) => {
    const forest = await new RandomForest({ task: 'regression', trees: 5, seed: 1 }).train(X, [1, 2, 3, 4, 5, 6], { workers: 1 });
    const message = 'class probabilities need a classification forest; this one does regression';
    expect(() => call(forest)).toThrow(message);
    expect(caught(() => call(forest))).toMatchObject({ code: 'E_TRAINING_DATA', message });
  });

  it.each<[string, (f: RandomForest) => unknown]>([
    ['predict', (f) => f.predict(X)],
    ['predictProba', (f) => f.predictProba(X)],
    ['predictRow', (f) => f.predictRow(X[0])],
    ['predictProbaRow', (f) => f.predictProbaRow(X[0], new Float64Array(2))],
    ['scores', (f) => f.scores(asMatrix(X))],
    ['toJSON', (f) => f.toJSON()],
    ['classes', (f) => f.classes],
    ['features', (f) => f.features],
    ['featureImportances', (f) => f.featureImportances],
    ['oobScore', (f) => f.oobScore],
    ['flat', (f) => f.flat],
  ])('refuses %s before train', (_, call) => {
    const forest = new RandomForest({ trees: 5 });
    const message = 'the forest is not trained yet; call train(X, y) first';
    expect(forest.isTrained).toBe(false);
    expect(() => call(forest)).toThrow(message);
    expect(caught(() => call(forest))).toMatchObject({ code: 'E_TRAINING_DATA', name: 'TrainingDataError', message });
  });
});
