import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forestOptionsOf } from '../config/forest-options.js';
import { readMlYaml, type MlConfig } from '../config/ml-yaml.js';
import { BrambleError, errorClass } from '../errors.js';
import { FittedFeatures, type FeatureMatrix } from '../features/transforms.js';
import { readTable, type DataIdentity } from '../data/load.js';
import { containedDataPath } from '../data/paths.js';
import { readStoreTrainingData, type StoreLineage, type StoreReadOptions } from '../store/training-data.js';
import { sourceLineage, type SourceLineage } from '../lineage/source.js';
import { profileTable } from '../data/profile.js';
import { splitTable, type HeldOutRule, type IdentitySplit } from '../data/split.js';
import { identityPosition, rowIdentities, TrainingRowFilter, type RowIdentities, type TrainingRowFilterJSON } from '../data/identity.js';
import { cellValue, findColumn, getColumn, type Table } from '../data/table.js';
import { resolveChampion, type ChampionOptions } from './champion.js';
import { validateTable, validationLoadOptions, type ValidationResult } from '../data/validate.js';
import { fitFeatures } from '../features/transforms.js';
import { ARTIFACT, sealBody, writeArtifact } from '../model/artifact.js';
import { validateArtifact } from '../model/artifact-schema.js';
import { openModel, readModelFile, type OpenedModel } from '../model/open.js';
import { applyGates, type GateResult } from '../model/compare.js';
import { evaluateClassification, evaluateRegression, metricsOf, type Evaluation, type MetricValues } from '../model/evaluate.js';
import { RandomForest, type ForestJSON, type Label } from '../model/forest/forest.js';
import type { StreamedArray } from '../model/forest/serialize.js';
import type { Matrix } from '../util/matrix.js';
import type { Progress } from '../model/forest/pool.js';
import { addTime, lapTimer, lineage, runLineage, type RunLineage, type StepSeconds } from './steps.js';

export class PipelineError extends errorClass('E_PIPELINE') {}

export interface RunOptions {
  /** The champion to score on the same held-out rows and gate against: a model.json, `name@vX.Y.Z` or an environment. */
  champion?: string;
  /** Without `champion`: ask the registry what ml.yaml's compare.against serves (`bramble run` does). */
  findChampion?: boolean;
  /** Tokens for fetching the registry's remote (the edge passes process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  warn?: (message: string) => void;
  workers?: number;
  onProgress?: Progress;
  now: () => number;
  /** The filesystem git state is read through (isomorphic-git takes it as a parameter); node:fs by default. */
  fs?: typeof nodeFs;
  /** Versions recorded in the lineage (the edge knows them; the engine does not read process). */
  versions: { bramble: string; node: string };
  /**
   * The source lineage to record instead of reading git: `bramble reproduce` trains in a folder extracted from a
   * commit, checks that its files hash to the recorded work tree, and then records the original source.
   */
  source?: SourceLineage;
  /** Where data.store's features repository is, and which versions to read (reproduce); see training-data.ts. */
  store?: Omit<StoreReadOptions, 'env'>;
}

export interface RunResult {
  config: MlConfig;
  validation: ValidationResult;
  /** Absent when validation failed: nothing was trained. */
  evaluation?: Evaluation;
  /** The split obtained: rows on each side, rows left out for a missing target, the held-out share. */
  split?: { train: number; test: number; skipped: number; share: number; classShares?: Readonly<Record<string, number>>; identity: readonly string[] };
  champion?: {
    /** The file, or `name@vX.Y.Z` when it came from the registry. */
    file: string;
    sha256: string;
    /** The champion's metrics on the compared rows. */
    metrics: MetricValues;
    /** The candidate's on the same rows: what the gates compare. */
    candidateMetrics: MetricValues;
    compared: ComparedRows;
    /** How it was chosen: `--champion …` or `compare.against: prod`. */
    via: string;
    version?: string;
    env?: string;
  };
  /** Why there is no champion, when run looked for one (compare.against) and found none. */
  noChampion?: string;
  gates?: GateResult;
  artifact?: { path: string; sha256: string; bytes: number };
  seconds: number;
  /** Seconds each step took (a run record keeps them); null for a step that did not run. */
  steps: StepSeconds;
  /** What the artifact's lineage records of the source, data and parameters (absent when nothing was trained). */
  lineage?: RunLineage;
}

/** Validate → split → fit features → train → evaluate → compare → write the artifact: `bramble run`. */
/** What every step starts from: ml.yaml, the data read and validated, and (when valid) the seeded split. */
export interface Prepared {
  config: MlConfig;
  mlSha256: string;
  loaded: Awaited<ReturnType<typeof readTable>> & { store?: StoreLineage };
  validation: ValidationResult;
  /** Per table row; null where the target is missing and data.skip_missing_target leaves the row out. */
  labels: (Label | null)[];
  split: IdentitySplit;
  /** Rows left out for a missing target. */
  skipped: number;
}

/** DIR/ml.yaml, and the data it names read leniently and checked against its schema: where every step begins. */
export async function readAndValidate(dir: string, store: StoreReadOptions = {}): Promise<Pick<Prepared, 'config' | 'mlSha256' | 'loaded' | 'validation'>> {
  const mlPath = join(dir, 'ml.yaml');
  const config = await readMlYaml(mlPath);
  const mlSha256 = createHash('sha256').update(await readFile(mlPath)).digest('hex');
  const schema = config.schema ?? {};
  let loaded: Prepared['loaded'];
  if (config.data.store) {
    // The training set is the entity table joined point in time with the store's views (docs/feature-store.md).
    loaded = await readStoreTrainingData(dir, config, validationLoadOptions(schema).columns, store);
  } else {
    // ml.yaml may come from a pull request: its data path may not reach out of the repository.
    const path = await containedDataPath(dir, config.data.train, 'data.train in ml.yaml');
    loaded = await readTable(path, {
      file: config.data.train,
      hint: 'check data.train in ml.yaml',
      missing: config.data.missing,
      ...validationLoadOptions(schema),
    });
  }
  const validation = validateTable(loaded.table, schema, { file: config.data.train, violations: loaded.violations });
  return { config, mlSha256, loaded, validation };
}

/** ml.yaml, the data validated and (when valid) split: what `bramble sweep` cross-validates on the training side. */
export async function prepare(dir: string, store: StoreReadOptions = {}): Promise<Prepared | Pick<Prepared, 'config' | 'validation'>> {
  const { config, mlSha256, loaded, validation } = await readAndValidate(dir, store);
  if (!validation.success) return { config, validation };
  const { labels, rows, skipped } = targetLabels(loaded.table, config);
  const split = splitTable(loaded.table, rows, labels, { ...config.split, id: config.data.id, target: config.data.target }, config.data.train);
  return { config, mlSha256, loaded, validation, labels, split, skipped };
}

/** How many held-out rows two models were compared on, and why any were left out. */
export interface ComparedRows {
  /** Held-out rows every model was scored on. */
  rows: number;
  /** Held-out rows of this run's split. */
  heldOut: number;
  /** Held-out rows left out because a model trained on them. */
  excluded: number;
  /** One line per model: how its training rows were recognised, or why they could not be. */
  notes: string[];
}

/** A model file by path, opened the one way every face opens one (src/model/open.ts). */
const readModel = readModelFile;

/**
 * The held-out rows none of `models` trained on: each artifact's training-row filter (lineage.split.trainRows)
 * recognises its training rows by identity, whatever split rule, seed or data version it was trained under.
 */
function unseenRows(prepared: Prepared, models: readonly OpenedModel[]): { rows: number[]; positions: Int32Array; compared: ComparedRows } {
  const { loaded, split } = prepared;
  const table = loaded.table;
  const seen = new Uint8Array(split.test.length);
  const notes: string[] = [];
  for (const model of models) {
    const lineage = (model.artifact.lineage ?? {}) as { split?: { seed: number; by?: string; heldOut?: HeldOutRule; trainRows?: TrainingRowFilterJSON } };
    const saved = lineage.split?.trainRows;
    if (saved === undefined) {
      notes.push(`${model.label} records no training rows (trained before Bramble recorded them), so held-out rows it trained on cannot be left out`);
      continue;
    }
    const absent = saved.identity.filter((name) => findColumn(table, name) === undefined);
    if (absent.length > 0) {
      notes.push(`${model.label}'s training rows are identified by ${saved.identity.join(', ')}, but ${absent.join(', ')} ${absent.length === 1 ? 'is' : 'are'} no longer in the data, so its training rows cannot be recognised`);
      continue;
    }
    const filter = TrainingRowFilter.fromJSON(saved, model.label);
    const ids = rowIdentities(saved.identity.map((name) => getColumn(table, name)), table.rows);
    // Rows the model's own rule held out it certainly never trained on; the filter decides only the rest.
    const heldOutByRule = heldOutTest(lineage.split as { seed: number; by?: string; heldOut?: HeldOutRule }, ids, prepared);
    let count = 0;
    for (let k = 0; k < split.test.length; k++) {
      const r = split.test[k];
      if (!heldOutByRule(r) && filter.has(ids.lo[r], ids.hi[r])) {
        count++;
        seen[k] = 1;
      }
    }
    notes.push(count === 0 ? `${model.label} trained on none of the held-out rows` : `${count} held-out ${count === 1 ? 'row is' : 'rows are'} among ${model.label}'s training rows (its training-row filter), left out`);
  }
  const rows: number[] = [];
  const kept: number[] = [];
  for (let k = 0; k < split.test.length; k++) {
    if (seen[k] !== 0) continue;
    kept.push(k);
    rows.push(split.test[k]);
  }
  const positions = Int32Array.from(kept);
  if (rows.length === 0) {
    throw new PipelineError(
      `${prepared.config.data.train}: every one of the ${split.test.length} held-out rows was a training row of ${models.map((m) => m.label).join(' or ')}, so there is nothing fair to compare on; compare against a model trained on other rows, or add data`,
      { heldOut: split.test.length },
    );
  }
  return { rows, positions, compared: { rows: rows.length, heldOut: split.test.length, excluded: split.test.length - rows.length, notes } };
}

/** Whether a model's recorded rule held row r out (false when the rule cannot tell, e.g. its split.by column is gone). */
function heldOutTest(split: { seed: number; by?: string; heldOut?: HeldOutRule }, ids: RowIdentities, prepared: Prepared): (r: number) => boolean {
  const rule = split.heldOut;
  if (rule === undefined) return () => false;
  if ('below' in rule) return (r) => identityPosition(ids, r, split.seed) < rule.below;
  if ('atOrBelow' in rule) {
    return (r) => {
      const cut = rule.atOrBelow[String(prepared.labels[r])];
      return cut !== undefined && identityPosition(ids, r, split.seed) <= cut;
    };
  }
  const column = split.by === undefined ? undefined : findColumn(prepared.loaded.table, split.by);
  if (column === undefined) return () => false;
  const from = rule.from;
  if (typeof from === 'number') {
    if (column.kind !== 'number' && column.kind !== 'date' && column.kind !== 'boolean') return () => false;
    const values = column.values;
    return (r) => values[r] >= from;
  }
  return (r) => {
    const v = cellValue(column, r);
    return typeof v === 'string' && v >= from;
  };
}

/** A model artifact scored on the given held-out rows with its own features. */
function scoreModel(model: OpenedModel, prepared: Prepared, rows: readonly number[]): Evaluation {
  const { config, loaded, labels } = prepared;
  const { features, forest } = model;
  let matrix;
  try {
    matrix = features.transform(loaded.table, rows);
  } catch (err) {
    if (!(err instanceof BrambleError)) throw err;
    throw new PipelineError(
      `the model ${model.label} cannot score ${config.data.train}: its signature does not match the data (${err.message}); compare against a model trained on data of this shape, or run without it`,
      { file: model.label },
    );
  }
  return score(config, forest, matrix.matrix, matrix.rows, matrix.names.length, rows.map((r) => labels[r] as Label));
}

export interface EvaluateResult {
  config: MlConfig;
  validation: ValidationResult;
  model?: { file: string; sha256: string; evaluation: Evaluation; compared: ComparedRows };
}

/** `bramble evaluate`: a saved model scored on the held-out rows of DIR's data that it did not train on. */
export async function evaluateModel(dir: string, model: string): Promise<EvaluateResult> {
  const prepared = await prepare(dir);
  if (!('split' in prepared)) return prepared;
  const opened = await readModel(model);
  const { rows, compared } = unseenRows(prepared, [opened]);
  return {
    config: prepared.config,
    validation: prepared.validation,
    model: { file: model, sha256: opened.artifact.sha256, evaluation: scoreModel(opened, prepared, rows), compared },
  };
}

export interface CompareResult {
  config: MlConfig;
  validation: ValidationResult;
  candidate?: { file: string; sha256: string; metrics: MetricValues; evaluation: Evaluation };
  champion?: { file: string; sha256: string; metrics: MetricValues; evaluation: Evaluation; version?: string; env?: string; via: string };
  compared?: ComparedRows;
  gates?: GateResult;
}

export interface CompareOptions extends ChampionOptions {}

/**
 * `bramble compare`: two models scored on the same held-out rows — those neither trained on — then ml.yaml's
 * gates. `champion` is a file, `name@vX.Y.Z` or an environment (src/pipeline/champion.ts).
 */
export async function compareArtifacts(dir: string, candidate: string, champion: string, options: CompareOptions = {}): Promise<CompareResult> {
  const prepared = await prepare(dir);
  if (!('split' in prepared)) return prepared;
  const a = await readModel(candidate);
  const found = await resolveChampion(dir, champion, prepared.config, options);
  if ('none' in found) throw new PipelineError(`--champion ${champion} names no model: ${found.none}`, { champion });
  const b = openModel(found.text, found.label);
  const { rows, compared } = unseenRows(prepared, [b, a]);
  const candidateEvaluation = scoreModel(a, prepared, rows);
  const championEvaluation = scoreModel(b, prepared, rows);
  const candidateMetrics = metricsOf(candidateEvaluation);
  const championMetrics = metricsOf(championEvaluation);
  return {
    config: prepared.config,
    validation: prepared.validation,
    candidate: { file: candidate, sha256: a.artifact.sha256, metrics: candidateMetrics, evaluation: candidateEvaluation },
    champion: {
      file: found.label,
      sha256: b.artifact.sha256,
      metrics: championMetrics,
      evaluation: championEvaluation,
      via: found.via,
      ...(found.version ? { version: found.version } : {}),
      ...(found.env ? { env: found.env } : {}),
    },
    compared,
    gates: applyGates(prepared.config.compare?.gates ?? {}, candidateMetrics, championMetrics),
  };
}

export async function runPipeline(dir: string, options: RunOptions): Promise<RunResult> {
  const started = options.now();
  const seconds = (): number => (options.now() - started) / 1000;
  const steps: StepSeconds = { validate: null, features: null, train: null, evaluate: null, compare: null, write: null };
  const lap = lapTimer(options.now);
  const stage = await beforeTraining(dir, options, (step) => addTime(steps, step, lap()));
  if (!('features' in stage)) return { config: stage.config, validation: stage.validation, seconds: seconds(), steps };
  const { config, features, champion: championStage, splitRecord } = stage;
  const forest = new RandomForest(forestOptionsOf(config));
  // The training matrix is handed over and let go here: the forest bins it before its first await, and the
  // ~120 MB of a million rows is then free while the trees grow (issue 10's memory target).
  // The held-out rows are scored as the trees grow, on every thread (TrainOptions.heldOut), and their matrix too is
  // let go once binned. The champion's subset is read from the same scores.
  const [train, heldOut] = takeMatrices(stage);
  await forest.train(train, stage.trainLabels, { workers: options.workers, onProgress: options.onProgress, heldOut });
  addTime(steps, 'train', lap());
  const scores = forest.heldOutScores ?? new Float64Array(0);
  const evaluation = evaluateScores(config, forest, scores, stage.testLabels, null);
  const metrics = metricsOf(evaluation);
  addTime(steps, 'evaluate', lap());
  let champion: RunResult['champion'];
  let gateMetrics = metrics;
  if (championStage !== null) {
    const { compared, positions, found, sha256, metrics: championMetrics } = championStage;
    if (compared.excluded > 0) gateMetrics = metricsOf(evaluateScores(config, forest, scores, stage.testLabels, positions));
    champion = {
      file: found.label,
      sha256,
      metrics: championMetrics,
      candidateMetrics: gateMetrics,
      compared,
      via: found.via,
      ...(found.version ? { version: found.version } : {}),
      ...(found.env ? { env: found.env } : {}),
    };
  }
  const gates = applyGates(config.compare?.gates ?? {}, gateMetrics, champion?.metrics ?? null);
  addTime(steps, 'compare', lap());

  const sample = stage.sampleMatrix;
  const source = options.source ?? (await sourceLineage(dir, { fs: options.fs ?? nodeFs }));
  const body = {
    format: ARTIFACT.format,
    version: ARTIFACT.version,
    name: config.name,
    task: config.task,
    signature: { inputs: features.toJSON().inputs, target: config.data.target, classes: forest.classes },
    features: features.toJSON(),
    estimator: forest.toStreamedJSON(),
    metrics: evaluation,
    profile: stage.profile,
    samples: { rows: stage.samples, scores: Array.from(forest.scores({ rows: sample.rows, columns: sample.names.length, values: sample.matrix })) },
    lineage: lineage(config, source, stage.dataIdentity, stage.mlSha256, forest, options.versions, splitRecord),
  };
  // Nothing that breaks the published format is ever written. The forest's arrays are checked as the base64 text
  // Buffer makes (what the schema's pattern asks), so the schema sees them with that text left out.
  const artifact = sealBody(body);
  validateArtifact({ ...artifact, estimator: { ...artifact.estimator, trees: textless(artifact.estimator.trees) } }, join(ARTIFACT.folder, ARTIFACT.file));
  const folder = join(dir, ARTIFACT.folder);
  const path = join(folder, ARTIFACT.file);
  let bytes: number;
  try {
    await mkdir(folder, { recursive: true });
    // Written in blocks as it is made: a 100-tree forest on a million rows is ~275 MB of text, never held whole.
    bytes = await writeArtifact(path, artifact);
  } catch (err) {
    throw modelWriteError(err) ?? err;
  }
  addTime(steps, 'write', lap());
  return {
    config,
    validation: stage.validation,
    split: stage.split,
    evaluation,
    champion,
    gates,
    ...(stage.noChampion !== undefined ? { noChampion: stage.noChampion } : {}),
    artifact: { path, sha256: artifact.sha256, bytes },
    seconds: seconds(),
    steps,
    lineage: runLineage(config, source, stage.dataIdentity, forest),
  };
}

/** What training and the artifact need from the data, made while the table is in memory, so that it can go. */
interface TrainingStage {
  config: MlConfig;
  validation: ValidationResult;
  mlSha256: string;
  dataIdentity: DataIdentity & { store?: StoreLineage };
  features: FittedFeatures;
  /** Taken (and let go) by runPipeline as training starts, as is `test`. */
  train: Matrix | undefined;
  trainLabels: Label[];
  test: Matrix | undefined;
  testLabels: Label[];
  /** The champion scored; its model and text are let go before training. */
  champion: { found: Pick<FoundChampion, 'label' | 'via' | 'version' | 'env'>; sha256: string; compared: ComparedRows; positions: Int32Array; metrics: MetricValues } | null;
  noChampion?: string;
  profile: ReturnType<typeof profileTable>;
  samples: Record<string, unknown>[];
  sampleMatrix: FeatureMatrix;
  split: NonNullable<RunResult['split']>;
  splitRecord: Record<string, unknown>;
}

type FoundChampion = Exclude<Awaited<ReturnType<typeof resolveChampion>>, { none: string }>;

/**
 * Everything `bramble run` reads from the table: features fitted, the training and held-out matrices, the
 * champion scored on the held-out rows it never saw, the profile, the samples and the training-row filter. Its
 * frame (and with it the table, ~180 MB at a million rows) is gone before the first tree grows.
 */
async function beforeTraining(dir: string, options: RunOptions, done: (step: 'validate' | 'features' | 'compare') => void): Promise<TrainingStage | Pick<TrainingStage, 'config' | 'validation'>> {
  const prepared = await prepare(dir, { ...options.store, env: options.env });
  done('validate');
  if (!('split' in prepared)) return prepared;
  const { config, loaded, labels, split, skipped } = prepared;
  const { table } = loaded;
  // The champion is found before training, so that a wrong --champion fails in a second, not after the forest.
  const championSpec = options.champion ?? (options.findChampion ? undefined : null);
  const resolved = championSpec === null ? null : await resolveChampion(dir, championSpec, config, { fs: options.fs, env: options.env, warn: options.warn });
  const found = resolved === null || 'none' in resolved ? null : resolved;
  const championModel = found === null ? null : openModel(found.text, found.label);
  if (championSpec !== null) done('compare');

  const columnMarkers = Object.fromEntries(Object.entries(config.schema?.columns ?? {}).map(([name, spec]) => [name, spec.missing]));
  const features = fitFeatures(config.features, table, {
    target: config.data.target,
    id: config.data.id,
    rows: split.train,
    missing: { all: config.data.missing, columns: columnMarkers },
  });
  const labelsOf = (rows: readonly number[]): Label[] => rows.map((r) => labels[r] as Label);
  const asMatrix = (m: FeatureMatrix): Matrix => ({ rows: m.rows, columns: m.names.length, values: m.matrix });
  done('features');

  // The champion and the candidate are scored on the very same held-out rows: those the champion never saw.
  let champion: TrainingStage['champion'] = null;
  if (championModel !== null && found !== null) {
    const { rows, positions, compared } = unseenRows(prepared, [championModel]);
    const { label, via, version, env } = found;
    champion = { found: { label, via, version, env }, sha256: championModel.artifact.sha256, compared, positions, metrics: metricsOf(scoreModel(championModel, prepared, rows)) };
    done('compare');
  }
  // A few held-out rows and their predictions: the server's self-test before it serves this model.
  const firstHeldOut = split.test.slice(0, 5);
  const samples = firstHeldOut.map((r) => {
    const record: Record<string, unknown> = {};
    for (const column of table.columns) record[column.name] = cellValue(column, r);
    return record;
  });
  // Made after the champion is scored and let go, as before; the profile and samples are timed with the features.
  const trainMatrix = asMatrix(features.transform(table, split.train));
  const testMatrix = asMatrix(features.transform(table, split.test));
  const profile = profileTable(table, { distributions: true });
  const sampleMatrix = features.transform(table, firstHeldOut);
  done('features');
  return {
    config,
    validation: prepared.validation,
    mlSha256: prepared.mlSha256,
    dataIdentity: loaded.store ? { ...loaded.identity, store: loaded.store } : loaded.identity,
    features,
    train: trainMatrix,
    trainLabels: labelsOf(split.train),
    test: testMatrix,
    testLabels: labelsOf(split.test),
    champion,
    ...(resolved !== null && 'none' in resolved ? { noChampion: resolved.none } : {}),
    profile,
    samples,
    sampleMatrix,
    split: {
      train: split.train.length,
      test: split.test.length,
      skipped,
      share: split.share,
      ...(split.classShares ? { classShares: split.classShares } : {}),
      identity: split.identity,
    },
    splitRecord: {
      ...config.split,
      rows: { train: split.train.length, test: split.test.length, skipped },
      heldOut: split.heldOut,
      trainRows: TrainingRowFilter.of(split.identity, split.identities, split.train).toJSON(),
    },
  };
}

/** The stage's training and held-out matrices, which the stage then no longer holds. */
function takeMatrices(stage: TrainingStage): [Matrix, Matrix] {
  const none: Matrix = { rows: 0, columns: stage.features.width, values: new Float64Array(0) };
  const taken: [Matrix, Matrix] = [stage.train ?? none, stage.test ?? none];
  stage.train = undefined;
  stage.test = undefined;
  return taken;
}

/** A forest's trees with their arrays' text left out: what the artifact schema checks of them (see runPipeline). */
function textless(trees: ForestJSON<StreamedArray>['trees']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(trees)) out[key] = typeof value === 'number' ? value : { dtype: value.dtype, length: value.length, base64: '' };
  return out;
}

/** The candidate's evaluation from its scores on the held-out rows: all of them, or those at `positions`. */
function evaluateScores(config: MlConfig, forest: RandomForest, scores: Float64Array, labels: readonly Label[], positions: Int32Array | null): Evaluation {
  let picked = scores;
  let actual = labels;
  if (positions !== null) {
    const width = scores.length / labels.length;
    picked = new Float64Array(positions.length * width);
    const chosen: Label[] = new Array(positions.length);
    for (let i = 0; i < positions.length; i++) {
      picked.set(scores.subarray(positions[i] * width, (positions[i] + 1) * width), i * width);
      chosen[i] = labels[positions[i]];
    }
    actual = chosen;
  }
  if (config.task === 'classification') {
    return evaluateClassification({ labels: actual, classes: forest.classes ?? [], probabilities: picked });
  }
  return evaluateRegression(actual as number[], picked);
}

/** Why .bramble/model.json could not be written, when the cause is something the user can fix. */
function modelWriteError(err: unknown): PipelineError | null {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  const file = `${ARTIFACT.folder}/${ARTIFACT.file}`;
  if (code === 'EEXIST' || code === 'ENOTDIR') return new PipelineError(`${ARTIFACT.folder} is a file; bramble run writes the model to ${file} — move or rename the file`, { file });
  if (code === 'EISDIR') return new PipelineError(`${file} is a folder; remove it so bramble run can write the model there`, { file });
  if (code === 'EACCES' || code === 'EPERM') return new PipelineError(`${file} cannot be written (permission denied); let the user running bramble write ${ARTIFACT.folder}`, { file });
  if (code === 'ENOSPC') return new PipelineError(`${file} cannot be written: the disk is full`, { file });
  return null;
}

/**
 * Every row's label (null where the target is missing and data.skip_missing_target leaves the row out), and the
 * rows that have one.
 */
function targetLabels(table: Table, config: MlConfig): { labels: (Label | null)[]; rows: Int32Array; skipped: number } {
  const file = config.data.train;
  if (table.rows === 0) throw new PipelineError(`${file} has no data rows; add rows`, { file });
  const column = getColumn(table, config.data.target, file);
  const labels: (Label | null)[] = new Array(table.rows);
  const rows = new Int32Array(table.rows);
  let kept = 0;
  for (let r = 0; r < table.rows; r++) {
    const v = cellValue(column, r);
    if (v === null) {
      if (config.data.skip_missing_target !== true) {
        throw new PipelineError(
          `${file}:${table.lines[r]}: the target ${config.data.target} is missing; every training row needs one — fill it in, or set data.skip_missing_target: true in ml.yaml to leave such rows out`,
          { line: table.lines[r] },
        );
      }
      labels[r] = null;
      continue;
    }
    labels[r] = typeof v === 'boolean' ? String(v) : v;
    rows[kept++] = r;
  }
  if (kept === 0) {
    throw new PipelineError(`${file}: the target ${config.data.target} is missing on all ${table.rows} rows, so there is nothing to train on; check data.target in ml.yaml`, { target: config.data.target });
  }
  const labelled = rows.subarray(0, kept);
  if (config.task === 'classification') {
    const classes = new Set<Label | null>();
    for (const r of labelled) {
      classes.add(labels[r]);
      if (classes.size > 1) break;
    }
    if (classes.size < 2) {
      throw new PipelineError(
        `${file}: the target ${config.data.target} has a single class (${JSON.stringify(labels[labelled[0]])}); classification needs at least two — check the data, or data.target in ml.yaml`,
        { target: config.data.target },
      );
    }
  }
  return { labels, rows: labelled, skipped: table.rows - kept };
}

function score(config: MlConfig, forest: RandomForest, matrix: Float64Array, rows: number, columns: number, actual: Label[]): Evaluation {
  return evaluateScores(config, forest, forest.scores({ rows, columns, values: matrix }), actual, null);
}
