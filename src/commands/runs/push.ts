// bramble runs push [--remote NAME]: the local runs to the remote's bramble/runs — added on top of what it has,
// pushed as a fast-forward; refused (exit 2) when the remote's branch was rewritten by hand.
import { print, type CliIo } from '../command.js';
import { pushRuns } from '../../usecases/runs.js';
import { UsageError } from '../../usecases/options.js';
import { formatOf, refuseOptions, runsPorts, type RunsValues } from './common.js';

export async function push(values: RunsValues, rest: readonly string[], io: CliIo): Promise<number> {
  refuseOptions(values, 'push', []);
  if (rest.length > 0) throw new UsageError(`bramble runs push takes no arguments (the remote is --remote NAME), got ${rest.join(' ')}`);
  const format = formatOf(values);
  if (format === 'csv' || format === 'md') throw new UsageError('bramble runs push prints text or --json; --csv and --md are for ls, show, diff and best');
  const result = await pushRuns({ dir: values.dir ?? '.', remote: values.remote }, runsPorts(io, values));
  if (format === 'json') print(io, true, result, '');
  return 0;
}
