// The validate action: ml.yaml and the data checked against its schema, every problem annotated, and which
// environment this run is for (the plan that the pipeline's later jobs bind to).
import { validate } from '../usecases/validate.js';
import { runAction, validationAnnotations, validationSummary } from './common.js';
import { invalidData, validationText } from './summaries.js';

await runAction('validate', async ({ platform, inputs, output }) => {
  const { dir } = inputs;
  const request = { dir, reference: inputs.reference || undefined, environment: inputs.environment };
  const result = await validate({ ...request, event: platform.context() });
  const { config, validation, target } = result;
  platform.annotate(validationAnnotations(dir, validation));
  // Drift is reported, never a failure: whether it should block is the monitor's decision.
  await platform.summary(validationSummary(dir, validation, validationText(result)));
  output({
    valid: String(validation.success),
    rows: String(validation.rows),
    failed: String(validation.statistics.failed),
    name: config.name,
    environment: target?.environment ?? '',
    'champion-env': target?.championEnv ?? '',
  });
  if (!validation.success) throw invalidData(validation);
});
