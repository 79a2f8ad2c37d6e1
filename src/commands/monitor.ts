// bramble monitor: drift and live performance of what an environment served, from the host's prediction log.
import type { MetricInterval } from '../monitor/interval.js';
import type { MonitorResult, MonitorWindow, VersionWindow } from '../monitor/windows.js';
import { monitor } from '../usecases/monitor.js';
import { monitorSummary, type MonitorSummary } from '../usecases/monitor-summary.js';
import { UsageError } from '../usecases/options.js';
import { cliPorts, defineCommand, numberOption, print } from './command.js';

export const HELP = `bramble monitor — drift and live performance of what ENV served, from the host's prediction log

Usage: bramble monitor [DIR] --env ENV --logs DIR [--truth FILE] [--since DATE] [--min-rows N] [--record] [--json]
       bramble monitor [DIR] --env ENV --summary [--since DATE] [--until DATE] [--json]

Reads the prediction log in --logs (serve.json's log.dir, feedback lines included) and, per window (ml.yaml's
monitor.window, default one UTC day) and per model version, compares the served inputs and the predictions with
the version's training profile (ml.yaml's monitor.drift.share of drifted columns makes the window drift) and scores
the predictions whose truth came back, with a 95% interval: by request id from feedback lines, or by ml.yaml's
data.id from --truth FILE (CSV, JSON, Arrow or Parquet with the id and the target). A window or version with fewer
than --min-rows rows (default monitor.min_rows, else 100) says "not enough data" and never alerts. Corrupt lines
are skipped and counted with their file and line.

--record writes the result (JSON and Markdown) and each window's profile to the registry branch under
NAME/monitoring/ENV/, one commit, pushed like any registry change; the host's /metrics reads latest.json there.
Issues and retraining on an alert are the monitor action's and the GitLab job's (docs/monitoring.md).

--summary sums up a longer period from those recorded window profiles alone, without the log: per version, the
merged inputs' drift against the training profile, prediction drift, and the live metrics the merged counts give
(not ROC AUC, which needs the scores' order). Exit 1 when a version's merged inputs drift.

Exit codes: 0 healthy, 1 alert (drift, or monitor.performance out of bounds), 2 usage, configuration or data error.
`;

export const command = defineCommand({
  name: 'monitor',
  help: HELP,
  options: { env: { type: 'string' }, logs: { type: 'string' }, truth: { type: 'string' }, since: { type: 'string' }, 'min-rows': { type: 'string' }, json: { type: 'boolean' }, record: { type: 'boolean' }, summary: { type: 'boolean' }, until: { type: 'string' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    if (!values.env) throw new UsageError('bramble monitor needs --env ENV; see bramble monitor --help');
    if (values.summary === true) {
      for (const flag of ['logs', 'truth', 'min-rows', 'record'] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} does not go with --summary, which reads the recorded window profiles, not the log; leave it out`);
      }
      const summary = await monitorSummary({ dir: positionals[0] ?? '.', env: values.env, since: values.since, until: values.until }, cliPorts(io, { warnings: 'labelled' }));
      print(io, values.json, summary, summaryText(summary));
      return summary.versions.every((v) => !v.drift.datasetDrift) ? 0 : 1;
    }
    if (values.until !== undefined) throw new UsageError('--until goes with --summary; to leave out later predictions, cut the log');
    if (!values.logs) throw new UsageError("bramble monitor needs --logs DIR (serve.json's log.dir); see bramble monitor --help");
    const minRows = numberOption('min-rows', values['min-rows']);
    if (minRows !== undefined && (!Number.isInteger(minRows) || minRows < 1)) throw new UsageError(`--min-rows is ${minRows}; give a whole number ≥ 1`);
    const request = { dir: positionals[0] ?? '.', env: values.env, logs: values.logs, truth: values.truth, since: values.since, minRows, record: values.record === true };
    const result = await monitor(request, cliPorts(io, { warnings: 'labelled' }));
    print(io, values.json, result, monitorText(result));
    return result.healthy ? 0 : 1;
  },
});

/** The summary a person reads: one block a window, one line a version. */
export function monitorText(result: MonitorResult): string {
  const { log } = result;
  const lines = [
    `${result.name} in ${result.env}: ${log.requests} request(s), ${log.rows} row(s), ${log.feedback} feedback line(s) from ${log.files.length} file(s)` +
      (log.otherRequests > 0 ? `; ${log.otherRequests} request(s) of other models or environments left out` : ''),
  ];
  if (result.truth !== null) {
    const { file, rows, unknownIds } = result.truth;
    lines.push(`truth: ${rows} id(s) in ${file}${unknownIds > 0 ? `, ${unknownIds} of them not among the monitored predictions` : ''}`);
  }
  if (log.faults > 0) lines.push(`${log.faults} gap(s) recorded by the host while it could not write the log`);
  if (log.corruptLines > 0) {
    lines.push(`${log.corruptLines} corrupt line(s) skipped:`);
    for (const c of log.corrupt.slice(0, 10)) lines.push(`  ${c.file}:${c.line}: ${c.reason}`);
    if (log.corruptLines > 10) lines.push(`  … and ${log.corruptLines - 10} more (--json lists the first ${log.corrupt.length})`);
  }
  if (log.late > 0) lines.push(`${log.late} request(s) written after their window was summed up (a clock that jumped back?) left out`);
  if (result.windows.length === 0) lines.push('no predictions to monitor');
  for (const w of result.windows) for (const line of windowLines(w, result.minRows)) lines.push(line);
  for (const c of result.comparisons ?? []) {
    const d = (n: number): string => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(4)}`;
    lines.push(
      `A/B ${c.window.slice(0, 10)}: ${c.other.version} (${c.other.role}) − ${c.main.version} (main): ${c.metric} ${d(c.difference)} (95% ${d(c.low)} to ${d(c.high)}, ${c.method}): ${c.verdict}`,
    );
  }
  lines.push(result.healthy ? 'healthy' : 'ALERT: see the windows marked alert');
  return lines.join('\n');
}

function windowLines(w: MonitorWindow, minRows: number): string[] {
  const head = `${w.start.slice(0, 10)}: ${w.status === 'empty' ? 'empty (no predictions)' : w.status}`;
  return [head, ...w.versions.map((v) => `  ${versionLine(v, minRows)}`)];
}

function versionLine(v: VersionWindow, minRows: number): string {
  const parts = [`${v.version}${v.role !== undefined && v.role !== 'main' ? ` (${v.role})` : ''}: ${v.rows} row(s)`];
  if (v.drift === null) parts.push(`not enough data for drift (under ${minRows} rows)`);
  else {
    const drifted = v.drift.columns.filter((c) => c.drifted).map((c) => c.column);
    parts.push(
      `drift ${(v.drift.driftedShare * 100).toFixed(0)}% of ${v.drift.columns.length} column(s)${drifted.length > 0 ? ` (${drifted.join(', ')})` : ''}` +
        (v.drift.datasetDrift ? ` ≥ ${(v.drift.share * 100).toFixed(0)}%: DRIFT` : ''),
    );
  }
  if (v.predictionDrift !== null) parts.push(`prediction drift ${v.predictionDrift.test} ${v.predictionDrift.score.toFixed(3)}${v.predictionDrift.drifted ? ': DRIFT' : ''}`);
  const p = v.performance;
  if (p.status === 'not-enough-data') parts.push(`performance: not enough data (${p.rows} joined row(s))`);
  else if (p.watched === null) parts.push(`performance on ${p.rows} joined row(s): ${Object.entries(p.metrics).map(([k, x]) => `${k} ${x === null || x === undefined ? '–' : x.toFixed(4)}`).join(', ')}${intervalText(p.interval)}`);
  else parts.push(`${p.watched.metric} ${p.watched.value === null ? '–' : p.watched.value.toFixed(4)}${p.interval?.metric === p.watched.metric ? intervalText(p.interval) : ''} on ${p.rows} joined row(s)${p.watched.alert ? ': OUT OF BOUNDS' : ''}`);
  return parts.join('; ');
}

function intervalText(interval: (MetricInterval & { metric: string }) | null): string {
  return interval === null ? '' : ` (95% ${interval.metric} ${interval.low.toFixed(4)}–${interval.high.toFixed(4)}, ${interval.method})`;
}

/** A summary over recorded windows: one block a version. */
function summaryText(summary: MonitorSummary): string {
  const period = `${summary.since ?? 'the first window'} to ${summary.until ?? 'the last'}`;
  const lines = [`${summary.name} in ${summary.env}, ${period}: ${summary.versions.length} version(s) from recorded window profiles`];
  if (summary.versions.length === 0) lines.push('no recorded windows in that period; run bramble monitor --record first');
  for (const v of summary.versions) {
    const drifted = v.drift.columns.filter((c) => c.drifted).map((c) => c.column);
    lines.push(`${v.version}: ${v.windows} window(s) from ${v.first} to ${v.last}, ${v.rows} row(s)`);
    lines.push(`  drift ${(v.drift.driftedShare * 100).toFixed(0)}% of ${v.drift.columns.length} column(s)${drifted.length > 0 ? ` (${drifted.join(', ')})` : ''}${v.drift.datasetDrift ? ': DRIFT' : ''}`);
    if (v.predictionDrift !== null) lines.push(`  prediction drift ${v.predictionDrift.test} ${v.predictionDrift.score.toFixed(3)}${v.predictionDrift.drifted ? ': DRIFT' : ''}`);
    if (v.performance === null) lines.push('  no joined rows');
    else lines.push(`  on ${v.performance.rows} joined row(s): ${Object.entries(v.performance.metrics).filter(([, x]) => x !== null && x !== undefined).map(([k, x]) => `${k} ${(x as number).toFixed(4)}`).join(', ')}`);
  }
  if (summary.skipped.length > 0) lines.push(`${summary.skipped.length} profile file(s) that are not monitor profiles left out: ${summary.skipped.slice(0, 3).join(', ')}`);
  return lines.join('\n');
}
