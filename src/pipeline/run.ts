import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMlYaml, type MlConfig } from '../config/ml-yaml.js';
import { BrambleError } from '../errors.js';
import { FittedFeatures } from '../features/transforms.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { readTable, type DataIdentity } from '../data/load.js';
import { sourceLineage, type SourceLineage } from '../lineage/source.js';
import { profileTable } from '../data/profile.js';
import { splitRows } from '../data/split.js';
import { cellValue, getColumn, type Table } from '../data/table.js';
import { validateTable, validationLoadOptions, type ValidationResult } from '../data/validate.js';
import { fitFeatures } from '../features/transforms.js';
import { ARTIFACT, openArtifact, sealArtifact } from '../model/artifact.js';
import { validateArtifact } from '../model/artifact-schema.js';
import { applyGates, type GateResult } from '../model/compare.js';
import { evaluateClassification, evaluateRegression, metricsOf, type Evaluation, type MetricValues } from '../model/evaluate.js';
import { RandomForest, type Label } from '../model/forest/forest.js';
import type { ForestOptions } from '../model/forest/options.js';
import type { Progress } from '../model/forest/pool.js';

export class PipelineError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_PIPELINE', message, data);
  }
}

export interface RunOptions {
  /** A champion artifact to score on the same held-out rows and gate against. */
  champion?: string;
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
}

export interface RunResult {
  config: MlConfig;
  validation: ValidationResult;
  /** Absent when validation failed: nothing was trained. */
  evaluation?: Evaluation;
  champion?: { file: string; sha256: string; metrics: MetricValues };
  gates?: GateResult;
  artifact?: { path: string; sha256: string; bytes: number };
  seconds: number;
}

/** Validate → split → fit features → train → evaluate → compare → write the artifact: `bramble run`. */
/** What every step starts from: ml.yaml, the data read and validated, and (when valid) the seeded split. */
interface Prepared {
  config: MlConfig;
  mlSha256: string;
  loaded: Awaited<ReturnType<typeof readTable>>;
  validation: ValidationResult;
  labels: Label[];
  split: { train: number[]; test: number[] };
}

/** DIR/ml.yaml, and the data it names read leniently and checked against its schema: where every step begins. */
export async function readAndValidate(dir: string): Promise<Pick<Prepared, 'config' | 'mlSha256' | 'loaded' | 'validation'>> {
  const mlPath = join(dir, 'ml.yaml');
  const config = await readMlYaml(mlPath);
  const mlSha256 = createHash('sha256').update(await readFile(mlPath)).digest('hex');
  const schema = config.schema ?? {};
  const loaded = await readTable(join(dir, config.data.train), {
    file: config.data.train,
    hint: 'check data.train in ml.yaml',
    ...validationLoadOptions(schema),
  });
  const validation = validateTable(loaded.table, schema, { file: config.data.train, violations: loaded.violations });
  return { config, mlSha256, loaded, validation };
}

async function prepare(dir: string): Promise<Prepared | Pick<Prepared, 'config' | 'validation'>> {
  const { config, mlSha256, loaded, validation } = await readAndValidate(dir);
  if (!validation.success) return { config, validation };
  if (config.split.by !== undefined) {
    throw new PipelineError(`split.by (${config.split.by}) is not supported yet; use a random or stratified split`, { by: config.split.by });
  }
  const labels = targetLabels(loaded.table, config);
  const split = splitRows(labels, config.split.test, config.split.seed, config.split.stratify);
  return { config, mlSha256, loaded, validation, labels, split };
}

/** A model artifact scored on the held-out rows of ml.yaml's split: its own features, the same rows as every other model. */
async function scoreArtifact(file: string, prepared: Prepared): Promise<{ file: string; sha256: string; evaluation: Evaluation }> {
  const { config, loaded, split, labels } = prepared;
  const text = await readFile(file, 'utf8').catch(() => {
    throw new PipelineError(`the model ${file} does not exist; give the path of a model.json`, { file });
  });
  const artifact = openArtifact(text, file);
  validateArtifact(artifact, file);
  const features = FittedFeatures.fromJSON(artifact.features);
  const forest = RandomForest.fromJSON(artifact.estimator);
  let test;
  try {
    test = features.transform(loaded.table, split.test);
  } catch (err) {
    if (!(err instanceof BrambleError)) throw err;
    throw new PipelineError(
      `the model ${file} cannot score ${config.data.train}: its signature does not match the data (${err.message}); compare against a model trained on data of this shape, or run without it`,
      { file },
    );
  }
  const heldOut = split.test.map((r) => labels[r]);
  return { file, sha256: artifact.sha256, evaluation: score(config, forest, test.matrix, test.rows, test.names.length, heldOut) };
}

export interface EvaluateResult {
  config: MlConfig;
  validation: ValidationResult;
  model?: { file: string; sha256: string; evaluation: Evaluation };
}

/** `bramble evaluate`: a saved model scored on the held-out rows of DIR's data. */
export async function evaluateModel(dir: string, model: string): Promise<EvaluateResult> {
  const prepared = await prepare(dir);
  if (!('split' in prepared)) return prepared;
  return { config: prepared.config, validation: prepared.validation, model: await scoreArtifact(model, prepared) };
}

export interface CompareResult {
  config: MlConfig;
  validation: ValidationResult;
  candidate?: { file: string; sha256: string; metrics: MetricValues; evaluation: Evaluation };
  champion?: { file: string; sha256: string; metrics: MetricValues; evaluation: Evaluation };
  gates?: GateResult;
}

/** `bramble compare`: two saved models scored on the same held-out rows, then ml.yaml's gates. */
export async function compareArtifacts(dir: string, candidate: string, champion: string): Promise<CompareResult> {
  const prepared = await prepare(dir);
  if (!('split' in prepared)) return prepared;
  const a = await scoreArtifact(candidate, prepared);
  const b = await scoreArtifact(champion, prepared);
  const candidateMetrics = metricsOf(a.evaluation);
  const championMetrics = metricsOf(b.evaluation);
  return {
    config: prepared.config,
    validation: prepared.validation,
    candidate: { file: a.file, sha256: a.sha256, metrics: candidateMetrics, evaluation: a.evaluation },
    champion: { file: b.file, sha256: b.sha256, metrics: championMetrics, evaluation: b.evaluation },
    gates: applyGates(prepared.config.compare?.gates ?? {}, candidateMetrics, championMetrics),
  };
}

export async function runPipeline(dir: string, options: RunOptions): Promise<RunResult> {
  const started = options.now();
  const seconds = (): number => (options.now() - started) / 1000;
  const prepared = await prepare(dir);
  if (!('split' in prepared)) return { config: prepared.config, validation: prepared.validation, seconds: seconds() };
  const { config, mlSha256, loaded, validation, labels, split } = prepared;
  const { table } = loaded;
  const features = fitFeatures(config.features, table, { target: config.data.target, id: config.data.id, rows: split.train });
  const train = features.transform(table, split.train);
  const test = features.transform(table, split.test);
  const forest = new RandomForest(forestOptions(config));
  await forest.train(
    { rows: train.rows, columns: train.names.length, values: train.matrix },
    split.train.map((r) => labels[r]),
    { workers: options.workers, onProgress: options.onProgress },
  );
  const heldOut = split.test.map((r) => labels[r]);
  const evaluation = score(config, forest, test.matrix, test.rows, test.names.length, heldOut);
  const metrics = metricsOf(evaluation);

  // The champion is scored on the very rows the candidate was: its own features on the same held-out rows.
  let champion: RunResult['champion'];
  if (options.champion) {
    const scored = await scoreArtifact(options.champion, prepared);
    champion = { file: scored.file, sha256: scored.sha256, metrics: metricsOf(scored.evaluation) };
  }
  const gates = applyGates(config.compare?.gates ?? {}, metrics, champion?.metrics ?? null);

  // A few held-out rows and their predictions: the server's self-test before it serves this model.
  const samples = split.test.slice(0, 5).map((r) => {
    const record: Record<string, unknown> = {};
    for (const column of table.columns) record[column.name] = cellValue(column, r);
    return record;
  });
  const sampleRows = features.transform(table, split.test.slice(0, 5));
  const { artifact, text } = sealArtifact({
    format: ARTIFACT.format,
    version: ARTIFACT.version,
    name: config.name,
    task: config.task,
    signature: { inputs: features.toJSON().inputs, target: config.data.target, classes: forest.classes },
    features: features.toJSON(),
    estimator: forest.toJSON(),
    metrics: evaluation,
    profile: profileTable(table, { distributions: true }),
    samples: { rows: samples, scores: Array.from(forest.scores({ rows: sampleRows.rows, columns: sampleRows.names.length, values: sampleRows.matrix })) },
    lineage: lineage(config, options.source ?? (await sourceLineage(dir, { fs: options.fs ?? nodeFs })), loaded.identity, mlSha256, forest, options.versions),
  });
  // Nothing that breaks the published format is ever written.
  validateArtifact(artifact, join(ARTIFACT.folder, ARTIFACT.file));
  const folder = join(dir, ARTIFACT.folder);
  await mkdir(folder, { recursive: true });
  const path = join(folder, ARTIFACT.file);
  await writeFileAtomic(path, text);
  return {
    config,
    validation,
    evaluation,
    champion,
    gates,
    artifact: { path, sha256: artifact.sha256, bytes: Buffer.byteLength(text) },
    seconds: seconds(),
  };
}

function targetLabels(table: Table, config: MlConfig): Label[] {
  const column = getColumn(table, config.data.target, config.data.train);
  const labels: Label[] = new Array(table.rows);
  for (let r = 0; r < table.rows; r++) {
    const v = cellValue(column, r);
    if (v === null) {
      throw new PipelineError(`${config.data.train}:${table.lines[r]}: the target ${config.data.target} is missing; every training row needs one`, {
        line: table.lines[r],
      });
    }
    labels[r] = typeof v === 'boolean' ? String(v) : v;
  }
  if (config.task === 'classification' && new Set(labels).size < 2) {
    throw new PipelineError(
      `${config.data.train}: the target ${config.data.target} has a single class (${JSON.stringify(labels[0])}); classification needs at least two — check the data, or data.target in ml.yaml`,
      { target: config.data.target },
    );
  }
  return labels;
}

function forestOptions(config: MlConfig): ForestOptions {
  const options: Record<string, unknown> = { task: config.task, seed: config.model.seed };
  for (const [key, value] of Object.entries(config.model.params)) if (value !== undefined) options[key] = value;
  return options as ForestOptions;
}

function score(config: MlConfig, forest: RandomForest, matrix: Float64Array, rows: number, columns: number, actual: Label[]): Evaluation {
  const scores = forest.scores({ rows, columns, values: matrix });
  if (config.task === 'classification') {
    return evaluateClassification({ labels: actual, classes: forest.classes ?? [], probabilities: scores });
  }
  return evaluateRegression(actual as number[], scores);
}

/** What made this model; no wall-clock time, so the same inputs give the same bytes. */
function lineage(
  config: MlConfig,
  source: SourceLineage,
  data: DataIdentity,
  mlSha256: string,
  forest: RandomForest,
  versions: RunOptions['versions'],
) {
  return {
    // The commit and its time, or the mark of uncommitted changes with a hash of the working tree.
    source,
    mlYaml: { sha256: mlSha256 },
    data: { path: config.data.train, sha256: data.sha256, rows: data.rows, columns: data.columns, bytes: data.bytes },
    split: config.split,
    params: forest.params,
    seed: config.model.seed,
    versions: { bramble: versions.bramble, node: versions.node },
  };
}
