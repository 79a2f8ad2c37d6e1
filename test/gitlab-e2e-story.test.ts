// Issue 13's end-to-end story: a model repository made from the template lives on a real smart-HTTP git server, and
// the pipelines of its life are played in order the way GitLab would run the `pipeline` component that its
// .gitlab-ci.yml includes — MR opened, MR updated, merge to develop, the assignment tag's pipeline, a promotion to
// prod, and an MR that makes the model worse. Verified against the GitLab API double and git only.
//
// What is played, and how faithfully:
// - The workflow rules of templates/model-repo/.gitlab-ci.yml and the jobs of templates/pipeline/template.yml are
//   read from the files, the component interpolated with the inputs the model repository gives (and `bramble` set
//   to the built CLI), and each job's rules evaluated for the pipeline's variables (test/helpers/gitlab-ci-files.ts).
// - A job is what the shell executor does: a fresh clone at the pipeline's commit, the dotenv reports of the jobs it
//   `needs` as variables and their artifacts in the folder, then its script lines in one bash with `set -eo
//   pipefail`, GitLab's predefined variables set. The API is the OpenAPI-checked double; the git server requires the
//   project access token, so every registry fetch and push proves the token reaches the registry.
// - GitLab starts a tag's pipeline when a project access token pushes the tag; the story plays that pipeline next.
// - The model host is `bramble serve` on 127.0.0.1 at a free port, named in its serve.json.
import { execFile, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPORT } from '../src/report/view.js';
import { CLI, startServe } from './helpers/cli.js';
import { inputValues, interpolate, matchingRule, readComponent, ruleHolds, type CiJob } from './helpers/gitlab-ci-files.js';
import { GITLAB_DOUBLE, gitlabJobVariables, startGitLabDouble, type GitLabDouble } from './helpers/gitlab-double.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { commitAll, editMlYaml, git, gitAsync, makeModelRepo } from './helpers/model-repo.js';

const ROOT = join(import.meta.dirname, '..');
const TOKEN = GITLAB_DOUBLE.apiToken;
const PROJECT = String(GITLAB_DOUBLE.projectId);
const MARKER = REPORT.marker('churn');
const AUTH = ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`oauth2:${TOKEN}`).toString('base64')}`];

const modelRepoCi = parse(readFileSync(join(ROOT, 'templates/model-repo/.gitlab-ci.yml'), 'utf8')) as {
  workflow: { rules: { if: string }[] };
  include: { component: string; inputs: Record<string, unknown> }[];
};

interface Pipeline {
  /** The pipeline's own variables: CI_PIPELINE_SOURCE and those of its kind. */
  vars: Record<string, string>;
  /** The git ref to check out: a branch, a tag or a commit. */
  ref: string;
}

interface JobRun {
  code: number | null;
  log: string;
  dotenv: Record<string, string>;
  workspace: string;
}

function readDotenv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('the end-to-end story of a model repository on GitLab (issue 13)', () => {
  let double: GitLabDouble;
  let server: GitServer;
  let remoteUrl: string;
  let author: string;
  let host: { child: ChildProcess; url: string };
  let jobs: Record<string, CiJob>;
  let pipelineId = 7000;
  let releaseMetrics: { roc_auc: number };

  async function checkout(ref: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-gl-build-'));
    await gitAsync(dir, ...AUTH, 'clone', '-q', remoteUrl, '.');
    await gitAsync(dir, 'checkout', '-q', '--detach', ref);
    return dir;
  }

  async function runJob(name: string, pipeline: Pipeline, needed: JobRun[]): Promise<JobRun> {
    const job = jobs[name];
    const workspace = await checkout(pipeline.ref);
    const fromNeeds: Record<string, string> = {};
    mkdirSync(join(workspace, '.bramble'), { recursive: true });
    for (const run of needed) {
      Object.assign(fromNeeds, run.dotenv);
      for (const file of ['.bramble/bramble.env', '.bramble/bramble-report.md', '.bramble/gl-code-quality-report.json']) {
        if (existsSync(join(run.workspace, file))) copyFileSync(join(run.workspace, file), join(workspace, file));
      }
    }
    const sha = (await gitAsync(workspace, 'rev-parse', 'HEAD')).trim();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: workspace,
      ...gitlabJobVariables(double.apiUrl, workspace, sha, pipelineId),
      CI_JOB_NAME: name,
      ...pipeline.vars,
      ...fromNeeds,
    };
    const script = ['set -eo pipefail', ...(job.script ?? [])].join('\n');
    return new Promise((resolve) => {
      execFile('bash', ['-c', script], { cwd: workspace, env, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, log: `${stdout}${stderr}`, dotenv: readDotenv(join(workspace, '.bramble/bramble.env')), workspace });
      });
    });
  }

  /** The pipeline GitLab creates for these variables: the workflow rules, then each job whose rules hold, in order. */
  async function playPipeline(pipeline: Pipeline): Promise<Record<string, JobRun>> {
    pipelineId += 1;
    if (!modelRepoCi.workflow.rules.some((r) => ruleHolds(r.if, pipeline.vars))) return {};
    const runs: Record<string, JobRun> = {};
    for (const [name, job] of Object.entries(jobs)) {
      const rule = matchingRule(job, pipeline.vars);
      if (rule === null || rule.when === 'manual') continue;
      const needs = (job.needs ?? []).flatMap((n) => (typeof n === 'string' ? [n] : n.optional === true && runs[n.job] === undefined ? [] : [n.job]));
      if (needs.some((n) => runs[n]?.code !== 0)) continue;
      runs[name] = await runJob(name, pipeline, needs.map((n) => runs[n]));
    }
    return runs;
  }

  const mergeRequest = (iid: number, branch: string): Pipeline => ({
    ref: `origin/${branch}`,
    vars: {
      CI_PIPELINE_SOURCE: 'merge_request_event',
      CI_MERGE_REQUEST_IID: String(iid),
      CI_MERGE_REQUEST_PROJECT_ID: PROJECT,
      CI_MERGE_REQUEST_SOURCE_PROJECT_ID: PROJECT,
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: branch,
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'develop',
      CI_COMMIT_REF_NAME: branch,
    },
  });
  const branchPush = (branch: string): Pipeline => ({ ref: `origin/${branch}`, vars: { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: branch, CI_COMMIT_REF_NAME: branch } });
  const tagPush = (tag: string): Pipeline => ({ ref: `refs/tags/${tag}`, vars: { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: tag, CI_COMMIT_REF_NAME: tag } });

  async function remoteTags(): Promise<string[]> {
    const out = await gitAsync(author, ...AUTH, 'ls-remote', '--tags', remoteUrl);
    return out.split('\n').filter((l) => l && !l.endsWith('^{}')).map((l) => l.split('\t')[1].replace('refs/tags/', '')).sort();
  }

  async function pushBranch(branch: string): Promise<void> {
    await gitAsync(author, ...AUTH, 'push', '-q', '--force', 'origin', branch);
  }

  async function served(env: string): Promise<string | null> {
    const lines = readFileSync(join(author, 'data/churn.csv'), 'utf8').split('\n');
    const res = await fetch(`${host.url}/${env}/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `${lines[0]}\n${lines[1]}\n` });
    return res.status === 200 ? res.headers.get('x-bramble-model') : null;
  }

  beforeAll(async () => {
    server = await startGitServer({ token: TOKEN });
    await server.createBare('churn');
    remoteUrl = server.repoUrl('churn');
    double = await startGitLabDouble();
    author = makeModelRepo({ trees: 20 });
    git(author, 'branch', 'develop');
    git(author, 'remote', 'add', 'origin', remoteUrl);
    await gitAsync(author, ...AUTH, 'push', '-q', 'origin', 'main', 'develop');

    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const pi = mkdtempSync(join(tmpdir(), 'bramble-gl-pi-'));
    const serveConfig = join(pi, 'serve.json');
    const environments = { dev: { path: '/dev' }, staging: { path: '/staging' }, prod: { path: '/prod' } };
    writeFileSync(serveConfig, JSON.stringify({ listen: { host: '127.0.0.1', port }, models: 'models', log: { dir: 'logs' }, environments }));
    host = await startServe(serveConfig);

    // The component as the model repository includes it, with the Pi's command and serve.json.
    const { header, body } = readComponent(join(ROOT, 'templates/pipeline/template.yml'));
    const given = { ...modelRepoCi.include[0].inputs, bramble: `node ${CLI}`, 'serve-config': serveConfig };
    jobs = interpolate(body, inputValues(header.spec.inputs, given)) as Record<string, CiJob>;
  }, 60_000);

  afterAll(async () => {
    host?.child.kill('SIGTERM');
    await server?.close();
    await double?.close();
  });

  it('MR opened: plan, train, compare; one report note, nothing registered', { timeout: 90_000 }, async () => {
    git(author, 'checkout', '-q', '-b', 'changes', 'develop');
    editMlYaml(author, (t) => t.replace(/minSamplesLeaf: \d+/, 'minSamplesLeaf: 8'));
    commitAll(author, 'smaller leaves');
    await pushBranch('changes');
    double.openMergeRequest(2);

    const runs = await playPipeline(mergeRequest(2, 'changes'));
    // ml.yaml has no sweep: the shard job (one here; GitLab runs sweep-shards of them) ends at once.
    expect(Object.keys(runs)).toEqual(['bramble-plan', 'bramble-sweep-shard', 'bramble-merge-request']);
    expect(runs['bramble-sweep-shard'].log).toContain('ml.yaml has no sweep:; nothing to shard');
    expect(runs['bramble-plan'].dotenv).toMatchObject({ BRAMBLE_NAME: 'churn', BRAMBLE_ENVIRONMENT: '', BRAMBLE_CHAMPION_ENV: 'prod', BRAMBLE_VALID: 'true' });
    const mr = runs['bramble-merge-request'];
    expect(mr.code, mr.log).toBe(0);
    expect(mr.dotenv).toMatchObject({ BRAMBLE_PASSED: 'true', BRAMBLE_MODEL_PATH: '.bramble/model.json' });
    const notes = double.notes.filter((n) => n.body.includes(MARKER));
    expect(notes).toHaveLength(1);
    expect(notes[0].body).toMatch(/^<!-- bramble-report:churn -->\n### ✅ churn: .*\(no champion yet\)\n/);
    expect(mr.dotenv.BRAMBLE_COMMENT_URL).toBe(`${GITLAB_DOUBLE.serverUrl}/${GITLAB_DOUBLE.projectPath}/-/merge_requests/2#note_${notes[0].id}`);
    expect(readFileSync(join(mr.workspace, '.bramble/bramble-report.md'), 'utf8')).toContain('churn');
    expect(await remoteTags()).toEqual([]);
    expect(double.problems).toEqual([]);
  });

  it('MR updated: the same note is updated in place', { timeout: 90_000 }, async () => {
    const [before] = double.notes.filter((n) => n.body.includes(MARKER)).map((n) => ({ id: n.id, body: n.body }));
    writeFileSync(join(author, 'README.md'), `${readFileSync(join(author, 'README.md'), 'utf8')}\nSmaller leaves: see ml.yaml.\n`);
    commitAll(author, 'say why');
    await pushBranch('changes');
    const runs = await playPipeline(mergeRequest(2, 'changes'));
    expect(runs['bramble-merge-request'].code, runs['bramble-merge-request'].log).toBe(0);
    const notes = double.notes.filter((n) => n.body.includes(MARKER));
    expect(notes.map((n) => n.id)).toEqual([before.id]);
    expect(notes[0].body).not.toBe(before.body);
    expect(double.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.status}`)).toEqual(['POST 201', 'PUT 200']);
    expect(double.problems).toEqual([]);
  });

  it('merge to develop: v1.0.0 registered and assigned to dev; the tag pipeline deploys it; a deployment recorded', { timeout: 120_000 }, async () => {
    git(author, 'checkout', '-q', 'develop');
    git(author, 'merge', '-q', '--no-ff', '-m', "Merge branch 'changes' into 'develop'", 'changes');
    await pushBranch('develop');

    const runs = await playPipeline(branchPush('develop'));
    expect(Object.keys(runs)).toEqual(['bramble-plan', 'bramble-release']);
    expect(runs['bramble-plan'].dotenv).toMatchObject({ BRAMBLE_ENVIRONMENT: 'dev', BRAMBLE_CHAMPION_ENV: 'prod' });
    const release = runs['bramble-release'];
    expect(release.code, release.log).toBe(0);
    expect(release.dotenv).toMatchObject({ BRAMBLE_VERSION: 'v1.0.0', BRAMBLE_TAG: 'churn#dev#1', BRAMBLE_CHANGED: 'true', BRAMBLE_REUSED: 'false', BRAMBLE_COMMENT_URL: '' });
    // Within the 20 variables a self-managed GitLab takes in a dotenv report by default (docs/gitlab.md); the plan's
    // BRAMBLE_SWEEP is the 19th.
    expect(Object.keys(release.dotenv)).toHaveLength(19);
    expect(release.dotenv.BRAMBLE_SWEEP).toBe('false');
    releaseMetrics = JSON.parse(release.dotenv.BRAMBLE_METRICS) as { roc_auc: number };
    expect(await remoteTags()).toEqual(['churn#dev#1', 'churn@v1.0.0']);
    // The promotion recorded its deployment, running until the tag's pipeline deploys.
    expect(double.deployments).toMatchObject([{ environment: 'dev', ref: 'churn#dev#1', tag: true, statuses: ['running'] }]);
    // Pushed with the project access token, so GitLab starts the tag's pipeline itself: none was asked for.
    expect(double.pipelines).toEqual([]);

    const tagRuns = await playPipeline(tagPush('churn#dev#1'));
    expect(Object.keys(tagRuns)).toEqual(['bramble-deploy']);
    const deploy = tagRuns['bramble-deploy'];
    expect(deploy.code, deploy.log).toBe(0);
    expect(deploy.dotenv).toMatchObject({ BRAMBLE_VERSION: 'v1.0.0', BRAMBLE_URL: `${host.url}/dev/`, BRAMBLE_VIA: 'server' });
    expect(existsSync(join(deploy.workspace, '.bramble/model.json'))).toBe(false);
    expect(await served('dev')).toBe('churn@v1.0.0');
    expect(double.deployments).toMatchObject([{ environment: 'dev', ref: 'churn#dev#1', statuses: ['running', 'success'] }]);
    expect(double.environments).toMatchObject([{ name: 'dev', externalUrl: `${host.url}/dev/` }]);
    // A version tag starts no pipeline: the model repository's workflow rules leave it out.
    expect(await playPipeline(tagPush('churn@v1.0.0'))).toEqual({});
    expect(double.problems).toEqual([]);
  });

  it('promotion to prod: refused from a pipeline that has no BRAMBLE_GITLAB_APPROVAL_TOKEN to read the protected tags with; a maintainer\'s tag deploys it', { timeout: 90_000 }, async () => {
    const refused = await playPipeline({ ref: 'origin/develop', vars: { CI_PIPELINE_SOURCE: 'web', CI_COMMIT_BRANCH: 'develop', BRAMBLE_PROMOTE_TO: 'prod', BRAMBLE_PROMOTE_VERSION: 'churn@v1.0.0' } });
    expect(Object.keys(refused)).toEqual(['bramble-promote']);
    expect(refused['bramble-promote'].code).toBe(2);
    expect(refused['bramble-promote'].log).toMatch(/ml\.yaml:\d+:\d+ environments\.prod\.approval is true, but nothing on GitLab makes a person approve a promotion to prod/);
    expect(refused['bramble-promote'].log).toContain('Protect the tags churn#prod#* (Settings → Repository → Protected tags');
    expect(refused['bramble-promote'].log).not.toContain('GitHub');
    expect(await remoteTags()).toEqual(['churn#dev#1', 'churn@v1.0.0']);

    // A maintainer promotes from a laptop (the protected tag `churn#prod#*` lets only maintainers push it).
    const laptop = mkdtempSync(join(tmpdir(), 'bramble-gl-laptop-'));
    await gitAsync(laptop, ...AUTH, 'clone', '-q', '--branch', 'develop', remoteUrl, '.');
    const promoted = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'promote', 'churn@v1.0.0', 'prod'], { cwd: laptop, env: { PATH: process.env.PATH ?? '', HOME: laptop, GITLAB_TOKEN: TOKEN, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com' } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, out: `${stdout}${stderr}` }),
      );
    });
    expect(promoted).toEqual({ code: 0, out: 'assigned churn@v1.0.0 to prod (churn#prod#2)\n' });

    const runs = await playPipeline(tagPush('churn#prod#2'));
    expect(Object.keys(runs)).toEqual(['bramble-deploy']);
    expect(runs['bramble-deploy'].code, runs['bramble-deploy'].log).toBe(0);
    expect(await served('prod')).toBe('churn@v1.0.0');
    expect(double.deployments.at(-1)).toMatchObject({ environment: 'prod', ref: 'churn#prod#2', statuses: ['running', 'success'] });
    expect(double.problems).toEqual([]);
  });

  it('an MR that makes the model worse: the gate fails the pipeline, and its own note says by how much', { timeout: 90_000 }, async () => {
    git(author, 'checkout', '-q', '-b', 'fewer-features', 'develop');
    editMlYaml(author, (t) => t.replace(/^ {6}- Contract\n/m, '').replace(/^( {2}- onehot:)$/m, '  - drop: [Contract, tenure, TotalCharges, MonthlyCharges]\n$1'));
    commitAll(author, 'fewer features');
    await pushBranch('fewer-features');
    double.openMergeRequest(3);

    const runs = await playPipeline(mergeRequest(3, 'fewer-features'));
    const mr = runs['bramble-merge-request'];
    expect(mr.code).toBe(1);
    expect(mr.dotenv).toMatchObject({ BRAMBLE_PASSED: 'false', BRAMBLE_VERDICT: 'Failed: 2 of 2 gates (roc_auc).', BRAMBLE_CHAMPION_VERSION: 'v1.0.0' });
    expect(mr.log).toContain('churn: Failed: 2 of 2 gates (roc_auc). See the report in the job log and .bramble/bramble-report.md and on the merge request.');
    const notes = double.notes.filter((n) => n.body.includes(MARKER));
    expect(notes.map((n) => n.iid)).toEqual([2, 3]);
    const heading = notes[1].body.split('\n')[1];
    const figures = /^### ❌ churn: 2 of 2 gates failed — roc_auc is (0\.\d{4}) \(min 0\.8\); roc_auc dropped (0\.\d{4}) \(max 0\.01\)$/.exec(heading);
    expect(figures, heading).not.toBeNull();
    expect(Number(figures?.[2])).toBeGreaterThan(0.01);
    expect(Number(figures?.[2])).toBeLessThan(releaseMetrics.roc_auc);
    expect(notes[1].body).toContain('against the champion v1.0.0 in prod');
    expect(await remoteTags()).toEqual(['churn#dev#1', 'churn#prod#2', 'churn@v1.0.0']);
    expect(double.problems).toEqual([]);
  });
});
