// A training set from the store: the entity table (keys, event time, label) with each view's columns as of each
// row's event time (join.ts). The set's columns are the entity table's, then each view's features in the order
// the views are listed; a name in two places is an error rather than a silent overwrite.
import type { Column, Table } from '../data/table.js';
import { cellValue } from '../data/table.js';
import { gatherColumn, KeyInterner, pointInTimeJoin, sortRows, StoreJoinError, type SortResult } from './join.js';
import type { ViewRows } from './offline.js';
import { applyViewSteps } from './view-steps.js';

/** What a training set was built from: per view, the partitions and how many rows found a value. */
export interface ViewLineage {
  readonly view: string;
  readonly versions: readonly { readonly version: string; readonly sha256: string }[];
  readonly matched: number;
}

export interface TrainingSet {
  readonly table: Table;
  readonly views: readonly ViewLineage[];
}

/** The view's rows ordered for joining, with their key ids from `interner`; a duplicate row is an error. */
export function sortView(rows: ViewRows, interner: KeyInterner): { sorted: SortResult; keys: Int32Array } {
  const where = `view ${rows.view.name}`;
  const keys = interner.ids(rows.table, rows.view.keys, where);
  const ends: number[] = [];
  for (const m of rows.manifests) ends.push((ends.at(-1) ?? 0) + m.rows);
  return { sorted: sortRows(keys, interner.size, rows.eventTime, rows.createdTime, ends.length > 1 ? ends : undefined), keys };
}

function duplicateError(rows: ViewRows, pair: readonly [number, number]): StoreJoinError {
  const key = rows.view.keys.map((k) => String(cellValue(rows.table.columns.find((c) => c.name === k) as Column, pair[0]))).join(', ');
  const at = new Date(rows.eventTime[pair[0]]).toISOString();
  const created = rows.view.createdTime ? ` and created time ${new Date(rows.createdTime[pair[0]]).toISOString()}` : '';
  return new StoreJoinError(
    `view ${rows.view.name} has two rows for key ${key} at event time ${at}${created} in one partition; which one a label sees would depend on file order — ${rows.view.createdTime ? 'give them different created times, or' : 'add a created_time column to the view, or'} remove the duplicate from the source`,
    { view: rows.view.name, key, eventTime: at },
  );
}

/** Joins each view onto `labels` as of the label's `eventTime` column; `file` names the entity table in messages. */
export function buildTrainingSet(labels: Table, eventTime: string, views: readonly ViewRows[], file: string): TrainingSet {
  const time = labels.columns.find((c) => c.name === eventTime);
  if (!time || time.kind !== 'date') {
    throw new StoreJoinError(`${file} has no date column ${JSON.stringify(eventTime)} (data.store.event_time); give each row its event time as ISO 8601`, { file, column: eventTime });
  }
  for (let i = 0; i < labels.rows; i++) {
    if (time.values[i] !== time.values[i]) throw new StoreJoinError(`${file}:${labels.lines[i]} has no ${eventTime}; every row of the entity table needs its event time`, { file, line: labels.lines[i] });
  }
  const names = new Set(labels.columns.map((c) => c.name));
  const columns: Column[] = [...labels.columns];
  const lineage: ViewLineage[] = [];
  const interners = new Map<string, KeyInterner>();
  const sortedLabels = new Map<string, SortResult>();
  for (const rows of views) {
    const interner = interners.get(rows.view.entity) ?? new KeyInterner();
    interners.set(rows.view.entity, interner);
    const { sorted } = sortView(rows, interner);
    const duplicate = sorted.duplicate;
    if (duplicate) throw duplicateError(rows, duplicate);
    // One entity's label keys are interned and sorted once, whatever number of its views: ids never change once
    // given, and a key the labels have that a later view adds still sorts with its labels.
    let labelRows = sortedLabels.get(rows.view.entity);
    if (!labelRows) {
      const keys = interner.ids(labels, rows.view.keys, file);
      labelRows = sortRows(keys, interner.size, time.values, new Float64Array(labels.rows));
      sortedLabels.set(rows.view.entity, labelRows);
    }
    // Label keys the view never saw got new ids past the view's; the join only walks ids the view has.
    const match = pointInTimeJoin(labelRows, sorted, sorted.start.length - 1, rows.view.ttlMs);
    let matched = 0;
    for (let i = 0; i < match.length; i++) if (match[i] >= 0) matched++;
    // The view's own steps (derive, drop, impute a constant) run here as materialize runs them for the online store.
    const stepped = applyViewSteps(rows.view, rows.table);
    const special = new Set([...rows.view.keys, rows.view.eventTime, ...(rows.view.createdTime ? [rows.view.createdTime] : [])]);
    for (const column of stepped.columns) {
      const name = column.name;
      if (special.has(name)) continue;
      if (names.has(name)) throw new StoreJoinError(`view ${rows.view.name}'s column ${JSON.stringify(name)} is already in the training set (from ${file} or an earlier view); rename one of them`, { view: rows.view.name, column: name });
      names.add(name);
      columns.push(gatherColumn(column, match));
    }
    lineage.push({ view: rows.view.name, versions: rows.manifests.map((m) => ({ version: m.version, sha256: m.sha256 })), matched });
  }
  return { table: { rows: labels.rows, columns, lines: labels.lines }, views: lineage };
}
