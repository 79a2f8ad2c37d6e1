// The online store: each view's latest values per entity, in one SQLite file on the host (better-sqlite3), read by
// `bramble serve` for every request that leaves inputs to the store and written by `bramble materialize`.
// Decisions:
// - One file (default `<store>/online.sqlite`), one table per view (`view:<name>`): the entity's key columns (text;
//   a composite key is several columns), the view's feature columns after its steps (REAL for numbers and dates as
//   UTC milliseconds, TEXT for text; NULL is missing), and `__event_time`, `__created_time`, `__materialized_at`.
//   The key is the primary key of a WITHOUT ROWID table, so a lookup is one B-tree descent.
// - WAL mode: a server's readers see the last committed materialization while the next one writes, and each
//   worker of a cluster opens the file read-only (no writer but `bramble materialize`).
// - An upsert replaces a stored row only when the incoming row is newer: a later event time, or the same event
//   time and a later created time (the offline join's tie-break). A late row older than what is stored is counted
//   and left out, so re-reading a partition is harmless and materializing is incremental.
// - `bramble_online_views` records per view the layout written, a hash of the view's definition in features.yaml,
//   the last manifest version read and the `--until` it was read with. A view whose layout changed (a column added,
//   a type changed) is dropped and written anew; readers notice a commit (PRAGMA data_version) and re-read layouts.
// - Everything a materialization writes for a view — rows and its record — is one transaction: nothing half-written.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorClass } from '../errors.js';
import { errnoCode } from '../fs/codes.js';

/** A view's store, or the online store itself, cannot be used as asked: the message says why and what to run. */
export class OnlineStoreError extends errorClass('E_ONLINE_STORE') {}

export const ONLINE_STORE = {
  /** The file under the offline store's folder, when no other path is given. */
  file: 'online.sqlite',
  /** PRAGMA user_version of the file this code writes. */
  format: 1,
  meta: 'bramble_online_views',
  eventTime: '__event_time',
  createdTime: '__created_time',
  materializedAt: '__materialized_at',
  /** How much of the file a reader maps (SQLite's mmap_size): more than a million entities' rows of 20 features. */
  mmapBytes: 1024 * 1024 * 1024,
} as const;

/** How a feature is stored: numbers and dates (UTC milliseconds) as REAL, text as TEXT. */
export type OnlineKind = 'number' | 'date' | 'text';

/** What a view's table holds, besides the times. */
export interface OnlineLayout {
  readonly keys: readonly string[];
  readonly columns: readonly { readonly name: string; readonly kind: OnlineKind }[];
}

/** A column of a batch: numbers with NaN missing, or text with null missing. */
export type OnlineValues = Float64Array | readonly (string | null)[];

/** Rows to write, by column. */
export interface OnlineBatch {
  readonly rows: number;
  /** Per key column (the layout's order), the key of each row as text. */
  readonly keys: readonly (readonly string[])[];
  /** Per feature column (the layout's order). */
  readonly values: readonly OnlineValues[];
  /** UTC milliseconds. */
  readonly eventTime: Float64Array;
  /** UTC milliseconds (NaN or −Infinity missing), or null when the view has no created time. */
  readonly createdTime: Float64Array | null;
}

/** What the store records about a view. */
export interface OnlineViewState {
  readonly view: string;
  readonly layout: OnlineLayout;
  /** The sha256 of the view's definition (keys, times, columns, steps) it was written with. */
  readonly definition: string;
  /** The newest manifest version read into the table; null before the first. */
  readonly version: string | null;
  /** The `--until` of that read (UTC ms); null when it took every row. */
  readonly until: number | null;
  readonly materializedAt: number;
  /** Entities in the table. */
  readonly rows: number;
}

export interface WriteResult {
  /** Rows written (new entities, or newer values). */
  readonly written: number;
  /** Rows left out because the stored value is as new or newer. */
  readonly kept: number;
}

/** One entity's stored values: the features in the layout's order, then the event time (ms). */
export type OnlineRow = readonly (number | string | null)[];

/** Looks up one entity by its key values (in the layout's key order); undefined when the store has none. */
export type OnlineReader = (key: readonly string[]) => OnlineRow | undefined;

interface MetaRow {
  view: string;
  layout: string;
  definition: string;
  version: string | null;
  until: number | null;
  materialized_at: number;
  rows: number;
}

/** An identifier in SQL: double-quoted, its quotes doubled. */
function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function tableOf(view: string): string {
  return quoted(`view:${view}`);
}

export function sameLayout(a: OnlineLayout, b: OnlineLayout): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class OnlineStore {
  private readonly dataVersion: Database.Statement;
  private seenVersion: number;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    readonly readonly: boolean,
  ) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.seenVersion = this.dataVersion.get() as number;
  }

  /**
   * Opens (and, to write, creates) the store. Read-only opens never create or change the file: a server started
   * before the first materialization is told to run it.
   */
  static open(file: string, options: { readonly?: boolean } = {}): OnlineStore {
    const readonly = options.readonly === true;
    let db: Database.Database;
    try {
      if (!readonly) mkdirSync(dirname(file), { recursive: true });
      db = new Database(file, { readonly, fileMustExist: readonly });
    } catch (err) {
      const code = errnoCode(err) || (err instanceof Error ? err.message : String(err));
      const fix = readonly ? 'run bramble materialize first, or name the file the materialization wrote' : 'give a folder the user running bramble may write';
      throw new OnlineStoreError(`the online store ${file} cannot be opened${readonly ? ' to read' : ''} (${code}); ${fix}`, { file });
    }
    const store = new OnlineStore(db, file, readonly);
    try {
      store.prepare();
    } catch (err) {
      db.close();
      throw err;
    }
    return store;
  }

  private prepare(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (this.readonly) {
      if (version !== ONLINE_STORE.format) {
        throw new OnlineStoreError(`${this.file} is not an online store this Bramble wrote (format ${version}, expected ${ONLINE_STORE.format}); run bramble materialize to write it`, { file: this.file });
      }
      // Lookups read the file through memory mapping: a page is a memory access, not a read() into SQLite's cache.
      this.db.pragma(`mmap_size = ${ONLINE_STORE.mmapBytes}`);
      return;
    }
    if (version !== 0 && version !== ONLINE_STORE.format) {
      throw new OnlineStoreError(`${this.file} is an online store of format ${version}; this Bramble writes format ${ONLINE_STORE.format}: remove the file and materialize again`, { file: this.file });
    }
    this.db.pragma('journal_mode = WAL');
    // A crash loses at most the last transaction, never the file: materialize runs again from the last version.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS ${ONLINE_STORE.meta} (view TEXT PRIMARY KEY, layout TEXT NOT NULL, definition TEXT NOT NULL, version TEXT, until REAL, materialized_at REAL NOT NULL, rows INTEGER NOT NULL)`,
    );
    this.db.pragma(`user_version = ${ONLINE_STORE.format}`);
  }

  /** What the store records about each view. */
  views(): OnlineViewState[] {
    const rows = this.db.prepare(`SELECT view, layout, definition, version, until, materialized_at, rows FROM ${ONLINE_STORE.meta} ORDER BY view`).all() as MetaRow[];
    return rows.map((r) => ({
      view: r.view,
      layout: JSON.parse(r.layout) as OnlineLayout,
      definition: r.definition,
      version: r.version,
      until: r.until,
      materializedAt: r.materialized_at,
      rows: r.rows,
    }));
  }

  state(view: string): OnlineViewState | null {
    return this.views().find((v) => v.view === view) ?? null;
  }

  /**
   * Upserts a batch into a view's table and records `record` for the view, in one transaction. A layout other than
   * the recorded one, or `fresh`, replaces the table (the caller then writes every partition).
   */
  write(
    view: string,
    layout: OnlineLayout,
    batch: OnlineBatch,
    record: { definition: string; version: string | null; until: number | null; materializedAt: number },
    fresh = false,
  ): WriteResult {
    if (this.readonly) throw new OnlineStoreError(`${this.file} is open read-only; bramble materialize writes it`, { file: this.file });
    const run = this.db.transaction((): WriteResult => {
      const before = this.state(view);
      if (fresh || !before || !sameLayout(before.layout, layout)) this.createTable(view, layout);
      const result = this.upsert(view, layout, batch, record.materializedAt);
      const rows = (this.db.prepare(`SELECT count(*) AS n FROM ${tableOf(view)}`).get() as { n: number }).n;
      this.db
        .prepare(`INSERT OR REPLACE INTO ${ONLINE_STORE.meta} (view, layout, definition, version, until, materialized_at, rows) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(view, JSON.stringify(layout), record.definition, record.version, record.until, record.materializedAt, rows);
      return result;
    });
    return run();
  }

  private createTable(view: string, layout: OnlineLayout): void {
    const columns = [
      ...layout.keys.map((k) => `${quoted(k)} TEXT NOT NULL`),
      ...layout.columns.map((c) => `${quoted(c.name)} ${c.kind === 'text' ? 'TEXT' : 'REAL'}`),
      `${ONLINE_STORE.eventTime} REAL NOT NULL`,
      `${ONLINE_STORE.createdTime} REAL`,
      `${ONLINE_STORE.materializedAt} REAL NOT NULL`,
    ];
    this.db.exec(`DROP TABLE IF EXISTS ${tableOf(view)}`);
    this.db.exec(`CREATE TABLE ${tableOf(view)} (${columns.join(', ')}, PRIMARY KEY (${layout.keys.map(quoted).join(', ')})) WITHOUT ROWID`);
  }

  private upsert(view: string, layout: OnlineLayout, batch: OnlineBatch, materializedAt: number): WriteResult {
    const t = tableOf(view);
    const names = [...layout.keys, ...layout.columns.map((c) => c.name), ONLINE_STORE.eventTime, ONLINE_STORE.createdTime, ONLINE_STORE.materializedAt];
    const updates = names.slice(layout.keys.length).map((n) => `${quoted(n)} = excluded.${quoted(n)}`);
    // The stored row stays unless the incoming one is newer: its event time, then its created time (missing is oldest);
    // at the same instant a later batch restating the row wins, as in the offline join (join.ts sortRows).
    const ev = ONLINE_STORE.eventTime;
    const cr = ONLINE_STORE.createdTime;
    const newer = `excluded.${ev} > ${t}.${ev} OR (excluded.${ev} = ${t}.${ev} AND coalesce(excluded.${cr}, -1e308) >= coalesce(${t}.${cr}, -1e308))`;
    const statement = this.db.prepare(
      `INSERT INTO ${t} (${names.map(quoted).join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ON CONFLICT (${layout.keys.map(quoted).join(', ')}) DO UPDATE SET ${updates.join(', ')} WHERE ${newer}`,
    );
    const args: (string | number | null)[] = new Array(names.length).fill(null);
    const nk = layout.keys.length;
    const nc = layout.columns.length;
    let written = 0;
    for (let r = 0; r < batch.rows; r++) {
      for (let k = 0; k < nk; k++) args[k] = batch.keys[k][r];
      for (let c = 0; c < nc; c++) {
        const v = batch.values[c][r];
        args[nk + c] = typeof v === 'number' ? (Number.isNaN(v) ? null : v) : v;
      }
      args[nk + nc] = batch.eventTime[r];
      const created = batch.createdTime ? batch.createdTime[r] : NaN;
      args[nk + nc + 1] = Number.isFinite(created) ? created : null;
      args[nk + nc + 2] = materializedAt;
      written += statement.run(args).changes;
    }
    return { written, kept: batch.rows - written };
  }

  /** A prepared lookup for one view; throws when the store has not materialized it. */
  reader(view: string): { layout: OnlineLayout; read: OnlineReader } {
    const state = this.state(view);
    if (!state) throw new OnlineStoreError(`the online store ${this.file} has no view ${JSON.stringify(view)}; run bramble materialize --view ${view}`, { file: this.file, view });
    const { layout } = state;
    const select = [...layout.columns.map((c) => quoted(c.name)), ONLINE_STORE.eventTime].join(', ');
    const where = layout.keys.map((k) => `${quoted(k)} = ?`).join(' AND ');
    const statement = this.db.prepare(`SELECT ${select} FROM ${tableOf(view)} WHERE ${where}`).raw(true);
    return { layout, read: (key) => statement.get(key) as OnlineRow | undefined };
  }

  /** Whether another connection has committed since the last call (SQLite's PRAGMA data_version). */
  changed(): boolean {
    const version = this.dataVersion.get() as number;
    const changed = version !== this.seenVersion;
    this.seenVersion = version;
    return changed;
  }

  close(): void {
    this.db.close();
  }
}
