// The point-in-time join, columnar. Decisions:
// - Keys are interned to ints once (a text column maps its few categories, not its rows), so that everything
//   after works on Int32Array/Float64Array and never on row objects or strings.
// - Each side is ordered by a counting sort on the key id (linear), then by (event time, created time) inside each
//   key's run — runs are short (an entity's history), so that is an insertion sort, with the typed array's own
//   sort for the rare long run. One forward walk per key then matches every label: the last feature row with
//   event time ≤ t, which is the one with the greatest created time among those at the same event time, kept
//   when t − its event time ≤ ttl (Feast's rule: a value is valid for ttl after its event time, inclusive).
// - Two rows of a view at one (key, event time, created time) are an error: which value a label sees would
//   otherwise depend on the order of rows in a file.
import { errorClass } from '../errors.js';
import { cellValue, isCoded, type Column, type Table } from '../data/table.js';

export class StoreJoinError extends errorClass('E_STORE_JOIN') {}

const PAIR = 2 ** 26;

/** Interns key values (one column or several) to dense ints shared by every table it is given. */
export class KeyInterner {
  private readonly texts = new Map<string, number>();
  private readonly pairs = new Map<number, number>();
  private multi = false;
  private fresh = false;

  /** How many distinct keys so far: ids are 0 … size − 1. */
  get size(): number {
    return this.multi ? this.pairs.size : this.texts.size;
  }

  /** One id per row of `table` for its `keys` columns; −1 where a key is missing. */
  ids(table: Table, keys: readonly string[], where: string): Int32Array {
    let out: Int32Array | undefined;
    for (const name of keys) {
      const column = table.columns.find((c) => c.name === name);
      if (!column) throw new StoreJoinError(`${where} has no key column ${JSON.stringify(name)}; it needs the entity's key columns (${keys.join(', ')})`, { column: name });
      const level = this.columnIds(column);
      out = out === undefined ? level : this.combine(out, level);
    }
    return out ?? new Int32Array(table.rows).fill(-1);
  }

  private textId(text: string): number {
    // The first table's categories are distinct by construction: no lookup before the insert.
    if (this.fresh) {
      const id = this.texts.size;
      this.texts.set(text, id);
      return id;
    }
    let id = this.texts.get(text);
    if (id === undefined) {
      id = this.texts.size;
      this.texts.set(text, id);
    }
    return id;
  }

  /** Ids of one column's values as text, so that 1001 in a number column and "1001" in a text column agree. */
  private columnIds(column: Column): Int32Array {
    const out = new Int32Array(isCoded(column) ? column.values.codes.length : column.values.length);
    if (isCoded(column)) {
      const fresh = this.texts.size === 0 && !this.multi;
      this.fresh = fresh;
      let map = column.values.categories.map((text) => this.textId(text));
      this.fresh = false;
      // A hand-made table may repeat a category: then the ids are given again, looking each text up.
      if (fresh && this.texts.size !== map.length) {
        this.texts.clear();
        map = column.values.categories.map((text) => this.textId(text));
      }
      const codes = column.values.codes;
      for (let i = 0; i < codes.length; i++) out[i] = codes[i] < 0 ? -1 : map[codes[i]];
      return out;
    }
    const seen = new Map<number, number>();
    for (let i = 0; i < out.length; i++) {
      const v = column.values[i];
      if (v !== v) {
        out[i] = -1;
        continue;
      }
      let id = seen.get(v);
      if (id === undefined) {
        id = this.textId(String(cellValue(column, i)));
        seen.set(v, id);
      }
      out[i] = id;
    }
    return out;
  }

  private combine(a: Int32Array, b: Int32Array): Int32Array {
    this.multi = true;
    const out = new Int32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      if (a[i] < 0 || b[i] < 0) {
        out[i] = -1;
        continue;
      }
      const pair = a[i] * PAIR + b[i];
      let id = this.pairs.get(pair);
      if (id === undefined) {
        id = this.pairs.size;
        this.pairs.set(pair, id);
      }
      out[i] = id;
    }
    return out;
  }
}

/** Rows ordered by key, then time, then created time: `order[start[k] … start[k + 1])` are key k's rows. */
export interface SortedRows {
  readonly order: Int32Array;
  readonly start: Int32Array;
  readonly time: Float64Array;
  readonly created: Float64Array;
  /** `time[order[i]]` for each i: the walk reads times in order, contiguously, instead of one cache miss each. */
  readonly orderedTime: Float64Array;
}

/** sortRows's answer: the order, and the first two rows at one (key, time, created), if any. */
export interface SortResult extends SortedRows {
  readonly duplicate?: readonly [number, number];
}

/**
 * Orders rows by (key, time, created, row); rows whose key is −1 are left out. Returns the first duplicate too: two
 * rows at one (key, time, created) in the same partition. `ends` are the partitions' cumulative row counts (rows
 * are concatenated oldest version first); at a tie across partitions the later row sorts last, so the newer batch
 * restating a row wins. Without `ends`, all rows are one partition.
 */
export function sortRows(keys: Int32Array, keyCount: number, time: Float64Array, created: Float64Array, ends?: readonly number[]): SortResult {
  const start = new Int32Array(keyCount + 1);
  // A key id at or past keyCount (one the other side never had) is left out like a missing one.
  for (let i = 0; i < keys.length; i++) if (keys[i] >= 0 && keys[i] < keyCount) start[keys[i] + 1]++;
  for (let k = 0; k < keyCount; k++) start[k + 1] += start[k];
  const fill = start.slice(0, keyCount);
  const n = start[keyCount];
  const order = new Int32Array(n);
  // The times are placed in key order with the rows, and sorted within each key alongside `order`: the sort and
  // the duplicate check then read neighbouring memory rather than jumping through `order` into the columns.
  const st = new Float64Array(n);
  const sc = new Float64Array(n);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k < 0 || k >= keyCount) continue;
    const at = fill[k]++;
    order[at] = i;
    st[at] = time[i];
    sc[at] = created[i];
  }
  let duplicate: [number, number] | undefined;
  const before = (a: number, b: number): number => time[a] - time[b] || (created[a] < created[b] ? -1 : created[a] > created[b] ? 1 : a - b);
  for (let k = 0; k < keyCount; k++) {
    const from = start[k];
    const to = start[k + 1];
    if (to - from > 24) {
      order.subarray(from, to).sort(before);
      for (let i = from; i < to; i++) {
        st[i] = time[order[i]];
        sc[i] = created[order[i]];
      }
    } else {
      insertionSort(order, st, sc, from, to);
    }
    if (duplicate) continue;
    for (let j = from + 1; j < to; j++) {
      if (st[j] === st[j - 1] && sc[j] === sc[j - 1] && samePartition(ends, order[j - 1], order[j])) {
        duplicate = [order[j - 1], order[j]];
        break;
      }
    }
  }
  const sorted = { order, start, time, created, orderedTime: st };
  return duplicate ? { ...sorted, duplicate } : sorted;
}

function samePartition(ends: readonly number[] | undefined, a: number, b: number): boolean {
  if (!ends) return true;
  const part = (row: number): number => {
    let p = 0;
    while (p < ends.length - 1 && row >= ends[p]) p++;
    return p;
  };
  return part(a) === part(b);
}

/** Sorts [from, to) of order/st/sc by (st, sc); stable, so equal rows keep row order (the later version last). */
function insertionSort(order: Int32Array, st: Float64Array, sc: Float64Array, from: number, to: number): void {
  for (let i = from + 1; i < to; i++) {
    const row = order[i];
    const t = st[i];
    const c = sc[i];
    let j = i - 1;
    while (j >= from && (st[j] > t || (st[j] === t && sc[j] > c))) {
      order[j + 1] = order[j];
      st[j + 1] = st[j];
      sc[j + 1] = sc[j];
      j--;
    }
    order[j + 1] = row;
    st[j + 1] = t;
    sc[j + 1] = c;
  }
}

/**
 * For each label row, the view row it sees (or −1): the latest with event time ≤ the label's time, within ttl.
 * `labels` and `view` must use ids from one KeyInterner with `keyCount` ids. Labels may come sorted already
 * (sortRows on their keys and times): an entity's labels are then sorted once for all its views.
 */
export function pointInTimeJoin(labels: { keys: Int32Array; time: Float64Array } | SortedRows, view: SortedRows, keyCount: number, ttlMs: number): Int32Array {
  const sorted = 'order' in labels ? labels : sortRows(labels.keys, keyCount, labels.time, new Float64Array(labels.keys.length));
  const { order: vOrder, start: vStart, orderedTime: vTime } = view;
  const { order: lOrder, start: lStart, orderedTime: lTime } = sorted;
  const match = new Int32Array(sorted.time.length).fill(-1);
  // Keys past either side's count have rows on one side only: nothing to match.
  const keys = Math.min(keyCount, vStart.length - 1, lStart.length - 1);
  for (let k = 0; k < keys; k++) {
    const vEnd = vStart[k + 1];
    let p = vStart[k];
    if (p === vEnd) continue;
    for (let j = lStart[k]; j < lStart[k + 1]; j++) {
      const t = lTime[j];
      while (p < vEnd && vTime[p] <= t) p++;
      if (p === vStart[k]) continue;
      if (t - vTime[p - 1] <= ttlMs) match[lOrder[j]] = vOrder[p - 1];
    }
  }
  return match;
}

/** The latest row per key at `asOf` (every row when left out): one row index per key that has one, in key order. */
export function latestPerEntity(view: SortedRows, keyCount: number, asOf = Infinity): Int32Array {
  const out: number[] = [];
  for (let k = 0; k < keyCount; k++) {
    let p = view.start[k + 1] - 1;
    while (p >= view.start[k] && view.orderedTime[p] > asOf) p--;
    if (p >= view.start[k]) out.push(view.order[p]);
  }
  return Int32Array.from(out);
}

/** A column's values at `rows` (−1 gives a missing value), under `name`. */
export function gatherColumn(column: Column, rows: Int32Array, name: string = column.name): Column {
  if (isCoded(column)) {
    const codes = new Int32Array(rows.length);
    const src = column.values.codes;
    for (let i = 0; i < rows.length; i++) codes[i] = rows[i] < 0 ? -1 : src[rows[i]];
    return { name, kind: column.kind, values: { codes, categories: column.values.categories } };
  }
  const values = new Float64Array(rows.length);
  const src = column.values;
  for (let i = 0; i < rows.length; i++) values[i] = rows[i] < 0 ? NaN : src[rows[i]];
  return { name, kind: column.kind, values } as Column;
}
