// Which model a run compares against: a file, a registered version, or whatever an environment serves.
//
// Decisions:
// - `--champion` takes a path (anything with a slash, ending in .json, or naming a file that exists), then
//   `name@vX.Y.Z`, then an environment of ml.yaml. Without it, `run` asks the registry what `compare.against`
//   serves; "no champion" is said only when the registry assigns that environment nothing (or there is no
//   registry yet: a folder outside git, a repository without registry tags).
// - With a remote, the registry is fetched first, so a laptop compares against what prod serves now, not what it
//   served at the last fetch. A fetch that fails (offline) falls back to the local tags, and says so.
// - A registry artifact is verified against the sha256 in its version tag before it is scored (Registry.artifact).
import { access, readFile } from 'node:fs/promises';
import * as nodeFs from 'node:fs';
import type { MlConfig } from '../config/ml-yaml.js';
import { BrambleError, describeError, errorClass, nearest } from '../errors.js';
import { Registry } from '../registry/registry.js';
import { RegistryError } from '../registry/store.js';

export class ChampionError extends errorClass('E_CHAMPION') {}

/** No champion, and why: said in the run's output so that "none" is never a silent surprise. */
export interface NoChampion {
  none: string;
}

/** A champion found: its artifact's text and how to name it. */
export interface ChampionModel {
  /** The file, or `name@vX.Y.Z` for a registered version. */
  label: string;
  text: string;
  /** Set when the champion came from the registry. */
  version?: string;
  /** Set when it is what an environment serves. */
  env?: string;
  /** How it was chosen, for the report: `--champion model.json`, `compare.against: prod`, … */
  via: string;
}

export interface ChampionOptions {
  fs?: typeof nodeFs;
  /** Tokens for the remote (the edge passes process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  warn?: (message: string) => void;
}

const VERSION = /^([A-Za-z0-9][\w.-]*)@(v?\d+\.\d+\.\d+)$/;

/**
 * The champion named by `spec` (a file, `name@vX.Y.Z`, or an environment), or — when `spec` is undefined — what
 * ml.yaml's `compare.against` serves, or why there is none.
 */
export async function resolveChampion(dir: string, spec: string | undefined, config: MlConfig, options: ChampionOptions = {}): Promise<ChampionModel | NoChampion> {
  const environments = Object.keys(config.environments);
  if (spec === undefined) {
    const against = config.compare?.against;
    if (against === undefined) return { none: 'ml.yaml sets no compare.against' };
    return served(dir, config, against, `compare.against: ${against}`, options, false);
  }
  if (spec.includes('/') || spec.endsWith('.json') || (await exists(spec))) {
    const text = await readFile(spec, 'utf8').catch((err: unknown) => {
      const code = err instanceof Error && 'code' in err ? String(err.code) : '';
      if (code === 'ENOENT') throw new ChampionError(`the model ${spec} does not exist; give the path of a model.json, a version (${config.name}@v1.2.0) or an environment (${environments.join(', ') || 'none defined'})`, { file: spec });
      if (code === 'EISDIR') throw new ChampionError(`the model ${spec} is a folder; give the path of a model.json`, { file: spec });
      throw new ChampionError(`the model ${spec} cannot be read (${describeError(err)}); check its permissions`, { file: spec });
    });
    return { label: spec, text, via: `--champion ${spec}` };
  }
  const version = VERSION.exec(spec);
  if (version) {
    const registry = await openRegistry(dir, spec, options);
    const { snapshot, models } = await readRegistry(registry, options);
    const v = Registry.version(models, version[1], version[2]);
    const { text } = await registry.artifact(snapshot.head, v);
    return { label: `${v.name}@${v.version}`, text, version: v.version, via: `--champion ${spec}` };
  }
  if (environments.includes(spec)) return served(dir, config, spec, `--champion ${spec}`, options, true);
  const guess = nearest(spec, environments);
  throw new ChampionError(
    `--champion ${spec} is not a file, a version (${config.name}@v1.2.0) or an environment of ml.yaml${guess ? `; did you mean ${guess}?` : environments.length ? ` (${environments.join(', ')})` : ''}`,
    { champion: spec },
  );
}

async function served(dir: string, config: MlConfig, env: string, via: string, options: ChampionOptions, required: boolean): Promise<ChampionModel | NoChampion> {
  let registry: Registry;
  try {
    registry = await openRegistry(dir, via, options);
  } catch (err) {
    // No git repository: a model folder on a laptop has no registry, hence no champion.
    if (!required && err instanceof ChampionError) return { none: `${dir} is not in a git repository, so there is no registry to ask what ${env} serves` };
    throw err;
  }
  const { snapshot, models } = await readRegistry(registry, options);
  const assignment = models.get(config.name)?.envs.get(env);
  if (!assignment || assignment.version === null) {
    if (!required) return { none: `the registry assigns ${env} no version of ${config.name}` };
    throw new ChampionError(`${env} serves no version of ${config.name} (the registry assigns it none); promote one first (bramble promote ${config.name}@v1.0.0 ${env}), or run without --champion`, { env });
  }
  const v = Registry.version(models, config.name, assignment.version);
  const { text } = await registry.artifact(snapshot.head, v);
  return { label: `${v.name}@${v.version}`, text, version: v.version, env, via };
}

async function openRegistry(dir: string, what: string, options: ChampionOptions): Promise<Registry> {
  try {
    return await Registry.open({ dir, fs: options.fs, env: options.env, warn: options.warn });
  } catch (err) {
    if (!(err instanceof RegistryError)) throw err;
    // A remote Bramble cannot fetch from (a path, an ssh URL): the local tags still say what each environment serves.
    if (typeof err.data.url === 'string') {
      options.warn?.(`${err.message.split(';')[0]}; the champion comes from the local tags`);
      return Registry.open({ dir, fs: options.fs, env: options.env, warn: options.warn, remote: null });
    }
    throw new ChampionError(`${what}: ${dir} is not in a git repository, so it has no registry to find a champion in; give --champion FILE`, { dir });
  }
}

async function readRegistry(registry: Registry, options: ChampionOptions): ReturnType<Registry['read']> {
  if (registry.remote === null) return registry.read();
  try {
    return await registry.read({ fetch: true });
  } catch (err) {
    if (!(err instanceof BrambleError) && !(err instanceof Error && 'code' in err)) throw err;
    options.warn?.(`could not fetch the registry from ${registry.remote.name} (${describeError(err)}); using the local tags`);
    return registry.read();
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    (err: unknown) => {
      // Only "not there" means "not a file"; anything else (EACCES) is reported when the file is read.
      if (err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return false;
      return true;
    },
  );
}
