import { describe, expect, it } from 'vitest';
import { loadMlYaml } from '../src/config/ml-yaml.js';
import { detectDrift } from '../src/data/drift.js';
import { loadTable } from '../src/data/load.js';
import type { LoadOptions } from '../src/data/load-options.js';
import { profileTable } from '../src/data/profile.js';
import { cellValue, parseInstant, type Table } from '../src/data/table.js';
import { validateTable, validationLoadOptions } from '../src/data/validate.js';
import { ARTIFACT_SCHEMA_ID } from '../src/model/artifact-schema.js';
import { schemaValidator } from '../src/schemas.js';

const cells = (table: Table): Record<string, unknown[]> =>
  Object.fromEntries(table.columns.map((c) => [c.name, Array.from({ length: table.rows }, (_, r) => cellValue(c, r))]));
const csv = (text: string, options: Omit<LoadOptions, 'file'> = {}) => loadTable(new TextEncoder().encode(text), { file: 'data/t.csv', ...options });
const json = (text: string, options: Omit<LoadOptions, 'file'> = {}) => loadTable(new TextEncoder().encode(text), { file: 'data/t.json', ...options });

describe('ISO 8601 instants', () => {
  it.each([
    ['2024-03-01', Date.UTC(2024, 2, 1)],
    ['2024-03-01T12:30:00Z', Date.UTC(2024, 2, 1, 12, 30)],
    ['2024-03-01T12:30Z', Date.UTC(2024, 2, 1, 12, 30)],
    ['2024-03-01T12:30:00', Date.UTC(2024, 2, 1, 12, 30)],
    ['2024-03-01 12:30:00', Date.UTC(2024, 2, 1, 12, 30)],
    ['2024-03-01T12:30:00.250Z', Date.UTC(2024, 2, 1, 12, 30, 0, 250)],
    ['2024-03-01T12:30:00.123456789Z', Date.UTC(2024, 2, 1, 12, 30, 0, 123)],
    ['2024-03-01T12:30:00+02:00', Date.UTC(2024, 2, 1, 10, 30)],
    ['2024-03-01T12:30:00-0530', Date.UTC(2024, 2, 1, 18, 0)],
    ['2024-03-01T01:30:00+02', Date.UTC(2024, 1, 29, 23, 30)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['1969-12-31T23:59:59Z', -1000],
    ['  2024-03-01  ', Date.UTC(2024, 2, 1)],
  ])('reads %j', (text, expected) => {
    expect(parseInstant(text)).toBe(expected);
  });

  it('reads a year below 100 as written (Date.UTC alone would make 0099 into 1999)', () => {
    expect(new Date(parseInstant('0099-01-01')).toISOString()).toBe('0099-01-01T00:00:00.000Z');
  });

  it.each(['2024-13-01', '2023-02-29', '2024-04-31', '2024-3-1', '2024-03-01T24:00', '2024-03-01T12:60', '2024-03-01T12:30:00+25:00', '2024-03-01X', '01/03/2024', '', '1709296200000', '2024-03-01T12:30:00.Z'])(
    'refuses %j',
    (text) => {
      expect(parseInstant(text)).toBeNaN();
    },
  );
});

describe('type: date', () => {
  const WHEN = 'id,when\n1,2024-03-01\n2,2024-03-01T12:30:00Z\n3,2024-03-01T14:30:00+02:00\n4,\n';

  it('reads ISO 8601 dates and date-times in a CSV as UTC instants', () => {
    const { table } = csv(WHEN, { columns: { when: { type: 'date', nullable: true } } });
    expect(table.columns[1].kind).toBe('date');
    expect(Array.from(table.columns[1].values as Float64Array)).toEqual([Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 1, 12, 30), Date.UTC(2024, 2, 1, 12, 30), NaN]);
  });

  it('never infers a date: an undeclared column of ISO text is a category', () => {
    expect(csv(WHEN).table.columns[1].kind).toBe('category');
    expect(json('[{"when": "2024-03-01"}, {"when": "2024-03-02"}]').table.columns[0].kind).toBe('category');
  });

  it('refuses a malformed date at its line, with the forms it takes', () => {
    const text = 'id,when\n1,2024-03-01\n2,2024-03-02\n3,2024-03-03\n4,2024-03-04\n5,2024-03-05\n6,2024-13-01\n';
    expect(() => csv(text, { columns: { when: { type: 'date' } } })).toThrow(
      expect.objectContaining({
        code: 'E_DATA_TYPE',
        message: 'data/t.csv:7: when is "2024-13-01", not a date; write ISO 8601 such as 2024-03-01 or 2024-03-01T12:30:00Z',
      }),
    );
  });

  it('lists malformed dates as type violations in a lenient load, read as missing', () => {
    const loaded = csv('when\n2024-03-01\nsoon\n2024-02-30\n', { columns: { when: { type: 'date' } }, lenient: true });
    expect(loaded.violations).toEqual([
      { column: 'when', expected: 'date', rows: [1, 2], message: 'data/t.csv:3: when is "soon", not a date; write ISO 8601 such as 2024-03-01 or 2024-03-01T12:30:00Z' },
    ]);
    expect(cells(loaded.table).when).toEqual(['2024-03-01T00:00:00.000Z', null, null]);
  });

  it('reads dates in JSON records; a number is not a date there', () => {
    const records = '[\n{"when": "2024-03-01T12:30:00+02:00"},\n{"when": null},\n{"when": 1709296200000}\n]';
    expect(() => json(records, { columns: { when: { type: 'date', nullable: true } } })).toThrow(
      'data/t.json:4: when is 1709296200000, not a date; write ISO 8601 such as 2024-03-01 or 2024-03-01T12:30:00Z',
    );
    const { table } = json('[{"when": "2024-03-01T12:30:00+02:00"}, {"when": null}]', { columns: { when: { type: 'date', nullable: true } } });
    expect(cells(table).when).toEqual(['2024-03-01T10:30:00.000Z', null]);
  });

  it('validates date bounds written as dates, compared as instants', () => {
    const config = loadMlYaml(
      [
        'name: t',
        'task: classification',
        'data: { train: data/t.csv, target: y }',
        'schema:',
        '  columns:',
        '    when: { type: date, min: 2024-01-01, max: "2024-06-30T23:59:59Z" }',
        'model: { type: random-forest }',
      ].join('\n'),
    );
    const schema = config.schema ?? {};
    expect(schema.columns?.when).toMatchObject({ type: 'date', min: '2024-01-01', max: '2024-06-30T23:59:59Z' });
    const loaded = csv('when,y\n2023-12-31T23:59:59Z,a\n2024-01-01,b\n2024-06-30T23:59:59Z,a\n2024-07-01,b\n', validationLoadOptions(schema));
    const range = validateTable(loaded.table, schema, { file: 'data/t.csv', violations: loaded.violations }).results.find((r) => r.rule === 'range');
    expect(range).toMatchObject({
      success: false,
      expectation: 'between 2024-01-01 and 2024-06-30T23:59:59Z',
      unexpectedCount: 2,
      unexpectedLines: [2, 5],
      message: 'data/t.csv:2: when is "2023-12-31T23:59:59.000Z", not between 2024-01-01 and 2024-06-30T23:59:59Z (2 values like it in all); fix the value, or change min/max in the schema',
    });
  });

  it.each([
    ['min: 2024-13-01', 'ml.yaml:5:39 schema.columns.when.min: must be an ISO 8601 date such as 2020-01-01 or 2020-01-01T00:00:00Z (got "2024-13-01")'],
    ['min: 2024', 'ml.yaml:5:39 schema.columns.when.min: must be an ISO 8601 date such as 2020-01-01 or 2020-01-01T00:00:00Z (got 2024)'],
    ['min: 2024-06-01, max: 2024-01-01', 'ml.yaml:5:56 schema.columns.when.max: is below min (2024-06-01)'],
  ])('refuses date bounds that are not dates, or out of order (%s)', (bounds, message) => {
    const text = ['name: t', 'task: classification', 'data: { train: data/t.csv, target: y }', 'schema:', `  columns: { when: { type: date, ${bounds} } }`, 'model: { type: random-forest }'].join('\n');
    expect(() => loadMlYaml(text)).toThrow(expect.objectContaining({ code: 'E_CONFIG', message }));
  });

  it('profiles a date column as instants, and drift runs the numeric tests on it', () => {
    const days = (from: number, n: number) => Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1) + (from + i) * 86_400_000).toISOString().slice(0, 10));
    const load = (dates: string[]) => csv(`when\n${dates.join('\n')}\n`, { columns: { when: { type: 'date' } } }).table;
    const reference = profileTable(load(days(0, 100)), { distributions: true });
    const column = reference.columns[0];
    expect(column).toMatchObject({ name: 'when', kind: 'date', count: 100, missing: 0, min: Date.UTC(2024, 0, 1), max: Date.UTC(2024, 3, 9) });
    expect(column.kind === 'date' && column.quantiles?.[2]).toBe(Date.UTC(2024, 0, 1) + 49.5 * 86_400_000);
    // The artifact stores this profile: model.schema.json's profile part allows a date column, and only with its figures.
    schemaValidator(ARTIFACT_SCHEMA_ID);
    const validProfile = schemaValidator(`${ARTIFACT_SCHEMA_ID}#/$defs/profile`);
    expect(validProfile(reference)).toBe(true);
    expect(validProfile({ ...reference, columns: [{ ...column, mean: 'soon' }] })).toBe(false);
    const same = detectDrift(reference, profileTable(load(days(0, 100)), { distributions: true }));
    const later = detectDrift(reference, profileTable(load(days(200, 100)), { distributions: true }));
    expect(same.columns[0]).toMatchObject({ column: 'when', kind: 'numeric', test: 'ks', drifted: false });
    expect(later.columns[0]).toMatchObject({ column: 'when', kind: 'numeric', test: 'ks', statistic: 1, drifted: true });
  });
});

describe('missing markers', () => {
  const DOTS = 'a,b,c\n1,x,.\n.,y,?\n3,n/a,4\n';

  it('reads data.missing markers as missing in every column, besides the built-in ones', () => {
    const { table } = csv(DOTS, { missing: ['.', '?'] });
    expect(cells(table)).toEqual({ a: [1, null, 3], b: ['x', 'y', null], c: [null, null, 4] });
  });

  it('reads a marker in a declared number column as missing, not a type error', () => {
    expect(() => csv(DOTS, { columns: { a: { type: 'integer', nullable: true } } })).toThrow('data/t.csv:3: a is ".", not a number; fix the value, or declare the column as category');
    const { table } = csv(DOTS, { missing: ['.'], columns: { a: { type: 'integer', nullable: true } } });
    expect(cells(table).a).toEqual([1, null, 3]);
  });

  it('reads a column marker only in its column', () => {
    const { table } = csv(DOTS, { columns: { c: { type: 'number', nullable: true, missing: ['.', '?'] } } });
    expect(cells(table)).toEqual({ a: ['1', '.', '3'], b: ['x', 'y', null], c: [null, null, 4] });
  });

  it('still refuses a marker in a column that may not be missing', () => {
    expect(() => csv(DOTS, { missing: ['.'], columns: { a: { type: 'integer' } } })).toThrow(
      expect.objectContaining({ code: 'E_DATA_MISSING', message: 'data/t.csv:3: a is missing ("."); fill in the value, or declare the column with nullable: true' }),
    );
  });

  it('reads markers in JSON text values, in number and category columns alike', () => {
    const { table } = json('[{"a": 1, "b": "."}, {"a": ".", "b": "x"}, {"a": "2", "b": "n/a"}]', { missing: ['.'] });
    expect(cells(table)).toEqual({ a: ['1', null, '2'], b: [null, 'x', 'n/a'] });
    const typed = json('[{"a": 1, "b": "."}, {"a": ".", "b": "x"}]', { missing: ['.'], columns: { a: { type: 'number', nullable: true } } });
    expect(cells(typed.table).a).toEqual([1, null]);
  });

  it('come from ml.yaml: data.missing for every column, schema.columns.X.missing for one', () => {
    const config = loadMlYaml(
      [
        'name: t',
        'task: classification',
        'data:',
        '  train: data/t.csv',
        '  target: y',
        "  missing: ['.', 'n/a']",
        'schema:',
        '  columns:',
        "    c: { type: number, nullable: true, missing: ['?'] }",
        'model: { type: random-forest }',
      ].join('\n'),
    );
    expect(config.data.missing).toEqual(['.', 'n/a']);
    expect(validationLoadOptions(config.schema ?? {}).columns.c).toEqual({ type: 'number', nullable: true, missing: ['?'] });
    expect(() => loadMlYaml('name: t\ntask: classification\ndata: { train: data/t.csv, target: y, missing: [-999] }\nmodel: { type: random-forest }\n')).toThrow(
      'ml.yaml:3:49 data.missing[0]: must be a string (got -999)',
    );
  });
});
