#!/usr/bin/env node
// The `bramble` command: parses the command line, calls the engine, prints, and sets the exit code. The only
// file of the CLI that touches process and console.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { BrambleError, describeError, EXIT, exitCodeOf } from './errors.js';
import type { TrainForestResult } from './usecases/train-forest.js';
import type { RunResult } from './pipeline/run.js';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The engine, loaded when a command first needs it (see cli-engine.ts). */
const engine = () => import('./cli-engine.js');
/** The registry's commands live in their own module, loaded only for them. */
const REGISTRY_COMMANDS = ['register', 'promote', 'assign', 'unassign', 'deprecate', 'deregister', 'rollback', 'which', 'registry', 'lineage', 'reproduce'];

const HELP = `bramble — GitOps machine learning: validate, train, compare, register and deploy models from git

Usage:
  bramble run [DIR] [--champion MODEL] [--json]                validate → train → evaluate → compare; writes DIR/.bramble/model.json
  bramble train [DIR] [--json]                                 validate → train → evaluate; writes DIR/.bramble/model.json (gates do not fail it)
  bramble evaluate [DIR] --model FILE [--json]                 score a saved model on the held-out rows of DIR's data
  bramble compare [DIR] --candidate FILE --champion MODEL      score two models on the same held-out rows; apply the gates
  bramble validate [DIR] [--reference FILE] [--json]           check DIR/ml.yaml's data against its schema (and for drift)
  bramble predict --model FILE [--id COLUMN] DATA.csv          write predictions for every row as CSV
  bramble register [--model FILE] [--version V | --bump B]     register the trained model as a new version (git tags)
  bramble promote NAME@vX.Y.Z ENV                              assign a version to an environment (alias: assign)
  bramble unassign NAME ENV | deprecate NAME | deregister NAME@vX.Y.Z
  bramble rollback ENV [--to vX.Y.Z | --to DATE]               assign an earlier version again
  bramble which ENV [--at DATE]                                the version an environment serves (or served then)
  bramble registry ls | show NAME[@V] | history [NAME]         list the registry
  bramble lineage NAME@vX.Y.Z                                  what made a version, and where it served
  bramble reproduce NAME@vX.Y.Z                                train a version again from its commit; identical or not
  bramble serve --config serve.json                            serve every environment's model (MLflow and Open Inference v2)
  bramble deploy NAME@vX.Y.Z --env ENV [--config serve.json]   put a registered version into service, without downtime
  bramble forest train --data FILE --target COLUMN [options]   train a random forest on a CSV file
  bramble --version
  bramble --help

Exit codes: 0 ok, 1 a gate or validation failed, 2 usage, configuration or data error, 3 internal error.
`;

const FOREST_TRAIN_HELP = `bramble forest train — train a random forest on a CSV file and score it on a held-out split

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

import { UsageError } from './usecases/options.js';

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} is ${JSON.stringify(value)}; give a number`);
  return n;
}

/** Refuses an --out that cannot be written before the work that fills it starts (a folder, a folder that is missing). */
function checkOutFile(out: string): void {
  const isDir = (p: string): boolean | undefined => {
    try {
      return statSync(p).isDirectory();
    } catch (err) {
      if (err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
      throw err;
    }
  };
  if (isDir(out)) throw new UsageError(`--out ${out} is a folder; give a file name, such as ${join(out, 'model.json')}`);
  const parent = dirname(out);
  const parentIsDir = isDir(parent);
  if (parentIsDir === undefined) throw new UsageError(`--out ${out}: the folder ${parent} does not exist; create it first (mkdir -p ${parent})`);
  if (!parentIsDir) throw new UsageError(`--out ${out}: ${parent} is a file, not a folder; give a path in a folder`);
}

function progressBar(stream: NodeJS.WriteStream): (done: number, total: number) => void {
  return (done, total) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    stream.write(`\r  training [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} trees`);
    if (done === total) stream.write('\n');
  };
}

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

async function forestTrain(args: string[]): Promise<number> {
  const { trainForestFromCsv, writeFileAtomic } = await engine();
  const { values } = parseArgs({
    args,
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
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(FOREST_TRAIN_HELP);
    return EXIT.ok;
  }
  if (!values.data) throw new UsageError('bramble forest train needs --data FILE (a CSV file); see bramble forest train --help');
  if (!values.target) throw new UsageError('bramble forest train needs --target COLUMN; see bramble forest train --help');
  const task = values.task ?? 'classification';
  if (task !== 'classification' && task !== 'regression') {
    throw new UsageError(`--task is ${JSON.stringify(task)}; use classification or regression`);
  }
  const maxFeatures = values['max-features'];
  const testShare = numberOption('test', values.test) ?? 0.25;
  if (!(testShare > 0 && testShare < 1)) throw new UsageError(`--test is ${testShare}; give a share between 0 and 1, such as 0.25`);
  if (values.out) checkOutFile(values.out);
  const showProgress = process.stderr.isTTY && !values.json;
  const result = await trainForestFromCsv(
    {
      data: values.data,
      target: values.target,
      drop: values.drop ? values.drop.split(',').map((s) => s.trim()) : [],
      task,
      forest: {
        trees: numberOption('trees', values.trees),
        maxDepth: numberOption('max-depth', values['max-depth']),
        minSamplesLeaf: numberOption('min-samples-leaf', values['min-samples-leaf']),
        maxFeatures:
          maxFeatures === undefined || ['sqrt', 'log2', 'all'].includes(maxFeatures)
            ? (maxFeatures as 'sqrt' | 'log2' | 'all' | undefined)
            : numberOption('max-features', maxFeatures),
        seed: numberOption('seed', values.seed),
      },
      testShare,
      splitSeed: numberOption('split-seed', values['split-seed']) ?? 0,
      workers: numberOption('workers', values.workers),
    },
    { now: () => performance.now(), onProgress: showProgress ? progressBar(process.stderr) : undefined },
  );
  if (values.out) await writeFileAtomic(values.out, JSON.stringify(result.model));
  if (values.json) {
    const { model: _model, ...rest } = result;
    process.stdout.write(JSON.stringify({ ...rest, out: values.out ?? null }, null, 2) + '\n');
  } else {
    process.stdout.write(report(result) + (values.out ? `\nmodel written to ${values.out}` : '') + '\n');
  }
  return EXIT.ok;
}

const RUN_HELP = `bramble run — validate, train, evaluate and compare the model described by DIR/ml.yaml

Usage: bramble run [DIR] [options]

Options:
  --champion MODEL  the model to gate against, scored on the same held-out rows: a model.json, a registered
                    version (churn@v1.2.0) or an environment (prod). Default: what ml.yaml's compare.against
                    serves, from the registry (fetched first when the repository has a remote); none if nothing
  --workers N       threads to train on (default: every core); the model does not depend on it
  --json            print the result as JSON

Writes DIR/.bramble/model.json. Exit codes: 0 ok, 1 validation or a gate failed, 2 configuration or data error.
`;

function runReport(result: RunResult, e_: Awaited<ReturnType<typeof engine>>): string {
  const { formatValidation, metricsOf, formatVerdict } = e_;
  const lines: string[] = [];
  const v = result.validation;
  lines.push(`validate: ${v.rows} rows, ${v.statistics.successful}/${v.statistics.evaluated} rules hold`);
  if (!v.success) {
    lines.push(formatValidation(v));
    return lines.join('\n');
  }
  const e = result.evaluation;
  if (e) {
    lines.push(`evaluate: ${metricsLine(metricsOf(e))}`);
  }
  if (result.split) lines.push(`split: ${splitLine(result.split)}`);
  if (result.champion) {
    const c = result.champion;
    lines.push(`champion: ${c.file}${c.env ? ` (serves ${c.env})` : ''}, sha256 ${c.sha256.slice(0, 12)}, from ${c.via}`);
    lines.push(`compared: ${comparedLine(c.compared)}`);
  } else if (result.evaluation) {
    lines.push(`champion: none${result.noChampion ? ` (${result.noChampion})` : ''}`);
  }
  if (result.gates) lines.push(formatVerdict(result.gates));
  if (result.artifact) lines.push(`model: ${result.artifact.path} (${(result.artifact.bytes / 1e6).toFixed(1)} MB, sha256 ${result.artifact.sha256})`);
  lines.push(`done in ${result.seconds.toFixed(1)} s`);
  return lines.join('\n');
}

const STEP_HELP = {
  train: `bramble train — validate and train the model described by DIR/ml.yaml, and score it on held-out rows

Usage: bramble train [DIR] [--workers N] [--json]

Writes DIR/.bramble/model.json. The gates are shown but do not fail it (bramble run and compare do).
Exit codes: 0 ok, 1 validation failed, 2 configuration or data error.
`,
  evaluate: `bramble evaluate — score a saved model on the held-out rows of DIR's data (ml.yaml's split)

Usage: bramble evaluate [DIR] --model FILE [--json]

Exit codes: 0 ok, 1 validation failed, 2 configuration or data error.
`,
  compare: `bramble compare — score two saved models on the same held-out rows of DIR's data and apply ml.yaml's gates

Usage: bramble compare [DIR] --candidate FILE --champion MODEL [--json]

MODEL is a model.json, a registered version (churn@v1.2.0) or an environment (prod). Both are scored on the
held-out rows neither trained on (each model records its training rows).

Exit codes: 0 every gate passed, 1 a gate or validation failed, 2 configuration or data error.
`,
} as const;

function splitLine(split: NonNullable<RunResult['split']>): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  const classes = split.classShares ? `; held out per class: ${Object.entries(split.classShares).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}` : '';
  const skipped = split.skipped > 0 ? `; ${split.skipped} rows without a target left out (data.skip_missing_target)` : '';
  return `${split.train} rows to train, ${split.test} held out (${pct(split.share)})${classes}${skipped}`;
}

function comparedLine(compared: { rows: number; heldOut: number; excluded: number; notes: string[] }): string {
  const head = compared.excluded === 0 ? `both models scored on all ${compared.heldOut} held-out rows` : `both models scored on ${compared.rows} of ${compared.heldOut} held-out rows`;
  return [head, ...compared.notes].join('; ');
}

function metricsLine(metrics: Record<string, unknown>): string {
  return Object.entries(metrics)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => `${name} ${(value as number).toFixed(4)}`)
    .join(', ');
}

/** `run`, `train`, `evaluate` and `compare`: one folder, --json, and the options of each. */
async function step(name: keyof typeof STEP_HELP | 'run', args: string[]): Promise<number> {
  const { runPipeline, evaluateModel, compareArtifacts, formatValidation, formatVerdict, metricsOf } = await engine();
  const { values, positionals } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      candidate: { type: 'string' },
      champion: { type: 'string' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(name === 'run' ? RUN_HELP : STEP_HELP[name]);
    return EXIT.ok;
  }
  if (positionals.length > 1) throw new UsageError(`bramble ${name} takes one folder, got ${positionals.length}: ${positionals.join(' ')}`);
  const dir = positionals[0] ?? '.';
  const print = (result: unknown, text: string): void => {
    process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : text + '\n');
  };
  if (name === 'run' || name === 'train') {
    // train is run without a champion, and its gates are shown but do not fail it.
    if (name === 'train' && values.champion) throw new UsageError('bramble train takes no --champion; use bramble run or compare');
    const result = await runPipeline(dir, {
      champion: values.champion,
      findChampion: name === 'run',
      env: process.env,
      warn: (message) => process.stderr.write(`bramble: ${message}\n`),
      workers: numberOption('workers', values.workers),
      onProgress: process.stderr.isTTY && !values.json ? progressBar(process.stderr) : undefined,
      now: () => performance.now(),
      versions: { bramble: version(), node: process.version },
    });
    print(result, runReport(result, await engine()));
    const gated = name === 'train' || (result.gates?.passed ?? false);
    return result.validation.success && gated ? EXIT.ok : EXIT.failed;
  }
  if (name === 'evaluate') {
    if (!values.model) throw new UsageError('bramble evaluate needs --model FILE (a model.json); see bramble evaluate --help');
    const result = await evaluateModel(dir, values.model);
    const text = result.model
      ? `${result.model.file} (${result.model.sha256.slice(0, 12)}): ${metricsLine(metricsOf(result.model.evaluation))}\nscored on: ${comparedLine(result.model.compared).replace('both models scored', 'scored')}`
      : formatValidation(result.validation);
    print(result, text);
    return result.validation.success ? EXIT.ok : EXIT.failed;
  }
  if (!values.candidate || !values.champion) {
    throw new UsageError('bramble compare needs --candidate FILE (a model.json) and --champion MODEL (a model.json, churn@v1.2.0 or an environment); see bramble compare --help');
  }
  const result = await compareArtifacts(dir, values.candidate, values.champion, { env: process.env, warn: (message) => process.stderr.write(`bramble: ${message}\n`) });
  const text =
    result.gates && result.candidate && result.champion && result.compared
      ? [
          `candidate: ${result.candidate.file} (${result.candidate.sha256.slice(0, 12)})`,
          `champion: ${result.champion.file} (${result.champion.sha256.slice(0, 12)})`,
          `compared: ${comparedLine(result.compared)}`,
          formatVerdict(result.gates),
        ].join('\n')
      : formatValidation(result.validation);
  print(result, text);
  return result.validation.success && (result.gates?.passed ?? false) ? EXIT.ok : EXIT.failed;
}

const VALIDATE_HELP = `bramble validate — check the data named by DIR/ml.yaml (data.train) against its schema

Usage: bramble validate [DIR] [options]

Every rule of ml.yaml's schema is checked, and each one is listed with the rows that break it.

Options:
  --reference FILE  a model.json whose training-data profile the data is compared with, column by column, for drift
  --json            print the result as JSON: the validation (schemas/validation.schema.json), or with
                    --reference { "validation": …, "drift": … }

Exit codes: 0 valid, 1 a rule failed (drift alone does not fail), 2 usage, configuration or data error.
`;

async function validate(args: string[]): Promise<number> {
  const { validateRepo, formatValidation, formatDrift } = await engine();
  const { values, positionals } = parseArgs({
    args,
    options: {
      reference: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(VALIDATE_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 1) throw new UsageError(`bramble validate takes one folder, got ${positionals.length}: ${positionals.join(' ')}`);
  const result = await validateRepo(positionals[0] ?? '.', { reference: values.reference });
  if (values.json) {
    const body = result.drift === undefined ? result.validation : { validation: result.validation, drift: result.drift };
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
  } else {
    process.stdout.write(formatValidation(result.validation) + (result.drift === undefined ? '' : '\n' + formatDrift(result.drift)));
  }
  return result.validation.success ? EXIT.ok : EXIT.failed;
}

const PREDICT_HELP = `bramble predict — score every row of a file with a model and write the predictions as CSV to stdout

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

async function predict(args: string[]): Promise<number> {
  const { predictFile } = await engine();
  const { values, positionals } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      id: { type: 'string' },
      json: { type: 'boolean' },
      raw: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(PREDICT_HELP);
    return EXIT.ok;
  }
  if (!values.model) throw new UsageError('bramble predict needs --model FILE (a model.json); see bramble predict --help');
  if (positionals.length !== 1) {
    throw new UsageError(`bramble predict takes one data file, got ${positionals.length === 0 ? 'none' : `${positionals.length}: ${positionals.join(' ')}`}; see bramble predict --help`);
  }
  // Waits for each piece to be flushed, so a slow reader of stdout holds back the scoring, not memory. The write
  // callback carries a write error to predictFile (the 'error' event goes to the listener set up in run).
  const write = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      process.stdout.write(text, (err) => (err ? reject(closedEarly(err) ? err : new OutputError(err)) : resolve()));
    });
  try {
    await predictFile({ model: values.model, data: positionals[0], id: values.id, format: values.json ? 'jsonl' : 'csv', raw: values.raw }, { write });
  } catch (err) {
    if (closedEarly(err)) return EXIT.ok;
    throw err;
  }
  return EXIT.ok;
}

const SERVE_HELP = `bramble serve — serve each environment's current model over HTTP

Usage: bramble serve --config FILE

FILE is serve.json (schemas/serve.schema.json; runner-pi/serve.json is an example): where to listen, the model
folder (MODELS/<env>/current.json), the prediction log, and each environment's path prefix or port.
Endpoints, under each environment's prefix: POST /invocations (MLflow: dataframe_split, dataframe_records,
instances, inputs, or text/csv), GET /ping /health /version, Open Inference v2 (/v2/health/live|ready,
/v2/models/NAME[/ready], POST /v2/models/NAME/infer), POST /feedback. At the root: GET /metrics (Prometheus),
/ping, /version, and POST /admin/deploy/ENV (what bramble deploy calls).
`;

const DEPLOY_HELP = `bramble deploy — put a registered version into service on this host, without downtime

Usage: bramble deploy NAME@vX.Y.Z --env ENV [--config FILE] [--server URL] [--dir DIR] [--remote NAME | --no-remote]

Fetches the version's artifact from the registry (checked against its tag), writes it to MODELS/ENV/candidate.json
and asks the server to take it: the server checks its hash and runs its self-test before it swaps; on any failure
the old model keeps serving and this command exits 1 with the reason. With no server running, the checks run here
and the server serves the model when it starts.

Options:
  --config FILE   serve.json (default /etc/bramble/serve.json): the model folder, the address, the admin token
  --server URL    the server's base URL (default: from the config's listen)
  --dir DIR       the model's folder, holding ml.yaml, in the repository with the registry (default: .)
`;

async function serve(args: string[]): Promise<number> {
  const { readServeConfig, startServer } = await engine();
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return EXIT.ok;
  }
  if (!values.config) throw new UsageError('bramble serve needs --config FILE (serve.json); see bramble serve --help');
  const config = await readServeConfig(values.config);
  const server = await startServer(config, {
    env: process.env,
    version: version(),
    warn: (m) => process.stderr.write(`bramble serve: ${m}\n`),
  });
  const where = [server.url, ...Object.entries(server.envUrls).map(([env, url]) => `${env} on ${url}`)].join(', ');
  process.stderr.write(`bramble serve: listening on ${where}; ${server.host.envs.map((e) => `${e}=${server.host.model(e)?.version ?? '(none)'}`).join(' ')}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close().then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return EXIT.ok;
}

async function deploy(args: string[]): Promise<number> {
  const { readServeConfig, readMlYaml, deployVersion } = await engine();
  const { values, positionals } = parseArgs({
    args,
    options: {
      env: { type: 'string' },
      config: { type: 'string' },
      server: { type: 'string' },
      dir: { type: 'string' },
      remote: { type: 'string' },
      'no-remote': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(DEPLOY_HELP);
    return EXIT.ok;
  }
  const ref = positionals[0];
  const at = ref?.lastIndexOf('@') ?? -1;
  if (positionals.length !== 1 || !ref || at <= 0) throw new UsageError('bramble deploy takes one NAME@vX.Y.Z; see bramble deploy --help');
  if (!values.env) throw new UsageError('bramble deploy needs --env ENV; see bramble deploy --help');
  if (values.server !== undefined && !/^https?:$/.test(URL.parse(values.server)?.protocol ?? '')) {
    throw new UsageError(`--server is ${JSON.stringify(values.server)}; give the server's base URL, such as http://127.0.0.1:8080`);
  }
  const file = values.config ?? '/etc/bramble/serve.json';
  if (!values.config && !existsSync(file)) throw new UsageError(`bramble deploy needs --config FILE (serve.json): ${file} does not exist`);
  const config = await readServeConfig(file);
  const dir = values.dir ?? '.';
  const ml = await readMlYaml(join(dir, 'ml.yaml'));
  const result = await deployVersion({
    dir,
    name: ref.slice(0, at),
    version: ref.slice(at + 1),
    env: values.env,
    environments: Object.keys(ml.environments),
    config,
    server: values.server,
    remote: values['no-remote'] ? null : values.remote,
    env_: process.env,
    warn: (m) => process.stderr.write(`bramble: warning: ${m}\n`),
  });
  const line =
    result.via === 'git'
      ? `${result.env} serves ${result.name}@${result.version} (sha256 ${result.sha256.slice(0, 12)}), as the tags say; the host synced from git in ${result.seconds.toFixed(2)} s`
      : result.via === 'server'
      ? `deployed ${result.name}@${result.version} to ${result.env} (sha256 ${result.sha256.slice(0, 12)}; it served ${result.previous?.version ?? 'nothing'}) in ${result.seconds.toFixed(2)} s`
      : `installed ${result.name}@${result.version} for ${result.env} (self-test passed); no server answered, so it serves it when it starts`;
  process.stdout.write(values.json ? JSON.stringify(result, null, 2) + '\n' : line + '\n');
  return EXIT.ok;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(version() + '\n');
    return EXIT.ok;
  }
  if (command === 'run' || command === 'train' || command === 'evaluate' || command === 'compare') return step(command, argv.slice(1));
  if (command === 'validate') return validate(argv.slice(1));
  if (command === 'predict') return predict(argv.slice(1));
  if (command === 'forest' && sub === 'train') return forestTrain(rest);
  if (command === 'serve') return serve(argv.slice(1));
  if (command === 'deploy') return deploy(argv.slice(1));
  if (REGISTRY_COMMANDS.includes(command)) {
    const { registryCommand } = await import('./commands/registry.js');
    return registryCommand(command, argv.slice(1), {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      env: process.env,
      versions: { bramble: version(), node: process.version },
    });
  }
  if (command === 'forest') {
    process.stdout.write(FOREST_TRAIN_HELP);
    return sub === undefined || sub === '--help' ? EXIT.ok : EXIT.usage;
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)}; run bramble --help for the list`);
}

/** A reader that stops early (`| head`) closes the pipe: that ends the output, and is not a failure. */
function closedEarly(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'EPIPE';
}

/** Standard output that cannot be written (a full disk, a closed terminal): the place the output goes, not a bug. */
class OutputError extends BrambleError {
  constructor(cause: unknown) {
    super('E_OUTPUT', `the output cannot be written (${describeError(cause)}); free some space, or send the output elsewhere`);
  }
}

/** Runs one command and sets the exit code; every failure, including a failed write to stdout, is one line on stderr. */
function run(argv: string[]): void {
  let failedOutput: OutputError | undefined;
  let finished = false;
  const reportOutput = (err: OutputError): void => {
    process.stderr.write(`bramble: ${err.message}\n`);
    process.exitCode = EXIT.usage;
  };
  // Without a listener node throws a failed write to stdout as an unhandled 'error' event, stack and all. The event
  // may come before or after the command ends; whichever is second reports it.
  process.stdout.on('error', (err) => {
    if (closedEarly(err) || failedOutput) return;
    failedOutput = new OutputError(err);
    if (finished) reportOutput(failedOutput);
  });
  main(argv).then(
    (code) => {
      finished = true;
      if (failedOutput) reportOutput(failedOutput);
      else process.exitCode = code;
    },
    (err: unknown) => {
      finished = true;
      if (failedOutput && err instanceof OutputError) return reportOutput(failedOutput);
      if (err instanceof OutputError) failedOutput = err;
      const code = exitCodeOf(err);
      process.stderr.write(`bramble: ${describeError(err)}\n`);
      if (code === EXIT.internal) process.stderr.write('This is a bug in Bramble; please report it with the command you ran.\n');
      process.exitCode = code;
    },
  );
}

run(process.argv.slice(2));
