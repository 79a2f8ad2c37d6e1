/**
 * Every metric of src/model/evaluate.ts against scikit-learn 1.2.1's answers on seeded random data (the cases in
 * test/helpers/reference-metrics.ts), as `npm run reference:record` recorded them in
 * test/reference-figures/metrics.json, so this runs where only Node and git are installed. The same cases run
 * against scikit-learn live in test/reference/metrics.test.ts (`npm run test:reference`). Agreement is to 1e-12
 * (test/helpers/reference-expect.ts says why).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { EVALUATION, evaluateClassification, evaluateRegression, metricsOf, rankImportances } from '../src/model/evaluate.js';
import { fingerprint, RECORD_HINT, type FigureFile } from './helpers/reference.js';
import { expectClassificationAgrees, expectRegressionAgrees } from './helpers/reference-expect.js';
import {
  CLASSIFICATION_CASES,
  evaluateCase,
  metricCasesJson,
  readMetricsFigures,
  REGRESSION_CASES,
  type MetricsFigures,
} from './helpers/reference-metrics.js';

let recorded: FigureFile<MetricsFigures>;

beforeAll(() => {
  recorded = readMetricsFigures();
});

describe('classification metrics agree with scikit-learn (recorded)', () => {
  it('compares with figures of these very cases, from the scikit-learn release the tolerances were set against', () => {
    expect(recorded.figures.data, `the metric cases changed since the figures were recorded; ${RECORD_HINT}`).toBe(fingerprint(metricCasesJson()));
    expect(recorded.versions['scikit-learn']).toBe('1.2.1');
  });

  it.each(CLASSIFICATION_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    expectClassificationAgrees(c, recorded.figures.reference.classification.get(name));
  });

  it('the cases reach the edges they are meant to', () => {
    const [byDefault, overridden, , single, three, neverPredicted, neverPresent] = CLASSIFICATION_CASES.map(evaluateCase);
    expect(byDefault).toMatchObject({ positive: 'Yes', calibration: { of: 'positive', label: 'Yes' } });
    expect(overridden).toMatchObject({ positive: 0, calibration: { of: 'positive', label: 0 } });
    expect(single.roc_auc).toBeNull();
    expect(single.reasons.roc_auc).toBe(
      'undefined: all 30 held-out rows are "Yes", and ROC AUC needs rows of both classes; stratify the split (split.stratify) or add data',
    );
    expect(three).toMatchObject({ positive: null, calibration: { of: 'top-label', label: null }, precision: three.macro.precision });
    // zero_division=0: class 3 is in the held-out labels but never predicted.
    expect(neverPredicted.perClass[2]).toMatchObject({ label: 3, precision: 0, recall: 0, f1: 0 });
    expect(neverPredicted.perClass[2].support).toBeGreaterThan(0);
    expect(neverPredicted.confusion.matrix.map((row) => row[2])).toEqual([0, 0, 0]);
    expect(neverPresent.roc_auc).toBeNull();
    expect(neverPresent.reasons.roc_auc).toContain('no held-out row is of class "z"');
    // Macro averages leave out a class absent from both the labels and the predictions, as scikit-learn does.
    const [x, y] = neverPresent.perClass;
    expect(neverPresent.macro.recall).toBe((x.recall + y.recall) / 2);
    // A true class predicted at probability 0 is clipped at ε, not an infinite loss.
    const withZero = CLASSIFICATION_CASES[0].probabilities.some((row, r) => row[CLASSIFICATION_CASES[0].classes.indexOf(CLASSIFICATION_CASES[0].labels[r])] === 0);
    expect(withZero).toBe(true);
    expect(byDefault.log_loss).toBeLessThan(-Math.log(EVALUATION.logLossEpsilon));
  });
});

describe('regression metrics agree with scikit-learn (recorded)', () => {
  it.each(REGRESSION_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    expectRegressionAgrees(c, recorded.figures.reference.regression.get(name));
  });
});

describe('evaluation edge cases', () => {
  const twoRows = { labels: ['No', 'Yes'], classes: ['No', 'Yes'], probabilities: Float64Array.from([0.7, 0.3, 0.4, 0.6]) };

  it('picks the first class when probabilities tie', () => {
    const e = evaluateClassification({ labels: ['a', 'b'], classes: ['a', 'b', 'c'], probabilities: Float64Array.from([0.4, 0.4, 0.2, 0.3, 0.35, 0.35]) });
    expect(e.confusion.matrix).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
  });

  it('takes the headline metrics for the named class', () => {
    expect(metricsOf(evaluateClassification(twoRows))).toEqual({ accuracy: 1, precision: 1, recall: 1, f1: 1, roc_auc: 1, log_loss: -(Math.log(0.7) + Math.log(0.6)) / 2 });
  });

  it.each([
    ['no rows', { labels: [], classes: ['No', 'Yes'], probabilities: new Float64Array(0) }, 'cannot evaluate on 0 held-out rows'],
    ['a label the model never saw', { ...twoRows, labels: ['No', 'Maybe'] }, 'held-out row 1: label "Maybe" is not one of the model\'s classes ["No", "Yes"]'],
    ['too few probabilities', { ...twoRows, probabilities: Float64Array.from([1, 0, 1]) }, 'probabilities hold 3 values but 2 rows × 2 classes need 4'],
    ['scores that are not probabilities', { ...twoRows, probabilities: Float64Array.from([0.7, 0.7, 0.4, 0.6]) }, 'held-out row 0: the class probabilities sum to 1.4, not 1'],
    ['a probability of NaN', { ...twoRows, probabilities: Float64Array.from([Number.NaN, 1, 0.4, 0.6]) }, 'held-out row 0: the probability of class "No" is NaN'],
    ['a positive class that is not a class', { ...twoRows, positive: 'yes' }, 'positive class "yes" is not one of the model\'s classes ["No", "Yes"]'],
    [
      'a positive class with three classes',
      { labels: ['a'], classes: ['a', 'b', 'c'], probabilities: Float64Array.from([1, 0, 0]), positive: 'a' },
      'with more than two, precision, recall and F1 are macro averages — leave positive out',
    ],
    ['one class', { labels: ['a'], classes: ['a'], probabilities: Float64Array.from([1]) }, 'the model has 1 class(es) ["a"]'],
  ])('rejects %s', (_, input, message) => {
    expect(() => evaluateClassification(input)).toThrow(message);
    expect(() => evaluateClassification(input)).toThrowError(expect.objectContaining({ code: 'E_EVALUATION_INPUT' }));
  });

  it.each([
    ['no rows', [], [], 'cannot evaluate on 0 held-out rows'],
    ['mismatched lengths', [1, 2], [1], '1 predictions for 2 held-out rows'],
    ['a missing target', [1, Number.NaN], [1, 2], 'held-out row 1: the target is NaN'],
    ['an infinite prediction', [1, 2], [1, Number.POSITIVE_INFINITY], 'held-out row 1: the prediction is Infinity'],
  ])('rejects regression input with %s', (_, actual, predicted, message) => {
    expect(() => evaluateRegression(actual, predicted)).toThrow(message);
  });

  it('reports R² of a constant target as undefined, with the reason', () => {
    const e = evaluateRegression([3, 3, 3], [2, 3, 4]);
    expect(e).toEqual({
      task: 'regression',
      rows: 3,
      rmse: Math.sqrt(2 / 3),
      mae: 2 / 3,
      r2: null,
      reasons: { r2: 'undefined: every one of the 3 held-out targets is 3, so there is no variance to explain; add data with varied targets' },
    });
  });

  it('ranks feature importances, most important first, ties in feature order', () => {
    expect(rankImportances(['age', 'tenure', 'charges', 'plan'], Float64Array.from([0.1, 0.5, 0.3, 0.1]))).toEqual([
      { feature: 'tenure', importance: 0.5 },
      { feature: 'charges', importance: 0.3 },
      { feature: 'age', importance: 0.1 },
      { feature: 'plan', importance: 0.1 },
    ]);
    expect(() => rankImportances(['age'], [0.5, 0.5])).toThrow('2 importances for 1 features');
  });
});
