// bramble run: validate → train → evaluate → compare against the champion, with the gates deciding the exit code.
import { train } from '../usecases/train.js';
import { workersOption } from '../usecases/options.js';
import { cliPorts, defineCommand, print, progressBar } from './command.js';
import { runReport } from './pipeline-text.js';

export const HELP = `bramble run — validate, train, evaluate and compare the model described by DIR/ml.yaml

Usage: bramble run [DIR] [options]

Options:
  --champion MODEL  the model to gate against, scored on the same held-out rows: a model.json, a registered
                    version (churn@v1.2.0) or an environment (prod). Default: what ml.yaml's compare.against
                    serves, from the registry (fetched first when the repository has a remote); none if nothing
  --workers N       threads to train on (default: every core); the model does not depend on it
  --json            print the result as JSON

Writes DIR/.bramble/model.json and records the run on the repository's bramble/runs branch (bramble runs ls).
Exit codes: 0 ok, 1 validation or a gate failed, 2 configuration or data error.
`;

export const command = defineCommand({
  name: 'run',
  help: HELP,
  options: { champion: { type: 'string' }, workers: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    const workers = workersOption(values.workers, '--workers');
    const request = { dir: positionals[0] ?? '.', champion: values.champion, findChampion: true, workers, onProgress: progressBar(io, values.json), record: { command: 'run' } } as const;
    const result = await train(request, cliPorts(io));
    print(io, values.json, result, runReport(result));
    return result.validation.success && (result.gates?.passed ?? false) ? 0 : 1;
  },
});
