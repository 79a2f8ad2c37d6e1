// bramble predict: every row of a file scored by a model, written as CSV (or JSON Lines) to standard output.
import { UsageError } from '../usecases/options.js';
import { predictFile } from '../usecases/predict.js';
import { closedEarly, defineCommand } from './command.js';

export const HELP = `bramble predict — score every row of a file with a model and write the predictions as CSV to stdout

Usage: bramble predict --model FILE [--id COLUMN] [--json] [--raw] DATA.csv

DATA.csv needs every column the model reads (values may be blank: missing); other columns are ignored.
The output has the id column, then prediction, then for classification one p_<class> column per class.

Options:
  --model FILE   the model.json (bramble run writes DIR/.bramble/model.json)
  --id COLUMN    the column that identifies each row (default: the model's data.id, when the file has it)
  --json         JSON Lines instead of CSV: one {<id>, prediction, probabilities} object per row
  --raw          write text cells as they are: without it, a cell that begins with =, +, - or @ (and is not a
                 number) gets a leading ' so that a spreadsheet does not run it as a formula
`;

export const command = defineCommand({
  name: 'predict',
  help: HELP,
  options: { model: { type: 'string' }, id: { type: 'string' }, json: { type: 'boolean' }, raw: { type: 'boolean' } },
  positionals: { max: Infinity, what: 'data file' },
  async run({ values, positionals }, io) {
    if (!values.model) throw new UsageError('bramble predict needs --model FILE (a model.json); see bramble predict --help');
    if (positionals.length !== 1) {
      const got = positionals.length === 0 ? 'none' : `${positionals.length}: ${positionals.join(' ')}`;
      throw new UsageError(`bramble predict takes one data file, got ${got}; see bramble predict --help`);
    }
    const request = { model: values.model, data: positionals[0], id: values.id, format: values.json ? 'jsonl' : 'csv', raw: values.raw } as const;
    try {
      // Each piece waits until it is flushed, so a slow reader of the output holds back the scoring, not memory.
      await predictFile(request, { write: (text) => io.write(text) });
    } catch (err) {
      if (closedEarly(err)) return 0;
      throw err;
    }
    return 0;
  },
});
