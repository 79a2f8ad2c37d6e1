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
  config: Pick<ServeConfig, 'models' | 'listen' | 'adminTokenEnv'>;
  /** The server's base URL (default: from config.listen). */
  server?: string;
  remote?: string | null;
  env_: Readonly<Record<string, string | undefined>>;
  warn: (message: string) => void;
}

export interface DeployOutcome extends DeployResult {
  /** 'server': the running server swapped; 'files': no server answered, the model waits for its start. */
  via: 'server' | 'files';
}

export async function deployVersion(request: DeployRequest): Promise<DeployOutcome> {
  checkEnvironment(request.env, request.environments);
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
