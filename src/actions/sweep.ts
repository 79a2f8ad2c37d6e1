// The sweep action: one shard of ml.yaml's sweep on one runner of the matrix (shard: K/N), or the gather that
// chooses among what the shards finished (gather: true) and writes the choice into ml.yaml's model.params (apply).
import { workersOption } from '../usecases/options.js';
import { runAction } from './common.js';
import { sweepStep } from './steps.js';

await runAction('sweep', (step) =>
  sweepStep(step, {
    gather: step.flag('gather'),
    apply: step.flag('apply'),
    workers: workersOption(step.inputs.workers, 'the input workers'),
  }),
);
