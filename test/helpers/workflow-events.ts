// The events test/e2e-story.test.ts plays, as GitHub delivers them: payloads adapted from GitHub's own examples
// (@octokit/webhooks-examples) and pointed at the story's repository, and the `github` context of each.
import { createRequire } from 'node:module';
import { GITHUB_ACTORS, GITHUB_DOUBLE } from './github-double.js';
import { git } from './git.js';
import type { Context } from './workflow-expressions.js';

const require = createRequire(import.meta.url);
const TOKEN = GITHUB_DOUBLE.botToken;
const REPOSITORY = `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`;
const ACTOR = GITHUB_ACTORS.codertocat.login;
const ZERO = '0'.repeat(40);

export interface PlayedEvent {
  name: 'pull_request' | 'push' | 'schedule' | 'workflow_dispatch';
  payload: Record<string, unknown>;
  /** GITHUB_REF: refs/pull/N/merge, refs/heads/develop, refs/tags/churn#prod#2 */
  ref: string;
  /** GITHUB_SHA: the commit checked out. */
  sha: string;
}

export function examples(name: string): Record<string, unknown>[] {
  const all = require('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: Record<string, unknown>[] }[];
  const found = all.find((e) => e.name === name)?.examples;
  if (!found) throw new Error(`no ${name} examples`);
  return found;
}

/** The fields of GitHub's pull_request payload the story rewrites; the rest stays as in GitHub's example. */
interface PullRequestPayload {
  number: number;
  before?: string;
  after?: string;
  pull_request: Record<string, unknown> & {
    number: number;
    merge_commit_sha: string | null;
    base: Record<string, unknown> & { ref: string; sha: string };
    head: Record<string, unknown> & { ref: string; sha: string };
  };
}

/** GitHub's example of a pull_request event (opened or synchronize), renumbered and pointed at our branches. */
export function pullRequestEvent(action: 'opened' | 'synchronize', pr: { number: number; base: string; head: string; before?: string }, repo: string): PlayedEvent {
  const found = examples('pull_request').find((e) => e.action === action);
  if (!found) throw new Error(`no pull_request.${action} example`);
  const payload = structuredClone(found) as Record<string, unknown> & PullRequestPayload;
  const [baseSha, headSha, merge] = [pr.base, pr.head, `refs/pull/${pr.number}/merge`].map((ref) => git(repo, 'rev-parse', ref).trim());
  payload.number = pr.number;
  const p = payload.pull_request;
  p.number = pr.number;
  Object.assign(p.base, { ref: pr.base, sha: baseSha });
  Object.assign(p.head, { ref: pr.head, sha: headSha });
  p.merge_commit_sha = merge;
  for (const key of ['url', 'html_url', 'issue_url', 'diff_url', 'patch_url', 'commits_url', 'comments_url', 'statuses_url']) {
    p[key] = String(p[key]).replace(/\/(pulls?|issues)\/\d+/, `/$1/${pr.number}`);
  }
  if (action === 'synchronize') Object.assign(payload, { before: pr.before, after: headSha });
  return { name: 'pull_request', payload, ref: `refs/pull/${pr.number}/merge`, sha: merge };
}

/**
 * GitHub's example of a push event (a created branch or tag), pointed at our ref: `after` is what the ref now names
 * (an annotated tag's object, for a tag), GITHUB_SHA the commit it leads to; `repo` holds both.
 */
export function pushEvent(repo: string, ref: string, before: string, after: string): PlayedEvent {
  const [sha, tree] = [`${after}^{commit}`, `${after}^{tree}`].map((rev) => git(repo, 'rev-parse', rev).trim());
  const tag = ref.startsWith('refs/tags/');
  const found = examples('push').find((e) => String(e.ref).startsWith(tag ? 'refs/tags/' : 'refs/heads/') && e.created === true);
  if (!found) throw new Error('no push example');
  const payload = structuredClone(found);
  Object.assign(payload, {
    ref,
    before,
    after,
    created: before === ZERO,
    deleted: false,
    forced: false,
    base_ref: null,
    commits: [],
    compare: `${GITHUB_DOUBLE.serverUrl}/${REPOSITORY}/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
    head_commit: { ...(payload.head_commit as Record<string, unknown>), id: sha, tree_id: tree },
  });
  return { name: 'push', payload, ref, sha };
}

/** The GitHub context of an event, as the runner has it for `${{ github.* }}` and the GITHUB_* variables. */
export function githubContext(event: PlayedEvent): Context {
  const refType = event.ref.startsWith('refs/tags/') ? 'tag' : 'branch';
  return {
    event_name: event.name,
    event: event.payload,
    repository: REPOSITORY,
    ref: event.ref,
    ref_name: event.ref.replace(/^refs\/(heads|tags|pull)\//, ''),
    ref_type: refType,
    sha: event.sha,
    actor: ACTOR,
    token: TOKEN,
  };
}

/** A scheduled run: GitHub's payload names the cron that fired (github.event.schedule) and the workflow file. */
export function scheduleEvent(cron: string, branch: string, sha: string): PlayedEvent {
  const { repository } = examples('push')[0];
  return { name: 'schedule', payload: { schedule: cron, workflow: '.github/workflows/ml.yml', repository }, ref: `refs/heads/${branch}`, sha };
}

/** GitHub's example of a workflow_dispatch event, with the inputs given, on `branch`. */
export function dispatchEvent(inputs: Record<string, unknown>, branch: string, sha: string): PlayedEvent {
  const payload = { ...structuredClone(examples('workflow_dispatch')[0]), inputs, ref: `refs/heads/${branch}`, repository: examples('push')[0].repository, workflow: '.github/workflows/ml.yml' };
  return { name: 'workflow_dispatch', payload, ref: `refs/heads/${branch}`, sha };
}
