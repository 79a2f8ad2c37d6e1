// bramble runs show ID: one run's record — what it trained, scored, was compared with, and how long each step took.
import { print, type CliIo } from '../command.js';
import { showRun } from '../../usecases/runs.js';
import { cellText, championDelta, paramOf, runColumns } from '../../usecases/runs-query.js';
import type { RunRecord } from '../../registry/runs.js';
import { UsageError } from '../../usecases/options.js';
import { formatOf, gateMark, number, refuseOptions, renderSheet, runsPorts, signed, type RunsValues } from './common.js';

export async function show(values: RunsValues, rest: readonly string[], io: CliIo): Promise<number> {
  refuseOptions(values, 'show', ['fetch']);
  if (rest.length !== 1) throw new UsageError(`bramble runs show takes one run id (bramble runs ls lists them), got ${rest.length === 0 ? 'none' : rest.join(' ')}`);
  const record = await showRun({ dir: values.dir ?? '.', fetch: values.fetch, remote: values.remote, id: rest[0] }, runsPorts(io, values));
  const format = formatOf(values);
  if (format === 'json') print(io, true, record, '');
  else if (format === 'text') io.out(recordText(record) + '\n');
  else io.out(renderSheet({ header: ['field', 'value'], rows: recordFields(record) }, format) + '\n');
  return 0;
}

const seconds = (s: number | null): string => (s === null ? '–' : `${s.toFixed(2)} s`);

/** A record as field and value pairs, in the order people read it. */
export function recordFields(r: RunRecord): string[][] {
  const rows: string[][] = [
    ['run', r.id],
    ['at', r.at],
    ['command', `bramble ${r.command}`],
    ['model', `${r.name} (${r.task})`],
    ['branch', r.source.branch ?? '(detached)'],
    ['commit', `${r.source.commit ?? '(none)'}${r.source.dirty ? ' with uncommitted changes' : ''}`],
    ['work tree', `sha256:${r.source.workTree}`],
    ['data', `${r.data.path} sha256:${r.data.sha256} (${r.data.rows} rows)`],
  ];
  const columns = runColumns([r], false);
  for (const key of columns.params) rows.push([`params.${key}`, cellText(paramOf(r, key))]);
  for (const metric of columns.metrics) {
    const delta = championDelta(r, metric);
    rows.push([`metrics.${metric}`, `${number(r.metrics[metric] ?? null, false)}${delta === null ? '' : ` (${signed(delta, false)} vs the champion)`}`]);
  }
  const c = r.champion;
  rows.push(['champion', c === null ? '–' : `${c.label} (${c.via}; sha256:${c.sha256.slice(0, 12)}…; ${c.rows} rows compared)`]);
  rows.push(['gates', gateMark(r)]);
  const s = r.steps;
  rows.push(['steps', `validate ${seconds(s.validate)} · features ${seconds(s.features)} · train ${seconds(s.train)} · evaluate ${seconds(s.evaluate)} · compare ${seconds(s.compare)} · write ${seconds(s.write)} · total ${seconds(s.total)}`]);
  const m = r.machine;
  rows.push(['machine', `${m.ci === null ? 'local' : `${m.ci}${m.runner ? ` runner ${m.runner}` : ''}`}, ${m.cores} cores, Node ${m.node}, bramble ${m.bramble}`]);
  const t = r.sweep;
  if (t !== undefined) {
    const folds = t.folds.map((v) => number(v, false)).join(', ');
    rows.push(['sweep', `${t.id} trial ${t.trial} of ${t.trials} (${t.strategy}${t.rung > 0 || t.share < 1 ? `, round ${t.rung + 1} on ${(t.share * 100).toFixed(0)}% of the rows` : ''}${t.shard ? `, shard ${t.shard}` : ''})`]);
    rows.push(['folds', `${t.metric} ${number(t.mean, false)} ± ${number(t.sd, false)} over ${t.folds.length} folds: ${folds}`]);
  }
  rows.push(['artifact', r.artifact === null ? '– (a sweep trial keeps no model)' : `sha256:${r.artifact.sha256} (${r.artifact.bytes} bytes)`]);
  return rows;
}

export function recordText(r: RunRecord): string {
  const rows = recordFields(r);
  const width = rows.reduce((w, row) => Math.max(w, row[0].length), 0);
  return rows.map(([field, value]) => `${field.padEnd(width)}  ${value}`).join('\n');
}
