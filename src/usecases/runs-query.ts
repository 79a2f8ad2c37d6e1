// What `bramble runs ls|diff|best` ask of a list of run records, as pure functions of the records: the order
// (newest first, or best first by a metric), a page, the columns worth showing (--only-changed: those that differ),
// the groups by branch and commit (as `dvc exp show` groups experiments), deltas against the champion, and the
// differences between two runs. The faces only render what these return.
import { errorClass, nearest } from '../errors.js';
import { METRIC_DIRECTIONS } from '../model/compare.js';
import { CLASSIFICATION_METRICS, REGRESSION_METRICS, type Metric } from '../model/metric-names.js';
import type { RunRecord } from '../registry/runs.js';

export class RunMetricError extends errorClass('E_RUNS_METRIC') {}

const METRICS: readonly Metric[] = [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS];

/** The metric a person named, checked against what the runs recorded (with the nearest suggested when unknown). */
export function checkMetric(name: string, records: readonly RunRecord[], option: string): Metric {
  const recorded = metricColumns(records, false);
  if ((METRICS as readonly string[]).includes(name) && (records.length === 0 || recorded.includes(name))) return name as Metric;
  const choices = recorded.length > 0 ? recorded : METRICS;
  const guess = choices.find((c) => c.startsWith(name)) ?? nearest(name, choices);
  throw new RunMetricError(
    `${option} ${JSON.stringify(name)}: ${(METRICS as readonly string[]).includes(name) ? 'no run recorded it' : 'not a metric'}; ${guess ? `did you mean ${guess}? ` : ''}the runs recorded ${choices.join(', ')}`,
    { metric: name, choices },
  );
}

/** A record's value of `metric`, or null. */
export function metricOf(record: RunRecord, metric: string): number | null {
  const v = record.metrics[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The records best first by `metric` (its direction: roc_auc higher, rmse lower), runs without it last, newest first among equals. */
export function sortByMetric(records: readonly RunRecord[], metric: Metric): RunRecord[] {
  const sign = METRIC_DIRECTIONS[metric] === 'higher' ? -1 : 1;
  return records
    .map((record, order) => ({ record, order, value: metricOf(record, metric) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) return a.value === b.value ? a.order - b.order : a.value === null ? 1 : -1;
      return a.value !== b.value ? sign * (a.value - b.value) : a.order - b.order;
    })
    .map((entry) => entry.record);
}

/**
 * The best run by `metric`, or null when none recorded it (records newest first: the newest wins a tie). Only runs
 * that made a model: a sweep trial's metric is a mean over cross-validation folds, not a score on held-out rows.
 */
export function bestRun(records: readonly RunRecord[], metric: Metric): RunRecord | null {
  const [best] = sortByMetric(records.filter((r) => r.artifact !== null), metric);
  return best !== undefined && metricOf(best, metric) !== null ? best : null;
}

/** candidate − champion on the rows both were scored on, or null without a champion or the metric. */
export function championDelta(record: RunRecord, metric: string): number | null {
  const c = record.champion;
  if (c === null) return null;
  const a = c.candidateMetrics[metric];
  const b = c.metrics[metric];
  return typeof a === 'number' && typeof b === 'number' ? a - b : null;
}

/** A value as it shows in a table: numbers as they are, objects as JSON, null as –. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The metric names the records hold, in the order Bramble lists metrics. */
function metricColumns(records: readonly RunRecord[], onlyChanged: boolean): string[] {
  const names = new Set<string>();
  for (const r of records) for (const key of Object.keys(r.metrics)) names.add(key);
  const ordered = [...METRICS.filter((m) => names.has(m)), ...[...names].filter((n) => !(METRICS as readonly string[]).includes(n)).sort()];
  return onlyChanged ? ordered.filter((m) => varies(records, (r) => r.metrics[m] ?? null)) : ordered;
}

function varies(records: readonly RunRecord[], value: (r: RunRecord) => unknown): boolean {
  if (records.length < 2) return false;
  const first = cellText(value(records[0]));
  return records.some((r) => cellText(value(r)) !== first);
}

/** What a list of runs shows: metrics, parameters (with the seed) and the data, all or only those that differ. */
export interface RunColumns {
  metrics: string[];
  params: string[];
  data: boolean;
}

export function runColumns(records: readonly RunRecord[], onlyChanged: boolean): RunColumns {
  const keys = new Set<string>();
  for (const r of records) for (const key of Object.keys(r.params)) if (key !== 'task' && key !== 'seed') keys.add(key);
  const params = [...[...keys].sort(), 'seed'];
  const paramOf = (r: RunRecord, key: string): unknown => (key === 'seed' ? r.seed : r.params[key]);
  return {
    metrics: metricColumns(records, onlyChanged),
    params: onlyChanged ? params.filter((key) => varies(records, (r) => paramOf(r, key))) : params,
    data: onlyChanged ? varies(records, (r) => r.data.sha256) : true,
  };
}

/** A parameter's value in a record (`seed` is model.seed). */
export function paramOf(record: RunRecord, key: string): unknown {
  return key === 'seed' ? record.seed : record.params[key];
}

/** Runs of one branch and commit, in the order the page has them (a group starts where its first run is). */
export interface RunGroup {
  branch: string | null;
  commit: string | null;
  dirty: boolean;
  runs: RunRecord[];
}

export function groupRuns(records: readonly RunRecord[]): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  for (const r of records) {
    const key = `${r.source.branch ?? ''}\u0000${r.source.commit ?? ''}\u0000${r.source.dirty}`;
    const group = groups.get(key) ?? { branch: r.source.branch, commit: r.source.commit, dirty: r.source.dirty, runs: [] };
    group.runs.push(r);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** One line of `runs diff`: a field of both runs, and for a metric their difference (B − A). */
export interface RunDifference {
  section: 'metrics' | 'params' | 'data' | 'source' | 'champion';
  field: string;
  a: unknown;
  b: unknown;
  delta: number | null;
}

/**
 * What differs between runs A and B: every metric (with B − A) — or, with `onlyChanged`, those that differ — and
 * the parameters, data, source and champion fields that differ.
 */
export function diffRuns(a: RunRecord, b: RunRecord, onlyChanged: boolean): RunDifference[] {
  const out: RunDifference[] = [];
  const add = (section: RunDifference['section'], field: string, x: unknown, y: unknown, always = false): void => {
    const same = cellText(x) === cellText(y);
    if (same && !always) return;
    out.push({ section, field, a: x ?? null, b: y ?? null, delta: typeof x === 'number' && typeof y === 'number' ? y - x : null });
  };
  for (const m of metricColumns([a, b], false)) add('metrics', m, a.metrics[m], b.metrics[m], !onlyChanged);
  for (const key of runColumns([a, b], false).params) add('params', key, paramOf(a, key), paramOf(b, key));
  add('data', 'path', a.data.path, b.data.path);
  add('data', 'sha256', a.data.sha256, b.data.sha256);
  add('data', 'rows', a.data.rows, b.data.rows);
  add('source', 'branch', a.source.branch, b.source.branch);
  add('source', 'commit', a.source.commit, b.source.commit);
  add('source', 'dirty', a.source.dirty, b.source.dirty);
  add('source', 'workTree', a.source.workTree, b.source.workTree);
  add('champion', 'label', a.champion?.label, b.champion?.label);
  add('champion', 'sha256', a.champion?.sha256, b.champion?.sha256);
  return out;
}

/** A page of records: those from `offset`, at most `limit`, and where the next page starts (null at the end). */
export function pageOf<T>(items: readonly T[], offset: number, limit: number, complete: boolean): { items: T[]; next: number | null } {
  const page = items.slice(offset, offset + limit);
  const more = offset + limit < items.length || !complete;
  return { items: page, next: more && page.length === limit ? offset + limit : null };
}
