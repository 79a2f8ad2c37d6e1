// compare: the candidate against the champion on the same held-out rows, ml.yaml's gates, and — when asked — the
// report the pull request's comment shows (the registry's metric history, the data's drift against the champion's
// training data, and the view that report/render.ts lays out). The CLI's `compare` and the compare action call it.
//
// Decisions:
// - The champion is named (a model file, name@vX.Y.Z or an environment, as `bramble compare --champion` takes it)
//   or, without a name, is what `championEnv` serves in the registry (the action, on a pull request).
// - With the report, the data is read three times (candidate and champion together, then for drift); the
//   engine's compareArtifacts is the place for a call that loads it once.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMlYaml, type MlConfig } from '../config/ml-yaml.js';
import type { DriftResult } from '../data/drift.js';
import type { ValidationResult } from '../data/validate.js';
import { ARTIFACT, openArtifact } from '../model/artifact.js';
import { applyGates, type GateResult } from '../model/compare.js';
import { metricsOf, type Evaluation, type MetricValues } from '../model/evaluate.js';
import { ChampionError, resolveChampion } from '../pipeline/champion.js';
import { compareArtifacts, evaluateModel, type ComparedRows, type CompareResult } from '../pipeline/run.js';
import { checkEnvironment, Registry } from '../registry/registry.js';
import { readRegistryFile, RegistryError } from '../registry/store.js';
import { reportView, type ReportInput, type ReportView } from '../report/view.js';
import type { Ports } from './ports.js';
import { profileOf, validateAgainst } from './validate.js';

export interface CompareOptions {
  dir: string;
  /** The candidate's model file (default DIR/.bramble/model.json). */
  candidate?: string;
  /** The champion: a model file, name@vX.Y.Z or an environment of ml.yaml. */
  champion?: string;
  /** Without `champion`: the environment whose version the registry gives as the champion ('' for none). */
  championEnv?: string;
  /** Build the report. `fetch`: read the registry from its remote first (else the local tags only). */
  report?: { run: ReportInput['run']; fetch: boolean; sweep?: ReportInput['sweep'] };
}

type Artifact = Record<string, unknown> & { sha256: string };

export interface CompareOutcome {
  config: MlConfig;
  validation: ValidationResult;
  /** Both models scored (null without a champion, or when the data failed validation). */
  compared: CompareResult | null;
  /** Null when the data failed validation: nothing was scored. */
  candidate: { file: string; evaluation: Evaluation } | null;
  champion: { label: string; version: string | null; env: string; metrics: MetricValues; compared: ComparedRows } | null;
  gates: GateResult | null;
  drift: DriftResult | null;
  /** Only with `report`, and only when something was scored. */
  report: ReportView | null;
}

/** What the registry knows that a report needs: the champion's artifact (saved to a file) and every version's metrics. */
export interface RegistryFacts {
  champion: { version: string; env: string; file: string } | null;
  history: ReportInput['history'];
}

/** The compare use-case. */
export async function compare(options: CompareOptions, ports: Pick<Ports, 'git' | 'log' | 'tempDir' | 'fs'>): Promise<CompareOutcome> {
  const { dir } = options;
  const candidateFile = options.candidate ?? join(dir, ARTIFACT.folder, ARTIFACT.file);
  const config = await readMlYaml(join(dir, 'ml.yaml'));
  const championEnv = options.champion === undefined ? (options.championEnv ?? '') : '';
  const facts = options.report || championEnv ? await registryFacts(dir, config, championEnv, options.report?.fetch ?? true, ports) : { champion: null, history: [] };
  const spec = options.champion ?? facts.champion?.file;
  const warn = (m: string): void => ports.log.warn(m);
  if (spec === undefined) {
    const scored = await evaluateModel(dir, candidateFile);
    const none = { config: scored.config, validation: scored.validation, compared: null, champion: null, drift: null };
    if (!scored.model) return { ...none, candidate: null, gates: null, report: null };
    const gates = applyGates(config.compare?.gates ?? {}, metricsOf(scored.model.evaluation), null);
    const candidate = { file: candidateFile, evaluation: scored.model.evaluation };
    const report = options.report ? await view(config.name, options.report, facts, { ...candidate, validation: scored.validation }, null, gates, null) : null;
    return { ...none, candidate, gates, report };
  }
  const compared = await compareArtifacts(dir, candidateFile, spec, { env: ports.git.env, warn, fs: ports.fs });
  const { validation } = compared;
  if (!compared.candidate || !compared.champion || !compared.gates || !compared.compared) {
    return { config: compared.config, validation, compared, candidate: null, champion: null, gates: null, drift: null, report: null };
  }
  const candidate = { file: candidateFile, evaluation: compared.candidate.evaluation };
  const champion = {
    label: compared.champion.file,
    version: facts.champion?.version ?? compared.champion.version ?? null,
    env: facts.champion?.env ?? compared.champion.env ?? '',
    metrics: compared.champion.metrics,
    compared: compared.compared,
  };
  const outcome = { config: compared.config, validation, compared, candidate, champion, gates: compared.gates };
  if (!options.report) return { ...outcome, drift: null, report: null };
  const text = facts.champion ? await readFile(facts.champion.file, 'utf8') : await championText(dir, spec, config, ports);
  const championArtifact = openArtifact(text, champion.label);
  const drift = (await validateAgainst(dir, profileOf(championArtifact, champion.label))).drift ?? null;
  const withValidation = { ...candidate, validation };
  const report = await view(config.name, options.report, facts, withValidation, { ...champion, artifact: championArtifact }, compared.gates, drift);
  return { ...outcome, drift, report };
}

async function championText(dir: string, spec: string, config: MlConfig, ports: Pick<Ports, 'git' | 'log' | 'fs'>): Promise<string> {
  const found = await resolveChampion(dir, spec, config, { env: ports.git.env, warn: (m) => ports.log.warn(m), fs: ports.fs });
  // compareArtifacts resolved the same name a moment ago: only a registry changed in between names nothing now.
  if ('none' in found) throw new ChampionError(`the champion ${spec} named no model when read again (${found.none}); run the comparison again`, { champion: spec });
  return found.text;
}

async function view(
  model: string,
  { run, sweep }: NonNullable<CompareOptions['report']>,
  facts: RegistryFacts,
  candidate: { file: string; evaluation: Evaluation; validation: ValidationResult },
  champion: (NonNullable<CompareOutcome['champion']> & { artifact: Artifact }) | null,
  gates: GateResult,
  drift: DriftResult | null,
): Promise<ReportView> {
  const artifact = openArtifact(await readFile(candidate.file, 'utf8'), candidate.file);
  const { evaluation, validation } = candidate;
  return reportView({ model, candidate: { artifact, evaluation, validation }, champion, gates, drift, history: facts.history, run, sweep });
}

/**
 * The registry's part of a report: every registered version's metrics, and the artifact `championEnv` serves,
 * written to a scratch file. Outside a git repository, with no champion to look up, there is no history.
 */
export async function registryFacts(
  dir: string,
  config: MlConfig,
  championEnv: string,
  fetch: boolean,
  ports: Pick<Ports, 'git' | 'log' | 'tempDir' | 'fs'>,
): Promise<RegistryFacts> {
  if (championEnv) checkEnvironment(championEnv, Object.keys(config.environments));
  const warn = (m: string): void => ports.log.warn(m);
  let registry: Registry;
  try {
    registry = await Registry.open({ dir, env: ports.git.env, fs: ports.fs, warn, remote: fetch ? ports.git.remote : null });
  } catch (err) {
    // Without a remote, opening fails only outside git: no registry, so no history (a laptop's model folder).
    if (!fetch && !championEnv && err instanceof RegistryError) return { champion: null, history: [] };
    throw err;
  }
  const { snapshot, models } = await registry.read({ fetch: fetch && registry.remote !== null });
  const model = models.get(config.name);
  const history: RegistryFacts['history'] = [];
  for (const v of model?.versions ?? []) {
    if (v.deregistered || snapshot.head === null) continue;
    const bytes = await readRegistryFile(registry.repo, snapshot.head, `${v.name}/${v.version}/metrics.json`);
    if (bytes !== null) history.push({ version: v.version, at: v.registered.at, metrics: JSON.parse(new TextDecoder().decode(bytes)) as Record<string, number> });
  }
  const served = championEnv ? model?.envs.get(championEnv)?.version : null;
  if (!served) return { champion: null, history };
  const { text } = await registry.artifact(snapshot.head, Registry.version(models, config.name, served));
  const file = join(await mkdtemp(join(ports.tempDir ?? tmpdir(), 'bramble-champion-')), ARTIFACT.file);
  await writeFile(file, text);
  return { champion: { version: served, env: championEnv, file }, history };
}
