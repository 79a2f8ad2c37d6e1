// The configurations a sweep tries, in a fixed order: trial i is the same configuration on every machine, so a
// shard is a set of trial indices, a killed sweep resumes by index, and a repeated sweep trains the same trials.
//
// Decisions:
// - grid: the product of the lists in ml.yaml's order, the last parameter varying fastest (GridSearchCV's
//   ParameterGrid order after sorting its keys; ours keeps the order the file gives).
// - random: `trials` draws from one seeded stream, parameter by parameter in ml.yaml's order: a list by uniform
//   choice, a range uniformly (integers inclusive of both ends, fractions to 3 decimals; `log: true` uniform in
//   log space).
// - halving: the grid, or random draws when some parameter has a range; its rounds are in halvingRounds.
import type { ForestParamsConfig, SweepConfig, SweepValues } from '../config/ml-yaml.js';
import { INTEGER_PARAMS, isRange } from '../config/sweep-rules.js';
import { Rng } from '../util/rng.js';

export type ParamValue = string | number | boolean | null;

export interface Trial {
  index: number;
  /** The swept parameters' values (the rest are model.params). */
  params: Record<string, ParamValue>;
}

/** The stream of random draws, apart from the forest's and the split's. */
const DRAW_STREAM = 0x53eeb;

/** Every trial of the sweep, by index. */
export function sweepTrials(sweep: SweepConfig, seed: number): Trial[] {
  const entries = Object.entries(sweep.params) as [string, SweepValues][];
  const ranged = entries.some(([, values]) => isRange(values));
  if (sweep.strategy === 'random' || ranged) return randomTrials(entries, sweep.trials ?? 1, seed);
  return gridTrials(entries);
}

function gridTrials(entries: readonly [string, SweepValues][]): Trial[] {
  let combos: Record<string, ParamValue>[] = [{}];
  for (const [name, values] of entries) {
    if (isRange(values)) continue;
    const next: Record<string, ParamValue>[] = [];
    for (const combo of combos) for (const value of values) next.push({ ...combo, [name]: value });
    combos = next;
  }
  return combos.map((params, index) => ({ index, params }));
}

function randomTrials(entries: readonly [string, SweepValues][], trials: number, seed: number): Trial[] {
  const rng = new Rng(seed, DRAW_STREAM);
  const out: Trial[] = [];
  for (let index = 0; index < trials; index++) {
    const params: Record<string, ParamValue> = {};
    for (const [name, values] of entries) params[name] = isRange(values) ? drawRange(rng, name, values) : values[rng.int(values.length)];
    out.push({ index, params });
  }
  return out;
}

/** A fraction drawn is kept to 3 decimals, as a person would write it into ml.yaml (inside its range). */
const FRACTION_STEP = 1000;

function drawRange(rng: Rng, name: string, range: { min: number; max: number; log?: boolean }): number {
  const { min, max } = range;
  const integer = INTEGER_PARAMS.includes(name);
  if (integer && range.log !== true) return min + rng.int(max - min + 1);
  const x = range.log === true && min > 0 ? Math.exp(Math.log(min) + rng.float() * (Math.log(max) - Math.log(min))) : min + rng.float() * (max - min);
  const rounded = integer ? Math.round(x) : Math.round(x * FRACTION_STEP) / FRACTION_STEP;
  return Math.min(max, Math.max(min, rounded));
}

/** model.params with a trial's values put in. */
export function trialParams(base: ForestParamsConfig, trial: Trial): ForestParamsConfig {
  return { ...base, ...trial.params } as ForestParamsConfig;
}

/** One round of successive halving: which trials it scores, on what share of each fold's training rows. */
export interface HalvingRound {
  rung: number;
  share: number;
}

/** Each round keeps the best third and triples the rows, so the last round trains on all of them. */
export const HALVING_FACTOR = 3;

/**
 * The rounds for `candidates` configurations: as many as it takes to narrow them to one, which the last round
 * scores on every row; the first round uses 1/3^(rounds−1) of them. (scikit-learn's HalvingGridSearchCV, factor 3
 * with rows as the resource, stops once at most 3 are left and scores those on every row; going on to one
 * candidate spends a third of that last round, and its choice among the 3 is made on a third of the rows.)
 */
export function halvingRounds(candidates: number): HalvingRound[] {
  let rounds = 1;
  for (let n = candidates; n > 1; n = Math.ceil(n / HALVING_FACTOR)) rounds++;
  const out: HalvingRound[] = [];
  for (let rung = 0; rung < rounds; rung++) out.push({ rung, share: HALVING_FACTOR ** (rung - rounds + 1) });
  return out;
}
