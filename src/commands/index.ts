// The `bramble` command table: each row names a command, the lines it has in `bramble --help`, and loads the module
// that holds its options, help and run — so that `bramble registry ls` or `--version` loads none of the forest,
// the data loaders, arquero and ajv that other commands need.
import { nearest } from '../errors.js';
import { UsageError } from '../usecases/options.js';
import type { Command } from './command.js';

export interface CommandRow {
  readonly name: string;
  /** Its lines in `bramble --help`, after `bramble `; none for a command listed on another's line. */
  readonly synopsis: readonly string[];
  load(): Promise<Command>;
}

/** A row whose module exports its `command`. */
const row = (name: string, synopsis: readonly string[], module: () => Promise<{ command: Command }>): CommandRow => ({
  name,
  synopsis,
  load: async () => (await module()).command,
});

export const COMMANDS: readonly CommandRow[] = [
  row('run', ['run [DIR] [--champion MODEL] [--json]                validate → train → evaluate → compare; writes DIR/.bramble/model.json'], () => import('./run.js')),
  row('train', ['train [DIR] [--json]                                 validate → train → evaluate; writes DIR/.bramble/model.json (gates do not fail it)'], () => import('./train.js')),
  row('sweep', ['sweep [DIR] [--shard K/N | --gather] [--json]        search model.params by k-fold cross-validation (ml.yaml sweep:)'], () => import('./sweep.js')),
  row('evaluate', ["evaluate [DIR] --model FILE [--json]                 score a saved model on the held-out rows of DIR's data"], () => import('./evaluate.js')),
  row('compare', ['compare [DIR] --candidate FILE --champion MODEL      score two models on the same held-out rows; apply the gates'], () => import('./compare.js')),
  row('validate', ["validate [DIR] [--reference FILE] [--json]           check DIR/ml.yaml's data against its schema (and for drift)"], () => import('./validate.js')),
  row('predict', ['predict --model FILE [--id COLUMN] DATA.csv          write predictions for every row as CSV'], () => import('./predict.js')),
  row('register', ['register [--model FILE] [--version V | --bump B]     register the trained model as a new version (git tags)'], () => import('./registry/register.js')),
  row('promote', ['promote NAME@vX.Y.Z ENV [--role canary|shadow]       assign a version to an environment (alias: assign)'], () => import('./registry/promote.js')),
  row('assign', [], () => import('./registry/assign.js')),
  row('unassign', ['unassign NAME ENV | deprecate NAME | deregister NAME@vX.Y.Z'], () => import('./registry/unassign.js')),
  row('deprecate', [], () => import('./registry/deprecate.js')),
  row('deregister', [], () => import('./registry/deregister.js')),
  row('reweight', ['reweight ENV                                         apply ml.yaml\'s canary weight to ENV\'s canary tag (or take it away)'], () => import('./registry/reweight.js')),
  row('rollback', ['rollback ENV [--to vX.Y.Z | --to DATE]               assign an earlier version again'], () => import('./registry/rollback.js')),
  row('which', ['which ENV [--at DATE]                                the version an environment serves (or served then)'], () => import('./registry/which.js')),
  row('registry', ['registry ls | show NAME[@V] | history [NAME]         list the registry'], () => import('./registry/list.js')),
  row('runs', ['runs ls | show ID | diff A B | best METRIC | push    the runs recorded by run and train (bramble/runs)'], () => import('./runs/runs.js')),
  row('lineage', ['lineage NAME@vX.Y.Z                                  what made a version, and where it served'], () => import('./registry/lineage.js')),
  row('reproduce', ['reproduce NAME@vX.Y.Z                                train a version again from its commit; identical or not'], () => import('./registry/reproduce.js')),
  row('monitor', ["monitor [DIR] --env ENV --logs DIR [--json]          drift and live performance from the host's prediction log"], () => import('./monitor.js')),
  row('ui', ['ui build [DIR] --out FOLDER                          the dashboard as a static site, from git alone'], () => import('./ui.js')),
  row('ingest', ["ingest [DIR] [--view V] [--store DIR] [--json]       pull features.yaml's sources into the offline store; commit manifests"], () => import('./ingest.js')),
  row('materialize', ["materialize [DIR] [--view V] [--until TIME]          the views' latest values per entity into the online store"], () => import('./materialize.js')),
  row('serve', ["serve --config serve.json                            serve every environment's model (MLflow and Open Inference v2)"], () => import('./serve.js')),
  row('deploy', ['deploy NAME@vX.Y.Z --env ENV [--config serve.json]   put a registered version into service, without downtime'], () => import('./deploy.js')),
  row('ci', ['ci STEP [--INPUT VALUE …]                            one step of the pipeline in a GitLab CI job (docs/gitlab.md)'], () => import('./ci.js')),
  row('forest', ['forest train --data FILE --target COLUMN [options]   train a random forest on a CSV file'], () => import('./forest.js')),
];

/** `bramble --help`: every command's lines, from the table. */
export const HELP = `bramble — GitOps machine learning: validate, train, compare, register and deploy models from git

Usage:
${[...COMMANDS.flatMap((c) => c.synopsis), '--version', '--help'].map((line) => `  bramble ${line}`).join('\n')}

Exit codes: 0 ok, 1 a gate or validation failed, 2 usage, configuration or data error, 3 internal error.
`;

/** The command named `name`; an unknown name is refused with the nearest one suggested (`rnu` → `run`). */
export function findCommand(name: string): CommandRow {
  const found = COMMANDS.find((c) => c.name === name);
  if (found) return found;
  const guess = nearest(name, COMMANDS.map((c) => c.name));
  throw new UsageError(`unknown command ${JSON.stringify(name)}; ${guess ? `did you mean ${guess}? ` : ''}run bramble --help for the list`, { command: name, suggestion: guess ?? null });
}
