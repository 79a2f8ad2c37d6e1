// Window profiles merged (src/monitor/merge.ts) against the profile of all their rows at once: what must be exact
// is exact, and the mixture of sketches stays within the sketches' own error of the whole's quantiles.
import { describe, expect, it } from 'vitest';
import { detectDrift } from '../src/data/drift.js';
import { profileTable, type ColumnProfile, type TableProfile } from '../src/data/profile.js';
import type { Column, Table } from '../src/data/table.js';
import { mergePerformance, mergeProfiles, metricsOfSums, sketchCdf } from '../src/monitor/merge.js';
import { normals } from './helpers/reference-drift.js';
import { Rng } from '../src/util/rng.js';

function table(numbers: readonly number[], labels: readonly string[]): Table {
  const categories: string[] = [];
  const codes = Int32Array.from(labels, (l) => {
    let k = categories.indexOf(l);
    if (k < 0) k = categories.push(l) - 1;
    return k;
  });
  const columns: Column[] = [
    { name: 'x', kind: 'number', values: Float64Array.from(numbers) },
    { name: 'c', kind: 'category', values: { codes, categories } },
    { name: 'b', kind: 'boolean', values: Float64Array.from(numbers, (v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : 0)) },
    // A number column of two values (SeniorCitizen's kind): its sketch is all atoms, which the merge must keep.
    { name: 'k', kind: 'number', values: Float64Array.from(numbers, (v) => (v > 1.2 ? 1 : 0)) },
  ];
  return { rows: numbers.length, columns, lines: new Int32Array(0) };
}

function column<K extends ColumnProfile['kind']>(p: TableProfile, name: string, kind: K): Extract<ColumnProfile, { kind: K }> {
  const c = p.columns.find((x) => x.name === name);
  if (c === undefined || c.kind !== kind) throw new Error(`no ${kind} column ${name}`);
  return c as Extract<ColumnProfile, { kind: K }>;
}

describe('mergeProfiles', () => {
  // Three "days" of different sizes and distributions: a month that is not one distribution.
  const parts = [normals(1, 3000, 0, 1), normals(2, 1000, 3, 0.5), normals(3, 6000, -1, 2)];
  parts[1][17] = Number.NaN;
  const rng = new Rng(9);
  const labelsOf = (n: number, bias: number): string[] => Array.from({ length: n }, () => (rng.float() < bias ? 'a' : rng.float() < 0.5 ? 'b' : 'c'));
  const labels = [labelsOf(3000, 0.2), labelsOf(1000, 0.7), labelsOf(6000, 0.4)];
  const profiles = parts.map((p, i) => profileTable(table(p, labels[i]), { distributions: true }));
  const whole = profileTable(table(parts.flat(), labels.flat()), { distributions: true });
  const merged = mergeProfiles(profiles);

  it('adds counts, missing values and true counts exactly, and pools mean and standard deviation', () => {
    expect(merged.rows).toBe(whole.rows);
    const [m, w] = [column(merged, 'x', 'number'), column(whole, 'x', 'number')];
    expect([m.count, m.missing, m.min, m.max]).toEqual([w.count, w.missing, w.min, w.max]);
    expect(m.mean).toBeCloseTo(w.mean as number, 12);
    expect(m.std).toBeCloseTo(w.std as number, 12);
    expect(m.distinct).toBeNull();
    expect(column(merged, 'b', 'boolean')).toEqual(column(whole, 'b', 'boolean'));
  });

  it('gives the mixture of the sketches: every percentile within the sketches’ own error (0.01 in probability) of the whole’s', () => {
    const m = column(merged, 'x', 'number').sketch as number[];
    const w = column(whole, 'x', 'number').sketch as number[];
    expect(m).toHaveLength(101);
    for (let i = 1; i < 100; i++) {
      // The whole's CDF at the merged percentile is within 0.01 of the level.
      expect(Math.abs(sketchCdf(w, m[i]) - i / 100)).toBeLessThan(0.01);
    }
    expect([m[0], m[100]]).toEqual([w[0], w[100]]);
    const q = column(merged, 'x', 'number').quantiles as number[];
    expect(q).toEqual([m[5], m[25], m[50], m[75], m[95]]);
  });

  it('adds category counts exactly when every window kept all its values, and drift reads the merge as it reads a profile', () => {
    const m = column(merged, 'c', 'category');
    const w = column(whole, 'c', 'category');
    expect(m.frequencies).toEqual(w.frequencies);
    expect(m.top).toEqual(w.top);
    expect(m.other).toBe(0);
    // The merged month against its own whole: no drift on any column.
    const drift = detectDrift(whole, merged);
    expect(drift.columns.map((c) => [c.column, c.drifted])).toEqual([
      ['x', false],
      ['c', false],
      ['b', false],
      ['k', false],
    ]);
    // The two-valued column: the merged sketch steps from 0 to 1 where the whole's does, within a percentile.
    const k = column(merged, 'k', 'number').sketch as number[];
    const wk = column(whole, 'k', 'number').sketch as number[];
    expect(Math.abs(k.indexOf(1) - wk.indexOf(1))).toBeLessThanOrEqual(1);
    expect(drift.columns[3].score).toBeLessThan(0.02);
  });

  it('returns a single profile as it is, and refuses none', () => {
    expect(mergeProfiles([profiles[0]])).toBe(profiles[0]);
    expect(() => mergeProfiles([])).toThrow('no profiles');
  });
});

describe('mergePerformance and metricsOfSums', () => {
  it('adds confusion matrices and log loss, and gives scikit-learn’s definitions of the metrics', () => {
    const a = { task: 'classification' as const, rows: 10, classes: ['No', 'Yes'], confusion: [[5, 1], [2, 2]], logLoss: 4 };
    const b = { task: 'classification' as const, rows: 6, classes: ['No', 'Yes'], confusion: [[1, 1], [0, 4]], logLoss: 2 };
    const sums = mergePerformance([a, b, { ...a, rows: 0, confusion: [[0, 0], [0, 0]], logLoss: 0 }]);
    expect(sums).toEqual({ task: 'classification', rows: 16, classes: ['No', 'Yes'], confusion: [[6, 2], [2, 6]], logLoss: 6 });
    const m = metricsOfSums(sums as NonNullable<typeof sums>);
    expect(m).toEqual({ accuracy: 12 / 16, precision: 6 / 8, recall: 6 / 8, f1: 0.75, roc_auc: null, log_loss: 6 / 16 });
    expect(mergePerformance([a, { ...b, classes: ['no', 'yes'] }])).toBeNull();
  });

  it('adds regression sums: RMSE, MAE and R² of all the rows', () => {
    const ys = [1, 2, 3, 4, 5, 6];
    const ps = [1.5, 2, 2.5, 4, 6, 5];
    const sumsOf = (from: number, to: number) => {
      let absError = 0;
      let squaredError = 0;
      let sum = 0;
      let sumOfSquares = 0;
      for (let i = from; i < to; i++) {
        absError += Math.abs(ys[i] - ps[i]);
        squaredError += (ys[i] - ps[i]) ** 2;
        sum += ys[i];
        sumOfSquares += ys[i] ** 2;
      }
      return { task: 'regression' as const, rows: to - from, absError, squaredError, sum, sumOfSquares };
    };
    const m = metricsOfSums(mergePerformance([sumsOf(0, 2), sumsOf(2, 6)]) as NonNullable<ReturnType<typeof mergePerformance>>);
    const sse = ys.reduce((s, y, i) => s + (y - ps[i]) ** 2, 0);
    const mean = 3.5;
    const sst = ys.reduce((s, y) => s + (y - mean) ** 2, 0);
    expect(m.rmse).toBeCloseTo(Math.sqrt(sse / 6), 12);
    expect(m.mae).toBeCloseTo(ys.reduce((s, y, i) => s + Math.abs(y - ps[i]), 0) / 6, 12);
    expect(m.r2).toBeCloseTo(1 - sse / sst, 12);
  });
});
