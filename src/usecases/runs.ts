// The run records' use-cases: record a run (train and run call it), push the records (`bramble runs push`, and
// CI for pull-request runs), and read them back for `bramble runs ls|show|diff|best`.
//
// Decisions (docs/runs.md says the same for people):
// - A run that wrote no model records nothing: validation failed, or an error stopped it. The record describes an
//   artifact (its sha256 is the link to it); a failed run's output already says why, and nothing can be compared.
// - Recording never touches the model file or the work tree: the record is written to refs/heads/bramble/runs
//   through git objects alone, after the artifact is sealed and written.
// - Outside a git repository nothing is recorded, silently: the runs live in the repository (`bramble runs ls`
//   there says it is not one).
// - A push that fails does not fail the run: the model is trained and the record is kept locally; the problem is
//   said and returned (RecordedRun.problem) for the face to show, and `bramble runs push` tries again.
import * as nodeFs from 'node:fs';
import { availableParallelism } from 'node:os';
import * as git from 'isomorphic-git';
import { describeError, BrambleError } from '../errors.js';
import { metricsOf } from '../model/evaluate.js';
import type { RunResult } from '../pipeline/run.js';
import { remoteNamed } from '../registry/remote.js';
import { sealRun, findRun, RUNS, RunsError, type MetricMap, type RunBody, type RunRecord } from '../registry/runs.js';
import { syncRuns, type RunsSync } from '../registry/runs-remote.js';
import { appendRuns, findRepo, readRuns, requireRepo, runsIdentity, runTime, type RunsRead, type Skipped } from '../registry/runs-store.js';
import { resolveOrNull, type GitRepo } from '../registry/store.js';
import type { Env, Ports } from './ports.js';

export interface RecordOptions {
  /** The command that ran. */
  command: 'run' | 'train';
  /** Push the runs branch to the remote after recording (CI's pull-request runs). */
  push?: boolean;
  /** The remote to push to (default: ports.git.remote, else origin). */
  remote?: string | null;
}

export interface RecordedRun {
  id: string;
  /** The runs branch's commit holding it. */
  commit: string;
  /** Set when `push` was asked: what the push did, or null when it failed (see `problem`). */
  push?: RunsSync | null;
  /** Why the push failed; the record is kept locally either way. */
  problem?: string;
}

type RecordPorts = Pick<Ports, 'git' | 'log' | 'versions' | 'fs'>;

/** The CI system the environment says this is, and its runner's name. */
export function machineOf(env: Env, versions: Ports['versions']): RunBody['machine'] {
  const ci = env.GITHUB_ACTIONS === 'true' ? 'github' : env.GITLAB_CI === 'true' ? 'gitlab' : null;
  const runner = ci === 'github' ? (env.RUNNER_NAME ?? null) : ci === 'gitlab' ? (env.CI_RUNNER_DESCRIPTION ?? env.CI_RUNNER_ID ?? null) : null;
  return { ci, runner, cores: availableParallelism(), node: versions.node, bramble: versions.bramble };
}

/** The branch the run belongs to: the pull/merge request's source branch in CI, else the one checked out. */
export async function branchOf(repo: GitRepo, env: Env): Promise<string | null> {
  const fromCi = env.GITHUB_HEAD_REF || env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME || env.GITHUB_REF_NAME || env.CI_COMMIT_REF_NAME;
  if (fromCi) return fromCi;
  return (await git.currentBranch({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, fullname: false })) ?? null;
}

function metricMap(values: Readonly<Record<string, number | null | undefined>>): MetricMap {
  const out: MetricMap = {};
  for (const [key, value] of Object.entries(values)) if (value !== undefined) out[key] = typeof value === 'number' && Number.isFinite(value) ? value : null;
  return out;
}

/** The record of a run that wrote its model (`result.artifact` and `result.lineage` set). */
export function runBody(result: RunResult, command: RecordOptions['command'], context: { at: string; branch: string | null; machine: RunBody['machine'] }): RunBody {
  const { lineage, artifact, evaluation } = result;
  if (lineage === undefined || artifact === undefined || evaluation === undefined) throw new RunsError('a run that wrote no model has nothing to record', {});
  const champion = result.champion;
  const rows = result.gates?.rows ?? [];
  return {
    format: RUNS.format,
    version: RUNS.version,
    at: context.at,
    command,
    name: result.config.name,
    task: result.config.task,
    params: { ...lineage.params },
    seed: lineage.seed,
    metrics: metricMap(metricsOf(evaluation)),
    data: { ...lineage.data },
    source: { commit: lineage.source.commit, branch: context.branch, dirty: lineage.source.dirty, workTree: lineage.source.workTree, path: lineage.source.path },
    champion:
      champion === undefined
        ? null
        : {
            label: champion.file,
            via: champion.via,
            ...(champion.version ? { version: champion.version } : {}),
            ...(champion.env ? { env: champion.env } : {}),
            sha256: champion.sha256,
            metrics: metricMap(champion.metrics),
            candidateMetrics: metricMap(champion.candidateMetrics),
            rows: champion.compared.rows,
          },
    gates: rows.length === 0 ? null : { passed: result.gates?.passed ?? false, failed: rows.filter((r) => !r.passed).map((r) => r.metric) },
    steps: { ...result.steps, total: result.seconds },
    machine: context.machine,
    artifact: { sha256: artifact.sha256, bytes: artifact.bytes },
  };
}

/**
 * Records a run that wrote its model on the local runs branch (and pushes it with `options.push`). Returns null
 * when nothing was recorded: no model was written, or `dir` is not in a git repository.
 */
export async function recordRun(dir: string, result: RunResult, options: RecordOptions, ports: RecordPorts): Promise<RecordedRun | null> {
  if (result.artifact === undefined || result.lineage === undefined) return null;
  const fs = ports.fs ?? nodeFs;
  const repo = await findRepo(dir, fs);
  // Outside git there is nowhere to keep a record; the run's output stays as it always was (no line about it).
  if (repo === null) return null;
  const env = ports.git.env;
  const at = runTime(env, Date.now());
  const record = sealRun(runBody(result, options.command, { at, branch: await branchOf(repo, env), machine: machineOf(env, ports.versions) }));
  const commit = await appendRuns(repo, [record], await runsIdentity(repo, env, at));
  ports.log.info(`run recorded as ${record.id} on ${RUNS.branch} (bramble runs show ${record.id})`);
  const recorded: RecordedRun = { id: record.id, commit };
  if (!options.push) return recorded;
  try {
    recorded.push = await pushRuns({ dir, remote: options.remote }, ports);
  } catch (err) {
    if (!(err instanceof BrambleError)) throw err;
    recorded.push = null;
    recorded.problem = err.message;
    ports.log.warn(`the run ${record.id} is recorded here but was not pushed: ${describeError(err)}`);
  }
  return recorded;
}

export interface PushRunsOptions {
  /** Any folder inside the model's repository. */
  dir: string;
  /** The remote's name (default: ports.git.remote, else origin). */
  remote?: string | null;
}

/**
 * Pushes the local runs branch: fetches the remote's, adds the local runs it lacks on top, pushes as a
 * fast-forward (trying again when another push lands first), and refuses a remote branch rewritten by hand
 * (RunsRewrittenError, exit 2). CI calls this after a pull-request run (or train with record.push).
 */
export async function pushRuns(options: PushRunsOptions, ports: Pick<Ports, 'git' | 'log' | 'fs'>): Promise<RunsSync & { url: string }> {
  const repo = await requireRepo(options.dir, ports.fs ?? nodeFs);
  const remote = await runsRemote(repo, options.remote ?? ports.git.remote ?? 'origin', ports.git.env);
  const who = await runsIdentity(repo, ports.git.env, runTime(ports.git.env, Date.now()));
  const sync = await syncRuns(repo, remote, who, { push: true });
  ports.log.info(
    sync.pushed
      ? `pushed ${RUNS.branch} to ${remote.name}: ${sync.added} ${sync.added === 1 ? 'run' : 'runs'} it did not have`
      : sync.head === null
        ? `no runs to push: ${RUNS.branch} does not exist here yet (bramble run records one)`
        : `${remote.name} already has every run here`,
  );
  return { ...sync, url: remote.url };
}

async function runsRemote(repo: GitRepo, name: string, env: Env) {
  const remote = await remoteNamed(repo, name, env);
  if (remote === null) throw new RunsError(`this repository has no remote named ${name}; add it with git remote add ${name} URL, or name another with --remote`, { remote: name });
  return remote;
}

export interface ReadRunsOptions {
  dir: string;
  /** Fetch the remote's runs first (and add them to the local branch). */
  fetch?: boolean;
  remote?: string | null;
  /** Stop reading older months once this many records are in hand (a page of the newest). */
  enough?: number;
}

/**
 * The runs recorded in `dir`'s repository, newest first: the local branch, else the remote's as last fetched
 * (a fresh clone). Lines that are not records Bramble can read are skipped and said, once, naming each.
 */
export async function readRunRecords(options: ReadRunsOptions, ports: Pick<Ports, 'git' | 'log' | 'fs'>): Promise<RunsRead> {
  const repo = await requireRepo(options.dir, ports.fs ?? nodeFs);
  const name = options.remote ?? ports.git.remote ?? 'origin';
  if (options.fetch) {
    const remote = await runsRemote(repo, name, ports.git.env);
    await syncRuns(repo, remote, await runsIdentity(repo, ports.git.env, runTime(ports.git.env, Date.now())), { push: false });
  }
  const head = (await resolveOrNull(repo, RUNS.ref)) ?? (await resolveOrNull(repo, `refs/remotes/${name}/${RUNS.branch}`));
  const read = await readRuns(repo, head, { enough: options.enough, warn: (m) => ports.log.warn(m) });
  warnSkipped(read.skipped, ports.log);
  return read;
}

function warnSkipped(skipped: readonly Skipped[], log: Ports['log']): void {
  if (skipped.length === 0) return;
  const shown = skipped
    .slice(0, 3)
    .map((s) => `${s.where}: ${s.reason}`)
    .join('; ');
  log.warn(`skipped ${skipped.length} ${skipped.length === 1 ? 'entry' : 'entries'} of ${RUNS.branch} that ${skipped.length === 1 ? 'is' : 'are'} not a run record Bramble can read: ${shown}${skipped.length > 3 ? '; …' : ''}`);
}

/** One run by id (whole, a unique prefix, or its hash), from every record. */
export async function showRun(options: ReadRunsOptions & { id: string }, ports: Pick<Ports, 'git' | 'log' | 'fs'>): Promise<RunRecord> {
  const { records } = await readRunRecords(options, ports);
  return findRun(records, options.id);
}
