// monitor: what a model served in one environment, read back from the host's prediction log — input drift per
// window and version against the version's training profile, and live performance where feedback came back.
import { join } from 'node:path';
import { readMlYaml } from '../config/ml-yaml.js';
import { DRIFT_DEFAULTS } from '../data/drift.js';
import { readTable } from '../data/load.js';
import { cellValue, getColumn } from '../data/table.js';
import { artifactView } from '../model/artifact-schema.js';
import type { Label } from '../model/forest/input.js';
import { readPredictionLog } from '../monitor/log.js';
import { monitorMarkdown, monitorRecordFiles, MONITORING_FOLDER, parseRecordedResult } from '../monitor/record.js';
import { MONITOR, MonitorFold, type MonitoredVersion, type MonitorProfile, type MonitorResult } from '../monitor/windows.js';
import { checkEnvironment, Registry } from '../registry/registry.js';
import { listRegistryFolder, readRegistryFile } from '../registry/store.js';
import { UsageError } from './options.js';
import type { Ports } from './ports.js';

export interface MonitorOptions {
  dir: string;
  env: string;
  /** The folder of the host's prediction log (serve.json's log.dir). */
  logs: string;
  /** Ground truth: a data file (CSV, JSON, Arrow, Parquet) with ml.yaml's data.id and data.target columns. */
  truth?: string;
  /** A date or ISO time: predictions before it are left out. */
  since?: string;
  /** Default ml.yaml's monitor.min_rows, else MONITOR.minRows. */
  minRows?: number;
  /** Write the result, its Markdown and the windows' profiles to the registry branch (one commit, pushed). */
  record?: boolean;
}

export interface MonitorRun {
  result: MonitorResult;
  /** Earlier recorded runs of this model and environment, oldest first, read from the registry branch (at most HISTORY). */
  history: readonly MonitorResult[];
  /** Each window's mergeable profile per version. */
  profiles: readonly MonitorProfile[];
  /** Where this run was recorded on the registry branch; null unless options.record. */
  recorded: { commit: string; files: readonly string[] } | null;
}

/** How many earlier runs a run reads back (for the alert's charts over time). */
export const HISTORY = 30;

/** The monitor use-case: the result only (what `bramble monitor` prints). */
export async function monitor(options: MonitorOptions, ports: Pick<Ports, 'git' | 'log' | 'fs'> & { now?: () => Date }): Promise<MonitorResult> {
  return (await monitorRun(options, ports)).result;
}

/** The monitor use-case, whole: the result, the runs recorded before it, and (with `record`) this one recorded. */
export async function monitorRun(options: MonitorOptions, ports: Pick<Ports, 'git' | 'log' | 'fs'> & { now?: () => Date }): Promise<MonitorRun> {
  const config = await readMlYaml(join(options.dir, 'ml.yaml'));
  checkEnvironment(options.env, Object.keys(config.environments));
  const since = options.since === undefined ? null : Date.parse(options.since);
  if (Number.isNaN(since)) throw new UsageError(`--since ${JSON.stringify(options.since)} is not a date; give 2026-12-01 or 2026-12-01T06:00:00Z`, { since: options.since });
  const minRows = options.minRows ?? config.monitor?.min_rows ?? MONITOR.minRows;
  const truth = options.truth === undefined ? null : await readTruth(options.truth, config.data.id, config.data.target);
  const open = (): Promise<Registry> => Registry.open({ dir: options.dir, env: ports.git.env, remote: ports.git.remote, fs: ports.fs, warn: (m) => ports.log.warn(m) });
  let registry: { registry: Registry; head: string | null; models: Awaited<ReturnType<Registry['read']>>['models'] } | null = null;
  const reader = async (): Promise<NonNullable<typeof registry>> => {
    if (registry === null) {
      const opened = await open();
      const { snapshot, models } = await opened.read({ fetch: opened.remote !== null });
      registry = { registry: opened, head: snapshot.head, models };
    }
    return registry;
  };
  const resolve = async (version: string): Promise<MonitoredVersion> => {
    const { registry: r, head, models } = await reader();
    return monitoredVersion(r, head, models, config.name, version);
  };
  const ranAt = (ports.now?.() ?? new Date()).toISOString();
  const made: { fold?: MonitorFold } = {};
  const log = await readPredictionLog(options.logs, (feedback) => {
    made.fold = new MonitorFold(
      {
        name: config.name,
        env: options.env,
        resolve,
        window: config.monitor?.window ?? MONITOR.window,
        since,
        ranAt,
        minRows,
        truth,
        share: config.monitor?.drift.share ?? DRIFT_DEFAULTS.share,
        performance: config.monitor?.performance ?? null,
        headline: config.monitor?.performance?.metric ?? config.metrics[0],
      },
      feedback,
    );
    return made.fold;
  });
  if (made.fold === undefined) throw new Error('monitor: the log was read without a sink');
  const { result, profiles } = made.fold.finish(log);
  if (options.record !== true) return { result, history: [], profiles, recorded: null };
  const { registry: r, head } = await reader();
  const folder = MONITORING_FOLDER(config.name, options.env);
  const history: MonitorResult[] = [];
  // Only the newest HISTORY runs are read: a year of daily runs is 730 files, listed by name, not read.
  const names = (await listRegistryFolder(r.repo, head, `${folder}/runs`)).filter((n) => n.endsWith('.json')).sort();
  for (const name of names.slice(-HISTORY)) {
    const bytes = head === null ? null : await readRegistryFile(r.repo, head, `${folder}/runs/${name}`);
    const earlier = bytes === null ? null : parseRecordedResult(new TextDecoder().decode(bytes));
    if (earlier === null) ports.log.warn(`${r.path === '' ? '' : `${r.path}: `}${folder}/runs/${name} on the registry branch is not a monitor result; left out of the history`);
    else history.push(earlier);
  }
  const files = monitorRecordFiles(result, profiles, monitorMarkdown(result));
  const commit = await r.record(`monitor ${config.name} in ${options.env}`, files);
  return { result, history, profiles, recorded: { commit, files: [...files.keys()] } };
}

/** The truth file as id → label; a later row with the same id wins (a corrected label). */
async function readTruth(file: string, idColumn: string | undefined, target: string): Promise<{ file: string; idColumn: string; byId: Map<string, Label> }> {
  if (idColumn === undefined) throw new UsageError(`--truth ${file} is joined by ml.yaml's data.id, which this ml.yaml does not name; add data.id (the column that identifies a row)`, { file });
  const { table } = await readTable(file, { columns: { [idColumn]: { type: 'string' } }, hint: 'check --truth' });
  const ids = getColumn(table, idColumn, file);
  const labels = getColumn(table, target, file);
  const byId = new Map<string, Label>();
  for (let row = 0; row < table.rows; row++) {
    const id = cellValue(ids, row);
    const label = cellValue(labels, row);
    if (id === null || label === null) continue;
    byId.set(String(id), typeof label === 'number' ? label : String(label));
  }
  return { file, idColumn, byId };
}

/** What the monitor compares a version with: its artifact's training profile, inputs, target and classes. */
export async function monitoredVersion(registry: Registry, head: string | null, models: Awaited<ReturnType<Registry['read']>>['models'], name: string, version: string): Promise<MonitoredVersion> {
  const { artifact, path } = await registry.artifact(head, Registry.version(models, name, version));
  const view = artifactView(artifact, path);
  return { task: view.task, profile: view.profile, inputs: view.signature.inputs.map((i) => i.name), target: view.signature.target, classes: view.signature.classes };
}
