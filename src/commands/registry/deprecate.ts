// bramble deprecate: a model deprecated, so that no version of it can be promoted (a name@deprecated#N tag).
import { print } from '../command.js';
import { COMMON_HELP, openRegistry, registryCommand, RegistryUsageError } from './common.js';

export const HELP = `bramble deprecate — deprecate a model: no version of it can be promoted (a name@deprecated#N tag)

Usage: bramble deprecate NAME [options]
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'deprecate',
  help: HELP,
  accepts: [],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new RegistryUsageError('bramble deprecate takes one model NAME');
    const result = await (await openRegistry(values, io)).deprecate(positionals[0]);
    print(io, values.json, result, `deprecated ${result.name} (${result.tag})`);
    return 0;
  },
});
