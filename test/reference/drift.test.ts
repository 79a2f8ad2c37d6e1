/**
 * Live: scipy, run now by test/reference/scipy_jobs.py, gives the answers recorded in
 * test/reference-figures/drift.json to every question test/data-drift.test.ts asks (which holds our drift
 * statistics to those answers), to the last bit: same release, same samples, same answers.
 * `npm run test:reference` runs this; it needs python3-sklearn (which brings scipy).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RECORD_HINT } from '../helpers/reference.js';
import { driftJobs, jobFingerprint, readDriftFigures, runScipyJobs, type ScipyRun } from '../helpers/reference-drift.js';

const jobs = driftJobs();
let live: ScipyRun;

beforeAll(async () => {
  live = await runScipyJobs(jobs);
});

describe('scipy gives the recorded answers, live', () => {
  it('was recorded with the scipy release installed', () => {
    expect(readDriftFigures().versions.scipy, RECORD_HINT).toBe(live.scipy);
  });

  it.each(jobs.map((j) => [j.name, j] as const))('%s', (name, job) => {
    const figure = readDriftFigures().figures[name];
    expect(figure?.data, `"${name}" asks something else than when recorded; ${RECORD_HINT}`).toBe(jobFingerprint(job));
    expect(figure?.out, `scipy now answers "${name}" differently; ${RECORD_HINT}`).toEqual(live.results[name]);
  });
});
