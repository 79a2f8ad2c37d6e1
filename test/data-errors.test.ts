import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/data/csv.js';
import { JSON_DEPTH_LIMIT } from '../src/data/json-table.js';
import { loadTable, readTable } from '../src/data/load.js';
import { bramble } from './helpers/cli.js';

// Every mistake a person can make in a data file is a located BrambleError (the CLI exits 2), never a crash
// (exit 3, "a bug in Bramble"). Each message is asserted whole, from the loader and through the built CLI.

const HEADER = Array.from({ length: 14 }, (_, c) => `c${c}`).join(',');
const row = (line: number): string => Array.from({ length: 14 }, (_, c) => String(line * 100 + c)).join(',');

/** A 14-column CSV of 60 data rows (lines 2–61), with line 50 changed by `edit`, and the given line ends. */
function train(edit: (line: string) => string, eol = '\n'): string {
  const lines = [HEADER];
  for (let line = 2; line <= 61; line++) lines.push(line === 50 ? edit(row(line)) : row(line));
  return lines.join(eol) + eol;
}

/** The CRLF file that `sed '50s/$/,x,y/'` leaves: line 50 keeps its CR inside, before the appended fields. */
function sedOnCrlf(): string {
  const lines = [HEADER];
  for (let line = 2; line <= 61; line++) lines.push(row(line));
  return lines.map((l, i) => (i === 49 ? `${l}\r,x,y\n` : `${l}\r\n`)).join('');
}

const bytes = (text: string | Uint8Array): Uint8Array => (typeof text === 'string' ? new TextEncoder().encode(text) : text);

/** `depth` nested arrays inside the first record, on line 2. */
const deepJson = (depth: number): string => `[\n{"a": ${'['.repeat(depth)}${']'.repeat(depth)}}\n]`;

const PARQUET_HEAD = Uint8Array.from([0x50, 0x41, 0x52, 0x31, 0x15, 0x04, 0x15, 0x00]);

const CASES: [string, string, string | Uint8Array, string, string][] = [
  [
    'a row with 2 extra fields',
    'data/train.csv',
    train((line) => `${line},x,y`),
    'E_CSV',
    'data/train.csv:50: the row has 16 fields but the header has 14 (2 extra); quote fields that contain commas',
  ],
  [
    // `sed '50s/$/,x,y/'` on a CRLF file leaves a CR inside the line: it is text, not a line end.
    'a row with 2 extra fields appended after a CR (a CRLF file edited with sed)',
    'data/train.csv',
    sedOnCrlf(),
    'E_CSV',
    'data/train.csv:50: the row has 16 fields but the header has 14 (2 extra); quote fields that contain commas',
  ],
  [
    'a row with 2 missing fields',
    'data/train.csv',
    train((line) => line.split(',').slice(0, 12).join(',')),
    'E_CSV',
    'data/train.csv:50: the row has 12 fields but the header has 14 (2 missing); add the missing fields (an empty field is a missing value)',
  ],
  ['a header and no rows', 'data/train.csv', `${HEADER}\n`, 'E_CSV', 'data/train.csv has no data rows, only a header; add rows'],
  ['a header and blank lines', 'data/train.csv', `${HEADER}\r\n\r\n\r\n`, 'E_CSV', 'data/train.csv has no data rows, only a header; add rows'],
  ['an empty JSON array', 'data/t.json', '[]\n', 'E_DATA_JSON', 'data/t.json has no data rows; add records'],
  ['JSON nested 100,000 deep', 'data/t.json', deepJson(100_000), 'E_DATA_JSON', 'data/t.json:2: nested too deep (limit 64); flatten the records'],
  ['a Parquet file named .csv', 'data/x.csv', PARQUET_HEAD, 'E_DATA_FORMAT', 'data/x.csv is not a CSV file (it looks like Parquet); rename it to .parquet'],
  ['a Parquet file named .json', 'data/x.json', PARQUET_HEAD, 'E_DATA_FORMAT', 'data/x.json is not a JSON file (it looks like Parquet); rename it to .parquet'],
  ['an Arrow file named .csv', 'data/x.csv', bytes('ARROW1\0\0'), 'E_DATA_FORMAT', 'data/x.csv is not a CSV file (it looks like an Arrow file); rename it to .arrow'],
  ['a gzip file named .csv', 'data/x.csv', Uint8Array.from([0x1f, 0x8b, 8, 0]), 'E_DATA_FORMAT', 'data/x.csv is not a CSV file (it looks like gzip-compressed); decompress it first (gunzip x.gz)'],
  [
    'an Excel workbook named .csv',
    'data/x.csv',
    Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0]),
    'E_DATA_FORMAT',
    'data/x.csv is not a CSV file (it looks like a zip archive, such as an Excel .xlsx workbook); unzip it, or export the sheet as CSV',
  ],
  ['UTF-16 text', 'data/x.csv', Uint8Array.from([0xff, 0xfe, 0x61, 0, 0x2c, 0]), 'E_DATA_FORMAT', 'data/x.csv is not a CSV file (it looks like UTF-16 text); save it as UTF-8'],
  [
    'binary data',
    'data/x.csv',
    bytes('a,b\n1,\u00002\n'),
    'E_DATA_FORMAT',
    'data/x.csv is not a CSV file (it looks like binary data: byte 7 is NUL); give the data as CSV text, Arrow or Parquet',
  ],
];

describe('mistakes in data files', () => {
  it.each(CASES)('%s: a located message from the loader', (_, file, content, code, message) => {
    expect(() => loadTable(bytes(content), { file })).toThrow(expect.objectContaining({ code, message }));
  });

  it.each(CASES)('%s: the same message read from disk', async (_, file, content, code, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-data-errors-'));
    const path = join(dir, file.slice(file.lastIndexOf('/') + 1));
    writeFileSync(path, bytes(content));
    await expect(readTable(path, { file })).rejects.toMatchObject({ code, message });
  });

  it.each(CASES.slice(0, 3))('%s: the same message from parseCsv (request bodies, tests)', (_, file, content, code, message) => {
    expect(() => parseCsv(content as string, file)).toThrow(expect.objectContaining({ code, message }));
  });

  it('keeps the JSON depth limit at 64, and parses records nested up to it', () => {
    expect(JSON_DEPTH_LIMIT).toBe(64);
    // The records array and the record are two levels; 62 more pass the depth check and parse (then a nested
    // value is refused as not one value, as any array in a record is).
    expect(() => loadTable(bytes(deepJson(62)), { file: 'data/t.json' })).toThrow('data/t.json:2: a is an array, not a single value; flatten it into columns');
    expect(() => loadTable(bytes(deepJson(63)), { file: 'data/t.json' })).toThrow('data/t.json:2: nested too deep (limit 64); flatten the records');
  });

  it('finds a CR that is text when it falls on the edge of a read', async () => {
    // The streaming reader reads a MiB at a time; the CR inside line 50's record is the last byte of the first read.
    const head = `${HEADER}\r\n`;
    const filler: string[] = [];
    let size = head.length;
    for (let line = 2; line < 49; line++) {
      filler.push(`${row(line)}\r\n`);
      size += filler[filler.length - 1].length;
    }
    // Line 49's last field ends in blanks (read as part of the number, which allows blanks around it) so that
    // line 50's CR lands on the last byte of the first MiB.
    const pad = (1 << 20) - size - row(49).length - 2 - row(50).length - 1;
    const line49 = `${row(49)}${' '.repeat(pad)}\r\n`;
    const text = `${head}${filler.join('')}${line49}${row(50)}\r,x,y\n${row(51)}\r\n`;
    expect(text.indexOf('\r,x,y')).toBe((1 << 20) - 1);
    const dir = mkdtempSync(join(tmpdir(), 'bramble-data-errors-'));
    writeFileSync(join(dir, 'train.csv'), text);
    await expect(readTable(join(dir, 'train.csv'), { file: 'data/train.csv' })).rejects.toMatchObject({
      code: 'E_CSV',
      message: 'data/train.csv:50: the row has 16 fields but the header has 14 (2 extra); quote fields that contain commas',
    });
  });

  it.each(CASES.filter(([, file]) => file.endsWith('.csv')).slice(0, 4))('%s: bramble validate exits 2 with the message, never 3', (_, file, content, _code, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-data-errors-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, file), bytes(content));
    writeFileSync(join(dir, 'ml.yaml'), `name: t\ntask: classification\ndata:\n  train: ${file}\n  target: c13\nmodel:\n  type: random-forest\n`);
    const r = bramble(['validate', dir]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 2, stderr: `bramble: ${message}\n` });
  });

  it('bramble validate exits 2 on JSON nested 100,000 deep, where JSON.parse would overflow the stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-data-errors-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 't.json'), deepJson(100_000));
    writeFileSync(join(dir, 'ml.yaml'), 'name: t\ntask: classification\ndata:\n  train: data/t.json\n  target: a\nmodel:\n  type: random-forest\n');
    const r = bramble(['validate', dir]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 2, stderr: 'bramble: data/t.json:2: nested too deep (limit 64); flatten the records\n' });
  });
});
