/**
 * The two-sample KS p-value against scipy's recorded answers (test/helpers/reference-ks.ts says which; `npm run
 * reference:record` writes them to test/reference-figures/drift.json, test/reference/drift.test.ts checks live
 * that scipy still gives them). Equal means within 1e-9 absolutely and 1e-9 relatively for every p-value scipy
 * gives as a normal double (≥ 2.2e-308): below that scipy's double-double sum and ours round the last denormal
 * bits differently, and only the absolute bound is asked.
 */
import { describe, expect, it } from 'vitest';
import { ksPValue } from '../src/data/drift.js';
import { ks2SampPValue, kstwoSf, outerProbInside, probOutsideSquare, roundHalfEven, smirnovSf } from '../src/data/ks.js';
import { recordedAnswer } from './helpers/reference-drift.js';
import {
  KS_SAMPLE_CASES,
  ksGridCases,
  ksGridJob,
  ksSampleJob,
  ksSamplePairs,
  kstwoCases,
  kstwoJob,
  type KsSampleAnswer,
} from './helpers/reference-ks.js';

const TOLERANCE = 1e-9;

function expectScipy(ours: number, scipy: number, what: string): void {
  expect(Number.isFinite(ours), `${what}: ours ${ours}`).toBe(true);
  const diff = Math.abs(ours - scipy);
  expect(diff, `${what}: ours ${ours}, scipy ${scipy}`).toBeLessThanOrEqual(TOLERANCE);
  if (scipy >= Number.MIN_VALUE * 2 ** 52) expect(diff / scipy, `${what} relative: ours ${ours}, scipy ${scipy}`).toBeLessThanOrEqual(TOLERANCE);
}

describe("ksPValue is ks_2samp's p-value (two-sided, method 'auto')", () => {
  it('on seeded samples from 5 × 5 to 10,000 × 10,000 and past 10,000 a side, and on samples with D = 0 and D = 1', () => {
    const pairs = ksSamplePairs();
    const answers = recordedAnswer<KsSampleAnswer[]>(ksSampleJob(pairs));
    expect(answers).toHaveLength(KS_SAMPLE_CASES.length + 2);
    pairs.forEach(({ a, b }, i) => {
      const { statistic, pvalue } = answers[i];
      expectScipy(ksPValue(statistic, a.length, b.length), pvalue, `${a.length} × ${b.length}, D = ${statistic}`);
    });
    // The built pairs reach both ends, and the seeded ones span drift and no drift.
    expect(answers.at(-2)).toEqual({ statistic: 0, pvalue: 1 });
    expect(answers.at(-1)?.statistic).toBe(1);
    expect(answers.some((r) => r.pvalue < 0.05) && answers.some((r) => r.pvalue > 0.5)).toBe(true);
  });

  it('for chosen D: 0, tiny, either side of the 0.05 threshold, lattice half-steps and 1, at every size', () => {
    const cases = ksGridCases();
    const answers = recordedAnswer<number[]>(ksGridJob(cases));
    expect(answers).toHaveLength(cases.length);
    cases.forEach(([d, n, m], i) => expectScipy(ksPValue(d, n, m), answers[i], `D = ${d}, ${n} × ${m}`));
    // Around the critical value the answers straddle 0.05, so a verdict could flip on an error in the p-value.
    const near = answers.filter((p) => p > 0.03 && p < 0.07);
    expect(near.some((p) => p < 0.05) && near.some((p) => p >= 0.05)).toBe(true);
  });

  it("the one-sample distribution kstwo.sf in every branch of scipy's _kolmogn", () => {
    const cases = kstwoCases();
    const answers = recordedAnswer<number[]>(kstwoJob(cases));
    expect(answers).toHaveLength(cases.length);
    cases.forEach(([x, n], i) => expectScipy(kstwoSf(x, n), answers[i], `kstwo.sf(${x}, ${n})`));
  });
});

describe('the pieces', () => {
  it("rounds halves to the even neighbour, as numpy's round", () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, 2.4, 2.6, 7].map(roundHalfEven)).toEqual([0, 2, 2, 4, -0, 2, 3, 7]);
  });

  it('counts paths exactly on small lattices (enumerated by hand)', () => {
    // Two values a side, 6 orders: aabb and bbaa have D = 1, abab, abba, baab and baba D = 1/2.
    expect(probOutsideSquare(2, 2)).toBeCloseTo(2 / 6, 15);
    expect(probOutsideSquare(2, 1)).toBeCloseTo(1, 15);
    // One value against two (lattice step 1/2), 3 orders: abb and bba have D = 1, bab D = 1/2.
    expect(outerProbInside(1, 2, 1, 2)).toBeCloseTo(2 / 3, 15);
    expect(outerProbInside(1, 2, 1, 1)).toBeCloseTo(1, 15);
  });

  it('is symmetric in n and m, 1 at D = 0, and falls as D grows', () => {
    for (const [n, m] of [[30, 45], [7, 11], [12000, 900]]) {
      expect(ks2SampPValue(0.2, n, m)).toBe(ks2SampPValue(0.2, m, n));
      expect(ks2SampPValue(0, n, m)).toBe(1);
      let last = 1;
      for (let d = 0.01; d <= 1; d += 0.01) {
        const p = ks2SampPValue(d, n, m);
        expect(p, `D = ${d}, ${n} × ${m}`).toBeLessThanOrEqual(last + 1e-15);
        last = p;
      }
    }
  });

  it('smirnovSf has closed forms at the ends', () => {
    expect(smirnovSf(1, 0.3)).toBeCloseTo(0.7, 15);
    expect(smirnovSf(10, 0)).toBe(1);
    expect(smirnovSf(10, 1)).toBe(0);
    expect(smirnovSf(10, 0.95)).toBeCloseTo(0.05 ** 10, 25);
  });

  it('answers 10,000 × 10,000, 10,000 × 9,999 and 10,000 × 800 at D = 0.5 in well under a second each', () => {
    for (const [n, m] of [[10000, 10000], [10000, 9999], [10000, 800]]) {
      const start = performance.now();
      const p = ks2SampPValue(0.5, n, m);
      const ms = performance.now() - start;
      expect(p).toBeGreaterThanOrEqual(0);
      // 0.4–0.5 s for 10,000 × 9,999 (a 10⁸-step count) on the 2-core development machine; the bound leaves room for load.
      expect(ms, `${n} × ${m}`).toBeLessThan(3000);
    }
  });
});
