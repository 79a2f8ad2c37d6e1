// Shared helpers for the forest tests: the fixture data sets (read once per file), seeded held-out splits,
// scores, and a small seeded generator for synthetic data. Nothing here is mocked: it all runs the real code.
import { readFileSync } from 'node:fs';
import { parseCsv } from '../../src/data/csv.js';
import { encodeTable, takeRows } from '../../src/data/encode.js';
import { splitRows } from '../../src/data/split.js';
import type { Label } from '../../src/model/forest/forest.js';
import type { Matrix } from '../../src/util/matrix.js';

export type DatasetName = 'breast-cancer' | 'digits' | 'wine' | 'iris' | 'diabetes';

export interface Dataset {
  x: Matrix;
  y: Label[];
}

export interface HeldOut {
  train: Dataset;
  test: Dataset;
}

const cache = new Map<DatasetName, Dataset>();

/** A fixture from test/fixtures/datasets; diabetes (regression) has a numeric target, the others string labels. */
export function loadDataset(name: DatasetName): Dataset {
  const hit = cache.get(name);
  if (hit) return hit;
  const file = new URL(`../fixtures/datasets/${name}.csv`, import.meta.url);
  const table = parseCsv(readFileSync(file, 'utf8'), `${name}.csv`);
  const { x, y } = encodeTable(table, { target: 'target', numericTarget: name === 'diabetes' }, `${name}.csv`);
  const data = { x, y };
  cache.set(name, data);
  return data;
}

/** Picks rows of a data set by index. */
export function subset(data: Dataset, picks: readonly number[]): Dataset {
  return { x: takeRows(data.x, picks), y: picks.map((i) => data.y[i]) };
}

/** A seeded held-out split (stratified for classification) through the project's own splitRows. */
export function holdOut(data: Dataset, testShare = 0.25, seed = 7, stratify = true): HeldOut {
  const { train, test } = splitRows(data.y, testShare, seed, stratify);
  return { train: subset(data, train), test: subset(data, test) };
}

/** A matrix as an array of plain rows (the other input form of the forest). */
export function toRows(m: Matrix): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < m.rows; r++) rows.push(Array.from(m.values.subarray(r * m.columns, (r + 1) * m.columns)));
  return rows;
}

export function accuracy(predicted: readonly Label[], truth: readonly Label[]): number {
  if (predicted.length !== truth.length || truth.length === 0) throw new Error('accuracy needs two equally long, non-empty lists');
  let right = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) right++;
  return right / truth.length;
}

/** Of the rows whose true label is `label`, the share predicted as `label`. */
export function recall(predicted: readonly Label[], truth: readonly Label[], label: Label): number {
  let positives = 0;
  let found = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] !== label) continue;
    positives++;
    if (predicted[i] === label) found++;
  }
  if (positives === 0) throw new Error(`no row has label ${String(label)}`);
  return found / positives;
}

export function rSquared(predicted: readonly Label[], truth: readonly Label[]): number {
  const p = predicted.map(asNumber);
  const t = truth.map(asNumber);
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  let residual = 0;
  let spread = 0;
  for (let i = 0; i < t.length; i++) {
    residual += (t[i] - p[i]) ** 2;
    spread += (t[i] - mean) ** 2;
  }
  return 1 - residual / spread;
}

export function asNumber(v: unknown): number {
  if (typeof v !== 'number') throw new Error(`expected a number, got ${typeof v}`);
  return v;
}

/** mulberry32: a tiny seeded generator for synthetic data, independent of the code under test. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller) from a uniform generator. */
export function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** What a synchronous call throws (a test fails if it throws nothing). */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, and it returned');
}

/** What a promise rejects with (a test fails if it resolves). */
export async function rejected(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject, and it resolved');
}
