// What the dashboard shows, read from git alone: the registry (versions, assignments with who and when, each
// version's metrics.json, card.md and its artifact's lineage), the monitor's recorded runs on the registry branch,
// and the run records on bramble/runs. Nothing is fetched: the site shows this clone as it is.
//
// Decisions:
// - A version whose artifact cannot be trusted (replaced after registration, missing) is still listed, with the
//   problem named on the page, never dropped: the registry's tags are the truth of what was registered.
// - Monitoring: every recorded run repeats the windows its log covered, so each (window, version) is taken from
//   the newest run that saw it — the last run over a day has seen all of it.
import { basename } from 'node:path';
import { BrambleError, describeError } from '../errors.js';
import { artifactView } from '../model/artifact-schema.js';
import { MONITORING_FOLDER, parseRecordedResult } from '../monitor/record.js';
import type { MonitorResult } from '../monitor/windows.js';
import { Registry } from '../registry/registry.js';
import { RUNS, type RunRecord } from '../registry/runs.js';
import { readRuns } from '../registry/runs-store.js';
import type { ModelState, VersionState } from '../registry/state.js';
import { listRegistryFolder, readRegistryFile, REGISTRY, resolveOrNull, type GitRepo } from '../registry/store.js';
import { markdownHtml } from './markdown.js';
import type { SiteCards, SiteLineage, SiteModel, SiteMonitoring, SiteMonitorWindow, SiteVersion } from './site-types.js';

type Fs = typeof import('node:fs');

export interface CollectOptions {
  /** Any folder inside the model's repository. */
  dir: string;
  fs?: Fs;
  env?: Readonly<Record<string, string | undefined>>;
  warn?: (message: string) => void;
}

export interface Collected {
  repository: string;
  registryHead: string | null;
  runsHead: string | null;
  models: SiteModel[];
  cards: SiteCards;
  monitoring: SiteMonitoring[];
  runs: RunRecord[];
  skipped: { where: string; reason: string }[];
  problems: string[];
}

const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : new TextDecoder().decode(bytes));

/** Everything the site shows, from the repository holding `dir`. */
export async function collectSite(options: CollectOptions): Promise<Collected> {
  const registry = await Registry.open({ dir: options.dir, fs: options.fs, env: options.env, warn: options.warn });
  const { snapshot, models } = await registry.read();
  const head = snapshot.head;
  const problems: string[] = [];
  const cards: SiteCards = {};
  const siteModels: SiteModel[] = [];
  const monitoring: SiteMonitoring[] = [];
  for (const m of [...models.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const versions: SiteVersion[] = [];
    let task: SiteModel['task'] = null;
    for (const v of m.versions) {
      const read = await versionOf(registry, head, v);
      versions.push(read.version);
      task = read.task ?? task;
      if (read.card !== null) cards[`${v.name}@${v.version}`] = read.card;
    }
    siteModels.push(modelOf(m, versions, task));
    for (const env of await listRegistryFolder(registry.repo, head, `${m.name}/monitoring`)) {
      monitoring.push(await monitoringOf(registry.repo, head as string, m.name, env, problems));
    }
  }
  const runs = await runsOf(registry.repo, registry.remote?.name ?? null);
  return {
    repository: basename(registry.repo.dir),
    registryHead: head,
    runsHead: runs.head,
    models: siteModels,
    cards,
    monitoring,
    runs: runs.records,
    skipped: runs.skipped,
    problems,
  };
}

function modelOf(m: ModelState, versions: SiteVersion[], task: SiteModel['task']): SiteModel {
  const assignment = (a: ModelState['history'][number]) => ({ env: a.env, version: a.version, at: a.at, by: a.by, tag: a.tag });
  return {
    name: m.name,
    task,
    deprecated: m.deprecated === null ? null : { by: m.deprecated.by, at: m.deprecated.at },
    versions,
    envs: [...m.envs.values()].sort((a, b) => (a.env < b.env ? -1 : 1)).map(assignment),
    history: m.history.map(assignment),
  };
}

/** One version: its tag's facts, metrics.json, card.md as safe HTML, and the lineage of its artifact. */
async function versionOf(registry: Registry, head: string | null, v: VersionState): Promise<{ version: SiteVersion; card: string | null; task: SiteModel['task'] }> {
  const problems: string[] = [];
  const folder = `${v.name}/${v.version}`;
  const file = async (name: string): Promise<string | null> => (head === null ? null : text(await readRegistryFile(registry.repo, head, `${folder}/${name}`)));
  let metrics: Record<string, number> = {};
  const metricsText = await file('metrics.json');
  if (metricsText === null) problems.push(`${REGISTRY.branch}:${folder}/metrics.json is missing`);
  else metrics = metricsOf(metricsText, `${REGISTRY.branch}:${folder}/metrics.json`, problems);
  const card = await file('card.md');
  let lineage: SiteLineage | null = null;
  let task: SiteModel['task'] = null;
  try {
    const { artifact, path } = await registry.artifact(head, v);
    const view = artifactView(artifact, `${REGISTRY.branch}:${path}`);
    task = view.task;
    const l = view.lineage;
    lineage = {
      commit: l.source?.commit ?? null,
      committedAt: l.source?.committedAt ?? null,
      branch: null,
      path: l.source?.path ?? '',
      dirty: l.source?.dirty ?? true,
      mlYaml: l.mlYaml.sha256,
      data: { path: l.data.path, sha256: l.data.sha256, rows: l.data.rows, columns: l.data.columns },
      params: paramsOf(l.params as unknown as Record<string, unknown>),
      seed: l.seed,
      split: `${Math.round(l.split.test * 100)} % held out${l.split.stratify ? ', stratified' : ''}${l.split.by ? ` by ${l.split.by}` : ''}, seed ${l.split.seed}`,
      bramble: l.versions.bramble,
      node: l.versions.node,
    };
  } catch (err) {
    // A replaced or missing artifact, or one that is not Bramble's: said on the page. Anything else is a bug.
    if (!(err instanceof BrambleError)) throw err;
    problems.push(describeError(err));
  }
  const version: SiteVersion = {
    version: v.version,
    commit: v.commit,
    artifact: v.artifact,
    registered: v.registered,
    deregistered: v.deregistered,
    metrics,
    lineage,
    card: card !== null,
    problems,
  };
  return { version, card: card === null ? null : markdownHtml(card), task };
}

function metricsOf(source: string, where: string, problems: string[]): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    problems.push(`${where} is not JSON (${err.message})`);
    return {};
  }
  const out: Record<string, number> = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${where} is not a JSON object of metrics`);
    return out;
  }
  for (const [k, x] of Object.entries(value)) if (typeof x === 'number' && Number.isFinite(x)) out[k] = x;
  return out;
}

/** Parameters as table cells: scalars as they are, anything else as its JSON text. */
export function paramsOf(params: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(params)) {
    out[k] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : v === undefined ? null : JSON.stringify(v);
  }
  return out;
}

/** The monitor's recorded runs of one model in one environment, each window from the newest run that saw it. */
async function monitoringOf(repo: GitRepo, head: string, name: string, env: string, problems: string[]): Promise<SiteMonitoring> {
  const folder = `${MONITORING_FOLDER(name, env)}/runs`;
  const results: MonitorResult[] = [];
  for (const file of (await listRegistryFolder(repo, head, folder)).filter((f) => f.endsWith('.json')).sort()) {
    const result = parseRecordedResult(text(await readRegistryFile(repo, head, `${folder}/${file}`)) ?? '');
    if (result === null) problems.push(`${REGISTRY.branch}:${folder}/${file} is not a bramble-monitor result; skipped`);
    else results.push(result);
  }
  results.sort((a, b) => (a.ranAt < b.ranAt ? -1 : a.ranAt > b.ranAt ? 1 : 0));
  const windows = new Map<string, SiteMonitorWindow>();
  for (const result of results) {
    for (const w of result.windows) {
      for (const v of w.versions) windows.set(`${w.start}\u0000${v.version}`, monitorWindowOf(w.start, w.end, v));
    }
  }
  return {
    name,
    env,
    runs: results.map((r) => ({ ranAt: r.ranAt, healthy: r.healthy, windows: r.windows.length })),
    windows: [...windows.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.version < b.version ? -1 : 1)),
  };
}

function monitorWindowOf(start: string, end: string, v: MonitorResult['windows'][number]['versions'][number]): SiteMonitorWindow {
  const p = v.performance;
  const metric = p.status === 'ok' ? (p.watched?.metric ?? p.interval?.metric ?? null) : null;
  const value = p.status === 'ok' && metric !== null ? (p.metrics[metric] ?? null) : null;
  const interval = p.status === 'ok' && p.interval !== null && p.interval.metric === metric ? p.interval : null;
  return {
    start,
    end,
    version: v.version,
    rows: v.rows,
    status: v.status,
    driftedShare: v.drift?.driftedShare ?? null,
    datasetDrift: v.drift?.datasetDrift ?? null,
    drifted: v.drift === null ? [] : v.drift.columns.filter((c) => c.drifted).map((c) => c.column),
    predictionDrift: v.predictionDrift?.score ?? null,
    metric,
    value: typeof value === 'number' && Number.isFinite(value) ? value : null,
    low: interval?.low ?? null,
    high: interval?.high ?? null,
    alert: p.status === 'ok' && p.watched?.alert === true,
  };
}

/** The run records on bramble/runs (or, in a fresh clone, the remote's), newest first. */
async function runsOf(repo: GitRepo, remote: string | null): Promise<{ head: string | null; records: RunRecord[]; skipped: { where: string; reason: string }[] }> {
  let head = await resolveOrNull(repo, RUNS.ref);
  if (head === null && remote !== null) head = await resolveOrNull(repo, `refs/remotes/${remote}/${RUNS.branch}`);
  const read = await readRuns(repo, head);
  return { head, records: read.records, skipped: read.skipped };
}
