// register: the trained artifact becomes a version — a name@vX.Y.Z tag on its source commit, and its card, report,
// metrics and validation on the registry branch — or the version that already holds the same artifact is reused.
// One flow for `bramble register` and the register action, with the checks of both.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARTIFACT } from '../model/artifact.js';
import { readAndValidate, runPipeline } from '../pipeline/run.js';
import { registrationFiles } from '../report/card.js';
import { Registry, type Registered } from '../registry/registry.js';
import { formatTag } from '../registry/tags.js';
import { bumpOption, UsageError } from './options.js';
import type { Ports } from './ports.js';

export interface RegisterOptions {
  dir: string;
  /** The artifact (default DIR/.bramble/model.json). */
  model?: string;
  /** An explicit version (vX.Y.Z), or a bump (major, minor, patch); neither: the bump the changes call for. */
  version?: string;
  bump?: string;
  /** Threads, when it trains first. */
  workers?: number;
  /** Train first when the default artifact is missing (the CLI); the action registers what its train step wrote. */
  trainWhenMissing?: boolean;
  /** How the face names the options, for its messages: `--bump` or `the input bump`. */
  labels: { model: string; version: string; bump: string };
}

export interface RegisterOutcome {
  registered: Registered;
  /** name@vX.Y.Z. */
  tag: string;
  /** The remote the tag was pushed to, or null. */
  pushedTo: string | null;
}

/** The register use-case. */
export async function register(options: RegisterOptions, ports: Pick<Ports, 'git' | 'log' | 'clock' | 'versions' | 'fs'>): Promise<RegisterOutcome> {
  const { dir, labels } = options;
  if (options.version && options.bump) {
    throw new UsageError(`${labels.version} and ${labels.bump} contradict each other; give one`, { version: options.version, bump: options.bump });
  }
  const bump = bumpOption(options.bump, labels.bump);
  let file = options.model || join(dir, ARTIFACT.folder, ARTIFACT.file);
  if (!options.model && options.trainWhenMissing && !existsSync(file)) {
    ports.log.info(`${file} does not exist; training first`);
    const run = await runPipeline(dir, { now: () => ports.clock.now(), versions: ports.versions, workers: options.workers, fs: ports.fs, env: ports.git.env });
    if (!run.artifact) throw new UsageError(`the data of ${dir} failed validation; run bramble validate ${dir} to see why — nothing was registered`, { dir });
    file = run.artifact.path;
  }
  const text = await readModelText(file, options);
  const { config, validation } = await readAndValidate(dir, { env: ports.git.env });
  const registry = await Registry.open({ dir, env: ports.git.env, remote: ports.git.remote, fs: ports.fs, warn: (m) => ports.log.warn(m) });
  const registered = await registry.register(text, {
    file,
    version: options.version || undefined,
    bump,
    files: (version, artifact) => registrationFiles({ artifact, version, config, validation }),
  });
  const tag = formatTag({ kind: 'register', name: registered.name, version: registered.version, counter: null });
  return { registered, tag, pushedTo: registry.remote?.name ?? null };
}

async function readModelText(file: string, options: RegisterOptions): Promise<string> {
  return readFile(file, 'utf8').catch((err: unknown) => {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    // What a person can fix (no model, a folder, no permission); anything else is surfaced as it is.
    if (!['ENOENT', 'EISDIR', 'EACCES', 'ENOTDIR'].includes(code)) throw err;
    const fix = options.model ? `check ${options.labels.model}` : `train one first (bramble train, or the train action), or give ${options.labels.model}`;
    throw new UsageError(`the model file ${file} cannot be read (${code}); ${fix}`, { file });
  });
}
