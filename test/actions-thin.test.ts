// Each action's entry is a thin edge: it reads its inputs, calls one use-case and renders what it returns — short
// enough to read at a glance (30 lines of at most 120 characters), and no step written again in a face.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../src/actions/common.js';

const STEPS = Object.keys(ACTIONS);

describe.each(STEPS)('src/actions/%s.ts', (step) => {
  const text = readFileSync(join(import.meta.dirname, '../src/actions', `${step}.ts`), 'utf8');
  const lines = text.trimEnd().split('\n');

  it('is at most 30 lines of at most 120 characters', () => {
    expect(lines.length).toBeLessThanOrEqual(30);
    expect(lines.filter((line) => line.length > 120)).toEqual([]);
  });

  it('calls one use-case module and no engine module beside it', () => {
    const imports = [...text.matchAll(/from '\.\.\/([\w/-]+)\.js'/g)].map((m) => m[1]);
    expect(imports.filter((path) => path.startsWith('usecases/') && path !== 'usecases/options' && path !== 'usecases/ports')).toHaveLength(1);
    // What an entry may use besides: the report's renderer (the comment it posts).
    expect(imports.filter((path) => !path.startsWith('usecases/') && !['report/render', 'report/view'].includes(path))).toEqual([]);
  });
});
