// What a pipeline run says about itself: the artifact's lineage (what made the model, without wall-clock time),
// and for its run record how long each step took (on the pipeline's clock) and the part of that lineage a record
// keeps (docs/runs.md).
import type { StoreLineage } from '../store/training-data.js';
import type { MlConfig } from '../config/ml-yaml.js';
import type { DataIdentity } from '../data/load.js';
import type { SourceLineage } from '../lineage/source.js';
import type { RandomForest } from '../model/forest/forest.js';

/** Seconds per step: validate (read + check), features (fit, transform, profile), train, evaluate, compare, write. */
export interface StepSeconds {
  validate: number | null;
  features: number | null;
  train: number | null;
  evaluate: number | null;
  compare: number | null;
  write: number | null;
}

export interface RunLineage {
  source: SourceLineage;
  data: { path: string; sha256: string; rows: number };
  params: RandomForest['params'];
  seed: number | null;
}

/** A lap timer over the pipeline's clock: each call returns the seconds since the one before. */
export function lapTimer(now: () => number): () => number {
  let last = now();
  return () => {
    const t = now();
    const seconds = (t - last) / 1000;
    last = t;
    return seconds;
  };
}

/** Adds `seconds` to a step's time. */
export function addTime(steps: StepSeconds, step: keyof StepSeconds, seconds: number): void {
  steps[step] = (steps[step] ?? 0) + seconds;
}

/** The lineage a run record keeps: source, data identity, the forest's parameters and the seed. */
export function runLineage(config: MlConfig, source: SourceLineage, data: DataIdentity, forest: RandomForest): RunLineage {
  return { source, data: { path: config.data.train, sha256: data.sha256, rows: data.rows }, params: forest.params, seed: config.model.seed ?? null };
}

/** What made this model; no wall-clock time, so the same inputs give the same bytes. */
export function lineage(
  config: MlConfig,
  source: SourceLineage,
  data: DataIdentity & { store?: StoreLineage },
  mlSha256: string,
  forest: RandomForest,
  versions: { bramble: string; node: string },
  split: Record<string, unknown>,
) {
  return {
    // The commit and its time, or the mark of uncommitted changes with a hash of the working tree.
    source,
    mlYaml: { sha256: mlSha256 },
    // From data.store: sha256 is the joined set's (its Parquet form); `store` says which partitions made it.
    data: { path: config.data.train, sha256: data.sha256, rows: data.rows, columns: data.columns, bytes: data.bytes, ...(data.store ? { store: data.store } : {}) },
    split,
    params: forest.params,
    seed: config.model.seed,
    versions: { bramble: versions.bramble, node: versions.node },
  };
}
