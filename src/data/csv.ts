import { BrambleError } from '../errors.js';

export class CsvError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_CSV', message, data);
  }
}

export interface CsvTable {
  header: string[];
  rows: string[][];
  /** The file line each row starts on (1-based; the header is line 1). */
  lines: number[];
}

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, a header row). Ragged rows are an error. */
export function parseCsv(text: string, file = 'the CSV'): CsvTable {
  const records: string[][] = [];
  const lines: number[] = [];
  let field = '';
  let record: string[] = [];
  let line = 1;
  let recordLine = 1;
  let i = 0;
  const n = text.length;
  let quoted = false;
  while (i < n) {
    const ch = text.charCodeAt(i);
    if (quoted) {
      if (ch === 34) {
        if (text.charCodeAt(i + 1) === 34) {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (ch === 10) line++;
      field += text[i++];
      continue;
    }
    if (ch === 34 && field === '') {
      quoted = true;
      i++;
    } else if (ch === 44) {
      record.push(field);
      field = '';
      i++;
    } else if (ch === 10 || ch === 13) {
      record.push(field);
      field = '';
      if (!(record.length === 1 && record[0] === '')) {
        records.push(record);
        lines.push(recordLine);
      }
      record = [];
      if (ch === 13 && text.charCodeAt(i + 1) === 10) i++;
      i++;
      line++;
      recordLine = line;
    } else {
      field += text[i++];
    }
  }
  if (quoted) throw new CsvError(`${file}:${recordLine}: a quoted field is never closed; add the closing "`, { line: recordLine });
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
    lines.push(recordLine);
  }
  if (records.length === 0) throw new CsvError(`${file} is empty; it needs a header row`, {});
  const header = records[0];
  for (let r = 1; r < records.length; r++) {
    if (records[r].length !== header.length) {
      throw new CsvError(
        `${file}:${lines[r]}: the row has ${records[r].length} fields but the header has ${header.length}; quote fields that contain commas`,
        { line: lines[r], fields: records[r].length, expected: header.length },
      );
    }
  }
  return { header, rows: records.slice(1), lines: lines.slice(1) };
}
