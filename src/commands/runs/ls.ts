// bramble runs ls: the recorded runs, newest first (or best first with --sort METRIC), a page at a time, grouped by
// branch and commit like `dvc exp show`, with deltas against the champion each run was compared with.
import { print, type CliIo } from '../command.js';
import { readRunRecords } from '../../usecases/runs.js';
import { checkMetric, groupRuns, pageOf, runColumns, sortByMetric } from '../../usecases/runs-query.js';
import { RUNS } from '../../registry/runs.js';
import { UsageError } from '../../usecases/options.js';
import { countOption, formatOf, refuseOptions, renderSheet, runsPorts, runsSheet, shortSha, type RunsValues } from './common.js';

export const LS = { limit: 50 } as const;

export async function ls(values: RunsValues, rest: readonly string[], io: CliIo): Promise<number> {
  refuseOptions(values, 'ls', ['fetch', 'sort', 'only-changed', 'limit', 'offset']);
  if (rest.length > 0) throw new UsageError(`bramble runs ls takes no arguments, got ${rest.join(' ')}`);
  const format = formatOf(values);
  const limit = countOption(values.limit, 'limit', LS.limit, 1);
  const offset = countOption(values.offset, 'offset', 0, 0);
  // Newest first needs only the newest months; a sort by a metric needs every run.
  const enough = values.sort === undefined ? offset + limit + 1 : undefined;
  const read = await readRunRecords({ dir: values.dir ?? '.', fetch: values.fetch, remote: values.remote, enough }, runsPorts(io, values));
  const ordered = values.sort === undefined ? read.records : sortByMetric(read.records, checkMetric(values.sort, read.records, '--sort'));
  const { items, next } = pageOf(ordered, offset, limit, read.complete);
  const total = read.complete ? ordered.length : null;
  if (format === 'json') {
    print(io, true, { format: 'bramble-runs', version: 1, offset, limit, total, next, sort: values.sort ?? null, runs: items, skipped: read.skipped }, '');
    return 0;
  }
  if (items.length === 0) {
    io.out(offset > 0 && ordered.length > 0 ? `no runs past --offset ${offset} (there are ${ordered.length})\n` : `no runs recorded on ${RUNS.branch} yet; bramble run and bramble train record one each\n`);
    return 0;
  }
  const columns = runColumns(items, values['only-changed'] === true);
  if (format === 'csv') {
    io.out(renderSheet(runsSheet(items, columns, 'csv'), 'csv') + '\n');
    return 0;
  }
  // Groups by branch and commit: with --sort the page stays in metric order and a group is a run of rows.
  const groups: { title: string; start: number }[] = [];
  const sorted = values.sort === undefined ? groupRuns(items).flatMap((g) => g.runs) : items;
  let last = '';
  sorted.forEach((r, i) => {
    const title = `${r.source.branch ?? '(detached)'} @ ${shortSha(r.source.commit)}${r.source.dirty ? ' (uncommitted changes)' : ''}`;
    if (title !== last) groups.push({ title, start: i });
    last = title;
  });
  const sheet = runsSheet(sorted, columns, format, groups);
  const shown = `runs ${offset + 1}–${offset + items.length}${total === null ? '' : ` of ${total}`}, ${values.sort === undefined ? 'newest first' : `best ${values.sort} first`}`;
  const more = next === null ? '' : `; next page: bramble runs ls --offset ${next}${values.limit ? ` --limit ${limit}` : ''}${values.sort ? ` --sort ${values.sort}` : ''}`;
  io.out(`${renderSheet(sheet, format)}\n\n${format === 'md' ? `_${shown}${more}_` : shown + more}\n`);
  return 0;
}
