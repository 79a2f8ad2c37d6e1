// bramble deregister: one version withdrawn (a name@vX.Y.Z! tag); its files stay on the registry branch.
import { REGISTRY } from '../../registry/store.js';
import { print } from '../command.js';
import { COMMON_HELP, openRegistry, registryCommand, RegistryUsageError, splitRef } from './common.js';

export const HELP = `bramble deregister — withdraw one version (a name@vX.Y.Z! tag); its files stay on ${REGISTRY.branch}

Usage: bramble deregister NAME@vX.Y.Z [options]
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'deregister',
  help: HELP,
  accepts: [],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new RegistryUsageError('bramble deregister takes one NAME@vX.Y.Z');
    const { name, version } = splitRef(positionals[0], 'deregister');
    const result = await (await openRegistry(values, io)).deregister(name, version);
    print(io, values.json, result, `deregistered ${result.name}@${result.version} (${result.tag})`);
    return 0;
  },
});
