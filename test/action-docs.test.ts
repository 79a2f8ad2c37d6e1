// The actions' input and output tables in docs/actions.md and README.md are generated from the action.yml files
// (scripts/action-docs.mjs), and the action.yml files agree with what the entries read and write
// (ACTIONS in src/actions/common.ts).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS } from '../src/actions/common.js';

const ROOT = join(import.meta.dirname, '..');
const script = join(ROOT, 'scripts/action-docs.mjs');
const STEPS = Object.keys(ACTIONS) as (keyof typeof ACTIONS)[];

interface ActionYml {
  inputs?: Record<string, { required?: boolean; default?: string }>;
  outputs?: Record<string, { description: string }>;
}
const actionYml = (step: string): ActionYml => parse(readFileSync(join(ROOT, 'actions', step, 'action.yml'), 'utf8')) as ActionYml;

function docs(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const copies: string[] = [];
/** A checkout with only what the generator reads and writes. */
function copyCheckout(): string {
  const root = mkdtempSync(join(tmpdir(), 'bramble-action-docs-'));
  copies.push(root);
  cpSync(join(ROOT, 'actions'), join(root, 'actions'), { recursive: true });
  cpSync(join(ROOT, 'docs/actions.md'), join(root, 'docs/actions.md'));
  cpSync(join(ROOT, 'README.md'), join(root, 'README.md'));
  return root;
}

afterEach(() => {
  for (const root of copies.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('docs/actions.md and README.md', () => {
  it('hold what the generator makes from the action.yml files', () => {
    expect(docs('--check')).toMatchObject({ status: 0, stderr: '' });
  });

  // A description is only in docs/actions.md; README.md lists the names.
  it('fail the check with the fix when an action.yml changed, and are rewritten without --check', () => {
    const root = copyCheckout();
    const file = join(root, 'actions/train/action.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Threads to train on.', 'How many threads train.'));
    expect(docs('--check', '--root', root)).toEqual({
      status: 1,
      stdout: '',
      stderr:
        'stale action tables in docs/actions.md: they differ from what actions/*/action.yml give. Run `node scripts/action-docs.mjs` and commit the result.\n',
    });
    expect(docs('--root', root)).toMatchObject({ status: 0, stdout: 'wrote docs/actions.md\n' });
    expect(readFileSync(join(root, 'docs/actions.md'), 'utf8')).toContain('| `workers` |  |  | How many threads train. Empty for every core of the runner. |');
    expect(docs('--check', '--root', root)).toMatchObject({ status: 0 });
  });

  it("go stale in README.md too when an action's inputs or outputs change", () => {
    const root = copyCheckout();
    const file = join(root, 'actions/train/action.yml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  sha256:\n', '  digest:\n'));
    expect(docs('--check', '--root', root)).toMatchObject({ status: 1, stderr: expect.stringMatching(/^stale action tables in docs\/actions\.md, README\.md:/) });
  });

  it('leave what is outside the markers alone', () => {
    const root = copyCheckout();
    const readme = join(root, 'README.md');
    const before = readFileSync(readme, 'utf8');
    writeFileSync(readme, before.replace(/(<!-- actions:begin -->)[\s\S]*(<!-- actions:end -->)/, '$1\nold\n$2'));
    expect(docs('--root', root).status).toBe(0);
    expect(readFileSync(readme, 'utf8')).toBe(before);
  });

  it('say where the markers are missing', () => {
    const root = copyCheckout();
    writeFileSync(join(root, 'README.md'), '# Bramble\n');
    expect(docs('--check', '--root', root)).toMatchObject({
      status: 1,
      stderr: 'README.md has no <!-- actions:begin --> … <!-- actions:end --> section; add the two markers where the tables go\n',
    });
  });
});

describe('action.yml and the entries', () => {
  it('are the same actions, in the folders and in src/actions/common.ts', () => {
    expect(readdirSync(join(ROOT, 'actions')).sort()).toEqual([...STEPS].sort());
  });

  it.each(STEPS)('actions/%s/action.yml declares exactly the inputs and outputs its entry uses, with the same defaults', (step) => {
    const yml = actionYml(step);
    const spec = ACTIONS[step];
    expect(Object.keys(yml.inputs ?? {})).toEqual(Object.keys(spec.inputs));
    expect(Object.keys(yml.outputs ?? {})).toEqual([...spec.outputs]);
    for (const [name, fallback] of Object.entries(spec.inputs) as [string, string][]) {
      const declared = yml.inputs?.[name];
      // An expression (the token's `${{ github.token }}`) exists only on the runner; outside it, the entry falls
      // back to GITHUB_TOKEN. A required input has no default.
      const expected = declared?.required ? '' : /\$\{\{/.test(declared?.default ?? '') ? '' : (declared?.default ?? '');
      expect({ name, fallback }).toEqual({ name, fallback: expected });
    }
  });
});
