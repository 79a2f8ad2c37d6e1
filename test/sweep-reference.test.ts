// The sweep chooses what scikit-learn's GridSearchCV chooses on the same grid and the same folds, against the
// figures `npm run reference:record` wrote (test/helpers/reference-sweep.ts); test/reference/sweep.test.ts runs
// GridSearchCV live.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runSweep, type SweepSummary } from '../src/usecases/sweep.js';
import { RECORD_HINT } from './helpers/reference.js';
import { readSweepFigures, referenceInput, referenceRepo } from './helpers/reference-sweep.js';

const dir = referenceRepo();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ports = { git: { env: {} }, log: { info: () => undefined, warn: () => undefined }, clock: { now: () => performance.now() }, versions: { bramble: 'test', node: 'test' } };

describe('against GridSearchCV (recorded)', () => {
  it('the recorded figures are of these rows and these folds', async () => {
    expect((await referenceInput(dir)).fingerprint, `the data or the folds changed; ${RECORD_HINT}`).toBe(readSweepFigures().figures.fingerprint);
  });

  it("chooses GridSearchCV's best configuration at its score (within 0.01), and ranks the grid in its order", async () => {
    const { figures } = readSweepFigures();
    const sweep = (await runSweep({ dir, workers: 1 }, ports)).sweep as SweepSummary;
    expect(sweep.best?.swept).toEqual(figures.best);
    const theirs = figures.params.map((p, i) => ({ p, mean: figures.means[i] })).sort((a, b) => b.mean - a.mean);
    expect(sweep.ranked.map((o) => o.swept)).toEqual(theirs.map((t) => t.p));
    // Two different forests, each seeded its own way: the best (60 trees) agree closely; 2-tree forests less so.
    expect(Math.abs((sweep.best?.mean as number) - theirs[0].mean)).toBeLessThan(0.01);
  });
});
