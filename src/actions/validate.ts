// The validate action: ml.yaml and the data checked against its schema, every problem annotated, and which
// environment this run is for (the plan that the pipeline's later jobs bind to).
import { join } from 'node:path';
import { validateRepo } from '../commands/validate.js';
import { readMlYaml } from '../config/ml-yaml.js';
import { formatDrift } from '../data/drift.js';
import { formatValidation } from '../data/validate.js';
import { runAction, StepFailure, targetOf, validationAnnotations, validationSummary } from './common.js';

await runAction('validate', async ({ platform, inputs, output }) => {
  // The target first: a wrong environment or tag fails before a large data file is read.
  const target = targetOf(await readMlYaml(join(inputs.dir, 'ml.yaml')), platform.context(), inputs.environment);
  const { config, validation, drift } = await validateRepo(inputs.dir, { reference: inputs.reference || undefined });
  platform.annotate(validationAnnotations(inputs.dir, validation));
  // Drift is reported, never a failure: whether it should block is the monitor's decision.
  const text = drift ? `${formatValidation(validation)}\n\n${formatDrift(drift)}` : formatValidation(validation);
  await platform.summary(validationSummary(inputs.dir, validation, text));
  output({
    valid: String(validation.success),
    rows: String(validation.rows),
    failed: String(validation.statistics.failed),
    name: config.name,
    environment: target.environment,
    'champion-env': target.championEnv,
  });
  if (!validation.success) throw new StepFailure(`${validation.file}: ${validation.statistics.failed} of ${validation.statistics.evaluated} schema checks failed; see the annotations and the job summary`);
});
