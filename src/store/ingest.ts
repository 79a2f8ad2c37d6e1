// `bramble ingest`: each view's source pulled, validated on arrival, written as an immutable partition, and its
// manifest committed to git — all views' manifests in one commit. Decisions:
// - A batch is identified by the sha256 of its bytes as they arrived; one a view already holds is skipped, so a
//   schedule that fires twice, or a re-run after a failure, ingests nothing twice.
// - A batch is checked whole before anything is written: the columns' rules (ml.yaml's grammar, data/validate.ts),
//   then what a store needs — the declared columns and no others (a source that changed its schema), parseable
//   event times, and one row per (key, event time, created time). A failed batch goes to
//   <store>/quarantine/<view>/<stamp>/ with a report.json and is never merged; the other views still ingest, and
//   the command exits 2 naming the report.
// - The partition is written (temporary file, then rename) before its manifest, so a manifest in git always
//   names a partition that exists; a crash in between leaves only an unreferenced file, overwritten next time.
import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import * as nodeFs from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import git from 'isomorphic-git';
import { BrambleError, errorClass } from '../errors.js';
import { errnoCode } from '../fs/codes.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { loadTableAsync } from '../data/load.js';
import { cellValue, type Table } from '../data/table.js';
import { validateTable, validationLoadOptions, type RuleResult, type ValidationResult } from '../data/validate.js';
import { KeyInterner, sortRows, type SortResult } from './join.js';
import { declaredColumns, partitionBytes, readManifests } from './offline.js';
import { pullSource, type Batch, type SourceDeps } from './source.js';
import { FEATURE_REPO, getView, manifestPath, partitionPath, type FeatureRepo, type Manifest, type ViewSpec } from './spec.js';

export class StoreBatchError extends errorClass('E_STORE_BATCH') {}

export interface IngestDeps extends SourceDeps {
  readonly now: () => Date;
}

export interface IngestOptions {
  /** Only these views; all when left out. */
  readonly views?: readonly string[];
  /** Commit the manifests (default true); tests of the engine alone may leave git out. */
  readonly commit?: boolean;
}

export type ViewOutcome =
  | { readonly view: string; readonly status: 'ingested'; readonly version: string; readonly rows: number; readonly manifest: Manifest }
  | { readonly view: string; readonly status: 'unchanged'; readonly version: string }
  | { readonly view: string; readonly status: 'quarantined'; readonly report: string; readonly problems: readonly string[] };

export interface IngestResult {
  readonly views: readonly ViewOutcome[];
  /** The commit holding the new manifests, when there were any. */
  readonly commit?: string;
}

/** Ingests every view (or `options.views`); throws a StoreBatchError after committing the rest when a batch was quarantined. */
export async function ingest(repo: FeatureRepo, deps: IngestDeps, options: IngestOptions = {}): Promise<IngestResult> {
  // Every name is checked before any source is pulled.
  const views = (options.views ?? Object.keys(repo.views)).map((name) => getView(repo, name));
  const root = options.commit === false ? undefined : await gitRoot(repo);
  const batches = new Map<string, Batch>();
  const outcomes: ViewOutcome[] = [];
  for (const view of views) {
    let batch = batches.get(view.source);
    if (!batch) {
      batch = await pullSource(repo, repo.sources[view.source], deps);
      batches.set(view.source, batch);
    }
    outcomes.push(await ingestView(repo, view, batch, deps.now()));
  }
  const written = outcomes.filter((o) => o.status === 'ingested');
  const commit = written.length > 0 && root !== undefined ? await commitManifests(repo, root, written, deps) : undefined;
  const quarantined = outcomes.filter((o) => o.status === 'quarantined');
  if (quarantined.length > 0) {
    const lines = quarantined.map((q) => `view ${q.view}: ${q.problems.slice(0, 5).join('; ')} (report: ${q.report})`);
    throw new StoreBatchError(`${quarantined.length} batch${quarantined.length > 1 ? 'es were' : ' was'} quarantined and not merged${written.length > 0 ? ` (${written.length} other view${written.length > 1 ? 's' : ''} ingested)` : ''}:\n${lines.join('\n')}`, {
      views: quarantined.map((q) => q.view),
    });
  }
  return commit ? { views: outcomes, commit } : { views: outcomes };
}

async function ingestView(repo: FeatureRepo, view: ViewSpec, batch: Batch, now: Date): Promise<ViewOutcome> {
  const batchSha = createHash('sha256').update(batch.bytes).digest('hex');
  const existing = await readManifests(repo, view.name);
  const same = existing.find((m) => m.batch_sha256 === batchSha);
  if (same) return { view: view.name, status: 'unchanged', version: same.version };
  const checked = await checkBatch(view, batch);
  if ('problems' in checked) return quarantine(repo, view, batch, now, checked);
  const names = Object.keys(view.columns);
  const bytes = partitionBytes(checked.table, names, checked.order);
  const version = nextVersion(existing.map((m) => m.version), now);
  const file = partitionPath(repo, view.name, version);
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, bytes);
  const times = checked.table.columns.find((c) => c.name === view.eventTime);
  let min = Infinity;
  let max = -Infinity;
  if (times && times.kind === 'date') {
    for (const t of times.values) {
      if (t < min) min = t;
      if (t > max) max = t;
    }
  }
  const manifest: Manifest = {
    format: FEATURE_REPO.manifestFormat,
    view: view.name,
    version,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    batch_sha256: batchSha,
    rows: checked.table.rows,
    event_time: { min: isoOrEmpty(min), max: isoOrEmpty(max) },
    source: batch.origin,
    schema: Object.fromEntries(names.map((n) => [n, view.columns[n].type])),
    ingested: now.toISOString(),
  };
  const path = manifestPath(repo, view.name, version);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return { view: view.name, status: 'ingested', version, rows: checked.table.rows, manifest };
}

function isoOrEmpty(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : '';
}

/** `2026.12.01`, or `2026.12.01.N` for the Nth batch that day. */
export function nextVersion(existing: readonly string[], now: Date): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '.');
  const taken = new Set(existing);
  if (!taken.has(day)) return day;
  let n = 2;
  while (taken.has(`${day}.${n}`)) n++;
  return `${day}.${n}`;
}

interface Refused {
  readonly problems: string[];
  readonly validation?: ValidationResult;
}

/** The batch as a table when it may be merged, else every problem found. */
async function checkBatch(view: ViewSpec, batch: Batch): Promise<{ table: Table; order: Int32Array } | Refused> {
  const file = `${batch.origin} (view ${view.name})`;
  const schema = { columns: view.columns };
  let loaded;
  try {
    loaded = await loadTableAsync(batch.bytes, { file, format: batch.format, ...validationLoadOptions(schema) });
  } catch (err) {
    if (err instanceof BrambleError) return { problems: [err.message] };
    throw err;
  }
  const { table, violations } = loaded;
  const problems: string[] = [];
  const extra = table.columns.map((c) => c.name).filter((n) => !(n in view.columns));
  if (extra.length > 0) {
    problems.push(`the source's schema changed: column${extra.length > 1 ? 's' : ''} ${extra.map((n) => JSON.stringify(n)).join(', ')} ${extra.length > 1 ? 'are' : 'is'} not declared in views.${view.name}.columns; declare ${extra.length > 1 ? 'them' : 'it'} in features.yaml, or drop ${extra.length > 1 ? 'them' : 'it'} at the source`);
  }
  const validation = validateTable(table, schema, { file, violations });
  for (const r of validation.results) if (!r.success) problems.push(ruleProblem(view, r));
  if (problems.length > 0) return { problems, validation };
  const sorted = batchOrder(view, table);
  const duplicate = duplicateRows(view, table, sorted);
  return duplicate ? { problems: [duplicate], validation } : { table, order: sorted.order };
}

function ruleProblem(view: ViewSpec, r: RuleResult): string {
  const message = r.message ?? `${r.column ?? ''} ${r.rule} failed`;
  return r.column === view.eventTime && (r.rule === 'type' || r.rule === 'not_null') ? `event_time ${JSON.stringify(view.eventTime)}: ${message}` : message;
}

/**
 * The batch's rows ordered by (key, event time, created time): the order its partition is written in, so that an
 * entity's rows sit together (reading and joining then walk memory in order, and text keys repeat row to row).
 */
export function batchOrder(view: ViewSpec, table: Table): SortResult {
  const interner = new KeyInterner();
  const keys = interner.ids(table, view.keys, view.name);
  const time = table.columns.find((c) => c.name === view.eventTime);
  const created = view.createdTime ? table.columns.find((c) => c.name === view.createdTime) : undefined;
  const times = time && time.kind === 'date' ? time.values : new Float64Array(table.rows);
  return sortRows(keys, interner.size, times, created && created.kind === 'date' ? created.values : new Float64Array(table.rows));
}

function duplicateRows(view: ViewSpec, table: Table, sorted: SortResult): string | undefined {
  const { duplicate } = sorted;
  if (!duplicate) return undefined;
  const key = view.keys.map((k) => String(cellValue(table.columns.find((c) => c.name === k) ?? table.columns[0], duplicate[0]))).join(', ');
  return `duplicate entity rows: lines ${table.lines[duplicate[0]]} and ${table.lines[duplicate[1]]} both have key ${key} at ${new Date(sorted.time[duplicate[0]]).toISOString()}${view.createdTime ? ' with the same created time' : ''}; keep one row per key and event time${view.createdTime ? '' : ', or add a created_time column to break the tie'}`;
}

async function quarantine(repo: FeatureRepo, view: ViewSpec, batch: Batch, now: Date, refused: Refused): Promise<ViewOutcome> {
  const stamp = now.toISOString().replaceAll(':', '-');
  let folder = join(repo.store, FEATURE_REPO.quarantine, view.name, stamp);
  let taken: string[] = [];
  try {
    taken = await readdir(dirname(folder));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  for (let n = 2; taken.includes(folder.slice(folder.lastIndexOf(sep) + 1)); n++) folder = join(dirname(folder), `${stamp}.${n}`);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, `batch.${batch.format}`), batch.bytes);
  const report = join(folder, 'report.json');
  const body = { format: 'bramble-quarantine', view: view.name, source: batch.origin, at: now.toISOString(), problems: refused.problems, validation: refused.validation ?? null };
  await writeFile(report, `${JSON.stringify(body, null, 2)}\n`);
  return { view: view.name, status: 'quarantined', report, problems: refused.problems };
}

/** The git work tree holding the features repository: checked before anything is written. */
async function gitRoot(repo: FeatureRepo): Promise<string> {
  try {
    return await git.findRoot({ fs: nodeFs, filepath: repo.dir });
  } catch (err) {
    if (!(err instanceof git.Errors.NotFoundError)) throw err;
    throw new StoreBatchError(`${repo.dir} is not inside a git repository; bramble ingest commits each partition's manifest there — run git init (nothing was ingested)`, { dir: repo.dir });
  }
}

async function commitManifests(repo: FeatureRepo, root: string, written: readonly ViewOutcome[], deps: IngestDeps): Promise<string> {
  const fs = nodeFs;

  const cache = {};
  for (const outcome of written) {
    if (outcome.status !== 'ingested') continue;
    const filepath = relative(root, manifestPath(repo, outcome.view, outcome.version)).split(sep).join('/');
    await git.add({ fs, dir: root, cache, filepath });
  }
  const author = { name: deps.env.GIT_COMMITTER_NAME || 'Bramble', email: deps.env.GIT_COMMITTER_EMAIL || 'bramble@users.noreply.github.com', timestamp: Math.floor(deps.now().getTime() / 1000) };
  const lines = written.map((o) => (o.status === 'ingested' ? `${o.view} ${o.version}: ${o.rows} rows, sha256 ${o.manifest.sha256.slice(0, 12)}` : ''));
  const message = `ingest: ${written.map((o) => (o.status === 'ingested' ? `${o.view}@${o.version}` : '')).join(', ')}\n\n${lines.join('\n')}\n`;
  return git.commit({ fs, dir: root, cache, message, author, committer: author });
}
