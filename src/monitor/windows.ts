// The monitor's analysis: the logged predictions of one model in one environment, cut into windows and split by
// the version that answered, each compared with that version's reference profile (the training data's, kept in
// its artifact) and, where ground truth came back, scored.
//
// Decisions: no statistics of its own — drift is data/drift.ts (Evidently's tests and sample-size rule, the same
// as `bramble validate --reference`) and performance is model/evaluate.ts (the same as the training report). A
// window or version with fewer than `minRows` rows says "not enough data" and never alerts (Evidently #509: drift
// firing on 8 rows). Feedback is one truth for one request id, so it joins single-row requests only (the rest are
// counted); a truth file joins any row by its id column.
import { detectDrift, type DriftResult } from '../data/drift.js';
import { loadTable } from '../data/load.js';
import type { DeclaredColumn } from '../data/load-options.js';
import { profileTable, type TableProfile } from '../data/profile.js';
import { evaluateClassification, evaluateRegression, metricsOf, type MetricValues } from '../model/evaluate.js';
import type { Label } from '../model/forest/input.js';
import type { Metric } from '../model/metric-names.js';
import type { CorruptLine, LoggedFeedback, LoggedPrediction, PredictionLogRead } from './log.js';

export const MONITOR = {
  format: 'bramble-monitor',
  version: 1,
  /** One day, the default window. */
  windowMs: 24 * 60 * 60 * 1000,
  /** Below this many rows a window (per version) says "not enough data" for drift, and joined rows for performance. */
  minRows: 100,
} as const;

/** What the monitor knows of one registered version: what it was trained on and what it predicts. */
export interface MonitoredVersion {
  readonly task: 'classification' | 'regression';
  readonly profile: TableProfile;
  /** The model's input columns: the ones compared. */
  readonly inputs: readonly string[];
  readonly classes: readonly Label[] | null;
}

export interface MonitorInput {
  readonly log: PredictionLogRead;
  readonly name: string;
  readonly env: string;
  /** Each version found in the log, by version. */
  readonly versions: ReadonlyMap<string, MonitoredVersion>;
  readonly windowMs: number;
  /** Milliseconds since the epoch; earlier predictions are left out. */
  readonly since: number | null;
  readonly minRows: number;
  /** ml.yaml's monitor.drift.share. */
  readonly share: number;
  /** Ground truth from a file (`--truth`), by the value of ml.yaml's data.id in the logged row. */
  readonly truth: { readonly file: string; readonly idColumn: string; readonly byId: ReadonlyMap<string, Label> } | null;
  /** ml.yaml's monitor.performance, when it has one. */
  readonly performance: { readonly metric: Metric; readonly min?: number; readonly max?: number } | null;
}

export type Performance =
  | { readonly status: 'ok'; readonly rows: number; readonly metrics: MetricValues; readonly watched: { readonly metric: Metric; readonly value: number | null; readonly alert: boolean } | null }
  | { readonly status: 'not-enough-data'; readonly rows: number };

export interface VersionWindow {
  readonly version: string;
  readonly rows: number;
  readonly status: 'healthy' | 'alert' | 'not-enough-data';
  /** Null when there were fewer than minRows rows. */
  readonly drift: DriftResult | null;
  readonly performance: Performance;
  /** Rows with a truth, by where it came from. */
  readonly joined: { readonly feedback: number; readonly truthFile: number };
  /** Feedback for a request of several rows: one truth cannot be given to several rows. */
  readonly unjoinedFeedback: number;
  /** Truths that are not one of the model's classes (or, for regression, not a number). */
  readonly unknownTruth: number;
}

export interface MonitorWindow {
  readonly start: string;
  readonly end: string;
  /** 'empty' when no prediction fell in it. */
  readonly status: 'healthy' | 'alert' | 'not-enough-data' | 'empty';
  readonly versions: readonly VersionWindow[];
}

export interface MonitorResult {
  readonly format: typeof MONITOR.format;
  readonly version: typeof MONITOR.version;
  readonly name: string;
  readonly env: string;
  readonly windowMs: number;
  readonly minRows: number;
  readonly share: number;
  readonly log: {
    readonly files: readonly string[];
    /** Requests of this model in this environment. */
    readonly requests: number;
    readonly rows: number;
    readonly feedback: number;
    /** Requests of another model or environment, left out. */
    readonly otherRequests: number;
    readonly faults: number;
    readonly corrupt: readonly CorruptLine[];
  };
  /** With --truth: its rows, and those whose id no monitored prediction had (labels for other rows, or typos). */
  readonly truth: { readonly file: string; readonly rows: number; readonly unknownIds: number } | null;
  readonly windows: readonly MonitorWindow[];
  readonly healthy: boolean;
}

/** The monitor over one model in one environment. */
export function monitorPredictions(input: MonitorInput): MonitorResult {
  const mine = input.log.predictions.filter((p) => p.env === input.env && p.model.name === input.name);
  const inRange = mine.filter((p) => input.since === null || p.time >= input.since);
  const truth = new Map<string, LoggedFeedback>();
  for (const f of input.log.feedback) if (f.env === input.env && f.truth !== null) truth.set(f.id, f);
  const windows: MonitorWindow[] = [];
  // One pass into windows by index; the windows run from the first prediction's to the last's, so that a --since
  // long before the log does not list years of empty days.
  const byWindow = new Map<number, LoggedPrediction[]>();
  for (const p of inRange) {
    const index = Math.floor(p.time / input.windowMs);
    const list = byWindow.get(index);
    if (list === undefined) byWindow.set(index, [p]);
    else list.push(p);
  }
  const indices = [...byWindow.keys()].sort((a, b) => a - b);
  if (indices.length > 0) {
    for (let index = indices[0]; index <= indices[indices.length - 1]; index++) {
      const start = index * input.windowMs;
      windows.push(windowOf(input, start, start + input.windowMs, byWindow.get(index) ?? [], truth));
    }
  }
  const rows = mine.reduce((n, p) => n + p.inputs.length, 0);
  return {
    format: MONITOR.format,
    version: MONITOR.version,
    name: input.name,
    env: input.env,
    windowMs: input.windowMs,
    minRows: input.minRows,
    share: input.share,
    log: {
      files: input.log.files,
      requests: mine.length,
      rows,
      feedback: input.log.feedback.filter((f) => f.env === input.env).length,
      otherRequests: input.log.predictions.length - mine.length,
      faults: input.log.faults,
      corrupt: input.log.corrupt,
    },
    truth: input.truth === null ? null : { file: input.truth.file, rows: input.truth.byId.size, unknownIds: unknownIds(input.truth, inRange) },
    windows,
    healthy: windows.every((w) => w.status !== 'alert'),
  };
}

function unknownIds(truth: NonNullable<MonitorInput['truth']>, predictions: readonly LoggedPrediction[]): number {
  const seen = new Set<string>();
  for (const p of predictions) {
    for (const row of p.inputs) {
      const id = row[truth.idColumn];
      if (id !== null && id !== undefined) seen.add(String(id));
    }
  }
  let unknown = 0;
  for (const id of truth.byId.keys()) if (!seen.has(id)) unknown++;
  return unknown;
}

function windowOf(input: MonitorInput, start: number, end: number, here: readonly LoggedPrediction[], truth: ReadonlyMap<string, LoggedFeedback>): MonitorWindow {
  const byVersion = new Map<string, LoggedPrediction[]>();
  for (const p of here) {
    const list = byVersion.get(p.model.version);
    if (list === undefined) byVersion.set(p.model.version, [p]);
    else list.push(p);
  }
  const versions = [...byVersion.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([version, requests]) => {
    const known = input.versions.get(version);
    if (known === undefined) throw new Error(`monitor: no reference for ${input.name}@${version}; the caller must give one for every version in the log`);
    return versionWindow(input, version, known, requests, truth);
  });
  const status =
    versions.length === 0 ? 'empty' : versions.some((v) => v.status === 'alert') ? 'alert' : versions.every((v) => v.status === 'not-enough-data') ? 'not-enough-data' : 'healthy';
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString(), status, versions };
}

function versionWindow(input: MonitorInput, version: string, known: MonitoredVersion, requests: readonly LoggedPrediction[], truth: ReadonlyMap<string, LoggedFeedback>): VersionWindow {
  const records = requests.flatMap((p) => p.inputs);
  const drift = records.length < input.minRows ? null : driftOf(known, records, input.share);
  const joined = joinTruth(input, known, requests, truth);
  const performance = performanceOf(known, joined, input);
  const alert = drift?.datasetDrift === true || (performance.status === 'ok' && performance.watched?.alert === true);
  const status = alert ? 'alert' : drift === null ? 'not-enough-data' : 'healthy';
  return { version, rows: records.length, status, drift, performance, joined: { feedback: joined.fromFeedback, truthFile: joined.fromTruthFile }, unjoinedFeedback: joined.unjoined, unknownTruth: joined.unknown };
}

function driftOf(known: MonitoredVersion, records: readonly Readonly<Record<string, unknown>>[], share: number): DriftResult {
  const columns: Record<string, DeclaredColumn> = {};
  const compared: string[] = [];
  for (const name of known.inputs) {
    const ref = known.profile.columns.find((c) => c.name === name);
    if (ref === undefined) continue;
    compared.push(name);
    columns[name] = { type: ref.kind, nullable: true };
  }
  // Only the compared columns, so that the id or a stray field cannot change how the rows load.
  const rows = records.map((r) => Object.fromEntries(compared.map((name) => [name, r[name] ?? null])));
  const bytes = new TextEncoder().encode(JSON.stringify(rows));
  const loaded = loadTable(bytes, { file: 'prediction log', format: 'json', columns, lenient: true });
  return detectDrift(known.profile, profileTable(loaded.table, { distributions: true }), { share, columns: compared });
}

interface Joined {
  readonly labels: Label[];
  readonly predicted: Label[];
  readonly probabilities: number[];
  fromFeedback: number;
  fromTruthFile: number;
  unjoined: number;
  unknown: number;
}

/**
 * Each logged row with its truth: a request's feedback when the request had one row, else the truth file's row
 * with the same id (ml.yaml's data.id, which the client sent along with the inputs). Feedback wins: it was sent
 * for that very prediction.
 */
function joinTruth(input: MonitorInput, known: MonitoredVersion, requests: readonly LoggedPrediction[], feedback: ReadonlyMap<string, LoggedFeedback>): Joined {
  const joined: Joined = { labels: [], predicted: [], probabilities: [], fromFeedback: 0, fromTruthFile: 0, unjoined: 0, unknown: 0 };
  const k = known.classes?.length ?? 0;
  for (const p of requests) {
    const f = feedback.get(p.id);
    if (f !== undefined && p.inputs.length !== 1) joined.unjoined++;
    for (let row = 0; row < p.inputs.length; row++) {
      let truth: Label | null = null;
      let fromFeedback = false;
      if (f !== undefined && f.truth !== null && p.inputs.length === 1) {
        truth = f.truth;
        fromFeedback = true;
      } else if (input.truth !== null) {
        const id = p.inputs[row][input.truth.idColumn];
        truth = id === null || id === undefined ? null : (input.truth.byId.get(String(id)) ?? null);
      }
      if (truth === null) continue;
      let label: Label | undefined = truth;
      if (known.classes !== null) {
        const text = String(truth);
        label = known.classes.find((c) => String(c) === text);
        if (label === undefined || p.probabilities === null || p.probabilities.length !== k * p.inputs.length) {
          joined.unknown++;
          continue;
        }
        for (let c = 0; c < k; c++) joined.probabilities.push(p.probabilities[row * k + c]);
      } else if (typeof label !== 'number') {
        joined.unknown++;
        continue;
      }
      joined.labels.push(label);
      joined.predicted.push(p.predictions[row]);
      if (fromFeedback) joined.fromFeedback++;
      else joined.fromTruthFile++;
    }
  }
  return joined;
}

function performanceOf(known: MonitoredVersion, joined: Joined, input: MonitorInput): Performance {
  const rows = joined.labels.length;
  if (rows < input.minRows) return { status: 'not-enough-data', rows };
  const evaluation =
    known.classes !== null
      ? evaluateClassification({ labels: joined.labels, classes: known.classes, probabilities: Float64Array.from(joined.probabilities) })
      : evaluateRegression(joined.labels.map(Number), joined.predicted.map(Number));
  const metrics = metricsOf(evaluation);
  const watch = input.performance;
  if (watch === null) return { status: 'ok', rows, metrics, watched: null };
  const value = metrics[watch.metric] ?? null;
  const alert = value !== null && ((watch.min !== undefined && value < watch.min) || (watch.max !== undefined && value > watch.max));
  return { status: 'ok', rows, metrics, watched: { metric: watch.metric, value, alert } };
}
