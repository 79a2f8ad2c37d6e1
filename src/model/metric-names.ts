import type { Task } from './forest/options.js';

/**
 * The metrics Bramble computes, by task, and the gates that compare them: the model's vocabulary, which ml.yaml
 * (src/config) refers to. Kept here so that the model imports nothing from config.
 */
export const CLASSIFICATION_METRICS = ['roc_auc', 'f1', 'accuracy', 'precision', 'recall', 'log_loss'] as const;
export const REGRESSION_METRICS = ['rmse', 'mae', 'r2'] as const;
/** The metrics computed when ml.yaml lists none (the schema's description says the same). */
export const DEFAULT_METRICS = {
  classification: ['roc_auc', 'f1', 'accuracy'],
  regression: ['rmse', 'mae', 'r2'],
} as const satisfies Record<Task, readonly Metric[]>;

export type ClassificationMetric = (typeof CLASSIFICATION_METRICS)[number];
export type RegressionMetric = (typeof REGRESSION_METRICS)[number];
export type Metric = ClassificationMetric | RegressionMetric;

/** A bound on a metric that a candidate must meet: absolute (min, max) or against the champion (max_drop, max_rise). */
export interface Gate {
  min?: number;
  max?: number;
  max_drop?: number;
  max_rise?: number;
}
