// What the actions write where people read it: the job summary's Markdown and the one line a failed step shows.
// The use-cases return facts; these lay them out for GitHub.
import type { DriftResult } from '../data/drift.js';
import { formatDrift } from '../data/drift.js';
import { formatValidation, type ValidationResult } from '../data/validate.js';
import { formatVerdict, type GateResult } from '../model/compare.js';
import { metricsOf, type Evaluation } from '../model/evaluate.js';
import type { Assigned, Registered } from '../registry/registry.js';
import type { DeployOutcome } from '../usecases/deploy.js';
import { StepFailure } from './common.js';

/** The validation as text, with the drift after it when there is a reference. */
export function validationText(result: { validation: ValidationResult; drift?: DriftResult | null }): string {
  const text = formatValidation(result.validation);
  return result.drift ? `${text}\n\n${formatDrift(result.drift)}` : text;
}

/** The failure of a step whose data failed validation; `nothing` says what did not happen because of it. */
export function invalidData(validation: ValidationResult, nothing?: 'trained' | 'compared' | 'swept'): StepFailure {
  const s = validation.statistics;
  if (nothing === undefined) {
    return new StepFailure(`${validation.file}: ${s.failed} of ${s.evaluated} schema checks failed; see the annotations and the job summary`);
  }
  const see = nothing === 'trained' ? 'the annotations and the job summary' : 'the annotations';
  return new StepFailure(`${validation.file} failed validation, so nothing was ${nothing}; see ${see}`);
}

/** The trained model's summary: its artifact and held-out metrics. */
export function trainSummary(name: string, seconds: number, sha256: string, evaluation: Evaluation): string {
  const metrics = metricsOf(evaluation);
  const rows = Object.entries(metrics).map(([metric, value]) => `| ${metric} | ${typeof value === 'number' ? value.toFixed(4) : 'n/a'} |`);
  const head = [`### ${name}: trained in ${seconds.toFixed(1)} s`, '', `Artifact \`${sha256.slice(0, 12)}\`, held-out metrics:`, ''];
  return [...head, '| metric | value |', '|---|---|', ...rows, ''].join('\n');
}

/** The held-out metrics as the train step's `metrics` output: a JSON object of name → value. */
export function metricsOutput(evaluation: Evaluation): string {
  return JSON.stringify(metricsOf(evaluation));
}

/** The verdict's last line: what passed or failed, in one sentence. */
export function verdictLine(gates: GateResult): string {
  return formatVerdict(gates).split('\n').at(-1) ?? '';
}

export function registerSummary(result: Registered, tag: string): string {
  const what = result.reused ? `Reused ${tag}: it already holds this artifact` : `Registered ${tag}`;
  return `### ${what} (\`${result.artifact.slice(0, 12)}\`, commit \`${result.commit.slice(0, 7)}\`)\n`;
}

export function promoteSummary(result: Assigned): string {
  const line = result.unchanged
    ? `${result.env} already has ${result.name}@${result.version}; no tag written`
    : `assigned ${result.name}@${result.version} to ${result.env} (${result.tag})${result.previous ? `; it had ${result.previous}` : ''}`;
  return `### ${line}\n`;
}

const DEPLOYED_VIA = {
  files: ' (no server answered: it serves it when it starts)',
  git: ' (the host synced from git: what it serves is what the tags say)',
  server: '',
} as const;

export function deploySummary(result: DeployOutcome, url: string): string {
  return `### Deployed ${result.name}@${result.version} to ${result.env}${DEPLOYED_VIA[result.via]}\n\n${url}\n`;
}

/**
 * What the release's promote did to the environment's canary (usecases/promote.ts reweight with ifCanary): nothing
 * to say when there is none or tag and ml.yaml agree.
 */
export function canarySummary(canary: Assigned | null, env: string): string {
  if (canary === null || canary.unchanged) return '';
  if (canary.version === null) return `\n\nThe canary was taken away (${canary.tag}): ml.yaml no longer has a canary block for ${env}.\n`;
  return `\n\nThe canary ${canary.name}@${canary.version} runs at ml.yaml's weight now (${canary.tag}).\n`;
}
