// A command of the `bramble` CLI: its name, its options, its help, and what it runs. `defineCommand` does what
// every command did by hand: parse the arguments (strictly: an unknown option is an error), print the help on
// --help, and refuse positional arguments a command does not take. Only cli.ts touches process: a command gets
// its standard output, standard error and environment through CliIo.
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Progress } from '../model/forest/pool.js';
import { UsageError } from '../usecases/options.js';
import type { Env, Ports } from '../usecases/ports.js';

export interface CliIo {
  /** Standard output. */
  out(text: string): void;
  /** Standard output, resolving when the text is flushed: a slow reader holds back the writer, not memory. */
  write(text: string): Promise<void>;
  /** Standard error. */
  err(text: string): void;
  env: Env;
  versions: { bramble: string; node: string };
  /** Standard error is a terminal: show progress there. */
  interactive: boolean;
  /** Resolves on SIGTERM or SIGINT. */
  stopped(): Promise<void>;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;
type Config<O extends OptionsConfig> = { args: string[]; options: O & typeof HELP_OPTION; allowPositionals: true; strict: true };
type Parsed<O extends OptionsConfig> = ReturnType<typeof parseArgs<Config<O>>>;

export interface CommandSpec<O extends OptionsConfig> {
  name: string;
  /** What `bramble NAME --help` prints. */
  help: string;
  options: O;
  /** At most this many positional arguments (default 0); `positional` names them in the refusal. */
  positionals?: { max: number; what: string };
  run(args: { values: Parsed<O>['values']; positionals: string[] }, io: CliIo): Promise<number>;
}

/** A row of the command table. */
export interface Command {
  readonly name: string;
  readonly help: string;
  /** Parses `args`, prints the help on --help, and runs; resolves with the exit code. */
  main(args: string[], io: CliIo): Promise<number>;
}

export function defineCommand<const O extends OptionsConfig>(spec: CommandSpec<O>): Command {
  const options: O & typeof HELP_OPTION = { ...spec.options, ...HELP_OPTION };
  return {
    name: spec.name,
    help: spec.help,
    async main(args, io) {
      const { values, positionals }: Parsed<O> = parseArgs<Config<O>>({ args, options, allowPositionals: true, strict: true });
      if ('help' in values && values.help === true) {
        io.out(spec.help);
        return 0;
      }
      const max = spec.positionals?.max ?? 0;
      if (positionals.length > max) {
        const takes = max === 0 ? 'takes no arguments' : `takes ${max === 1 ? 'one' : `at most ${max}`} ${spec.positionals?.what}`;
        throw new UsageError(`bramble ${spec.name} ${takes}, got ${positionals.length}: ${positionals.join(' ')}`);
      }
      return spec.run({ values, positionals }, io);
    },
  };
}

/** Prints the result as JSON with --json, else as text. */
export function print(io: CliIo, json: boolean | undefined, result: unknown, text: string): void {
  io.out(json ? JSON.stringify(result, null, 2) + '\n' : text + '\n');
}

/** A number option, or undefined when not given. */
export function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} is ${JSON.stringify(value)}; give a number`);
  return n;
}

/** A progress bar of trees on standard error, when it is a terminal and the output is not JSON. */
export function progressBar(io: CliIo, json: boolean | undefined): Progress | undefined {
  if (!io.interactive || json) return undefined;
  return (done, total) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    io.err(`\r  training [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} trees`);
    if (done === total) io.err('\n');
  };
}

/**
 * What the CLI gives a use-case. `warnings` is how a warning reads: `bramble: …` (the pipeline's), or
 * `bramble: warning: …` (the registry's and deploy's).
 */
export function cliPorts(io: CliIo, options: { remote?: string | null; warnings?: 'plain' | 'labelled' } = {}): Ports {
  const label = options.warnings === 'labelled' ? 'warning: ' : '';
  return {
    git: { env: io.env, remote: options.remote },
    log: { info: (m) => io.err(`bramble: ${m}\n`), warn: (m) => io.err(`bramble: ${label}${m}\n`) },
    clock: { now: () => performance.now() },
    versions: io.versions,
  };
}

/** Refuses a --out (or --report) that cannot be written before the work that fills it starts: a folder, a missing one. */
export function checkOutFile(option: string, out: string): void {
  const isDir = (p: string): boolean | undefined => {
    try {
      return statSync(p).isDirectory();
    } catch (err) {
      if (err instanceof Error && 'code' in err && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
      throw err;
    }
  };
  const example = option === 'report' ? 'report.md' : 'model.json';
  if (isDir(out)) throw new UsageError(`--${option} ${out} is a folder; give a file name, such as ${join(out, example)}`);
  const parent = dirname(out);
  const parentIsDir = isDir(parent);
  if (parentIsDir === undefined) throw new UsageError(`--${option} ${out}: the folder ${parent} does not exist; create it first (mkdir -p ${parent})`);
  if (!parentIsDir) throw new UsageError(`--${option} ${out}: ${parent} is a file, not a folder; give a path in a folder`);
}

/** A reader that stops early (`| head`) closes the pipe: that ends the output, and is not a failure. */
export function closedEarly(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'EPIPE';
}
