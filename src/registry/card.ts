// The documents the registry stores beside a registered version's model.json: the model card (card.md), the
// training report (report.md) and the flat metrics (metrics.json). The card follows Mitchell et al., "Model Cards
// for Model Reporting" (2019), and Hugging Face's model cards, with one rule of our own: every sentence is derived
// from the artifact, ml.yaml or the registration record. Nothing is claimed that the data does not show; what
// nobody recorded (intended use, users) is said to be unrecorded rather than made up.
//
// Decisions:
// - Pure and deterministic: the same input gives the same bytes. No clock, no locale (toLocaleString depends on
//   the ICU data Node was built with), computed numbers at a fixed CARD.decimals.
// - Table cells are plain text with Markdown's inline characters escaped, never code spans: inside a code span a
//   backslash is literal, so `\|` could not be both escaped for the table and shown right.
// - The artifact is checked against its schema before it is read, so a damaged file fails with the JSON pointer
//   of the problem instead of a card that says "undefined".
import type { MlConfig } from '../config/ml-yaml.js';
import type { Metric } from '../model/metric-names.js';
import type { TableProfile, ColumnProfile } from '../data/profile.js';
import { VALIDATION_RULES, type ValidationResult } from '../data/validate.js';
import type { FeatureInput, FeaturesJSON, FittedStep } from '../features/transforms.js';
import type { SourceLineage } from '../lineage/source.js';
import { artifactView, type ArtifactView } from '../model/artifact-schema.js';
import { ARTIFACT } from '../model/artifact.js';
import { METRIC_DIRECTIONS } from '../model/compare.js';
import { metricsOf, rankImportances, type ClassificationEvaluation, type Evaluation, type RegressionEvaluation } from '../model/evaluate.js';
import type { Label } from '../model/forest/forest.js';
import type { ForestParams } from '../model/forest/options.js';

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

type CardSection = (typeof CARD.sections)[number];
type ReportSection = (typeof CARD.reportSections)[number];

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

function viewOf(artifact: Record<string, unknown>): ArtifactView {
  return artifactView(artifact, ARTIFACT.file);
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

/** Plain text safe in a paragraph or a table cell: inline markup characters escaped, no line breaks. */
function esc(value: unknown): string {
  return String(value)
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

/** A code span that survives any backticks in the value (CommonMark: a longer fence, padded by spaces). */
function code(value: unknown): string {
  const text = String(value).replace(/\r\n|\r|\n/g, ' ');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 || text.startsWith(' ') || text.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A table; cells are already-escaped text (build them with esc or the number formats). */
function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (right.includes(i) ? '---:' : '---'))), ...rows.map(line)];
}

/** A level-2 heading, typed against CARD so that the headings the registry and tests look for cannot drift. */
function heading(name: CardSection | ReportSection): string {
  return `## ${name}`;
}

function fixed(x: number): string {
  return x.toFixed(CARD.decimals);
}

/** A computed number: integers as they are, anything else at CARD.decimals. */
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : fixed(x);
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function shortSha(sha: string): string {
  return sha.slice(0, CARD.shortSha);
}

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

function labelList(labels: readonly Label[]): string {
  return labels.map(esc).join(', ');
}

// ---------------------------------------------------------------------------------------------------------------
// Shared facts

const METRIC_NAMES: Readonly<Record<Metric, string>> = {
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
function metricRows(view: ArtifactView): { metric: Metric; value: number | null; reason?: string }[] {
  const values = metricsOf(view.metrics);
  return (Object.keys(values) as Metric[]).map((metric) => ({ metric, value: values[metric] ?? null, reason: view.metrics.reasons[metric] }));
}

function metricNote(view: ArtifactView, metric: Metric): string {
  const m = view.metrics;
  if (m.task !== 'classification') return '';
  if (metric === 'precision' || metric === 'recall' || metric === 'f1') {
    return m.positive !== null ? `for class ${esc(m.positive)}` : 'macro average over classes';
  }
  if (metric === 'roc_auc') return m.positive !== null ? `${esc(m.positive)} against the rest` : 'one-vs-rest, macro average';
  return '';
}

function gateText(config: MlConfig | undefined, metric: Metric): string {
  const gate = config?.compare?.gates[metric];
  if (!gate) return '';
  return (['min', 'max', 'max_drop', 'max_rise'] as const)
    .filter((rule) => gate[rule] !== undefined)
    .map((rule) => `${rule} ${num(gate[rule] as number)}`)
    .join(', ');
}

function heldOutRows(view: ArtifactView): number {
  return view.metrics.rows;
}

function trainingRows(view: ArtifactView): number {
  // Older artifacts record no split counts; their split put every row of the file in exactly one part.
  return view.lineage.split.rows?.train ?? view.lineage.data.rows - view.metrics.rows;
}

function onehotSteps(view: ArtifactView): Extract<FittedStep, { kind: 'onehot' }>[] {
  return view.features.steps.filter((s): s is Extract<FittedStep, { kind: 'onehot' }> => s.kind === 'onehot');
}

function ordinalSteps(view: ArtifactView): Extract<FittedStep, { kind: 'ordinal' }>[] {
  return view.features.steps.filter((s): s is Extract<FittedStep, { kind: 'ordinal' }> => s.kind === 'ordinal');
}

/** An ordinal column's labels, the first few only: a route column may have hundreds. */
function ordinalLabels(categories: readonly string[]): string {
  const shown = categories.slice(0, CARD.topValues);
  return `${labelList(shown)}${categories.length > shown.length ? ', …' : ''}`;
}

function imputeSteps(view: ArtifactView): Extract<FittedStep, { kind: 'impute' }>[] {
  return view.features.steps.filter((s): s is Extract<FittedStep, { kind: 'impute' }> => s.kind === 'impute');
}

function profileOf(view: ArtifactView, column: string): ColumnProfile | undefined {
  return view.profile.columns.find((c) => c.name === column);
}

function estimatorName(view: ArtifactView): string {
  return `random forest of ${plural(view.estimator.params.trees, 'tree')}`;
}

function paramValue(value: unknown): string {
  if (value === null) return 'none';
  if (typeof value === 'object') return esc(JSON.stringify(value));
  return esc(value);
}

/** The forest's parameters in the order ml.yaml's reference lists them; any the format adds later follow, sorted. */
const PARAM_ORDER: readonly (keyof ForestParams)[] = ['trees', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'maxFeatures', 'bootstrap', 'maxSamples', 'classWeight', 'maxBins', 'seed'];

function paramTable(view: ArtifactView): string[] {
  const p = view.lineage.params;
  const rest = (Object.keys(p) as (keyof ForestParams)[]).filter((key) => key !== 'task' && !PARAM_ORDER.includes(key)).sort();
  const rows = [...PARAM_ORDER.filter((key) => key in p), ...rest].map((key) => [esc(key), paramValue(p[key])]);
  rows.push([esc('model seed (ml.yaml model.seed)'), esc(view.lineage.seed)]);
  rows.push([esc('split'), esc(`${pct(view.lineage.split.test)} held out, ${view.lineage.split.stratify ? 'stratified' : 'not stratified'}, seed ${view.lineage.split.seed}`)]);
  return table(['parameter', 'value'], rows);
}

/** The target's counts in the data file, as "No 5174 (73.5%), Yes 1869 (26.5%)", when the profile kept them. */
function classBalance(view: ArtifactView): string | null {
  const p = profileOf(view, view.signature.target);
  if (!p || p.kind !== 'category' || p.count === 0) return null;
  const shown = p.top.map(([value, count]) => `${esc(value)} ${count} (${pct(count / p.count)})`).join(', ');
  return p.top.length < p.distinct ? `${shown}, and ${p.distinct - p.top.length} rarer classes` : shown;
}

// ---------------------------------------------------------------------------------------------------------------
// The model card

/** card.md: what the model is, what it was trained on, how good it is, where it came from and where it falls short. */
export function modelCard(input: CardInput): string {
  const view = viewOf(input.artifact);
  const { lineage } = view;
  const out: string[] = [];
  out.push(`# ${esc(view.name)} ${esc(input.version)}`, '');
  out.push(
    `${view.task === 'classification' ? 'Classification' : 'Regression'} model: a ${estimatorName(view)} that predicts ${code(view.signature.target)}. ` +
      `Artifact sha256 ${code(shortSha(view.sha256))}.`,
    '',
  );

  out.push(heading('Purpose'), '');
  const inputs = plural(view.signature.inputs.length, 'input column');
  if (view.task === 'classification') {
    const classes = view.signature.classes ?? [];
    out.push(`Predicts ${code(view.signature.target)}, one of ${plural(classes.length, 'class', 'classes')} (${labelList(classes)}), from ${inputs} of a row, with a probability for each class.`);
  } else {
    out.push(`Predicts the number ${code(view.signature.target)} from ${inputs} of a row.`);
  }
  out.push(
    '',
    '_Intended use, intended users and out-of-scope uses are not recorded (ml.yaml has no field for them). The team that owns this model should describe them before anyone relies on it._',
    '',
  );

  out.push(heading('Data'), '');
  const d = lineage.data;
  out.push(`- Training file: ${code(d.path)}, ${d.rows} rows × ${d.columns} columns, ${d.bytes} bytes, sha256 ${code(d.sha256)}.`);
  out.push(`- Target: ${code(view.signature.target)}; id column: ${view.features.id === null ? 'none' : `${code(view.features.id)} (never a feature)`}.`);
  const balance = classBalance(view);
  if (balance) out.push(`- Classes in the file: ${balance}.`);
  out.push(
    `- Split: ${trainingRows(view)} rows for training, ${heldOutRows(view)} held out (${pct(lineage.split.test)}), ` +
      `${lineage.split.by !== undefined ? `the latest by ${lineage.split.by}` : `${lineage.split.stratify ? 'stratified by the target' : 'at random'}, by a hash of each row's identity with seed ${lineage.split.seed}`}` +
      `${lineage.split.rows && lineage.split.rows.skipped > 0 ? `; ${lineage.split.rows.skipped} rows without a target left out` : ''}.`,
  );
  if (input.validation) {
    const s = input.validation.statistics;
    out.push(
      s.evaluated === 0
        ? '- Validation at registration: no checks (ml.yaml declares no schema).'
        : `- Validation at registration: ${s.successful} of ${plural(s.evaluated, 'check')} passed, ${s.failed} failed (${input.validation.success ? 'valid' : 'NOT valid'}).`,
    );
  }
  out.push('');

  out.push(heading('Metrics'), '');
  out.push(`On the ${heldOutRows(view)} held-out rows.`, '');
  const withGates = input.config?.compare !== undefined;
  const header = ['metric', 'value', 'better', 'note', ...(withGates ? ['gate (ml.yaml)'] : [])];
  const rows = metricRows(view).map(({ metric, value, reason }) => [
    esc(METRIC_NAMES[metric]),
    value === null ? 'n/a' : fixed(value),
    METRIC_DIRECTIONS[metric],
    value === null ? esc(reason ?? 'undefined') : metricNote(view, metric),
    ...(withGates ? [esc(gateText(input.config, metric))] : []),
  ]);
  out.push(...table(header, rows, [1]), '');

  out.push(heading('Parameters'), '');
  out.push(...paramTable(view), '');

  out.push(heading('Lineage'), '');
  out.push(`- Artifact sha256: ${code(view.sha256)}`);
  const src = lineage.source;
  if (src === null || src.commit === null) {
    out.push(`- Source: not a git commit (trained outside git, or before the first commit).`);
  } else {
    out.push(`- Source commit: ${code(src.commit)}, committed ${esc(src.committedAt ?? 'at an unknown time')}.`);
  }
  if (src !== null && src.commit !== null) {
    out.push(`- Folder: ${src.path === '' ? 'the repository root' : code(src.path)}.`);
    const changes = src.changes ?? [];
    out.push(
      `- Work tree: ${src.dirty ? `**dirty**${changes.length > 0 ? ` (changed: ${changes.map(esc).join(', ')})` : ''}` : 'clean'}; sha256 ${code(src.workTree)}.`,
    );
  } else if (src !== null) {
    out.push(`- Work tree sha256: ${code(src.workTree)}`);
  }
  out.push(`- ml.yaml sha256: ${code(lineage.mlYaml.sha256)}`);
  out.push(`- Data sha256: ${code(lineage.data.sha256)}`);
  out.push(`- Trained with Bramble ${esc(lineage.versions.bramble)} on Node ${esc(lineage.versions.node)}.`);
  if (input.registered) {
    const r = input.registered;
    out.push(`- Registered by ${esc(r.by.name)} ${esc(`<${r.by.email}>`)} at ${esc(r.at)}, on commit ${code(r.commit)}.`);
  }
  out.push('');

  out.push(heading('Signature'), '');
  const onehot = new Map(onehotSteps(view).map((s) => [s.column, s.categories]));
  const ordinal = new Map(ordinalSteps(view).map((s) => [s.column, s.categories]));
  const impute = new Map(imputeSteps(view).map((s) => [s.column, s]));
  const sigRows = view.signature.inputs.map((i) => {
    const categories = onehot.get(i.name);
    const codes = ordinal.get(i.name);
    const p = profileOf(view, i.name);
    let accepted: string;
    if (categories) accepted = `${labelList(categories)}; others count as none of them`;
    else if (codes) accepted = `any text; the ${codes.length} labels seen in training are coded 0–${codes.length - 1} in sorted order (${ordinalLabels(codes)}), others count as missing`;
    else if (i.kind === 'date') accepted = 'a date or date-time: ISO 8601 text (UTC unless it gives an offset) or milliseconds since 1970 UTC; not a feature itself, read by derive';
    else if (i.kind === 'text') accepted = 'any text';
    else if (p?.kind === 'number' && p.min !== null && p.max !== null) accepted = `a number (${num(p.min)} to ${num(p.max)} in the training file)`;
    else accepted = 'a number';
    const fill = impute.get(i.name);
    const missing = fill ? `replaced by ${esc(typeof fill.value === 'number' ? num(fill.value) : fill.value)} (${fill.rule})` : 'passed to the trees as missing';
    return [esc(i.name), i.kind, accepted, missing];
  });
  out.push(...table(['input', 'kind', 'accepted values', 'when missing'], sigRows), '');
  if (view.task === 'classification') {
    out.push(`Output: a probability for each class, in the order ${labelList(view.signature.classes ?? [])}; the predicted label is the most probable class.`, '');
  } else {
    out.push(`Output: one number, the predicted ${code(view.signature.target)}.`, '');
  }

  out.push(heading('Limits'), '');
  out.push(...limits(view, input).map((line) => `- ${line}`), '');
  return `${out.join('\n').trimEnd()}\n`;
}

/** Facts that bound what the model can be trusted with, each derived mechanically from the inputs. */
function limits(view: ArtifactView, input: CardInput): string[] {
  const { lineage } = view;
  const out: string[] = [];
  out.push(
    `Trained on ${trainingRows(view)} rows from one file (${code(lineage.data.path)}, sha256 ${code(shortSha(lineage.data.sha256))}); ` +
      'it has not been evaluated on data from any other source or period.',
  );
  out.push(
    `The metrics come from one held-out split of ${heldOutRows(view)} rows (seed ${lineage.split.seed}); ` +
      'no confidence intervals or cross-validation were computed, and another split would give somewhat different numbers.',
  );
  out.push('No metrics were computed per subgroup of the data (disaggregated evaluation): differences in quality between groups are unknown.');
  const onehot = onehotSteps(view);
  if (onehot.length > 0) {
    out.push(
      `A category not seen in training, in ${onehot.map((s) => code(s.column)).join(', ')}, is encoded as all zeros: the model treats it as none of the known categories.`,
    );
  }
  const ordinal = ordinalSteps(view);
  if (ordinal.length > 0) {
    out.push(
      `A category not seen in training, in ${ordinal.map((s) => code(s.column)).join(', ')}, is read as missing (the trees route it as a missing value).`,
    );
  }
  out.push('Beyond the smallest and largest values a tree saw for a feature in training, its predictions stop changing: a forest does not extrapolate.');
  const target = profileOf(view, view.signature.target);
  if (view.task === 'regression' && target?.kind === 'number' && target.min !== null && target.max !== null) {
    out.push(
      `Predictions are averages of training targets, so they never leave ${num(target.min)} to ${num(target.max)}, the target's range in the training file.`,
    );
  }
  if (view.metrics.task === 'classification') {
    const gap = calibrationGap(view.metrics);
    if (gap !== null) {
      out.push(
        `Probabilities are not calibrated after training: on the held-out rows they differ from the observed rates by ${fixed(gap.expected)} on average ` +
          `(expected calibration error over ${plural(view.metrics.calibration.bins.length, 'bin')}), and by up to ${fixed(gap.largest.gap)} in one bin of ${plural(gap.largest.rows, 'row')}.`,
      );
    }
  }
  const src = lineage.source;
  if (src === null || src.commit === null) {
    out.push('It was not trained from a git commit: only the work tree sha256 identifies the files it came from.');
  } else if (src.dirty) {
    out.push('It was trained from a work tree with uncommitted changes: the source commit alone does not reproduce it.');
  }
  if (input.validation && !input.validation.success) {
    out.push(`The data failed ${plural(input.validation.statistics.failed, 'validation check')} at registration.`);
  }
  const monitor = input.config?.monitor;
  if (monitor) {
    const performance = monitor.performance;
    const bounds = performance
      ? [performance.min !== undefined ? `≥ ${num(performance.min)}` : '', performance.max !== undefined ? `≤ ${num(performance.max)}` : ''].filter(Boolean).join(' and ')
      : '';
    out.push(
      // The monitor is planned, not built: the card says what ml.yaml asks for, and that nothing runs it yet.
      `Monitoring (ml.yaml; planned — Bramble does not run this check yet): on schedule ${code(monitor.schedule)} (UTC) the inputs are to be compared with the training profile; they count as drifted when ` +
        `at least ${pct(monitor.drift.share)} of the columns drift` +
        (performance ? `, and live ${esc(performance.metric)} must stay ${bounds}` : '; live performance is not checked') +
        `. On alert: ${monitor.on_alert.length > 0 ? monitor.on_alert.join(', ') : 'nothing'}.`,
    );
  } else if (input.config) {
    out.push('No monitoring is configured in ml.yaml: neither input drift nor live performance is checked.');
  } else {
    out.push('Whether drift and live performance are monitored is unknown: ml.yaml was not available when this card was written.');
  }
  return out;
}

/** The row-weighted mean gap between predicted and observed (the expected calibration error), and the largest one. */
function calibrationGap(metrics: ClassificationEvaluation): { expected: number; largest: { gap: number; rows: number } } | null {
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

// ---------------------------------------------------------------------------------------------------------------
// The training report

/** report.md: every number of the run, for a reviewer: metrics, errors, calibration, importances, data, parameters. */
export function trainingReport(input: CardInput): string {
  const view = viewOf(input.artifact);
  const out: string[] = [];
  out.push(`# ${esc(view.name)} ${esc(input.version)}: training report`, '');
  out.push(`Artifact sha256 ${code(view.sha256)}; ${view.task}, a ${estimatorName(view)}; ${heldOutRows(view)} held-out rows.`, '');

  out.push(heading('Metrics'), '');
  const rows = metricRows(view).map(({ metric, value, reason }) => [
    esc(METRIC_NAMES[metric]),
    value === null ? 'n/a' : fixed(value),
    value === null ? esc(reason ?? 'undefined') : metricNote(view, metric),
  ]);
  const oob = view.estimator.oobScore;
  if (oob !== null) rows.push([esc(`Out-of-bag ${view.task === 'classification' ? 'accuracy' : 'R²'}`), fixed(oob), 'on the training rows each tree did not sample']);
  out.push(...table(['metric', 'value', 'note'], rows, [1]), '');

  if (view.metrics.task === 'classification') classificationSections(view.metrics, out);
  else regressionSection(view, view.metrics, out);

  out.push(heading('Feature importances'), '');
  out.push('Impurity-based, over all trees; features as the model sees them (after the feature steps), most important first.', '');
  const ranked = rankImportances(view.features.outputs, view.estimator.importances);
  out.push(...table(['rank', 'feature', 'importance'], ranked.map((r, i) => [String(i + 1), esc(r.feature), fixed(r.importance)]), [0, 2]), '');

  out.push(heading('Validation'), '');
  validationSection(input.validation, out);

  out.push(heading('Data profile'), '');
  profileSection(view, out);

  out.push(heading('Features'), '');
  out.push('The feature steps as fitted on the training rows, in the order they run.', '');
  const steps = view.features.steps.map((s) => [String(s.step), s.kind, esc(s.column), stepDetail(s)]);
  out.push(...(steps.length > 0 ? table(['step', 'kind', 'column', 'fitted'], steps, [0]) : ['None: the inputs go to the forest as they are.']), '');

  out.push(heading('Parameters'), '');
  out.push(...paramTable(view), '');
  return `${out.join('\n').trimEnd()}\n`;
}

function classificationSections(m: ClassificationEvaluation, out: string[]): void {
  out.push(
    ...table(
      ['class', 'precision', 'recall', 'F1', 'support'],
      m.perClass.map((c) => [esc(c.label), fixed(c.precision), fixed(c.recall), fixed(c.f1), String(c.support)]),
      [1, 2, 3, 4],
    ),
    '',
    `Macro average: precision ${fixed(m.macro.precision)}, recall ${fixed(m.macro.recall)}, F1 ${fixed(m.macro.f1)}.`,
    '',
  );

  out.push(heading('Confusion matrix'), '');
  out.push('Rows: the actual class; columns: the predicted class.', '');
  const classes = m.confusion.classes;
  out.push(
    ...table(
      ['actual / predicted', ...classes.map(esc)],
      m.confusion.matrix.map((row, i) => [esc(classes[i]), ...row.map(String)]),
      classes.map((_, i) => i + 1),
    ),
    '',
  );

  out.push(heading('Calibration'), '');
  out.push(
    m.calibration.of === 'positive'
      ? `The predicted probability of ${esc(m.calibration.label)} against how often the row was ${esc(m.calibration.label)}.`
      : 'The probability of the predicted class against how often the prediction was right.',
    '',
  );
  out.push(
    ...table(
      ['bin', 'rows', 'mean predicted', 'observed rate'],
      m.calibration.bins.map((b) => [
        `${b.lower === 0 ? '[' : '('}${b.lower.toFixed(1)}, ${b.upper.toFixed(1)}]`,
        String(b.count),
        b.meanPredicted === null ? '—' : fixed(b.meanPredicted),
        b.observedRate === null ? '—' : fixed(b.observedRate),
      ]),
      [1, 2, 3],
    ),
    '',
  );
}

function regressionSection(view: ArtifactView, m: RegressionEvaluation, out: string[]): void {
  out.push(heading('Residuals'), '');
  out.push(`- Over the ${m.rows} held-out rows: RMSE ${fixed(m.rmse)}, MAE ${fixed(m.mae)}.`);
  if (m.mae > 0) out.push(`- RMSE / MAE = ${fixed(m.rmse / m.mae)} (1 when every error is the same size; larger when a few errors are large).`);
  const target = profileOf(view, view.signature.target);
  if (target?.kind === 'number' && target.std !== null && target.std > 0) {
    out.push(`- RMSE is ${fixed(m.rmse / target.std)} × the target's standard deviation in the training file (${fixed(target.std)}); below 1 beats predicting the mean.`);
  }
  out.push('');
  // The artifact keeps no per-row held-out errors; its sample rows (the server's self-test) are the ones it has.
  const samples = view.samples.rows
    .map((row, i) => ({ actual: row[view.signature.target], predicted: view.samples.scores[i] }))
    .filter((s): s is { actual: number; predicted: number } => typeof s.actual === 'number' && typeof s.predicted === 'number');
  if (samples.length > 0) {
    out.push(`The first ${plural(samples.length, 'held-out row')}, as kept in the artifact:`, '');
    out.push(
      ...table(
        ['row', 'actual', 'predicted', 'residual'],
        samples.map((s, i) => [String(i + 1), num(s.actual), fixed(s.predicted), fixed(s.actual - s.predicted)]),
        [0, 1, 2, 3],
      ),
      '',
    );
  }
}

function validationSection(result: ValidationResult | undefined, out: string[]): void {
  if (!result) {
    out.push('No validation result was recorded with this version.', '');
    return;
  }
  const s = result.statistics;
  out.push(`${code(result.file)}: ${result.rows} rows, ${plural(s.evaluated, 'check')}, ${s.successful} passed, ${s.failed} failed: ${result.success ? 'valid' : '**NOT valid**'}.`, '');
  const rows = VALIDATION_RULES.flatMap((rule) => {
    const of = result.results.filter((r) => r.rule === rule);
    if (of.length === 0) return [];
    const failed = of.filter((r) => !r.success).length;
    return [[rule, String(of.length - failed), String(failed)]];
  });
  out.push(...table(['rule', 'passed', 'failed'], rows, [1, 2]), '');
  const failures = result.results.filter((r) => !r.success);
  if (failures.length > 0) {
    out.push(
      ...table(
        ['column', 'rule', 'expectation', 'unexpected', 'first lines'],
        failures.map((r) => [esc(r.column ?? '(rows)'), r.rule, esc(r.expectation), String(r.unexpectedCount), r.unexpectedLines.slice(0, 5).join(', ')]),
        [3],
      ),
      '',
    );
  }
}

function profileSection(view: ArtifactView, out: string[]): void {
  const inputs = new Set(view.signature.inputs.map((i) => i.name));
  const role = (name: string): string =>
    name === view.signature.target ? 'target' : name === view.features.id ? 'id' : inputs.has(name) ? 'input' : 'not used';
  out.push(`The whole training file: ${view.profile.rows} rows.`, '');
  const rows = view.profile.columns.map((c) => [
    esc(c.name),
    role(c.name),
    c.kind,
    c.missing === 0 ? '0' : `${c.missing} (${pct(c.missing / (c.count + c.missing))})`,
    esc(profileSummary(c)),
  ]);
  out.push(...table(['column', 'role', 'type', 'missing', 'summary'], rows, [3]), '');
}

function profileSummary(c: ColumnProfile): string {
  switch (c.kind) {
    case 'number':
      return [
        c.mean === null ? null : `mean ${fixed(c.mean)}`,
        c.std === null ? null : `std ${fixed(c.std)}`,
        c.min === null ? null : `min ${num(c.min)}`,
        c.max === null ? null : `max ${num(c.max)}`,
      ]
        .filter((part) => part !== null)
        .join(', ') || 'no values';
    case 'category': {
      const top = c.top.slice(0, CARD.topValues).map(([value, count]) => `${value} ${count}`);
      return `${top.join(', ')}${c.distinct > top.length ? `, … (${c.distinct} distinct)` : ''}`;
    }
    case 'date':
      // Instants in UTC; a midnight shows as its date alone, since most date columns hold days.
      return c.min === null || c.max === null ? 'no values' : `from ${instant(c.min)} to ${instant(c.max)}`;
    case 'boolean':
      return `true ${c.trues}, false ${c.count - c.trues}`;
    case 'string':
      return `${c.distinct} distinct`;
  }
}

function instant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

function stepDetail(s: FittedStep): string {
  switch (s.kind) {
    case 'impute':
      return esc(`${s.rule}: ${typeof s.value === 'number' ? num(s.value) : s.value}`);
    case 'onehot':
      return `${plural(s.categories.length, 'category', 'categories')}: ${labelList(s.categories)}`;
    case 'ordinal':
      return `${plural(s.categories.length, 'category', 'categories')} coded 0–${s.categories.length - 1} in sorted order: ${ordinalLabels(s.categories)}`;
    case 'standardize':
      return `mean ${fixed(s.mean)}, std ${fixed(s.std)}`;
    case 'minmax':
      return `min ${num(s.min)}, max ${num(s.max)}`;
    case 'bucketize':
      return `edges ${s.edges.map(num).join(', ')}`;
    case 'derive':
      return `${s.type} = ${esc(s.expression)}`;
    case 'drop':
      return 'dropped';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// metrics.json

/** metrics.json: each metric ml.yaml can name, as the evaluation names it, when it is a finite number. */
export function metricsRecord(artifact: Record<string, unknown>): Record<string, number> {
  const view = viewOf(artifact);
  const out: Record<string, number> = {};
  for (const { metric, value } of metricRows(view)) {
    if (value !== null && Number.isFinite(value)) out[metric] = value;
  }
  return out;
}

/** The files a registered version keeps beside its model.json on the registry branch, by file name. */
export function registrationFiles(input: CardInput & { validation: ValidationResult }): Map<string, string> {
  return new Map([
    ['card.md', modelCard(input)],
    ['report.md', trainingReport(input)],
    ['metrics.json', JSON.stringify(metricsRecord(input.artifact), null, 2) + '\n'],
    ['validation.json', JSON.stringify(input.validation, null, 2) + '\n'],
  ]);
}
