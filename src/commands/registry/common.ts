// What the registry's commands share: their options (one set, so that an option a command does not take is
// refused by name, not as unknown), the common help, opening the registry, and the tables they print.
import type { MlConfig } from '../../config/ml-yaml.js';
import { readMlYaml } from '../../config/ml-yaml.js';
import { join } from 'node:path';
import { errorClass } from '../../errors.js';
import { Registry } from '../../registry/registry.js';
import type { Ports } from '../../usecases/ports.js';
import { cliPorts, defineCommand, type CliIo, type Command, type CommandSpec } from '../command.js';

export class RegistryUsageError extends errorClass('E_REGISTRY_USAGE') {}

export const COMMON_HELP = `
Common options:
  --dir DIR          the model's folder, holding ml.yaml (default: the current folder)
  --remote NAME      the git remote to fetch from and push to (default: origin, when it exists)
  --no-remote        work on this repository alone; push nothing
  --json             print the result as JSON
The remote is reached over HTTP(S) with a token from BRAMBLE_GIT_TOKEN, GITHUB_TOKEN, GITLAB_TOKEN or CI_JOB_TOKEN.
`;

const OPTIONS = {
  dir: { type: 'string' },
  remote: { type: 'string' },
  'no-remote': { type: 'boolean' },
  json: { type: 'boolean' },
  model: { type: 'string' },
  version: { type: 'string' },
  bump: { type: 'string' },
  to: { type: 'string' },
  at: { type: 'string' },
  name: { type: 'string' },
  env: { type: 'string' },
  fetch: { type: 'boolean' },
  workers: { type: 'string' },
  server: { type: 'string' },
  role: { type: 'string' },
} as const;

type Option = keyof typeof OPTIONS;
export type RegistryValues = Parameters<CommandSpec<typeof OPTIONS>['run']>[0]['values'];
const COMMON: readonly string[] = ['dir', 'remote', 'no-remote', 'json', 'help'] satisfies (Option | 'help')[];

export interface RegistryCommandSpec {
  name: string;
  help: string;
  /** The options it takes besides the common ones; any other is refused by name. */
  accepts: readonly Option[];
  run(args: { values: RegistryValues; positionals: string[] }, io: CliIo): Promise<number>;
}

/** A registry command: the common options and those it accepts; each checks its own arguments. */
export function registryCommand(spec: RegistryCommandSpec): Command {
  const accepted: readonly string[] = spec.accepts;
  return defineCommand({
    name: spec.name,
    help: spec.help,
    options: OPTIONS,
    positionals: { max: Infinity, what: 'arguments' },
    run(args, io) {
      for (const key of Object.keys(args.values)) {
        if (!COMMON.includes(key) && !accepted.includes(key)) throw new RegistryUsageError(`bramble ${spec.name} takes no --${key}; see bramble ${spec.name} --help`);
      }
      return spec.run(args, io);
    },
  });
}

export function splitRef(text: string | undefined, command: string): { name: string; version: string } {
  const at = text?.lastIndexOf('@') ?? -1;
  if (!text || at <= 0 || at === text.length - 1) {
    throw new RegistryUsageError(`bramble ${command} needs NAME@vX.Y.Z (e.g. churn@v1.2.0), got ${text === undefined ? 'nothing' : JSON.stringify(text)}`);
  }
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}

export function readConfig(values: RegistryValues): Promise<MlConfig> {
  return readMlYaml(join(values.dir ?? '.', 'ml.yaml'));
}

/** The use-cases' ports for --remote / --no-remote. */
export function registryPorts(values: RegistryValues, io: CliIo): Ports {
  if (values.remote !== undefined && values['no-remote']) throw new RegistryUsageError('--remote and --no-remote contradict each other; give one');
  return cliPorts(io, { remote: values['no-remote'] ? null : values.remote, warnings: 'labelled' });
}

export function openRegistry(values: RegistryValues, io: CliIo): Promise<Registry> {
  const ports = registryPorts(values, io);
  return Registry.open({ dir: values.dir ?? '.', env: ports.git.env, remote: ports.git.remote, warn: (m) => ports.log.warn(m) });
}

export const short = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '–');

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i].length), h.length));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
