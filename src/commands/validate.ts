// bramble validate: DIR/ml.yaml's data checked against its schema, and with --reference compared for drift.
import { formatDrift } from '../data/drift.js';
import { formatValidation } from '../data/validate.js';
import { validate } from '../usecases/validate.js';
import { defineCommand } from './command.js';

export const HELP = `bramble validate — check the data named by DIR/ml.yaml (data.train) against its schema

Usage: bramble validate [DIR] [options]

Every rule of ml.yaml's schema is checked, and each one is listed with the rows that break it.

Options:
  --reference FILE  a model.json whose training-data profile the data is compared with, column by column, for drift
  --json            print the result as JSON: the validation (schemas/validation.schema.json), or with
                    --reference { "validation": …, "drift": … }

Exit codes: 0 valid, 1 a rule failed (drift alone does not fail), 2 usage, configuration or data error.
`;

export const command = defineCommand({
  name: 'validate',
  help: HELP,
  options: { reference: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    const result = await validate({ dir: positionals[0] ?? '.', reference: values.reference, env: io.env });
    if (values.json) {
      const body = result.drift === undefined ? result.validation : { validation: result.validation, drift: result.drift };
      io.out(JSON.stringify(body, null, 2) + '\n');
    } else {
      io.out(formatValidation(result.validation) + (result.drift === undefined ? '' : '\n' + formatDrift(result.drift)));
    }
    return result.validation.success ? 0 : 1;
  },
});
