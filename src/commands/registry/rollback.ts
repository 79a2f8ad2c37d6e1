// bramble rollback: an earlier version assigned to an environment again; history is never rewritten.
import { rollback } from '../../usecases/promote.js';
import { print } from '../command.js';
import { COMMON_HELP, registryCommand, registryPorts, RegistryUsageError } from './common.js';

export const HELP = `bramble rollback — assign an earlier version to an environment again; history is never rewritten

Usage: bramble rollback ENV [--to vX.Y.Z | --to DATE] [--name NAME] [options]

Without --to, the version the environment served before its current one. A DATE (2026-11-01) means the version
that served at the end of that day (UTC); an ISO time (2026-11-01T12:00:00Z) means that moment.
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'rollback',
  help: HELP,
  accepts: ['to', 'name'],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new RegistryUsageError('bramble rollback takes one ENV; see bramble rollback --help');
    const result = await rollback({ dir: values.dir ?? '.', name: values.name, env: positionals[0], to: values.to }, registryPorts(values, io));
    const line = result.unchanged
      ? `${result.env} already serves ${result.name}@${result.version}; nothing to do`
      : `rolled ${result.env} back to ${result.name}@${result.version} (${result.tag}); it served ${result.previous ?? 'nothing'}`;
    print(io, values.json, result, line);
    return 0;
  },
});
