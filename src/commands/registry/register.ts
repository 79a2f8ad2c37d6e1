// bramble register: the trained model registered as a new version (a name@vX.Y.Z tag on its source commit).
import { REGISTRY } from '../../registry/store.js';
import { register } from '../../usecases/register.js';
import { workersOption } from '../../usecases/options.js';
import { print } from '../command.js';
import { COMMON_HELP, registryCommand, registryPorts, RegistryUsageError, short } from './common.js';

export const HELP = `bramble register — register the trained model as a new version (a name@vX.Y.Z tag on its source commit)

Usage: bramble register [--model FILE] [--version vX.Y.Z | --bump major|minor|patch] [options]

The artifact (default DIR/.bramble/model.json, trained first when it is missing) must come from committed source.
Its files go to the ${REGISTRY.branch} branch under NAME/vX.Y.Z/: model.json, card.md, report.md, metrics.json,
validation.json. The version bumps major when the signature changed, minor when the features or parameters did,
patch otherwise. An artifact registered before (the same sha256) is not registered again: that version is reused.
${COMMON_HELP}`;

const LABELS = { model: '--model FILE', version: '--version', bump: '--bump' } as const;

export const command = registryCommand({
  name: 'register',
  help: HELP,
  accepts: ['model', 'version', 'bump', 'workers'],
  async run({ values, positionals }, io) {
    if (positionals.length > 0) throw new RegistryUsageError(`bramble register takes no arguments, got ${positionals.join(' ')}; give the folder with --dir`);
    const dir = values.dir ?? '.';
    const workers = workersOption(values.workers, '--workers');
    const request = { dir, model: values.model, version: values.version, bump: values.bump, workers, trainWhenMissing: true, labels: LABELS };
    const { registered: r, pushedTo } = await register(request, registryPorts(values, io));
    const how = r.bump === 'first' ? 'first version' : `${r.bump} bump`;
    const line = r.reused
      ? `${r.name}@${r.version} already holds this artifact (${short(r.artifact)}); reused it, nothing registered`
      : `registered ${r.name}@${r.version} on ${short(r.commit)} (artifact ${short(r.artifact)}, ${how})${pushedTo ? `; pushed to ${pushedTo}` : ''}`;
    print(io, values.json, r, line);
    return 0;
  },
});
