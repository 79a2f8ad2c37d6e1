// `bramble deploy name@vX.Y.Z --env prod`: fetch the version's artifact from the registry (verified against its
// tag), write it to the host's model folder as the environment's candidate, and ask the running server to take it.
// The server loads it beside the old model, checks its hash, runs its self-test and swaps, or refuses and keeps
// the old one; the deploy exits non-zero with the reason. With no server running, the same checks run here and
// the model is put in place for the server's next start. The deploy action calls this same function.
import { BrambleError, describeError } from '../errors.js';
import { Registry, checkEnvironment } from '../registry/registry.js';
import { ModelHost, writeCandidate, type DeployResult } from '../serve/host.js';
import type { ServeConfig } from '../serve/config.js';

export class DeployError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_DEPLOY', message, data);
  }
}

/** The server refused the admin token: a configuration mistake, so exit 2 rather than a failed deploy's 1. */
export class DeployAuthError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_DEPLOY_AUTH', message, data);
  }
}

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
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    if (cause !== 'ECONNREFUSED') throw new DeployError(`the server at ${server} did not answer the deploy (${describeError(err)}); the candidate is in ${request.config.models}/${request.env}`, { server });
    // No server: the same load, hash check and self-test here; it serves the model when it starts.
    const local = new ModelHost(request.config.models, [request.env], request.warn);
    const result = await local.deploy(request.env).catch((e: unknown) => {
      throw new DeployError(`${request.name}@${v.version} was not deployed to ${request.env}: ${describeError(e)}`, { env: request.env });
    });
    return { ...result, via: 'files' };
  }
  const body = (await response.json().catch(() => ({}))) as DeployResult & { error?: string };
  if (response.status === 401 || response.status === 403) {
    // A setup mistake (exit 2), not a failed deploy: nothing was tried.
    const name = request.config.adminTokenEnv;
    throw new DeployAuthError(
      `the server at ${server} refused the admin call (${response.status}); ${name ? `set ${name} (serve.json adminTokenEnv) to the server's admin token` : 'set adminTokenEnv in serve.json and that variable to the server\'s admin token'} — ${request.env} still serves its previous model`,
      { status: response.status },
    );
  }
  if (!response.ok) {
    throw new DeployError(`${request.name}@${v.version} was not deployed to ${request.env}: ${body.error ?? `the server answered ${response.status}`}; ${request.env} still serves its previous model`, {
      env: request.env,
      status: response.status,
    });
  }
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

