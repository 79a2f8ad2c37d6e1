// The monitor's alerts act (issue 14): the issue body (src/monitor/alert.ts) and actOnMonitor
// (src/usecases/alert.ts) through the real GitHub adapter against the OpenAPI-checked GitHub double, and through the
// GitLab adapter against the GitLab double (checked against the vendored subset of GitLab's description). Each
// test ends with the double's `problems` empty.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnDrift, DriftResult } from '../src/data/drift.js';
import { ALERT, alertBody, alertMarker, alertTitle, chartPoints, healthyComment } from '../src/monitor/alert.js';
import type { MonitorResult, MonitorWindow, VersionWindow } from '../src/monitor/windows.js';
import { githubPlatform } from '../src/platform/github.js';
import { gitlabPlatform } from '../src/platform/gitlab.js';
import { localPlatform } from '../src/platform/local.js';
import type { Platform } from '../src/platform/types.js';
import { actOnMonitor, type AlertInput } from '../src/usecases/alert.js';
import { GITHUB_DOUBLE, startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { GITLAB_DOUBLE, gitlabJobVariables, startGitLabDouble, type GitLabDouble } from './helpers/gitlab-double.js';
import { loadMermaid, mermaidBlocks } from './helpers/mermaid.js';

const NAME = 'churn';
const ENV = 'prod';
const MARKER = alertMarker(NAME, ENV);
const COLUMNS = ['tenure', 'MonthlyCharges', 'TotalCharges', 'Contract', 'PaymentMethod', 'InternetService'];

function column(name: string, drifted: boolean): ColumnDrift {
  return { column: name, kind: 'numeric', test: 'ks', statistic: drifted ? 0.41 : 0.05, pValue: drifted ? 0.0001 : 0.62, score: drifted ? 0.0001 : 0.62, threshold: 0.05, drifted, referenceCount: 800, currentCount: 240, };
}

function drift(drifted: number, columns: readonly string[] = COLUMNS): DriftResult {
  const list = columns.map((c, i) => column(c, i < drifted));
  return { format: 'bramble-drift', version: 1, share: 0.5, driftedShare: drifted / columns.length, datasetDrift: drifted / columns.length >= 0.5, columns: list, skipped: [] };
}

function versionWindow(alert: boolean, auc: number, columns: readonly string[] = COLUMNS): VersionWindow {
  const d = drift(alert ? Math.ceil(columns.length / 2) : 0, columns);
  return {
    version: 'v1.2.0',
    rows: 240,
    status: alert ? 'alert' : 'healthy',
    drift: d,
    predictionDrift: null,
    performance: {
      status: 'ok',
      rows: 180,
      metrics: { roc_auc: auc },
      watched: { metric: 'roc_auc', value: auc, alert: auc < 0.78 },
      interval: { metric: 'roc_auc', low: auc - 0.04, high: auc + 0.04, method: 'Hanley–McNeil' },
    },
    joined: { feedback: 180, truthFile: 0 },
    unjoinedFeedback: 0,
    unknownTruth: 0,
  };
}

function window(day: string, alert: boolean, auc: number, columns?: readonly string[]): MonitorWindow {
  return { start: `${day}T00:00:00.000Z`, end: `${day}T23:59:59.999Z`, status: alert ? 'alert' : 'healthy', versions: [versionWindow(alert, auc, columns)] };
}

/** One recorded run: the windows of `days`, the last alerting when `alert`. */
function run(ranAt: string, days: readonly string[], alert: boolean, columns?: readonly string[]): MonitorResult {
  const windows = days.map((day, i) => (i === days.length - 1 ? window(day, alert, alert ? 0.71 : 0.84, columns) : window(day, false, 0.84, columns)));
  return {
    format: 'bramble-monitor',
    version: 1,
    name: NAME,
    env: ENV,
    ranAt,
    window: '1d',
    windowMs: 86_400_000,
    minRows: 100,
    share: 0.5,
    log: { files: ['predictions.jsonl'], requests: 720, rows: 720, feedback: 540, otherRequests: 0, late: 0, faults: 0, corrupt: [], corruptLines: 0 },
    truth: null,
    windows,
    healthy: !alert,
  };
}

const RUNS = {
  first: run('2026-12-02T06:00:00.000Z', ['2026-11-30', '2026-12-01'], true),
  second: run('2026-12-03T06:00:00.000Z', ['2026-12-01', '2026-12-02'], true),
  third: run('2026-12-04T06:00:00.000Z', ['2026-12-02', '2026-12-03'], true),
  healthy: run('2026-12-05T06:00:00.000Z', ['2026-12-03', '2026-12-04'], false),
  again: run('2026-12-06T06:00:00.000Z', ['2026-12-04', '2026-12-05'], true),
} as const;

const SEQUENCE = [RUNS.first, RUNS.second, RUNS.third, RUNS.healthy, RUNS.again];

function input(result: MonitorResult, history: readonly MonitorResult[]): AlertInput {
  return { name: NAME, env: ENV, onAlert: ['issue', 'retrain'], result, history, retrain: { ref: 'main', workflow: 'ml.yml' }, performance: { metric: 'roc_auc', min: 0.78 } };
}

const log = { info: () => undefined, warn: () => undefined };

describe('the issue body (src/monitor/alert.ts)', () => {
  it('has the marker once, the newest alert in the title, the drift table and the live metric', () => {
    const body = alertBody(RUNS.third, [RUNS.first, RUNS.second], { kind: 'earlier', at: RUNS.first.ranAt });
    expect(body.split(MARKER)).toHaveLength(2);
    expect(alertTitle(RUNS.third, { metric: 'roc_auc', min: 0.78 })).toBe('churn in prod: input drift (3 of 6 columns) / roc_auc 0.7100 < 0.78');
    expect(body).toContain('Newest alert: the window 2026-12-03T00:00:00.000Z – 2026-12-03T23:59:59.999Z, version v1.2.0, 240 rows.');
    expect(body).toContain('| column | test | score | threshold | drifted |');
    // Drifted columns first, then by score and name.
    expect(body).toMatch(/\| TotalCharges \| ks \| 0\.0001 \| 0\.0500 \| \*\*yes\*\* \|\n\| Contract \| ks \| 0\.6200 \| 0\.0500 \| no \|/);
    expect(body).toContain('| InternetService | ks | 0.6200 | 0.0500 | no |');
    expect(body).toContain('roc_auc **0.7100** — out of bounds on 180 joined rows (95 % interval 0.6700 – 0.7500, Hanley–McNeil).');
    expect(body).toContain(`A retrain was dispatched at ${RUNS.first.ranAt}, by the first run of this alert`);
  });

  it('draws each window once, the newest run winning, in charts mermaid parses', async () => {
    // The first run saw 2026-12-01 alerting; the second saw the same day again (healthy by then): the second wins.
    const points = chartPoints(RUNS.second, [RUNS.first]);
    expect(points.map((p) => [p.start.slice(0, 10), p.metric])).toEqual([
      ['2026-11-30', 0.84],
      ['2026-12-01', 0.84],
      ['2026-12-02', 0.71],
    ]);
    const body = alertBody(RUNS.second, [RUNS.first], { kind: 'off' });
    const blocks = mermaidBlocks(body);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('x-axis ["11-30", "12-01", "12-02"]');
    expect(blocks[1]).toContain('line [0.8400, 0.8400, 0.7100]');
    const mermaid = await loadMermaid();
    for (const block of blocks) await expect(mermaid.parse(block), block).resolves.toMatchObject({ diagramType: 'xychart' });
  });

  it('keeps at most the last 30 windows in the charts', () => {
    const days = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2026, 10, 1 + i)).toISOString().slice(0, 10));
    const body = alertBody(run('2026-12-11T06:00:00.000Z', days, true), [], { kind: 'off' });
    const [driftChart] = mermaidBlocks(body);
    expect(driftChart.match(/x-axis \[(.*)\]/)?.[1].split(', ')).toHaveLength(ALERT.chartWindows);
    expect(driftChart).toContain('"12-10"]');
  });

  it('stays under GitHub\'s 65,536 characters with thousands of columns, saying how many rows it left out', () => {
    const many = Array.from({ length: 5000 }, (_, i) => `feature_with_a_rather_long_name_${i}`);
    const body = alertBody(run('2026-12-02T06:00:00.000Z', ['2026-12-01'], true, many), [], { kind: 'off' });
    expect([...body].length).toBeLessThanOrEqual(ALERT.bodyChars);
    expect(body).toContain(`${5000 - ALERT.tableRows} more columns not shown`);
    expect(body.split(MARKER)).toHaveLength(2);
  });

  it('escapes a column name that carries Markdown and HTML', () => {
    const body = alertBody(run('2026-12-02T06:00:00.000Z', ['2026-12-01'], true, ['<b>x|y</b>', 'plain']), [], { kind: 'off' });
    expect(body).toContain('| \\<b\\>x\\|y\\</b\\> | ks |');
  });

  it('names the healthy window in the closing comment', () => {
    expect(healthyComment(RUNS.healthy)).toBe(
      '✅ churn in prod is healthy again: the monitor run at 2026-12-05T06:00:00.000Z found the window 2026-12-04T00:00:00.000Z – 2026-12-04T23:59:59.999Z healthy (version v1.2.0: 240 rows, drifted share 0.0%, roc_auc 0.8400). Closing.\n',
    );
  });
});

/** The platform under test, and what the double holds afterwards. */
interface Harness {
  platform: Platform;
  issues(): { number: number; open: boolean; body: string; title: string }[];
  /** What closed an issue: its comments (GitHub), or the note at the end of its description (GitLab). */
  closedWith(number: number): string[];
  /** The retrains asked for: the branch and the inputs as the platform keeps them. */
  dispatches(): { ref: string; inputs: Record<string, unknown> }[];
  problems(): string[];
}

function githubHarness(double: GitHubDouble): Harness {
  const env = {
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_REPOSITORY: `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`,
    GITHUB_API_URL: double.url,
    GITHUB_TOKEN: GITHUB_DOUBLE.botToken,
    GITHUB_SERVER_URL: 'https://github.com',
  };
  return {
    platform: githubPlatform(env, { backoff: () => 0 }),
    issues: () => double.issues.map((i) => ({ number: i.number, open: i.state === 'open', body: i.body, title: i.title })),
    closedWith: (n) => double.comments.filter((c) => c.issue === n).map((c) => c.body),
    dispatches: () => double.dispatches.map((d) => ({ ref: d.ref, inputs: d.inputs })),
    problems: () => double.problems,
  };
}

function gitlabHarness(double: GitLabDouble): Harness {
  const env = { ...gitlabJobVariables(double.apiUrl, '/tmp', 'a'.repeat(40)), CI_PIPELINE_SOURCE: 'schedule' };
  return {
    platform: gitlabPlatform(env, { backoff: () => 0, write: () => undefined }),
    issues: () => double.issues.map((i) => ({ number: i.iid, open: i.state === 'opened', body: i.description, title: i.title })),
    closedWith: (n) => {
      const issue = double.issues.find((i) => i.iid === n);
      const at = issue?.description.lastIndexOf('\n\n---\n\n') ?? -1;
      return issue && at >= 0 ? [issue.description.slice(at + 7)] : [];
    },
    dispatches: () => double.createdPipelines.map((p) => ({ ref: p.ref, inputs: p.variables })),
    problems: () => double.problems,
  };
}

/** The retrain's inputs as each platform keeps them: workflow inputs on GitHub, CI/CD variables on GitLab. */
const RETRAIN_INPUTS = { github: { retrain: ENV }, gitlab: { BRAMBLE_RETRAIN: ENV } } as const;

describe.each([
  ['GitHub', 'github'],
  ['GitLab', 'gitlab'],
] as const)('actOnMonitor through %s', (_, kind) => {
  let close: () => Promise<void>;
  let harness: Harness;

  beforeEach(async () => {
    if (kind === 'github') {
      const double = await startGitHubDouble();
      close = () => double.close();
      harness = githubHarness(double);
    } else {
      const double = await startGitLabDouble();
      close = () => double.close();
      harness = gitlabHarness(double);
    }
  });

  afterEach(async () => {
    expect(harness.problems()).toEqual([]);
    await close();
  });

  it('three alerting runs: one issue created then updated twice, one retrain; a healthy run closes it; the next alert opens a new one', async () => {
    const outcomes = [];
    for (let i = 0; i < SEQUENCE.length; i++) {
      outcomes.push(await actOnMonitor(input(SEQUENCE[i], SEQUENCE.slice(0, i)), { platform: harness.platform, log }));
    }
    const [first, second, third, healthy, again] = outcomes;
    expect(first.issue).toMatchObject({ created: true, closed: false });
    expect(first.retrain).toMatchObject({ dispatched: true });
    expect(second.issue).toMatchObject({ number: first.issue?.number, created: false });
    expect(second.retrain).toMatchObject({ dispatched: false, url: null });
    expect(third.issue).toMatchObject({ number: first.issue?.number, created: false });
    expect(healthy.issue).toMatchObject({ number: first.issue?.number, closed: true });
    expect(healthy.retrain).toBeNull();
    expect(again.issue?.created).toBe(true);
    expect(again.issue?.number).not.toBe(first.issue?.number);
    expect(again.retrain).toMatchObject({ dispatched: true });

    const issues = harness.issues();
    expect(issues.map((i) => [i.number === first.issue?.number, i.open])).toEqual([
      [true, false],
      [false, true],
    ]);
    // The first issue holds the third run's body, which says when the retrain was dispatched.
    expect(issues[0].body).toContain(`A retrain was dispatched at ${RUNS.first.ranAt}, by the first run of this alert`);
    expect(issues[0].body).toContain(`_Updated by Bramble's monitor at ${RUNS.third.ranAt}.`);
    expect(issues[0].title).toBe('churn in prod: input drift (3 of 6 columns) / roc_auc 0.7100 < 0.78');
    expect(harness.closedWith(issues[0].number)).toEqual([healthyComment(RUNS.healthy)]);
    expect(harness.dispatches()).toEqual([
      { ref: 'main', inputs: RETRAIN_INPUTS[kind] },
      { ref: 'main', inputs: RETRAIN_INPUTS[kind] },
    ]);
  });

  it('a healthy run with no open issue closes nothing', async () => {
    const outcome = await actOnMonitor(input(RUNS.healthy, []), { platform: harness.platform, log });
    expect(outcome).toEqual({ healthy: true, issue: null, retrain: null, planned: [] });
    expect(harness.issues()).toEqual([]);
  });
});

describe('actOnMonitor without a platform', () => {
  it.each([
    ['no platform at all', undefined],
    ['the terminal', localPlatform({ out: () => undefined, err: () => undefined })],
  ])('%s: says what it would have done', async (_, platform) => {
    const outcome = await actOnMonitor(input(RUNS.first, []), { platform, log });
    expect(outcome).toEqual({
      healthy: false,
      issue: null,
      retrain: { dispatched: false, url: null, why: 'no platform to dispatch it on' },
      planned: ['would dispatch ml.yml on main with the input retrain=prod', 'would open or update the issue "churn in prod: input drift (3 of 6 columns) / roc_auc 0.7100 < 0.78" (label bramble-monitor)'],
    });
  });

  it('does nothing on_alert does not ask for', async () => {
    const outcome = await actOnMonitor({ ...input(RUNS.first, []), onAlert: [] }, { log });
    expect(outcome).toEqual({ healthy: false, issue: null, retrain: null, planned: [] });
  });
});
