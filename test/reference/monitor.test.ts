/**
 * Live: the monitor's statistics on the simulated host's windows (the traffic of test/monitor-story.test.ts,
 * replayed from the same seeds) against scipy and scikit-learn given the raw data. Drift: each compared column's
 * window sketch, and its Wasserstein or Jensen–Shannon distance against the training data, equal scipy's to 1e-9
 * (what "equal" means for sketch statistics: test/helpers/reference-monitor.ts); prediction drift likewise.
 * Performance: accuracy, precision, recall, F1, ROC AUC and log loss of each window equal scikit-learn's on
 * exactly the rows fed back, to reference-expect.ts's tolerance. `npm run test:reference` runs this; it needs
 * python3-sklearn and fails rather than skips without it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MonitorProfile, MonitorResult } from '../../src/monitor/windows.js';
import { monitorRun } from '../../src/usecases/monitor.js';
import { METRIC_TOLERANCE } from '../helpers/reference-expect.js';
import { runScipyJobs } from '../helpers/reference-drift.js';
import { runSklearnMetrics, type MetricsRun } from '../helpers/reference-metrics.js';
import { joinedCase, parseWindowDrift, predictedValues, referenceValues, windowDriftJob, windowValues, type WindowDriftAnswer } from '../helpers/reference-monitor.js';
import { DAY_MS, SimulatedHost, STORY } from '../helpers/simulated-host.js';

const DRIFT_TOLERANCE = 1e-9;

function close(ours: number | null | undefined, theirs: number, what: string): void {
  expect(typeof ours, what).toBe('number');
  expect(Math.abs((ours as number) - theirs), `${what}: ours ${ours}, the reference ${theirs}`).toBeLessThanOrEqual(DRIFT_TOLERANCE * Math.max(1, Math.abs(theirs)));
}

/** The days of the story whose windows had enough rows to judge. */
const JUDGED = STORY.days.filter(([, n]) => n >= 100).map(([d]) => d);
const start = (d: number): string => new Date(STORY.start + d * DAY_MS).toISOString();

let host: SimulatedHost;
let result: MonitorResult;
let profiles: readonly MonitorProfile[];
const scipy = new Map<number, { inputs: WindowDriftAnswer; predictions: WindowDriftAnswer }>();
let sklearn: MetricsRun;

beforeAll(async () => {
  host = await SimulatedHost.start({ trees: 10, share: 0.05 });
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    await host.story((ms) => vi.setSystemTime(ms));
  } finally {
    vi.useRealTimers();
  }
  await host.close();
  const run = await monitorRun({ dir: host.dir, env: 'prod', logs: host.logs }, { git: { env: {}, remote: null }, log: { info: () => undefined, warn: () => undefined } });
  result = run.result;
  profiles = run.profiles;

  const jobs = [];
  for (const d of JUDGED) {
    const window = result.windows.find((w) => w.start === start(d));
    const columns = window?.versions[0]?.drift?.columns ?? [];
    const unexpected = columns.filter((c) => c.test !== 'wasserstein' && c.test !== 'jensen_shannon');
    if (unexpected.length > 0) throw new Error(`the reference covers the large-reference tests only; ${unexpected.map((c) => `${c.column}: ${c.test}`).join(', ')}`);
    const numeric = columns.filter((c) => c.test === 'wasserstein').map((c) => c.column);
    const categorical = columns.filter((c) => c.test === 'jensen_shannon').map((c) => c.column);
    const names = [...numeric, ...categorical];
    jobs.push(windowDriftJob(`inputs ${d}`, { numeric, categorical, reference: referenceValues(host.table, names), current: windowValues(host.sent, d, names) }));
    jobs.push(windowDriftJob(`predictions ${d}`, { numeric: [], categorical: ['Churn'], reference: referenceValues(host.table, ['Churn']), current: { Churn: predictedValues(host.sent, d) } }));
  }
  const answers = await runScipyJobs(jobs);
  for (const d of JUDGED) {
    scipy.set(d, { inputs: parseWindowDrift(answers.results[`inputs ${d}`], `inputs ${d}`), predictions: parseWindowDrift(answers.results[`predictions ${d}`], `predictions ${d}`) });
  }
  sklearn = await runSklearnMetrics(JUDGED.map((d) => joinedCase(`window ${d}`, host.sent, d, host.artifact.classes)));
}, 900_000);

afterAll(async () => {
  await host?.close();
});

describe("the monitor's drift statistics equal scipy's on the raw values, to 1e-9", () => {
  it('compares every input column in every judged window, and flags MonthlyCharges in the shifted ones only', () => {
    for (const d of JUDGED) {
      const drift = result.windows.find((w) => w.start === start(d))?.versions[0]?.drift;
      expect(drift?.columns.length, `day ${d}`).toBe(19);
      expect(drift?.columns.filter((c) => c.drifted).map((c) => c.column), `day ${d}`).toEqual(d >= 3 ? ['MonthlyCharges'] : []);
    }
  });

  it.each(JUDGED)('day %i: each window sketch is numpy’s percentiles of the values sent, and each distance scipy’s', (d) => {
    const window = result.windows.find((w) => w.start === start(d));
    const profile = profiles.find((p) => p.start === start(d) && p.model === 'v1.0.0');
    const answer = scipy.get(d);
    if (window === undefined || profile === undefined || answer === undefined) throw new Error(`day ${d}: no window, profile or answer`);
    for (const column of window.versions[0].drift?.columns ?? []) {
      if (column.test === 'wasserstein') {
        const expected = answer.inputs.numeric[column.column];
        const sketched = profile.inputs.columns.find((c) => c.name === column.column);
        const sketch = sketched !== undefined && (sketched.kind === 'number' || sketched.kind === 'date') ? (sketched.sketch ?? []) : [];
        expect(sketch, column.column).toHaveLength(101);
        sketch.forEach((q, i) => close(q, expected.sketch[i], `${column.column} percentile ${i}`));
        close(column.statistic, expected.wasserstein, `${column.column} Wasserstein`);
      } else {
        close(column.statistic, answer.inputs.categorical[column.column].js, `${column.column} Jensen–Shannon`);
      }
    }
    const predictionDrift = window.versions[0].predictionDrift;
    expect(predictionDrift).toMatchObject({ column: 'Churn', test: 'jensen_shannon' });
    close(predictionDrift?.statistic, answer.predictions.categorical.Churn.js, 'predicted Churn Jensen–Shannon');
  });
});

describe("the monitor's live metrics equal scikit-learn's on the joined rows", () => {
  it('runs the scikit-learn release the tolerances were set against', () => {
    expect(sklearn.sklearn).toBe('1.2.1');
  });

  it.each(JUDGED)('day %i: accuracy, precision, recall, F1, ROC AUC and log loss', (d) => {
    const performance = result.windows.find((w) => w.start === start(d))?.versions[0]?.performance;
    if (performance?.status !== 'ok') throw new Error(`day ${d}: ${performance?.status}`);
    const sk = sklearn.reference.classification.get(`window ${d}`);
    if (sk === undefined) throw new Error(`scikit-learn has no result for day ${d}`);
    expect(performance.rows).toBe(joinedCase('', host.sent, d, host.artifact.classes).labels.length);
    const theirs = { accuracy: sk.accuracy, precision: sk.precision, recall: sk.recall, f1: sk.f1, roc_auc: sk.roc_auc, log_loss: sk.log_loss };
    expect(Object.keys(performance.metrics).sort()).toEqual(Object.keys(theirs).sort());
    for (const [metric, value] of Object.entries(theirs)) {
      const ours = performance.metrics[metric as keyof typeof theirs];
      if (value === null || ours === undefined || ours === null) throw new Error(`${metric} of day ${d}: ours ${ours}, scikit-learn ${value}`);
      expect(Math.abs(ours - value), `${metric} of day ${d}: ours ${ours}, scikit-learn ${value}`).toBeLessThanOrEqual(METRIC_TOLERANCE * Math.max(1, Math.abs(value)));
    }
  });
});
