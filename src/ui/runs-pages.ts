// Run records as the experiments table's pages: columns, not objects, so that a page of 10,000 runs is one
// array per column (JSON parses it fast; the table sorts an index over a column without touching the others) and
// each field name is written once a page, not once a run.
import type { RunRecord } from '../registry/runs.js';
import { paramsOf } from './collect.js';
import { SITE, type RunsPage } from './site-types.js';

/** The metric and parameter names over all records, sorted: the table's columns. */
export function runColumns(records: readonly RunRecord[]): { metrics: string[]; params: string[] } {
  const metrics = new Set<string>();
  const params = new Set<string>();
  for (const r of records) {
    for (const k of Object.keys(r.metrics)) metrics.add(k);
    for (const k of Object.keys(r.params)) params.add(k);
  }
  return { metrics: [...metrics].sort(), params: [...params].sort() };
}

/** One page: the records in the order given, one array per column (a metric or parameter a run lacks is null). */
export function runsPage(records: readonly RunRecord[], columns: { metrics: readonly string[]; params: readonly string[] }): RunsPage {
  const page: RunsPage = {
    id: [],
    at: [],
    name: [],
    command: [],
    branch: [],
    commit: [],
    dirty: [],
    dataPath: [],
    dataSha: [],
    rows: [],
    seed: [],
    gate: [],
    failed: [],
    champion: [],
    seconds: [],
    runner: [],
    artifact: [],
    params: Object.fromEntries(columns.params.map((k) => [k, []])),
    metrics: Object.fromEntries(columns.metrics.map((k) => [k, []])),
  };
  for (const r of records) {
    page.id.push(r.id);
    page.at.push(r.at);
    page.name.push(r.name);
    page.command.push(r.command);
    page.branch.push(r.source.branch);
    page.commit.push(r.source.commit);
    page.dirty.push(r.source.dirty);
    page.dataPath.push(r.data.path);
    page.dataSha.push(r.data.sha256);
    page.rows.push(r.data.rows);
    page.seed.push(r.seed);
    page.gate.push(r.gates === null ? null : r.gates.passed ? 'passed' : 'failed');
    page.failed.push(r.gates?.failed ?? []);
    page.champion.push(r.champion === null ? null : r.champion.label);
    page.seconds.push(r.steps.total);
    page.runner.push(r.machine.runner ?? (r.machine.ci === null ? 'local' : r.machine.ci));
    page.artifact.push(r.artifact?.sha256 ?? null);
    const params = paramsOf(r.params);
    for (const k of columns.params) page.params[k].push(k in params ? params[k] : null);
    for (const k of columns.metrics) {
      const v = r.metrics[k];
      page.metrics[k].push(typeof v === 'number' && Number.isFinite(v) ? v : null);
    }
  }
  return page;
}

/** The records cut into pages of SITE.pageRows (at least one page, empty when there are no runs). */
export function runsPages(records: readonly RunRecord[], pageRows: number = SITE.pageRows): { columns: { metrics: string[]; params: string[] }; pages: RunsPage[] } {
  const columns = runColumns(records);
  const pages: RunsPage[] = [];
  for (let i = 0; i < records.length; i += pageRows) pages.push(runsPage(records.slice(i, i + pageRows), columns));
  return { columns, pages };
}
