// A local double of GitLab's REST API for tests: a node:http server on 127.0.0.1 (port 0) that implements the
// endpoints Bramble calls — merge-request notes, deployments, environments, repository tags and the pipeline
// trigger; project issues, merge requests and pipeline creation in gitlab-double-issues.ts — over in-memory state,
// and that checks every request it takes and every response it gives against the OpenAPI subset of GitLab's own
// description vendored in vendor/gitlab/ (SOURCE.md there). As in the GitHub double, a mismatch never throws
// inside the server: it is recorded in `problems`, and tests assert that list stays empty.
//
// What the double does as GitLab does (from GitLab's REST API documentation):
// - Authentication: `PRIVATE-TOKEN: <token>`, `Authorization: Bearer <token>` or `JOB-TOKEN: <CI_JOB_TOKEN>`. An
//   unknown token answers 401 `{"message":"401 Unauthorized"}`. A personal/project access token without the scope
//   an endpoint needs answers 403 `{"error":"insufficient_scope","error_description":…,"scope":"api"}` — `read_api`
//   reads, `api` reads and writes. A job token reaches only what GitLab lets it: here, reading notes and the
//   pipeline trigger (whose token travels in the body); anything else answers 403 `{"message":"403 Forbidden"}`.
// - Pagination: `page` and `per_page` (20 by default, at most 100 — GitLab clamps larger values), with the
//   `x-page`, `x-per-page`, `x-next-page` (empty on the last page), `x-prev-page`, `x-total`, `x-total-pages` and
//   `link` headers.
// - Notes are listed newest first unless `sort=asc`; `system: true` notes ("added 1 commit") are GitLab's own.
//
// How the checking works:
// - The method and path are matched to a path template of the subset (`/api/v4/projects/{id}/merge_requests/
//   {noteable_id}/notes`), the most literal template winning; none is a problem.
// - Path and query parameters are coerced from strings by their schema's type and validated; an undeclared query
//   parameter is a problem. The JSON body is validated against the requestBody schema, and — stricter than GitLab,
//   which ignores them — a top-level body field the operation does not declare is a problem.
// - The response is validated against the schema declared for its status. The subset declares the notes listing's
//   200 as a single APIEntitiesNote though GitLab answers an array: an array answered where an object schema is
//   declared is checked element by element. An error status without a schema is checked against GitLab's two error
//   shapes (`{message}` or `{error, error_description}`).
// - OpenAPI 3.0 → JSON Schema: `nullable` becomes a union with null; `example`, `x-*` and the like are dropped;
//   formats other than date-time are dropped (int64, float). Ajv: one instance for this file, non-strict, never
//   coercing or filling defaults, each schema compiled once.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { issueHandlers, type CreatedPipeline, type IssueState, type StoredIssue, type StoredMergeRequest } from './gitlab-double-issues.js';
import { compilePathTemplates, type PathTemplate } from './openapi-paths.js';

export type { CreatedPipeline, StoredIssue, StoredMergeRequest } from './gitlab-double-issues.js';

export const GITLAB_DOUBLE = {
  projectId: 42,
  projectPath: 'data-team/churn',
  serverUrl: 'https://gitlab.example.com',
  /** A project access token with the `api` scope: the BRAMBLE_GITLAB_TOKEN the pipeline is meant to have. */
  apiToken: 'glpat-doubleApiScope0000000',
  /** A project access token with only `read_api`. */
  readToken: 'glpat-doubleReadApiScope000',
  /** The job's CI_JOB_TOKEN. */
  jobToken: 'glcbt-doubleJobToken000000',
  defaultPerPage: 20,
  maxPerPage: 100,
} as const;

export interface GitLabUser {
  id: number;
  username: string;
  name: string;
}

export const GITLAB_USERS = {
  bot: { id: 9001, username: 'project_42_bot_bramble', name: 'bramble' },
  alice: { id: 17, username: 'alice', name: 'Alice' },
} as const satisfies Record<string, GitLabUser>;

export interface TokenGrant {
  user: GitLabUser;
  /** `api`, `read_api`, `write_repository`, …; `job` marks a CI job token. */
  scopes: string[];
  /** The token's role in the project (30 Developer, 40 Maintainer); default 40. Reading protected tags needs 40. */
  role?: number;
}

export interface GitLabCall {
  method: string;
  /** Path and query as sent. */
  path: string;
  operationId: string | null;
  body: unknown;
  status: number;
  /** Which credential the request carried: the token itself, or null. */
  token: string | null;
}

export interface StoredNote {
  id: number;
  iid: number;
  body: string;
  system: boolean;
  author: GitLabUser;
  createdAt: string;
  updatedAt: string;
}

export interface StoredDeployment {
  id: number;
  iid: number;
  environment: string;
  ref: string;
  sha: string;
  tag: boolean;
  statuses: string[];
}

export interface StoredEnvironment {
  id: number;
  name: string;
  externalUrl: string | null;
  tier: string;
}

/** A protected tag rule (Settings → Repository → Protected tags): a name or wildcard, and who may create such tags. */
export interface StoredProtectedTag {
  name: string;
  /** `access_level` 0 (no one), 30 (Developer), 40 (Maintainer); or a user, group or deploy key. */
  createAccessLevels: { access_level: number; user_id?: number; group_id?: number; deploy_key_id?: number }[];
}

export interface TriggeredPipeline {
  id: number;
  ref: string;
  variables: Record<string, string>;
  via: 'job-token' | 'trigger-token';
}

export interface GitLabDouble {
  /** The API's base, as CI_API_V4_URL: `http://127.0.0.1:PORT/api/v4`. */
  readonly apiUrl: string;
  readonly problems: string[];
  readonly calls: GitLabCall[];
  readonly notes: StoredNote[];
  readonly deployments: StoredDeployment[];
  readonly environments: StoredEnvironment[];
  readonly pipelines: TriggeredPipeline[];
  /** Project issues (the monitor's), merge requests and pipelines created through the API (gitlab-double-issues.ts). */
  readonly issues: StoredIssue[];
  readonly createdMergeRequests: StoredMergeRequest[];
  readonly createdPipelines: CreatedPipeline[];
  /** The project's protected tag rules; a test pushes the ones it needs. */
  readonly protectedTags: StoredProtectedTag[];
  openMergeRequest(iid: number): void;
  /** Notes already on a merge request, oldest first. */
  seedNotes(iid: number, bodies: readonly string[], options?: { system?: boolean; author?: GitLabUser }): StoredNote[];
  /**
   * The next `times` requests of `method` to a path matching `pattern` answer `status` with GitLab's error body
   * (`{"message":"500 Internal Server Error"}`). The request is still checked first.
   */
  fail(method: string, pattern: RegExp, status: number, times?: number): void;
  close(): Promise<void>;
}

export interface GitLabDoubleOptions {
  projectId?: number;
  tokens?: Record<string, TokenGrant>;
}

// ----------------------------------------------------------------------------------------------------------------
// The description, loaded and converted once per test file

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
type PathItem = Partial<Record<'get' | 'post' | 'put' | 'delete', Operation>>;
type Template = PathTemplate<PathItem>;

const DOCUMENT_ID = 'gitlab-openapi-subset';

interface Description {
  templates: Template[];
  ajv: Ajv;
  validators: Map<string, ValidateFunction>;
}
let description: Description | undefined;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An OpenAPI 3.0 schema as draft-07 JSON Schema, its `$ref`s pointing into the converted document. */
function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!isObject(schema)) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || ['example', 'examples', 'nullable', 'deprecated', 'readOnly', 'writeOnly'].includes(key)) continue;
    if (key === '$ref' && typeof value === 'string') out.$ref = `${DOCUMENT_ID}${value.replace('#/components/schemas/', '#/definitions/')}`;
    else if (key === 'format') {
      if (value === 'date-time') out.format = value;
    } else if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, toJsonSchema(s)]));
    } else out[key] = toJsonSchema(value);
  }
  if (schema.nullable === true && typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}

function loadDescription(): Description {
  if (description) return description;
  const file = new URL('../../vendor/gitlab/gitlab-openapi-subset.yaml', import.meta.url);
  const document = parseYaml(readFileSync(file, 'utf8')) as { paths: Record<string, PathItem>; components: { schemas: Record<string, unknown> } };
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    allowUnionTypes: true,
    formats: { 'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i },
  });
  ajv.addSchema({ $id: DOCUMENT_ID, definitions: toJsonSchema(document.components.schemas) });
  const templates = compilePathTemplates(document.paths);
  description = { templates, ajv, validators: new Map() };
  return description;
}

function validator(key: string, schema: unknown): ValidateFunction {
  const desc = loadDescription();
  let validate = desc.validators.get(key);
  if (!validate) {
    validate = desc.ajv.compile(isObject(schema) ? (toJsonSchema(schema) as Schema) : {});
    desc.validators.set(key, validate);
  }
  return validate;
}

function formatErrors(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 6)
    .map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`)
    .join('; ');
}

/** A path or query value typed as its schema says, so that "abc" for an integer fails and "7" passes. */
function coerce(value: string, schema: Schema | undefined): unknown {
  const type = schema?.type;
  if (type === 'integer') return /^-?\d+$/.test(value) ? Number(value) : value;
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  // `style: form, explode: false`: a list is one comma-separated value (labels=a,b).
  if (type === 'array') return value.split(',');
  return value;
}

// The error shapes GitLab answers with where the description declares no schema.
const ERROR_SCHEMA = {
  anyOf: [
    { type: 'object', required: ['message'], properties: { message: {} } },
    { type: 'object', required: ['error'], properties: { error: { type: 'string' }, error_description: { type: 'string' }, scope: { type: 'string' } } },
  ],
};

// ----------------------------------------------------------------------------------------------------------------
// The server

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Request {
  method: string;
  url: URL;
  params: Record<string, string>;
  body: Record<string, unknown>;
  grant: TokenGrant | null;
}

interface Fault {
  method: string;
  pattern: RegExp;
  status: number;
  remaining: number;
}

const READS = new Set(['GET', 'HEAD']);
const TRIGGERS = new Set(['postApiV4ProjectsIdTriggerPipeline', 'postApiV4ProjectsIdRefRefTriggerPipeline']);
/** Operations a CI job token may call (GitLab's list of job-token endpoints, narrowed to this subset). */
const JOB_TOKEN_OPERATIONS = new Set(['getApiV4ProjectsIdMergeRequestsNoteableIdNotes', 'getApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId']);
/** Operations GitLab lets only a Maintainer (or above) call: the protected tags API authorizes admin_project. */
const MAINTAINER_OPERATIONS = new Set(['getApiV4ProjectsIdProtectedTags', 'getApiV4ProjectsIdProtectedTagsName']);
const ACCESS_LEVEL_NAMES: Record<number, string> = { 0: 'No one', 30: 'Developers + Maintainers', 40: 'Maintainers', 60: 'Instance admins' };

export async function startGitLabDouble(options: GitLabDoubleOptions = {}): Promise<GitLabDouble> {
  const desc = loadDescription();
  const projectId = options.projectId ?? GITLAB_DOUBLE.projectId;
  const tokens: Record<string, TokenGrant> = options.tokens ?? {
    [GITLAB_DOUBLE.apiToken]: { user: GITLAB_USERS.bot, scopes: ['api', 'write_repository'] },
    [GITLAB_DOUBLE.readToken]: { user: GITLAB_USERS.bot, scopes: ['read_api'] },
    [GITLAB_DOUBLE.jobToken]: { user: GITLAB_USERS.alice, scopes: ['job'] },
  };
  const problems: string[] = [];
  const calls: GitLabCall[] = [];
  const notes: StoredNote[] = [];
  const deployments: StoredDeployment[] = [];
  const environments: StoredEnvironment[] = [];
  const pipelines: TriggeredPipeline[] = [];
  const protectedTags: StoredProtectedTag[] = [];
  const mergeRequests = new Set<number>();
  const issueState: IssueState = { issues: [], mergeRequests: [], pipelines: [] };
  const faults: Fault[] = [];
  let base = '';
  let nextId = 500;
  let clock = Date.parse('2026-01-05T09:00:00Z');
  const now = () => new Date((clock += 1000)).toISOString();
  const webUrl = `${GITLAB_DOUBLE.serverUrl}/${GITLAB_DOUBLE.projectPath}`;

  function userObject(user: GitLabUser) {
    return { id: user.id, username: user.username, name: user.name, state: 'active', locked: false, avatar_url: `https://secure.gravatar.com/avatar/${user.id}`, web_url: `${GITLAB_DOUBLE.serverUrl}/${user.username}` };
  }

  function noteObject(note: StoredNote) {
    return {
      id: note.id,
      body: note.body,
      author: userObject(note.author),
      created_at: note.createdAt,
      updated_at: note.updatedAt,
      system: note.system,
      noteable_id: 9000 + note.iid,
      noteable_type: 'MergeRequest',
      project_id: projectId,
      resolvable: false,
      confidential: false,
      internal: false,
      imported: false,
      imported_from: 'none',
      noteable_iid: note.iid,
      commands_changes: {},
    };
  }

  function environmentBasic(env: StoredEnvironment) {
    const basic = { id: env.id, name: env.name, slug: env.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'), created_at: now(), updated_at: now() };
    return env.externalUrl === null ? basic : { ...basic, external_url: env.externalUrl };
  }

  function environmentObject(env: StoredEnvironment) {
    return { ...environmentBasic(env), tier: env.tier, state: 'available' };
  }

  function deploymentObject(d: StoredDeployment) {
    const env = environments.find((e) => e.name === d.environment);
    return {
      id: d.id,
      iid: d.iid,
      ref: d.ref,
      sha: d.sha,
      created_at: now(),
      updated_at: now(),
      user: userObject(GITLAB_USERS.bot),
      ...(env ? { environment: environmentBasic(env) } : {}),
      status: d.statuses[d.statuses.length - 1],
    };
  }

  function tierOf(name: string): string {
    if (/^(prod|production)$/i.test(name)) return 'production';
    if (/^(staging|stage)$/i.test(name)) return 'staging';
    if (/^(dev|develop|development)$/i.test(name)) return 'development';
    return 'other';
  }

  function paginate(all: readonly unknown[], url: URL): Reply {
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const asked = Number(url.searchParams.get('per_page') ?? GITLAB_DOUBLE.defaultPerPage) || GITLAB_DOUBLE.defaultPerPage;
    const perPage = Math.min(Math.max(1, asked), GITLAB_DOUBLE.maxPerPage);
    const totalPages = Math.max(1, Math.ceil(all.length / perPage));
    const next = page < totalPages ? String(page + 1) : '';
    const link = (p: number, rel: string) => {
      const u = new URL(url);
      u.searchParams.set('page', String(p));
      u.searchParams.set('per_page', String(perPage));
      return `<${base}${u.pathname}${u.search}>; rel="${rel}"`;
    };
    const links = [next ? link(page + 1, 'next') : '', page > 1 ? link(page - 1, 'prev') : '', link(1, 'first'), link(totalPages, 'last')].filter(Boolean);
    return {
      status: 200,
      body: all.slice((page - 1) * perPage, page * perPage),
      headers: {
        'x-page': String(page),
        'x-per-page': String(perPage),
        'x-next-page': next,
        'x-prev-page': page > 1 ? String(page - 1) : '',
        'x-total': String(all.length),
        'x-total-pages': String(totalPages),
        link: links.join(', '),
      },
    };
  }

  const notFound = (what: string): Reply => ({ status: 404, body: { message: `404 ${what} Not Found` } });

  function protectedTagObject(rule: StoredProtectedTag) {
    const levels = rule.createAccessLevels.map((level, i) => ({
      id: 700 + i,
      ...level,
      access_level_description: level.user_id !== undefined ? `user ${level.user_id}` : level.group_id !== undefined ? `group ${level.group_id}` : level.deploy_key_id !== undefined ? `deploy key ${level.deploy_key_id}` : (ACCESS_LEVEL_NAMES[level.access_level] ?? String(level.access_level)),
    }));
    return { name: rule.name, create_access_levels: levels };
  }

  function mergeRequestOf(req: Request): number | Reply {
    const iid = Number(req.params.noteable_id);
    // Opened by the test (openMergeRequest) or through the API (a retrain's merge request).
    return mergeRequests.has(iid) || issueState.mergeRequests.some((m) => m.iid === iid) ? iid : notFound('Merge Request');
  }

  const monitorHandlers = issueHandlers({ projectId, webUrl, now, nextId: () => nextId++, author: () => userObject(GITLAB_USERS.bot), paginate }, issueState);

  function handle(operationId: string, req: Request): Reply {
    switch (operationId) {
      case 'getApiV4ProjectsIdMergeRequestsNoteableIdNotes': {
        const iid = mergeRequestOf(req);
        if (typeof iid !== 'number') return iid;
        const asc = req.url.searchParams.get('sort') === 'asc';
        const mine = notes.filter((n) => n.iid === iid).sort((a, b) => (asc ? a.id - b.id : b.id - a.id));
        return paginate(mine.map(noteObject), req.url);
      }
      case 'postApiV4ProjectsIdMergeRequestsNoteableIdNotes': {
        const iid = mergeRequestOf(req);
        if (typeof iid !== 'number') return iid;
        if (typeof req.body.body !== 'string' || req.body.body === '') return { status: 400, body: { message: { note: ["can't be blank"] } } };
        const at = now();
        const note: StoredNote = { id: nextId++, iid, body: req.body.body, system: false, author: req.grant?.user ?? GITLAB_USERS.bot, createdAt: at, updatedAt: at };
        notes.push(note);
        return { status: 201, body: noteObject(note) };
      }
      case 'putApiV4ProjectsIdMergeRequestsNoteableIdNotesNoteId': {
        const iid = mergeRequestOf(req);
        if (typeof iid !== 'number') return iid;
        const note = notes.find((n) => n.iid === iid && n.id === Number(req.params.note_id));
        if (!note) return notFound('Note');
        if (note.system) return { status: 403, body: { message: '403 Forbidden' } };
        if (typeof req.body.body === 'string') note.body = req.body.body;
        note.updatedAt = now();
        return { status: 200, body: noteObject(note) };
      }
      case 'getApiV4ProjectsIdEnvironments': {
        const name = req.url.searchParams.get('name');
        return paginate(environments.filter((e) => name === null || e.name === name).map(environmentObject), req.url);
      }
      case 'putApiV4ProjectsIdEnvironmentsEnvironmentId': {
        const env = environments.find((e) => e.id === Number(req.params.environment_id));
        if (!env) return notFound('Environment');
        if (typeof req.body.external_url === 'string') env.externalUrl = req.body.external_url;
        return { status: 200, body: environmentObject(env) };
      }
      case 'postApiV4ProjectsIdDeployments': {
        const name = String(req.body.environment);
        let env = environments.find((e) => e.name === name);
        if (!env) {
          env = { id: nextId++, name, externalUrl: null, tier: tierOf(name) };
          environments.push(env);
        }
        const d: StoredDeployment = {
          id: nextId++,
          iid: deployments.length + 1,
          environment: name,
          ref: String(req.body.ref),
          sha: String(req.body.sha),
          tag: req.body.tag === true,
          statuses: [String(req.body.status)],
        };
        deployments.push(d);
        return { status: 201, body: deploymentObject(d) };
      }
      case 'getApiV4ProjectsIdDeployments': {
        const env = req.url.searchParams.get('environment');
        const desc = req.url.searchParams.get('sort') === 'desc';
        const found = deployments.filter((d) => env === null || d.environment === env).sort((a, b) => (desc ? b.id - a.id : a.id - b.id));
        return paginate(found.map(deploymentObject), req.url);
      }
      case 'putApiV4ProjectsIdDeploymentsDeploymentId': {
        const d = deployments.find((x) => x.id === Number(req.params.deployment_id));
        if (!d) return notFound('Deployment');
        d.statuses.push(String(req.body.status));
        return { status: 200, body: deploymentObject(d) };
      }
      case 'postApiV4ProjectsIdTriggerPipeline':
      case 'postApiV4ProjectsIdRefRefTriggerPipeline': {
        const token = String(req.body.token);
        const grant = tokens[token];
        const via = grant?.scopes.includes('job') ? 'job-token' : token.startsWith('glptt-') ? 'trigger-token' : null;
        if (!via) return { status: 404, body: { message: '404 Not Found' } };
        const variables = isObject(req.body.variables) ? Object.fromEntries(Object.entries(req.body.variables).map(([k, v]) => [k, String(v)])) : {};
        const pipeline: TriggeredPipeline = { id: nextId++, ref: req.params.ref ?? '', variables, via };
        pipelines.push(pipeline);
        return { status: 201, body: { id: pipeline.id, iid: pipelines.length, project_id: projectId, ref: pipeline.ref, status: 'created', source: 'trigger', web_url: `${webUrl}/-/pipelines/${pipeline.id}` } };
      }
      case 'getApiV4ProjectsIdProtectedTags':
        return paginate(protectedTags.map(protectedTagObject), req.url);
      case 'getApiV4ProjectsIdProtectedTagsName': {
        const rule = protectedTags.find((t) => t.name === req.params.name);
        return rule ? { status: 200, body: protectedTagObject(rule) } : notFound('Protected Tag');
      }
      default: {
        const monitor = monitorHandlers[operationId];
        if (monitor) return monitor(req);
        problems.push(`${req.method} ${req.url.pathname}: the double does not implement ${operationId}`);
        return { status: 501, body: { message: '501 Not Implemented' } };
      }
    }
  }

  function authenticate(req: IncomingMessage): { token: string | null; grant: TokenGrant | null } {
    const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    const token = String(req.headers['private-token'] ?? req.headers['job-token'] ?? bearer?.[1] ?? '') || null;
    return { token, grant: token ? (tokens[token] ?? null) : null };
  }

  function authorize(operationId: string, method: string, grant: TokenGrant | null): Reply | null {
    // The trigger authenticates with the token in its body, not a header.
    if (TRIGGERS.has(operationId)) return null;
    if (!grant) return { status: 401, body: { message: '401 Unauthorized' } };
    if (grant.scopes.includes('job')) return JOB_TOKEN_OPERATIONS.has(operationId) ? null : { status: 403, body: { message: '403 Forbidden' } };
    const enough = grant.scopes.includes('api') || (READS.has(method) && grant.scopes.includes('read_api'));
    // The scope first, then the role: a Developer's token with `api` may not read protected tags.
    if (enough) return MAINTAINER_OPERATIONS.has(operationId) && (grant.role ?? 40) < 40 ? { status: 403, body: { message: '403 Forbidden' } } : null;
    return {
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token.', scope: 'api' },
      headers: { 'www-authenticate': 'Bearer realm="", error="insufficient_scope", error_description="The request requires higher privileges than provided by the access token.", scope="api"' },
    };
  }

  function match(method: string, pathname: string): { operation: Operation; params: Record<string, string> } | null {
    const verb = method.toLowerCase() as keyof PathItem;
    const found = desc.templates
      .filter((t) => t.regex.test(pathname) && t.item[verb])
      .sort((a, b) => b.literals - a.literals)[0];
    const operation = found?.item[verb];
    if (!found || !operation) return null;
    const values = found.regex.exec(pathname)?.slice(1) ?? [];
    return { operation, params: Object.fromEntries(found.names.map((n, i) => [n, decodeURIComponent(values[i] ?? '')])) };
  }

  function checkRequest(operation: Operation, params: Record<string, string>, url: URL, body: unknown, where: string): void {
    const declared = operation.parameters ?? [];
    for (const p of declared) {
      const raw = p.in === 'path' ? params[p.name] : p.in === 'query' ? url.searchParams.get(p.name) : null;
      if (raw === null || raw === undefined) {
        if (p.required && p.in !== 'header') problems.push(`${where}: ${p.in} parameter ${p.name} is required`);
        continue;
      }
      const validate = validator(`${operation.operationId}:${p.in}:${p.name}`, p.schema ?? {});
      if (!validate(coerce(raw, p.schema))) problems.push(`${where}: ${p.in} parameter ${p.name}=${raw}: ${formatErrors(validate.errors)}`);
    }
    for (const name of url.searchParams.keys()) {
      if (!declared.some((p) => p.in === 'query' && p.name === name)) problems.push(`${where}: query parameter ${name} is not declared`);
    }
    const schema = operation.requestBody?.content?.['application/json']?.schema;
    if (body === undefined) {
      if (operation.requestBody?.required) problems.push(`${where}: a JSON body is required`);
      return;
    }
    if (!schema) {
      problems.push(`${where}: the operation takes no body`);
      return;
    }
    const validate = validator(`${operation.operationId}:body`, schema);
    if (!validate(body)) problems.push(`${where}: body ${formatErrors(validate.errors)}`);
    const ref = typeof schema.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : null;
    const target = ref ? (desc.ajv.getSchema(`${DOCUMENT_ID}#/definitions/${ref}`)?.schema as Schema | undefined) : schema;
    const known = isObject(target?.properties) ? Object.keys(target.properties) : [];
    if (isObject(body)) for (const key of Object.keys(body)) if (!known.includes(key)) problems.push(`${where}: body field ${key} is not declared`);
  }

  function checkResponse(operation: Operation, reply: Reply, where: string): void {
    const declared = operation.responses[String(reply.status)];
    const schema = declared?.content?.['application/json']?.schema;
    if (!declared && reply.status < 400) {
      problems.push(`${where}: status ${reply.status} is not declared`);
      return;
    }
    if (!schema) {
      if (reply.status >= 400 && !validator('error', ERROR_SCHEMA)(reply.body)) problems.push(`${where}: ${reply.status} body is not GitLab's error shape`);
      return;
    }
    const validate = validator(`${operation.operationId}:${reply.status}`, schema);
    const isArraySchema = schema.type === 'array';
    // The subset's quirk (see the header): an array answered where a single entity is declared.
    const items = Array.isArray(reply.body) && !isArraySchema ? reply.body : [reply.body];
    for (const item of items) if (!validate(item)) problems.push(`${where}: response ${reply.status} ${formatErrors(validate.errors)}`);
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.from(chunk as Uint8Array));
    const text = Buffer.concat(chunks).toString('utf8');
    if (text === '') return undefined;
    if (!String(req.headers['content-type'] ?? '').includes('application/json')) return { __form: text };
    return JSON.parse(text) as unknown;
  }

  function send(res: ServerResponse, reply: Reply): void {
    res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
    res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
  }

  const server = createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'http://double');
      const where = `${method} ${url.pathname}${url.search}`;
      let body: unknown;
      try {
        body = await readBody(req);
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
        problems.push(`${where}: the body is not JSON`);
        send(res, { status: 400, body: { message: 'body is not JSON' } });
        return;
      }
      if (isObject(body) && '__form' in body) problems.push(`${where}: the body is not sent as application/json`);
      const { token, grant } = authenticate(req);
      const matched = match(method, url.pathname);
      const call: GitLabCall = { method, path: `${url.pathname}${url.search}`, operationId: matched?.operation.operationId ?? null, body, status: 0, token };
      calls.push(call);
      if (!matched) {
        problems.push(`${where}: no operation in GitLab's description`);
        call.status = 404;
        send(res, { status: 404, body: { error: '404 Not Found' } });
        return;
      }
      const { operation, params } = matched;
      checkRequest(operation, params, url, body, where);
      let reply: Reply;
      const fault = faults.find((f) => f.remaining > 0 && f.method === method && f.pattern.test(url.pathname));
      if (fault) {
        fault.remaining -= 1;
        reply = { status: fault.status, body: { message: `${fault.status} ${fault.status === 502 ? 'Bad Gateway' : fault.status === 503 ? 'Service Unavailable' : 'Internal Server Error'}` } };
      } else if (String(params.id) !== String(projectId) && decodeURIComponent(String(params.id)) !== GITLAB_DOUBLE.projectPath) {
        reply = notFound('Project');
      } else {
        reply = authorize(operation.operationId, method, grant) ?? handle(operation.operationId, { method, url, params, body: isObject(body) ? body : {}, grant });
      }
      checkResponse(operation, reply, where);
      call.status = reply.status;
      send(res, reply);
    })().catch((err: unknown) => {
      problems.push(`the double failed: ${err instanceof Error ? err.stack : String(err)}`);
      if (!res.headersSent) send(res, { status: 500, body: { message: 'double failed' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: `${base}/api/v4`,
    problems,
    calls,
    notes,
    deployments,
    environments,
    pipelines,
    issues: issueState.issues,
    createdMergeRequests: issueState.mergeRequests,
    createdPipelines: issueState.pipelines,
    protectedTags,
    openMergeRequest: (iid) => void mergeRequests.add(iid),
    seedNotes(iid, bodies, seed = {}) {
      mergeRequests.add(iid);
      return bodies.map((text) => {
        const at = now();
        const note: StoredNote = { id: nextId++, iid, body: text, system: seed.system ?? false, author: seed.author ?? GITLAB_USERS.alice, createdAt: at, updatedAt: at };
        notes.push(note);
        return note;
      });
    },
    fail(method, pattern, status, times = 1) {
      faults.push({ method, pattern, status, remaining: times });
    },
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

/**
 * The predefined CI/CD variables of a job in the double's project, with BRAMBLE_GITLAB_TOKEN set to the `api` token:
 * what every GitLab test's job starts from, before the pipeline's own variables.
 */
export function gitlabJobVariables(apiUrl: string, projectDir: string, sha: string, pipelineId = 1001): Record<string, string> {
  return {
    CI: 'true',
    GITLAB_CI: 'true',
    CI_API_V4_URL: apiUrl,
    CI_SERVER_URL: GITLAB_DOUBLE.serverUrl,
    CI_PROJECT_ID: String(GITLAB_DOUBLE.projectId),
    CI_PROJECT_PATH: GITLAB_DOUBLE.projectPath,
    CI_PROJECT_DIR: projectDir,
    CI_DEFAULT_BRANCH: 'main',
    CI_COMMIT_SHA: sha,
    CI_PIPELINE_ID: String(pipelineId),
    CI_PIPELINE_URL: `${GITLAB_DOUBLE.serverUrl}/${GITLAB_DOUBLE.projectPath}/-/pipelines/${pipelineId}`,
    GITLAB_USER_LOGIN: 'alice',
    GITLAB_USER_EMAIL: 'alice@example.com',
    CI_JOB_TOKEN: GITLAB_DOUBLE.jobToken,
    BRAMBLE_GITLAB_TOKEN: GITLAB_DOUBLE.apiToken,
  };
}
