// The monitor in CI (issue 14 part 3): the monitor and retrain actions run as GitHub's runner runs them, against a
// real smart-HTTP git server that holds the model repository and the OpenAPI-checked GitHub double; `bramble ci
// monitor` as a GitLab job runs it; and the template's schedules agree with its ml.yaml.
//
// The story: a version is registered and pushed; the host's prediction log (written with the server's own
// PredictionLog) has a normal day and a day whose MonthlyCharges is shifted; the scheduled monitor records its result
// on the registry branch, opens the issue and dispatches one retrain; a second alerting run updates the same issue
// and dispatches nothing; the dispatched retrain cuts its branch from develop, says why (the recorded result), opens
// the pull request and posts the report on it.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readMlYaml } from '../src/config/ml-yaml.js';
import { readTable } from '../src/data/load.js';
import { cellValue, getColumn } from '../src/data/table.js';
import type { MonitorResult } from '../src/monitor/windows.js';
import { REPORT } from '../src/report/view.js';
import { PredictionLog } from '../src/serve/prediction-log.js';
import { runStep } from './helpers/actions.js';
import { bramble, brambleAsync } from './helpers/cli.js';
import { seeded } from './helpers/data.js';
import { GITHUB_DOUBLE, startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { GITLAB_DOUBLE, gitlabJobVariables, startGitLabDouble } from './helpers/gitlab-double.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { commitAll, editMlYaml, git, gitAsync, makeModelRepo } from './helpers/model-repo.js';

const ROOT = join(import.meta.dirname, '..');
const TEMPLATE = join(ROOT, 'templates/model-repo');
const DAY = 24 * 60 * 60 * 1000;
const START = Date.parse('2026-11-01T00:00:00Z');

// ---------------------------------------------------------------------------------------------------------------
// The template's schedules

interface CallerWorkflow {
  on: { schedule?: { cron: string }[]; workflow_dispatch?: { inputs?: Record<string, { required?: boolean }> } };
  jobs: Record<string, { with?: Record<string, unknown> }>;
}

/** Where a model repository's workflow and its ml.yaml disagree about the monitor's and the retrain's crons. */
async function scheduleProblems(repo: string): Promise<string[]> {
  const config = await readMlYaml(join(repo, 'ml.yaml'));
  const workflow = parse(readFileSync(join(repo, '.github/workflows/ml.yml'), 'utf8')) as CallerWorkflow;
  const crons = (workflow.on.schedule ?? []).map((s) => s.cron);
  const wanted = [
    { key: 'monitor.schedule', cron: config.monitor?.schedule },
    { key: 'monitor.retrain.schedule', cron: config.monitor?.retrain?.schedule },
  ];
  const problems: string[] = [];
  for (const { key, cron } of wanted) {
    if (cron !== undefined && !crons.includes(cron)) problems.push(`ml.yaml's ${key} "${cron}" is not a cron of on.schedule`);
  }
  for (const cron of crons) {
    if (!wanted.some((w) => w.cron === cron)) problems.push(`on.schedule's cron "${cron}" is not in ml.yaml's monitor block`);
  }
  const passed = Object.values(workflow.jobs).find((job) => job.with !== undefined)?.with?.['retrain-schedule'] ?? '';
  const retrain = config.monitor?.retrain?.schedule ?? '';
  if (passed !== retrain) problems.push(`the pipeline's retrain-schedule is "${String(passed)}", ml.yaml's monitor.retrain.schedule is "${retrain}"`);
  return problems;
}

describe("the template's schedules", () => {
  function copy(): string {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-schedules-'));
    cpSync(TEMPLATE, dir, { recursive: true });
    return dir;
  }

  it('are the crons of ml.yaml: the monitor, the retrain, and the retrain cron passed to the pipeline', async () => {
    const config = await readMlYaml(join(TEMPLATE, 'ml.yaml'));
    expect(config.monitor?.schedule).toBe('0 6 * * *');
    expect(await scheduleProblems(TEMPLATE)).toEqual([]);
    const workflow = parse(readFileSync(join(TEMPLATE, '.github/workflows/ml.yml'), 'utf8')) as CallerWorkflow;
    expect(workflow.on.schedule?.length).toBe(config.monitor?.retrain === undefined ? 1 : 2);
    // What a monitor alert dispatches, `retrain` alone, must be a complete set of inputs.
    const inputs = workflow.on.workflow_dispatch?.inputs ?? {};
    expect(Object.keys(inputs)).toEqual(expect.arrayContaining(['retrain', 'monitor']));
    for (const [name, input] of Object.entries(inputs)) expect({ name, required: input.required === true }).toEqual({ name, required: false });
  });

  it('disagree when ml.yaml changes its monitor schedule and the workflow does not', async () => {
    const dir = copy();
    editMlYaml(dir, (t) => t.replace('schedule: "0 6 * * *"', 'schedule: "30 5 * * *"'));
    expect(await scheduleProblems(dir)).toEqual([
      `ml.yaml's monitor.schedule "30 5 * * *" is not a cron of on.schedule`,
      `on.schedule's cron "0 6 * * *" is not in ml.yaml's monitor block`,
    ]);
  });

  it('disagree when the retrain cron changes in ml.yaml only', async () => {
    const dir = copy();
    const config = await readMlYaml(join(dir, 'ml.yaml'));
    const retrain = config.monitor?.retrain?.schedule;
    expect(retrain).toBeDefined();
    editMlYaml(dir, (t) => t.replace(`"${retrain}"`, '"0 4 * * 2"'));
    expect(await scheduleProblems(dir)).toEqual([
      `ml.yaml's monitor.retrain.schedule "0 4 * * 2" is not a cron of on.schedule`,
      `on.schedule's cron "${retrain}" is not in ml.yaml's monitor block`,
      `the pipeline's retrain-schedule is "${retrain}", ml.yaml's monitor.retrain.schedule is "0 4 * * 2"`,
    ]);
  });

  it('are the crons the GitLab files tell people to give their pipeline schedules', async () => {
    const config = await readMlYaml(join(TEMPLATE, 'ml.yaml'));
    for (const file of ['templates/pipeline/template.yml', 'templates/model-repo/.gitlab-ci.yml']) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect(text, file).toContain(`"${config.monitor?.schedule}"`);
      if (config.monitor?.retrain) expect(text, file).toContain(`"${config.monitor.retrain.schedule}"`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The host's prediction log

type Row = Record<string, string | number | boolean | null>;

/**
 * The prediction log of a host that served `version` in prod: `days` days of 500 single-row predictions (the
 * record the server's telemetry appends), feedback for 60 % of them; from `shiftFrom` on, MonthlyCharges × 1.4.
 */
async function writeLog(repo: string, sha256: string, inputs: readonly string[], days: number, shiftFrom: number): Promise<string> {
  const { table } = await readTable(join(repo, 'data/churn.csv'), { columns: { TotalCharges: { type: 'number', nullable: true } } });
  const churn = getColumn(table, 'Churn');
  const random = seeded(11);
  const logs = mkdtempSync(join(tmpdir(), 'bramble-ci-logs-'));
  const log = new PredictionLog({ dir: logs, maxBytes: 1024 * 1024, files: 10 });
  let n = 0;
  for (let day = 0; day < days; day++) {
    for (let r = 0; r < 500; r++) {
      const k = Math.floor(random() * table.rows);
      const row: Row = {};
      for (const name of inputs) row[name] = cellValue(getColumn(table, name), k);
      if (day >= shiftFrom && typeof row.MonthlyCharges === 'number') row.MonthlyCharges *= 1.4;
      const truth = String(cellValue(churn, k));
      const pYes = truth === 'Yes' ? 0.4 + 0.6 * random() : 0.7 * random();
      const id = `req-${n++}`;
      const time = START + day * DAY + r * 60_000;
      const outputs = { predictions: [pYes >= 0.5 ? 'Yes' : 'No'], probabilities: [1 - pYes, pYes] };
      log.append({ id, time: new Date(time).toISOString(), env: 'prod', model: { name: 'churn', version: 'v1.0.0', sha256 }, inputs: [row], outputs, latencyMs: 1.2 });
      if (random() < 0.6) log.append({ type: 'feedback', id, time: new Date(time + 30_000).toISOString(), env: 'prod', truth });
    }
  }
  await log.close();
  return logs;
}

// ---------------------------------------------------------------------------------------------------------------
// The monitor and retrain actions on GitHub

describe('the monitor and retrain actions, on the scheduled run and the run an alert dispatches', () => {
  const TOKEN = GITHUB_DOUBLE.botToken;
  const AUTH = ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`];
  let server: GitServer;
  let double: GitHubDouble;
  let remoteUrl: string;
  let author: string;
  let logs: string;
  let base: Record<string, string>;

  async function clone(): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-ci-workspace-'));
    await gitAsync(dir, ...AUTH, 'clone', '-q', remoteUrl, '.');
    return dir;
  }

  function event(name: 'schedule' | 'workflow_dispatch', payload: Record<string, unknown>): Record<string, string> {
    const file = join(mkdtempSync(join(tmpdir(), 'bramble-event-')), 'event.json');
    const fixture = JSON.parse(readFileSync(join(import.meta.dirname, `fixtures/github-events/${name}.json`), 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...fixture, ...payload }));
    return { GITHUB_EVENT_NAME: name, GITHUB_EVENT_PATH: file };
  }

  beforeAll(async () => {
    server = await startGitServer({ token: TOKEN });
    await server.createBare('churn');
    remoteUrl = server.repoUrl('churn');
    double = await startGitHubDouble();
    author = makeModelRepo({ trees: 5 });
    // One drifted input column of the template's 19 is 5 %: make that the data set's drift share.
    editMlYaml(author, (t) => t.replace('drift: { share: 0.5 }', 'drift: { share: 0.05 }'));
    commitAll(author, 'monitor: one drifted column is an alert');
    git(author, 'branch', 'develop');
    git(author, 'remote', 'add', 'origin', remoteUrl);
    await gitAsync(author, ...AUTH, 'push', '-q', 'origin', 'main', 'develop');
    const trained = bramble(['train'], { cwd: author });
    expect(trained.status, trained.stderr).toBe(0);
    // Asynchronous: the git server lives in this process.
    const registered = await brambleAsync(['register'], { cwd: author, env: { BRAMBLE_GIT_TOKEN: TOKEN } });
    expect(registered.status, registered.stderr).toBe(0);
    const artifact = JSON.parse(readFileSync(join(author, '.bramble/model.json'), 'utf8')) as { sha256: string; signature: { inputs: { name: string }[] } };
    logs = await writeLog(author, artifact.sha256, artifact.signature.inputs.map((i) => i.name), 2, 1);
    base = {
      GITHUB_ACTIONS: 'true',
      GITHUB_API_URL: double.url,
      GITHUB_SERVER_URL: GITHUB_DOUBLE.serverUrl,
      GITHUB_REPOSITORY: `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_REF_NAME: 'main',
      GITHUB_SHA: git(author, 'rev-parse', 'main').trim(),
      GITHUB_WORKFLOW_REF: `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}/.github/workflows/ml.yml@refs/heads/main`,
      GITHUB_ACTOR: 'github-actions[bot]',
      GIT_COMMITTER_NAME: 'github-actions[bot]',
      GIT_COMMITTER_EMAIL: '41898282+github-actions[bot]@users.noreply.github.com',
    };
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await double?.close();
  });

  it('the scheduled monitor records the alert on the registry branch, opens the issue and dispatches one retrain', { timeout: 60_000 }, async () => {
    const workspace = await clone();
    const env = { ...base, ...event('schedule', { schedule: '0 6 * * *' }), GITHUB_RUN_ID: '501' };
    const run = await runStep('monitor', { dir: '.', env: 'prod', logs, token: TOKEN }, env, workspace);
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.healthy).toBe('false');
    expect(Number(run.outputs['drifted-share'])).toBeGreaterThanOrEqual(0.05);
    expect(run.outputs['drifted-share']).toMatch(/^0\.\d{4}$/);
    expect(run.outputs.metric).toMatch(/^0\.\d{4}$/);
    expect(run.outputs.result).toBe('.bramble/monitor-prod.json');
    const result = JSON.parse(readFileSync(join(workspace, run.outputs.result), 'utf8')) as MonitorResult;
    expect(result.windows.map((w) => [w.start.slice(0, 10), w.status])).toEqual([
      ['2026-11-01', 'healthy'],
      ['2026-11-02', 'alert'],
    ]);
    expect(run.summary).toMatch(/^# churn in prod: \*\*alert\*\*\n/);
    expect(run.summary).toContain('| 2026-11-02T00:00:00.000Z | v1.0.0 | 500 | alert |');

    // Recorded on the registry branch and pushed: the server has latest.json, and it is this run's result.
    await gitAsync(author, ...AUTH, 'fetch', '-q', 'origin', 'bramble/registry');
    const latest = JSON.parse(git(author, 'show', 'FETCH_HEAD:churn/monitoring/prod/latest.json')) as MonitorResult;
    expect(latest.windows).toEqual(result.windows);
    expect(latest.ranAt).toBe(result.ranAt);

    // The alert answered: one issue, carrying the marker, and one dispatch of the caller's workflow with retrain=prod.
    expect(double.issues).toHaveLength(1);
    expect(double.issues[0].body).toContain('<!-- bramble-monitor:churn:prod -->');
    expect(double.issues[0].labels).toContain('bramble-monitor');
    expect(run.outputs['issue-url']).toBe(`${GITHUB_DOUBLE.serverUrl}/${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}/issues/${double.issues[0].number}`);
    expect(double.dispatches).toEqual([expect.objectContaining({ workflow: 'ml.yml', ref: 'main', inputs: { retrain: 'prod' } })]);
    expect(run.outputs.retrain).toBe('true');
    expect(run.summary).toContain(`- issue opened: ${run.outputs['issue-url']}`);
    expect(run.summary).toMatch(/^- retrain dispatched/m);
    expect(run.summary).toMatch(/^- recorded on the registry branch at `[0-9a-f]{7}`/m);

    // The next day's run alerts again: the same issue, updated, and no second retrain.
    const again = await runStep('monitor', { dir: '.', env: 'prod', logs, token: TOKEN }, { ...env, GITHUB_RUN_ID: '511' }, await clone());
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs.retrain).toBe('false');
    expect(again.outputs['issue-url']).toBe(run.outputs['issue-url']);
    expect(double.issues).toHaveLength(1);
    expect(double.dispatches).toHaveLength(1);
    expect(again.summary).toContain(`- issue updated: ${run.outputs['issue-url']}`);
    expect(again.summary).toMatch(/^- no retrain dispatched: dispatched once per alert/m);
    expect(double.problems).toEqual([]);
  });

  it('the retrain an alert dispatches: a branch from develop saying why, a pull request, the report on it', { timeout: 120_000 }, async () => {
    const workspace = await clone();
    const develop = (await gitAsync(author, ...AUTH, 'ls-remote', remoteUrl, 'refs/heads/develop')).split('\t')[0];
    const env = { ...base, ...event('workflow_dispatch', { inputs: { retrain: 'prod' } }), GITHUB_RUN_ID: '502' };
    const run = await runStep('retrain', { dir: '.', environment: 'prod', token: TOKEN }, env, workspace);
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.branch).toMatch(/^bramble\/retrain\/prod\/\d{4}-\d{2}-\d{2}-502$/);
    expect(run.outputs.passed).toBe('true');

    // The branch is on the server, one commit on develop, and that commit says why: the recorded alert.
    const heads = await gitAsync(author, ...AUTH, 'ls-remote', remoteUrl, `refs/heads/${run.outputs.branch}`);
    const tip = heads.split('\t')[0];
    expect(tip).toMatch(/^[0-9a-f]{40}$/);
    await gitAsync(author, ...AUTH, 'fetch', '-q', 'origin', run.outputs.branch);
    expect(git(author, 'rev-parse', `${tip}^`).trim()).toBe(develop);
    expect(git(author, 'diff', '--name-only', develop, tip).trim()).toBe('RETRAIN.md');
    const record = git(author, 'show', `${tip}:RETRAIN.md`);
    expect(record).toContain('The monitor alerted in prod');
    expect(record).toContain('`churn/monitoring/prod/latest.json` on `bramble/registry`');
    expect(record).toMatch(/^- 2026-11-02T00:00:00\.000Z v1\.0\.0: drift in \d+ of \d+ columns \(.*MonthlyCharges.*\)$/m);

    // The pull request, opened from that branch to develop, carries the report comment.
    expect(double.pulls).toHaveLength(1);
    expect(double.pulls[0]).toMatchObject({ head: run.outputs.branch, base: 'develop', title: 'Retrain churn: the monitor alerted in prod' });
    expect(run.outputs['pull-request']).toBe(String(double.pulls[0].number));
    const comments = double.comments.filter((c) => c.issue === double.pulls[0].number);
    expect(comments).toHaveLength(1);
    expect(comments[0].body.startsWith(REPORT.marker('churn'))).toBe(true);
    expect(run.outputs['comment-url']).toContain(`/pull/${double.pulls[0].number}#issuecomment-${comments[0].id}`);
    expect(double.problems).toEqual([]);
  });

  it('a re-run of the same retrain run is refused by the branch name; its next attempt gets a branch of its own', { timeout: 120_000 }, async () => {
    const env = { ...base, ...event('workflow_dispatch', { inputs: { retrain: 'prod' } }), GITHUB_RUN_ID: '502' };
    const again = await runStep('retrain', { dir: '.', environment: 'prod', token: TOKEN }, env, await clone());
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/^::error::the remote origin has a branch bramble\/retrain\/prod\/\d{4}-\d{2}-\d{2}-502 already \(this run retrained before\?\); delete it, or start a new run rather than re-running this one$/m);
    expect(double.pulls).toHaveLength(1);
    const attempt = await runStep('retrain', { dir: '.', environment: 'prod', token: TOKEN }, { ...env, GITHUB_RUN_ATTEMPT: '2' }, await clone());
    expect(attempt.code, attempt.stdout).toBe(0);
    expect(attempt.outputs.branch).toMatch(/-502\.2$/);
    expect(double.pulls.map((p) => p.head)).toEqual([expect.stringMatching(/-502$/), attempt.outputs.branch]);
    expect(double.problems).toEqual([]);
  });

  it('fails the step on an alert with fail-on-alert, and refuses a min-rows that is not a count', { timeout: 60_000 }, async () => {
    const workspace = await clone();
    const env = { ...base, ...event('schedule', { schedule: '0 6 * * *' }), GITHUB_RUN_ID: '503' };
    const failed = await runStep('monitor', { dir: '.', env: 'prod', logs, record: 'false', 'fail-on-alert': 'true', token: TOKEN }, env, workspace);
    expect(failed.code).toBe(1);
    expect(failed.outputs.healthy).toBe('false');
    expect(failed.stdout).toContain('::error::churn in prod: the monitor alerted (fail-on-alert is true); see the job summary');
    const refused = await runStep('monitor', { dir: '.', env: 'prod', logs, 'min-rows': 'many', token: TOKEN }, env, workspace);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(`::error::the input min-rows is "many"; give a whole number ≥ 1, or leave it empty for ml.yaml's monitor.min_rows`);
    const noEnv = await runStep('monitor', { dir: '.', logs, token: TOKEN }, env, workspace);
    expect(noEnv.stdout).toContain("::error::the input env is empty; name one of ml.yaml's environments to monitor");
    expect(existsSync(join(workspace, '.bramble/monitor-prod.json'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// bramble ci monitor on GitLab

describe('bramble ci monitor in a scheduled GitLab pipeline', () => {
  it('monitors, records nothing when told not to, and writes its outputs to the dotenv report', { timeout: 90_000 }, async () => {
    const double = await startGitLabDouble();
    try {
      const repo = makeModelRepo({ trees: 5 });
      const trained = bramble(['train'], { cwd: repo });
      expect(trained.status, trained.stderr).toBe(0);
      expect(bramble(['register'], { cwd: repo }).status).toBe(0);
      const artifact = JSON.parse(readFileSync(join(repo, '.bramble/model.json'), 'utf8')) as { sha256: string; signature: { inputs: { name: string }[] } };
      const logs = await writeLog(repo, artifact.sha256, artifact.signature.inputs.map((i) => i.name), 1, 9);
      const sha = git(repo, 'rev-parse', 'HEAD').trim();
      const env = { ...gitlabJobVariables(double.apiUrl, repo, sha), CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main', CI_COMMIT_REF_NAME: 'main' };
      // Asynchronous: the API double lives in this process, and a healthy run asks it for an open issue to close.
      const run = await brambleAsync(['ci', 'monitor', '--dir', '.', '--env', 'prod', '--logs', logs, '--record', 'false'], { cwd: repo, env });
      expect(run.status, run.stderr).toBe(0);
      const dotenv = readFileSync(join(repo, '.bramble/bramble.env'), 'utf8');
      expect(dotenv).toContain('BRAMBLE_HEALTHY=true\n');
      expect(dotenv).toContain('BRAMBLE_RESULT=.bramble/monitor-prod.json\n');
      expect(dotenv).toContain('BRAMBLE_RETRAIN=false\n');
      expect(readFileSync(join(repo, '.bramble/bramble-report.md'), 'utf8')).toMatch(/^# churn in prod: healthy\n/m);
      expect(double.calls.filter((c) => c.method !== 'GET')).toEqual([]);
      expect(double.problems).toEqual([]);
    } finally {
      await double.close();
    }
  });
});

describe('bramble ci monitor and retrain: an alert in GitLab', () => {
  const TOKEN = GITLAB_DOUBLE.apiToken;
  const AUTH = ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`oauth2:${TOKEN}`).toString('base64')}`];

  it('the alert opens a GitLab issue and one retrain pipeline; the retrain pushes its branch, opens the merge request and notes the report there', { timeout: 150_000 }, async () => {
    const double = await startGitLabDouble();
    const server = await startGitServer({ token: TOKEN });
    try {
      await server.createBare('churn');
      const remoteUrl = server.repoUrl('churn');
      const repo = makeModelRepo({ trees: 5 });
      editMlYaml(repo, (t) => t.replace('drift: { share: 0.5 }', 'drift: { share: 0.05 }'));
      commitAll(repo, 'monitor: one drifted column is an alert');
      git(repo, 'branch', 'develop');
      git(repo, 'remote', 'add', 'origin', remoteUrl);
      await gitAsync(repo, ...AUTH, 'push', '-q', 'origin', 'main', 'develop');
      const trained = await brambleAsync(['train'], { cwd: repo });
      expect(trained.status, trained.stderr).toBe(0);
      const artifact = JSON.parse(readFileSync(join(repo, '.bramble/model.json'), 'utf8')) as { sha256: string; signature: { inputs: { name: string }[] } };
      // Registered here only: the monitor reads the version's profile from the local registry branch.
      const registered = await brambleAsync(['register', '--no-remote'], { cwd: repo });
      expect(registered.status, registered.stderr).toBe(0);
      const logs = await writeLog(repo, artifact.sha256, artifact.signature.inputs.map((i) => i.name), 2, 1);
      const sha = git(repo, 'rev-parse', 'HEAD').trim();
      const schedule = { ...gitlabJobVariables(double.apiUrl, repo, sha, 8001), CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main', CI_COMMIT_REF_NAME: 'main' };
      const monitored = await brambleAsync(['ci', 'monitor', '--dir', '.', '--env', 'prod', '--logs', logs, '--record', 'false'], { cwd: repo, env: schedule });
      expect(monitored.status, monitored.stderr).toBe(0);
      expect(double.issues).toHaveLength(1);
      expect(double.issues[0].description).toContain('<!-- bramble-monitor:churn:prod -->');
      expect(double.createdPipelines).toEqual([expect.objectContaining({ ref: 'main', variables: { BRAMBLE_RETRAIN: 'prod' } })]);
      const dotenv = readFileSync(join(repo, '.bramble/bramble.env'), 'utf8');
      expect(dotenv).toContain('BRAMBLE_HEALTHY=false\n');
      expect(dotenv).toContain('BRAMBLE_RETRAIN=true\n');

      // The pipeline that alert started: the retrain job in a fresh clone.
      const workspace = mkdtempSync(join(tmpdir(), 'bramble-gl-retrain-'));
      await gitAsync(workspace, ...AUTH, 'clone', '-q', remoteUrl, '.');
      const api = { ...gitlabJobVariables(double.apiUrl, workspace, sha, 8002), CI_PIPELINE_SOURCE: 'api', CI_COMMIT_BRANCH: 'main', CI_COMMIT_REF_NAME: 'main', BRAMBLE_RETRAIN: 'prod' };
      const retrained = await brambleAsync(['ci', 'retrain', '--dir', '.', '--environment', 'prod'], { cwd: workspace, env: api });
      expect(retrained.status, `${retrained.stdout}${retrained.stderr}`).toBe(0);
      const branch = /^BRAMBLE_BRANCH=(.+)$/m.exec(readFileSync(join(workspace, '.bramble/bramble.env'), 'utf8'))?.[1] ?? '';
      expect(branch).toMatch(/^bramble\/retrain\/prod\/\d{4}-\d{2}-\d{2}-8002$/);
      const pushed = (await gitAsync(repo, ...AUTH, 'ls-remote', remoteUrl, `refs/heads/${branch}`)).split('\t')[0];
      await gitAsync(repo, ...AUTH, 'fetch', '-q', 'origin', branch);
      expect(git(repo, 'show', `${pushed}:RETRAIN.md`)).toContain('No recorded monitor result at churn/monitoring/prod/latest.json on bramble/registry.');
      expect(double.createdMergeRequests).toEqual([expect.objectContaining({ sourceBranch: branch, targetBranch: 'develop' })]);
      const notes = double.notes.filter((n) => n.iid === double.createdMergeRequests[0].iid && !n.system);
      expect(notes).toHaveLength(1);
      expect(notes[0].body.startsWith(REPORT.marker('churn'))).toBe(true);
      expect(double.problems).toEqual([]);
    } finally {
      await server.close();
      await double.close();
    }
  });
});
