/**
 * A vitest setup file of `npm test` (vitest.config.ts): any attempt to start Python throws, naming the command,
 * so that a comparison with scikit-learn or scipy cannot creep back into the suite that must pass where only Node
 * and git are installed. Live comparisons belong under test/reference/ (`npm run test:reference`); `npm test`
 * compares with the figures in test/reference-figures/.
 *
 * Decisions:
 * - The guard wraps node:child_process's functions on the module object and syncs the ESM view of it
 *   (syncBuiltinESMExports), so `import { spawnSync } from 'node:child_process'` in a test sees the guard too.
 * - A command is Python when its file name is python, python3, python3.11…, or it is the reference interpreter
 *   (BRAMBLE_REFERENCE_PYTHON or /usr/bin/python3). A shell command (exec, execSync, or `shell: true`) is Python
 *   when its first word is. Processes started by the processes a test starts are not watched.
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { basename } from 'node:path';
import { referencePython } from './reference-python.js';

export const PYTHON_IN_NPM_TEST = 'E_PYTHON_IN_NPM_TEST';

const PYTHON_NAME = /^python[0-9.]*$/;
const INSTALLED = Symbol.for('bramble.no-python');

export class PythonInNpmTestError extends Error {
  readonly code = PYTHON_IN_NPM_TEST;
  constructor(readonly command: string) {
    super(
      `npm test started ${command}, but it must pass where only Node and git are installed: compare with the figures in ` +
        'test/reference-figures/ (npm run reference:record) and move the live comparison under test/reference/ (npm run test:reference)',
    );
  }
}

/** Whether a file (or a shell command line, by its first word) starts Python. */
export function isPython(command: string, shell = false): boolean {
  const file = shell ? (command.trim().split(/\s+/)[0] ?? '') : command;
  return PYTHON_NAME.test(basename(file)) || file === referencePython();
}

function refuse(command: unknown, shell: boolean): void {
  if (typeof command === 'string' && isPython(command, shell)) throw new PythonInNpmTestError(command);
}

function usesShell(options: unknown): boolean {
  return typeof options === 'object' && options !== null && 'shell' in options && Boolean((options as { shell?: unknown }).shell);
}

/** The options object among spawn-style arguments (args is optional in every one of these functions). */
function optionsOf(rest: readonly unknown[]): unknown {
  return Array.isArray(rest[0]) ? rest[1] : rest[0];
}

type Fn = (...args: never[]) => unknown;

function guard<F extends Fn>(original: F, shellAlways: boolean): F {
  return function guarded(this: unknown, ...args: Parameters<F>): ReturnType<F> {
    const [command, ...rest] = args as unknown[];
    refuse(command, shellAlways || usesShell(optionsOf(rest)));
    return original.apply(this, args) as ReturnType<F>;
  } as F;
}

/** Wraps spawn, spawnSync, execFile, execFileSync, exec and execSync; installing twice is a no-op. */
export function forbidPython(): void {
  const cp = childProcess as typeof childProcess & { [INSTALLED]?: true };
  if (cp[INSTALLED]) return;
  cp.spawn = guard(cp.spawn, false);
  cp.spawnSync = guard(cp.spawnSync, false);
  cp.execFile = guard(cp.execFile, false);
  cp.execFileSync = guard(cp.execFileSync, false);
  cp.exec = guard(cp.exec, true);
  cp.execSync = guard(cp.execSync, true);
  cp[INSTALLED] = true;
  syncBuiltinESMExports();
}

forbidPython();
