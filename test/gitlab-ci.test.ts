// `bramble ci STEP` as a GitLab job runs it: the built CLI (node dist/cli.js) in a child process, in a model
// repository made from the template, with GitLab's predefined CI/CD variables and CI_API_V4_URL pointed at the
// OpenAPI-checked GitLab double. Asserts on the exit code and the files a job leaves for GitLab: the dotenv report,
// the Code Quality report and the Markdown report. Verified against the double only.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPORT } from '../src/report/view.js';
import { CLI } from './helpers/cli.js';
import { GITLAB_DOUBLE, gitlabJobVariables, startGitLabDouble, type GitLabDouble } from './helpers/gitlab-double.js';
import { editMlYaml, makeModelRepo } from './helpers/model-repo.js';

const PROJECT = String(GITLAB_DOUBLE.projectId);
const MARKER = REPORT.marker('churn');

let double: GitLabDouble;
let repo: string;

beforeEach(async () => {
  double = await startGitLabDouble();
  double.openMergeRequest(7);
  repo = makeModelRepo({ trees: 5 });
});

afterEach(async () => {
  expect(double.problems).toEqual([]);
  await double.close();
});

interface JobRun {
  code: number | null;
  log: string;
  stderr: string;
  dotenv: Record<string, string>;
}

/** A merge-request pipeline's variables (a fork's when `fork`). */
function mrVariables(fork = false): Record<string, string> {
  return {
    CI_PIPELINE_SOURCE: 'merge_request_event',
    CI_MERGE_REQUEST_IID: '7',
    CI_MERGE_REQUEST_PROJECT_ID: PROJECT,
    CI_MERGE_REQUEST_SOURCE_PROJECT_ID: fork ? '99' : PROJECT,
    CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'more-data',
    CI_MERGE_REQUEST_TARGET_BRANCH_NAME: 'develop',
  };
}

function job(step: string, args: string[], variables: Record<string, string>): Promise<JobRun> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: repo,
    ...gitlabJobVariables(double.apiUrl, repo, '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c'),
    ...variables,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'ci', step, ...args], { cwd: repo, env, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const file = join(repo, '.bramble/bramble.env');
      const dotenv = existsSync(file) ? Object.fromEntries(readFileSync(file, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])) : {};
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, log: stdout, stderr, dotenv });
    });
  });
}

const codeQuality = () => JSON.parse(readFileSync(join(repo, '.bramble/gl-code-quality-report.json'), 'utf8')) as { check_name: string; location: { path: string; lines: { begin: number } } }[];

describe('bramble ci in a merge-request pipeline', () => {
  it('validates, trains and compares; the report is one note, updated in place on the next push', async () => {
    const validated = await job('validate', [], mrVariables());
    expect(validated.stderr).toBe('');
    expect(validated.code).toBe(0);
    expect(validated.dotenv).toMatchObject({ BRAMBLE_VALID: 'true', BRAMBLE_NAME: 'churn', BRAMBLE_FAILED: '0' });

    const trained = await job('train', [], mrVariables());
    expect(trained.code).toBe(0);
    expect(trained.dotenv).toMatchObject({ BRAMBLE_MODEL_PATH: '.bramble/model.json', BRAMBLE_VALID: 'true' });

    const first = await job('compare', ['--champion-env', ''], mrVariables());
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.dotenv).toMatchObject({ BRAMBLE_PASSED: 'true', BRAMBLE_COMMENT_URL: expect.stringContaining('/-/merge_requests/7#note_') });
    const second = await job('compare', [], mrVariables());
    expect(second.code).toBe(0);
    expect(second.dotenv.BRAMBLE_COMMENT_URL).toBe(first.dotenv.BRAMBLE_COMMENT_URL);
    const notes = double.notes.filter((n) => n.body.includes(MARKER));
    expect(notes).toHaveLength(1);
    expect(double.calls.filter((c) => c.method === 'POST').map((c) => c.status)).toEqual([201]);
    expect(double.calls.filter((c) => c.method === 'PUT').map((c) => c.status)).toEqual([200]);
    expect(readFileSync(join(repo, '.bramble/bramble-report.md'), 'utf8')).toContain('churn');
  }, 120_000);

  it('writes no note and sends no token for a merge request from a fork: the report stays in the job', async () => {
    await job('train', [], mrVariables(true));
    const run = await job('compare', [], mrVariables(true));
    expect(run.code).toBe(0);
    expect(run.log).toContain('merge request !7 comes from a fork');
    expect(double.calls).toEqual([]);
    expect(readFileSync(join(repo, '.bramble/bramble-report.md'), 'utf8')).toContain('churn');
  }, 120_000);

  it('names the scope when the token cannot write the note, and exits 2', async () => {
    await job('train', [], mrVariables());
    const run = await job('compare', [], { ...mrVariables(), BRAMBLE_GITLAB_TOKEN: GITLAB_DOUBLE.readToken });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the token lacks the `api` scope, so this job cannot write the merge-request note');
  }, 120_000);
});

describe('problems go to the Code Quality report', () => {
  it('puts an ml.yaml mistake at its line, and exits 2', async () => {
    editMlYaml(repo, (text) => text.replace(/trees: \d+/, 'trees: lots'));
    const run = await job('validate', [], mrVariables());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/ml\.yaml:\d+:\d+/);
    expect(codeQuality()).toEqual([expect.objectContaining({ check_name: 'ml.yaml', location: { path: 'ml.yaml', lines: { begin: 59 } } })]);
  });

  it('puts failed data checks on the data file, writes the outputs, and exits 1', async () => {
    editMlYaml(repo, (text) => text.replace('tenure:           { type: integer, min: 0, max: 72 }', 'tenure:           { type: integer, min: 0, max: 12 }'));
    const run = await job('validate', [], mrVariables());
    expect(run.code).toBe(1);
    expect(run.dotenv).toMatchObject({ BRAMBLE_VALID: 'false' });
    // Line 3 of data/churn.csv holds the first tenure over 12 (34 months).
    expect(codeQuality()).toEqual([expect.objectContaining({ location: { path: 'data/churn.csv', lines: { begin: 3 } } })]);
  });
});

describe('tags', () => {
  it('refuses to deploy for a tag that is not a GTO assignment tag, and exits 2', async () => {
    const run = await job('deploy', [], { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: 'release-2026' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("the tag release-2026 is not an assignment tag in GTO's grammar");
    expect(double.calls).toEqual([]);
  });

  it('refuses an input the step does not take', async () => {
    const run = await job('compare', ['--bump', 'minor'], mrVariables());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('bramble ci compare takes no --bump');
  });
});
