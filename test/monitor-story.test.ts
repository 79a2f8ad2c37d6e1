// Issue 14's simulated host: the template trained, registered and served by the real server on port 0, sent 5,000
// single-row requests over several days (test/helpers/simulated-host.ts), the second half with MonthlyCharges ×
// 1.4, the true Churn fed back for 60 % of them. Then:
// - three scheduled runs (monitorRun with record + actOnMonitor, as the monitor action runs them) open one issue
//   and update it twice, through the GitHub adapter against the OpenAPI-checked GitHub double and the GitLab adapter
//   against the GitLab double, with one retrain dispatched; traffic back to normal and a healthy run close it;
// - `bramble monitor --json` over the whole log: drift on MonthlyCharges in the shifted windows only, the live
//   ROC AUC of each window on exactly the rows fed back, and bad input (corrupt lines, another model's lines, a
//   truth file with unknown ids, an empty window, a window under the minimum count).
//
// Windows: ml.yaml's monitor.window stays the template's one day, and the traffic is placed on different days by
// faking Date alone (`vi.useFakeTimers({ toFake: ['Date'] })` + `vi.setSystemTime`) while it is sent: the server
// stamps each logged prediction with `new Date()`, and its sockets and flush timer stay real. A window of a minute
// sent in real time would make the story minutes long and its window edges depend on the machine's speed.
//
// The live ROC AUC is held to evaluateClassification on the joined rows computed here from what was sent (toBe),
// and to the Mann–Whitney count of the same rows (within 1e-12: the two sum in different orders); `npm test` runs
// no Python, so scikit-learn's roc_auc_score on these very rows is compared live by test/reference/monitor.test.ts,
// which replays the same seeded traffic.
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evaluateClassification } from '../src/model/evaluate.js';
import { ALERT, healthyComment } from '../src/monitor/alert.js';
import type { MonitorResult } from '../src/monitor/windows.js';
import { githubPlatform } from '../src/platform/github.js';
import { gitlabPlatform } from '../src/platform/gitlab.js';
import { PREDICTION_LOG, PredictionLog } from '../src/serve/prediction-log.js';
import { actOnMonitor, type AlertInput, type AlertOutcome } from '../src/usecases/alert.js';
import { monitorRun, type MonitorRun } from '../src/usecases/monitor.js';
import { bramble } from './helpers/cli.js';
import { GITHUB_DOUBLE, startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { gitlabJobVariables, startGitLabDouble, type GitLabDouble } from './helpers/gitlab-double.js';
import { makeModelRepo, train } from './helpers/model-repo.js';
import { CHURN_CLASSES, expectWindowDriftAgrees, expectWindowMetricsAgree, RECORDED_DAYS, recordedCase, recordedMetrics, recordedWindowDrift, type RecordedCase } from './helpers/reference-monitor.js';
import { DAY_MS, joinedOn, SimulatedHost, STORY } from './helpers/simulated-host.js';

const quiet = { info: () => undefined, warn: () => undefined };

/** Traffic with Date faked: `send` gets the clock to set before each batch. */
async function atFakeTimes<T>(send: (clock: (ms: number) => void) => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    return await send((ms) => vi.setSystemTime(ms));
  } finally {
    vi.useRealTimers();
  }
}

/** ROC AUC as the Mann–Whitney U over all (positive, negative) pairs, ties half: what roc_auc_score computes for two classes. */
function mannWhitneyAuc(labels: readonly string[], scores: readonly number[], positive: string): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j][0] === order[i][0]) j++;
    // Ranks i+1 … j share their mean.
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) {
      if (labels[order[k][1]] === positive) {
        rankSum += rank;
        positives++;
      }
    }
    i = j;
  }
  const negatives = labels.length - positives;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const day = (d: number): string => new Date(STORY.start + d * DAY_MS).toISOString();
const ranAt = (d: number): Date => new Date(STORY.start + d * DAY_MS + 6 * 3600 * 1000);

describe('a simulated host: 5,000 requests, the second half shifted, monitored over several days (issue 14)', () => {
  let host: SimulatedHost;
  let github: GitHubDouble;
  let gitlab: GitLabDouble;
  const runs: MonitorRun[] = [];
  const outcomes: { github: AlertOutcome; gitlab: AlertOutcome }[] = [];

  /** One scheduled run at 06:00 on day `d`: recorded on the registry branch, then acted on through both doubles. */
  async function scheduled(d: number, since?: string): Promise<void> {
    const run = await monitorRun({ dir: host.dir, env: 'prod', logs: host.logs, record: true, since }, { git: { env: {}, remote: null }, log: quiet, now: () => ranAt(d) });
    runs.push(run);
    const input: AlertInput = { name: 'churn', env: 'prod', onAlert: ['issue', 'retrain'], result: run.result, history: run.history, retrain: { ref: 'main', workflow: 'ml.yml' }, performance: { metric: 'roc_auc', min: 0.78 } };
    const onGitHub = githubPlatform(
      { GITHUB_EVENT_NAME: 'schedule', GITHUB_REPOSITORY: `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`, GITHUB_API_URL: github.url, GITHUB_TOKEN: GITHUB_DOUBLE.botToken, GITHUB_SERVER_URL: 'https://github.com' },
      { backoff: () => 0 },
    );
    const onGitLab = gitlabPlatform({ ...gitlabJobVariables(gitlab.apiUrl, host.dir, 'a'.repeat(40)), CI_PIPELINE_SOURCE: 'schedule' }, { backoff: () => 0, write: () => undefined });
    outcomes.push({
      github: await actOnMonitor(input, { platform: onGitHub, log: quiet }),
      gitlab: await actOnMonitor(input, { platform: onGitLab, log: quiet }),
    });
  }

  beforeAll(async () => {
    // One drifted input column of the template's 19 is 5 %: make that the data set's drift share (the template's 0.5 needs ten).
    host = await SimulatedHost.start({ trees: 10, share: 0.05 });
    github = await startGitHubDouble();
    gitlab = await startGitLabDouble();
    const [d0, d1, d3, d4, d5] = STORY.days;
    // Days 0, 1 (normal) and 3 (shifted); the run on day 4 sees the shift.
    await atFakeTimes(async (clock) => {
      for (const [d, n, shifted] of [d0, d1, d3]) await host.traffic(d, n, shifted, clock);
    });
    await scheduled(4);
    await atFakeTimes((clock) => host.traffic(d4[0], d4[1], d4[2], clock));
    await scheduled(5);
    await atFakeTimes((clock) => host.traffic(d5[0], d5[1], d5[2], clock));
    await scheduled(6);
    // The shift is over: a normal day 6, and the run on day 7 reads from day 6 on.
    await atFakeTimes((clock) => host.traffic(6, 300, false, clock));
    await scheduled(7, day(6));
    await host.close();
  }, 600_000);

  afterAll(async () => {
    await host?.close();
    await github?.close();
    await gitlab?.close();
  });

  it('sent 5,000 requests with the second half shifted, and fed back 60 % of them', () => {
    const story = host.sent.filter((s) => s.day < 6);
    expect(story).toHaveLength(5000);
    expect(story.filter((s) => s.shifted)).toHaveLength(2500);
    expect(story.slice(0, 2500).every((s) => !s.shifted)).toBe(true);
    const share = story.filter((s) => s.fedBack).length / story.length;
    expect(Math.abs(share - STORY.feedback)).toBeLessThan(0.02);
  });

  it('three scheduled runs open one issue and update it twice, with one retrain dispatched (GitHub)', () => {
    const [first, second, third] = outcomes.map((o) => o.github);
    expect(runs.slice(0, 3).map((r) => r.result.healthy)).toEqual([false, false, false]);
    expect(first.issue).toMatchObject({ created: true, closed: false });
    expect(second.issue).toEqual({ ...first.issue, created: false });
    expect(third.issue).toEqual({ ...first.issue, created: false });
    expect([first, second, third].map((o) => o.retrain?.dispatched)).toEqual([true, false, false]);
    expect(github.dispatches).toHaveLength(1);
    expect(github.dispatches[0]).toMatchObject({ workflow: 'ml.yml', ref: 'main', inputs: { retrain: 'prod' } });
    expect(github.issues).toHaveLength(1);
    const [issue] = github.issues;
    expect(issue.number).toBe(first.issue?.number);
    expect(issue.labels).toEqual([ALERT.label]);
    expect(issue.title).toMatch(/^churn in prod: input drift \(1 of 19 columns\)/);
    // The body the third run left: its newest alerting window, the drifted column first, and when the retrain went out.
    expect(issue.body).toContain(`Newest alert: the window ${day(4)} – ${day(5)}, version v1.0.0, 1230 rows.`);
    expect(issue.body).toMatch(/\n\| MonthlyCharges \| wasserstein \| \d\.\d{4} \| 0\.1000 \| \*\*yes\*\* \|\n/);
    expect(issue.body).toContain(`A retrain was dispatched at ${ranAt(4).toISOString()}, by the first run of this alert`);
    expect(github.problems).toEqual([]);
  });

  it('each run is recorded on the registry branch and reads the earlier ones back as its history', () => {
    expect(runs.map((r) => r.history.map((h) => h.ranAt))).toEqual([[], [ranAt(4)], [ranAt(4), ranAt(5)], [ranAt(4), ranAt(5), ranAt(6)]].map((l) => l.map((d) => d.toISOString())));
    for (const run of runs) expect(run.recorded?.files).toContain(`churn/monitoring/prod/runs/${run.result.ranAt.replaceAll(':', '-')}.json`);
  });

  it('traffic back to normal: the healthy run closes the issue with a comment naming the healthy window (GitHub)', () => {
    const healthy = runs[3].result;
    expect(healthy.healthy).toBe(true);
    expect(healthy.windows.map((w) => [w.start, w.status])).toEqual([[day(6), 'healthy']]);
    const closed = outcomes[3].github;
    expect(closed).toEqual({ healthy: true, issue: { ...outcomes[0].github.issue, created: false, closed: true }, retrain: null, planned: [] });
    expect(github.issues[0].state).toBe('closed');
    expect(github.comments.filter((c) => c.issue === github.issues[0].number).map((c) => c.body)).toEqual([healthyComment(healthy)]);
    expect(healthyComment(healthy)).toContain(`found the window ${day(6)} – ${day(7)} healthy (version v1.0.0: 300 rows`);
    expect(github.dispatches).toHaveLength(1);
    expect(github.problems).toEqual([]);
  });

  it('the same four runs through GitLab: one issue opened, updated twice and closed; one retrain pipeline', () => {
    const [first, second, third, healthy] = outcomes.map((o) => o.gitlab);
    expect(first.issue).toMatchObject({ created: true, closed: false });
    expect(second.issue).toEqual({ ...first.issue, created: false });
    expect(third.issue).toEqual({ ...first.issue, created: false });
    expect(healthy.issue).toEqual({ ...first.issue, created: false, closed: true });
    expect(gitlab.issues.map((i) => [i.iid, i.state])).toEqual([[first.issue?.number, 'closed']]);
    expect(gitlab.issues[0].description).toContain('| MonthlyCharges | wasserstein |');
    expect(gitlab.createdPipelines.map((p) => ({ ref: p.ref, variables: p.variables }))).toEqual([{ ref: 'main', variables: { BRAMBLE_RETRAIN: 'prod' } }]);
    expect(gitlab.problems).toEqual([]);
  });

  describe('bramble monitor --json over the whole log', () => {
    let result: MonitorResult;
    let status: number | null;
    const file = (): string => join(host.logs, PREDICTION_LOG.file);
    let lines: number;

    beforeAll(async () => {
      // Another model's predictions in the same environment, in the server's record shape, on a shifted day.
      const other = new PredictionLog({ dir: host.logs, maxBytes: 64 * 1024 * 1024, files: 2 });
      for (let i = 0; i < 3; i++) {
        other.append({ id: `fraud-${i}`, time: day(3), env: 'prod', model: { name: 'fraud', version: 'v2.0.0', sha256: 'f'.repeat(64) }, inputs: [{ amount: 1 }], outputs: { predictions: [0] }, latencyMs: 1 });
      }
      await other.close();
      // A host that died mid-line, and a line of another shape.
      appendFileSync(file(), '{"id": "story-x", "time": "2026-11-0\n{"id": "story-y", "env": "prod"}\n');
      lines = readFileSync(file(), 'utf8').split('\n').length - 1;
      const r = bramble(['monitor', '.', '--env', 'prod', '--logs', host.logs, '--json'], { cwd: host.dir });
      expect(r.stderr).toBe('');
      status = r.status;
      result = JSON.parse(r.stdout) as MonitorResult;
    }, 120_000);

    it('flags MonthlyCharges in the shifted windows only, and exits 1', () => {
      expect(status).toBe(1);
      expect(result.windows.map((w) => [w.start, w.status])).toEqual([
        [day(0), 'healthy'],
        [day(1), 'healthy'],
        [day(2), 'empty'],
        [day(3), 'alert'],
        [day(4), 'alert'],
        [day(5), 'not-enough-data'],
        [day(6), 'healthy'],
      ]);
      const drifted = result.windows.map((w) => w.versions[0]?.drift?.columns.filter((c) => c.drifted).map((c) => c.column) ?? null);
      expect(drifted).toEqual([[], [], null, ['MonthlyCharges'], ['MonthlyCharges'], null, []]);
      for (const k of [3, 4]) expect(result.windows[k].versions[0].drift?.columns.find((c) => c.column === 'MonthlyCharges')).toMatchObject({ test: 'wasserstein', threshold: 0.1, drifted: true });
      expect(result.windows.map((w) => w.versions[0]?.rows ?? 0)).toEqual([1250, 1250, 0, 1230, 1230, 40, 300]);
    });

    it('gives each window the live ROC AUC of exactly the rows fed back, as evaluateClassification and the Mann–Whitney count have it', () => {
      for (const [k, d] of [[0, 0], [1, 1], [3, 3], [4, 4], [6, 6]]) {
        const performance = result.windows[k].versions[0].performance;
        if (performance.status !== 'ok') throw new Error(`window ${k}: ${performance.status}`);
        const { labels, probabilities } = joinedOn(host.sent, d);
        expect(performance.rows).toBe(labels.length);
        expect(result.windows[k].versions[0].joined).toEqual({ feedback: labels.length, truthFile: 0 });
        const expected = evaluateClassification({ labels, classes: host.artifact.classes, probabilities: Float64Array.from(probabilities.flat()) });
        expect(performance.metrics.roc_auc).toBe(expected.roc_auc);
        const yes = host.artifact.classes.indexOf('Yes');
        const auc = mannWhitneyAuc(labels, probabilities.map((p) => p[yes]), 'Yes');
        expect(Math.abs((performance.metrics.roc_auc ?? Number.NaN) - auc)).toBeLessThanOrEqual(1e-12);
        expect(performance.watched).toEqual({ metric: 'roc_auc', value: expected.roc_auc, alert: (expected.roc_auc ?? 1) < 0.78 });
      }
      // 40 requests, about 24 fed back: under the minimum of 100 joined rows.
      expect(result.windows[5].versions[0].performance).toEqual({ status: 'not-enough-data', rows: joinedOn(host.sent, 5).labels.length });
    });

    it('says "not enough data" for the window under the minimum count, and lists the day without traffic as empty', () => {
      expect(result.windows[5].versions[0]).toMatchObject({ rows: 40, status: 'not-enough-data', drift: null, predictionDrift: null });
      expect(result.windows[2]).toEqual({ start: day(2), end: day(3), status: 'empty', versions: [] });
    });

    it("skips and counts corrupt lines with their file and line, and leaves another model's predictions out", () => {
      expect(result.log.corrupt).toEqual([
        { file: file(), line: lines - 1, reason: 'not JSON' },
        { file: file(), line: lines, reason: 'no id, time or env' },
      ]);
      expect(result.log.otherRequests).toBe(3);
      expect(result.log.requests).toBe(5300);
      expect(result.log.feedback).toBe(host.sent.filter((s) => s.fedBack).length);
    });

    it('joins a truth file by customerID for rows without feedback, and counts the ids no prediction had', () => {
      const late = host.sent.filter((s) => s.day === 3 && !s.fedBack);
      const truth = join(mkdtempSync(join(tmpdir(), 'bramble-story-truth-')), 'truth.csv');
      writeFileSync(truth, ['customerID,Churn', ...late.map((s) => `${String(s.row.customerID)},${s.truth}`), '0000-NOONE,Yes', '0001-NOONE,No'].join('\n') + '\n');
      const ids = new Set(late.map((s) => String(s.row.customerID)));
      const r = bramble(['monitor', '.', '--env', 'prod', '--logs', host.logs, '--truth', truth, '--json'], { cwd: host.dir });
      expect(r.stderr).toBe('');
      const joined = JSON.parse(r.stdout) as MonitorResult;
      expect(joined.truth).toEqual({ file: truth, rows: ids.size + 2, unknownIds: 2 });
      // A customer drawn twice is joined wherever a row of theirs was not fed back, on any day.
      const byTruthFile = (d: number): number => host.sent.filter((s) => s.day === d && !s.fedBack && ids.has(String(s.row.customerID))).length;
      expect(joined.windows[3].versions[0].joined).toEqual({ feedback: joinedOn(host.sent, 3).labels.length, truthFile: late.length });
      expect(joined.windows[3].versions[0].performance.rows).toBe(1230);
      expect(joined.windows[0].versions[0].joined.truthFile).toBe(byTruthFile(0));
      expect(joined.windows[4].versions[0].joined.truthFile).toBe(byTruthFile(4));
    });
  });
});

// `npm test` runs no Python: the monitor's statistics are held to scipy's and scikit-learn's answers recorded by
// `npm run reference:record` on a case that does not depend on the trained model (test/helpers/reference-monitor.ts),
// and test/reference/monitor.test.ts checks live that they still answer so.
describe("the monitor against scipy's and scikit-learn's recorded answers", () => {
  let result: MonitorResult;
  let run: MonitorRun;
  let recorded: RecordedCase;

  beforeAll(async () => {
    recorded = await recordedCase();
    const dir = makeModelRepo({ trees: 3 });
    const artifact = JSON.parse(await train(dir)) as { signature: { inputs: { name: string }[]; classes: string[] } };
    expect(artifact.signature.classes).toEqual(CHURN_CLASSES);
    expect(artifact.signature.inputs.map((i) => i.name)).toEqual(recorded.inputs);
    expect(bramble(['register'], { cwd: dir }).status).toBe(0);
    const logs = mkdtempSync(join(tmpdir(), 'bramble-recorded-logs-'));
    const log = new PredictionLog({ dir: logs, maxBytes: 64 * 1024 * 1024, files: 2 });
    for (const line of recorded.lines) expect(log.append(line)).toBe(true);
    await log.close();
    run = await monitorRun({ dir, env: 'prod', logs }, { git: { env: {}, remote: null }, log: quiet });
    result = run.result;
  }, 120_000);

  it.each(RECORDED_DAYS)("day %i: every input's test is the large-reference one, and its sketch and distance equal scipy's to 1e-9", (d) => {
    const version = result.windows.find((w) => w.start === day(d))?.versions[0];
    const profile = run.profiles.find((p) => p.start === day(d) && p.model === 'v1.0.0');
    if (version === undefined || profile === undefined) throw new Error(`day ${d}: no window or profile`);
    expect(version.drift?.columns.map((c) => [c.column, c.test])).toEqual(recorded.inputs.map((n) => [n, recorded.numeric.includes(n) ? 'wasserstein' : 'jensen_shannon']));
    const [inputs, predictions] = recorded.jobs.filter((j) => j.name.endsWith(` ${d}`)).map(recordedWindowDrift);
    expectWindowDriftAgrees(version, profile, inputs, predictions);
    expect(version.drift?.columns.filter((c) => c.drifted).map((c) => c.column)).toEqual(d === 1 ? ['MonthlyCharges'] : []);
  });

  it.each(RECORDED_DAYS)("day %i: accuracy, precision, recall, F1, ROC AUC and log loss equal scikit-learn's on the joined rows", (d) => {
    const version = result.windows.find((w) => w.start === day(d))?.versions[0];
    if (version === undefined) throw new Error(`day ${d}: no window`);
    const sk = recordedMetrics(recorded.cases).classification.get(`monitor: window ${d}`);
    expectWindowMetricsAgree(version.performance, sk, recorded.cases[d].labels.length);
  });
});
