// The GitLab REST client the adapter's parts share: plain fetch against CI_API_V4_URL with the project access token
// in PRIVATE-TOKEN, bounded retries of 5xx and dropped connections, every page of a listing (x-next-page), and
// every failure explained as one line a person can act on — a 403 names the scope the token lacks.
//
// Decisions:
// - Plain fetch, no @gitbeaker/rest: six endpoints do not need a client library, and gitbeaker's 44.x line wants a
//   newer Node than the runners have.
// - One token for every call, BRAMBLE_GITLAB_TOKEN (a project access token with the `api` scope): CI_JOB_TOKEN may
//   read merge-request notes but not write them, nor record deployments. It is sent only when a call is made, so a
//   step that writes no note (a fork's merge request) never sends it.
// - Only GET and PUT are retried inside a request. A POST that timed out may have landed; its caller decides
//   (the note is looked up again before it is posted again).
import { setTimeout as sleep } from 'node:timers/promises';
import { errorClass } from '../../errors.js';
import { isUnanswered, jsonOr } from '../http.js';

export const GITLAB_LIMITS = {
  /** GitLab's page size ceiling: `per_page` above it is clamped. */
  perPage: 100,
  /** A note's body, in characters (GitLab refuses longer notes). */
  noteChars: 1_000_000,
  /** A `reports:dotenv` file, in bytes. */
  dotenvBytes: 5 * 1024,
  /** Variables in a `reports:dotenv` file: 20 on a self-managed instance unless an admin raises it (GitLab.com: 50). */
  dotenvVariables: 20,
  defaultRetries: 3,
  /** Pages followed at most when listing, so that a misbehaving server cannot loop the job forever. */
  maxPages: 1000,
} as const;

/** What each kind of call needs, in the words of the 403 message. */
export const GITLAB_NEEDS = {
  notes: { scope: 'api', subject: 'write the merge-request note', role: 'Reporter' },
  deployments: { scope: 'api', subject: 'record deployments', role: 'Developer' },
  environments: { scope: 'api', subject: "set the environment's URL", role: 'Developer' },
  trigger: { scope: 'CI_JOB_TOKEN', subject: 'start the pipeline of the pushed tag', role: 'Developer' },
  issues: { scope: 'api', subject: "open, update or close the monitor's issue", role: 'Reporter' },
  pipelines: { scope: 'api', subject: 'start the retraining pipeline', role: 'Developer' },
  mergeRequests: { scope: 'api', subject: 'open the merge request of the retrained model', role: 'Developer' },
  protectedTags: { scope: 'read_api', subject: 'read the protected tags (who may create the assignment tags of an environment with approval: true)', role: 'Maintainer' },
} as const;
export type Need = keyof typeof GITLAB_NEEDS;

/** No token, or one GitLab does not accept (401). */
export class GitLabAuthError extends errorClass('E_GITLAB_AUTH') {}

/** The token is valid but lacks the scope or role a call needs (403). */
export class GitLabScopeError extends errorClass('E_GITLAB_SCOPE') {}

/** A note or a dotenv report over GitLab's limit. */
export class GitLabLimitError extends errorClass('E_GITLAB_LIMIT') {}

/** GitLab answered with an error, or could not be reached, after the retries. */
export class GitLabApiError extends errorClass('E_GITLAB_API') {}

/** A tag that is not one of the registry's, given where Bramble would start its pipeline. */
export class GitLabTagError extends errorClass('E_GITLAB_TAG') {}

export type Env = Readonly<Record<string, string | undefined>>;

export interface GitLabPlatformOptions {
  /** Retries after a 5xx or a dropped connection (default 3, so at most 4 attempts per request). */
  retries?: number;
  fetch?: typeof fetch;
  /** Milliseconds before retry `attempt` (1-based). Default 1 s, 2 s, 4 s…, at most 30 s. */
  backoff?: (attempt: number) => number;
  /** Where the job's log goes (default standard output). */
  write?: (text: string) => void;
}

export interface GitLabResponse<T> {
  status: number;
  data: T;
  headers: Headers;
}

interface CallOptions {
  body?: unknown;
  /** Retries for this call; POSTs default to none. */
  retries?: number;
  /** The token to send; default BRAMBLE_GITLAB_TOKEN. */
  token?: 'api' | 'none';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What GitLab said in an error body: `{message}` (a string or a field → errors map) or `{error, error_description}`. */
function gitlabSaid(body: unknown, status: number): string {
  if (isObject(body)) {
    if (typeof body.message === 'string') return body.message;
    if (isObject(body.message)) return JSON.stringify(body.message);
    if (typeof body.error === 'string') return typeof body.error_description === 'string' ? `${body.error}: ${body.error_description}` : body.error;
  }
  return String(status);
}

export class GitLabClient {
  readonly retries: number;
  readonly apiUrl: string;
  /** CI_SERVER_URL, for links to notes; null when unknown. */
  readonly serverUrl: string | null;
  private readonly fetcher: typeof fetch;

  constructor(
    private readonly env: Env,
    private readonly options: GitLabPlatformOptions,
  ) {
    this.retries = options.retries ?? GITLAB_LIMITS.defaultRetries;
    this.apiUrl = (env.CI_API_V4_URL || `${(env.CI_SERVER_URL || 'https://gitlab.com').replace(/\/+$/, '')}/api/v4`).replace(/\/+$/, '');
    this.serverUrl = env.CI_SERVER_URL ? env.CI_SERVER_URL.replace(/\/+$/, '') : null;
    this.fetcher = options.fetch ?? fetch;
  }

  wait(attempt: number): number {
    return this.options.backoff ? this.options.backoff(attempt) : Math.min(1000 * 2 ** (attempt - 1), 30_000);
  }

  private token(need: Need): string {
    const token = this.env.BRAMBLE_GITLAB_TOKEN;
    if (!token) {
      const { scope, subject, role } = GITLAB_NEEDS[need];
      throw new GitLabAuthError(
        `no GitLab token to ${subject}: BRAMBLE_GITLAB_TOKEN is not set. Create a project access token with the \`${scope}\` scope and at least the ${role} role ` +
          '(Settings → Access tokens) and add it as a masked CI/CD variable BRAMBLE_GITLAB_TOKEN; CI_JOB_TOKEN cannot write notes or deployments',
        { need, scope },
      );
    }
    return token;
  }

  /** One request, retried on 5xx and dropped connections (GET and PUT only, unless `retries` says otherwise). */
  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, need: Need, options: CallOptions = {}): Promise<GitLabResponse<T>> {
    const url = `${this.apiUrl}${path}`;
    const endpoint = `${method} ${new URL(url).pathname}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token !== 'none') headers['private-token'] = this.token(need);
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const limit = options.retries ?? (method === 'POST' ? 0 : this.retries);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetcher(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
      } catch (err) {
        if (!isUnanswered(err)) throw err;
        if (attempt > limit) {
          throw new GitLabApiError(
            `could not reach GitLab's API at ${this.apiUrl} for ${endpoint} (${err.message}), tried ${attempt === 1 ? 'once' : `${attempt} times`}; check CI_API_V4_URL and the runner's network`,
            { endpoint, attempts: attempt },
          );
        }
        await sleep(this.wait(attempt));
        continue;
      }
      const data = await jsonOr<unknown>(response, null);
      if (response.ok) return { status: response.status, data: data as T, headers: response.headers };
      if (response.status >= 500 && attempt <= limit) {
        await sleep(this.wait(attempt));
        continue;
      }
      throw this.explain(response.status, data, endpoint, need, attempt);
    }
  }

  /** Every page of a listing, following x-next-page until it is empty. */
  async all<T>(path: string, need: Need): Promise<T[]> {
    const items: T[] = [];
    const join = path.includes('?') ? '&' : '?';
    let page = '1';
    for (let n = 0; page !== ''; n++) {
      if (n >= GITLAB_LIMITS.maxPages) throw new GitLabApiError(`GitLab kept answering more pages of ${path} after ${GITLAB_LIMITS.maxPages}; stopped`, { path });
      const res = await this.call<T[]>('GET', `${path}${join}per_page=${GITLAB_LIMITS.perPage}&page=${page}`, need);
      if (!Array.isArray(res.data)) throw new GitLabApiError(`GitLab answered GET ${path} with something other than a list`, { path });
      for (const item of res.data) items.push(item);
      page = res.headers.get('x-next-page') ?? '';
    }
    return items;
  }

  /** GitLab's error as one line: the scope to add for a 403, the token for a 401, the attempts for a 5xx. */
  explain(status: number, body: unknown, endpoint: string, need: Need, attempts: number): Error {
    const said = gitlabSaid(body, status);
    const data = { endpoint, status, attempts, gitlabMessage: said };
    const { scope, subject, role } = GITLAB_NEEDS[need];
    if (status === 401) {
      return new GitLabAuthError(`GitLab rejected the token for ${endpoint} (401 ${said}): BRAMBLE_GITLAB_TOKEN is not a valid token, or it has expired or been revoked; create a new project access token with the \`${scope}\` scope`, data);
    }
    if (status === 403) {
      const named = isObject(body) && body.error === 'insufficient_scope' && typeof body.scope === 'string' ? body.scope : null;
      if (named) {
        return new GitLabScopeError(`GitLab answered 403 to ${endpoint}: the token lacks the \`${named}\` scope, so this job cannot ${subject}; create the project access token with the \`${named}\` scope (scopes cannot be added to an existing token)`, { ...data, scope: named });
      }
      return new GitLabScopeError(
        `GitLab answered 403 (${said}) to ${endpoint}: the token may not ${subject}; it needs the \`${scope}\` scope and at least the ${role} role in the project`,
        { ...data, scope, role },
      );
    }
    if (status === 404) {
      return new GitLabApiError(`GitLab answered 404 (${said}) to ${endpoint}: check CI_PROJECT_ID and that the token's project is this one`, data);
    }
    if (status >= 500) {
      const times = attempts === 1 ? 'once' : `${attempts} times`;
      return new GitLabApiError(`GitLab's API answered ${status} (${said}) to ${endpoint}, ${times}; GitLab may be having trouble: re-run the job later`, data);
    }
    return new GitLabApiError(`GitLab refused ${endpoint} with ${status} (${said})`, data);
  }
}
