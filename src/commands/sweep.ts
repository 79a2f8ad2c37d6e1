// bramble sweep: ml.yaml's parameter search with k-fold cross-validation (docs/sweep.md).
import { UsageError, workersOption } from '../usecases/options.js';
import { parseShard, runSweep, type SweepResult, type TrialOutcome } from '../usecases/sweep.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { appliedLine, applyParams } from '../sweep/apply.js';
import { sweepReportMarkdown } from '../report/sweep-report.js';
import { checkOutFile, cliPorts, defineCommand, print } from './command.js';
import { formatValidation } from '../data/validate.js';

export const HELP = `bramble sweep — search the forest's parameters by k-fold cross-validation, as DIR/ml.yaml's sweep: says

Usage: bramble sweep [DIR] [options]

Options:
  --shard K/N   train only this runner's share (one of N equal shares by cost); chooses nothing
  --gather      train nothing: choose the best from the records every shard left in the sweep's folder, and
                name the trials none of them has; in git, add those records to the bramble/runs branch
  --workers N   threads to train each forest on (default: every core); the scores do not depend on it
  --top N       trials to show (default 10)
  --apply       write the best trial's values into DIR/ml.yaml's model.params (comments and layout kept), so that
                bramble train trains the sweep's choice; not with --shard
  --report FILE also write the sweep as Markdown: the top trials with mean ± sd, a chart of the score against the
                most influential parameter, and the chosen configuration's change to ml.yaml
  --json        print the result as JSON

Each trial is scored by the mean of sweep.metric over sweep.folds folds of the training rows (the rows split
holds out are never used) and kept as a run record in DIR/.bramble/sweeps/<sweep id>/ (and on the repository's
bramble/runs branch). Run again after a stop, it trains only the trials not yet recorded.
Exit codes: 0 ok, 1 validation failed or no trial could be scored, 2 configuration, data or usage error.
`;

export const command = defineCommand({
  name: 'sweep',
  help: HELP,
  options: { shard: { type: 'string' }, gather: { type: 'boolean' }, apply: { type: 'boolean' }, workers: { type: 'string' }, top: { type: 'string' }, report: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    const workers = workersOption(values.workers, '--workers');
    const top = values.top === undefined ? 10 : Number(values.top);
    if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top is ${JSON.stringify(values.top)}; give a whole number of trials to show, ≥ 1`, { top: values.top ?? null });
    const shard = values.shard === undefined ? null : parseShard(values.shard);
    if (values.report) checkOutFile('report', values.report);
    if (values.apply && shard !== null) throw new UsageError('--apply writes the chosen trial into ml.yaml, and a shard chooses nothing; give --apply with --gather, or to a whole sweep', { shard: values.shard ?? null });
    const interactive = io.interactive && values.json !== true;
    const onTrial = interactive ? (o: TrialOutcome): void => io.err(`  ${trialLine(o)}${o.found ? ' (recorded)' : ''}\n`) : undefined;
    const result = await runSweep({ dir: positionals[0] ?? '.', workers, shard, gather: values.gather === true, onTrial }, cliPorts(io));
    if (values.report && result.sweep) await writeFileAtomic(values.report, sweepReportMarkdown(result.config.name, result.sweep));
    const best = result.sweep?.best ?? null;
    const applied = values.apply && best !== null ? await applyParams(join(positionals[0] ?? '.', 'ml.yaml'), best.swept) : null;
    print(io, values.json, result, `${sweepReport(result, top)}${applied === null ? '' : `\n${appliedLine(applied)}`}`);
    if (!result.validation.success) return 1;
    return shard !== null || (result.sweep?.best ?? null) !== null ? 0 : 1;
  },
});

function score(value: number | null): string {
  return value === null ? '–' : value.toFixed(4);
}

function trialLine(o: TrialOutcome): string {
  const swept = Object.entries(o.swept)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  const round = o.share < 1 ? ` on ${(o.share * 100).toFixed(0)}% of rows` : '';
  return `trial ${o.trial}${round}: ${score(o.mean)} ± ${score(o.sd)}  ${swept}`;
}

/** The sweep as a person reads it: what was run, the top trials, the choice and its change to ml.yaml. */
export function sweepReport(result: SweepResult, top: number): string {
  const s = result.sweep;
  const v = result.validation;
  if (s === undefined) return `validate: ${v.rows} rows, ${v.statistics.successful}/${v.statistics.evaluated} rules hold\n${formatValidation(v)}`;
  const lines: string[] = [];
  const where = s.shard === null ? '' : ` (shard ${s.shard.k} of ${s.shard.n})`;
  lines.push(`sweep ${s.id}${where}: ${s.strategy}, ${s.trials} ${s.trials === 1 ? 'trial' : 'trials'}, ${s.folds}-fold ${s.metric} (${s.lowerIsBetter ? 'lower' : 'higher'} is better), seed ${s.seed}`);
  lines.push(`trained ${s.trained}, found recorded ${s.found}, ${s.trainSeconds.toFixed(1)} s training, ${s.seconds.toFixed(1)} s in all; records in ${s.folder}`);
  if (s.recorded !== undefined && s.recorded.added > 0) lines.push(`${s.recorded.added} trial records from the shards are on bramble/runs (bramble runs ls)`);
  if (s.missing !== null) {
    lines.push(`missing: ${s.missing.trials.length} ${s.missing.trials.length === 1 ? 'trial has' : 'trials have'} no record (${s.missing.trials.join(', ')}); chosen from the ${s.ranked.length} that finished`);
  }
  lines.push('');
  for (const o of s.ranked.slice(0, top)) lines.push(`  ${trialLine(o)}`);
  if (s.ranked.length > top) lines.push(`  … and ${s.ranked.length - top} more`);
  lines.push('');
  if (s.shard !== null) {
    lines.push(`a shard chooses nothing: when every shard has run, bramble sweep --gather with their records in ${s.folder}`);
  } else if (s.best === null) {
    lines.push('no trial could be scored: nothing to choose');
  } else {
    lines.push(`best: trial ${s.best.trial}, ${s.metric} ${score(s.best.mean)} ± ${score(s.best.sd)}`);
    const changes = paramChanges(s.params.base, s.params.best ?? {});
    lines.push(changes.length === 0 ? 'ml.yaml model.params already has it' : 'to use it, in ml.yaml model.params:');
    for (const c of changes) lines.push(`  ${c}`);
  }
  return lines.join('\n');
}

function paramChanges(base: Record<string, unknown>, best: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(best)) {
    if (JSON.stringify(base[key]) !== JSON.stringify(value)) out.push(`${key}: ${JSON.stringify(base[key])} → ${JSON.stringify(value)}`);
  }
  return out;
}
