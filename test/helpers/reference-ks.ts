/**
 * The two-sample KS p-value's reference: scipy's own answers, for test/data-ks.test.ts (recorded, in
 * test/reference-figures/drift.json beside the other drift jobs) and test/reference/drift.test.ts (live).
 *
 * Three jobs:
 * - "ks_2samp on samples": `stats.ks_2samp(a, b)` itself (two-sided, method 'auto') on seeded samples, from 5 × 5
 *   to 10,000 × 10,000 and past 10,000 (asymptotic), and on samples built to give D = 0 and D = 1; our
 *   `ksPValue(statistic, n, m)` must give its p-value.
 * - "ks_2samp p-value for D": the p-value ks_2samp gives for a chosen D, n and m, for the Ds samples seldom hit
 *   (0, tiny, either side of the 0.05 threshold, halves of the lattice step, 1). scipy has no public call for
 *   that, so the body follows ks_2samp's own lines in scipy 1.10.1 after it has D (KS_2SAMP_P_PY) and calls the
 *   functions ks_2samp calls; the sample job shows that this is ks_2samp's answer where both exist.
 * - "kstwo.sf": the one-sample distribution on a grid that reaches every branch of `_kolmogn`.
 */
import { normals, type ScipyJob } from './reference-drift.js';

/**
 * ks_2samp's p-value for a given D (two-sided, method 'auto'), as scipy 1.10.1's ks_2samp computes it once it has
 * D: the exact lattice-path count up to 10,000 a side, else (or when that fails) kstwo.sf at round(nₑ).
 */
export const KS_2SAMP_P_PY = [
  'import math',
  'from scipy.stats import _stats_py',
  'def ks_2samp_p(D, n1, n2):',
  '    g = math.gcd(n1, n2)',
  '    if max(n1, n2) <= 10000:',
  '        success, D, prob = _stats_py._attempt_exact_2kssamp(n1, n2, g, D, "two-sided")',
  '        if success:',
  '            return float(np.clip(prob, 0, 1))',
  '    m, n = sorted([float(n1), float(n2)], reverse=True)',
  '    return float(np.clip(stats.kstwo.sf(D, np.round(m * n / (m + n))), 0, 1))',
].join('\n');

/** [n, m, shift in std]: N(0, 1) against N(shift, 1). */
export const KS_SAMPLE_CASES: readonly (readonly [number, number, number])[] = [
  [5, 5, 0],
  [5, 5, 2],
  [20, 20, 0.5],
  [20, 20, 1.5],
  [600, 500, 0.1],
  [600, 500, 0.3],
  [301, 200, 0],
  [301, 200, 0.4],
  [1000, 999, 0.1],
  [10000, 800, 0.05],
  [10000, 10000, 0.02],
  [10000, 10000, 0.1],
  [12000, 900, 0.1],
  [20000, 30, 0.5],
];

export interface KsSamplePair {
  a: number[];
  b: number[];
}

/** The seeded pairs, then two built ones: b is a three times over (D = 0), and b is 30 values beyond all of a (D = 1). */
export function ksSamplePairs(): KsSamplePair[] {
  const pairs = KS_SAMPLE_CASES.map(([n, m, shift], i) => ({ a: normals(300 + 2 * i, n), b: normals(301 + 2 * i, m, shift) }));
  const five = normals(400, 5);
  pairs.push({ a: five, b: [...five, ...five, ...five] });
  const twenty = normals(401, 20);
  pairs.push({ a: twenty, b: normals(402, 30, 100) });
  return pairs;
}

export interface KsSampleAnswer {
  statistic: number;
  pvalue: number;
}

export function ksSampleJob(pairs: readonly KsSamplePair[]): ScipyJob {
  return {
    name: 'ks_2samp on samples',
    body: 'out = []\nfor p in d:\n    r = stats.ks_2samp(p["a"], p["b"])\n    out.append({"statistic": float(r.statistic), "pvalue": float(r.pvalue)})',
    input: pairs,
  };
}

/** The sizes of the D grid: n = m small, gcd > 1 and gcd = 1, both sides at 10,000, and past 10,000 (asymptotic). */
export const KS_GRID_SIZES: readonly (readonly [number, number])[] = [
  [5, 5],
  [20, 20],
  [8, 16],
  [5, 7],
  [600, 500],
  [301, 200],
  [50, 40],
  [1000, 999],
  [1000, 10000],
  [10000, 800],
  [10000, 10000],
  [10001, 1000],
  [12000, 900],
  [20000, 30],
  [50000, 1000],
  [100000, 100000],
];

/** [D, n, m]: for each size 0, a tiny D, 0.001, the 5 % critical value (Smirnov's 1.358·√((n+m)/nm)) and 2 % either side, 0.3, 0.5, 0.75 and 1. */
export function ksGridCases(): [number, number, number][] {
  const cases: [number, number, number][] = [];
  for (const [n, m] of KS_GRID_SIZES) {
    const crit = Math.min(1, 1.358 * Math.sqrt((n + m) / (n * m)));
    // 10,000 × 9,999-like sizes cost a 10⁸-step count at large D; 10,000 × 800 and 10,000 × 10,000 are cheap at any D.
    for (const d of [0, 1e-9, 0.001, 0.98 * crit, crit, 1.02 * crit, 0.3, 0.5, 0.75, 1]) cases.push([Math.min(d, 1), n, m]);
  }
  // Both sides at 10,000 with gcd 1, where D is small enough for a short count.
  for (const d of [0.005, 0.015, 0.0192, 0.03]) cases.push([d, 10000, 9999]);
  // Halves of the lattice step (1/16): numpy rounds them to the even neighbour, 2.5 → 2 and 3.5 → 4.
  cases.push([2.5 / 16, 8, 16], [3.5 / 16, 8, 16]);
  return cases;
}

export function ksGridJob(cases: readonly (readonly [number, number, number])[]): ScipyJob {
  return { name: 'ks_2samp p-value for D', body: `${KS_2SAMP_P_PY}\nout = [ks_2samp_p(D, n, m) for D, n, m in d]`, input: cases };
}

/** The one-sample sizes: up to 140 (Durbin, Pomeranz, Smirnov), above (Pelz–Good, Durbin, Smirnov), past 100,000 and 10⁶. */
export const KSTWO_NS = [1, 2, 3, 5, 10, 20, 50, 100, 140, 141, 200, 500, 1000, 5000, 20000, 100001, 2000000];

/** [x, n]: fixed xs, multiples of 1/n (Ruben–Gambino's ends), and x = √(c/n) either side of each switch in n·x². */
export function kstwoCases(): [number, number][] {
  const cases: [number, number][] = [];
  for (const n of KSTWO_NS) {
    const xs = [0.001, 0.01, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.49, 0.5, 0.7, 0.99, 1];
    for (const k of [0.3, 0.6, 0.9, 1, 1.5]) xs.push(k / n);
    for (const c of [0.3, 0.7, 0.76, 1.5, 2.1, 2.3, 3.9, 4.1, 10, 17, 19, 100, 369, 371]) xs.push(Math.sqrt(c / n));
    for (const x of xs) cases.push([x, n]);
  }
  return cases;
}

export function kstwoJob(cases: readonly (readonly [number, number])[]): ScipyJob {
  return { name: 'kstwo.sf', body: 'out = [float(stats.kstwo.sf(x, n)) for x, n in d]', input: cases };
}

/** Every KS job, built from the tables above. */
export function ksJobs(): ScipyJob[] {
  return [ksSampleJob(ksSamplePairs()), ksGridJob(ksGridCases()), kstwoJob(kstwoCases())];
}
