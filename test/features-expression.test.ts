import { describe, expect, it } from 'vitest';
import { compileExpression, FeatureExpressionError, parseExpression, type Value } from '../src/features/expression.js';
import { OP_NAMES } from '../src/features/expression-ops.js';

const WHERE = 'features[2].derive.x';
const ALLOWED = 'a derive expression may read d.<column> and call op.<function> only';
const OPS =
  'op.abs, op.cbrt, op.ceil, op.date, op.dayofweek, op.dayofyear, op.degrees, op.endswith, op.exp, op.expm1, op.floor, ' +
  'op.greatest, op.hours, op.is_finite, op.is_nan, op.least, op.length, op.log, op.log10, op.log1p, op.log2, op.lower, ' +
  'op.minutes, op.month, op.parse_float, op.parse_int, op.pow, op.quarter, op.radians, op.round, op.sign, op.sqrt, ' +
  'op.startswith, op.substring, op.trim, op.trunc, op.upper, op.week, op.year';

function evaluate(text: string, row: Record<string, Value>): Value {
  const parsed = parseExpression(text, WHERE);
  return compileExpression(parsed)((name) => row[name]);
}

describe('derive expressions: what they compute', () => {
  const row: Record<string, Value> = { a: 6, b: 2, missing: NaN, name: 'Fiber optic', none: null, 'with spaces': 10, flag: 1 };

  it.each<[string, Value]>([
    ['d => d.a / (d.b + 1)', 2],
    ['(d) => d.a > 3 ? 1 : 0', 1],
    ['d => d.a < 3 ? "low" : d.a < 10 ? "mid" : "high"', 'mid'],
    ['d => op.log(d.a) * 2', Math.log(6) * 2],
    ['d => op.pow(d.b, 10) + op.sqrt(16) - op.abs(-1)', 1027],
    ['d => op.greatest(d.a, d.b, 9)', 9],
    ['d => op.least(d.a, d.b)', 2],
    ['d => d["with spaces"] % 4', 2],
    ['d => d.a ** 2', 36],
    ['d => (-d.b) ** 3', -8],
    ['d => 2 ** 3 ** 2', 512],
    ['d => d.missing + 1', NaN],
    ['d => d.missing ?? 0', 0],
    ['d => d.none ?? "unknown"', 'unknown'],
    ['d => d.none + 1', NaN],
    ['d => d.name + "!"', 'Fiber optic!'],
    ['d => d.name === "Fiber optic" && d.a >= 6', true],
    ['d => d.flag == true', true],
    ['d => !d.missing', true],
    ['d => d.b !== 2 || "fallback"', 'fallback'],
    ['d => op.upper(d.name)', 'FIBER OPTIC'],
    ['d => op.length(d.none)', null],
    ['d => op.startswith(d.name, "Fib")', true],
    ['d => op.is_nan(d.missing)', true],
    ['d => 1e3 + .5 + 0x10', 1016.5],
    ['d => \'it\\\'s\'', "it's"],
    ['d.a * 10', 60],
  ])('%s gives %s', (text, expected) => {
    expect(evaluate(text, row)).toBe(expected);
  });

  it('lists the columns it reads, once each, in order of first use', () => {
    expect(parseExpression('d => d.TotalCharges / (d.tenure + 1) + d.TotalCharges + d["Monthly Charges"]', WHERE).columns).toEqual([
      'TotalCharges',
      'tenure',
      'Monthly Charges',
    ]);
  });

  it('names the row by its parameter', () => {
    const parsed = parseExpression('row => row.a + 1', WHERE);
    expect(parsed).toMatchObject({ param: 'row', columns: ['a'] });
    expect(compileExpression(parsed)(() => 2)).toBe(3);
  });
});

describe('derive expressions: what they refuse', () => {
  it.each<[string, string]>([
    ['d => process.exit()', `"d => process.exit()" uses "process" at column 6; ${ALLOWED}`],
    ['d => require("fs")', `"d => require(\\"fs\\")" uses "require" at column 6; ${ALLOWED}`],
    ['d => globalThis.x', `"d => globalThis.x" uses "globalThis" at column 6; ${ALLOWED}`],
    ['d => d.constructor', `"d => d.constructor" uses "constructor" at column 8; ${ALLOWED}`],
    ['d => d["constructor"]', `"d => d[\\"constructor\\"]" uses "constructor" at column 8; ${ALLOWED}`],
    ['d => "".constructor.constructor("return process")()', `"d => \\"\\".constructor.constructor(\\"return process\\")()" uses "constructor" at column 9; ${ALLOWED}`],
    ['d => op.constructor', `"d => op.constructor" uses "constructor" at column 9; ${ALLOWED}`],
    ['d => this.a', `"d => this.a" uses "this" at column 6; ${ALLOWED}`],
    ['d => d.a = 1', '"d => d.a = 1" assigns with "=" at column 10; a derive expression computes a value and cannot assign (to compare, use ===)'],
    ['d => d.a += 1', '"d => d.a += 1" assigns with "+=" at column 10; a derive expression computes a value and cannot assign (to compare, use ===)'],
    ['d => d.a++', '"d => d.a++" assigns with "++" at column 9; a derive expression computes a value and cannot assign (to compare, use ===)'],
    ['Math.max(1,2)', `"Math.max(1,2)" uses "Math" at column 1; ${ALLOWED}`],
    ['d => d.a()', '"d => d.a()" calls d.a at column 6; only op.<function> may be called, such as op.log(d.a)'],
    ['d => (d.a)(1)', '"d => (d.a)(1)" calls a value that is not an op function at column 11; only op.<function> may be called, such as op.log(d.x)'],
    ['d => (1).toFixed(2)', `"d => (1).toFixed(2)" reads property "toFixed" of a value at column 9; ${ALLOWED}`],
    ['d => d.a.length', `"d => d.a.length" reads property "length" of a value at column 9; ${ALLOWED}`],
    ['d => op.evil()', `"d => op.evil()" calls op.evil, which is not an allowed function, at column 6; the functions are ${OPS}`],
    ['d => op.max(d.a, d.b)', '"d => op.max(d.a, d.b)" calls op.max, which is not an allowed function, at column 6; op.max aggregates over rows; for the larger of values in one row use op.greatest'],
    ['d => op.log', '"d => op.log" names op.log without calling it at column 6; call it, as in op.log(d.x)'],
    ['d => op.pow(d.a)', '"d => op.pow(d.a)" calls op.pow with 1 argument at column 6; op.pow takes 2'],
    ['d => (d.a + 1', '"d => (d.a + 1" expects ")" at column 14 but the expression ends; close the "(" at column 6'],
    ['d => d.a + 1)', '"d => d.a + 1)" has a ")" at column 13 that closes nothing; remove it, or open it earlier'],
    ['d => op.log(d.a', '"d => op.log(d.a" expects ")" at column 16 but the expression ends; close the "(" at column 12'],
    ['d => d.a ? 1', '"d => d.a ? 1" expects ":" at column 13 but the expression ends; give both branches, as in a ? b : c'],
    ['d => -d.a ** 2', '"d => -d.a ** 2" puts a unary - before ** at column 11; add parentheses, as in (-a) ** 2 or -(a ** 2)'],
    ['d => { return 1 }', `"d => { return 1 }" has an unexpected "{" at column 6; ${ALLOWED}`],
    ['d => `${d.a}`', `"d => \`\${d.a}\`" has an unexpected "\`" at column 6; ${ALLOWED}`],
    ['d => d', '"d => d" uses the row "d" itself at column 6; read one of its columns, as in d.tenure'],
    ['d => d[0]', '"d => d[0]" indexes d with number 0 at column 8; name the column in quotes, as in d["a column"]'],
    ['d => new Date()', `"d => new Date()" uses "new" at column 6; ${ALLOWED}`],
    ['d => "open', '"d => \\"open" has a string that is never closed (opened at column 6); end it with "'],
    ['d => d.a # 1', '"d => d.a # 1" has an unexpected "#" at column 10; a derive expression may read d.<column> and call op.<function> only'],
    ['(a, b) => a.x', '"(a, b) => a.x" takes more than one parameter (column 3); a derive expression takes one row, as in "d => d.a + 1"'],
    ['d => ', '"d => " ends where a value is expected; complete the expression'],
    ['  ', '"  " is empty; write an expression such as "d => d.a + 1"'],
  ])('%s', (text, message) => {
    let caught: unknown;
    try {
      parseExpression(text, WHERE);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FeatureExpressionError);
    expect(caught).toMatchObject({ code: 'E_FEATURE_EXPRESSION', message: `${WHERE}: ${message}` });
  });
});

describe('derive expressions: nesting has a limit', () => {
  const N = 50_000;
  const sum = (n: number): string => Array.from({ length: n }, () => 'd.a').join(' + ');
  it.each<[string, string]>([
    ['brackets', `d => ${'('.repeat(N)}d.a${')'.repeat(N)}`],
    ['unary minus on brackets', `d => ${'-('.repeat(N)}d.a${')'.repeat(N)}`],
    ['unary signs', `d => ${'- '.repeat(N)}d.a`],
    ['right-nested sums', `d => ${'d.a+('.repeat(N)}d.a${')'.repeat(N)}`],
    ['a flat chain of sums (a left-deep tree)', `d => ${sum(N)}`],
    ['powers (right-associative)', `d => ${Array.from({ length: N }, () => 'd.a').join(' ** ')}`],
    ['nested calls', `d => ${'op.abs('.repeat(N)}d.a${')'.repeat(N)}`],
    ['chained conditionals', `d => ${'d.a ? 1 : '.repeat(N)}0`],
  ])('%s 50,000 deep are refused as too deep, not a stack overflow', (_, text) => {
    let caught: unknown;
    try {
      parseExpression(text, WHERE);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FeatureExpressionError);
    expect(caught).toMatchObject({ code: 'E_FEATURE_EXPRESSION', message: `${WHERE}: nested too deep (limit 256); simplify the expression`, data: { limit: 256 } });
  });

  it('allows 256 levels, and compiles and evaluates them', () => {
    expect(evaluate(`d => ${'('.repeat(255)}d.a${')'.repeat(255)}`, { a: 3 })).toBe(3);
    expect(evaluate(`d => ${sum(256)}`, { a: 1 })).toBe(256);
    expect(evaluate(`d => ${'-('.repeat(127)}d.a${')'.repeat(127)}`, { a: 5 })).toBe(-5);
    expect(() => parseExpression(`d => ${sum(257)}`, WHERE)).toThrow(`${WHERE}: nested too deep (limit 256); simplify the expression`);
  });

  it('quotes only the head of a long expression in other messages', () => {
    const text = `d => ${sum(100)} +`;
    expect(() => parseExpression(text, WHERE)).toThrow(`${WHERE}: ${JSON.stringify(`${text.slice(0, 119)}…`)} ends where a value is expected; complete the expression`);
  });
});

describe('derive: the documented functions are the allowed ones', () => {
  it('ml.schema.json (and so docs/ml-yaml.md) lists exactly OP_NAMES', async () => {
    const schema = (await import('../schemas/ml.schema.json', { with: { type: 'json' } })).default as { $defs: { step: { properties: { derive: { description: string } } } } };
    const documented = [...schema.$defs.step.properties.derive.description.matchAll(/`op\.(\w+)`/g)].map((m) => m[1]);
    expect([...new Set(documented)].sort()).toEqual([...OP_NAMES]);
  });
});
