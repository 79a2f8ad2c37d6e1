// What the model card (card.ts) and the training report (training-report.ts) both say about an artifact: its
// sections' names, its number formats, its metrics, steps and parameters, as Markdown text built with the one
// kit (markdown.ts). Pure and deterministic: no clock, no locale, computed numbers at a fixed CARD.decimals.
import type { MlConfig } from '../config/ml-yaml.js';
import type { Metric } from '../model/metric-names.js';
import type { ColumnProfile } from '../data/profile.js';
import type { FittedStep } from '../features/transforms.js';
import { artifactView, type ArtifactView } from '../model/artifact-schema.js';
import { ARTIFACT } from '../model/artifact.js';
import { metricsOf, type ClassificationEvaluation } from '../model/evaluate.js';
import type { Label } from '../model/forest/forest.js';
import type { ForestParams } from '../model/forest/options.js';
import type { ValidationResult } from '../data/validate.js';
import { escapeMarkdown, markdownTable, percent, plural } from './markdown.js';

/** Names that cross a boundary: the section headings people and tests look for, and the number format. */
export const CARD = {
  /** Decimals of every computed number (metrics, means, importances). */
  decimals: 4,
  /** Hex digits of a sha256 shown inline; the Lineage section gives each in full. */
  shortSha: 12,
  /** Most frequent values shown per category column in the report's profile table. */
  topValues: 3,
  /** The card's sections, in order. */
  sections: ['Purpose', 'Data', 'Metrics', 'Parameters', 'Lineage', 'Signature', 'Limits'],
  /** The report's sections, in order; Confusion matrix and Calibration for classification, Residuals for regression. */
  reportSections: ['Metrics', 'Confusion matrix', 'Calibration', 'Residuals', 'Feature importances', 'Validation', 'Data profile', 'Features', 'Parameters'],
} as const;

export type CardSection = (typeof CARD.sections)[number];
export type ReportSection = (typeof CARD.reportSections)[number];

export interface CardInput {
  /** The opened model artifact (openArtifact's result: sha256 included). */
  artifact: Record<string, unknown>;
  /** The registered version, as the tag has it: 'v1.2.0'. */
  version: string;
  /** ml.yaml of the source commit, when known: compare gates and monitor settings. */
  config?: MlConfig;
  /** The data validation at registration. */
  validation?: ValidationResult;
  registered?: { by: { name: string; email: string }; at: string; commit: string };
}

export function viewOf(artifact: Record<string, unknown>): ArtifactView {
  return artifactView(artifact, ARTIFACT.file);
}

/** A level-2 heading, typed against CARD so that the headings the registry and tests look for cannot drift. */
export function heading(name: CardSection | ReportSection): string {
  return `## ${name}`;
}

export function fixed(x: number): string {
  return x.toFixed(CARD.decimals);
}

/** A computed number: integers as they are, anything else at CARD.decimals. */
export function num(x: number): string {
  return Number.isInteger(x) ? String(x) : fixed(x);
}

export function shortSha(sha: string): string {
  return sha.slice(0, CARD.shortSha);
}

export function labelList(labels: readonly Label[]): string {
  return labels.map((v) => escapeMarkdown(v)).join(', ');
}

export const METRIC_NAMES: Readonly<Record<Metric, string>> = {
  accuracy: 'Accuracy',
  precision: 'Precision',
  recall: 'Recall',
  f1: 'F1',
  roc_auc: 'ROC AUC',
  log_loss: 'Log loss',
  rmse: 'RMSE',
  mae: 'MAE',
  r2: 'R²',
};

/** The gateable metrics of the evaluation, in evaluate.ts's order, null where undefined. */
export function metricRows(view: ArtifactView): { metric: Metric; value: number | null; reason?: string }[] {
  const values = metricsOf(view.metrics);
  return (Object.keys(values) as Metric[]).map((metric) => ({ metric, value: values[metric] ?? null, reason: view.metrics.reasons[metric] }));
}

export function metricNote(view: ArtifactView, metric: Metric): string {
  const m = view.metrics;
  if (m.task !== 'classification') return '';
  if (metric === 'precision' || metric === 'recall' || metric === 'f1') {
    return m.positive !== null ? `for class ${escapeMarkdown(m.positive)}` : 'macro average over classes';
  }
  if (metric === 'roc_auc') return m.positive !== null ? `${escapeMarkdown(m.positive)} against the rest` : 'one-vs-rest, macro average';
  return '';
}

export function gateText(config: MlConfig | undefined, metric: Metric): string {
  const gate = config?.compare?.gates[metric];
  if (!gate) return '';
  return (['min', 'max', 'max_drop', 'max_rise'] as const)
    .filter((rule) => gate[rule] !== undefined)
    .map((rule) => `${rule} ${num(gate[rule] as number)}`)
    .join(', ');
}

export function heldOutRows(view: ArtifactView): number {
  return view.metrics.rows;
}

export function trainingRows(view: ArtifactView): number {
  // Older artifacts record no split counts; their split put every row of the file in exactly one part.
  return view.lineage.split.rows?.train ?? view.lineage.data.rows - view.metrics.rows;
}

export function onehotSteps(view: ArtifactView): Extract<FittedStep, { kind: 'onehot' }>[] {
  return view.features.steps.filter((s): s is Extract<FittedStep, { kind: 'onehot' }> => s.kind === 'onehot');
}

export function ordinalSteps(view: ArtifactView): Extract<FittedStep, { kind: 'ordinal' }>[] {
  return view.features.steps.filter((s): s is Extract<FittedStep, { kind: 'ordinal' }> => s.kind === 'ordinal');
}

/** An ordinal column's labels, the first few only: a route column may have hundreds. */
export function ordinalLabels(categories: readonly string[]): string {
  const shown = categories.slice(0, CARD.topValues);
  return `${labelList(shown)}${categories.length > shown.length ? ', …' : ''}`;
}

export function imputeSteps(view: ArtifactView): Extract<FittedStep, { kind: 'impute' }>[] {
  return view.features.steps.filter((s): s is Extract<FittedStep, { kind: 'impute' }> => s.kind === 'impute');
}

export function profileOf(view: ArtifactView, column: string): ColumnProfile | undefined {
  return view.profile.columns.find((c) => c.name === column);
}

export function estimatorName(view: ArtifactView): string {
  return `random forest of ${plural(view.estimator.params.trees, 'tree')}`;
}

export function paramValue(value: unknown): string {
  if (value === null) return 'none';
  if (typeof value === 'object') return escapeMarkdown(JSON.stringify(value));
  return escapeMarkdown(value);
}

/** The forest's parameters in the order ml.yaml's reference lists them; any the format adds later follow, sorted. */
export const PARAM_ORDER: readonly (keyof ForestParams)[] = ['trees', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxFeatures', 'bootstrap', 'maxSamples', 'classWeight', 'maxBins', 'seed'];

export function paramTable(view: ArtifactView): string[] {
  const p = view.lineage.params;
  const rest = (Object.keys(p) as (keyof ForestParams)[]).filter((key) => key !== 'task' && !PARAM_ORDER.includes(key)).sort();
  const rows = [...PARAM_ORDER.filter((key) => key in p), ...rest].map((key) => [escapeMarkdown(key), paramValue(p[key])]);
  rows.push([escapeMarkdown('model seed (ml.yaml model.seed)'), escapeMarkdown(view.lineage.seed)]);
  rows.push([escapeMarkdown('split'), escapeMarkdown(`${percent(view.lineage.split.test)} held out, ${view.lineage.split.stratify ? 'stratified' : 'not stratified'}, seed ${view.lineage.split.seed}`)]);
  return markdownTable(['parameter', 'value'], rows);
}

/** The target's counts in the data file, as "No 5174 (73.5%), Yes 1869 (26.5%)", when the profile kept them. */
export function classBalance(view: ArtifactView): string | null {
  const p = profileOf(view, view.signature.target);
  if (!p || p.kind !== 'category' || p.count === 0) return null;
  const shown = p.top.map(([value, count]) => `${escapeMarkdown(value)} ${count} (${percent(count / p.count)})`).join(', ');
  return p.top.length < p.distinct ? `${shown}, and ${p.distinct - p.top.length} rarer classes` : shown;
}

/** The row-weighted mean gap between predicted and observed (the expected calibration error), and the largest one. */
export function calibrationGap(metrics: ClassificationEvaluation): { expected: number; largest: { gap: number; rows: number } } | null {
  let weighted = 0;
  let rows = 0;
  let largest: { gap: number; rows: number } | null = null;
  for (const bin of metrics.calibration.bins) {
    if (bin.meanPredicted === null || bin.observedRate === null) continue;
    const gap = Math.abs(bin.meanPredicted - bin.observedRate);
    weighted += gap * bin.count;
    rows += bin.count;
    if (largest === null || gap > largest.gap) largest = { gap, rows: bin.count };
  }
  return largest === null ? null : { expected: weighted / rows, largest };
}
