// watch: the monitor as the scheduled CI job runs it — the run (recorded on the registry branch when asked), then
// the alert answered as ml.yaml's monitor.on_alert says (the issue, one retrain per alert episode).
import { join } from 'node:path';
import { readMlYaml } from '../config/ml-yaml.js';
import { actOnMonitor, type AlertOutcome } from './alert.js';
import { monitorRun, type MonitorOptions, type MonitorRun } from './monitor.js';
import type { Ports } from './ports.js';

export interface WatchOptions extends MonitorOptions {
  record: boolean;
  /** What a retrain runs: the workflow (GitHub: its file name) on a branch. */
  retrain: { ref: string; workflow: string };
}

export interface Watched {
  name: string;
  run: MonitorRun;
  outcome: AlertOutcome;
}

export async function watch(options: WatchOptions, ports: Pick<Ports, 'git' | 'log' | 'fs' | 'platform'>): Promise<Watched> {
  const config = await readMlYaml(join(options.dir, 'ml.yaml'));
  const run = await monitorRun(options, ports);
  const monitor = config.monitor;
  const alert = { name: config.name, env: options.env, onAlert: monitor?.on_alert ?? [], result: run.result, history: run.history, retrain: options.retrain };
  const outcome = await actOnMonitor({ ...alert, performance: monitor?.performance ?? null }, ports);
  return { name: config.name, run, outcome };
}
