// Approvals are checked (issue 11.3): the bundled promote action, run the way the runner runs it, asks GitHub (the
// OpenAPI-checked API double) whether an environment that ml.yaml marks `approval: true` makes a person approve —
// the GitHub environment's required reviewers, or a tag ruleset over its assignment tags — and refuses, with nothing
// tagged, when neither does. The template's ml.yaml has `prod: { branch: main, approval: true }` and `staging`
// without approval.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from '../src/registry/registry.js';
import { runStep } from './helpers/actions.js';
import { GITHUB_ACTORS, GITHUB_DOUBLE, startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { git, makeModelRepo, train } from './helpers/model-repo.js';

const REPO = `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`;
const APPROVAL_CALLS = /\/environments\/|\/rulesets/;

let repo: string;
let double: GitHubDouble;
let env: Record<string, string>;

beforeEach(async () => {
  repo = makeModelRepo({ trees: 10 });
  await Registry.open({ dir: repo, remote: null, env: {} }).then(async (r) => r.register(await train(repo)));
  double = await startGitHubDouble({
    resolveRef: (name) => {
      try {
        return git(repo, 'rev-parse', '--verify', '--quiet', `refs/tags/${name}^{commit}`).trim();
      } catch {
        return undefined;
      }
    },
  });
  const eventPath = join(mkdtempSync(join(tmpdir(), 'bramble-event-')), 'event.json');
  writeFileSync(eventPath, readFileSync(join(import.meta.dirname, 'fixtures/github-events/workflow_dispatch.json')));
  env = {
    GITHUB_ACTIONS: 'true',
    GITHUB_API_URL: double.url,
    GITHUB_SERVER_URL: GITHUB_DOUBLE.serverUrl,
    GITHUB_REPOSITORY: REPO,
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: git(repo, 'rev-parse', 'HEAD').trim(),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '11',
    GIT_COMMITTER_NAME: 'Ada Lovelace',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
  };
});

afterEach(async () => {
  expect(double.problems).toEqual([]);
  await double.close();
});

const promote = (environment: string) => runStep('promote', { dir: '.', environment, version: 'v1.0.0', token: GITHUB_DOUBLE.botToken }, env, repo);
const tags = (pattern: string) => git(repo, 'tag', '--list', pattern).split('\n').filter(Boolean);
const approvalCalls = () => double.calls.filter((c) => APPROVAL_CALLS.test(c.path)).map((c) => `${c.method} ${c.path} ${c.status}`);

/** Where `approval` of prod stands in the template's ml.yaml, 1-based, as the annotation and the message give it. */
function approvalPlace(): { line: number; col: number } {
  const lines = readFileSync(join(repo, 'ml.yaml'), 'utf8').split('\n');
  const line = lines.findIndex((l) => /^ {2}prod:/.test(l));
  return { line: line + 1, col: lines[line].indexOf('approval') + 1 };
}

describe('promote to an environment with approval: true', () => {
  it('proceeds when the GitHub environment has required reviewers', async () => {
    double.addEnvironment('prod', { reviewers: [GITHUB_ACTORS.octocat] });
    const run = await promote('prod');
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('prod needs approval (ml.yaml), and the GitHub environment prod requires a review by octocat');
    expect(run.outputs).toMatchObject({ tag: 'churn#prod#1', changed: 'true' });
    expect(tags('churn#prod#*')).toEqual(['churn#prod#1']);
    expect(approvalCalls()).toEqual([`GET /repos/${REPO}/environments/prod 200`]);
    expect(double.deployments.map((d) => d.ref)).toEqual(['churn#prod#1']);
  });

  it('is refused, naming the environment and the fix, with nothing tagged, when nothing enforces approval', async () => {
    double.addEnvironment('prod', { waitTimer: 10 });
    double.addRuleset({ name: 'release tags', include: ['refs/tags/v*'] });
    const run = await promote('prod');
    expect(run.code).toBe(1);
    const { line, col } = approvalPlace();
    const message =
      `ml.yaml:${line}:${col} environments.prod.approval is true, but nothing on GitHub makes a person approve a promotion to prod: ` +
      'the GitHub environment prod has no required reviewers; no active tag ruleset restricts the creation of refs/tags/churn#prod#*. Nothing was tagged. ' +
      'Add required reviewers to the GitHub environment prod (Settings → Environments → prod → Required reviewers), ' +
      "or add a tag ruleset (Settings → Rules → Rulesets → New tag ruleset) that targets refs/tags/churn#prod#* and restricts creations, with the promoting token's app or user on its bypass list";
    const out = run.stdout.split('\n');
    expect(out).toContain(`::error::${message}`);
    expect(out).toContain(`::error title=approval not enforced,file=ml.yaml,line=${line},col=${col}::${message}`);
    expect(tags('churn#prod#*')).toEqual([]);
    expect(double.deployments).toEqual([]);
    expect(run.outputs).toEqual({});
  });

  it('proceeds when an active tag ruleset restricts creating churn#prod#N tags', async () => {
    const ruleset = double.addRuleset({ name: 'prod promotions', include: ['refs/tags/churn#prod#*'], rules: ['creation', 'update', 'deletion'] });
    const run = await promote('prod');
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain(`the tag ruleset "prod promotions" (#${ruleset.id}) lets only its bypass list create refs/tags/churn#prod#*`);
    expect(tags('churn#prod#*')).toEqual(['churn#prod#1']);
    expect(approvalCalls()).toEqual([
      `GET /repos/${REPO}/environments/prod 404`,
      `GET /repos/${REPO}/rulesets?targets=tag&per_page=100 200`,
      `GET /repos/${REPO}/rulesets/${ruleset.id} 200`,
    ]);
  });

  it('refuses a rollback of the environment the same way, before the registry is asked', async () => {
    const run = await runStep('promote', { dir: '.', environment: 'prod', rollback: 'true', token: GITHUB_DOUBLE.botToken }, env, repo);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::ml\.yaml:\d+:\d+ environments\.prod\.approval is true, but nothing on GitHub makes a person approve a promotion to prod: /m);
    expect(run.stdout).not.toContain('served no other version');
    expect(tags('churn#prod*')).toEqual([]);
  });

  it('names the permission when GitHub answers 403, and tags nothing', async () => {
    double.fail('GET', '/repos/{owner}/{repo}/environments/{environment_name}', 403, 1, { headers: { 'x-accepted-github-permissions': 'actions=read' } });
    const run = await promote('prod');
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')).toContain(
      `::error::GitHub answered 403 (Resource not accessible by integration) to GET /repos/${REPO}/environments/prod: the token lacks read access to the environment (\`actions: read\`); GitHub names the permission it accepts: actions=read; add \`permissions: { contents: read, actions: read }\` to the job`,
    );
    expect(run.stdout).not.toMatch(/at .*\.js:\d+/);
    expect(tags('churn#prod#*')).toEqual([]);
    expect(double.deployments).toEqual([]);
  });
});

describe('promote to an environment without approval', () => {
  it('asks GitHub nothing about approval and proceeds', async () => {
    const run = await promote('staging');
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs).toMatchObject({ tag: 'churn#staging#1' });
    expect(approvalCalls()).toEqual([]);
    expect(double.calls.map((c) => `${c.method} ${c.operationId}`)).toEqual(['POST repos/create-deployment', 'POST repos/create-deployment-status']);
  });
});
