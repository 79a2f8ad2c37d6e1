// The register action: `bramble register` on the runner — the trained artifact becomes a version (a name@vX.Y.Z
// tag on its source commit, its card, report, metrics and validation on bramble/registry), or the version that
// already holds the same artifact is reused.
import { register } from '../usecases/register.js';
import { runAction } from './common.js';
import { registerSummary } from './summaries.js';

const LABELS = { model: 'the input model', version: 'the input version', bump: 'the input bump' } as const;

await runAction('register', async ({ platform, inputs, ports, output }) => {
  const { dir, model, version, bump } = inputs;
  const { registered, tag } = await register({ dir, model, version, bump, labels: LABELS }, ports);
  await platform.summary(registerSummary(registered, tag));
  output({ version: registered.version, reused: String(registered.reused), tag });
});
