// which: what the tags say an environment serves (desired), now or at a date; with a host's URL, also what that
// host serves (live, from its /status) and whether the two differ — what a deploy waits for, and a monitor checks.
import { join } from 'node:path';
import { readMlYaml } from '../config/ml-yaml.js';
import { isUnanswered, jsonOr } from '../platform/http.js';
import { checkEnvironment, endOf, Registry, servedAt } from '../registry/registry.js';
import type { Assignment } from '../registry/state.js';
import { UsageError } from './options.js';
import type { Ports } from './ports.js';

export interface WhichOptions {
  dir: string;
  env: string;
  /** The model (default: ml.yaml's name). */
  name?: string;
  /** A date (the end of that day, UTC) or an ISO time: what served then. Not with `server`. */
  at?: string;
  /** A host's base URL: also what it serves now. */
  server?: string;
  /** Fetch the registry from its remote first. */
  fetch?: boolean;
}

export interface Which {
  name: string;
  env: string;
  /** The moment asked about, or null for now. */
  at: string | null;
  /** The assignment that serves (served) then, or null. */
  served: Assignment | null;
  /** Only with a server: its sha256 by the version's tag, what the host serves, and whether the two differ. */
  live?: { desiredSha: string | null; live: { version: string; sha256: string } | null; differs: boolean };
}

/** The which use-case. */
export async function which(options: WhichOptions, ports: Pick<Ports, 'git' | 'log' | 'fs'>): Promise<Which> {
  if (options.server !== undefined && options.at !== undefined) throw new UsageError('give a server or a date, not both: a host serves now, not at a date');
  const config = await readMlYaml(join(options.dir, 'ml.yaml'));
  const { env } = options;
  const name = options.name ?? config.name;
  const registry = await Registry.open({ dir: options.dir, env: ports.git.env, remote: ports.git.remote, fs: ports.fs, warn: (m) => ports.log.warn(m) });
  const { snapshot, models } = await registry.read({ fetch: options.fetch });
  checkEnvironment(env, Object.keys(config.environments));
  const at = options.at === undefined ? null : endOf(options.at);
  const assignment = at === null ? (models.get(name)?.envs.get(env) ?? null) : servedAt(snapshot.events, name, env, at);
  const served = assignment?.version ? assignment : null;
  if (options.server === undefined) return { name, env, at, served };
  const live = await liveOn(options.server, env);
  const desiredSha = served?.version ? (Registry.version(models, name, served.version).artifact ?? null) : null;
  const differs = served !== null && (live === null || live.version !== served.version || (desiredSha !== null && live.sha256 !== desiredSha));
  return { name, env, at, served, live: { desiredSha, live, differs } };
}

/** What a host serves in `env`, from its /status. */
async function liveOn(server: string, env: string): Promise<{ version: string; sha256: string } | null> {
  if (!/^https?:\/\//.test(server)) throw new UsageError(`--server is ${JSON.stringify(server)}; give the host's base URL, such as http://127.0.0.1:8080`);
  type Status = { environments?: Record<string, { live?: { version: string; sha256: string } | null }> };
  const refused = (why: string): UsageError => new UsageError(`the host at ${server} did not answer /status (${why}); is bramble serve running there?`);
  let response: Response;
  try {
    response = await fetch(`${server.replace(/\/$/, '')}/status`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    if (!isUnanswered(err)) throw err;
    throw refused(err.message);
  }
  if (!response.ok) throw refused(`it answered ${response.status}`);
  const body = await jsonOr<Status | null>(response, null);
  if (body === null) throw refused('its answer is not JSON');
  const entry = body.environments?.[env];
  if (entry === undefined) throw new UsageError(`the host at ${server} does not serve ${env}`);
  return entry.live ?? null;
}
