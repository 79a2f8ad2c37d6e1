// The error catalog (ERRORS in src/errors.ts) is the one place a code gets its exit code, HTTP status and fix:
// each code is raised by exactly the class its row names, the two mappers read the table, and docs/errors.md is
// generated from it (scripts/error-docs.mjs) and fails here when it is stale.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ERRORS, errorClass, errorFamily, EXIT, exitCodeOf, httpStatusOf, type ErrorCode } from '../src/errors.js';

const ROOT = join(import.meta.dirname, '..');
const CODES = Object.keys(ERRORS) as ErrorCode[];

/** Every .ts file under src/, with its text. */
function sources(dir = join(ROOT, 'src')): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [{ file: relative(ROOT, path), text: readFileSync(path, 'utf8') }] : [];
  });
}

/** Each class that raises a code, as `code → ["Class (file)", …]`, from how src/ declares its error classes. */
function raisers(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (code: string, cls: string, file: string): void => {
    found.set(code, [...(found.get(code) ?? []), `${cls} (${file})`]);
  };
  // src/errors.ts defines the factories (and shows them in its comments); it raises nothing itself.
  for (const { file, text } of sources().filter((s) => s.file !== join('src', 'errors.ts'))) {
    for (const m of text.matchAll(/class (\w+) extends errorClass\('(E_\w+)'\)/g)) add(m[2], m[1], file);
    for (const m of text.matchAll(/class (\w+) extends errorFamily\(\[([^\]]*)\]\)/g)) for (const c of m[2].matchAll(/'(E_\w+)'/g)) add(c[1], m[1], file);
    // The older form, a constructor passing its code to BrambleError.
    for (const m of text.matchAll(/class (\w+) extends BrambleError \{[^]*?super\(\s*'(E_\w+)'/g)) add(m[2], m[1], file);
  }
  return found;
}

describe('the error catalog', () => {
  const found = raisers();

  it.each(CODES)('%s is raised by exactly the one class its row names', (code) => {
    const classes = found.get(code) ?? [];
    expect(classes.map((c) => c.split(' ')[0])).toEqual([ERRORS[code].class]);
  });

  it('has a row for every code a class raises', () => {
    expect([...found.keys()].filter((code) => !(code in ERRORS))).toEqual([]);
  });

  it('gives every row a fix of one line, ending with a full stop', () => {
    for (const code of CODES) expect({ code, fix: ERRORS[code].fix }).toEqual({ code, fix: expect.stringMatching(/^[^\n]{10,160}\.$/) });
  });
});

describe('exitCodeOf and httpStatusOf', () => {
  class Deploy extends errorClass('E_DEPLOY') {}
  class Config extends errorClass('E_CONFIG') {}
  class ServeInput extends errorClass('E_SERVE_INPUT') {}
  class ServeModel extends errorClass('E_SERVE_MODEL') {}
  class Http extends errorFamily(['E_HTTP_UNAUTHORIZED', 'E_HTTP_TOO_LARGE']) {}
  const parseArgsError = (): unknown => {
    try {
      parseArgs({ args: ['--nope'], options: {} });
    } catch (err) {
      return err;
    }
    throw new Error('parseArgs accepted an unknown option');
  };

  it.each([
    ['a failed deploy', new Deploy('x'), EXIT.failed, 500],
    ['a mistake in ml.yaml', new Config('x'), EXIT.usage, 500],
    ['a bad request body', new ServeInput('x'), EXIT.usage, 400],
    ['a refused model', new ServeModel('x'), EXIT.usage, 409],
    ['a missing token', new Http('E_HTTP_UNAUTHORIZED', 'x'), EXIT.usage, 401],
    ['a body over the limit', new Http('E_HTTP_TOO_LARGE', 'x'), EXIT.usage, 413],
    ['an unknown option', parseArgsError(), EXIT.usage, 500],
    ['a TypeError (a bug)', new TypeError('x'), EXIT.internal, 500],
    ['a thrown string', 'x', EXIT.internal, 500],
    ['a thrown object', { message: 'x' }, EXIT.internal, 500],
  ])('%s: exit %i, HTTP %i', (_what, err, exit, status) => {
    expect({ exit: exitCodeOf(err), status: httpStatusOf(err) }).toEqual({ exit, status });
  });

  it('keep the code, the class name and the data', () => {
    const err = new Deploy('not deployed', { env: 'prod' });
    expect(err).toMatchObject({ code: 'E_DEPLOY', name: 'Deploy', message: 'not deployed', data: { env: 'prod' } });
  });
});

describe('docs/errors.md', () => {
  const script = join(ROOT, 'scripts/error-docs.mjs');
  const scratch = mkdtempSync(join(tmpdir(), 'bramble-error-docs-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const docs = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8' });

  it('is what the generator makes from the catalog', () => {
    expect(docs('--check')).toMatchObject({ status: 0, stderr: '' });
  });

  it('fails the check with the fix when it is stale, and is rewritten without --check', () => {
    const stale = join(scratch, 'errors.md');
    writeFileSync(stale, readFileSync(join(ROOT, 'docs/errors.md'), 'utf8').replace('| `E_DEPLOY` | `DeployError` | 1 |', '| `E_DEPLOY` | `DeployError` | 2 |'));
    expect(docs('--check', '--out', stale)).toMatchObject({
      status: 1,
      stderr: `${stale} is stale: it differs from what ERRORS in src/errors.ts gives. Run \`node scripts/error-docs.mjs\` and commit the result.\n`,
    });
    expect(docs('--out', stale)).toMatchObject({ status: 0, stdout: `wrote ${stale}\n` });
    expect(readFileSync(stale, 'utf8')).toBe(readFileSync(join(ROOT, 'docs/errors.md'), 'utf8'));
  });

  it('lists every code once', () => {
    const text = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    expect(CODES.filter((code) => text.split(`| \`${code}\` |`).length !== 2)).toEqual([]);
  });
});
