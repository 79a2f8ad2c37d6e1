// bramble runs best METRIC: the run with the best value of a metric (roc_auc highest, rmse lowest; the newest of
// equals), shown as `runs show` shows a run.
import { print, type CliIo } from '../command.js';
import { readRunRecords } from '../../usecases/runs.js';
import { bestRun, checkMetric, metricOf, runColumns } from '../../usecases/runs-query.js';
import { RUNS } from '../../registry/runs.js';
import { UsageError } from '../../usecases/options.js';
import { formatOf, refuseOptions, renderSheet, runsPorts, runsSheet, type RunsValues } from './common.js';
import { recordText } from './show.js';

export async function best(values: RunsValues, rest: readonly string[], io: CliIo): Promise<number> {
  refuseOptions(values, 'best', ['fetch']);
  if (rest.length !== 1) throw new UsageError(`bramble runs best takes one metric, e.g. bramble runs best roc_auc, got ${rest.length === 0 ? 'none' : rest.join(' ')}`);
  const { records } = await readRunRecords({ dir: values.dir ?? '.', fetch: values.fetch, remote: values.remote }, runsPorts(io, values));
  const metric = checkMetric(rest[0], records, 'bramble runs best');
  const run = bestRun(records, metric);
  const format = formatOf(values);
  if (format === 'json') {
    print(io, true, { metric, value: run === null ? null : metricOf(run, metric), run }, '');
    return 0;
  }
  if (run === null) {
    io.out(`no run on ${RUNS.branch} has a value of ${metric}\n`);
    return 0;
  }
  if (format === 'text') io.out(`best ${metric}: ${metricOf(run, metric)} (of ${records.length} runs)\n${recordText(run)}\n`);
  else io.out(renderSheet(runsSheet([run], runColumns([run], false), format), format) + '\n');
  return 0;
}
