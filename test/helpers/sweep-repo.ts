// A small model folder for the sweep tests: a seeded two-class table (an id column, two numbers, a category) and an
// ml.yaml with a sweep block, written to a temporary folder; optionally a git repository.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTHOR, git } from './git.js';

/** Rows of a seeded table: y is 1 when x1 + x2 (+ noise) is large, more often for category c. */
export function sweepRows(count: number, seed: number, firstId = 0): string[] {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const rows: string[] = [];
  for (let i = 0; i < count; i++) {
    const x1 = next() * 10;
    const x2 = next() * 10;
    const cat = ['a', 'b', 'c'][Math.floor(next() * 3)];
    const noise = (next() - 0.5) * 6;
    const y = x1 + x2 + (cat === 'c' ? 2 : 0) + noise > 11 ? 'yes' : 'no';
    rows.push(`u${firstId + i},${x1.toFixed(3)},${x2.toFixed(3)},${cat},${y}`);
  }
  return rows;
}

export const SWEEP_HEADER = 'uid,x1,x2,cat,y';

export const BASE_YAML = `name: sweepy
task: classification
data: { train: data.csv, target: y, id: uid }
features:
  - onehot: [cat]
model:
  type: random-forest
  params: { trees: 10, maxDepth: 4 }
  seed: 3
split: { test: 0.2, stratify: true, seed: 5 }
metrics: [roc_auc, accuracy]
`;

/** A folder with data.csv (`rows` rows) and ml.yaml (BASE_YAML + `sweep`); a git repository with `git: true`. */
export function sweepRepo(sweep: string, options: { rows?: number; git?: boolean; data?: string[] } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-sweep-'));
  const rows = options.data ?? sweepRows(options.rows ?? 400, 11);
  writeFileSync(join(dir, 'data.csv'), `${SWEEP_HEADER}\n${rows.join('\n')}\n`);
  writeFileSync(join(dir, 'ml.yaml'), `${BASE_YAML}${sweep}`);
  if (options.git) {
    writeFileSync(join(dir, '.gitignore'), '.bramble/\n');
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'config', 'user.name', AUTHOR.name);
    git(dir, 'config', 'user.email', AUTHOR.email);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'a model');
  }
  return dir;
}
