// The GitHub adapter against the local GitHub API double (test/helpers/github-double.ts), through the real octokit
// of @actions/github with GITHUB_API_URL pointed at it. The double checks every request and response against
// GitHub's OpenAPI description; each test ends by asserting it found nothing wrong.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fitSummary, GITHUB_LIMITS, githubPlatform, type GitHubPlatformOptions } from '../src/platform/github.js';
import { resetAnnotationBudget } from '../src/platform/local.js';
import type { Annotation } from '../src/platform/types.js';
import { GITHUB_ACTORS, GITHUB_DOUBLE, startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';

const EVENTS = fileURLToPath(new URL('./fixtures/github-events/', import.meta.url));
const REPO = `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`;
const RUN_URL = `https://github.com/${REPO}/actions/runs/7712345678`;
const COMMENTS = '/repos/{owner}/{repo}/issues/{issue_number}/comments';
const MARKER = '<!-- bramble:report churn -->';
const SHA = '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c';

let double: GitHubDouble;
let dir: string;
let stdout: string[];

beforeEach(async () => {
  double = await startGitHubDouble();
  double.openPullRequest(2);
  double.openPullRequest(3);
  dir = mkdtempSync(join(tmpdir(), 'bramble-gh-'));
  resetAnnotationBudget();
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  expect(double.problems).toEqual([]);
  await double.close();
});

/** The runner's environment for an event, with a payload from test/fixtures/github-events/. */
function runnerEnv(event: string, payload?: string | object, extra: Record<string, string> = {}): Record<string, string> {
  let path: string | undefined;
  if (typeof payload === 'string') path = join(EVENTS, payload);
  else if (payload) {
    path = join(dir, 'event.json');
    writeFileSync(path, JSON.stringify(payload));
  }
  return {
    GITHUB_EVENT_NAME: event,
    ...(path ? { GITHUB_EVENT_PATH: path } : {}),
    GITHUB_REPOSITORY: REPO,
    GITHUB_SHA: SHA,
    GITHUB_ACTOR: 'Codertocat',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '7712345678',
    GITHUB_API_URL: double.url,
    GITHUB_TOKEN: GITHUB_DOUBLE.botToken,
    ...extra,
  };
}

const prEnv = (extra: Record<string, string> = {}) => runnerEnv('pull_request', 'pull_request.opened.json', { GITHUB_REF: 'refs/pull/2/merge', ...extra });
const forkEnv = () => runnerEnv('pull_request', 'pull_request.fork.json', { GITHUB_REF: 'refs/pull/3/merge' });
const pushEnv = () => runnerEnv('push', 'push.develop.json', { GITHUB_REF: 'refs/heads/develop' });
const platform = (env: Record<string, string>, options: GitHubPlatformOptions = {}) => githubPlatform(env, { backoff: () => 0, ...options });
const calls = () => double.calls.map((c) => `${c.method} ${c.path} ${c.status}`);
const lines = () => stdout.join('').split('\n').filter(Boolean);

function payload(file: string): { pull_request: { head: { repo: Record<string, unknown> | null } } } {
  return JSON.parse(readFileSync(join(EVENTS, file), 'utf8'));
}

describe('context()', () => {
  it.each([
    ['a pull request', 'pull_request', 'pull_request.opened.json', 'refs/pull/2/merge', { kind: 'pull_request', ref: 'more-data', pullRequest: { number: 2, base: 'main', head: 'more-data', fork: false } }],
    ['a fork pull request', 'pull_request', 'pull_request.fork.json', 'refs/pull/3/merge', { kind: 'pull_request', ref: 'main', pullRequest: { number: 3, base: 'main', head: 'main', fork: true } }],
    ['pull_request_target', 'pull_request_target', 'pull_request.fork.json', 'refs/heads/main', { kind: 'pull_request', pullRequest: { number: 3, base: 'main', head: 'main', fork: true } }],
    ['a push to a branch', 'push', 'push.develop.json', 'refs/heads/develop', { kind: 'push', ref: 'develop', pullRequest: null }],
    ['a pushed tag', 'push', 'push.tag.json', 'refs/tags/churn#prod#3', { kind: 'tag', ref: 'churn#prod#3', pullRequest: null }],
    ['workflow_dispatch', 'workflow_dispatch', 'workflow_dispatch.json', 'refs/heads/main', { kind: 'dispatch', ref: 'main' }],
    ['schedule', 'schedule', 'schedule.json', 'refs/heads/main', { kind: 'schedule', ref: 'main' }],
  ])('%s', (_, event, file, ref, expected) => {
    const context = platform(runnerEnv(event, file, { GITHUB_REF: ref })).context();
    expect(context).toMatchObject({ ...expected, repository: REPO, sha: SHA, actor: 'Codertocat', runUrl: RUN_URL });
  });

  it('calls a pull request whose head repository was deleted a fork', () => {
    const event = payload('pull_request.fork.json');
    event.pull_request.head.repo = null;
    expect(platform(runnerEnv('pull_request', event)).context().pullRequest).toMatchObject({ number: 3, fork: true });
  });

  it('does not call a branch inside a repository that is itself a fork a fork (head.repo.fork is true there)', () => {
    const event = payload('pull_request.opened.json');
    event.pull_request.head.repo = { ...event.pull_request.head.repo, fork: true };
    expect(platform(runnerEnv('pull_request', event)).context().pullRequest).toMatchObject({ number: 2, fork: false });
  });

  it.each([
    ['an event Bramble does not run on', () => runnerEnv('release', { action: 'published' }), 'Bramble does not run on the `release` event; trigger it with pull_request, push, workflow_dispatch or schedule'],
    ['no GITHUB_EVENT_NAME', () => ({}), 'GITHUB_EVENT_NAME is not set: the GitHub adapter runs inside GitHub Actions; use the terminal adapter elsewhere'],
    ['a pull request payload without the pull request', () => runnerEnv('pull_request', { action: 'opened' }), 'has no pull_request with a number, base.ref and head.ref'],
  ])('refuses %s', (_, makeEnv, message) => {
    const env = makeEnv();
    expect(() => platform(env).context()).toThrow(message);
    expect(() => platform(env).context()).toThrow(expect.objectContaining({ code: 'E_GITHUB_EVENT' }));
  });
});

describe('upsertComment()', () => {
  it('creates the comment once, then updates the same comment', async () => {
    const github = platform(prEnv());
    const first = await github.upsertComment(MARKER, `${MARKER}\n## Verdict: better`);
    const second = await github.upsertComment(MARKER, `${MARKER}\n## Verdict: worse`);
    const id = double.comments[0].id;
    expect(first).toEqual({ url: `https://github.com/${REPO}/pull/2#issuecomment-${id}`, created: true });
    expect(second).toEqual({ url: first?.url, created: false });
    expect(double.comments).toMatchObject([{ issue: 2, body: `${MARKER}\n## Verdict: worse`, author: GITHUB_ACTORS.bot }]);
    expect(double.calls.map((c) => c.body)).toEqual([undefined, { body: `${MARKER}\n## Verdict: better` }, undefined, { body: `${MARKER}\n## Verdict: worse` }]);
    expect(calls()).toEqual([
      `GET /repos/${REPO}/issues/2/comments?per_page=100 200`,
      `POST /repos/${REPO}/issues/2/comments 201`,
      `GET /repos/${REPO}/issues/2/comments?per_page=100 200`,
      `PATCH /repos/${REPO}/issues/comments/${id} 200`,
    ]);
  });

  it('finds its marker on page 3 of 250 comments', async () => {
    const seeded = double.seedComments(2, Array.from({ length: 250 }, (_, i) => (i === 230 ? `${MARKER}\nold report` : `comment ${i}`)), GITHUB_ACTORS.codertocat);
    seeded[230].author = GITHUB_ACTORS.bot;
    const result = await platform(prEnv()).upsertComment(MARKER, `${MARKER}\nnew report`);
    expect(result?.created).toBe(false);
    expect(calls()).toEqual([
      `GET /repos/${REPO}/issues/2/comments?per_page=100 200`,
      `GET /repos/${REPO}/issues/2/comments?per_page=100&page=2 200`,
      `GET /repos/${REPO}/issues/2/comments?per_page=100&page=3 200`,
      `PATCH /repos/${REPO}/issues/comments/${seeded[230].id} 200`,
    ]);
    expect(double.comments).toHaveLength(250);
    expect(seeded[230].body).toBe(`${MARKER}\nnew report`);
  });

  it('prefers its own comment when someone else quoted the marker later (installation token: a bot)', async () => {
    const [ours] = double.seedComments(2, [`${MARKER}\nreport`]);
    double.seedComments(2, [`> ${MARKER}\n> report\n\nwhy is this worse?`], GITHUB_ACTORS.codertocat);
    await platform(prEnv()).upsertComment(MARKER, `${MARKER}\nreport 2`);
    expect(calls()).toEqual([
      `GET /repos/${REPO}/issues/2/comments?per_page=100 200`,
      'GET /user 403',
      `PATCH /repos/${REPO}/issues/comments/${ours.id} 200`,
    ]);
  });

  it("prefers the token user's comment (personal token), even over a newer bot's", async () => {
    const [ours] = double.seedComments(2, [`${MARKER}\nreport`], GITHUB_ACTORS.octocat);
    double.seedComments(2, [`${MARKER}\nreport`]);
    await platform(prEnv({ GITHUB_TOKEN: GITHUB_DOUBLE.userToken })).upsertComment(MARKER, `${MARKER}\nreport 2`);
    expect(calls().slice(1)).toEqual(['GET /user 200', `PATCH /repos/${REPO}/issues/comments/${ours.id} 200`]);
  });

  it('updates the newest when several comments of its own carry the marker', async () => {
    const seeded = double.seedComments(2, [`${MARKER}\na`, `${MARKER}\nb`]);
    await platform(prEnv()).upsertComment(MARKER, `${MARKER}\nc`);
    expect(calls().at(-1)).toBe(`PATCH /repos/${REPO}/issues/comments/${seeded[1].id} 200`);
  });

  it('puts the marker in when the body lacks it, so that the next run finds the comment', async () => {
    await platform(prEnv()).upsertComment(MARKER, 'report');
    expect(double.comments[0].body).toBe(`${MARKER}\nreport`);
  });

  it('returns null without a pull request, and calls nothing', async () => {
    expect(await platform(pushEnv()).upsertComment(MARKER, 'report')).toBeNull();
    expect(double.calls).toEqual([]);
  });

  it('posts a body of exactly 65,536 characters, counting an emoji as one', async () => {
    const body = `${MARKER}\n${'📈'.repeat(GITHUB_LIMITS.commentChars - MARKER.length - 1)}`;
    expect(body.length).toBeGreaterThan(GITHUB_LIMITS.commentChars);
    await platform(prEnv()).upsertComment(MARKER, body);
    expect(double.comments[0].body).toBe(body);
  });

  it('refuses a body over 65,536 characters before calling GitHub', async () => {
    const body = `${MARKER}\n${'x'.repeat(GITHUB_LIMITS.commentChars)}`;
    await expect(platform(prEnv()).upsertComment(MARKER, body)).rejects.toMatchObject({
      code: 'E_COMMENT_TOO_LONG',
      data: { length: 65_566, limit: 65_536 },
      message: "the comment is 65,566 characters, over GitHub's limit of 65,536; trim the report before posting it",
    });
    expect(double.calls).toEqual([]);
  });
});

describe('failures', () => {
  it('names the permission to add when GitHub answers 403', async () => {
    double.fail('POST', COMMENTS, 403);
    await expect(platform(prEnv()).upsertComment(MARKER, 'report')).rejects.toMatchObject({
      code: 'E_GITHUB_PERMISSION',
      data: { fork: false, status: 403, permission: 'pull-requests: write' },
      message: `GitHub answered 403 (Resource not accessible by integration) to POST /repos/${REPO}/issues/2/comments: the token lacks \`pull-requests: write\` (or \`issues: write\`); add \`permissions: { contents: read, pull-requests: write }\` to the job`,
    });
    expect(calls()).toEqual([`GET /repos/${REPO}/issues/2/comments?per_page=100 200`, `POST /repos/${REPO}/issues/2/comments 403`]);
  });

  it('says a fork pull request has a read-only token', async () => {
    double.fail('POST', COMMENTS, 403);
    const error = await platform(forkEnv()).upsertComment(MARKER, 'report').catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: 'E_GITHUB_PERMISSION',
      data: { fork: true, status: 403, permission: 'pull-requests: write' },
      message: `GitHub answered 403 (Resource not accessible by integration) to POST /repos/${REPO}/issues/3/comments: pull request #3 comes from a fork, and GitHub gives workflows on fork pull requests a read-only token whatever the job's \`permissions:\` say, so this run cannot comment on the pull request`,
    });
  });

  it('names deployments: write for a 403 on deployments', async () => {
    double.addRef('develop', SHA);
    double.fail('POST', '/repos/{owner}/{repo}/deployments', 403);
    await expect(platform(pushEnv()).startDeployment({ environment: 'dev', ref: 'develop', description: 'churn@v1.0.0' })).rejects.toMatchObject({
      code: 'E_GITHUB_PERMISSION',
      message: `GitHub answered 403 (Resource not accessible by integration) to POST /repos/${REPO}/deployments: the token lacks \`deployments: write\`; add \`permissions: { contents: read, deployments: write }\` to the job`,
    });
  });

  it('tells a rate limit from a missing permission', async () => {
    double.fail('GET', COMMENTS, 403, 1, {
      message: 'API rate limit exceeded for installation ID 1234.',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1767607200' },
    });
    await expect(platform(prEnv()).upsertComment(MARKER, 'report')).rejects.toThrow(
      `GitHub's rate limit refused GET /repos/${REPO}/issues/2/comments (403 API rate limit exceeded for installation ID 1234.) until 2026-01-05T10:00:00.000Z; re-run the job later`,
    );
  });

  it.each([500, 502, 503])('retries a %i on a create, listing again first so that a landed POST is not posted twice', async (status) => {
    double.fail('POST', COMMENTS, status, 2);
    const result = await platform(prEnv()).upsertComment(MARKER, 'report');
    expect(result?.created).toBe(true);
    expect(double.comments).toHaveLength(1);
    const list = `GET /repos/${REPO}/issues/2/comments?per_page=100 200`;
    const post = `POST /repos/${REPO}/issues/2/comments`;
    expect(calls()).toEqual([list, `${post} ${status}`, list, `${post} ${status}`, list, `${post} 201`]);
  });

  it('retries a 5xx on a read or an update in place', async () => {
    const [ours] = double.seedComments(2, [`${MARKER}\nreport`]);
    double.fail('GET', COMMENTS, 503, 2);
    double.fail('PATCH', '/repos/{owner}/{repo}/issues/comments/{comment_id}', 502, 1);
    await platform(prEnv()).upsertComment(MARKER, 'report 2');
    const list = `GET /repos/${REPO}/issues/2/comments?per_page=100`;
    const patch = `PATCH /repos/${REPO}/issues/comments/${ours.id}`;
    expect(calls()).toEqual([`${list} 503`, `${list} 503`, `${list} 200`, `${patch} 502`, `${patch} 200`]);
  });

  it('gives up after the retries with the endpoint and the status', async () => {
    double.addRef('develop', SHA);
    double.fail('POST', '/repos/{owner}/{repo}/deployments', 503, 100);
    const error = await platform(pushEnv(), { retries: 2 }).startDeployment({ environment: 'dev', ref: 'develop', description: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'E_GITHUB_API',
      data: { endpoint: `POST /repos/${REPO}/deployments`, status: 503, attempts: 3 },
      message: `GitHub's API answered 503 (Service Unavailable) to POST /repos/${REPO}/deployments, 3 times; GitHub may be having trouble (https://www.githubstatus.com): re-run the job later`,
    });
    expect(calls()).toEqual(Array(3).fill(`POST /repos/${REPO}/deployments 503`));
  });

  it('gives up on a create after the default 3 retries', async () => {
    double.fail('POST', COMMENTS, 500, 100);
    await expect(platform(prEnv()).upsertComment(MARKER, 'report')).rejects.toMatchObject({
      message: `GitHub's API answered 500 (Internal Server Error) to POST /repos/${REPO}/issues/2/comments, 4 times; GitHub may be having trouble (https://www.githubstatus.com): re-run the job later`,
    });
    expect(double.calls.filter((c) => c.method === 'POST')).toHaveLength(4);
  });

  it('retries a dropped connection, then says GitHub could not be reached', async () => {
    double.fail('GET', COMMENTS, 'reset', 1);
    expect(await platform(prEnv()).upsertComment(MARKER, 'report')).toMatchObject({ created: true });
    double.fail('GET', COMMENTS, 'reset', 100);
    const error = await platform(prEnv(), { retries: 1 }).upsertComment(MARKER, 'report').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_GITHUB_API', data: { attempts: 2 } });
    expect(String(error)).toContain(`could not reach GitHub's API at ${double.url} for GET /repos/${REPO}/issues/2/comments (`);
    expect(String(error)).toContain('tried 2 times; check GITHUB_API_URL and the network');
  });

  it('says which pull request was not found', async () => {
    const env = runnerEnv('pull_request', 'pull_request.opened.json');
    const event = JSON.parse(readFileSync(join(EVENTS, 'pull_request.opened.json'), 'utf8'));
    event.pull_request.number = 99;
    await expect(platform({ ...env, ...runnerEnv('pull_request', event) }).upsertComment(MARKER, 'report')).rejects.toThrow(
      `GitHub answered 404 to GET /repos/${REPO}/issues/99/comments: pull request #99 was not found in ${REPO}; check that it exists and that the token can see the repository`,
    );
    expect(calls()).toEqual([`GET /repos/${REPO}/issues/99/comments?per_page=100 404`]);
  });

  it('says when the token is rejected, or missing', async () => {
    await expect(platform(prEnv({ GITHUB_TOKEN: 'ghs_revoked' })).upsertComment(MARKER, 'report')).rejects.toMatchObject({
      code: 'E_GITHUB_AUTH',
      message: `GitHub rejected the token for GET /repos/${REPO}/issues/2/comments (401 Bad credentials); pass a valid token in the \`github-token\` input or GITHUB_TOKEN`,
    });
    await expect(platform(prEnv({ GITHUB_TOKEN: '' })).upsertComment(MARKER, 'report')).rejects.toMatchObject({ code: 'E_GITHUB_AUTH' });
  });

  it('takes the token from the github-token input first', async () => {
    await platform(prEnv({ GITHUB_TOKEN: 'ghs_revoked', 'INPUT_GITHUB-TOKEN': GITHUB_DOUBLE.userToken })).upsertComment(MARKER, 'report');
    expect(double.comments[0].author).toEqual(GITHUB_ACTORS.octocat);
  });
});

describe('startDeployment()', () => {
  it('creates a deployment, marks it in_progress, then success with the environment URL and the run', async () => {
    double.addRef('churn#prod#3', SHA);
    const github = platform(runnerEnv('push', 'push.tag.json', { GITHUB_REF: 'refs/tags/churn#prod#3' }));
    const handle = await github.startDeployment({ environment: 'prod', ref: 'churn#prod#3', description: 'churn@v1.2.0 to prod' });
    await handle.finish('success', 'churn@v1.2.0 serves prod', 'http://pi.local:8080/prod');
    const [deployment] = double.deployments;
    expect(handle.id).toBe(deployment.id);
    expect(deployment.request).toEqual({
      ref: 'churn#prod#3',
      environment: 'prod',
      description: 'churn@v1.2.0 to prod',
      auto_merge: false,
      required_contexts: [],
      transient_environment: false,
      production_environment: true,
    });
    expect(deployment.statuses.map((s) => s.request)).toEqual([
      { state: 'in_progress', description: 'churn@v1.2.0 to prod', log_url: RUN_URL },
      { state: 'success', description: 'churn@v1.2.0 serves prod', environment_url: 'http://pi.local:8080/prod', log_url: RUN_URL },
    ]);
    expect(calls()).toEqual([
      `POST /repos/${REPO}/deployments 201`,
      `POST /repos/${REPO}/deployments/${deployment.id}/statuses 201`,
      `POST /repos/${REPO}/deployments/${deployment.id}/statuses 201`,
    ]);
  });

  it('records a failure, keeps the environment URL of the request, and clips a long description to 140 characters', async () => {
    double.addRef('develop', SHA);
    const handle = await platform(pushEnv()).startDeployment({ environment: 'dev', ref: 'develop', description: 'v1', url: 'http://pi.local:8080/dev' });
    await handle.finish('failure', `self-test failed: ${'x'.repeat(200)}`);
    const [deployment] = double.deployments;
    expect(deployment.productionEnvironment).toBe(false);
    const failure = deployment.statuses[1].request;
    expect(failure).toMatchObject({ state: 'failure', environment_url: 'http://pi.local:8080/dev' });
    expect([...String(failure.description)]).toHaveLength(140);
    expect(String(failure.description).endsWith('…')).toBe(true);
  });

  it('explains a ref GitHub does not know', async () => {
    await expect(platform(pushEnv()).startDeployment({ environment: 'dev', ref: 'nope', description: 'v1' })).rejects.toThrow(
      `GitHub refused POST /repos/${REPO}/deployments with 422 (No ref found for: nope)`,
    );
  });
});

describe('annotate()', () => {
  const problem = (i: number): Annotation => ({ level: 'error', message: `rule ${i} failed`, file: 'ml.yaml', line: i, col: 5 });

  it('shows 10 errors, then says how many more, and logs them all', () => {
    const github = platform(prEnv());
    github.annotate([
      ...Array.from({ length: 12 }, (_, i) => problem(i + 1)),
      { level: 'warning', message: 'column tenure drifted', file: 'data/churn.csv', line: 1 },
    ]);
    expect(lines()).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `::error file=ml.yaml,line=${i + 1},col=5::rule ${i + 1} failed`),
      '::warning file=data/churn.csv,line=1::column tenure drifted',
      '::notice::2 more errors not shown as annotations (GitHub shows 10 per step); see the log',
      'ml.yaml:11:5: error: rule 11 failed',
      'ml.yaml:12:5: error: rule 12 failed',
    ]);
  });

  it('counts over the whole step, not per call', () => {
    const github = platform(prEnv());
    github.annotate(Array.from({ length: 10 }, (_, i) => problem(i + 1)));
    stdout.length = 0;
    github.annotate([problem(11)]);
    expect(lines()).toEqual([
      '::notice::1 more error not shown as annotations (GitHub shows 10 per step); see the log',
      'ml.yaml:11:5: error: rule 11 failed',
    ]);
  });

  it('escapes workflow commands: % CR LF in the message, and , : in properties too', () => {
    platform(prEnv()).annotate([
      { level: 'notice', message: '50% of rows\r\nfailed: a,b', file: 'data/a,b:c.csv', line: 3, col: 7, title: 'Rule: range, min 0%' },
    ]);
    expect(lines()).toEqual(['::notice title=Rule%3A range%2C min 0%25,file=data/a%2Cb%3Ac.csv,line=3,col=7::50%25 of rows%0D%0Afailed: a,b']);
  });

  it('writes an annotation without a place as a bare command', () => {
    platform(prEnv()).annotate([{ level: 'warning', message: 'no champion in prod yet' }]);
    expect(lines()).toEqual(['::warning::no champion in prod yet']);
  });
});

describe('summary(), setOutput(), info()', () => {
  it('appends Markdown to the step summary file', async () => {
    const file = join(dir, 'summary.md');
    const github = platform({ ...prEnv(), GITHUB_STEP_SUMMARY: file });
    await github.summary('## Verdict: better');
    await github.summary('| metric | value |\n|---|---|\n| auc | 0.84 |\n');
    expect(readFileSync(file, 'utf8')).toBe('## Verdict: better\n| metric | value |\n|---|---|\n| auc | 0.84 |\n');
  });

  it('trims a summary to what is left of 1 MiB, closing an open code fence and saying so', async () => {
    const file = join(dir, 'summary.md');
    writeFileSync(file, 'x'.repeat(1000) + '\n');
    const big = `## Report\n\`\`\`mermaid\n${'a --> b\n'.repeat(200_000)}\`\`\`\n`;
    await platform({ ...prEnv(), GITHUB_STEP_SUMMARY: file }).summary(big);
    const tail = readFileSync(file, 'utf8').slice(-300);
    expect(statSync(file).size).toBeLessThanOrEqual(GITHUB_LIMITS.summaryBytes);
    expect(statSync(file).size).toBeGreaterThan(GITHUB_LIMITS.summaryBytes - 200);
    expect(tail).toMatch(/a --> b\n```\n\n> \[!WARNING\]\n> This summary was trimmed: the last 552,604 of 1,600,025 bytes are not shown \(GitHub keeps at most 1 MiB of summary per step\)\.\n$/);
  });

  it('leaves a full summary alone with a warning', async () => {
    const file = join(dir, 'summary.md');
    writeFileSync(file, 'x'.repeat(GITHUB_LIMITS.summaryBytes - 100));
    await platform({ ...prEnv(), GITHUB_STEP_SUMMARY: file }).summary('## more\n'.repeat(20));
    expect(statSync(file).size).toBe(GITHUB_LIMITS.summaryBytes - 100);
    expect(lines()).toEqual(['::warning::the step summary is full (GitHub keeps at most 1 MiB per step); 160 bytes of summary were left out']);
  });

  it('fitSummary keeps what fits and is a no-op under the budget', () => {
    expect(fitSummary('short\n', 100)).toBe('short\n');
    expect(fitSummary('a\n'.repeat(1000), 10)).toBe('');
  });

  it('writes outputs to GITHUB_OUTPUT and info to the log', () => {
    const output = join(dir, 'output');
    writeFileSync(output, '');
    vi.stubEnv('GITHUB_OUTPUT', output);
    const github = platform(prEnv());
    github.setOutput('verdict', 'better');
    github.info('trained 200 trees');
    expect(readFileSync(output, 'utf8')).toMatch(/^verdict<<ghadelimiter_[\w-]+\nbetter\nghadelimiter_[\w-]+\n$/);
    expect(lines()).toEqual(['trained 200 trees']);
  });
});

describe('the GitHub API double', () => {
  // These prove the checker can fail: each request or answer below is wrong, and must be reported.
  const raw = (method: string, path: string, body?: unknown) =>
    fetch(`${double.url}${path}`, {
      method,
      headers: { authorization: `token ${GITHUB_DOUBLE.botToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('reports a comment created without its required body', async () => {
    const res = await raw('POST', `/repos/${REPO}/issues/2/comments`, { text: 'hello' });
    expect(res.status).toBe(422);
    expect(double.problems.splice(0)).toEqual([
      `POST /repos/${REPO}/issues/2/comments (issues/create-comment): request body: (root) must have required property 'body'`,
      `POST /repos/${REPO}/issues/2/comments (issues/create-comment): request body field 'text' is not in the description (GitHub would ignore it)`,
    ]);
    expect(double.comments).toEqual([]);
  });

  it('reports a wrongly typed field, a misspelt one, a bad path parameter and an undeclared query parameter', async () => {
    await raw('POST', `/repos/${REPO}/deployments`, { ref: 'main', required_contexts: 'none', enviroment: 'prod' });
    await raw('GET', `/repos/${REPO}/issues/two/comments?per_page=100&sort=asc`);
    expect(double.problems.splice(0)).toEqual([
      `POST /repos/${REPO}/deployments (repos/create-deployment): request body: /required_contexts must be array`,
      `POST /repos/${REPO}/deployments (repos/create-deployment): request body field 'enviroment' is not in the description (GitHub would ignore it)`,
      `GET /repos/${REPO}/issues/two/comments?per_page=100&sort=asc (issues/list-comments): path parameters: /issue_number must be integer`,
      `GET /repos/${REPO}/issues/two/comments?per_page=100&sort=asc (issues/list-comments): query parameter 'sort' is not declared by issues/list-comments`,
    ]);
  });

  it('reports an endpoint GitHub does not have, and a method a path does not take', async () => {
    expect((await raw('GET', `/repos/${REPO}/issues/2/report`)).status).toBe(404);
    await raw('PUT', `/repos/${REPO}/issues/2/comments`, { body: 'x' });
    expect(double.problems.splice(0)).toEqual([
      `GET /repos/${REPO}/issues/2/report: no such endpoint in GitHub's OpenAPI description`,
      `PUT /repos/${REPO}/issues/2/comments: the path is in GitHub's OpenAPI description, but not with method PUT`,
    ]);
  });

  it('reports an answer that does not match the schema of its status', async () => {
    // A fault made to answer 201 with an error body: not an issue-comment, and the response check says so.
    double.fail('POST', COMMENTS, 201);
    await raw('POST', `/repos/${REPO}/issues/2/comments`, { body: 'x' });
    const [problem, ...rest] = double.problems.splice(0);
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      new RegExp(`^POST /repos/${REPO}/issues/2/comments → 201 \\(issues/create-comment\\): response body: \\(root\\) must have required property 'id'; `),
    );
  });

  it('answers like GitHub: Link pagination, rate-limit headers, a 401 without a token', async () => {
    double.seedComments(2, Array.from({ length: 5 }, (_, i) => `c${i}`));
    const page = await raw('GET', `/repos/${REPO}/issues/2/comments?per_page=2&page=2`);
    expect(page.headers.get('link')).toBe(
      [`prev`, `next`, `last`, `first`]
        .map((rel) => `<${double.url}/repos/${REPO}/issues/2/comments?per_page=2&page=${{ prev: 1, next: 3, last: 3, first: 1 }[rel]}>; rel="${rel}"`)
        .join(', '),
    );
    expect(page.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
    expect(((await page.json()) as { body: string }[]).map((c) => c.body)).toEqual(['c2', 'c3']);
    const anonymous = await fetch(`${double.url}/repos/${REPO}/issues/2/comments`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest/issues/comments#list-issue-comments', status: '401' });
  });
});

describe('checkApproval()', () => {
  const query = { environment: 'prod', tagPrefix: 'churn#prod#' };
  const ENV = `/repos/${REPO}/environments/prod`;
  const LIST = `/repos/${REPO}/rulesets?targets=tag&per_page=100`;

  it('approves an environment with required reviewers, without asking for rulesets', async () => {
    double.addEnvironment('prod', { reviewers: [GITHUB_ACTORS.octocat], waitTimer: 5 });
    await expect(platform(pushEnv()).checkApproval(query)).resolves.toEqual({ approved: true, by: 'the GitHub environment prod requires a review by octocat' });
    expect(calls()).toEqual([`GET ${ENV} 200`]);
  });

  it('approves through an active tag ruleset that restricts creating every churn#prod#N', async () => {
    double.addEnvironment('prod', { waitTimer: 5 });
    double.addRuleset({ name: 'branches', target: 'branch', include: ['~ALL'] });
    const ruleset = double.addRuleset({ name: 'prod tags', include: ['refs/tags/churn#prod#*'] });
    await expect(platform(pushEnv()).checkApproval(query)).resolves.toEqual({
      approved: true,
      by: `the tag ruleset "prod tags" (#${ruleset.id}) lets only its bypass list create refs/tags/churn#prod#*`,
    });
    expect(calls()).toEqual([`GET ${ENV} 200`, `GET ${LIST} 200`, `GET /repos/${REPO}/rulesets/${ruleset.id} 200`]);
  });

  it.each([
    ['evaluate only', { enforcement: 'evaluate' as const, include: ['~ALL'] }],
    ['disabled', { enforcement: 'disabled' as const, include: ['~ALL'] }],
    ['without a creation rule', { rules: ['deletion', 'update'], include: ['~ALL'] }],
    ['over one tag only', { include: ['refs/tags/churn#prod#1'] }],
    ['over counters starting with 1', { include: ['refs/tags/churn#prod#1*'] }],
    ['over another model', { include: ['refs/tags/fraud#prod#*'] }],
    ['excluding prod', { include: ['~ALL'], exclude: ['refs/tags/*#prod#*'] }],
  ])('does not count a tag ruleset %s', async (_, ruleset) => {
    double.addRuleset({ name: 'tags', ...ruleset });
    await expect(platform(pushEnv()).checkApproval(query)).resolves.toEqual({
      approved: false,
      findings: [
        `${REPO} has no GitHub environment prod (or environments are not available to it)`,
        'no active tag ruleset restricts the creation of refs/tags/churn#prod#*',
      ],
    });
  });

  it.each([['~ALL'], ['refs/tags/churn#*'], ['refs/tags/*#prod#*'], ['refs/tags/churn#prod#[0-9]*'], ['refs/tags/**'], ['churn#prod#*']])(
    'counts a tag ruleset over %s',
    async (pattern) => {
      double.addRuleset({ name: 'tags', include: [pattern] });
      await expect(platform(pushEnv()).checkApproval(query)).resolves.toMatchObject({ approved: true });
    },
  );

  it('says an environment without reviewers approves nothing', async () => {
    double.addEnvironment('prod', { waitTimer: 30 });
    await expect(platform(pushEnv()).checkApproval(query)).resolves.toEqual({
      approved: false,
      findings: ['the GitHub environment prod has no required reviewers', 'no active tag ruleset restricts the creation of refs/tags/churn#prod#*'],
    });
  });

  it('names the permission GitHub asks for when it answers 403, and ours when it names none', async () => {
    double.fail('GET', '/repos/{owner}/{repo}/environments/{environment_name}', 403, 1, { headers: { 'x-accepted-github-permissions': 'actions=read' } });
    await expect(platform(pushEnv()).checkApproval(query)).rejects.toMatchObject({
      code: 'E_GITHUB_PERMISSION',
      data: { status: 403, permission: 'actions: read', accepted: 'actions=read' },
      message: `GitHub answered 403 (Resource not accessible by integration) to GET ${ENV}: the token lacks read access to the environment (\`actions: read\`); GitHub names the permission it accepts: actions=read; add \`permissions: { contents: read, actions: read }\` to the job`,
    });
    double.fail('GET', '/repos/{owner}/{repo}/rulesets', 403);
    double.addEnvironment('prod');
    await expect(platform(pushEnv()).checkApproval(query)).rejects.toMatchObject({
      code: 'E_GITHUB_PERMISSION',
      data: { status: 403, permission: 'metadata: read' },
      message: `GitHub answered 403 (Resource not accessible by integration) to GET ${LIST.replace(/\?.*/, '')}: the token lacks read access to the repository's rulesets (the repository permission \`metadata: read\`), so this run cannot read the tag rulesets; give the token (a GitHub App or fine-grained token) that repository permission`,
    });
  });

  it('approves when one check could not look but the other approves', async () => {
    double.fail('GET', '/repos/{owner}/{repo}/environments/{environment_name}', 403);
    double.addRuleset({ name: 'tags', include: ['refs/tags/churn#prod#*'] });
    await expect(platform(pushEnv()).checkApproval(query)).resolves.toMatchObject({ approved: true });
  });

  it("takes a plan that lacks the feature as a finding, not a missing permission", async () => {
    double.fail('GET', '/repos/{owner}/{repo}/rulesets', 403, 1, { message: 'Upgrade to GitHub Pro or make this repository public to enable this feature.' });
    await expect(platform(pushEnv()).checkApproval(query)).resolves.toEqual({
      approved: false,
      findings: [`${REPO} has no GitHub environment prod (or environments are not available to it)`, `rulesets are not available to ${REPO} (GitHub answered 403)`],
    });
  });
});
