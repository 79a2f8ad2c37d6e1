// Charts with uPlot (small, made for time series): a line or point chart over aligned x values, one series per
// name, null where a series has no value. Each chart has a text alternative (aria-label) and a table beside it.
import uPlot from 'uplot';
import { h } from './dom.js';

const COLOURS = ['#0b5cad', '#c4432b', '#2f7d32', '#8250df', '#bf8700', '#1b7c83', '#cf222e', '#57606a'];

export interface Series {
  label: string;
  values: (number | null)[];
}

export interface ChartSpec {
  title: string;
  /** The x values: seconds since 1970 when `time`, else indexes labelled by `xLabels`. */
  x: number[];
  series: Series[];
  time?: boolean;
  xLabels?: string[];
  points?: boolean;
  /** Steps for "what served then". */
  steps?: boolean;
  height?: number;
}

/** A chart in a figure; empty data makes a note instead. */
export function chart(spec: ChartSpec): HTMLElement {
  const figure = h('figure', { class: 'chart', 'aria-label': spec.title, role: 'img' }, h('figcaption', {}, spec.title));
  if (spec.x.length === 0 || spec.series.length === 0) {
    figure.appendChild(h('p', { class: 'muted' }, 'No data to chart yet.'));
    return figure;
  }
  const width = Math.max(320, Math.min(960, (document.querySelector('main')?.clientWidth ?? 800) - 40));
  const labels = spec.xLabels;
  const paths = spec.steps ? uPlot.paths.stepped?.({ align: 1 }) : undefined;
  const opts: uPlot.Options = {
    width,
    height: spec.height ?? 220,
    scales: { x: { time: spec.time === true } },
    // Times in UTC, as git records them and the tables show them.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    axes: [labels ? { splits: () => spec.x, values: (_u, splits) => splits.map((v) => labels[v] ?? '') } : {}, {}],
    series: [
      {},
      ...spec.series.map((s, i) => ({
        label: s.label,
        stroke: COLOURS[i % COLOURS.length],
        width: spec.points ? 0 : 2,
        paths,
        spanGaps: !spec.points,
        points: { show: spec.points === true || spec.x.length < 60, size: spec.points ? 4 : 6, fill: COLOURS[i % COLOURS.length] },
      })),
    ],
    legend: { live: false },
    cursor: { show: false },
  };
  const data = [spec.x, ...spec.series.map((s) => s.values)] as uPlot.AlignedData;
  const holder = h('div', {});
  figure.appendChild(holder);
  new uPlot(opts, data, holder);
  return figure;
}

/** Points keyed by x and series name as uPlot's aligned arrays: x sorted, null where a series has no point. */
export function aligned(points: { x: number; series: string; y: number | null }[]): { x: number[]; series: Series[] } {
  const xs = [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const names = [...new Set(points.map((p) => p.series))];
  const series = names.map((label) => ({ label, values: new Array<number | null>(xs.length).fill(null) }));
  const index = new Map(names.map((n, i) => [n, i]));
  for (const p of points) series[index.get(p.series) as number].values[at.get(p.x) as number] = p.y;
  return { x: xs, series };
}

export const seconds = (iso: string): number => Date.parse(iso) / 1000;
