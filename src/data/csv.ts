import { errorClass } from '../errors.js';

/**
 * The one CSV reader. Decisions: training (readTable, through csv-table.ts) and serving (parseCsv, for request
 * bodies) find records and fields with the same CsvRecords, so a file cannot read one way when a model learns
 * from it and another when it is sent to the model: the same quoting, escaping, line ends, BOM and header rules.
 */

export class CsvError extends errorClass('E_CSV') {}

export interface CsvTable {
  header: string[];
  rows: string[][];
  /** The file line each row starts on (1-based; the header is line 1). */
  lines: number[];
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** Field kinds in `CsvRecords.kinds`. */
export const FIELD = {
  plain: 0,
  /** Quoted: start and end are inside the quotes. */
  quoted: 1,
  /** Needs unescaping (doubled quotes, or text after the closing quote): start and end span the raw field. */
  escaped: 2,
} as const;

/**
 * A byte-level RFC 4180 record finder: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM skipped, blank
 * lines skipped. It makes no strings: each record's fields are offsets into the input (`starts`, `ends`,
 * `kinds`), which the caller reads before the next record. Input comes in pieces; `push` uses whole records only.
 */
export class CsvRecords {
  fieldCount = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  kinds = new Uint8Array(64);
  /** Where the `bytes` of the current `push` start in the whole input. */
  offset = 0;
  private scratchBytes = new Uint8Array(256);
  private readonly decoder = new TextDecoder();
  private started = false;
  /**
   * Whether a lone CR ends a line: only in a file whose lines all end in CR (classic Mac). Elsewhere a CR not
   * followed by LF is text in a field: a line edited with sed in a CRLF file ends `…value\r,x,y\n`, and taking that
   * CR as a line end reported the wrong line and a row of 3 fields instead of the row with 2 extra.
   */
  private crLines = false;
  private line = 1;

  constructor(readonly file: string) {}

  /** The buffer `unescape` writes into; valid until the next call. */
  get scratch(): Uint8Array {
    return this.scratchBytes;
  }

  /**
   * Finds the whole records in `bytes` (the input from where the last call stopped) and calls `onRecord` for each
   * that is not blank, with where it starts, its line and where the next starts. Returns how many bytes it used.
   */
  push(bytes: Uint8Array, final: boolean, onRecord: (pos: number, line: number, next: number) => void): number {
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
      const blank = this.fieldCount === 1 && this.kinds[0] === FIELD.plain && this.starts[0] === this.ends[0];
      if (!blank) onRecord(pos, recordLine, next);
      pos = next;
    }
    this.offset += pos;
    return pos;
  }

  /** Copies a raw escaped field into `scratch` without its quotes, doubled quotes made single; returns its length. */
  unescape(bytes: Uint8Array, c: number): number {
    const start = this.starts[c];
    const end = this.ends[c];
    if (this.scratchBytes.length < end - start) this.scratchBytes = new Uint8Array(Math.max(end - start, this.scratchBytes.length * 2));
    const out = this.scratchBytes;
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

  /** Field `c` of the current record as text. */
  fieldText(bytes: Uint8Array, c: number): string {
    if (this.kinds[c] === FIELD.escaped) return this.decoder.decode(this.scratchBytes.subarray(0, this.unescape(bytes, c)));
    return this.decoder.decode(bytes.subarray(this.starts[c], this.ends[c]));
  }

  /** Finds the fields of one record from `pos`; returns where the next record starts, or −1 when it is cut off. */
  private scanRecord(bytes: Uint8Array, pos: number, end: number, final: boolean, recordLine: number): number {
    let p = pos;
    let f = 0;
    let lines = 0;
    for (;;) {
      let start = p;
      let stop: number;
      let kind: number = FIELD.plain;
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
            kind = FIELD.escaped;
            from = close + 2;
            continue;
          }
          break;
        }
        p = close + 1;
        if (p < end && bytes[p] !== COMMA && bytes[p] !== LF && !this.lineEndsAt(bytes, p, end)) {
          // Text after the closing quote ("ab"c): kept as in pandas, as literal text.
          kind = FIELD.escaped;
          while (p < end && bytes[p] !== COMMA && bytes[p] !== LF && !this.lineEndsAt(bytes, p, end)) p++;
        }
        if (kind === FIELD.plain) {
          kind = FIELD.quoted;
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
}

/** The current record as a header: an empty name is pandas' `Unnamed: N` (so the two agree); a repeat is refused. */
export function headerNames(records: CsvRecords, bytes: Uint8Array, line: number): string[] {
  const header: string[] = [];
  for (let c = 0; c < records.fieldCount; c++) {
    const text = records.fieldText(bytes, c);
    header.push(text === '' ? `Unnamed: ${c}` : text);
  }
  const seen = new Map<string, number>();
  header.forEach((name, c) => {
    const first = seen.get(name);
    if (first !== undefined) {
      throw new CsvError(`${records.file}:${line}: the header names the column ${JSON.stringify(name)} twice (fields ${first + 1} and ${c + 1}); rename one`, {
        file: records.file,
        line,
        column: name,
      });
    }
    seen.set(name, c);
  });
  return header;
}

/** A row whose field count differs from the header's. */
export function raggedRowError(file: string, line: number, fields: number, width: number): CsvError {
  const extra = fields > width;
  const count = `${Math.abs(fields - width)} ${extra ? 'extra' : 'missing'}`;
  const fix = extra ? 'quote fields that contain commas' : 'add the missing fields (an empty field is a missing value)';
  return new CsvError(`${file}:${line}: the row has ${fields} fields but the header has ${width} (${count}); ${fix}`, {
    file,
    line,
    fields,
    expected: width,
  });
}

export function emptyCsvError(file: string): CsvError {
  return new CsvError(`${file} is empty; it needs a header row`, { file });
}

/**
 * A CSV text as strings, header first: for request bodies and small files. The records are found by CsvRecords,
 * as readTable finds them, so every field reads here as it does in training. Ragged rows are an error.
 */
export function parseCsv(text: string, file = 'the CSV'): CsvTable {
  const bytes = new TextEncoder().encode(text);
  const records = new CsvRecords(file);
  const table: CsvTable = { header: [], rows: [], lines: [] };
  let headerRead = false;
  records.push(bytes, true, (_pos, line) => {
    if (!headerRead) {
      table.header = headerNames(records, bytes, line);
      headerRead = true;
      return;
    }
    const width = table.header.length;
    if (records.fieldCount !== width) throw raggedRowError(file, line, records.fieldCount, width);
    const row: string[] = new Array<string>(width);
    for (let c = 0; c < width; c++) row[c] = records.fieldText(bytes, c);
    table.rows.push(row);
    table.lines.push(line);
  });
  if (!headerRead) throw emptyCsvError(file);
  return table;
}
