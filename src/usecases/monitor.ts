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
import { MONITOR, monitorPredictions, type MonitoredVersion, type MonitorResult } from '../monitor/windows.js';
import { checkEnvironment, Registry } from '../registry/registry.js';
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
  /** Default MONITOR.minRows. */
  minRows?: number;
}

/** The monitor use-case. */
export async function monitor(options: MonitorOptions, ports: Pick<Ports, 'git' | 'log' | 'fs'>): Promise<MonitorResult> {
  const config = await readMlYaml(join(options.dir, 'ml.yaml'));
  checkEnvironment(options.env, Object.keys(config.environments));
  const since = options.since === undefined ? null : Date.parse(options.since);
  if (Number.isNaN(since)) throw new UsageError(`--since ${JSON.stringify(options.since)} is not a date; give 2026-12-01 or 2026-12-01T06:00:00Z`, { since: options.since });
  const minRows = options.minRows ?? MONITOR.minRows;
  const truth = options.truth === undefined ? null : await readTruth(options.truth, config.data.id, config.data.target);
  const log = await readPredictionLog(options.logs);
  const versions = new Map<string, MonitoredVersion>();
  const wanted = new Set<string>();
  for (const p of log.predictions) {
    if (p.env === options.env && p.model.name === config.name && (since === null || p.time >= since)) wanted.add(p.model.version);
  }
  if (wanted.size > 0) {
    const registry = await Registry.open({ dir: options.dir, env: ports.git.env, remote: ports.git.remote, fs: ports.fs, warn: (m) => ports.log.warn(m) });
    const { snapshot, models } = await registry.read();
    for (const version of wanted) {
      const { artifact, path } = await registry.artifact(snapshot.head, Registry.version(models, config.name, version));
      const view = artifactView(artifact, path);
      versions.set(version, { task: view.task, profile: view.profile, inputs: view.signature.inputs.map((i) => i.name), classes: view.signature.classes });
    }
  }
  return monitorPredictions({
    log,
    name: config.name,
    env: options.env,
    versions,
    windowMs: MONITOR.windowMs,
    since,
    minRows,
    truth,
    share: config.monitor?.drift.share ?? DRIFT_DEFAULTS.share,
    performance: config.monitor?.performance ?? null,
  });
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
