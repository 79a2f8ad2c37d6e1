import { describe, expect, it } from 'vitest';
import { ConfigError, loadMlYaml } from '../src/config/ml-yaml.js';
import type { FeatureStep } from '../src/features/transforms.js';
import { cellValue, type Column, type Table } from '../src/data/table.js';
import { FeatureExpressionError } from '../src/features/expression.js';
import { FeatureInputError, FeaturesFormatError, FeatureStepError } from '../src/features/feature-errors.js';
import { median } from '../src/features/fit-steps.js';
import { fitFeatures, FittedFeatures } from '../src/features/transforms.js';

// Tables built by hand: numbers, categories (codes in order of first appearance, as the loader makes them) and
// dates (UTC milliseconds, NaN missing).
type Cell = number | string | null;

function numbers(name: string, cells: (number | null)[]): Column {
  return { name, kind: 'number', values: Float64Array.from(cells, (c) => (c === null ? NaN : c)) };
}

function category(name: string, cells: (string | null)[]): Column {
  const categories: string[] = [];
  const index = new Map<string, number>();
  const codes = Int32Array.from(cells, (c) => {
    if (c === null) return -1;
    let code = index.get(c);
    if (code === undefined) {
      code = categories.length;
      categories.push(c);
      index.set(c, code);
    }
    return code;
  });
  return { name, kind: 'category', values: { codes, categories } };
}

function dates(name: string, cells: (string | null)[]): Column {
  return { name, kind: 'date', values: Float64Array.from(cells, (c) => (c === null ? NaN : Date.parse(c))) };
}

function tableOf(...columns: Column[]): Table {
  const first = columns[0];
  const rows = first.kind === 'number' || first.kind === 'boolean' || first.kind === 'date' ? first.values.length : first.values.codes.length;
  return { rows, columns, lines: Int32Array.from({ length: rows }, (_, i) => i + 2) };
}

function recordOf(t: Table, row: number): Record<string, Cell | boolean> {
  return Object.fromEntries(t.columns.map((c) => [c.name, cellValue(c, row)]));
}

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Every row of `rows` through transformRow, as one flat array: the serving path's matrix. */
function rowPath(features: FittedFeatures, t: Table, rows: readonly number[], edit: (r: Record<string, unknown>) => Record<string, unknown> = (r) => r): Float64Array {
  const out = new Float64Array(rows.length * features.width);
  const row = new Float64Array(features.width);
  rows.forEach((r, i) => out.set(features.transformRow(edit(recordOf(t, r)), row), i * features.width));
  return out;
}

/** Indices where two arrays differ by Object.is (NaN matches NaN; 0 does not match −0). */
function differences(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) out.push(i);
  return out;
}

describe('ordinal: one column of category codes', () => {
  // "Zeta" sorts before "alpha" and "Éclair" after "zulu" in UTF-16 order, as onehot sorts.
  const city = ['alpha', 'Zeta', 'zulu', 'Éclair', null, 'alpha', 'beta', 'Zeta'];
  const train = tableOf(category('city', city), numbers('y', [0, 1, 0, 1, 0, 1, 0, 1]));

  it('codes each training category by its place among the sorted categories, in one column', () => {
    const features = fitFeatures([{ ordinal: ['city'] }], train, { target: 'y' });
    expect(features.names).toEqual(['city']);
    expect(features.toJSON().steps).toEqual([{ kind: 'ordinal', step: 0, column: 'city', categories: ['Zeta', 'alpha', 'beta', 'zulu', 'Éclair'] }]);
    expect(Array.from(features.transform(train).matrix)).toEqual([1, 0, 3, 4, NaN, 1, 2, 0]);
  });

  it('learns only from the training rows: a category seen only in held-out rows is unseen, read as missing and counted', () => {
    const t = tableOf(category('city', ['b', 'a', 'b', 'c', 'd', null]), numbers('y', [0, 1, 0, 1, 0, 1]));
    const features = fitFeatures([{ ordinal: ['city'] }], t, { target: 'y', rows: [0, 1, 2] });
    expect(features.toJSON().steps).toMatchObject([{ categories: ['a', 'b'] }]);
    const held = features.transform(t, [3, 4, 5]);
    expect(Array.from(held.matrix)).toEqual([NaN, NaN, NaN]);
    expect(features.unseenCounts()).toEqual({ city: 2 });
    features.resetUnseenCounts();
    const out = new Float64Array(1);
    expect(features.transformRow({ city: 'b', y: null }, out)[0]).toBe(1);
    expect(features.transformRow({ city: 'never seen', y: null }, out)[0]).toBeNaN();
    expect(features.transformRow({ city: 'NA', y: null }, out)[0]).toBeNaN();
    expect(features.unseenCounts()).toEqual({ city: 1 });
  });

  it('serves correctly after thousands of distinct unseen labels (the row path starts its word lists over)', () => {
    const features = fitFeatures([{ impute: { city: { constant: 'alpha' } } }, { onehot: ['city'] }, { derive: { c2: 'd => d.y' } }], tableOf(category('city', city), numbers('y', [0, 1, 0, 1, 0, 1, 0, 1]), numbers('x', [1, 2, 3, 4, 5, 6, 7, 8])), { target: 'x' });
    const ordinal = fitFeatures([{ ordinal: ['city'] }], train, { target: 'y' });
    const out = new Float64Array(1);
    const hot = new Float64Array(features.width);
    for (let i = 0; i < 10_000; i++) {
      expect(ordinal.transformRow({ city: `new-${i}`, y: null }, out)[0]).toBeNaN();
      features.transformRow({ city: `new-${i}`, y: 1 }, hot);
    }
    expect(ordinal.transformRow({ city: 'zulu', y: null }, out)[0]).toBe(3);
    expect(ordinal.transformRow({ city: null, y: null }, out)[0]).toBeNaN();
    // city=Zeta, city=alpha, city=beta, city=zulu, city=Éclair, y, c2; a missing city is imputed as alpha.
    expect(features.names).toEqual(['city=Zeta', 'city=alpha', 'city=beta', 'city=zulu', 'city=Éclair', 'y', 'c2']);
    expect(Array.from(features.transformRow({ city: null, y: 1 }, hot))).toEqual([0, 1, 0, 0, 0, 1, 1]);
    expect(Array.from(features.transformRow({ city: 'beta', y: 0 }, hot))).toEqual([0, 0, 1, 0, 0, 0, 0]);
    expect(ordinal.unseenCounts()).toEqual({ city: 10_000 });
    expect(features.unseenCounts()).toEqual({ city: 10_000 });
  });

  it('costs one column for 300 categories where onehot costs 300, with the same trees-readable order', () => {
    const cells = Array.from({ length: 3000 }, (_, i) => `route-${String((i * 7) % 300).padStart(3, '0')}`);
    const t = tableOf(category('route', cells), numbers('y', cells.map((_, i) => i % 2)));
    expect(fitFeatures([{ ordinal: ['route'] }], t, { target: 'y' }).width).toBe(1);
    expect(fitFeatures([{ onehot: ['route'] }], t, { target: 'y' }).width).toBe(300);
    const codes = fitFeatures([{ ordinal: ['route'] }], t, { target: 'y' }).transform(t).matrix;
    expect(codes[0]).toBe(0);
    expect(codes[1]).toBe(7);
    expect(Math.max(...Array.from(codes.subarray(0, 300)))).toBe(299);
  });

  it('reads a text derived earlier, after imputing its gaps', () => {
    const steps: FeatureStep[] = [{ impute: { city: { constant: 'unknown' } } }, { derive: { city2: 'd => op.upper(d.city)' } }, { ordinal: ['city2'] }, { drop: ['city'] }];
    const features = fitFeatures(steps, train, { target: 'y' });
    expect(features.toJSON().steps[2]).toMatchObject({ kind: 'ordinal', categories: ['ALPHA', 'BETA', 'UNKNOWN', 'ZETA', 'ZULU', 'ÉCLAIR'] });
    expect(Array.from(features.transform(train).matrix)).toEqual([0, 3, 4, 5, 2, 0, 1, 3]);
  });

  it('refuses a saved ordinal step whose categories are not sorted and distinct (codes are positions in that list)', () => {
    const json = JSON.parse(JSON.stringify(fitFeatures([{ ordinal: ['city'] }], train, { target: 'y' }))) as { steps: { categories: string[] }[] };
    json.steps[0].categories = ['alpha', 'Zeta'];
    const err = caught(() => FittedFeatures.fromJSON(json));
    expect(err).toBeInstanceOf(FeaturesFormatError);
    expect((err as Error).message).toBe('saved features: steps[0] (ordinal) is missing or malformed; the model file is damaged');
  });

  it('a column with no training values cannot be coded', () => {
    const t = tableOf(category('city', [null, null, 'x']), numbers('y', [0, 1, 0]));
    const err = caught(() => fitFeatures([{ ordinal: ['city'] }], t, { target: 'y', rows: [0, 1] }));
    expect(err).toBeInstanceOf(FeatureStepError);
    expect((err as Error).message).toBe('ml.yaml features[0].ordinal[0]: "city" has no values in the training rows, so its categories cannot be learned; give { constant: … } or drop the column');
  });
});

describe('dates: read by derive, never a feature by themselves', () => {
  const when = ['2024-02-29T10:15:00Z', '2023-12-31T23:59:00Z', null, '1969-07-20T20:17:00Z', '2024-03-01T00:00:00Z', '2000-01-01T12:00:00Z'];
  const t = tableOf(dates('signup', when), numbers('spend', [1, 2, 3, 4, 5, 6]), numbers('y', [0, 1, 0, 1, 0, 1]));
  const steps: FeatureStep[] = [
    { derive: { month: 'd => op.month(d.signup)', weekday: 'd => op.dayofweek(d.signup)', age_days: 'd => (1735689600000 - d.signup) / 86400000' } },
  ];

  it('leaves a date column out of the features without an error, and records it as a date input', () => {
    const plain = fitFeatures([], t, { target: 'y' });
    expect(plain.names).toEqual(['spend']);
    expect(plain.inputs).toEqual([{ name: 'signup', kind: 'date' }, { name: 'spend', kind: 'number' }]);
    expect(plain.toJSON()).toMatchObject({ version: 2, inputs: [{ name: 'signup', kind: 'date' }, { name: 'spend', kind: 'number' }], outputs: ['spend'] });
  });

  it('derives parts of a date in UTC; a missing date gives missing parts', () => {
    const features = fitFeatures(steps, t, { target: 'y' });
    expect(features.names).toEqual(['spend', 'month', 'weekday', 'age_days']);
    const m = features.transform(t).matrix;
    const row = (r: number): number[] => Array.from(m.subarray(r * 4, r * 4 + 4));
    expect(row(0)).toEqual([1, 1, 4, (1735689600000 - Date.parse(when[0] as string)) / 86400000]);
    expect(row(1).slice(0, 3)).toEqual([2, 11, 0]);
    expect(row(2)).toEqual([3, NaN, NaN, NaN]);
    expect(row(3).slice(0, 3)).toEqual([4, 6, 0]);
  });

  it('gives bit-identical numbers in the batch path and the row path, from ISO text or epoch milliseconds', () => {
    const features = fitFeatures(steps, t, { target: 'y' });
    const rows = [0, 1, 2, 3, 4, 5];
    const batch = features.transform(t, rows).matrix;
    expect(differences(rowPath(features, t, rows), batch)).toEqual([]);
    const asMillis = rowPath(features, t, rows, (r) => ({ ...r, signup: r.signup === null ? null : Date.parse(r.signup as string) }));
    expect(differences(asMillis, batch)).toEqual([]);
    const asOffset = rowPath(features, t, [0], (r) => ({ ...r, signup: '2024-02-29T12:15:00+02:00' }));
    expect(differences(asOffset, batch.subarray(0, 4))).toEqual([]);
  });

  it('survives a JSON round trip, and the loaded features serve dates the same way', () => {
    const features = fitFeatures(steps, t, { target: 'y' });
    const loaded = FittedFeatures.fromJSON(JSON.parse(JSON.stringify(features)));
    expect(loaded.toJSON()).toEqual(features.toJSON());
    expect(differences(loaded.transform(t).matrix, features.transform(t).matrix)).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['a malformed date', '2024-13-01', 'the row\'s field "signup" is "2024-13-01"; give ISO 8601 text such as 2024-03-01 or 2024-03-01T12:30:00Z (UTC unless it gives an offset), or milliseconds since 1970 UTC, or null when missing'],
    ['not a date at all', 'next tuesday', 'the row\'s field "signup" is "next tuesday"; give ISO 8601 text'],
    ['a boolean', true, 'the row\'s field "signup" is true; give ISO 8601 text'],
    ['an instant past what a Date holds', 9e15, 'the row\'s field "signup" is 9000000000000000; give ISO 8601 text'],
  ])('refuses %s in a served record, naming the field', (_, value, message) => {
    const features = fitFeatures(steps, t, { target: 'y' });
    const err = caught(() => features.transformRow({ signup: value, spend: 1 }, new Float64Array(features.width)));
    expect(err).toBeInstanceOf(FeatureInputError);
    expect((err as Error).message).toContain(message);
    expect(err).toMatchObject({ code: 'E_FEATURE_INPUT', data: { column: 'signup' } });
  });

  it('reads missing markers and null as a missing date', () => {
    const features = fitFeatures(steps, t, { target: 'y' });
    for (const missing of [null, '', 'NA']) {
      const out = features.transformRow({ signup: missing, spend: 1 }, new Float64Array(features.width));
      expect(Array.from(out)).toEqual([1, NaN, NaN, NaN]);
    }
  });

  it.each(['standardize', 'onehot', 'ordinal', 'bucketize', 'impute'])('refuses %s on a date, pointing at derive', (kind) => {
    const step = (kind === 'bucketize' ? { bucketize: { signup: [0] } } : kind === 'impute' ? { impute: { signup: 'median' } } : { [kind]: ['signup'] }) as FeatureStep;
    const where = kind === 'bucketize' || kind === 'impute' ? `ml.yaml features[0].${kind}.signup` : `ml.yaml features[0].${kind}[0]`;
    const err = caught(() => fitFeatures([step], t, { target: 'y' }));
    expect(err).toBeInstanceOf(FeatureStepError);
    expect((err as Error).message).toBe(`${where}: "signup" holds dates, which ${kind} does not take; a date is not a feature by itself — read parts of it with derive, as in d => op.month(d["signup"]), or leave it out with drop`);
  });

  it('a date can be dropped', () => {
    expect(fitFeatures([{ drop: ['signup'] }], t, { target: 'y' }).toJSON().steps).toEqual([{ kind: 'drop', step: 0, column: 'signup' }]);
  });
});

describe('saved features: old artifacts load, new kinds bump the version', () => {
  it('a model without dates or ordinal steps is saved as version 1, as before', () => {
    const t = tableOf(category('c', ['a', 'b', 'a']), numbers('x', [1, 2, 3]), numbers('y', [0, 1, 0]));
    expect(fitFeatures([{ onehot: ['c'] }], t, { target: 'y' }).toJSON().version).toBe(1);
    expect(fitFeatures([{ ordinal: ['c'] }], t, { target: 'y' }).toJSON().version).toBe(2);
  });

  it('loads features saved before dates and ordinal existed', () => {
    // Written by Bramble at commit 098af91 (the Telco template's steps, abridged): version 1, number and text inputs.
    const old = {
      format: 'bramble-features', version: 1, target: 'Churn', id: 'customerID',
      inputs: [{ name: 'Contract', kind: 'text' }, { name: 'tenure', kind: 'number' }, { name: 'TotalCharges', kind: 'number' }],
      steps: [
        { kind: 'impute', step: 0, column: 'TotalCharges', rule: 'median', value: 1397.475 },
        { kind: 'onehot', step: 1, column: 'Contract', categories: ['Month-to-month', 'One year', 'Two year'] },
        { kind: 'derive', step: 2, column: 'per_month', expression: 'd => d.TotalCharges / (d.tenure + 1)', type: 'number' },
      ],
      outputs: ['Contract=Month-to-month', 'Contract=One year', 'Contract=Two year', 'tenure', 'TotalCharges', 'per_month'],
    };
    const features = FittedFeatures.fromJSON(old);
    expect(features.toJSON()).toEqual(old);
    expect(Array.from(features.transformRow({ Contract: 'One year', tenure: 3, TotalCharges: null }, new Float64Array(6)))).toEqual([0, 1, 0, 3, 1397.475, 1397.475 / 4]);
  });
});

describe('batch and row paths agree on a mixed table at size', () => {
  it('20,000 rows of numbers, text, dates, onehot, ordinal, impute and derive: bit-identical, held-out rows included', () => {
    let seed = 11;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const n = 20_000;
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const plans = ['basic', 'plus', 'pro', 'NA', ''];
    const routes = Array.from({ length: 300 }, (_, i) => `r${i}`);
    const t = tableOf(
      numbers('x', Array.from({ length: n }, () => (random() < 0.05 ? null : random() * 100 - 50))),
      category('plan', Array.from({ length: n }, () => (random() < 0.05 ? null : pick(plans)))),
      category('route', Array.from({ length: n }, () => (random() < 0.02 ? null : pick(routes)))),
      dates('at', Array.from({ length: n }, () => (random() < 0.03 ? null : new Date(Math.floor(-1e12 + random() * 3e12)).toISOString()))),
      numbers('y', Array.from({ length: n }, () => (random() < 0.5 ? 0 : 1))),
    );
    const steps: FeatureStep[] = [
      { impute: { x: 'median', plan: 'mode' } },
      { derive: { tier: 'd => d.plan === "pro" ? "high" : "low"', hour: 'd => op.hours(d.at)', week: 'd => op.week(d.at)', year: 'd => op.year(d.at) - 2000' } },
      { onehot: ['plan', 'tier'] },
      { ordinal: ['route'] },
      { standardize: ['x'] },
    ];
    const train = Array.from({ length: n / 2 }, (_, i) => i);
    const test = Array.from({ length: n / 2 }, (_, i) => n / 2 + i);
    const features = fitFeatures(steps, t, { target: 'y', rows: train });
    expect(features.names).toEqual(['x', 'plan=basic', 'plan=plus', 'plan=pro', 'route', 'tier=high', 'tier=low', 'hour', 'week', 'year']);
    const batch = features.transform(t, test).matrix;
    expect(differences(rowPath(features, t, test), batch)).toEqual([]);
    const loaded = FittedFeatures.fromJSON(JSON.parse(JSON.stringify(features)));
    expect(differences(rowPath(loaded, t, test), batch)).toEqual([]);
    // "NA" and "" are missing markers, so the mode is a real plan and no column is named after a marker.
    expect(features.toJSON().steps[0]).toMatchObject({ kind: 'impute', column: 'x', rule: 'median' });
    expect(features.toJSON().steps[1]).toMatchObject({ kind: 'impute', column: 'plan', rule: 'mode' });
  });
});

describe('derive nested too deep inside fitFeatures', () => {
  it('is a FeatureExpressionError naming the step, not a stack overflow', () => {
    const t = tableOf(numbers('a', [1, 2]), numbers('y', [0, 1]));
    const deep = `d => ${'('.repeat(50_000)}d.a${')'.repeat(50_000)}`;
    const err = caught(() => fitFeatures([{ derive: { x: deep } }], t, { target: 'y' }));
    expect(err).toBeInstanceOf(FeatureExpressionError);
    expect((err as Error).message).toBe('ml.yaml features[0].derive.x: nested too deep (limit 256); simplify the expression');
  });
});

describe('ml.yaml: the ordinal step', () => {
  const head = 'name: routes\ntask: classification\ndata:\n  train: data/routes.csv\n  target: churn\n  id: id\nmodel:\n  type: random-forest\n';

  it('is a list of columns, typed as such', () => {
    expect(loadMlYaml(`${head}features:\n  - ordinal: [origin, destination]\n`).features).toEqual([{ ordinal: ['origin', 'destination'] }]);
  });

  it.each<[string, string]>([
    ['the target and the id', 'features:\n  - ordinal: [origin, churn, id]\n'],
    ['an empty list', 'features:\n  - ordinal: []\n'],
    ['a repeated column', 'features:\n  - ordinal: [origin, origin]\n'],
  ])('refuses %s at its line', (_, features) => {
    let caught: unknown;
    try {
      loadMlYaml(`${head}${features}`);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatchSnapshot();
  });
});

describe('the median of impute: selection gives what sorting gives', () => {
  const bySort = (values: Float64Array): number => {
    const sorted = Float64Array.from(values).sort();
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };

  it('on thousands of seeded arrays: duplicates, −0 and +0, sorted and reversed runs, odd and even lengths', () => {
    let seed = 3;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pool = [-0, 0, -0, 0, 1, -1, 2.5, -2.5, 1e-300, -1e300, Infinity, -Infinity, 7];
    const cases: Float64Array[] = [];
    for (let c = 0; c < 3000; c++) {
      const n = 1 + Math.floor(random() * 40);
      const kind = c % 4;
      const values = Float64Array.from({ length: n }, () => (kind === 0 ? pool[Math.floor(random() * pool.length)] : kind === 1 ? Math.floor(random() * 5) - 2 : random() * 100 - 50));
      if (kind === 3) values.sort();
      if (kind === 2 && c % 8 === 2) values.sort().reverse();
      cases.push(values);
    }
    cases.push(new Float64Array(100_001).fill(3), Float64Array.from({ length: 200_000 }, (_, i) => i % 997), Float64Array.from({ length: 150_000 }, (_, i) => -i));
    const wrong = cases.filter((values) => !Object.is(median(Float64Array.from(values)), bySort(values)));
    expect(wrong.map((v) => Array.from(v.subarray(0, 12)))).toEqual([]);
  });

  it('fits the same imputed value as before on a column with −0 and +0 in the middle', () => {
    const t = tableOf(numbers('x', [-0, 0, -0, 5, -3, null]), numbers('y', [0, 1, 0, 1, 0, 1]));
    const value = (fitFeatures([{ impute: { x: 'median' } }], t, { target: 'y' }).toJSON().steps[0] as { value: number }).value;
    expect(Object.is(value, -0)).toBe(true);
  });
});
