// Issue 6's end-to-end story: a model repository made from the template lives on a real smart-HTTP git server, and
// the events of its life are played in order the way GitHub would run .github/workflows/model-pipeline.yml for
// them — PR opened, PR updated, merge to develop, a promotion tag to prod, and a PR that makes the model worse.
//
// What is played, and how faithfully:
// - The jobs, their `if:`s, their steps and every step's `with:` are read from model-pipeline.yml itself and
//   evaluated here (a small evaluator for the few expression forms the workflow uses; anything else throws), so the
//   story follows the workflow as written and breaks when the two drift apart.
// - `actions/checkout@v4` is played as it works with fetch-depth 0 and persist-credentials false: a fresh repository
//   fetching every branch and tag, then the event's ref (refs/pull/N/merge, the branch, or the tag), with the token
//   sent as an extra header that is not left in git's config. No git identity is configured, as on a runner: the
//   registry falls back to GITHUB_ACTOR.
// - Each Bramble step is the bundled action run as the runner runs it: `node dist/actions/<step>.js` with INPUT_*
//   (action.yml's defaults filled in, `${{ github.token }}` included), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and a
//   payload adapted from GitHub's own examples (@octokit/webhooks-examples) at GITHUB_EVENT_PATH; GITHUB_API_URL
//   points at the OpenAPI-checked double. Always a child process without blocking this one, which hosts the double
//   and the git server.
// - The git server requires the job's token (the double's installation token), so every registry fetch and push
//   proves that the actions hand their `token` input to the registry (BRAMBLE_GIT_TOKEN). The same token stands in
//   for the maintainer's own when a tag is pushed from a laptop.
// - The model host is `bramble serve` as a process on 127.0.0.1, at a free port written in its serve.json (the
//   workflow's `serve-config`), since the deploy step passes no `server` input.
import { execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readTable } from '../src/data/load.js';
import { cellValue, getColumn } from '../src/data/table.js';
import { startServe } from './helpers/cli.js';
import { seeded } from './helpers/data.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { runStep, type StepRun } from './helpers/actions.js';
import { GITHUB_DOUBLE, GITHUB_ACTORS, startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { commitAll, editMlYaml, git, gitAsync, makeModelRepo } from './helpers/model-repo.js';
import { dispatchEvent, githubContext, pullRequestEvent, pushEvent, scheduleEvent, type PlayedEvent } from './helpers/workflow-events.js';
import { expressionValue, holds, interpolate, type Context } from './helpers/workflow-expressions.js';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const TOKEN = GITHUB_DOUBLE.botToken;
const REPOSITORY = `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`;
const ACTOR = GITHUB_ACTORS.codertocat.login;
const ZERO = '0'.repeat(40);
/** How git's CLI sends the token, as actions/checkout does (http.extraheader), without writing it to the config. */
const AUTH = ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`];

// ---------------------------------------------------------------------------------------------------------------
// The workflow, read as the runner reads it.

interface WorkflowStep {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | number | boolean>;
}
interface WorkflowJob {
  if?: string;
  needs?: string | string[];
  outputs?: Record<string, string>;
  /** One matrix variable at most (the monitor's `env`), whose value is an expression giving a list. */
  strategy?: { matrix?: Record<string, string> };
  steps: WorkflowStep[];
}
const workflow = parse(readFileSync(join(root, '.github/workflows/model-pipeline.yml'), 'utf8')) as {
  on: { workflow_call: { inputs: Record<string, { default?: string | boolean }> } };
  jobs: Record<string, WorkflowJob>;
};

/** What the runner passes an action: action.yml's inputs, `with:` over their defaults; an unknown input is an error. */
function actionInputs(step: string, given: Record<string, string>, context: Context): Record<string, string> {
  const spec = parse(readFileSync(join(root, 'actions', step, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string; required?: boolean }> };
  for (const name of Object.keys(given)) {
    if (!(name in spec.inputs)) throw new Error(`model-pipeline.yml passes ${name} to actions/${step}, which declares no such input`);
  }
  const inputs: Record<string, string> = {};
  for (const [name, input] of Object.entries(spec.inputs)) {
    if (name in given) inputs[name] = given[name];
    else if (input.default !== undefined) inputs[name] = interpolate(input.default, context);
  }
  return inputs;
}

// ---------------------------------------------------------------------------------------------------------------
// Jobs and steps (the events, as GitHub delivers them: helpers/workflow-events.ts).

interface JobRun {
  conclusion: 'success' | 'failure';
  /** Each Bramble step's run, by action name (validate, train, …). */
  steps: Record<string, StepRun>;
  outputs: Record<string, string>;
  /** The job's checkout. */
  workspace: string;
}

let runId = 4000;

describe('the end-to-end story of a model repository (issue 6)', () => {
  let double: GitHubDouble;
  let server: GitServer;
  let remoteUrl: string;
  /** The author's working repository, whose origin is the git server. */
  let author: string;
  let serveConfig: string;
  let host: { child: ChildProcess; url: string };
  /** The workflow's caller's `with:`: the defaults, with the model host's serve.json. */
  let callerInputs: Record<string, string | boolean>;
  // What earlier events leave for later ones.
  let firstComment: { id: number; body: string };
  let release: JobRun;

  /**
   * actions/checkout@v4 with persist-credentials false, at the event's ref: with fetch-depth 0 every branch and tag
   * first; with the default depth 1, only that ref, shallow and without tags.
   */
  async function checkout(event: PlayedEvent, depth: number): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-workspace-'));
    await gitAsync(dir, 'init', '-q');
    await gitAsync(dir, 'remote', 'add', 'origin', remoteUrl);
    if (depth === 0) await gitAsync(dir, ...AUTH, 'fetch', '-q', '--prune', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*');
    const shallow = depth === 0 ? [] : ['--no-tags', `--depth=${depth}`];
    if (event.ref.startsWith('refs/pull/')) {
      const local = event.ref.replace(/^refs\/pull\//, 'refs/remotes/pull/');
      await gitAsync(dir, ...AUTH, 'fetch', '-q', ...shallow, 'origin', `+${event.ref}:${local}`);
      await gitAsync(dir, 'checkout', '-q', '--detach', local);
    } else if (event.ref.startsWith('refs/heads/')) {
      const branch = event.ref.slice('refs/heads/'.length);
      await gitAsync(dir, ...AUTH, 'fetch', '-q', ...shallow, 'origin', `+${event.ref}:refs/remotes/origin/${branch}`);
      await gitAsync(dir, 'checkout', '-q', '-B', branch, `refs/remotes/origin/${branch}`);
    } else {
      await gitAsync(dir, ...AUTH, 'fetch', '-q', ...shallow, 'origin', `+${event.ref}:${event.ref}`);
      await gitAsync(dir, 'checkout', '-q', '--detach', event.ref);
    }
    expect((await gitAsync(dir, 'rev-parse', 'HEAD')).trim()).toBe(event.sha);
    return dir;
  }


  /** One job of model-pipeline.yml: its checkout, then its Bramble steps with `with:` evaluated, until one fails. */
  async function playJob(
    id: string,
    event: PlayedEvent,
    needs: Record<string, { outputs: Record<string, string> }>,
    eventPath: string,
    inputs: Record<string, string | boolean>,
    matrix: Context,
  ): Promise<JobRun> {
    const job = workflow.jobs[id];
    const steps: Context = {};
    const context: Context = { github: githubContext(event), inputs, needs, steps, matrix };
    const github = context.github as Record<string, string>;
    const pr = event.payload.pull_request as { head: { ref: string }; base: { ref: string } } | undefined;
    const env: Record<string, string> = {
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_API_URL: double.url,
      GITHUB_SERVER_URL: GITHUB_DOUBLE.serverUrl,
      GITHUB_REPOSITORY: REPOSITORY,
      GITHUB_REPOSITORY_OWNER: GITHUB_DOUBLE.owner,
      GITHUB_EVENT_NAME: event.name,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_SHA: event.sha,
      GITHUB_REF: event.ref,
      GITHUB_REF_NAME: github.ref_name,
      GITHUB_REF_TYPE: github.ref_type,
      GITHUB_HEAD_REF: pr?.head.ref ?? '',
      GITHUB_BASE_REF: pr?.base.ref ?? '',
      GITHUB_RUN_ID: String(runId),
      GITHUB_RUN_NUMBER: String(runId - 4000),
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_ACTOR: ACTOR,
      GITHUB_TRIGGERING_ACTOR: ACTOR,
      GITHUB_WORKFLOW: 'ml',
      // The caller's workflow, which a reusable workflow's steps see too (the monitor dispatches a retrain to it).
      GITHUB_WORKFLOW_REF: `${REPOSITORY}/.github/workflows/ml.yml@${event.ref}`,
      GITHUB_JOB: id,
    };
    const run: JobRun = { conclusion: 'success', steps: {}, outputs: {}, workspace: '' };
    for (const step of job.steps) {
      if (step.if !== undefined && !holds(step.if, context)) continue;
      if (step.uses === 'actions/checkout@v4') {
        expect(step.with).toMatchObject({ 'persist-credentials': false });
        run.workspace = await checkout(event, Number(step.with?.['fetch-depth'] ?? 1));
        continue;
      }
      const action = /^OWNER\/bramble\/actions\/([a-z]+)@v1$/.exec(step.uses ?? '')?.[1];
      if (!action) throw new Error(`the story cannot play the step ${JSON.stringify(step)} of job ${id}`);
      const given = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(v, context)]));
      const result = await runStep(action, actionInputs(action, given, context), env, run.workspace);
      expect(result.stdout, `${id}/${action}`).not.toMatch(/this is a bug in Bramble/);
      run.steps[action] = result;
      if (step.id) steps[step.id] = { outputs: result.outputs, outcome: result.code === 0 ? 'success' : 'failure' };
      if (result.code !== 0) {
        run.conclusion = 'failure';
        break;
      }
    }
    if (run.conclusion === 'success') {
      run.outputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, interpolate(v, context)]));
    }
    return run;
  }

  /**
   * Every job of the workflow whose `needs` succeeded and whose `if:` holds for this event, in the file's order;
   * a job with a matrix once per value (named `job (value)` when there are several). `inputs` is the caller's `with:`.
   */
  async function playEvent(event: PlayedEvent, inputs: Record<string, string | boolean> = callerInputs): Promise<Record<string, JobRun>> {
    runId += 1;
    const eventPath = join(mkdtempSync(join(tmpdir(), 'bramble-event-')), 'event.json');
    writeFileSync(eventPath, JSON.stringify(event.payload));
    const runs: Record<string, JobRun> = {};
    for (const [id, job] of Object.entries(workflow.jobs)) {
      const needs = [job.needs ?? []].flat();
      if (needs.some((n) => runs[n]?.conclusion !== 'success')) continue;
      const context = { github: githubContext(event), inputs, needs: Object.fromEntries(needs.map((n) => [n, runs[n]])) };
      if (job.if !== undefined && !holds(job.if, context)) continue;
      const [variable, values] = Object.entries(job.strategy?.matrix ?? {})[0] ?? [];
      const list = variable === undefined ? [null] : expressionValue(values ?? '', context);
      if (!Array.isArray(list)) throw new Error(`job ${id}: the matrix ${variable} is not a list`);
      for (const value of list) {
        const name = list.length > 1 ? `${id} (${String(value)})` : id;
        runs[name] = await playJob(id, event, context.needs, eventPath, inputs, variable === undefined ? {} : { [variable]: value });
      }
    }
    return runs;
  }

  /** The remote's refs, by name (`git ls-remote`). */
  async function remoteRefs(pattern: string): Promise<string[]> {
    const out = await gitAsync(author, ...AUTH, 'ls-remote', remoteUrl, pattern);
    return out.split('\n').filter(Boolean).map((line) => line.split('\t')[1]).filter((ref) => !ref.endsWith('^{}'));
  }

  /** The head branch pushed, and GitHub's test merge of it into the base pushed as refs/pull/N/merge (and /head). */
  async function pushPullRequest(number: number, head: string, base: string): Promise<void> {
    git(author, 'checkout', '-q', '--detach', base);
    git(author, 'merge', '-q', '--no-ff', '--no-edit', '-m', `Merge ${git(author, 'rev-parse', head).trim()} into ${git(author, 'rev-parse', base).trim()}`, head);
    git(author, 'update-ref', `refs/pull/${number}/merge`, 'HEAD');
    git(author, 'update-ref', `refs/pull/${number}/head`, head);
    git(author, 'checkout', '-q', head);
    await gitAsync(author, ...AUTH, 'push', '-q', '--force', 'origin', head, `+refs/pull/${number}/head:refs/pull/${number}/head`, `+refs/pull/${number}/merge:refs/pull/${number}/merge`);
    double.openPullRequest(number);
  }

  /** A prediction from one environment of the model host, for the first customer of the training data. */
  async function invoke(env: string): Promise<Response> {
    const lines = readFileSync(join(author, 'data/churn.csv'), 'utf8').split('\n');
    return fetch(`${host.url}/${env}/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `${lines[0]}\n${lines[1]}\n` });
  }

  beforeAll(async () => {
    server = await startGitServer({ token: TOKEN });
    const bare = await server.createBare('churn');
    // GitHub knows every ref of the repository it hosts: the double asks the bare repository (read from disk).
    double = await startGitHubDouble({
      resolveRef: (name) => {
        for (const ref of [name, `refs/tags/${name}`, `refs/heads/${name}`]) {
          try {
            return execFileSync('git', ['--git-dir', bare, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
          } catch {
            // not this one
          }
        }
        return undefined;
      },
    });
    remoteUrl = server.repoUrl('churn');

    // The template, as a repository of its own with the environments' branches, pushed to the remote.
    author = makeModelRepo({ trees: 20 });
    git(author, 'branch', 'develop');
    git(author, 'branch', 'staging');
    git(author, 'remote', 'add', 'origin', remoteUrl);
    await gitAsync(author, ...AUTH, 'push', '-q', 'origin', 'main', 'develop', 'staging');

    // The model host on the runner: its serve.json (the workflow's serve-config) names a port that is free.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const pi = mkdtempSync(join(tmpdir(), 'bramble-pi-'));
    serveConfig = join(pi, 'serve.json');
    writeFileSync(
      serveConfig,
      JSON.stringify({ listen: { host: '127.0.0.1', port }, models: 'models', log: { dir: 'logs' }, environments: { dev: { path: '/dev' }, staging: { path: '/staging' }, prod: { path: '/prod' } } }),
    );
    host = await startServe(serveConfig);
    expect(host.url).toBe(`http://127.0.0.1:${port}`);

    callerInputs = {
      ...Object.fromEntries(Object.entries(workflow.on.workflow_call.inputs).map(([k, v]) => [k, v.default ?? ''])),
      'serve-config': serveConfig,
    };
  }, 60_000);

  afterAll(async () => {
    host?.child.kill('SIGTERM');
    await server?.close();
    await double?.close();
  });

  it('PR opened: validate, train, compare; one report comment created, nothing registered', { timeout: 60_000 }, async () => {
    git(author, 'checkout', '-q', '-b', 'changes', 'develop');
    editMlYaml(author, (t) => t.replace(/minSamplesLeaf: \d+/, 'minSamplesLeaf: 8'));
    commitAll(author, 'smaller leaves');
    await pushPullRequest(2, 'changes', 'develop');

    const runs = await playEvent(pullRequestEvent('opened', { number: 2, base: 'develop', head: 'changes' }, author));
    expect(Object.keys(runs)).toEqual(['plan', 'pull-request']);
    expect(runs.plan.conclusion).toBe('success');
    expect(runs.plan.outputs).toEqual({ name: 'churn', environment: '', 'champion-env': 'prod', sweep: 'false', 'sweep-shards': '' });
    expect(runs.plan.steps.validate.outputs).toMatchObject({ valid: 'true', rows: '7043', failed: '0' });

    const job = runs['pull-request'];
    expect(job.conclusion, job.steps.compare?.stdout).toBe('success');
    expect(Object.keys(job.steps)).toEqual(['train', 'compare']);
    expect(job.steps.train.outputs).toMatchObject({ 'model-path': '.bramble/model.json', valid: 'true', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // prod (compare.against) serves nothing yet: only the gates' absolute limits apply.
    expect(job.steps.compare.outputs).toMatchObject({ passed: 'true', 'champion-version': '' });
    expect(double.comments).toHaveLength(1);
    const [comment] = double.comments;
    expect(comment).toMatchObject({ issue: 2, author: GITHUB_ACTORS.bot });
    expect(comment.body).toMatch(/^<!-- bramble-report:churn -->\n### ✅ churn: .*\(no champion yet\)\n/);
    expect(comment.body.trimEnd()).toBe(job.steps.compare.summary.trimEnd());
    expect(job.steps.compare.outputs['comment-url']).toBe(`${GITHUB_DOUBLE.serverUrl}/${REPOSITORY}/pull/2#issuecomment-${comment.id}`);
    firstComment = { id: comment.id, body: comment.body };

    expect(await remoteRefs('refs/tags/*')).toEqual([]);
    // Nothing registered; the pull request's training run is recorded and pushed (docs/runs.md).
    expect(await remoteRefs('refs/heads/bramble/*')).toEqual(['refs/heads/bramble/runs']);
    expect(double.deployments).toEqual([]);
    expect(double.problems).toEqual([]);
  });

  it('PR updated: the same comment is updated in place, not a second one', { timeout: 60_000 }, async () => {
    const before = git(author, 'rev-parse', 'changes').trim();
    writeFileSync(join(author, 'README.md'), `${readFileSync(join(author, 'README.md'), 'utf8')}\nSmaller leaves: see ml.yaml.\n`);
    commitAll(author, 'say why in the README');
    await pushPullRequest(2, 'changes', 'develop');
    const writesBefore = double.calls.length;

    const runs = await playEvent(pullRequestEvent('synchronize', { number: 2, base: 'develop', head: 'changes', before }, author));
    expect(Object.keys(runs)).toEqual(['plan', 'pull-request']);
    const compare = runs['pull-request'].steps.compare;
    expect(compare.code, compare.stdout).toBe(0);
    expect(double.comments).toHaveLength(1);
    expect(double.comments[0].id).toBe(firstComment.id);
    expect(compare.outputs['comment-url']).toBe(`${GITHUB_DOUBLE.serverUrl}/${REPOSITORY}/pull/2#issuecomment-${firstComment.id}`);
    // The report names the commit it was made for, so the body changed with the push.
    expect(double.comments[0].body).not.toBe(firstComment.body);
    expect(double.comments[0].body.trimEnd()).toBe(compare.summary.trimEnd());
    const writes = double.calls.slice(writesBefore).filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.operationId} ${c.status}`);
    expect(writes).toEqual(['PATCH issues/update-comment 200']);
    expect(double.calls.filter((c) => c.method === 'POST').map((c) => c.operationId)).toEqual(['issues/create-comment']);
    expect(await remoteRefs('refs/tags/*')).toEqual([]);
    expect(double.problems).toEqual([]);
  });

  it('merge to develop: registered v1.0.0, assigned to dev, deployed to bramble serve, a Deployment recorded', { timeout: 90_000 }, async () => {
    const before = git(author, 'rev-parse', 'develop').trim();
    git(author, 'checkout', '-q', 'develop');
    git(author, 'merge', '-q', '--no-ff', '-m', 'Merge pull request #2 from Codertocat/changes', 'changes');
    const merge = git(author, 'rev-parse', 'HEAD').trim();
    await gitAsync(author, ...AUTH, 'push', '-q', 'origin', 'develop');
    const commentsBefore = double.comments.map((c) => ({ ...c }));

    const runs = await playEvent(pushEvent(author, 'refs/heads/develop', before, merge));
    expect(Object.keys(runs)).toEqual(['plan', 'release']);
    expect(runs.plan.outputs).toEqual({ name: 'churn', environment: 'dev', 'champion-env': 'prod', sweep: 'false', 'sweep-shards': '' });
    release = runs.release;
    const { steps } = release;
    expect(release.conclusion, Object.values(steps).at(-1)?.stdout).toBe('success');
    expect(Object.keys(steps)).toEqual(['train', 'compare', 'register', 'promote', 'deploy']);
    expect(steps.compare.outputs).toEqual({ passed: 'true', verdict: expect.stringMatching(/^Passed: /), 'champion-version': '', 'comment-url': '' });
    expect(steps.register.outputs).toEqual({ version: 'v1.0.0', reused: 'false', tag: 'churn@v1.0.0' });
    expect(steps.promote.outputs).toEqual({ version: 'v1.0.0', tag: 'churn#dev#1', previous: '', changed: 'true' });
    const url = `${host.url}/dev/`;
    expect(steps.deploy.outputs).toEqual({ version: 'v1.0.0', url, previous: '', via: 'server' });
    // A push has no pull request: the comment on #2 is as it was, and no other was written.
    expect(double.comments).toEqual(commentsBefore);

    expect((await remoteRefs('refs/tags/*')).sort()).toEqual(['refs/tags/churn#dev#1', 'refs/tags/churn@v1.0.0']);
    expect((await remoteRefs('refs/heads/bramble/*')).sort()).toEqual(['refs/heads/bramble/registry', 'refs/heads/bramble/runs']);
    // The version tags the merge commit and records the artifact the train step wrote; the runner has no git
    // identity of its own, so the tagger is the actor who merged.
    const laptop = mkdtempSync(join(tmpdir(), 'bramble-laptop-'));
    await gitAsync(laptop, ...AUTH, 'clone', '-q', '--branch', 'develop', remoteUrl, '.');
    expect(git(laptop, 'rev-parse', 'churn@v1.0.0^{commit}').trim()).toBe(merge);
    const registration = git(laptop, 'cat-file', 'tag', 'churn@v1.0.0');
    expect(registration).toContain(`Bramble-Artifact: sha256:${steps.train.outputs.sha256}`);
    expect(registration).toMatch(new RegExp(`^tagger ${ACTOR} <${ACTOR}@users\\.noreply\\.github\\.com> `, 'm'));

    const answer = await invoke('dev');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-bramble-model')).toBe('churn@v1.0.0');
    expect(await answer.json()).toEqual({ predictions: [expect.anything()] });

    expect(double.deployments).toHaveLength(1);
    const [deployment] = double.deployments;
    // One record: the promote step's Deployment of the tag, which the deploy step continued to success.
    expect(deployment).toMatchObject({ environment: 'dev', ref: 'churn#dev#1', sha: merge, description: 'churn@v1.0.0 assigned by churn#dev#1; deploying', productionEnvironment: false });
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress', 'success']);
    expect(deployment.statuses[2].request).toMatchObject({ environment_url: url, description: 'churn@v1.0.0 serves dev' });
    expect(double.problems).toEqual([]);
  });

  it('a promotion tag to prod: deployed without retraining, a Deployment recorded, prod answers v1.0.0', { timeout: 60_000 }, async () => {
    // A maintainer promotes from a laptop; the tag's push starts the run.
    const laptop = mkdtempSync(join(tmpdir(), 'bramble-laptop-'));
    await gitAsync(laptop, ...AUTH, 'clone', '-q', '--branch', 'develop', remoteUrl, '.');
    git(laptop, 'config', 'user.name', 'Ada Lovelace');
    git(laptop, 'config', 'user.email', 'ada@example.com');
    const promoted = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(dist, 'cli.js'), 'promote', 'churn@v1.0.0', 'prod'],
        { cwd: laptop, env: { PATH: process.env.PATH ?? '', HOME: laptop, BRAMBLE_GIT_TOKEN: TOKEN } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      );
    });
    expect(promoted).toEqual({ code: 0, stdout: 'assigned churn@v1.0.0 to prod (churn#prod#2)\n', stderr: '' });
    expect(await remoteRefs('refs/tags/churn#prod#*')).toEqual(['refs/tags/churn#prod#2']);

    await gitAsync(laptop, ...AUTH, 'fetch', '-q', '--tags', 'origin');
    const tagObject = git(laptop, 'rev-parse', 'refs/tags/churn#prod#2').trim();
    const event = pushEvent(laptop, 'refs/tags/churn#prod#2', ZERO, tagObject);
    // The assignment tags the version's commit: the merge to develop.
    expect(event.sha).toBe(git(laptop, 'rev-parse', 'churn@v1.0.0^{commit}').trim());
    const runs = await playEvent(event);
    expect(Object.keys(runs)).toEqual(['plan', 'deploy-tag']);
    expect(runs.plan.outputs).toEqual({ name: 'churn', environment: 'prod', 'champion-env': 'prod', sweep: 'false', 'sweep-shards': '' });
    const job = runs['deploy-tag'];
    expect(job.conclusion, job.steps.deploy?.stdout).toBe('success');
    // Nothing but the deploy ran, and nothing was trained in the job's checkout.
    expect(Object.keys(job.steps)).toEqual(['deploy']);
    expect(existsSync(join(job.workspace, '.bramble'))).toBe(false);
    const url = `${host.url}/prod/`;
    expect(job.steps.deploy.outputs).toEqual({ version: 'v1.0.0', url, previous: '', via: 'server' });

    // prod serves the very artifact that was registered, trained once in the merge's run.
    const version = (await (await fetch(`${host.url}/prod/version`)).json()) as { version: string; sha256: string };
    expect(version).toMatchObject({ version: 'v1.0.0', sha256: release.steps.train.outputs.sha256 });
    const answer = await invoke('prod');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-bramble-model')).toBe('churn@v1.0.0');
    expect((await invoke('dev')).headers.get('x-bramble-model')).toBe('churn@v1.0.0');

    expect(double.deployments).toHaveLength(2);
    const deployment = double.deployments[1];
    expect(deployment).toMatchObject({ environment: 'prod', sha: event.sha, description: 'churn@v1.0.0', productionEnvironment: true });
    expect(deployment.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(deployment.statuses[1].request).toMatchObject({ environment_url: url, description: 'churn@v1.0.0 serves prod' });
    expect((await remoteRefs('refs/tags/*')).sort()).toEqual(['refs/tags/churn#dev#1', 'refs/tags/churn#prod#2', 'refs/tags/churn@v1.0.0']);
    expect(double.problems).toEqual([]);
  });

  it('a PR that makes the model worse: the gate fails, the check is red, a new comment says which gate and by how much', { timeout: 60_000 }, async () => {
    await gitAsync(author, ...AUTH, 'fetch', '-q', 'origin');
    git(author, 'checkout', '-q', '-b', 'fewer-features', 'origin/develop');
    // Without the strongest predictors of churn.
    editMlYaml(author, (t) => t.replace(/^ {6}- Contract\n/m, '').replace(/^( {2}- onehot:)$/m, '  - drop: [Contract, tenure, TotalCharges, MonthlyCharges]\n$1'));
    commitAll(author, 'fewer features');
    await pushPullRequest(3, 'fewer-features', 'develop');

    const runs = await playEvent(pullRequestEvent('opened', { number: 3, base: 'develop', head: 'fewer-features' }, author));
    expect(Object.keys(runs)).toEqual(['plan', 'pull-request']);
    const job = runs['pull-request'];
    expect(job.conclusion).toBe('failure');
    const { train, compare } = job.steps;
    expect(train.code).toBe(0);
    expect(compare.code).toBe(1);
    expect(compare.outputs).toMatchObject({ passed: 'false', verdict: 'Failed: 2 of 2 gates (roc_auc).', 'champion-version': 'v1.0.0' });
    expect(compare.stdout).toMatch(/^::error::churn: Failed: 2 of 2 gates \(roc_auc\)\. See the report in the job summary and on the pull request\.$/m);

    // One comment per pull request: #2's is untouched, #3 has its own.
    expect(double.comments.map((c) => c.issue)).toEqual([2, 3]);
    const comment = double.comments[1];
    expect(compare.outputs['comment-url']).toBe(`${GITHUB_DOUBLE.serverUrl}/${REPOSITORY}/pull/3#issuecomment-${comment.id}`);
    expect(comment.body.trimEnd()).toBe(compare.summary.trimEnd());
    // The numbers are the train steps' own: the candidate's here, the champion's (v1.0.0, prod) from the merge's run.
    const candidate = (JSON.parse(train.outputs.metrics) as { roc_auc: number }).roc_auc;
    const champion = (JSON.parse(release.steps.train.outputs.metrics) as { roc_auc: number }).roc_auc;
    expect(candidate).toBeLessThan(0.8);
    const [marker, heading] = comment.body.split('\n');
    expect(marker).toBe('<!-- bramble-report:churn -->');
    const figures = /^### ❌ churn: 2 of 2 gates failed — roc_auc is (0\.\d{4}) \(min 0\.8\); roc_auc dropped (0\.\d{4}) \(max 0\.01\)$/.exec(heading);
    expect(figures, heading).not.toBeNull();
    // The gate scores both models on the held-out rows the champion never trained on (develop's data has grown
    // since v1.0.0, so a few are left out): within a hair of the train steps' own figures on all held-out rows.
    expect(Math.abs(Number(figures?.[1]) - candidate)).toBeLessThan(0.005);
    expect(Math.abs(Number(figures?.[2]) - (champion - candidate))).toBeLessThan(0.01);
    expect(comment.body).toContain(`against the champion v1.0.0 in prod`);

    // Nothing registered or deployed for a pull request.
    expect((await remoteRefs('refs/tags/*')).sort()).toEqual(['refs/tags/churn#dev#1', 'refs/tags/churn#prod#2', 'refs/tags/churn@v1.0.0']);
    expect(double.deployments).toHaveLength(2);
    expect(double.problems).toEqual([]);
  });

  // Issue 14's chapter. The host keeps serving prod; customers' MonthlyCharges rise by 40 %. The scheduled run of
  // the workflow monitors prod on the runner where the log is, records the result, opens the monitor issue and
  // dispatches a retrain to the caller's workflow; the dispatched run cuts a branch from develop, opens a pull
  // request and posts the report on it. The team has tightened ml.yaml's drift share on main (which a scheduled run
  // checks out) so that one drifted column of 19 alerts: with the template's 0.5 it would take ten.
  it('drift → issue → retrain → PR: shifted traffic to prod, the scheduled monitor opens the issue and dispatches a retrain, whose run pushes a branch and opens a PR with the report', { timeout: 240_000 }, async () => {
    await gitAsync(author, ...AUTH, 'fetch', '-q', 'origin');
    git(author, 'checkout', '-q', '-B', 'main', 'origin/main');
    editMlYaml(author, (t) => t.replace('drift: { share: 0.5 }', 'drift: { share: 0.05 }'));
    const main = commitAll(author, 'monitor: one drifted column of 19 is an alert');
    await gitAsync(author, ...AUTH, 'push', '-q', 'origin', 'main');

    // 300 customers drawn from the data, MonthlyCharges × 1.4, each with its truth fed back.
    const { table } = await readTable(join(author, 'data/churn.csv'), { columns: { TotalCharges: { type: 'number', nullable: true } } });
    const random = seeded(6);
    for (let i = 0; i < 300; i++) {
      const k = Math.floor(random() * table.rows);
      const record: Record<string, unknown> = {};
      for (const column of table.columns) if (column.name !== 'Churn') record[column.name] = cellValue(column, k);
      record.MonthlyCharges = (record.MonthlyCharges as number) * 1.4;
      const headers = { 'content-type': 'application/json', 'x-request-id': `drift-${i}` };
      const answer = await fetch(`${host.url}/prod/invocations`, { method: 'POST', headers, body: JSON.stringify({ dataframe_records: [record] }) });
      expect(answer.status).toBe(200);
      const truth = String(cellValue(getColumn(table, 'Churn'), k));
      expect((await fetch(`${host.url}/prod/feedback`, { method: 'POST', headers, body: JSON.stringify({ id: `drift-${i}`, truth }) })).status).toBe(202);
    }
    const logs = join(dirname(serveConfig), 'logs');
    // The host writes its log in batches off the request path: wait for the last line.
    for (let waited = 0; !readFileSync(join(logs, 'predictions.jsonl'), 'utf8').includes('"id":"drift-299","time"'); waited += 50) {
      if (waited > 10_000) throw new Error('the host did not write the last prediction to its log');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // The schedule: ml.yaml's monitor.schedule, with the caller's retrain cron beside it.
    const schedule = scheduleEvent('0 6 * * *', 'main', main);
    const scheduled = { ...callerInputs, 'prediction-logs': logs, 'retrain-schedule': '0 3 * * 1' };
    const runs = await playEvent(schedule, scheduled);
    expect(Object.keys(runs)).toEqual(['monitor']);
    const monitor = runs.monitor.steps.monitor;
    expect(runs.monitor.conclusion, monitor?.stdout).toBe('success');
    expect(monitor.outputs).toMatchObject({ healthy: 'false', retrain: 'true', 'drifted-share': expect.stringMatching(/^0\.\d{4}$/) });

    // The issue: one, open, labelled, with MonthlyCharges drifted in its table.
    expect(double.issues).toHaveLength(1);
    const [issue] = double.issues;
    expect(issue).toMatchObject({ state: 'open', labels: ['bramble-monitor'] });
    expect(issue.title).toMatch(/^churn in prod: input drift \(\d+ of 19 columns\)/);
    expect(issue.body).toMatch(/\n\| MonthlyCharges \| wasserstein \| \d+\.\d{4} \| 0\.1000 \| \*\*yes\*\* \|\n/);
    expect(monitor.outputs['issue-url']).toBe(`${GITHUB_DOUBLE.serverUrl}/${REPOSITORY}/issues/${issue.number}`);
    // The retrain, dispatched once to the caller's workflow on the branch the schedule ran on.
    expect(double.dispatches.map((d) => ({ workflow: d.workflow, ref: d.ref, inputs: d.inputs }))).toEqual([{ workflow: 'ml.yml', ref: 'main', inputs: { retrain: 'prod' } }]);
    // The run is recorded on the registry branch, where the next run reads it back.
    const laptop = mkdtempSync(join(tmpdir(), 'bramble-laptop-'));
    await gitAsync(laptop, ...AUTH, 'clone', '-q', '--branch', 'bramble/registry', remoteUrl, '.');
    const latest = JSON.parse(readFileSync(join(laptop, 'churn/monitoring/prod/latest.json'), 'utf8')) as { healthy: boolean; log: { requests: number } };
    expect(latest).toMatchObject({ healthy: false, log: { requests: 301 } });

    // The dispatched run: workflow_dispatch with the alert's inputs, passed on by the caller's workflow.
    const [dispatch] = double.dispatches;
    const dispatched = dispatchEvent(dispatch.inputs, dispatch.ref, main);
    const developBefore = git(author, 'rev-parse', 'origin/develop').trim();
    const retrainRuns = await playEvent(dispatched, { ...callerInputs, retrain: String(dispatch.inputs.retrain) });
    expect(Object.keys(retrainRuns)).toEqual(['retrain']);
    const retrain = retrainRuns.retrain.steps.retrain;
    expect(retrainRuns.retrain.conclusion, retrain?.stdout).toBe('success');
    const { branch } = retrain.outputs;
    expect(branch).toMatch(new RegExp(`^bramble/retrain/prod/\\d{4}-\\d{2}-\\d{2}-${runId}$`));
    expect(retrain.outputs).toMatchObject({ passed: 'true', verdict: expect.stringMatching(/^Passed: /) });

    // The branch: pushed, one commit on develop saying why.
    expect(await remoteRefs('refs/heads/bramble/retrain/*')).toEqual([`refs/heads/${branch}`]);
    await gitAsync(author, ...AUTH, 'fetch', '-q', 'origin');
    expect(git(author, 'rev-parse', `origin/${branch}^`).trim()).toBe(developBefore);
    expect(git(author, 'log', '-1', '--format=%s', `origin/${branch}`).trim()).toBe('Retrain churn: the monitor alerted in prod');
    expect(git(author, 'diff', '--name-only', developBefore, `origin/${branch}`).trim()).toBe('RETRAIN.md');
    const why = git(author, 'show', `origin/${branch}:RETRAIN.md`);
    expect(why).toContain('The monitor alerted in prod');
    expect(why).toMatch(/drift in \d+ of 19 columns \([^)]*MonthlyCharges/);

    // The pull request, from the branch to develop, and the report on it.
    const pull = double.pulls.find((p) => p.head === branch);
    expect(pull).toMatchObject({ base: 'develop', state: 'open', title: 'Retrain churn: the monitor alerted in prod' });
    expect(retrain.outputs['pull-request']).toBe(String(pull?.number));
    const report = double.comments.filter((c) => c.issue === pull?.number);
    expect(report).toHaveLength(1);
    expect(report[0].body).toMatch(/^<!-- bramble-report:churn -->\n### ✅ churn: /);
    expect(report[0].body).toContain('against the champion v1.0.0 in prod');
    expect(retrain.outputs['comment-url']).toBe(`${GITHUB_DOUBLE.serverUrl}/${REPOSITORY}/pull/${pull?.number}#issuecomment-${report[0].id}`);
    // A retrain registers nothing: the merge of its pull request does, as for any other.
    expect((await remoteRefs('refs/tags/*')).sort()).toEqual(['refs/tags/churn#dev#1', 'refs/tags/churn#prod#2', 'refs/tags/churn@v1.0.0']);
    expect(double.problems).toEqual([]);
  });
});
