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

describe('the GitHub adapter: issues, dispatches, pull requests', () => {
  const REPO = `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`;
  const ISSUE = { marker: MARKER, title: 'churn in prod: alert', body: 'the body', labels: [ALERT.label] };
  let double: GitHubDouble;
  const env = (extra: Record<string, string> = {}) => ({
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_REPOSITORY: REPO,
    GITHUB_API_URL: double.url,
    GITHUB_TOKEN: GITHUB_DOUBLE.botToken,
    GITHUB_SERVER_URL: 'https://github.com',
    ...extra,
  });
  const github = (extra: Record<string, string> = {}) => githubPlatform(env(extra), { backoff: () => 0 });
  const calls = () => double.calls.map((c) => `${c.method} ${c.path} ${c.status}`);

  beforeEach(async () => {
    double = await startGitHubDouble();
  });

  afterEach(async () => {
    expect(double.problems).toEqual([]);
    await double.close();
  });

  it('finds its marker on page 2 of 150 open issues, past a pull request that quotes it', async () => {
    const first = await github().upsertIssue(ISSUE);
    for (let i = 0; i < 149; i++) await github().upsertIssue({ ...ISSUE, marker: `<!-- other ${i} -->`, body: `other ${i}` });
    await github().openPullRequest({ head: 'quote', base: 'main', title: 'quotes the marker', body: MARKER });
    double.calls.length = 0;
    const again = await github().upsertIssue({ ...ISSUE, body: 'updated' });
    expect(again).toEqual({ number: first?.number, url: `https://github.com/${REPO}/issues/${first?.number}`, created: false });
    expect(double.issues.find((i) => i.number === first?.number)?.body).toBe(`${MARKER}\nupdated`);
    expect(calls().slice(0, 2)).toEqual([
      `GET /repos/${REPO}/issues?state=open&labels=bramble-monitor&per_page=100 200`,
      `GET /repos/${REPO}/issues?state=open&labels=bramble-monitor&per_page=100&page=2 200`,
    ]);
  });

  it('closes the open issue with a comment, and finds none to close afterwards', async () => {
    const opened = await github().upsertIssue(ISSUE);
    expect(await github().closeIssue(MARKER, 'healthy again', [ALERT.label])).toEqual({ number: opened?.number, url: opened?.url });
    expect(double.issues[0]).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(double.comments.map((c) => [c.issue, c.body])).toEqual([[opened?.number, 'healthy again']]);
    expect(await github().closeIssue(MARKER, 'healthy again', [ALERT.label])).toBeNull();
  });

  it('retries a 5xx on the create after listing again, so that a landed issue is not opened twice', async () => {
    double.fail('POST', '/repos/{owner}/{repo}/issues', 502, 1);
    expect(await github().upsertIssue(ISSUE)).toMatchObject({ created: true });
    expect(double.issues).toHaveLength(1);
    const list = `GET /repos/${REPO}/issues?state=open&labels=bramble-monitor&per_page=100 200`;
    expect(calls()).toEqual([list, `POST /repos/${REPO}/issues 502`, list, `POST /repos/${REPO}/issues 201`]);
  });

  it('dispatches the workflow with its inputs and links the run it started; a 5xx is not retried', async () => {
    const result = await github().dispatchPipeline({ ref: 'main', workflow: 'ml.yml', inputs: { retrain: 'prod' } });
    expect(double.dispatches).toEqual([{ workflow: 'ml.yml', ref: 'main', inputs: { retrain: 'prod' }, runId: double.dispatches[0].runId }]);
    expect(result).toEqual({ url: `https://github.com/${REPO}/actions/runs/${double.dispatches[0].runId}` });
    double.fail('POST', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', 502, 1);
    await expect(github().dispatchPipeline({ ref: 'main', workflow: 'ml.yml', inputs: {} })).rejects.toMatchObject({ code: 'E_GITHUB_API', data: { status: 502, attempts: 1 } });
    expect(double.dispatches).toHaveLength(1);
  });

  it('opens the pull request once, finds it the next time, and comments on it by number from a dispatched run', async () => {
    const request = { head: 'bramble/retrain/prod/2026-12-06-1', base: 'main', title: 'Retrain churn', body: 'why' };
    const opened = await github().openPullRequest(request);
    expect(opened).toMatchObject({ created: true, url: `https://github.com/${REPO}/pull/${opened?.number}` });
    expect(await github({ GITHUB_EVENT_NAME: 'workflow_dispatch' }).openPullRequest(request)).toEqual({ ...opened, created: false });
    expect(double.pulls).toHaveLength(1);
    const target = { pullRequest: opened?.number ?? 0 };
    expect(await github().upsertComment('<!-- bramble:report churn -->', 'report', target)).toMatchObject({ created: true });
    expect(double.comments.map((c) => c.issue)).toEqual([opened?.number]);
  });

  it.each([
    ['upsertIssue', 'POST', '/repos/{owner}/{repo}/issues', 'issues: write', (p: Platform) => p.upsertIssue(ISSUE)],
    ['dispatchPipeline', 'POST', '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', 'actions: write', (p: Platform) => p.dispatchPipeline({ ref: 'main', workflow: 'ml.yml', inputs: {} })],
    ['openPullRequest', 'GET', '/repos/{owner}/{repo}/pulls', 'pull-requests: write', (p: Platform) => p.openPullRequest({ head: 'x', base: 'main', title: 't', body: 'b' })],
  ])('%s: a 403 names the permission to add to the job', async (_, method, path, permission, call) => {
    double.fail(method, path, 403);
    await expect(call(github())).rejects.toMatchObject({
      code: 'E_GITHUB_PERMISSION',
      data: { status: 403, permission },
      message: expect.stringContaining(`add \`permissions: { contents: read, ${permission} }\` to the job`),
    });
  });

  it('the double answers a dispatch without return_run_details with 204, records it, and reports a misspelt issue field', async () => {
    const headers = { authorization: `token ${GITHUB_DOUBLE.botToken}`, 'content-type': 'application/json' };
    const dispatch = await fetch(`${double.url}/repos/${REPO}/actions/workflows/ml.yml/dispatches`, { method: 'POST', headers, body: JSON.stringify({ ref: 'main', inputs: { retrain: 'prod' } }) });
    expect(dispatch.status).toBe(204);
    expect(double.dispatches).toMatchObject([{ workflow: 'ml.yml', ref: 'main', inputs: { retrain: 'prod' } }]);
    await fetch(`${double.url}/repos/${REPO}/issues`, { method: 'POST', headers, body: JSON.stringify({ title: 't', label: ['x'] }) });
    expect(double.problems.splice(0)).toEqual([`POST /repos/${REPO}/issues (issues/create): request body field 'label' is not in the description (GitHub would ignore it)`]);
  });

  it('a 401 says the token was rejected', async () => {
    await expect(github({ GITHUB_TOKEN: 'ghs_unknown' }).upsertIssue(ISSUE)).rejects.toMatchObject({
      code: 'E_GITHUB_AUTH',
      message: `GitHub rejected the token for GET /repos/${REPO}/issues (401 Bad credentials); pass a valid token in the \`github-token\` input or GITHUB_TOKEN`,
    });
  });
});

describe('the GitLab adapter: issues, pipelines, merge requests', () => {
  let double: GitLabDouble;
  const ISSUE = { marker: MARKER, title: 'churn in prod: alert', body: 'the body', labels: [ALERT.label] };
  const gitlab = (extra: Record<string, string> = {}) =>
    gitlabPlatform({ ...gitlabJobVariables(double.apiUrl, '/tmp', 'a'.repeat(40)), CI_PIPELINE_SOURCE: 'schedule', ...extra }, { backoff: () => 0, write: () => undefined });
  const posts = () => double.calls.filter((c) => c.method === 'POST').map((c) => `${c.path} ${c.status}`);

  beforeEach(async () => {
    double = await startGitLabDouble();
  });

  afterEach(async () => {
    expect(double.problems).toEqual([]);
    await double.close();
  });

  it('finds its marker on page 2 of 120 open issues and updates that issue', async () => {
    const first = await gitlab().upsertIssue(ISSUE);
    for (let i = 0; i < 119; i++) await gitlab().upsertIssue({ ...ISSUE, marker: `<!-- other ${i} -->`, body: `other ${i}` });
    double.calls.length = 0;
    expect(await gitlab().upsertIssue({ ...ISSUE, body: 'updated' })).toEqual({ number: first?.number, url: `${GITLAB_DOUBLE.serverUrl}/${GITLAB_DOUBLE.projectPath}/-/issues/${first?.number}`, created: false });
    expect(double.calls.filter((c) => c.method === 'GET').map((c) => c.path)).toEqual([
      '/api/v4/projects/42/issues?state=opened&labels=bramble-monitor&per_page=100&page=1',
      '/api/v4/projects/42/issues?state=opened&labels=bramble-monitor&per_page=100&page=2',
    ]);
    expect(double.issues[0].description).toBe(`${MARKER}\nupdated`);
  });

  it('retries a 5xx on the create after listing again', async () => {
    double.fail('POST', /\/issues$/, 502, 1);
    expect(await gitlab().upsertIssue(ISSUE)).toMatchObject({ created: true, number: 1 });
    expect(double.issues).toHaveLength(1);
    expect(posts()).toEqual(['/api/v4/projects/42/issues 502', '/api/v4/projects/42/issues 201']);
  });

  it('starts a pipeline with the inputs as BRAMBLE_ variables, and opens the merge request once', async () => {
    expect(await gitlab().dispatchPipeline({ ref: 'main', workflow: 'ml.yml', inputs: { retrain: 'prod' } })).toEqual({
      url: `${GITLAB_DOUBLE.serverUrl}/${GITLAB_DOUBLE.projectPath}/-/pipelines/${double.createdPipelines[0].id}`,
    });
    expect(double.createdPipelines).toMatchObject([{ ref: 'main', variables: { BRAMBLE_RETRAIN: 'prod' } }]);
    const request = { head: 'bramble/retrain/prod/2026-12-06-1', base: 'main', title: 'Retrain churn', body: 'why' };
    const opened = await gitlab().openPullRequest(request);
    expect(opened).toEqual({ number: 1, url: `${GITLAB_DOUBLE.serverUrl}/${GITLAB_DOUBLE.projectPath}/-/merge_requests/1`, created: true });
    expect(await gitlab().openPullRequest(request)).toEqual({ ...opened, created: false });
    expect(double.createdMergeRequests).toHaveLength(1);
  });

  it('a token without the api scope: the 403 names the scope and what it was for', async () => {
    await expect(gitlab({ BRAMBLE_GITLAB_TOKEN: GITLAB_DOUBLE.readToken }).upsertIssue(ISSUE)).rejects.toMatchObject({
      code: 'E_GITLAB_SCOPE',
      message: "GitLab answered 403 to POST /api/v4/projects/42/issues: the token lacks the `api` scope, so this job cannot open, update or close the monitor's issue; create the project access token with the `api` scope (scopes cannot be added to an existing token)",
    });
  });
});
