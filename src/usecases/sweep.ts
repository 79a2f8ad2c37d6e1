// `bramble sweep`: ml.yaml's parameter search, each trial scored by k-fold cross-validation on the split's training
// rows and kept as a run record (docs/sweep.md).
//
// Decisions:
// - Trials run one after another, each forest on every worker thread (TrainOptions.workers): a forest's trees are
//   the unit of parallel work, as in `bramble run`, so a sweep's scores do not depend on the thread count.
// - Every finished trial is appended to the sweep's records before the next starts (src/sweep/records.ts): a killed
//   sweep, run again, finds them by (round, trial) and trains only the rest; the scores are the same either way,
//   because every draw, fold and forest is seeded.
// - A shard (`--shard K/N`) is the K-th of N equal shares of the work, by an estimate of each trial's cost (trees ×
//   the depth its leaves can reach), dealt greedily, heaviest first, to the lightest shard (ties: the lower
//   shard, the lower trial index): every runner computes the same split, and no shard waits on one that drew the
//   deep forests. It writes its own file and chooses nothing.
//   `--gather` trains nothing: it reads every file in the sweep's folder, names the trials no file has, and
//   chooses among those that finished. Successive halving decides each round from the one before, so it is not
//   split into shards.
// - In a git repository each trial's record is also added to the bramble/runs branch (`bramble runs ls`), as a
//   run's is; outside one, the sweep's folder is the only record. A shard's runner may not push, so the gather adds
//   every record it read from the shards' files to the branch, and pushes it when asked (CI's gather job).
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { BrambleError, describeError, errorClass } from '../errors.js';
import type { MlConfig } from '../config/ml-yaml.js';
import { forestOptionsOf } from '../config/forest-options.js';
import type { ValidationResult } from '../data/validate.js';
import { sourceLineage, type SourceLineage } from '../lineage/source.js';
import { canonicalJSON } from '../model/artifact.js';
import { resolveForestParams } from '../model/forest/options.js';
import type { Metric } from '../model/metric-names.js';
import { prepare, type Prepared } from '../pipeline/run.js';
import { RUNS, sealRun, type RunRecord, type SweepTrialRecord } from '../registry/runs.js';
import { appendRuns, findRepo, runsIdentity, runTime } from '../registry/runs-store.js';
import type { GitRepo } from '../registry/store.js';
import { lowerIsBetter, makeFolds, scoreTrial, type Fold } from '../sweep/cv.js';
import { appendTrial, partFile, readTrials, sweepFolder, trialKey } from '../sweep/records.js';
import { halvingRounds, HALVING_FACTOR, sweepTrials, trialParams, type ParamValue, type Trial } from '../sweep/space.js';
import type { Ports } from './ports.js';
import { branchOf, machineOf, pushRuns } from './runs.js';

export class SweepError extends errorClass('E_SWEEP') {}

export interface Shard {
  /** 1-based. */
  k: number;
  n: number;
}

export interface SweepRequest {
  dir: string;
  workers?: number;
  shard?: Shard | null;
  /** Train nothing: choose from the records in the sweep's folder. */
  gather?: boolean;
  /** With gather: push the runs branch once the shards' records are on it (a failure is a warning). */
  push?: boolean;
  /** Called as each trial ends (trained or found). */
  onTrial?: (outcome: TrialOutcome) => void;
}

export interface GatherRecorded {
  added: number;
  pushed: boolean;
  /** Why the push failed (the records stay on the local branch); null when it did not fail. */
  problem: string | null;
}

export interface TrialOutcome {
  trial: number;
  rung: number;
  share: number;
  swept: Record<string, ParamValue>;
  folds: (number | null)[];
  mean: number | null;
  sd: number | null;
  /** Seconds it trained for; as recorded when it was found rather than trained. */
  seconds: number;
  record: string;
  /** Found in the sweep's records (an earlier, killed run; another shard) rather than trained now. */
  found: boolean;
}

export interface SweepSummary {
  id: string;
  strategy: 'grid' | 'random' | 'halving';
  metric: Metric;
  lowerIsBetter: boolean;
  folds: number;
  seed: number;
  /** How many trials the sweep has (halving: candidates of its first round). */
  trials: number;
  shard: Shard | null;
  /** The last round's trials (every trial of grid and random), best first; trials without a score last. */
  ranked: TrialOutcome[];
  /** Null when no trial finished, or in a shard (a shard does not choose). */
  best: TrialOutcome | null;
  /** model.params as ml.yaml has them, and with the best trial's values. */
  params: { base: Record<string, unknown>; best: Record<string, unknown> | null };
  /** Trial indices no record holds (with --gather), in the round where they are missing. */
  missing: { rung: number; trials: number[] } | null;
  trained: number;
  found: number;
  /** Seconds spent training trials in this run. */
  trainSeconds: number;
  seconds: number;
  folder: string;
  /** Lines of the sweep's folder that were skipped, and why. */
  skipped: string[];
  /** A gather in a git repository: the shards' records added to the runs branch, and whether it was pushed. */
  recorded?: GatherRecorded;
}

export interface SweepResult {
  config: MlConfig;
  validation: ValidationResult;
  /** Absent when validation failed. */
  sweep?: SweepSummary;
}

/** The id of a sweep: everything that decides its trials' scores (not the shard, not the thread count). */
export function sweepId(prepared: Prepared, seed: number, metric: Metric): string {
  const { config } = prepared;
  const decides = {
    sweep: { ...config.sweep, seed, metric },
    task: config.task,
    data: { ...config.data, sha256: prepared.loaded.identity.sha256 },
    features: config.features,
    model: config.model,
    split: config.split,
  };
  return createHash('sha256').update(canonicalJSON(decides)).digest('hex').slice(0, 12);
}

/** `K/N` → { k, n }, refused unless 1 ≤ K ≤ N. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || k < 1 || n < 1 || k > n) throw new SweepError(`--shard ${JSON.stringify(text)} is not a shard; give K/N with 1 ≤ K ≤ N, such as --shard 2/4`, { shard: text });
  return { k, n };
}

interface Context {
  prepared: Prepared;
  request: SweepRequest;
  ports: Pick<Ports, 'git' | 'log' | 'clock' | 'versions' | 'fs'>;
  id: string;
  metric: Metric;
  seed: number;
  trials: Trial[];
  folder: string;
  file: string;
  existing: Map<string, RunRecord>;
  folds: Fold[] | null;
  source: SourceLineage | null;
  repo: GitRepo | null;
  counts: { trained: number; found: number; trainSeconds: number };
}

/** Runs (or resumes, or gathers) the sweep ml.yaml describes in `request.dir`. */
export async function runSweep(request: SweepRequest, ports: Pick<Ports, 'git' | 'log' | 'clock' | 'versions' | 'fs'>): Promise<SweepResult> {
  const started = ports.clock.now();
  const prepared = await prepare(request.dir);
  if (!('split' in prepared)) return prepared;
  const { config } = prepared;
  const sweep = config.sweep;
  if (sweep === undefined) {
    throw new SweepError(`${request.dir}/ml.yaml has no sweep: block; add one, such as sweep: { params: { maxDepth: [8, 16], trees: [100, 200] }, folds: 5 } (docs/sweep.md)`, { dir: request.dir });
  }
  const shard = request.shard ?? null;
  if (shard !== null && sweep.strategy === 'halving') {
    throw new SweepError('--shard splits a grid or random sweep, but sweep.strategy is halving, whose every round is chosen from the one before; run it whole, or use strategy: grid or random', { shard: `${shard.k}/${shard.n}` });
  }
  if (shard !== null && request.gather) throw new SweepError('--gather reads every shard, so it takes no --shard; give one or the other', {});
  const seed = sweep.seed ?? config.split.seed;
  const metric = sweep.metric ?? config.metrics[0];
  const id = sweepId(prepared, seed, metric);
  const folder = sweepFolder(request.dir, id);
  const read = await readTrials(folder, id);
  if (read.skipped.length > 0) ports.log.warn(`skipped ${read.skipped.length} ${read.skipped.length === 1 ? 'line' : 'lines'} of ${folder}: ${read.skipped.slice(0, 3).join('; ')}`);
  const fs = ports.fs ?? nodeFs;
  const ctx: Context = {
    prepared,
    request,
    ports,
    id,
    metric,
    seed,
    trials: sweepTrials(sweep, seed),
    folder,
    file: partFile(shard),
    existing: read.records,
    folds: null,
    source: null,
    repo: await findRepo(request.dir, fs),
    counts: { trained: 0, found: 0, trainSeconds: 0 },
  };
  const { last, missing } = sweep.strategy === 'halving' ? await halving(ctx) : await round(ctx, shardOf(ctx.trials, shard, config, prepared.split.train.length), 0, 1);
  const recorded = request.gather ? await recordGathered(ctx) : null;
  const ranked = rank(last, lowerIsBetter(metric));
  const best = shard === null && ranked.length > 0 && ranked[0].mean !== null ? ranked[0] : null;
  const base = resolvedParams(config, config.model.params);
  return {
    config,
    validation: prepared.validation,
    sweep: {
      id,
      strategy: sweep.strategy,
      metric,
      lowerIsBetter: lowerIsBetter(metric),
      folds: sweep.folds,
      seed,
      trials: ctx.trials.length,
      shard,
      ranked,
      best,
      params: { base, best: best === null ? null : resolvedParams(config, trialParams(config.model.params, { index: best.trial, params: best.swept })) },
      missing,
      trained: ctx.counts.trained,
      found: ctx.counts.found,
      trainSeconds: ctx.counts.trainSeconds,
      seconds: (ports.clock.now() - started) / 1000,
      folder,
      skipped: read.skipped,
      ...(recorded !== null ? { recorded } : {}),
    },
  };
}

/**
 * The gather's records on the runs branch: every trial record it read from the shards' files (one already there is
 * not added twice), then, with `push`, the branch pushed. Null outside a git repository.
 */
async function recordGathered(ctx: Context): Promise<GatherRecorded | null> {
  const { repo, ports, request } = ctx;
  if (repo === null) return null;
  const records = [...ctx.existing.values()];
  if (records.length === 0) return { added: 0, pushed: false, problem: null };
  await appendRuns(repo, records, await runsIdentity(repo, ports.git.env, runTime(ports.git.env, Date.now())));
  if (!request.push) return { added: records.length, pushed: false, problem: null };
  try {
    const sync = await pushRuns({ dir: request.dir }, ports);
    return { added: records.length, pushed: sync.pushed, problem: null };
  } catch (err) {
    if (!(err instanceof BrambleError)) throw err;
    ports.log.warn(`the sweep's ${records.length} trial records are on ${RUNS.branch} here but were not pushed: ${describeError(err)}`);
    return { added: records.length, pushed: false, problem: err.message };
  }
}

function resolvedParams(config: MlConfig, params: MlConfig['model']['params']): Record<string, unknown> {
  const resolved: Record<string, unknown> = { ...resolveForestParams(forestOptionsOf({ task: config.task, model: { ...config.model, params } })) };
  delete resolved.task;
  delete resolved.seed;
  return resolved;
}

/** Shard K of N: the trials dealt to it by their estimated cost (see the decisions above). */
export function shardOf(trials: readonly Trial[], shard: Shard | null, config: MlConfig, rows: number): Trial[] {
  if (shard === null) return [...trials];
  const costed = trials.map((trial) => ({ trial, cost: trialCost(config, trial, rows) }));
  costed.sort((a, b) => b.cost - a.cost || a.trial.index - b.trial.index);
  const loads = new Array<number>(shard.n).fill(0);
  const mine: Trial[] = [];
  for (const { trial, cost } of costed) {
    let lightest = 0;
    for (let k = 1; k < shard.n; k++) if (loads[k] < loads[lightest]) lightest = k;
    loads[lightest] += cost;
    if (lightest === shard.k - 1) mine.push(trial);
  }
  return mine.sort((a, b) => a.index - b.index);
}

/**
 * A trial's training cost, up to a constant: trees × sampled rows × the depth a tree can reach (its maxDepth, or
 * where leaves of minSamplesLeaf rows stop it, whichever is shallower). Only the order of costs matters.
 */
function trialCost(config: MlConfig, trial: Trial, rows: number): number {
  const p = resolvedParams(config, trialParams(config.model.params, trial));
  const num = (key: string, fallback: number): number => (typeof p[key] === 'number' ? (p[key] as number) : fallback);
  const samples = num('maxSamples', rows);
  const sampled = Math.max(1, samples <= 1 ? rows * samples : Math.min(rows, samples));
  const reach = Math.log2(Math.max(2, sampled / Math.max(1, num('minSamplesLeaf', 1))));
  const depth = Math.min(num('maxDepth', reach), reach);
  return num('trees', 100) * sampled * Math.max(1, depth);
}

/** Best first by the mean (ties: the lower trial index, as GridSearchCV's best_index_); unscored trials last. */
export function rank(outcomes: readonly TrialOutcome[], lower: boolean): TrialOutcome[] {
  return [...outcomes].sort((a, b) => {
    if (a.mean === null || b.mean === null) return a.mean === null ? (b.mean === null ? a.trial - b.trial : 1) : -1;
    if (a.mean !== b.mean) return lower ? a.mean - b.mean : b.mean - a.mean;
    return a.trial - b.trial;
  });
}

async function halving(ctx: Context): Promise<{ last: TrialOutcome[]; missing: SweepSummary['missing'] }> {
  let candidates = ctx.trials;
  let last: TrialOutcome[] = [];
  for (const { rung, share } of halvingRounds(candidates.length)) {
    const done = await round(ctx, candidates, rung, share);
    last = done.last;
    if (done.missing !== null) return done;
    const keep = Math.max(1, Math.ceil(candidates.length / HALVING_FACTOR));
    const chosen = new Set(rank(last, lowerIsBetter(ctx.metric)).slice(0, keep).map((o) => o.trial));
    candidates = candidates.filter((t) => chosen.has(t.index));
  }
  return { last, missing: null };
}

/** One round: each trial found in the records, or trained now (or, with --gather, named as missing). */
async function round(ctx: Context, trials: readonly Trial[], rung: number, share: number): Promise<{ last: TrialOutcome[]; missing: SweepSummary['missing'] }> {
  const last: TrialOutcome[] = [];
  const missing: number[] = [];
  for (const trial of trials) {
    const record = ctx.existing.get(trialKey(rung, trial.index));
    let outcome: TrialOutcome;
    if (record?.sweep !== undefined) {
      // The trial's own values (equal to the record's), in ml.yaml's order: a record's keys are sorted.
      outcome = { ...outcomeOf(record.sweep), swept: trial.params, seconds: record.steps.total ?? 0, record: record.id, found: true };
      ctx.counts.found++;
    } else if (ctx.request.gather) {
      missing.push(trial.index);
      continue;
    } else {
      outcome = await trainTrial(ctx, trial, rung, share);
    }
    last.push(outcome);
    ctx.request.onTrial?.(outcome);
  }
  return { last, missing: missing.length > 0 ? { rung, trials: missing } : null };
}

function outcomeOf(s: SweepTrialRecord): Omit<TrialOutcome, 'seconds' | 'record' | 'found'> {
  return { trial: s.trial, rung: s.rung, share: s.share, swept: s.swept, folds: s.folds, mean: s.mean, sd: s.sd };
}

async function trainTrial(ctx: Context, trial: Trial, rung: number, share: number): Promise<TrialOutcome> {
  const { prepared, ports } = ctx;
  const config = prepared.config;
  const sweep = config.sweep as NonNullable<MlConfig['sweep']>;
  ctx.folds ??= makeFolds(prepared, sweep.folds, ctx.seed);
  ctx.source ??= await sourceLineage(ctx.request.dir, { fs: ports.fs ?? nodeFs });
  const score = await scoreTrial(config, trial, ctx.folds, ctx.metric, { share, workers: ctx.request.workers, now: () => ports.clock.now() });
  ctx.counts.trained++;
  ctx.counts.trainSeconds += score.seconds;
  const shard = ctx.request.shard ?? null;
  const details: SweepTrialRecord = {
    id: ctx.id,
    strategy: sweep.strategy,
    trial: trial.index,
    trials: ctx.trials.length,
    rung,
    share,
    metric: ctx.metric,
    folds: score.folds,
    mean: score.mean,
    sd: score.sd,
    swept: trial.params,
    ...(shard !== null ? { shard: `${shard.k}/${shard.n}` } : {}),
  };
  const record = await sealTrial(ctx, details, score.seconds);
  await appendTrial(ctx.folder, ctx.file, record);
  if (ctx.repo !== null) await appendRuns(ctx.repo, [record], await runsIdentity(ctx.repo, ports.git.env, record.at));
  return { ...outcomeOf(details), seconds: score.seconds, record: record.id, found: false };
}

async function sealTrial(ctx: Context, details: SweepTrialRecord, seconds: number): Promise<RunRecord> {
  const { prepared, ports } = ctx;
  const { config, loaded } = prepared;
  const source = ctx.source as SourceLineage;
  const env = ports.git.env;
  const params = resolvedParams(config, trialParams(config.model.params, { index: details.trial, params: details.swept }));
  return sealRun({
    format: RUNS.format,
    version: RUNS.version,
    at: runTime(env, Date.now()),
    command: 'sweep',
    name: config.name,
    task: config.task,
    params,
    seed: config.model.seed ?? null,
    metrics: { [ctx.metric]: details.mean },
    data: { path: config.data.train, sha256: loaded.identity.sha256, rows: loaded.identity.rows },
    source: { commit: source.commit, branch: ctx.repo === null ? null : await branchOf(ctx.repo, env), dirty: source.dirty, workTree: source.workTree, path: source.path },
    champion: null,
    gates: null,
    steps: { validate: null, features: null, train: seconds, evaluate: null, compare: null, write: null, total: seconds },
    machine: machineOf(env, ports.versions),
    artifact: null,
    sweep: details,
  });
}
