// A local double of GitHub's REST API for tests: a node:http server on 127.0.0.1 that implements the few endpoints
// Bramble calls (issue comments, deployments and their statuses, GET /user, an environment and the repository's
// rulesets; issues, pull requests and workflow dispatches in github-double-issues.ts) over in-memory state, and that checks
// every request it takes and every response it gives against GitHub's published OpenAPI description
// (@octokit/openapi, api.github.com.json). A mismatch never throws inside the server: it is recorded in `problems`,
// and tests assert that list stays empty — so a client that sends a field GitHub does not know, or a double that
// answers with an object GitHub would not send, fails the test that caused it.
//
// How the checking works:
// - The request's method and path are matched to a path template of the description
//   (`/repos/{owner}/{repo}/issues/{issue_number}/comments`), the most literal template winning, so
//   `/issues/comments/7` is `update-comment`, not `/issues/{issue_number}/…`. No template, or no operation for the
//   method, is a problem.
// - Path and query parameters are coerced from strings by their schema's type (only a string of digits becomes an
//   integer) and validated; a query parameter the operation does not declare is a problem. The JSON body is
//   validated against the operation's requestBody schema.
// - Stricter than GitHub: a top-level body field the operation does not declare is a problem (GitHub ignores it,
//   so a misspelt field would otherwise be lost without a word).
// - The response body is validated against the schema the operation declares for the status sent. A 2xx the
//   operation does not declare is a problem. An error status it does not declare (GitHub answers 401, 403, 404 and
//   5xx on any endpoint, though the description lists them for only some) is checked against `basic-error`.
//
// OpenAPI 3.0.3 is not JSON Schema; the description is converted, schema by schema, the first time an operation is
// used (`toJsonSchema`), and the result compiled by a draft-07 ajv instance of this file's own:
// - `$ref`s are resolved against api.github.com.json (13 MB; the .deref.json twin is 73 MB and slower to load), each
//   converted once and shared; a reference back into a schema being converted becomes `{}` (no such cycle is
//   reached by the operations used here).
// - `nullable: true` becomes a type union with "null" (and `null` joins an `enum`); a nullable schema without
//   `type` (an allOf/oneOf) becomes `anyOf: [schema, {type: "null"}]`.
// - `discriminator` + `mapping` on a `oneOf` becomes `anyOf` plus one `if {prop: const} then {mapped schema}` per
//   mapping entry: GET /user's private-user is also a valid public-user, so a plain oneOf would reject it.
// - Boolean `exclusiveMinimum`/`exclusiveMaximum` (draft-04 style) become draft-07 numbers.
// - Formats: date-time, date, uri, email are checked; the rest (int64, uri-template, …) are dropped. `uri` accepts
//   "": GitHub answers "" for unset URLs (a deployment status's `target_url` declares `format: uri, default: ""`).
// - `example`, `x-*`, `readOnly`, `deprecated`, … are annotations; `properties` maps are walked as maps, so a
//   property named `format` or `example` is not mistaken for a keyword.
// Why not src/schemas.ts's shared instance: it is Ajv2020 in strict mode (which rejects `example`, `x-github`,
// `discriminator`) with `useDefaults` (which would write defaults into the very bodies being checked), and test-only
// schemas of GitHub's have no place in the product's cache. This instance is non-strict, never coerces or fills
// defaults, and compiles only the schemas of the operations a test reaches, once per test file.
import { readFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { issueHandlers, type IssueState, type StoredDispatch, type StoredIssue, type StoredPull } from './github-double-issues.js';
import { compilePathTemplates, type PathTemplate } from './openapi-paths.js';

export type { StoredDispatch, StoredIssue, StoredPull } from './github-double-issues.js';

/** The repository, tokens and users the double knows, unless a test passes others. */
export const GITHUB_DOUBLE = {
  owner: 'Codertocat',
  repo: 'Hello-World',
  serverUrl: 'https://github.com',
  /** An installation token, like the job's GITHUB_TOKEN: it writes as github-actions[bot] and GET /user answers 403. */
  botToken: 'ghs_doubleInstallationToken0000000000000',
  /** A personal access token of `octocat`. */
  userToken: 'ghp_doublePersonalToken000000000000000000',
  /** GitHub's comment body limit (422 above it). */
  commentLimit: 65_536,
} as const;

export type Actor = { login: string; id: number; type: 'User' | 'Bot' };

export const GITHUB_ACTORS = {
  bot: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
  octocat: { login: 'octocat', id: 583231, type: 'User' },
  codertocat: { login: 'Codertocat', id: 21031067, type: 'User' },
} as const satisfies Record<string, Actor>;

export interface DoubleCall {
  method: string;
  /** Path and query string as sent, e.g. `/repos/o/r/issues/2/comments?per_page=100&page=3`. */
  path: string;
  /** The operation matched in GitHub's description, or null. */
  operationId: string | null;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
  /** The status answered; 0 when a fault dropped the connection. */
  status: number;
}

export interface StoredComment {
  id: number;
  issue: number;
  body: string;
  author: Actor;
  createdAt: string;
  updatedAt: string;
}

export interface StoredDeployment {
  id: number;
  ref: string;
  sha: string;
  environment: string;
  description: string | null;
  productionEnvironment: boolean;
  transientEnvironment: boolean;
  request: Record<string, unknown>;
  statuses: { id: number; state: string; request: Record<string, unknown> }[];
}

export interface StoredEnvironment {
  name: string;
  /** Users whose review the environment requires; [] for none (the rule is then left out, as GitHub does). */
  reviewers: Actor[];
  /** Minutes of a wait timer, a protection rule that approves nothing. */
  waitTimer?: number;
}

export interface StoredRuleset {
  id: number;
  name: string;
  target: 'branch' | 'tag' | 'push' | 'repository';
  enforcement: 'disabled' | 'active' | 'evaluate';
  include: string[];
  exclude: string[];
  /** Rule types, e.g. creation, update, deletion. */
  rules: string[];
}

export interface FaultOptions {
  /** The `message` of the error body (403: "Resource not accessible by integration"). */
  message?: string;
  headers?: Record<string, string>;
}

export interface GitHubDouble {
  /** Base URL to use as GITHUB_API_URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every mismatch with GitHub's description, and every request the double could not place. Tests assert []. */
  readonly problems: string[];
  readonly calls: DoubleCall[];
  readonly comments: StoredComment[];
  readonly deployments: StoredDeployment[];
  /** Issues opened through the API (the monitor's), oldest first; pull requests are in `pulls`. */
  readonly issues: StoredIssue[];
  /** Pull requests opened through the API (POST /repos/{owner}/{repo}/pulls). */
  readonly pulls: StoredPull[];
  /** Every workflow_dispatch asked for, in order. */
  readonly dispatches: StoredDispatch[];
  /** Opens a pull request (an issue number comments may be listed and written on). */
  openPullRequest(number: number): void;
  /** Existing comments on an issue, oldest first, written by `author` (default github-actions[bot]). */
  seedComments(issue: number, bodies: readonly string[], author?: Actor): StoredComment[];
  /** A ref deployments may name (40-hex shas are always accepted). */
  addRef(name: string, sha: string): void;
  /** A GitHub environment of the repository (Settings → Environments), with its required reviewers. */
  addEnvironment(name: string, options?: { reviewers?: Actor[]; waitTimer?: number }): StoredEnvironment;
  /** A repository ruleset (Settings → Rules → Rulesets); defaults: an active tag ruleset restricting creations. */
  addRuleset(ruleset: Partial<Omit<StoredRuleset, 'id'>> & { name: string; include: string[] }): StoredRuleset;
  /**
   * The next `times` requests of `method` to `pathPattern` — an OpenAPI template, an exact path, or a RegExp on the
   * path — answer `status` with GitHub's error body `{ message, documentation_url, status }`; `'reset'` destroys the
   * connection instead. The request is still checked first.
   */
  fail(method: string, pathPattern: string | RegExp, status: number | 'reset', times?: number, options?: FaultOptions): void;
  close(): Promise<void>;
}

export interface GitHubDoubleOptions {
  owner?: string;
  repo?: string;
  /** token → the user it authenticates; default: botToken → github-actions[bot], userToken → octocat. */
  tokens?: Record<string, Actor>;
  /**
   * Where refs the double was not told of are looked up — the repository the tests push to, as GitHub knows the
   * repository it hosts (a tag pushed a moment ago is a ref a Deployment may name).
   */
  resolveRef?: (name: string) => string | undefined;
}

// ----------------------------------------------------------------------------------------------------------------
// GitHub's description, loaded once per test file on first use

type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
const METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
type SchemaObject = Record<string, unknown>;
interface RefObject {
  $ref: string;
}
interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: SchemaObject;
}
interface MediaObject {
  schema?: SchemaObject;
}
interface RequestBodyObject {
  required?: boolean;
  content?: Record<string, MediaObject>;
}
interface ResponseObject {
  content?: Record<string, MediaObject>;
}
interface Operation {
  operationId: string;
  parameters?: (ParameterObject | RefObject)[];
  requestBody?: RequestBodyObject | RefObject;
  responses: Record<string, ResponseObject | RefObject>;
  externalDocs?: { url: string };
}
type PathItem = Partial<Record<HttpMethod, Operation>> & { parameters?: (ParameterObject | RefObject)[] };
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, PathItem>;
}
type Template = PathTemplate<PathItem>;

interface Description {
  document: OpenApiDocument;
  templates: Template[];
  ajv: Ajv;
  converted: Map<string, SchemaObject>;
  validators: Map<string, ValidateFunction | null>;
}

let description: Description | undefined;

function loadDescription(): Description {
  if (description) return description;
  const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
  const document: OpenApiDocument = JSON.parse(readFileSync(file, 'utf8'));
  const templates = compilePathTemplates(document.paths);
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateFormats: true,
    formats: {
      'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i,
      date: /^\d{4}-\d{2}-\d{2}$/,
      email: /^[^\s@]+@[^\s@]+$/,
      uri: { validate: (value: string) => value === '' || isAbsoluteUrl(value) },
    },
  });
  description = { document, templates, ajv, converted: new Map(), validators: new Map() };
  return description;
}

const KNOWN_FORMATS = new Set(['date-time', 'date', 'email', 'uri']);

function isAbsoluteUrl(value: string): boolean {
  try {
    return new URL(value).protocol.length > 1;
  } catch {
    return false; // not a URL: the format check fails, which is the answer asked for
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of one of the description's `components.examples`, or undefined. */
function exampleOf(name: string): unknown {
  const components: unknown = (loadDescription().document as unknown as Record<string, unknown>).components;
  const examples = isObject(components) ? components.examples : undefined;
  const example = isObject(examples) ? examples[name] : undefined;
  return isObject(example) ? example.value : undefined;
}

function isRef(value: unknown): value is RefObject {
  return isObject(value) && typeof value.$ref === 'string';
}

function resolvePointer(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref} is not supported`);
  let node: unknown = loadDescription().document;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !(key in node)) throw new Error(`$ref ${ref} does not resolve`);
    node = node[key];
  }
  return node;
}

function deref<T>(value: T | RefObject): T {
  let node: unknown = value;
  while (isRef(node)) node = resolvePointer(node.$ref);
  return node as T;
}

/** An OpenAPI 3.0 Schema Object as draft-07 JSON Schema (see the file's header for what changes). */
function toJsonSchema(schema: unknown, stack: readonly string[] = []): SchemaObject | boolean {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema)) return {};
  const { converted } = loadDescription();
  if (isRef(schema)) {
    const ref = schema.$ref;
    const done = converted.get(ref);
    if (done) return done;
    if (stack.includes(ref)) return {};
    const result = toJsonSchema(resolvePointer(ref), [...stack, ref]);
    const object = typeof result === 'boolean' ? (result ? {} : { not: {} }) : result;
    converted.set(ref, object);
    return object;
  }
  const sub = (value: unknown) => toJsonSchema(value, stack);
  const out: SchemaObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-')) continue;
    switch (key) {
      case 'properties':
      case 'patternProperties':
        out[key] = isObject(value) ? Object.fromEntries(Object.entries(value).map(([name, s]) => [name, sub(s)])) : value;
        break;
      case 'items':
      case 'not':
      case 'additionalProperties':
        out[key] = sub(value);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[key] = Array.isArray(value) ? value.map(sub) : value;
        break;
      case 'format':
        if (typeof value === 'string' && KNOWN_FORMATS.has(value)) out.format = value;
        break;
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof value === 'number') out[key] = value;
        break;
      case 'nullable':
      case 'discriminator':
      case 'example':
      case 'examples':
      case 'xml':
      case 'externalDocs':
      case 'deprecated':
      case 'readOnly':
      case 'writeOnly':
        break;
      default:
        out[key] = value;
    }
  }
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (schema[flag] === true && typeof schema[bound] === 'number') {
      out[flag] = schema[bound];
      delete out[bound];
    }
  }
  const discriminator = schema.discriminator;
  if (isObject(discriminator) && Array.isArray(out.oneOf)) {
    const property = String(discriminator.propertyName);
    const mapping = isObject(discriminator.mapping) ? discriminator.mapping : {};
    out.anyOf = out.oneOf;
    delete out.oneOf;
    const branches = Object.entries(mapping).map(([value, ref]) => ({
      if: { properties: { [property]: { const: value } }, required: [property] },
      then: sub({ $ref: String(ref) }),
    }));
    if (branches.length > 0) out.allOf = [...(Array.isArray(out.allOf) ? out.allOf : []), ...branches];
  }
  if (schema.nullable === true) {
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    } else if (out.type === undefined) {
      return { anyOf: [out, { type: 'null' }] };
    }
  }
  return out;
}

function validatorFor(key: string, build: () => SchemaObject | undefined): ValidateFunction | null {
  const { validators, ajv } = loadDescription();
  if (validators.has(key)) return validators.get(key) ?? null;
  const schema = build();
  const validate = schema ? ajv.compile(schema) : null;
  validators.set(key, validate);
  return validate;
}

function formatErrors(errors: readonly ErrorObject[] | null | undefined): string {
  const lines = (errors ?? []).slice(0, 6).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String(e.params.additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify(e.params.allowedValues)})`
          : '';
    return `${e.instancePath || '(root)'} ${e.message ?? e.keyword}${extra}`;
  });
  const more = (errors?.length ?? 0) > 6 ? `; and ${(errors?.length ?? 0) - 6} more` : '';
  return lines.join('; ') + more;
}

function parametersOf(template: Template, operation: Operation): ParameterObject[] {
  const byKey = new Map<string, ParameterObject>();
  for (const p of [...(template.item.parameters ?? []), ...(operation.parameters ?? [])]) {
    const parameter = deref(p);
    byKey.set(`${parameter.in}:${parameter.name}`, parameter);
  }
  return [...byKey.values()];
}

function primaryType(schema: SchemaObject | boolean): string | undefined {
  if (typeof schema === 'boolean') return undefined;
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t) => t !== 'null');
  return undefined;
}

/** A path or query value, typed the way its schema says, so that "abc" for an integer fails and "7" passes. */
function coerce(value: string | string[], schema: SchemaObject | boolean): unknown {
  const type = primaryType(schema);
  if (type === 'array') return (Array.isArray(value) ? value : value.split(',')).map(String);
  const single = Array.isArray(value) ? value[value.length - 1] : value;
  if (type === 'integer') return /^-?\d+$/.test(single) ? Number(single) : single;
  if (type === 'number') return single.trim() !== '' && Number.isFinite(Number(single)) ? Number(single) : single;
  if (type === 'boolean') return single === 'true' ? true : single === 'false' ? false : single;
  return single;
}

// ----------------------------------------------------------------------------------------------------------------
// The server

interface Matched {
  template: Template;
  operation: Operation;
  params: Record<string, string>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Fault {
  method: string;
  pattern: string | RegExp;
  status: number | 'reset';
  remaining: number;
  options: FaultOptions;
}

interface HandlerInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
  actor: Actor;
  docs: string;
}

export async function startGitHubDouble(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
  const desc = loadDescription();
  const owner = options.owner ?? GITHUB_DOUBLE.owner;
  const repo = options.repo ?? GITHUB_DOUBLE.repo;
  const tokens: Record<string, Actor> = options.tokens ?? {
    [GITHUB_DOUBLE.botToken]: GITHUB_ACTORS.bot,
    [GITHUB_DOUBLE.userToken]: GITHUB_ACTORS.octocat,
  };
  const problems: string[] = [];
  const calls: DoubleCall[] = [];
  const comments: StoredComment[] = [];
  const deployments: StoredDeployment[] = [];
  const pullRequests = new Set<number>();
  const refs = new Map<string, string>();
  const environments = new Map<string, StoredEnvironment>();
  const rulesets: StoredRuleset[] = [];
  const issueState: IssueState = { issues: [], pulls: [], dispatches: [] };
  const faults: Fault[] = [];
  let base = '';
  let nextId = 1_000;
  let clock = Date.parse('2026-01-05T09:00:00Z');
  let rateRemaining = 5000;

  // Every write moves the clock a second on, so `updated_at` orders writes and snapshots stay byte-identical.
  const now = () => new Date((clock += 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const api = () => base;
  const repoApi = () => `${api()}/repos/${owner}/${repo}`;

  function userObject(actor: Actor) {
    const login = encodeURIComponent(actor.login);
    const url = `${api()}/users/${login}`;
    return {
      login: actor.login,
      id: actor.id,
      node_id: Buffer.from(`${actor.type === 'Bot' ? '03:Bot' : '04:User'}${actor.id}`).toString('base64'),
      avatar_url: `https://avatars.githubusercontent.com/${actor.type === 'Bot' ? 'in/15368' : `u/${actor.id}`}?v=4`,
      gravatar_id: '',
      url,
      html_url: actor.type === 'Bot' ? `${GITHUB_DOUBLE.serverUrl}/apps/${actor.login.replace(/\[bot\]$/, '')}` : `${GITHUB_DOUBLE.serverUrl}/${login}`,
      followers_url: `${url}/followers`,
      following_url: `${url}/following{/other_user}`,
      gists_url: `${url}/gists{/gist_id}`,
      starred_url: `${url}/starred{/owner}{/repo}`,
      subscriptions_url: `${url}/subscriptions`,
      organizations_url: `${url}/orgs`,
      repos_url: `${url}/repos`,
      events_url: `${url}/events{/privacy}`,
      received_events_url: `${url}/received_events`,
      type: actor.type,
      user_view_type: 'public',
      site_admin: false,
    };
  }

  function commentObject(c: StoredComment) {
    const url = `${repoApi()}/issues/comments/${c.id}`;
    return {
      url,
      html_url: `${GITHUB_DOUBLE.serverUrl}/${owner}/${repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${repoApi()}/issues/${c.issue}`,
      id: c.id,
      node_id: `IC_kwDO${Buffer.from(String(c.id)).toString('base64url')}`,
      user: userObject(c.author),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      author_association: c.author.type === 'Bot' ? 'NONE' : c.author.login === owner ? 'OWNER' : 'CONTRIBUTOR',
      body: c.body,
      reactions: {
        url: `${url}/reactions`,
        total_count: 0,
        '+1': 0,
        '-1': 0,
        laugh: 0,
        hooray: 0,
        confused: 0,
        heart: 0,
        rocket: 0,
        eyes: 0,
      },
      performed_via_github_app: null,
    };
  }

  function deploymentObject(d: StoredDeployment, creator: Actor) {
    const url = `${repoApi()}/deployments/${d.id}`;
    const stamp = now();
    return {
      url,
      id: d.id,
      node_id: `DE_kwDO${Buffer.from(String(d.id)).toString('base64url')}`,
      sha: d.sha,
      ref: d.ref,
      task: typeof d.request.task === 'string' ? d.request.task : 'deploy',
      payload: d.request.payload ?? {},
      original_environment: d.environment,
      environment: d.environment,
      description: d.description,
      creator: userObject(creator),
      created_at: stamp,
      updated_at: stamp,
      statuses_url: `${url}/statuses`,
      repository_url: repoApi(),
      transient_environment: d.transientEnvironment,
      production_environment: d.productionEnvironment,
      performed_via_github_app: null,
    };
  }

  function rulesetObject(r: StoredRuleset, detail: boolean) {
    const summary = {
      id: r.id,
      name: r.name,
      source_type: 'Repository',
      source: `${owner}/${repo}`,
      enforcement: r.enforcement,
      node_id: `RRS_lACkVXNlcg${Buffer.from(String(r.id)).toString('base64url')}`,
      _links: { self: { href: `${repoApi()}/rulesets/${r.id}` }, html: { href: `${GITHUB_DOUBLE.serverUrl}/${owner}/${repo}/rules/${r.id}` } },
      created_at: '2026-01-05T09:00:00Z',
      updated_at: '2026-01-05T09:00:00Z',
    };
    if (!detail) return summary;
    return {
      ...summary,
      target: r.target,
      current_user_can_bypass: 'never',
      conditions: { ref_name: { include: r.include, exclude: r.exclude } },
      rules: r.rules.map((type) => ({ type })),
    };
  }

  function errorBody(status: number, message: string, docs: string) {
    return { message, documentation_url: docs, status: String(status) };
  }

  function validationFailed(docs: string, resource: string, field: string, message: string): Reply {
    return {
      status: 422,
      body: { message: 'Validation Failed', errors: [{ resource, code: 'custom', field, message }], documentation_url: docs, status: '422' },
    };
  }

  function findRepo(input: HandlerInput): Reply | null {
    const sameOwner = String(input.params.owner).toLowerCase() === owner.toLowerCase();
    const sameRepo = String(input.params.repo).toLowerCase() === repo.toLowerCase();
    return sameOwner && sameRepo ? null : { status: 404, body: errorBody(404, 'Not Found', input.docs) };
  }

  /** A number comments may be written on: a pull request, or an issue opened through the API. */
  function hasIssue(n: number): boolean {
    return pullRequests.has(n) || issueState.issues.some((i) => i.number === n) || issueState.pulls.some((p) => p.number === n);
  }

  const handlers: Record<string, (input: HandlerInput) => Reply> = {
    'users/get-authenticated': ({ actor, docs }) => {
      if (actor.type === 'Bot') return { status: 403, body: errorBody(403, 'Resource not accessible by integration', docs) };
      const stamp = '2011-01-25T18:44:36Z';
      return {
        status: 200,
        body: {
          ...userObject(actor),
          user_view_type: 'public',
          name: actor.login,
          company: null,
          blog: '',
          location: null,
          email: null,
          hireable: null,
          bio: null,
          twitter_username: null,
          public_repos: 8,
          public_gists: 8,
          followers: 20,
          following: 0,
          created_at: stamp,
          updated_at: stamp,
        },
      };
    },

    'issues/list-comments': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const issue = Number(input.params.issue_number);
      if (!hasIssue(issue)) return { status: 404, body: errorBody(404, 'Not Found', input.docs) };
      const all = comments.filter((c) => c.issue === issue);
      const perPage = Math.min(Number(input.query.per_page ?? 30), 100);
      const page = Math.max(Number(input.query.page ?? 1), 1);
      const last = Math.max(Math.ceil(all.length / perPage), 1);
      const link = (n: number, rel: string) => `<${repoApi()}/issues/${issue}/comments?per_page=${perPage}&page=${n}>; rel="${rel}"`;
      const links = [
        ...(page > 1 ? [link(page - 1, 'prev')] : []),
        ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
        ...(page > 1 ? [link(1, 'first')] : []),
      ];
      return {
        status: 200,
        body: all.slice((page - 1) * perPage, page * perPage).map(commentObject),
        headers: links.length > 0 ? { link: links.join(', ') } : {},
      };
    },

    'issues/create-comment': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const issue = Number(input.params.issue_number);
      if (!hasIssue(issue)) return { status: 404, body: errorBody(404, 'Not Found', input.docs) };
      const body = String(input.body.body);
      if ([...body].length > GITHUB_DOUBLE.commentLimit) {
        return validationFailed(input.docs, 'IssueComment', 'body', `body is too long (maximum is ${GITHUB_DOUBLE.commentLimit} characters)`);
      }
      const stamp = now();
      const comment: StoredComment = { id: nextId++, issue, body, author: input.actor, createdAt: stamp, updatedAt: stamp };
      comments.push(comment);
      const object = commentObject(comment);
      return { status: 201, body: object, headers: { location: object.url } };
    },

    'issues/update-comment': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const comment = comments.find((c) => c.id === Number(input.params.comment_id));
      if (!comment) return { status: 404, body: errorBody(404, 'Not Found', input.docs) };
      const body = String(input.body.body);
      if ([...body].length > GITHUB_DOUBLE.commentLimit) {
        return validationFailed(input.docs, 'IssueComment', 'body', `body is too long (maximum is ${GITHUB_DOUBLE.commentLimit} characters)`);
      }
      comment.body = body;
      comment.updatedAt = now();
      return { status: 200, body: commentObject(comment) };
    },

    'repos/get-environment': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const env = environments.get(String(input.params.environment_name));
      if (!env) return { status: 404, body: errorBody(404, 'Not Found', input.docs) };
      const url = `${repoApi()}/environments/${encodeURIComponent(env.name)}`;
      const rules: Record<string, unknown>[] = [];
      if (env.waitTimer !== undefined) rules.push({ id: 3736, node_id: 'MDQ6R2F0ZTM3MzY=', type: 'wait_timer', wait_timer: env.waitTimer });
      if (env.reviewers.length > 0) {
        rules.push({
          id: 3755,
          node_id: 'MDQ6R2F0ZTM3NTU=',
          prevent_self_review: false,
          type: 'required_reviewers',
          reviewers: env.reviewers.map((actor) => ({ type: 'User', reviewer: userObject(actor) })),
        });
      }
      return {
        status: 200,
        body: {
          id: 161088068,
          node_id: 'MDExOkVudmlyb25tZW50MTYxMDg4MDY4',
          name: env.name,
          url,
          html_url: `${GITHUB_DOUBLE.serverUrl}/${owner}/${repo}/deployments/activity_log?environments_filter=${encodeURIComponent(env.name)}`,
          created_at: '2026-01-05T09:00:00Z',
          updated_at: '2026-01-05T09:00:00Z',
          protection_rules: rules,
          deployment_branch_policy: null,
        },
      };
    },

    'repos/get-repo-rulesets': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const targets = typeof input.query.targets === 'string' ? input.query.targets.split(',') : null;
      const matching = rulesets.filter((r) => targets === null || targets.includes(r.target));
      const perPage = Math.min(Number(input.query.per_page ?? 30), 100);
      const page = Math.max(Number(input.query.page ?? 1), 1);
      // GitHub's listing is a summary: no target, conditions or rules (its own example shows none).
      return { status: 200, body: matching.slice((page - 1) * perPage, page * perPage).map((r) => rulesetObject(r, false)) };
    },

    'repos/get-repo-ruleset': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const ruleset = rulesets.find((r) => r.id === Number(input.params.ruleset_id));
      if (!ruleset) return { status: 404, body: errorBody(404, 'Not Found', input.docs) };
      return { status: 200, body: rulesetObject(ruleset, true) };
    },

    'repos/create-deployment': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const ref = String(input.body.ref);
      const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : (refs.get(ref) ?? options.resolveRef?.(ref));
      if (!sha) return { status: 422, body: errorBody(422, `No ref found for: ${ref}`, input.docs) };
      const environment = typeof input.body.environment === 'string' ? input.body.environment : 'production';
      const deployment: StoredDeployment = {
        id: nextId++,
        ref,
        sha,
        environment,
        description: typeof input.body.description === 'string' ? input.body.description : null,
        productionEnvironment:
          typeof input.body.production_environment === 'boolean' ? input.body.production_environment : environment === 'production',
        transientEnvironment: input.body.transient_environment === true,
        request: input.body,
        statuses: [],
      };
      deployments.push(deployment);
      return { status: 201, body: deploymentObject(deployment, input.actor) };
    },

    'repos/list-deployments': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const matching = deployments
        .filter((d) => (input.query.ref === undefined || d.ref === String(input.query.ref)) && (input.query.environment === undefined || d.environment === String(input.query.environment)))
        .reverse();
      const perPage = Math.min(Number(input.query.per_page ?? 30), 100);
      return { status: 200, body: matching.slice(0, perPage).map((d) => deploymentObject(d, input.actor)) };
    },

    'repos/create-deployment-status': (input) => {
      const missing = findRepo(input);
      if (missing) return missing;
      const deployment = deployments.find((d) => d.id === Number(input.params.deployment_id));
      if (!deployment) return { status: 404, body: errorBody(404, 'Not Found', input.docs) };
      const description = typeof input.body.description === 'string' ? input.body.description : '';
      if (description.length > 140) {
        return validationFailed(input.docs, 'DeploymentStatus', 'description', 'description is too long (maximum is 140 characters)');
      }
      const id = nextId++;
      deployment.statuses.push({ id, state: String(input.body.state), request: input.body });
      const str = (key: string) => (typeof input.body[key] === 'string' ? String(input.body[key]) : '');
      const logUrl = str('log_url') || str('target_url');
      const deploymentUrl = `${repoApi()}/deployments/${deployment.id}`;
      const stamp = now();
      const object = {
        url: `${deploymentUrl}/statuses/${id}`,
        id,
        node_id: `DES_kwDO${Buffer.from(String(id)).toString('base64url')}`,
        state: String(input.body.state),
        creator: userObject(input.actor),
        description,
        environment: str('environment') || deployment.environment,
        target_url: logUrl,
        created_at: stamp,
        updated_at: stamp,
        deployment_url: deploymentUrl,
        repository_url: repoApi(),
        environment_url: str('environment_url'),
        log_url: logUrl,
        performed_via_github_app: null,
      };
      return { status: 201, body: object, headers: { location: object.url } };
    },
  };

  Object.assign(
    handlers,
    issueHandlers(
      {
        owner,
        repo,
        serverUrl: GITHUB_DOUBLE.serverUrl,
        now,
        nextId: () => nextId++,
        repoApi,
        userObject,
        findRepo,
        errorBody,
        bareNumbers: () => pullRequests,
        example: (name) => exampleOf(name),
      },
      issueState,
    ),
  );

  function match(method: string, pathname: string): { matched?: Matched; problem?: string } {
    const lower = method.toLowerCase() as HttpMethod;
    let best: Template | undefined;
    let groups: RegExpExecArray | null = null;
    let anyTemplate = false;
    for (const template of desc.templates) {
      const m = template.regex.exec(pathname);
      if (!m) continue;
      anyTemplate = true;
      if (!template.item[lower]) continue;
      if (!best || template.literals > best.literals) {
        best = template;
        groups = m;
      }
    }
    if (!best || !groups || !METHODS.includes(lower)) {
      return {
        problem: anyTemplate
          ? `${method} ${pathname}: the path is in GitHub's OpenAPI description, but not with method ${method}`
          : `${method} ${pathname}: no such endpoint in GitHub's OpenAPI description`,
      };
    }
    const params: Record<string, string> = {};
    best.names.forEach((name, i) => {
      params[name] = decodeURIComponent(groups?.[i + 1] ?? '');
    });
    const operation = best.item[lower];
    if (!operation) return { problem: `${method} ${pathname}: no operation` };
    return { matched: { template: best, operation, params } };
  }

  /** Problems with a request, each prefixed by where it is; [] when it matches the description. */
  function checkRequest(m: Matched, url: URL, body: unknown, hasBody: boolean): { problems: string[]; params: Record<string, unknown>; query: Record<string, unknown> } {
    const found: string[] = [];
    const { operation, template } = m;
    const parameters = parametersOf(template, operation);
    const params: Record<string, unknown> = {};
    const query: Record<string, unknown> = {};
    for (const [where, values, target] of [
      ['path', m.params, params],
      ['query', Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)])), query],
    ] as const) {
      const declared = parameters.filter((p) => p.in === where);
      for (const name of Object.keys(values)) {
        if (!declared.some((p) => p.name === name)) found.push(`${where} parameter '${name}' is not declared by ${operation.operationId}`);
      }
      for (const p of declared) {
        const raw = values[p.name];
        const schema = toJsonSchema(p.schema ?? {});
        if (raw === undefined) {
          if (p.required) found.push(`${where} parameter '${p.name}' is required`);
          continue;
        }
        target[p.name] = coerce(raw, schema);
      }
      const validate = validatorFor(`${operation.operationId} ${where}`, () => ({
        type: 'object',
        properties: Object.fromEntries(declared.map((p) => [p.name, toJsonSchema(p.schema ?? {})])),
      }));
      if (validate && !validate(target)) found.push(`${where} parameters: ${formatErrors(validate.errors)}`);
    }
    const requestBody = operation.requestBody ? deref(operation.requestBody) : undefined;
    if (!requestBody) {
      if (hasBody) found.push(`${operation.operationId} takes no request body`);
    } else if (!hasBody) {
      if (requestBody.required) found.push('the request body is required');
    } else {
      const validate = validatorFor(`${operation.operationId} request`, () => {
        const schema = requestBody.content?.['application/json']?.schema;
        const converted = schema ? toJsonSchema(schema) : undefined;
        return typeof converted === 'object' ? converted : undefined;
      });
      if (!validate) found.push(`${operation.operationId} takes no JSON body`);
      else if (!validate(body)) found.push(`request body: ${formatErrors(validate.errors)}`);
      // Stricter than GitHub, which ignores a field it does not know: a misspelt `enviroment` would otherwise pass.
      const declared = toJsonSchema(requestBody.content?.['application/json']?.schema ?? {});
      if (isObject(body) && typeof declared === 'object' && isObject(declared.properties) && declared.additionalProperties === undefined) {
        const known = declared.properties;
        for (const key of Object.keys(body)) {
          if (!(key in known)) found.push(`request body field '${key}' is not in the description (GitHub would ignore it)`);
        }
      }
    }
    return { problems: found, params, query };
  }

  function checkResponse(m: Matched, reply: Reply): string[] {
    const { operation } = m;
    const declared = operation.responses[String(reply.status)] ?? operation.responses[`${String(reply.status)[0]}XX`] ?? operation.responses.default;
    let key = `${operation.operationId} ${reply.status}`;
    let response: ResponseObject | undefined = declared ? deref(declared) : undefined;
    if (!response) {
      if (reply.status < 400) return [`status ${reply.status} is not declared by ${operation.operationId}`];
      key = 'basic-error';
      response = { content: { 'application/json': { schema: { $ref: '#/components/schemas/basic-error' } } } };
    }
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return reply.body === undefined ? [] : [`${operation.operationId} declares no body for ${reply.status}, but one was sent`];
    if (reply.body === undefined) return [`${operation.operationId} declares a body for ${reply.status}, but none was sent`];
    const validate = validatorFor(`${key} response`, () => {
      const converted = toJsonSchema(schema);
      return typeof converted === 'object' ? converted : {};
    });
    return validate && !validate(reply.body) ? [`response body: ${formatErrors(validate.errors)}`] : [];
  }

  function takeFault(method: string, pathname: string, template: string): Fault | undefined {
    const fault = faults.find(
      (f) =>
        f.remaining > 0 &&
        f.method === method &&
        (f.pattern instanceof RegExp ? f.pattern.test(pathname) : f.pattern === template || f.pattern === pathname),
    );
    if (fault) fault.remaining -= 1;
    return fault;
  }

  function send(res: ServerResponse, reply: Reply): void {
    rateRemaining = Math.max(rateRemaining - 1, 0);
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(rateRemaining),
      'x-ratelimit-reset': String(Math.floor(clock / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      'x-github-request-id': createHash('sha1').update(String(calls.length)).digest('hex').slice(0, 16).toUpperCase(),
      ...reply.headers,
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', base);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const call: DoubleCall = { method, path: url.pathname + url.search, operationId: null, body: undefined, status: 0 };
    calls.push(call);
    const where = `${method} ${call.path}`;

    const { matched, problem } = match(method, url.pathname);
    if (!matched) {
      problems.push(problem ?? `${where}: unmatched`);
      call.status = 404;
      return send(res, { status: 404, body: errorBody(404, 'Not Found', 'https://docs.github.com/rest') });
    }
    const { operation } = matched;
    call.operationId = operation.operationId;
    const docs = operation.externalDocs?.url ?? 'https://docs.github.com/rest';

    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        // GitHub's own answer to a body that is not JSON; recorded as a problem like any other bad request.
        problems.push(`${where} (${operation.operationId}): the body is not JSON: ${raw.slice(0, 80)}`);
        call.status = 400;
        return send(res, { status: 400, body: errorBody(400, 'Problems parsing JSON', docs) });
      }
    }
    call.body = body;

    const checked = checkRequest(matched, url, body, raw.length > 0);
    let reply: Reply;
    if (checked.problems.length > 0) {
      problems.push(...checked.problems.map((p) => `${where} (${operation.operationId}): ${p}`));
      reply = { status: 422, body: errorBody(422, `Invalid request.\n\n${checked.problems.join('\n')}`, docs) };
    } else {
      const fault = takeFault(method, url.pathname, matched.template.template);
      const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const actor = auth ? tokens[auth[1]] : undefined;
      if (fault?.status === 'reset') {
        req.socket.destroy();
        return;
      } else if (fault) {
        const message = fault.options.message ?? (fault.status === 403 ? 'Resource not accessible by integration' : (STATUS_CODES[fault.status] ?? 'Error'));
        reply = { status: fault.status, body: errorBody(fault.status, message, docs), headers: fault.options.headers };
      } else if (!auth) {
        reply = { status: 401, body: errorBody(401, 'Requires authentication', docs) };
      } else if (!actor) {
        reply = { status: 401, body: errorBody(401, 'Bad credentials', docs) };
      } else {
        const handler = handlers[operation.operationId];
        if (!handler) {
          problems.push(`${where}: the double does not implement ${operation.operationId}`);
          reply = { status: 404, body: errorBody(404, 'Not Found', docs) };
        } else {
          reply = handler({
            params: checked.params,
            query: checked.query,
            body: isObject(body) ? body : {},
            actor,
            docs,
          });
        }
      }
    }
    problems.push(...checkResponse(matched, reply).map((p) => `${where} → ${reply.status} (${operation.operationId}): ${p}`));
    call.status = reply.status;
    send(res, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      problems.push(`${req.method} ${req.url}: the double crashed: ${err instanceof Error ? err.stack : String(err)}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    problems,
    calls,
    comments,
    deployments,
    issues: issueState.issues,
    pulls: issueState.pulls,
    dispatches: issueState.dispatches,
    openPullRequest(number) {
      pullRequests.add(number);
    },
    seedComments(issue, bodies, author = GITHUB_ACTORS.bot) {
      pullRequests.add(issue);
      return bodies.map((body) => {
        const stamp = now();
        const comment: StoredComment = { id: nextId++, issue, body, author, createdAt: stamp, updatedAt: stamp };
        comments.push(comment);
        return comment;
      });
    },
    addRef(name, sha) {
      refs.set(name, sha);
    },
    addEnvironment(name, environmentOptions = {}) {
      const env: StoredEnvironment = { name, reviewers: environmentOptions.reviewers ?? [], waitTimer: environmentOptions.waitTimer };
      environments.set(name, env);
      return env;
    },
    addRuleset(ruleset) {
      const stored: StoredRuleset = { id: nextId++, target: 'tag', enforcement: 'active', exclude: [], rules: ['creation'], ...ruleset };
      rulesets.push(stored);
      return stored;
    },
    fail(method, pathPattern, status, times = 1, faultOptions = {}) {
      faults.push({ method: method.toUpperCase(), pattern: pathPattern, status, remaining: times, options: faultOptions });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
