// A model repository with everything the dashboard shows, made for real: two versions registered by the register
// use-case (with their cards), assignments to dev, staging and prod at known times, a monitor run recorded on the
// registry branch, and run records on bramble/runs — some with HTML in their names, one line that is not a record.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DRIFT_FORMAT, DRIFT_VERSION, type ColumnDrift } from '../../src/data/drift.js';
import { MONITORING_FOLDER, timeName } from '../../src/monitor/record.js';
import { MONITOR, type MonitorResult, type MonitorWindow } from '../../src/monitor/windows.js';
import { Registry } from '../../src/registry/registry.js';
import { monthFile, RUNS, sealRun, type RunBody, type RunRecord } from '../../src/registry/runs.js';
import { appendRuns } from '../../src/registry/runs-store.js';
import { REGISTRY, resolveOrNull, setRef, writeRegistryCommit, type GitIdentity, type GitRepo } from '../../src/registry/store.js';
import { register } from '../../src/usecases/register.js';
import { runsPages } from '../../src/ui/runs-pages.js';
import { dataFile } from '../../src/ui/site.js';
import { SITE, type SiteIndex } from '../../src/ui/site-types.js';
import { commitAll, editMlYaml, makeModelRepo } from './model-repo.js';

export const HOSTILE = {
  /** A model name in a run record, a branch name and a parameter value that a careless page would run as markup. */
  name: '<img src=x onerror="window.__pwned=1">',
  branch: 'feature/<svg/onload=window.__pwned=2>',
  param: '**bold** <script>window.__pwned=3</script>',
} as const;

const ENVS = ['dev', 'staging', 'prod'];

const identity = (at: string): GitIdentity => ({ name: 'Ada Lovelace', email: 'ada@example.com', timestamp: Math.floor(Date.parse(at) / 1000), timezoneOffset: 0 });

async function registerAt(dir: string, at: string): Promise<string> {
  const ports = {
    git: { env: { GIT_COMMITTER_DATE: at }, remote: null },
    log: { info: () => {}, warn: () => {} },
    clock: { now: () => 0 },
    versions: { bramble: 'test', node: 'test' },
  };
  const outcome = await register({ dir, trainWhenMissing: true, workers: 1, labels: { model: '--model', version: '--version', bump: '--bump' } }, ports);
  return outcome.registered.version;
}

/** One run record's body: metrics that vary with `i`, so that sorting has something to order. */
export function runBody(i: number, overrides: Partial<RunBody> = {}): RunBody {
  const at = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString();
  const accuracy = 0.7 + ((i * 7919) % 1000) / 5000;
  return {
    format: RUNS.format,
    version: RUNS.version,
    at,
    command: i % 3 === 0 ? 'train' : 'run',
    name: 'churn',
    task: 'classification',
    params: { trees: 10 + (i % 5) * 10, maxDepth: i % 2 === 0 ? null : 8, criterion: 'gini' },
    seed: 42,
    metrics: { accuracy, f1: accuracy - 0.1, roc_auc: Math.min(0.99, accuracy + 0.1) },
    data: { path: 'data/churn.csv', sha256: 'a'.repeat(64), rows: 7043 },
    source: { commit: (i % 16).toString(16).repeat(40), branch: i % 2 === 0 ? 'main' : 'experiment', dirty: false, workTree: 'b'.repeat(64), path: '' },
    champion: null,
    gates: i % 3 === 0 ? null : { passed: i % 4 !== 0, failed: i % 4 === 0 ? ['roc_auc'] : [] },
    steps: { validate: 0.1, features: 0.2, train: 1 + (i % 10) / 10, evaluate: 0.1, compare: null, write: 0.01, total: 1.5 + (i % 10) / 10 },
    machine: { ci: null, runner: null, cores: 2, node: 'v20.20.2', bramble: 'test' },
    artifact: { sha256: 'c'.repeat(64), bytes: 1000 },
    ...overrides,
  };
}

/** `count` generated records and the hostile one, on bramble/runs; a foreign line added to the newest month. */
export async function writeRunRecords(repo: GitRepo, count: number, options: { hostile?: boolean; foreign?: boolean } = {}): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (let i = 0; i < count; i++) records.push(sealRun(runBody(i)));
  if (options.hostile) records.push(sealRun(runBody(count, { name: HOSTILE.name, source: { ...runBody(count).source, branch: HOSTILE.branch }, params: { trees: 10, note: HOSTILE.param } })));
  const head = await appendRuns(repo, records, identity('2026-12-01T00:00:00Z'));
  if (options.foreign) {
    const month = monthFile(records[records.length - 1]);
    const { blob } = await import('isomorphic-git').then((g) => g.readBlob({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, oid: head, filepath: month }));
    const text = `${new TextDecoder().decode(blob)}{"format":"mlflow-run","id":"foreign-1"}\n`;
    const commit = await writeRegistryCommit(repo, head, new Map([[month, new TextEncoder().encode(text)]]), 'a foreign line', identity('2026-12-01T00:00:01Z'));
    await setRef(repo, RUNS.ref, commit);
  }
  return records;
}

function window(start: string, version: string, drifted: number, accuracy: number): MonitorWindow {
  const end = new Date(Date.parse(start) + 86_400_000).toISOString();
  const column = (name: string, isDrifted: boolean): ColumnDrift => ({
    column: name,
    kind: 'numeric',
    test: 'wasserstein',
    statistic: isDrifted ? 0.4 : 0.02,
    pValue: null,
    score: isDrifted ? 0.4 : 0.02,
    threshold: 0.1,
    drifted: isDrifted,
    referenceCount: 5000,
    currentCount: 500,
  });
  const columns = ['tenure', 'MonthlyCharges', 'TotalCharges', 'SeniorCitizen'].map((c, i) => column(c, i < drifted));
  const alert = drifted >= 2;
  return {
    start,
    end,
    status: alert ? 'alert' : 'healthy',
    versions: [
      {
        version,
        rows: 500,
        status: alert ? 'alert' : 'healthy',
        drift: { format: DRIFT_FORMAT, version: DRIFT_VERSION, share: 0.5, driftedShare: drifted / columns.length, datasetDrift: alert, columns, skipped: [] },
        predictionDrift: null,
        performance: { status: 'ok', rows: 300, metrics: { accuracy }, watched: { metric: 'accuracy', value: accuracy, alert: accuracy < 0.7 }, interval: { metric: 'accuracy', low: accuracy - 0.05, high: accuracy + 0.04, method: 'Wilson' } },
        joined: { feedback: 300, truthFile: 0 },
        unjoinedFeedback: 0,
        unknownTruth: 0,
      },
    ],
  };
}

/** A monitor run over three days of prod, the third drifted, recorded as `bramble monitor --record` files it. */
export async function recordMonitorRun(repo: GitRepo, version: string): Promise<void> {
  const ranAt = '2026-11-20T06:00:00.000Z';
  const windows = [window('2026-11-17T00:00:00.000Z', version, 0, 0.81), window('2026-11-18T00:00:00.000Z', version, 1, 0.79), window('2026-11-19T00:00:00.000Z', version, 3, 0.66)];
  const result: MonitorResult = {
    format: MONITOR.format,
    version: MONITOR.version,
    name: 'churn',
    env: 'prod',
    ranAt,
    window: '1d',
    windowMs: 86_400_000,
    minRows: 100,
    share: 0.5,
    log: { files: ['predictions.jsonl'], requests: 1500, rows: 1500, feedback: 900, otherRequests: 0, late: 0, faults: 0, corrupt: [], corruptLines: 0 },
    truth: null,
    windows,
    healthy: false,
  };
  const folder = MONITORING_FOLDER('churn', 'prod');
  const json = new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`);
  const head = await resolveOrNull(repo, REGISTRY.ref);
  const files = new Map([
    [`${folder}/latest.json`, json],
    [`${folder}/runs/${timeName(ranAt)}.json`, json],
  ]);
  const commit = await writeRegistryCommit(repo, head, files, 'monitor churn prod', identity(ranAt));
  await setRef(repo, REGISTRY.ref, commit);
}

export interface SiteRepo {
  dir: string;
  repo: GitRepo;
  versions: string[];
  records: RunRecord[];
}

/** The whole fixture: a model repository with versions, assignments, a monitor run and `runs` run records. */
export async function makeSiteRepo(options: { runs?: number } = {}): Promise<SiteRepo> {
  const dir = makeModelRepo({ trees: 5 });
  const first = await registerAt(dir, '2026-11-01T09:00:00Z');
  editMlYaml(dir, (text) => text.replace(/trees: \d+/, 'trees: 7'));
  commitAll(dir, 'more trees');
  rmSync(join(dir, '.bramble'), { recursive: true, force: true });
  const second = await registerAt(dir, '2026-11-05T09:00:00Z');
  const assign = async (version: string, env: string, at: string) => {
    const registry = await Registry.open({ dir, remote: null, env: { GIT_COMMITTER_DATE: at } });
    await registry.assign('churn', version, env, ENVS);
  };
  await assign(first, 'dev', '2026-11-01T10:00:00Z');
  await assign(first, 'prod', '2026-11-02T10:00:00Z');
  await assign(second, 'dev', '2026-11-05T10:00:00Z');
  await assign(second, 'staging', '2026-11-06T10:00:00Z');
  await assign(second, 'prod', '2026-11-08T10:00:00Z');
  const registry = await Registry.open({ dir, remote: null });
  await recordMonitorRun(registry.repo, second);
  const records = options.runs === undefined ? [] : await writeRunRecords(registry.repo, options.runs, { hostile: true, foreign: true });
  return { dir, repo: registry.repo, versions: [first, second], records };
}

/** A file of the built site as text. */
export function siteFile(out: string, path: string): string {
  return readFileSync(join(out, path), 'utf8');
}

/** The value a data file hands to the page's loader, read back as the page would; null when it is not one call. */
export function readData<T>(out: string, name: string): T | null {
  const text = siteFile(out, `${SITE.data}/${name}.js`);
  const prefix = `${SITE.loader}(${JSON.stringify(name)},`;
  if (!text.startsWith(prefix) || !text.endsWith(');\n')) return null;
  return JSON.parse(text.slice(prefix.length, -3)) as T;
}

/**
 * Replaces a built site's runs with `count` generated ones, paged as the builder pages them: for the page's own
 * limits (100,000 runs), where what is measured is the browser, not reading git.
 */
export function fillRuns(out: string, count: number): void {
  const records: RunRecord[] = [];
  for (let i = count - 1; i >= 0; i--) records.push({ ...runBody(i), id: `run-${String(i).padStart(6, '0')}` });
  const { columns, pages } = runsPages(records);
  for (const file of readdirSync(join(out, SITE.data))) if (file.startsWith('runs-')) rmSync(join(out, SITE.data, file));
  const names = pages.map((_, i) => `runs-${i}`);
  pages.forEach((page, i) => writeFileSync(join(out, SITE.data, `${names[i]}.js`), dataFile(names[i], page)));
  const site = readData<SiteIndex>(out, 'site');
  if (site === null) throw new Error(`${out}/data/site.js is not a data file`);
  site.runs = { total: count, pages: names, metrics: columns.metrics, params: columns.params, skipped: [] };
  writeFileSync(join(out, SITE.data, 'site.js'), dataFile('site', site));
}
