// How each feature step is fitted on the training rows: the checks that name the step and column when it does not
// fit the data, and the statistics it learns (median, mode, mean and spread).
import { nearest } from '../errors.js';
import { compileExpression, parseExpression } from './expression.js';
import { FeatureStepError } from './feature-errors.js';
import type { Program, State } from './program.js';
import type { FittedStep, ImputeRule } from './transforms.js';

export interface FitContext {
  readonly program: Program;
  readonly state: State;
  readonly where: string;
  readonly target: string;
  readonly id: string | null;
  readonly step: number;
  /** Copies an input slot's training rows in from the table, the first time a step reads it. */
  readonly materialize: (slot: number) => void;
}

export function checkRole(ctx: FitContext, column: string): void {
  if (column === ctx.target) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(column)} is the target (data.target); it cannot be used as a feature`, { column });
  if (column === ctx.id) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(column)} is the id column (data.id), which is never a feature; remove it`, { column });
}

export function unknownColumn(ctx: FitContext, column: string, context = ''): FeatureStepError {
  const names = ctx.program.live.map((c) => c.name);
  const guess = nearest(column, names);
  const fix = guess !== undefined ? `did you mean ${JSON.stringify(guess)}?` : `the columns at this step are ${names.join(', ')}`;
  return new FeatureStepError(`${ctx.where}: there is no column ${JSON.stringify(column)}${context} at this step; ${fix}`, { column, suggestion: guess ?? null });
}

export function noValues(ctx: FitContext, column: string, what: string): FeatureStepError {
  return new FeatureStepError(`${ctx.where}: ${JSON.stringify(column)} has no values in the training rows, so ${what} cannot be learned; give { constant: … } or drop the column`, { column });
}

export function textColumn(ctx: FitContext, column: string, kind: string): FeatureStepError {
  return new FeatureStepError(`${ctx.where}: ${JSON.stringify(column)} holds text; ${kind} takes numeric columns — one-hot encode text with onehot`, { column });
}

export function dateColumn(ctx: FitContext, column: string, kind: string): FeatureStepError {
  return new FeatureStepError(
    `${ctx.where}: ${JSON.stringify(column)} holds dates, which ${kind} does not take; a date is not a feature by itself — read parts of it with derive, as in d => op.month(d[${JSON.stringify(column)}]), or leave it out with drop`,
    { column },
  );
}

/** A text slot's distinct present values in the training rows, sorted in UTF-16 order (as Array#sort does). */
export function sortedCategories(state: State, slot: number): string[] {
  const words = state.words[slot];
  const codes = state.codes[slot];
  const used = new Uint8Array(words.length);
  for (let r = 0; r < state.rows; r++) if (codes[r] >= 0) used[codes[r]] = 1;
  const out: string[] = [];
  for (let k = 0; k < words.length; k++) if (used[k] === 1) out.push(words[k]);
  return out.sort();
}

/** The present (not NaN) values of a number slot. */
export function numbers(ctx: FitContext, column: string, values: Float64Array | null, kind: string): Float64Array {
  if (values === null) throw textColumn(ctx, column, kind);
  const present = presentValues(values);
  if (present.length === 0) throw noValues(ctx, column, `its ${kind === 'standardize' ? 'mean and spread' : 'range'}`);
  return present;
}

export function presentValues(values: Float64Array): Float64Array {
  let n = 0;
  for (let r = 0; r < values.length; r++) if (values[r] === values[r]) n++;
  const out = new Float64Array(n);
  for (let r = 0, k = 0; r < values.length; r++) if (values[r] === values[r]) out[k++] = values[r];
  return out;
}

export function sum(values: Float64Array): number {
  let total = 0;
  for (let k = 0; k < values.length; k++) total += values[k];
  return total;
}

/**
 * The median of present values, exactly as sorting would give it (the middle value, or the mean of the middle two),
 * found by selection in linear time rather than by sorting a million values. `values` is reordered.
 * @internal exported for its test against sorting
 */
export function median(values: Float64Array): number {
  const n = values.length;
  const mid = n >> 1;
  const upper = orderStatistic(values, mid);
  return n % 2 === 1 ? upper : (orderStatistic(values, mid - 1) + upper) / 2;
}

/**
 * The k-th smallest value (0-based) in sort order, where −0 comes before +0 as Float64Array#sort puts it. Quickselect
 * with a three-way partition, so runs of equal values cost nothing; a range that does not shrink fast enough
 * (a pathological order) is sorted instead, which bounds the worst case at a sort.
 */
export function orderStatistic(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let budget = 2 * Math.ceil(Math.log2(a.length + 1)) + 16;
  let found = a[k];
  while (hi > lo) {
    if (budget-- === 0) {
      a.subarray(lo, hi + 1).sort();
      found = a[k];
      break;
    }
    const x = a[lo];
    const y = a[(lo + hi) >>> 1];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i++] = a[lt];
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt--] = v;
      } else {
        i++;
      }
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else {
      found = pivot;
      break;
    }
    found = a[k];
  }
  if (found !== 0) return found;
  // Partitions cannot tell −0 from +0; their order in a sort can: negatives, then −0s, then +0s.
  let below = 0;
  let negativeZeros = 0;
  for (let r = 0; r < a.length; r++) {
    if (a[r] < 0) below++;
    else if (Object.is(a[r], -0)) negativeZeros++;
  }
  return k < below + negativeZeros ? -0 : 0;
}

/** The most frequent number; ties go to the smallest, so the result does not depend on row order. */
export function numberMode(values: Float64Array): number {
  const counts = new Map<number, number>();
  for (let k = 0; k < values.length; k++) counts.set(values[k], (counts.get(values[k]) ?? 0) + 1);
  let best = values[0];
  let bestCount = 0;
  for (const [v, n] of counts) {
    if (n > bestCount || (n === bestCount && v < best)) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

/** The most frequent text of a text slot, or null when all are missing; ties go to the smallest text. */
export function textMode(state: State, slot: number): string | null {
  const words = state.words[slot];
  const codes = state.codes[slot];
  const counts = new Float64Array(words.length);
  for (let r = 0; r < state.rows; r++) if (codes[r] >= 0) counts[codes[r]]++;
  let best = -1;
  for (let k = 0; k < words.length; k++) {
    if (counts[k] === 0) continue;
    if (best < 0 || counts[k] > counts[best] || (counts[k] === counts[best] && words[k] < words[best])) best = k;
  }
  return best < 0 ? null : words[best];
}

export function fitImpute(ctx: FitContext, column: string, rule: ImputeRule, values: Float64Array | null, text: number): FittedStep {
  const base = { kind: 'impute', step: ctx.step, column } as const;
  if (typeof rule === 'object') {
    const c = rule.constant;
    if (values !== null) {
      if (typeof c === 'string') throw new FeatureStepError(`${ctx.where}: the constant ${JSON.stringify(c)} is text but ${JSON.stringify(column)} holds numbers; give a number`, { column });
      return { ...base, rule: 'constant', value: typeof c === 'boolean' ? (c ? 1 : 0) : c };
    }
    return { ...base, rule: 'constant', value: String(c) };
  }
  if (values !== null) {
    const present = presentValues(values);
    if (present.length === 0) throw noValues(ctx, column, `its ${rule}`);
    if (rule === 'mean') return { ...base, rule, value: sum(present) / present.length };
    if (rule === 'mode') return { ...base, rule, value: numberMode(present) };
    return { ...base, rule, value: median(present) };
  }
  if (rule !== 'mode') throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(rule)} needs numbers but ${JSON.stringify(column)} holds text; use mode or { constant: … }`, { column });
  const mode = textMode(ctx.state, text);
  if (mode === null) throw noValues(ctx, column, 'its mode');
  return { ...base, rule, value: mode };
}

export function fitDerive(ctx: FitContext, column: string, expression: string): FittedStep {
  const parsed = parseExpression(expression, ctx.where);
  const slotOf = new Map<string, number>();
  for (const name of parsed.columns) {
    if (name === ctx.target) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} reads the target ${JSON.stringify(name)} (data.target); a feature cannot see the label`, { column: name });
    if (name === ctx.id) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} reads the id column ${JSON.stringify(name)} (data.id), which is never a feature`, { column: name });
    const live = ctx.program.find(name);
    if (live === undefined) throw unknownColumn(ctx, name, ` for ${JSON.stringify(expression)} to read`);
    ctx.materialize(live.slot);
    slotOf.set(name, live.slot);
  }
  if (column === ctx.target || column === ctx.id) checkRole(ctx, column);
  // The output's kind is learned from the training rows: numbers and booleans make a number column, text a text one.
  const evaluate = compileExpression(parsed);
  const get = ctx.program.getter(slotOf, ctx.where);
  const { state } = ctx;
  let sawNumber = false;
  let sawText = false;
  for (let r = 0; r < state.rows; r++) {
    get.at(state, r);
    const v = evaluate(get.read);
    if (typeof v === 'string') sawText = true;
    else if (v !== null && !Number.isNaN(v)) sawNumber = true;
    if (v === Infinity || v === -Infinity) {
      throw new FeatureStepError(
        `${ctx.where}: ${JSON.stringify(expression)} gives ${v} on a training row, which no model can learn from; guard it, e.g. \`d.b === 0 ? null : d.a / d.b\` (null is a missing value)`,
        { column },
      );
    }
    if (sawText && sawNumber) {
      throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} gives numbers for some training rows and text for others; make it give one kind`, { column });
    }
  }
  return { kind: 'derive', step: ctx.step, column, expression, type: sawText ? 'text' : 'number' };
}
