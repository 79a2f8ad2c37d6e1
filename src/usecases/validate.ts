// validate: ml.yaml's data checked against its schema and, with a reference model, compared with the data that
// model was trained on; with an event, also which environment the run is for.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMlYaml, type MlConfig } from '../config/ml-yaml.js';
import { detectDrift, type DriftResult } from '../data/drift.js';
import { PROFILE_FORMAT, PROFILE_VERSION, profileTable, type TableProfile } from '../data/profile.js';
import type { ValidationResult } from '../data/validate.js';
import { ArtifactError, openArtifact } from '../model/artifact.js';
import { readAndValidate } from '../pipeline/run.js';
import type { EventContext } from '../platform/types.js';
import { targetOf, type Target } from './target.js';

export interface ValidateRepoOptions {
  /** A model artifact whose `profile` is the reference to check the data for drift against. */
  readonly reference?: string;
  /** The environment: BRAMBLE_STORE for a training set from a feature store (ml.yaml data.store). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ValidateRepoResult {
  readonly config: MlConfig;
  readonly validation: ValidationResult;
  /** Only with a reference. */
  readonly drift?: DriftResult;
}

/**
 * `bramble validate`: checks data.train against ml.yaml's schema (every rule, loaded leniently so that every
 * failure is counted), and with a reference artifact also compares the data with the data it was trained on.
 * Drift is reported, never a failure here: whether drift should block is the monitor's decision.
 */
export async function validateRepo(dir: string, options: ValidateRepoOptions = {}): Promise<ValidateRepoResult> {
  // Opened before the data is read, so that a wrong --reference fails fast rather than after a large load.
  const reference = options.reference === undefined ? undefined : await readReferenceProfile(options.reference);
  return validateAgainst(dir, reference, options.env);
}

/** The data checked, and compared with a reference profile when there is one (the champion's, for a report). */
export async function validateAgainst(dir: string, reference: TableProfile | undefined, env?: Readonly<Record<string, string | undefined>>): Promise<ValidateRepoResult> {
  const { config, loaded, validation } = await readAndValidate(dir, { env });
  if (reference === undefined) return { config, validation };
  // The reference profile was made by `bramble run` from the same lenient load, so the column kinds line up.
  const current = profileTable(loaded.table, { distributions: true });
  const drift = detectDrift(reference, current, { share: config.monitor?.drift.share });
  return { config, validation, drift };
}

export interface ValidateOptions extends ValidateRepoOptions {
  dir: string;
  /** The event that started the run: with it, the result says which environment the run is for. */
  event?: EventContext;
  /** An environment named by hand (checked against ml.yaml); '' or undefined to take it from the event. */
  environment?: string;
}

export interface ValidateOutcome extends ValidateRepoResult {
  /** Only with an event. */
  readonly target: Target | null;
}

/** The validate use-case: the target first (a wrong environment or tag fails before a large file is read), then the data. */
export async function validate(options: ValidateOptions): Promise<ValidateOutcome> {
  const target = options.event ? targetOf(await readMlYaml(join(options.dir, 'ml.yaml')), options.event, options.environment ?? '') : null;
  const { config, validation, drift } = await validateRepo(options.dir, { reference: options.reference, env: options.env });
  return drift === undefined ? { config, validation, target } : { config, validation, drift, target };
}

/** The data profile stored in a model artifact: the reference for drift. */
export async function readReferenceProfile(file: string): Promise<TableProfile> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    if (code === 'ENOENT') throw new ArtifactError(`the reference ${file} does not exist; give the path of a model.json (bramble run writes one to .bramble/model.json)`, { file });
    if (code === 'EISDIR') throw new ArtifactError(`the reference ${file} is a folder; give the path of a model.json`, { file });
    throw err;
  });
  return profileOf(openArtifact(text, file), file);
}

/** The data profile an opened artifact holds, or an error naming `file` when it holds none. */
export function profileOf(artifact: Record<string, unknown>, file: string): TableProfile {
  const profile = artifact.profile;
  if (!isProfile(profile)) {
    throw new ArtifactError(`${file} holds no data profile (format "${PROFILE_FORMAT}", version ${PROFILE_VERSION}) to compare against; retrain it with bramble run`, { file });
  }
  return profile;
}

function isProfile(value: unknown): value is TableProfile {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return p.format === PROFILE_FORMAT && p.version === PROFILE_VERSION && typeof p.rows === 'number' && Array.isArray(p.columns);
}
