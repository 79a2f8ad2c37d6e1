// ml.yaml's data.store: the training set built from a features repository instead of read whole from data.train.
// data.train is then the entity table (keys, event time, target); it is loaded as any data file is (inside the
// model repository only), each view is read from the offline store — at the manifest versions recorded in a
// model's lineage when `bramble reproduce` asks for them — and joined point in time (training-set.ts). The set's
// identity in the lineage is the sha256 of its Parquet form, so a rebuild that gives other bytes shows.
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { MlConfig } from '../config/ml-yaml.js';
import type { LoadedTable } from '../data/load.js';
import { readTable } from '../data/load.js';
import type { DeclaredColumn } from '../data/load-options.js';
import { containedDataPath, DataPathError, repositoryRoot } from '../data/paths.js';
import { partitionBytes, readView } from './offline.js';
import { getView, loadFeatureRepo } from './spec.js';
import { buildTrainingSet, type ViewLineage } from './training-set.js';

/** What the lineage records of a training set from the store. */
export interface StoreLineage {
  /** data.store.repo as ml.yaml wrote it. */
  readonly repo: string;
  /** The entity table's sha256 (data.train's bytes). */
  readonly entities: string;
  readonly views: readonly ViewLineage[];
}

export interface StoreReadOptions {
  /** BRAMBLE_STORE and the like, passed in. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The folder data.store.repo is relative to, when not the model folder (reproduce trains in a copy). */
  readonly base?: string;
  /** Per view, the manifest versions to read (reproduce); every committed one when left out. */
  readonly versions?: Readonly<Record<string, readonly string[]>>;
}

export interface StoreLoaded extends LoadedTable {
  readonly store: StoreLineage;
}

/** The features repository's folder: inside the model repository or beside it (in the folder that holds it). */
async function featuresFolder(base: string, repo: string): Promise<string> {
  if (isAbsolute(repo)) throw new DataPathError(`data.store.repo is ${JSON.stringify(repo)}, an absolute path; give the features repository relative to ml.yaml, inside the model repository or beside it`, { path: repo });
  const root = await repositoryRoot(base);
  const folder = resolve(await realpath(base), repo);
  const r = relative(dirname(root), folder);
  if (r.startsWith(`..${sep}`) || r === '..' || r === '' || isAbsolute(r)) {
    throw new DataPathError(`data.store.repo is ${JSON.stringify(repo)}, which is neither inside the model repository nor beside it (in ${dirname(root)}); clone the features repository next to the model repository`, { path: repo });
  }
  return folder;
}

/** The training set data.store describes, with its lineage. `columns` are the schema's load options for data.train. */
export async function readStoreTrainingData(dir: string, config: MlConfig, columns: Readonly<Record<string, DeclaredColumn>>, options: StoreReadOptions = {}): Promise<StoreLoaded> {
  const store = config.data.store;
  if (!store) throw new Error('readStoreTrainingData needs ml.yaml data.store');
  const repo = await loadFeatureRepo(await featuresFolder(options.base ?? dir, store.repo), { env: options.env });
  const views = store.views.map((name) => getView(repo, name));
  // The entity table's keys are text, as the views' are, and its event time a date, whatever the schema says of others.
  const declared: Record<string, DeclaredColumn> = { ...columns, [store.event_time]: { type: 'date', nullable: true } };
  for (const view of views) for (const key of view.keys) declared[key] ??= { type: 'string', nullable: true };
  const path = await containedDataPath(dir, config.data.train, 'data.train in ml.yaml');
  const labels = await readTable(path, { file: config.data.train, hint: 'check data.train in ml.yaml (the entity table of data.store)', missing: config.data.missing, columns: declared, lenient: true });
  const rows = [];
  for (const view of views) rows.push(await readView(repo, view.name, options.versions?.[view.name] ? { versions: options.versions[view.name] } : {}));
  const set = buildTrainingSet(labels.table, store.event_time, rows, config.data.train);
  const bytes = partitionBytes(set.table, set.table.columns.map((c) => c.name));
  const identity = { sha256: createHash('sha256').update(bytes).digest('hex'), rows: set.table.rows, columns: set.table.columns.length, bytes: bytes.length };
  const lineage = { repo: store.repo, entities: labels.identity.sha256, views: set.views };
  return { table: set.table, identity, violations: labels.violations ?? [], store: lineage };
}

/** The manifest versions a model artifact's lineage records per view, when its training set came from a store. */
export function storeVersions(artifact: Readonly<Record<string, unknown>>): { versions: Record<string, string[]> } | undefined {
  const store = (artifact.lineage as { data?: { store?: StoreLineage } } | undefined)?.data?.store;
  if (!store) return undefined;
  return { versions: Object.fromEntries(store.views.map((v) => [v.view, v.versions.map((x) => x.version)])) };
}
