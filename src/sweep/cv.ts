// k-fold cross-validation on the training side of ml.yaml's split: the rows the split holds out are never seen
// by a sweep, so the chosen configuration is still judged on them afterwards by `bramble run`.
//
// Decisions:
// - Each fold's features are fitted on that fold's training rows only (imputation medians, category maps): fitted
//   on all rows, they would leak the validation rows' values into training. The features do not depend on the
//   forest's parameters, so each fold's matrices are made once and every trial trains on them.
// - A fold's validation rows are scored as the trees grow (TrainOptions.heldOut), on every training thread.
// - Successive halving's smaller rounds train on the rows whose position under a seed of their own falls under
//   the round's share: the same rows in every fold, trial and run, and a subset of the next round's rows.
import { forestOptionsOf } from '../config/forest-options.js';
import type { MlConfig } from '../config/ml-yaml.js';
import { identityPosition } from '../data/identity.js';
import { assignFolds } from '../data/split.js';
import { errorClass } from '../errors.js';
import { fitFeatures } from '../features/transforms.js';
import { evaluateClassification, evaluateRegression, metricsOf } from '../model/evaluate.js';
import { RandomForest, type Label } from '../model/forest/forest.js';
import type { Metric } from '../model/metric-names.js';
import type { Prepared } from '../pipeline/run.js';
import type { Matrix } from '../util/matrix.js';
import { trialParams, type Trial } from './space.js';

export class SweepFoldError extends errorClass('E_SWEEP_FOLDS') {}

export interface Fold {
  train: Matrix;
  trainLabels: Label[];
  /** Each training row's position for successive halving's subsets, in [0, 1). */
  subset: Float64Array;
  valid: Matrix;
  validLabels: Label[];
}

/** Mixed into the seed of halving's row subsets, apart from the split's and the folds'. */
const SUBSET_SEED = 0x4a1f1e55;

/** The folds of the split's training rows, each with its features fitted on its own training rows. */
export function makeFolds(prepared: Prepared, folds: number, seed: number): Fold[] {
  const { config, loaded, split, labels } = prepared;
  const table = loaded.table;
  const assigned = assignFolds(split.identities, split.train, folds, seed);
  const out: Fold[] = [];
  for (let k = 0; k < folds; k++) {
    const trainRows: number[] = [];
    const validRows: number[] = [];
    for (let i = 0; i < split.train.length; i++) (assigned[i] === k ? validRows : trainRows).push(split.train[i]);
    checkFold(config, labels, trainRows, validRows, k, folds);
    const columnMarkers = Object.fromEntries(Object.entries(config.schema?.columns ?? {}).map(([name, spec]) => [name, spec.missing]));
    const features = fitFeatures(config.features, table, { target: config.data.target, id: config.data.id, rows: trainRows, missing: { all: config.data.missing, columns: columnMarkers } });
    const subset = new Float64Array(trainRows.length);
    const subsetSeed = (seed ^ SUBSET_SEED) >>> 0;
    for (let i = 0; i < trainRows.length; i++) subset[i] = identityPosition(split.identities, trainRows[i], subsetSeed);
    out.push({
      train: asMatrix(features.transform(table, trainRows)),
      trainLabels: trainRows.map((r) => labels[r] as Label),
      subset,
      valid: asMatrix(features.transform(table, validRows)),
      validLabels: validRows.map((r) => labels[r] as Label),
    });
  }
  return out;
}

function asMatrix(m: { rows: number; names: readonly string[]; matrix: Float64Array }): Matrix {
  return { rows: m.rows, columns: m.names.length, values: m.matrix };
}

function checkFold(config: MlConfig, labels: readonly (Label | null)[], trainRows: readonly number[], validRows: readonly number[], k: number, folds: number): void {
  const total = trainRows.length + validRows.length;
  if (validRows.length === 0 || trainRows.length === 0) {
    throw new SweepFoldError(`${config.data.train}: fold ${k + 1} of ${folds} has no ${validRows.length === 0 ? 'validation' : 'training'} rows out of ${total} training rows; lower sweep.folds in ml.yaml, or add data`, { fold: k + 1, folds, rows: total });
  }
  if (config.task !== 'classification') return;
  const classes = new Set<Label | null>();
  for (const r of trainRows) {
    classes.add(labels[r]);
    if (classes.size > 1) return;
  }
  throw new SweepFoldError(`${config.data.train}: fold ${k + 1} of ${folds} trains on a single class (${JSON.stringify(labels[trainRows[0]])}); lower sweep.folds in ml.yaml, or add rows of the other classes`, { fold: k + 1, folds });
}

/** The rows of a fold's training matrix whose subset position is under `share` (all of them at 1). */
function subsetOf(fold: Fold, share: number): { matrix: Matrix; labels: Label[] } {
  if (share >= 1) return { matrix: fold.train, labels: fold.trainLabels };
  const { columns, values } = fold.train;
  const picked: number[] = [];
  for (let i = 0; i < fold.subset.length; i++) if (fold.subset[i] < share) picked.push(i);
  const out = new Float64Array(picked.length * columns);
  for (let j = 0; j < picked.length; j++) out.set(values.subarray(picked[j] * columns, (picked[j] + 1) * columns), j * columns);
  return { matrix: { rows: picked.length, columns, values: out }, labels: picked.map((i) => fold.trainLabels[i]) };
}

/** Metrics where a smaller value is better. */
const LOWER_IS_BETTER: readonly Metric[] = ['log_loss', 'rmse', 'mae'];

export function lowerIsBetter(metric: Metric): boolean {
  return LOWER_IS_BETTER.includes(metric);
}

export interface TrialScore {
  /** The metric on each fold's validation rows (null where those rows cannot define it). */
  folds: (number | null)[];
  mean: number | null;
  sd: number | null;
  /** Seconds spent training and scoring. */
  seconds: number;
}

/** One trial: a forest per fold on `share` of its training rows, scored by `metric` on its validation rows. */
export async function scoreTrial(config: MlConfig, trial: Trial, folds: readonly Fold[], metric: Metric, options: { share: number; workers?: number; now: () => number }): Promise<TrialScore> {
  const started = options.now();
  const model = { ...config.model, params: trialParams(config.model.params, trial) };
  const scores: (number | null)[] = [];
  for (const fold of folds) {
    const forest = new RandomForest(forestOptionsOf({ task: config.task, model }));
    const { matrix, labels } = subsetOf(fold, options.share);
    await forest.train(matrix, labels, { workers: options.workers, heldOut: fold.valid });
    const predicted = forest.heldOutScores ?? new Float64Array(0);
    const evaluation =
      config.task === 'classification'
        ? evaluateClassification({ labels: fold.validLabels, classes: forest.classes ?? [], probabilities: predicted })
        : evaluateRegression(fold.validLabels as number[], predicted);
    const value = metricsOf(evaluation)[metric];
    scores.push(typeof value === 'number' && Number.isFinite(value) ? value : null);
  }
  return { folds: scores, ...meanSd(scores), seconds: (options.now() - started) / 1000 };
}

/** The mean and standard deviation over the folds that define the metric (population sd, as GridSearchCV's std_test_score). */
export function meanSd(values: readonly (number | null)[]): { mean: number | null; sd: number | null } {
  const defined = values.filter((v): v is number => v !== null);
  if (defined.length === 0) return { mean: null, sd: null };
  let sum = 0;
  for (const v of defined) sum += v;
  const mean = sum / defined.length;
  let squares = 0;
  for (const v of defined) squares += (v - mean) ** 2;
  return { mean, sd: Math.sqrt(squares / defined.length) };
}

