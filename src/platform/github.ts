// The GitHub Actions adapter: the event from GITHUB_EVENT_NAME and the payload at GITHUB_EVENT_PATH, the sticky PR
// comment and the deployment records through GitHub's REST API (octokit from @actions/github), annotations as
// workflow commands and the summary in $GITHUB_STEP_SUMMARY.
//
// Every API failure becomes one line a person can act on: a 403 names the permission to add to the job (or says the
// pull request comes from a fork, whose token is read-only whatever the workflow asks for); 5xx and dropped
// connections are retried a bounded number of times with backoff, then named with the endpoint and the status.
//
// Decisions (approvals, checkApproval):
// - An environment is approved when its GitHub environment has a `required_reviewers` rule with at least one
//   reviewer (GET /repos/{owner}/{repo}/environments/{environment_name}), or when an active tag ruleset restricts
//   the creation of every assignment tag of it (GET /repos/{owner}/{repo}/rulesets?targets=tag, then each ruleset:
//   the list gives summaries without `conditions` or `rules`). Tag protection rules are not asked: GitHub retired
//   them in favour of rulesets.
// - A ruleset counts only when `enforcement` is `active` (not `evaluate` or `disabled`), its `target` is `tag`, it
//   has a `creation` rule (only its bypass list may create matching refs; a ruleset that only forbids deletions
//   approves nothing), and its `ref_name` patterns cover `refs/tags/<name>#<env>#N` for any counter N.
// - A 404 from the environment (no such environment, or environments not available to the repository) or a 403
//   that says the plan lacks the feature is a finding, not a failure: the other check may still approve. A 403 for
//   a missing permission fails the step with the permission named — GitHub's own X-Accepted-GitHub-Permissions
//   header when it sends one — unless the other check approved.
import { readFileSync } from 'node:fs';
import { appendFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import * as core from '@actions/core';
import type { getOctokit } from '@actions/github';
import { describeError, errorClass } from '../errors.js';
import { ANNOTATIONS, countHidden, formatAnnotation, spendAnnotationBudget, takeAnnotationSlot } from './local.js';
import type { Annotation, ApprovalQuery, ApprovalVerdict, DeploymentHandle, DeploymentRequest, EventContext, Platform } from './types.js';

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
} as const;
type Scope = keyof typeof PERMISSIONS;

/** The token may not do this call: a permission missing from the job, or a fork pull request's read-only token. */
export class GitHubPermissionError extends errorClass('E_GITHUB_PERMISSION') {}

/** GitHub answered with an error, or could not be reached, after the retries. */
export class GitHubApiError extends errorClass('E_GITHUB_API') {}

/** No token, or one GitHub does not accept. */
export class GitHubAuthError extends errorClass('E_GITHUB_AUTH') {}

/** The run's event cannot be read, or is not one Bramble runs on. */
export class GitHubEventError extends errorClass('E_GITHUB_EVENT') {}

/** The report is longer than a GitHub comment may be; the caller trims before posting. */
export class CommentTooLongError extends errorClass('E_COMMENT_TOO_LONG') {
  constructor(length: number) {
    super(
      `the comment is ${length.toLocaleString('en-US')} characters, over GitHub's limit of ${GITHUB_LIMITS.commentChars.toLocaleString('en-US')}; trim the report before posting it`,
      { length, limit: GITHUB_LIMITS.commentChars },
    );
  }
}

export interface GitHubPlatformOptions {
  /** Retries after a 5xx or a dropped connection (default 3, so at most 4 attempts per request). */
  retries?: number;
  /** The fetch octokit uses (default: @actions/github's, which honours the runner's proxy settings). */
  fetch?: typeof fetch;
  /** Milliseconds before retry `attempt` (1-based). Default 1 s, 2 s, 4 s…, at most 30 s, or Retry-After. */
  backoff?: (attempt: number) => number;
}

type Octokit = ReturnType<typeof getOctokit>;
type Env = Readonly<Record<string, string | undefined>>;

/** What octokit's RequestError carries, read without depending on @octokit/request-error directly. */
interface ApiFailure extends Error {
  status: number;
  response?: { headers: Record<string, unknown>; data: unknown };
  request?: { method?: string; url?: string };
}

function isApiFailure(err: unknown): err is ApiFailure {
  return err instanceof Error && 'status' in err && typeof err.status === 'number';
}

/** 5xx, and the status 500 octokit gives a request that got no answer at all (refused, reset, DNS). */
function isRetryable(err: unknown): boolean {
  return isApiFailure(err) && err.status >= 500;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function codePoints(text: string): number {
  // GitHub counts characters, not UTF-16 units: an emoji is one.
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Markdown cut to fit `budget` bytes: whole lines, an open code fence closed, and a note saying what was left out.
 * Returns '' when not even the note fits.
 */
export function fitSummary(markdown: string, budget: number): string {
  const total = Buffer.byteLength(markdown);
  if (total <= budget) return markdown;
  const note = (omitted: number) =>
    `\n> [!WARNING]\n> This summary was trimmed: the last ${omitted.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} bytes are not shown (GitHub keeps at most 1 MiB of summary per step).\n`;
  const room = budget - Buffer.byteLength(note(total)) - Buffer.byteLength('```\n');
  if (room <= 0) return '';
  let kept = 0;
  let fenced = false;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    const size = Buffer.byteLength(line) + 1;
    if (kept + size > room) break;
    kept += size;
    lines.push(line);
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
  }
  return `${lines.join('\n')}\n${fenced ? '```\n' : ''}${note(total - kept)}`;
}

/** Counters an assignment tag may carry, tried against a ruleset's patterns: a pattern must take every one of them. */
const PROBE_COUNTERS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '42', '100', '1000000'] as const;

/**
 * Whether a ruleset's ref name pattern matches a full ref (`refs/tags/churn#prod#4`), as GitHub matches them: fnmatch
 * syntax, `*` and `?` not crossing `/`, `**` crossing it, `[…]` a class (`[!…]` negated); `~ALL` matches every ref of
 * the ruleset's target. A pattern without `refs/` is taken as a tag name.
 */
export function refPatternMatches(pattern: string, ref: string): boolean {
  if (pattern === '~ALL') return true;
  if (pattern.startsWith('~')) return false; // ~DEFAULT_BRANCH names a branch, never a tag
  const full = pattern.startsWith('refs/') ? pattern : `refs/tags/${pattern}`;
  let source = '';
  for (let i = 0; i < full.length; i++) {
    const c = full[i];
    if (c === '*') {
      if (full[i + 1] === '*') {
        source += '.*';
        i++;
      } else source += '[^/]*';
    } else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = full.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let body = full.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < full.length) {
      source += full[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(`^${source}$`).test(ref);
  } catch (err) {
    if (err instanceof SyntaxError) return false; // a class GitHub would accept and JavaScript not: no match claimed
    throw err;
  }
}

/** Whether include/exclude patterns cover `refs/tags/<prefix>N` for every counter N (tried on PROBE_COUNTERS). */
export function patternsCoverTags(include: readonly string[], exclude: readonly string[], tagPrefix: string): boolean {
  return PROBE_COUNTERS.every((n) => {
    const ref = `refs/tags/${tagPrefix}${n}`;
    return include.some((p) => refPatternMatches(p, ref)) && !exclude.some((p) => refPatternMatches(p, ref));
  });
}

/** The reviewers of an environment's `required_reviewers` rule, by login or team slug; [] when it has none. */
function requiredReviewers(rules: readonly unknown[] | undefined): string[] {
  const names: string[] = [];
  for (const rule of rules ?? []) {
    if (!isObject(rule) || rule.type !== 'required_reviewers' || !Array.isArray(rule.reviewers)) continue;
    for (const entry of rule.reviewers) {
      const reviewer = isObject(entry) && isObject(entry.reviewer) ? entry.reviewer : undefined;
      const name = reviewer ? (typeof reviewer.login === 'string' ? reviewer.login : typeof reviewer.slug === 'string' ? `team ${reviewer.slug}` : null) : null;
      if (name) names.push(name);
    }
  }
  return names;
}

/** The ref_name patterns of a ruleset's conditions (repository or organization shape); null when it has none. */
function refNames(conditions: unknown): { include: string[]; exclude: string[] } | null {
  if (!isObject(conditions) || !isObject(conditions.ref_name)) return null;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return { include: strings(conditions.ref_name.include), exclude: strings(conditions.ref_name.exclude) };
}

/** A 403 that says the repository's plan lacks the feature, which no permission would fix. */
function isPlanLimit(err: ApiFailure): boolean {
  const body = err.response?.data;
  const said = isObject(body) && typeof body.message === 'string' ? body.message : err.message;
  return /upgrade to github|make this repository public|not available (for|on|in) (this|your)/i.test(said);
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
    throw new GitHubEventError(`cannot read the event payload GITHUB_EVENT_PATH=${path}: ${describeError(err)}`, { path });
  }
  try {
    const payload: unknown = JSON.parse(text);
    if (isObject(payload)) return payload;
  } catch (err) {
    throw new GitHubEventError(`the event payload ${path} is not JSON: ${describeError(err)}`, { path });
  }
  throw new GitHubEventError(`the event payload ${path} is not a JSON object`, { path });
}

export function githubPlatform(env: Env, options: GitHubPlatformOptions = {}): Platform {
  const retries = options.retries ?? GITHUB_LIMITS.defaultRetries;
  const baseUrl = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const attemptsMade = new WeakMap<Error, number>();
  let event: EventContext | undefined;
  let client: Promise<Octokit> | undefined;
  let login: Promise<string | null> | undefined;

  const context = (): EventContext => (event ??= readGitHubEvent(env));

  function wait(attempt: number, err: unknown): number {
    if (options.backoff) return options.backoff(attempt);
    const retryAfter = isApiFailure(err) ? Number(err.response?.headers['retry-after']) : NaN;
    const backoff = Math.min(1000 * 2 ** (attempt - 1), 30_000);
    return Number.isFinite(retryAfter) ? Math.min(Math.max(retryAfter * 1000, backoff), 60_000) : backoff;
  }

  // @actions/github is loaded on the first API call: importing it reads the environment and the event payload, and
  // a step that only annotates or writes a summary has no use for octokit.
  function octokit(): Promise<Octokit> {
    client ??= (async () => {
      const token = env['INPUT_GITHUB-TOKEN'] || env.INPUT_TOKEN || env.GITHUB_TOKEN;
      if (!token) {
        throw new GitHubAuthError(
          'no GitHub token: set the action input `github-token` (default `${{ github.token }}`) or the GITHUB_TOKEN environment variable',
        );
      }
      const { getOctokit } = await import('@actions/github');
      const instance = getOctokit(token, { baseUrl, ...(options.fetch ? { request: { fetch: options.fetch } } : {}) });
      instance.hook.wrap('request', async (request, requestOptions) => {
        const limit = typeof requestOptions.request?.retries === 'number' ? requestOptions.request.retries : retries;
        for (let attempt = 1; ; attempt++) {
          try {
            return await request(requestOptions);
          } catch (err) {
            if (!isRetryable(err) || attempt > limit) {
              if (err instanceof Error) attemptsMade.set(err, attempt);
              throw err;
            }
            await sleep(wait(attempt, err));
          }
        }
      });
      return instance;
    })();
    return client;
  }

  function ownerRepo(): { owner: string; repo: string } {
    const [owner, repo, ...rest] = (env.GITHUB_REPOSITORY ?? '').split('/');
    if (!owner || !repo || rest.length > 0) {
      throw new GitHubEventError(`GITHUB_REPOSITORY is ${JSON.stringify(env.GITHUB_REPOSITORY ?? null)}; expected owner/repo`);
    }
    return { owner, repo };
  }

  function forkPullRequest(): number | null {
    let pr: EventContext['pullRequest'];
    try {
      pr = context().pullRequest;
    } catch (err) {
      // Explaining an API failure must not fail on the event: an unreadable event already failed elsewhere.
      if (err instanceof GitHubEventError) return null;
      throw err;
    }
    return pr?.fork ? pr.number : null;
  }

  /** Turns an octokit failure into the one-line error a person can act on; other errors pass through. */
  function explain(err: unknown, scope: Scope): unknown {
    if (!isApiFailure(err)) return err;
    const path = err.request?.url ? new URL(err.request.url).pathname : '?';
    const endpoint = `${err.request?.method ?? '?'} ${path}`;
    const attempts = attemptsMade.get(err) ?? 1;
    const body = err.response?.data;
    const said = oneLine(isObject(body) && typeof body.message === 'string' ? body.message : err.message);
    const data = { endpoint, status: err.status, attempts, githubMessage: said };
    const times = attempts === 1 ? 'once' : `${attempts} times`;
    if (!err.response) {
      return new GitHubApiError(`could not reach GitHub's API at ${baseUrl} for ${endpoint} (${said}), tried ${times}; check GITHUB_API_URL and the network`, data);
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
      const fork = forkPullRequest();
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
      const { owner, repo } = ownerRepo();
      const what = scope === 'comments' ? `pull request #${context().pullRequest?.number ?? '?'}` : scope === 'deployments' ? 'the deployment' : scope === 'environments' ? 'the environment' : 'the ruleset';
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

  /** The token's login, or null for an app installation token (GITHUB_TOKEN), which GET /user refuses. */
  function whoAmI(api: Octokit): Promise<string | null> {
    login ??= api.rest.users.getAuthenticated().then(
      (res) => res.data.login,
      (err: unknown) => {
        if (isApiFailure(err) && err.status === 403) return null;
        throw explain(err, 'comments');
      },
    );
    return login;
  }

  async function findComment(api: Octokit, owner: string, repo: string, issue: number, marker: string) {
    const all = await api.paginate(api.rest.issues.listComments, { owner, repo, issue_number: issue, per_page: 100 });
    const matching = all.filter((c) => c.body?.includes(marker));
    if (matching.length === 0) return null;
    let candidates = matching;
    // Someone may have quoted the marker; when several authors match, prefer ours: the token's user, or for an
    // installation token (which cannot say who it is) a bot.
    if (new Set(matching.map((c) => c.user?.login)).size > 1) {
      const me = await whoAmI(api);
      const ours = matching.filter((c) => (me === null ? c.user?.type === 'Bot' : c.user?.login === me));
      if (ours.length > 0) candidates = ours;
    }
    return candidates.reduce((newest, c) => (c.id > newest.id ? c : newest));
  }

  async function postStatus(
    deploymentId: number,
    state: 'in_progress' | 'success' | 'failure',
    description: string,
    environmentUrl: string | undefined,
  ): Promise<void> {
    const { owner, repo } = ownerRepo();
    const api = await octokit();
    const clipped = [...description].length > GITHUB_LIMITS.statusDescription ? `${[...description].slice(0, GITHUB_LIMITS.statusDescription - 1).join('')}…` : description;
    const runUrl = context().runUrl;
    try {
      await api.rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: deploymentId,
        state,
        description: clipped,
        ...(environmentUrl ? { environment_url: environmentUrl } : {}),
        ...(runUrl ? { log_url: runUrl } : {}),
      });
    } catch (err) {
      throw explain(err, 'deployments');
    }
  }

  return {
    name: 'github',
    context,

    async upsertComment(marker, text) {
      const pr = context().pullRequest;
      if (!pr) return null;
      const body = text.includes(marker) ? text : `${marker}\n${text}`;
      const length = codePoints(body);
      if (length > GITHUB_LIMITS.commentChars) throw new CommentTooLongError(length);
      const { owner, repo } = ownerRepo();
      const api = await octokit();
      for (let attempt = 1; ; attempt++) {
        let existing: Awaited<ReturnType<typeof findComment>>;
        try {
          existing = await findComment(api, owner, repo, pr.number, marker);
        } catch (err) {
          throw explain(err, 'comments');
        }
        try {
          if (existing) {
            const res = await api.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
            return { url: res.data.html_url, created: false };
          }
          // Not retried inside the request: a POST that timed out may have landed, so the retry starts over from
          // the listing, which finds it — a retried POST would post the report twice.
          const res = await api.rest.issues.createComment({ owner, repo, issue_number: pr.number, body, request: { retries: 0 } });
          return { url: res.data.html_url, created: true };
        } catch (err) {
          // A retryable create, or an update of a comment deleted since the listing: list again and write again.
          const again = existing ? isApiFailure(err) && err.status === 404 : isRetryable(err);
          if (!again || attempt > retries) {
            if (err instanceof Error && !existing) attemptsMade.set(err, attempt);
            throw explain(err, 'comments');
          }
          await sleep(wait(attempt, err));
        }
      }
    },

    async summary(markdown) {
      const file = env.GITHUB_STEP_SUMMARY;
      if (!file) {
        core.info('GITHUB_STEP_SUMMARY is not set (a runner without job summaries?); the summary follows in the log');
        core.info(markdown);
        return;
      }
      const used = await stat(file).then(
        (s) => s.size,
        (err: unknown) => {
          if (isObject(err) && err.code === 'ENOENT') return 0;
          throw err;
        },
      );
      const text = fitSummary(markdown.endsWith('\n') ? markdown : `${markdown}\n`, GITHUB_LIMITS.summaryBytes - used);
      if (text === '') {
        core.warning(`the step summary is full (GitHub keeps at most 1 MiB per step); ${Buffer.byteLength(markdown)} bytes of summary were left out`);
        return;
      }
      // Appended by hand rather than through core.summary: that one reads process.env rather than this adapter's
      // env, remembers the first file it wrote for the life of the process, and shares one buffer process-wide.
      await appendFile(file, text, 'utf8');
    },

    annotate(annotations: readonly Annotation[]) {
      const { shown, hidden } = spendAnnotationBudget(annotations);
      for (const a of shown) {
        const properties: core.AnnotationProperties = {};
        if (a.title) properties.title = a.title;
        if (a.file) properties.file = a.file;
        if (a.line !== undefined) properties.startLine = a.line;
        if (a.col !== undefined) properties.startColumn = a.col;
        core[a.level](a.message, properties);
      }
      for (const level of ANNOTATIONS.levels) {
        const rest = hidden[level];
        if (rest.length === 0) continue;
        const line = `${countHidden(level, rest.length)} not shown as annotations (GitHub shows ${ANNOTATIONS.perLevel} per step); see the log`;
        // The line is a notice while the step has notices left; after that it can only be a log line.
        if (takeAnnotationSlot('notice')) core.notice(line);
        else core.info(line);
        for (const a of rest) core.info(formatAnnotation(a));
      }
    },

    async startDeployment(request: DeploymentRequest): Promise<DeploymentHandle> {
      const { owner, repo } = ownerRepo();
      const api = await octokit();
      let id: number;
      try {
        const res = await api.rest.repos.createDeployment({
          owner,
          repo,
          ref: request.ref,
          environment: request.environment,
          description: request.description,
          auto_merge: false,
          required_contexts: [],
          transient_environment: false,
          production_environment: /^(prod|production)$/i.test(request.environment),
        });
        if (!('id' in res.data)) {
          throw new GitHubApiError(`GitHub did not create a deployment of ${request.ref} to ${request.environment}: ${res.status} ${res.data.message ?? ''}`.trim(), {
            status: res.status,
          });
        }
        id = res.data.id;
      } catch (err) {
        throw explain(err, 'deployments');
      }
      await postStatus(id, 'in_progress', request.description, request.url);
      return {
        id,
        finish: (state, description, url) => postStatus(id, state, description, url ?? request.url),
      };
    },

    async continueDeployment(request: DeploymentRequest): Promise<DeploymentHandle> {
      const { owner, repo } = ownerRepo();
      const api = await octokit();
      let found: number | undefined;
      try {
        const res = await api.rest.repos.listDeployments({ owner, repo, ref: request.ref, environment: request.environment, per_page: 1 });
        found = res.data[0]?.id;
      } catch (err) {
        throw explain(err, 'deployments');
      }
      if (found === undefined) return this.startDeployment(request);
      const id = found;
      await postStatus(id, 'in_progress', request.description, request.url);
      return {
        id,
        finish: (state, description, url) => postStatus(id, state, description, url ?? request.url),
      };
    },

    async checkApproval({ environment, tagPrefix }: ApprovalQuery): Promise<ApprovalVerdict> {
      const { owner, repo } = ownerRepo();
      const api = await octokit();
      const findings: string[] = [];
      const refused: unknown[] = [];
      const pattern = `refs/tags/${tagPrefix}*`;

      try {
        const res = await api.rest.repos.getEnvironment({ owner, repo, environment_name: environment });
        const reviewers = requiredReviewers(res.data.protection_rules);
        if (reviewers.length > 0) return { approved: true, by: `the GitHub environment ${environment} requires a review by ${reviewers.join(', ')}` };
        findings.push(`the GitHub environment ${environment} has no required reviewers`);
      } catch (err) {
        if (isApiFailure(err) && err.response && err.status === 404) {
          findings.push(`${owner}/${repo} has no GitHub environment ${environment} (or environments are not available to it)`);
        } else if (isApiFailure(err) && err.response && err.status === 403 && isPlanLimit(err)) {
          findings.push(`GitHub environments with required reviewers are not available to ${owner}/${repo} on its plan`);
        } else {
          const explained = explain(err, 'environments');
          if (!(explained instanceof GitHubPermissionError)) throw explained;
          refused.push(explained);
        }
      }

      try {
        const summaries = await api.paginate(api.rest.repos.getRepoRulesets, { owner, repo, targets: 'tag', per_page: 100 });
        for (const summary of summaries) {
          // The listing may leave `target` out; `enforcement` is always there.
          if (summary.enforcement !== 'active' || (summary.target !== undefined && summary.target !== 'tag')) continue;
          const { data: ruleset } = await api.rest.repos.getRepoRuleset({ owner, repo, ruleset_id: summary.id });
          if (ruleset.enforcement !== 'active' || ruleset.target !== 'tag') continue;
          if (!(ruleset.rules ?? []).some((rule) => rule.type === 'creation')) continue;
          const refs = refNames(ruleset.conditions);
          if (refs && patternsCoverTags(refs.include, refs.exclude, tagPrefix)) {
            return { approved: true, by: `the tag ruleset "${ruleset.name}" (#${ruleset.id}) lets only its bypass list create ${pattern}` };
          }
        }
        findings.push(`no active tag ruleset restricts the creation of ${pattern}`);
      } catch (err) {
        if (isApiFailure(err) && err.response && (err.status === 404 || (err.status === 403 && isPlanLimit(err)))) {
          findings.push(`rulesets are not available to ${owner}/${repo} (GitHub answered ${err.status})`);
        } else {
          const explained = explain(err, 'rulesets');
          if (!(explained instanceof GitHubPermissionError)) throw explained;
          refused.push(explained);
        }
      }
      // Neither check approved; one that could not look says so rather than a refusal that may be wrong.
      if (refused.length > 0) throw refused[0];
      return { approved: false, findings };
    },

    setOutput(name, value) {
      core.setOutput(name, value);
    },

    info(message) {
      core.info(message);
    },
  };
}
