// The train action: `bramble train` on the runner — validate, fit the features, train, score on the held-out rows,
// and write the hash-sealed artifact for the compare and register steps.
import { workersOption } from '../usecases/options.js';
import { train } from '../usecases/train.js';
import { repoPath, runAction, validationAnnotations, validationSummary } from './common.js';
import { invalidData, metricsOutput, trainSummary, validationText } from './summaries.js';

await runAction('train', async ({ platform, inputs, ports, output }) => {
  const workers = workersOption(inputs.workers, 'the input workers');
  const run = await train({ dir: inputs.dir, workers }, ports);
  platform.annotate(validationAnnotations(inputs.dir, run.validation));
  if (!run.artifact || !run.evaluation) {
    await platform.summary(validationSummary(inputs.dir, run.validation, validationText(run)));
    output({ 'model-path': '', sha256: '', metrics: '{}', valid: 'false' });
    throw invalidData(run.validation, 'trained');
  }
  await platform.summary(trainSummary(run.config.name, run.seconds, run.artifact.sha256, run.evaluation));
  const metrics = metricsOutput(run.evaluation);
  output({ 'model-path': repoPath(run.artifact.path), sha256: run.artifact.sha256, metrics, valid: 'true' });
});
