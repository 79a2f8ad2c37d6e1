/**
 * Live: the monitor's statistics on the simulated host's windows (the traffic of test/monitor-story.test.ts,
 * replayed from the same seeds) against scipy and scikit-learn given the raw data. Drift: each compared column's
 * window sketch, and its Wasserstein or Jensen–Shannon distance against the training data, equal scipy's to 1e-9
 * (what "equal" means for sketch statistics: test/helpers/reference-monitor.ts); prediction drift likewise; with a
 * reference of 800 rows, chi-square's statistic and p-value equal scipy's to 1e-9 and KS's D equals the same
 * definition computed by numpy, its p-value equals ks_2samp's for that D to 1e-9 (src/data/ks.ts). Performance: accuracy, precision, recall, F1, ROC AUC and log loss of each
 * window equal scikit-learn's on exactly the rows fed back, to reference-expect.ts's tolerance. And the figures
 * recorded for `npm test` (test/reference-figures/monitor.json) are what scipy and scikit-learn answer now.
 * `npm run test:reference` runs this; it needs python3-sklearn and fails rather than skips without it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MonitorProfile, MonitorResult, MonitorWindow } from '../../src/monitor/windows.js';
import { monitorRun } from '../../src/usecases/monitor.js';
import { runScipyJobs, type ScipyJob } from '../helpers/reference-drift.js';
import { runSklearnMetrics, type MetricsRun } from '../helpers/reference-metrics.js';
import { RECORD_HINT } from '../helpers/reference.js';
import {
  expectWindowDriftAgrees,
  expectWindowMetricsAgree,
  joinedCase,
  monitorFigures,
  parseWindowDrift,
  predictedValues,
  readMonitorFigures,
  recordedCase,
  referenceValues,
  windowDriftJob,
  windowValues,
  type WindowDriftAnswer,
} from '../helpers/reference-monitor.js';
import { DAY_MS, SimulatedHost, STORY } from '../helpers/simulated-host.js';

const start = (d: number): string => new Date(STORY.start + d * DAY_MS).toISOString();

/** A host, its traffic, the monitor's run over its log, and scipy's and scikit-learn's answers for each judged day. */
interface Monitored {
  host: SimulatedHost;
  result: MonitorResult;
  profiles: readonly MonitorProfile[];
  scipy: Map<number, { inputs: WindowDriftAnswer; predictions: WindowDriftAnswer }>;
  sklearn: MetricsRun;
}

async function monitored(host: SimulatedHost, days: readonly (readonly [number, number, boolean])[]): Promise<Monitored> {
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    for (const [d, n, shifted] of days) await host.traffic(d, n, shifted, (ms) => vi.setSystemTime(ms));
  } finally {
    vi.useRealTimers();
  }
  await host.close();
  const { result, profiles } = await monitorRun({ dir: host.dir, env: 'prod', logs: host.logs }, { git: { env: {}, remote: null }, log: { info: () => undefined, warn: () => undefined } });
  const judged = days.filter(([, n]) => n >= 100).map(([d]) => d);
  const jobs: ScipyJob[] = [];
  for (const d of judged) {
    const columns = windowOf(result, d).versions[0]?.drift?.columns ?? [];
    const by = (test: string): string[] => columns.filter((c) => c.test === test).map((c) => c.column);
    const names = columns.map((c) => c.column);
    const input = { numeric: by('wasserstein'), categorical: by('jensen_shannon'), ks: by('ks'), chi2: by('chi2') };
    jobs.push(windowDriftJob(`inputs ${d}`, { ...input, reference: referenceValues(host.table, names), current: windowValues(host.sent, d, names) }));
    const test = windowOf(result, d).versions[0]?.predictionDrift?.test === 'chi2' ? 'chi2' : 'categorical';
    const predictions = { numeric: [], categorical: test === 'categorical' ? ['Churn'] : [], chi2: test === 'chi2' ? ['Churn'] : [] };
    jobs.push(windowDriftJob(`predictions ${d}`, { ...predictions, reference: referenceValues(host.table, ['Churn']), current: { Churn: predictedValues(host.sent, d) } }));
  }
  const answers = await runScipyJobs(jobs);
  const scipy = new Map<number, { inputs: WindowDriftAnswer; predictions: WindowDriftAnswer }>();
  for (const d of judged) {
    scipy.set(d, { inputs: parseWindowDrift(answers.results[`inputs ${d}`], `inputs ${d}`), predictions: parseWindowDrift(answers.results[`predictions ${d}`], `predictions ${d}`) });
  }
  const sklearn = await runSklearnMetrics(judged.map((d) => joinedCase(`window ${d}`, host.sent, d, host.artifact.classes)));
  return { host, result, profiles, scipy, sklearn };
}

function windowOf(result: MonitorResult, d: number): MonitorWindow {
  const window = result.windows.find((w) => w.start === start(d));
  if (window === undefined) throw new Error(`no window starts at ${start(d)}`);
  return window;
}

/** Every compared column of day `d`: its window sketch, and its statistic (and p-value) by the test drift.ts chose. */
function expectDriftAgrees(m: Monitored, d: number): void {
  const version = windowOf(m.result, d).versions[0];
  const profile = m.profiles.find((p) => p.start === start(d) && p.model === 'v1.0.0');
  const answer = m.scipy.get(d);
  if (profile === undefined || answer === undefined) throw new Error(`day ${d}: no profile or answer`);
  expect(version.drift?.columns, `day ${d}`).toHaveLength(19);
  expectWindowDriftAgrees(version, profile, answer.inputs, answer.predictions);
}

/** The window's live metrics against scikit-learn's on the rows fed back that day. */
function expectMetricsAgree(m: Monitored, d: number): void {
  const performance = windowOf(m.result, d).versions[0].performance;
  expectWindowMetricsAgree(performance, m.sklearn.reference.classification.get(`window ${d}`), joinedCase('', m.host.sent, d, m.host.artifact.classes).labels.length);
}

/** The days of the story whose windows had enough rows to judge. */
const JUDGED = STORY.days.filter(([, n]) => n >= 100).map(([d]) => d);

describe("the story's traffic, a reference of 7,043 rows: Wasserstein and Jensen–Shannon", () => {
  let m: Monitored;
  beforeAll(async () => {
    m = await monitored(await SimulatedHost.start({ trees: 10, share: 0.05 }), STORY.days);
  }, 900_000);
  afterAll(async () => {
    await m?.host.close();
  });

  it('compares every input column in every judged window, and flags MonthlyCharges in the shifted ones only', () => {
    for (const d of JUDGED) {
      const drift = windowOf(m.result, d).versions[0]?.drift;
      expect(drift?.columns.map((c) => c.test).sort()[0], `day ${d}`).toBe('jensen_shannon');
      expect(drift?.columns.filter((c) => c.drifted).map((c) => c.column), `day ${d}`).toEqual(d >= 3 ? ['MonthlyCharges'] : []);
    }
  });

  it.each(JUDGED)('day %i: each window sketch is numpy’s percentiles of the values sent, and each distance scipy’s, to 1e-9', (d) => {
    expectDriftAgrees(m, d);
  });

  it('runs the scikit-learn release the tolerances were set against', () => {
    expect(m.sklearn.sklearn).toBe('1.2.1');
  });

  it.each(JUDGED)("day %i: accuracy, precision, recall, F1, ROC AUC and log loss equal scikit-learn's on the joined rows", (d) => {
    expectMetricsAgree(m, d);
  });
});

describe('a reference of 800 rows: Kolmogorov–Smirnov and chi-square', () => {
  let m: Monitored;
  const days = [
    [0, 300, false],
    [1, 300, true],
  ] as const;
  beforeAll(async () => {
    m = await monitored(await SimulatedHost.start({ trees: 10, share: 0.05, rows: 800 }), days);
  }, 900_000);
  afterAll(async () => {
    await m?.host.close();
  });

  it('compares with the small-sample tests, and flags the shifted MonthlyCharges', () => {
    const tests = new Set(windowOf(m.result, 0).versions[0].drift?.columns.map((c) => c.test));
    expect([...tests].sort()).toEqual(['chi2', 'ks']);
    expect(windowOf(m.result, 1).versions[0].drift?.columns.find((c) => c.column === 'MonthlyCharges')).toMatchObject({ test: 'ks', drifted: true });
  });

  it.each([0, 1])("day %i: sketches, KS's D and p-value and chi-square equal the reference's to 1e-9", (d) => {
    expectDriftAgrees(m, d);
  });

  it.each([0, 1])("day %i: the live metrics equal scikit-learn's on the joined rows", (d) => {
    expectMetricsAgree(m, d);
  });
});

describe("the monitor's recorded figures (test/reference-figures/monitor.json, which npm test compares with)", () => {
  it('are what scipy and scikit-learn answer now, to the last bit, with the releases recorded', async () => {
    const live = await monitorFigures(await recordedCase());
    const recorded = readMonitorFigures();
    expect(recorded.versions, RECORD_HINT).toEqual(live.versions);
    expect(recorded.figures, `scipy or scikit-learn now answer the monitor's case differently; ${RECORD_HINT}`).toEqual(live.figures);
  });
});
