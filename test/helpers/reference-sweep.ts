/**
 * The sweep's reference: scikit-learn's GridSearchCV searching the same grid on the same folds, for
 * test/sweep-reference.test.ts (recorded figures, in test/reference-figures/sweep.json) and
 * test/reference/sweep.test.ts (live).
 *
 * Decisions:
 * - Both search the same grid (maxDepth × trees) on the same rows: the training side of ml.yaml's split, with our
 *   folds handed to GridSearchCV as a PredefinedSplit, so the only difference left is the forest (ours against
 *   RandomForestClassifier, each seeded its own way). The data set is built so that the grid has a clear best: the
 *   label is an interaction of two columns (an XOR, 10 % of labels flipped) beside two noise columns, which a
 *   stump cannot learn and two trees learn coarsely, so the choice does not hang on either forest's randomness.
 * - The figures carry a fingerprint of the CSV text and of the fold of every row, so a change to the generator,
 *   the split or the fold assignment is never compared with figures of other rows.
 * - The Python is inline (python3 -c): a few lines that read one JSON file and print one.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assignFolds } from '../../src/data/split.js';
import { cellValue, getColumn } from '../../src/data/table.js';
import { prepare } from '../../src/pipeline/run.js';
import { Rng } from '../../src/util/rng.js';
import { fingerprint, FIGURES_DIR, isFiniteNumber, parseJsonObject, readFigures, referencePython, type FigureFile, type Provenance } from './reference.js';

export const SWEEP_FIGURES = 'sweep.json';

/** The grid, in ml.yaml's names and order (scikit-learn's ParameterGrid order: its keys sorted, the last fastest). */
export const REFERENCE_GRID = { maxDepth: [1, 2, 8], trees: [2, 60] } as const;
const SKLEARN_NAMES = { maxDepth: 'max_depth', trees: 'n_estimators' } as const;
const FOLDS = 5;

export const REFERENCE_ML_YAML = `name: xor
task: classification
data: { train: data.csv, target: y, id: id }
model:
  type: random-forest
  params: { trees: 10 }
  seed: 1
split: { test: 0.2, stratify: true, seed: 2 }
metrics: [roc_auc]
sweep:
  params:
    maxDepth: [${REFERENCE_GRID.maxDepth.join(', ')}]
    trees: [${REFERENCE_GRID.trees.join(', ')}]
  folds: ${FOLDS}
  metric: roc_auc
`;

/** 800 rows: id, x1…x4 in [0, 1), y = (x1 > 0.5) xor (x2 > 0.5), 10 % flipped. */
export function referenceCsv(): string {
  const rng = new Rng(20261206, 7);
  const lines = ['id,x1,x2,x3,x4,y'];
  for (let i = 0; i < 800; i++) {
    const x = [rng.float(), rng.float(), rng.float(), rng.float()];
    let y = x[0] > 0.5 !== x[1] > 0.5 ? 1 : 0;
    if (rng.float() < 0.1) y = 1 - y;
    lines.push(`r${i},${x.map((v) => v.toFixed(4)).join(',')},${y ? 'yes' : 'no'}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The folder the sweep runs in: data.csv and ml.yaml. The caller removes it. */
export function referenceRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-sweep-reference-'));
  writeFileSync(join(dir, 'data.csv'), referenceCsv());
  writeFileSync(join(dir, 'ml.yaml'), REFERENCE_ML_YAML);
  return dir;
}

export interface ReferenceInput {
  x: number[][];
  y: string[];
  testFold: number[];
  /** Of the CSV text and the folds. */
  fingerprint: string;
}

/** The training side of the split in `dir`, with our fold of each row: what GridSearchCV is given. */
export async function referenceInput(dir: string): Promise<ReferenceInput> {
  const p = await prepare(dir);
  if (!('split' in p)) throw new Error('the reference data failed validation');
  const table = p.loaded.table;
  const folds = assignFolds(p.split.identities, p.split.train, FOLDS, p.config.split.seed);
  const columns = ['x1', 'x2', 'x3', 'x4'].map((name) => getColumn(table, name));
  const x = p.split.train.map((r) => columns.map((c) => cellValue(c, r) as number));
  const y = p.split.train.map((r) => String(cellValue(getColumn(table, 'y'), r)));
  const testFold = Array.from(folds);
  return { x, y, testFold, fingerprint: fingerprint(referenceCsv(), testFold.join(',')) };
}

export interface SweepFigures {
  fingerprint: string;
  /** GridSearchCV's best_params_, in ml.yaml's names. */
  best: { maxDepth: number; trees: number };
  /** mean_test_score per configuration, in the grid's order. */
  means: number[];
  params: { maxDepth: number; trees: number }[];
}

const GRID_SEARCH_PY = `
import json, sys
import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, PredefinedSplit
d = json.load(open(sys.argv[1]))
search = GridSearchCV(RandomForestClassifier(random_state=0), d["grid"], scoring="roc_auc", cv=PredefinedSplit(np.array(d["test_fold"])), refit=False)
search.fit(np.array(d["x"]), np.array([1 if v == "yes" else 0 for v in d["y"]]))
r = search.cv_results_
print(json.dumps({"sklearn": sklearn.__version__, "numpy": np.__version__, "best": {k: int(v) for k, v in search.best_params_.items()},
  "means": [float(v) for v in r["mean_test_score"]], "params": [{k: int(v) for k, v in p.items()} for p in r["params"]]}))
`;

/** GridSearchCV on the input, now; its figures in ml.yaml's names. */
export function runGridSearch(input: ReferenceInput, python = referencePython()): { figures: SweepFigures; sklearn: string; numpy: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-gridsearch-'));
  try {
    const file = join(dir, 'input.json');
    const grid = { [SKLEARN_NAMES.maxDepth]: REFERENCE_GRID.maxDepth, [SKLEARN_NAMES.trees]: REFERENCE_GRID.trees };
    writeFileSync(file, JSON.stringify({ x: input.x, y: input.y, test_fold: input.testFold, grid }));
    const run = spawnSync(python, ['-c', GRID_SEARCH_PY, file], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 300_000 });
    if (run.error || run.status !== 0) throw new Error(`${python} could not run GridSearchCV (${run.error?.message ?? run.stderr}); install python3-sklearn or set BRAMBLE_REFERENCE_PYTHON`);
    const out = parseJsonObject(run.stdout, 'GridSearchCV');
    const rename = (p: Record<string, number>): { maxDepth: number; trees: number } => ({ maxDepth: p.max_depth, trees: p.n_estimators });
    return {
      figures: { fingerprint: input.fingerprint, best: rename(out.best as Record<string, number>), means: out.means as number[], params: (out.params as Record<string, number>[]).map(rename) },
      sklearn: String(out.sklearn),
      numpy: String(out.numpy),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseSweepFigures(value: unknown, where: string): SweepFigures {
  const f = value as Partial<SweepFigures> | null;
  if (f === null || typeof f !== 'object' || typeof f.fingerprint !== 'string' || !Array.isArray(f.means) || !f.means.every(isFiniteNumber) || !Array.isArray(f.params) || typeof f.best !== 'object') {
    throw new Error(`${where}: the sweep figures need fingerprint, best, means and params`);
  }
  return f as SweepFigures;
}

export function readSweepFigures(): FigureFile<SweepFigures> {
  return readFigures(SWEEP_FIGURES, parseSweepFigures);
}

/** Writes test/reference-figures/sweep.json from GridSearchCV run now; returns its path. */
export async function recordSweepFigures(base: Omit<Provenance, 'versions'>, python = referencePython()): Promise<string> {
  const dir = referenceRepo();
  try {
    const live = runGridSearch(await referenceInput(dir), python);
    const path = join(FIGURES_DIR, SWEEP_FIGURES);
    writeFileSync(path, `${JSON.stringify({ ...base, versions: { 'scikit-learn': live.sklearn, numpy: live.numpy }, figures: live.figures }, null, 2)}\n`);
    return path;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

