/**
 * Live: scikit-learn's GridSearchCV on the grid and folds of test/helpers/reference-sweep.ts, run now, chooses what
 * `bramble sweep` chooses, and still gives the figures test/sweep-reference.test.ts compares with.
 * `npm run test:reference` runs this; it needs python3-sklearn and fails rather than skips without it.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSweep, type SweepSummary } from '../../src/usecases/sweep.js';
import { RECORD_HINT } from '../helpers/reference.js';
import { readSweepFigures, referenceInput, referenceRepo, runGridSearch } from '../helpers/reference-sweep.js';

const dir = referenceRepo();
let live: ReturnType<typeof runGridSearch>;
beforeAll(async () => {
  live = runGridSearch(await referenceInput(dir));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ports = { git: { env: {} }, log: { info: () => undefined, warn: () => undefined }, clock: { now: () => performance.now() }, versions: { bramble: 'test', node: 'test' } };

describe('bramble sweep against GridSearchCV, live', () => {
  it('runs the scikit-learn release the figures were recorded with', () => {
    expect(live.sklearn).toBe('1.2.1');
  });

  it('chooses the same configuration', async () => {
    const sweep = (await runSweep({ dir, workers: 1 }, ports)).sweep as SweepSummary;
    expect(sweep.best?.swept).toEqual(live.figures.best);
  });

  it('the recorded figures are what GridSearchCV gives now, to the last bit', () => {
    expect(readSweepFigures().figures, `GridSearchCV now answers differently from the recording; ${RECORD_HINT}`).toEqual(live.figures);
  });
});
