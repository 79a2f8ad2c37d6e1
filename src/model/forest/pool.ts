import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describeError, errorClass } from '../../errors.js';
import { compileGrower, type GrowData, type GrowSettings, type GrownTree } from './grow.js';

/** Trees this thread grows before it decides whether workers are worth starting. */
const PROBE_TREES = 4;
/**
 * Start workers only when the remaining trees would take this thread longer than this: a worker saves about
 * half of what remains and costs ~150 ms (start-up, JIT warm-up, and the slowing of this thread meanwhile).
 */
export const PARALLEL_AFTER_MS = 300;

export type Progress = (treesDone: number, treesTotal: number) => void;
/**
 * Called with each tree as it is grown, in the order trees finish (not their numbers' order). growForest keeps no
 * tree: what the caller does not keep is let go.
 */
export type TreeArrival = (tree: number, grown: GrownTree) => void;

export class WorkerError extends errorClass('E_FOREST_WORKER') {}

/** Every thread this machine offers: the default for training. */
export function defaultThreads(): number {
  return availableParallelism();
}

/**
 * Where the bundled worker script is. Bundles in dist/ find it beside themselves; the TypeScript sources (run
 * by the tests) use the built one, which `npm test` builds first.
 */
export function forestWorkerPath(): string {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../../dist/forest-worker.js', here) : new URL('./forest-worker.js', here);
  return fileURLToPath(url);
}

/**
 * Grows `trees` trees on up to `threads` threads: this one and threads - 1 workers, all taking the next tree
 * number from one shared counter. A tree depends only on the seed and its number, so the result is the same for any
 * number of threads; only the order in which trees finish changes.
 */
export async function growForest(
  data: GrowData,
  settings: GrowSettings,
  trees: number,
  threads: number,
  onTree: TreeArrival,
  onProgress?: Progress,
  parallelAfterMs = PARALLEL_AFTER_MS,
): Promise<void> {
  let done = 0;
  const report = (t: number, grown: GrownTree): void => {
    done++;
    onTree(t, grown);
    onProgress?.(done, trees);
  };
  const growTree = compileGrower(data, settings);
  // A worker needs ~0.1 s to start and warm up, and slows this thread while it does (measured on 2 cores).
  // So this thread grows the first trees alone, and starts workers only when the rest would take longer.
  const probe = Math.min(PROBE_TREES, trees);
  // The fastest probe tree is the best guess for the rest: the first ones run before the JIT has warmed up.
  let fastest = Infinity;
  for (let t = 0; t < probe; t++) {
    const started = performance.now();
    const grown = growTree(t);
    fastest = Math.min(fastest, performance.now() - started);
    report(t, grown);
  }
  const helpers = Math.min(threads, trees - probe) - 1;
  if (helpers <= 0 || fastest * (trees - probe) < parallelAfterMs) {
    for (let t = probe; t < trees; t++) report(t, growTree(t));
    return;
  }

  const script = forestWorkerPath();
  if (!existsSync(script)) {
    throw new WorkerError(`the forest worker ${script} is missing; run "npm run build" (or train with workers: 1)`, { script });
  }
  const counter = new Int32Array(new SharedArrayBuffer(4));
  counter[0] = probe;
  const workers: Worker[] = [];
  let failure: unknown;
  let wake: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const check = (): void => {
    if (done === trees || failure !== undefined) wake?.();
  };
  for (let h = 0; h < helpers; h++) {
    const worker = new Worker(script, { workerData: { data, settings, trees, counter } });
    worker.on('message', (message: { tree: number; grown: GrownTree }) => {
      report(message.tree, message.grown);
      check();
    });
    worker.on('error', (err) => {
      failure ??= err;
      check();
    });
    worker.on('exit', (code) => {
      if (code !== 0 && done < trees) failure ??= new Error(`worker stopped with exit code ${code}`);
      check();
    });
    workers.push(worker);
  }
  try {
    for (;;) {
      const t = Atomics.add(counter, 0, 1);
      if (t >= trees) break;
      report(t, growTree(t));
      // Let the workers' finished trees (and their progress) in between ours.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (failure !== undefined) break;
    }
    check();
    await finished;
  } finally {
    // Every claimed tree has arrived (or training failed). Workers still starting up have nothing left to do:
    // stop them without waiting, as a worker's start-up would otherwise add to a short training.
    for (const w of workers) {
      w.removeAllListeners('message');
      w.unref();
      void w.terminate();
    }
  }
  if (failure !== undefined) {
    throw new WorkerError(`a training worker failed: ${describeError(failure)}`);
  }
}
