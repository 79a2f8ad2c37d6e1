// Approvals on GitLab (issue 13): ml.yaml's `approval: true` is enforced by a protected tag over the environment's
// assignment tags that lets only Maintainers (or no one) create them. Read through the GitLab API double, which
// checks every request and response against GitLab's own description of the protected tags API (vendor/gitlab/),
// with BRAMBLE_GITLAB_APPROVAL_TOKEN (Maintainer role, read_api), never with BRAMBLE_GITLAB_TOKEN. Verified against
// the double only: no GitLab server can be reached here.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMlYaml } from '../src/config/ml-yaml.js';
import { gitlabPlatform } from '../src/platform/gitlab.js';
import { APPROVAL_TOKEN, protectedTagCovers, protectedTagMatches } from '../src/platform/gitlab/approval.js';
import { requireApproval } from '../src/usecases/approval.js';
import { GITLAB_DOUBLE, GITLAB_USERS, gitlabJobVariables, startGitLabDouble, type GitLabDouble, type StoredProtectedTag } from './helpers/gitlab-double.js';

const SHA = '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c';
const PROJECT = String(GITLAB_DOUBLE.projectId);
const MAINTAINER_READ = 'glpat-approvalMaintainerRead0';
const DEVELOPER_READ = 'glpat-approvalDeveloperRead00';
const QUERY = { environment: 'prod', tagPrefix: 'churn#prod#' };
const MAINTAINERS = { access_level: 40 };
const DEVELOPERS = { access_level: 30 };
const NO_ONE = { access_level: 0 };

let double: GitLabDouble;
let log: string[];

beforeEach(async () => {
  double = await startGitLabDouble({
    tokens: {
      [GITLAB_DOUBLE.apiToken]: { user: GITLAB_USERS.bot, scopes: ['api', 'write_repository'], role: 30 },
      [MAINTAINER_READ]: { user: GITLAB_USERS.bot, scopes: ['read_api'], role: 40 },
      [DEVELOPER_READ]: { user: GITLAB_USERS.bot, scopes: ['read_api'], role: 30 },
    },
  });
  log = [];
});

afterEach(async () => {
  expect(double.problems).toEqual([]);
  await double.close();
});

function platform(approvalToken: string | null = MAINTAINER_READ) {
  const env: Record<string, string> = { ...gitlabJobVariables(double.apiUrl, mkdtempSync(join(tmpdir(), 'bramble-gl-approval-')), SHA), CI_PIPELINE_SOURCE: 'web' };
  if (approvalToken !== null) env[APPROVAL_TOKEN] = approvalToken;
  return gitlabPlatform(env, { backoff: () => 0, write: (t) => void log.push(t) });
}

function protect(...rules: StoredProtectedTag[]): void {
  for (const rule of rules) double.protectedTags.push(rule);
}

describe("GitLab's protected tag wildcards", () => {
  it.each([
    ['churn#prod#*', true],
    ['*', true],
    ['churn#*', true],
    ['*#prod#*', true],
    ['churn#pr*', true],
    ['churn#prod#1', false],
    ['churn#prod#1*', false],
    ['churn#prod#?', false],
    ['churn#staging#*', false],
    ['prices#prod#*', false],
    ['churn.prod.*', false],
  ])('%s covers churn#prod#N for every N: %s', (rule, covers) => {
    expect(protectedTagCovers(rule, 'churn#prod#')).toBe(covers);
  });

  it('matches `*` across any characters, slashes too, and every other character as itself', () => {
    expect(protectedTagMatches('release/*', 'release/2026/12')).toBe(true);
    expect(protectedTagMatches('v1.*', 'v1x2')).toBe(false);
    expect(protectedTagMatches('churn#prod#4', 'churn#prod#4')).toBe(true);
  });
});

describe('checkApproval on GitLab', () => {
  it.each([
    ['Maintainers', [MAINTAINERS]],
    ['No one', [NO_ONE]],
    ['Maintainers and No one', [MAINTAINERS, NO_ONE]],
  ])('approves when a protected tag over churn#prod#* lets %s create it, read with the approval token only', async (_, levels) => {
    protect({ name: 'v*', createAccessLevels: [DEVELOPERS] }, { name: 'churn#prod#*', createAccessLevels: levels });
    expect(await platform().checkApproval(QUERY)).toEqual({ approved: true, by: 'the protected tag churn#prod#* lets only Maintainers create churn#prod#*' });
    expect(double.calls.map((c) => `${c.method} ${c.path} ${c.status} ${c.token}`)).toEqual([
      `GET /api/v4/projects/${PROJECT}/protected_tags?per_page=100&page=1 200 ${MAINTAINER_READ}`,
    ]);
  });

  it.each([
    ['the project protects no tags', [], 'no protected tag covers churn#prod#* (the project protects no tags)'],
    [
      'only other tags are protected',
      [{ name: 'churn#prod#1', createAccessLevels: [MAINTAINERS] }, { name: 'churn#staging#*', createAccessLevels: [MAINTAINERS] }],
      'no protected tag covers churn#prod#* (protected: churn#prod#1, churn#staging#*)',
    ],
    ['Developers may create the tags', [{ name: 'churn#prod#*', createAccessLevels: [DEVELOPERS] }], 'the protected tag churn#prod#* lets Developers + Maintainers create churn#prod#*'],
    ['a deploy key may create them', [{ name: 'churn#prod#*', createAccessLevels: [MAINTAINERS, { access_level: 40, deploy_key_id: 12 }] }], 'the protected tag churn#prod#* lets deploy key #12 create churn#prod#*'],
    [
      'a broader rule lets Developers through (GitLab takes the most permissive)',
      [{ name: 'churn#prod#*', createAccessLevels: [MAINTAINERS] }, { name: '*', createAccessLevels: [DEVELOPERS] }],
      'the protected tag * lets Developers + Maintainers create churn#prod#*',
    ],
  ])('refuses when %s, and says what it found', async (_, rules, finding) => {
    protect(...rules);
    const verdict = await platform().checkApproval(QUERY);
    expect(verdict).toMatchObject({ approved: false, findings: [finding] });
    expect(verdict.approved === false && verdict.fix).toMatch(/Settings → Repository → Protected tags/);
  });

  it('reads every page of protected tags', async () => {
    for (let i = 0; i < 130; i++) protect({ name: `other-${i}`, createAccessLevels: [DEVELOPERS] });
    protect({ name: 'churn#prod#*', createAccessLevels: [MAINTAINERS] });
    expect(await platform().checkApproval(QUERY)).toMatchObject({ approved: true });
    expect(double.calls.map((c) => c.path)).toEqual([
      `/api/v4/projects/${PROJECT}/protected_tags?per_page=100&page=1`,
      `/api/v4/projects/${PROJECT}/protected_tags?per_page=100&page=2`,
    ]);
  });

  it('retries a 5xx, then reads', async () => {
    protect({ name: 'churn#prod#*', createAccessLevels: [MAINTAINERS] });
    double.fail('GET', /protected_tags$/, 502, 2);
    expect(await platform().checkApproval(QUERY)).toMatchObject({ approved: true });
    expect(double.calls.map((c) => c.status)).toEqual([502, 502, 200]);
  });

  it('reads nothing without the approval token, and refuses with the fix', async () => {
    protect({ name: 'churn#prod#*', createAccessLevels: [MAINTAINERS] });
    const verdict = await platform(null).checkApproval(QUERY);
    expect(verdict).toMatchObject({ approved: false, findings: [expect.stringContaining(`${APPROVAL_TOKEN} is not set`)] });
    expect(verdict.approved === false && verdict.fix).toContain(`the masked CI/CD variable ${APPROVAL_TOKEN}`);
    expect(double.calls).toEqual([]);
  });

  it.each([
    ['a Developer', DEVELOPER_READ, /BRAMBLE_GITLAB_APPROVAL_TOKEN cannot read the protected tags \(GitLab answered 403\).*Maintainer role/],
    ['unknown to GitLab', 'glpat-notAToken0000000000000', /BRAMBLE_GITLAB_APPROVAL_TOKEN cannot read the protected tags \(GitLab answered 401\)/],
  ])('names the approval token and the role it needs when it is %s', async (_, token, message) => {
    await expect(platform(token).checkApproval(QUERY)).rejects.toMatchObject({ code: 'E_GITLAB_SCOPE', message: expect.stringMatching(message) });
  });
});

describe('a promotion to an approval: true environment from a GitLab job', () => {
  const mlYaml = join(import.meta.dirname, '../templates/model-repo/ml.yaml');

  it('goes ahead under a protected tag, and says which', async () => {
    protect({ name: 'churn#prod#*', createAccessLevels: [MAINTAINERS] });
    const gl = platform();
    const verdict = await requireApproval(gl, await readMlYaml(mlYaml), mlYaml, 'ml.yaml', 'prod');
    expect(verdict).toMatchObject({ approved: true });
    expect(log.join('')).toContain('prod needs approval (ml.yaml), and the protected tag churn#prod#* lets only Maintainers create churn#prod#*');
  });

  it('is refused at ml.yaml’s approval line when Developers may push the tags', async () => {
    protect({ name: 'churn#*', createAccessLevels: [DEVELOPERS] });
    await expect(requireApproval(platform(), await readMlYaml(mlYaml), mlYaml, 'ml.yaml', 'prod')).rejects.toMatchObject({
      code: 'E_APPROVAL_NOT_ENFORCED',
      message: expect.stringMatching(/^ml\.yaml:\d+:\d+ environments\.prod\.approval is true, but nothing on GitLab makes a person approve a promotion to prod: the protected tag churn#\* lets Developers \+ Maintainers create churn#prod#\*\. Nothing was tagged\./),
    });
  });
});
