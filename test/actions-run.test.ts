// The bundled actions run the way GitHub's runner runs them: `node dist/actions/<step>.js` with INPUT_*,
// GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, a real event payload (@octokit/webhooks-examples) at GITHUB_EVENT_PATH, and
// GITHUB_API_URL pointing at the local API double that checks every request and response against GitHub's OpenAPI
// description.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullRequestOpened, runnerEnv, runStep } from './helpers/actions.js';
import { GITHUB_ACTORS, GITHUB_DOUBLE, startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { commitAll, editMlYaml, git, makeModelRepo, train } from './helpers/model-repo.js';




describe('the compare action on a pull request', () => {
  let double: GitHubDouble;
  let repo: string;
  let champion: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    double = await startGitHubDouble();
    repo = makeModelRepo({ trees: 10 });
    // The champion: the same model with another seed, as a file.
    editMlYaml(repo, (t) => t.replace(/^( {2}seed:) \d+$/m, '$1 3'));
    const championText = await train(repo);
    champion = join(mkdtempSync(join(tmpdir(), 'bramble-champion-')), 'champion.json');
    writeFileSync(champion, championText);
    git(repo, 'checkout', '-q', '--', 'ml.yaml');
    await train(repo);
    const event = pullRequestOpened();
    double.openPullRequest(event.number);
    const eventPath = join(mkdtempSync(join(tmpdir(), 'bramble-event-')), 'event.json');
    writeFileSync(eventPath, JSON.stringify(event));
    env = runnerEnv(double.url, repo, eventPath, { event: 'pull_request', ref: `refs/pull/${event.number}/merge`, run: '42' }, { GITHUB_ACTOR: 'Codertocat' });
  });
  afterAll(async () => {
    await double.close();
  });

  it('posts one report comment, updates the same one on the next push, and writes its outputs and the summary', async () => {
    const inputs = { dir: '.', champion, token: GITHUB_DOUBLE.botToken, comment: 'true' };
    const first = await runStep('compare', inputs, env, repo);
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs.passed).toBe('true');
    expect(first.summary).toMatch(/^<!-- bramble-report:churn -->\n### ✅ churn: /);
    expect(double.comments).toHaveLength(1);
    // The same report in both places (it is far under both limits).
    expect(double.comments[0].body.trimEnd()).toBe(first.summary.trimEnd());
    expect(first.outputs['comment-url']).toBe(`${GITHUB_DOUBLE.serverUrl}/${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}/pull/2#issuecomment-${double.comments[0].id}`);

    const second = await runStep('compare', inputs, env, repo);
    expect(second.code, second.stdout).toBe(0);
    expect(double.comments).toHaveLength(1);
    const writes = double.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.status}`);
    expect(writes).toEqual(['POST 201', 'PATCH 200']);
    expect(double.problems).toEqual([]);
  });

  it('fails the check when a gate fails, and the comment says which gate and by how much', async () => {
    editMlYaml(repo, (t) => t.replace('roc_auc: { min: 0.80, max_drop: 0.01 }', 'roc_auc: { min: 0.99 }'));
    commitAll(repo, 'an impossible gate');
    const failed = await runStep('compare', { dir: '.', champion, token: GITHUB_DOUBLE.botToken }, env, repo);
    expect(failed.code).toBe(1);
    expect(failed.outputs.passed).toBe('false');
    expect(failed.stdout).toMatch(/^::error::churn: .*roc_auc/m);
    expect(double.comments).toHaveLength(1);
    expect(double.comments[0].body).toMatch(/^### ❌ churn: .*roc_auc is 0\.\d{4} \(min 0\.99\)/m);
    expect(double.problems).toEqual([]);
  });

  it('records a pull request\'s training run, and warns — without failing — when the record cannot be pushed', async () => {
    const runs = (): string => git(repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/bramble/runs').trim();
    expect(runs()).toBe('');
    // A branch push trains without recording: the registry records what a branch releases.
    const pushed = await runStep('train', { dir: '.', token: GITHUB_DOUBLE.botToken }, { ...env, GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main' }, repo);
    expect(pushed.code, pushed.stdout).toBe(0);
    expect(runs()).toBe('');
    const trained = await runStep('train', { dir: '.', token: GITHUB_DOUBLE.botToken }, env, repo);
    expect(trained.code, trained.stdout).toBe(0);
    expect(runs()).toBe('refs/heads/bramble/runs');
    const recorded = git(repo, 'show', 'bramble/runs:' + git(repo, 'ls-tree', '-r', '--name-only', 'bramble/runs').trim().split('\n')[0]);
    expect(JSON.parse(recorded.trim().split('\n').at(-1) as string)).toMatchObject({ format: 'bramble-run', artifact: { sha256: trained.outputs.sha256 } });
    // This repository has no remote to push to: a warning names the run, and the step passes.
    expect(trained.stdout).toMatch(/^::warning title=run record not pushed::run \S+ is recorded on this runner only: /m);
  });

  it('says which permission to add when the API answers 403', async () => {
    double.fail('GET', '/repos/{owner}/{repo}/issues/{issue_number}/comments', 403, 1, { message: 'Resource not accessible by integration' });
    git(repo, 'checkout', '-q', 'HEAD~1');
    const refused = await runStep('compare', { dir: '.', champion, token: GITHUB_DOUBLE.botToken }, env, repo);
    git(repo, 'checkout', '-q', 'main');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^::error::.*403 \(Resource not accessible by integration\).*`pull-requests: write`/m);
    expect(double.problems).toEqual([]);
  });
});

describe('the validate action', () => {
  it('annotates an ml.yaml problem on its file, line and column, and fails', async () => {
    const repo = makeModelRepo({ trees: 10 });
    editMlYaml(repo, (t) => t.replace(/trees: \d+/, 'trees: lots'));
    const run = await runStep('validate', { dir: '.' }, { GITHUB_ACTIONS: 'true', GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'o/r' }, repo);
    expect(run.code).toBe(1);
    const line = readFileSync(join(repo, 'ml.yaml'), 'utf8').split('\n').findIndex((l) => l.includes('trees: lots')) + 1;
    expect(run.stdout.split('\n')).toContain(`::error title=ml.yaml,file=ml.yaml,line=${line},col=20::model.params.trees: must be an integer from 1 to 100000 (got "lots")`);
  });
});

describe('bad input to the actions', () => {
  let double: GitHubDouble;
  let repo: string;
  let base: Record<string, string>;
  let serveJson: string;
  beforeAll(async () => {
    double = await startGitHubDouble();
    repo = makeModelRepo({ trees: 10 });
    await train(repo);
    serveJson = join(mkdtempSync(join(tmpdir(), 'bramble-host-')), 'serve.json');
    writeFileSync(serveJson, JSON.stringify({ listen: { port: 1 }, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } } }));
    base = {
      GITHUB_ACTIONS: 'true',
      GITHUB_API_URL: double.url,
      GITHUB_SERVER_URL: GITHUB_DOUBLE.serverUrl,
      GITHUB_REPOSITORY: `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`,
      GITHUB_SHA: git(repo, 'rev-parse', 'HEAD').trim(),
      GITHUB_RUN_ID: '7',
    };
  });
  afterAll(async () => {
    await double.close();
  });

  const pushEnv = (extra: Record<string, string> = {}) => {
    const eventPath = join(mkdtempSync(join(tmpdir(), 'bramble-event-')), 'event.json');
    writeFileSync(eventPath, readFileSync(join(import.meta.dirname, 'fixtures/github-events/push.tag.json')));
    return { ...base, GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: eventPath, GITHUB_REF: 'refs/tags/churn#prod#1', ...extra };
  };

  it('refuses an environment ml.yaml does not declare, naming the known ones, and records no Deployment', async () => {
    const run = await runStep('deploy', { dir: '.', version: 'v1.0.0', environment: 'qa', config: serveJson, token: GITHUB_DOUBLE.botToken }, pushEnv(), repo);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')).toContain('::error::the environment "qa" is not in ml.yaml (known: dev, staging, prod)');
    expect(double.deployments).toEqual([]);
    expect(double.problems).toEqual([]);
  });

  it('refuses a tag that is not an assignment in GTO grammar', async () => {
    const run = await runStep('deploy', { dir: '.', tag: 'release-3', config: serveJson, token: GITHUB_DOUBLE.botToken }, pushEnv({ GITHUB_REF: 'refs/tags/release-3' }), repo);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')).toContain("::error::the tag release-3 is not an assignment tag in GTO's grammar (name#env#N, e.g. churn#prod#4); there is nothing to deploy for it");
    expect(double.deployments).toEqual([]);
  });

  it("keeps a fork's report in the job summary (its token is read-only) and still decides the check", async () => {
    const eventPath = join(mkdtempSync(join(tmpdir(), 'bramble-event-')), 'event.json');
    const fork = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/github-events/pull_request.fork.json'), 'utf8')) as { number: number };
    writeFileSync(eventPath, JSON.stringify(fork));
    double.openPullRequest(fork.number);
    const run = await runStep(
      'compare',
      { dir: '.', token: GITHUB_DOUBLE.botToken, comment: 'true' },
      { ...base, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventPath, GITHUB_REF: `refs/pull/${fork.number}/merge` },
      repo,
    );
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toContain('this pull request comes from a fork, whose token is read-only: the report is in the job summary, not in a comment');
    expect(run.summary).toMatch(/^<!-- bramble-report:churn -->\n### ✅ churn: /);
    expect(double.calls.filter((c) => c.method !== 'GET')).toEqual([]);
    expect(double.comments).toEqual([]);
  });
});

/** Who commits the tags a release job writes. */
const COMMITTER = { GIT_COMMITTER_NAME: 'Ada Lovelace', GIT_COMMITTER_EMAIL: 'ada@example.com' };

describe('promote and deploy record one Deployment', () => {
  it('promote records the tag as a Deployment in progress; deploy of that tag continues it to success', async () => {
    const repo = makeModelRepo({ trees: 10 });
    const double = await startGitHubDouble({
      resolveRef: (name) => {
        try {
          return git(repo, 'rev-parse', '--verify', '--quiet', `refs/tags/${name}^{commit}`).trim();
        } catch {
          return undefined;
        }
      },
    });
    try {
      await (await import('../src/registry/registry.js')).Registry.open({ dir: repo, remote: null, env: {} }).then(async (r) => r.register(await train(repo)));
      const serveJson = join(mkdtempSync(join(tmpdir(), 'bramble-host-')), 'serve.json');
      // A port nothing listens on: the deploy finds no server and puts the model in place for its start.
      const closed = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });
      writeFileSync(serveJson, JSON.stringify({ listen: { port: closed }, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } } }));
      const eventPath = join(mkdtempSync(join(tmpdir(), 'bramble-event-')), 'event.json');
      writeFileSync(eventPath, readFileSync(join(import.meta.dirname, 'fixtures/github-events/workflow_dispatch.json')));
      const env = runnerEnv(double.url, repo, eventPath, { event: 'workflow_dispatch', ref: 'refs/heads/main', run: '9' }, COMMITTER);
      // prod has `approval: true` in the template's ml.yaml: the GitHub environment must require a review.
      double.addEnvironment('prod', { reviewers: [GITHUB_ACTORS.octocat] });
      const promoted = await runStep('promote', { dir: '.', environment: 'prod', version: 'v1.0.0', token: GITHUB_DOUBLE.botToken }, env, repo);
      expect(promoted.code, promoted.stdout).toBe(0);
      expect(promoted.outputs.tag).toBe('churn#prod#1');
      expect(double.deployments).toHaveLength(1);
      expect(double.deployments[0]).toMatchObject({ ref: 'churn#prod#1', environment: 'prod', productionEnvironment: true });
      expect(double.deployments[0].statuses.map((s) => s.state)).toEqual(['in_progress']);

      const deployed = await runStep('deploy', { dir: '.', tag: 'churn#prod#1', config: serveJson, url: 'https://churn.example.com/prod', token: GITHUB_DOUBLE.botToken }, env, repo);
      expect(deployed.code, deployed.stdout).toBe(0);
      expect(deployed.outputs).toMatchObject({ version: 'v1.0.0', via: 'files' });
      expect(double.deployments).toHaveLength(1);
      expect(double.deployments[0].statuses.map((s) => s.state)).toEqual(['in_progress', 'in_progress', 'success']);
      expect(double.deployments[0].statuses[2].request).toMatchObject({ state: 'success', environment_url: 'https://churn.example.com/prod' });
      expect(double.problems).toEqual([]);
    } finally {
      await double.close();
    }
  });
});

describe("the release job's promote applies ml.yaml's canary block", () => {
  it('writes a merged weight to the canary tag, takes the canary away when the block goes, and is silent without a canary', async () => {
    const repo = makeModelRepo({ trees: 10 });
    const double = await startGitHubDouble({ resolveRef: (name) => git(repo, 'tag', '--list', name).trim() === name ? git(repo, 'rev-parse', `refs/tags/${name}^{commit}`).trim() : undefined });
    try {
      await (await import('../src/registry/registry.js')).Registry.open({ dir: repo, remote: null, env: {} }).then(async (r) => r.register(await train(repo)));
      const eventPath = join(mkdtempSync(join(tmpdir(), 'bramble-event-')), 'event.json');
      writeFileSync(eventPath, readFileSync(join(import.meta.dirname, 'fixtures/github-events/workflow_dispatch.json')));
      const env = runnerEnv(double.url, repo, eventPath, { event: 'push', ref: 'refs/heads/develop', run: '11' }, COMMITTER);
      const release = () => runStep('promote', { dir: '.', environment: 'dev', version: 'v1.0.0', token: GITHUB_DOUBLE.botToken }, env, repo);
      const tags = () => git(repo, 'tag', '--list', 'churn#dev-canary*').trim().split('\n').filter((t) => t !== '');
      // No canary: the promotion alone, and not a word about canaries.
      const first = await release();
      expect(first.code, first.stdout).toBe(0);
      expect(first.summary).not.toContain('canary');
      expect(tags()).toEqual([]);
      // A canary started at 0.1, then a pull request merged with 0.3: the release job's promote writes 0.3.
      editMlYaml(repo, (t) => t.replace(/dev: +\{ branch: develop \}/, 'dev:     { branch: develop, canary: { weight: 0.1, sticky: id } }'));
      commitAll(repo, 'a canary for dev');
      const { spawnSync } = await import('node:child_process');
      const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
      const started = spawnSync(process.execPath, [cli, 'promote', 'churn@v1.0.0', 'dev', '--role', 'canary', '--no-remote'], { cwd: repo, encoding: 'utf8' });
      expect(started.status, started.stderr).toBe(0);
      editMlYaml(repo, (t) => t.replace('weight: 0.1', 'weight: 0.3'));
      commitAll(repo, 'the canary at 0.3');
      const reweighed = await release();
      expect(reweighed.code, reweighed.stdout).toBe(0);
      expect(reweighed.summary).toMatch(/The canary churn@v1\.0\.0 runs at ml\.yaml's weight now \(churn#dev-canary#\d+\)/);
      const newest = tags().sort((a, b) => Number(a.split('#')[2]) - Number(b.split('#')[2])).at(-1) as string;
      expect(git(repo, 'tag', '-l', '--format=%(contents)', newest)).toContain('Bramble-Weight: 0.3');
      // The block removed and merged: the canary is taken away.
      editMlYaml(repo, (t) => t.replace(/dev: +\{ branch: develop, canary: \{ weight: 0\.3, sticky: id \} \}/, 'dev:     { branch: develop }'));
      commitAll(repo, 'no canary');
      const removed = await release();
      expect(removed.code, removed.stdout).toBe(0);
      expect(removed.summary).toMatch(/The canary was taken away \(churn#dev-canary!#\d+\)/);
      expect(double.problems).toEqual([]);
    } finally {
      await double.close();
    }
  }, 120_000);
});
