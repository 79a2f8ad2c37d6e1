// The promote action: `bramble promote` / `bramble rollback` on the runner — a GTO assignment tag (name#env#N)
// pushed to the repository. It deploys nothing itself: the tag's own run does (a tag pushed with the default
// GITHUB_TOKEN starts no run, so the pipeline passes an App or personal token here; docs/actions.md).
import { join } from 'node:path';
import { readMlYaml } from '../config/ml-yaml.js';
import { checkEnvironment, Registry } from '../registry/registry.js';
import { ActionInputError, requireApproval, runAction, splitVersion } from './common.js';

await runAction('promote', async ({ platform, inputs, flag, env, output }) => {
  if (!inputs.environment) throw new ActionInputError('the input environment is empty; name one of the environments in ml.yaml');
  const file = join(inputs.dir, 'ml.yaml');
  const config = await readMlYaml(file);
  const environments = Object.keys(config.environments);
  checkEnvironment(inputs.environment, environments);
  // Before the registry is opened: a promotion nobody must approve is refused with nothing fetched or tagged.
  await requireApproval(platform, config, file, inputs.environment);
  const registry = await Registry.open({ dir: inputs.dir, env, warn: (m) => platform.info(`warning: ${m}`) });
  let result;
  if (flag('rollback')) {
    // Like `bramble rollback --to`: a version, a date, or (empty) the version served before the current one.
    const to = inputs.version === '' ? {} : /^v?\d+\.\d+\.\d+/.test(inputs.version) ? { version: inputs.version } : { date: inputs.version };
    result = await registry.rollback(config.name, inputs.environment, environments, to);
  } else {
    if (!inputs.version) throw new ActionInputError(`the input version is empty; give the version to promote, e.g. ${config.name}@v1.2.0, or set rollback`);
    const { name, version } = splitVersion(inputs.version, config.name);
    result = await registry.assign(name, version, inputs.environment, environments);
  }
  const line = result.unchanged
    ? `${result.env} already has ${result.name}@${result.version}; no tag written`
    : `assigned ${result.name}@${result.version} to ${result.env} (${result.tag})${result.previous ? `; it had ${result.previous}` : ''}`;
  // The promotion is recorded as a Deployment of the tag, in progress until the deploy run the tag starts (or the
  // deploy step after this one) continues it to success or failure.
  if (!result.unchanged && result.tag && result.version) {
    await platform.startDeployment({ environment: result.env, ref: result.tag, description: `${result.name}@${result.version} assigned by ${result.tag}; deploying` });
  }
  await platform.summary(`### ${line}\n`);
  output({ version: result.version ?? '', tag: result.tag ?? '', previous: result.previous ?? '', changed: String(!result.unchanged) });
});
