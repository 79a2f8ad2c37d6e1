// bramble runs diff A B: what differs between two runs — every metric with B − A, and the parameters, data, source
// and champion that differ (--only-changed: the metrics too only where they differ).
import { print, type CliIo } from '../command.js';
import { readRunRecords } from '../../usecases/runs.js';
import { cellText, diffRuns } from '../../usecases/runs-query.js';
import { findRun } from '../../registry/runs.js';
import { UsageError } from '../../usecases/options.js';
import { formatOf, refuseOptions, renderSheet, runsPorts, signed, type RunsValues } from './common.js';

export async function diff(values: RunsValues, rest: readonly string[], io: CliIo): Promise<number> {
  refuseOptions(values, 'diff', ['fetch', 'only-changed']);
  if (rest.length !== 2) throw new UsageError(`bramble runs diff takes two run ids, A and B, got ${rest.length === 0 ? 'none' : rest.join(' ')}`);
  const { records } = await readRunRecords({ dir: values.dir ?? '.', fetch: values.fetch, remote: values.remote }, runsPorts(io, values));
  const a = findRun(records, rest[0]);
  const b = findRun(records, rest[1]);
  const differences = diffRuns(a, b, values['only-changed'] === true);
  const format = formatOf(values);
  if (format === 'json') {
    print(io, true, { a: a.id, b: b.id, differences }, '');
    return 0;
  }
  if (differences.length === 0) {
    io.out(`${a.id} and ${b.id} do not differ in metrics, parameters, data, source or champion\n`);
    return 0;
  }
  const exact = format === 'csv';
  const header = ['section', 'field', format === 'text' ? `A ${a.id}` : 'a', format === 'text' ? `B ${b.id}` : 'b', 'B − A'];
  const rows = differences.map((d) => [d.section, d.field, cellText(d.a), cellText(d.b), signed(d.delta, exact)]);
  io.out(renderSheet({ header, rows, right: [4] }, format) + '\n');
  return 0;
}
