// `bramble materialize`: each view's latest values per entity, from the offline store into the online store.
// Decisions:
// - Incremental: a view reads only the partitions newer than the manifest version the online store recorded for it,
//   and, when the last run stopped at an `--until`, the partitions with rows after that instant. Re-reading a
//   partition is harmless: a stored row is replaced only by a newer one (online.ts).
// - The same rows the offline join sees: readView's (each partition checked against its manifest), the view's
//   steps through applyViewSteps, and the join's own order (join.ts: key, event time, created time), whose last row
//   at or before `until` per entity is the entity's value — so that the online row equals the training row at the
//   same instant. Two rows at one (key, event time, created time) are an error, as they are for the join.
// - A view whose definition in features.yaml changed (keys, times, columns, steps: a hash of them is recorded), or
//   whose columns after its steps differ from what the store holds, is written anew from every partition.
import { createHash } from 'node:crypto';
import { isCoded, type Column, type Table } from '../data/table.js';
import { KeyInterner, latestPerEntity, StoreJoinError } from './join.js';
import { sortView } from './training-set.js';
import { readManifests, readView, type ViewRows } from './offline.js';
import { OnlineStore, sameLayout, type OnlineBatch, type OnlineKind, type OnlineLayout, type OnlineValues } from './online.js';
import { compareVersions, getView, type FeatureRepo, type Manifest, type ViewSpec } from './spec.js';
import { applyViewSteps, viewFeatureColumns } from './view-steps.js';

export interface MaterializeOptions {
  /** Only these views; every view of features.yaml when left out. */
  readonly views?: readonly string[];
  /** Values with event time ≤ this (UTC ms); every row when left out. */
  readonly until?: number;
  /** The clock (UTC ms), recorded as each row's materialized time. */
  readonly now: () => number;
}

export interface ViewMaterialized {
  readonly view: string;
  /** The partitions read this time. */
  readonly versions: readonly string[];
  /** Rows read from them, and entities among those rows with a value ≤ until. */
  readonly rows: number;
  readonly entities: number;
  /** Entities written (new, or newer than stored) and left as they were (the stored value is as new). */
  readonly written: number;
  readonly kept: number;
  /** Entities in the online store's table after. */
  readonly stored: number;
  /** The whole view was written again: its columns changed, or it was new. */
  readonly full: boolean;
  readonly seconds: number;
}

export interface MaterializeResult {
  readonly file: string;
  readonly views: readonly ViewMaterialized[];
}

/** Materializes the views of `repo` into the store at `file` (created when missing). */
export async function materialize(repo: FeatureRepo, file: string, options: MaterializeOptions): Promise<MaterializeResult> {
  // An unknown view stops the run before the store is opened, naming the nearest.
  const names = options.views ? options.views.map((v) => getView(repo, v).name) : Object.keys(repo.views);
  const store = OnlineStore.open(file);
  try {
    const views: ViewMaterialized[] = [];
    for (const name of names) views.push(await materializeView(repo, store, name, options));
    return { file, views };
  } finally {
    store.close();
  }
}

/** The versions a view must read: newer than the recorded one, or with rows after the recorded `until`. */
export function versionsToRead(manifests: readonly Manifest[], recorded: { version: string | null; until: number | null } | null, until: number | undefined): string[] {
  if (!recorded || recorded.version === null) return manifests.map((m) => m.version);
  const widened = recorded.until !== null && (until === undefined || until > recorded.until);
  const after = recorded.until ?? Infinity;
  return manifests
    .filter((m) => compareVersions(m.version, recorded.version as string) > 0 || (widened && Date.parse(m.event_time.max) > after))
    .map((m) => m.version);
}

async function materializeView(repo: FeatureRepo, store: OnlineStore, name: string, options: MaterializeOptions): Promise<ViewMaterialized> {
  const started = performance.now();
  const recorded = store.state(name);
  const manifests = await readManifests(repo, name);
  let versions = versionsToRead(manifests, recorded, options.until);
  let full = !recorded;
  const latestVersion = manifests.length > 0 ? manifests[manifests.length - 1].version : null;
  const definition = definitionOf(repo.views[name]);
  if (recorded && recorded.definition !== definition) {
    // features.yaml changed the view (a step, a column, a key): every partition is read again, into a new table.
    versions = manifests.map((m) => m.version);
    full = true;
  }
  const record = { definition, version: latestVersion ?? recorded?.version ?? null, until: options.until ?? null, materializedAt: options.now() };
  if (versions.length === 0) {
    return { view: name, versions, rows: 0, entities: 0, written: 0, kept: 0, stored: recorded?.rows ?? 0, full: false, seconds: (performance.now() - started) / 1000 };
  }
  let batch = await latestBatch(repo, name, versions, options.until);
  if (recorded && !sameLayout(recorded.layout, batch.layout) && versions.length < manifests.length) {
    // The columns changed: every partition is read again, into a new table.
    versions = manifests.map((m) => m.version);
    batch = await latestBatch(repo, name, versions, options.until);
  }
  if (recorded && !sameLayout(recorded.layout, batch.layout)) full = true;
  const result = store.write(name, batch.layout, batch.batch, record, full);
  const stored = store.state(name)?.rows ?? 0;
  return { view: name, versions, rows: batch.rows, entities: batch.batch.rows, written: result.written, kept: result.kept, stored, full, seconds: (performance.now() - started) / 1000 };
}

/** The view's partitions `versions`, stepped, reduced to each entity's latest row at or before `until`. */
async function latestBatch(repo: FeatureRepo, name: string, versions: readonly string[], until: number | undefined): Promise<{ layout: OnlineLayout; batch: OnlineBatch; rows: number }> {
  const rows = await readView(repo, name, { versions });
  const { view } = rows;
  const stepped = applyViewSteps(view, rows.table);
  const interner = new KeyInterner();
  // The join's own order, partition boundaries included: a row a later batch restates wins, as it does offline.
  const { sorted } = sortView(rows, interner);
  if (sorted.duplicate) throw duplicateRows(rows, sorted.duplicate);
  const latest = latestPerEntity(sorted, interner.size, until ?? Infinity);
  const features = viewFeatureColumns(view, stepped);
  const layout: OnlineLayout = { keys: [...view.keys], columns: features.map((c) => ({ name: c.name, kind: kindOf(c) })) };
  const batch: OnlineBatch = {
    rows: latest.length,
    keys: view.keys.map((k) => keyTexts(columnOf(rows.table, k), latest)),
    values: features.map((c) => gatherValues(c, latest)),
    eventTime: gatherTimes(rows.eventTime, latest),
    createdTime: view.createdTime === undefined ? null : gatherTimes(rows.createdTime, latest),
  };
  return { layout, batch, rows: rows.table.rows };
}

/** What the online table of a view depends on in features.yaml, as a hash: a change means writing it anew. */
export function definitionOf(view: ViewSpec): string {
  const { keys, eventTime, createdTime, columns, steps } = view;
  return createHash('sha256').update(JSON.stringify({ keys, eventTime, createdTime: createdTime ?? null, columns, steps })).digest('hex');
}

function kindOf(column: Column): OnlineKind {
  if (isCoded(column)) return 'text';
  return column.kind === 'date' ? 'date' : 'number';
}

function columnOf(table: Table, name: string): Column {
  return table.columns.find((c) => c.name === name) as Column;
}

/** A key column's values at `rows` as text, as a request carries a key (1001 and "1001" are one key). */
function keyTexts(column: Column, rows: Int32Array): string[] {
  const out: string[] = new Array(rows.length);
  if (isCoded(column)) {
    const { codes, categories } = column.values;
    for (let i = 0; i < rows.length; i++) out[i] = categories[codes[rows[i]]];
    return out;
  }
  const values = column.values;
  for (let i = 0; i < rows.length; i++) out[i] = column.kind === 'date' ? new Date(values[rows[i]]).toISOString() : String(values[rows[i]]);
  return out;
}

function gatherValues(column: Column, rows: Int32Array): OnlineValues {
  if (isCoded(column)) {
    const { codes, categories } = column.values;
    const out: (string | null)[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = codes[rows[i]] < 0 ? null : categories[codes[rows[i]]];
    return out;
  }
  return gatherTimes(column.values, rows);
}

function gatherTimes(values: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
}

function duplicateRows(rows: ViewRows, pair: readonly [number, number]): StoreJoinError {
  const key = rows.view.keys.map((k) => keyTexts(columnOf(rows.table, k), Int32Array.of(pair[0]))[0]).join(', ');
  return new StoreJoinError(
    `view ${rows.view.name} has two rows for key ${key} at event time ${new Date(rows.eventTime[pair[0]]).toISOString()}${rows.view.createdTime ? ' and one created time' : ''}; which one is served would depend on file order — remove the duplicate from the source${rows.view.createdTime ? '' : ', or add a created_time column to the view'}`,
    { view: rows.view.name, key },
  );
}

