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
 * by numpy (scipy has no sketch KS) — each equal to the monitor's to 1e-9. KS's p-value for that D is the one
 * scipy's ks_2samp gives for it (src/data/ks.ts), also to 1e-9. (Against scipy's own ks_2samp or wasserstein_distance on raw samples the sketch
 * statistics differ by up to a percentile by design; test/data-drift.test.ts bounds that too.)
 *
 * Two cases. The simulated host's windows are compared live only (test/reference/monitor.test.ts): their rows
 * carry the served model's probabilities, so a recording would go stale with any change to training. The recorded
 * case below is a log written by hand from the template's data with probabilities of its own, so its answers
 * depend on the data and the seeds alone: `npm run reference:record` writes them to
 * test/reference-figures/monitor.json, `npm test` holds the monitor to them (test/monitor-story.test.ts), and the
 * reference suite checks that scipy and scikit-learn still give them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { readTable } from '../../src/data/load.js';
import type { Table } from '../../src/data/table.js';
import { cellValue, getColumn } from '../../src/data/table.js';
import type { Performance, VersionWindow } from '../../src/monitor/accumulate.js';
import type { MonitorProfile } from '../../src/monitor/windows.js';
import { seeded } from './data.js';
import { FIGURES_DIR, fingerprint, readFigures, RECORD_HINT, type FigureFile, type Provenance, type PythonRun } from './reference.js';
import { jobFingerprint, parseDriftFigures, runScipyJobs, type ScipyJob } from './reference-drift.js';
import { KS_2SAMP_P_PY } from './reference-ks.js';
import { METRIC_TOLERANCE } from './reference-expect.js';
import { metricCasesJson, parseMetricResults, runSklearnMetrics, type ClassificationCase, type MetricsReference, type SkClassification } from './reference-metrics.js';
import { DAY_MS, STORY, type Cell, type Row, type Sent } from './simulated-host.js';

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
  KS_2SAMP_P_PY,
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
  // of percentiles is a jump), then ks_2samp's p-value for that D and those sizes (reference-ks.ts's KS_2SAMP_P_PY).
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
  '    out["ks"][c] = {"sketch": qx.tolist(), "d": float(D), "p": ks_2samp_p(float(D), n, m)}',
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

// ---------------------------------------------------------------------------------------------------------------
// The recorded case: `npm test` compares the monitor with scipy's and scikit-learn's recorded answers on it.
//
// Independent of the trained model, so that a change to training cannot stale the recording: a prediction log
// written by hand in the server's record shape (as test/monitor.test.ts writes one), whose rows are drawn from the
// template's data (the second window's MonthlyCharges × 1.4) and whose probabilities are multiples of 1/20 drawn
// from the truth (ties for ROC AUC, and p = 0.5, where the first class wins). Only the raw data and the seeds are
// fingerprinted; the artifact the monitor compares with is the template's profile, which is of the same data.

export const MONITOR_FIGURES = 'monitor.json';
const TEMPLATE_DATA = fileURLToPath(new URL('../../templates/model-repo/data/churn.csv', import.meta.url));
/** The template's classes, in the artifact's order. */
export const CHURN_CLASSES = ['No', 'Yes'];

export interface RecordedCase {
  /** The model's inputs (every column but customerID and Churn), and which of them are numbers. */
  inputs: string[];
  numeric: string[];
  categorical: string[];
  /** What was "sent", in the simulated host's shape (days 0 and 1), and the log lines that record it. */
  sent: Sent[];
  lines: Record<string, unknown>[];
  /** scipy's jobs (inputs and predictions per day) and scikit-learn's cases (per day). */
  jobs: ScipyJob[];
  cases: ClassificationCase[];
}

export const RECORDED_DAYS = [0, 1] as const;

/** The recorded case, built from the template's data and fixed seeds. */
export async function recordedCase(): Promise<RecordedCase> {
  const { table } = await readTable(TEMPLATE_DATA, { columns: { TotalCharges: { type: 'number', nullable: true } } });
  const inputs = table.columns.map((c) => c.name).filter((n) => n !== 'customerID' && n !== 'Churn');
  const numeric = inputs.filter((n) => getColumn(table, n).kind === 'number');
  const categorical = inputs.filter((n) => !numeric.includes(n));
  const random = seeded(2026);
  const sent: Sent[] = [];
  const lines: Record<string, unknown>[] = [];
  for (const day of RECORDED_DAYS) {
    for (let i = 0; i < 400; i++) {
      const k = Math.floor(random() * table.rows);
      const row: Row = { customerID: cellValue(getColumn(table, 'customerID'), k) as Cell };
      for (const name of inputs) row[name] = cellValue(getColumn(table, name), k) as Cell;
      if (day === 1 && typeof row.MonthlyCharges === 'number') row.MonthlyCharges *= 1.4;
      const truth = String(cellValue(getColumn(table, 'Churn'), k));
      const step = Math.floor(random() * 13);
      const p = (truth === 'Yes' ? 8 + step : step) / 20;
      const probabilities = [1 - p, p];
      const predicted = p > 0.5 ? 'Yes' : 'No';
      const fedBack = random() < 0.6;
      const id = `recorded-${day}-${i}`;
      const time = new Date(STORY.start + day * DAY_MS + i * 60_000).toISOString();
      sent.push({ id, day, shifted: day === 1, row, truth, fedBack, probabilities, predicted });
      lines.push({ id, time, env: 'prod', model: { name: 'churn', version: 'v1.0.0', sha256: '0'.repeat(64) }, inputs: [row], outputs: { predictions: [predicted], probabilities }, latencyMs: 1 });
      if (fedBack) lines.push({ type: 'feedback', id, time, env: 'prod', truth });
    }
  }
  const jobs: ScipyJob[] = [];
  for (const day of RECORDED_DAYS) {
    jobs.push(windowDriftJob(`monitor: inputs ${day}`, { numeric, categorical, reference: referenceValues(table, inputs), current: windowValues(sent, day, inputs) }));
    jobs.push(windowDriftJob(`monitor: predictions ${day}`, { numeric: [], categorical: ['Churn'], reference: referenceValues(table, ['Churn']), current: { Churn: predictedValues(sent, day) } }));
  }
  const cases = RECORDED_DAYS.map((day) => joinedCase(`monitor: window ${day}`, sent, day, CHURN_CLASSES));
  return { inputs, numeric, categorical, sent, lines, jobs, cases };
}

export interface MonitorFigures {
  /** Job name → its fingerprint and scipy's `out`. */
  drift: Record<string, { data: string; out: unknown }>;
  /** The fingerprint of the cases' JSON, and scikit-learn's results. */
  metrics: { data: string; results: unknown[] };
}

/** scipy's and scikit-learn's answers on the recorded case, live (what `npm run reference:record` writes). */
export async function monitorFigures(c: RecordedCase, run: PythonRun = {}): Promise<{ figures: MonitorFigures; versions: Record<string, string> }> {
  const scipy = await runScipyJobs(c.jobs, run);
  const sklearn = await runSklearnMetrics(c.cases, run);
  const drift: MonitorFigures['drift'] = {};
  for (const job of c.jobs) {
    if (!(job.name in scipy.results)) throw new Error(`scipy returned no answer for "${job.name}"`);
    drift[job.name] = { data: jobFingerprint(job), out: scipy.results[job.name] };
  }
  return { figures: { drift, metrics: { data: fingerprint(metricCasesJson(c.cases)), results: sklearn.results } }, versions: { scipy: scipy.scipy, numpy: scipy.numpy, 'scikit-learn': sklearn.sklearn } };
}

/** Writes test/reference-figures/monitor.json (for test/reference/record.ts); returns its path. */
export async function recordMonitorFigures(provenance: Omit<Provenance, 'versions'>, run: PythonRun): Promise<string> {
  const { figures, versions } = await monitorFigures(await recordedCase(), run);
  const path = join(FIGURES_DIR, MONITOR_FIGURES);
  writeFileSync(path, `${JSON.stringify({ ...provenance, versions, figures }, null, 2)}\n`);
  return path;
}

export function readMonitorFigures(): FigureFile<MonitorFigures> {
  return readFigures(MONITOR_FIGURES, (v, where) => {
    if (!isRecord(v) || !isRecord(v.drift) || !isRecord(v.metrics) || typeof v.metrics.data !== 'string' || !Array.isArray(v.metrics.results)) {
      throw new Error(`${where}: figures need drift (jobs) and metrics (data, results)`);
    }
    return { drift: parseDriftFigures(v.drift, where), metrics: { data: v.metrics.data, results: v.metrics.results } };
  });
}

/** scipy's recorded answer to exactly this job, or an error saying to record again. */
export function recordedWindowDrift(job: ScipyJob): WindowDriftAnswer {
  const figure = readMonitorFigures().figures.drift[job.name];
  if (!figure) throw new Error(`test/reference-figures/${MONITOR_FIGURES} has no answer for "${job.name}"; ${RECORD_HINT}`);
  if (figure.data !== jobFingerprint(job)) throw new Error(`"${job.name}" asks something else than when the figures were recorded; ${RECORD_HINT}`);
  return parseWindowDrift(figure.out, job.name);
}

/** scikit-learn's recorded results for exactly these cases. */
export function recordedMetrics(cases: readonly ClassificationCase[]): MetricsReference {
  const { metrics } = readMonitorFigures().figures;
  if (metrics.data !== fingerprint(metricCasesJson(cases))) throw new Error(`the monitor's metric cases differ from the recorded ones; ${RECORD_HINT}`);
  return parseMetricResults(metrics.results);
}

// ---------------------------------------------------------------------------------------------------------------
// The assertions the live and the recorded comparisons share.

const DRIFT_TOLERANCE = 1e-9;

function close(ours: number | null | undefined, theirs: number, what: string, tolerance = DRIFT_TOLERANCE): void {
  expect(typeof ours, what).toBe('number');
  expect(Math.abs((ours as number) - theirs), `${what}: ours ${ours}, the reference ${theirs}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(theirs)));
}

/**
 * Every compared column of a window: its sketch in the window's profile, and its statistic (and p-value) by the
 * test drift.ts chose, against the reference's answers for its inputs and its predicted labels.
 */
export function expectWindowDriftAgrees(version: VersionWindow, profile: MonitorProfile, inputs: WindowDriftAnswer, predictions: WindowDriftAnswer): void {
  const sketchOf = (column: string): readonly number[] => {
    const found = profile.inputs.columns.find((c) => c.name === column);
    return found !== undefined && (found.kind === 'number' || found.kind === 'date') ? (found.sketch ?? []) : [];
  };
  for (const c of version.drift?.columns ?? []) {
    if (c.test === 'wasserstein' || c.test === 'ks') {
      const expected = c.test === 'ks' ? inputs.ks[c.column] : inputs.numeric[c.column];
      expect(sketchOf(c.column), c.column).toHaveLength(101);
      sketchOf(c.column).forEach((q, i) => close(q, expected.sketch[i], `${c.column} percentile ${i}`));
    }
    if (c.test === 'wasserstein') close(c.statistic, inputs.numeric[c.column].wasserstein, `${c.column} Wasserstein`);
    else if (c.test === 'jensen_shannon') close(c.statistic, inputs.categorical[c.column].js, `${c.column} Jensen–Shannon`);
    else if (c.test === 'ks') {
      close(c.statistic, inputs.ks[c.column].d, `${c.column} KS D`);
      close(c.pValue, inputs.ks[c.column].p, `${c.column} KS p-value`);
    } else {
      const expected = inputs.chi2[c.column];
      if (expected.statistic === null) expect(c).toMatchObject({ statistic: null, pValue: 0 });
      else {
        close(c.statistic, expected.statistic, `${c.column} chi-square`);
        expect(Math.abs((c.pValue ?? Number.NaN) - expected.p), `${c.column} chi-square p: ours ${c.pValue}, scipy ${expected.p}`).toBeLessThanOrEqual(1e-9 + 1e-9 * expected.p);
      }
    }
  }
  const predicted = version.predictionDrift;
  if (predicted?.test === 'jensen_shannon') close(predicted.statistic, predictions.categorical.Churn.js, 'predicted Churn Jensen–Shannon');
  else if (predicted?.test === 'chi2') close(predicted.statistic, predictions.chi2.Churn.statistic ?? Number.NaN, 'predicted Churn chi-square');
  else throw new Error(`prediction drift ${JSON.stringify(predicted)}`);
}

/** A window's live metrics against scikit-learn's on the same joined rows, to reference-expect.ts's tolerance. */
export function expectWindowMetricsAgree(performance: Performance, sk: SkClassification | undefined, rows: number): void {
  if (performance.status !== 'ok') throw new Error(`performance: ${performance.status}`);
  if (sk === undefined) throw new Error('scikit-learn has no result for the window');
  expect(performance.rows).toBe(rows);
  const theirs = { accuracy: sk.accuracy, precision: sk.precision, recall: sk.recall, f1: sk.f1, roc_auc: sk.roc_auc, log_loss: sk.log_loss };
  expect(Object.keys(performance.metrics).sort()).toEqual(Object.keys(theirs).sort());
  for (const [metric, value] of Object.entries(theirs)) {
    const ours = performance.metrics[metric as keyof typeof theirs];
    if (value === null || ours === undefined || ours === null) throw new Error(`${metric}: ours ${ours}, scikit-learn ${value}`);
    expect(Math.abs(ours - value), `${metric}: ours ${ours}, scikit-learn ${value}`).toBeLessThanOrEqual(METRIC_TOLERANCE * Math.max(1, Math.abs(value)));
  }
}
