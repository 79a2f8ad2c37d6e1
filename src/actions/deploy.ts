// The deploy action: `bramble deploy` on the runner that hosts the models — a registered version (named, or the
// one a pushed assignment tag gives its environment) put into service without downtime, recorded as a GitHub
// deployment whose status says how it went.
import { join } from 'node:path';
import { deployVersion } from '../commands/deploy.js';
import { readMlYaml } from '../config/ml-yaml.js';
import { describeError } from '../errors.js';
import { readServeConfig } from '../serve/config.js';
import { checkEnvironment } from '../registry/registry.js';
import { ActionInputError, resolveAssignment, runAction, serveUrl, splitVersion } from './common.js';

await runAction('deploy', async ({ platform, inputs, env, output }) => {
  const config = await readMlYaml(join(inputs.dir, 'ml.yaml'));
  const warn = (m: string): void => platform.info(`warning: ${m}`);
  const target = inputs.tag
    ? await resolveAssignment(inputs.dir, inputs.tag, env, warn)
    : { ...splitVersion(inputs.version, config.name), env: inputs.environment };
  if (!target.version || !target.env) throw new ActionInputError('give the input tag (an assignment tag, name#env#N), or both version and environment');
  // Checked before any Deployment is recorded: an environment ml.yaml does not know must not appear on GitHub.
  checkEnvironment(target.env, Object.keys(config.environments));
  const serve = await readServeConfig(inputs.config);
  const url = inputs.url || serveUrl(serve, target.env, inputs.server);
  // A tag's deployment continues the record its promotion made; a version named directly gets a new one.
  const deployment = inputs.tag
    ? await platform.continueDeployment({ environment: target.env, ref: inputs.tag, description: `${target.name}@${target.version}`, url })
    : await platform.startDeployment({ environment: target.env, ref: platform.context().sha ?? target.version, description: `${target.name}@${target.version}`, url });
  const environments = Object.keys(config.environments);
  const result = await deployVersion({ dir: inputs.dir, ...target, environments, config: serve, server: inputs.server || undefined, env_: env, warn }).catch(async (err: unknown) => {
    await deployment.finish('failure', describeError(err), url);
    throw err;
  });
  await deployment.finish('success', `${result.name}@${result.version} serves ${result.env}`, url);
  const how = result.via === 'files' ? ' (no server answered: it serves it when it starts)' : result.via === 'git' ? ' (the host synced from git: what it serves is what the tags say)' : '';
  await platform.summary(`### Deployed ${result.name}@${result.version} to ${result.env}${how}\n\n${url}\n`);
  output({ version: result.version, url, previous: result.previous?.version ?? '', via: result.via });
});
