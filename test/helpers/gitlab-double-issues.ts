// The GitLab double's project issues, merge requests and pipeline creation (the monitor's issue and a retrain), kept
// out of gitlab-double.ts so that each file stays readable. The double matches and checks every request and answer
// against the vendored subset as for its other endpoints, then calls these handlers.
//
// As GitLab does (REST API documentation, Issues, Merge requests, Pipelines):
// - Issues are listed newest first, `state` `all` by default (`opened`, `closed`), `labels` comma-separated and all
//   required; an issue is closed with PUT `state_event: close` and keeps its iid.
// - A second open merge request from the same source branch to the same target answers 409 with GitLab's message.
// - POST /projects/:id/pipeline takes `ref` and `variables` as a list of `{key, value}`.

export interface GitLabIssueRequest {
  url: URL;
  params: Record<string, string>;
  body: Record<string, unknown>;
}

export interface GitLabIssueReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface StoredIssue {
  iid: number;
  id: number;
  title: string;
  description: string;
  labels: string[];
  state: 'opened' | 'closed';
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface StoredMergeRequest {
  iid: number;
  id: number;
  sourceBranch: string;
  targetBranch: string;
  title: string;
  description: string;
  state: 'opened' | 'closed' | 'merged';
}

export interface CreatedPipeline {
  id: number;
  ref: string;
  /** The variables as GitLab stores them: key → value. */
  variables: Record<string, string>;
}

export interface IssueState {
  issues: StoredIssue[];
  mergeRequests: StoredMergeRequest[];
  pipelines: CreatedPipeline[];
}

/** What the handlers need of the double: its clock, ids, project, author and pagination. */
export interface GitLabKit {
  projectId: number;
  webUrl: string;
  now(): string;
  nextId(): number;
  author(): Record<string, unknown>;
  paginate(all: readonly unknown[], url: URL): GitLabIssueReply;
}

function labelsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value !== '' ? value.split(',') : [];
}

export function issueHandlers(kit: GitLabKit, state: IssueState): Record<string, (req: GitLabIssueRequest) => GitLabIssueReply> {
  const notFound = (what: string): GitLabIssueReply => ({ status: 404, body: { message: `404 ${what} Not Found` } });

  /** What an issue and a merge request both carry; `kind` is the web path (`issues`, `merge_requests`). */
  function common(item: StoredIssue | StoredMergeRequest, kind: string) {
    const { id, iid, title, description, state } = item;
    return { id, iid, project_id: kit.projectId, title, description, state, author: kit.author(), web_url: `${kit.webUrl}/-/${kind}/${iid}` };
  }

  function issueObject(issue: StoredIssue) {
    return { ...common(issue, 'issues'), labels: issue.labels, created_at: issue.createdAt, updated_at: issue.updatedAt, closed_at: issue.closedAt };
  }

  function mergeRequestObject(mr: StoredMergeRequest) {
    return { ...common(mr, 'merge_requests'), source_branch: mr.sourceBranch, target_branch: mr.targetBranch };
  }

  const issueOf = (req: GitLabIssueRequest) => state.issues.find((i) => i.iid === Number(req.params.issue_iid));

  return {
    getApiV4ProjectsIdIssues: (req) => {
      const wanted = req.url.searchParams.get('state') ?? 'all';
      const labels = labelsOf(req.url.searchParams.get('labels') ?? '');
      const found = state.issues
        .filter((i) => (wanted === 'all' || i.state === wanted) && labels.every((l) => i.labels.includes(l)))
        .sort((a, b) => b.iid - a.iid);
      return kit.paginate(found.map(issueObject), req.url);
    },
    postApiV4ProjectsIdIssues: (req) => {
      if (typeof req.body.title !== 'string' || req.body.title === '') return { status: 400, body: { error: 'title is missing' } };
      const at = kit.now();
      const issue: StoredIssue = {
        iid: state.issues.length + 1,
        id: kit.nextId(),
        title: req.body.title,
        description: typeof req.body.description === 'string' ? req.body.description : '',
        labels: labelsOf(req.body.labels),
        state: 'opened',
        createdAt: at,
        updatedAt: at,
        closedAt: null,
      };
      state.issues.push(issue);
      return { status: 201, body: issueObject(issue) };
    },
    getApiV4ProjectsIdIssuesIssueIid: (req) => {
      const issue = issueOf(req);
      return issue ? { status: 200, body: issueObject(issue) } : notFound('Issue');
    },
    putApiV4ProjectsIdIssuesIssueIid: (req) => {
      const issue = issueOf(req);
      if (!issue) return notFound('Issue');
      const at = kit.now();
      if (typeof req.body.title === 'string') issue.title = req.body.title;
      if (typeof req.body.description === 'string') issue.description = req.body.description;
      if (req.body.state_event === 'close' && issue.state === 'opened') {
        issue.state = 'closed';
        issue.closedAt = at;
      } else if (req.body.state_event === 'reopen' && issue.state === 'closed') {
        issue.state = 'opened';
        issue.closedAt = null;
      }
      issue.updatedAt = at;
      return { status: 200, body: issueObject(issue) };
    },
    deleteApiV4ProjectsIdIssuesIssueIid: (req) => {
      const issue = issueOf(req);
      if (!issue) return notFound('Issue');
      state.issues.splice(state.issues.indexOf(issue), 1);
      return { status: 204 };
    },
    getApiV4ProjectsIdMergeRequests: (req) => {
      const wanted = req.url.searchParams.get('state') ?? 'all';
      const source = req.url.searchParams.get('source_branch');
      const target = req.url.searchParams.get('target_branch');
      const found = state.mergeRequests
        .filter((m) => (wanted === 'all' || m.state === wanted) && (source === null || m.sourceBranch === source) && (target === null || m.targetBranch === target))
        .sort((a, b) => b.iid - a.iid);
      return kit.paginate(found.map(mergeRequestObject), req.url);
    },
    postApiV4ProjectsIdMergeRequests: (req) => {
      const source = String(req.body.source_branch);
      const target = String(req.body.target_branch);
      const open = state.mergeRequests.find((m) => m.state === 'opened' && m.sourceBranch === source && m.targetBranch === target);
      if (open) return { status: 409, body: { message: [`Another open merge request already exists for this source branch: !${open.iid}`] } };
      const mr: StoredMergeRequest = {
        iid: state.mergeRequests.length + 1,
        id: kit.nextId(),
        sourceBranch: source,
        targetBranch: target,
        title: String(req.body.title),
        description: typeof req.body.description === 'string' ? req.body.description : '',
        state: 'opened',
      };
      state.mergeRequests.push(mr);
      return { status: 201, body: mergeRequestObject(mr) };
    },
    postApiV4ProjectsIdPipeline: (req) => {
      const variables: Record<string, string> = {};
      if (Array.isArray(req.body.variables)) {
        for (const v of req.body.variables) {
          if (typeof v === 'object' && v !== null && 'key' in v && 'value' in v) variables[String(v.key)] = String(v.value);
        }
      }
      const pipeline: CreatedPipeline = { id: kit.nextId(), ref: String(req.body.ref), variables };
      state.pipelines.push(pipeline);
      return { status: 201, body: { id: pipeline.id, iid: state.pipelines.length, project_id: kit.projectId, ref: pipeline.ref, status: 'created', source: 'api', web_url: `${kit.webUrl}/-/pipelines/${pipeline.id}` } };
    },
  };
}
