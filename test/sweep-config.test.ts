// ml.yaml's sweep: block: accepted as documented, refused at the line and column of what is wrong.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadMlYaml } from '../src/config/ml-yaml.js';
import { halvingRounds, sweepTrials } from '../src/sweep/space.js';
import { BASE_YAML } from './helpers/sweep-repo.js';

function problems(sweep: string, base = BASE_YAML): string {
  try {
    loadMlYaml(base + sweep);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return 'accepted';
}

describe('sweep: in ml.yaml', () => {
  it('fills in the defaults: grid, 5 folds', () => {
    const config = loadMlYaml(`${BASE_YAML}sweep:\n  params:\n    trees: [10, 20]\n`);
    expect(config.sweep).toEqual({ strategy: 'grid', params: { trees: [10, 20] }, folds: 5 });
  });

  it.each([
    ['a name that is not a forest parameter', 'sweep:\n  params:\n    max_depth: [2, 4]\n', 'ml.yaml:14:5 sweep.params.max_depth: is not a forest parameter; did you mean "maxDepth"?'],
    ['a value the forest refuses', 'sweep:\n  params:\n    trees: [10, 0]\n', 'ml.yaml:14:17 sweep.params.trees[1]: 0 cannot be trained with the rest of model.params: is 0; allowed: an integer from 1 to 100000'],
    ['a range under grid', 'sweep:\n  params:\n    maxDepth: { min: 2, max: 8 }\n', 'ml.yaml:13:3 sweep.strategy: a grid lists every value'],
    ['random without trials', 'sweep:\n  strategy: random\n  params:\n    maxDepth: { min: 2, max: 8 }\n', 'sweep: strategy: random over ranges needs trials'],
    ['a range with min above max', 'sweep:\n  strategy: random\n  trials: 4\n  params:\n    maxDepth: { min: 9, max: 8 }\n', 'sweep.params.maxDepth.min: is above max (9 > 8); swap them'],
    ['a range on a parameter that is not numeric', 'sweep:\n  strategy: random\n  trials: 4\n  params:\n    bootstrap: { min: 0, max: 1 }\n', 'bootstrap is not numeric, so it takes a list of values'],
    ['a fractional range on a whole-number parameter', 'sweep:\n  strategy: random\n  trials: 4\n  params:\n    trees: { min: 1.5, max: 8 }\n', 'sweep.params.trees.min: trees is a whole number'],
    ['a metric of the other task', 'sweep:\n  params:\n    trees: [10, 20]\n  metric: rmse\n', 'ml.yaml:15:11 sweep.metric: "rmse" is a regression metric but task is classification'],
    ['a grid larger than trials', 'sweep:\n  trials: 3\n  params:\n    trees: [10, 20]\n    maxDepth: [2, 4]\n', 'sweep.trials: the grid has 4 configurations, more than trials: 3'],
    ['one fold', 'sweep:\n  folds: 1\n  params:\n    trees: [10, 20]\n', 'ml.yaml:13:10 sweep.folds: must be an integer from 2 to 20 (got 1)'],
    ['an unknown strategy', 'sweep:\n  strategy: bayes\n  params:\n    trees: [10, 20]\n', 'ml.yaml:13:13 sweep.strategy: must be one of "grid", "random", "halving" (got "bayes")'],
  ])('refuses %s, at its place', (_, sweep, expected) => {
    expect(problems(sweep)).toContain(expected);
  });

  it('refuses folds with a time split', () => {
    const base = BASE_YAML.replace('split: { test: 0.2, stratify: true, seed: 5 }', 'split: { test: 0.2, by: x1 }');
    expect(problems('sweep:\n  params:\n    trees: [10, 20]\n', base)).toContain('sweep: k-fold cross-validation mixes times, but split.by "x1" asks for a time split');
  });
});

describe('the trials', () => {
  it('a grid is the product of the lists in ml.yaml order, the last varying fastest', () => {
    const trials = sweepTrials({ strategy: 'grid', params: { trees: [10, 20], maxDepth: [2, 4, null] }, folds: 5 }, 1);
    expect(trials.map((t) => t.params)).toEqual([
      { trees: 10, maxDepth: 2 },
      { trees: 10, maxDepth: 4 },
      { trees: 10, maxDepth: null },
      { trees: 20, maxDepth: 2 },
      { trees: 20, maxDepth: 4 },
      { trees: 20, maxDepth: null },
    ]);
    expect(trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('random draws are the same for the same seed, inside their ranges, and differ for another seed', () => {
    const sweep = { strategy: 'random' as const, trials: 50, params: { maxDepth: { min: 2, max: 9 }, maxFeatures: { min: 0.2, max: 0.8 }, trees: { min: 10, max: 1000, log: true } }, folds: 3 };
    const a = sweepTrials(sweep, 7);
    expect(sweepTrials(sweep, 7)).toEqual(a);
    expect(sweepTrials(sweep, 8)).not.toEqual(a);
    for (const { params } of a) {
      expect(Number.isInteger(params.maxDepth) && (params.maxDepth as number) >= 2 && (params.maxDepth as number) <= 9).toBe(true);
      expect((params.maxFeatures as number) >= 0.2 && (params.maxFeatures as number) <= 0.8).toBe(true);
      expect(Math.round((params.maxFeatures as number) * 1000) / 1000).toBe(params.maxFeatures);
      expect(Number.isInteger(params.trees) && (params.trees as number) >= 10 && (params.trees as number) <= 1000).toBe(true);
    }
    // Both ends of an integer range are drawn.
    const depths = new Set(a.map((t) => t.params.maxDepth));
    expect(depths.has(2) && depths.has(9)).toBe(true);
  });

  it.each([
    [1, [1]],
    [3, [1 / 3, 1]],
    [24, [1 / 27, 1 / 9, 1 / 3, 1]],
  ])('successive halving of %i candidates: rounds on these shares of the rows', (candidates, shares) => {
    expect(halvingRounds(candidates).map((r) => r.share)).toEqual(shares);
  });
});
