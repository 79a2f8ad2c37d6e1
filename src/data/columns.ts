// The typed column builders the CSV reader writes into, the missing-value markers every reader checks, and the
// messages for a value not of its column's type. Decisions: a field is stored straight from its bytes (no string
// per number), and a builder reports a Status rather than throwing, so that a lenient load can record the row.
import { BrambleError } from '../errors.js';
import { parseDecimal } from './decimal.js';
import { MISSING_TEXT, type DeclaredColumn, type DeclaredType, type LoadOptions, type TypeViolation } from './load-options.js';
import { DataTypeError, MissingValueError } from './load-errors.js';
import { DATE_FORMS, parseInstantBytes, type Column, type Table } from './table.js';

const SPACE = 32;
const TAB = 9;

export const enum Status {
  Ok,
  NotNumber,
  NotInteger,
  NotBoolean,
  Missing,
  /** Text in an inferred number column: it becomes a category column. */
  Text,
  /** An Arrow or Parquet 64-bit integer beyond ±2^53, which a double cannot hold exactly. */
  Inexact,
  NotDate,
}

export interface Parsed {
  readonly table: Table;
  readonly violations: readonly TypeViolation[];
}

/** Collects a lenient load's type violations per column; the first message is built only once per column. */
export class ViolationLog {
  private readonly byColumn = new Map<string, { expected: DeclaredType; rows: number[]; message: string }>();

  record(column: string, expected: DeclaredType, row: number, message: () => string): void {
    const entry = this.byColumn.get(column);
    if (entry) entry.rows.push(row);
    else this.byColumn.set(column, { expected, rows: [row], message: message() });
  }

  list(order: readonly string[]): TypeViolation[] {
    return order.flatMap((column) => {
      const entry = this.byColumn.get(column);
      return entry ? [{ column, ...entry }] : [];
    });
  }
}

export interface ColumnBuilder {
  /** Stores the field in bytes [start, end) (quotes already removed) at `row`. */
  push(bytes: Uint8Array, start: number, end: number, row: number): Status;
  /** Stores a missing value at `row`: what a lenient load keeps in place of a value of the wrong type. */
  skip(row: number): void;
  /** Moves the first `rows` values into room for `capacity`. */
  resize(capacity: number, rows: number): void;
  finish(rows: number): Column;
}


export function valueError(status: Status, column: string, shown: string, at: string, data: Record<string, unknown>): BrambleError {
  switch (status) {
    case Status.NotNumber:
      return new DataTypeError(`${at}: ${column} is ${shown}, not a number; fix the value, or declare the column as category`, data);
    case Status.NotInteger:
      return new DataTypeError(`${at}: ${column} is ${shown}, not an integer; fix the value, or declare the column as number`, data);
    case Status.NotBoolean:
      return new DataTypeError(`${at}: ${column} is ${shown}, not a boolean (true/false, yes/no, 1/0); fix the value, or declare the column as category`, data);
    case Status.Inexact:
      return new DataTypeError(`${at}: ${column} is ${shown}, beyond ±2^53, where numbers are no longer exact; declare the column as string`, data);
    case Status.NotDate:
      return new DataTypeError(`${at}: ${column} is ${shown}, not a date; ${DATE_FORMS}`, data);
    default:
      return new MissingValueError(`${at}: ${column} is missing (${shown}); fill in the value, or declare the column with nullable: true`, data);
  }
}

export function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The missing markers of each column: MISSING_TEXT, then `LoadOptions.missing`, then the column's own. Columns
 * without markers of their own share one matcher.
 */
export class ColumnMarkers {
  /** The markers beyond MISSING_TEXT, as text: what JSON, Arrow and Parquet text values are checked against. */
  private readonly extra: readonly string[];
  private readonly declared: ReadonlyMap<string, DeclaredColumn>;
  private shared: MissingText | undefined;
  private readonly byColumn = new Map<string, MissingText>();

  constructor(options: Pick<LoadOptions, 'missing' | 'columns'>) {
    this.extra = options.missing ?? [];
    this.declared = new Map(Object.entries(options.columns ?? {}));
  }

  bytesFor(column: string): MissingText {
    const own = this.declared.get(column)?.missing;
    if (own === undefined || own.length === 0) return (this.shared ??= new MissingText([...MISSING_TEXT, ...this.extra]));
    let matcher = this.byColumn.get(column);
    if (matcher === undefined) {
      matcher = new MissingText([...MISSING_TEXT, ...this.extra, ...own]);
      this.byColumn.set(column, matcher);
    }
    return matcher;
  }

  /** The configured markers (not MISSING_TEXT) that apply to a column, for typed formats' text values. */
  textFor(column: string): ReadonlySet<string> {
    return new Set([...this.extra, ...(this.declared.get(column)?.missing ?? [])]);
  }
}

/** Matches the missing-value markers on bytes, so that fields are not decoded just to be compared. */
export class MissingText {
  private readonly byLength: Uint8Array[][] = [];

  constructor(markers: readonly string[]) {
    const encoder = new TextEncoder();
    for (const m of markers) {
      const bytes = encoder.encode(m);
      (this.byLength[bytes.length] ??= []).push(bytes);
    }
  }

  has(bytes: Uint8Array, start: number, end: number): boolean {
    let i = start;
    while (i < end && (bytes[i] === SPACE || bytes[i] === TAB)) i++;
    if (i === end) return true;
    const candidates = this.byLength[end - start];
    if (candidates === undefined) return false;
    next: for (const m of candidates) {
      for (let k = 0; k < m.length; k++) if (m[k] !== bytes[start + k]) continue next;
      return true;
    }
    return false;
  }
}

export class NumberBuilder implements ColumnBuilder {
  values: Float64Array = new Float64Array(0);
  /** Whether any value so far was a number, not missing. */
  numbers = false;
  /** An inferred column met text after numbers; the input will be read again with it as a category. */
  abandoned = false;

  constructor(
    readonly name: string,
    private readonly integer: boolean,
    private readonly nullable: boolean,
    readonly inferred: boolean,
    private readonly missing: MissingText,
  ) {}

  push(bytes: Uint8Array, start: number, end: number, row: number): Status {
    const v = parseDecimal(bytes, start, end);
    if (v === v) {
      if (this.integer && !Number.isInteger(v)) return Status.NotInteger;
      this.values[row] = v;
      this.numbers = true;
      return Status.Ok;
    }
    if (this.missing.has(bytes, start, end)) {
      if (!this.nullable) return Status.Missing;
      this.values[row] = NaN;
      return Status.Ok;
    }
    return this.inferred ? Status.Text : Status.NotNumber;
  }

  skip(row: number): void {
    this.values[row] = NaN;
  }

  resize(capacity: number, rows: number): void {
    this.values = moved(this.values, new Float64Array(capacity), rows);
  }

  finish(rows: number): Column {
    return { name: this.name, kind: 'number', values: trim(this.values, rows) };
  }
}

/**
 * A column whose text is read by `parse` into a double (NaN: not a value of this kind): booleans (1/0) and dates
 * (ms since 1970 UTC, only in columns declared `type: date`). A missing marker is NaN when the column may be null.
 */
export class ParsedBuilder implements ColumnBuilder {
  private values: Float64Array = new Float64Array(0);

  constructor(
    private readonly name: string,
    private readonly kind: 'boolean' | 'date',
    private readonly nullable: boolean,
    private readonly missing: MissingText,
  ) {}

  private parse(bytes: Uint8Array, start: number, end: number): number {
    if (this.kind === 'date') return parseInstantBytes(bytes, start, end);
    return end - start <= 5 ? (booleanOf(asciiLower(bytes, start, end)) ?? NaN) : NaN;
  }

  push(bytes: Uint8Array, start: number, end: number, row: number): Status {
    const v = this.parse(bytes, start, end);
    if (v === v) {
      this.values[row] = v;
      return Status.Ok;
    }
    if (this.missing.has(bytes, start, end)) {
      if (!this.nullable) return Status.Missing;
      this.values[row] = NaN;
      return Status.Ok;
    }
    return this.kind === 'date' ? Status.NotDate : Status.NotBoolean;
  }

  skip(row: number): void {
    this.values[row] = NaN;
  }

  resize(capacity: number, rows: number): void {
    this.values = moved(this.values, new Float64Array(capacity), rows);
  }

  finish(rows: number): Column {
    return { name: this.name, kind: this.kind, values: trim(this.values, rows) };
  }
}

export function booleanOf(text: string): 0 | 1 | undefined {
  switch (text) {
    case 'true':
    case 'yes':
    case '1':
      return 1;
    case 'false':
    case 'no':
    case '0':
      return 0;
    default:
      return undefined;
  }
}

function asciiLower(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    s += String.fromCharCode(b >= 65 && b <= 90 ? b + 32 : b);
  }
  return s;
}

export class CodeBuilder implements ColumnBuilder {
  private codes: Int32Array = new Int32Array(0);
  private readonly interner: ByteInterner;

  constructor(
    private readonly name: string,
    private readonly kind: 'category' | 'string',
    private readonly nullable: boolean,
    private readonly missing: MissingText,
    decoder: TextDecoder,
  ) {
    this.interner = new ByteInterner(decoder);
  }

  push(bytes: Uint8Array, start: number, end: number, row: number): Status {
    if (this.missing.has(bytes, start, end)) {
      if (!this.nullable) return Status.Missing;
      this.codes[row] = -1;
      return Status.Ok;
    }
    this.codes[row] = this.interner.intern(bytes, start, end);
    return Status.Ok;
  }

  skip(row: number): void {
    this.codes[row] = -1;
  }

  resize(capacity: number, rows: number): void {
    this.codes = moved(this.codes, new Int32Array(capacity), rows);
  }

  finish(rows: number): Column {
    return { name: this.name, kind: this.kind, values: { codes: trim(this.codes, rows), categories: this.interner.values } };
  }
}

/**
 * Distinct byte strings → codes, with an open-addressing table over the raw bytes: a value is decoded to a
 * string once, when it is first seen, not once per row.
 */
class ByteInterner {
  readonly values: string[] = [];
  private pool = new Uint8Array(1024);
  private used = 0;
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  private readonly hashes: number[] = [];
  private slots = new Int32Array(64);

  constructor(private readonly decoder: TextDecoder) {}

  intern(bytes: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
    const mask = this.slots.length - 1;
    const length = end - start;
    let slot = h & mask;
    for (;;) {
      const entry = this.slots[slot];
      if (entry === 0) break;
      const code = entry - 1;
      if (this.hashes[code] === h && this.lengths[code] === length && this.same(code, bytes, start, length)) return code;
      slot = (slot + 1) & mask;
    }
    const code = this.values.length;
    if (this.used + length > this.pool.length) {
      const pool = new Uint8Array(Math.max(this.pool.length * 2, this.used + length));
      pool.set(this.pool.subarray(0, this.used));
      this.pool = pool;
    }
    this.pool.set(bytes.subarray(start, end), this.used);
    this.offsets.push(this.used);
    this.lengths.push(length);
    this.hashes.push(h);
    this.used += length;
    this.values.push(this.decoder.decode(bytes.subarray(start, end)));
    this.slots[slot] = code + 1;
    if (this.values.length * 2 > this.slots.length) this.rehash();
    return code;
  }

  private same(code: number, bytes: Uint8Array, start: number, length: number): boolean {
    const pool = this.pool;
    const at = this.offsets[code];
    for (let k = 0; k < length; k++) if (pool[at + k] !== bytes[start + k]) return false;
    return true;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let code = 0; code < this.values.length; code++) {
      let slot = this.hashes[code] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = code + 1;
    }
    this.slots = slots;
  }
}

/** `to` with the first `rows` of `from`: only they, so that the pages of the room past them stay untouched. */
function moved<T extends Float64Array | Int32Array>(from: T, to: T, rows: number): T {
  to.set(from.subarray(0, rows));
  return to;
}

/**
 * The first `rows` values, never copied: the spare capacity past them was never written, so its pages never
 * took memory, and a copy would only hold the column twice at the peak.
 */
export function trim<T extends Float64Array | Int32Array>(values: T, rows: number): T {
  return values.length === rows ? values : (values.subarray(0, rows) as T);
}
