// train: validate, fit the features, train, score on the held-out rows and write the hash-sealed artifact; with a
// champion (named, or found from ml.yaml's compare.against), also compare and apply the gates — `bramble run`.
import type { Progress } from '../model/forest/pool.js';
import { runPipeline, type RunResult } from '../pipeline/run.js';
import type { Ports } from './ports.js';
import { recordRun, type RecordedRun, type RecordOptions } from './runs.js';

export interface TrainOptions {
  dir: string;
  /** The model to gate against: a model file, name@vX.Y.Z or an environment. */
  champion?: string;
  /** Without `champion`, find one from ml.yaml's compare.against (run does; train does not). */
  findChampion?: boolean;
  /** Threads (workersOption checks what a person gave); the model does not depend on it. */
  workers?: number;
  onProgress?: Progress;
  /**
   * Record the run on the repository's bramble/runs branch (`bramble run` and `train` do; docs/runs.md), and with
   * `push: true` push that branch (CI's pull-request runs). The model file is the same either way.
   */
  record?: RecordOptions;
}

export interface TrainResult extends RunResult {
  /** The run's record, when one was asked for and written (not for a run that wrote no model, nor outside git). */
  run?: RecordedRun;
}

/** The train use-case (and run's, with a champion). */
export async function train(options: TrainOptions, ports: Pick<Ports, 'git' | 'log' | 'clock' | 'versions' | 'fs'>): Promise<TrainResult> {
  const result = await runPipeline(options.dir, {
    champion: options.champion,
    findChampion: options.findChampion,
    env: ports.git.env,
    warn: (message) => ports.log.warn(message),
    workers: options.workers,
    onProgress: options.onProgress,
    now: () => ports.clock.now(),
    versions: ports.versions,
    fs: ports.fs,
  });
  if (options.record === undefined) return result;
  const run = await recordRun(options.dir, result, options.record, ports);
  return run === null ? result : { ...result, run };
}
