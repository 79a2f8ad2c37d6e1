// serve.json, the model host's configuration, checked against schemas/serve.schema.json with its defaults filled in.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { describeError, errorClass } from '../errors.js';
import { stageRole } from '../registry/roles.js';
import { schemaValidator } from '../schemas.js';

export const SERVE_SCHEMA_ID = 'https://bramble.dev/schemas/serve.schema.json';

/** The paths the server answers at its root, whatever the environments: none may be an environment's prefix. */
export const SERVE_ROOT_PATHS = ['/metrics', '/ping', '/health', '/version', '/status', '/admin', '/v2', '/ui'] as const;

export interface ServeConfig {
  /** `http`: Bramble's own HTTP/1.1 server (http1.ts, the default) or node:http's. */
  listen: { host: string; port: number; http: 'bramble' | 'node' };
  /** Processes that answer requests (node:cluster); 1 is one process. Default: the machine's core count. */
  workers: number;
  models: string;
  log: { dir: string; maxBytes: number; files: number };
  adminTokenEnv?: string;
  default?: string;
  limits: { bodyBytes: number; requestTimeoutMs: number; headersTimeoutMs: number };
  environments: Record<string, { path?: string; port?: number; tokenEnv?: string; model?: string }>;
  /** The model repository the host pulls from: with it, what serves is what the tags say (src/serve/sync.ts). */
  git?: { url: string; tokenEnv?: string; intervalSeconds: number };
  /** A site written by `bramble ui build`, served read-only at /ui/. */
  ui?: string;
  /** Online features: inputs a row leaves out, filled from the online store by entity key (src/store/online-serve.ts). */
  features?: { repo: string; store?: string; views?: string[] };
}

export class ServeConfigError extends errorClass('E_SERVE_CONFIG') {}

/** Checks a parsed serve.json (relative paths are taken from `base`) and fills in its defaults. */
export function checkServeConfig(value: unknown, file: string, base: string): ServeConfig {
  const copy = JSON.parse(JSON.stringify(value)) as ServeConfig;
  const validate = schemaValidator(SERVE_SCHEMA_ID);
  if (!validate(copy)) {
    const e = validate.errors?.[0];
    const where = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
    const detail =
      e?.keyword === 'additionalProperties'
        ? `unknown key ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)}`
        : e?.keyword === 'required'
          ? `missing ${JSON.stringify((e.params as { missingProperty: string }).missingProperty)}`
          : e?.keyword === 'enum'
            ? `is ${JSON.stringify(e.data)}; give one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
            : `${e?.message ?? 'is not valid'}${e && 'data' in e ? ` (got ${JSON.stringify(e.data)})` : ''}`;
    throw new ServeConfigError(`${file} ${where}: ${detail}; see schemas/serve.schema.json`, { file });
  }
  const envs = Object.entries(copy.environments);
  for (const [env, e] of envs) {
    // `prod-canary` is prod's canary slot (registry/roles.ts): an environment of that name would share its folder.
    if (stageRole(env).role !== 'main') throw new ServeConfigError(`${file} environments.${env}: a name ending in -${stageRole(env).role} is kept for ${stageRole(env).env}'s ${stageRole(env).role}; rename the environment`, { file });
    if (e.path === undefined && e.port === undefined) throw new ServeConfigError(`${file} environments.${env}: give a path (e.g. "/${env}") or a port`, { file });
  }
  // Port 0 asks the system for a free port, so only fixed ports can collide.
  const ports = new Map<number, string>(copy.listen.port === 0 ? [] : [[copy.listen.port, 'listen.port']]);
  for (const [env, e] of envs) {
    if (e.port === undefined || e.port === 0) continue;
    const key = `environments.${env}.port`;
    const other = ports.get(e.port);
    if (other) throw new ServeConfigError(`${file} ${key}: port ${e.port} is also ${other}; each listener needs its own port`, { file });
    ports.set(e.port, key);
  }
  for (const [env, e] of envs) {
    // Prefixes are matched before the root's own routes, so an environment there would hide them.
    const reserved = SERVE_ROOT_PATHS.find((p) => e.path === p);
    if (reserved) throw new ServeConfigError(`${file} environments.${env}.path: ${reserved} is the server's own (${SERVE_ROOT_PATHS.join(', ')}); choose another, such as "/${env}"`, { file });
  }
  const paths = envs.map(([, e]) => e.path).filter((p) => p !== undefined);
  if (new Set(paths).size !== paths.length) throw new ServeConfigError(`${file}: two environments share a path; each needs its own`, { file });
  if (copy.default !== undefined && !(copy.default in copy.environments)) {
    throw new ServeConfigError(`${file} default: ${JSON.stringify(copy.default)} is not one of the environments (${Object.keys(copy.environments).join(', ')})`, { file });
  }
  if (copy.git) {
    for (const [env, e] of envs) {
      if (e.model === undefined) throw new ServeConfigError(`${file} environments.${env}: give "model", the ml.yaml name of the model it serves; a host that follows git needs it`, { file });
    }
    if (!/^https?:\/\//.test(copy.git.url)) copy.git.url = resolve(base, copy.git.url);
  }
  copy.workers ??= availableParallelism();
  copy.models = resolve(base, copy.models);
  if (copy.ui !== undefined) copy.ui = resolve(base, copy.ui);
  if (copy.features) {
    copy.features.repo = resolve(base, copy.features.repo);
    if (copy.features.store !== undefined) copy.features.store = resolve(base, copy.features.store);
  }
  copy.log.dir = resolve(base, copy.log.dir);
  return copy;
}

export async function readServeConfig(file: string): Promise<ServeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    const denied = code === 'EACCES' || code === 'EPERM';
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code || describeError(err)})`;
    const fix = denied ? 'let the user running bramble read it' : 'give a serve.json with --config (runner-pi/serve.json is an example)';
    throw new ServeConfigError(`the serve configuration ${file} ${reason}; ${fix}`, { file });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ServeConfigError(`${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`, { file });
  }
  return checkServeConfig(value, file, dirname(resolve(file)));
}
