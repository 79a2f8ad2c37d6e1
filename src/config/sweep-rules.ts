// The rules on ml.yaml's `sweep:` that its JSON Schema cannot express, each at the place it names: a swept name
// that is not a forest parameter, a value the forest refuses (with the rest of model.params), a range on a
// parameter that is not numeric or with min > max, a range under `strategy: grid`, a grid larger than `trials`,
// a metric unsuited to the task, and folds with a time split.
import { nearest } from '../errors.js';
import type { Metric } from '../model/metric-names.js';
import { forestParamsFinding } from './forest-options.js';
import type { ForestParamsConfig, MlConfig, SweepValues } from './ml-yaml.js';
import type { Finding, Segment } from './positions.js';
import { shown } from './schema-messages.js';

/** The forest parameters a sweep may vary (model.params' names). */
export const SWEEP_PARAMS = ['trees', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxFeatures', 'bootstrap', 'maxSamples', 'classWeight', 'maxBins'] as const satisfies readonly (keyof ForestParamsConfig)[];

/** Parameters drawn as integers from a range; the others that take a range (maxFeatures, maxSamples) as fractions. */
export const INTEGER_PARAMS: readonly string[] = ['trees', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxBins'];
const RANGE_PARAMS: readonly string[] = [...INTEGER_PARAMS, 'maxFeatures', 'maxSamples'];

export type SweepRange = { min: number; max: number; log?: boolean };
type MetricCheck = (config: MlConfig, metric: Metric, path: Segment[], at: Finding['at'], out: Finding[]) => boolean;

/** Whether a swept parameter's values are a range rather than a list. */
export function isRange(values: SweepValues): values is SweepRange {
  return !Array.isArray(values);
}

/** How many configurations the lists of a sweep make (0 when a parameter has a range: ranges are drawn, not listed). */
export function gridSize(params: Readonly<Record<string, SweepValues>>): number {
  let size = 1;
  for (const values of Object.values(params)) size *= isRange(values) ? 0 : values.length;
  return size;
}

/** Whether the forest refuses `value` for `name` with the rest of model.params; the finding's message, or undefined. */
function refusal(config: MlConfig, name: string, value: unknown): string | undefined {
  const finding = forestParamsFinding({ task: config.task, model: { ...config.model, params: { ...config.model.params, [name]: value } } });
  return finding === undefined ? undefined : `${shown(value)} cannot be trained with the rest of model.params: ${finding.message}`;
}

export function checkSweep(config: MlConfig, out: Finding[], checkMetric: MetricCheck): void {
  const sweep = config.sweep;
  if (sweep === undefined) return;
  let ranges = false;
  for (const [name, values] of Object.entries(sweep.params)) {
    const at: Segment[] = ['sweep', 'params', name];
    if (!(SWEEP_PARAMS as readonly string[]).includes(name)) {
      const guess = nearest(name, SWEEP_PARAMS);
      out.push({ path: at, at: 'key', message: `is not a forest parameter${guess ? `; did you mean ${shown(guess)}?` : ''} A sweep varies model.params: ${SWEEP_PARAMS.join(', ')}` });
      continue;
    }
    if (isRange(values)) {
      ranges = true;
      checkRange(config, name, values, at, out);
      continue;
    }
    values.forEach((value, i) => {
      const message = refusal(config, name, value);
      if (message !== undefined) out.push({ path: [...at, i], at: 'value', message });
    });
  }
  if (ranges && sweep.strategy === 'grid') {
    out.push({ path: ['sweep', 'strategy'], at: 'value', message: 'a grid lists every value, but some parameters have a range {min, max}; list their values, or use strategy: random or halving with trials' });
  }
  if ((sweep.strategy === 'random' || (sweep.strategy === 'halving' && ranges)) && sweep.trials === undefined) {
    out.push({ path: ['sweep'], at: 'parent', message: `strategy: ${sweep.strategy}${ranges ? ' over ranges' : ''} needs trials (how many configurations to draw), such as trials: 20` });
  }
  if (sweep.strategy === 'grid' && !ranges && sweep.trials !== undefined) {
    const size = gridSize(sweep.params);
    if (size > sweep.trials) out.push({ path: ['sweep', 'trials'], at: 'value', message: `the grid has ${size} configurations, more than trials: ${sweep.trials}; raise trials, shorten the lists, or use strategy: random` });
  }
  if (sweep.metric !== undefined) checkMetric(config, sweep.metric, ['sweep', 'metric'], 'value', out);
  if (config.split.by !== undefined) {
    out.push({ path: ['sweep'], at: 'parent', message: `k-fold cross-validation mixes times, but split.by ${shown(config.split.by)} asks for a time split; remove split.by, or remove sweep` });
  }
}

function checkRange(config: MlConfig, name: string, range: SweepRange, at: Segment[], out: Finding[]): void {
  if (!RANGE_PARAMS.includes(name)) {
    out.push({ path: at, at: 'value', message: `${name} is not numeric, so it takes a list of values, not a range {min, max}` });
    return;
  }
  if (range.min > range.max) {
    out.push({ path: [...at, 'min'], at: 'value', message: `is above max (${range.min} > ${range.max}); swap them` });
    return;
  }
  for (const end of ['min', 'max'] as const) {
    const value = range[end];
    if (INTEGER_PARAMS.includes(name) && !Number.isInteger(value)) {
      out.push({ path: [...at, end], at: 'value', message: `${name} is a whole number, so its range needs whole ends (got ${value})` });
      continue;
    }
    const message = refusal(config, name, value);
    if (message !== undefined) out.push({ path: [...at, end], at: 'value', message });
  }
}
