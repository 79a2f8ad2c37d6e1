import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/util/rng.js';
import { parseCsv } from '../src/data/csv.js';
import { parseDecimal } from '../src/data/decimal.js';
import { loadTable, readTable } from '../src/data/load.js';
import type { LoadOptions } from '../src/data/load-options.js';
import { cellValue, getColumn, missingCount, type Table } from '../src/data/table.js';

const churnPath = join(import.meta.dirname, '../templates/model-repo/data/churn.csv');
const churnBytes = readFileSync(churnPath);
const churnText = churnBytes.toString('utf8');
const CHURN_SHA256 = '16320c9c1ec72448db59aa0a26a0b95401046bef5d02fd3aeb906448e3055e91';

const csv = (text: string, options: Omit<LoadOptions, 'file'> = {}): Table =>
  loadTable(new TextEncoder().encode(text), { file: 'data/t.csv', ...options }).table;

/** Every column as plain values (null for missing), for comparing whole tables. */
const cells = (table: Table): Record<string, unknown[]> =>
  Object.fromEntries(table.columns.map((c) => [c.name, Array.from({ length: table.rows }, (_, r) => cellValue(c, r))]));

/** The Telco file with one line (1-based) replaced. */
function churnWithLine(line: number, edit: (text: string) => string): Uint8Array {
  const lines = churnText.split('\n');
  lines[line - 1] = edit(lines[line - 1]);
  return new TextEncoder().encode(lines.join('\n'));
}

/** The random cases draw from the project's own seeded generator. */
function generator(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.float();
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bramble-load-'));
}

describe('the Telco churn data', () => {
  it('reads from disk with its identity, shape and 11 missing TotalCharges', async () => {
    const { table, identity } = await readTable(churnPath, { file: 'data/churn.csv' });
    expect(identity).toEqual({ sha256: CHURN_SHA256, rows: 7043, columns: 21, bytes: churnBytes.length });
    expect(table.rows).toBe(7043);
    expect(table.columns.map((c) => c.name)[20]).toBe('Churn');
    expect(missingCount(getColumn(table, 'TotalCharges'))).toBe(11);
    expect(table.lines[0]).toBe(2);
    expect(table.lines[7042]).toBe(7044);
    expect(Object.fromEntries(table.columns.map((c) => [c.name, c.kind]))).toMatchObject({
      customerID: 'category',
      gender: 'category',
      SeniorCitizen: 'number',
      tenure: 'number',
      MonthlyCharges: 'number',
      TotalCharges: 'number',
      Churn: 'category',
    });
  });

  it('gives the same table and identity from memory as from disk', async () => {
    const fromDisk = await readTable(churnPath);
    const fromMemory = loadTable(churnBytes, { file: 'data/churn.csv' });
    expect(fromMemory.identity).toEqual(fromDisk.identity);
    expect(cells(fromMemory.table)).toEqual(cells(fromDisk.table));
  });

  it('agrees cell by cell with the string-based parseCsv', () => {
    const { table } = loadTable(churnBytes, { file: 'data/churn.csv' });
    const reference = parseCsv(churnText);
    expect(table.columns.map((c) => c.name)).toEqual(reference.header);
    expect(Array.from(table.lines)).toEqual(reference.lines);
    table.columns.forEach((column, c) => {
      const expected = reference.rows.map((row) => {
        const text = row[c];
        if (text.trim() === '') return null;
        return column.kind === 'number' ? Number(text) : text;
      });
      expect(Array.from({ length: table.rows }, (_, r) => cellValue(column, r)), column.name).toEqual(expected);
    });
  });

  it('follows the declared schema', () => {
    const { table } = loadTable(churnBytes, {
      file: 'data/churn.csv',
      columns: {
        tenure: { type: 'integer' },
        SeniorCitizen: { type: 'boolean' },
        Contract: { type: 'category' },
        customerID: { type: 'string' },
        TotalCharges: { type: 'number', nullable: true },
      },
    });
    expect(getColumn(table, 'SeniorCitizen').kind).toBe('boolean');
    expect(getColumn(table, 'customerID').kind).toBe('string');
    const contract = getColumn(table, 'Contract');
    expect(contract.kind === 'category' && [...contract.values.categories].sort()).toEqual(['Month-to-month', 'One year', 'Two year']);
  });
});

describe('CSV syntax (RFC 4180 and what real files do)', () => {
  it.each([
    ['quoted commas', 'a,b\n"1,5",x\n', { a: ['1,5'], b: ['x'] }],
    ['doubled quotes', 'a,b\n"say ""hi""",2\n', { a: ['say "hi"'], b: [2] }],
    ['a newline inside quotes', 'a,b\n"two\nlines",1\n"x",2\n', { a: ['two\nlines', 'x'], b: [1, 2] }],
    ['CRLF line ends', 'a,b\r\n1,x\r\n2,y\r\n', { a: [1, 2], b: ['x', 'y'] }],
    ['lone CR line ends', 'a,b\r1,x\r2,y', { a: [1, 2], b: ['x', 'y'] }],
    ['no newline at the end', 'a,b\n1,x\n2,y', { a: [1, 2], b: ['x', 'y'] }],
    ['a byte order mark', '\ufeffa,b\n1,x\n', { a: [1], b: ['x'] }],
    ['blank lines, skipped as pandas does', 'a,b\n\n1,x\n\n\n2,y\n\n', { a: [1, 2], b: ['x', 'y'] }],
    ['quoted numbers', 'a,b\n"1.5","2"\n', { a: [1.5], b: [2] }],
    ['missing markers, quoted or not', 'a,b\nNA,"NA"\n,""\n" ",N/A\nnull,NaN\n3,z\n', { a: [null, null, null, null, 3], b: [null, null, null, null, 'z'] }],
    ['fields of only spaces as missing', 'a,b\n  ,x\n1,\t\n', { a: [null, 1], b: ['x', null] }],
    ['numbers with spaces around them', 'a\n 1.5 \n-2\n', { a: [1.5, -2] }],
    ['text after a closing quote, kept as text', 'a,b\n"ab"c,1\n', { a: ['abc'], b: [1] }],
    ['a quote inside an unquoted field, kept as text', 'a,b\nab"c,1\n', { a: ['ab"c'], b: [1] }],
    ['UTF-8 text', 'city,n\nZürich,1\n東京,2\nZürich,3\n', { city: ['Zürich', '東京', 'Zürich'], n: [1, 2, 3] }],
    ['an all-missing column (a number column, as in pandas)', 'a,b\n,1\n,2\n', { a: [null, null], b: [1, 2] }],
    ['text after missing values in an undeclared column', 'a,b\n,1\nNA,2\nx,3\n"y,z",4\n', { a: [null, null, 'x', 'y,z'], b: [1, 2, 3, 4] }],
    ['quoted text with doubled quotes first in an undeclared column', 'a\n"say ""hi"""\n2\n', { a: ['say "hi"', '2'] }],
  ])('reads %s', (_, text, expected) => {
    expect(cells(csv(text))).toEqual(expected);
  });

  it('counts lines inside quoted fields, so that later rows keep their file line', () => {
    const table = csv('a,b\n"x\ny\nz",1\n\n"w",2\r\n3,4\n');
    expect(Array.from(table.lines)).toEqual([2, 6, 7]);
  });

  it('keeps the original text when an undeclared column turns out to hold text after numbers', async () => {
    const text = 'a,b\n1.50,1\n007,2\n,3\nabc,4\n';
    expect(getColumn(csv(text), 'a')).toMatchObject({ kind: 'category', values: { categories: ['1.50', '007', 'abc'] } });
    const dir = tempDir();
    writeFileSync(join(dir, 'mixed.csv'), text);
    const { table } = await readTable(join(dir, 'mixed.csv'));
    expect(cells(table)).toEqual({ a: ['1.50', '007', null, 'abc'], b: [1, 2, 3, 4] });
  });

  it('reads a file larger than its read buffer, with records that span the buffer edges', async () => {
    const random = generator(11);
    const lines = ['id,note,value'];
    const expected: { id: number[]; note: string[]; value: (number | null)[] } = { id: [], note: [], value: [] };
    for (let r = 0; r < 60_000; r++) {
      const note = random() < 0.1 ? `multi\nline "${r}", quoted` : `n${Math.floor(random() * 50)}`;
      const value = random() < 0.05 ? null : Math.round(random() * 1e6) / 1e3;
      lines.push(`${r},${note.includes('"') ? `"${note.replaceAll('"', '""')}"` : note},${value ?? ''}`);
      expected.id.push(r);
      expected.note.push(note);
      expected.value.push(value);
    }
    // One record longer than a whole read buffer (4 MiB).
    const long = 'x'.repeat(5_000_000);
    lines.push(`60000,"${long}",1`);
    expected.id.push(60000);
    expected.note.push(long);
    expected.value.push(1);
    const dir = tempDir();
    const file = join(dir, 'big.csv');
    writeFileSync(file, lines.join('\r\n') + '\r\n');
    const { table, identity } = await readTable(file);
    expect(identity.rows).toBe(60_001);
    expect(cells(table)).toEqual(expected);
    expect(cells(loadTable(readFileSync(file), { file }).table)).toEqual(expected);
  });
});

describe('numbers', () => {
  it('parse to exactly the double Number() gives, on random decimal texts', () => {
    const random = generator(7);
    const digits = (n: number): string => Array.from({ length: n }, () => String(Math.floor(random() * 10))).join('');
    const texts: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const sign = random() < 0.3 ? '-' : random() < 0.1 ? '+' : '';
      const whole = digits(Math.floor(random() * 12));
      const fraction = random() < 0.7 ? `.${digits(Math.floor(random() * (random() < 0.2 ? 25 : 9)))}` : '';
      const exponent = random() < 0.25 ? `${random() < 0.5 ? 'e' : 'E'}${random() < 0.5 ? '-' : ''}${Math.floor(random() * (random() < 0.2 ? 330 : 25))}` : '';
      const text = `${sign}${whole}${fraction}${exponent}`;
      const value = Number(text);
      // Texts that are not finite numbers are tested elsewhere.
      if (/\d/.test(whole + fraction) && Number.isFinite(value)) texts.push(text);
    }
    const table = csv(`x\n${texts.join('\n')}\n`, { columns: { x: { type: 'number' } } });
    const column = getColumn(table, 'x');
    expect(column.kind).toBe('number');
    const values = column.kind === 'number' ? column.values : new Float64Array(0);
    const wrong = texts.filter((text, i) => !Object.is(values[i], Number(text)));
    expect(wrong).toEqual([]);
    expect(texts.length).toBeGreaterThan(20_000);
  });

  it.each([
    ['0', 0], ['-0', -0], ['-0.000', -0], ['0e999', 0], ['1e22', 1e22], ['1e23', 1e23], ['9007199254740993', 9007199254740992],
    ['0.1', 0.1], ['.5', 0.5], ['5.', 5], ['+3', 3], ['  7\t', 7], ['1e-400', 0], ['2.2250738585072011e-308', 2.2250738585072011e-308],
    ['123456789012345678901234567890', 1.2345678901234568e29], ['0.30000000000000004', 0.30000000000000004], ['1.7976931348623157e308', Number.MAX_VALUE],
  ])('reads %j as Number() does', (text, expected) => {
    const bytes = new TextEncoder().encode(text);
    expect(Object.is(parseDecimal(bytes, 0, bytes.length), expected)).toBe(true);
    expect(Object.is(parseDecimal(bytes, 0, bytes.length), Number(text))).toBe(true);
  });

  it.each(['', ' ', '-', '.', 'e5', '1e', '1e+', '1.2.3', '0x10', '1_000', 'Infinity', '-Infinity', 'NaN', '1e999', '1,5', '12abc', '١٢'])(
    'does not take %j for a number',
    (text) => {
      const bytes = new TextEncoder().encode(text);
      expect(parseDecimal(bytes, 0, bytes.length)).toBeNaN();
    },
  );
});

describe('JSON records', () => {
  it('reads an array of records, with null and absent keys as missing and the line of each record', () => {
    const text = '[\n  {"a": 1, "b": "x", "c": true},\n  {"a": null, "b": "y"},\n  {"a": 2.5, "c": false, "b": "x"}\n]\n';
    const { table, identity } = loadTable(new TextEncoder().encode(text), { file: 'data/t.json' });
    expect(cells(table)).toEqual({ a: [1, null, 2.5], b: ['x', 'y', 'x'], c: [true, null, false] });
    expect(table.columns.map((c) => c.kind)).toEqual(['number', 'category', 'boolean']);
    expect(Array.from(table.lines)).toEqual([2, 3, 4]);
    expect(identity).toMatchObject({ rows: 3, columns: 3, bytes: text.length });
  });

  it('follows the declared schema', () => {
    const text = '[{"n": "12", "k": 3, "f": "yes"}, {"n": 4, "k": "a", "f": 0}]';
    const { table } = loadTable(new TextEncoder().encode(text), {
      file: 'data/t.json',
      columns: { n: { type: 'integer' }, k: { type: 'category' }, f: { type: 'boolean' } },
    });
    expect(cells(table)).toEqual({ n: [12, 4], k: ['3', 'a'], f: [true, false] });
  });

  it('reads the Telco data written as records like the CSV', () => {
    const fromCsv = loadTable(churnBytes, { file: 'data/churn.csv' }).table;
    const records = Array.from({ length: fromCsv.rows }, (_, r) => Object.fromEntries(fromCsv.columns.map((c) => [c.name, cellValue(c, r)])));
    const fromJson = loadTable(new TextEncoder().encode(JSON.stringify(records)), { file: 'data/churn.json' }).table;
    expect(cells(fromJson)).toEqual(cells(fromCsv));
  });
});

describe('bad data files', () => {
  it.each([
    [{ hint: 'check data.train in ml.yaml' }, 'the data file data/x.csv does not exist; check data.train in ml.yaml'],
    [{}, 'the data file data/x.csv does not exist; check the path'],
  ])('names a file that does not exist (%j)', async (options, message) => {
    const dir = tempDir();
    const error = readTable(join(dir, 'x.csv'), { file: 'data/x.csv', ...options });
    await expect(error).rejects.toThrow(message);
    await expect(error).rejects.toMatchObject({ code: 'E_DATA_FILE', message });
  });

  it('names a folder given as the data file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'x.csv'));
    await expect(readTable(join(dir, 'x.csv'), { file: 'data/x.csv' })).rejects.toMatchObject({
      code: 'E_DATA_FILE',
      message: 'the data file data/x.csv is a folder; give a CSV, JSON, Arrow or Parquet file',
    });
  });

  it.each([
    ['data/x.xlsx', 'data/x.xlsx has no .csv, .json, .arrow or .parquet extension; rename it, or give the format (csv, json, arrow or parquet)'],
  ])('says which formats it reads (%s)', (file, message) => {
    expect(() => loadTable(new Uint8Array(0), { file })).toThrow(expect.objectContaining({ code: 'E_DATA_FORMAT', message }));
  });

  const telco = (bytes: Uint8Array, columns?: LoadOptions['columns']) => () => loadTable(bytes, { file: 'data/churn.csv', columns });
  const text = (t: string, columns?: LoadOptions['columns'], file = 'data/t.csv') => () => loadTable(new TextEncoder().encode(t), { file, columns });

  it.each([
    [
      'a ragged row with a field too many',
      telco(churnWithLine(17, (line) => line.replace('Two year', 'Two, year'))),
      'E_CSV',
      'data/churn.csv:17: the row has 22 fields but the header has 21 (1 extra); quote fields that contain commas',
    ],
    [
      'a ragged row with a field too few',
      text('a,b,c\n1,2,3\n4,5\n'),
      'E_CSV',
      'data/t.csv:3: the row has 2 fields but the header has 3 (1 missing); add the missing fields (an empty field is a missing value)',
    ],
    ['a quote never closed', text('a,b\n1,2\n"3,4\n5,6\n'), 'E_CSV', 'data/t.csv:3: a quoted field is never closed; add the closing "'],
    ['an empty file', text(''), 'E_CSV', 'data/t.csv is empty; it needs a header row'],
    ['a column named twice', text('a,b,a\n1,2,3\n'), 'E_CSV', 'data/t.csv:1: the header names the column "a" twice (fields 1 and 3); rename one'],
    [
      'a declared column that is not in the data',
      telco(churnBytes, { tenur: { type: 'integer' } }),
      'E_DATA_COLUMN',
      'data/churn.csv has no column "tenur" declared in the schema; did you mean "tenure"?',
    ],
    [
      'a declared column with no near name',
      text('a,b\n1,2\n', { zzzzzz: { type: 'number' } }),
      'E_DATA_COLUMN',
      'data/t.csv has no column "zzzzzz" declared in the schema; its columns are "a", "b"',
    ],
    [
      'text in a number column',
      telco(churnWithLine(8, (line) => line.replace(/,[\d.]+,(Yes|No)$/, ',abc,$1')), { TotalCharges: { type: 'number', nullable: true } }),
      'E_DATA_TYPE',
      'data/churn.csv:8: TotalCharges is "abc", not a number; fix the value, or declare the column as category',
    ],
    [
      'text in an integer column',
      text('a,n\nx,1\ny,two\n', { n: { type: 'integer' } }),
      'E_DATA_TYPE',
      'data/t.csv:3: n is "two", not a number; fix the value, or declare the column as category',
    ],
    [
      'a fraction in an integer column',
      text('a,n\nx,1\ny,1.5\n', { n: { type: 'integer' } }),
      'E_DATA_TYPE',
      'data/t.csv:3: n is "1.5", not an integer; fix the value, or declare the column as number',
    ],
    [
      'a non-boolean in a boolean column',
      text('f\ntrue\nmaybe\n', { f: { type: 'boolean' } }),
      'E_DATA_TYPE',
      'data/t.csv:3: f is "maybe", not a boolean (true/false, yes/no, 1/0); fix the value, or declare the column as category',
    ],
    [
      'a missing value in a column not declared nullable',
      telco(churnBytes, { TotalCharges: { type: 'number' } }),
      'E_DATA_MISSING',
      'data/churn.csv:490: TotalCharges is missing (" "); fill in the value, or declare the column with nullable: true',
    ],
    [
      'JSON that does not parse',
      text('[{"a": 1},\n{"a" 2}]', undefined, 'data/t.json'),
      'E_DATA_JSON',
      "data/t.json:2: the JSON does not parse (Expected ':' after property name); fix the syntax",
    ],
    ['JSON that is not an array', text('{"a": 1}', undefined, 'data/t.json'), 'E_DATA_JSON', 'data/t.json holds an object, not an array of records; give [{"column": value, …}, …]'],
    ['a JSON record that is not an object', text('[{"a": 1},\n 7]', undefined, 'data/t.json'), 'E_DATA_JSON', 'data/t.json:2: record 2 is a number, not an object of column values'],
    [
      'text in a declared JSON number column',
      text('[{"a": 1},\n {"a": "abc"}]', { a: { type: 'number' } }, 'data/t.json'),
      'E_DATA_TYPE',
      'data/t.json:2: a is "abc", not a number; fix the value, or declare the column as category',
    ],
    ['a nested JSON value', text('[{"a": 1},\n {"a": [1, 2]}]', undefined, 'data/t.json'), 'E_DATA_TYPE', 'data/t.json:2: a is an array, not a single value; flatten it into columns'],
  ])('rejects %s with a message that points at it', (_, load, code, message) => {
    expect(load).toThrow(expect.objectContaining({ code, message }));
  });
});
