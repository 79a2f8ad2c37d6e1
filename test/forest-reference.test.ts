/**
 * Reference results: our forest's held-out accuracy (R² for regression) against scikit-learn's RandomForest on
 * the fixture data sets and a Friedman #1 set, and against ml-random-forest (a dev dependency, as an oracle) on
 * small data. Both sides train and score on the very same rows: our seeded split.
 *
 * scikit-learn's side is the figures `npm run reference:record` wrote to test/reference-figures/forest.json, so
 * this runs where only Node and git are installed; test/reference/forest.test.ts (`npm run test:reference`)
 * compares with scikit-learn live, on the same cases. Our side is trained afresh here every time, and each
 * recorded figure is used only if the data regenerated now have its fingerprint.
 *
 * One forest's score swings with its seed, and iris and wine hold out ~40 rows (2.5 points a row), so every
 * comparison is of MEANS over several forest seeds and, for the small sets, several splits. Tolerances are the
 * issue's: 1.5 points of accuracy, 0.02 of R².
 *
 * Training uses 2 threads, so `npm run build` must have built dist/forest-worker.js.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  friedman1,
  loadFixture,
  mean,
  METRIC,
  prepareCase,
  RECORD_HINT,
  readForestFigures,
  scoreCase,
  scoreMlForest,
  scoreOurs,
  SKLEARN_CASES,
  splitDataset,
  TEST_SHARE,
  TOLERANCE,
  type Dataset,
  type FigureFile,
  type ForestFigure,
  type SplitData,
} from './helpers/reference.js';

const WORKERS = 2;

interface MlCase {
  name: string;
  data: () => Dataset;
  splits: number;
  seeds: number[];
  floor: number;
}

/**
 * ml-random-forest draws features once per tree (not per split) and is slow, so it is compared where the two
 * algorithms coincide: 25 bagged trees that see every feature (ours maxFeatures 'all', its maxFeatures 1.0).
 */
const ML_TREES = 25;
const ML_CASES: MlCase[] = [
  { name: 'iris', data: () => loadFixture('iris', 'classification'), splits: 5, seeds: [0, 1, 2], floor: 0.9 },
  { name: 'wine', data: () => loadFixture('wine', 'classification'), splits: 5, seeds: [0, 1, 2], floor: 0.9 },
  { name: 'friedman1-400', data: () => friedman1(400, 2), splits: 2, seeds: [0, 1, 2], floor: 0.65 },
];

interface Row {
  data: string;
  metric: string;
  reference: string;
  ours: number;
  theirs: number;
  /** Training and scoring time, all seeds and splits. */
  oursSeconds: number;
}
const table: Row[] = [];

function report(row: Row): void {
  table.push(row);
  console.log(`${row.data} (${row.metric}): ours ${row.ours.toFixed(4)}, ${row.reference} ${row.theirs.toFixed(4)}, gap ${(row.ours - row.theirs).toFixed(4)} (${row.oursSeconds.toFixed(1)} s)`);
}

function splitsOf(data: Dataset, count: number): SplitData[] {
  return Array.from({ length: count }, (_, seed) => splitDataset(data, TEST_SHARE, seed));
}

afterAll(() => {
  if (table.length === 0) return;
  const lines = [
    'data set       metric    reference                        ours   theirs      gap   ours s',
    ...table.map(
      (r) =>
        `${r.data.padEnd(14)} ${r.metric.padEnd(9)} ${r.reference.padEnd(29)} ${r.ours.toFixed(4).padStart(7)} ` +
        `${r.theirs.toFixed(4).padStart(8)} ${(r.ours - r.theirs).toFixed(4).padStart(8)} ${r.oursSeconds.toFixed(1).padStart(8)}`,
    ),
  ];
  console.log(lines.join('\n'));
});

describe('against ml-random-forest (25 bagged trees on every feature)', () => {
  it.each(ML_CASES)('$name: mean held-out score within tolerance of ml-random-forest', async (c) => {
    const data = c.data();
    const splits = splitsOf(data, c.splits);
    const ours: number[] = [];
    const theirs: number[] = [];
    const started = performance.now();
    for (const split of splits) {
      for (const seed of c.seeds) {
        ours.push(await scoreOurs({ task: data.task, trees: ML_TREES, maxFeatures: 'all', seed }, split, WORKERS));
        theirs.push(scoreMlForest(data.task, { nEstimators: ML_TREES, maxFeatures: 1, seed }, split));
      }
    }
    const row: Row = {
      data: c.name,
      metric: METRIC[data.task],
      reference: 'ml-random-forest',
      ours: mean(ours),
      theirs: mean(theirs),
      oursSeconds: (performance.now() - started) / 1000,
    };
    report(row);
    expect(ours).toHaveLength(c.splits * c.seeds.length);
    expect(row.theirs, `ml-random-forest's own ${row.metric} on ${c.name}`).toBeGreaterThanOrEqual(c.floor);
    expect(
      Math.abs(row.ours - row.theirs),
      `${c.name}: our mean ${row.metric} ${row.ours.toFixed(4)} vs ml-random-forest's ${row.theirs.toFixed(4)}`,
    ).toBeLessThanOrEqual(TOLERANCE[data.task]);
  });
});

describe('against scikit-learn\'s recorded figures (100 trees, its default max_features)', () => {
  let recorded: FigureFile<Record<string, ForestFigure>>;
  beforeAll(() => {
    recorded = readForestFigures();
  });

  it('every case has a figure, recorded with a named scikit-learn release on a date', () => {
    expect(Object.keys(recorded.figures).sort()).toEqual(SKLEARN_CASES.map((c) => c.name).sort());
    expect(recorded.versions['scikit-learn']).toMatch(/^\d+\.\d+/);
    expect(recorded.recorded).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it.each(SKLEARN_CASES)('$name: mean held-out score within tolerance of scikit-learn\'s recorded one', async (c) => {
    const figure = recorded.figures[c.name];
    if (!figure) throw new Error(`test/reference-figures/forest.json has no figure for ${c.name}; ${RECORD_HINT}`);
    const prepared = prepareCase(c);
    // The figure belongs to these very rows and this very case, or it says nothing about our forest.
    expect({ data: figure.data, trees: figure.trees, maxFeatures: figure.maxFeatures, seeds: figure.seeds, splits: figure.splits }, `${c.name}: the case or its data changed since the figures were recorded; ${RECORD_HINT}`).toEqual({
      data: prepared.fingerprint,
      trees: c.trees,
      maxFeatures: c.maxFeatures,
      seeds: c.seeds,
      splits: c.splits,
    });
    expect(figure.scores.map((s) => s.length)).toEqual(Array.from({ length: c.splits }, () => c.seeds.length));
    expect(figure.mean).toBeCloseTo(mean(figure.scores.flat()), 12);

    const ours = await scoreCase(prepared, WORKERS);
    const row: Row = {
      data: c.name,
      metric: METRIC[prepared.task],
      reference: `scikit-learn ${recorded.versions['scikit-learn']} (recorded)`,
      ours: mean(ours.scores),
      theirs: figure.mean,
      oursSeconds: ours.seconds,
    };
    report(row);
    expect(row.theirs, `scikit-learn's own ${row.metric} on ${c.name}`).toBeGreaterThanOrEqual(c.floor);
    expect(
      Math.abs(row.ours - row.theirs),
      `${c.name}: our mean ${row.metric} ${row.ours.toFixed(4)} vs scikit-learn's ${row.theirs.toFixed(4)} (recorded ${recorded.recorded})`,
    ).toBeLessThanOrEqual(TOLERANCE[prepared.task]);
  }, 180_000);
});
