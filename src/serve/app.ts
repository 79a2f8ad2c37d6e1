// The server without its sockets: buildServer loads each environment's model, starts the sync with git when
// serve.json has a git block, and returns `handle` (a request to a Reply) and `inject` (the same, from a test's
// plain object, as fastify's inject). startServer (server.ts) puts listeners in front of it.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describeError } from '../errors.js';
import { readTokens } from './auth.js';
import type { ServeConfig } from './config.js';
import { ModelHost } from './host.js';
import { reply, SERVE, type Reply, type ServeRequest } from './http.js';
import type { Metrics } from './metrics.js';
import { PredictionLog, type PredictionSink } from './prediction-log.js';
import { planShares } from './release.js';
import { adminRoute, envRoute, hostRoute, uiRoute, type RouteContext } from './routes.js';
import { GitSync } from './sync.js';
import { ServeTelemetry } from './telemetry.js';
import { OnlineFeatures } from '../store/online-serve.js';

export interface ServeDeps {
  env: Readonly<Record<string, string | undefined>>;
  version: string;
  warn: (message: string) => void;
  /** In a worker of a cluster (cluster.ts): what the primary does for it. */
  worker?: WorkerSide;
  /** The primary of a cluster keeps each model's text, to send its workers the very bytes it verified. */
  keepModelSources?: boolean;
}

/**
 * A cluster's worker serves predictions itself and leaves the rest to its primary: its models come from the
 * primary (host.install), it neither reads the model folder nor syncs with git, its prediction records go to the
 * primary (the one writer of the log), and the host's own routes that speak for every worker (/metrics, /status,
 * /admin/…) are answered by the primary.
 */
export interface WorkerSide {
  log: PredictionSink;
  /** Sends a request to the primary and returns its answer. */
  forward(req: ServeRequest, path: string): Promise<Reply>;
}

/** The host's own paths a worker forwards to its primary. */
export function forwardedPath(path: string): boolean {
  return path === '/metrics' || path === '/status' || path.startsWith('/admin/');
}

/** A request for inject: `body` as text, or a value sent as JSON. */
export interface InjectRequest {
  method?: string;
  url: string;
  headers?: Readonly<Record<string, string>>;
  body?: string | object;
  /** The peer's address (default 127.0.0.1, this machine). */
  remoteAddress?: string;
  /** As on the port of this environment (serve.json environments.ENV.port); default the main listener. */
  env?: string;
}

export interface InjectResponse {
  status: number;
  /** Header names in lower case, as a client sees them. */
  headers: Record<string, string>;
  body: string;
}

export interface BuiltServer {
  host: ModelHost;
  metrics: Metrics;
  log: PredictionSink;
  /** With serve.json's git block: the reconciler that pulls what to serve from git. */
  sync: GitSync | null;
  /** Answers one request; `fixedEnv` is the environment whose own port it came in on, else null. Never rejects. */
  handle(req: ServeRequest, fixedEnv: string | null): Promise<Reply>;
  inject(request: InjectRequest): Promise<InjectResponse>;
  /** Stops the sync and flushes the prediction log. */
  close(): Promise<void>;
}

export async function buildServer(config: ServeConfig, deps: ServeDeps): Promise<BuiltServer> {
  // First: a token that is not set stops the server before it loads, logs or syncs anything.
  const tokens = readTokens(config, deps.env);
  const host = new ModelHost(config.models, Object.keys(config.environments), deps.warn);
  host.keepSources = deps.keepModelSources === true;
  const worker = deps.worker;
  const log = worker?.log ?? new PredictionLog({ dir: config.log.dir, maxBytes: config.log.maxBytes, files: config.log.files, onFault: (m) => deps.warn(`prediction log: ${m}`) });
  const telemetry = new ServeTelemetry(log, deps.warn);
  host.onSwap = (env, model) => telemetry.swapped(env, model);
  host.onPlan = (env, plan) => telemetry.released(env, planShares(plan));
  if (!worker) await host.start();
  // The host pulls from git when serve.json says where: the tags decide what serves, not a deploy call.
  const sync = config.git && !worker
    ? new GitSync(config.git, Object.fromEntries(Object.entries(config.environments).map(([env, e]) => [env, e.model as string])), host, {
        env: deps.env,
        warn: deps.warn,
        onSync: (ok, seconds) => telemetry.synced(ok, seconds),
      })
    : null;
  if (sync) await sync.start();

  // Online features: each process that answers requests opens the store read-only.
  let features: OnlineFeatures | null = null;
  try {
    features = config.features ? await OnlineFeatures.open(config.features, { env: deps.env, metrics: telemetry.metrics }) : null;
  } catch (err) {
    sync?.close();
    await log.close();
    throw err;
  }
  const ctx: RouteContext = { config, version: deps.version, host, sync, log, telemetry, tokens, warn: deps.warn, features };
  const prefixes = Object.entries(config.environments)
    .filter(([, e]) => e.path)
    .map(([env, e]) => [env, (e.path as string).replace(/\/$/, '')] as const);

  function route(req: ServeRequest, fixedEnv: string | null, id: string): Reply | Promise<Reply> {
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    let env = fixedEnv;
    let rest = path;
    if (env === null) {
      const prefixed = prefixes.find(([, prefix]) => path === prefix || path.startsWith(prefix + '/'));
      if (prefixed) {
        env = prefixed[0];
        rest = path.slice(prefixed[1].length) || '/';
      }
    }
    if (env === null) {
      if (worker && forwardedPath(path)) return worker.forward(req, path);
      if (path.startsWith('/admin/')) return adminRoute(ctx, path, req, id);
      if (path === '/ui' || path.startsWith('/ui/')) return uiRoute(ctx, path, req, id);
      const own = hostRoute(ctx, path);
      if (own) return own;
      if (!config.default) return reply(404, { error: `no route ${path}; environments are served under ${prefixes.map(([, p]) => p).join(', ')}` });
      env = config.default;
    }
    const answer = envRoute(ctx, env, rest, req, id);
    const counted = (r: Reply): Reply => {
      telemetry.answered(env as string, r.status);
      return r;
    };
    return answer instanceof Promise ? answer.then(counted) : counted(answer);
  }

  /** One promise a request, whatever the route: a prediction is answered inside it without waiting on another. */
  function handle(req: ServeRequest, fixedEnv: string | null): Promise<Reply> {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && SERVE.requestId.test(given) ? given : randomUUID();
    const fail = (err: unknown): Reply => {
      deps.warn(`request ${id}: ${describeError(err)}`);
      return reply(500, { error: `internal error (request ${id})` });
    };
    try {
      const answer = route(req, fixedEnv, id);
      return answer instanceof Promise ? answer.then(undefined, fail) : Promise.resolve(answer);
    } catch (err) {
      return Promise.resolve(fail(err));
    }
  }

  return {
    host,
    metrics: telemetry.metrics,
    log,
    sync,
    handle,
    inject: (request) => inject(handle, request),
    close: async () => {
      sync?.close();
      features?.close();
      await log.close();
    },
  };
}

/** Sends one request through `handle` in memory, with the headers a client would add (Content-Length, and Content-Type for JSON). */
async function inject(handle: BuiltServer['handle'], request: InjectRequest): Promise<InjectResponse> {
  const body = request.body === undefined ? '' : typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  if (request.body !== undefined) headers['content-length'] ??= String(Buffer.byteLength(body));
  if (typeof request.body === 'object') headers['content-type'] ??= 'application/json';
  const answer = await handle(
    { method: request.method ?? 'GET', url: request.url, headers, remoteAddress: request.remoteAddress ?? '127.0.0.1', body: body === '' ? [] : [Buffer.from(body)] },
    request.env ?? null,
  );
  const answerHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) answerHeaders[name.toLowerCase()] = value;
  return { status: answer.status, headers: answerHeaders, body: answer.body };
}
