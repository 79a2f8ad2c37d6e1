/**
 * Which Python runs the reference scripts: BRAMBLE_REFERENCE_PYTHON, else Debian's /usr/bin/python3, for which
 * python3-sklearn is installed (not for a pyenv python3). Its own small module, because the setup file of
 * `npm test` (no-python.ts) needs it without loading the reference helpers.
 */
export const DEBIAN_PYTHON = '/usr/bin/python3';
export const REFERENCE_PYTHON_ENV = 'BRAMBLE_REFERENCE_PYTHON';

/** The interpreter the reference scripts run with. */
export function referencePython(env: NodeJS.ProcessEnv = process.env): string {
  return env[REFERENCE_PYTHON_ENV] || DEBIAN_PYTHON;
}
