// The GitHub double's issues, pull requests and workflow dispatches (the monitor's alerts and a retrain), kept out
// of github-double.ts so that each file stays readable. The handlers work on the double's state through `DoubleKit`
// and answer what GitHub answers; the double checks each request and answer against the description as it does for
// every other endpoint.
//
// As GitHub does:
// - Issues and pull requests share one sequence of numbers; GET /repos/{owner}/{repo}/issues lists both (a pull
//   request carries a `pull_request` key), newest first, `state=open` by default, `labels` all required.
// - Closing is PATCH with `state: closed`; a closed issue keeps its number and comments.
// - A workflow dispatch answers 204, or 200 with the run's ids when `return_run_details` is true; each is recorded.
// - A second pull request from the same head to the same base answers 422 "A pull request already exists".
// Objects GitHub returns in full (a pull request's head and base repositories) are the description's own examples
// (`components.examples`) with this double's values put in.

export type DoubleActor = { login: string; id: number; type: 'User' | 'Bot' };

export interface DoubleInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  actor: DoubleActor;
  docs: string;
}

export interface DoubleReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface StoredIssue {
  number: number;
  id: number;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  stateReason: string | null;
  author: DoubleActor;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface StoredPull {
  number: number;
  id: number;
  head: string;
  base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
  author: DoubleActor;
  createdAt: string;
}

export interface StoredDispatch {
  /** The workflow's file name or id, as the path gave it. */
  workflow: string;
  ref: string;
  inputs: Record<string, unknown>;
  runId: number;
}

/** What the handlers need of the double: its clock, ids, URLs, users, error bodies and examples. */
export interface DoubleKit {
  owner: string;
  repo: string;
  serverUrl: string;
  now(): string;
  nextId(): number;
  repoApi(): string;
  userObject(actor: DoubleActor): Record<string, unknown>;
  findRepo(input: DoubleInput): DoubleReply | null;
  errorBody(status: number, message: string, docs: string): Record<string, unknown>;
  /** The pull request numbers tests opened without content (openPullRequest, seedComments). */
  bareNumbers(): Iterable<number>;
  /** A value of the description's `components.examples`. */
  example(name: string): unknown;
}

export interface IssueState {
  issues: StoredIssue[];
  pulls: StoredPull[];
  dispatches: StoredDispatch[];
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One page of a listing, with GitHub's Link header. */
function page<T>(all: readonly T[], query: Record<string, unknown>, url: string): { items: T[]; headers: Record<string, string> } {
  const perPage = Math.min(Number(query.per_page ?? 30), 100);
  const current = Math.max(Number(query.page ?? 1), 1);
  const last = Math.max(Math.ceil(all.length / perPage), 1);
  const join = url.includes('?') ? '&' : '?';
  const link = (n: number, rel: string) => `<${url}${join}per_page=${perPage}&page=${n}>; rel="${rel}"`;
  const links: string[] = [];
  if (current > 1) links.push(link(current - 1, 'prev'));
  if (current < last) links.push(link(current + 1, 'next'), link(last, 'last'));
  if (current > 1) links.push(link(1, 'first'));
  return { items: all.slice((current - 1) * perPage, current * perPage), headers: links.length > 0 ? { link: links.join(', ') } : {} };
}

function nextNumber(kit: DoubleKit, state: IssueState): number {
  let max = 0;
  for (const n of kit.bareNumbers()) max = Math.max(max, n);
  for (const i of state.issues) max = Math.max(max, i.number);
  for (const p of state.pulls) max = Math.max(max, p.number);
  return max + 1;
}

function labelObject(kit: DoubleKit, name: string) {
  const id = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000, 7);
  return {
    id,
    node_id: `LA_kwDO${Buffer.from(name).toString('base64url')}`,
    url: `${kit.repoApi()}/labels/${encodeURIComponent(name)}`,
    name,
    description: null,
    color: 'ededed',
    default: false,
  };
}

function issueObject(kit: DoubleKit, issue: StoredIssue, pull?: StoredPull) {
  const url = `${kit.repoApi()}/issues/${issue.number}`;
  return {
    id: issue.id,
    node_id: `I_kwDO${Buffer.from(String(issue.id)).toString('base64url')}`,
    url,
    repository_url: kit.repoApi(),
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${kit.serverUrl}/${kit.owner}/${kit.repo}/${pull ? 'pull' : 'issues'}/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.stateReason,
    title: issue.title,
    body: issue.body,
    user: kit.userObject(issue.author),
    labels: issue.labels.map((l) => labelObject(kit, l)),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    comments: 0,
    closed_at: issue.closedAt,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    author_association: issue.author.type === 'Bot' ? 'NONE' : 'OWNER',
    ...(pull
      ? {
          pull_request: {
            url: `${kit.repoApi()}/pulls/${pull.number}`,
            html_url: `${kit.serverUrl}/${kit.owner}/${kit.repo}/pull/${pull.number}`,
            diff_url: `${kit.serverUrl}/${kit.owner}/${kit.repo}/pull/${pull.number}.diff`,
            patch_url: `${kit.serverUrl}/${kit.owner}/${kit.repo}/pull/${pull.number}.patch`,
          },
        }
      : {}),
  };
}

/** A pull request as GitHub's example of `name` shows one, with this double's values in. */
function pullObject(kit: DoubleKit, pull: StoredPull, name: 'pull-request' | 'pull-request-simple-items') {
  const raw = kit.example(name);
  const base = clone(Array.isArray(raw) ? raw[0] : raw);
  if (!isRecord(base)) throw new Error(`the description has no example ${name}`);
  const url = `${kit.repoApi()}/pulls/${pull.number}`;
  const html = `${kit.serverUrl}/${kit.owner}/${kit.repo}/pull/${pull.number}`;
  const side = (key: 'head' | 'base', ref: string) => {
    const value = base[key];
    if (isRecord(value)) Object.assign(value, { ref, label: `${kit.owner}:${ref}` });
  };
  side('head', pull.head);
  side('base', pull.base);
  return Object.assign(base, {
    id: pull.id,
    number: pull.number,
    url,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${kit.repoApi()}/issues/${pull.number}`,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    comments_url: `${kit.repoApi()}/issues/${pull.number}/comments`,
    title: pull.title,
    body: pull.body,
    state: pull.state,
    user: kit.userObject(pull.author),
    created_at: pull.createdAt,
    updated_at: pull.createdAt,
    closed_at: null,
    merged_at: null,
    // A pull request Bramble opens has no reviewers, teams, labels or assignees (the example's would not all
    // validate: its requested team lacks `type`).
    requested_reviewers: [],
    requested_teams: [],
    labels: [],
    assignee: null,
    assignees: [],
    milestone: null,
  });
}

export function issueHandlers(kit: DoubleKit, state: IssueState): Record<string, (input: DoubleInput) => DoubleReply> {
  const notFound = (docs: string): DoubleReply => ({ status: 404, body: kit.errorBody(404, 'Not Found', docs) });

  return {
    'issues/list-for-repo': (input) => {
      const missing = kit.findRepo(input);
      if (missing) return missing;
      const wanted = String(input.query.state ?? 'open');
      const labels = typeof input.query.labels === 'string' && input.query.labels !== '' ? input.query.labels.split(',') : [];
      const rows: { createdAt: string; number: number; object: unknown }[] = [];
      for (const issue of state.issues) {
        if (wanted !== 'all' && issue.state !== wanted) continue;
        if (!labels.every((l) => issue.labels.includes(l))) continue;
        rows.push({ createdAt: issue.createdAt, number: issue.number, object: issueObject(kit, issue) });
      }
      for (const pull of state.pulls) {
        if ((wanted !== 'all' && pull.state !== wanted) || labels.length > 0) continue;
        const asIssue: StoredIssue = { ...pull, id: pull.id, labels: [], stateReason: null, updatedAt: pull.createdAt, closedAt: null };
        rows.push({ createdAt: pull.createdAt, number: pull.number, object: issueObject(kit, asIssue, pull) });
      }
      rows.sort((a, b) => b.number - a.number);
      const { items, headers } = page(rows, input.query, `${kit.repoApi()}/issues?state=${wanted}${labels.length > 0 ? `&labels=${encodeURIComponent(labels.join(','))}` : ''}`);
      return { status: 200, body: items.map((r) => r.object), headers };
    },

    'issues/create': (input) => {
      const missing = kit.findRepo(input);
      if (missing) return missing;
      const stamp = kit.now();
      const labels = Array.isArray(input.body.labels) ? input.body.labels.map((l) => (isRecord(l) ? String(l.name) : String(l))) : [];
      const issue: StoredIssue = {
        number: nextNumber(kit, state),
        id: kit.nextId(),
        title: String(input.body.title),
        body: typeof input.body.body === 'string' ? input.body.body : '',
        labels,
        state: 'open',
        stateReason: null,
        author: input.actor,
        createdAt: stamp,
        updatedAt: stamp,
        closedAt: null,
      };
      state.issues.push(issue);
      const object = issueObject(kit, issue);
      return { status: 201, body: object, headers: { location: object.url } };
    },

    'issues/update': (input) => {
      const missing = kit.findRepo(input);
      if (missing) return missing;
      const issue = state.issues.find((i) => i.number === Number(input.params.issue_number));
      if (!issue) return notFound(input.docs);
      const stamp = kit.now();
      if (typeof input.body.title === 'string') issue.title = input.body.title;
      if (typeof input.body.body === 'string') issue.body = input.body.body;
      if (input.body.state === 'closed' && issue.state === 'open') {
        issue.state = 'closed';
        issue.closedAt = stamp;
        issue.stateReason = typeof input.body.state_reason === 'string' ? input.body.state_reason : 'completed';
      } else if (input.body.state === 'open' && issue.state === 'closed') {
        issue.state = 'open';
        issue.closedAt = null;
        issue.stateReason = 'reopened';
      }
      issue.updatedAt = stamp;
      return { status: 200, body: issueObject(kit, issue) };
    },

    'actions/create-workflow-dispatch': (input) => {
      const missing = kit.findRepo(input);
      if (missing) return missing;
      const runId = kit.nextId();
      state.dispatches.push({
        workflow: String(input.params.workflow_id),
        ref: String(input.body.ref),
        inputs: isRecord(input.body.inputs) ? input.body.inputs : {},
        runId,
      });
      if (input.body.return_run_details !== true) return { status: 204 };
      return {
        status: 200,
        body: {
          workflow_run_id: runId,
          run_url: `${kit.repoApi()}/actions/runs/${runId}`,
          html_url: `${kit.serverUrl}/${kit.owner}/${kit.repo}/actions/runs/${runId}`,
        },
      };
    },

    'pulls/list': (input) => {
      const missing = kit.findRepo(input);
      if (missing) return missing;
      const wanted = String(input.query.state ?? 'open');
      const head = typeof input.query.head === 'string' ? input.query.head : null;
      const base = typeof input.query.base === 'string' ? input.query.base : null;
      const matching = state.pulls
        .filter((p) => (wanted === 'all' || p.state === wanted) && (head === null || `${kit.owner}:${p.head}` === head) && (base === null || p.base === base))
        .sort((a, b) => b.number - a.number);
      const { items, headers } = page(matching, input.query, `${kit.repoApi()}/pulls?state=${wanted}`);
      return { status: 200, body: items.map((p) => pullObject(kit, p, 'pull-request-simple-items')), headers };
    },

    'pulls/create': (input) => {
      const missing = kit.findRepo(input);
      if (missing) return missing;
      const head = String(input.body.head).replace(new RegExp(`^${kit.owner}:`), '');
      const base = String(input.body.base);
      if (state.pulls.some((p) => p.state === 'open' && p.head === head && p.base === base)) {
        return {
          status: 422,
          body: {
            message: 'Validation Failed',
            errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${kit.owner}:${head}.` }],
            documentation_url: input.docs,
            status: '422',
          },
        };
      }
      const pull: StoredPull = {
        number: nextNumber(kit, state),
        id: kit.nextId(),
        head,
        base,
        title: String(input.body.title),
        body: typeof input.body.body === 'string' ? input.body.body : '',
        state: 'open',
        author: input.actor,
        createdAt: kit.now(),
      };
      state.pulls.push(pull);
      const object = pullObject(kit, pull, 'pull-request');
      return { status: 201, body: object, headers: { location: String(object.url) } };
    },
  };
}
