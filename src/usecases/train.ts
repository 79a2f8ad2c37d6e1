// train: validate, fit the features, train, score on the held-out rows and write the hash-sealed artifact; with a
// champion (named, or found from ml.yaml's compare.against), also compare and apply the gates — `bramble run`.
import type { Progress } from '../model/forest/pool.js';
import { runPipeline, type RunResult } from '../pipeline/run.js';
import type { Ports } from './ports.js';

export interface TrainOptions {
  dir: string;
  /** The model to gate against: a model file, name@vX.Y.Z or an environment. */
  champion?: string;
  /** Without `champion`, find one from ml.yaml's compare.against (run does; train does not). */
  findChampion?: boolean;
  /** Threads (workersOption checks what a person gave); the model does not depend on it. */
  workers?: number;
  onProgress?: Progress;
}

/** The train use-case (and run's, with a champion). */
export function train(options: TrainOptions, ports: Pick<Ports, 'git' | 'log' | 'clock' | 'versions' | 'fs'>): Promise<RunResult> {
  return runPipeline(options.dir, {
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
}
