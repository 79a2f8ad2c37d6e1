import { readFile } from 'node:fs/promises';
import { parseCsv } from '../data/csv.js';
import { encodeTable, takeRows } from '../data/encode.js';
import { splitRows } from '../data/split.js';
import { RandomForest, type ForestJSON } from '../model/forest/forest.js';
import type { ForestOptions, Task } from '../model/forest/options.js';
import type { Progress } from '../model/forest/pool.js';
import { DataFileError } from '../data/load.js';

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
 * Trains a forest on a CSV file: strings one-hot encoded, a seeded (stratified) train/test split, scored on
 * the held-out part. The engine behind `bramble forest train`; the clock comes in as an argument.
 */
export async function trainForestFromCsv(
  request: TrainForestRequest,
  deps: { now: () => number; onProgress?: Progress },
): Promise<TrainForestResult> {
  const text = await readFile(request.data, 'utf8').catch((err: unknown) => {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    if (code === 'ENOENT') throw new DataFileError(`the data file ${request.data} does not exist; check --data`, request.data);
    if (code === 'EISDIR') throw new DataFileError(`the data file ${request.data} is a folder; give a CSV file`, request.data);
    throw err;
  });
  const table = parseCsv(text, request.data);
  const classification = request.task === 'classification';
  const encoded = encodeTable(table, { target: request.target, drop: request.drop, numericTarget: !classification }, request.data);
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
