/**
 * Live: our forest's mean held-out accuracy (R²) against scikit-learn run now, by test/reference/sklearn_forest.py,
 * on the cases of test/forest-reference.test.ts (the same rows, written to CSV for Python). Also checks that
 * scikit-learn still gives the figures recorded in test/reference-figures/forest.json, which `npm test` compares
 * with when Python is absent: same data, same release, same scores.
 *
 * `npm run test:reference` runs this; it needs python3-sklearn (BRAMBLE_REFERENCE_PYTHON, else /usr/bin/python3)
 * and fails rather than skips without it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mean,
  METRIC,
  prepareCase,
  pythonProblem,
  RECORD_HINT,
  readForestFigures,
  referencePython,
  runSklearn,
  scoreCase,
  SKLEARN_CASES,
  sklearnJob,
  TOLERANCE,
  type PreparedCase,
  type SklearnBatch,
} from '../helpers/reference.js';

const WORKERS = 2;

let dir = '';
const prepared = new Map<string, PreparedCase>();
/** scikit-learn's batch, settled: it never rejects, so no failure goes unhandled while the tests wait for it. */
let sklearn: Promise<{ batch: SklearnBatch } | { error: unknown }> | undefined;
const stopSklearn = new AbortController();

async function sklearnBatch(): Promise<SklearnBatch> {
  if (!sklearn) throw new Error('the scikit-learn jobs were never started (beforeAll did not run)');
  const settled = await sklearn;
  // Each test that needs the batch fails with the reason it could not be had.
  if ('error' in settled) throw settled.error;
  return settled.batch;
}

// scikit-learn runs in one background Python process from the start, while our forest trains: the two cores
// share the work.
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bramble-reference-'));
  const jobs = SKLEARN_CASES.map((c) => {
    const p = prepareCase(c);
    prepared.set(c.name, p);
    return sklearnJob(p, dir);
  });
  sklearn = runSklearn(jobs, { signal: stopSklearn.signal }).then(
    (batch) => ({ batch }),
    (error: unknown) => ({ error }),
  );
});

afterAll(async () => {
  stopSklearn.abort(); // a no-op once it has finished; stops it when its tests were filtered out
  await sklearn;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('against scikit-learn, live (100 trees, its default max_features)', () => {
  it(`has scikit-learn importable by ${referencePython()}`, () => {
    expect(pythonProblem()).toBeNull();
  });

  it.each(SKLEARN_CASES)('$name: mean held-out score within tolerance of scikit-learn', async (c) => {
    const p = prepared.get(c.name);
    if (!p) throw new Error(`${c.name} was not prepared`);
    const ours = await scoreCase(p, WORKERS);
    const batch = await sklearnBatch();
    const result = batch.results.find((r) => r.name === c.name);
    if (!result) throw new Error(`scikit-learn returned no result for ${c.name}`);
    expect(result.scores.map((s) => s.length)).toEqual(Array.from({ length: c.splits }, () => c.seeds.length));

    const theirs = result.mean;
    const oursMean = mean(ours.scores);
    const metric = METRIC[p.task];
    console.log(
      `${c.name} (${metric}): ours ${oursMean.toFixed(4)}, scikit-learn ${batch.sklearn} ${theirs.toFixed(4)}, gap ${(oursMean - theirs).toFixed(4)} ` +
        `(${ours.seconds.toFixed(1)} s vs ${result.seconds.toFixed(1)} s)`,
    );
    expect(theirs, `scikit-learn's own ${metric} on ${c.name}`).toBeGreaterThanOrEqual(c.floor);
    expect(Math.abs(oursMean - theirs), `${c.name}: our mean ${metric} ${oursMean.toFixed(4)} vs scikit-learn's ${theirs.toFixed(4)}`).toBeLessThanOrEqual(
      TOLERANCE[p.task],
    );
  }, 180_000); // the first one waits for the whole scikit-learn batch (~25 s here)

  it('gives the recorded figures: same release, same data, same scores', async () => {
    const batch = await sklearnBatch();
    const recorded = readForestFigures();
    expect({ 'scikit-learn': recorded.versions['scikit-learn'], numpy: recorded.versions.numpy }, `the figures were recorded with other releases; ${RECORD_HINT}`).toEqual({
      'scikit-learn': batch.sklearn,
      numpy: batch.numpy,
    });
    for (const c of SKLEARN_CASES) {
      const figure = recorded.figures[c.name];
      const p = prepared.get(c.name);
      const result = batch.results.find((r) => r.name === c.name);
      expect(figure?.data, `${c.name}: the data changed since recording; ${RECORD_HINT}`).toBe(p?.fingerprint);
      // scikit-learn is deterministic for a random_state on one thread, so the scores are identical to the last bit.
      expect(figure?.scores, `${c.name}: scikit-learn now scores differently from the recording; ${RECORD_HINT}`).toEqual(result?.scores);
    }
  }, 180_000);
});
