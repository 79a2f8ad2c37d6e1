// Who may ask the server what: an environment with tokenEnv takes only its bearer token; admin calls take the
// admin token (adminTokenEnv), or without one come from this machine only. Tokens are compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ServeConfigError, type ServeConfig } from './config.js';
import { HttpError, type ServeRequest } from './http.js';

export interface ServeTokens {
  /** Per environment with tokenEnv, its token. */
  environments: ReadonlyMap<string, string>;
  admin: string | undefined;
}

/** The tokens serve.json names, read from the environment; a tokenEnv that is not set is a configuration error. */
export function readTokens(config: ServeConfig, env: Readonly<Record<string, string | undefined>>): ServeTokens {
  const environments = new Map<string, string>();
  for (const [name, e] of Object.entries(config.environments)) {
    if (e.tokenEnv) {
      const token = env[e.tokenEnv];
      if (!token) {
        throw new ServeConfigError(
          `environments.${name}.tokenEnv names ${e.tokenEnv}, which is not set; set it (e.g. in /etc/bramble/serve.env) or remove tokenEnv to serve ${name} without a token`,
        );
      }
      environments.set(name, token);
    }
  }
  return { environments, admin: config.adminTokenEnv ? env[config.adminTokenEnv] : undefined };
}

/** Whether the request carries `token` as its bearer token; any request does when there is no token. */
export function authorised(headers: IncomingHttpHeaders, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice(7) : '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Refuses a request for an environment without its token (`detail` ends the message). */
export function requireToken(tokens: ServeTokens, env: string, req: ServeRequest, detail: string): void {
  if (!authorised(req.headers, tokens.environments.get(env))) throw new HttpError('E_HTTP_UNAUTHORIZED', `${env} needs a bearer token${detail}`, { 'WWW-Authenticate': 'Bearer realm="bramble"' });
}

/** Refuses an admin call without the admin token, or, when there is none, from another machine. */
export function requireAdmin(tokens: ServeTokens, req: ServeRequest): void {
  const loopback = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.remoteAddress);
  if (tokens.admin ? !authorised(req.headers, tokens.admin) : !loopback) {
    throw new HttpError('E_HTTP_UNAUTHORIZED', tokens.admin ? 'admin calls need the admin bearer token' : 'admin calls are accepted from this machine only (or set adminTokenEnv)');
  }
}
