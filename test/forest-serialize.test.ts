// Saving and loading a forest: toJSON → JSON text → fromJSON gives the same model, to the bit; a file from
// elsewhere, from a newer Bramble, cut short or edited is refused with E_MODEL_FORMAT, never loaded half-way
// or walked into a loop.
import { beforeAll, describe, expect, it } from 'vitest';
import { FOREST_FORMAT, RandomForest, type ForestJSON, type Label } from '../src/model/forest/forest.js';
import type { Matrix } from '../src/util/matrix.js';
import type { ForestOptions } from '../src/model/forest/options.js';
import { caught, holdOut, loadDataset, toRows, type Dataset } from './helpers/data.js';

function isForestJSON(value: unknown): value is ForestJSON {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.format === 'string' && typeof v.trees === 'object' && v.trees !== null && typeof v.params === 'object';
}

/** The model as a file would hold it: through JSON text and back to a fresh object. */
function reparse(text: string): ForestJSON {
  const value: unknown = JSON.parse(text);
  if (!isForestJSON(value)) throw new Error('toJSON did not give a forest');
  return value;
}

/** Some rows with values knocked out (NaN), so that the missing-value branches are part of the comparison. */
function withHoles(m: Matrix, every: number): Matrix {
  const values = m.values.slice();
  for (let i = 0; i < values.length; i += every) values[i] = NaN;
  return { rows: m.rows, columns: m.columns, values };
}

interface RoundTrip {
  what: string;
  data: () => Dataset;
  options: ForestOptions;
  classes: Label[] | null;
}

const roundTrips: RoundTrip[] = [
  { what: 'classification with string labels (wine)', data: () => loadDataset('wine'), options: { trees: 20, seed: 3 }, classes: ['class_0', 'class_1', 'class_2'] },
  {
    // 10 and 2 sort one way as numbers and the other as text: the class order must survive the file.
    what: 'classification with numeric labels (breast cancer as 2 and 10)',
    data: () => {
      const d = loadDataset('breast-cancer');
      return { x: d.x, y: d.y.map((label) => (label === 'malignant' ? 2 : 10)) };
    },
    options: { trees: 20, seed: 4, classWeight: { '10': 2 }, maxDepth: 8 },
    classes: [2, 10],
  },
  {
    what: 'classification trained with missing values, without bootstrap',
    data: () => {
      const d = loadDataset('iris');
      return { x: withHoles(d.x, 7), y: d.y };
    },
    options: { trees: 15, seed: 5, bootstrap: false, maxFeatures: 'all', maxBins: 16 },
    classes: ['setosa', 'versicolor', 'virginica'],
  },
  {
    what: 'regression (diabetes)',
    data: () => loadDataset('diabetes'),
    options: { task: 'regression', trees: 20, seed: 6, minSamplesLeaf: 3, maxSamples: 0.8 },
    classes: null,
  },
];

describe('a saved forest loads back identical', () => {
  it.each(roundTrips)('$what', async ({ data, options, classes }) => {
    const all = data();
    const split = holdOut(all, 0.25, 11, options.task !== 'regression');
    const original = await new RandomForest(options).train(split.train.x, split.train.y, { workers: 1 });
    const text = JSON.stringify(original.toJSON());
    const loaded = RandomForest.fromJSON(reparse(text));

    // The file is stable: loading and saving again gives the same text.
    expect(JSON.stringify(loaded.toJSON())).toBe(text);
    expect(loaded.isTrained).toBe(true);
    expect(loaded.params).toEqual(original.params);
    expect(loaded.features).toBe(original.features);
    expect(original.classes).toEqual(classes);
    expect(loaded.classes).toEqual(classes);
    expect(loaded.oobScore).toBe(original.oobScore);
    expect(loaded.featureImportances).toEqual(original.featureImportances);

    const test = split.test.x;
    const holes = withHoles(test, 5);
    expect(loaded.predict(test)).toEqual(original.predict(test));
    expect(loaded.predict(holes)).toEqual(original.predict(holes));
    expect(loaded.scores(holes)).toEqual(original.scores(holes));
    const rows = toRows(holes);
    expect(rows.map((r) => loaded.predictRow(r))).toEqual(rows.map((r) => original.predictRow(r)));
    if (options.task !== 'regression') {
      expect(loaded.predictProba(test)).toEqual(original.predictProba(test));
      expect(loaded.predictProba(holes)).toEqual(original.predictProba(holes));
    }
    if (options.bootstrap === false) expect(loaded.oobScore).toBeNull();
    else expect(typeof loaded.oobScore).toBe('number');
  });

  it('records the format, the version and every resolved option', async () => {
    const iris = loadDataset('iris');
    const forest = await new RandomForest({ trees: 10, seed: 9, maxDepth: 4 }).train(iris.x, iris.y, { workers: 1 });
    const json = reparse(JSON.stringify(forest.toJSON()));
    expect(json.format).toBe('bramble-forest');
    expect(json.version).toBe(FOREST_FORMAT.version);
    expect(json.params).toEqual({
      task: 'classification',
      trees: 10,
      maxDepth: 4,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      maxFeatures: 'sqrt',
      bootstrap: true,
      maxSamples: null,
      classWeight: null,
      maxBins: 255,
      seed: 9,
    });
    expect(json.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(json.features).toBe(4);
    expect(json.trees.roots).toMatchObject({ dtype: 'int32', length: 10 });
    expect(json.trees.value).toMatchObject({ dtype: 'float64', length: json.trees.nodes * 3 });
  });
});

describe('fromJSON refuses a file it cannot trust', () => {
  let text = '';
  let nodes = 0;
  let firstSplit = -1;
  let firstSplitFeature = -1;

  beforeAll(async () => {
    const iris = loadDataset('iris');
    const forest = await new RandomForest({ trees: 4, seed: 2 }).train(iris.x, iris.y, { workers: 1 });
    text = JSON.stringify(forest.toJSON());
    nodes = forest.flat.nodes;
    // A split node past the first root: its children link forward, and a loop back is what must be caught.
    for (let i = 1; i < nodes; i++) {
      if (forest.flat.feature[i] >= 0) {
        firstSplit = i;
        firstSplitFeature = forest.flat.feature[i];
        break;
      }
    }
  });

  function readInt32(base64: string): Int32Array {
    const bytes = Buffer.from(base64, 'base64');
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new Int32Array(copy.buffer);
  }

  function readFloat64(base64: string): Float64Array {
    const bytes = Buffer.from(base64, 'base64');
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new Float64Array(copy.buffer);
  }

  function writeInt32(a: Int32Array): string {
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
  }

  interface Damage {
    what: string;
    edit: (json: ForestJSON) => unknown;
    message: () => string;
    code?: string;
  }

  const damages: Damage[] = [
    {
      what: 'another format',
      edit: (json) => ({ ...json, format: 'onnx' }),
      message: () => 'not a Bramble forest: format is "onnx", expected "bramble-forest"',
    },
    {
      what: 'no format',
      edit: (json) => ({ ...json, format: undefined }),
      message: () => 'not a Bramble forest: format is undefined, expected "bramble-forest"',
    },
    {
      what: 'a newer version',
      edit: (json) => ({ ...json, version: FOREST_FORMAT.version + 1 }),
      message: () =>
        `the forest has format version ${FOREST_FORMAT.version + 1}, newer than this Bramble reads (${FOREST_FORMAT.version}); upgrade Bramble to load it`,
    },
    {
      what: 'a non-integer version',
      edit: (json) => ({ ...json, version: 1.5 }),
      message: () => "the forest's format version is 1.5; expected an integer ≥ 1",
    },
    {
      what: 'a version given as text',
      edit: (json) => ({ ...json, version: '1' }),
      message: () => 'the forest\'s format version is "1"; expected an integer ≥ 1',
    },
    {
      what: 'version 0',
      edit: (json) => ({ ...json, version: 0 }),
      message: () => "the forest's format version is 0; expected an integer ≥ 1",
    },
    {
      what: 'features 0',
      edit: (json) => ({ ...json, features: 0 }),
      message: () => 'the forest\'s "features" is 0; expected an integer ≥ 1',
    },
    {
      what: 'a classification forest without classes',
      edit: (json) => ({ ...json, classes: null }),
      message: () => 'a classification forest needs "classes", a list of at least 2 labels',
    },
    {
      what: 'no trees section',
      edit: (json) => ({ ...json, trees: undefined }),
      message: () => 'the forest has no "trees" section',
    },
    {
      what: 'trees.threshold cut short',
      // 32 base64 characters are 24 bytes: 3 float64 values.
      edit: (json) => {
        json.trees.threshold.base64 = json.trees.threshold.base64.slice(0, 32);
        return json;
      },
      message: () => `the forest is damaged: trees.threshold holds 3 values, expected ${nodes}; retrain or restore the model file`,
    },
    {
      what: 'trees.threshold cut short, its length edited to match',
      edit: (json) => {
        json.trees.threshold.base64 = json.trees.threshold.base64.slice(0, 32);
        json.trees.threshold.length = 3;
        return json;
      },
      message: () => `the forest is damaged: trees.threshold holds 3 values, expected ${nodes}; retrain or restore the model file`,
    },
    {
      what: 'trees.value cut mid-value',
      // 4 base64 characters are 3 bytes: 0.375 of a float64.
      edit: (json) => {
        json.trees.value.base64 = json.trees.value.base64.slice(0, 4);
        return json;
      },
      message: () => `the forest is damaged: trees.value holds 0.38 values, expected ${nodes * 3}; retrain or restore the model file`,
    },
    {
      what: 'trees.nodes changed',
      edit: (json) => {
        json.trees.nodes = nodes + 2;
        return json;
      },
      message: () => `the forest is damaged: trees.feature holds ${nodes} values, expected ${nodes + 2}; retrain or restore the model file`,
    },
    {
      what: 'trees.roots dropped',
      edit: (json) => ({ ...json, trees: { ...json.trees, roots: undefined } }),
      message: () => 'the forest is damaged: trees.roots is missing; retrain or restore the model file',
    },
    {
      what: 'a root dropped from trees.roots',
      edit: (json) => {
        const roots = readInt32(json.trees.roots.base64).subarray(0, 3);
        json.trees.roots = { dtype: 'int32', length: 3, base64: writeInt32(roots) };
        return json;
      },
      message: () => 'the forest is damaged: trees.roots holds 3 values, expected 4; retrain or restore the model file',
    },
    {
      what: 'trees.left with another type',
      edit: (json) => {
        json.trees.left.dtype = 'float64';
        return json;
      },
      message: () => 'the forest is damaged: trees.left has type float64, expected int32; retrain or restore the model file',
    },
    {
      what: 'trees.missingLeft without data',
      edit: (json) => ({ ...json, trees: { ...json.trees, missingLeft: { dtype: 'uint8', length: nodes } } }),
      message: () => 'the forest is damaged: trees.missingLeft has no data; retrain or restore the model file',
    },
    {
      what: 'a child out of range',
      edit: (json) => {
        const left = readInt32(json.trees.left.base64);
        left[0] = nodes - 1; // its right child would be node `nodes`, past the end
        json.trees.left.base64 = writeInt32(left);
        return json;
      },
      message: () => `the forest is damaged: node 0 has feature ${readFeature0()} and children at ${nodes - 1}; retrain or restore the model file`,
    },
    {
      what: 'a NaN threshold on a split node',
      edit: (json) => {
        const threshold = readFloat64(json.trees.threshold.base64);
        threshold[firstSplit] = NaN;
        json.trees.threshold.base64 = Buffer.from(threshold.buffer).toString('base64');
        return json;
      },
      message: () => `the forest is damaged: node ${firstSplit}'s threshold is NaN; retrain or restore the model file`,
    },
    {
      what: 'an infinite leaf value',
      edit: (json) => {
        const value = readFloat64(json.trees.value.base64);
        value[4] = Infinity;
        json.trees.value.base64 = Buffer.from(value.buffer).toString('base64');
        return json;
      },
      message: () => 'the forest is damaged: node 1 holds the value Infinity, not a finite number; retrain or restore the model file',
    },
    {
      what: 'a child link back up the tree (a loop)',
      edit: (json) => {
        const left = readInt32(json.trees.left.base64);
        left[firstSplit] = 0;
        json.trees.left.base64 = writeInt32(left);
        return json;
      },
      message: () =>
        `the forest is damaged: node ${firstSplit} has feature ${firstSplitFeature} and children at 0; retrain or restore the model file`,
    },
    {
      what: 'a child link to itself',
      edit: (json) => {
        const left = readInt32(json.trees.left.base64);
        left[firstSplit] = firstSplit;
        json.trees.left.base64 = writeInt32(left);
        return json;
      },
      message: () =>
        `the forest is damaged: node ${firstSplit} has feature ${firstSplitFeature} and children at ${firstSplit}; retrain or restore the model file`,
    },
    {
      what: 'a split on a feature the model does not have',
      edit: (json) => {
        const feature = readInt32(json.trees.feature.base64);
        feature[firstSplit] = 4;
        json.trees.feature.base64 = writeInt32(feature);
        return json;
      },
      message: () => {
        const left = readInt32(reparse(text).trees.left.base64);
        return `the forest is damaged: node ${firstSplit} has feature 4 and children at ${left[firstSplit]}; retrain or restore the model file`;
      },
    },
    {
      what: 'a root past the last node',
      edit: (json) => {
        const roots = readInt32(json.trees.roots.base64);
        roots[1] = nodes;
        json.trees.roots.base64 = writeInt32(roots);
        return json;
      },
      message: () => `the forest is damaged: tree 1 starts at node ${nodes} of ${nodes}`,
    },
    {
      what: 'importances for the wrong number of features',
      edit: (json) => ({ ...json, importances: json.importances.slice(0, 3) }),
      message: () => 'the forest has 3 importances for 4 features; retrain or restore the model file',
    },
    {
      what: 'params with an invalid option',
      edit: (json) => ({ ...json, params: { ...json.params, trees: 0 } }),
      message: () => 'forest option trees is 0; allowed: an integer from 1 to 100000',
      code: 'E_FOREST_OPTION',
    },
  ];

  function readFeature0(): number {
    return readInt32(reparse(text).trees.feature.base64)[0];
  }

  it.each(damages)('$what', ({ edit, message, code }) => {
    const damaged = edit(reparse(text));
    const load = (): RandomForest => RandomForest.fromJSON(damaged);
    expect(load).toThrow(message());
    expect(caught(load)).toMatchObject({ code: code ?? 'E_MODEL_FORMAT', message: message() });
  });

  it('loads the untouched file (so each failure above is the edit)', () => {
    const loaded = RandomForest.fromJSON(reparse(text));
    expect(JSON.stringify(loaded.toJSON())).toBe(text);
    expect(firstSplit).toBeGreaterThan(0);
    expect(readFeature0()).toBeGreaterThanOrEqual(0);
  });

  it.each([
    [null, 'a serialized forest must be an object (got null)'],
    ['bramble-forest', 'a serialized forest must be an object (got "bramble-forest")'],
    [42, 'a serialized forest must be an object (got 42)'],
  ])('refuses %j', (json, message) => {
    const load = (): RandomForest => RandomForest.fromJSON(json);
    expect(load).toThrow(message);
    expect(caught(load)).toMatchObject({ code: 'E_MODEL_FORMAT', name: 'ModelFormatError', message });
  });
});
