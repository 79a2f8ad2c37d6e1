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

/**
 * Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF, a header row). Ragged rows are an error. A lone
 * CR ends a line only in a file without LF (classic Mac); elsewhere it is text, as in load.ts's reader.
 */
export function parseCsv(text: string, file = 'the CSV'): CsvTable {
  const crLines = text.indexOf('\n') < 0;
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
    } else if (ch === 10 || (ch === 13 && (crLines || text.charCodeAt(i + 1) === 10 || i + 1 === n))) {
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
    const fields = records[r].length;
    if (fields !== header.length) {
      const extra = fields > header.length;
      const count = `${Math.abs(fields - header.length)} ${extra ? 'extra' : 'missing'}`;
      const fix = extra ? 'quote fields that contain commas' : 'add the missing fields (an empty field is a missing value)';
      throw new CsvError(`${file}:${lines[r]}: the row has ${fields} fields but the header has ${header.length} (${count}); ${fix}`, {
        line: lines[r],
        fields,
        expected: header.length,
      });
    }
  }
  return { header, rows: records.slice(1), lines: lines.slice(1) };
}
