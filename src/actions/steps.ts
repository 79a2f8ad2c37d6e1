// The validate, train and compare steps as both faces show them: the GitHub actions (src/actions/*.ts) and the
// GitLab jobs (bramble ci, src/commands/ci.ts). Each calls its use-case and lays the result out the same way —
// annotations, the report, the outputs, and a failure when the data or a gate says so; what differs by platform
// (where a comment goes, how a path is shown) comes in as an argument.
import type { Platform } from '../platform/types.js';
import { renderReport } from '../report/render.js';
import { REPORT } from '../report/view.js';
import { compare } from '../usecases/compare.js';
import type { Ports } from '../usecases/ports.js';
import { train } from '../usecases/train.js';
import { validate } from '../usecases/validate.js';
import { StepFailure, validationAnnotations, validationSummary, type Inputs, type Outputs, type Step } from './common.js';
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
  });
  if (!validation.success) throw invalidData(validation);
}

/** `bramble train` on the runner: the hash-sealed artifact for the compare and register steps. */
export async function trainStep({ platform, inputs, ports, output }: StepIo<'train'>, workers: number | undefined): Promise<void> {
  const run = await train({ dir: inputs.dir, workers }, ports);
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
}

/** The candidate against the champion on the same held-out rows, the gates, the report; a failed gate fails the step. */
export async function compareStep({ platform, inputs, ports, output }: StepIo<'compare'>, places: ReportPlaces): Promise<void> {
  const { runUrl: url, sha, ref } = platform.context();
  const { dir, candidate, champion, 'champion-env': championEnv } = inputs;
  const request = { dir, candidate: candidate || undefined, champion: champion || undefined, championEnv };
  const result = await compare({ ...request, report: { run: { url, sha, ref }, fetch: true } }, ports);
  platform.annotate(validationAnnotations(dir, result.validation));
  if (!result.gates || !result.report) throw invalidData(result.validation, 'compared');
  await platform.summary(renderReport(result.report, REPORT.summaryLimit).markdown);
  const comment = places.comment ? renderReport(result.report, REPORT.commentLimit).markdown : null;
  const posted = comment === null ? null : await platform.upsertComment(REPORT.marker(result.config.name), comment);
  const verdict = verdictLine(result.gates);
  output({ passed: String(result.gates.passed), verdict, 'champion-version': result.champion?.version ?? '', 'comment-url': posted?.url ?? '' });
  const where = `${places.always}${posted ? ` and on ${places.commented}` : ''}`;
  if (!result.gates.passed) throw new StepFailure(`${result.config.name}: ${verdict} See the report in ${where}.`);
}
