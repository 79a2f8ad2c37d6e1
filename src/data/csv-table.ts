// CSV into typed columns, for readTable and loadTable. The records and fields come from CsvRecords (csv.ts), the
// reader parseCsv uses for request bodies too; this file only decides what each field becomes.
import type { FileHandle } from 'node:fs/promises';
import { CodeBuilder, NumberBuilder, ParsedBuilder, Status, trim, valueError, clip, ColumnMarkers, ViolationLog, type ColumnBuilder, type Parsed } from './columns.js';
import { CsvError, CsvRecords, emptyCsvError, FIELD, headerNames, raggedRowError } from './csv.js';
import { parseDecimal } from './decimal.js';
import type { DeclaredColumn, LoadOptions } from './load-options.js';
import { missingColumnError } from './table.js';
import type { BrambleError } from '../errors.js';

const LF = 10;

/** Bytes handed to the parser at a time when the whole file is in memory: keeps field offsets in Int32Arrays. */
const WINDOW = 1 << 26;
/** Bytes read from disk at a time. */
const CHUNK = 1 << 20;

export function loadCsvBytes(bytes: Uint8Array, options: LoadOptions): Parsed {
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

export async function streamCsv(
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

/**
 * Writes each field of the records CsvRecords finds straight into its column's typed array: no strings for
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
  private readonly records: CsvRecords;
  private header: string[] | null = null;
  private builders: ColumnBuilder[] = [];
  private inferred: (NumberBuilder | null)[] = [];
  private rows = 0;
  private capacity = 0;
  private lines = new Int32Array(0);
  /** Where in the input the first data row starts. */
  private dataStart = 0;
  /** The row count at which `makeRoom` looks at the room again: when it is full, or sooner while few rows are in. */
  private review = 0;

  constructor(options: LoadOptions, asCategory: ReadonlySet<string>, expectedBytes: number) {
    this.file = options.file;
    this.declared = new Map(Object.entries(options.columns ?? {}));
    this.asCategory = asCategory;
    this.expectedBytes = expectedBytes;
    this.markers = new ColumnMarkers(options);
    this.violations = options.lenient === true ? new ViolationLog() : null;
    this.records = new CsvRecords(options.file);
  }

  push(bytes: Uint8Array, final: boolean): number {
    return this.records.push(bytes, final, (pos, line, next) => {
      if (this.header === null) {
        this.readHeader(bytes, line);
        this.dataStart = this.records.offset + next;
      } else {
        this.storeRow(bytes, pos, line);
      }
    });
  }

  finish(): Parsed & { retry: Set<string> } {
    if (this.header === null) throw emptyCsvError(this.file);
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

  private readHeader(bytes: Uint8Array, line: number): void {
    const header = headerNames(this.records, bytes, line);
    for (const name of this.declared.keys()) {
      if (!header.includes(name) && this.violations === null) throw missingColumnError(name, header, this.file, ' declared in the schema');
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
    const at = this.records.offset + pos;
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
    if (this.records.fieldCount !== width) throw raggedRowError(this.file, line, this.records.fieldCount, width);
    const row = this.rows;
    if (row === this.review) this.makeRoom(bytes, pos);
    this.lines[row] = line;
    const builders = this.builders;
    const records = this.records;
    const { kinds, starts, ends } = records;
    for (let c = 0; c < width; c++) {
      let status: Status;
      if (kinds[c] === FIELD.escaped) {
        const n = records.unescape(bytes, c);
        status = builders[c].push(records.scratch, 0, n, row);
      } else {
        status = builders[c].push(bytes, starts[c], ends[c], row);
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
      const records = this.records;
      const escaped = records.kinds[c] === FIELD.escaped;
      const end = escaped ? records.unescape(bytes, c) : records.ends[c];
      const field = escaped ? records.scratch : bytes;
      const start = escaped ? 0 : records.starts[c];
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
    const records = this.records;
    if (records.kinds[c] === FIELD.escaped) {
      const n = records.unescape(bytes, c);
      category.push(records.scratch, 0, n, row);
    } else {
      category.push(bytes, records.starts[c], records.ends[c], row);
    }
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

  private fieldText(bytes: Uint8Array, c: number): string {
    return this.records.fieldText(bytes, c);
  }
}
