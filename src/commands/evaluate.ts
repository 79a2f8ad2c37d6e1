// bramble evaluate: a saved model scored on the held-out rows of DIR's data.
import { evaluate } from '../usecases/evaluate.js';
import { UsageError } from '../usecases/options.js';
import { defineCommand, print } from './command.js';
import { evaluateReport } from './pipeline-text.js';

export const HELP = `bramble evaluate — score a saved model on the held-out rows of DIR's data (ml.yaml's split)

Usage: bramble evaluate [DIR] --model FILE [--json]

Exit codes: 0 ok, 1 validation failed, 2 configuration or data error.
`;

export const command = defineCommand({
  name: 'evaluate',
  help: HELP,
  options: { model: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    if (!values.model) throw new UsageError('bramble evaluate needs --model FILE (a model.json); see bramble evaluate --help');
    const result = await evaluate({ dir: positionals[0] ?? '.', model: values.model });
    print(io, values.json, result, evaluateReport(result));
    return result.validation.success ? 0 : 1;
  },
});
