// The A/B comparison on outcomes: in each window, the canary's (and the shadow's) live metric against the main
// version's, as a difference with a 95 % interval.
//
// Decisions: the interval of the difference is built from the two versions' own intervals (interval.ts: Wilson for
// proportions, Hanley–McNeil for ROC AUC, a seeded bootstrap for the rest) by MOVER, the method of variance
// estimates recovery (Zou & Donner 2008):
//   low  = d − √((v₁ − l₁)² + (u₂ − v₂)²),   high = d + √((u₁ − v₁)² + (v₂ − l₂)²),   d = v₁ − v₂,
// which for two proportions with Wilson intervals is Newcombe's (1998) hybrid score interval, the one the
// literature recommends for a difference of proportions. MOVER assumes independent samples: true for a canary
// (its rows are not main's); a shadow scores the same rows as main, whose positive correlation makes the true
// interval narrower, so the one shown is conservative. A comparison says "better" or "worse" only when the
// interval excludes 0, in the metric's better direction (log loss, RMSE and MAE: lower is better).
import type { Role } from '../registry/roles.js';
import { METRIC_DIRECTIONS } from '../model/compare.js';
import type { Metric } from '../model/metric-names.js';
import type { VersionWindow } from './accumulate.js';

/** One side of a comparison: a version's live metric with its interval, on its joined rows. */
export interface ABSide {
  readonly role: Role;
  readonly version: string;
  readonly rows: number;
  readonly value: number;
  readonly low: number;
  readonly high: number;
}

export interface ABComparison {
  /** The window's start (ISO). */
  readonly window: string;
  readonly metric: Metric;
  readonly main: ABSide;
  /** The canary or the shadow. */
  readonly other: ABSide;
  /** other − main, as the values go (not by direction). */
  readonly difference: number;
  readonly low: number;
  readonly high: number;
  readonly method: string;
  /** The other version against main, in the metric's better direction; "no difference shown" when the interval holds 0. */
  readonly verdict: 'better' | 'worse' | 'no difference shown';
}

export const AB_METHOD = 'MOVER (Newcombe for proportions), 95 %';

/** The 95 % interval of a − b from each one's value and 95 % interval (MOVER). */
export function differenceInterval(a: { value: number; low: number; high: number }, b: { value: number; low: number; high: number }): { difference: number; low: number; high: number } {
  const d = a.value - b.value;
  return {
    difference: d,
    low: d - Math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2),
    high: d + Math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2),
  };
}

/** A version's side, when its window has the headline metric with an interval. */
function side(v: VersionWindow): ABSide | null {
  const p = v.performance;
  if (p.status !== 'ok' || p.interval === null) return null;
  const value = p.metrics[p.interval.metric];
  if (value === null || value === undefined) return null;
  return { role: v.role ?? 'main', version: v.version, rows: p.rows, value, low: p.interval.low, high: p.interval.high };
}

/** Every window's comparisons: each canary and shadow version against the main version(s) of the same window. */
export function compareRoles(windows: readonly { start: string; versions: readonly VersionWindow[] }[]): ABComparison[] {
  const out: ABComparison[] = [];
  for (const w of windows) {
    const mains = w.versions.filter((v) => (v.role ?? 'main') === 'main');
    for (const v of w.versions) {
      if ((v.role ?? 'main') === 'main') continue;
      const other = side(v);
      const metric = v.performance.status === 'ok' ? v.performance.interval?.metric : undefined;
      if (other === null || metric === undefined) continue;
      for (const m of mains) {
        const main = side(m);
        if (main === null || m.performance.status !== 'ok' || m.performance.interval?.metric !== metric) continue;
        const d = differenceInterval(other, main);
        const shown = d.low > 0 || d.high < 0;
        const higher = METRIC_DIRECTIONS[metric] === 'higher';
        const verdict = !shown ? 'no difference shown' : d.low > 0 === higher ? 'better' : 'worse';
        out.push({ window: w.start, metric, main, other, ...d, method: AB_METHOD, verdict });
      }
    }
  }
  return out;
}
