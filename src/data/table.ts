import { BrambleError, nearest } from '../errors.js';

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

export class DataColumnError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_DATA_COLUMN', message, data);
  }
}

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
  const fix = guess !== undefined ? `did you mean ${JSON.stringify(guess)}?` : `its columns are ${columns.join(', ')}`;
  return new DataColumnError(`${where} has no column ${JSON.stringify(name)}${context}; ${fix}`, { column: name, columns: [...columns], suggestion: guess ?? null });
}
