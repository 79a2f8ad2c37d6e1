// bramble reweight: ml.yaml's canary settings for an environment written to its canary tag (or the canary taken
// away when ml.yaml no longer has them), so that a pull request's change reaches the hosts.
import { reweight } from '../../usecases/promote.js';
import { print } from '../command.js';
import { COMMON_HELP, registryCommand, registryPorts, RegistryUsageError } from './common.js';

export const HELP = `bramble reweight — apply ml.yaml's canary weight and stickiness for ENV to its canary tag

Usage: bramble reweight ENV [--name NAME] [options]

Reads environments.ENV.canary in ml.yaml (as merged) and the canary ENV serves by the tags: writes a new
name#ENV-canary#N tag for the same version when the weight or stickiness changed, takes the canary away
(name#ENV-canary!#N) when ml.yaml no longer has a canary block, and does nothing when they agree. The hosts that
follow git take it on their next sync. Run it after merging a pull request that changes the block.
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'reweight',
  help: HELP,
  accepts: ['name'],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new RegistryUsageError('bramble reweight takes one ENV; see bramble reweight --help');
    const result = await reweight({ dir: values.dir ?? '.', name: values.name, env: positionals[0] }, registryPorts(values, io));
    const line =
      result.version === null
        ? `took ${result.name}'s canary away from ${positionals[0]} (${result.tag}): ml.yaml has no canary block; it served ${result.previous}`
        : result.unchanged
          ? `${result.env} already runs ${result.name}@${result.version} as ml.yaml says; nothing to do`
          : `${result.env} runs ${result.name}@${result.version} at ml.yaml's weight now (${result.tag})`;
    print(io, values.json, result, line);
    return 0;
  },
});
