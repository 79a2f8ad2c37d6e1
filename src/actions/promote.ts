// The promote action: `bramble promote` / `bramble rollback` on the runner — a GTO assignment tag (name#env#N)
// pushed to the repository. It deploys nothing itself: the tag's own run does (a tag pushed with the default
// GITHUB_TOKEN starts no run, so the pipeline passes an App or personal token here; docs/actions.md).
import { promote, releaseCanary, rollback } from '../usecases/promote.js';
import { ActionInputError, runAction, splitVersion } from './common.js';
import { canarySummary, promoteSummary } from './summaries.js';

await runAction('promote', async ({ platform, inputs, flag, ports, output }) => {
  const { dir, environment: env } = inputs;
  if (!env) throw new ActionInputError('the input environment is empty; name one of the environments in ml.yaml');
  if (!flag('rollback') && !inputs.version) {
    throw new ActionInputError('the input version is empty; give the version to promote (churn@v1.2.0) or rollback');
  }
  // A rollback's version is like `bramble rollback --to`: a version, a date, or (empty) the one served before.
  const result = flag('rollback')
    ? await rollback({ dir, env, to: inputs.version }, ports)
    : await promote({ dir, env, ...splitVersion(inputs.version) }, ports);
  // A merge to the environment's branch may have changed ml.yaml's canary block: its weight reaches the canary's
  // tag here (a new tag, or the canary taken away), and the hosts take it on their next sync.
  const canary = flag('rollback') ? null : await releaseCanary({ dir, env }, ports);
  await platform.summary(promoteSummary(result) + canarySummary(canary, env));
  const changed = String(!result.unchanged);
  output({ version: result.version ?? '', tag: result.tag ?? '', previous: result.previous ?? '', changed });
});
