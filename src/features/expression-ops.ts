import { parseInstant } from '../data/table.js';
import type { BinaryOp, Value } from './expression.js';

// ---------------------------------------------------------------------------------------------------------------
// The op functions. Names and meanings are arquero's (uwdata/arquero src/op/functions/math.js, string.js and
// date.js) for the row-level functions that take plain values; aggregates (op.min, op.max, op.mean), window
// functions, random numbers, the clock and regular expressions are left out, because a served row has no
// neighbours, no clock, and a pattern argument would be code again. Numbers read through `toNumber`, so a missing
// value (null) gives NaN.
//
// Date functions take arquero's plain names but always its UTC meaning (op.year is arquero's op.utcyear): a model
// must give the same features on a laptop in Berlin and a server in UTC, so local time never enters. A date reaches
// an expression as its instant, milliseconds since 1970 UTC; text is read as ISO 8601 (UTC unless it says
// otherwise). Missing stays missing: arquero reads null as 1970-01-01, which would make a gap look like a date.

export interface OpFunction {
  readonly min: number;
  readonly max: number;
  readonly fn: (args: readonly Value[]) => Value;
}

export function math1(f: (x: number) => number): OpFunction {
  return { min: 1, max: 1, fn: (a) => f(toNumber(a[0])) };
}

/** One Date, reused: the date functions read fields of one instant at a time and never keep it. */
const scratch = new Date(0);
const scratch2 = new Date(0);
const MS_DAY = 864e5;
const MS_WEEK = 6048e5;

/**
 * A value as an instant (UTC milliseconds): numbers as they are, ISO 8601 text read by the data loader's own
 * parser (so a date in a text column means what it would in a `type: date` one), anything else NaN.
 */
export function toInstant(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return parseInstant(v);
  return NaN;
}

export function date1(f: (d: Date) => number): OpFunction {
  return {
    min: 1,
    max: 1,
    fn: (a) => {
      const t = toInstant(a[0]);
      if (Number.isNaN(t)) return NaN;
      scratch.setTime(t);
      return f(scratch);
    },
  };
}

/**
 * arquero's utcweek, step for step: the week of the year (0–53), weeks starting on `firstday` (0 = Sunday); the
 * days of a new year before its first such day are week 0.
 */
export function utcWeek(t: number, firstday: number): number {
  const i = firstday || 0;
  const t1 = scratch;
  const t0 = scratch2;
  t1.setTime(t);
  t1.setUTCDate(t1.getUTCDate() - ((t1.getUTCDay() + 7 - i) % 7));
  t1.setUTCHours(0, 0, 0, 0);
  t0.setTime(t);
  t0.setUTCMonth(0);
  t0.setUTCDate(1);
  t0.setUTCDate(1 - ((t0.getUTCDay() + 7 - i) % 7));
  t0.setUTCHours(0, 0, 0, 0);
  return Math.floor((1 + (t1.getTime() - t0.getTime())) / MS_WEEK);
}

/** arquero's utcdayofyear: 1 to 366. */
export function utcDayOfYear(t: number): number {
  const t1 = scratch;
  t1.setTime(t);
  t1.setUTCHours(0, 0, 0, 0);
  // Not Date.UTC: it reads years 0–99 as 1900–1999.
  const t0 = scratch2;
  t0.setTime(t1.getTime());
  t0.setUTCMonth(0, 1);
  return Math.floor(1 + (t1.getTime() - t0.getTime()) / MS_DAY);
}

export function text1(f: (s: string) => Value): OpFunction {
  return { min: 1, max: 1, fn: (a) => (a[0] === null || Number.isNaN(a[0]) ? null : f(toText(a[0]))) };
}

export const OP_FUNCTIONS: Readonly<Record<string, OpFunction>> = {
  abs: math1(Math.abs),
  cbrt: math1(Math.cbrt),
  ceil: math1(Math.ceil),
  exp: math1(Math.exp),
  expm1: math1(Math.expm1),
  floor: math1(Math.floor),
  log: math1(Math.log),
  log10: math1(Math.log10),
  log1p: math1(Math.log1p),
  log2: math1(Math.log2),
  round: math1(Math.round),
  sign: math1(Math.sign),
  sqrt: math1(Math.sqrt),
  trunc: math1(Math.trunc),
  degrees: math1((x) => (180 * x) / Math.PI),
  radians: math1((x) => (Math.PI * x) / 180),
  pow: { min: 2, max: 2, fn: (a) => Math.pow(toNumber(a[0]), toNumber(a[1])) },
  greatest: { min: 1, max: Infinity, fn: (a) => extreme(a, 1) },
  least: { min: 1, max: Infinity, fn: (a) => extreme(a, -1) },
  is_nan: { min: 1, max: 1, fn: (a) => Number.isNaN(a[0]) },
  is_finite: { min: 1, max: 1, fn: (a) => Number.isFinite(a[0]) },
  lower: text1((s) => s.toLowerCase()),
  upper: text1((s) => s.toUpperCase()),
  trim: text1((s) => s.trim()),
  length: text1((s) => s.length),
  parse_float: text1((s) => Number.parseFloat(s)),
  parse_int: text1((s) => Number.parseInt(s, 10)),
  startswith: { min: 2, max: 2, fn: (a) => (a[0] === null ? false : toText(a[0]).startsWith(toText(a[1]))) },
  endswith: { min: 2, max: 2, fn: (a) => (a[0] === null ? false : toText(a[0]).endsWith(toText(a[1]))) },
  substring: {
    min: 2,
    max: 3,
    fn: (a) => (a[0] === null ? null : toText(a[0]).substring(toNumber(a[1]), a.length > 2 ? toNumber(a[2]) : undefined)),
  },
  year: date1((d) => d.getUTCFullYear()),
  quarter: date1((d) => Math.floor(d.getUTCMonth() / 3)),
  month: date1((d) => d.getUTCMonth()),
  date: date1((d) => d.getUTCDate()),
  dayofweek: date1((d) => d.getUTCDay()),
  hours: date1((d) => d.getUTCHours()),
  minutes: date1((d) => d.getUTCMinutes()),
  dayofyear: {
    min: 1,
    max: 1,
    fn: (a) => {
      const t = toInstant(a[0]);
      return Number.isNaN(t) ? NaN : utcDayOfYear(t);
    },
  },
  week: {
    min: 1,
    max: 2,
    fn: (a) => {
      const t = toInstant(a[0]);
      return Number.isNaN(t) ? NaN : utcWeek(t, a.length > 1 ? toNumber(a[1]) : 0);
    },
  },
};

/** Math.max / Math.min over the arguments, one pair at a time (so NaN and −0 behave as in Math.max), without spread. */
export function extreme(args: readonly Value[], sign: 1 | -1): number {
  let best = sign > 0 ? -Infinity : Infinity;
  for (const v of args) best = sign > 0 ? Math.max(best, toNumber(v)) : Math.min(best, toNumber(v));
  return best;
}

/** The functions a derive expression may call, as `op.<name>`. */
export const OP_NAMES: readonly string[] = Object.keys(OP_FUNCTIONS).sort();

/** Why a familiar name is missing: arquero's op.min/op.max aggregate over rows; one row wants greatest/least. */
export const OP_HINTS: Readonly<Record<string, string>> = {
  max: 'op.max aggregates over rows; for the larger of values in one row use op.greatest',
  min: 'op.min aggregates over rows; for the smaller of values in one row use op.least',
  random: 'a derived feature must give the same value in training and serving, so it cannot be random',
  now: 'a derived feature must give the same value in training and serving, so it cannot read the clock',
  ...Object.fromEntries(
    ['year', 'quarter', 'month', 'week', 'date', 'dayofyear', 'dayofweek', 'hours', 'minutes'].map((n) => [`utc${n}`, `dates are read in UTC already; use op.${n}`]),
  ),
  seconds: 'dates give year, quarter, month, week, date, dayofyear, dayofweek, hours and minutes; seconds are not offered',
  timestamp: 'a date is read as its instant already (milliseconds since 1970 UTC); use the column itself, as in d.when',
  datetime: 'a derived feature cannot build dates; read parts of one with op.year, op.month, …',
  utcdatetime: 'a derived feature cannot build dates; read parts of one with op.year, op.month, …',
  format_date: 'a derived feature gives numbers or text for the model; read parts of a date with op.year, op.month, …',
  format_utcdate: 'a derived feature gives numbers or text for the model; read parts of a date with op.year, op.month, …',
  parse_date: 'dates are read from ISO 8601 text by op.year, op.month, … themselves, in UTC',
};

/**
 * Names refused even where a field or op name is expected: with them, `d.constructor.constructor("…")()` style
 * escapes reach Function. Row records are read with own-property checks as well, but refusing them here gives the
 * person a message at fit time instead of a surprise at serving time.
 */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

// ---------------------------------------------------------------------------------------------------------------
// Values: JavaScript's operators, except that missing stays missing (null + 1 is NaN, not 1).

/** A value as a number: booleans are 1 and 0, missing is NaN, text is read as a number (blank text is NaN). */
export function toNumber(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null) return NaN;
  return v.trim() === '' ? NaN : Number(v);
}

export function toText(v: Value): string {
  return typeof v === 'string' ? v : String(v);
}

/** JavaScript truthiness: null, NaN, 0, false and "" are false. */
export function truthy(v: Value): boolean {
  return v !== null && v !== 0 && v !== false && v !== '' && !(typeof v === 'number' && Number.isNaN(v));
}

/** Missing text (null) or a missing number (NaN): what `??` replaces. */
export function isMissing(v: Value): boolean {
  return v === null || (typeof v === 'number' && Number.isNaN(v));
}

/** Equality for `==` and `===` alike: booleans compare as 1 and 0, because boolean columns are stored that way. */
export function equal(a: Value, b: Value): boolean {
  const x = typeof a === 'boolean' ? (a ? 1 : 0) : a;
  const y = typeof b === 'boolean' ? (b ? 1 : 0) : b;
  return x === y;
}

export function compare(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = toNumber(a);
  const y = toNumber(b);
  return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
}

export function add(a: Value, b: Value): Value {
  if (typeof a === 'string' || typeof b === 'string') return a === null || b === null ? null : toText(a) + toText(b);
  return toNumber(a) + toNumber(b);
}

export const BINARY: Readonly<Record<BinaryOp, (a: Value, b: Value) => Value>> = {
  '+': add,
  '-': (a, b) => toNumber(a) - toNumber(b),
  '*': (a, b) => toNumber(a) * toNumber(b),
  '/': (a, b) => toNumber(a) / toNumber(b),
  '%': (a, b) => toNumber(a) % toNumber(b),
  '**': (a, b) => toNumber(a) ** toNumber(b),
  '==': equal,
  '===': equal,
  '!=': (a, b) => !equal(a, b),
  '!==': (a, b) => !equal(a, b),
  '<': (a, b) => compare(a, b) < 0,
  '<=': (a, b) => compare(a, b) <= 0,
  '>': (a, b) => compare(a, b) > 0,
  '>=': (a, b) => compare(a, b) >= 0,
};
