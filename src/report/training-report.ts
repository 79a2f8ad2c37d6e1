// report.md, the training report a registered version keeps beside its card: every number of the run, for a
// reviewer. Built from the same facts as the card (card-facts.ts) with the one Markdown kit (markdown.ts).
import type { ColumnProfile } from '../data/profile.js';
import { VALIDATION_RULES, type ValidationResult } from '../data/validate.js';
import type { FittedStep } from '../features/transforms.js';
import type { ArtifactView } from '../model/artifact-schema.js';
import { rankImportances, type ClassificationEvaluation, type RegressionEvaluation } from '../model/evaluate.js';
import {
  CARD,
  estimatorName,
  fixed,
  heading,
  heldOutRows,
  labelList,
  metricNote,
  metricRows,
  METRIC_NAMES,
  num,
  ordinalLabels,
  paramTable,
  profileOf,
  viewOf,
  type CardInput,
} from './card-facts.js';
import { appendBlock, appendLines, codeSpan, escapeMarkdown, markdownTable, percent, plural } from './markdown.js';

/** report.md: every number of the run, for a reviewer: metrics, errors, calibration, importances, data, parameters. */
export function trainingReport(input: CardInput): string {
  const view = viewOf(input.artifact);
  const out: string[] = [];
  out.push(`# ${escapeMarkdown(view.name)} ${escapeMarkdown(input.version)}: training report`, '');
  out.push(`Artifact sha256 ${codeSpan(view.sha256)}; ${view.task}, a ${estimatorName(view)}; ${heldOutRows(view)} held-out rows.`, '');

  out.push(heading('Metrics'), '');
  const rows = metricRows(view).map(({ metric, value, reason }) => [
    escapeMarkdown(METRIC_NAMES[metric]),
    value === null ? 'n/a' : fixed(value),
    value === null ? escapeMarkdown(reason ?? 'undefined') : metricNote(view, metric),
  ]);
  const oob = view.estimator.oobScore;
  if (oob !== null) rows.push([escapeMarkdown(`Out-of-bag ${view.task === 'classification' ? 'accuracy' : 'R²'}`), fixed(oob), 'on the training rows each tree did not sample']);
  appendBlock(out, markdownTable(['metric', 'value', 'note'], rows, [1]));

  if (view.metrics.task === 'classification') classificationSections(view.metrics, out);
  else regressionSection(view, view.metrics, out);

  out.push(heading('Feature importances'), '');
  out.push('Impurity-based, over all trees; features as the model sees them (after the feature steps), most important first.', '');
  const ranked = rankImportances(view.features.outputs, view.estimator.importances);
  appendBlock(out, markdownTable(['rank', 'feature', 'importance'], ranked.map((r, i) => [String(i + 1), escapeMarkdown(r.feature), fixed(r.importance)]), [0, 2]));

  out.push(heading('Validation'), '');
  validationSection(input.validation, out);

  out.push(heading('Data profile'), '');
  profileSection(view, out);

  out.push(heading('Features'), '');
  out.push('The feature steps as fitted on the training rows, in the order they run.', '');
  const steps = view.features.steps.map((s) => [String(s.step), s.kind, escapeMarkdown(s.column), stepDetail(s)]);
  appendBlock(out, (steps.length > 0 ? markdownTable(['step', 'kind', 'column', 'fitted'], steps, [0]) : ['None: the inputs go to the forest as they are.']));

  out.push(heading('Parameters'), '');
  appendBlock(out, paramTable(view));
  return `${out.join('\n').trimEnd()}\n`;
}

function classificationSections(m: ClassificationEvaluation, out: string[]): void {
  appendBlock(
    out,
    markdownTable(
      ['class', 'precision', 'recall', 'F1', 'support'],
      m.perClass.map((c) => [escapeMarkdown(c.label), fixed(c.precision), fixed(c.recall), fixed(c.f1), String(c.support)]),
      [1, 2, 3, 4],
    ),
  );
  out.push(`Macro average: precision ${fixed(m.macro.precision)}, recall ${fixed(m.macro.recall)}, F1 ${fixed(m.macro.f1)}.`, '');

  out.push(heading('Confusion matrix'), '');
  out.push('Rows: the actual class; columns: the predicted class.', '');
  const classes = m.confusion.classes;
  appendLines(
    out,
    markdownTable(
      ['actual / predicted', ...classes.map((v) => escapeMarkdown(v))],
      m.confusion.matrix.map((row, i) => [escapeMarkdown(classes[i]), ...row.map(String)]),
      classes.map((_, i) => i + 1),
    ),
  );

  out.push(heading('Calibration'), '');
  out.push(
    m.calibration.of === 'positive'
      ? `The predicted probability of ${escapeMarkdown(m.calibration.label)} against how often the row was ${escapeMarkdown(m.calibration.label)}.`
      : 'The probability of the predicted class against how often the prediction was right.',
    '',
  );
  appendBlock(
    out,
    markdownTable(
      ['bin', 'rows', 'mean predicted', 'observed rate'],
      m.calibration.bins.map((b) => [
        `${b.lower === 0 ? '[' : '('}${b.lower.toFixed(1)}, ${b.upper.toFixed(1)}]`,
        String(b.count),
        b.meanPredicted === null ? '—' : fixed(b.meanPredicted),
        b.observedRate === null ? '—' : fixed(b.observedRate),
      ]),
      [1, 2, 3],
    ),
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
    appendBlock(
      out,
      markdownTable(
        ['row', 'actual', 'predicted', 'residual'],
        samples.map((s, i) => [String(i + 1), num(s.actual), fixed(s.predicted), fixed(s.actual - s.predicted)]),
        [0, 1, 2, 3],
      ),
    );
  }
}

function validationSection(result: ValidationResult | undefined, out: string[]): void {
  if (!result) {
    out.push('No validation result was recorded with this version.', '');
    return;
  }
  const s = result.statistics;
  out.push(`${codeSpan(result.file)}: ${result.rows} rows, ${plural(s.evaluated, 'check')}, ${s.successful} passed, ${s.failed} failed: ${result.success ? 'valid' : '**NOT valid**'}.`, '');
  const rows = VALIDATION_RULES.flatMap((rule) => {
    const of = result.results.filter((r) => r.rule === rule);
    if (of.length === 0) return [];
    const failed = of.filter((r) => !r.success).length;
    return [[rule, String(of.length - failed), String(failed)]];
  });
  appendBlock(out, markdownTable(['rule', 'passed', 'failed'], rows, [1, 2]));
  const failures = result.results.filter((r) => !r.success);
  if (failures.length > 0) {
    appendBlock(
      out,
      markdownTable(
        ['column', 'rule', 'expectation', 'unexpected', 'first lines'],
        failures.map((r) => [escapeMarkdown(r.column ?? '(rows)'), r.rule, escapeMarkdown(r.expectation), String(r.unexpectedCount), r.unexpectedLines.slice(0, 5).join(', ')]),
        [3],
      ),
    );
  }
}

function profileSection(view: ArtifactView, out: string[]): void {
  const inputs = new Set(view.signature.inputs.map((i) => i.name));
  const role = (name: string): string =>
    name === view.signature.target ? 'target' : name === view.features.id ? 'id' : inputs.has(name) ? 'input' : 'not used';
  out.push(`The whole training file: ${view.profile.rows} rows.`, '');
  const rows = view.profile.columns.map((c) => [
    escapeMarkdown(c.name),
    role(c.name),
    c.kind,
    c.missing === 0 ? '0' : `${c.missing} (${percent(c.missing / (c.count + c.missing))})`,
    escapeMarkdown(profileSummary(c)),
  ]);
  appendBlock(out, markdownTable(['column', 'role', 'type', 'missing', 'summary'], rows, [3]));
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
      return escapeMarkdown(`${s.rule}: ${typeof s.value === 'number' ? num(s.value) : s.value}`);
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
      return `${s.type} = ${escapeMarkdown(s.expression)}`;
    case 'drop':
      return 'dropped';
  }
}
