// bramble forest train: a random forest trained on a data file and scored on a held-out split, without an ml.yaml.
import { writeFileAtomic } from '../fs/atomic.js';
import { UsageError, workersOption } from '../usecases/options.js';
import { trainForestFromCsv, type TrainForestResult } from '../usecases/train-forest.js';
import { checkOutFile, defineCommand, numberOption, progressBar, type Command } from './command.js';

export const HELP = `bramble forest train — train a random forest on a CSV file and score it on a held-out split

Usage: bramble forest train --data FILE --target COLUMN [options]

Options:
  --data FILE          the CSV file (header row; text columns are one-hot encoded; blank or NA is missing)
  --target COLUMN      the column to predict
  --drop A,B           columns that are not features (ids)
  --task TASK          classification (default) or regression
  --trees N            number of trees (default 100)
  --max-depth N        the deepest a tree may grow (default: no limit)
  --min-samples-leaf N rows a leaf must hold at least (default 1)
  --max-features F     sqrt, log2, all, a fraction or a count (default sqrt; all for regression)
  --seed N             the forest's seed (default 0); the same seed gives the same model, byte for byte
  --test SHARE         the held-out share (default 0.25), split with --split-seed (default 0)
  --workers N          threads to train on (default: every core); the model does not depend on it
  --out FILE           write the model as JSON
  --json               print the result as JSON
`;

const MAX_FEATURES = ['sqrt', 'log2', 'all'] as const;
const isNamedMaxFeatures = (text: string): text is (typeof MAX_FEATURES)[number] => (MAX_FEATURES as readonly string[]).includes(text);

const train = defineCommand({
  name: 'forest train',
  help: HELP,
  options: {
    data: { type: 'string' },
    target: { type: 'string' },
    drop: { type: 'string' },
    task: { type: 'string' },
    trees: { type: 'string' },
    'max-depth': { type: 'string' },
    'min-samples-leaf': { type: 'string' },
    'max-features': { type: 'string' },
    seed: { type: 'string' },
    test: { type: 'string' },
    'split-seed': { type: 'string' },
    workers: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    if (!values.data) throw new UsageError('bramble forest train needs --data FILE (a CSV file); see bramble forest train --help');
    if (!values.target) throw new UsageError('bramble forest train needs --target COLUMN; see bramble forest train --help');
    const task = values.task ?? 'classification';
    if (task !== 'classification' && task !== 'regression') throw new UsageError(`--task is ${JSON.stringify(task)}; use classification or regression`);
    const maxFeatures = values['max-features'];
    const testShare = numberOption('test', values.test) ?? 0.25;
    if (!(testShare > 0 && testShare < 1)) throw new UsageError(`--test is ${testShare}; give a share between 0 and 1, such as 0.25`);
    if (values.out) checkOutFile('out', values.out);
    const forest = {
      trees: numberOption('trees', values.trees),
      maxDepth: numberOption('max-depth', values['max-depth']),
      minSamplesLeaf: numberOption('min-samples-leaf', values['min-samples-leaf']),
      maxFeatures: maxFeatures === undefined || isNamedMaxFeatures(maxFeatures) ? maxFeatures : numberOption('max-features', maxFeatures),
      seed: numberOption('seed', values.seed),
    };
    const drop = values.drop ? values.drop.split(',').map((s) => s.trim()) : [];
    const splitSeed = numberOption('split-seed', values['split-seed']) ?? 0;
    const workers = workersOption(values.workers, '--workers');
    const request = { data: values.data, target: values.target, drop, task, forest, testShare, splitSeed, workers } as const;
    const result = await trainForestFromCsv(request, { now: () => performance.now(), onProgress: progressBar(io, values.json) });
    if (values.out) await writeFileAtomic(values.out, JSON.stringify(result.model));
    if (values.json) {
      const { model: _model, ...rest } = result;
      io.out(JSON.stringify({ ...rest, out: values.out ?? null }, null, 2) + '\n');
    } else {
      io.out(report(result) + (values.out ? `\nmodel written to ${values.out}` : '') + '\n');
    }
    return 0;
  },
});

/** `bramble forest train`; `bramble forest` alone prints its help. */
export const command: Command = {
  name: 'forest',
  help: HELP,
  main(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'train') return train.main(rest, io);
    io.out(HELP);
    return Promise.resolve(sub === undefined || sub === '--help' ? 0 : 2);
  },
};

function report(result: TrainForestResult): string {
  const score = result.metric === 'accuracy' ? `accuracy ${result.heldOut.toFixed(4)}` : `R² ${result.heldOut.toFixed(4)}`;
  const lines = [
    `${result.data}: ${result.rows} rows, ${result.features} features (${result.trainRows} to train, ${result.testRows} held out)`,
    `trained ${result.model.params.trees} trees in ${result.seconds.toFixed(2)} s`,
    `held-out ${score}; out-of-bag ${result.oobScore === null ? '–' : result.oobScore.toFixed(4)}`,
    'most important features:',
    ...result.topFeatures.map((f) => `  ${f.importance.toFixed(3)}  ${f.name}`),
  ];
  return lines.join('\n');
}
