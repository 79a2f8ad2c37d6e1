// The experiments view: a filter, a chart of one metric over time for the runs shown, the table (runs-table.ts),
// and, for the runs selected, their comparison: the parameters, data and metrics side by side, what differs marked.
import type { SiteIndex } from '../src/ui/site-types.js';
import { chart, seconds } from './charts.js';
import { fmt, h, short, when } from './dom.js';
import { RunsData, RunsTable } from './runs-table.js';

/** At most this many points in the metric-over-time chart (evenly thinned past it): a chart, not a data dump. */
const CHART_POINTS = 5000;

export interface ExperimentsView {
  element: HTMLElement;
  table: RunsTable;
  /** Call after rows were added. */
  refresh(): void;
}

export function experimentsView(site: SiteIndex, data: RunsData): ExperimentsView {
  const out = h('section', { 'aria-labelledby': 'experiments-title' }, h('h2', { id: 'experiments-title' }, 'Experiments'));
  for (const s of site.runs.skipped.slice(0, 20)) out.appendChild(h('p', { class: 'problem' }, `skipped ${s.where}: ${s.reason}`));
  const filter = h('input', { type: 'search', id: 'runs-filter', placeholder: 'id, model, branch, commit, parameter' });
  const models = h('select', { id: 'runs-model' }, h('option', { value: '' }, 'all models'), site.models.map((m) => h('option', { value: m.name }, m.name)));
  for (const name of new Set(data.page.name)) if (!site.models.some((m) => m.name === name)) models.appendChild(h('option', { value: name }, name));
  const metric = h('select', { id: 'runs-metric' }, site.runs.metrics.map((m) => h('option', { value: m }, m)));
  const count = h('span', { class: 'muted', id: 'runs-count' });
  out.appendChild(
    h(
      'div',
      { class: 'controls' },
      h('label', { for: 'runs-filter' }, 'Filter '),
      filter,
      h('label', { for: 'runs-model' }, 'Model '),
      models,
      h('label', { for: 'runs-metric' }, 'Chart '),
      metric,
      count,
    ),
  );
  const chartHolder = h('div', {});
  out.appendChild(chartHolder);
  const compare = h('div', { id: 'compare', 'aria-live': 'polite' });
  const table = new RunsTable(data, { selected: (rows) => compareRuns(compare, site, data, rows) });
  out.appendChild(table.element);
  out.appendChild(h('h3', {}, 'Compare'));
  compare.appendChild(h('p', { class: 'muted' }, 'Select two or more runs (click, or Space on a row) to compare them.'));
  out.appendChild(compare);

  const drawChart = () => {
    const key = metric.value;
    const values = data.page.metrics[key];
    const rows = table.rows();
    const step = Math.max(1, Math.ceil(rows.length / CHART_POINTS));
    const pts: { x: number; y: number | null }[] = [];
    for (let k = 0; k < rows.length; k += step) pts.push({ x: seconds(data.page.at[rows[k]]), y: values ? values[rows[k]] : null });
    pts.sort((a, b) => a.x - b.x);
    chartHolder.replaceChildren(chart({ title: `${key || 'metric'} of the runs shown, over time`, x: pts.map((p) => p.x), series: [{ label: key, values: pts.map((p) => p.y) }], time: true, points: true, height: 180 }));
  };
  const update = () => {
    count.textContent = `${table.rows().length} of ${data.count} run(s)${data.count < site.runs.total ? ` (loading ${site.runs.total})` : ''}`;
  };
  let timer = 0;
  filter.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => {
      table.setFilter(filter.value, models.value);
      update();
      drawChart();
    }, 150);
  });
  models.addEventListener('change', () => {
    table.setFilter(filter.value, models.value);
    update();
    drawChart();
  });
  metric.addEventListener('change', drawChart);
  return {
    element: out,
    table,
    refresh: () => {
      table.refresh();
      update();
      drawChart();
    },
  };
}

/** The selected runs side by side: source, data, gates, every parameter and metric; rows that differ are marked. */
function compareRuns(holder: HTMLElement, site: SiteIndex, data: RunsData, rows: number[]): void {
  holder.replaceChildren();
  if (rows.length < 2) {
    holder.appendChild(h('p', { class: 'muted' }, rows.length === 1 ? `${data.page.id[rows[0]]} selected; select one more to compare.` : 'Select two or more runs to compare them.'));
    return;
  }
  const p = data.page;
  const ids = rows.map((i) => p.id[i]);
  const lines: { label: string; cells: string[]; numeric?: boolean }[] = [
    { label: 'when', cells: rows.map((i) => when(p.at[i])) },
    { label: 'model', cells: rows.map((i) => p.name[i]) },
    { label: 'commit', cells: rows.map((i) => `${short(p.commit[i])}${p.dirty[i] ? ' (dirty)' : ''} ${p.branch[i] ?? ''}`.trim()) },
    { label: 'data', cells: rows.map((i) => `${p.dataPath[i]} ${short(p.dataSha[i], 12)} (${p.rows[i]} rows)`) },
    { label: 'seed', cells: rows.map((i) => String(p.seed[i] ?? '–')) },
    { label: 'champion', cells: rows.map((i) => p.champion[i] ?? '–') },
    { label: 'gates', cells: rows.map((i) => (p.gate[i] === null ? '–' : `${p.gate[i]}${p.failed[i].length > 0 ? `: ${p.failed[i].join(', ')}` : ''}`)) },
    { label: 'seconds', cells: rows.map((i) => fmt(p.seconds[i])), numeric: true },
    { label: 'runner', cells: rows.map((i) => p.runner[i]) },
  ];
  for (const k of site.runs.params) lines.push({ label: `param ${k}`, cells: rows.map((i) => String(p.params[k]?.[i] ?? '–')) });
  for (const k of site.runs.metrics) lines.push({ label: k, cells: rows.map((i) => fmt(p.metrics[k]?.[i])), numeric: true });
  const differs = (cells: string[]) => cells.some((c) => c !== cells[0]);
  const changed = lines.filter((l) => differs(l.cells)).map((l) => l.label);
  holder.appendChild(h('p', {}, `${rows.length} runs; ${changed.length} of ${lines.length} rows differ: ${changed.join(', ') || 'none'}.`));
  holder.appendChild(
    h(
      'table',
      { id: 'compare-table' },
      h('caption', { class: 'sr' }, 'The selected runs side by side'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''), ids.map((id) => h('th', { scope: 'col' }, id)))),
      h(
        'tbody',
        {},
        lines.map((l) => h('tr', { class: differs(l.cells) ? 'changed' : null }, h('th', { scope: 'row' }, l.label, differs(l.cells) ? h('span', { class: 'sr' }, ' (differs)') : null), l.cells.map((c) => h('td', { class: l.numeric ? 'num' : null }, c)))),
      ),
    ),
  );
  const metrics = site.runs.metrics;
  holder.appendChild(
    chart({
      title: 'Metrics of the selected runs',
      x: metrics.map((_, j) => j),
      xLabels: metrics,
      series: rows.slice(0, 8).map((i) => ({ label: p.id[i], values: metrics.map((k) => p.metrics[k]?.[i] ?? null) })),
    }),
  );
}
