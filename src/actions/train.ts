// The train action: `bramble train` on the runner — validate, fit the features, train, score on the held-out rows,
// and write the hash-sealed artifact for the compare and register steps.
import { formatValidation } from '../data/validate.js';
import { metricsOf } from '../model/evaluate.js';
import { runPipeline } from '../pipeline/run.js';
import { ActionInputError, repoPath, runAction, StepFailure, validationAnnotations, validationSummary } from './common.js';

await runAction('train', async ({ platform, inputs, versions, output }) => {
  const workers = inputs.workers === '' ? undefined : Number(inputs.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    throw new ActionInputError(`the input workers is ${JSON.stringify(inputs.workers)}; give a whole number of threads ≥ 1, or leave it empty for every core`);
  }
  const run = await runPipeline(inputs.dir, { now: () => performance.now(), versions, workers });
  platform.annotate(validationAnnotations(inputs.dir, run.validation));
  if (!run.artifact || !run.evaluation) {
    await platform.summary(validationSummary(inputs.dir, run.validation, formatValidation(run.validation)));
    output({ 'model-path': '', sha256: '', metrics: '{}', valid: 'false' });
    throw new StepFailure(`${run.validation.file} failed validation, so nothing was trained; see the annotations and the job summary`);
  }
  const metrics = metricsOf(run.evaluation);
  const rows = Object.entries(metrics).map(([metric, value]) => `| ${metric} | ${typeof value === 'number' ? value.toFixed(4) : 'n/a'} |`);
  await platform.summary(
    [`### ${run.config.name}: trained in ${run.seconds.toFixed(1)} s`, '', `Artifact \`${run.artifact.sha256.slice(0, 12)}\`, held-out metrics:`, '', '| metric | value |', '|---|---|', ...rows, ''].join('\n'),
  );
  output({ 'model-path': repoPath(run.artifact.path), sha256: run.artifact.sha256, metrics: JSON.stringify(metrics), valid: 'true' });
});
