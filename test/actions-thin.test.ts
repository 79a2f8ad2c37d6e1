// Each action's entry is a thin edge: it reads its inputs, calls one use-case and renders what it returns — short
// enough to read at a glance (30 lines of at most 120 characters), and no step written again in a face.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../src/actions/common.js';

const STEPS = Object.keys(ACTIONS);
const STEPS_SOURCE = readFileSync(join(import.meta.dirname, '../src/actions/steps.ts'), 'utf8');

/** The use-cases a shared step body of src/actions/steps.ts calls: `await NAME({` inside `export async function STEP`. */
function stepUseCases(step: string): string[] {
  const body = STEPS_SOURCE.slice(STEPS_SOURCE.indexOf(`export async function ${step}(`));
  const end = body.indexOf('\n}\n');
  const called = [...body.slice(0, end).matchAll(/await (validate|train|compare|register|promote|rollback|deploy|watch|retrain|runSweep)\(/g)].map((m) => m[1]);
  return [...new Set(called)];
}

describe.each(STEPS)('src/actions/%s.ts', (step) => {
  const text = readFileSync(join(import.meta.dirname, '../src/actions', `${step}.ts`), 'utf8');
  const lines = text.trimEnd().split('\n');

  it('is at most 30 lines of at most 120 characters', () => {
    expect(lines.length).toBeLessThanOrEqual(30);
    expect(lines.filter((line) => line.length > 120)).toEqual([]);
  });

  it('calls one use-case module (itself, or through the step both faces share) and no engine module beside it', () => {
    const imports = [...text.matchAll(/from '\.\.\/([\w/-]+)\.js'/g)].map((m) => m[1]);
    const shared = [...text.matchAll(/import \{ (\w+) \} from '\.\/steps\.js'/g)].map((m) => m[1]);
    const useCases = imports.filter((path) => path.startsWith('usecases/') && path !== 'usecases/options' && path !== 'usecases/ports');
    expect(useCases.length + shared.length).toBe(1);
    for (const name of shared) expect(stepUseCases(name)).toHaveLength(1);
    // What an entry may use besides: the report's renderer (the comment it posts).
    expect(imports.filter((path) => !path.startsWith('usecases/') && !['report/render', 'report/view'].includes(path))).toEqual([]);
  });
});
