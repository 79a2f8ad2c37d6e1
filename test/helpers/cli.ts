// The bramble CLI as tests run it: the built dist/cli.js in a child node process, with git's identity set so that
// the tags and commits it writes have an author. `bramble` blocks; `brambleAsync` does not, for tests whose own
// event loop runs a server the CLI talks to. `startServe` starts `bramble serve` and waits until it listens.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { AUTHOR } from './git.js';

export const CLI = join(import.meta.dirname, '../../dist/cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The working folder (default: the test's). */
  cwd?: string;
  /** Added to process.env and git's identity. */
  env?: Readonly<Record<string, string>>;
}

function cliEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const identity = { GIT_AUTHOR_NAME: AUTHOR.name, GIT_AUTHOR_EMAIL: AUTHOR.email, GIT_COMMITTER_NAME: AUTHOR.name, GIT_COMMITTER_EMAIL: AUTHOR.email };
  return Object.assign({}, process.env, identity, extra);
}

export function bramble(args: readonly string[], options: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd, encoding: 'utf8', env: cliEnv(options.env), maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function brambleAsync(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: options.cwd, encoding: 'utf8', env: cliEnv(options.env), maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ status, stdout, stderr });
    });
  });
}

export interface Served {
  child: ChildProcess;
  /** Where it listens: http://127.0.0.1:PORT. */
  url: string;
  /** What it has written to standard error so far. */
  stderr(): string;
}

/** `bramble serve --config CONFIG` as its own process; resolves once it says where it listens. The caller stops it. */
export function startServe(config: string, options: Pick<CliOptions, 'env'> = {}): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', config], { env: cliEnv(options.env), stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      text += chunk;
      const at = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (at) resolve({ child, url: at[1], stderr: () => text });
    });
    child.once('exit', (code) => reject(new Error(`bramble serve exited ${code}: ${text}`)));
  });
}
