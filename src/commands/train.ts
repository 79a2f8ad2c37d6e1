// bramble train: validate → train → evaluate; the gates are shown but do not fail it (run and compare do).
import { train } from '../usecases/train.js';
import { UsageError, workersOption } from '../usecases/options.js';
import { cliPorts, defineCommand, print, progressBar } from './command.js';
import { runReport } from './pipeline-text.js';

export const HELP = `bramble train — validate and train the model described by DIR/ml.yaml, and score it on held-out rows

Usage: bramble train [DIR] [--workers N] [--json]

Writes DIR/.bramble/model.json and records the run on the repository's bramble/runs branch (bramble runs ls).
The gates are shown but do not fail it (bramble run and compare do).
Exit codes: 0 ok, 1 validation failed, 2 configuration or data error.
`;

export const command = defineCommand({
  name: 'train',
  help: HELP,
  // --champion is taken only to be refused with the commands that do take it.
  options: { champion: { type: 'string' }, workers: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    if (values.champion) throw new UsageError('bramble train takes no --champion; use bramble run or compare');
    const workers = workersOption(values.workers, '--workers');
    const request = { dir: positionals[0] ?? '.', workers, onProgress: progressBar(io, values.json), record: { command: 'train' } } as const;
    const result = await train(request, cliPorts(io));
    print(io, values.json, result, runReport(result));
    return result.validation.success ? 0 : 1;
  },
});
