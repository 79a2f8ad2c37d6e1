import { errorClass } from '../errors.js';
import type { DeclaredColumn, DeclaredType, TypeViolation } from './load-options.js';
import { cellValue, columnNames, findColumn, isCoded, missingColumnError, parseInstant, type CodedColumn, type Column, type Table } from './table.js';

/** Names that cross a boundary: the JSON form's identity and the rule names people and scripts match on. */
export const VALIDATION = {
  format: 'bramble-validation',
  version: 1,
  schemaId: 'https://bramble.dev/schemas/validation.schema.json',
  /** How many offending file lines each rule lists, as Great Expectations' `partial_unexpected_list` does. */
  lines: 20,
} as const;

/**
 * The rules, in the order they are checked and shown. `present`: the declared column is in the data; `type`:
 * every value is of the declared type; `not_null`: no missing values (unless nullable); `has_values`: not every
 * value is missing; `range`: min/max; `values`: one of the allowed labels; `regex`: matches in full; `unique`:
 * no value repeats; `row_count`: the data set's rows are within schema.rows.
 */
export const VALIDATION_RULES = ['row_count', 'present', 'type', 'not_null', 'has_values', 'range', 'values', 'regex', 'unique'] as const;
export type ValidationRule = (typeof VALIDATION_RULES)[number];

/** One column's declared type and constraints: ml.yaml's `schema.columns.<name>` (defaults may be left out). */
export interface ColumnRules {
  readonly type: DeclaredType;
  readonly nullable?: boolean;
  /** Numbers; for a date column, ISO 8601 text (`2020-01-01`), which ml.yaml's loader has checked parses. */
  readonly min?: number | string;
  readonly max?: number | string;
  readonly values?: readonly (string | number)[];
  readonly regex?: string;
  readonly unique?: boolean;
  /** More texts read as missing in this column (ml.yaml's `schema.columns.X.missing`). */
  readonly missing?: readonly string[];
}

/** ml.yaml's `schema` section. */
export interface DataSchema {
  readonly rows?: { readonly min?: number; readonly max?: number };
  readonly columns?: Readonly<Record<string, ColumnRules>>;
}

/** One rule's outcome, shaped like a Great Expectations result (`unexpected_count`, a partial list). */
export interface RuleResult {
  /** Null for rules on the whole data set (`row_count`). */
  readonly column: string | null;
  readonly rule: ValidationRule;
  /** What the rule expects, as a phrase: "between 0 and 72", "one of Yes, No". */
  readonly expectation: string;
  /**
   * Rows that break the rule. For `row_count`, how many rows too few or too many; for `present` and
   * `has_values`, every row of the data (none of them has the column's value).
   */
  readonly unexpectedCount: number;
  /** The file lines of the first VALIDATION.lines of them (for `row_count`, of the rows past the maximum). */
  readonly unexpectedLines: readonly number[];
  readonly success: boolean;
  /** Only on failures: what is wrong, where (file:line of the first one), and the fix. */
  readonly message?: string;
}

export interface ValidationResult {
  readonly format: typeof VALIDATION.format;
  readonly version: typeof VALIDATION.version;
  readonly file: string;
  readonly rows: number;
  /** Whether every rule held. */
  readonly success: boolean;
  readonly statistics: { readonly evaluated: number; readonly successful: number; readonly failed: number };
  readonly results: readonly RuleResult[];
}

export interface ValidateOptions {
  /** The data file as a person should see it (a path relative to the repository). */
  readonly file: string;
  /** From a lenient load (`lenient: true`): the values that were not of their declared type. */
  readonly violations?: readonly TypeViolation[];
}

/** The table was not loaded the way validation needs: a caller's mistake, not the data's. */
export class ValidationInputError extends errorClass('E_VALIDATE_INPUT') {}

/**
 * The load options that let validation count every failure: the declared types, read leniently. Load with these
 * (`readTable(path, { file, ...validationLoadOptions(schema) })`) and pass the result's `violations` on.
 */
export function validationLoadOptions(schema: DataSchema): { columns: Record<string, DeclaredColumn>; lenient: true } {
  const columns: Record<string, DeclaredColumn> = {};
  for (const [name, spec] of Object.entries(schema.columns ?? {})) {
    columns[name] = { type: spec.type, nullable: spec.nullable === true, ...(spec.missing !== undefined ? { missing: spec.missing.map(String) } : {}) };
  }
  return { columns, lenient: true };
}

/**
 * Checks every rule of the schema against the table and reports each one with the rows that break it. Never
 * stops at the first problem: a person fixing a file wants all of them at once.
 */
export function validateTable(table: Table, schema: DataSchema, options: ValidateOptions): ValidationResult {
  const { file } = options;
  const results: RuleResult[] = [];
  if (schema.rows !== undefined) results.push(checkRowCount(table, schema.rows, file));
  const violations = new Map((options.violations ?? []).map((v) => [v.column, v]));
  for (const [name, rules] of Object.entries(schema.columns ?? {})) {
    const column = findColumn(table, name);
    if (column === undefined) {
      results.push({
        column: name,
        rule: 'present',
        expectation: 'in the data',
        unexpectedCount: table.rows,
        unexpectedLines: [],
        success: false,
        message: missingColumnError(name, columnNames(table), file, ' declared in the schema').message,
      });
      continue;
    }
    results.push(...checkColumn(table, column, rules, violations.get(name), file));
  }
  const failed = results.filter((r) => !r.success).length;
  return {
    format: VALIDATION.format,
    version: VALIDATION.version,
    file,
    rows: table.rows,
    success: failed === 0,
    statistics: { evaluated: results.length, successful: results.length - failed, failed },
    results,
  };
}

function checkRowCount(table: Table, bounds: NonNullable<DataSchema['rows']>, file: string): RuleResult {
  const { min, max } = bounds;
  const rows = table.rows;
  const base = { column: null, rule: 'row_count' as const, expectation: `${rangePhrase(min, max)} rows` };
  if (min !== undefined && rows < min) {
    return {
      ...base,
      unexpectedCount: min - rows,
      unexpectedLines: [],
      success: false,
      message: `${file} has ${plural(rows, 'row')}, fewer than the ${min} that schema.rows.min requires; check that the file is complete, or lower schema.rows.min`,
    };
  }
  if (max !== undefined && rows > max) {
    const extra = Array.from({ length: Math.min(rows - max, VALIDATION.lines) }, (_, i) => table.lines[max + i]);
    return {
      ...base,
      unexpectedCount: rows - max,
      unexpectedLines: extra,
      success: false,
      message: `${file} has ${plural(rows, 'row')}, more than the ${max} that schema.rows.max allows (from line ${extra[0]}); check for duplicated or appended data, or raise schema.rows.max`,
    };
  }
  return { ...base, unexpectedCount: 0, unexpectedLines: [], success: true };
}

function checkColumn(table: Table, column: Column, rules: ColumnRules, violation: TypeViolation | undefined, file: string): RuleResult[] {
  const name = column.name;
  const wanted = expectedKind(rules.type);
  if (!wanted.includes(column.kind)) {
    throw new ValidationInputError(
      `${file}: ${name} was read as ${column.kind}, but the schema declares it ${rules.type}; load the data with the schema's column types (validationLoadOptions) before validating`,
      { file, column: name, kind: column.kind, type: rules.type },
    );
  }
  const out: RuleResult[] = [];
  const at = (row: number): string => place(file, table.lines[row]);
  const shown = (row: number): string => JSON.stringify(cellValue(column, row));
  const result = (rule: ValidationRule, expectation: string, rows: readonly number[], message: () => string): RuleResult => {
    const unexpectedLines = rows.slice(0, VALIDATION.lines).map((r) => table.lines[r]);
    const base = { column: name, rule, expectation, unexpectedCount: rows.length, unexpectedLines, success: rows.length === 0 };
    return rows.length === 0 ? base : { ...base, message: message() };
  };

  // A value of the wrong type was read as missing; it is reported here, and not again as a missing value.
  const badType = new Set(violation?.rows ?? []);
  const typeRows = violation?.rows ?? [];
  out.push(result('type', typeExpectation(rules.type), typeRows, () => `${violation?.message ?? ''}${more(typeRows.length, 'value')}`));

  const missing = missingRows(column).filter((r) => !badType.has(r));
  if (rules.nullable !== true) {
    out.push(
      result('not_null', 'no missing values', missing, () =>
        `${at(missing[0])}: ${name} is missing${missing.length > 1 ? ` in ${missing.length} rows` : ''}; fill in the value${missing.length > 1 ? 's' : ''}, or declare the column with nullable: true`,
      ),
    );
  }
  // An empty file is row_count's failure, not every column's.
  const empty = table.rows > 0 && missing.length + typeRows.length === table.rows;
  out.push({
    column: name,
    rule: 'has_values',
    expectation: 'at least one value',
    unexpectedCount: empty ? table.rows : 0,
    unexpectedLines: [],
    success: !empty,
    ...(empty
      ? { message: `${file}: ${name} has no values: all ${plural(table.rows, 'row')} are missing${typeRows.length > 0 ? ' or not of its type' : ''}; check how the file was exported, or remove the column from the schema` }
      : {}),
  });

  if (rules.min !== undefined || rules.max !== undefined) {
    const rows = outOfRange(column, rules.min, rules.max);
    const phrase = rangePhrase(rules.min, rules.max);
    out.push(result('range', phrase, rows, () => `${at(rows[0])}: ${name} is ${shown(rows[0])}, not ${phrase}${more(rows.length, 'value')}; fix the value, or change min/max in the schema`));
  }
  if (rules.values !== undefined) {
    const allowed = rules.values;
    const rows = notAllowed(column, allowed);
    const phrase = `one of ${allowed.map(String).join(', ')}`;
    out.push(result('values', phrase, rows, () => `${at(rows[0])}: ${name} is ${shown(rows[0])}, not ${phrase}${more(rows.length, 'value')}; fix the value, or add it to values in the schema`));
  }
  if (rules.regex !== undefined) {
    const regex = rules.regex;
    const rows = notMatching(column, regex);
    out.push(result('regex', `matches /${regex}/`, rows, () => `${at(rows[0])}: ${name} is ${shown(rows[0])}, which does not match /${regex}/ in full${more(rows.length, 'value')}; fix the value, or change regex in the schema`));
  }
  if (rules.unique === true) {
    const rows = repeated(column);
    out.push(
      result('unique', 'no repeated values', rows, () => `${at(rows[0])}: ${name} is ${shown(rows[0])}, which repeats${more(rows.length, 'row', 'with a repeated value')}; remove the duplicate rows, or drop unique from the schema`),
    );
  }
  return out;
}

/**
 * Where a row is, as the loader says it: `data/t.csv:7` for a text file's line, `data/t.parquet row 7` for Arrow
 * and Parquet, which have no lines (their Table.lines hold row numbers from 1).
 */
function place(file: string, line: number): string {
  return /\.(parquet|arrow|feather|ipc|arrows)$/i.test(file) ? `${file} row ${line}` : `${file}:${line}`;
}

function expectedKind(type: DeclaredType): readonly Column['kind'][] {
  switch (type) {
    case 'integer':
    case 'number':
      return ['number'];
    case 'boolean':
      return ['boolean'];
    case 'date':
      return ['date'];
    case 'category':
    case 'string':
      return ['category', 'string'];
  }
}

function typeExpectation(type: DeclaredType): string {
  switch (type) {
    case 'integer':
      return 'whole numbers';
    case 'number':
      return 'numbers';
    case 'boolean':
      return 'true/false';
    case 'date':
      return 'ISO 8601 dates';
    case 'category':
      return 'labels';
    case 'string':
      return 'text';
  }
}

function rangePhrase(min: number | string | undefined, max: number | string | undefined): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  if (min !== undefined) return `at least ${min}`;
  return `at most ${max}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** " (12 values like it)" after the first offender's message, when there are others. */
function more(count: number, word: string, like = 'like it'): string {
  return count > 1 ? ` (${count} ${word}s ${like} in all)` : '';
}

function missingRows(column: Column): number[] {
  const rows: number[] = [];
  if (column.kind === 'number' || column.kind === 'boolean' || column.kind === 'date') {
    const values = column.values;
    for (let r = 0; r < values.length; r++) if (values[r] !== values[r]) rows.push(r);
  } else {
    const codes = column.values.codes;
    for (let r = 0; r < codes.length; r++) if (codes[r] < 0) rows.push(r);
  }
  return rows;
}

function outOfRange(column: Column, min: number | string | undefined, max: number | string | undefined): number[] {
  const rows: number[] = [];
  if (column.kind !== 'number' && column.kind !== 'date') return rows;
  // A date column's bounds are ISO text in ml.yaml, compared as instants; numbers as they are.
  const bound = (b: number | string | undefined, none: number): number => (b === undefined ? none : typeof b === 'number' ? b : parseInstant(b));
  const lo = bound(min, -Infinity);
  const hi = bound(max, Infinity);
  const values = column.values;
  // NaN (missing) fails both comparisons, so it is not counted here; not_null reports it.
  for (let r = 0; r < values.length; r++) if (values[r] < lo || values[r] > hi) rows.push(r);
  return rows;
}

/** Coded columns are checked once per distinct value, not once per row. */
function rowsWhereCode(codes: Int32Array, bad: readonly boolean[]): number[] {
  const rows: number[] = [];
  for (let r = 0; r < codes.length; r++) {
    const code = codes[r];
    if (code >= 0 && bad[code]) rows.push(r);
  }
  return rows;
}

function notAllowed(column: Column, allowed: readonly (string | number)[]): number[] {
  if (isCoded(column)) {
    const labels = new Set(allowed.map(String));
    return rowsWhereCode(column.values.codes, column.values.categories.map((c) => !labels.has(c)));
  }
  // Numbers compare as numbers, so that `values: [0, 1]` accepts 1.0 in the file.
  const numbers = new Set(allowed.map(Number));
  if (column.kind === 'boolean') {
    // A boolean column is 0/1; its labels may be written true/false as well.
    for (const a of allowed) if (typeof a === 'string') numbers.add(a.toLowerCase() === 'true' ? 1 : a.toLowerCase() === 'false' ? 0 : NaN);
  }
  const rows: number[] = [];
  const values = column.values;
  for (let r = 0; r < values.length; r++) {
    const v = values[r];
    if (v === v && !numbers.has(v)) rows.push(r);
  }
  return rows;
}

function notMatching(column: Column, regex: string): number[] {
  // "Matches in full", as the schema says: a pattern without anchors must not pass on a substring.
  const pattern = new RegExp(`^(?:${regex})$`, 'u');
  if (isCoded(column)) {
    return rowsWhereCode(column.values.codes, column.values.categories.map((c) => !pattern.test(c)));
  }
  const rows: number[] = [];
  for (let r = 0; r < column.values.length; r++) {
    const v = cellValue(column, r);
    if (v !== null && !pattern.test(String(v))) rows.push(r);
  }
  return rows;
}

/** Every row whose value occurs more than once (all of them, as Great Expectations counts), missing ones aside. */
function repeated(column: Column): number[] {
  const rows: number[] = [];
  if (isCoded(column)) {
    const codes = column.values.codes;
    const counts = new Int32Array(column.values.categories.length);
    for (const code of codes) if (code >= 0) counts[code]++;
    for (let r = 0; r < codes.length; r++) if (codes[r] >= 0 && counts[codes[r]] > 1) rows.push(r);
    return rows;
  }
  const counts = new Map<number, number>();
  const values = column.values;
  // + 0 makes −0 into 0: one value.
  for (const v of values) if (v === v) counts.set(v + 0, (counts.get(v + 0) ?? 0) + 1);
  for (let r = 0; r < values.length; r++) {
    const v = values[r];
    if (v === v && (counts.get(v + 0) ?? 0) > 1) rows.push(r);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Terminal form

/** How many file lines a table cell lists before "…". */
const SHOWN_LINES = 5;

/** The result as a plain-text table with aligned columns, then each failure's message. */
export function formatValidation(result: ValidationResult): string {
  const header = ['column', 'rule', 'expectation', 'unexpected', 'first lines', 'result'];
  // A column's name only on its first rule, so the eye can find where each column's rules start.
  const rows = result.results.map((r, i) => [
    i > 0 && r.column !== null && result.results[i - 1].column === r.column ? '' : (r.column ?? '(rows)'),
    r.rule,
    r.expectation,
    String(r.unexpectedCount),
    r.unexpectedLines.slice(0, SHOWN_LINES).join(', ') + (r.unexpectedCount > SHOWN_LINES && r.unexpectedLines.length > 0 ? ', …' : ''),
    r.success ? 'ok' : 'FAIL',
  ]);
  const { evaluated, failed } = result.statistics;
  const lines = [
    `${result.file}: ${plural(result.rows, 'row')}, ${plural(evaluated, 'check')}, ${failed} failed — ${result.success ? 'valid' : 'NOT valid'}`,
    '',
    ...alignTable(header, rows, [3]),
  ];
  const failures = result.results.filter((r) => !r.success);
  if (failures.length > 0) lines.push('', 'Failures:', ...failures.map((r) => `  ${r.message ?? `${r.column ?? ''} ${r.rule}`}`));
  return `${lines.join('\n')}\n`;
}

/**
 * Rows of cells padded to the widest cell of each column (`right`: the columns aligned right, numbers); long
 * cells are cut so that one long expectation cannot push the rest off the screen.
 */
export function alignTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = [], widest = 48): string[] {
  const clip = (s: string): string => (s.length > widest ? `${s.slice(0, widest - 1)}…` : s);
  const all = [header, ...rows].map((row) => row.map(clip));
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const render = (row: readonly string[]): string =>
    `  ${row.map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')}`.trimEnd();
  return [render(all[0]), render(widths.map((w) => '-'.repeat(w))), ...all.slice(1).map(render)];
}
