// What the monitor's alert says to people: the one issue per model and environment (title, body with a hidden
// marker that finds it again) and the comment that closes it when the model is healthy again. Pure: a
// MonitorResult and the earlier recorded results in, Markdown out; the use-case (usecases/alert.ts) posts it.
//
// Decisions:
// - The body shows the newest alerting window (the newest version in it that alerted): its drift table and its live
//   metric, then two charts over time built from the recorded history and this run — the drifted share and the
//   watched metric per window. A window is known by its start and version; when runs overlap (each run reads the
//   whole log), the newest run's figures win. At most ALERT.chartWindows windows are drawn.
// - Drifted columns come first in the table, then the rest by score; at most ALERT.tableRows rows, and the body
//   says how many were left out. The body stays under GitHub's 65,536 characters (ALERT.bodyChars) by showing
//   fewer rows, never by cutting Markdown mid-line.
// - Written with report/markdown.ts's kit (one escaping rule); chart labels are mermaidLabel's quoted strings, and
//   every chart is one `xychart-beta` block that mermaid's parser accepts (test/monitor-alert.test.ts parses them).
import type { ColumnDrift } from '../data/drift.js';
import { appendBlock, escapeMarkdown, markdownTable, mermaidLabel, percent, plural } from '../report/markdown.js';
import type { MonitorResult, MonitorWindow, VersionWindow } from './windows.js';

export const ALERT = {
  /** The label every monitor issue carries; the issue is looked up among the open issues with it. */
  label: 'bramble-monitor',
  /** GitHub's limit on an issue body or comment, in characters. */
  bodyChars: 65_536,
  /** Drift table rows shown at most. */
  tableRows: 60,
  /** Windows drawn in the charts at most (the newest). */
  chartWindows: 30,
  chartLabelLength: 24,
} as const;

/** ml.yaml's monitor.performance: the bound the watched metric broke, for the title. */
export interface PerformanceBound {
  readonly metric: string;
  readonly min?: number;
  readonly max?: number;
}

/** What was done about the retrain, for the issue's last section. */
export type RetrainNote =
  | { readonly kind: 'dispatched'; readonly at: string; readonly url: string | null; readonly workflow: string; readonly ref: string }
  /** Dispatched by an earlier run of this alert (the first alerting run since the model was last healthy). */
  | { readonly kind: 'earlier'; readonly at: string }
  | { readonly kind: 'planned'; readonly workflow: string; readonly ref: string }
  | { readonly kind: 'off' };

/** The hidden comment that finds the issue of one model in one environment again. */
export function alertMarker(name: string, env: string): string {
  // An HTML comment ends at the first `--`; names come from ml.yaml's schema, but a marker must never end early.
  const safe = (s: string) => s.replace(/-{2,}/g, '-').replace(/[<>\s]/g, '_');
  return `<!-- bramble-monitor:${safe(name)}:${safe(env)} -->`;
}

/** The newest window with a version of `status` (and the newest such version in it); null when there is none. */
export function latestWith(result: MonitorResult, status: 'alert' | 'healthy'): { window: MonitorWindow; version: VersionWindow } | null {
  for (let w = result.windows.length - 1; w >= 0; w--) {
    const window = result.windows[w];
    for (let v = window.versions.length - 1; v >= 0; v--) {
      if (window.versions[v].status === status) return { window, version: window.versions[v] };
    }
  }
  return null;
}

function fixed(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function watchedOf(version: VersionWindow): { metric: string; value: number | null; alert: boolean } | null {
  return version.performance.status === 'ok' ? version.performance.watched : null;
}

function boundText(value: number, bound: PerformanceBound | null): string {
  if (bound?.min !== undefined && value < bound.min) return ` < ${bound.min}`;
  if (bound?.max !== undefined && value > bound.max) return ` > ${bound.max}`;
  return ' out of bounds';
}

/** "churn in prod: input drift (3 of 19 columns) / roc_auc 0.7100 < 0.78". */
export function alertTitle(result: MonitorResult, bound: PerformanceBound | null = null): string {
  const found = latestWith(result, 'alert');
  const parts: string[] = [];
  const drift = found?.version.drift;
  if (drift?.datasetDrift) parts.push(`input drift (${drift.columns.filter((c) => c.drifted).length} of ${drift.columns.length} columns)`);
  const watched = found ? watchedOf(found.version) : null;
  if (watched?.alert && watched.value !== null) parts.push(`${watched.metric} ${fixed(watched.value)}${boundText(watched.value, bound)}`);
  if (parts.length === 0) parts.push('alert');
  return `${result.name} in ${result.env}: ${parts.join(' / ')}`;
}

function driftRows(columns: readonly ColumnDrift[], max: number): { rows: string[][]; left: number } {
  const ordered = [...columns].sort((a, b) => Number(b.drifted) - Number(a.drifted) || a.score - b.score || a.column.localeCompare(b.column));
  const rows = ordered.slice(0, max).map((c) => [escapeMarkdown(c.column, 80), c.test, fixed(c.score), fixed(c.threshold), c.drifted ? '**yes**' : 'no']);
  return { rows, left: ordered.length - rows.length };
}

function windowText(window: MonitorWindow): string {
  return `${window.start} – ${window.end}`;
}

function driftSection(out: string[], version: VersionWindow, tableRows: number): void {
  const drift = version.drift;
  out.push('### Input drift', '');
  if (drift === null) {
    appendBlock(out, [`Not measured: ${plural(version.rows, 'row')} in the window, under the minimum.`]);
    return;
  }
  const drifted = drift.columns.filter((c) => c.drifted).length;
  appendBlock(out, [
    `${drifted} of ${plural(drift.columns.length, 'column')} drifted (${percent(drift.driftedShare)}; the data set counts as drifted from ${percent(drift.share)}${drift.datasetDrift ? ', reached' : ''}).`,
  ]);
  const { rows, left } = driftRows(drift.columns, tableRows);
  if (rows.length > 0) appendBlock(out, markdownTable(['column', 'test', 'score', 'threshold', 'drifted'], rows, [2, 3]));
  if (left > 0) appendBlock(out, [`${plural(left, 'more column')} not shown (the table keeps the drifted ones first, then by score).`]);
  const prediction = version.predictionDrift;
  if (prediction) {
    appendBlock(out, [
      `Prediction drift (${escapeMarkdown(prediction.column, 80)}): ${prediction.test} ${fixed(prediction.score)} against ${fixed(prediction.threshold)} — ${prediction.drifted ? '**drifted**' : 'not drifted'}.`,
    ]);
  }
}

function performanceSection(out: string[], version: VersionWindow): void {
  out.push('### Live performance', '');
  const performance = version.performance;
  if (performance.status !== 'ok') {
    appendBlock(out, [`Not measured: ${plural(performance.rows, 'joined row')} (ground truth) in the window, under the minimum.`]);
    return;
  }
  const watched = performance.watched;
  if (watched === null || watched.value === null) {
    appendBlock(out, [`${plural(performance.rows, 'joined row')}; ml.yaml's monitor.performance watches no metric here.`]);
    return;
  }
  const interval = performance.interval;
  const range = interval ? ` (95 % interval ${fixed(interval.low)} – ${fixed(interval.high)}, ${escapeMarkdown(interval.method)})` : '';
  appendBlock(out, [`${watched.metric} **${fixed(watched.value)}**${watched.alert ? ' — out of bounds' : ''} on ${plural(performance.rows, 'joined row')}${range}.`]);
}

interface ChartPoint {
  start: string;
  version: string;
  share: number | null;
  metric: number | null;
  metricName: string | null;
}

/** Every window and version of the history and this run, the newest run's figures winning, oldest first. */
export function chartPoints(result: MonitorResult, history: readonly MonitorResult[]): ChartPoint[] {
  const byKey = new Map<string, ChartPoint>();
  const runs = [...history, result].sort((a, b) => (a.ranAt < b.ranAt ? -1 : a.ranAt > b.ranAt ? 1 : 0));
  for (const run of runs) {
    for (const window of run.windows) {
      for (const v of window.versions) {
        const watched = watchedOf(v);
        byKey.set(`${window.start}\u0000${v.version}`, {
          start: window.start,
          version: v.version,
          share: v.drift === null ? null : v.drift.driftedShare,
          metric: watched === null ? null : watched.value,
          metricName: watched === null ? null : watched.metric,
        });
      }
    }
  }
  return [...byKey.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.version.localeCompare(b.version)));
}

function pointLabel(point: ChartPoint, withVersion: boolean, withTime: boolean): string {
  const day = point.start.slice(5, 10);
  const time = withTime ? ` ${point.start.slice(11, 16)}` : '';
  return `${day}${time}${withVersion ? ` ${point.version}` : ''}`;
}

function uniqueLabels(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.map((value) => {
    let label = mermaidLabel(value, ALERT.chartLabelLength);
    for (let n = 2; seen.has(label); n++) label = mermaidLabel(`${value.slice(0, ALERT.chartLabelLength - 5)} #${n}`, ALERT.chartLabelLength);
    seen.add(label);
    return label;
  });
}

function xAxis(points: readonly ChartPoint[]): string {
  const withVersion = new Set(points.map((p) => p.version)).size > 1;
  const withTime = points.some((p) => p.start.slice(11, 16) !== '00:00');
  return `    x-axis [${uniqueLabels(points.map((p) => pointLabel(p, withVersion, withTime))).join(', ')}]`;
}

function chartsSection(out: string[], result: MonitorResult, history: readonly MonitorResult[]): void {
  const all = chartPoints(result, history);
  const drift = all.filter((p) => p.share !== null).slice(-ALERT.chartWindows);
  const metric = all.filter((p) => p.metric !== null).slice(-ALERT.chartWindows);
  out.push('### Over time', '');
  if (drift.length === 0 && metric.length === 0) {
    appendBlock(out, ['No window has enough rows to draw yet.']);
    return;
  }
  const runs = history.length + 1;
  appendBlock(out, [`${plural(Math.max(drift.length, metric.length), 'window')}, oldest first, from ${plural(runs, 'monitor run')} (the newest run's figures where they overlap).`]);
  if (drift.length > 0) {
    const shares = drift.map((p) => fixed(p.share ?? 0));
    appendBlock(out, [
      '```mermaid',
      'xychart-beta',
      `    title ${mermaidLabel('Drifted share of input columns', 60)}`,
      xAxis(drift),
      `    y-axis ${mermaidLabel('drifted share', 40)} 0 --> 1`,
      `    bar [${shares.join(', ')}]`,
      `    line [${drift.map(() => fixed(result.share)).join(', ')}]`,
      '```',
    ]);
  }
  if (metric.length > 0) {
    const values = metric.map((p) => p.metric ?? 0);
    let low = Infinity;
    let high = -Infinity;
    for (const v of values) {
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
    const pad = high > low ? (high - low) * 0.1 : Math.max(Math.abs(high) * 0.01, 0.01);
    appendBlock(out, [
      '```mermaid',
      'xychart-beta',
      `    title ${mermaidLabel(`${metric[metric.length - 1].metricName ?? 'metric'} per window`, 60)}`,
      xAxis(metric),
      `    y-axis ${mermaidLabel(metric[metric.length - 1].metricName ?? 'metric', 40)} ${fixed(low - pad)} --> ${fixed(high + pad)}`,
      `    line [${values.map((v) => fixed(v)).join(', ')}]`,
      '```',
    ]);
  }
}

function retrainSection(out: string[], note: RetrainNote): void {
  if (note.kind === 'off') return;
  out.push('### Retraining', '');
  if (note.kind === 'dispatched') {
    const link = note.url ? `: ${note.url}` : '';
    appendBlock(out, [`A retrain was dispatched at ${note.at} (workflow ${escapeMarkdown(note.workflow)} on ${escapeMarkdown(note.ref)})${link}.`]);
  } else if (note.kind === 'earlier') {
    appendBlock(out, [`A retrain was dispatched at ${note.at}, by the first run of this alert; it is dispatched once per alert, not on every run.`]);
  } else {
    appendBlock(out, [`A retrain would be dispatched (workflow ${escapeMarkdown(note.workflow)} on ${escapeMarkdown(note.ref)}), but this run has no platform to dispatch it on.`]);
  }
}

function renderBody(result: MonitorResult, history: readonly MonitorResult[], note: RetrainNote, tableRows: number): string {
  const out: string[] = [alertMarker(result.name, result.env), `## ⚠️ ${escapeMarkdown(result.name)} in ${escapeMarkdown(result.env)}: the monitor alerted`, ''];
  const alerting = result.windows.filter((w) => w.status === 'alert').length;
  const found = latestWith(result, 'alert');
  appendBlock(out, [
    `The monitor run at ${result.ranAt} found ${alerting} of ${plural(result.windows.length, 'window')} alerting (window ${result.window}, at least ${plural(result.minRows, 'row')} to judge).`,
  ]);
  if (found) {
    appendBlock(out, [`Newest alert: the window ${windowText(found.window)}, version ${escapeMarkdown(found.version.version)}, ${plural(found.version.rows, 'row')}.`]);
    driftSection(out, found.version, tableRows);
    performanceSection(out, found.version);
  }
  chartsSection(out, result, history);
  retrainSection(out, note);
  out.push(`_Updated by Bramble's monitor at ${result.ranAt}. This issue is closed when a run finds ${escapeMarkdown(result.name)} in ${escapeMarkdown(result.env)} healthy._`);
  return `${out.join('\n')}\n`;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** The issue's body: under ALERT.bodyChars, with fewer table rows when the full table would not fit. */
export function alertBody(result: MonitorResult, history: readonly MonitorResult[], note: RetrainNote): string {
  let rows: number = ALERT.tableRows;
  let body = renderBody(result, history, note, rows);
  while (codePoints(body) > ALERT.bodyChars && rows > 0) {
    rows = Math.floor(rows / 2);
    body = renderBody(result, history, note, rows);
  }
  return body;
}

/** The comment that closes the issue: the healthy window that closed it. */
export function healthyComment(result: MonitorResult): string {
  const found = latestWith(result, 'healthy');
  const head = `✅ ${escapeMarkdown(result.name)} in ${escapeMarkdown(result.env)} is healthy again: the monitor run at ${result.ranAt}`;
  if (!found) return `${head} found no window alerting (none had enough rows to judge). Closing.\n`;
  const { window, version } = found;
  const facts: string[] = [plural(version.rows, 'row')];
  if (version.drift) facts.push(`drifted share ${percent(version.drift.driftedShare)}`);
  const watched = watchedOf(version);
  if (watched && watched.value !== null) facts.push(`${watched.metric} ${fixed(watched.value)}`);
  return `${head} found the window ${windowText(window)} healthy (version ${escapeMarkdown(version.version)}: ${facts.join(', ')}). Closing.\n`;
}
