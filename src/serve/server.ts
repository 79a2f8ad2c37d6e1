// `bramble serve`: one process serving each environment's current model, over MLflow's scoring protocol and the
// Open Inference Protocol v2 (KServe, Triton, MLServer), so that existing clients work unchanged. Environments are
// reached by path prefix (/prod/invocations) or by a port of their own. Every answer carries a request id and is
// appended to the prediction log; /metrics speaks Prometheus.
// The parts: app.ts (buildServer: models, sync, and a handler that does not listen), routes.ts, auth.ts, body.ts
// (reading and parsing request bodies), http.ts (the request, the reply, and errors → statuses), telemetry.ts
// (metrics and the prediction log). This file only puts listeners in front of the handler.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, errorFamily } from '../errors.js';
import { buildServer, type BuiltServer, type ServeDeps } from './app.js';
import type { ServeConfig } from './config.js';
import type { ModelHost } from './host.js';
import { reply, type Reply } from './http.js';
import { Http1Server } from './http1.js';
import type { Metrics } from './metrics.js';
import type { PredictionSink } from './prediction-log.js';
import type { GitSync } from './sync.js';

export { buildServer, type BuiltServer, type InjectRequest, type InjectResponse, type ServeDeps } from './app.js';
export { SERVE } from './http.js';

/** A listener that cannot start, for a reason the person running the server must fix in serve.json or on the host. */
export class ListenError extends errorFamily(['E_PORT_IN_USE', 'E_PORT_PRIVILEGED', 'E_LISTEN_ADDRESS']) {
  constructor(code: ListenError['code'], message: string, data: { host: string; port: number; key: string }) {
    super(code, message, data);
  }
}

/**
 * What went wrong when a listener would not start, as a ListenError; undefined for an error Bramble cannot explain.
 * `key` is where serve.json sets the port (listen.port, or environments.ENV.port).
 */
export function listenError(err: unknown, host: string, port: number, key: string): ListenError | undefined {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const data = { host, port, key };
  const fix = key === 'listen.port' ? 'choose another port in serve.json' : `choose another port in serve.json (${key})`;
  if (code === 'EADDRINUSE') return new ListenError('E_PORT_IN_USE', `port ${port} is in use (${where}); stop what listens there, or ${fix}`, data);
  if (code === 'EACCES') {
    return new ListenError('E_PORT_PRIVILEGED', `port ${port} needs privileges (${where}); ${fix.replace('another port', 'a port from 1024 up')}, or let the service bind low ports (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE)`, data);
  }
  if (code === 'EADDRNOTAVAIL') return new ListenError('E_LISTEN_ADDRESS', `listen.host ${host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its own addresses in serve.json`, data);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ListenError('E_LISTEN_ADDRESS', `listen.host ${JSON.stringify(host)} does not resolve to an address; use 127.0.0.1, 0.0.0.0 or one of this machine's addresses in serve.json`, data);
  return undefined;
}

export interface RunningServer {
  /** The base URL of the main listener, and of each environment with a port of its own. */
  url: string;
  envUrls: Record<string, string>;
  host: ModelHost;
  metrics: Metrics;
  log: PredictionSink;
  /** With serve.json's git block: the reconciler that pulls what to serve from git. */
  sync: GitSync | null;
  close(): Promise<void>;
}

/**
 * buildServer, then a listener on listen.port and one on each environment's own port. `beforeListen` runs between
 * the two (a cluster's worker gets its models there).
 */
export async function startServer(config: ServeConfig, deps: ServeDeps, beforeListen?: (host: ModelHost, metrics: Metrics) => Promise<void>): Promise<RunningServer> {
  const app = await buildServer(config, deps);
  if (beforeListen) {
    try {
      await beforeListen(app.host, app.metrics);
    } catch (err) {
      await app.close();
      throw err;
    }
  }
  const servers: Listener[] = [];
  const close = async (): Promise<void> => {
    app.sync?.close();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    await app.close();
  };
  let url: string;
  const envUrls: Record<string, string> = {};
  try {
    url = await listen(app, config, config.listen.port, null, deps.warn, servers);
    for (const [env, e] of Object.entries(config.environments)) if (e.port !== undefined) envUrls[env] = await listen(app, config, e.port, env, deps.warn, servers);
  } catch (err) {
    // The listeners that did start would keep the process alive, serving only part of the configuration.
    await close();
    throw err;
  }
  return { url, envUrls, host: app.host, metrics: app.metrics, log: app.log, sync: app.sync, close };
}

/** What close() needs of a listener, node:http's or ours. */
interface Listener {
  close(callback: () => void): void;
  closeAllConnections(): void;
}

/** The listener serve.json's listen.http names: Bramble's HTTP/1.1 (http1.ts), or node:http. */
function createListener(app: BuiltServer, config: ServeConfig, fixedEnv: string | null, warn: (message: string) => void): Http1Server | ReturnType<typeof createServer> {
  const limits = config.limits;
  // An idle keep-alive connection must be closed before the headers timeout could fire on it: equal values race,
  // and a client then sees a 408 for a request it had not yet sent.
  const keepAliveTimeoutMs = Math.min(5_000, Math.floor(limits.headersTimeoutMs / 2));
  // How often stalled requests are looked for (Node's default, 30 s, lets a slow client hold a socket that long).
  const checkIntervalMs = Math.min(1_000, limits.headersTimeoutMs);
  if (config.listen.http === 'bramble') {
    return new Http1Server(
      { requestTimeoutMs: limits.requestTimeoutMs, headersTimeoutMs: limits.headersTimeoutMs, keepAliveTimeoutMs, checkIntervalMs, bodyBytes: limits.bodyBytes },
      (req) => app.handle(req, fixedEnv),
      (err, req) => warn(`request ${String(req?.headers['x-request-id'] ?? '')}: ${describeError(err)}`),
    );
  }
  return nodeListener(app, config, fixedEnv, warn, keepAliveTimeoutMs, checkIntervalMs);
}

function nodeListener(app: BuiltServer, config: ServeConfig, fixedEnv: string | null, warn: (message: string) => void, keepAliveTimeout: number, connectionsCheckingInterval: number) {
  const server = createServer(
    {
      requestTimeout: config.limits.requestTimeoutMs,
      headersTimeout: config.limits.headersTimeoutMs,
      keepAliveTimeout,
      connectionsCheckingInterval,
    },
    (req, res) => answer(app, req, res, fixedEnv, warn),
  );
  server.on('clientError', (err: Error & { code?: string }, socket) => {
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
    if (socket.writable) socket.end(timedOut ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy(err);
  });
  return server;
}

/** Starts one listener (pushed onto `servers`) and returns its base URL. */
async function listen(app: BuiltServer, config: ServeConfig, port: number, fixedEnv: string | null, warn: (message: string) => void, servers: Listener[]): Promise<string> {
  const server = createListener(app, config, fixedEnv, warn);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, config.listen.host, port, fixedEnv === null ? 'listen.port' : `environments.${fixedEnv}.port`) ?? err));
    server.listen(port, config.listen.host, () => resolve());
  });
  servers.push(server);
  const address = server.address() as AddressInfo;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

/** One request from a socket: handled, then written; a reply node refuses to write (a bad header value) is a 500. */
function answer(app: BuiltServer, req: IncomingMessage, res: ServerResponse, fixedEnv: string | null, warn: (message: string) => void): void {
  const write = (r: Reply): void => {
    res.writeHead(r.status, r.headers);
    res.end(r.body);
  };
  app
    .handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, remoteAddress: req.socket.remoteAddress ?? '', body: req }, fixedEnv)
    .then(write)
    .catch((err: unknown) => {
      warn(`request ${String(req.headers['x-request-id'] ?? '')}: ${describeError(err)}`);
      if (!res.headersSent) write(reply(500, { error: 'internal error' }));
    });
}
