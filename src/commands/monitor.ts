// bramble monitor: drift and live performance of what an environment served, from the host's prediction log.
import type { MetricInterval } from '../monitor/interval.js';
import type { MonitorResult, MonitorWindow, VersionWindow } from '../monitor/windows.js';
import { monitor } from '../usecases/monitor.js';
import { UsageError } from '../usecases/options.js';
import { cliPorts, defineCommand, numberOption, print } from './command.js';

export const HELP = `bramble monitor — drift and live performance of what ENV served, from the host's prediction log

Usage: bramble monitor [DIR] --env ENV --logs DIR [--truth FILE] [--since DATE] [--min-rows N] [--record] [--json]

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

Exit codes: 0 healthy, 1 alert (drift, or monitor.performance out of bounds), 2 usage, configuration or data error.
`;

export const command = defineCommand({
  name: 'monitor',
  help: HELP,
  options: { env: { type: 'string' }, logs: { type: 'string' }, truth: { type: 'string' }, since: { type: 'string' }, 'min-rows': { type: 'string' }, json: { type: 'boolean' }, record: { type: 'boolean' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    if (!values.env) throw new UsageError('bramble monitor needs --env ENV; see bramble monitor --help');
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
  lines.push(result.healthy ? 'healthy' : 'ALERT: see the windows marked alert');
  return lines.join('\n');
}

function windowLines(w: MonitorWindow, minRows: number): string[] {
  const head = `${w.start.slice(0, 10)}: ${w.status === 'empty' ? 'empty (no predictions)' : w.status}`;
  return [head, ...w.versions.map((v) => `  ${versionLine(v, minRows)}`)];
}

function versionLine(v: VersionWindow, minRows: number): string {
  const parts = [`${v.version}: ${v.rows} row(s)`];
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
