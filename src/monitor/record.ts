// What one monitor run leaves in git, on the registry branch under the model: the result as JSON and a short
// Markdown, the newest result again as latest.json (what the host's /metrics reads), and one mergeable profile
// per window and version (what a month's summary is made of once the logs have rotated away).
//
//   NAME/monitoring/ENV/latest.json
//   NAME/monitoring/ENV/runs/2026-12-06T06-00-00.000Z.json   and .md
//   NAME/monitoring/ENV/profiles/2026-12-05T00-00-00.000Z/v1.2.0.json
//
// Decisions: the registry branch, not a branch of its own, because the host already fetches it (one source for
// /metrics) and a registry commit is pushed with the registry's retries. A window's profile is rewritten by every
// run that sees the window (the last run over a day has seen all of it). File names are times with ':' as '-',
// so that they sort as times and are valid on every file system.
import { escapeMarkdown, markdownTable } from '../report/markdown.js';
import { AB_METHOD } from './ab.js';
import { MONITOR, type MonitorProfile, type MonitorResult, type VersionWindow } from './windows.js';

export const MONITORING_FOLDER = (name: string, env: string): string => `${name}/monitoring/${env}`;

/** An ISO time as a file name. */
export function timeName(iso: string): string {
  return iso.replaceAll(':', '-');
}

/** The files of one run, by path on the registry branch. */
export function monitorRecordFiles(result: MonitorResult, profiles: readonly MonitorProfile[], markdown: string): Map<string, string> {
  const folder = MONITORING_FOLDER(result.name, result.env);
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const files = new Map<string, string>([
    [`${folder}/latest.json`, json],
    [`${folder}/runs/${timeName(result.ranAt)}.json`, json],
    [`${folder}/runs/${timeName(result.ranAt)}.md`, markdown],
  ]);
  for (const p of profiles) files.set(`${folder}/profiles/${timeName(p.start)}/${p.model}${p.role ? `.${p.role}` : ''}.json`, `${JSON.stringify(p)}\n`);
  return files;
}

/** The run in Markdown: a line of totals, then a row a window and version. */
export function monitorMarkdown(result: MonitorResult): string {
  const out = [`# ${escapeMarkdown(result.name)} in ${escapeMarkdown(result.env)}: ${result.healthy ? 'healthy' : '**alert**'}`, ''];
  const { log } = result;
  out.push(
    `Run at ${result.ranAt} over ${log.requests} request(s), ${log.rows} row(s) and ${log.feedback} feedback line(s) in ${log.files.length} file(s); windows of ${result.window}, at least ${result.minRows} row(s) each, dataset drift at ${Math.round(result.share * 100)} % of the columns.`,
  );
  if (log.corruptLines > 0 || log.late > 0 || log.faults > 0) {
    out.push('', `Skipped: ${log.corruptLines} corrupt line(s), ${log.late} late request(s); ${log.faults} gap(s) the host recorded.`);
  }
  out.push('');
  const rows: string[][] = [];
  for (const w of result.windows) {
    if (w.versions.length === 0) rows.push([w.start, '–', '–', '0', 'empty', '–', '–', '–']);
    for (const v of w.versions) rows.push([w.start, escapeMarkdown(v.version), v.role ?? 'main', String(v.rows), v.status, driftCell(v), predictionCell(v), metricCell(v)]);
  }
  // The role column only when a canary or shadow answered: without releases the table is as it always was.
  const roles = result.windows.some((w) => w.versions.some((v) => (v.role ?? 'main') !== 'main'));
  const header = ['window', 'version', 'role', 'rows', 'status', 'input drift', 'prediction drift', 'live metric'];
  const shown = (r: readonly string[]): string[] => (roles ? [...r] : r.filter((_, i) => i !== 2));
  if (rows.length === 0) out.push('No predictions to monitor.');
  else for (const line of markdownTable(shown(header), rows.map(shown), [roles ? 3 : 2])) out.push(line);
  const ab = result.comparisons ?? [];
  if (ab.length > 0) {
    out.push('', `## A/B: each canary and shadow against main (${AB_METHOD})`, '');
    const abRows = ab.map((c) => [
      c.window,
      `${escapeMarkdown(c.other.version)} (${c.other.role})`,
      escapeMarkdown(c.main.version),
      `${c.metric} ${c.other.value.toFixed(4)} vs ${c.main.value.toFixed(4)}`,
      `${signed(c.difference)} [${signed(c.low)}, ${signed(c.high)}]`,
      c.verdict,
    ]);
    for (const line of markdownTable(['window', 'version', 'against main', 'live metric', 'difference', 'verdict'], abRows, [])) out.push(line);
  }
  return `${out.join('\n')}\n`;
}

function signed(n: number): string {
  return `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(4)}`;
}

function driftCell(v: VersionWindow): string {
  if (v.drift === null) return 'not enough data';
  const drifted = v.drift.columns.filter((c) => c.drifted).map((c) => c.column);
  const head = `${drifted.length} of ${v.drift.columns.length}`;
  return drifted.length === 0 ? head : `${head}: ${escapeMarkdown(drifted.slice(0, 5).join(', '))}${drifted.length > 5 ? ', …' : ''}`;
}

function predictionCell(v: VersionWindow): string {
  const d = v.predictionDrift;
  if (d === null) return '–';
  return `${d.test} ${d.score.toFixed(3)}${d.drifted ? ' (drifted)' : ''}`;
}

/** The watched metric (else the headline one) with its interval and row count. */
export function metricCell(v: VersionWindow): string {
  const p = v.performance;
  if (p.status === 'not-enough-data') return `not enough data (${p.rows} joined)`;
  const metric = p.watched?.metric ?? p.interval?.metric;
  if (metric === undefined) return `${p.rows} joined`;
  const value = p.metrics[metric];
  const shown = value === null || value === undefined ? '–' : value.toFixed(4);
  const interval = p.interval !== null && p.interval.metric === metric ? ` [${p.interval.low.toFixed(4)}, ${p.interval.high.toFixed(4)}]` : '';
  return `${metric} ${shown}${interval} on ${p.rows}${p.watched?.alert === true ? ' (out of bounds)' : ''}`;
}

/** A recorded result read back, or null when the file is not one (edited by hand, or of another format version). */
export function parseRecordedResult(text: string): MonitorResult | null {
  const v = parseObject(text) as Partial<MonitorResult> | null;
  return v !== null && v.format === MONITOR.format && v.version === MONITOR.version && Array.isArray(v.windows) ? (v as MonitorResult) : null;
}

/** A recorded window profile read back, or null when the file is not one. */
export function parseRecordedProfile(text: string): MonitorProfile | null {
  const v = parseObject(text) as Partial<MonitorProfile> | null;
  return v !== null && v.format === 'bramble-monitor-profile' && v.version === 1 && typeof v.model === 'string' && v.inputs !== undefined ? (v as MonitorProfile) : null;
}

function parseObject(text: string): object | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
}
