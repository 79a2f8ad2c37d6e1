import { errorClass, nearest } from '../errors.js';

/**
 * A data set held by column. Column scans (validation, profiling, binning) read one typed array each, so a
 * million rows cost a few flat arrays instead of a million row objects.
 */
export interface Table {
  readonly rows: number;
  readonly columns: readonly Column[];
  /** The file line each row starts on (1-based; a CSV header is line 1), so that later checks can point at it. */
  readonly lines: Int32Array;
}

export type ColumnKind = 'number' | 'category' | 'string' | 'boolean' | 'date';

/** Numbers as doubles; NaN is missing. */
export interface NumberColumn {
  readonly name: string;
  readonly kind: 'number';
  readonly values: Float64Array;
}

/** 1 for true, 0 for false, NaN for missing: the encoding a model reads anyway. */
export interface BooleanColumn {
  readonly name: string;
  readonly kind: 'boolean';
  readonly values: Float64Array;
}

/**
 * Dates and date-times as instants: milliseconds since 1970-01-01T00:00:00Z (UTC), NaN missing. A date column is
 * never a model input by itself; `derive` reads it (op.year, op.month, …) and the profile treats it as instants.
 */
export interface DateColumn {
  readonly name: string;
  readonly kind: 'date';
  readonly values: Float64Array;
}

/**
 * Text as codes into a list of distinct values (in order of first appearance); −1 is missing. `string` columns
 * (ids, free text) are stored the same way but are not treated as a closed set of levels.
 */
export interface CodedColumn {
  readonly name: string;
  readonly kind: 'category' | 'string';
  readonly values: CodedValues;
}

export interface CodedValues {
  readonly codes: Int32Array;
  readonly categories: readonly string[];
}

export type Column = NumberColumn | BooleanColumn | DateColumn | CodedColumn;

/** Whether a column holds text as codes (category or string). */
export function isCoded(column: Column): column is CodedColumn {
  return column.kind === 'category' || column.kind === 'string';
}

export class DataColumnError extends errorClass('E_DATA_COLUMN') {}

/** The column called `name`, or undefined. */
export function findColumn(table: Table, name: string): Column | undefined {
  return table.columns.find((c) => c.name === name);
}

/** The column called `name`; a missing one is an error that names the nearest column. `where` names the data (a file). */
export function getColumn(table: Table, name: string, where = 'the data'): Column {
  const column = findColumn(table, name);
  if (column) return column;
  throw missingColumnError(name, columnNames(table), where, '');
}

export function columnNames(table: Table): string[] {
  return table.columns.map((c) => c.name);
}

/**
 * One cell as a plain value (null when missing), for tests, error messages and row-at-a-time consumers. A date is
 * its ISO 8601 text in UTC (`2024-03-01T00:00:00.000Z`), the form a served record carries it in.
 */
export function cellValue(column: Column, row: number): number | boolean | string | null {
  if (column.kind === 'date') {
    const v = column.values[row];
    return Number.isNaN(v) ? null : new Date(v).toISOString();
  }
  if (column.kind === 'number') {
    const v = column.values[row];
    return Number.isNaN(v) ? null : v;
  }
  if (column.kind === 'boolean') {
    const v = column.values[row];
    return Number.isNaN(v) ? null : v === 1;
  }
  const code = column.values.codes[row];
  return code < 0 ? null : column.values.categories[code];
}

/** How many rows of a column are missing. */
export function missingCount(column: Column): number {
  let missing = 0;
  if (column.kind === 'number' || column.kind === 'boolean' || column.kind === 'date') {
    for (const v of column.values) if (v !== v) missing++;
  } else {
    for (const code of column.values.codes) if (code < 0) missing++;
  }
  return missing;
}

/** `<where> has no column "x"<context>; did you mean "y"?` — or the list of columns when nothing is close. */
export function missingColumnError(name: string, columns: readonly string[], where: string, context: string): DataColumnError {
  const guess = nearest(name, columns);
  const fix = guess !== undefined ? `did you mean ${shortText(guess)}?` : `its columns are ${shortList(columns)}`;
  return new DataColumnError(`${where} has no column ${shortText(name)}${context}; ${fix}`, { column: name, columns: [...columns], suggestion: guess ?? null });
}

/**
 * A value from a data file as a message shows it: quoted and escaped (no control characters reach a terminal or a
 * log), and at most 40 characters, so that a message never carries more than a snippet of a file.
 */
export function shortText(text: string, limit = 40): string {
  const clipped = text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
  return JSON.stringify(clipped).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Names from a data file, at most `most` of them, each as shortText shows it. */
export function shortList(names: readonly string[], most = 20): string {
  const shown = names.slice(0, most).map((n) => shortText(n)).join(', ');
  return names.length > most ? `${shown}, … (${names.length} in all)` : shown;
}

// ---------------------------------------------------------------------------------------------------------------
// ISO 8601 instants

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** What `type: date` accepts, for messages: the fix of every "not a date" error. */
export const DATE_FORMS = 'write ISO 8601 such as 2024-03-01 or 2024-03-01T12:30:00Z';

/**
 * An ISO 8601 date or date-time in bytes [start, end) (blanks around it allowed) as milliseconds since 1970 UTC,
 * or NaN when it is not one. Accepted: `2024-03-01`, `2024-03-01T12:30`, `…T12:30:00`, `…T12:30:00.250`, each
 * with `Z`, `+02:00`, `+0200` or `+02` after the time; a space may stand for the T (RFC 3339 allows it, and
 * exports from SQL write it). No offset means UTC: a file's instants must not depend on the machine's zone.
 * Month, day, hour, minute and second are checked against the calendar, so 2023-02-29 is not a date.
 * Works on bytes so that a CSV field is never decoded to a string just to be read.
 */
export function parseInstantBytes(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let e = end;
  while (i < e && (bytes[i] === 32 || bytes[i] === 9)) i++;
  while (e > i && (bytes[e - 1] === 32 || bytes[e - 1] === 9)) e--;
  const digits = (at: number, n: number): number => {
    if (at + n > e) return -1;
    let v = 0;
    for (let k = at; k < at + n; k++) {
      const d = bytes[k] - 48;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  };
  const year = digits(i, 4);
  if (year < 0 || bytes[i + 4] !== 45) return NaN;
  const month = digits(i + 5, 2);
  if (month < 1 || month > 12 || bytes[i + 7] !== 45) return NaN;
  const day = digits(i + 8, 2);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day < 1 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])) return NaN;
  i += 10;
  let ms = Date.UTC(year, month - 1, day);
  // Date.UTC maps years 0–99 to 1900–1999; a four-digit year means what it says.
  if (year < 100) ms = new Date(ms).setUTCFullYear(year);
  if (i === e) return ms;
  if (bytes[i] !== 84 && bytes[i] !== 116 && bytes[i] !== 32) return NaN;
  const hour = digits(i + 1, 2);
  if (hour < 0 || hour > 23 || bytes[i + 3] !== 58) return NaN;
  const minute = digits(i + 4, 2);
  if (minute < 0 || minute > 59) return NaN;
  i += 6;
  let second = 0;
  let fraction = 0;
  if (i < e && bytes[i] === 58) {
    second = digits(i + 1, 2);
    if (second < 0 || second > 59) return NaN;
    i += 3;
    if (i < e && (bytes[i] === 46 || bytes[i] === 44)) {
      i++;
      let scale = 100;
      const from = i;
      for (; i < e && bytes[i] >= 48 && bytes[i] <= 57; i++) {
        // Past milliseconds the digits are dropped: an instant here is whole milliseconds.
        fraction += (bytes[i] - 48) * scale;
        scale /= 10;
      }
      if (i === from) return NaN;
      fraction = Math.floor(fraction);
    }
  }
  ms += hour * 3_600_000 + minute * 60_000 + second * 1000 + fraction;
  if (i === e) return ms;
  if ((bytes[i] === 90 || bytes[i] === 122) && i + 1 === e) return ms;
  if (bytes[i] !== 43 && bytes[i] !== 45) return NaN;
  const sign = bytes[i] === 45 ? -1 : 1;
  const offsetHours = digits(i + 1, 2);
  if (offsetHours < 0 || offsetHours > 23) return NaN;
  i += 3;
  let offsetMinutes = 0;
  if (i < e) {
    if (bytes[i] === 58) i++;
    offsetMinutes = digits(i, 2);
    if (offsetMinutes < 0 || offsetMinutes > 59 || i + 2 !== e) return NaN;
  }
  // 12:30+02:00 is 10:30 in UTC.
  return ms - sign * (offsetHours * 3_600_000 + offsetMinutes * 60_000);
}

const instantEncoder = new TextEncoder();

/** parseInstantBytes for text (JSON cells, ml.yaml's `min: 2020-01-01`): milliseconds since 1970 UTC, or NaN. */
export function parseInstant(text: string): number {
  const bytes = instantEncoder.encode(text);
  return parseInstantBytes(bytes, 0, bytes.length);
}
