// What the `bramble runs` subcommands share: their options, the output format (text, --json, --csv, --md), and
// one renderer of a sheet (a header and rows, in groups) to each: CSV through the predict command's writer (RFC
// 4180, formula cells defused), Markdown through the one kit (src/report/markdown.ts), so a run's branch name
// with HTML or Markdown in it is shown as text.
import { cut, escapeMarkdown, markdownTable } from '../../report/markdown.js';
import { csvField, defuse } from '../../usecases/predict.js';
import { UsageError } from '../../usecases/options.js';
import { cellText, championDelta, metricOf, paramOf, type RunColumns } from '../../usecases/runs-query.js';
import type { RunRecord } from '../../registry/runs.js';
import type { Ports } from '../../usecases/ports.js';
import { cliPorts, type CliIo } from '../command.js';

export const RUNS_OPTIONS = {
  dir: { type: 'string' },
  remote: { type: 'string' },
  fetch: { type: 'boolean' },
  sort: { type: 'string' },
  'only-changed': { type: 'boolean' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  md: { type: 'boolean' },
} as const;

export interface RunsValues {
  dir?: string;
  remote?: string;
  fetch?: boolean;
  sort?: string;
  'only-changed'?: boolean;
  limit?: string;
  offset?: string;
  json?: boolean;
  csv?: boolean;
  md?: boolean;
}

export type Format = 'text' | 'json' | 'csv' | 'md';

/** The one output format asked for: --json, --csv or --md (at most one), else text. */
export function formatOf(values: RunsValues): Format {
  const asked = (['json', 'csv', 'md'] as const).filter((f) => values[f] === true);
  if (asked.length > 1) throw new UsageError(`--${asked.join(' and --')} contradict each other; give one output format`);
  return asked[0] ?? 'text';
}

/** Refuses an option the subcommand does not take, by name. */
export function refuseOptions(values: RunsValues, sub: string, accepted: readonly (keyof RunsValues)[]): void {
  const always: readonly string[] = ['dir', 'remote', 'json', 'csv', 'md', 'help'];
  for (const key of Object.keys(values)) {
    if (!always.includes(key) && !(accepted as readonly string[]).includes(key)) throw new UsageError(`bramble runs ${sub} takes no --${key}; see bramble runs --help`);
  }
}

/** A whole number option ≥ `min`, or the default. */
export function countOption(value: string | undefined, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${option} is ${JSON.stringify(value)}; give a whole number ≥ ${min}`);
  return n;
}

export function runsPorts(io: CliIo, values: RunsValues): Ports {
  return cliPorts(io, { remote: values.remote, warnings: 'labelled' });
}

/** A table for people: a header, rows, and where each group of rows starts (its title line). */
export interface Sheet {
  header: string[];
  rows: string[][];
  groups?: { title: string; start: number }[];
  /** Columns aligned right (numbers). */
  right?: number[];
}

function textTable(sheet: Sheet): string {
  const { header, rows } = sheet;
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, [...r[i]].length), [...h].length));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (sheet.right?.includes(i) ? c.padStart(widths[i] + c.length - [...c].length) : c.padEnd(widths[i] + c.length - [...c].length)))
      .join('  ')
      .trimEnd();
  const titles = new Map((sheet.groups ?? []).map((g) => [g.start, g.title]));
  const indent = titles.size > 0 ? '  ' : '';
  const out = [indent + line(header)];
  rows.forEach((row, i) => {
    const title = titles.get(i);
    if (title !== undefined) out.push(title);
    out.push(indent + line(row));
  });
  return out.join('\n');
}

/** The sheet as text, CSV or Markdown. */
export function renderSheet(sheet: Sheet, format: Exclude<Format, 'json'>): string {
  if (format === 'text') return textTable(sheet);
  if (format === 'csv') return [sheet.header, ...sheet.rows].map((cells) => cells.map((c) => csvField(defuse(c))).join(',')).join('\n');
  return markdownTable(
    sheet.header.map((h) => escapeMarkdown(h)),
    sheet.rows.map((cells) => cells.map((c) => escapeMarkdown(c, 200))),
    sheet.right ?? [],
  ).join('\n');
}

/** A metric for people (4 decimals) or for a file (as recorded). */
export function number(value: number | null, exact: boolean): string {
  if (value === null) return '–';
  return exact ? String(value) : value.toFixed(4);
}

export function signed(value: number | null, exact: boolean): string {
  if (value === null) return '';
  const text = exact || Number.isInteger(value) ? String(value) : value.toFixed(4);
  return value >= 0 ? `+${text}` : text;
}

export const shortSha = (sha: string | null): string => (sha === null ? '–' : sha.slice(0, 7));

/** `2026-12-06T07:51:09.123Z` → `2026-12-06 07:51`. */
export const minute = (at: string): string => `${at.slice(0, 10)} ${at.slice(11, 16)}`;

export function gateMark(record: RunRecord): string {
  if (record.gates === null) return '–';
  return record.gates.passed ? 'pass' : `fail (${record.gates.failed.join(', ')})`;
}

/**
 * A run list as a sheet. Text and Markdown show a metric with its delta against the champion beside it; CSV has
 * the delta in a column of its own (delta_METRIC) and every value as recorded, and names each run's branch and
 * commit on its row; text groups the rows under a `branch @ commit` line instead.
 */
export function runsSheet(records: readonly RunRecord[], columns: RunColumns, format: Exclude<Format, 'json'>, groups?: { title: string; start: number }[]): Sheet {
  const exact = format === 'csv';
  const header = ['run', 'at', 'command'];
  if (format !== 'text') header.push('branch', 'commit');
  for (const m of columns.metrics) {
    header.push(m);
    if (exact) header.push(`delta_${m}`);
  }
  for (const p of columns.params) header.push(p);
  if (columns.data) header.push('data');
  header.push('champion', 'gate');
  const rows = records.map((r) => {
    const cells = [r.id, exact ? r.at : minute(r.at), r.command];
    if (format !== 'text') cells.push(r.source.branch ?? '', exact ? (r.source.commit ?? '') : shortSha(r.source.commit));
    for (const m of columns.metrics) {
      const delta = championDelta(r, m);
      if (exact) cells.push(number(metricOf(r, m), true), signed(delta, true));
      else cells.push(delta === null ? number(metricOf(r, m), false) : `${number(metricOf(r, m), false)} (${signed(delta, false)})`);
    }
    for (const p of columns.params) cells.push(cut(cellText(paramOf(r, p)), exact ? Infinity : 24));
    if (columns.data) cells.push(exact ? r.data.sha256 : `${shortSha(r.data.sha256)} (${r.data.rows} rows)`);
    cells.push(r.champion === null ? '–' : exact ? r.champion.label : cut(r.champion.label, 32), gateMark(r));
    return cells;
  });
  return { header, rows, ...(groups && format === 'text' ? { groups } : {}) };
}
