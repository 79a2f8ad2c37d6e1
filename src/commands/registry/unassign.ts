// bramble unassign: an environment's version taken away (a name#env!#N tag).
import { parseRole } from '../../registry/roles.js';
import { print } from '../command.js';
import { COMMON_HELP, openRegistry, readConfig, registryCommand, RegistryUsageError } from './common.js';

export const HELP = `bramble unassign — take an environment's version away (a name#env!#N tag)

Usage: bramble unassign NAME ENV [options]

Options:
  --role ROLE        take ENV's canary or shadow away (a name#ENV-ROLE!#N tag); its main version keeps serving
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'unassign',
  help: HELP,
  accepts: ['role'],
  async run({ values, positionals }, io) {
    if (positionals.length !== 2) throw new RegistryUsageError(`bramble unassign takes NAME ENV, got ${positionals.length === 0 ? 'nothing' : positionals.join(' ')}`);
    const [name, env] = positionals;
    const config = await readConfig(values);
    const role = values.role === undefined ? 'main' : parseRole(values.role, '--role');
    const result = await (await openRegistry(values, io)).unassign(name, env, Object.keys(config.environments), role);
    print(io, values.json, result, `unassigned ${name} from ${result.env} (${result.tag}); it served ${result.previous}`);
    return 0;
  },
});
