// The GitLab adapter against the local GitLab API double (test/helpers/gitlab-double.ts), through plain fetch with
// CI_API_V4_URL pointed at it. The double checks every request and response against the OpenAPI subset of GitLab's
// description in vendor/gitlab/; each test ends by asserting it found nothing wrong. Verified against the double
// only: no GitLab server can be reached here.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dotenvName, GITLAB_FILES, gitlabPlatform, type GitLabPlatformOptions } from '../src/platform/gitlab.js';
import { GITLAB_DOUBLE, GITLAB_USERS, gitlabJobVariables, startGitLabDouble, type GitLabDouble } from './helpers/gitlab-double.js';

const MARKER = '<!-- bramble:report churn -->';
const SHA = '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c';
const PROJECT = String(GITLAB_DOUBLE.projectId);

let double: GitLabDouble;
let dir: string;
let log: string[];

beforeEach(async () => {
  double = await startGitLabDouble();
  double.openMergeRequest(7);
  dir = mkdtempSync(join(tmpdir(), 'bramble-gl-'));
  log = [];
});

afterEach(async () => {
  expect(double.problems).toEqual([]);
  await double.close();
});

/** A GitLab job's predefined variables for a pipeline source, with the project access token. */
function jobEnv(source: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...gitlabJobVariables(double.apiUrl, dir, SHA),
    CI_PIPELINE_SOURCE: source,
    ...extra,
  };
}

const mrEnv = (extra: Record<string, string> = {}) =>
  jobEnv('merge_request_event', {
    CI_MERGE_REQUEST_IID: '7',
    CI_MERGE_REQUEST_PROJECT_ID: PROJECT,
    CI_MERGE_REQUEST_SOURCE_PROJECT_ID: PROJECT,
    CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'more-data',
    CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'develop',
    ...extra,
  });
const platform = (env: Record<string, string>, options: GitLabPlatformOptions = {}) =>
  gitlabPlatform(env, { backoff: () => 0, write: (t) => void log.push(t), ...options });
const calls = () => double.calls.map((c) => `${c.method} ${c.path.replace(`/api/v4/projects/${PROJECT}`, '')} ${c.status}`);
const ours = () => double.notes.filter((n) => !n.system && n.body.includes(MARKER));

describe('context()', () => {
  it.each([
    ['a merge request', () => mrEnv(), { kind: 'pull_request', ref: 'more-data', pullRequest: { number: 7, base: 'develop', head: 'more-data', fork: false } }],
    ['a fork merge request', () => mrEnv({ CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '99' }), { kind: 'pull_request', pullRequest: { number: 7, fork: true } }],
    ['a branch push', () => jobEnv('push', { CI_COMMIT_BRANCH: 'develop' }), { kind: 'push', ref: 'develop', pullRequest: null }],
    ['a tag push', () => jobEnv('push', { CI_COMMIT_TAG: 'churn#prod#3' }), { kind: 'tag', ref: 'churn#prod#3' }],
    ['a schedule', () => jobEnv('schedule', { CI_COMMIT_BRANCH: 'main' }), { kind: 'schedule', ref: 'main' }],
    ['a run from the web', () => jobEnv('web', { CI_COMMIT_BRANCH: 'main' }), { kind: 'dispatch', ref: 'main' }],
  ])('%s', (_, env, expected) => {
    expect(platform(env()).context()).toMatchObject({ ...expected, projectId: PROJECT, sha: SHA, repository: GITLAB_DOUBLE.projectPath });
  });

  it.each([
    ['outside GitLab CI', { CI_PIPELINE_SOURCE: '' }, 'the GitLab adapter runs inside a GitLab CI job'],
    ['an unknown pipeline source', { CI_PIPELINE_SOURCE: 'chat' }, 'CI_PIPELINE_SOURCE is `chat`'],
    ['a merge request without an iid', { CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: 'x' }, 'CI_MERGE_REQUEST_IID is "x"'],
  ])('refuses %s', (_, extra, message) => {
    expect(() => platform(jobEnv('push', extra)).context()).toThrow(message);
  });
});

describe('upsertComment(): the sticky merge-request note', () => {
  it('creates one note when the merge request is opened, and updates that same note when it is updated', async () => {
    double.seedNotes(7, ['looks good'], { author: GITLAB_USERS.alice });
    const first = await platform(mrEnv()).upsertComment(MARKER, 'report one');
    expect(first).toEqual({ created: true, url: expect.stringMatching(/\/-\/merge_requests\/7#note_\d+$/) });
    const second = await platform(mrEnv()).upsertComment(MARKER, 'report two');
    expect(second).toEqual({ created: false, url: first?.url });
    expect(ours()).toHaveLength(1);
    expect(ours()[0].body).toBe(`${MARKER}\nreport two`);
    expect(double.calls.every((c) => c.token === GITLAB_DOUBLE.apiToken)).toBe(true);
  });

  it('finds its note through every page (x-next-page), skipping system notes that quote the marker', async () => {
    double.seedNotes(7, [`${MARKER}\nold report`], { author: GITLAB_USERS.bot });
    double.seedNotes(7, Array.from({ length: 230 }, (_, i) => `comment ${i}`));
    double.seedNotes(7, [`changed the description: ${MARKER}`], { system: true });
    const result = await platform(mrEnv()).upsertComment(MARKER, 'new report');
    expect(result?.created).toBe(false);
    expect(ours()).toHaveLength(1);
    expect(calls().filter((c) => c.startsWith('GET'))).toEqual([
      'GET /merge_requests/7/notes?sort=asc&per_page=100&page=1 200',
      'GET /merge_requests/7/notes?sort=asc&per_page=100&page=2 200',
      'GET /merge_requests/7/notes?sort=asc&per_page=100&page=3 200',
    ]);
    expect(double.notes.find((n) => n.system)?.body).toBe(`changed the description: ${MARKER}`);
  });

  it("answers 20 notes a page by default and at most 100, as GitLab does", async () => {
    double.seedNotes(7, Array.from({ length: 130 }, (_, i) => `comment ${i}`));
    const page = async (query: string) => {
      const res = await fetch(`${double.apiUrl}/projects/${PROJECT}/merge_requests/7/notes${query}`, { headers: { 'private-token': GITLAB_DOUBLE.apiToken } });
      return { n: ((await res.json()) as unknown[]).length, next: res.headers.get('x-next-page'), perPage: res.headers.get('x-per-page') };
    };
    expect(await page('')).toEqual({ n: 20, next: '2', perPage: '20' });
    expect(await page('?per_page=500')).toEqual({ n: 100, next: '2', perPage: '100' });
    expect(await page('?per_page=100&page=2')).toEqual({ n: 30, next: '', perPage: '100' });
  });

  it('writes no note and sends no token for a merge request from a fork: report only', async () => {
    const result = await platform(mrEnv({ CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '99' })).upsertComment(MARKER, 'report');
    expect(result).toBeNull();
    expect(double.calls).toEqual([]);
    expect(log.join('')).toContain('merge request !7 comes from a fork');
  });

  it('returns null outside a merge request', async () => {
    expect(await platform(jobEnv('push', { CI_COMMIT_BRANCH: 'develop' })).upsertComment(MARKER, 'report')).toBeNull();
    expect(double.calls).toEqual([]);
  });

  it('retries a 5xx and then succeeds, posting once', async () => {
    double.fail('GET', /\/notes$/, 502, 2);
    double.fail('POST', /\/notes$/, 503, 1);
    const result = await platform(mrEnv()).upsertComment(MARKER, 'report');
    expect(result?.created).toBe(true);
    expect(ours()).toHaveLength(1);
    expect(calls().map((c) => c.replace(/\?.*? /, ' '))).toEqual([
      'GET /merge_requests/7/notes 502',
      'GET /merge_requests/7/notes 502',
      'GET /merge_requests/7/notes 200',
      'POST /merge_requests/7/notes 503',
      'GET /merge_requests/7/notes 200',
      'POST /merge_requests/7/notes 201',
    ]);
  });

  it('gives up after a bounded number of attempts when GitLab keeps failing, and says so', async () => {
    double.fail('GET', /\/notes$/, 500, 100);
    await expect(platform(mrEnv(), { retries: 2 }).upsertComment(MARKER, 'report')).rejects.toMatchObject({
      code: 'E_GITLAB_API',
      message: expect.stringContaining("GitLab's API answered 500 (500 Internal Server Error) to GET /api/v4/projects/42/merge_requests/7/notes, 3 times"),
    });
    expect(double.calls).toHaveLength(3);
  });
});

describe('tokens', () => {
  it('names the scope when no token is set, before any request', async () => {
    const env = mrEnv();
    delete env.BRAMBLE_GITLAB_TOKEN;
    await expect(platform(env).upsertComment(MARKER, 'report')).rejects.toMatchObject({
      code: 'E_GITLAB_AUTH',
      message: expect.stringContaining('BRAMBLE_GITLAB_TOKEN is not set. Create a project access token with the `api` scope'),
    });
    expect(double.calls).toEqual([]);
  });

  it('names the missing `api` scope when the token has only read_api', async () => {
    double.seedNotes(7, [`${MARKER}\nold`], { author: GITLAB_USERS.bot });
    await expect(platform(mrEnv({ BRAMBLE_GITLAB_TOKEN: GITLAB_DOUBLE.readToken })).upsertComment(MARKER, 'report')).rejects.toMatchObject({
      code: 'E_GITLAB_SCOPE',
      data: { scope: 'api', status: 403 },
      message: expect.stringContaining('the token lacks the `api` scope, so this job cannot write the merge-request note'),
    });
  });

  it('says the scope and role a job token lacks (CI_JOB_TOKEN reads notes but cannot write them)', async () => {
    await expect(platform(mrEnv({ BRAMBLE_GITLAB_TOKEN: GITLAB_DOUBLE.jobToken })).upsertComment(MARKER, 'report')).rejects.toMatchObject({
      code: 'E_GITLAB_SCOPE',
      message: expect.stringContaining('it needs the `api` scope and at least the Reporter role'),
    });
  });

  it('says the token is not valid on a 401', async () => {
    await expect(platform(mrEnv({ BRAMBLE_GITLAB_TOKEN: 'glpat-revoked' })).upsertComment(MARKER, 'report')).rejects.toMatchObject({
      code: 'E_GITLAB_AUTH',
      message: expect.stringContaining('(401 401 Unauthorized): BRAMBLE_GITLAB_TOKEN is not a valid token'),
    });
  });
});

describe('deployments', () => {
  it('records a deployment running, then success, and sets the environment URL', async () => {
    const handle = await platform(jobEnv('push', { CI_COMMIT_BRANCH: 'develop' })).startDeployment({ environment: 'dev', ref: SHA, description: 'churn@v1.0.0', url: 'http://pi.local:8080/dev' });
    await handle.finish('success', 'churn@v1.0.0 serves dev');
    expect(double.deployments).toMatchObject([{ environment: 'dev', ref: 'develop', sha: SHA, tag: false, statuses: ['running', 'success'] }]);
    expect(double.environments).toMatchObject([{ name: 'dev', externalUrl: 'http://pi.local:8080/dev', tier: 'development' }]);
  });

  it("continues the deployment a promotion recorded for its tag, failing it when the deploy fails", async () => {
    const promoting = platform(jobEnv('web', { CI_COMMIT_BRANCH: 'main' }));
    await promoting.startDeployment({ environment: 'prod', ref: 'churn#prod#2', description: 'assigned' });
    const deploying = platform(jobEnv('push', { CI_COMMIT_TAG: 'churn#prod#2' }));
    const handle = await deploying.continueDeployment({ environment: 'prod', ref: 'churn#prod#2', description: 'churn@v1.1.0' });
    await handle.finish('failure', 'self-test failed');
    expect(double.deployments).toMatchObject([{ ref: 'churn#prod#2', tag: true, statuses: ['running', 'failed'] }]);
  });

  it("records nothing through the API for the job's own environment: GitLab does from `environment:`", async () => {
    const handle = await platform(jobEnv('push', { CI_COMMIT_BRANCH: 'develop', CI_ENVIRONMENT_NAME: 'dev' })).startDeployment({ environment: 'dev', ref: SHA, description: 'churn@v1.0.0' });
    await handle.finish('success', 'served');
    expect(handle.id).toBeNull();
    expect(double.calls).toEqual([]);
  });
});

describe('the pipeline of a pushed tag', () => {
  it('is started with the job token in the body, no project token sent', async () => {
    const started = await platform(jobEnv('web', { CI_COMMIT_BRANCH: 'main' })).triggerTagPipeline('churn#prod#3');
    expect(started.url).toMatch(/\/-\/pipelines\/\d+$/);
    expect(double.pipelines).toMatchObject([{ ref: 'churn#prod#3', via: 'job-token' }]);
    expect(double.calls.map((c) => c.token)).toEqual([null]);
  });

  it.each(['v1.2.0', 'release-2026', 'churn@latest'])('refuses %s, which is not a GTO registry tag', async (tag) => {
    await expect(platform(jobEnv('web')).triggerTagPipeline(tag)).rejects.toThrow(`${JSON.stringify(tag)} is not a registry tag (NAME@vX.Y.Z or NAME#ENV#N)`);
    expect(double.calls).toEqual([]);
  });
});

describe('reports: Code Quality, dotenv, the Markdown report', () => {
  it('writes problems on files and lines as a Code Quality report GitLab reads', () => {
    const gl = platform(jobEnv('merge_request_event', { CI_MERGE_REQUEST_IID: '7' }));
    gl.annotate([
      { level: 'error', file: 'ml.yaml', line: 14, col: 5, title: 'ml.yaml', message: 'model.params.trees: must be an integer ≥ 1 (got "lots")' },
      { level: 'warning', file: 'data/churn.csv', line: 3, title: 'data validation: tenure min', message: '2 rows break min' },
    ]);
    gl.annotate([{ level: 'error', file: 'ml.yaml', line: 14, col: 5, title: 'ml.yaml', message: 'model.params.trees: must be an integer ≥ 1 (got "lots")' }]);
    const issues: unknown = JSON.parse(readFileSync(join(dir, GITLAB_FILES.codequality), 'utf8'));
    expect(issues).toMatchObject([
      { check_name: 'ml.yaml', severity: 'major', location: { path: 'ml.yaml', lines: { begin: 14 } }, description: expect.stringContaining('trees') },
      { check_name: 'data validation: tenure min', severity: 'minor', location: { path: 'data/churn.csv', lines: { begin: 3 } } },
    ]);
    // The fields GitLab's Code Quality widget requires (docs: "Code Quality report format").
    const schema = {
      type: 'array',
      items: {
        type: 'object',
        required: ['description', 'check_name', 'fingerprint', 'severity', 'location'],
        properties: {
          description: { type: 'string' },
          check_name: { type: 'string' },
          fingerprint: { type: 'string', minLength: 1 },
          severity: { enum: ['info', 'minor', 'major', 'critical', 'blocker'] },
          location: { type: 'object', required: ['path', 'lines'], properties: { path: { type: 'string' }, lines: { type: 'object', required: ['begin'], properties: { begin: { type: 'integer', minimum: 1 } } } } },
        },
      },
    };
    expect(new Ajv().validate(schema, issues)).toBe(true);
    expect(log.join('')).toContain('ml.yaml:14:5: error: ml.yaml: model.params.trees');
  });

  it('writes outputs as a dotenv report, one BRAMBLE_ variable each, replacing earlier values', () => {
    const gl = platform(jobEnv('push', { CI_COMMIT_BRANCH: 'develop' }));
    gl.setOutput('model-path', '.bramble/out/model.json');
    gl.setOutput('passed', 'false');
    gl.setOutput('passed', 'true');
    expect(readFileSync(join(dir, GITLAB_FILES.dotenv), 'utf8')).toBe('BRAMBLE_MODEL_PATH=.bramble/out/model.json\nBRAMBLE_PASSED=true\n');
    expect(dotenvName('champion-env')).toBe('BRAMBLE_CHAMPION_ENV');
    expect(() => gl.setOutput('verdict', 'x'.repeat(6000))).toThrow(expect.objectContaining({ code: 'E_GITLAB_LIMIT', message: expect.stringContaining("over GitLab's limit of 5120") }));
    for (let i = 0; i < 18; i++) gl.setOutput(`out-${i}`, String(i));
    expect(() => gl.setOutput('one-too-many', 'x')).toThrow('would hold 21 variables, over the 20 a GitLab instance takes by default');
  });

  it('writes the report to the job log and a Markdown file for artifacts:expose_as', async () => {
    const gl = platform(jobEnv('push', { CI_COMMIT_BRANCH: 'develop' }));
    await gl.summary('### churn: trained');
    expect(readFileSync(join(dir, GITLAB_FILES.report), 'utf8')).toBe('### churn: trained\n');
    expect(log.join('')).toBe('### churn: trained\n');
    expect(existsSync(join(dir, GITLAB_FILES.codequality))).toBe(false);
  });
});

describe('approvals', () => {
  // The protected tags themselves: test/gitlab-approval.test.ts.
  it('reads nothing without BRAMBLE_GITLAB_APPROVAL_TOKEN, so approval: true environments are refused', async () => {
    expect(await platform(jobEnv('web')).checkApproval({ environment: 'prod', tagPrefix: 'churn#prod#' })).toMatchObject({
      approved: false,
      findings: [expect.stringContaining('BRAMBLE_GITLAB_APPROVAL_TOKEN is not set')],
      fix: expect.stringContaining('Protect the tags churn#prod#*'),
    });
    expect(double.calls).toEqual([]);
  });
});
