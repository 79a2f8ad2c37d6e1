import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompressionType,
  TimeUnit,
  bool,
  dateDay,
  dictionary,
  float64,
  int32,
  int64,
  list,
  setCompressionCodec,
  tableFromArrays,
  tableToIPC,
  timestamp,
  utf8,
  type Codec,
  type DataType,
} from '@uwdata/flechette';
import { describe, expect, it } from 'vitest';
import { loadTable, readTable } from '../src/data/load.js';
import type { LoadOptions } from '../src/data/load-options.js';
import { cellValue, getColumn, type Table } from '../src/data/table.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bramble-arrow-'));
}

type Arrays = Record<string, unknown[]>;

/** Arrow IPC bytes written by flechette, arquero's own Arrow library; `types` pins the Arrow type per column. */
function arrow(arrays: Arrays, types: Record<string, DataType> = {}, format: 'file' | 'stream' = 'file'): Uint8Array {
  const bytes = tableToIPC(tableFromArrays(arrays, { types }), { format });
  if (bytes === null) throw new Error('flechette wrote no bytes');
  return bytes;
}

const load = (bytes: Uint8Array, options: Omit<LoadOptions, 'file'> = {}, file = 'data/t.arrow') => loadTable(bytes, { file, ...options });
const csv = (text: string, options: Omit<LoadOptions, 'file'> = {}) => loadTable(new TextEncoder().encode(text), { file: 'data/t.csv', ...options });

/** Every column as plain values (null for missing). */
const cells = (table: Table): Record<string, unknown[]> =>
  Object.fromEntries(table.columns.map((c) => [c.name, Array.from({ length: table.rows }, (_, r) => cellValue(c, r))]));

/** The same data set as an Arrow table and as a CSV file, with a missing value in every column. */
const SAME: Arrays = {
  x: [1.5, null, -2.25, 1e-7],
  n: [1, 2, 3, 40],
  big: [10n, -20n, null, 2n ** 53n],
  s: ['a', null, 'c', 'a,b'],
  d: ['u', 'v', 'u', null],
  flag: [true, false, null, true],
  day: [new Date(Date.UTC(2024, 0, 5)), null, new Date(Date.UTC(2024, 1, 29)), new Date(Date.UTC(1969, 11, 31))],
  ts: [new Date(Date.UTC(2024, 0, 5, 10, 30)), new Date(0), null, new Date(Date.UTC(2024, 0, 5, 10, 30, 0, 250))],
};
const SAME_TYPES: Record<string, DataType> = {
  x: float64(),
  n: int32(),
  big: int64(),
  s: utf8(),
  d: dictionary(utf8()),
  flag: bool(),
  day: dateDay(),
  ts: timestamp(TimeUnit.MILLISECOND),
};
const SAME_CSV = [
  'x,n,big,s,d,flag,day,ts',
  '1.5,1,10,a,u,true,2024-01-05,2024-01-05T10:30:00.000Z',
  ',2,-20,,v,false,,1970-01-01T00:00:00.000Z',
  '-2.25,3,,c,u,,2024-02-29,',
  '1e-7,40,9007199254740992,"a,b",,true,1969-12-31,2024-01-05T10:30:00.250Z',
].join('\n');

describe('Arrow IPC files', () => {
  it.each([
    ['an Arrow file', 'file', 'data/t.arrow'],
    ['a Feather version 2 file', 'file', 'data/t.feather'],
    ['an Arrow stream', 'stream', 'data/t.arrows'],
    ['an Arrow stream named .ipc', 'stream', 'data/t.ipc'],
  ] as const)('reads %s as the same table as the CSV of the same data', (_, format, file) => {
    const fromArrow = load(arrow(SAME, SAME_TYPES, format), { columns: { flag: { type: 'boolean', nullable: true } } }, file).table;
    // Arrow's Date and Timestamp are dates without a declaration (the file says so); a CSV's text must be declared.
    const dates = { day: { type: 'date', nullable: true }, ts: { type: 'date', nullable: true } } as const;
    const fromCsv = csv(SAME_CSV, { columns: { flag: { type: 'boolean', nullable: true }, ...dates } }).table;
    expect(fromArrow.rows).toBe(4);
    expect(fromArrow.columns).toEqual(fromCsv.columns);
    expect(Object.fromEntries(fromArrow.columns.map((c) => [c.name, c.kind]))).toEqual({
      x: 'number',
      n: 'number',
      big: 'number',
      s: 'category',
      d: 'category',
      flag: 'boolean',
      day: 'date',
      ts: 'date',
    });
    expect(cells(fromArrow)).toMatchObject({
      x: [1.5, null, -2.25, 1e-7],
      day: ['2024-01-05T00:00:00.000Z', null, '2024-02-29T00:00:00.000Z', '1969-12-31T00:00:00.000Z'],
      ts: ['2024-01-05T10:30:00.000Z', '1970-01-01T00:00:00.000Z', null, '2024-01-05T10:30:00.250Z'],
    });
    // Arrow has no lines: rows are numbered from 1.
    expect(Array.from(fromArrow.lines)).toEqual([1, 2, 3, 4]);
  });

  it('follows the declared types as the CSV does', () => {
    const columns: LoadOptions['columns'] = {
      x: { type: 'number', nullable: true },
      n: { type: 'category' },
      big: { type: 'string', nullable: true },
      s: { type: 'string', nullable: true },
      d: { type: 'category', nullable: true },
      flag: { type: 'boolean', nullable: true },
      day: { type: 'date', nullable: true },
      ts: { type: 'date', nullable: true },
    };
    const fromArrow = load(arrow(SAME, SAME_TYPES), { columns }).table;
    expect(fromArrow.columns).toEqual(csv(SAME_CSV, { columns }).table.columns);
    expect(cells(fromArrow).n).toEqual(['1', '2', '3', '40']);
  });

  it('reads dates and timestamps declared as numbers as milliseconds since 1970', () => {
    const { table } = load(arrow(SAME, SAME_TYPES), { columns: { day: { type: 'integer', nullable: true }, ts: { type: 'number', nullable: true } } });
    expect(cells(table).day).toEqual([Date.UTC(2024, 0, 5), null, Date.UTC(2024, 1, 29), -86_400_000]);
    expect(cells(table).ts).toEqual([Date.UTC(2024, 0, 5, 10, 30), 0, null, Date.UTC(2024, 0, 5, 10, 30, 0, 250)]);
  });

  it('reads from disk with the sha256 of the file, as sha256sum gives it, and its shape', async () => {
    const dir = tempDir();
    const path = join(dir, 't.arrow');
    writeFileSync(path, arrow(SAME, SAME_TYPES));
    const sha256sum = execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0];
    const { table, identity } = await readTable(path, { file: 'data/t.arrow' });
    expect(identity).toEqual({ sha256: sha256sum, rows: 4, columns: 8, bytes: readFileSync(path).length });
    expect(sha256sum).toMatch(/^[0-9a-f]{64}$/);
    expect(cells(table)).toEqual(cells(load(readFileSync(path)).table));
  });

  it('reads a 64-bit integer beyond 2^53 exactly as a string column', () => {
    const { table } = load(arrow({ id: [2n ** 63n - 1n, 1n] }, { id: int64() }), { columns: { id: { type: 'string' } } });
    expect(cells(table).id).toEqual(['9223372036854775807', '1']);
  });
});

describe('bad Arrow data', () => {
  const INTEGERS_AS_TEXT = arrow({ age: ['41', '7', 'seven'] }, { age: utf8() });

  it.each([
    [
      'text in a declared integer column',
      () => load(INTEGERS_AS_TEXT, { columns: { age: { type: 'integer' } } }),
      'E_DATA_TYPE',
      'data/t.arrow row 3: age is "seven", not a number; fix the value, or declare the column as category',
    ],
    [
      'a fraction in a declared integer column',
      () => load(arrow({ age: [41, 7.5] }, { age: float64() }), { columns: { age: { type: 'integer' } } }),
      'E_DATA_TYPE',
      'data/t.arrow row 2: age is 7.5, not an integer; fix the value, or declare the column as number',
    ],
    [
      'a missing value in a declared column that is not nullable',
      () => load(arrow({ age: [41, null] }, { age: int32() }), { columns: { age: { type: 'integer' } } }),
      'E_DATA_MISSING',
      'data/t.arrow row 2: age is missing (null); fill in the value, or declare the column with nullable: true',
    ],
    [
      'a declared column the file does not have',
      () => load(INTEGERS_AS_TEXT, { columns: { agee: { type: 'integer' } } }),
      'E_DATA_COLUMN',
      'data/t.arrow has no column "agee" declared in the schema; did you mean "age"?',
    ],
    [
      'a 64-bit integer beyond 2^53',
      () => load(arrow({ id: [1n, 2n ** 53n + 1n] }, { id: int64() })),
      'E_DATA_TYPE',
      'data/t.arrow row 2: id is 9007199254740993, beyond ±2^53, where numbers are no longer exact; declare the column as string',
    ],
    [
      'a list column',
      () => load(arrow({ tags: [[1], [2, 3]] }, { tags: list(int32()) })),
      'E_DATA_TYPE',
      'data/t.arrow: tags is an Arrow List column, not one value per row; flatten it into columns',
    ],
    ['an empty file', () => load(new Uint8Array(0)), 'E_DATA_FORMAT', 'data/t.arrow is empty; it needs an Arrow schema and its columns'],
    [
      'a CSV file named .arrow',
      () => load(new TextEncoder().encode('a,b\n1,2\n')),
      'E_DATA_FORMAT',
      "data/t.arrow is not an Arrow IPC file or stream (Expected to read 174206049 metadata bytes, but only read 4.); write it again with pyarrow.feather.write_feather or arquero's toArrowIPC",
    ],
    [
      'a Parquet file named .arrow',
      () => load(new TextEncoder().encode('PAR1\u0015\u0004')),
      'E_DATA_FORMAT',
      'data/t.arrow is an Apache Parquet file, not Arrow; rename it to .parquet',
    ],
    [
      'a Feather version 1 file',
      () => load(new TextEncoder().encode('FEA1\u0000\u0000\u0000\u0000'), {}, 'data/t.feather'),
      'E_DATA_FORMAT',
      'data/t.feather is a Feather version 1 file, which arquero does not read; write it again as version 2, e.g. pyarrow.feather.write_feather(df, "t.feather", version=2, compression="uncompressed")',
    ],
  ])('%s', (_, read, code, message) => {
    expect(read).toThrow(expect.objectContaining({ code, message }));
  });

  it('says how to write a compressed Feather file so that it can be read (pandas compresses with LZ4 by default)', () => {
    // flechette writes LZ4-flagged buffers with a stand-in codec, which is then unregistered: arquero has none.
    const standIn: Codec = { encode: (bytes) => bytes.slice(0, 1), decode: (bytes) => bytes };
    setCompressionCodec(CompressionType.LZ4_FRAME, standIn);
    let bytes: Uint8Array | null;
    try {
      bytes = tableToIPC(tableFromArrays({ x: Float64Array.from({ length: 64 }, (_, i) => i) }), { format: 'file', codec: CompressionType.LZ4_FRAME });
    } finally {
      // flechette has no way to unregister; a null codec is what its lookup treats as none.
      setCompressionCodec(CompressionType.LZ4_FRAME, null as unknown as Codec);
    }
    expect(() => load(bytes ?? new Uint8Array(0), {}, 'data/t.feather')).toThrow(
      expect.objectContaining({
        code: 'E_DATA_FORMAT',
        message:
          'data/t.feather is compressed with LZ4_FRAME, which arquero cannot decompress; write it uncompressed, e.g. pyarrow.feather.write_feather(table, "t.feather", compression="uncompressed")',
      }),
    );
  });

  it('lists every value not of its declared type in a lenient load, with its row', () => {
    const bytes = arrow({ age: ['41', 'seven', '', 'eight'] }, { age: utf8() });
    const { table, violations } = load(bytes, { columns: { age: { type: 'integer' } }, lenient: true });
    expect(violations).toEqual([
      {
        column: 'age',
        expected: 'integer',
        rows: [1, 3],
        message: 'data/t.arrow row 2: age is "seven", not a number; fix the value, or declare the column as category',
      },
    ]);
    // As in a CSV, an empty text is a missing value in a number column, not a violation.
    expect(cells(table).age).toEqual([41, null, null, null]);
    expect(getColumn(table, 'age').kind).toBe('number');
  });
});

describe('bramble run on Arrow data', () => {
  it('trains the template from an Arrow copy of its CSV to the same metrics', async () => {
    const { cpSync } = await import('node:fs');
    const { runPipeline } = await import('../src/pipeline/run.js');
    const template = join(import.meta.dirname, '../templates/model-repo');
    const options = { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } };
    const csvDir = tempDir();
    const arrowDir = tempDir();
    for (const dir of [csvDir, arrowDir]) cpSync(template, dir, { recursive: true, filter: (src) => !src.includes('.bramble') });
    // Every column as the CSV loader typed it, written as Arrow by flechette.
    const { table } = await readTable(join(csvDir, 'data/churn.csv'), { file: 'data/churn.csv' });
    const arrays: Arrays = {};
    for (const column of table.columns) arrays[column.name] = Array.from({ length: table.rows }, (_, r) => cellValue(column, r));
    writeFileSync(join(arrowDir, 'data/churn.arrow'), arrow(arrays));
    const yaml = join(arrowDir, 'ml.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('data/churn.csv', 'data/churn.arrow'));
    const fromCsv = await runPipeline(csvDir, options);
    const fromArrow = await runPipeline(arrowDir, options);
    expect(fromArrow.validation.success).toBe(true);
    expect(fromArrow.evaluation).toEqual(fromCsv.evaluation);
  });
});
