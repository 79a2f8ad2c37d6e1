// The last monitor result of each environment the host serves, as /metrics gauges (issue 14 item 4). `bramble
// monitor --record` writes it to the registry branch as NAME/monitoring/ENV/latest.json; the pull-based host reads
// it from the registry snapshot it already fetches for its models, so that Prometheus alerts on drift and on the
// live metric with the rules it has for everything else.
//
// Decisions:
// - One source: the snapshot the sync read. No second fetch, no file of the host's own; a host that does not follow
//   git (no git block in serve.json) shows no monitor series.
// - The file is read as untrusted data: every field used is checked here, and a file that does not hold a
//   bramble-monitor result of this model and environment shows no series (and one warning per blob id, not one per
//   sync), never a wrong number.
// - Drift and the live metric are each the newest window that had enough rows for that version; a window with too
//   few rows has no drift and never alerts, so the gauges keep the last figure that meant something, and
//   bramble_monitor_window_end_timestamp_seconds says how old it is.
import { createHash } from 'node:crypto';
import type { Gauge, Metrics } from './metrics.js';

/**
 * Where the monitor records its last result on the registry branch (src/monitor/record.ts, MONITORING_FOLDER, writes
 * it). Written out here rather than imported: monitor/ reads the server's prediction log, so serve/ importing
 * monitor/ would make the two folders import each other; test/serve-metrics.test.ts checks both agree.
 */
export function monitorLatestPath(name: string, env: string): string {
  return `${name}/monitoring/${env}/latest.json`;
}

/** What /metrics shows of one version in the last result. */
export interface MonitorVersionSummary {
  readonly version: string;
  /** The newest window with drift (enough rows); null when none had. */
  readonly drift: { readonly driftedShare: number; readonly datasetDrift: boolean; readonly windowEnd: number } | null;
  /** Whether the predictions drifted from the training target's distribution, in the newest window that compared them. */
  readonly predictionDrift: { readonly drifted: boolean; readonly windowEnd: number } | null;
  /** The watched metric of the newest window with enough joined rows and a value; null when none had. */
  readonly watched: { readonly metric: string; readonly value: number; readonly rows: number; readonly windowEnd: number } | null;
}

/** What /metrics shows of one latest.json. */
export interface MonitorSummary {
  readonly model: string;
  readonly env: string;
  readonly healthy: boolean;
  /** Seconds since 1970: ranAt, or the newest window's end when the result has no ranAt; null with neither. */
  readonly ranAt: number | null;
  readonly versions: readonly MonitorVersionSummary[];
}

export type MonitorRead = { readonly summary: MonitorSummary } | { readonly problem: string };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Seconds since 1970 of an ISO time, or null when it is not one. */
function seconds(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms / 1000;
}

class Invalid extends Error {}

function need(ok: boolean, what: string): void {
  if (!ok) throw new Invalid(what);
}

interface Found {
  drift: MonitorVersionSummary['drift'];
  predictionDrift: MonitorVersionSummary['predictionDrift'];
  watched: MonitorVersionSummary['watched'];
}

/** One version's window: what it adds to the version's summary when it is newer than what was found before. */
function readVersionWindow(v: unknown, at: string, windowEnd: number, found: Map<string, Found>): void {
  need(isObject(v), `${at} is not an object`);
  const vw = v as Json;
  need(typeof vw.version === 'string' && vw.version !== '', `${at}.version is not a version name`);
  const version = vw.version as string;
  let entry = found.get(version);
  if (entry === undefined) {
    entry = { drift: null, predictionDrift: null, watched: null };
    found.set(version, entry);
  }
  if (vw.drift !== null && vw.drift !== undefined) {
    const d = vw.drift;
    need(isObject(d) && isFiniteNumber(d.driftedShare) && typeof d.datasetDrift === 'boolean', `${at}.drift has no driftedShare (number) and datasetDrift (boolean)`);
    const drift = d as { driftedShare: number; datasetDrift: boolean };
    if (entry.drift === null || windowEnd >= entry.drift.windowEnd) entry.drift = { driftedShare: drift.driftedShare, datasetDrift: drift.datasetDrift, windowEnd };
  }
  // Results written before the monitor compared predictions have no predictionDrift: no series, not an error.
  if (vw.predictionDrift !== null && vw.predictionDrift !== undefined) {
    const pd = vw.predictionDrift;
    need(isObject(pd) && typeof pd.drifted === 'boolean', `${at}.predictionDrift has no drifted (boolean)`);
    if (entry.predictionDrift === null || windowEnd >= entry.predictionDrift.windowEnd) entry.predictionDrift = { drifted: (pd as Json).drifted as boolean, windowEnd };
  }
  const p = vw.performance;
  need(isObject(p) && typeof p.status === 'string', `${at}.performance has no status`);
  const performance = p as Json;
  if (performance.status !== 'ok' || performance.watched === null || performance.watched === undefined) return;
  const w = performance.watched;
  need(isObject(w) && typeof w.metric === 'string' && (w.value === null || isFiniteNumber(w.value)), `${at}.performance.watched has no metric (string) and value (number or null)`);
  need(isFiniteNumber(performance.rows), `${at}.performance.rows is not a number`);
  const watched = w as { metric: string; value: number | null };
  if (watched.value === null) return;
  if (entry.watched === null || windowEnd >= entry.watched.windowEnd) {
    entry.watched = { metric: watched.metric, value: watched.value, rows: performance.rows as number, windowEnd };
  }
}

function summarize(value: unknown, model: string, env: string): MonitorSummary {
  need(isObject(value), 'it is not a JSON object');
  const r = value as Json;
  need(r.format === 'bramble-monitor', `format is ${JSON.stringify(r.format)}, not "bramble-monitor"`);
  need(r.version === 1, `version is ${JSON.stringify(r.version)}; this bramble reads version 1 (upgrade bramble on the host)`);
  need(r.name === model && r.env === env, `it is the result of ${JSON.stringify(r.name)} in ${JSON.stringify(r.env)}, not of ${model} in ${env}`);
  need(typeof r.healthy === 'boolean', 'healthy is not true or false');
  need(Array.isArray(r.windows), 'windows is not a list');
  need(r.ranAt === undefined || seconds(r.ranAt) !== null, `ranAt ${JSON.stringify(r.ranAt)} is not an ISO time`);
  const found = new Map<string, Found>();
  let newestEnd: number | null = null;
  const windows = r.windows as unknown[];
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i];
    need(isObject(w), `windows[${i}] is not an object`);
    const end = seconds((w as Json).end);
    need(end !== null, `windows[${i}].end is not an ISO time`);
    const versions = (w as Json).versions;
    need(Array.isArray(versions), `windows[${i}].versions is not a list`);
    const windowEnd = end as number;
    if (newestEnd === null || windowEnd > newestEnd) newestEnd = windowEnd;
    const list = versions as unknown[];
    for (let j = 0; j < list.length; j++) readVersionWindow(list[j], `windows[${i}].versions[${j}]`, windowEnd, found);
  }
  const versions: MonitorVersionSummary[] = [];
  for (const [version, f] of found) versions.push({ version, drift: f.drift, predictionDrift: f.predictionDrift, watched: f.watched });
  return { model, env, healthy: r.healthy as boolean, ranAt: r.ranAt === undefined ? newestEnd : seconds(r.ranAt), versions };
}

/** A latest.json's bytes as the summary /metrics shows, or what is wrong with them. */
export function readMonitorSummary(bytes: Uint8Array, model: string, env: string): MonitorRead {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    return { problem: `it is not JSON in UTF-8 (${err instanceof Error ? err.message : String(err)})` };
  }
  try {
    return { summary: summarize(value, model, env) };
  } catch (err) {
    if (err instanceof Invalid) return { problem: err.message };
    throw err;
  }
}

/** Git's id of a blob with these bytes (what `git hash-object` prints): a file read once is known by it. */
export function blobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

const RUN = ['env', 'model'] as const;
const VERSION = ['env', 'model', 'version'] as const;
const METRIC = ['env', 'model', 'version', 'metric'] as const;
const LATEST = 'registry branch NAME/monitoring/ENV/latest.json';

/** The monitor's series: name, help and labels, in the order /metrics lists them. */
export const MONITOR_GAUGES = {
  healthy: ['bramble_monitor_healthy', `1 when the last monitor run found no alert, 0 when it alerted (${LATEST}).`, RUN],
  ranAt: ['bramble_monitor_run_timestamp_seconds', 'When the last monitor run ran (seconds since 1970; the end of its newest window when the result does not say).', RUN],
  driftedShare: ['bramble_monitor_drifted_share', 'Share of the compared input columns that drifted, in the newest window with enough rows for the version.', VERSION],
  datasetDrift: ['bramble_monitor_dataset_drift', '1 when that window drifted as a whole (drifted share at or above ml.yaml monitor.drift.share), else 0.', VERSION],
  predictionDrift: ['bramble_monitor_prediction_drift', "1 when the version's predictions drifted from its training target's distribution, in the newest window that compared them, else 0.", VERSION],
  windowEnd: ['bramble_monitor_window_end_timestamp_seconds', 'End of the newest window with enough rows for the version (seconds since 1970): how old its drift figures are.', VERSION],
  metric: ['bramble_monitor_metric', 'The watched live metric (ml.yaml monitor.performance) of the newest window with enough rows with ground truth.', METRIC],
  metricRows: ['bramble_monitor_metric_rows', 'Rows with ground truth the watched live metric was computed on.', METRIC],
} as const;

/** The monitor's gauges on the server's registry, rebuilt from the last results at each scrape. */
export class MonitorMetrics {
  private readonly gauges: { readonly [K in keyof typeof MONITOR_GAUGES]: Gauge };

  constructor(metrics: Metrics) {
    const gauges: Partial<Record<keyof typeof MONITOR_GAUGES, Gauge>> = {};
    for (const [key, [name, help, labels]] of Object.entries(MONITOR_GAUGES)) gauges[key as keyof typeof MONITOR_GAUGES] = metrics.gauge(name, help, labels);
    this.gauges = gauges as { readonly [K in keyof typeof MONITOR_GAUGES]: Gauge };
  }

  /** Replaces every monitor series by those of `summaries`. */
  show(summaries: Iterable<MonitorSummary>): void {
    const g = this.gauges;
    for (const gauge of Object.values(g)) gauge.reset();
    for (const s of summaries) {
      const run = { env: s.env, model: s.model };
      g.healthy.set(run, s.healthy ? 1 : 0);
      if (s.ranAt !== null) g.ranAt.set(run, s.ranAt);
      for (const v of s.versions) {
        const labels = { env: s.env, model: s.model, version: v.version };
        if (v.drift !== null) {
          g.driftedShare.set(labels, v.drift.driftedShare);
          g.datasetDrift.set(labels, v.drift.datasetDrift ? 1 : 0);
          g.windowEnd.set(labels, v.drift.windowEnd);
        }
        if (v.predictionDrift !== null) g.predictionDrift.set(labels, v.predictionDrift.drifted ? 1 : 0);
        if (v.watched !== null) {
          const metric = { env: s.env, model: s.model, version: v.version, metric: v.watched.metric };
          g.metric.set(metric, v.watched.value);
          g.metricRows.set(metric, v.watched.rows);
        }
      }
    }
  }
}
