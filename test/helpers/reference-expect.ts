/**
 * The assertions the recorded-figure tests (`npm test`) and the live ones (`npm run test:reference`) share, so
 * that both suites hold our metrics to the same standard.
 *
 * Metrics agree to 1e-12, relative to max(1, |value|): the two sides sum in different orders (numpy sums
 * pairwise, ROC AUC there is a trapezoid over the curve, here a pair count), which moves the last bits and
 * nothing more.
 */
import { expect } from 'vitest';
import { evaluateRegression, metricsOf } from '../../src/model/evaluate.js';
import { evaluateCase, type ClassificationCase, type RegressionCase, type SkClassification, type SkRegression } from './reference-metrics.js';

export const METRIC_TOLERANCE = 1e-12;

function close(ours: number | null, theirs: number | null, what: string): void {
  if (theirs === null || ours === null) {
    expect(ours, what).toBe(theirs);
    return;
  }
  expect(Math.abs(ours - theirs), `${what}: ours ${ours}, scikit-learn ${theirs}`).toBeLessThanOrEqual(METRIC_TOLERANCE * Math.max(1, Math.abs(theirs)));
}

/** Every classification metric of ours on the case equals scikit-learn's. */
export function expectClassificationAgrees(c: ClassificationCase, sk: SkClassification | undefined): void {
  if (!sk) throw new Error(`scikit-learn has no result for ${c.name}`);
  const ours = evaluateCase(c);

  close(ours.accuracy, sk.accuracy, 'accuracy');
  close(ours.precision, sk.precision, 'precision');
  close(ours.recall, sk.recall, 'recall');
  close(ours.f1, sk.f1, 'f1');
  close(ours.macro.precision, sk.macro.precision, 'macro precision');
  close(ours.macro.recall, sk.macro.recall, 'macro recall');
  close(ours.macro.f1, sk.macro.f1, 'macro f1');
  ours.perClass.forEach((s, i) => {
    close(s.precision, sk.per_class.precision[i], `precision of ${String(s.label)}`);
    close(s.recall, sk.per_class.recall[i], `recall of ${String(s.label)}`);
    close(s.f1, sk.per_class.f1[i], `f1 of ${String(s.label)}`);
    expect(s.support, `support of ${String(s.label)}`).toBe(sk.per_class.support[i]);
  });
  close(ours.roc_auc, sk.roc_auc, 'roc_auc');
  expect(ours.reasons.roc_auc === undefined, `roc_auc reason vs scikit-learn's "${sk.roc_auc_error}"`).toBe(sk.roc_auc_error === null);
  close(ours.log_loss, sk.log_loss, 'log_loss');
  expect(ours.confusion.matrix).toEqual(sk.confusion);

  expect(ours.calibration.bins.map((b) => b.count)).toEqual(sk.calibration.counts);
  const filled = ours.calibration.bins.filter((b) => b.count > 0);
  expect(filled).toHaveLength(sk.calibration.prob_pred.length);
  filled.forEach((b, i) => {
    close(b.meanPredicted, sk.calibration.prob_pred[i], `mean predicted in (${b.lower}, ${b.upper}]`);
    close(b.observedRate, sk.calibration.prob_true[i], `observed rate in (${b.lower}, ${b.upper}]`);
  });
}

/** Every regression metric of ours on the case equals scikit-learn's. */
export function expectRegressionAgrees(c: RegressionCase, sk: SkRegression | undefined): void {
  if (!sk) throw new Error(`scikit-learn has no result for ${c.name}`);
  const ours = evaluateRegression(c.actual, c.predicted);
  close(ours.rmse, sk.rmse, 'rmse');
  close(ours.mae, sk.mae, 'mae');
  close(ours.r2, sk.r2, 'r2');
  expect(metricsOf(ours)).toEqual({ rmse: ours.rmse, mae: ours.mae, r2: ours.r2 });
}
