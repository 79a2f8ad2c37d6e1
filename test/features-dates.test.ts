import { op as aq } from 'arquero';
import { describe, expect, it } from 'vitest';
import { compileExpression, FeatureExpressionError, parseExpression, type Value } from '../src/features/expression.js';

const WHERE = 'features[0].derive.x';

function evaluate(text: string, row: Record<string, Value>): Value {
  return compileExpression(parseExpression(text, WHERE))((name) => row[name]);
}

const iso = (text: string): number => {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`bad test date ${text}`);
  return t;
};

/**
 * A few hundred instants: every day around the leap days of 1900 (not leap), 2000 and 2024, the last and first
 * minutes of many years, days before 1970 back to 1600, and seeded random instants from 1700 to 2300.
 */
function instants(): number[] {
  const out: number[] = [];
  for (const year of [1600, 1899, 1900, 1968, 1969, 1970, 1999, 2000, 2023, 2024, 2025, 2100]) {
    for (const day of ['-02-27', '-02-28', '-03-01', '-12-30', '-12-31', '-01-01', '-01-07']) out.push(iso(`${year}${day}T00:00:00Z`));
    out.push(iso(`${year}-12-31T23:59:59.999Z`), iso(`${year}-01-01T00:00:00.001Z`));
  }
  for (const leap of ['1904-02-29', '2000-02-29', '2024-02-29', '1600-02-29']) out.push(iso(`${leap}T12:30:00Z`));
  out.push(-1, 0, 1, iso('1969-12-31T23:59:59Z'));
  let seed = 20261206;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const from = iso('1700-01-01T00:00:00Z');
  const to = iso('2300-01-01T00:00:00Z');
  for (let i = 0; i < 200; i++) out.push(Math.floor(from + random() * (to - from)));
  return out;
}

describe('derive: arquero date functions, in UTC', () => {
  const dates = instants();
  // arquero's op.<name> reads local time; its op.utc<name> is the meaning ours must have.
  const pairs: [string, (t: number) => number][] = [
    ['year', (t) => aq.utcyear(t)],
    ['quarter', (t) => aq.utcquarter(t)],
    ['month', (t) => aq.utcmonth(t)],
    ['date', (t) => aq.utcdate(t)],
    ['dayofweek', (t) => aq.utcdayofweek(t)],
    ['dayofyear', (t) => aq.utcdayofyear(t)],
    ['hours', (t) => aq.utchours(t)],
    ['minutes', (t) => aq.utcminutes(t)],
    ['week', (t) => aq.utcweek(t, 0)],
  ];

  it('has a few hundred instants to compare on, before and after 1970', () => {
    expect(dates.length).toBeGreaterThan(300);
    expect(dates.filter((t) => t < 0).length).toBeGreaterThan(100);
  });

  it.each(pairs)('op.%s(d.t) equals arquero\'s UTC variant on every instant', (name, reference) => {
    const evaluate1 = compileExpression(parseExpression(`d => op.${name}(d.t)`, WHERE));
    const mismatches = dates
      .map((t) => [new Date(t).toISOString(), evaluate1(() => t), reference(t)] as const)
      .filter(([, ours, theirs]) => !Object.is(ours, theirs));
    expect(mismatches).toEqual([]);
  });

  it.each([0, 1, 2, 3, 4, 5, 6])('op.week(d.t, %i) equals arquero op.utcweek with that first day', (firstday) => {
    const evaluate1 = compileExpression(parseExpression(`d => op.week(d.t, ${firstday})`, WHERE));
    const mismatches = dates.filter((t) => !Object.is(evaluate1(() => t), aq.utcweek(t, firstday)));
    expect(mismatches.map((t) => new Date(t).toISOString())).toEqual([]);
  });

  it('gives the meanings arquero documents: month 0–11, quarter 0–3, Sunday = 0, 1 January = day 1', () => {
    const t = iso('2024-12-29T18:45:00Z'); // a Sunday
    const row = { t };
    expect(['year', 'month', 'quarter', 'date', 'dayofweek', 'dayofyear', 'hours', 'minutes', 'week'].map((f) => evaluate(`d => op.${f}(d.t)`, row))).toEqual([
      2024, 11, 3, 29, 0, 364, 18, 45, 52,
    ]);
    expect(evaluate('d => op.dayofyear(d.t)', { t: iso('2024-01-01T00:00:00Z') })).toBe(1);
    expect(evaluate('d => op.dayofyear(d.t)', { t: iso('2024-12-31T23:59:59Z') })).toBe(366);
    expect(evaluate('d => op.month(d.t)', { t: iso('2024-02-29T00:00:00Z') })).toBe(1);
  });

  it('reads years 0–99 as those years, where arquero\'s utcdayofyear (Date.UTC) reads them as 1900–1999', () => {
    const t = iso('0050-03-01T00:00:00Z');
    expect(evaluate('d => op.dayofyear(d.t)', { t })).toBe(60);
    expect(aq.utcdayofyear(t)).not.toBe(60);
    expect(evaluate('d => op.year(d.t)', { t })).toBe(50);
  });

  it('gives missing (NaN) for a missing or unreadable date, where arquero would read null as 1970', () => {
    for (const f of ['year', 'month', 'week', 'dayofyear', 'hours']) {
      expect(evaluate(`d => op.${f}(d.t)`, { t: NaN })).toBeNaN();
      expect(evaluate(`d => op.${f}(d.t)`, { t: null })).toBeNaN();
      expect(evaluate(`d => op.${f}(d.t)`, { t: 'not a date' })).toBeNaN();
    }
    expect(aq.utcyear(null as unknown as number)).toBe(1970);
  });

  it('reads ISO 8601 text in UTC, as arquero does for text in a UTC process', () => {
    expect(evaluate('d => op.year(d.s) * 100 + op.month(d.s)', { s: '2024-03-01' })).toBe(202402);
    expect(evaluate('d => op.hours(d.s)', { s: '2024-03-01T23:30:00+02:00' })).toBe(21);
    expect(evaluate('d => op.hours(d.s)', { s: '2024-03-01T23:30' })).toBe(23);
  });

  it('differences of dates are milliseconds, as with arquero\'s Date values', () => {
    expect(evaluate('d => (d.b - d.a) / 86400000', { a: iso('2024-02-28T00:00:00Z'), b: iso('2024-03-01T00:00:00Z') })).toBe(2);
  });

  it.each<[string, string]>([
    ['d => op.utcyear(d.t)', 'dates are read in UTC already; use op.year'],
    ['d => op.seconds(d.t)', 'dates give year, quarter, month, week, date, dayofyear, dayofweek, hours and minutes; seconds are not offered'],
    ['d => op.now()', 'a derived feature must give the same value in training and serving, so it cannot read the clock'],
    ['d => op.parse_date(d.s)', 'dates are read from ISO 8601 text by op.year, op.month, … themselves, in UTC'],
  ])('%s is refused with a hint', (text, hint) => {
    let caught: unknown;
    try {
      parseExpression(text, WHERE);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FeatureExpressionError);
    expect((caught as Error).message).toBe(`${WHERE}: ${JSON.stringify(text)} calls ${text.slice(5, text.indexOf('('))}, which is not an allowed function, at column 6; ${hint}`);
  });

  it('op.week takes one or two arguments', () => {
    expect(() => parseExpression('d => op.week(d.t, 1, 2)', WHERE)).toThrow(`${WHERE}: "d => op.week(d.t, 1, 2)" calls op.week with 3 arguments at column 6; op.week takes 1 to 2`);
  });
});
