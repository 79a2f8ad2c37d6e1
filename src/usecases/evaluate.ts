// evaluate: a saved model scored on the held-out rows of the model folder's data that it did not train on.
import { evaluateModel, type EvaluateResult } from '../pipeline/run.js';

export interface EvaluateOptions {
  dir: string;
  /** The model file (model.json). */
  model: string;
}

/** The evaluate use-case. */
export function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  return evaluateModel(options.dir, options.model);
}
