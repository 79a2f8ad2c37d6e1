// The entry of a training worker thread (bundled to dist/forest-worker.js): grows trees until the shared
// counter runs past the total, and posts each one back, its arrays moved rather than copied.
import { parentPort, workerData } from 'node:worker_threads';
import { compileGrower, type GrowData, type GrowSettings } from './grow.js';

const { data, settings, trees, counter } = workerData as {
  data: GrowData;
  settings: GrowSettings;
  trees: number;
  counter: Int32Array;
};

const growTree = compileGrower(data, settings);
for (;;) {
  const tree = Atomics.add(counter, 0, 1);
  if (tree >= trees) break;
  const grown = growTree(tree);
  parentPort!.postMessage({ tree, grown }, [
    grown.feature.buffer as ArrayBuffer,
    grown.threshold.buffer as ArrayBuffer,
    grown.left.buffer as ArrayBuffer,
    grown.missingLeft.buffer as ArrayBuffer,
    grown.value.buffer as ArrayBuffer,
    grown.importance.buffer as ArrayBuffer,
    grown.oobRows.buffer as ArrayBuffer,
    grown.oobLeaves.buffer as ArrayBuffer,
    grown.heldOutLeaves.buffer as ArrayBuffer,
  ]);
}
