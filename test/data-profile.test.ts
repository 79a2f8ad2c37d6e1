import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/util/rng.js';
import { loadTable } from '../src/data/load.js';
import { PROFILE_DISTINCT_LIMIT, PROFILE_QUANTILES, profileTable, selectQuantiles, type NumberProfile, type TableProfile } from '../src/data/profile.js';
import { getColumn, type Column, type Table } from '../src/data/table.js';

const churn = loadTable(readFileSync(join(import.meta.dirname, '../templates/model-repo/data/churn.csv')), {
  file: 'data/churn.csv',
  columns: { SeniorCitizen: { type: 'boolean' }, customerID: { type: 'string' }, TotalCharges: { type: 'number', nullable: true } },
}).table;
const churnProfile = profileTable(churn);

/** The random cases draw from the project's own seeded generator. */
function generator(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}

/**
 * The reference: a full sort, then numpy's "linear" rule written out — h = (n − 1)·p, interpolated between the
 * sorted values at ⌊h⌋ and ⌊h⌋ + 1 from the nearer end (numpy's _lerp) — and the textbook mean and std.
 */
function reference(values: ArrayLike<number>): { count: number; mean: number; std: number; min: number; max: number; quantiles: number[]; distinct: number } {
  const present = Array.from(values).filter((v) => !Number.isNaN(v));
  const sorted = [...present].sort((a, b) => a - b);
  const n = sorted.length;
  const quantiles = PROFILE_QUANTILES.map((p) => {
    const h = (n - 1) * p;
    const k = Math.floor(h);
    if (k + 1 >= n) return sorted[k];
    const t = h - k;
    const [a, b] = [sorted[k], sorted[k + 1]];
    return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
  });
  const mean = present.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(present.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { count: n, mean, std, min: sorted[0], max: sorted[n - 1], quantiles, distinct: new Set(present).size };
}

function numberTable(name: string, values: Float64Array): Table {
  return { rows: values.length, columns: [{ name, kind: 'number', values }], lines: new Int32Array(values.length) };
}

function numberProfile(profile: TableProfile, name: string): NumberProfile {
  const column = profile.columns.find((c) => c.name === name);
  if (column?.kind !== 'number') throw new Error(`no number column ${name}`);
  return column;
}

function numbers(column: Column): Float64Array {
  if (column.kind !== 'number') throw new Error(`${column.name} is ${column.kind}`);
  return column.values;
}

describe('profiles of the Telco data', () => {
  it.each(['tenure', 'MonthlyCharges', 'TotalCharges'])('matches a sort-based reference on %s', (name) => {
    const expected = reference(numbers(getColumn(churn, name)));
    const profile = numberProfile(churnProfile, name);
    expect(profile.count).toBe(expected.count);
    expect(profile.missing).toBe(7043 - expected.count);
    expect(profile.min).toBe(expected.min);
    expect(profile.max).toBe(expected.max);
    expect(profile.distinct).toBe(expected.distinct);
    // The same order statistics through the same arithmetic: equal, not just close.
    expect(profile.quantiles).toEqual(expected.quantiles);
    expect(profile.mean).toBeCloseTo(expected.mean, 10);
    expect(profile.std).toBeCloseTo(expected.std, 10);
  });

  // pandas 1.5.3: read_csv(na_values=[' ']).describe(percentiles=[.05, .25, .5, .75, .95]) and nunique().
  it.each([
    ['tenure', 7043, 32.37114865824223, 24.55948102309423, [0, 1, 9, 29, 55, 72, 72], 73],
    ['MonthlyCharges', 7043, 64.76169246059918, 30.09004709767854, [18.25, 19.65, 35.5, 70.35, 89.85, 107.4, 118.75], 1585],
    ['TotalCharges', 7032, 2283.3004408418656, 2266.7713618831453, [18.8, 49.605, 401.45, 1397.475, 3794.7375, 6923.589999999999, 8684.8], 6530],
  ])('agrees with pandas describe on %s', (name, count, mean, std, [min, ...rest], distinct) => {
    const profile = numberProfile(churnProfile, name);
    expect(profile).toMatchObject({ count, distinct, min, max: rest[5] });
    expect(profile.mean).toBeCloseTo(mean, 9);
    expect(profile.std).toBeCloseTo(std, 9);
    profile.quantiles?.forEach((q, i) => expect(q).toBeCloseTo(rest[i], 9));
  });

  it('counts categories and keeps the most frequent, ties in value order', () => {
    expect(churnProfile.columns.find((c) => c.name === 'Contract')).toEqual({
      name: 'Contract',
      kind: 'category',
      count: 7043,
      missing: 0,
      distinct: 3,
      top: [['Month-to-month', 3875], ['Two year', 1695], ['One year', 1473]],
    });
    expect(churnProfile.columns.find((c) => c.name === 'PaymentMethod')).toMatchObject({
      distinct: 4,
      top: [['Electronic check', 2365], ['Mailed check', 1612], ['Bank transfer (automatic)', 1544], ['Credit card (automatic)', 1522]],
    });
  });

  it('keeps no values of string columns (ids) and counts booleans', () => {
    expect(churnProfile.columns.find((c) => c.name === 'customerID')).toEqual({ name: 'customerID', kind: 'string', count: 7043, missing: 0, distinct: 7043 });
    expect(churnProfile.columns.find((c) => c.name === 'SeniorCitizen')).toEqual({ name: 'SeniorCitizen', kind: 'boolean', count: 7043, missing: 0, trues: 1142 });
  });

  it('is plain JSON that comes back the same, and the same every time', () => {
    const text = JSON.stringify(churnProfile);
    expect(JSON.parse(text)).toEqual(churnProfile);
    expect(text).not.toMatch(/NaN|Infinity/);
    expect(JSON.stringify(profileTable(churn))).toBe(text);
    expect(churnProfile).toMatchObject({ format: 'bramble-profile', version: 1, rows: 7043, quantiles: [0.05, 0.25, 0.5, 0.75, 0.95] });
    expect(text.length).toBeLessThan(8_000);
  });
});

describe('quantiles by selection', () => {
  const random = generator(3);
  const cases: [string, number[]][] = [
    ['one value', [4]],
    ['two values', [2, 1]],
    ['all equal', Array(1000).fill(7)],
    ['sorted', Array.from({ length: 5000 }, (_, i) => i)],
    ['reversed', Array.from({ length: 5000 }, (_, i) => -i)],
    ['few distinct values', Array.from({ length: 20_000 }, () => Math.floor(random() * 3))],
    ['organ pipe', Array.from({ length: 4001 }, (_, i) => Math.min(i, 4000 - i))],
    ['signed zeros and extremes', [0, -0, Number.MAX_VALUE, -Number.MAX_VALUE, 5e-324, -0, 0]],
    ...Array.from({ length: 40 }, (_, i): [string, number[]] => [`random, ${i + 3} values`, Array.from({ length: i + 3 }, () => Math.round(random() * 100) / 10)]),
    ['random, 100,001 values', Array.from({ length: 100_001 }, () => random() * 1e6 - 5e5)],
  ];

  it.each(cases)('equal the sort-based reference: %s', (_, values) => {
    const copy = Float64Array.from(values);
    // −0 and 0 are equal, so either may come out of a tie; the profile itself writes 0 for both.
    const zeroed = (qs: number[]): number[] => qs.map((q) => q + 0);
    expect(zeroed(selectQuantiles(copy, copy.length, PROFILE_QUANTILES))).toEqual(zeroed(reference(values).quantiles));
  });

  it('interpolate linearly between order statistics (numpy and pandas default)', () => {
    // n = 5: h = 4p, so 0.05 → 0.2 of the way from 10 to 20; 0.95 → 0.8 of the way from 40 to 50.
    expect(selectQuantiles(Float64Array.from([50, 10, 40, 20, 30]), 5, PROFILE_QUANTILES)).toEqual([12, 20, 30, 40, 48]);
  });
});

describe('number profiles', () => {
  it('stay accurate when the mean dwarfs the spread', () => {
    const random = generator(5);
    const values = Float64Array.from({ length: 10_000 }, () => 1e9 + random());
    const profile = numberProfile(profileTable(numberTable('x', values)), 'x');
    const shifted = reference(values.map((v) => v - 1e9));
    expect(profile.std).toBeCloseTo(shifted.std, 12);
    expect((profile.mean ?? 0) - 1e9).toBeCloseTo(shifted.mean, 6);
  });

  it('report null for what an empty or single-valued column cannot give', () => {
    const profile = profileTable({
      rows: 2,
      columns: [
        { name: 'empty', kind: 'number', values: Float64Array.from([NaN, NaN]) },
        { name: 'one', kind: 'number', values: Float64Array.from([NaN, 3]) },
      ],
      lines: Int32Array.from([2, 3]),
    });
    expect(profile.columns).toEqual([
      { name: 'empty', kind: 'number', count: 0, missing: 2, distinct: 0, mean: null, std: null, min: null, max: null, quantiles: null },
      { name: 'one', kind: 'number', count: 1, missing: 1, distinct: 1, mean: 3, std: null, min: 3, max: 3, quantiles: [3, 3, 3, 3, 3] },
    ]);
    expect(JSON.stringify(profile)).not.toContain('NaN');
  });

  it.each([
    [PROFILE_DISTINCT_LIMIT, PROFILE_DISTINCT_LIMIT],
    [PROFILE_DISTINCT_LIMIT + 1, null],
  ])('count %i distinct values as %s', (distinct, expected) => {
    const values = Float64Array.from({ length: distinct * 2 }, (_, i) => (i % distinct) * 0.5);
    values[0] = -0;
    expect(numberProfile(profileTable(numberTable('x', values)), 'x').distinct).toBe(expected);
  });

  it('break ties among the most frequent categories by value and keep ten', () => {
    const categories = ['k', 'j', 'i', 'h', 'g', 'f', 'e', 'd', 'c', 'b', 'a', 'z'];
    const codes = Int32Array.from([11, 11, 11, ...categories.map((_, i) => i), -1]);
    const profile = profileTable({ rows: codes.length, columns: [{ name: 'c', kind: 'category', values: { codes, categories } }], lines: new Int32Array(codes.length) });
    expect(profile.columns[0]).toEqual({
      name: 'c',
      kind: 'category',
      count: codes.length - 1,
      missing: 1,
      distinct: 12,
      top: [['z', 4], ['a', 1], ['b', 1], ['c', 1], ['d', 1], ['e', 1], ['f', 1], ['g', 1], ['h', 1], ['i', 1]],
    });
  });
});
