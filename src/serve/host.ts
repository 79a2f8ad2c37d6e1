// The model host: which model each environment serves, and how a new one replaces it. A deploy writes the
// artifact to MODELS/<env>/candidate.json (atomically) and asks the server to take it; the server loads it beside
// the running model, checks its hash and runs its self-test, and only then swaps the pointer — requests in flight
// finish on the model they started with, and none is refused. The files then move: current → previous,
// candidate → current. On any failure the candidate becomes rejected.json and the old model keeps serving. A
// restarted server loads current.json: the last model that passed, never a candidate.
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, errorClass } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { isMissing } from '../fs/codes.js';
import { checkCanary, RELEASE, roleStage, stageRole, type CanarySettings } from '../registry/roles.js';
import { ModelLoadError, ServedModel } from './model.js';
import { NO_RELEASE, releasePlan, type ReleasePlan } from './release.js';

export const HOST_FILES = {
  current: 'current.json',
  previous: 'previous.json',
  candidate: 'candidate.json',
  rejected: 'rejected.json',
  /** A canary or shadow taken away: its last model, kept for the record and never loaded again. */
  retired: 'retired.json',
  /** Beside each model file: { name, version, sha256 } as the deploy named it. */
  meta: (file: string) => file.replace(/\.json$/, '.meta.json'),
} as const;

export interface DeployMeta {
  name: string;
  version: string;
  sha256: string;
  /** A canary slot's weight and stickiness, as its assignment tag recorded them (release.ts). */
  canary?: CanarySettings;
}

export interface DeployResult {
  env: string;
  name: string;
  version: string;
  sha256: string;
  previous: { version: string; sha256: string } | null;
  seconds: number;
}

/** The model folder (serve.json's `models`) cannot hold an environment's folder. */
export class ModelFolderError extends errorClass('E_MODEL_FOLDER') {
  constructor(message: string, data: { folder: string; dir: string; cause: string }) {
    super(message, data);
  }
}

/** Creates MODELS/<env>; a folder in the way of the path, or one the user may not write, is the user's to fix. */
async function makeEnvDir(folder: string, dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    const data = { folder, dir, cause: code };
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      throw new ModelFolderError(`the model folder ${folder} cannot hold ${dir}: a file is in the way (${code}); set models in serve.json to a folder, or move the file`, data);
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new ModelFolderError(`the model folder ${folder} cannot be written (${code} creating ${dir}); let the user running bramble write it, or set models in serve.json to a folder it may write`, data);
    }
    throw err;
  }
}

/** A loaded model's artifact as read, for a cluster's primary to hand its workers (see cluster.ts). */
export interface ModelSource {
  text: string;
  file: string;
  version?: string;
  sha256?: string;
  canary?: CanarySettings;
}

export class ModelHost {
  private readonly models = new Map<string, ServedModel | null>();
  /** With keepSources: each loaded model's text, so that the same bytes can be sent to every worker. */
  private readonly sources = new WeakMap<ServedModel, ModelSource>();
  /** Keep each loaded model's text (the primary of a cluster does; one process needs no copy). */
  keepSources = false;
  /** One deploy at a time per environment: the next waits for the one before. */
  private readonly queue = new Map<string, Promise<unknown>>();
  readonly envs: readonly string[];
  /** Every environment and its role slots (`prod`, `prod-canary`, `prod-shadow`): each has its own folder. */
  readonly slots: readonly string[];
  /** Per environment: its canary's settings, and the plan requests read (release.ts). */
  private readonly canaries = new Map<string, CanarySettings>();
  private readonly plans = new Map<string, ReleasePlan>();
  /** Called after every swap (the server re-labels its metrics). */
  onSwap: (slot: string, model: ServedModel) => void = () => {};
  /** Called when a role slot is emptied (its canary or shadow taken away). */
  onRetire: (slot: string) => void = () => {};
  /** Called with an environment's new plan after any change to it. */
  onPlan: (env: string, plan: ReleasePlan) => void = () => {};

  constructor(
    readonly folder: string,
    envs: readonly string[],
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.envs = envs;
    this.slots = envs.flatMap((env) => [env, ...RELEASE.roles.map((role) => roleStage(env, role))]);
    for (const slot of this.slots) this.models.set(slot, null);
  }

  model(env: string): ServedModel | null {
    return this.models.get(env) ?? null;
  }

  /** What answers an environment's requests: its main model, canary and shadow, read as one object. */
  plan(env: string): ReleasePlan {
    return this.plans.get(env) ?? NO_RELEASE;
  }

  /** An environment's canary settings, when it has a canary. */
  canary(env: string): CanarySettings | null {
    return this.model(roleStage(env, 'canary')) ? (this.canaries.get(env) ?? null) : null;
  }

  /** The text `model` was loaded from; only with keepSources. */
  source(model: ServedModel): ModelSource | undefined {
    return this.sources.get(model);
  }

  /** A worker's swap: a model its primary verified, loaded and self-tested here again, served from now on. */
  install(slot: string, model: ServedModel, canary?: CanarySettings): void {
    if (!this.models.has(slot)) throw new ModelLoadError(`unknown environment ${JSON.stringify(slot)}; this server hosts ${this.envs.join(', ')}`, { env: slot });
    this.swapIn(slot, model, canary);
  }

  /** The swap itself: the slot's model (and a canary's settings) and the environment's plan, then the listeners. */
  private swapIn(slot: string, model: ServedModel, canary: CanarySettings | undefined): void {
    const { env, role } = stageRole(slot);
    this.models.set(slot, model);
    if (role === 'canary' && canary) this.canaries.set(env, canary);
    this.replan(env);
    this.onSwap(slot, model);
  }

  private replan(env: string): void {
    const plan = releasePlan(this.model(env), this.model(roleStage(env, 'canary')), this.canaries.get(env) ?? null, this.model(roleStage(env, 'shadow')));
    this.plans.set(env, plan);
    this.onPlan(env, plan);
  }

  /** A role slot emptied in memory (a worker, told by its primary); `retire` also moves its files. */
  drop(slot: string): void {
    if (!this.models.get(slot)) return;
    this.models.set(slot, null);
    this.replan(stageRole(slot).env);
    this.onRetire(slot);
  }

  /** Takes a canary or shadow away: the slot serves nothing, and its files become retired.json so a restart does not bring it back. */
  async retire(slot: string): Promise<void> {
    if (stageRole(slot).role === 'main') throw new ModelLoadError(`${slot} is an environment's main slot; only a canary or shadow is retired`, { env: slot });
    this.drop(slot);
    const dir = join(this.folder, slot);
    await rename(join(dir, HOST_FILES.current), join(dir, HOST_FILES.retired)).catch(throwUnlessMissing);
    await rename(HOST_FILES.meta(join(dir, HOST_FILES.current)), HOST_FILES.meta(join(dir, HOST_FILES.retired))).catch(throwUnlessMissing);
  }

  /** A canary's new weight or stickiness for the model it serves: no reload, the plan and the meta file change. */
  async reweight(env: string, canary: CanarySettings): Promise<void> {
    const slot = roleStage(env, 'canary');
    const model = this.model(slot);
    if (!model) throw new ModelLoadError(`${env} has no canary to reweight`, { env });
    const file = HOST_FILES.meta(join(this.folder, slot, HOST_FILES.current));
    await writeFileAtomic(file, JSON.stringify({ name: model.name, version: model.version, sha256: model.sha256, canary } satisfies DeployMeta, null, 2) + '\n');
    const source = this.sources.get(model);
    if (source) source.canary = canary;
    this.swapIn(slot, model, canary);
  }

  /** Loads every slot's current.json (falling back to previous.json if current no longer passes). */
  async start(): Promise<void> {
    for (const slot of this.slots) {
      const dir = join(this.folder, slot);
      const main = stageRole(slot).role === 'main';
      // A role's folder is made when the sync first deploys to it.
      if (main) await makeEnvDir(this.folder, dir);
      for (const file of [HOST_FILES.current, HOST_FILES.previous]) {
        const loaded = await this.tryLoad(join(dir, file)).catch((err: unknown) => {
          this.warn(`${slot}: ${join(dir, file)} is not served: ${describeError(err)}`);
          return null;
        });
        if (loaded) {
          this.swapIn(slot, loaded.model, loaded.canary);
          break;
        }
        // A role's previous model is not a fallback: it was replaced or taken away on purpose.
        if (!main) break;
      }
      if (main && !this.models.get(slot)) this.warn(`${slot}: no model yet; deploy one with bramble deploy NAME@VERSION --env ${slot}`);
    }
  }

  private async tryLoad(path: string): Promise<{ model: ServedModel; canary?: CanarySettings } | null> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    const meta = await readMeta(path);
    const model = ServedModel.load(text, path, meta ? { version: meta.version, expectSha256: meta.sha256 } : {});
    if (this.keepSources) this.sources.set(model, { text, file: path, version: meta?.version, sha256: meta?.sha256, canary: meta?.canary });
    return { model, canary: meta?.canary };
  }

  /** Takes MODELS/<env>/candidate.json: load, verify, self-test, swap; or refuse and keep the old model. */
  deploy(env: string): Promise<DeployResult> {
    const before = this.queue.get(env) ?? Promise.resolve();
    // The deploy before this one reported its own failure to its caller; this one only waits for it to end.
    const run = before.then(
      () => this.deployNow(env),
      () => this.deployNow(env),
    );
    this.queue.set(env, run);
    return run;
  }

  private async deployNow(env: string): Promise<DeployResult> {
    const started = performance.now();
    if (!this.models.has(env)) throw new ModelLoadError(`unknown environment ${JSON.stringify(env)}; this server hosts ${this.envs.join(', ')}`, { env });
    const dir = join(this.folder, env);
    const candidate = join(dir, HOST_FILES.candidate);
    let loaded: Awaited<ReturnType<ModelHost['tryLoad']>>;
    try {
      loaded = await this.tryLoad(candidate);
      if (!loaded) throw new ModelLoadError(`${candidate} does not exist; bramble deploy writes it before asking the server to take it`, { env });
    } catch (err) {
      // The refusal is what the caller must hear; a failure to set the candidate aside is only worth a warning.
      const setAside = (e: unknown): void => {
        if (!isMissing(e)) this.warn(`${env}: the refused candidate could not be renamed to ${HOST_FILES.rejected}: ${describeError(e)}`);
      };
      await rename(candidate, join(dir, HOST_FILES.rejected)).catch(setAside);
      await rename(HOST_FILES.meta(candidate), HOST_FILES.meta(join(dir, HOST_FILES.rejected))).catch(setAside);
      throw err instanceof ModelLoadError ? err : new ModelLoadError(describeError(err), { env });
    }
    const { model } = loaded;
    const old = this.models.get(env) ?? null;
    // The swap: one assignment. Requests already running keep the object (and plan) they hold.
    this.swapIn(env, model, loaded.canary);
    // Then the files, so that a restart serves this model (and can fall back to the one before).
    const current = join(dir, HOST_FILES.current);
    const previous = join(dir, HOST_FILES.previous);
    // The first deploy has no current model, and a model may have no meta: only a missing file is expected.
    await rename(current, previous).catch(throwUnlessMissing);
    await rename(HOST_FILES.meta(current), HOST_FILES.meta(previous)).catch((e: unknown) => (throwUnlessMissing(e), rm(HOST_FILES.meta(previous), { force: true })));
    await rename(candidate, current);
    await rename(HOST_FILES.meta(candidate), HOST_FILES.meta(current)).catch((e: unknown) => (throwUnlessMissing(e), rm(HOST_FILES.meta(current), { force: true })));
    return {
      env,
      name: model.name,
      version: model.version,
      sha256: model.sha256,
      previous: old ? { version: old.version, sha256: old.sha256 } : null,
      seconds: (performance.now() - started) / 1000,
    };
  }
}

function throwUnlessMissing(err: unknown): void {
  if (!isMissing(err)) throw err;
}

/**
 * The meta beside a model file; null when there is none (a model copied in by hand). A damaged meta is an error,
 * not "none": it is what names the sha256 the deploy expected, and without it the hash check would be skipped.
 */
async function readMeta(path: string): Promise<DeployMeta | null> {
  const file = HOST_FILES.meta(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throwUnlessMissing(err);
    return null;
  }
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw damagedMeta(file, `not JSON: ${err.message}`);
  }
  if (typeof meta !== 'object' || meta === null || !('version' in meta) || !('sha256' in meta)) throw damagedMeta(file, 'no version and sha256');
  const { version, sha256 } = meta;
  if (typeof version !== 'string' || typeof sha256 !== 'string') throw damagedMeta(file, 'version and sha256 are not strings');
  const name = 'name' in meta && typeof meta.name === 'string' ? meta.name : '';
  if (!('canary' in meta)) return { name, version, sha256 };
  const canary = meta.canary as CanarySettings;
  try {
    return { name, version, sha256, canary: checkCanary(canary, file) };
  } catch (err) {
    throw damagedMeta(file, describeError(err));
  }
}

function damagedMeta(file: string, why: string): ModelLoadError {
  return new ModelLoadError(`${file} is damaged (${why}), so the sha256 the deploy expected cannot be checked; deploy the model again`, { file });
}

/** Writes a candidate for `env` into the host's model folder: the artifact, then its meta, each atomically. */
export async function writeCandidate(folder: string, env: string, text: string, meta: DeployMeta): Promise<string> {
  const dir = join(folder, env);
  await makeEnvDir(folder, dir);
  const path = join(dir, HOST_FILES.candidate);
  await writeFileAtomic(path, text);
  await writeFileAtomic(HOST_FILES.meta(path), JSON.stringify(meta, null, 2) + '\n');
  return path;
}

