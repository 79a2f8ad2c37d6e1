// Columns of plain values — JSON records, Arrow and Parquet — read into typed columns: what the three readers
// share, where the CSV reader has its byte-level builders (columns.ts).
import type { BrambleError } from '../errors.js';
import { booleanOf, clip, ColumnMarkers, Status, valueError, ViolationLog, type MissingText } from './columns.js';
import { parseDecimal } from './decimal.js';
import { DataTypeError } from './load-errors.js';
import type { DeclaredColumn, DeclaredType, LoadOptions } from './load-options.js';
import { missingColumnError, parseInstant, type Column } from './table.js';

/** What a typed-format reader needs before its columns: the declared columns (checked present), markers and log. */
export interface CellSetup {
  readonly declared: ReadonlyMap<string, DeclaredColumn>;
  readonly markers: ColumnMarkers;
  /** Only in a lenient load: where values not of their type are recorded instead of thrown. */
  readonly log: ViolationLog | null;
}

export function cellSetup(names: readonly string[], options: LoadOptions): CellSetup {
  const declared = new Map(Object.entries(options.columns ?? {}));
  for (const name of declared.keys()) {
    if (!names.includes(name) && options.lenient !== true) throw missingColumnError(name, names, options.file, ' declared in the schema');
  }
  return { declared, markers: new ColumnMarkers(options), log: options.lenient === true ? new ViolationLog() : null };
}

/** Undeclared columns may be missing anywhere, and so may every column of a lenient load (the caller counts). */
export function cellNullable(setup: CellSetup, name: string): boolean {
  const spec = setup.declared.get(name);
  return spec === undefined || spec.nullable === true || setup.log !== null;
}

/** Where a cell is, for messages: `data/t.json:3` (the record's line) or `data/t.arrow row 3`. */
export interface CellPlace {
  readonly at: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface CellColumn {
  readonly name: string;
  readonly type: DeclaredType;
  readonly nullable: boolean;
  /**
   * Whether numbers in the cells are instants (ms since 1970 UTC): Arrow and Parquet date and timestamp columns,
   * whose values come decoded as numbers. A number in a JSON `type: date` column is not a date: write ISO text.
   */
  readonly instants: boolean;
}

/**
 * A column of plain values, from JSON records, Arrow or Parquet, as a typed column of its declared or inferred
 * type. Values come in runs (`add`): all of a JSON or Arrow column at once, a Parquet column one row group at a
 * time, so that a large file is never held as one array of values per column.
 */
export class CellBuilder {
  private numbers: Float64Array | null;
  private codes: Int32Array | null;
  private readonly categories: string[] = [];
  private readonly index = new Map<string, number>();
  private readonly extra: ReadonlySet<string>;
  private readonly missing: MissingText;

  constructor(
    private readonly spec: CellColumn,
    rows: number,
    private readonly place: (row: number) => CellPlace,
    private readonly log: ViolationLog | null,
    markers: ColumnMarkers,
  ) {
    const coded = spec.type === 'category' || spec.type === 'string';
    this.numbers = coded ? null : new Float64Array(rows);
    this.codes = coded ? new Int32Array(rows) : null;
    this.extra = markers.textFor(spec.name);
    this.missing = markers.bytesFor(spec.name);
  }

  /** Makes room for `rows` values, keeping those stored: a column whose length is not known ahead (a log read as a stream). */
  grow(rows: number): void {
    if (this.numbers !== null && this.numbers.length < rows) {
      const more = new Float64Array(rows);
      more.set(this.numbers);
      this.numbers = more;
    }
    if (this.codes !== null && this.codes.length < rows) {
      const more = new Int32Array(rows);
      more.set(this.codes);
      this.codes = more;
    }
  }

  /** Stores `cells` at rows `offset`, `offset + 1`, …; null and undefined are missing. */
  add(cells: ArrayLike<unknown>, offset: number): void {
    const { type, nullable } = this.spec;
    const n = cells.length;
    if (this.numbers !== null) {
      const values = this.numbers;
      for (let k = 0; k < n; k++) {
        const r = offset + k;
        const cell = cells[k];
        if (cell === null || cell === undefined || (typeof cell === 'string' && this.extra.has(cell))) {
          if (!nullable) throw this.fail(Status.Missing, cell, r);
          values[r] = NaN;
          continue;
        }
        if (typeof cell === 'bigint' && type !== 'boolean' && type !== 'date' && (cell > MAX_EXACT || cell < -MAX_EXACT)) {
          this.reject(Status.Inexact, cell, r);
          values[r] = NaN;
          continue;
        }
        const v = type === 'boolean' ? cellBoolean(cell) : type === 'date' ? this.cellInstant(cell) : cellNumber(cell, this.missing);
        if (v === undefined || (type === 'integer' && v === v && !Number.isInteger(v))) {
          const status = v !== undefined ? Status.NotInteger : type === 'boolean' ? Status.NotBoolean : type === 'date' ? Status.NotDate : Status.NotNumber;
          this.reject(status, cell, r);
          values[r] = NaN;
          continue;
        }
        if (v !== v && !nullable) throw this.fail(Status.Missing, cell, r);
        values[r] = v;
      }
      return;
    }
    const codes = this.codes as Int32Array;
    for (let k = 0; k < n; k++) {
      const r = offset + k;
      const cell = cells[k];
      if (cell === null || cell === undefined || (typeof cell === 'string' && this.extra.has(cell))) {
        if (!nullable) throw this.fail(Status.Missing, cell, r);
        codes[r] = -1;
        continue;
      }
      if (typeof cell === 'object') {
        const { at, data } = this.place(r);
        const name = this.spec.name;
        this.rejectWith(() => new DataTypeError(`${at}: ${name} is ${describeJson(cell)}, not a single value; flatten it into columns`, { ...data, column: name }), r);
        codes[r] = -1;
        continue;
      }
      const value = String(cell);
      let code = this.index.get(value);
      if (code === undefined) {
        code = this.categories.length;
        this.categories.push(value);
        this.index.set(value, code);
      }
      codes[r] = code;
    }
  }

  /** The column, of its first `rows` values when given (after `grow`, the arrays are longer than what was stored). */
  finish(rows?: number): Column {
    const { name, type } = this.spec;
    if (this.numbers !== null) {
      const values = rows === undefined ? this.numbers : this.numbers.subarray(0, rows);
      return type === 'boolean' ? { name, kind: 'boolean', values } : type === 'date' ? { name, kind: 'date', values } : { name, kind: 'number', values };
    }
    const codes = this.codes as Int32Array;
    return { name, kind: type === 'string' ? 'string' : 'category', values: { codes: rows === undefined ? codes : codes.subarray(0, rows), categories: this.categories } };
  }

  private cellInstant(cell: unknown): number | undefined {
    if (typeof cell === 'number') return this.spec.instants ? cell : undefined;
    if (cell instanceof Date) return cell.getTime();
    if (typeof cell !== 'string') return undefined;
    const v = parseInstant(cell);
    if (v === v) return v;
    const bytes = instantEncoder.encode(cell);
    return this.missing.has(bytes, 0, bytes.length) ? NaN : undefined;
  }

  private fail(status: Status, value: unknown, r: number): BrambleError {
    const { at, data } = this.place(r);
    const name = this.spec.name;
    return valueError(status, name, clip(showCell(value)), at, { ...data, column: name, value: typeof value === 'bigint' ? String(value) : value });
  }

  /** Throws, or in a lenient load records the row, whose value the caller then stores as missing. */
  private reject(status: Status, value: unknown, r: number): void {
    this.rejectWith(() => this.fail(status, value, r), r);
  }

  private rejectWith(error: () => BrambleError, r: number): void {
    if (this.log === null) throw error();
    this.log.record(this.spec.name, this.spec.type, r, () => error().message);
  }
}

const instantEncoder = new TextEncoder();

/** 2^53: past it, not every integer is a double. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER) + 1n;

function showCell(value: unknown): string {
  return typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? 'undefined');
}

function cellNumber(cell: unknown, missing: MissingText): number | undefined {
  if (typeof cell === 'number') return cell;
  if (typeof cell === 'bigint') return Number(cell);
  if (typeof cell !== 'string') return undefined;
  // Numbers written as text ("12.5") are read the same way as in a CSV.
  const bytes = instantEncoder.encode(cell);
  const v = parseDecimal(bytes, 0, bytes.length);
  if (v === v) return v;
  return missing.has(bytes, 0, bytes.length) ? NaN : undefined;
}

function cellBoolean(cell: unknown): number | undefined {
  if (typeof cell === 'boolean') return cell ? 1 : 0;
  if (cell === 0 || cell === 1) return cell;
  if (cell === 0n || cell === 1n) return Number(cell);
  if (typeof cell === 'string') return booleanOf(cell.toLowerCase());
  return undefined;
}

export function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Arrow and Parquet have no lines: a cell is `data/t.arrow row 3`, data rows counted from 1. */
export function rowPlace(file: string): (r: number) => CellPlace {
  return (r) => ({ at: `${file} row ${r + 1}`, data: { file, row: r + 1 } });
}

export function rowNumbers(rows: number): Int32Array {
  const lines = new Int32Array(rows);
  for (let r = 0; r < rows; r++) lines[r] = r + 1;
  return lines;
}

export function nestedError(file: string, column: string, type: string): DataTypeError {
  return new DataTypeError(`${file}: ${column} is ${type} column, not one value per row; flatten it into columns`, { file, column, type });
}
