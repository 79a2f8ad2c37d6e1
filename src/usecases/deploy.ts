// `bramble deploy name@vX.Y.Z --env prod`: fetch the version's artifact from the registry (verified against its
// tag), write it to the host's model folder as the environment's candidate, and ask the running server to take it.
// The server loads it beside the old model, checks its hash, runs its self-test and swaps, or refuses and keeps
// the old one; the deploy exits non-zero with the reason. With no server running, the same checks run here and
// the model is put in place for the server's next start. `deploy` is the use-case the CLI and the deploy action
// call: it also resolves a pushed assignment tag and records the deployment where the platform keeps records.
import { join } from 'node:path';
import { readMlYaml } from '../config/ml-yaml.js';
import { describeError, errorClass } from '../errors.js';
import { Registry, checkEnvironment } from '../registry/registry.js';
import { stageRole } from '../registry/roles.js';
import { parseTag } from '../registry/tags.js';
import { ModelHost, writeCandidate, type DeployResult } from '../serve/host.js';
import { readServeConfig, type ServeConfig } from '../serve/config.js';
import { isUnanswered, jsonOr, unansweredCode } from '../platform/http.js';
import { UsageError } from './options.js';
import type { Ports } from './ports.js';

export class DeployError extends errorClass('E_DEPLOY') {}

/** The server refused the admin token: a configuration mistake, so exit 2 rather than a failed deploy's 1. */
export class DeployAuthError extends errorClass('E_DEPLOY_AUTH') {}

export interface DeployRequest {
  /** The model folder (ml.yaml) inside the git repository holding the registry. */
  dir: string;
  name: string;
  version: string;
  env: string;
  environments: readonly string[];
  /** The host's configuration: its model folder, its address and the admin token's variable. */
  config: Pick<ServeConfig, 'models' | 'listen' | 'adminTokenEnv' | 'git'>;
  /** How long a host that follows git may take to serve what the tags say (default 60 s). */
  timeoutMs?: number;
  /** The server's base URL (default: from config.listen). */
  server?: string;
  remote?: string | null;
  env_: Readonly<Record<string, string | undefined>>;
  warn: (message: string) => void;
}

export interface DeployOutcome extends DeployResult {
  /** 'server': the running server swapped; 'files': no server answered, the model waits for its start; 'git': the host synced from git. */
  via: 'server' | 'files' | 'git';
}

export async function deployVersion(request: DeployRequest): Promise<DeployOutcome> {
  checkEnvironment(request.env, request.environments);
  if (request.config.git) return syncAndWait(request);
  const registry = await Registry.open({ dir: request.dir, env: request.env_, remote: request.remote, warn: request.warn });
  const { snapshot, models } = await registry.read({ fetch: registry.remote !== null });
  const v = Registry.version(models, request.name, request.version);
  if (v.deregistered) throw new DeployError(`${request.name}@${v.version} is deregistered; deploy a registered version`, { version: v.version });
  const { text, artifact } = await registry.artifact(snapshot.head, v);
  await writeCandidate(request.config.models, request.env, text, { name: request.name, version: v.version, sha256: artifact.sha256 });

  const host = request.config.listen.host === '0.0.0.0' ? '127.0.0.1' : request.config.listen.host;
  const server = request.server ?? `http://${host.includes(':') ? `[${host}]` : host}:${request.config.listen.port}`;
  const token = request.config.adminTokenEnv ? request.env_[request.config.adminTokenEnv] : undefined;
  let response: Response;
  try {
    response = await fetch(`${server}/admin/deploy/${encodeURIComponent(request.env)}`, {
      method: 'POST',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    if (!isUnanswered(err)) throw err;
    if (unansweredCode(err) !== 'ECONNREFUSED') throw new DeployError(`the server at ${server} did not answer the deploy (${describeError(err)}); the candidate is in ${request.config.models}/${request.env}`, { server });
    // No server: the same load, hash check and self-test here; it serves the model when it starts.
    const local = new ModelHost(request.config.models, [request.env], request.warn);
    const result = await local.deploy(request.env).catch((e: unknown) => {
      throw new DeployError(`${request.name}@${v.version} was not deployed to ${request.env}: ${describeError(e)}`, { env: request.env });
    });
    return { ...result, via: 'files' };
  }
  const body = await jsonOr<(DeployResult & { error?: string }) | null>(response, null);
  if (response.status === 401 || response.status === 403) {
    // A setup mistake (exit 2), not a failed deploy: nothing was tried.
    const name = request.config.adminTokenEnv;
    throw new DeployAuthError(
      `the server at ${server} refused the admin call (${response.status}); ${name ? `set ${name} (serve.json adminTokenEnv) to the server's admin token` : 'set adminTokenEnv in serve.json and that variable to the server\'s admin token'} — ${request.env} still serves its previous model`,
      { status: response.status },
    );
  }
  if (!response.ok) {
    throw new DeployError(`${request.name}@${v.version} was not deployed to ${request.env}: ${body?.error ?? `the server answered ${response.status}`}; ${request.env} still serves its previous model`, {
      env: request.env,
      status: response.status,
    });
  }
  if (body === null) throw new DeployError(`the server at ${server} answered the deploy with no JSON; check that --server is bramble serve`, { server });
  return { ...body, via: 'server' };
}

interface HostStatus {
  environments: Record<string, { desired: { tag: string; version: string; sha256: string | null } | null; live: { version: string; sha256: string } | null; inSync: boolean | null; error: string | null }>;
  lastSync: { ok: boolean; error: string | null } | null;
}

/**
 * A deploy to a host that follows git: nothing is sent to it but a nudge. The tags must already assign the version
 * (bramble promote); the host is asked to sync, and this waits until what it serves is what the tags say.
 */
async function syncAndWait(request: DeployRequest): Promise<DeployOutcome> {
  const started = performance.now();
  const server = serverUrl(request);
  const token = request.config.adminTokenEnv ? request.env_[request.config.adminTokenEnv] : undefined;
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const deadline = Date.now() + (request.timeoutMs ?? 60_000);
  const want = request.version.startsWith('v') ? request.version : `v${request.version}`;
  let status: HostStatus | null = null;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    let response: Response;
    try {
      response = await fetch(`${server}/admin/sync`, { method: 'POST', headers, signal: AbortSignal.timeout(Math.max(1_000, deadline - Date.now())) });
    } catch (err) {
      if (!isUnanswered(err)) throw err;
      throw new DeployError(`the host at ${server} did not answer (${describeError(err)}); start it (bramble serve --config …), it syncs from git when it starts`, { server });
    }
    if (response.status === 401 || response.status === 403) {
      throw new DeployAuthError(`the server at ${server} refused the admin call (${response.status}); set ${request.config.adminTokenEnv ?? 'adminTokenEnv in serve.json and that variable'} to the server's admin token`, { status: response.status });
    }
    status = (await response.json()) as HostStatus;
    const env = status.environments[request.env];
    if (env === undefined) throw new DeployError(`the host at ${server} does not serve ${request.env}`, { env: request.env });
    if (env.desired === null) throw new DeployError(`the tags assign ${request.env} no version of ${request.name}; promote one first: bramble promote ${request.name}@${want} ${request.env}`, { env: request.env });
    if (env.desired.version !== want) {
      throw new DeployError(`the tags assign ${request.env} ${request.name}@${env.desired.version} (${env.desired.tag}), not ${want}; promote it first (bramble promote ${request.name}@${want} ${request.env}) — the host serves what the tags say`, { env: request.env });
    }
    if (env.inSync && env.live) {
      return { env: request.env, name: request.name, version: env.live.version, sha256: env.live.sha256, previous: null, seconds: (performance.now() - started) / 1000, via: 'git' };
    }
    if (env.error) throw new DeployError(`${request.env} did not take ${request.name}@${want}: ${env.error}`, { env: request.env });
    await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
  }
  throw new DeployError(`the host at ${server} did not serve ${request.name}@${want} in ${request.env} within ${(request.timeoutMs ?? 60_000) / 1000} s${status?.lastSync?.error ? ` (${status.lastSync.error})` : ''}`, { env: request.env });
}

function serverUrl(request: DeployRequest): string {
  const host = request.config.listen.host === '0.0.0.0' ? '127.0.0.1' : request.config.listen.host;
  return request.server ?? `http://${host.includes(':') ? `[${host}]` : host}:${request.config.listen.port}`;
}


export interface DeployOptions {
  /** The model folder (ml.yaml) inside the repository with the registry. */
  dir: string;
  /** A pushed assignment tag (name#env#N): the version and environment it names. Or `name`, `version` and `env`. */
  tag?: string;
  name?: string;
  version?: string;
  env?: string;
  /** serve.json's path. */
  config: string;
  /** The server's base URL (default: from serve.json). */
  server?: string;
  /** The environment's public URL for the platform's record (default: where the host serves it). */
  url?: string;
}

export interface DeployUseCaseResult {
  outcome: DeployOutcome;
  /** Where the environment answers. */
  url: string;
}

/** The deploy use-case. */
export async function deploy(options: DeployOptions, ports: Pick<Ports, 'git' | 'log' | 'platform'>): Promise<DeployUseCaseResult> {
  const config = await readMlYaml(join(options.dir, 'ml.yaml'));
  const warn = (m: string): void => ports.log.warn(m);
  const target = options.tag
    ? await resolveAssignment(options.dir, options.tag, ports)
    : { name: options.name ?? config.name, version: options.version ?? '', env: options.env ?? '' };
  if (!target.version || !target.env) throw new UsageError('give an assignment tag (name#env#N), or both a version and an environment');
  const environments = Object.keys(config.environments);
  // Checked before any deployment is recorded: an environment ml.yaml does not know must not appear on GitHub.
  checkEnvironment(target.env, environments);
  const serve = await readServeConfig(options.config);
  const url = options.url || serveUrl(serve, target.env, options.server ?? '');
  const request = { environment: target.env, ref: options.tag ?? '', description: `${target.name}@${target.version}`, url };
  // A tag's deployment continues the record its promotion made; a version named directly gets a new one.
  const record = !ports.platform
    ? null
    : options.tag
      ? await ports.platform.continueDeployment(request)
      : await ports.platform.startDeployment({ ...request, ref: ports.platform.context().sha ?? target.version });
  const outcome = await deployVersion({
    dir: options.dir,
    ...target,
    environments,
    config: serve,
    server: options.server || undefined,
    remote: ports.git.remote,
    env_: ports.git.env,
    warn,
  }).catch(async (err: unknown) => {
    await record?.finish('failure', describeError(err), url);
    throw err;
  });
  await record?.finish('success', `${outcome.name}@${outcome.version} serves ${outcome.env}`, url);
  return { outcome, url };
}

const TAG_KINDS = {
  register: 'a registration',
  deregister: 'a deregistration',
  assign: 'an assignment',
  unassign: 'an unassignment',
  deprecate: 'a deprecation',
} as const;

/** The model, version and environment a pushed assignment tag (name#env#N) gives, from the registry. */
export async function resolveAssignment(dir: string, tag: string, ports: Pick<Ports, 'git' | 'log'>): Promise<{ name: string; version: string; env: string }> {
  const event = parseTag(tag);
  if (event === null || event.kind !== 'assign') {
    throw new UsageError(
      `the tag ${tag} is not an assignment tag in GTO's grammar (name#env#N, e.g. churn#prod#4)${event ? ` but ${TAG_KINDS[event.kind]}` : ''}; there is nothing to deploy for it`,
      { tag },
    );
  }
  const { env, role } = stageRole(event.env);
  if (role !== 'main') {
    throw new UsageError(`the tag ${tag} names ${env}'s ${role}, which the hosts that follow git take on their next sync (POST /admin/sync); bramble deploy puts main versions only`, { tag });
  }
  const registry = await Registry.open({ dir, env: ports.git.env, remote: ports.git.remote, warn: (m) => ports.log.warn(m) });
  const { models } = await registry.read({ fetch: registry.remote !== null });
  const assignment = models.get(event.name)?.history.find((a) => a.tag === tag);
  if (!assignment?.version) {
    throw new UsageError(`the registry has no assignment ${tag}${assignment ? ' with a version' : ''}; check that the tag was pushed as an annotated tag (bramble promote does)`, { tag });
  }
  return { name: event.name, version: assignment.version, env: event.env };
}

/** Where an environment answers on the model host, for the Environments page when no public URL is given. */
export function serveUrl(config: Pick<ServeConfig, 'listen' | 'environments'>, environment: string, server: string): string {
  const e = config.environments[environment] ?? {};
  const host = config.listen.host === '0.0.0.0' ? '127.0.0.1' : config.listen.host;
  const base = (server || `http://${host.includes(':') ? `[${host}]` : host}:${e.port ?? config.listen.port}`).replace(/\/+$/, '');
  return e.port !== undefined && !server ? `${base}/` : `${base}${e.path ?? ''}/`;
}
