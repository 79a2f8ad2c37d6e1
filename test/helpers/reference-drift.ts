/**
 * The drift statistics' reference: scipy's answers on seeded samples, for test/data-drift.test.ts. Each answer is
 * a job (a Python body over its input `d`, setting `out`) run by test/reference/scipy_jobs.py; `npm run
 * reference:record` records every job's answer beside a fingerprint of the body and the input, and the test looks
 * an answer up by the job it builds, so it can only ever read an answer to the very question it asks.
 * test/reference/drift.test.ts checks live that scipy still gives the recorded answers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.js';
import { KS_2SAMP_P_PY, ksJobs } from './reference-ks.js';
import { FIGURE_FILES, fingerprint, parseJsonObject, RECORD_HINT, readFigures, runPython, SCIPY_JOBS_SCRIPT, type FigureFile, type PythonRun } from './reference.js';

export interface ScipyJob {
  name: string;
  /** Python run with numpy as np, scipy's stats and special, scipy.spatial's distance, and the input as `d`. */
  body: string;
  input: unknown;
}

/** Standard normal draws from the project's seeded generator (Box–Muller). */
export function normals(seed: number, n: number, mean = 0, std = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => mean + std * Math.sqrt(-2 * Math.log(1 - rng.float())) * Math.cos(2 * Math.PI * rng.float()));
}

export function labels(seed: number, n: number, weights: readonly number[]): string[] {
  const rng = new Rng(seed);
  const total = weights.reduce((s, w) => s + w, 0);
  return Array.from({ length: n }, () => {
    let u = rng.float() * total;
    let k = 0;
    while (u >= weights[k] && k < weights.length - 1) u -= weights[k++];
    return `L${k}`;
  });
}

// Special functions

export const SPECIAL_XS = [1e-3, 0.5, 1, 2.5, 7, 15, 40, 120, 400, 1500];
export const SPECIAL_DFS = [1, 2, 3, 7, 20, 99, 199];
export const SPECIAL_GRID = SPECIAL_DFS.flatMap((df) => SPECIAL_XS.map((x) => [x, df] as const));
export const KS_LAMBDAS = [0.05, 0.2, 0.4, 0.6, 0.8, 1, 1.17, 1.19, 1.4, 2, 3, 5];
export const GAMMA_ZS = [0.1, 0.5, 1, 1.5, 3.7, 10, 100, 1e4];

export interface SpecialAnswer {
  chi2: number[];
  ks: number[];
  gammaln: number[];
}

export function specialJob(): ScipyJob {
  return {
    name: 'special functions',
    body: 'out = {"chi2": [float(stats.chi2.sf(x, k)) for x, k in d["grid"]], "ks": [float(stats.kstwobign.sf(l)) for l in d["lambdas"]], "gammaln": [float(special.gammaln(z)) for z in d["zs"]]}',
    input: { grid: SPECIAL_GRID, lambdas: KS_LAMBDAS, zs: GAMMA_ZS },
  };
}

// Numbers: KS and Wasserstein on raw samples

/** [name, reference size, current size, shift in std, drifts]. */
export const NUMBER_CASES: readonly (readonly [string, number, number, number, boolean])[] = [
  ['same distribution, small', 600, 500, 0, false],
  ['shifted by 1 std, small', 600, 500, 1, true],
  ['same distribution, large', 5000, 4000, 0, false],
  ['shifted by 1 std, large', 5000, 4000, 1, true],
];

export interface NumbersAnswer {
  ks: number;
  ksP: number;
  wasserstein: number;
}

/** The two samples of a number case: N(10, 3) and N(10 + 3·shift, 3). */
export function numberSamples(n: number, m: number, shift: number): { a: number[]; b: number[] } {
  return { a: normals(11, n, 10, 3), b: normals(12, m, 10 + 3 * shift, 3) };
}

export function numbersJob(name: string, a: readonly number[], b: readonly number[]): ScipyJob {
  return {
    name: `numbers: ${name}`,
    body: 'r = stats.ks_2samp(d["a"], d["b"], method="asymp")\nout = {"ks": float(r.statistic), "ksP": float(r.pvalue), "wasserstein": float(stats.wasserstein_distance(d["a"], d["b"]) / max(np.std(d["a"]), 0.001))}',
    input: { a, b },
  };
}

/** [D, n, m]: ks_2samp's p-value for a given D (test/helpers/reference-ks.ts has many more). */
export const KS_P_CASES = [[0.05, 600, 500], [0.08, 600, 500], [0.12, 300, 200], [0.03, 5000, 4000], [0.2, 50, 40]] as const;

export function ksPJob(): ScipyJob {
  return { name: 'ks p-values', body: `${KS_2SAMP_P_PY}\nout = [ks_2samp_p(D, n, m) for D, n, m in d]`, input: KS_P_CASES };
}

// Categories: chi-square and Jensen–Shannon on counts

/** [name, rows, current weights of L0..L2, drifts]. */
export const CATEGORY_CASES: readonly (readonly [string, number, readonly number[], boolean])[] = [
  ['same distribution, small', 800, [5, 3, 2], false],
  ['shifted shares, small', 800, [3, 3, 4], true],
  ['same distribution, large', 6000, [5, 3, 2], false],
  ['shifted shares, large', 6000, [2, 3, 5], true],
];
export const CATEGORY_KEYS = ['L0', 'L1', 'L2', 'L9'];

/** The two samples of a category case; the current one has a label the reference never had (L9). */
export function categorySamples(n: number, weights: readonly number[]): { a: string[]; b: string[] } {
  return { a: labels(23, n, [5, 3, 2]), b: [...labels(24, n, weights), 'L9'] };
}

export function countLabels(list: readonly string[]): number[] {
  return CATEGORY_KEYS.map((k) => list.filter((l) => l === k).length);
}

export interface CategoriesAnswer {
  js: number;
  chi2: number;
  p: number;
}

export function categoriesJob(name: string, a: readonly number[], b: readonly number[]): ScipyJob {
  return {
    name: `categories: ${name}`,
    // Evidently's chi_stat_test: the reference shares scaled to the current total. L9 alone makes it infinite, so scipy gets the three others.
    body:
      'ra, cb = np.array(d["a"], float), np.array(d["b"], float)\n' +
      'e = ra[:3] * cb[:3].sum() / ra[:3].sum()\nr = stats.chisquare(cb[:3], e)\n' +
      'out = {"js": float(distance.jensenshannon(ra, cb)), "chi2": float(r.statistic), "p": float(r.pvalue)}',
    input: { a, b },
  };
}

/** Every job test/data-drift.test.ts asks, built from the same tables. */
export function driftJobs(): ScipyJob[] {
  return [
    specialJob(),
    ...NUMBER_CASES.map(([name, n, m, shift]) => {
      const { a, b } = numberSamples(n, m, shift);
      return numbersJob(name, a, b);
    }),
    ksPJob(),
    ...ksJobs(),
    ...CATEGORY_CASES.map(([name, n, weights]) => {
      const { a, b } = categorySamples(n, weights);
      return categoriesJob(name, countLabels(a), countLabels(b));
    }),
  ];
}

export function jobFingerprint(job: ScipyJob): string {
  return fingerprint(job.body, JSON.stringify(job.input));
}

export interface ScipyRun {
  scipy: string;
  numpy: string;
  /** Job name → `out`. */
  results: Record<string, unknown>;
}

/** Runs the jobs in one Python process. */
export async function runScipyJobs(jobs: readonly ScipyJob[], run: PythonRun = {}): Promise<ScipyRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-scipy-'));
  try {
    const file = join(dir, 'jobs.json');
    writeFileSync(file, JSON.stringify({ jobs }));
    return await runPython(
      SCIPY_JOBS_SCRIPT,
      [file],
      (stdout) => {
        const top = parseJsonObject(stdout, SCIPY_JOBS_SCRIPT);
        const { scipy, numpy, results } = top;
        if (typeof scipy !== 'string' || typeof numpy !== 'string' || typeof results !== 'object' || results === null || Array.isArray(results)) {
          throw new Error(`${SCIPY_JOBS_SCRIPT}: the output lacks scipy, numpy or results`);
        }
        return { scipy, numpy, results: results as Record<string, unknown> };
      },
      { timeoutMs: 120_000, ...run },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface DriftFigure {
  /** jobFingerprint of the job answered. */
  data: string;
  out: unknown;
}

export function parseDriftFigures(v: unknown, where: string): Record<string, DriftFigure> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: figures must be an object of jobs`);
  const out: Record<string, DriftFigure> = {};
  for (const [name, f] of Object.entries(v)) {
    if (typeof f !== 'object' || f === null || typeof (f as Record<string, unknown>).data !== 'string' || !('out' in f)) {
      throw new Error(`${where}: ${name} needs data (a fingerprint) and out`);
    }
    out[name] = { data: (f as { data: string }).data, out: (f as { out: unknown }).out };
  }
  return out;
}

let cached: FigureFile<Record<string, DriftFigure>> | undefined;

export function readDriftFigures(): FigureFile<Record<string, DriftFigure>> {
  cached ??= readFigures(FIGURE_FILES.drift, parseDriftFigures);
  return cached;
}

/**
 * scipy's recorded answer to exactly this job. The shape is the body's `out`, which the caller names: JSON
 * written by Python's json.dumps from floats and lists of floats.
 */
export function recordedAnswer<T>(job: ScipyJob): T {
  const figure = readDriftFigures().figures[job.name];
  if (!figure) throw new Error(`test/reference-figures/drift.json has no answer for "${job.name}"; ${RECORD_HINT}`);
  if (figure.data !== jobFingerprint(job)) throw new Error(`"${job.name}" asks something else than when the figures were recorded; ${RECORD_HINT}`);
  return figure.out as T;
}
