#!/usr/bin/env node
// The `bramble` command: finds the command in the table (src/commands/index.ts), runs it with standard output,
// standard error and the environment, and sets the exit code. The only file of the CLI that touches process and
// console.
import { readFileSync } from 'node:fs';
import { closedEarly, type CliIo } from './commands/command.js';
import { findCommand, HELP } from './commands/index.js';
import { describeError, errorClass, EXIT, exitCodeOf } from './errors.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Standard output that cannot be written (a full disk, a closed terminal): the place the output goes, not a bug. */
class OutputError extends errorClass('E_OUTPUT') {}

function outputError(cause: unknown): OutputError {
  return new OutputError(`the output cannot be written (${describeError(cause)}); free some space, or send the output elsewhere`);
}

const io: CliIo = {
  out: (text) => {
    process.stdout.write(text);
  },
  // The write callback carries a write error to the caller (the 'error' event goes to the listener set up in run).
  write: (text) =>
    new Promise((resolve, reject) => {
      process.stdout.write(text, (err) => (err ? reject(closedEarly(err) ? err : outputError(err)) : resolve()));
    }),
  err: (text) => {
    process.stderr.write(text);
  },
  env: process.env,
  get versions() {
    return { bramble: version(), node: process.version };
  },
  interactive: process.stderr.isTTY === true,
  stopped: () =>
    new Promise((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    }),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out(version() + '\n');
    return EXIT.ok;
  }
  const command = await findCommand(name).load();
  return command.main(args, io);
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
    failedOutput = outputError(err);
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
