// monitor --summary: a longer period — a month — of one model in one environment, from the window profiles that
// `bramble monitor --record` wrote to the registry branch, without the logs. Per version: the merged profile's
// drift against the version's training profile, prediction drift, and the live metrics the performance sums give.
import { join } from 'node:path';
import { readMlYaml } from '../config/ml-yaml.js';
import { detectDrift, DRIFT_DEFAULTS, type ColumnDrift, type DriftResult } from '../data/drift.js';
import type { TableProfile } from '../data/profile.js';
import type { MetricValues } from '../model/evaluate.js';
import type { PerformanceSums } from '../monitor/accumulate.js';
import { mergePerformance, mergeProfiles, metricsOfSums } from '../monitor/merge.js';
import { MONITORING_FOLDER, parseRecordedProfile } from '../monitor/record.js';
import type { MonitorProfile } from '../monitor/windows.js';
import { checkEnvironment, Registry } from '../registry/registry.js';
import { monitoredVersion } from './monitor.js';
import { UsageError } from './options.js';
import type { Ports } from './ports.js';

export interface MonitorSummaryOptions {
  dir: string;
  env: string;
  /** Windows that start at or after this date or time… */
  since?: string;
  /** …and before this one. */
  until?: string;
}

export interface VersionSummary {
  readonly version: string;
  /** The windows merged, first and last start. */
  readonly windows: number;
  readonly first: string;
  readonly last: string;
  readonly rows: number;
  readonly drift: DriftResult;
  readonly predictionDrift: ColumnDrift | null;
  /** From the merged sums; roc_auc is null (it needs the scores' order). Null without joined rows. */
  readonly performance: { readonly rows: number; readonly metrics: MetricValues } | null;
}

export interface MonitorSummary {
  readonly format: 'bramble-monitor-summary';
  readonly version: 1;
  readonly name: string;
  readonly env: string;
  readonly since: string | null;
  readonly until: string | null;
  readonly versions: readonly VersionSummary[];
  /** Profile files on the registry branch that could not be read (edited by hand, another format): left out. */
  readonly skipped: readonly string[];
}

export async function monitorSummary(options: MonitorSummaryOptions, ports: Pick<Ports, 'git' | 'log' | 'fs'>): Promise<MonitorSummary> {
  const config = await readMlYaml(join(options.dir, 'ml.yaml'));
  checkEnvironment(options.env, Object.keys(config.environments));
  const since = dateOption('--since', options.since);
  const until = dateOption('--until', options.until);
  const registry = await Registry.open({ dir: options.dir, env: ports.git.env, remote: ports.git.remote, fs: ports.fs, warn: (m) => ports.log.warn(m) });
  const { snapshot, models } = await registry.read({ fetch: registry.remote !== null });
  const folder = `${MONITORING_FOLDER(config.name, options.env)}/profiles`;
  const byVersion = new Map<string, MonitorProfile[]>();
  const skipped: string[] = [];
  for (const window of (await registry.folder(snapshot.head, folder, 'folders')).sort()) {
    const start = Date.parse(window.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3'));
    if (Number.isNaN(start) || (since !== null && start < since) || (until !== null && start >= until)) continue;
    for (const [file, text] of await registry.folder(snapshot.head, `${folder}/${window}`)) {
      const profile = parseRecordedProfile(text);
      if (profile === null || profile.name !== config.name || profile.env !== options.env) {
        skipped.push(`${folder}/${window}/${file}`);
        continue;
      }
      const list = byVersion.get(profile.model) ?? [];
      list.push(profile);
      byVersion.set(profile.model, list);
    }
  }
  const versions: VersionSummary[] = [];
  for (const [version, profiles] of [...byVersion.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const known = await monitoredVersion(registry, snapshot.head, models, config.name, version);
    const inputs = mergeProfiles(profiles.map((p) => p.inputs));
    const compared = known.inputs.filter((name) => known.profile.columns.some((c) => c.name === name));
    const drift = detectDrift(known.profile, inputs, { share: config.monitor?.drift.share ?? DRIFT_DEFAULTS.share, columns: compared });
    const predictions: TableProfile[] = [];
    for (const p of profiles) if (p.predictions !== null) predictions.push(p.predictions);
    const predictionDrift = predictions.length === profiles.length ? (detectDrift(known.profile, mergeProfiles(predictions), { columns: [known.target] }).columns[0] ?? null) : null;
    const sums: PerformanceSums[] = profiles.map((p) => p.performance);
    const merged = mergePerformance(sums);
    versions.push({
      version,
      windows: profiles.length,
      first: profiles[0].start,
      last: profiles[profiles.length - 1].start,
      rows: inputs.rows,
      drift,
      predictionDrift,
      performance: merged === null ? null : { rows: merged.rows, metrics: metricsOfSums(merged) },
    });
  }
  return { format: 'bramble-monitor-summary', version: 1, name: config.name, env: options.env, since: options.since ?? null, until: options.until ?? null, versions, skipped };
}

function dateOption(flag: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a date; give 2026-12-01 or 2026-12-01T06:00:00Z`, { [flag.slice(2)]: value });
  return ms;
}
