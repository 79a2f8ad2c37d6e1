// How the CLI prints what the pipeline's use-cases return (run, train, evaluate, compare): one line a step.
import { formatValidation } from '../data/validate.js';
import { formatVerdict } from '../model/compare.js';
import { metricsOf } from '../model/evaluate.js';
import type { ComparedRows, CompareResult, EvaluateResult, RunResult } from '../pipeline/run.js';

export function runReport(result: RunResult): string {
  const lines: string[] = [];
  const v = result.validation;
  lines.push(`validate: ${v.rows} rows, ${v.statistics.successful}/${v.statistics.evaluated} rules hold`);
  if (!v.success) {
    lines.push(formatValidation(v));
    return lines.join('\n');
  }
  if (result.evaluation) lines.push(`evaluate: ${metricsLine(metricsOf(result.evaluation))}`);
  if (result.split) lines.push(`split: ${splitLine(result.split)}`);
  if (result.champion) {
    const c = result.champion;
    lines.push(`champion: ${c.file}${c.env ? ` (serves ${c.env})` : ''}, sha256 ${c.sha256.slice(0, 12)}, from ${c.via}`);
    lines.push(`compared: ${comparedLine(c.compared)}`);
  } else if (result.evaluation) {
    lines.push(`champion: none${result.noChampion ? ` (${result.noChampion})` : ''}`);
  }
  if (result.gates) lines.push(formatVerdict(result.gates));
  if (result.artifact) lines.push(`model: ${result.artifact.path} (${(result.artifact.bytes / 1e6).toFixed(1)} MB, sha256 ${result.artifact.sha256})`);
  lines.push(`done in ${result.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

export function evaluateReport(result: EvaluateResult): string {
  if (!result.model) return formatValidation(result.validation);
  const { file, sha256, evaluation, compared } = result.model;
  return `${file} (${sha256.slice(0, 12)}): ${metricsLine(metricsOf(evaluation))}\nscored on: ${comparedLine(compared).replace('both models scored', 'scored')}`;
}

export function compareReport(result: CompareResult): string {
  if (!result.gates || !result.candidate || !result.champion || !result.compared) return formatValidation(result.validation);
  return [
    `candidate: ${result.candidate.file} (${result.candidate.sha256.slice(0, 12)})`,
    `champion: ${result.champion.file} (${result.champion.sha256.slice(0, 12)})`,
    `compared: ${comparedLine(result.compared)}`,
    formatVerdict(result.gates),
  ].join('\n');
}

function splitLine(split: NonNullable<RunResult['split']>): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  const classes = split.classShares ? `; held out per class: ${Object.entries(split.classShares).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}` : '';
  const skipped = split.skipped > 0 ? `; ${split.skipped} rows without a target left out (data.skip_missing_target)` : '';
  return `${split.train} rows to train, ${split.test} held out (${pct(split.share)})${classes}${skipped}`;
}

function comparedLine(compared: ComparedRows): string {
  const head = compared.excluded === 0 ? `both models scored on all ${compared.heldOut} held-out rows` : `both models scored on ${compared.rows} of ${compared.heldOut} held-out rows`;
  return [head, ...compared.notes].join('; ');
}

function metricsLine(metrics: Record<string, unknown>): string {
  return Object.entries(metrics)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => `${name} ${(value as number).toFixed(4)}`)
    .join(', ');
}
