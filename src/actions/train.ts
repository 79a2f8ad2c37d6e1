// The train action: `bramble train` on the runner — validate, fit the features, train, score on the held-out rows,
// and write the hash-sealed artifact for the compare and register steps.
import { workersOption } from '../usecases/options.js';
import { runAction } from './common.js';
import { trainStep } from './steps.js';

await runAction('train', (step) => trainStep(step, workersOption(step.inputs.workers, 'the input workers')));
