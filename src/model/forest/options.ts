import { errorClass, nearest } from '../../errors.js';

export type Task = 'classification' | 'regression';
export type MaxFeatures = 'sqrt' | 'log2' | 'all' | number;
export type ClassWeight = 'balanced' | Readonly<Record<string, number>> | null;

/** What a forest is built with; every field is recorded in the serialized model. */
export interface ForestParams {
  task: Task;
  trees: number;
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  maxFeatures: MaxFeatures;
  bootstrap: boolean;
  maxSamples: number | null;
  classWeight: ClassWeight;
  maxBins: number;
  seed: number;
}

export type ForestOptions = Partial<ForestParams>;

export class ForestOptionError extends errorClass('E_FOREST_OPTION') {}

/** The maximum number of value bins per feature; one more code is kept for "missing". */
export const MAX_BINS = 255;
export const MISSING_BIN = 255;

// scikit-learn's names, so that its users are pointed at ours.
const SKLEARN_NAMES: Readonly<Record<string, string>> = {
  n_estimators: 'trees',
  max_depth: 'maxDepth',
  min_samples_split: 'minSamplesSplit',
  min_samples_leaf: 'minSamplesLeaf',
  max_features: 'maxFeatures',
  max_samples: 'maxSamples',
  class_weight: 'classWeight',
  random_state: 'seed',
};

const OPTION_NAMES = [
  'task',
  'trees',
  'maxDepth',
  'minSamplesSplit',
  'minSamplesLeaf',
  'maxFeatures',
  'bootstrap',
  'maxSamples',
  'classWeight',
  'maxBins',
  'seed',
] as const satisfies readonly (keyof ForestParams)[];

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  try {
    return JSON.stringify(value);
  } catch (err) {
    // A cycle or a BigInt: JSON.stringify's TypeError. The value is still shown, by its kind.
    if (!(err instanceof TypeError)) throw err;
    return Object.prototype.toString.call(value);
  }
}

function fail(option: string, value: unknown, allowed: string): never {
  throw new ForestOptionError(`forest option ${option} is ${show(value)}; allowed: ${allowed}`, { option, value, allowed });
}

function isInteger(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Checks every option and fills in the defaults (scikit-learn's, where it has one). */
export function resolveForestParams(options: unknown): ForestParams {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ForestOptionError(`forest options must be an object (got ${show(options)})`, { value: options });
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      const guess = SKLEARN_NAMES[key] ?? nearest(key, OPTION_NAMES);
      throw new ForestOptionError(
        `unknown forest option ${show(key)}${guess ? `; did you mean ${show(guess)}?` : ';'} Known options: ${OPTION_NAMES.join(', ')}`,
        { option: key, suggestion: guess },
      );
    }
  }
  const pick = <K extends keyof ForestParams>(key: K, fallback: ForestParams[K]): unknown =>
    given[key] === undefined ? fallback : given[key];

  const task = pick('task', 'classification');
  if (task !== 'classification' && task !== 'regression') fail('task', task, '"classification" or "regression"');

  const trees = pick('trees', 100);
  if (!isInteger(trees, 1, 100_000)) fail('trees', trees, 'an integer from 1 to 100000');

  const maxDepth = pick('maxDepth', null);
  if (maxDepth !== null && !isInteger(maxDepth, 1, 1000)) fail('maxDepth', maxDepth, 'null (no limit) or an integer from 1 to 1000');

  const minSamplesSplit = pick('minSamplesSplit', 2);
  if (!isInteger(minSamplesSplit, 2)) fail('minSamplesSplit', minSamplesSplit, 'an integer ≥ 2');

  const minSamplesLeaf = pick('minSamplesLeaf', 1);
  if (!isInteger(minSamplesLeaf, 1)) fail('minSamplesLeaf', minSamplesLeaf, 'an integer ≥ 1');

  const maxFeatures = pick('maxFeatures', task === 'classification' ? 'sqrt' : 'all');
  const maxFeaturesOk =
    maxFeatures === 'sqrt' ||
    maxFeatures === 'log2' ||
    maxFeatures === 'all' ||
    isInteger(maxFeatures, 1) ||
    (typeof maxFeatures === 'number' && maxFeatures > 0 && maxFeatures < 1);
  if (!maxFeaturesOk) fail('maxFeatures', maxFeatures, '"sqrt", "log2", "all", a fraction in (0, 1) or an integer ≥ 1');

  const bootstrap = pick('bootstrap', true);
  if (typeof bootstrap !== 'boolean') fail('bootstrap', bootstrap, 'true or false');

  const maxSamples = pick('maxSamples', null);
  const maxSamplesOk =
    maxSamples === null || isInteger(maxSamples, 2) || (typeof maxSamples === 'number' && maxSamples > 0 && maxSamples <= 1);
  if (!maxSamplesOk) fail('maxSamples', maxSamples, 'null (as many as rows), a fraction in (0, 1] or an integer ≥ 2');
  if (maxSamples !== null && !bootstrap) fail('maxSamples', maxSamples, 'null when bootstrap is false (it sizes the bootstrap sample)');

  const classWeight = pick('classWeight', null);
  if (classWeight !== null && classWeight !== 'balanced') {
    const isMap =
      typeof classWeight === 'object' &&
      !Array.isArray(classWeight) &&
      Object.values(classWeight as object).every((w) => typeof w === 'number' && Number.isFinite(w) && w > 0);
    if (!isMap) fail('classWeight', classWeight, 'null, "balanced", or a map from class label to a positive weight');
  }
  if (classWeight !== null && task === 'regression') fail('classWeight', classWeight, 'null for regression');

  const maxBins = pick('maxBins', MAX_BINS);
  if (!isInteger(maxBins, 2, MAX_BINS)) fail('maxBins', maxBins, `an integer from 2 to ${MAX_BINS}`);

  const seed = pick('seed', 0);
  if (!isInteger(seed, 0, 0xffffffff)) fail('seed', seed, 'an integer from 0 to 4294967295');

  return {
    task,
    trees,
    maxDepth,
    minSamplesSplit,
    minSamplesLeaf,
    maxFeatures,
    bootstrap,
    maxSamples,
    classWeight: classWeight as ClassWeight,
    maxBins,
    seed,
  } as ForestParams;
}

/** How many features each split may look at, scikit-learn's rules; too many is an error. */
export function featuresPerSplit(maxFeatures: MaxFeatures, features: number): number {
  let m: number;
  if (maxFeatures === 'sqrt') m = Math.floor(Math.sqrt(features));
  else if (maxFeatures === 'log2') m = Math.floor(Math.log2(features));
  else if (maxFeatures === 'all') m = features;
  else if (maxFeatures < 1) m = Math.floor(maxFeatures * features);
  else m = maxFeatures;
  if (m > features) {
    throw new ForestOptionError(
      `forest option maxFeatures is ${m} but the data has ${features} features; use an integer from 1 to ${features}, a fraction, "sqrt", "log2" or "all"`,
      { option: 'maxFeatures', value: maxFeatures, features },
    );
  }
  return Math.max(1, m);
}

/** The size of each tree's bootstrap sample. */
export function bootstrapSize(maxSamples: number | null, rows: number): number {
  if (maxSamples === null) return rows;
  if (maxSamples <= 1) return Math.max(1, Math.round(maxSamples * rows));
  if (maxSamples > rows) {
    throw new ForestOptionError(
      `forest option maxSamples is ${maxSamples} but the data has ${rows} rows; use at most ${rows} or a fraction`,
      { option: 'maxSamples', value: maxSamples, rows },
    );
  }
  return maxSamples;
}
