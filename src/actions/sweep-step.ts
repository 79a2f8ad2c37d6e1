// The sweep step as both faces run it (the sweep action, `bramble ci sweep`): a shard of ml.yaml's sweep, or the
// gather that chooses among what every shard finished, optionally writing the choice into ml.yaml's model.params;
// and the sweep result file the compare step reads to put the sweep section into the pull request's report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SweepReportInput } from '../report/sweep-view.js';
import { sweepReportMarkdown } from '../report/sweep-report.js';
import { appliedLine, applyParams } from '../sweep/apply.js';
import { partFile } from '../sweep/records.js';
import { UsageError } from '../usecases/options.js';
import { parseShard, runSweep, type SweepSummary } from '../usecases/sweep.js';
import { ActionInputError, StepFailure, validationAnnotations, validationSummary } from './common.js';
import type { StepIo } from './steps.js';
import { invalidData, validationText } from './summaries.js';

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
  const shard = inputs.shard ? parseShard(inputs.shard) : null;
  if (flags.apply && shard !== null) {
    throw new UsageError('the input apply writes the chosen trial into ml.yaml, and a shard chooses nothing; set apply with gather, or leave shard empty', { shard: inputs.shard });
  }
  const result = await runSweep({ dir, workers: flags.workers, shard, gather: flags.gather }, ports);
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
  if (shard === null) {
    file = sweepResultFile(dir);
    mkdirSync(join(dir, '.bramble'), { recursive: true });
    writeFileSync(file, `${JSON.stringify(s, null, 2)}\n`);
    if (flags.apply && s.best !== null) notes.push(appliedLine(await applyParams(join(dir, 'ml.yaml'), s.best.swept)));
  }
  const tail = notes.length === 0 ? '' : `\n${notes.map((line) => `- ${line}`).join('\n')}\n`;
  await platform.summary(shard === null ? `${sweepReportMarkdown(name, s)}${tail}` : shardSummary(name, s));
  output({
    id: s.id,
    'shard-file': shard === null ? '' : show(join(s.folder, partFile(shard))),
    'best-trial': s.best === null ? '' : String(s.best.trial),
    missing: missing.join(','),
    result: file === '' ? '' : show(file),
  });
  if (shard === null && s.best === null) throw new StepFailure(`${name}: no trial of sweep ${s.id} could be scored, so nothing was chosen; see the job summary`);
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
