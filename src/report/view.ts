// The model report of a pull request, as data: every number formatted, every table row built, every chart's
// Mermaid text written, and everything that came from the data escaped — so that the Handlebars templates only
// lay it out, and this function can be tested on its own (render.ts turns it into Markdown and fits it into
// GitHub's limits).
//
// Decisions:
// - Pure and deterministic: no I/O, no clock, no locale (toLocaleString depends on Node's ICU data).
// - Every string in the view is final Markdown. Handlebars' own escaping is for HTML (it would turn `<` into
//   `&lt;` but leave `|` and backticks alone), so render.ts compiles with noEscape and the escaping happens here,
//   once, with the one Markdown kit (markdown.ts) that the model card uses too. Table cells are escaped text,
//   never code spans of data: GitHub splits a table row on a `|` even inside a code span. Code spans are used only for hex digests, which cannot hold one.
// - Cells that come from data are cut to REPORT.cellLength characters: a 10,000-character column name is still
//   recognisable from its first hundred, and one pathological row must not cost the whole section.
// - Mermaid labels are quoted strings of xychart's grammar (`"[^"]*"`), with what it cannot take removed: the
//   quote itself, `%` (a `%%{…}%%` directive is found anywhere in the text), `#` and `;` (entity codes), `<` and
//   `>`, backticks (a "` opens a Markdown label; ``` would close the code fence) and line breaks. Numbers are
//   fixed-point: the grammar has no exponent.
import type { Metric } from '../model/metric-names.js';
import type { DriftResult, DriftTest } from '../data/drift.js';
import type { ValidationResult } from '../data/validate.js';
import type { SourceLineage } from '../lineage/source.js';
import { artifactView, type ArtifactView } from '../model/artifact-schema.js';
import { ARTIFACT } from '../model/artifact.js';
import { GATES, METRIC_DIRECTIONS, type GateResult, type GateRow } from '../model/compare.js';
import { metricsOf, rankImportances, type Evaluation, type MetricValues } from '../model/evaluate.js';
import type { Label } from '../model/forest/forest.js';
import { escapeMarkdown, mermaidLabel, percent, plural } from './markdown.js';
import { sweepView, type SweepReportInput, type SweepView } from './sweep-view.js';

/** Names that cross a boundary: the comment's marker, GitHub's limits, the section titles, and the report's sizes. */
export const REPORT = {
  marker: (model: string) => `<!-- bramble-report:${model} -->`,
  /** GitHub's limit on an issue or pull request comment body, in characters. */
  commentLimit: 65_536,
  /** GitHub's limit on a step's job summary (1 MiB). */
  summaryLimit: 1_048_576,
  /** The sections after the verdict, in the order they appear. */
  sections: {
    validation: 'Data validation',
    metrics: 'Metrics',
    confusion: 'Confusion matrix',
    importances: 'Feature importances',
    history: 'Metric history',
    drift: 'Drift',
    lineage: 'Lineage',
    parameters: 'Parameters',
    /** Only when the PR's run came from a sweep (ReportInput.sweep). */
    sweep: 'Parameter sweep',
  },
  /** Sections kept whatever the size: without them the report says nothing. */
  untrimmable: ['metrics'],
  marks: { pass: '✅', fail: '❌', drift: '⚠️' },
  topImportances: 15,
  historyVersions: 20,
  /** Characters of a data-derived table cell (column names, labels, paths). */
  cellLength: 120,
  /** Characters of a chart label: the chart lays labels out on one line. */
  chartLabelLength: 40,
  decimals: 4,
  shortSha: 12,
  shortCommit: 7,
  candidateLabel: 'this PR',
} as const;

export type SectionId = keyof typeof REPORT.sections;

export interface ReportInput {
  /** ml.yaml's name. */
  model: string;
  candidate: { artifact: Record<string, unknown>; evaluation: Evaluation; validation: ValidationResult };
  /** Null when there is no champion yet (the first model). */
  champion: {
    version: string | null;
    env: string;
    artifact: Record<string, unknown>;
    metrics: MetricValues;
    /** The held-out rows both were scored on, and those left out because the champion trained on them. */
    compared?: { rows: number; heldOut: number; excluded: number; notes: string[] };
  } | null;
  gates: GateResult | null;
  /** The PR's data against the champion's reference profile. */
  drift: DriftResult | null;
  /** Registered versions, oldest first (the registry's metrics.json). */
  history: { version: string; at: string; metrics: Record<string, number> }[];
  run: { url: string | null; sha: string | null; ref: string | null };
  /** The sweep that chose the candidate's parameters (`bramble sweep`), when there was one. */
  sweep?: SweepReportInput | null;
}

export interface ValidationView {
  summary: string;
  failures: { column: string; rule: string; expected: string; rows: string; lines: string }[];
}

export interface MetricsView {
  intro: string;
  hasChampion: boolean;
  rows: { metric: string; candidate: string; champion: string; delta: string; gates: string }[];
  notes: string[];
}

export interface ConfusionView {
  intro: string;
  classes: string[];
  rows: { label: string; counts: string[] }[];
}

export interface ImportancesView {
  intro: string;
  /** Mermaid text, without the fence; null when the model records no importances. */
  chart: string | null;
}

export interface HistoryView {
  intro: string;
  charts: string[];
}

export interface DriftView {
  summary: string;
  rows: { column: string; kind: string; test: string; statistic: string; pValue: string; threshold: string; drifted: string }[];
  skipped: string[];
}

export interface LineageView {
  hasChampion: boolean;
  rows: { field: string; candidate: string; champion: string }[];
}

export interface ParametersView {
  intro: string;
  hasChampion: boolean;
  rows: { param: string; champion: string; candidate: string }[];
}

interface SectionData {
  validation: ValidationView;
  metrics: MetricsView;
  confusion: ConfusionView;
  importances: ImportancesView;
  history: HistoryView;
  drift: DriftView;
  lineage: LineageView;
  parameters: ParametersView;
  sweep: SweepView;
}

export type ReportSection = { [K in SectionId]: { id: K; title: string; trimmable: boolean; data: SectionData[K] } }[SectionId];

export interface ReportView {
  /** The hidden marker the sticky comment is found by; the first line. */
  marker: string;
  /** The verdict heading, the second line. */
  verdict: string;
  passed: boolean;
  /** What was compared with what, and where the run is: the lines under the verdict. */
  context: string[];
  sections: ReportSection[];
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown and Mermaid text

/** Data-derived text as a table cell or phrase: the kit's escaping, cut to REPORT.cellLength unless told. */
function cell(value: unknown, max: number = REPORT.cellLength): string {
  return escapeMarkdown(value, max);
}

/** A chart label at REPORT.chartLabelLength. */
function chartLabel(value: unknown): string {
  return mermaidLabel(value, REPORT.chartLabelLength);
}

/** A hex digest in a code span (it cannot hold a backtick or a pipe), or escaped text when it is not one. */
function digest(value: unknown, length: number = REPORT.shortSha): string {
  const text = String(value);
  return /^[0-9a-f]+$/i.test(text) ? `\`${text.slice(0, length)}\`` : cell(text);
}

function fixed(x: number): string {
  return x.toFixed(REPORT.decimals);
}

function metricValue(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? fixed(x) : 'n/a';
}

/** Small and huge numbers (p-values near 0, chi-square sums) in exponent form; Markdown is not Mermaid. */
function statistic(x: number): string {
  if (x === 0) return '0';
  return Math.abs(x) >= 1e-4 && Math.abs(x) < 1e6 ? fixed(x) : x.toExponential(2);
}

/** A link target that cannot end the link early or carry markup: http(s) only, anything unusual percent-encoded. */
function safeUrl(url: string | null): string | null {
  if (url === null || !/^https?:\/\/[^\s]+$/.test(url)) return null;
  return url.replace(/[^A-Za-z0-9\-._~:/?#@!$&'*+,;=%]/g, (c) => encodeURIComponent(c));
}

/** A Mermaid number: fixed-point, since the grammar has no exponent. */
function chartNumber(x: number): string {
  return Number.isFinite(x) ? fixed(x) : '0';
}

/** Labels made unique after sanitising and cutting: a band axis merges equal labels into one band. */
function uniqueLabels(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.map((value) => {
    let label = chartLabel(value);
    for (let n = 2; seen.has(label); n++) label = chartLabel(`${value.slice(0, REPORT.chartLabelLength - 6)} (${n})`);
    seen.add(label);
    return label;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The artifact, as far as the report reads it (schemas/model.schema.json is the whole truth)

type ArtifactFacts = Pick<ArtifactView, 'sha256' | 'features' | 'estimator' | 'lineage'>;

function factsOf(artifact: Record<string, unknown>, which: string): ArtifactFacts {
  return artifactView(artifact, `${which} ${ARTIFACT.file}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The view

/** The report of a pull request's candidate model against the champion, ready for the templates. */
export function reportView(input: ReportInput): ReportView {
  const candidate = factsOf(input.candidate.artifact, 'the candidate');
  const champion = input.champion === null ? null : { ...input.champion, facts: factsOf(input.champion.artifact, 'the champion') };
  const sections: ReportSection[] = [];
  const add = <K extends SectionId>(id: K, data: SectionData[K]): void => {
    sections.push({ id, title: REPORT.sections[id], trimmable: !(REPORT.untrimmable as readonly string[]).includes(id), data } as ReportSection);
  };
  add('validation', validationView(input.candidate.validation));
  add('metrics', metricsView(input, champion));
  const evaluation = input.candidate.evaluation;
  if (evaluation.task === 'classification') add('confusion', confusionView(evaluation.confusion, evaluation.rows));
  add('importances', importancesView(candidate));
  add('history', historyView(input));
  add('drift', driftView(input.drift, champion));
  add('lineage', lineageView(candidate, champion?.facts ?? null));
  add('parameters', parametersView(candidate, champion?.facts ?? null));
  if (input.sweep) add('sweep', sweepView(input.sweep));
  const { line, passed } = verdict(input);
  return { marker: REPORT.marker(input.model), verdict: line, passed, context: contextLines(input, candidate, champion), sections };
}

type Champion = (NonNullable<ReportInput['champion']> & { facts: ArtifactFacts }) | null;

function verdict(input: ReportInput): { line: string; passed: boolean } {
  const name = cell(input.model);
  const { validation } = input.candidate;
  if (!validation.success) {
    const s = validation.statistics;
    return { line: `### ${REPORT.marks.fail} ${name}: data validation failed — ${s.failed} of ${plural(s.evaluated, 'check')}`, passed: false };
  }
  const rows = input.gates?.rows ?? [];
  const first = input.champion === null ? ' (no champion yet)' : '';
  if (rows.length === 0) return { line: `### ${REPORT.marks.pass} ${name}: no gates in ml.yaml (compare.gates), nothing blocks the candidate${first}`, passed: true };
  const failed = rows.filter((r) => !r.passed);
  if (failed.length === 0) {
    const all = rows.length === 1 ? 'its 1 gate' : `all ${rows.length} gates`;
    return { line: `### ${REPORT.marks.pass} ${name}: candidate passes ${all}${first}`, passed: true };
  }
  return { line: `### ${REPORT.marks.fail} ${name}: ${failed.length} of ${plural(rows.length, 'gate')} failed — ${failed.map(gateFailure).join('; ')}`, passed: false };
}

/** Why one gate failed, in a few words: "roc_auc dropped 0.0123 (max 0.01)". */
function gateFailure(row: GateRow): string {
  const { metric, rule, limit, candidate, champion } = row;
  if (candidate === null || (champion === null && (rule === 'max_drop' || rule === 'max_rise'))) return cell(row.note ?? `${metric} is missing`);
  if (rule === 'min' || rule === 'max') return `${metric} is ${fixed(candidate)} (${rule} ${limit})`;
  const higher = METRIC_DIRECTIONS[metric] === 'higher';
  const worse = higher ? (champion as number) - candidate : candidate - (champion as number);
  return `${metric} ${higher ? 'dropped' : 'rose'} ${fixed(worse)} (max ${limit})`;
}

function contextLines(input: ReportInput, candidate: ArtifactFacts, champion: Champion): string[] {
  const heldOut = input.candidate.evaluation.rows;
  const compared =
    champion === null
      ? `Candidate ${digest(candidate.sha256)}; no champion yet, so this would be the first version of ${cell(input.model)}.`
      : `Candidate ${digest(candidate.sha256)} against the champion ${champion.version === null ? '' : `${cell(champion.version)} `}in ${cell(champion.env)} (${digest(champion.facts.sha256)}), both scored on the same ${heldOut} held-out rows${excludedPhrase(champion)}.`;
  const run: string[] = [];
  if (input.run.sha !== null) run.push(`Commit ${digest(input.run.sha, REPORT.shortCommit)}`);
  if (input.run.ref !== null) run.push(`${run.length === 0 ? 'Ref' : 'on'} ${cell(input.run.ref)}`);
  const url = safeUrl(input.run.url);
  const parts = run.length > 0 ? [run.join(' ')] : [];
  if (url !== null) parts.push(`[workflow run](${url})`);
  return parts.length > 0 ? [compared, parts.join(' · ')] : [compared];
}

function validationView(validation: ValidationResult): ValidationView {
  const s = validation.statistics;
  const where = `${cell(validation.file)} (${plural(validation.rows, 'row')})`;
  let summary: string;
  if (s.evaluated === 0) summary = `No checks on ${where}: ml.yaml declares no schema.`;
  else if (validation.success) summary = `${REPORT.marks.pass} All ${plural(s.evaluated, 'check')} hold on ${where}.`;
  else summary = `${REPORT.marks.fail} ${s.failed} of ${plural(s.evaluated, 'check')} failed on ${where}.`;
  const failures = validation.results
    .filter((r) => !r.success)
    .map((r) => {
      const shown = r.unexpectedLines.slice(0, 5).join(', ');
      return {
        column: r.column === null ? '(data set)' : cell(r.column),
        rule: r.rule,
        expected: cell(r.expectation),
        rows: String(r.unexpectedCount),
        lines: r.unexpectedLines.length > 5 ? `${shown}, …` : shown,
      };
    });
  return { summary, failures };
}

/** ", of K held out: M were the champion's training rows, left out" — or nothing when none were. */
function excludedPhrase(champion: NonNullable<Champion>): string {
  const c = champion.compared;
  if (c === undefined || c.excluded === 0) return '';
  return ` (of ${c.heldOut} held out, ${plural(c.excluded, 'row')} the champion trained on ${c.excluded === 1 ? 'was' : 'were'} left out)`;
}

/** Why rows were (or could not be) left out, when that is worth a reader's attention. */
function championNotes(champion: NonNullable<Champion>): string {
  const notes = (champion.compared?.notes ?? []).filter((n) => !n.includes('trained on none of the held-out rows') && !n.includes('(its training-row filter), left out'));
  return notes.length === 0 ? '' : ` ${notes.map((n) => cell(n.charAt(0).toUpperCase() + n.slice(1), 400)).join('. ')}.`;
}

function metricsView(input: ReportInput, champion: Champion): MetricsView {
  const evaluation = input.candidate.evaluation;
  const values = metricsOf(evaluation);
  const gateRows = input.gates?.rows ?? [];
  const metrics = [...(Object.keys(values) as Metric[])];
  for (const row of gateRows) if (!metrics.includes(row.metric)) metrics.push(row.metric);
  const rows = metrics.map((metric) => {
    const a = values[metric];
    const b = champion?.metrics[metric];
    const gates = gateRows
      .filter((r) => r.metric === metric)
      .map((r) => `${r.passed ? REPORT.marks.pass : REPORT.marks.fail} ${r.rule} ${r.limit}${r.note === null ? '' : ` (${cell(r.note)})`}`)
      .join(' · ');
    return { metric, candidate: metricValue(a), champion: champion === null ? '—' : metricValue(b), delta: delta(metric, a, b), gates };
  });
  const intro =
    champion === null
      ? `On ${plural(evaluation.rows, 'held-out row')} of this PR's data. No champion yet: gates against it pass with the note "${GATES.noChampion}"; min and max still apply.`
      : `On ${plural(evaluation.rows, 'held-out row')} of this PR's data; the champion was scored on the same rows${excludedPhrase(champion)}. Δ is candidate − champion.${championNotes(champion)}`;
  const notes = (Object.entries(evaluation.reasons) as [Metric, string][]).map(([metric, reason]) => `${metric}: ${cell(reason, 400)}`);
  return { intro, hasChampion: champion !== null, rows, notes };
}

/** candidate − champion, signed as the values go, with whether that is better or worse for this metric. */
function delta(metric: Metric, candidate: number | null | undefined, champion: number | null | undefined): string {
  if (typeof candidate !== 'number' || typeof champion !== 'number' || !Number.isFinite(candidate) || !Number.isFinite(champion)) return '—';
  const d = candidate - champion;
  const text = fixed(Math.abs(d));
  if (Number(text) === 0) return `${text} (same)`;
  const better = (d > 0) === (METRIC_DIRECTIONS[metric] === 'higher');
  return `${d > 0 ? '+' : '-'}${text} (${better ? 'better' : 'worse'})`;
}

function confusionView(confusion: { classes: Label[]; matrix: number[][] }, rows: number): ConfusionView {
  return {
    intro: `The candidate on ${plural(rows, 'held-out row')}: a row per actual class, a column per predicted class.`,
    classes: confusion.classes.map((c) => cell(c)),
    rows: confusion.classes.map((c, i) => ({ label: cell(c), counts: confusion.matrix[i].map(String) })),
  };
}

function importancesView(candidate: ArtifactFacts): ImportancesView {
  const names = candidate.features.outputs;
  const values = candidate.estimator.importances;
  if (values.length === 0 || values.length !== names.length) return { intro: 'The model records no feature importances.', chart: null };
  const top = rankImportances(names, values).slice(0, REPORT.topImportances);
  const max = top.reduce((m, t) => Math.max(m, t.importance), -Infinity);
  const ceiling = max > 0 ? Math.ceil(max * 100) / 100 : 1;
  const chart = [
    'xychart-beta horizontal',
    `    title ${chartLabel(`Top ${top.length} of ${names.length} features`)}`,
    `    x-axis [${uniqueLabels(top.map((t) => t.feature)).join(', ')}]`,
    `    y-axis "mean decrease in impurity" 0 --> ${chartNumber(ceiling)}`,
    `    bar [${top.map((t) => chartNumber(t.importance)).join(', ')}]`,
  ].join('\n');
  return { intro: `The candidate's ${top.length} most important of ${plural(names.length, 'encoded feature')} (impurity-based, normalised to sum to 1).`, chart };
}

function historyView(input: ReportInput): HistoryView {
  const candidate = metricsOf(input.candidate.evaluation);
  const gated = [...new Set((input.gates?.rows ?? []).map((r) => r.metric))];
  const fallback = (Object.keys(candidate) as Metric[]).find((m) => typeof candidate[m] === 'number');
  const metrics = gated.length > 0 ? gated : fallback === undefined ? [] : [fallback];
  if (input.history.length === 0) return { intro: 'No registered versions yet: the history starts when this model is first registered.', charts: [] };
  const versions = input.history.slice(-REPORT.historyVersions);
  const charts: string[] = [];
  for (const metric of metrics) {
    const points = versions.flatMap((v) => (typeof v.metrics[metric] === 'number' && Number.isFinite(v.metrics[metric]) ? [{ label: v.version, value: v.metrics[metric] }] : []));
    const now = candidate[metric];
    if (typeof now === 'number' && Number.isFinite(now)) points.push({ label: REPORT.candidateLabel, value: now });
    if (points.length === 0) continue;
    const low = points.reduce((m, p) => Math.min(m, p.value), Infinity);
    const high = points.reduce((m, p) => Math.max(m, p.value), -Infinity);
    const pad = high > low ? (high - low) * 0.1 : Math.max(Math.abs(high) * 0.01, 0.01);
    charts.push(
      [
        'xychart-beta',
        `    title ${chartLabel(`${metric} by version`)}`,
        `    x-axis [${uniqueLabels(points.map((p) => p.label)).join(', ')}]`,
        `    y-axis ${chartLabel(metric)} ${chartNumber(low - pad)} --> ${chartNumber(high + pad)}`,
        `    line [${points.map((p) => chartNumber(p.value)).join(', ')}]`,
      ].join('\n'),
    );
  }
  const shown = input.history.length > versions.length ? `the last ${versions.length} of ${input.history.length}` : `the ${versions.length}`;
  return {
    intro: `${metrics.join(', ')} of ${shown} registered ${versions.length === 1 ? 'version' : 'versions, oldest first'}, each on its own held-out rows at registration; then ${REPORT.candidateLabel}.`,
    charts,
  };
}

const TEST_NAMES: Readonly<Record<DriftTest, string>> = {
  ks: 'Kolmogorov–Smirnov',
  wasserstein: 'Wasserstein (normed)',
  chi2: 'chi-square',
  jensen_shannon: 'Jensen–Shannon',
};

function driftView(drift: DriftResult | null, champion: Champion): DriftView {
  if (drift === null) {
    const why = champion === null ? 'No champion yet: there is no reference data to compare with.' : "Not computed: the champion's reference profile was not compared.";
    return { summary: why, rows: [], skipped: [] };
  }
  const drifted = drift.columns.filter((c) => c.drifted).length;
  const reference = champion === null ? 'the reference data' : `the champion's training data (${plural(champion.facts.lineage.data.rows, 'row')})`;
  const verdict = drift.datasetDrift ? `${REPORT.marks.drift} The data set drifted` : `${REPORT.marks.pass} No data set drift`;
  const summary =
    `${verdict}: ${drifted} of ${plural(drift.columns.length, 'column')} (${percent(drift.driftedShare)}) drifted from ${reference}; ` +
    `the data set counts as drifted at ${percent(drift.share)} or more.`;
  const rows = drift.columns.map((c) => ({
    column: cell(c.column),
    kind: c.kind,
    test: TEST_NAMES[c.test],
    statistic: c.statistic === null ? '∞' : statistic(c.statistic),
    pValue: c.pValue === null ? '' : statistic(c.pValue),
    threshold: `${c.pValue === null ? '≥' : 'p <'} ${c.threshold}`,
    drifted: c.drifted ? `${REPORT.marks.drift} drifted` : REPORT.marks.pass,
  }));
  return { summary, rows, skipped: drift.skipped.map((s) => `${cell(s.column)}: ${cell(s.reason)}`) };
}

function sourceText(source: SourceLineage | null): string {
  if (source === null || source.commit === null) return 'not a git commit';
  return `${digest(source.commit, REPORT.shortCommit)}${source.dirty ? ' with uncommitted changes' : ''}`;
}

function lineageView(candidate: ArtifactFacts, champion: ArtifactFacts | null): LineageView {
  const fields: [string, (f: ArtifactFacts) => string][] = [
    ['artifact sha256', (f) => digest(f.sha256)],
    ['commit', (f) => sourceText(f.lineage.source)],
    ['data', (f) => `${cell(f.lineage.data.path)}, ${plural(f.lineage.data.rows, 'row')}`],
    ['data sha256', (f) => digest(f.lineage.data.sha256)],
    ['ml.yaml sha256', (f) => digest(f.lineage.mlYaml.sha256)],
    ['Bramble', (f) => cell(f.lineage.versions.bramble)],
    ['Node', (f) => cell(f.lineage.versions.node)],
  ];
  return {
    hasChampion: champion !== null,
    rows: fields.map(([field, read]) => ({ field, candidate: read(candidate), champion: champion === null ? '' : read(champion) })),
  };
}

/** The training settings that make a model: the forest's parameters (with the model seed) and the split. */
function settings(f: ArtifactFacts): Map<string, unknown> {
  const out = new Map<string, unknown>();
  // params.seed is ml.yaml's model.seed; task cannot differ between a candidate and its champion.
  for (const [key, value] of Object.entries(f.lineage.params)) if (key !== 'task') out.set(key, value);
  out.set('split.test', f.lineage.split.test);
  out.set('split.stratify', f.lineage.split.stratify);
  out.set('split.seed', f.lineage.split.seed);
  return out;
}

function settingText(value: unknown): string {
  if (value === undefined) return '—';
  if (value === null) return 'none';
  return cell(typeof value === 'object' ? JSON.stringify(value) : value);
}

function parametersView(candidate: ArtifactFacts, champion: ArtifactFacts | null): ParametersView {
  const mine = settings(candidate);
  if (champion === null) {
    return {
      intro: "No champion yet; the candidate's settings:",
      hasChampion: false,
      rows: [...mine].map(([param, value]) => ({ param: cell(param), champion: '', candidate: settingText(value) })),
    };
  }
  const theirs = settings(champion);
  const keys = [...mine.keys(), ...[...theirs.keys()].filter((k) => !mine.has(k))];
  const rows = keys
    .filter((k) => JSON.stringify(mine.get(k)) !== JSON.stringify(theirs.get(k)))
    .map((k) => ({ param: cell(k), champion: settingText(theirs.get(k)), candidate: settingText(mine.get(k)) }));
  return {
    intro: rows.length === 0 ? 'Same parameters as the champion.' : `${plural(rows.length, 'setting')} changed from the champion:`,
    hasChampion: true,
    rows,
  };
}
