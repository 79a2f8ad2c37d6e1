import { encodeColumns, takeRows } from '../data/encode.js';
import { splitRows } from '../data/split.js';
import { RandomForest, type ForestJSON } from '../model/forest/forest.js';
import type { ForestOptions, Task } from '../model/forest/options.js';
import type { Progress } from '../model/forest/pool.js';
import { readTable } from '../data/load.js';

export interface TrainForestRequest {
  data: string;
  target: string;
  drop: string[];
  task: Task;
  forest: ForestOptions;
  testShare: number;
  splitSeed: number;
  workers?: number;
}

export interface TrainForestResult {
  data: string;
  rows: number;
  features: number;
  trainRows: number;
  testRows: number;
  /** Held-out accuracy (classification) or R² (regression). */
  metric: 'accuracy' | 'r2';
  heldOut: number;
  oobScore: number | null;
  seconds: number;
  topFeatures: { name: string; importance: number }[];
  model: ForestJSON;
}

/**
 * Trains a forest on a data file (CSV, JSON, Arrow or Parquet, read by the pipeline's loader into typed
 * columns): text one-hot encoded, a seeded (stratified) train/test split, scored on the held-out part. The
 * engine behind `bramble forest train`; the clock comes in as an argument.
 */
export async function trainForestFromCsv(
  request: TrainForestRequest,
  deps: { now: () => number; onProgress?: Progress },
): Promise<TrainForestResult> {
  const { table } = await readTable(request.data, { file: request.data, hint: 'check --data' });
  const classification = request.task === 'classification';
  const encoded = encodeColumns(table, { target: request.target, drop: request.drop, numericTarget: !classification }, request.data);
  const split = splitRows(encoded.y, request.testShare, request.splitSeed, classification);
  const forest = new RandomForest({ ...request.forest, task: request.task });
  const started = deps.now();
  await forest.train(
    takeRows(encoded.x, split.train),
    split.train.map((i) => encoded.y[i]),
    { workers: request.workers, onProgress: deps.onProgress },
  );
  const seconds = (deps.now() - started) / 1000;
  const predicted = forest.predict(takeRows(encoded.x, split.test));
  const actual = split.test.map((i) => encoded.y[i]);
  let heldOut: number;
  if (classification) {
    heldOut = predicted.filter((p, i) => p === actual[i]).length / actual.length;
  } else {
    const values = actual as number[];
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    let residual = 0;
    let spread = 0;
    values.forEach((v, i) => {
      residual += (v - (predicted[i] as number)) ** 2;
      spread += (v - mean) ** 2;
    });
    heldOut = 1 - residual / spread;
  }
  const topFeatures = Array.from(forest.featureImportances, (importance, i) => ({ name: encoded.featureNames[i], importance }))
    .sort((a, b) => b.importance - a.importance)
    .slice(0, 5);
  return {
    data: request.data,
    rows: encoded.x.rows,
    features: encoded.x.columns,
    trainRows: split.train.length,
    testRows: split.test.length,
    metric: classification ? 'accuracy' : 'r2',
    heldOut,
    oobScore: forest.oobScore,
    seconds,
    topFeatures,
    model: forest.toJSON(),
  };
}
