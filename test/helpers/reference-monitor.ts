/**
 * The monitor's reference (test/reference/monitor.test.ts): scipy's and scikit-learn's answers on the raw data of
 * the simulated host's windows (test/helpers/simulated-host.ts), for the statistics the monitor computes from its
 * profiles.
 *
 * What "equal to scipy" means for drift (the definition test/data-drift.test.ts uses, made exact): Bramble keeps no
 * raw values, only 101-quantile sketches (src/data/drift.ts), so the statistics are those of the sketches read as
 * piecewise-linear quantile functions. scipy is given the raw values — every value the host was sent in the window
 * and every value of the training data — and computes the same quantities from them itself: the sketch is numpy's
 * percentiles 0…100, the Wasserstein distance ∫₀¹ |Qa − Qb| du is integrated numerically by scipy.integrate.quad
 * over those percentile functions and divided by numpy's std of the reference (Evidently's norm); the
 * Jensen–Shannon distance is scipy.spatial.distance.jensenshannon of the raw category counts; with a reference of
 * up to 1,000 rows, chi-square is scipy.stats.chisquare of the raw counts against the reference's scaled to them,
 * and KS's D is the largest gap between the two percentile functions' CDFs at any knot from either side, computed
 * by numpy (scipy has no sketch KS) — each equal to the monitor's to 1e-9. KS's p-value is Stephens' asymptotic
 * approximation (src/data/drift.ts), compared with scipy's exact kstwo.sf for that D within 0.01, the bound
 * test/data-drift.test.ts sets. (Against scipy's own ks_2samp or wasserstein_distance on raw samples the sketch
 * statistics differ by up to a percentile by design; test/data-drift.test.ts bounds that too.)
 *
 * Not recorded for `npm test`: the windows' rows carry the served model's probabilities, so a recording would go
 * stale with any change to training. `npm test` holds the monitor to data/drift.ts and model/evaluate.ts on these
 * rows (test/monitor-story.test.ts), whose agreement with scipy and scikit-learn is recorded (drift.json,
 * metrics.json); this file checks the whole chain live.
 */
import type { Table } from '../../src/data/table.js';
import { cellValue, getColumn } from '../../src/data/table.js';
import type { ScipyJob } from './reference-drift.js';
import type { ClassificationCase } from './reference-metrics.js';
import type { Cell, Sent } from './simulated-host.js';

export interface WindowDriftInput {
  /** Columns compared with the Wasserstein distance, and with the Jensen–Shannon distance (a reference over 1,000 rows). */
  numeric: string[];
  categorical: string[];
  /** Columns compared with Kolmogorov–Smirnov, and with chi-square (a reference of up to 1,000 rows). */
  ks?: string[];
  chi2?: string[];
  /** Raw values by column: the training data's, and those sent in the window (missing ones left out). */
  reference: Record<string, Cell[]>;
  current: Record<string, Cell[]>;
}

export interface WindowDriftAnswer {
  numeric: Record<string, { sketch: number[]; std: number; wasserstein: number }>;
  categorical: Record<string, { js: number }>;
  /** D between the percentile functions (numpy, the definition in drift.ts), and scipy's exact p-value for that D. */
  ks: Record<string, { sketch: number[]; d: number; p: number }>;
  /** scipy.stats.chisquare of the window's counts against the reference's scaled to them; null when infinite. */
  chi2: Record<string, { statistic: number | null; p: number }>;
}

const BODY = [
  'from scipy import integrate',
  'g = np.arange(101) / 100',
  'out = {"numeric": {}, "categorical": {}}',
  'for c in d["numeric"]:',
  '    r = np.array(d["reference"][c], float)',
  '    x = np.array(d["current"][c], float)',
  '    qr = np.percentile(r, np.arange(101))',
  '    qx = np.percentile(x, np.arange(101))',
  '    w, err = integrate.quad(lambda u: abs(np.interp(u, g, qr) - np.interp(u, g, qx)), 0, 1, points=g[1:-1], limit=5000, epsabs=1e-15, epsrel=1e-14)',
  '    std = float(np.std(r))',
  '    out["numeric"][c] = {"sketch": qx.tolist(), "std": std, "wasserstein": float(w / max(std, 0.001))}',
  'for c in d["categorical"]:',
  '    a, b = d["reference"][c], d["current"][c]',
  '    keys = sorted(set(a) | set(b))',
  '    out["categorical"][c] = {"js": float(distance.jensenshannon([a.count(k) for k in keys], [b.count(k) for k in keys]))}',
  // KS's D between the piecewise-linear CDFs of the two percentile sketches, from both sides of every knot (a tie
  // of percentiles is a jump), then scipy's p-value for that D at the effective size, as the KS p-value job asks.
  'def cdf(q, x, left):',
  '    last = len(q) - 1',
  '    if (x <= q[0]) if left else (x < q[0]): return 0.0',
  '    if (x > q[last]) if left else (x >= q[last]): return 1.0',
  '    lo = int(np.searchsorted(q, x, side="left" if left else "right")) - 1',
  '    a, b = q[lo], q[lo + 1]',
  '    t = (x - a) / (b - a) if b > a else 1.0',
  '    return (lo + min(1.0, max(0.0, t))) / last',
  'out["ks"] = {}',
  'for c in d.get("ks", []):',
  '    r = np.array(d["reference"][c], float)',
  '    x = np.array(d["current"][c], float)',
  '    qr = np.percentile(r, np.arange(101))',
  '    qx = np.percentile(x, np.arange(101))',
  '    D = max(max(abs(cdf(qr, v, s) - cdf(qx, v, s)) for s in (False, True)) for v in np.concatenate([qr, qx]))',
  '    n, m = len(r), len(x)',
  '    out["ks"][c] = {"sketch": qx.tolist(), "d": float(D), "p": float(stats.kstwo.sf(D, round(n * m / (n + m))))}',
  'out["chi2"] = {}',
  'for c in d.get("chi2", []):',
  '    a, b = d["reference"][c], d["current"][c]',
  '    keys = sorted(set(a) | set(b))',
  '    ra, cb = np.array([a.count(k) for k in keys], float), np.array([b.count(k) for k in keys], float)',
  '    e = ra * cb.sum() / ra.sum()',
  '    if np.any((e == 0) & (cb > 0)):',
  '        out["chi2"][c] = {"statistic": None, "p": 0.0}',
  '    else:',
  '        r = stats.chisquare(cb[e > 0], e[e > 0])',
  '        out["chi2"][c] = {"statistic": float(r.statistic), "p": float(r.pvalue)}',
].join('\n');

/** scipy's drift statistics of one window, from the raw values (run by test/reference/scipy_jobs.py). */
export function windowDriftJob(name: string, input: WindowDriftInput): ScipyJob {
  return { name, body: BODY, input };
}

function present(values: Cell[]): Cell[] {
  return values.filter((v) => v !== null);
}

/** Every value of each column in the training data (the reference profile is of the whole file). */
export function referenceValues(table: Table, columns: readonly string[]): Record<string, Cell[]> {
  const out: Record<string, Cell[]> = {};
  for (const name of columns) {
    const column = getColumn(table, name);
    const values: Cell[] = [];
    for (let r = 0; r < table.rows; r++) values.push(cellValue(column, r) as Cell);
    out[name] = present(values);
  }
  return out;
}

/** Every value of each column sent on `day`. */
export function windowValues(sent: readonly Sent[], day: number, columns: readonly string[]): Record<string, Cell[]> {
  const rows = sent.filter((s) => s.day === day);
  const out: Record<string, Cell[]> = {};
  for (const name of columns) out[name] = present(rows.map((s) => s.row[name] ?? null));
  return out;
}

/** The labels predicted on `day`, and the training target's: prediction drift's two samples. */
export function predictedValues(sent: readonly Sent[], day: number): Cell[] {
  return sent.filter((s) => s.day === day).map((s) => s.predicted);
}

/** The rows fed back on `day` as a scikit-learn metrics case: the truths and the probabilities answered. */
export function joinedCase(name: string, sent: readonly Sent[], day: number, classes: string[]): ClassificationCase {
  const rows = sent.filter((s) => s.day === day && s.fedBack);
  return { name, task: 'classification', classes, labels: rows.map((s) => s.truth), probabilities: rows.map((s) => s.probabilities), positive: null };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** scipy's `out` for a window job, checked field by field. */
export function parseWindowDrift(out: unknown, name: string): WindowDriftAnswer {
  if (!isRecord(out) || !isRecord(out.numeric) || !isRecord(out.categorical)) throw new Error(`scipy's answer to "${name}" lacks numeric or categorical`);
  const answer: WindowDriftAnswer = { numeric: {}, categorical: {}, ks: {}, chi2: {} };
  for (const [column, v] of Object.entries(out.numeric)) {
    if (!isRecord(v) || !Array.isArray(v.sketch) || !v.sketch.every((x) => typeof x === 'number') || typeof v.std !== 'number' || typeof v.wasserstein !== 'number') {
      throw new Error(`scipy's answer to "${name}": ${column} needs sketch, std and wasserstein`);
    }
    answer.numeric[column] = { sketch: v.sketch as number[], std: v.std, wasserstein: v.wasserstein };
  }
  for (const [column, v] of Object.entries(out.categorical)) {
    if (!isRecord(v) || typeof v.js !== 'number') throw new Error(`scipy's answer to "${name}": ${column} needs js`);
    answer.categorical[column] = { js: v.js };
  }
  for (const [column, v] of Object.entries(isRecord(out.ks) ? out.ks : {})) {
    if (!isRecord(v) || !Array.isArray(v.sketch) || !v.sketch.every((x) => typeof x === 'number') || typeof v.d !== 'number' || typeof v.p !== 'number') {
      throw new Error(`scipy's answer to "${name}": ${column} needs sketch, d and p`);
    }
    answer.ks[column] = { sketch: v.sketch as number[], d: v.d, p: v.p };
  }
  for (const [column, v] of Object.entries(isRecord(out.chi2) ? out.chi2 : {})) {
    if (!isRecord(v) || (typeof v.statistic !== 'number' && v.statistic !== null) || typeof v.p !== 'number') throw new Error(`scipy's answer to "${name}": ${column} needs statistic and p`);
    answer.chi2[column] = { statistic: v.statistic, p: v.p };
  }
  return answer;
}
