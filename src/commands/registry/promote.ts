// bramble promote (also: assign): a registered version assigned to an environment (a name#env#N tag).
import { promote } from '../../usecases/promote.js';
import { print, type Command } from '../command.js';
import { COMMON_HELP, registryCommand, registryPorts, RegistryUsageError, splitRef } from './common.js';

export const HELP = `bramble promote — assign a registered version to an environment (a name#env#N tag)

Usage: bramble promote NAME@vX.Y.Z ENV [options]     (also: bramble assign)

Options:
  --role ROLE        canary or shadow: the version runs beside ENV's main one (a name#ENV-ROLE#N tag); a canary's
                     weight and stickiness come from ml.yaml environments.ENV.canary (docs/serving.md)
${COMMON_HELP}`;

export function promoteCommand(name: 'promote' | 'assign'): Command {
  return registryCommand({
    name,
    help: HELP,
    accepts: ['role'],
    async run({ values, positionals }, io) {
      if (positionals.length !== 2) throw new RegistryUsageError(`bramble ${name} takes NAME@vX.Y.Z ENV, got ${positionals.length === 0 ? 'nothing' : positionals.join(' ')}`);
      const ref = splitRef(positionals[0], name);
      const result = await promote({ dir: values.dir ?? '.', ...ref, env: positionals[1], role: values.role }, registryPorts(values, io));
      const line = result.unchanged
        ? `${result.env} already serves ${ref.name}@${result.version}; nothing to do`
        : `assigned ${ref.name}@${result.version} to ${result.env} (${result.tag})${result.previous ? `; it served ${result.previous}` : ''}`;
      print(io, values.json, result, line);
      return 0;
    },
  });
}

export const command = promoteCommand('promote');
