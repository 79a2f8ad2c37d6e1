// The validate action: ml.yaml and the data checked against its schema, every problem annotated, and which
// environment this run is for (the plan that the pipeline's later jobs bind to).
import { runAction } from './common.js';
import { validateStep } from './steps.js';

await runAction('validate', validateStep);
