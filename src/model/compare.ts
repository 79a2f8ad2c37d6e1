// The promotion gates of ml.yaml's `compare`: the candidate's held-out metrics against absolute bounds and against
// the champion's, both scored on the very same held-out rows (TFX Evaluator's rule: numbers from different test
// sets are not comparable, so `compareModels` takes the rows once and hands them to both scorers).
//
// Decisions:
// - `min`/`max` are absolute bounds on the value, whatever the metric's direction.
// - `max_drop` and `max_rise` both bound how much WORSE the candidate may be than the champion, measured in the
//   metric's better direction: a drop in roc_auc is a fall, a drop in log_loss is a rise. The two names are the same
//   rule phrased for the two kinds of metric (max_drop reads naturally for scores, max_rise for errors such as rmse);
//   the mismatched spelling is read the same way, with a note in the row. Nobody gates a model for improving.
// - A missing metric fails: a candidate without the value fails every gate on it; with a champion that lacks the
//   value, max_drop/max_rise fail too (both were scored on the same rows, so the champion's gap is real).
// - No champion at all (the first model): max_drop/max_rise pass with the note "no champion"; min/max still apply.
// - Values within GATES.tolerance of a limit pass: 0.85 − 0.84 is 0.010000000000000009 in floating point, and a
//   gate of max_drop 0.01 must not fail on that.
import type { Gate, Metric } from './metric-names.js';
import type { MetricValues } from './evaluate.js';

/** Which way is better for each metric ml.yaml can name. */
export const METRIC_DIRECTIONS = {
  accuracy: 'higher',
  precision: 'higher',
  recall: 'higher',
  f1: 'higher',
  roc_auc: 'higher',
  r2: 'higher',
  log_loss: 'lower',
  rmse: 'lower',
  mae: 'lower',
} as const satisfies Record<Metric, 'higher' | 'lower'>;

/** The gate rules as ml.yaml spells them, in the order a verdict lists them; the marks; the float slack. */
export const GATES = {
  rules: ['min', 'max', 'max_drop', 'max_rise'],
  noChampion: 'no champion',
  marks: { pass: '✓', fail: '✗' },
  /** Relative to max(1, |values compared|). */
  tolerance: 1e-9,
} as const;

export type GateRule = (typeof GATES.rules)[number];
export type Gates = Partial<Record<Metric, Gate>>;

export interface GateRow {
  metric: Metric;
  rule: GateRule;
  limit: number;
  candidate: number | null;
  champion: number | null;
  /** candidate − champion, as the values go (not by direction); null when either is missing. */
  delta: number | null;
  passed: boolean;
  note: string | null;
}

export interface GateResult {
  passed: boolean;
  rows: GateRow[];
}

function value(metrics: MetricValues | null, metric: Metric): number | null {
  const v = metrics?.[metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function within(x: number, limit: number, ...scale: number[]): boolean {
  let largest = 1;
  for (const v of scale) largest = Math.max(largest, Math.abs(v));
  return x <= limit + GATES.tolerance * largest;
}

function checkRow(metric: Metric, rule: GateRule, limit: number, candidate: number | null, champion: number | null, hasChampion: boolean): GateRow {
  const delta = candidate !== null && champion !== null ? candidate - champion : null;
  const row = (passed: boolean, note: string | null): GateRow => ({ metric, rule, limit, candidate, champion, delta, passed, note });
  const direction = METRIC_DIRECTIONS[metric];

  if (candidate === null) return row(false, `the candidate has no ${metric}`);
  if (rule === 'min') return row(within(limit, candidate, limit), null);
  if (rule === 'max') return row(within(candidate, limit, limit), null);

  if (!hasChampion) return row(true, GATES.noChampion);
  if (champion === null) return row(false, `the champion has no ${metric}`);
  const worse = direction === 'higher' ? champion - candidate : candidate - champion;
  const natural = (rule === 'max_drop') === (direction === 'higher');
  const note = natural ? null : `${metric} is ${direction}-is-better, so ${rule} bounds a ${direction === 'higher' ? 'fall' : 'rise'}`;
  return row(within(worse, limit, candidate, champion), note);
}

/**
 * Applies ml.yaml's compare.gates to the candidate's metrics and the champion's (null for the first model), one
 * row per metric and rule in the order the gates are written, rules in GATES.rules order.
 */
export function applyGates(gates: Gates, candidate: MetricValues, champion: MetricValues | null): GateResult {
  const rows: GateRow[] = [];
  for (const [metric, gate] of Object.entries(gates) as [Metric, Gate | undefined][]) {
    if (!gate) continue;
    for (const rule of GATES.rules) {
      const limit = gate[rule];
      if (limit === undefined) continue;
      rows.push(checkRow(metric, rule, limit, value(candidate, metric), value(champion, metric), champion !== null));
    }
  }
  return { passed: rows.every((r) => r.passed), rows };
}

/** Scores one model on the held-out rows it is given. */
export type Scorer<Rows> = (heldOut: Rows) => MetricValues | Promise<MetricValues>;

export interface CompareInput<Rows> {
  /** The held-out rows, taken once and given to both scorers, so both are scored on the same data. */
  heldOut: Rows;
  candidate: Scorer<Rows>;
  /** Null when there is no champion yet (the first model). */
  champion: Scorer<Rows> | null;
  gates: Gates;
}

export interface Comparison {
  candidate: MetricValues;
  champion: MetricValues | null;
  verdict: GateResult;
}

/** Scores the candidate and the champion on the same held-out rows, then applies the gates. */
export async function compareModels<Rows>(input: CompareInput<Rows>): Promise<Comparison> {
  const candidate = await input.candidate(input.heldOut);
  const champion = input.champion ? await input.champion(input.heldOut) : null;
  return { candidate, champion, verdict: applyGates(input.gates, candidate, champion) };
}

function formatNumber(v: number | null): string {
  return v === null ? '—' : v.toFixed(4);
}

function formatDelta(v: number | null): string {
  if (v === null) return '—';
  const text = Math.abs(v).toFixed(4);
  if (Number(text) === 0) return ` ${text}`;
  return `${v > 0 ? '+' : '-'}${text}`;
}

/** The verdict as a terminal table: a mark, the gate, both values, the signed delta, a note; then one summary line. */
export function formatVerdict(result: GateResult): string {
  if (result.rows.length === 0) return 'No gates: compare.gates in ml.yaml is empty, so nothing blocks promotion.';
  const header = ['', 'metric', 'rule', 'limit', 'candidate', 'champion', 'delta', 'note'];
  const body = result.rows.map((r) => [
    r.passed ? GATES.marks.pass : GATES.marks.fail,
    r.metric,
    r.rule,
    String(r.limit),
    formatNumber(r.candidate),
    formatNumber(r.champion),
    formatDelta(r.delta),
    r.note ?? '',
  ]);
  const table = [header, ...body];
  const numeric = new Set([3, 4, 5, 6]);
  const widths = header.map((_, c) => table.reduce((w, line) => Math.max(w, line[c].length), 0));
  const lines = table.map((line) =>
    line
      .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd(),
  );
  const failed = result.rows.filter((r) => !r.passed).length;
  const summary = failed === 0
    ? `Passed: all ${result.rows.length} gates.`
    : `Failed: ${failed} of ${result.rows.length} gates (${[...new Set(result.rows.filter((r) => !r.passed).map((r) => r.metric))].join(', ')}).`;
  return `${lines.join('\n')}\n${summary}`;
}
