import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMlYaml, type MlConfig } from '../src/config/ml-yaml.js';
import type { FeatureStep } from '../src/features/transforms.js';
import { readTable } from '../src/data/load.js';
import { splitRows } from '../src/data/split.js';
import { cellValue, type Column, type Table } from '../src/data/table.js';
import { RandomForest } from '../src/model/forest/forest.js';
import { FeatureExpressionError } from '../src/features/expression.js';
import { FeatureInputError, FeaturesFormatError, FeatureStepError } from '../src/features/feature-errors.js';
import { fitFeatures, FittedFeatures, type FeatureMatrix } from '../src/features/transforms.js';

const TEMPLATE = new URL('../templates/model-repo/', import.meta.url);

// ---------------------------------------------------------------------------------------------------------------
// Small hand-made tables

type Cells = (number | string | null)[];

function table(columns: Record<string, Cells>): Table {
  const names = Object.keys(columns);
  const rows = columns[names[0]].length;
  const built: Column[] = names.map((name) => {
    const cells = columns[name];
    if (cells.every((c) => c === null || typeof c === 'number')) {
      return { name, kind: 'number', values: Float64Array.from(cells, (c) => (c === null ? NaN : (c as number))) };
    }
    const categories: string[] = [];
    const codes = Int32Array.from(cells, (c) => {
      if (c === null) return -1;
      const text = String(c);
      if (!categories.includes(text)) categories.push(text);
      return categories.indexOf(text);
    });
    return { name, kind: 'category', values: { codes, categories } };
  });
  return { rows, columns: built, lines: Int32Array.from({ length: rows }, (_, i) => i + 2) };
}

/** The matrix as rows of plain numbers, for assertions that read like the hand computation. */
function rowsOf(m: FeatureMatrix): number[][] {
  const width = m.names.length;
  return Array.from({ length: m.rows }, (_, r) => Array.from(m.matrix.subarray(r * width, (r + 1) * width)));
}

function recordOf(t: Table, row: number): Record<string, unknown> {
  return Object.fromEntries(t.columns.map((c) => [c.name, cellValue(c, row)]));
}

/** Indices where two arrays differ by Object.is (so NaN matches NaN, and 0 does not match −0). */
function differences(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) out.push(i);
  return out;
}

function fitSmall(steps: FeatureStep[], columns: Record<string, Cells>, rows?: number[]): { fitted: FittedFeatures; out: FeatureMatrix } {
  const t = table({ y: columns[Object.keys(columns)[0]].map(() => 'no'), ...columns });
  const fitted = fitFeatures(steps, t, { target: 'y', rows });
  return { fitted, out: fitted.transform(t) };
}

function caught(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------

describe('each transform against hand-computed values', () => {
  const x: Cells = [1, null, 3, 3, 10];

  it.each<[string, FeatureStep, number[]]>([
    ['mean', { impute: { x: 'mean' } }, [1, 17 / 4, 3, 3, 10]],
    ['median', { impute: { x: 'median' } }, [1, 3, 3, 3, 10]],
    ['mode', { impute: { x: 'mode' } }, [1, 3, 3, 3, 10]],
    ['constant', { impute: { x: { constant: -1 } } }, [1, -1, 3, 3, 10]],
  ])('impute %s fills the gap', (_, step, expected) => {
    const { out } = fitSmall([step], { x });
    expect(out.names).toEqual(['x']);
    expect(rowsOf(out).flat()).toEqual(expected);
  });

  it('impute median of an even count averages the middle two', () => {
    const { fitted } = fitSmall([{ impute: { x: 'median' } }], { x: [4, 1, null, 2, 8] });
    expect(fitted.toJSON().steps).toEqual([{ kind: 'impute', step: 0, column: 'x', rule: 'median', value: 3 }]);
  });

  it('impute mode on text breaks ties by the smaller label, and feeds onehot', () => {
    const { out } = fitSmall([{ impute: { c: 'mode' } }, { onehot: ['c'] }], { c: ['b', null, 'a', 'b', 'a'] });
    expect(out.names).toEqual(['c=a', 'c=b']);
    expect(rowsOf(out)).toEqual([[0, 1], [1, 0], [1, 0], [0, 1], [1, 0]]);
  });

  it('onehot sorts the categories, gives NaN for missing, and zeros (counted) for a label unseen in training', () => {
    const t = table({ y: ['a', 'b', 'a', 'b', 'a'], c: ['Two', 'One', null, 'Zero', 'One'] });
    const fitted = fitFeatures([{ onehot: ['c'] }], t, { target: 'y', rows: [0, 1, 2] });
    expect(fitted.names).toEqual(['c=One', 'c=Two']);
    expect(rowsOf(fitted.transform(t))).toEqual([[0, 1], [1, 0], [NaN, NaN], [0, 0], [1, 0]]);
    expect(fitted.unseenCounts()).toEqual({ c: 1 });
    expect(Array.from(fitted.transformRow({ c: 'Three' }, new Float64Array(2)))).toEqual([0, 0]);
    expect(fitted.unseenCounts()).toEqual({ c: 2 });
    fitted.resetUnseenCounts();
    expect(fitted.unseenCounts()).toEqual({ c: 0 });
  });

  it('standardize uses the training mean and population standard deviation', () => {
    const { out, fitted } = fitSmall([{ standardize: ['x'] }], { x: [1, 2, 3, 4, null] });
    const sd = Math.sqrt(1.25);
    expect(rowsOf(out).flat()).toEqual([(1 - 2.5) / sd, (2 - 2.5) / sd, (3 - 2.5) / sd, (4 - 2.5) / sd, NaN]);
    expect(fitted.toJSON().steps).toEqual([{ kind: 'standardize', step: 0, column: 'x', mean: 2.5, std: sd }]);
  });

  it('standardize leaves a constant column at scale 1', () => {
    expect(rowsOf(fitSmall([{ standardize: ['x'] }], { x: [5, 5, 5] }).out).flat()).toEqual([0, 0, 0]);
  });

  it('minmax maps the training range onto 0..1, and beyond it outside', () => {
    const t = table({ y: ['a', 'a', 'a', 'a'], x: [2, 4, 6, 10] });
    const fitted = fitFeatures([{ minmax: ['x'] }], t, { target: 'y', rows: [0, 1, 2] });
    expect(rowsOf(fitted.transform(t)).flat()).toEqual([0, 0.5, 1, 2]);
  });

  it('bucketize counts the edges at or below each value', () => {
    const { out } = fitSmall([{ bucketize: { tenure: [12, 24, 48] } }], { tenure: [0, 12, 30, 48, 72, null, 11.99] });
    expect(rowsOf(out).flat()).toEqual([0, 1, 2, 3, 3, NaN, 0]);
  });

  it('derive adds a number column at the end, and can read one derived before it', () => {
    const { out } = fitSmall([{ derive: { ratio: 'd => d.total / (d.tenure + 1)', twice: 'd => d.ratio * 2' } }], {
      tenure: [0, 3, null],
      total: [10, 20, 30],
    });
    expect(out.names).toEqual(['tenure', 'total', 'ratio', 'twice']);
    expect(rowsOf(out)).toEqual([[0, 10, 10, 20], [3, 20, 5, 10], [NaN, 30, NaN, NaN]]);
  });

  it('derive overwrites a column in place, and a text result can be one-hot encoded', () => {
    const { out } = fitSmall([{ derive: { tenure: 'd => d.tenure < 12 ? "new" : "loyal"' } }, { onehot: ['tenure'] }], {
      a: [1, 2, 3],
      tenure: [1, 40, 11],
    });
    expect(out.names).toEqual(['a', 'tenure=loyal', 'tenure=new']);
    expect(rowsOf(out)).toEqual([[1, 0, 1], [2, 1, 0], [3, 0, 1]]);
  });

  it('drop removes columns, and the target never appears', () => {
    const { out } = fitSmall([{ drop: ['b'] }], { a: [1, 2], b: [3, 4], c: [5, 6] });
    expect(out.names).toEqual(['a', 'c']);
    expect(rowsOf(out)).toEqual([[1, 5], [2, 6]]);
  });

  it('steps apply in order: standardize after impute sees the imputed values', () => {
    const { fitted } = fitSmall([{ impute: { x: { constant: 0 } } }, { standardize: ['x'] }], { x: [null, 2, 4, null] });
    expect(fitted.toJSON().steps[1]).toEqual({ kind: 'standardize', step: 1, column: 'x', mean: 1.5, std: Math.sqrt(2.75) });
  });
});

describe('steps that do not fit the data', () => {
  const columns: Record<string, Cells> = { tenure: [1, 2, 3], Contract: ['One year', 'Two year', null], id: ['a', 'b', 'c'] };

  it.each<[string, FeatureStep[], string]>([
    ['an unknown column in d.x', [{ derive: { x: 'd => d.tenur * 2' } }], 'ml.yaml features[0].derive.x: there is no column "tenur" for "d => d.tenur * 2" to read at this step; did you mean "tenure"?'],
    ['a column dropped before', [{ drop: ['tenure'] }, { standardize: ['tenure'] }], 'ml.yaml features[1].standardize[0]: there is no column "tenure" at this step; the columns at this step are Contract'],
    ['a derive reading the target', [{ derive: { x: 'd => d.y == "yes" ? 1 : 0' } }], 'ml.yaml features[0].derive.x: "d => d.y == \\"yes\\" ? 1 : 0" reads the target "y" (data.target); a feature cannot see the label'],
    ['a derive reading the id', [{ derive: { x: 'd => op.length(d.id)' } }], 'ml.yaml features[0].derive.x: "d => op.length(d.id)" reads the id column "id" (data.id), which is never a feature'],
    ['the target in a step', [{ onehot: ['Contract', 'y'] }], 'ml.yaml features[0].onehot[1]: "y" is the target (data.target); it cannot be used as a feature'],
    ['the median of text', [{ impute: { Contract: 'median' } }], 'ml.yaml features[0].impute.Contract: "median" needs numbers but "Contract" holds text; use mode or { constant: … }'],
    ['a text constant for numbers', [{ impute: { tenure: { constant: 'none' } } }], 'ml.yaml features[0].impute.tenure: the constant "none" is text but "tenure" holds numbers; give a number'],
    ['onehot on numbers', [{ onehot: ['tenure'] }], 'ml.yaml features[0].onehot[0]: "tenure" holds numbers; onehot takes text (category) columns — to group numbers, use bucketize'],
    ['standardize on text', [{ standardize: ['Contract'] }], 'ml.yaml features[0].standardize[0]: "Contract" holds text; standardize takes numeric columns — one-hot encode text with onehot'],
    ['ordinal on numbers', [{ ordinal: ['tenure'] }], 'ml.yaml features[0].ordinal[0]: "tenure" holds numbers; ordinal takes text (category) columns — a number column is ordered already, so use it as it is (or bucketize it)'],
    ['ordinal on the id', [{ ordinal: ['id'] }], 'ml.yaml features[0].ordinal[0]: "id" is the id column (data.id), which is never a feature; remove it'],
    ['ordinal on the target', [{ ordinal: ['y'] }], 'ml.yaml features[0].ordinal[0]: "y" is the target (data.target); it cannot be used as a feature'],
    ['an unknown step', [{ ordinals: ['Contract'] } as unknown as FeatureStep], 'ml.yaml features[0]: unknown step "ordinals"; the steps are impute, onehot, ordinal, standardize, minmax, bucketize, derive and drop'],
    ['text left over', [], 'features: column "Contract" holds text and no step turns it into numbers, so the model cannot read it; add it to an onehot step (one 0/1 column per category) or an ordinal step (one column of category codes, for many categories), or remove it with a drop step'],
  ])('%s', (_, steps, message) => {
    const t = table({ y: ['yes', 'no', 'no'], ...columns });
    // Every case but the last fails at its step, before the check for text left over.
    const err = caught(() => fitFeatures(steps, t, { target: 'y', id: 'id' }));
    expect(err).toBeInstanceOf(FeatureStepError);
    expect(err).toMatchObject({ code: 'E_FEATURE_STEP', message });
  });

  it('a derive expression outside the allowed form fails at fit time, naming the step', () => {
    const t = table({ y: ['yes'], a: [1] });
    const err = caught(() => fitFeatures([{ drop: ['a'] }, { derive: { x: 'd => process.exit()' } }], t, { target: 'y' }));
    expect(err).toBeInstanceOf(FeatureExpressionError);
    expect(err).toMatchObject({
      message: 'ml.yaml features[1].derive.x: "d => process.exit()" uses "process" at column 6; a derive expression may read d.<column> and call op.<function> only',
    });
  });
});

describe('serving rows', () => {
  const t = table({ y: ['a', 'b'], tenure: [1, 2], c: ['x', 'z'] });
  const fitted = fitFeatures([{ onehot: ['c'] }], t, { target: 'y' });

  it.each<[string, Record<string, unknown>, number[]]>([
    ['numbers as text and missing markers', { tenure: '5', c: 'NA' }, [5, NaN, NaN]],
    ['absent fields as missing', {}, [NaN, NaN, NaN]],
    ['extra fields, the target and inherited names ignored', { tenure: 3, c: 'z', y: 'b', toString: 1 }, [3, 0, 1]],
  ])('reads %s', (_, record, expected) => {
    expect(Array.from(fitted.transformRow(record, new Float64Array(3)))).toEqual(expected);
  });

  it.each<[string, Record<string, unknown>, number, string]>([
    ['text in a number field', { tenure: 'abc' }, 3, 'the row\'s field "tenure" is "abc"; give a number, or null when missing'],
    ['an object in a text field', { c: { x: 1 } }, 3, 'the row\'s field "c" is an object; give text, or null when missing'],
    ['a wrong output width', {}, 2, 'transformRow needs an output array of 3 values (one per feature), got 2'],
  ])('refuses %s', (_, record, width, message) => {
    const err = caught(() => fitted.transformRow(record, new Float64Array(width)));
    expect(err).toBeInstanceOf(FeatureInputError);
    expect(err).toMatchObject({ code: 'E_FEATURE_INPUT', message });
  });

  it('refuses a table without a column the features read', () => {
    expect(() => fitted.transform(table({ y: ['a'], tenur: [1] }))).toThrow('the data has no column "tenure", which the model reads; did you mean "tenur"?');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The Telco data with the template's ml.yaml

describe('the Telco template', () => {
  let config: MlConfig;
  let telco: Table;
  let labels: string[];
  let train: number[];
  let test: number[];

  beforeAll(async () => {
    config = loadMlYaml(await readFile(new URL('ml.yaml', TEMPLATE), 'utf8'));
    telco = (await readTable(new URL('data/churn.csv', TEMPLATE).pathname, { file: 'data/churn.csv', columns: config.schema?.columns })).table;
    const target = telco.columns.find((c) => c.name === config.data.target) as Column;
    labels = Array.from({ length: telco.rows }, (_, r) => String(cellValue(target, r)));
    ({ train, test } = splitRows(labels, config.split.test, config.split.seed, config.split.stratify));
  });

  const options = (): { target: string; id?: string; rows: number[] } => ({ target: config.data.target, id: config.data.id, rows: train });

  /** The template's steps, and the same with every other kind of step added, so that parity covers them all. */
  const stepSets: [string, () => FeatureStep[]][] = [
    ['template features', () => config.features],
    [
      'template features plus derive, standardize, minmax, bucketize and drop',
      () => [
        ...config.features,
        { derive: { charge_per_month: 'd => d.TotalCharges / (d.tenure + 1)', log_monthly: 'd => op.log(d.MonthlyCharges) * 2' } },
        { standardize: ['charge_per_month', 'MonthlyCharges'] },
        { minmax: ['TotalCharges'] },
        { bucketize: { tenure: [12, 24, 48] } },
        { drop: ['gender=Male'] },
      ],
    ],
  ];

  it('fits the template features and transforms every row', () => {
    const fitted = fitFeatures(config.features, telco, options());
    const out = fitted.transform(telco);
    expect(out.rows).toBe(7043);
    expect(out.names).toHaveLength(45);
    expect(out.names.slice(0, 5)).toEqual(['gender=Female', 'gender=Male', 'SeniorCitizen', 'Partner=No', 'Partner=Yes']);
    expect(out.names).not.toContain('customerID');
    expect(out.names).not.toContain('Churn');
    expect(out.names).toContain('PaymentMethod=Bank transfer (automatic)');
    const total = out.names.indexOf('TotalCharges');
    const imputed = fitted.toJSON().steps[0];
    expect(imputed).toMatchObject({ kind: 'impute', column: 'TotalCharges', rule: 'median' });
    // Row 488 (customer 4472-LVYGI) is one of the 11 with a blank TotalCharges.
    expect(out.matrix[488 * out.names.length + total]).toBe((imputed as { value: number }).value);
    let missing = 0;
    for (const v of out.matrix) if (Number.isNaN(v)) missing++;
    expect(missing).toBe(0);
  });

  it.each(stepSets)('%s: 1,000 rows one at a time give exactly the batch matrix, and the forest the same scores', async (_, steps) => {
    const fitted = fitFeatures(steps(), telco, options());
    const trainX = fitted.transform(telco, train);
    const forest = await new RandomForest({ trees: 20, seed: 1 }).train(
      { rows: trainX.rows, columns: trainX.names.length, values: trainX.matrix },
      train.map((r) => labels[r]),
      { workers: 1 },
    );

    const rows = test.slice(0, 1000);
    expect(rows).toHaveLength(1000);
    const batch = fitted.transform(telco, rows);
    const width = fitted.width;
    const one = new Float64Array(width);
    const rowByRow = new Float64Array(rows.length * width);
    const proba = new Float64Array(2);
    const rowScores: number[][] = [];
    rows.forEach((r, i) => {
      fitted.transformRow(recordOf(telco, r), one);
      rowByRow.set(one, i * width);
      rowScores.push(Array.from(forest.predictProbaRow(one, proba)));
    });
    expect(differences(rowByRow, batch.matrix)).toEqual([]);

    const batchScores = forest.predictProba({ rows: batch.rows, columns: width, values: batch.matrix });
    expect(differences(rowScores.flat(), batchScores.flat())).toEqual([]);
    // The scores are real probabilities, not a constant: both classes get some rows.
    expect(new Set(batchScores.map((p) => p[0] > 0.5)).size).toBe(2);
  });

  it('fits on the training rows only: changing the test rows does not change the fit', () => {
    const before = fitFeatures(stepSets[1][1](), telco, options()).toJSON();
    const inTest = new Set(test);
    const changed: Table = {
      ...telco,
      columns: telco.columns.map((c): Column => {
        if (c.kind === 'number' && (c.name === 'TotalCharges' || c.name === 'MonthlyCharges' || c.name === 'tenure')) {
          return { ...c, values: c.values.map((v, r) => (inTest.has(r) ? v * 1000 + 7 : v)) };
        }
        if (c.kind === 'category' && c.name === 'Contract') {
          const categories = [...c.values.categories, 'Three year'];
          return { ...c, values: { categories, codes: c.values.codes.map((code, r) => (inTest.has(r) ? categories.length - 1 : code)) } };
        }
        return c;
      }),
    };
    expect(fitFeatures(stepSets[1][1](), changed, options()).toJSON()).toEqual(before);
    // …while fitting on every row would have moved it, so the comparison above means something.
    expect(fitFeatures(stepSets[1][1](), changed, { ...options(), rows: undefined }).toJSON()).not.toEqual(before);
  });

  it('survives a JSON round trip: same layout, inputs, counters and numbers', () => {
    const fitted = fitFeatures(stepSets[1][1](), telco, options());
    const json = JSON.parse(JSON.stringify(fitted)) as unknown;
    const loaded = FittedFeatures.fromJSON(json);
    expect(loaded.toJSON()).toEqual(fitted.toJSON());
    expect(loaded.names).toEqual(fitted.names);
    expect(loaded.inputs).toEqual(fitted.inputs);
    expect(loaded.target).toBe('Churn');
    expect(loaded.id).toBe('customerID');
    expect(differences(loaded.transform(telco, test).matrix, fitted.transform(telco, test).matrix)).toEqual([]);
    const a = new Float64Array(loaded.width);
    const b = new Float64Array(fitted.width);
    const record = { ...recordOf(telco, test[0]), Contract: 'Three year' };
    expect(differences(loaded.transformRow(record, a), fitted.transformRow(record, b))).toEqual([]);
    expect(loaded.unseenCounts()).toMatchObject({ Contract: 1, gender: 0 });
  });

  it.each<[string, (json: Record<string, unknown>) => unknown, string]>([
    ['another format', (j) => ({ ...j, format: 'bramble-forest' }), 'saved features have format "bramble-forest"; expected "bramble-features"'],
    ['another version', (j) => ({ ...j, version: 3 }), 'saved features are version 3; this Bramble reads versions 1 and 2 — retrain the model or use a matching Bramble'],
    ['an input of an unknown kind', (j) => ({ ...j, inputs: [{ name: 'x', kind: 'time' }] }), 'saved features: inputs is missing or malformed; the model file is damaged'],
    ['a damaged step', (j) => ({ ...j, steps: [{ kind: 'standardize', step: 0, column: 'tenure', mean: 'x', std: 1 }] }), 'saved features: steps[0] (standardize) is missing or malformed; the model file is damaged'],
    ['outputs that do not match', (j) => ({ ...j, outputs: ['tenure'] }), 'the saved features list outputs tenure but their steps give'],
    ['not an object', () => null, 'saved features must be an object with format "bramble-features", got null'],
  ])('refuses %s', (_, damage, message) => {
    const json = JSON.parse(JSON.stringify(fitFeatures(config.features, telco, options()))) as Record<string, unknown>;
    const err = caught(() => FittedFeatures.fromJSON(damage(json)));
    expect(err).toBeInstanceOf(FeaturesFormatError);
    expect((err as FeaturesFormatError).message).toContain(message);
  });
});
