// The validate, train, compare, monitor, retrain and sweep steps as both faces show them: the GitHub actions (src/actions/*.ts) and the
// GitLab jobs (bramble ci, src/commands/ci.ts). Each calls its use-case and lays the result out the same way —
// annotations, the report, the outputs, and a failure when the data or a gate says so; what differs by platform
// (where a comment goes, how a path is shown) comes in as an argument.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readMlYaml } from '../config/ml-yaml.js';
import { monitorMarkdown } from '../monitor/record.js';
import type { MonitorResult } from '../monitor/windows.js';
import type { Platform } from '../platform/types.js';
import { renderReport } from '../report/render.js';
import { sweepReportMarkdown } from '../report/sweep-report.js';
import type { SweepReportInput } from '../report/sweep-view.js';
import { REPORT } from '../report/view.js';
import type { AlertOutcome } from '../usecases/alert.js';
import { compare } from '../usecases/compare.js';
import type { MonitorRun } from '../usecases/monitor.js';
import { retrain } from '../usecases/retrain.js';
import { parseShard, runSweep, type SweepSummary } from '../usecases/sweep.js';
import { appliedLine, applyParams } from '../sweep/apply.js';
import { partFile } from '../sweep/records.js';
import { UsageError } from '../usecases/options.js';
import type { Ports } from '../usecases/ports.js';
import { train } from '../usecases/train.js';
import { validate } from '../usecases/validate.js';
import { watch } from '../usecases/watch.js';
import { ActionInputError, StepFailure, validationAnnotations, validationSummary, type Inputs, type Outputs, type Step } from './common.js';
import { invalidData, metricsOutput, trainSummary, validationText, verdictLine } from './summaries.js';

/** What a step reads and writes, on either platform. */
export interface StepIo<S extends Step> {
  platform: Platform;
  inputs: Inputs<S>;
  ports: Ports;
  output(values: Outputs<S>): void;
}

/** ml.yaml and the data checked, every problem annotated, and the environment this run is for. */
export async function validateStep({ platform, inputs, output }: StepIo<'validate'>): Promise<void> {
  const { dir } = inputs;
  const result = await validate({ dir, reference: inputs.reference || undefined, environment: inputs.environment, event: platform.context() });
  const { config, validation, target } = result;
  platform.annotate(validationAnnotations(dir, validation));
  // Drift is reported, never a failure: whether it should block is the monitor's decision.
  await platform.summary(validationSummary(dir, validation, validationText(result)));
  output({
    valid: String(validation.success),
    rows: String(validation.rows),
    failed: String(validation.statistics.failed),
    name: config.name,
    environment: target?.environment ?? '',
    'champion-env': target?.championEnv ?? '',
    sweep: String(config.sweep !== undefined),
  });
  if (!validation.success) throw invalidData(validation);
}

/** `bramble train` on the runner: the hash-sealed artifact for the compare and register steps. */
export async function trainStep({ platform, inputs, ports, output }: StepIo<'train'>, workers: number | undefined): Promise<void> {
  // A pull request's run is recorded and pushed (docs/runs.md): the experiments a team compares are its PRs. A fork's
  // has no token that may push, and a branch or tag run is the registry's to record.
  const event = platform.context();
  const record = event.kind === 'pull_request' && event.pullRequest !== null && !event.pullRequest.fork ? ({ command: 'train', push: true } as const) : undefined;
  const run = await train({ dir: inputs.dir, workers, record }, ports);
  if (run.run?.problem !== undefined) platform.annotate([{ level: 'warning', title: 'run record not pushed', message: `run ${run.run.id} is recorded on this runner only: ${run.run.problem}` }]);
  platform.annotate(validationAnnotations(inputs.dir, run.validation));
  if (!run.artifact || !run.evaluation) {
    await platform.summary(validationSummary(inputs.dir, run.validation, validationText(run)));
    output({ 'model-path': '', sha256: '', metrics: '{}', valid: 'false' });
    throw invalidData(run.validation, 'trained');
  }
  await platform.summary(trainSummary(run.config.name, run.seconds, run.artifact.sha256, run.evaluation));
  const path = ports.showPath?.(run.artifact.path) ?? run.artifact.path;
  output({ 'model-path': path, sha256: run.artifact.sha256, metrics: metricsOutput(run.evaluation), valid: 'true' });
}

/** Where compare's report goes: whether to write the sticky comment, and how the failure message names the places. */
export interface ReportPlaces {
  comment: boolean;
  /** Where the report always is: "the job summary". */
  always: string;
  /** Where the comment is: "the pull request". */
  commented: string;
  /** The pull request to comment on when it is not the run's own (the one a retrain opened). */
  pullRequest?: number;
}

/** The candidate against the champion on the same held-out rows, the gates, the report; a failed gate fails the step. */
export async function compareStep({ platform, inputs, ports, output }: StepIo<'compare'>, places: ReportPlaces): Promise<void> {
  const { runUrl: url, sha, ref } = platform.context();
  const { dir, candidate, champion, 'champion-env': championEnv } = inputs;
  const request = { dir, candidate: candidate || undefined, champion: champion || undefined, championEnv };
  const sweep = inputs.sweep ? await readSweepResult(inputs.sweep) : null;
  const result = await compare({ ...request, report: { run: { url, sha, ref }, fetch: true, sweep } }, ports);
  platform.annotate(validationAnnotations(dir, result.validation));
  if (!result.gates || !result.report) throw invalidData(result.validation, 'compared');
  await platform.summary(renderReport(result.report, REPORT.summaryLimit).markdown);
  const comment = places.comment ? renderReport(result.report, REPORT.commentLimit).markdown : null;
  const target = places.pullRequest === undefined ? undefined : { pullRequest: places.pullRequest };
  const posted = comment === null ? null : await platform.upsertComment(REPORT.marker(result.config.name), comment, target);
  const verdict = verdictLine(result.gates);
  output({ passed: String(result.gates.passed), verdict, 'champion-version': result.champion?.version ?? '', 'comment-url': posted?.url ?? '' });
  const where = `${places.always}${posted ? ` and on ${places.commented}` : ''}`;
  if (!result.gates.passed) throw new StepFailure(`${result.config.name}: ${verdict} See the report in ${where}.`);
}

/** What the face reads from its own inputs for the monitor: the flags, and where a retrain is dispatched. */
export interface MonitorFlags {
  record: boolean;
  failOnAlert: boolean;
  /** The workflow (GitHub: its file name) and the branch a retrain runs on. */
  retrain: { ref: string; workflow: string };
}

/**
 * The monitor on the runner that holds the prediction log: the result recorded on the registry branch, the alert
 * answered as ml.yaml's monitor.on_alert says, the result as the summary and as DIR/.bramble/monitor-ENV.json. An
 * alert fails the step only with fail-on-alert: the issue and the retrain are the answer.
 */
export async function monitorStep({ platform, inputs, ports, output }: StepIo<'monitor'>, flags: MonitorFlags): Promise<void> {
  const { dir, env } = inputs;
  const minRows = minRowsOption(inputs['min-rows']);
  const request = { dir, env, logs: inputs.logs, truth: inputs.truth || undefined, since: inputs.since || undefined, minRows, record: flags.record, retrain: flags.retrain };
  const { name, run, outcome } = await watch(request, ports);
  const { result } = run;
  const file = join(dir, '.bramble', `monitor-${env}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  await platform.summary(monitorSummary(result, outcome, run.recorded));
  const latest = newestMeasured(result);
  output({
    healthy: String(result.healthy),
    'drifted-share': latest.drift === null ? '' : latest.drift.toFixed(4),
    metric: latest.metric === null ? '' : latest.metric.toFixed(4),
    'issue-url': outcome.issue?.url ?? '',
    retrain: String(outcome.retrain?.dispatched === true),
    result: ports.showPath?.(file) ?? file,
  });
  if (!result.healthy && flags.failOnAlert) throw new StepFailure(`${name} in ${env}: the monitor alerted (fail-on-alert is true); see the job summary`);
}

/** The min-rows input: empty for ml.yaml's monitor.min_rows, else a whole number ≥ 1. */
function minRowsOption(text: string): number | undefined {
  if (text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`the input min-rows is ${JSON.stringify(text)}; give a whole number ≥ 1, or leave it empty for ml.yaml's monitor.min_rows`, { minRows: text });
  return n;
}

/** The drifted share and the watched metric of the newest window (and its first version) that measured them. */
function newestMeasured(result: MonitorResult): { drift: number | null; metric: number | null } {
  let drift: number | null = null;
  let metric: number | null = null;
  for (let w = result.windows.length - 1; w >= 0 && (drift === null || metric === null); w--) {
    for (const v of result.windows[w].versions) {
      if (drift === null && v.drift !== null) drift = v.drift.driftedShare;
      if (metric === null && v.performance.status === 'ok' && v.performance.watched?.value != null) metric = v.performance.watched.value;
    }
  }
  return { drift, metric };
}

/** The job summary: the run's Markdown (as recorded on the registry branch), then what was done about it. */
export function monitorSummary(result: MonitorResult, outcome: AlertOutcome, recorded: MonitorRun['recorded']): string {
  const done: string[] = [];
  if (outcome.issue !== null) done.push(`issue ${outcome.issue.closed ? 'closed' : outcome.issue.created ? 'opened' : 'updated'}: ${outcome.issue.url ?? `#${outcome.issue.number}`}`);
  if (outcome.retrain !== null) done.push(outcome.retrain.dispatched ? `retrain dispatched${outcome.retrain.url ? `: ${outcome.retrain.url}` : ''} (${outcome.retrain.why})` : `no retrain dispatched: ${outcome.retrain.why}`);
  if (recorded !== null) done.push(`recorded on the registry branch at \`${recorded.commit.slice(0, 7)}\` (${recorded.files.length} files)`);
  const tail = done.length === 0 ? '' : `\n${done.map((line) => `- ${line}`).join('\n')}\n`;
  return `${monitorMarkdown(result)}${tail}`;
}

/** What the face knows of its run: its id (for the branch's name) and the threads to train on. */
export interface RetrainRun {
  id: string;
  workers: number | undefined;
  /** The time the branch is named after (its date). */
  now: Date;
}

/**
 * A retrain: a branch cut from the first environment's branch (where a new model enters; merging the pull request
 * releases it there, and promotion carries it on), a commit saying why, the pull request, then train and compare on
 * the branch with the report posted on that pull request. A failed gate fails the step after the outputs.
 */
export async function retrainStep({ platform, inputs, ports, output }: StepIo<'retrain'>, places: ReportPlaces, run: RetrainRun): Promise<void> {
  const { dir } = inputs;
  const opened = await retrain({ dir, environment: inputs.environment, runId: run.id, now: run.now }, ports);
  const { number, url } = opened.pullRequest;
  const trained: Record<string, string> = {};
  const compared: Record<string, string> = { passed: 'false', verdict: '', 'comment-url': '' };
  try {
    await trainStep({ platform, inputs: { dir, workers: '', token: inputs.token }, ports, output: (values) => Object.assign(trained, values) }, run.workers);
    const compareInputs = { dir, candidate: trained['model-path'] ?? '', champion: '', 'champion-env': opened.championEnv, comment: 'true', sweep: '', token: inputs.token };
    await compareStep({ platform, inputs: compareInputs, ports, output: (values) => Object.assign(compared, values) }, { ...places, comment: true, pullRequest: number });
  } finally {
    output({ branch: opened.branch, 'pull-request': String(number), 'pull-request-url': url ?? '', passed: compared.passed, verdict: compared.verdict, 'comment-url': compared['comment-url'] });
  }
}

/** What the face reads from its own inputs: the flags and the threads to train on. */
export interface SweepFlags {
  gather: boolean;
  apply: boolean;
  workers: number | undefined;
}

/** Where a whole sweep or a gather leaves its result, for the compare step's sweep input. */
export function sweepResultFile(dir: string): string {
  return join(dir, '.bramble', 'sweep.json');
}

/**
 * One shard (the input shard, K/N), the gather (gather: true) or a whole sweep. A gather decides on the trials that
 * finished and names the missing ones (a shard that failed twice) in a warning, the summary and the outputs; it
 * fails only when no trial could be scored.
 */
export async function sweepStep({ platform, inputs, ports, output }: StepIo<'sweep'>, flags: SweepFlags): Promise<void> {
  const { dir } = inputs;
  const asked = inputs.shard ? parseShard(inputs.shard) : null;
  if (flags.apply && asked !== null) {
    throw new UsageError('the input apply writes the chosen trial into ml.yaml, and a shard chooses nothing; set apply with gather, or leave shard empty', { shard: inputs.shard });
  }
  // Successive halving chooses each round from the one before, so it is not split: the matrix's shard 1 runs it
  // whole (its records go to the gather as a shard's would), the other shards have nothing to do.
  const halving = asked !== null && (await readMlYaml(join(dir, 'ml.yaml'))).sweep?.strategy === 'halving';
  if (halving && asked.k > 1) {
    await platform.summary(`### sweep: shard ${asked.k} of ${asked.n} has nothing to do\n\nml.yaml's sweep.strategy is halving, whose rounds are chosen one from another: shard 1 runs it whole.\n`);
    output({ id: '', 'shard-file': '', 'best-trial': '', missing: '', result: '' });
    return;
  }
  const shard = halving ? null : asked;
  // The shards' runners may not push (contents: read); the gather, on a pull request from the repository itself,
  // adds their trial records to bramble/runs and pushes it, as the train step does with its run.
  const event = platform.context();
  const push = flags.gather && event.kind === 'pull_request' && event.pullRequest !== null && !event.pullRequest.fork;
  const result = await runSweep({ dir, workers: flags.workers, shard, gather: flags.gather, push }, ports);
  platform.annotate(validationAnnotations(dir, result.validation));
  const s = result.sweep;
  if (s === undefined) {
    await platform.summary(validationSummary(dir, result.validation, validationText(result)));
    output({ id: '', 'shard-file': '', 'best-trial': '', missing: '', result: '' });
    throw invalidData(result.validation, 'swept');
  }
  const show = (file: string): string => ports.showPath?.(file) ?? file;
  const name = result.config.name;
  const missing = s.missing?.trials ?? [];
  const notes: string[] = [];
  if (missing.length > 0) {
    const line = `${missing.length} of ${s.trials} trials have no record (${missing.join(', ')}): a shard failed twice or uploaded nothing; the choice is among the ${s.ranked.length} that finished`;
    platform.annotate([{ level: 'warning', title: `sweep ${s.id} has trials missing`, message: line }]);
    notes.push(line);
  }
  let file = '';
  if (asked === null) {
    file = sweepResultFile(dir);
    mkdirSync(join(dir, '.bramble'), { recursive: true });
    writeFileSync(file, `${JSON.stringify(s, null, 2)}\n`);
    if (flags.apply && s.best !== null) notes.push(appliedLine(await applyParams(join(dir, 'ml.yaml'), s.best.swept)));
  }
  if (s.recorded?.problem) platform.annotate([{ level: 'warning', title: 'trial records not pushed', message: `the sweep's ${s.recorded.added} trial records are on this runner only: ${s.recorded.problem}` }]);
  if (s.recorded?.pushed) notes.push(`${s.recorded.added} trial records from the shards added to bramble/runs and pushed (\`bramble runs ls\`)`);
  const tail = notes.length === 0 ? '' : `\n${notes.map((line) => `- ${line}`).join('\n')}\n`;
  await platform.summary(asked === null ? `${sweepReportMarkdown(name, s)}${tail}` : shardSummary(name, s));
  output({
    id: s.id,
    'shard-file': asked === null ? '' : show(join(s.folder, partFile(shard))),
    'best-trial': asked !== null || s.best === null ? '' : String(s.best.trial),
    missing: missing.join(','),
    result: file === '' ? '' : show(file),
  });
  if (asked === null && s.best === null) throw new StepFailure(`${name}: no trial of sweep ${s.id} could be scored, so nothing was chosen; see the job summary`);
}

function shardSummary(name: string, s: SweepSummary): string {
  const shard = s.shard === null ? '' : ` shard ${s.shard.k} of ${s.shard.n}`;
  return `### ${name}: sweep \`${s.id}\`${shard}\n\ntrained ${s.trained} trials, found ${s.found} recorded, ${s.trainSeconds.toFixed(1)} s training; the gather chooses.\n`;
}

/** The compare step's sweep input: a result file a gather (or a whole sweep) wrote. */
export async function readSweepResult(file: string): Promise<SweepReportInput> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ActionInputError(`the input sweep is ${JSON.stringify(file)}, which is not a sweep result (${err instanceof Error ? err.message : String(err)}); give the sweep step's result output, or leave it empty`, { sweep: file });
  }
  const shape = parsed as Partial<SweepReportInput> | null;
  if (shape === null || typeof shape.id !== 'string' || !Array.isArray(shape.ranked) || typeof shape.params !== 'object') {
    throw new ActionInputError(`the input sweep is ${JSON.stringify(file)}, which has no sweep id, trials and params; give the sweep step's result output, or leave it empty`, { sweep: file });
  }
  return shape as SweepReportInput;
}
