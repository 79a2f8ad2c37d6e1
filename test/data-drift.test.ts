import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMlYaml } from '../src/config/ml-yaml.js';
import {
  chiSquareSf,
  chiSquareTest,
  detectDrift,
  formatDrift,
  jensenShannonDistance,
  kolmogorovSf,
  ksPValue,
  ksStatistic,
  logGamma,
  sketchCdf,
  wassersteinDistance,
  type ColumnDrift,
  type DriftResult,
} from '../src/data/drift.js';
import { loadTable } from '../src/data/load.js';
import { PROFILE_SKETCH, profileTable, type NumberProfile, type TableProfile } from '../src/data/profile.js';
import type { Column, Table } from '../src/data/table.js';
import { validationLoadOptions } from '../src/data/validate.js';
import {
  CATEGORY_CASES,
  categoriesJob,
  categorySamples,
  countLabels,
  GAMMA_ZS,
  KS_LAMBDAS,
  KS_P_CASES,
  ksPJob,
  NUMBER_CASES,
  numberSamples,
  numbersJob,
  recordedAnswer,
  SPECIAL_DFS,
  SPECIAL_GRID,
  specialJob,
  type CategoriesAnswer,
  type NumbersAnswer,
  type SpecialAnswer,
} from './helpers/reference-drift.js';

const root = join(import.meta.dirname, '..');
const churnBytes = readFileSync(join(root, 'templates/model-repo/data/churn.csv'));
const churnSchema = loadMlYaml(readFileSync(join(root, 'templates/model-repo/ml.yaml'), 'utf8')).schema ?? {};
const { columns: declared } = validationLoadOptions(churnSchema);

/** The Telco data with the declared types, its lines optionally edited (header excluded). */
function churn(edit: (fields: string[], header: string[]) => void = () => {}): Table {
  const lines = churnBytes.toString('utf8').split('\n');
  const header = lines[0].split(',');
  const edited = lines.map((line, i) => {
    if (i === 0 || line === '') return line;
    const fields = line.split(',');
    edit(fields, header);
    return fields.join(',');
  });
  return loadTable(new TextEncoder().encode(edited.join('\n')), { file: 'data/churn.csv', columns: declared }).table;
}

const distributions = (table: Table): TableProfile => profileTable(table, { distributions: true });

function numberTable(values: readonly number[]): Table {
  return { rows: values.length, columns: [{ name: 'x', kind: 'number', values: Float64Array.from(values) }], lines: new Int32Array(values.length) };
}

function categoryTable(labels: readonly string[]): Table {
  const categories = [...new Set(labels)];
  const codes = Int32Array.from(labels.map((l) => categories.indexOf(l)));
  return { rows: labels.length, columns: [{ name: 'c', kind: 'category', values: { codes, categories } }], lines: new Int32Array(labels.length) };
}

function column(result: DriftResult, name: string): ColumnDrift {
  const found = result.columns.find((c) => c.column === name);
  if (found === undefined) throw new Error(`no drift row for ${name}`);
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// The reference: scipy's answers on the raw samples, as `npm run reference:record` recorded them in
// test/reference-figures/drift.json (test/helpers/reference-drift.ts builds each question and looks up its answer;
// test/reference/drift.test.ts checks live that scipy still gives them).

describe('special functions against scipy (recorded)', () => {
  const dfs = SPECIAL_DFS;
  const grid = SPECIAL_GRID;
  const expected = recordedAnswer<SpecialAnswer>(specialJob());

  // Relative 1e-9 even out in the tail (1500 on 1 df is ~1e-330, below doubles: both give 0).
  it.each(dfs)('chi2.sf on %i degrees of freedom, from 1e-3 to 1500', (df) => {
    grid.forEach(([x, k], i) => {
      if (k !== df) return;
      const sf = expected.chi2[i];
      const ours = chiSquareSf(x, df);
      if (sf === 0) expect(ours, `x = ${x}`).toBeLessThan(1e-300);
      else expect(Math.abs(ours - sf) / sf, `x = ${x}`).toBeLessThan(1e-9);
    });
  });

  it('kolmogorovSf matches kstwobign.sf on both sides of the switch at 1.18', () => {
    KS_LAMBDAS.forEach((lambda, i) => {
      const sf = expected.ks[i];
      expect(Math.abs(kolmogorovSf(lambda) - sf), `λ = ${lambda}`).toBeLessThan(1e-14 + 1e-12 * sf);
    });
  });

  it('logGamma matches gammaln', () => {
    GAMMA_ZS.forEach((z, i) => expect(logGamma(z)).toBeCloseTo(expected.gammaln[i], 11));
  });
});

/**
 * The sketch-based statistics against scipy on the raw samples. Tolerances: KS's D within 0.015, because a
 * 101-quantile sketch places the CDF to within one percentile (0.01) between its knots, plus numpy's
 * interpolation between order statistics; the normed Wasserstein distance within 0.01, because linear
 * interpolation between percentiles moves each value by less than one percentile's width and for a normal
 * sample the mean width is about 0.025 std, most of which cancels between the two sides; chi-square and
 * Jensen–Shannon exactly (1e-9), because category counts are kept whole.
 */
describe('drift statistics against scipy on the raw samples (recorded)', () => {
  it.each(NUMBER_CASES)('numbers: %s', (name, n, m, shift, drifts) => {
    const { a, b } = numberSamples(n, m, shift);
    const expected = recordedAnswer<NumbersAnswer>(numbersJob(name, a, b));
    const reference = distributions(numberTable(a));
    const current = distributions(numberTable(b));
    const sketch = (p: TableProfile): readonly number[] => (p.columns[0] as NumberProfile).sketch ?? [];
    expect(Math.abs(ksStatistic(sketch(reference), sketch(current)) - expected.ks)).toBeLessThan(0.015);
    expect(Math.abs(wassersteinDistance(sketch(reference), sketch(current)) / (3 * Math.sqrt((n - 1) / n)) - expected.wasserstein)).toBeLessThan(0.02);
    const result = column(detectDrift(reference, current), 'x');
    if (n <= 1000) {
      expect(result).toMatchObject({ test: 'ks', threshold: 0.05, drifted: drifts });
      // scipy's verdict on the raw samples is the same.
      expect(expected.ksP < 0.05).toBe(drifts);
    } else {
      expect(result).toMatchObject({ test: 'wasserstein', threshold: 0.1, drifted: drifts });
      expect(Math.abs((result.statistic ?? NaN) - expected.wasserstein)).toBeLessThan(0.01);
      expect(expected.wasserstein >= 0.1).toBe(drifts);
    }
  });

  it('KS p-values are ks_2samp’s for the same D', () => {
    // ks_2samp's 'auto': the exact lattice-path count at these sizes (test/data-ks.test.ts covers every branch).
    const expected = recordedAnswer<number[]>(ksPJob());
    KS_P_CASES.forEach(([d, n, m], i) => expect(Math.abs(ksPValue(d, n, m) - expected[i]), `D = ${d}`).toBeLessThanOrEqual(1e-9 * Math.min(1, expected[i])));
  });

  it.each(CATEGORY_CASES)('categories: %s', (name, n, weights, drifts) => {
    const { a, b } = categorySamples(n, weights); // b has one label the reference never had
    const result = column(detectDrift(distributions(categoryTable(a)), distributions(categoryTable(b))), 'c');
    const expected = recordedAnswer<CategoriesAnswer>(categoriesJob(name, countLabels(a), countLabels(b)));
    expect(Math.abs(jensenShannonDistance(countLabels(a), countLabels(b)) - expected.js)).toBeLessThan(1e-9);
    const three = chiSquareTest(countLabels(b).slice(0, 3), countLabels(a).slice(0, 3));
    expect(Math.abs(three.statistic - expected.chi2) / expected.chi2).toBeLessThan(1e-9);
    expect(Math.abs(three.pValue - expected.p)).toBeLessThan(1e-9 + 1e-9 * expected.p);
    if (n <= 1000) {
      // The unseen label alone is drift for chi-square (an infinite statistic), as in Evidently.
      expect(result).toMatchObject({ test: 'chi2', statistic: null, pValue: 0, drifted: true });
      expect(expected.p < 0.05).toBe(drifts);
    } else {
      expect(result).toMatchObject({ test: 'jensen_shannon', threshold: 0.1, drifted: drifts });
      expect(result.statistic ?? NaN).toBeCloseTo(expected.js, 9);
    }
  });
});

describe('sketch statistics', () => {
  it('read ties as jumps in the CDF', () => {
    const sketch = PROFILE_SKETCH.map((p) => (p < 0.3 ? 0 : 1));
    expect(sketchCdf(sketch, 0, true)).toBe(0);
    // The last knot at 0 is the 29th percentile; between it and the first knot at 1 the CDF is read as linear.
    expect(sketchCdf(sketch, 0)).toBeCloseTo(0.29, 12);
    expect(sketchCdf(sketch, 0.5)).toBeCloseTo(0.295, 12);
    expect(sketchCdf(sketch, 1, true)).toBeCloseTo(0.3, 12);
    expect(sketchCdf(sketch, 1)).toBe(1);
  });

  it('give D = 0 and distance 0 for one sketch against itself, and D = 1 for disjoint ones', () => {
    const a = PROFILE_SKETCH.map((p) => p * 10);
    const b = PROFILE_SKETCH.map((p) => 20 + p);
    expect(ksStatistic(a, a)).toBe(0);
    expect(wassersteinDistance(a, a)).toBe(0);
    expect(ksStatistic(a, b)).toBe(1);
    expect(wassersteinDistance(a, b)).toBeCloseTo(20 + 0.5 - 5, 12);
  });

  it('give chi-square p = 1 for a single category', () => {
    expect(chiSquareTest([5], [7])).toEqual({ statistic: 0, pValue: 1 });
  });
});

describe('drift of the Telco data', () => {
  const reference = distributions(churn());

  it('finds none against itself', () => {
    const result = detectDrift(reference, distributions(churn()));
    expect(result.datasetDrift).toBe(false);
    expect(result.columns.filter((c) => c.drifted)).toEqual([]);
    expect(result.columns.every((c) => c.statistic === 0)).toBe(true);
    expect(result.columns).toHaveLength(20);
    expect(result.skipped).toEqual([{ column: 'customerID', reason: 'free text or ids: no distribution to compare' }]);
    expect(new Set(result.columns.map((c) => c.test))).toEqual(new Set(['wasserstein', 'jensen_shannon']));
  });

  it('finds tenure drifted when it is shifted, and only tenure', () => {
    const shifted = churn((fields, header) => {
      const at = header.indexOf('tenure');
      fields[at] = String(Number(fields[at]) + 12);
    });
    const result = detectDrift(reference, distributions(shifted), { share: 0.5 });
    expect(result.columns.filter((c) => c.drifted).map((c) => c.column)).toEqual(['tenure']);
    // +12 months on a std of 24.56 (population): the normed distance is 12 / 24.56 = 0.489 exactly, as the shift is uniform.
    expect(column(result, 'tenure')).toMatchObject({ test: 'wasserstein', threshold: 0.1, drifted: true });
    expect(column(result, 'tenure').statistic).toBeCloseTo(12 / 24.5572, 3);
    expect(result).toMatchObject({ driftedShare: 1 / 20, datasetDrift: false });
    expect(detectDrift(reference, distributions(shifted), { share: 0.05 }).datasetDrift).toBe(true);
  });

  it('uses KS and chi-square on small samples, and finds the shift there too', () => {
    const small = (table: Table, from: number, to: number): Table => ({
      rows: to - from,
      lines: table.lines.slice(from, to),
      columns: table.columns.map((c): Column => {
        if (c.kind === 'number' || c.kind === 'boolean' || c.kind === 'date') return { ...c, values: c.values.slice(from, to) };
        return { ...c, values: { codes: c.values.codes.slice(from, to), categories: c.values.categories } };
      }),
    });
    const base = churn();
    const moved = churn((fields, header) => {
      const at = header.indexOf('tenure');
      fields[at] = String(Number(fields[at]) + 24);
    });
    const ref = distributions(small(base, 0, 900));
    const self = detectDrift(ref, ref);
    expect(self.columns.filter((c) => c.drifted)).toEqual([]);
    expect(new Set(self.columns.map((c) => c.test))).toEqual(new Set(['ks', 'chi2']));
    expect(column(self, 'tenure')).toMatchObject({ statistic: 0, pValue: 1 });
    const result = detectDrift(ref, distributions(small(moved, 900, 1800)), { columns: ['tenure', 'MonthlyCharges', 'Contract'] });
    expect(column(result, 'tenure')).toMatchObject({ test: 'ks', drifted: true });
    expect(column(result, 'tenure').pValue).toBeLessThan(1e-6);
  });

  it('prints a terminal table with the test, statistic, threshold and verdict', () => {
    const shifted = churn((fields, header) => {
      const at = header.indexOf('tenure');
      fields[at] = String(Number(fields[at]) + 12);
    });
    const out = formatDrift(detectDrift(reference, distributions(shifted)));
    const lines = out.split('\n');
    expect(lines[0]).toBe('Drift: 1 of 20 columns drifted (5 %); the data set drifts at 50 % or more — no drift');
    expect(lines[2]).toMatch(/^ {2}column +kind +test +statistic +p-value +threshold +verdict$/);
    expect(lines.find((l) => l.trimStart().startsWith('tenure '))).toMatch(/^ {2}tenure +numeric +Wasserstein \(normed\) +0\.48\d\d +≥ 0\.1 +DRIFT$/);
    expect(lines.find((l) => l.trimStart().startsWith('Contract '))).toMatch(/Jensen–Shannon +0 +≥ 0\.1 +ok$/);
    expect(out).toContain('Not compared:\n  customerID: free text or ids: no distribution to compare\n');
  });
});

describe('profiles that cannot be compared', () => {
  it.each<[string, () => DriftResult, string]>([
    [
      'a reference without distributions',
      () => detectDrift(profileTable(numberTable([1, 2, 3])), distributions(numberTable([1, 2, 3]))),
      'the reference profile of x has no distribution sketch; profile the data with { distributions: true } (retrain the champion if its profile predates it)',
    ],
    [
      'a column gone from the current data',
      () => detectDrift(distributions(numberTable([1, 2, 3])), distributions(categoryTable(['a']))),
      'the current data has no column "x", which the champion was trained on; restore the column in the data',
    ],
    [
      'a column that changed kind',
      () => detectDrift(distributions(numberTable([1, 2])), { ...distributions(categoryTable(['a', 'b'])), columns: [{ ...distributions(categoryTable(['a', 'b'])).columns[0], name: 'x' }] }),
      'x was numbers in the reference but is labels now; fix the data, or declare its type in ml.yaml\'s schema',
    ],
  ])('is an error: %s', (_, run, message) => {
    expect(run).toThrow(expect.objectContaining({ code: 'E_DRIFT_INPUT', message }));
  });
});
