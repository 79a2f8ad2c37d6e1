// The event that started a GitHub Actions run, from GITHUB_EVENT_NAME and the webhook payload at GITHUB_EVENT_PATH,
// reduced to what the steps decide on.
import { readFileSync } from 'node:fs';
import { describeError, errorClass } from '../../errors.js';
import type { EventContext } from '../types.js';

/** The run's event cannot be read, or is not one Bramble runs on. */
export class GitHubEventError extends errorClass('E_GITHUB_EVENT') {}

type Env = Readonly<Record<string, string | undefined>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The event that started the run, from the runner's environment and the webhook payload it saved. */
export function readGitHubEvent(env: Env): EventContext {
  const name = env.GITHUB_EVENT_NAME;
  if (!name) {
    throw new GitHubEventError('GITHUB_EVENT_NAME is not set: the GitHub adapter runs inside GitHub Actions; use the terminal adapter elsewhere');
  }
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : null;
  const common = {
    repository: env.GITHUB_REPOSITORY || null,
    sha: env.GITHUB_SHA || null,
    actor: env.GITHUB_ACTOR || null,
    runUrl,
  };
  const gitRef = env.GITHUB_REF || (typeof payload.ref === 'string' ? payload.ref : '');
  const shortRef = gitRef.replace(/^refs\/(heads|tags)\//, '') || null;
  switch (name) {
    case 'pull_request':
    case 'pull_request_target': {
      const pr = payload.pull_request;
      const base = isObject(pr) && isObject(pr.base) ? pr.base : undefined;
      const head = isObject(pr) && isObject(pr.head) ? pr.head : undefined;
      if (!isObject(pr) || typeof pr.number !== 'number' || !base || !head || typeof base.ref !== 'string' || typeof head.ref !== 'string') {
        throw new GitHubEventError(`the ${name} payload at ${env.GITHUB_EVENT_PATH ?? '(GITHUB_EVENT_PATH unset)'} has no pull_request with a number, base.ref and head.ref`, {
          path: env.GITHUB_EVENT_PATH,
        });
      }
      // A fork is a head in another repository, or in one since deleted (head.repo null). `head.repo.fork` is not
      // used: it is also true for a branch inside a repository that is itself a fork, whose token is not read-only.
      const baseRepo = isObject(base.repo) ? base.repo.full_name : undefined;
      const headRepo = isObject(head.repo) ? head.repo.full_name : undefined;
      const fork = headRepo === undefined || headRepo !== baseRepo;
      return { kind: 'pull_request', ...common, ref: head.ref, pullRequest: { number: pr.number, base: base.ref, head: head.ref, fork } };
    }
    case 'push':
      if (gitRef.startsWith('refs/tags/')) return { kind: 'tag', ...common, ref: shortRef, pullRequest: null };
      return { kind: 'push', ...common, ref: shortRef, pullRequest: null };
    case 'workflow_dispatch':
    case 'repository_dispatch':
      return { kind: 'dispatch', ...common, ref: shortRef, pullRequest: null };
    case 'schedule':
      return { kind: 'schedule', ...common, ref: shortRef, pullRequest: null };
    default:
      throw new GitHubEventError(
        `Bramble does not run on the \`${name}\` event; trigger it with pull_request, push, workflow_dispatch or schedule`,
        { event: name },
      );
  }
}

function readPayload(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!(err instanceof Error && 'code' in err)) throw err;
    throw new GitHubEventError(`cannot read the event payload GITHUB_EVENT_PATH=${path}: ${describeError(err)}`, { path });
  }
  try {
    const payload: unknown = JSON.parse(text);
    if (isObject(payload)) return payload;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new GitHubEventError(`the event payload ${path} is not JSON: ${describeError(err)}`, { path });
  }
  throw new GitHubEventError(`the event payload ${path} is not a JSON object`, { path });
}

