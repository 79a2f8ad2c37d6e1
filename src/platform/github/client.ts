// The GitHub REST client the adapter's parts share: octokit with bounded retries of 5xx and dropped connections,
// the repository from GITHUB_REPOSITORY, and every API failure explained as one line a person can act on — a 403
// names the permission to add to the job, or says that a fork's pull request has a read-only token.
import { setTimeout as sleep } from 'node:timers/promises';
import type { getOctokit } from '@actions/github';
import { errorClass } from '../../errors.js';
import type { EventContext } from '../types.js';
import { GitHubEventError } from './event.js';

export const GITHUB_LIMITS = {
  /** A comment body, in characters (GitHub answers 422 above it). */
  commentChars: 65_536,
  /** The step summary file, in bytes; above it GitHub drops the step's summary and shows an error instead. */
  summaryBytes: 1024 * 1024,
  /** A deployment status's description, in characters. */
  statusDescription: 140,
  defaultRetries: 3,
} as const;

/** What each kind of call needs in the job's `permissions:` (or the token's) — the wording of the 403 message. */
const PERMISSIONS = {
  comments: { needs: '`pull-requests: write` (or `issues: write`)', add: 'pull-requests: write', subject: 'comment on the pull request', job: true },
  deployments: { needs: '`deployments: write`', add: 'deployments: write', subject: 'record deployments', job: true },
  // Reading an environment's protection rules: the repository permission "Actions" (read) of a GitHub App or
  // fine-grained token; `actions: read` in a job's permissions for GITHUB_TOKEN.
  environments: { needs: 'read access to the environment (`actions: read`)', add: 'actions: read', subject: "read the environment's protection rules", job: true },
  // Reading rulesets: the repository permission "Metadata" (read), which GitHub documents for the rules endpoints
  // and which every GitHub App and fine-grained token with access to the repository has; it is no key of a job's
  // `permissions:` (GITHUB_TOKEN always has it).
  rulesets: { needs: 'read access to the repository\'s rulesets (the repository permission `metadata: read`)', add: 'metadata: read', subject: 'read the tag rulesets', job: false },
  issues: { needs: '`issues: write`', add: 'issues: write', subject: "open, update or close the monitor's issue", job: true },
  actions: { needs: '`actions: write`', add: 'actions: write', subject: 'dispatch the retraining workflow', job: true },
  pulls: { needs: '`pull-requests: write`', add: 'pull-requests: write', subject: 'open the pull request of the retrained model', job: true },
} as const;
export type Scope = keyof typeof PERMISSIONS;

/** What a 404 of each kind of call did not find. */
const NOT_FOUND: Record<Exclude<Scope, 'comments'>, string> = {
  deployments: 'the deployment',
  environments: 'the environment',
  rulesets: 'the ruleset',
  issues: 'the issue',
  actions: "the workflow (or the branch to run it on: the workflow file must be on that branch, with a `workflow_dispatch:` trigger)",
  pulls: 'the branch or the pull request',
};

/** The token may not do this call: a permission missing from the job, or a fork pull request's read-only token. */
export class GitHubPermissionError extends errorClass('E_GITHUB_PERMISSION') {}

/** GitHub answered with an error, or could not be reached, after the retries. */
export class GitHubApiError extends errorClass('E_GITHUB_API') {}

/** No token, or one GitHub does not accept. */
export class GitHubAuthError extends errorClass('E_GITHUB_AUTH') {}

export interface GitHubPlatformOptions {
  /** Retries after a 5xx or a dropped connection (default 3, so at most 4 attempts per request). */
  retries?: number;
  /** The fetch octokit uses (default: @actions/github's, which honours the runner's proxy settings). */
  fetch?: typeof fetch;
  /** Milliseconds before retry `attempt` (1-based). Default 1 s, 2 s, 4 s…, at most 30 s, or Retry-After. */
  backoff?: (attempt: number) => number;
}

export type Octokit = ReturnType<typeof getOctokit>;
export type Env = Readonly<Record<string, string | undefined>>;

/** What octokit's RequestError carries, read without depending on @octokit/request-error directly. */
export interface ApiFailure extends Error {
  status: number;
  response?: { headers: Record<string, unknown>; data: unknown };
  request?: { method?: string; url?: string };
}

export function isApiFailure(err: unknown): err is ApiFailure {
  return err instanceof Error && 'status' in err && typeof err.status === 'number';
}

/** 5xx, and the status 500 octokit gives a request that got no answer at all (refused, reset, DNS). */
export function isRetryable(err: unknown): boolean {
  return isApiFailure(err) && err.status >= 500;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** What the adapter's parts call GitHub through. */
export class GitHubClient {
  readonly retries: number;
  private readonly baseUrl: string;
  private readonly attemptsMade = new WeakMap<Error, number>();
  private client: Promise<Octokit> | undefined;

  constructor(
    private readonly env: Env,
    private readonly options: GitHubPlatformOptions,
    /** The run's event (read on first use; an unreadable one throws GitHubEventError). */
    readonly context: () => EventContext,
  ) {
    this.retries = options.retries ?? GITHUB_LIMITS.defaultRetries;
    this.baseUrl = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  }

  /** Milliseconds before retry `attempt` (1-based): Retry-After when GitHub sends it, else doubling from 1 s. */
  wait(attempt: number, err: unknown): number {
    if (this.options.backoff) return this.options.backoff(attempt);
    const retryAfter = isApiFailure(err) ? Number(err.response?.headers['retry-after']) : NaN;
    const backoff = Math.min(1000 * 2 ** (attempt - 1), 30_000);
    return Number.isFinite(retryAfter) ? Math.min(Math.max(retryAfter * 1000, backoff), 60_000) : backoff;
  }

  /** Records how many attempts a request that failed for good took, for its message. */
  failedAfter(err: unknown, attempt: number): void {
    if (err instanceof Error) this.attemptsMade.set(err, attempt);
  }

  // @actions/github is loaded on the first API call: importing it reads the environment and the event payload, and
  // a step that only annotates or writes a summary has no use for octokit.
  octokit(): Promise<Octokit> {
    const env = this.env;
    this.client ??= (async () => {
      const token = env['INPUT_GITHUB-TOKEN'] || env.INPUT_TOKEN || env.GITHUB_TOKEN;
      if (!token) {
        throw new GitHubAuthError(
          'no GitHub token: set the action input `github-token` (default `${{ github.token }}`) or the GITHUB_TOKEN environment variable',
        );
      }
      const { getOctokit } = await import('@actions/github');
      const instance = getOctokit(token, { baseUrl: this.baseUrl, ...(this.options.fetch ? { request: { fetch: this.options.fetch } } : {}) });
      instance.hook.wrap('request', async (request, requestOptions) => {
        const limit = typeof requestOptions.request?.retries === 'number' ? requestOptions.request.retries : this.retries;
        for (let attempt = 1; ; attempt++) {
          try {
            return await request(requestOptions);
          } catch (err) {
            if (!isRetryable(err) || attempt > limit) {
              this.failedAfter(err, attempt);
              throw err;
            }
            await sleep(this.wait(attempt, err));
          }
        }
      });
      return instance;
    })();
    return this.client;
  }

  ownerRepo(): { owner: string; repo: string } {
    const [owner, repo, ...rest] = (this.env.GITHUB_REPOSITORY ?? '').split('/');
    if (!owner || !repo || rest.length > 0) {
      throw new GitHubEventError(`GITHUB_REPOSITORY is ${JSON.stringify(this.env.GITHUB_REPOSITORY ?? null)}; expected owner/repo`);
    }
    return { owner, repo };
  }

  private forkPullRequest(): number | null {
    let pr: EventContext['pullRequest'];
    try {
      pr = this.context().pullRequest;
    } catch (err) {
      // Explaining an API failure must not fail on the event: an unreadable event already failed elsewhere.
      if (err instanceof GitHubEventError) return null;
      throw err;
    }
    return pr?.fork ? pr.number : null;
  }

  /** Turns an octokit failure into the one-line error a person can act on; other errors pass through. */
  explain(err: unknown, scope: Scope): unknown {
    if (!isApiFailure(err)) return err;
    const path = err.request?.url ? new URL(err.request.url).pathname : '?';
    const endpoint = `${err.request?.method ?? '?'} ${path}`;
    const attempts = this.attemptsMade.get(err) ?? 1;
    const body = err.response?.data;
    const said = oneLine(isObject(body) && typeof body.message === 'string' ? body.message : err.message);
    const data = { endpoint, status: err.status, attempts, githubMessage: said };
    const times = attempts === 1 ? 'once' : `${attempts} times`;
    if (!err.response) {
      return new GitHubApiError(`could not reach GitHub's API at ${this.baseUrl} for ${endpoint} (${said}), tried ${times}; check GITHUB_API_URL and the network`, data);
    }
    if (err.status === 401) {
      return new GitHubAuthError(`GitHub rejected the token for ${endpoint} (401 ${said}); pass a valid token in the \`github-token\` input or GITHUB_TOKEN`, data);
    }
    const headers = err.response.headers;
    if ((err.status === 403 || err.status === 429) && (headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(said))) {
      const reset = Number(headers['x-ratelimit-reset']);
      const when = Number.isFinite(reset) && reset > 0 ? ` until ${new Date(reset * 1000).toISOString()}` : '';
      return new GitHubApiError(`GitHub's rate limit refused ${endpoint} (${err.status} ${said})${when}; re-run the job later`, data);
    }
    if (err.status === 403) {
      const fork = this.forkPullRequest();
      const permission = PERMISSIONS[scope];
      if (fork !== null) {
        return new GitHubPermissionError(
          `GitHub answered 403 (${said}) to ${endpoint}: pull request #${fork} comes from a fork, and GitHub gives workflows on fork pull requests a read-only token whatever the job's \`permissions:\` say, so this run cannot ${permission.subject}`,
          { ...data, fork: true, permission: permission.add },
        );
      }
      // GitHub names the permissions it would accept in a header (e.g. `actions=read`); believed over our table.
      const accepted = typeof headers['x-accepted-github-permissions'] === 'string' ? headers['x-accepted-github-permissions'].trim() : '';
      const named = accepted ? `; GitHub names the permission it accepts: ${accepted}` : '';
      if (!permission.job) {
        return new GitHubPermissionError(
          `GitHub answered 403 (${said}) to ${endpoint}: the token lacks ${permission.needs}, so this run cannot ${permission.subject}${named}; give the token (a GitHub App or fine-grained token) that repository permission`,
          { ...data, fork: false, permission: permission.add, accepted },
        );
      }
      return new GitHubPermissionError(
        `GitHub answered 403 (${said}) to ${endpoint}: the token lacks ${permission.needs}${named}; add \`permissions: { contents: read, ${permission.add} }\` to the job`,
        { ...data, fork: false, permission: permission.add, ...(accepted ? { accepted } : {}) },
      );
    }
    if (err.status === 404) {
      const { owner, repo } = this.ownerRepo();
      const what = scope === 'comments' ? `pull request #${this.context().pullRequest?.number ?? '?'}` : NOT_FOUND[scope];
      return new GitHubApiError(
        `GitHub answered 404 to ${endpoint}: ${what} was not found in ${owner}/${repo}; check that it exists and that the token can see the repository`,
        data,
      );
    }
    if (err.status >= 500) {
      return new GitHubApiError(
        `GitHub's API answered ${err.status} (${said}) to ${endpoint}, ${times}; GitHub may be having trouble (https://www.githubstatus.com): re-run the job later`,
        data,
      );
    }
    return new GitHubApiError(`GitHub refused ${endpoint} with ${err.status} (${said})`, data);
  }
}
