// The register action: `bramble register` on the runner — the trained artifact becomes a version (a name@vX.Y.Z
// tag on its source commit, its card, report, metrics and validation on bramble/registry), or the version that
// already holds the same artifact is reused.
import { readFile } from 'node:fs/promises';
import { readAndValidate } from '../pipeline/run.js';
import { registrationFiles } from '../registry/card.js';
import { Registry, type Bump } from '../registry/registry.js';
import { formatTag } from '../registry/tags.js';
import { ActionInputError, defaultArtifact, runAction } from './common.js';

await runAction('register', async ({ platform, inputs, env, output }) => {
  if (inputs.bump && !['major', 'minor', 'patch'].includes(inputs.bump)) throw new ActionInputError(`the input bump is ${JSON.stringify(inputs.bump)}; give major, minor or patch, or leave it empty`);
  const file = inputs.model || defaultArtifact(inputs.dir);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new ActionInputError(`the model ${file} cannot be read; run the train action first, or give the input model`, { file });
  });
  const { config, validation } = await readAndValidate(inputs.dir);
  const registry = await Registry.open({ dir: inputs.dir, env, warn: (m) => platform.info(`warning: ${m}`) });
  const result = await registry.register(text, {
    file,
    version: inputs.version || undefined,
    bump: (inputs.bump || undefined) as Bump | undefined,
    files: (version, artifact) => registrationFiles({ artifact, version, config, validation }),
  });
  const tag = formatTag({ kind: 'register', name: result.name, version: result.version, counter: null });
  await platform.summary(`### ${result.reused ? `Reused ${tag}: it already holds this artifact` : `Registered ${tag}`} (\`${result.artifact.slice(0, 12)}\`, commit \`${result.commit.slice(0, 7)}\`)\n`);
  output({ version: result.version, reused: String(result.reused), tag });
});
