// The PR report's sweep section, as data (issue 18 item 4): the top trials with mean ± sd, a Mermaid chart of the
// metric against the most influential swept parameter, and the chosen configuration's change to ml.yaml.
//
// Decisions:
// - The most influential parameter is the one whose values' best means lie furthest apart (the spread of the
//   per-value maximum, or minimum where lower is better): the parameter whose choice moves the score most when the
//   others are chosen well. The chart shows that best score per value, values in ascending order.
// - The input is the shape `bramble sweep` returns (usecases/sweep.ts SweepSummary), declared here structurally so
//   that the report depends on no use-case.
import { escapeMarkdown, mermaidLabel } from './markdown.js';

export interface SweepReportInput {
  id: string;
  strategy: string;
  metric: string;
  lowerIsBetter: boolean;
  folds: number;
  trials: number;
  ranked: readonly { trial: number; swept: Readonly<Record<string, string | number | boolean | null>>; mean: number | null; sd: number | null }[];
  best: { trial: number; mean: number | null; sd: number | null } | null;
  params: { base: Readonly<Record<string, unknown>>; best: Readonly<Record<string, unknown>> | null };
  missing: { rung: number; trials: readonly number[] } | null;
}

export interface SweepView {
  intro: string;
  rows: { rank: string; trial: string; params: string; score: string }[];
  /** Mermaid text, without the fence; null with fewer than two values of any parameter. */
  chart: string | null;
  changes: { param: string; from: string; to: string }[];
  /** What the chosen configuration means for ml.yaml, in a sentence. */
  choice: string;
}

const TOP = 10;
const DECIMALS = 4;

function score(mean: number | null, sd: number | null): string {
  if (mean === null) return 'n/a';
  return sd === null ? mean.toFixed(DECIMALS) : `${mean.toFixed(DECIMALS)} ± ${sd.toFixed(DECIMALS)}`;
}

function shownValue(value: unknown): string {
  return value === null ? 'null' : typeof value === 'string' ? value : JSON.stringify(value);
}

/** The parameter whose best score per value spreads most, and those best scores by value (ascending values). */
export function influentialParameter(input: SweepReportInput): { param: string; points: { value: string; score: number }[] } | null {
  const names = new Set<string>();
  for (const o of input.ranked) for (const name of Object.keys(o.swept)) names.add(name);
  let chosen: { param: string; points: { value: string; score: number }[]; spread: number } | null = null;
  for (const param of names) {
    const best = new Map<string, { raw: unknown; score: number }>();
    for (const o of input.ranked) {
      if (o.mean === null) continue;
      const key = shownValue(o.swept[param]);
      const seen = best.get(key);
      const better = seen === undefined || (input.lowerIsBetter ? o.mean < seen.score : o.mean > seen.score);
      if (better) best.set(key, { raw: o.swept[param], score: o.mean });
    }
    if (best.size < 2) continue;
    const points = [...best.entries()].sort(([, a], [, b]) => order(a.raw, b.raw)).map(([value, { score: s }]) => ({ value, score: s }));
    let low = Infinity;
    let high = -Infinity;
    for (const p of points) {
      low = Math.min(low, p.score);
      high = Math.max(high, p.score);
    }
    if (chosen === null || high - low > chosen.spread) chosen = { param, points, spread: high - low };
  }
  return chosen === null ? null : { param: chosen.param, points: chosen.points };
}

/** Numbers ascending, null first, text by UTF-16 order. */
function order(a: unknown, b: unknown): number {
  if (a === null || b === null) return a === null ? (b === null ? 0 : -1) : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function chartOf(input: SweepReportInput): string | null {
  const found = influentialParameter(input);
  if (found === null) return null;
  const { param, points } = found;
  let low = Infinity;
  let high = -Infinity;
  for (const p of points) {
    low = Math.min(low, p.score);
    high = Math.max(high, p.score);
  }
  const pad = high > low ? (high - low) * 0.1 : 0.01;
  const label = (text: string): string => mermaidLabel(text, 40);
  return [
    'xychart-beta',
    `    title ${label(`best ${input.metric} by ${param}`)}`,
    `    x-axis ${label(param)} [${points.map((p) => label(p.value)).join(', ')}]`,
    `    y-axis ${label(input.metric)} ${(low - pad).toFixed(DECIMALS)} --> ${(high + pad).toFixed(DECIMALS)}`,
    `    bar [${points.map((p) => p.score.toFixed(DECIMALS)).join(', ')}]`,
  ].join('\n');
}

export function sweepView(input: SweepReportInput): SweepView {
  const cell = (v: unknown): string => escapeMarkdown(v, 120);
  const shown = input.ranked.slice(0, TOP);
  const rows = shown.map((o, i) => ({
    rank: String(i + 1),
    trial: String(o.trial),
    params: cell(
      Object.entries(o.swept)
        .map(([k, v]) => `${k}=${shownValue(v)}`)
        .join(' '),
    ),
    score: score(o.mean, o.sd),
  }));
  const changes: SweepView['changes'] = [];
  for (const [param, value] of Object.entries(input.params.best ?? {})) {
    const from = input.params.base[param];
    if (JSON.stringify(from) !== JSON.stringify(value)) changes.push({ param: cell(param), from: cell(shownValue(from)), to: cell(shownValue(value)) });
  }
  const missing = input.missing === null ? '' : ` ${input.missing.trials.length} of its trials have no record (a shard did not finish); the choice is among those that did.`;
  const direction = input.lowerIsBetter ? 'lower' : 'higher';
  const more = input.ranked.length > shown.length ? ` The top ${shown.length} of ${input.ranked.length}:` : '';
  const choice =
    input.best === null
      ? 'No trial could be scored, so nothing was chosen.'
      : changes.length === 0
        ? `Trial ${input.best.trial} is best (${score(input.best.mean, input.best.sd)}): ml.yaml's model.params already has it.`
        : `Trial ${input.best.trial} is best (${score(input.best.mean, input.best.sd)}); in ml.yaml's model.params it changes:`;
  return {
    intro: `Sweep \`${input.id}\`: ${cell(input.strategy)} over ${input.trials} ${input.trials === 1 ? 'configuration' : 'configurations'}, each scored by the mean ${cell(input.metric)} (${direction} is better) over ${input.folds} folds of the training rows, ± its standard deviation.${missing}${more}`,
    rows,
    chart: chartOf(input),
    changes,
    choice,
  };
}
