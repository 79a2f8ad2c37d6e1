// /metrics of a cluster (cluster.ts): the primary's own exposition (sync, deploys, the prediction log, model info)
// with its workers' expositions merged in. Counters and histograms (their _bucket, _sum and _count series) are
// summed over the processes, so a scrape sees the host's totals whichever worker it reached; a gauge is the
// primary's value, or the first worker's when the primary has none (every worker serves the same models).
import { formatNumber } from './metrics.js';

interface Family {
  header: string[];
  kind: string;
  /** Series (the sample line without its value) → value, in the order first seen. */
  series: Map<string, number>;
}

/** Merges Prometheus text expositions; `own` first (its gauges win), then each worker's. */
export function mergeMetrics(own: string, workers: readonly string[]): string {
  const families = new Map<string, Family>();
  const texts = [own];
  for (const w of workers) texts.push(w);
  for (const text of texts) {
    let current: Family | null = null;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        const [, what, name, rest] = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line) ?? [];
        if (name === undefined) continue;
        let family = families.get(name);
        const fresh = family === undefined || family.header.length < 2;
        family ??= { header: [], kind: 'untyped', series: new Map() };
        families.set(name, family);
        if (fresh && !family.header.includes(line)) family.header.push(line);
        if (what === 'TYPE') family.kind = rest;
        current = family;
        continue;
      }
      if (!current) continue;
      const space = line.lastIndexOf(' ');
      const key = line.slice(0, space);
      const value = parseValue(line.slice(space + 1));
      const before = current.series.get(key);
      const summed = current.kind === 'counter' || current.kind === 'histogram';
      if (before === undefined) current.series.set(key, value);
      else if (summed) current.series.set(key, before + value);
    }
  }
  const out: string[] = [];
  for (const family of families.values()) {
    for (const h of family.header) out.push(h);
    for (const [key, value] of family.series) out.push(`${key} ${formatNumber(value)}`);
  }
  return out.join('\n') + '\n';
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}
