/**
 * Live: every metric of src/model/evaluate.ts against scikit-learn run now, by test/reference/sklearn_metrics.py,
 * on the cases test/evaluate.test.ts compares with recorded figures; and scikit-learn still gives those figures.
 * `npm run test:reference` runs this; it needs python3-sklearn and fails rather than skips without it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RECORD_HINT } from '../helpers/reference.js';
import { expectClassificationAgrees, expectRegressionAgrees } from '../helpers/reference-expect.js';
import { CLASSIFICATION_CASES, readMetricsFigures, REGRESSION_CASES, runSklearnMetrics, type MetricsRun } from '../helpers/reference-metrics.js';

let live: MetricsRun;

beforeAll(async () => {
  live = await runSklearnMetrics();
});

describe('classification metrics agree with scikit-learn, live', () => {
  it('runs the scikit-learn release the tolerances were set against', () => {
    expect(live.sklearn).toBe('1.2.1');
  });

  it.each(CLASSIFICATION_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    expectClassificationAgrees(c, live.reference.classification.get(name));
  });
});

describe('regression metrics agree with scikit-learn, live', () => {
  it.each(REGRESSION_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    expectRegressionAgrees(c, live.reference.regression.get(name));
  });
});

describe('the recorded figures', () => {
  it('are what scikit-learn gives now, to the last bit', () => {
    const recorded = readMetricsFigures();
    expect(recorded.versions['scikit-learn'], RECORD_HINT).toBe(live.sklearn);
    expect(recorded.figures.results, `scikit-learn now answers differently from the recording; ${RECORD_HINT}`).toEqual(live.results);
  });
});
