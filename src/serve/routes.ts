// The server's routes, each a function from a request to a Reply: an environment's probes, predictions (MLflow's
// /invocations and Open Inference Protocol v2) and feedback; the host's own /metrics, health, /status and
// /version; the dashboard at /ui/; and the admin calls (deploy, sync). They throw what goes wrong and errorReply
// answers it.
import { readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { describeError, httpStatusOf } from '../errors.js';
import { isMissing } from '../fs/codes.js';
import { requireAdmin, requireToken, type ServeTokens } from './auth.js';
import { bodyNow, mlflowRecords, readBody, v2Records } from './body.js';
import type { ServeConfig } from './config.js';
import type { ModelHost } from './host.js';
import { decodeSegment, errorReply, HttpError, reply, SERVE, type Protocol, type Reply, type ServeRequest } from './http.js';
import { InputError, type ServedModel } from './model.js';
import type { PredictionSink } from './prediction-log.js';
import { scoreRequest } from './release.js';
import type { GitSync } from './sync.js';
import type { ServeTelemetry } from './telemetry.js';
import type { FeatureAnswer, OnlineFeatures } from '../store/online-serve.js';

/** What the routes read and report to: built once by buildServer. */
export interface RouteContext {
  config: ServeConfig;
  version: string;
  host: ModelHost;
  sync: GitSync | null;
  log: PredictionSink;
  telemetry: ServeTelemetry;
  tokens: ServeTokens;
  warn: (message: string) => void;
  /** serve.json's features: inputs a row leaves out, filled from the online store. */
  features: OnlineFeatures | null;
}

/** A prediction request for an environment that has a model. */
interface Asked {
  env: string;
  model: ServedModel;
  req: ServeRequest;
  id: string;
  /** performance.now() when the request came in. */
  started: number;
}

const V2_MODEL = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;

/**
 * Routes a request for one environment; `rest` is the path after the environment's prefix. A prediction whose body
 * is in memory already (http1.ts) is answered without a promise: each one a request waits on is a turn of the
 * event loop, and the prediction path is the one that runs at the hardware's limit.
 */
export function envRoute(ctx: RouteContext, env: string, rest: string, req: ServeRequest, id: string): Reply | Promise<Reply> {
  const started = performance.now();
  const model = ctx.host.model(env);
  const probe = probeRoute(ctx, env, rest, model);
  if (probe) return probe;
  if (rest === '/feedback' && req.method === 'POST') return feedbackRoute(ctx, env, req, id);
  const protocol: Protocol = rest.startsWith('/v2/') ? 'v2' : rest === '/invocations' ? 'mlflow' : 'plain';
  const fail = (err: unknown): Reply => errorReply(err, id, ctx.warn, protocol, { 'x-request-id': id });
  try {
    requireToken(ctx.tokens, env, req, ' (Authorization: Bearer …)');
    const v2 = V2_MODEL.exec(rest);
    if (!model && protocol !== 'plain') throw new HttpError('E_HTTP_UNAVAILABLE', `${env} has no model yet; deploy one with bramble deploy NAME@VERSION --env ${env}`);
    let answer: Reply | Promise<Reply> | null = null;
    if (protocol === 'mlflow' && model) answer = withBody(ctx, req, (body) => invocations(ctx, { env, model, req, id, started }, body));
    else if (v2 && model) answer = v2Route(ctx, v2, { env, model, req, id, started });
    if (answer === null) throw new HttpError('E_HTTP_NOT_FOUND', `no route ${req.method} ${rest} for ${env}; try POST /invocations, /v2/models/${model?.name ?? 'NAME'}/infer, /ping`);
    return answer instanceof Promise ? answer.then(undefined, fail) : answer;
  } catch (err) {
    return fail(err);
  }
}

/** `answer` given the request's body: at once when it is in memory (bodyNow), else once it is read. */
function withBody(ctx: RouteContext, req: ServeRequest, answer: (body: string) => Reply): Reply | Promise<Reply> {
  const limit = ctx.config.limits.bodyBytes;
  const now = bodyNow(req, limit);
  return now !== null ? answer(now) : readBody(req, limit).then(answer);
}

/** An environment's health and version, which need no token. */
function probeRoute(ctx: RouteContext, env: string, rest: string, model: ServedModel | null): Reply | null {
  if (rest === '/ping' || rest === '/health') {
    return reply(model ? 200 : 503, model ? { status: 'ok', env, model: model.name, version: model.version } : { status: 'no model', env });
  }
  if (rest === '/version') {
    return reply(model ? 200 : 503, { bramble: ctx.version, env, model: model?.name ?? null, version: model?.version ?? null, sha256: model?.sha256 ?? null });
  }
  if (rest === '/v2' || rest === '/v2/') return reply(200, { name: 'bramble', version: ctx.version, extensions: [] });
  if (rest === '/v2/health/live') return reply(200, { live: true });
  if (rest === '/v2/health/ready') return reply(model ? 200 : 503, { ready: model !== null });
  return null;
}

/** MLflow's POST /invocations. */
function invocations(ctx: RouteContext, q: Asked, body: string): Reply {
  if (q.req.method !== 'POST') throw new HttpError('E_HTTP_METHOD', 'use POST /invocations', { Allow: 'POST' });
  const { records, text } = mlflowRecords(body, String(q.req.headers['content-type'] ?? ''), q.model);
  const features = withFeatures(ctx, q, records);
  // Rows the store filled in are no longer what the client sent: their log line is written from the records.
  const { predictions, headers } = scoreRequest(ctx.telemetry, ctx.host.plan(q.env), q.model, q, records, features ? undefined : text);
  return reply(200, features ? { predictions, features } : { predictions }, { 'x-request-id': q.id, ...headers });
}

/** Open Inference Protocol v2: a model's metadata, readiness and inference. */
function v2Route(ctx: RouteContext, match: RegExpExecArray, q: Asked): Reply | Promise<Reply> {
  const m = q.model;
  const asked = decodeSegment(match[1]);
  const askedVersion = match[2] === undefined ? undefined : decodeSegment(match[2]);
  if (asked !== m.name || (askedVersion !== undefined && askedVersion !== m.version)) {
    throw new HttpError('E_HTTP_NOT_FOUND', `${q.env} serves ${m.name} ${m.version}, not ${asked}${askedVersion !== undefined ? ` ${askedVersion}` : ''}`);
  }
  if (match[3] === undefined) return reply(200, v2Metadata(m));
  if (match[3] === '/ready') return reply(200, { name: m.name, ready: true });
  if (q.req.method !== 'POST') throw new HttpError('E_HTTP_METHOD', 'use POST …/infer', { Allow: 'POST' });
  return withBody(ctx, q.req, (body) => v2Infer(ctx, q, body));
}

/** v2 inference, once the body is here. */
function v2Infer(ctx: RouteContext, q: Asked, body: string): Reply {
  const m = q.model;
  const { records, id: requestId } = v2Records(body, m);
  const features = withFeatures(ctx, q, records);
  const { predictions, probabilities, model, role, headers } = scoreRequest(ctx.telemetry, ctx.host.plan(q.env), m, q, records);
  const outputs: unknown[] = [{ name: 'predict', shape: [predictions.length], datatype: typeof predictions[0] === 'string' ? 'BYTES' : 'FP64', data: predictions }];
  if (probabilities && model.classes) outputs.push({ name: 'predict_proba', shape: [predictions.length, model.classes.length], datatype: 'FP64', data: Array.from(probabilities) });
  // v2's optional response parameters: who answered when it was not the main version alone, and the online features.
  const who = role === 'main' ? {} : { bramble_role: role, bramble_model: headers['x-bramble-model'] };
  const parameters = role === 'main' && !features ? {} : { parameters: { ...who, ...(features ? { features } : {}) } };
  return reply(200, { model_name: m.name, model_version: model.version, id: requestId ?? q.id, outputs, ...parameters }, { 'x-request-id': q.id, ...headers });
}

/** The inputs rows leave out, filled from the online store (src/store/online-serve.ts); what it tells of them, or null. */
function withFeatures(ctx: RouteContext, q: Asked, records: unknown[]): FeatureAnswer | null {
  return ctx.features ? ctx.features.fill(records, q.model, (i) => `row ${i}`) : null;
}

function v2Metadata(model: ServedModel) {
  const classes = model.classes;
  return {
    name: model.name,
    versions: [model.version],
    platform: 'bramble-random-forest',
    inputs: model.inputs.map((i) => ({ name: i.name, datatype: i.kind === 'number' ? 'FP64' : 'BYTES', shape: [-1] })),
    outputs: classes
      ? [
          { name: 'predict', datatype: typeof classes[0] === 'number' ? 'FP64' : 'BYTES', shape: [-1] },
          { name: 'predict_proba', datatype: 'FP64', shape: [-1, classes.length] },
        ]
      : [{ name: 'predict', datatype: 'FP64', shape: [-1] }],
  };
}

/** POST /ENV/feedback: the truth for an earlier prediction, appended to the prediction log. */
async function feedbackRoute(ctx: RouteContext, env: string, req: ServeRequest, id: string): Promise<Reply> {
  try {
    requireToken(ctx.tokens, env, req, '');
    const body = feedbackBody(await readBody(req, ctx.config.limits.bodyBytes));
    const truth = body.truth ?? body.actual;
    if (typeof body.id !== 'string' || !SERVE.requestId.test(body.id)) throw new InputError('feedback needs "id": the x-request-id of the prediction');
    if (truth === undefined) throw new InputError('feedback needs "truth": the actual label or value for that prediction');
    if (truth !== null && typeof truth === 'object') throw new InputError('feedback "truth" must be one label or number, not a list or an object');
    if (typeof truth === 'string' && truth.length > SERVE.feedbackTruthChars) {
      throw new HttpError('E_HTTP_TOO_LARGE', `feedback "truth" is ${truth.length} characters; a label is at most ${SERVE.feedbackTruthChars}`);
    }
    // "recorded" only when the log kept it: a full or failing log answers 503, so the sender retries.
    if (ctx.log.stats().faulty || !ctx.log.append({ type: 'feedback', id: body.id, time: new Date().toISOString(), env, truth })) {
      throw new HttpError('E_HTTP_UNAVAILABLE', 'the prediction log cannot take the feedback now (full or failing; see /metrics); retry later', { 'Retry-After': '5' });
    }
    return reply(202, { id: body.id, recorded: true });
  } catch (err) {
    return errorReply(err, id, ctx.warn, 'plain');
  }
}

function feedbackBody(text: string): { id?: unknown; truth?: unknown; actual?: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) throw new InputError(`the request body is not JSON: ${err.message}`);
    throw err;
  }
  // A body of null has no fields, like one of a number: the first missing field is what the sender hears of.
  return typeof json === 'object' && json !== null ? json : {};
}

/** The host's own routes, outside every environment: /metrics, health, /status, /version; null for others. */
export function hostRoute(ctx: RouteContext, path: string): Reply | null {
  const envNames = ctx.host.envs;
  if (path === '/metrics') return reply(200, ctx.telemetry.render(ctx.sync), { 'Content-Type': ctx.telemetry.metrics.contentType });
  if (path === '/ping' || path === '/health' || path === '/v2/health/live' || path === '/v2/health/ready') {
    const missing = envNames.filter((e) => !ctx.host.model(e));
    const ok = path === '/v2/health/live' || missing.length === 0;
    return reply(ok ? 200 : 503, ok ? { status: 'ok', environments: envNames } : { status: 'not ready', missing });
  }
  if (path === '/status') {
    // What git says each environment should serve, what it serves, and the last sync: drift, in one look.
    const live = (e: string) => {
      const model = ctx.host.model(e);
      return model ? { version: model.version, sha256: model.sha256 } : null;
    };
    return reply(200, ctx.sync ? ctx.sync.status() : { environments: Object.fromEntries(envNames.map((e) => [e, { live: live(e) }])) });
  }
  if (path === '/version') return reply(200, { bramble: ctx.version, environments: Object.fromEntries(envNames.map((e) => [e, ctx.host.model(e)?.version ?? null])) });
  return null;
}

/** /admin/…: deploy a candidate the CLI wrote (POST /admin/deploy/ENV), or sync with git (POST /admin/sync). */
export async function adminRoute(ctx: RouteContext, path: string, req: ServeRequest, id: string): Promise<Reply> {
  try {
    requireAdmin(ctx.tokens, req);
    if (path === '/admin/sync' && req.method === 'POST') {
      if (!ctx.sync) throw new HttpError('E_HTTP_NOT_FOUND', 'this host has no git block in serve.json, so there is nothing to sync from; deploy with bramble deploy');
      await ctx.sync.sync();
      return reply(200, ctx.sync.status());
    }
    // Nothing is pushed into a host that follows git: not even from this machine.
    if (ctx.sync) {
      throw new HttpError(
        'E_HTTP_CONFLICT',
        'this host follows git (serve.json git): promote with an assignment tag (bramble promote NAME@vX.Y.Z ENV), then POST /admin/sync; artifacts are not accepted here',
      );
    }
    const deploy = /^\/admin\/deploy\/([^/]+)$/.exec(path);
    if (!deploy || req.method !== 'POST') throw new HttpError('E_HTTP_NOT_FOUND', 'admin: POST /admin/deploy/ENV');
    return await deployRoute(ctx, decodeSegment(deploy[1]));
  } catch (err) {
    return errorReply(err, id, ctx.warn, 'plain');
  }
}

/** Takes the environment's candidate; a refusal answers with its reason, whatever its status (the caller is the admin). */
async function deployRoute(ctx: RouteContext, env: string): Promise<Reply> {
  try {
    const result = await ctx.host.deploy(env);
    ctx.telemetry.deployed(env, 'ok');
    return reply(200, result);
  } catch (err) {
    ctx.telemetry.deployed(ctx.host.envs.includes(env) ? env : 'unknown', 'refused');
    return reply(httpStatusOf(err), { error: describeError(err) });
  }
}

/** What /ui/ serves: the text files `bramble ui build` writes, by extension. */
const UI_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
};

/**
 * GET /ui/…: the site serve.json's "ui" names, read-only, at the root like /metrics and with its access (no token).
 * Only files under that folder with a known extension; the page may load scripts and styles from this host only.
 */
export async function uiRoute(ctx: RouteContext, path: string, req: ServeRequest, id: string): Promise<Reply> {
  try {
    const root = ctx.config.ui;
    if (root === undefined) throw new HttpError('E_HTTP_NOT_FOUND', 'this host serves no dashboard; build one with bramble ui build --out FOLDER and name FOLDER in serve.json "ui"');
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError('E_HTTP_METHOD', 'the dashboard is read-only: use GET', { Allow: 'GET, HEAD' });
    // The page's links are relative: /ui must be /ui/ for data/site.js to resolve under it.
    if (path === '/ui') return reply(308, 'the dashboard is at /ui/', { Location: '/ui/' });
    const parts = path.slice('/ui/'.length).split('/').map(decodeSegment);
    if (parts[parts.length - 1] === '') parts[parts.length - 1] = 'index.html';
    if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0') || p.includes(sep))) {
      throw new HttpError('E_HTTP_BAD_PATH', `${path} is not a path under /ui/; the dashboard's files are named plainly`);
    }
    const type = UI_TYPES[(/\.([a-z]+)$/.exec(parts[parts.length - 1]) ?? [])[1] ?? ''];
    if (type === undefined) throw new HttpError('E_HTTP_NOT_FOUND', `no file ${path} in the dashboard`);
    let body: string;
    try {
      body = await readFile(join(root, parts.join('/')), 'utf8');
    } catch (err) {
      if (isMissing(err) || (err instanceof Error && 'code' in err && err.code === 'EISDIR')) throw new HttpError('E_HTTP_NOT_FOUND', `no file ${path} in the dashboard`);
      throw err;
    }
    return reply(200, body, {
      'Content-Type': type,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    });
  } catch (err) {
    return errorReply(err, id, ctx.warn, 'plain');
  }
}
