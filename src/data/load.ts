import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { BrambleError } from '../errors.js';
import { arrowCells, readArrow, type ArrowColumn } from './arrow.js';
import { CsvError } from './csv.js';
import { openParquet, type ParquetColumn } from './parquet.js';
import { DATE_FORMS, missingColumnError, parseInstant, parseInstantBytes, type Column, type Table } from './table.js';

/**
 * Field texts read as missing: pandas' read_csv defaults (so that a profile agrees with pandas on the same file),
 * plus "None" (pandas 2) and — checked separately — any field of only spaces and tabs, because the Telco data
 * writes 11 missing TotalCharges as a lone space.
 */
export const MISSING_TEXT: readonly string[] = [
  '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL',
  'NaN', 'None', 'n/a', 'nan', 'null',
];

export type DeclaredType = 'integer' | 'number' | 'category' | 'string' | 'boolean' | 'date';

export interface DeclaredColumn {
  readonly type: DeclaredType;
  /** Whether a declared column may have missing values; declared columns may not unless this is true. */
  readonly nullable?: boolean;
  /** More texts read as missing in this column only (ml.yaml's `schema.columns.X.missing`), besides `LoadOptions.missing`. */
  readonly missing?: readonly string[];
}

/**
 * `arrow` is Arrow IPC, file or stream: .arrow, .feather (version 2), .ipc and .arrows; `parquet` is Apache
 * Parquet (.parquet), read by readTable or loadTableAsync (hyparquet decodes asynchronously).
 */
export type DataFormat = 'csv' | 'json' | 'arrow' | 'parquet';

export interface LoadOptions {
  /** The file as a person should see it in messages (a path relative to the repository). */
  readonly file: string;
  /** Taken from the file name when not given. */
  readonly format?: DataFormat;
  /** The declared schema. Undeclared columns are inferred: numbers if every present value is one, else categories. */
  readonly columns?: Readonly<Record<string, DeclaredColumn>>;
  /**
   * More texts read as missing in every column (ml.yaml's `data.missing`, such as `['.', 'n/a']`), besides
   * MISSING_TEXT. In a number column such a value is missing, not a type error. In JSON, Arrow and Parquet, where
   * text is typed, they apply to text values (MISSING_TEXT applies there only to numbers written as text).
   */
  readonly missing?: readonly string[];
  /**
   * Report bad values instead of throwing, for validation, which counts every failure rather than stopping at the
   * first: a value not of its declared type is read as missing and listed in `LoadedTable.violations`, every
   * declared column is read as nullable (the caller counts the missing values), and a declared column absent
   * from the file is left out rather than an error (the caller reports it).
   */
  readonly lenient?: boolean;
}

/** The values of one declared column that are not of its type, found by a lenient load. */
export interface TypeViolation {
  readonly column: string;
  readonly expected: DeclaredType;
  /** Every offending row (0-based, ascending); `Table.lines` gives their file lines (for Arrow, rows from 1). */
  readonly rows: readonly number[];
  /** The message a strict load throws for the first of them, with its file and line. */
  readonly message: string;
}

export interface ReadOptions extends Omit<LoadOptions, 'file'> {
  /** The file as shown in messages; the path itself when not given. */
  readonly file?: string;
  /** What to check when the file does not exist, such as `check data.train in ml.yaml`. */
  readonly hint?: string;
}

/** What identifies a data set in the lineage: the sha256 of its bytes plus its shape. */
export interface DataIdentity {
  readonly sha256: string;
  readonly rows: number;
  readonly columns: number;
  readonly bytes: number;
}

export interface LoadedTable {
  readonly table: Table;
  readonly identity: DataIdentity;
  /** Only with `lenient`: the declared columns that had values not of their type, in column order. */
  readonly violations?: readonly TypeViolation[];
}

export class DataFileError extends BrambleError {
  constructor(message: string, file: string) {
    super('E_DATA_FILE', message, { file });
  }
}

export class DataFormatError extends BrambleError {
  constructor(message: string, file: string) {
    super('E_DATA_FORMAT', message, { file });
  }
}

/** A value that is not of its column's type (text in a number column, 1.5 in an integer column). */
export class DataTypeError extends BrambleError {
  constructor(message: string, data: Record<string, unknown>) {
    super('E_DATA_TYPE', message, data);
  }
}

/** A missing value in a column the schema does not declare nullable. */
export class MissingValueError extends BrambleError {
  constructor(message: string, data: Record<string, unknown>) {
    super('E_DATA_MISSING', message, data);
  }
}

/** A JSON data file that does not parse or is not an array of records. */
export class JsonDataError extends BrambleError {
  constructor(message: string, data: Record<string, unknown>) {
    super('E_DATA_JSON', message, data);
  }
}

/** Loads a CSV, JSON or Arrow data set already in memory; Parquet needs loadTableAsync. */
export function loadTable(bytes: Uint8Array, options: LoadOptions): LoadedTable {
  const format = options.format ?? formatOf(options.file);
  if (format === 'parquet') throw new Error(`loadTable cannot read ${options.file}: Parquet is decoded asynchronously; call loadTableAsync or readTable`);
  if (format === 'csv' || format === 'json') refuseBinary(bytes, format, options.file);
  const parse = format === 'json' ? loadJson : format === 'arrow' ? loadArrow : loadCsvBytes;
  return loaded(bytes, parse(bytes, options), options);
}

/** Loads a data set already in memory, of any format, Parquet included. */
export async function loadTableAsync(bytes: Uint8Array, options: LoadOptions): Promise<LoadedTable> {
  const format = options.format ?? formatOf(options.file);
  if (format !== 'parquet') return loadTable(bytes, { ...options, format });
  return loaded(bytes, await loadParquet(bytes, options), options);
}

function loaded(bytes: Uint8Array, { table, violations }: Parsed, options: LoadOptions): LoadedTable {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const identity = { sha256, rows: table.rows, columns: table.columns.length, bytes: bytes.length };
  return options.lenient === true ? { table, identity, violations } : { table, identity };
}

/** Binary formats by their first bytes, and what to do about each: the end of "… (it looks like X); FIX". */
const BINARY_SIGNS: readonly { magic: readonly number[]; looks: string; fix: (stem: string) => string }[] = [
  { magic: [0x50, 0x41, 0x52, 0x31], looks: 'Parquet', fix: () => 'rename it to .parquet' },
  { magic: [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31], looks: 'an Arrow file', fix: () => 'rename it to .arrow' },
  { magic: [0x1f, 0x8b], looks: 'gzip-compressed', fix: (stem) => `decompress it first (gunzip ${stem}.gz)` },
  { magic: [0x50, 0x4b, 0x03, 0x04], looks: 'a zip archive, such as an Excel .xlsx workbook', fix: () => 'unzip it, or export the sheet as CSV' },
  { magic: [0xff, 0xfe], looks: 'UTF-16 text', fix: () => 'save it as UTF-8' },
  { magic: [0xfe, 0xff], looks: 'UTF-16 text', fix: () => 'save it as UTF-8' },
];

/**
 * A binary file given where text is expected is refused by its first bytes, before a parser reads it as one
 * enormous field or a ragged row ("row 3 has 2 fields") that hides what is really wrong.
 */
function refuseBinary(head: Uint8Array, format: 'csv' | 'json', file: string): void {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const stem = name.replace(/\.[^.]*$/, '');
  const what = format === 'csv' ? 'a CSV file' : 'a JSON file';
  for (const sign of BINARY_SIGNS) {
    if (sign.magic.every((b, i) => head[i] === b)) {
      throw new DataFormatError(`${file} is not ${what} (it looks like ${sign.looks}); ${sign.fix(stem)}`, file);
    }
  }
  // Text never holds a NUL byte; binary formats nearly always do within their first KiB.
  const nul = head.subarray(0, 1024).indexOf(0);
  if (nul >= 0) {
    throw new DataFormatError(`${file} is not ${what} (it looks like binary data: byte ${nul + 1} is NUL); give the data as ${format === 'csv' ? 'CSV text' : 'JSON text'}, Arrow or Parquet`, file);
  }
}

/**
 * Reads a data file. CSV is parsed as it streams in, so the file's bytes are never all in memory beside the
 * columns (that is half the peak memory on a million-row file).
 */
export async function readTable(path: string, options: ReadOptions = {}): Promise<LoadedTable> {
  const file = options.file ?? path;
  const loadOptions: LoadOptions = { file, format: options.format ?? formatOf(file), columns: options.columns, missing: options.missing, lenient: options.lenient };
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw fileError(err, file, options.hint) ?? err;
  });
  try {
    const size = (await handle.stat()).size;
    if (loadOptions.format !== 'csv') {
      const bytes = await handle.readFile().catch((err: unknown) => {
        throw fileError(err, file, options.hint) ?? err;
      });
      return await loadTableAsync(bytes, loadOptions);
    }
    const head = new Uint8Array(Math.min(size, 1024));
    await handle.read(head, 0, head.length, 0).catch((err: unknown) => {
      throw fileError(err, file, options.hint) ?? err;
    });
    refuseBinary(head, 'csv', file);
    const hash = createHash('sha256');
    let counted = 0;
    const hashChunk = (chunk: Uint8Array): void => {
      hash.update(chunk);
      counted += chunk.length;
    };
    let asCategory = new Set<string>();
    let first = true;
    for (;;) {
      // Only the first pass hashes: a second one happens only when an inferred column turned out to hold text.
      const done = await streamCsv(handle, size, loadOptions, asCategory, first ? hashChunk : () => {}).catch((err: unknown) => {
        throw fileError(err, file, options.hint) ?? err;
      });
      if (done.retry.size === 0) {
        const table = done.table;
        const identity = { sha256: hash.digest('hex'), rows: table.rows, columns: table.columns.length, bytes: counted };
        return loadOptions.lenient === true ? { table, identity, violations: done.violations } : { table, identity };
      }
      asCategory = done.retry;
      first = false;
    }
  } finally {
    await handle.close();
  }
}

function fileError(err: unknown, file: string, hint: string | undefined): DataFileError | undefined {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  if (code === 'ENOENT') return new DataFileError(`the data file ${file} does not exist; ${hint ?? 'check the path'}`, file);
  if (code === 'EISDIR') return new DataFileError(`the data file ${file} is a folder; give a CSV, JSON, Arrow or Parquet file`, file);
  if (code === 'EACCES') return new DataFileError(`the data file ${file} cannot be read (permission denied); check its permissions`, file);
  return undefined;
}

function formatOf(file: string): DataFormat {
  const dot = file.lastIndexOf('.');
  const ext = dot > file.lastIndexOf('/') ? file.slice(dot + 1).toLowerCase() : '';
  if (ext === 'csv' || ext === 'txt') return 'csv';
  if (ext === 'json') return 'json';
  if (ext === 'arrow' || ext === 'feather' || ext === 'ipc' || ext === 'arrows') return 'arrow';
  if (ext === 'parquet') return 'parquet';
  throw new DataFormatError(`${file} has no .csv, .json, .arrow or .parquet extension; rename it, or give the format (csv, json, arrow or parquet)`, file);
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

/** Bytes handed to the parser at a time when the whole file is in memory: keeps field offsets in Int32Arrays. */
const WINDOW = 1 << 26;
/** Bytes read from disk at a time. */
const CHUNK = 1 << 20;

function loadCsvBytes(bytes: Uint8Array, options: LoadOptions): Parsed {
  let asCategory = new Set<string>();
  for (;;) {
    const parser = new CsvParser(options, asCategory, bytes.length);
    let pos = 0;
    let window = WINDOW;
    for (;;) {
      const end = Math.min(bytes.length, pos + window);
      const final = end === bytes.length;
      const used = parser.push(bytes.subarray(pos, end), final);
      if (final) break;
      // A record longer than the window: widen it until the record fits.
      if (used === 0) window *= 2;
      else pos += used;
    }
    const done = parser.finish();
    if (done.retry.size === 0) return done;
    asCategory = done.retry;
  }
}

async function streamCsv(
  handle: FileHandle,
  size: number,
  options: LoadOptions,
  asCategory: Set<string>,
  onChunk: (chunk: Uint8Array) => void,
): Promise<Parsed & { retry: Set<string> }> {
  const parser = new CsvParser(options, asCategory, size);
  let buffer = new Uint8Array(CHUNK);
  let filled = 0;
  let position = 0;
  for (;;) {
    if (filled === buffer.length) {
      // One record is longer than the buffer.
      const wider = new Uint8Array(buffer.length * 2);
      wider.set(buffer);
      buffer = wider;
    }
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, position);
    onChunk(buffer.subarray(filled, filled + bytesRead));
    filled += bytesRead;
    position += bytesRead;
    const final = bytesRead === 0;
    const used = parser.push(buffer.subarray(0, filled), final);
    if (final) break;
    buffer.copyWithin(0, used, filled);
    filled -= used;
  }
  return parser.finish();
}

const enum Status {
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

interface Parsed {
  readonly table: Table;
  readonly violations: readonly TypeViolation[];
}

/** Collects a lenient load's type violations per column; the first message is built only once per column. */
class ViolationLog {
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

interface ColumnBuilder {
  /** Stores the field in bytes [start, end) (quotes already removed) at `row`. */
  push(bytes: Uint8Array, start: number, end: number, row: number): Status;
  /** Stores a missing value at `row`: what a lenient load keeps in place of a value of the wrong type. */
  skip(row: number): void;
  /** Moves the first `rows` values into room for `capacity`. */
  resize(capacity: number, rows: number): void;
  finish(rows: number): Column;
}

/**
 * A byte-level RFC 4180 reader that writes each field straight into its column's typed array: no strings for
 * numbers, no per-row arrays. Input comes in pieces; `push` returns how many bytes it used (whole records only).
 */
class CsvParser {
  private readonly file: string;
  private readonly declared: ReadonlyMap<string, DeclaredColumn>;
  private readonly asCategory: ReadonlySet<string>;
  private readonly expectedBytes: number;
  private readonly markers: ColumnMarkers;
  private readonly decoder = new TextDecoder();
  private readonly violations: ViolationLog | null;

  private started = false;
  /**
   * Whether a lone CR ends a line: only in a file whose lines all end in CR (classic Mac). Elsewhere a CR not
   * followed by LF is text in a field: a line edited with sed in a CRLF file ends `…value\r,x,y\n`, and taking that
   * CR as a line end reported the wrong line and a row of 3 fields instead of the row with 2 extra.
   */
  private crLines = false;
  private line = 1;
  private header: string[] | null = null;
  private builders: ColumnBuilder[] = [];
  private inferred: (NumberBuilder | null)[] = [];
  private rows = 0;
  private capacity = 0;
  private lines = new Int32Array(0);
  /** Where in the input the `bytes` of the current `push` start, and where the first data row starts. */
  private offset = 0;
  private dataStart = 0;
  /** The row count at which `makeRoom` looks at the room again: when it is full, or sooner while few rows are in. */
  private review = 0;

  // The current record's fields: start, end, and 0 plain / 1 quoted (start and end inside the quotes) /
  // 2 needs unescaping (doubled quotes or text after the closing quote; start and end span the raw field).
  private fieldCount = 0;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private kinds = new Uint8Array(64);
  private scratch = new Uint8Array(256);

  constructor(options: LoadOptions, asCategory: ReadonlySet<string>, expectedBytes: number) {
    this.file = options.file;
    this.declared = new Map(Object.entries(options.columns ?? {}));
    this.asCategory = asCategory;
    this.expectedBytes = expectedBytes;
    this.markers = new ColumnMarkers(options);
    this.violations = options.lenient === true ? new ViolationLog() : null;
  }

  push(bytes: Uint8Array, final: boolean): number {
    let pos = 0;
    const end = bytes.length;
    if (!this.started) {
      if (end < 3 && !final) return 0;
      this.started = true;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
      this.crLines = bytes.indexOf(CR) >= 0 && bytes.indexOf(LF) < 0;
    }
    while (pos < end) {
      const recordLine = this.line;
      const next = this.scanRecord(bytes, pos, end, final, recordLine);
      if (next < 0) {
        this.line = recordLine;
        break;
      }
      const blank = this.fieldCount === 1 && this.kinds[0] === 0 && this.starts[0] === this.ends[0];
      if (!blank) {
        if (this.header === null) {
          this.readHeader(bytes, recordLine);
          this.dataStart = this.offset + next;
        } else {
          this.storeRow(bytes, pos, recordLine);
        }
      }
      pos = next;
    }
    this.offset += pos;
    return pos;
  }

  finish(): Parsed & { retry: Set<string> } {
    if (this.header === null) throw new CsvError(`${this.file} is empty; it needs a header row`, { file: this.file });
    if (this.rows === 0) throw new CsvError(`${this.file} has no data rows, only a header; add rows`, { file: this.file });
    const retry = new Set<string>();
    this.inferred.forEach((b, c) => {
      if (b?.abandoned) retry.add(this.header?.[c] ?? '');
    });
    const rows = this.rows;
    const columns = this.builders.map((b) => b.finish(rows));
    const violations = this.violations?.list(this.header) ?? [];
    return { table: { rows, columns, lines: trim(this.lines, rows) }, retry, violations };
  }

  /** Finds the fields of one record from `pos`; returns where the next record starts, or −1 when it is cut off. */
  private scanRecord(bytes: Uint8Array, pos: number, end: number, final: boolean, recordLine: number): number {
    let p = pos;
    let f = 0;
    let lines = 0;
    for (;;) {
      let start = p;
      let stop: number;
      let kind = 0;
      if (p < end && bytes[p] === QUOTE) {
        let from = p + 1;
        let close: number;
        for (;;) {
          close = bytes.indexOf(QUOTE, from);
          if (close < 0 || close >= end) {
            if (!final) return -1;
            throw new CsvError(`${this.file}:${recordLine}: a quoted field is never closed; add the closing "`, { file: this.file, line: recordLine });
          }
          for (let i = from; i < close; i++) if (bytes[i] === LF) lines++;
          if (close + 1 >= end && !final) return -1;
          if (bytes[close + 1] === QUOTE) {
            kind = 2;
            from = close + 2;
            continue;
          }
          break;
        }
        p = close + 1;
        if (p < end && bytes[p] !== COMMA && bytes[p] !== LF && !this.lineEndsAt(bytes, p, end)) {
          // Text after the closing quote ("ab"c): kept as in pandas and parseCsv, as literal text.
          kind = 2;
          while (p < end && bytes[p] !== COMMA && bytes[p] !== LF && !this.lineEndsAt(bytes, p, end)) p++;
        }
        if (kind === 0) {
          kind = 1;
          start += 1;
          stop = close;
        } else {
          stop = p;
        }
      } else {
        while (p < end) {
          const b = bytes[p];
          if (b === COMMA || b === LF || (b === CR && this.lineEndsAt(bytes, p, end))) break;
          p++;
        }
        stop = p;
      }
      if (f === this.starts.length) this.widenFields();
      this.starts[f] = start;
      this.ends[f] = stop;
      this.kinds[f] = kind;
      f++;
      if (p >= end) {
        if (!final) return -1;
        this.fieldCount = f;
        this.line += lines;
        return end;
      }
      const b = bytes[p];
      if (b === COMMA) {
        p++;
        continue;
      }
      if (b === CR) {
        if (p + 1 >= end && !final) return -1;
        p += p + 1 < end && bytes[p + 1] === LF ? 2 : 1;
      } else {
        p++;
      }
      this.fieldCount = f;
      this.line += lines + 1;
      return p;
    }
  }

  /**
   * Whether the CR at `p` ends the line: before an LF, or anywhere in a CR-only file. A CR that is the last
   * byte of a piece counts as a line end here; scanRecord then waits for the next piece before using it.
   */
  private lineEndsAt(bytes: Uint8Array, p: number, end: number): boolean {
    if (bytes[p] !== CR) return false;
    return this.crLines || p + 1 >= end || bytes[p + 1] === LF;
  }

  private widenFields(): void {
    const n = this.starts.length * 2;
    const starts = new Int32Array(n);
    const ends = new Int32Array(n);
    const kinds = new Uint8Array(n);
    starts.set(this.starts);
    ends.set(this.ends);
    kinds.set(this.kinds);
    this.starts = starts;
    this.ends = ends;
    this.kinds = kinds;
  }

  private readHeader(bytes: Uint8Array, line: number): void {
    const header: string[] = [];
    for (let c = 0; c < this.fieldCount; c++) {
      const text = this.fieldText(bytes, c);
      // pandas' name for an unnamed column (a written index), so the two agree on names.
      header.push(text === '' ? `Unnamed: ${c}` : text);
    }
    const seen = new Map<string, number>();
    header.forEach((name, c) => {
      const first = seen.get(name);
      if (first !== undefined) {
        throw new CsvError(`${this.file}:${line}: the header names the column ${JSON.stringify(name)} twice (fields ${first + 1} and ${c + 1}); rename one`, {
          file: this.file,
          line,
          column: name,
        });
      }
      seen.set(name, c);
    });
    for (const name of this.declared.keys()) {
      if (!seen.has(name) && this.violations === null) throw missingColumnError(name, header, this.file, ' declared in the schema');
    }
    this.header = header;
    this.builders = header.map((name) => {
      const declared = this.declared.get(name);
      const missing = this.markers.bytesFor(name);
      if (declared === undefined) {
        return this.asCategory.has(name) ? new CodeBuilder(name, 'category', true, missing, this.decoder) : new NumberBuilder(name, false, true, true, missing);
      }
      const nullable = declared.nullable === true || this.violations !== null;
      switch (declared.type) {
        case 'integer':
          return new NumberBuilder(name, true, nullable, false, missing);
        case 'number':
          return new NumberBuilder(name, false, nullable, false, missing);
        case 'boolean':
          return new ParsedBuilder(name, 'boolean', nullable, missing);
        case 'date':
          return new ParsedBuilder(name, 'date', nullable, missing);
        case 'category':
        case 'string':
          return new CodeBuilder(name, declared.type, nullable, missing, this.decoder);
      }
    });
    this.inferred = this.builders.map((b) => (b instanceof NumberBuilder && b.inferred ? b : null));
  }

  /**
   * Makes room for the rows still to come (the row at `bytes[pos]` is next), guessed from the bytes per row so
   * far — of the first megabyte, before the first row — with a quarter to spare. Room never written costs no
   * memory (its pages are never touched), while too little means copying every column, holding both copies at
   * the peak; so the guess errs high, though never past what the rest could hold (a row of n fields takes at
   * least n bytes) unless the input outgrows its expected size, when the room grows by a quarter each time.
   * A first megabyte of short rows can also overestimate many times over; the room is looked at again at 64k
   * rows and at every fourfold, and cut back while only a few rows need copying, so that the table does not
   * keep gigabytes of address space.
   */
  private makeRoom(bytes: Uint8Array, pos: number): void {
    const at = this.offset + pos;
    let perRow: number;
    if (this.rows === 0) {
      this.settleInferred(bytes);
      const to = Math.min(bytes.length, pos + (1 << 20));
      let newlines = 0;
      for (let i = bytes.indexOf(LF, pos); i >= 0 && i < to; i = bytes.indexOf(LF, i + 1)) newlines++;
      perRow = (to - pos) / Math.max(newlines, 1);
    } else {
      perRow = (at - this.dataStart) / this.rows;
    }
    const rest = Math.max(0, this.expectedBytes - at);
    const most = Math.ceil((rest + 1) / Math.max((this.header as string[]).length, 2));
    const wanted = this.rows + Math.min(Math.ceil((rest / perRow) * 1.25), most) + 1024;
    if (this.rows === this.capacity) this.resize(Math.max(wanted, Math.ceil(this.capacity * 1.25) + 1024));
    else if (this.capacity > 2 * wanted) this.resize(wanted);
    this.review = Math.min(this.capacity, Math.max(4 * this.rows, 1 << 16));
  }

  private resize(capacity: number): void {
    const lines = new Int32Array(capacity);
    lines.set(this.lines.subarray(0, this.rows));
    this.lines = lines;
    for (const b of this.builders) b.resize(capacity, this.rows);
    this.capacity = capacity;
  }

  private storeRow(bytes: Uint8Array, pos: number, line: number): void {
    const header = this.header as string[];
    const width = header.length;
    if (this.fieldCount !== width) {
      const extra = this.fieldCount > width;
      const count = `${Math.abs(this.fieldCount - width)} ${extra ? 'extra' : 'missing'}`;
      const fix = extra ? 'quote fields that contain commas' : 'add the missing fields (an empty field is a missing value)';
      throw new CsvError(`${this.file}:${line}: the row has ${this.fieldCount} fields but the header has ${width} (${count}); ${fix}`, {
        file: this.file,
        line,
        fields: this.fieldCount,
        expected: width,
      });
    }
    const row = this.rows;
    if (row === this.review) this.makeRoom(bytes, pos);
    this.lines[row] = line;
    const builders = this.builders;
    const kinds = this.kinds;
    for (let c = 0; c < width; c++) {
      let status: Status;
      if (kinds[c] === 2) {
        const n = this.unescape(bytes, this.starts[c], this.ends[c]);
        status = builders[c].push(this.scratch, 0, n, row);
      } else {
        status = builders[c].push(bytes, this.starts[c], this.ends[c], row);
      }
      if (status === Status.Text) this.inferText(c, bytes, row);
      else if (status !== Status.Ok) this.reject(status, c, bytes, row, line);
    }
    this.rows = row + 1;
  }

  /**
   * Inferred columns whose first value is text are categories from the start, so that no number array is
   * allocated for them only to be dropped (three such arrays are 24 MB on a million rows).
   */
  private settleInferred(bytes: Uint8Array): void {
    this.inferred.forEach((builder, c) => {
      if (builder === null) return;
      const kind = this.kinds[c];
      const field = kind === 2 ? this.scratch : bytes;
      const start = kind === 2 ? 0 : this.starts[c];
      const end = kind === 2 ? this.unescape(bytes, this.starts[c], this.ends[c]) : this.ends[c];
      const missing = this.markers.bytesFor(builder.name);
      if (!Number.isNaN(parseDecimal(field, start, end)) || missing.has(field, start, end)) return;
      this.builders[c] = new CodeBuilder(builder.name, 'category', true, missing, this.decoder);
      this.inferred[c] = null;
    });
  }

  /**
   * An inferred column met text. Before any number (the usual case: the first row already has text) it simply
   * becomes a category column here; after numbers, their texts are gone, so it stops and the input is read again.
   */
  private inferText(c: number, bytes: Uint8Array, row: number): void {
    const builder = this.builders[c] as NumberBuilder;
    if (builder.abandoned) return;
    if (builder.numbers) {
      builder.abandoned = true;
      return;
    }
    const category = new CodeBuilder(builder.name, 'category', true, this.markers.bytesFor(builder.name), this.decoder);
    category.resize(this.capacity, 0);
    for (let r = 0; r < row; r++) category.push(bytes, 0, 0, r);
    if (this.kinds[c] === 2) category.push(this.scratch, 0, this.unescape(bytes, this.starts[c], this.ends[c]), row);
    else category.push(bytes, this.starts[c], this.ends[c], row);
    this.builders[c] = category;
    this.inferred[c] = null;
  }

  /** A value not of its column's type: an error, or in a lenient load a missing value and a recorded violation. */
  private reject(status: Status, c: number, bytes: Uint8Array, row: number, line: number): void {
    const name = (this.header as string[])[c];
    if (this.violations === null) throw this.valueError(status, name, this.fieldText(bytes, c), line);
    this.builders[c].skip(row);
    const expected = this.declared.get(name)?.type ?? 'number';
    this.violations.record(name, expected, row, () => this.valueError(status, name, this.fieldText(bytes, c), line).message);
  }

  private valueError(status: Status, column: string, text: string, line: number): BrambleError {
    return valueError(status, column, JSON.stringify(clip(text)), `${this.file}:${line}`, { file: this.file, line, column, value: text });
  }

  /** Copies a raw quoted field into `scratch` without its quotes, doubled quotes made single; returns its length. */
  private unescape(bytes: Uint8Array, start: number, end: number): number {
    if (this.scratch.length < end - start) this.scratch = new Uint8Array(Math.max(end - start, this.scratch.length * 2));
    const out = this.scratch;
    let n = 0;
    let i = start + 1;
    while (i < end) {
      const b = bytes[i];
      if (b === QUOTE) {
        if (bytes[i + 1] === QUOTE && i + 1 < end) {
          out[n++] = QUOTE;
          i += 2;
          continue;
        }
        i++;
        break;
      }
      out[n++] = b;
      i++;
    }
    while (i < end) out[n++] = bytes[i++];
    return n;
  }

  private fieldText(bytes: Uint8Array, c: number): string {
    if (this.kinds[c] === 2) return this.decoder.decode(this.scratch.subarray(0, this.unescape(bytes, this.starts[c], this.ends[c])));
    return this.decoder.decode(bytes.subarray(this.starts[c], this.ends[c]));
  }
}

function valueError(status: Status, column: string, shown: string, at: string, data: Record<string, unknown>): BrambleError {
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

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The missing markers of each column: MISSING_TEXT, then `LoadOptions.missing`, then the column's own. Columns
 * without markers of their own share one matcher.
 */
class ColumnMarkers {
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
class MissingText {
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

class NumberBuilder implements ColumnBuilder {
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
class ParsedBuilder implements ColumnBuilder {
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

function booleanOf(text: string): 0 | 1 | undefined {
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

class CodeBuilder implements ColumnBuilder {
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
function trim<T extends Float64Array | Int32Array>(values: T, rows: number): T {
  return values.length === rows ? values : (values.subarray(0, rows) as T);
}

/** Exact powers of ten: every one up to 1e22 is a double without rounding. */
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
/** Below this, mantissa * 10 + 9 stays under 2^53, so the mantissa is exact. */
const MANTISSA_LIMIT = 900719925474099;

/**
 * A decimal number in bytes [start, end) (spaces and tabs around it allowed), or NaN when the text is not one
 * (hex, "Infinity", "1e999" and the like are not, so every value is finite). The result is exactly Number()'s:
 * with at most ~15 significant digits and a power of ten up to 22, the mantissa and the power are both exact
 * doubles and one multiplication or division rounds correctly (Clinger's fast path); anything else goes to
 * Number() itself.
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  let s = start;
  let e = end;
  while (s < e && (bytes[s] === SPACE || bytes[s] === TAB)) s++;
  while (e > s && (bytes[e - 1] === SPACE || bytes[e - 1] === TAB)) e--;
  let i = s;
  let negative = false;
  if (i < e && (bytes[i] === 45 || bytes[i] === 43)) {
    negative = bytes[i] === 45;
    i++;
  }
  let mantissa = 0;
  let scale = 0;
  let exact = true;
  let digits = 0;
  for (; i < e; i++) {
    const d = bytes[i] - 48;
    if (d < 0 || d > 9) break;
    digits++;
    if (mantissa < MANTISSA_LIMIT) mantissa = mantissa * 10 + d;
    else exact = false;
  }
  if (i < e && bytes[i] === 46) {
    for (i++; i < e; i++) {
      const d = bytes[i] - 48;
      if (d < 0 || d > 9) break;
      digits++;
      if (mantissa < MANTISSA_LIMIT) {
        mantissa = mantissa * 10 + d;
        scale++;
      } else {
        exact = false;
      }
    }
  }
  if (digits === 0) return NaN;
  let exponent = 0;
  if (i < e && (bytes[i] === 101 || bytes[i] === 69)) {
    i++;
    let expNegative = false;
    if (i < e && (bytes[i] === 45 || bytes[i] === 43)) {
      expNegative = bytes[i] === 45;
      i++;
    }
    const from = i;
    for (; i < e; i++) {
      const d = bytes[i] - 48;
      if (d < 0 || d > 9) break;
      if (exponent < 100_000) exponent = exponent * 10 + d;
    }
    if (i === from) return NaN;
    if (expNegative) exponent = -exponent;
  }
  if (i !== e) return NaN;
  if (exact) {
    if (mantissa === 0) return negative ? -0 : 0;
    const power = exponent - scale;
    let v: number;
    if (power === 0) v = mantissa;
    else if (power > 0 && power <= 22) v = mantissa * POW10[power];
    else if (power < 0 && power >= -22) v = mantissa / POW10[-power];
    else v = Number.NaN;
    if (v === v) return negative ? -v : v;
  }
  let text = '';
  for (let k = s; k < e; k++) text += String.fromCharCode(bytes[k]);
  const v = Number(text);
  return Number.isFinite(v) ? v : NaN;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON records

/** How deep a JSON data file may nest: records are flat, and V8's JSON.parse overflows the stack on deep input. */
export const JSON_DEPTH_LIMIT = 64;

/** An array of records: `[{"tenure": 1, "Contract": "Month-to-month"}, …]`; null or an absent key is missing. */
function loadJson(bytes: Uint8Array, options: LoadOptions): Parsed {
  const file = options.file;
  checkJsonDepth(bytes, file);
  const text = new TextDecoder().decode(bytes);
  let records: unknown;
  try {
    records = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // V8 says "… in JSON at position 16" for most mistakes; the position becomes a line.
    const at = /^(.*?) in JSON at position (\d+)/.exec(message);
    const line = at ? lineAt(text, Number(at[2])) : undefined;
    const reason = at ? at[1] : message.replace(/\s+/g, ' ');
    throw new JsonDataError(`${line === undefined ? file : `${file}:${line}`}: the JSON does not parse (${reason}); fix the syntax`, { file, line: line ?? null });
  }
  if (!Array.isArray(records)) {
    throw new JsonDataError(`${file} holds ${describeJson(records)}, not an array of records; give [{"column": value, …}, …]`, { file });
  }
  const list: unknown[] = records;
  if (list.length === 0) throw new JsonDataError(`${file} has no data rows; add records`, { file });
  const lines = recordLines(bytes, list.length);
  const names: string[] = [];
  const seen = new Set<string>();
  list.forEach((record, r) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new JsonDataError(`${file}:${lines[r]}: record ${r + 1} is ${describeJson(record)}, not an object of column values`, { file, line: lines[r], record: r });
    }
    for (const key of Object.keys(record)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  });
  const declared = new Map(Object.entries(options.columns ?? {}));
  for (const name of declared.keys()) {
    if (!seen.has(name) && options.lenient !== true) throw missingColumnError(name, names, file, ' declared in the schema');
  }
  const markers = new ColumnMarkers(options);
  const log = options.lenient === true ? new ViolationLog() : null;
  const place = (r: number): CellPlace => ({ at: `${file}:${lines[r]}`, data: { file, line: lines[r] } });
  const columns = names.map((name): Column => {
    const cells = list.map((record) => (record as Record<string, unknown>)[name]);
    const spec = declared.get(name);
    const nullable = spec === undefined || spec.nullable === true || log !== null;
    const builder = new CellBuilder({ name, type: spec?.type ?? inferJsonType(cells), nullable, instants: false }, list.length, place, log, markers);
    builder.add(cells, 0);
    return builder.finish();
  });
  return { table: { rows: list.length, columns, lines: Int32Array.from(lines) }, violations: log?.list(names) ?? [] };
}

/**
 * Refuses JSON nested past JSON_DEPTH_LIMIT at the line where it goes too deep, before JSON.parse, which on
 * very deep input overflows the stack (a RangeError that used to exit as a bug in Bramble). Strings are skipped.
 */
function checkJsonDepth(bytes: Uint8Array, file: string): void {
  let depth = 0;
  let line = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === LF) {
      line++;
    } else if (b === QUOTE) {
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) {
        if (bytes[i] === 92) i++;
        else if (bytes[i] === LF) line++;
      }
    } else if (b === 91 || b === 123) {
      if (++depth > JSON_DEPTH_LIMIT) {
        throw new JsonDataError(`${file}:${line}: nested too deep (limit ${JSON_DEPTH_LIMIT}); flatten the records`, { file, line, limit: JSON_DEPTH_LIMIT });
      }
    } else if (b === 93 || b === 125) {
      depth--;
    }
  }
}

/** Where a cell is, for messages: `data/t.json:3` (the record's line) or `data/t.arrow row 3`. */
interface CellPlace {
  readonly at: string;
  readonly data: Readonly<Record<string, unknown>>;
}

interface CellColumn {
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
class CellBuilder {
  private readonly numbers: Float64Array | null;
  private readonly codes: Int32Array | null;
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

  finish(): Column {
    const { name, type } = this.spec;
    if (this.numbers !== null) {
      const values = this.numbers;
      return type === 'boolean' ? { name, kind: 'boolean', values } : type === 'date' ? { name, kind: 'date', values } : { name, kind: 'number', values };
    }
    return { name, kind: type === 'string' ? 'string' : 'category', values: { codes: this.codes as Int32Array, categories: this.categories } };
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

/** An undeclared JSON column's type: numbers, booleans, else categories — never dates (declare `type: date`). */
function inferJsonType(cells: readonly unknown[]): DeclaredType {
  let numbers = 0;
  let booleans = 0;
  let present = 0;
  for (const cell of cells) {
    if (cell === null || cell === undefined) continue;
    present++;
    if (typeof cell === 'number') numbers++;
    else if (typeof cell === 'boolean') booleans++;
  }
  if (numbers === present) return 'number';
  if (booleans === present) return 'boolean';
  return 'category';
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

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === LF) line++;
  return line;
}

/** The line each top-level element starts on, found by a scan that skips strings. */
function recordLines(bytes: Uint8Array, count: number): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let expectValue = false;
  for (let i = 0; i < bytes.length && lines.length < count; i++) {
    const b = bytes[i];
    if (b === LF) {
      line++;
      continue;
    }
    if (b === SPACE || b === TAB || b === CR) continue;
    if (depth === 1 && expectValue) {
      lines.push(line);
      expectValue = false;
    }
    if (b === QUOTE) {
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) if (bytes[i] === 92) i++;
    } else if (b === 91 || b === 123) {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (b === 93 || b === 125) {
      depth--;
    } else if (b === COMMA && depth === 1) {
      expectValue = true;
    }
  }
  while (lines.length < count) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// Apache Arrow

/**
 * Arrow IPC bytes, decoded by arquero; the schema's types apply as to JSON records. Arrow has no lines, so
 * messages say `row N` (data rows from 1) where CSV says the line, and `Table.lines` holds those row numbers.
 */
function loadArrow(bytes: Uint8Array, options: LoadOptions): Parsed {
  const file = options.file;
  const read = readArrow(bytes, file);
  if ('problem' in read) throw new DataFormatError(`${file} ${read.problem}`, file);
  const names = read.columns.map((c) => c.name);
  const declared = new Map(Object.entries(options.columns ?? {}));
  for (const name of declared.keys()) {
    if (!names.includes(name) && options.lenient !== true) throw missingColumnError(name, names, file, ' declared in the schema');
  }
  const markers = new ColumnMarkers(options);
  const log = options.lenient === true ? new ViolationLog() : null;
  const place = rowPlace(file);
  const columns = read.columns.map((column): Column => {
    if (column.kind === 'nested') throw nestedError(file, column.name, `an Arrow ${column.type}`);
    const spec = declared.get(column.name);
    const type = spec?.type ?? arrowType(column);
    const nullable = spec === undefined || spec.nullable === true || log !== null;
    const instants = column.kind === 'date' || column.kind === 'timestamp';
    const cells = arrowCells(column, type === 'number' || type === 'integer' || type === 'date');
    const builder = new CellBuilder({ name: column.name, type, nullable, instants }, read.rows, place, log, markers);
    builder.add(cells, 0);
    return builder.finish();
  });
  return { table: { rows: read.rows, columns, lines: rowNumbers(read.rows) }, violations: log?.list(names) ?? [] };
}

/**
 * An undeclared Arrow column's type, from its Arrow type: numbers, booleans, dates for Date and Timestamp (the
 * file says they are instants, so nothing is guessed), and the rest as categories.
 */
function arrowType(column: ArrowColumn): DeclaredType {
  if (column.kind === 'number' || column.kind === 'null') return 'number';
  if (column.kind === 'date' || column.kind === 'timestamp') return 'date';
  return column.kind === 'boolean' ? 'boolean' : 'category';
}

/** Arrow and Parquet have no lines: a cell is `data/t.arrow row 3`, data rows counted from 1. */
function rowPlace(file: string): (r: number) => CellPlace {
  return (r) => ({ at: `${file} row ${r + 1}`, data: { file, row: r + 1 } });
}

function rowNumbers(rows: number): Int32Array {
  const lines = new Int32Array(rows);
  for (let r = 0; r < rows; r++) lines[r] = r + 1;
  return lines;
}

function nestedError(file: string, column: string, type: string): DataTypeError {
  return new DataTypeError(`${file}: ${column} is ${type} column, not one value per row; flatten it into columns`, { file, column, type });
}

// ---------------------------------------------------------------------------------------------------------------
// Apache Parquet

/**
 * Parquet bytes, decoded by hyparquet one row group at a time, column by column, into the typed columns: a
 * row group's values are the only ones held as plain values at any time. The schema's types apply as to Arrow;
 * DATE and TIMESTAMP columns are dates (in UTC), strings categories, and an int64 beyond 2^53 is refused where
 * it is, as in Arrow.
 */
async function loadParquet(bytes: Uint8Array, options: LoadOptions): Promise<Parsed> {
  const file = options.file;
  const read = await openParquet(bytes, file);
  if ('problem' in read) throw new DataFormatError(`${file} ${read.problem}`, file);
  const names = read.columns.map((c) => c.name);
  const declared = new Map(Object.entries(options.columns ?? {}));
  for (const name of declared.keys()) {
    if (!names.includes(name) && options.lenient !== true) throw missingColumnError(name, names, file, ' declared in the schema');
  }
  const markers = new ColumnMarkers(options);
  const log = options.lenient === true ? new ViolationLog() : null;
  const place = rowPlace(file);
  const plans = read.columns.map((column) => {
    if (column.kind === 'nested') throw nestedError(file, column.name, `a Parquet ${column.type}`);
    const spec = declared.get(column.name);
    const type = spec?.type ?? parquetType(column);
    const nullable = spec === undefined || spec.nullable === true || log !== null;
    const instants = column.kind === 'date' || column.kind === 'timestamp';
    // An instant declared as text is shown as Arrow's are: 2024-01-05 for a DATE, ISO in UTC for a timestamp.
    const asText = instants && (type === 'category' || type === 'string') ? (column.kind === 'date' ? 10 : 24) : 0;
    return { column, asText, builder: new CellBuilder({ name: column.name, type, nullable, instants }, read.rows, place, log, markers) };
  });
  for (const group of read.groups) {
    for (const { column, asText, builder } of plans) {
      const cells = await read.readColumn(column.name, group);
      builder.add(asText > 0 ? instantTexts(cells, asText) : cells, group.rowStart);
    }
  }
  const columns = plans.map((p) => p.builder.finish());
  return { table: { rows: read.rows, columns, lines: rowNumbers(read.rows) }, violations: log?.list(names) ?? [] };
}

function parquetType(column: ParquetColumn): DeclaredType {
  if (column.kind === 'number' || column.kind === 'null') return 'number';
  if (column.kind === 'date' || column.kind === 'timestamp') return 'date';
  return column.kind === 'boolean' ? 'boolean' : 'category';
}

function instantTexts(cells: ArrayLike<unknown>, length: number): unknown[] {
  return Array.from(cells, (v) => (typeof v === 'number' ? new Date(v).toISOString().slice(0, length) : v));
}
