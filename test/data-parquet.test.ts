import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTable, loadTableAsync, readTable } from '../src/data/load.js';
import type { LoadOptions } from '../src/data/load-options.js';
import { cellValue, type Table } from '../src/data/table.js';
import { readAndValidate } from '../src/pipeline/run.js';

// The fixtures are written by pyarrow (test/fixtures/datasets/parquet/make.py), the writer pandas uses.
const FIXTURES = join(import.meta.dirname, 'fixtures/datasets/parquet');
const fixture = (name: string): string => join(FIXTURES, name);
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(fixture(name)));

/** Every column as plain values (null for missing; dates as ISO text). */
const cells = (table: Table): Record<string, unknown[]> =>
  Object.fromEntries(table.columns.map((c) => [c.name, Array.from({ length: table.rows }, (_, r) => cellValue(c, r))]));
const kinds = (table: Table): Record<string, string> => Object.fromEntries(table.columns.map((c) => [c.name, c.kind]));

const load = (name: string, options: Omit<LoadOptions, 'file'> = {}, file = `data/${name}`) => loadTableAsync(bytesOf(name), { file, ...options });

/** What make.py wrote into every types-*.parquet, as Bramble shows it. */
const TYPES = {
  id: [1, 2, 3, 4, 5],
  x: [1.5, null, -2.25, 1e-7, 4],
  n: [10, 20, null, 40, 50],
  city: ['Oslo', null, 'Lima', 'Oslo', 'Pune'],
  flag: [true, false, null, true, false],
  // UTC microseconds: the 250 ms survive, and an instant before 1970 is floored, not rounded toward 1970.
  when: ['2024-03-01T12:30:00.000Z', '1970-01-01T00:00:00.000Z', null, '2024-03-01T12:30:00.250Z', '1969-12-31T23:59:00.000Z'],
  // Nanoseconds without a zone: read as UTC, as a date-time without an offset is everywhere in Bramble.
  local: ['2024-01-05T10:30:00.000Z', null, '2024-01-05T00:00:00.000Z', '2000-02-29T00:00:00.000Z', '2024-01-05T00:00:00.000Z'],
  day: ['2024-01-05T00:00:00.000Z', '2024-02-29T00:00:00.000Z', '1969-12-31T00:00:00.000Z', null, '2024-01-05T00:00:00.000Z'],
  label: ['yes', 'no', 'yes', 'no', 'yes'],
};

describe('Parquet files', () => {
  it.each(['snappy', 'gzip', 'zstd', 'lz4', 'brotli', 'none'])('reads a %s-compressed file into typed columns', async (codec) => {
    const name = `types-${codec}.parquet`;
    const { table, identity } = await readTable(fixture(name), { file: `data/${name}` });
    expect(kinds(table)).toEqual({
      id: 'number',
      x: 'number',
      n: 'number',
      city: 'category',
      flag: 'boolean',
      when: 'date',
      local: 'date',
      day: 'date',
      label: 'category',
    });
    expect(cells(table)).toEqual(TYPES);
    const columns = Object.fromEntries(table.columns.map((c) => [c.name, c]));
    expect(columns.id.values).toBeInstanceOf(Float64Array);
    expect(columns.when.values).toBeInstanceOf(Float64Array);
    // Parquet has no lines: rows are numbered from 1, as in Arrow.
    expect(Array.from(table.lines)).toEqual([1, 2, 3, 4, 5]);
    const bytes = readFileSync(fixture(name));
    expect(identity).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), rows: 5, columns: 9, bytes: bytes.length });
  });

  it('follows the declared types: instants as text or as milliseconds, int64 as text', async () => {
    const { table } = await load('types-snappy.parquet', {
      columns: {
        id: { type: 'string' },
        when: { type: 'category', nullable: true },
        day: { type: 'number', nullable: true },
        local: { type: 'date', nullable: true },
        n: { type: 'integer', nullable: true },
      },
    });
    expect(kinds(table)).toMatchObject({ id: 'string', when: 'category', day: 'number', local: 'date', n: 'number' });
    expect(cells(table)).toMatchObject({
      id: ['1', '2', '3', '4', '5'],
      when: ['2024-03-01T12:30:00.000Z', '1970-01-01T00:00:00.000Z', null, '2024-03-01T12:30:00.250Z', '1969-12-31T23:59:00.000Z'],
      day: [Date.UTC(2024, 0, 5), Date.UTC(2024, 1, 29), -86_400_000, null, Date.UTC(2024, 0, 5)],
    });
  });

  it("reads row group by row group, merging each group's dictionary into one set of codes", async () => {
    const { table } = await load('row-groups.parquet');
    expect(table.rows).toBe(2500);
    const { i, v, g } = cells(table);
    expect(i).toEqual(Array.from({ length: 2500 }, (_, k) => k));
    expect(v).toEqual(Array.from({ length: 2500 }, (_, k) => k * 0.5));
    expect(g).toEqual(Array.from({ length: 2500 }, (_, k) => `g${Math.floor(k / 1000) * 10 + (k % 3)}`));
    const group = table.columns.find((c) => c.name === 'g');
    expect(group?.kind === 'category' && [...group.values.categories].sort()).toEqual(['g0', 'g1', 'g10', 'g11', 'g12', 'g2', 'g20', 'g21', 'g22']);
    expect(table.lines[2499]).toBe(2500);
  });

  it('reads the INT96 timestamps Spark wrote as dates in UTC, floored to the millisecond', async () => {
    const { table } = await load('spark-int96.parquet');
    expect(kinds(table)).toEqual({ ts: 'date', ms: 'date' });
    expect(cells(table)).toEqual({
      ts: ['2024-03-01T12:30:00.123Z', null, '1969-12-31T23:59:59.999Z'],
      ms: ['2024-03-01T00:00:00.000Z', '2024-03-02T00:00:00.000Z', null],
    });
  });

  it("leaves out the index pandas writes as a column (__index_level_0__), as pandas' read_parquet does", async () => {
    const { table } = await load('pandas-index.parquet');
    expect(cells(table)).toEqual({ a: [1, 3, 4], y: ['u', 'u', 'v'] });
  });

  it('refuses an int64 beyond 2^53 at its row, or lists it in a lenient load, or reads it exactly as text', async () => {
    await expect(load('big-int.parquet')).rejects.toMatchObject({
      code: 'E_DATA_TYPE',
      message: 'data/big-int.parquet row 3: count is 9007199254740993, beyond ±2^53, where numbers are no longer exact; declare the column as string',
    });
    const lenient = await load('big-int.parquet', { columns: { count: { type: 'integer' } }, lenient: true });
    expect(lenient.violations).toEqual([
      {
        column: 'count',
        expected: 'integer',
        rows: [2],
        message: 'data/big-int.parquet row 3: count is 9007199254740993, beyond ±2^53, where numbers are no longer exact; declare the column as string',
      },
    ]);
    expect(cells(lenient.table).count).toEqual([7, 2 ** 53, null]);
    const text = await load('big-int.parquet', { columns: { count: { type: 'string' } } });
    expect(cells(text.table).count).toEqual(['7', '9007199254740992', '9007199254740993']);
  });

  it('refuses a missing value in a column declared without nullable, at its row', async () => {
    await expect(load('types-zstd.parquet', { columns: { x: { type: 'number' } } })).rejects.toMatchObject({
      code: 'E_DATA_MISSING',
      message: 'data/types-zstd.parquet row 2: x is missing (null); fill in the value, or declare the column with nullable: true',
    });
  });

  it('reads data.missing markers in text columns as missing', async () => {
    const { table } = await load('types-snappy.parquet', { missing: ['Lima'], columns: { label: { type: 'category', nullable: true, missing: ['no'] } } });
    expect(cells(table)).toMatchObject({ city: ['Oslo', null, null, 'Oslo', 'Pune'], label: ['yes', null, 'yes', null, 'yes'] });
  });

  it.each([
    ['a list column', () => load('nested.parquet'), 'E_DATA_TYPE', 'data/nested.parquet: tags is a Parquet LIST column, not one value per row; flatten it into columns'],
    [
      'a declared column that is not in the file',
      () => load('types-snappy.parquet', { columns: { labl: { type: 'category' } } }),
      'E_DATA_COLUMN',
      'data/types-snappy.parquet has no column "labl" declared in the schema; did you mean "label"?',
    ],
    ['an empty file', () => loadTableAsync(new Uint8Array(0), { file: 'data/t.parquet' }), 'E_DATA_FORMAT', 'data/t.parquet is empty; it needs a Parquet footer and its row groups'],
    [
      'a CSV file named .parquet',
      () => loadTableAsync(new TextEncoder().encode('a,b\n1,2\n'), { file: 'data/t.parquet' }),
      'E_DATA_FORMAT',
      'data/t.parquet is not a Parquet file (it does not start with PAR1); write it again, e.g. with pandas: df.to_parquet("t.parquet")',
    ],
    [
      'a file cut short',
      () => loadTableAsync(bytesOf('types-snappy.parquet').subarray(0, 1000), { file: 'data/t.parquet' }),
      'E_DATA_FORMAT',
      'data/t.parquet is not a Parquet file (it is cut off: the footer that ends in PAR1 is missing); write it again, e.g. with pandas: df.to_parquet("t.parquet")',
    ],
  ])('refuses %s with a message that says what to do', async (_, read, code, message) => {
    await expect(read()).rejects.toMatchObject({ code, message });
  });

  it('is not read by the synchronous loadTable, which says what to call instead', () => {
    expect(() => loadTable(bytesOf('types-snappy.parquet'), { file: 'data/t.parquet' })).toThrow(
      'loadTable cannot read data/t.parquet: Parquet is decoded asynchronously; call loadTableAsync or readTable',
    );
  });

  it('trains the template from a Parquet copy of its CSV (written by pyarrow) to the same metrics', async () => {
    const { cpSync } = await import('node:fs');
    const { runPipeline } = await import('../src/pipeline/run.js');
    const template = join(import.meta.dirname, '../templates/model-repo');
    const options = { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } };
    const csvDir = mkdtempSync(join(tmpdir(), 'bramble-parquet-'));
    const parquetDir = mkdtempSync(join(tmpdir(), 'bramble-parquet-'));
    for (const dir of [csvDir, parquetDir]) cpSync(template, dir, { recursive: true, filter: (src) => !src.includes('.bramble') });
    writeFileSync(join(parquetDir, 'data/churn.parquet'), readFileSync(fixture('churn.parquet')));
    const yaml = join(parquetDir, 'ml.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('data/churn.csv', 'data/churn.parquet'));
    const fromCsv = await runPipeline(csvDir, options);
    const fromParquet = await runPipeline(parquetDir, options);
    expect(fromParquet.validation.success).toBe(true);
    expect(fromParquet.validation.rows).toBe(7043);
    expect(fromParquet.evaluation).toEqual(fromCsv.evaluation);
  });

  it('trains with bramble forest train from Parquet as from the CSV (it read Parquet as text: "row 3 has 2 fields")', async () => {
    const { trainForestFromCsv } = await import('../src/usecases/train-forest.js');
    const request = (data: string) => ({
      data,
      target: 'Churn',
      // pyarrow typed TotalCharges as text (11 customers have a lone space there): Parquet's types are kept, so
      // it would be a category here, where the CSV reader finds numbers with missing values.
      drop: ['customerID', 'TotalCharges'],
      task: 'classification' as const,
      forest: { trees: 10, maxDepth: 8, seed: 3 },
      testShare: 0.25,
      splitSeed: 0,
      workers: 1,
    });
    const fromCsv = await trainForestFromCsv(request(join(import.meta.dirname, '../templates/model-repo/data/churn.csv')), { now: () => 0 });
    const fromParquet = await trainForestFromCsv(request(fixture('churn.parquet')), { now: () => 0 });
    expect(fromParquet.rows).toBe(7043);
    expect({ features: fromParquet.features, heldOut: fromParquet.heldOut, top: fromParquet.topFeatures }).toEqual({
      features: fromCsv.features,
      heldOut: fromCsv.heldOut,
      top: fromCsv.topFeatures,
    });
  });

  it('is validated from ml.yaml like any other data file, dates and missing markers included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-parquet-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'flights.parquet'), readFileSync(fixture('types-gzip.parquet')));
    writeFileSync(
      join(dir, 'ml.yaml'),
      [
        'name: flights',
        'task: classification',
        'data:',
        '  train: data/flights.parquet',
        '  target: label',
        "  missing: ['Pune']",
        'schema:',
        '  columns:',
        '    when: { type: date, nullable: true, min: 1970-01-01 }',
        '    day: { type: date, nullable: true, max: 2024-02-01 }',
        '    city: { type: category, nullable: true }',
        'model:',
        '  type: random-forest',
        '',
      ].join('\n'),
    );
    const { loaded, validation } = await readAndValidate(dir);
    expect(cells(loaded.table).city).toEqual(['Oslo', null, 'Lima', 'Oslo', null]);
    const failed = validation.results.filter((r) => !r.success).map((r) => [r.column, r.rule, r.unexpectedLines, r.message]);
    expect(failed).toEqual([
      [
        'when',
        'range',
        [5],
        'data/flights.parquet row 5: when is "1969-12-31T23:59:00.000Z", not at least 1970-01-01; fix the value, or change min/max in the schema',
      ],
      [
        'day',
        'range',
        [2],
        'data/flights.parquet row 2: day is "2024-02-29T00:00:00.000Z", not at most 2024-02-01; fix the value, or change min/max in the schema',
      ],
    ]);
  });
});
