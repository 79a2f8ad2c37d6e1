import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { schemaValidator } from '../src/schemas.js';
import { describe, expect, it } from 'vitest';
import validationSchema from '../schemas/validation.schema.json' with { type: 'json' };
import { loadMlYaml } from '../src/config/ml-yaml.js';
import { loadTable, readTable } from '../src/data/load.js';
import {
  formatValidation,
  validateTable,
  validationLoadOptions,
  VALIDATION,
  type DataSchema,
  type RuleResult,
  type ValidationResult,
} from '../src/data/validate.js';

const root = join(import.meta.dirname, '..');
const churnPath = join(root, 'templates/model-repo/data/churn.csv');
const churnText = readFileSync(churnPath, 'utf8');
const churnSchema: DataSchema = loadMlYaml(readFileSync(join(root, 'templates/model-repo/ml.yaml'), 'utf8')).schema ?? {};

/** Loads CSV text the way `bramble validate` does (declared types, lenient) and validates it. */
function validateCsv(text: string, schema: DataSchema, file = 'data/t.csv'): ValidationResult {
  const { table, violations } = loadTable(new TextEncoder().encode(text), { file, ...validationLoadOptions(schema) });
  return validateTable(table, schema, { file, violations });
}

function rule(result: ValidationResult, column: string | null, name: RuleResult['rule']): RuleResult {
  const found = result.results.find((r) => r.column === column && r.rule === name);
  if (found === undefined) throw new Error(`no ${name} rule for ${String(column)}`);
  return found;
}

/** The failures only, as [column, rule, count, first lines]. */
const failures = (result: ValidationResult): [string | null, string, number, readonly number[]][] =>
  result.results.filter((r) => !r.success).map((r) => [r.column, r.rule, r.unexpectedCount, r.unexpectedLines]);

// Header on line 1, so row r (0-based) is on line r + 2.
const small = [
  'id,age,plan,code,score,flag',
  'a1,30,basic,AB-1,0.5,true',
  'a2,abc,basic,AB-2,0.7,false',
  'a1,45,gold,XX,1.5,yes',
  'a4,,silver,AB-4,,no',
  'a5,12.5,basic,AB-5x,0.2,maybe',
  'a6,99,,AB-6,-1,true',
].join('\n');

const smallSchema: DataSchema = {
  rows: { min: 10 },
  columns: {
    id: { type: 'string', unique: true },
    age: { type: 'integer', min: 18, max: 90 },
    plan: { type: 'category', values: ['basic', 'gold'] },
    code: { type: 'string', regex: 'AB-\\d' },
    score: { type: 'number', min: 0, max: 1, nullable: true },
    flag: { type: 'boolean' },
  },
};

describe('validateTable on a small crafted file', () => {
  const result = validateCsv(small, smallSchema);

  it.each<[string | null, RuleResult['rule'], string, number, number[]]>([
    [null, 'row_count', 'at least 10 rows', 4, []],
    ['id', 'unique', 'no repeated values', 2, [2, 4]],
    ['age', 'type', 'whole numbers', 2, [3, 6]],
    ['age', 'not_null', 'no missing values', 1, [5]],
    ['age', 'range', 'between 18 and 90', 1, [7]],
    ['plan', 'not_null', 'no missing values', 1, [7]],
    ['plan', 'values', 'one of basic, gold', 1, [5]],
    ['code', 'regex', 'matches /AB-\\d/', 2, [4, 6]],
    ['score', 'range', 'between 0 and 1', 2, [4, 7]],
    ['flag', 'type', 'true/false', 1, [6]],
  ])('reports %s %s (%s) with %i rows on lines %j', (column, name, expectation, count, lines) => {
    expect(rule(result, column, name)).toMatchObject({ expectation, unexpectedCount: count, unexpectedLines: lines, success: false });
  });

  it('fails only those rules, and passes the others', () => {
    expect(failures(result).map(([c, r]) => `${c ?? '(rows)'}.${r}`)).toEqual([
      '(rows).row_count',
      'id.unique',
      'age.type',
      'age.not_null',
      'age.range',
      'plan.not_null',
      'plan.values',
      'code.regex',
      'score.range',
      'flag.type',
    ]);
    expect(result.success).toBe(false);
    expect(result.statistics).toEqual({ evaluated: result.results.length, successful: result.results.length - 10, failed: 10 });
    // score is nullable: its one blank is no failure, and there is no not_null rule for it.
    expect(result.results.some((r) => r.column === 'score' && r.rule === 'not_null')).toBe(false);
  });

  it.each<[string | null, RuleResult['rule'], string]>([
    [null, 'row_count', 'data/t.csv has 6 rows, fewer than the 10 that schema.rows.min requires; check that the file is complete, or lower schema.rows.min'],
    ['id', 'unique', 'data/t.csv:2: id is "a1", which repeats (2 rows with a repeated value in all); remove the duplicate rows, or drop unique from the schema'],
    ['age', 'type', 'data/t.csv:3: age is "abc", not a number; fix the value, or declare the column as category (2 values like it in all)'],
    ['age', 'not_null', 'data/t.csv:5: age is missing; fill in the value, or declare the column with nullable: true'],
    ['age', 'range', 'data/t.csv:7: age is 99, not between 18 and 90; fix the value, or change min/max in the schema'],
    ['plan', 'values', 'data/t.csv:5: plan is "silver", not one of basic, gold; fix the value, or add it to values in the schema'],
    ['code', 'regex', 'data/t.csv:4: code is "XX", which does not match /AB-\\d/ in full (2 values like it in all); fix the value, or change regex in the schema'],
    ['flag', 'type', 'data/t.csv:6: flag is "maybe", not a boolean (true/false, yes/no, 1/0); fix the value, or declare the column as category'],
  ])('explains %s %s with the place, the value and the fix', (column, name, message) => {
    expect(rule(result, column, name).message).toBe(message);
  });

  it('reads 12.5 in an integer column as a type failure, with the loader message', () => {
    expect(rule(result, 'age', 'type').unexpectedLines).toEqual([3, 6]);
    const strict = () => loadTable(new TextEncoder().encode(small), { file: 'data/t.csv', columns: { age: { type: 'integer' } } });
    expect(strict).toThrow('data/t.csv:3: age is "abc", not a number; fix the value, or declare the column as category');
  });

  it('lists at most the first 20 lines but counts every row', () => {
    const rows = Array.from({ length: 30 }, (_, i) => `${i},-${i + 1}`);
    const result = validateCsv(['id,x', ...rows].join('\n'), { columns: { x: { type: 'number', min: 0 } } });
    expect(rule(result, 'x', 'range')).toMatchObject({ unexpectedCount: 30, unexpectedLines: Array.from({ length: 20 }, (_, i) => i + 2) });
  });
});

describe('bad inputs, with exact messages', () => {
  it('reports a declared column missing from the data, naming the nearest column', () => {
    const result = validateCsv('id,tenure\n1,3\n', { columns: { tenur: { type: 'integer' } } });
    expect(rule(result, 'tenur', 'present')).toEqual({
      column: 'tenur',
      rule: 'present',
      expectation: 'in the data',
      unexpectedCount: 1,
      unexpectedLines: [],
      success: false,
      message: 'data/t.csv has no column "tenur" declared in the schema; did you mean "tenure"?',
    });
  });

  it('lists the columns when no name is close', () => {
    const result = validateCsv('id,tenure\n1,3\n', { columns: { MonthlyCharges: { type: 'number' } } });
    expect(rule(result, 'MonthlyCharges', 'present').message).toBe('data/t.csv has no column "MonthlyCharges" declared in the schema; its columns are "id", "tenure"');
  });

  it('fails an all-missing column even when it is nullable', () => {
    const result = validateCsv('id,TotalCharges\n1,\n2, \n3,NA\n', { columns: { TotalCharges: { type: 'number', nullable: true } } });
    expect(failures(result)).toEqual([['TotalCharges', 'has_values', 3, []]]);
    expect(rule(result, 'TotalCharges', 'has_values').message).toBe(
      'data/t.csv: TotalCharges has no values: all 3 rows are missing; check how the file was exported, or remove the column from the schema',
    );
  });

  it('reports text in a numeric column at its first offending line', () => {
    const result = validateCsv('id,tenure\n1,3\n2,4\n3,three\n4,x\n', { columns: { tenure: { type: 'integer' } } });
    expect(failures(result)).toEqual([['tenure', 'type', 2, [4, 5]]]);
    expect(rule(result, 'tenure', 'type').message).toBe('data/t.csv:4: tenure is "three", not a number; fix the value, or declare the column as category (2 values like it in all)');
  });

  it('counts the same failures in JSON records, at the records’ lines', () => {
    const json = '[\n{"id": 1, "tenure": 3},\n{"id": 2, "tenure": "three"},\n{"id": 3, "tenure": null}\n]';
    const schema: DataSchema = { columns: { tenure: { type: 'integer' }, plan: { type: 'category' } } };
    const { table, violations } = loadTable(new TextEncoder().encode(json), { file: 'data/t.json', ...validationLoadOptions(schema) });
    const result = validateTable(table, schema, { file: 'data/t.json', violations });
    expect(failures(result)).toEqual([
      ['tenure', 'type', 1, [3]],
      ['tenure', 'not_null', 1, [4]],
      ['plan', 'present', 3, []],
    ]);
    expect(rule(result, 'tenure', 'type').message).toBe('data/t.json:3: tenure is "three", not a number; fix the value, or declare the column as category');
  });

  it('refuses a table not loaded with the declared types', () => {
    const { table } = loadTable(new TextEncoder().encode('id,tenure\n1,x\n'), { file: 'data/t.csv' });
    expect(() => validateTable(table, { columns: { tenure: { type: 'integer' } } }, { file: 'data/t.csv' })).toThrow(
      expect.objectContaining({ code: 'E_VALIDATE_INPUT', message: expect.stringContaining('data/t.csv: tenure was read as category, but the schema declares it integer') }),
    );
  });
});

describe('the Telco data against the template ml.yaml', () => {
  it('passes every rule, read from disk', async () => {
    const { table, violations } = await readTable(churnPath, { file: 'data/churn.csv', ...validationLoadOptions(churnSchema) });
    const result = validateTable(table, churnSchema, { file: 'data/churn.csv', violations });
    expect(failures(result)).toEqual([]);
    expect(result).toMatchObject({ success: true, rows: 7043, statistics: { failed: 0 } });
    // TotalCharges is nullable (11 blanks), so it has no not_null rule; every other column has one.
    expect(result.results.filter((r) => r.rule === 'not_null')).toHaveLength(20);
  });

  /**
   * 30 rows corrupted, 10 in each of three ways, on known lines: tenure above its maximum, gender outside its
   * labels, and MonthlyCharges as text.
   */
  function corrupted(): { text: string; lines: Record<'tenure' | 'gender' | 'charges', number[]> } {
    const lines = churnText.split('\n');
    const header = lines[0].split(',');
    const at = (name: string): number => header.indexOf(name);
    const picked = { tenure: [] as number[], gender: [] as number[], charges: [] as number[] };
    for (let k = 0; k < 30; k++) {
      const line = 3 + k * 211; // spread over the file, 1-based
      const fields = lines[line - 1].split(',');
      expect(fields).toHaveLength(21); // no quoted commas on the chosen lines
      if (k % 3 === 0) {
        fields[at('tenure')] = String(100 + k);
        picked.tenure.push(line);
      } else if (k % 3 === 1) {
        fields[at('gender')] = 'F';
        picked.gender.push(line);
      } else {
        fields[at('MonthlyCharges')] = 'n.a.';
        picked.charges.push(line);
      }
      lines[line - 1] = fields.join(',');
    }
    return { text: lines.join('\n'), lines: picked };
  }

  it('fails exactly the corrupted rules, with their counts and lines', () => {
    const { text, lines } = corrupted();
    const result = validateCsv(text, churnSchema, 'data/churn.csv');
    expect(failures(result)).toEqual([
      ['gender', 'values', 10, lines.gender],
      ['tenure', 'range', 10, lines.tenure],
      ['MonthlyCharges', 'type', 10, lines.charges],
    ]);
    expect(rule(result, 'tenure', 'range').message).toBe(
      `data/churn.csv:${lines.tenure[0]}: tenure is 100, not between 0 and 72 (10 values like it in all); fix the value, or change min/max in the schema`,
    );
    expect(rule(result, 'MonthlyCharges', 'not_null').success).toBe(true);
  });

  it('prints a terminal table with aligned columns and the failures', () => {
    const { text, lines } = corrupted();
    const out = formatValidation(validateCsv(text, churnSchema, 'data/churn.csv'));
    const rows = out.split('\n');
    expect(rows[0]).toBe('data/churn.csv: 7043 rows, 85 checks, 3 failed — NOT valid');
    const header = rows[2];
    const tenure = rows.find((r) => r.includes('between 0 and 72')) ?? '';
    expect(tenure).toMatch(/ +10 +\d+, \d+, \d+, \d+, \d+, … +FAIL$/);
    // The count column is right-aligned under its header.
    expect(tenure.indexOf(' 10 ') + 3).toBe(header.indexOf('unexpected') + 'unexpected'.length);
    expect(out).toContain(`Failures:\n  data/churn.csv:${lines.gender[0]}: gender is "F", not one of Female, Male (10 values like it in all)`);
  });
});

describe('the --json form', () => {
  const validate = schemaValidator(VALIDATION.schemaId);

  it.each<[string, () => ValidationResult]>([
    ['a failing result', () => validateCsv(small, smallSchema)],
    ['a passing result', () => validateCsv('id,x\n1,2\n', { rows: { max: 5 }, columns: { x: { type: 'number', unique: true } } })],
    ['a missing column', () => validateCsv('id,x\n1,2\n', { columns: { y: { type: 'number' } } })],
  ])('matches schemas/validation.schema.json: %s', (_, make) => {
    const result = JSON.parse(JSON.stringify(make())) as ValidationResult;
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
  });

  it('is identified by the same $id and format the code uses', () => {
    expect(validationSchema.$id).toBe(VALIDATION.schemaId);
    expect(validationSchema.properties.format.const).toBe(VALIDATION.format);
  });

  it('rejects a failure without its message', () => {
    const result = validateCsv(small, smallSchema);
    const broken = { ...result, results: result.results.map(({ message: _, ...r }) => r) };
    expect(validate(broken)).toBe(false);
  });
});
