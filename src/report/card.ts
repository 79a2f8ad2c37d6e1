// The documents the registry stores beside a registered version's model.json: the model card (card.md), the
// training report (report.md) and the flat metrics (metrics.json). The card follows Mitchell et al., "Model Cards
// for Model Reporting" (2019), and Hugging Face's model cards, with one rule of our own: every sentence is derived
// from the artifact, ml.yaml or the registration record. Nothing is claimed that the data does not show; what
// nobody recorded (intended use, users) is said to be unrecorded rather than made up.
//
// Decisions:
// - Pure and deterministic: the same input gives the same bytes. No clock, no locale (toLocaleString depends on
//   the ICU data Node was built with), computed numbers at a fixed CARD.decimals.
// - Text from data goes through the one Markdown kit (markdown.ts), as the pull request report's does.
// - The artifact is checked against its schema before it is read, so a damaged file fails with the JSON pointer
//   of the problem instead of a card that says "undefined".
import type { ValidationResult } from '../data/validate.js';
import type { ArtifactView } from '../model/artifact-schema.js';
import { METRIC_DIRECTIONS } from '../model/compare.js';
import {
  calibrationGap,
  classBalance,
  estimatorName,
  gateText,
  heading,
  heldOutRows,
  imputeSteps,
  metricNote,
  metricRows,
  METRIC_NAMES,
  num,
  onehotSteps,
  ordinalLabels,
  ordinalSteps,
  paramTable,
  profileOf,
  shortSha,
  trainingRows,
  viewOf,
  fixed,
  labelList,
  type CardInput,
} from './card-facts.js';
import { appendBlock, codeSpan, escapeMarkdown, markdownTable, percent, plural } from './markdown.js';
import { trainingReport } from './training-report.js';

/** card.md: what the model is, what it was trained on, how good it is, where it came from and where it falls short. */
export function modelCard(input: CardInput): string {
  const view = viewOf(input.artifact);
  const { lineage } = view;
  const out: string[] = [];
  out.push(`# ${escapeMarkdown(view.name)} ${escapeMarkdown(input.version)}`, '');
  out.push(
    `${view.task === 'classification' ? 'Classification' : 'Regression'} model: a ${estimatorName(view)} that predicts ${codeSpan(view.signature.target)}. ` +
      `Artifact sha256 ${codeSpan(shortSha(view.sha256))}.`,
    '',
  );

  out.push(heading('Purpose'), '');
  const inputs = plural(view.signature.inputs.length, 'input column');
  if (view.task === 'classification') {
    const classes = view.signature.classes ?? [];
    out.push(`Predicts ${codeSpan(view.signature.target)}, one of ${plural(classes.length, 'class', 'classes')} (${labelList(classes)}), from ${inputs} of a row, with a probability for each class.`);
  } else {
    out.push(`Predicts the number ${codeSpan(view.signature.target)} from ${inputs} of a row.`);
  }
  out.push(
    '',
    '_Intended use, intended users and out-of-scope uses are not recorded (ml.yaml has no field for them). The team that owns this model should describe them before anyone relies on it._',
    '',
  );

  out.push(heading('Data'), '');
  const d = lineage.data;
  out.push(`- Training file: ${codeSpan(d.path)}, ${d.rows} rows × ${d.columns} columns, ${d.bytes} bytes, sha256 ${codeSpan(d.sha256)}.`);
  out.push(`- Target: ${codeSpan(view.signature.target)}; id column: ${view.features.id === null ? 'none' : `${codeSpan(view.features.id)} (never a feature)`}.`);
  const balance = classBalance(view);
  if (balance) out.push(`- Classes in the file: ${balance}.`);
  out.push(
    `- Split: ${trainingRows(view)} rows for training, ${heldOutRows(view)} held out (${percent(lineage.split.test)}), ` +
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
    escapeMarkdown(METRIC_NAMES[metric]),
    value === null ? 'n/a' : fixed(value),
    METRIC_DIRECTIONS[metric],
    value === null ? escapeMarkdown(reason ?? 'undefined') : metricNote(view, metric),
    ...(withGates ? [escapeMarkdown(gateText(input.config, metric))] : []),
  ]);
  appendBlock(out, markdownTable(header, rows, [1]));

  out.push(heading('Parameters'), '');
  appendBlock(out, paramTable(view));

  out.push(heading('Lineage'), '');
  out.push(`- Artifact sha256: ${codeSpan(view.sha256)}`);
  const src = lineage.source;
  if (src === null || src.commit === null) {
    out.push(`- Source: not a git commit (trained outside git, or before the first commit).`);
  } else {
    out.push(`- Source commit: ${codeSpan(src.commit)}, committed ${escapeMarkdown(src.committedAt ?? 'at an unknown time')}.`);
  }
  if (src !== null && src.commit !== null) {
    out.push(`- Folder: ${src.path === '' ? 'the repository root' : codeSpan(src.path)}.`);
    const changes = src.changes ?? [];
    out.push(
      `- Work tree: ${src.dirty ? `**dirty**${changes.length > 0 ? ` (changed: ${changes.map((v) => escapeMarkdown(v)).join(', ')})` : ''}` : 'clean'}; sha256 ${codeSpan(src.workTree)}.`,
    );
  } else if (src !== null) {
    out.push(`- Work tree sha256: ${codeSpan(src.workTree)}`);
  }
  out.push(`- ml.yaml sha256: ${codeSpan(lineage.mlYaml.sha256)}`);
  out.push(`- Data sha256: ${codeSpan(lineage.data.sha256)}`);
  out.push(`- Trained with Bramble ${escapeMarkdown(lineage.versions.bramble)} on Node ${escapeMarkdown(lineage.versions.node)}.`);
  if (input.registered) {
    const r = input.registered;
    out.push(`- Registered by ${escapeMarkdown(r.by.name)} ${escapeMarkdown(`<${r.by.email}>`)} at ${escapeMarkdown(r.at)}, on commit ${codeSpan(r.commit)}.`);
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
    const missing = fill ? `replaced by ${escapeMarkdown(typeof fill.value === 'number' ? num(fill.value) : fill.value)} (${fill.rule})` : 'passed to the trees as missing';
    return [escapeMarkdown(i.name), i.kind, accepted, missing];
  });
  appendBlock(out, markdownTable(['input', 'kind', 'accepted values', 'when missing'], sigRows));
  if (view.task === 'classification') {
    out.push(`Output: a probability for each class, in the order ${labelList(view.signature.classes ?? [])}; the predicted label is the most probable class.`, '');
  } else {
    out.push(`Output: one number, the predicted ${codeSpan(view.signature.target)}.`, '');
  }

  out.push(heading('Limits'), '');
  appendBlock(out, limits(view, input).map((line) => `- ${line}`));
  return `${out.join('\n').trimEnd()}\n`;
}

/** Facts that bound what the model can be trusted with, each derived mechanically from the inputs. */
function limits(view: ArtifactView, input: CardInput): string[] {
  const { lineage } = view;
  const out: string[] = [];
  out.push(
    `Trained on ${trainingRows(view)} rows from one file (${codeSpan(lineage.data.path)}, sha256 ${codeSpan(shortSha(lineage.data.sha256))}); ` +
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
      `A category not seen in training, in ${onehot.map((s) => codeSpan(s.column)).join(', ')}, is encoded as all zeros: the model treats it as none of the known categories.`,
    );
  }
  const ordinal = ordinalSteps(view);
  if (ordinal.length > 0) {
    out.push(
      `A category not seen in training, in ${ordinal.map((s) => codeSpan(s.column)).join(', ')}, is read as missing (the trees route it as a missing value).`,
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
      // What ml.yaml asks of the monitor. It runs where the repository's workflow schedules the monitor action (or
      // the GitLab job) on the host's runner, or where someone runs `bramble monitor`: the card cannot know which.
      `Monitoring (ml.yaml, checked by \`bramble monitor\` and the scheduled monitor action or job): on schedule ${codeSpan(monitor.schedule)} (UTC), per window of ${codeSpan(monitor.window)}, the served inputs are compared with the training profile; they count as drifted when ` +
        `at least ${percent(monitor.drift.share)} of the columns drift` +
        (performance ? `, and live ${escapeMarkdown(performance.metric)} must stay ${bounds}` : '; live performance is not checked') +
        ` (a window under ${monitor.min_rows} rows never alerts). On alert: ${monitor.on_alert.length > 0 ? monitor.on_alert.join(', ') : 'nothing'}.` +
        (monitor.retrain ? ` Retrained on schedule ${codeSpan(monitor.retrain.schedule)} (UTC) whatever the monitor finds.` : ''),
    );
  } else if (input.config) {
    out.push('No monitoring is configured in ml.yaml: neither input drift nor live performance is checked.');
  } else {
    out.push('Whether drift and live performance are monitored is unknown: ml.yaml was not available when this card was written.');
  }
  return out;
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
