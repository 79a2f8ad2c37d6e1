// The deploy action: `bramble deploy` on the runner that hosts the models — a registered version (named, or the
// one a pushed assignment tag gives its environment) put into service without downtime, recorded as a GitHub
// deployment whose status says how it went.
import { deploy } from '../usecases/deploy.js';
import { runAction, splitVersion } from './common.js';
import { deploySummary } from './summaries.js';

await runAction('deploy', async ({ platform, inputs, ports, output }) => {
  const { dir, tag, environment: env, config, server, url } = inputs;
  const named = tag || !inputs.version ? {} : splitVersion(inputs.version);
  const { outcome, url: shown } = await deploy({ dir, tag, env, config, server, url, ...named }, ports);
  await platform.summary(deploySummary(outcome, shown));
  output({ version: outcome.version, url: shown, previous: outcome.previous?.version ?? '', via: outcome.via });
});
