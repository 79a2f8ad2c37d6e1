/**
 * `npm test` must pass where only Node and git are installed, so it never starts Python: the setup file
 * test/helpers/no-python.ts makes every attempt throw. This checks that the guard is installed by vitest.config.ts
 * and catches each way of starting a process, and that other commands still run.
 */
import { exec, execFile, execFileSync, execSync, spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isPython, PYTHON_IN_NPM_TEST } from './helpers/no-python.js';
import { referencePython } from './helpers/reference-python.js';

const refused = expect.objectContaining({ code: PYTHON_IN_NPM_TEST, message: expect.stringContaining('npm run test:reference') });

describe('npm test starts no Python', () => {
  it.each([
    ['spawnSync python3', () => spawnSync('python3', ['-c', 'print(1)'])],
    ['spawnSync of the reference interpreter', () => spawnSync(referencePython(), ['--version'])],
    ['spawn /usr/bin/python3.11', () => spawn('/usr/bin/python3.11', ['--version'])],
    ['execFile python', () => execFile('python', ['--version'], () => undefined)],
    ['execFileSync python3 with no arguments', () => execFileSync('python3')],
    ['exec of a shell line', () => exec('python3 -c "import sklearn"', () => undefined)],
    ['execSync of a shell line', () => execSync('  python3 --version')],
    ['spawnSync with shell: true', () => spawnSync('python3 -V', { shell: true })],
  ])('refuses %s', (_, start) => {
    expect(start).toThrowError(refused);
  });

  it('lets every other command run', () => {
    expect(spawnSync('git', ['--version'], { encoding: 'utf8' }).stdout).toMatch(/^git version /);
    expect(execSync('node -e "process.stdout.write(String(6 * 7))"', { encoding: 'utf8' })).toBe('42');
  });

  it.each([
    ['python3', false, true],
    ['/usr/local/bin/python3.12', false, true],
    ['pythonic', false, false],
    ['/opt/python3/bin/node', false, false],
    ['python3 -m pip', true, true],
    ['node python3', true, false],
  ])('calls %s python: %s (shell) → %s', (command, shell, expected) => {
    expect(isPython(command, shell)).toBe(expected);
  });
});
