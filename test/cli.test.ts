import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RandomForest } from '../src/model/forest/forest.js';
import { bramble } from './helpers/cli.js';

const iris = join(import.meta.dirname, 'fixtures/datasets/iris.csv');
const churn = join(import.meta.dirname, '../templates/model-repo/data/churn.csv');

describe('bramble', () => {
  it('prints its help and exits 0', () => {
    const r = bramble(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatchSnapshot();
  });

  it('prints the forest train help', () => {
    const r = bramble(['forest', 'train', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatchSnapshot();
  });

  it('trains on a CSV file, scores the held-out part and writes a model that loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-cli-'));
    const out = join(dir, 'model.json');
    const r = bramble(['forest', 'train', '--data', iris, '--target', 'target', '--trees', '30', '--seed', '3', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout) as { metric: string; heldOut: number; testRows: number; trainRows: number };
    expect(result).toMatchObject({ metric: 'accuracy', trainRows: 111, testRows: 39 });
    expect(result.heldOut).toBeGreaterThanOrEqual(0.85);
    const model = RandomForest.fromJSON(JSON.parse(readFileSync(out, 'utf8')));
    expect(model.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(model.params).toMatchObject({ trees: 30, seed: 3 });
  });

  it('trains a forest on the template data without an ml.yaml', () => {
    const r = bramble(['forest', 'train', '--data', churn, '--target', 'Churn', '--drop', 'customerID', '--trees', '50', '--max-depth', '12', '--seed', '7']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^.*churn\.csv: 7043 rows, 45 features \(5282 to train, 1761 held out\)$/m);
    const accuracy = Number(/held-out accuracy ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(0.77);
  });

  it.each([
    [['forest', 'train', '--data', 'no-such.csv', '--target', 'x'], 'bramble: the data file no-such.csv does not exist; check --data\n'],
    [['forest', 'train', '--target', 'x'], 'bramble: bramble forest train needs --data FILE (a CSV file); see bramble forest train --help\n'],
    [['forest', 'train', '--data', iris, '--target', 'species'], `bramble: ${iris} has no column "species" for the target; its columns are "x0", "x1", "x2", "x3", "target"\n`],
    [['forest', 'train', '--data', iris, '--target', 'target', '--trees', 'lots'], 'bramble: --trees is "lots"; give a number\n'],
    [['forest', 'train', '--data', iris, '--target', 'target', '--trees', '0'], 'bramble: forest option trees is 0; allowed: an integer from 1 to 100000\n'],
    [['forest', 'train', '--data', iris, '--target', 'target', '--test', '1.5'], 'bramble: --test is 1.5; give a share between 0 and 1, such as 0.25\n'],
    [['forest', 'train', '--data', iris, '--target', 'target', '--task', 'clustering'], 'bramble: --task is "clustering"; use classification or regression\n'],
    [['frobnicate'], 'bramble: unknown command "frobnicate"; run bramble --help for the list\n'],
  ])('refuses %j with exit 2 and one line', (args, message) => {
    const r = bramble([...args]);
    expect(r.stderr).toBe(message);
    expect(r.status).toBe(2);
  });

  it('writes no model file when training fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-cli-'));
    const out = join(dir, 'model.json');
    const r = bramble(['forest', 'train', '--data', iris, '--target', 'target', '--max-features', '9', '--out', out]);
    expect(r.stderr).toBe(
      'bramble: forest option maxFeatures is 9 but the data has 4 features; use an integer from 1 to 4, a fraction, "sqrt", "log2" or "all"\n',
    );
    expect(r.status).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});
