// The offline store: partitions written as Parquet, read back with their manifests, a view's rows from all of them.
// Decisions: a partition holds exactly the view's declared columns in declared order, numbers as DOUBLE, dates as
// TIMESTAMP (milliseconds, UTC), text as STRING, so that the same batch always writes the same bytes (its sha256 is
// the partition's identity in the manifest) and reading it back needs no inference. Every read checks the file's
// sha256 against the manifest in git: a partition changed or swapped under the store is an error, never silently
// different training data.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { errorClass } from '../errors.js';
import { gatherColumn } from './join.js';
import { errnoCode } from '../fs/codes.js';
import { openParquet } from '../data/parquet.js';
import type { DeclaredColumn } from '../data/load-options.js';
import { isCoded, type CodedColumn, type Column, type Table } from '../data/table.js';
import { compareVersions, FEATURE_REPO, getView, manifestPath, partitionPath, VERSION_PATTERN, type FeatureRepo, type Manifest, type ViewSpec } from './spec.js';

export class StoreDataError extends errorClass('E_STORE_DATA') {}

/** A view's rows from its partitions, oldest version first, with each row's times as numbers. */
export interface ViewRows {
  readonly view: ViewSpec;
  readonly table: Table;
  /** Milliseconds since 1970 UTC per row; never NaN (ingest refuses such rows). */
  readonly eventTime: Float64Array;
  /** Per row; all 0 when the view has no created_time, and −Infinity where it is missing. */
  readonly createdTime: Float64Array;
  /** The partitions read, in version order. */
  readonly manifests: readonly Manifest[];
}

export interface ReadViewOptions {
  /** Only these versions (a training set rebuilt from its lineage); every committed version when left out. */
  readonly versions?: readonly string[];
}

/** The declared columns as the data readers take them. */
export function declaredColumns(view: ViewSpec): Record<string, DeclaredColumn> {
  return Object.fromEntries(Object.entries(view.columns).map(([name, c]) => [name, { type: c.type, nullable: c.nullable, ...(c.missing ? { missing: c.missing } : {}) }]));
}

/** The manifests committed for a view (the repository's working tree), in version order. */
export async function readManifests(repo: FeatureRepo, viewName: string, versions?: readonly string[]): Promise<Manifest[]> {
  const folder = join(repo.dir, FEATURE_REPO.manifests, viewName);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    names = [];
  }
  let found = names.filter((n) => n.endsWith('.json') && VERSION_PATTERN.test(n.slice(0, -5))).map((n) => n.slice(0, -5));
  if (versions) {
    const missing = versions.filter((v) => !found.includes(v));
    if (missing.length > 0) {
      throw new StoreDataError(`view ${viewName} has no version ${missing.join(', ')} in ${folder}; check out the commit of the features repository that has it (its manifests/ hold ${found.length > 0 ? found.sort(compareVersions).join(', ') : 'none'})`, { view: viewName, missing });
    }
    found = [...versions];
  }
  found.sort(compareVersions);
  const out: Manifest[] = [];
  for (const version of found) {
    const file = manifestPath(repo, viewName, version);
    let manifest: Partial<Manifest> | null = null;
    try {
      manifest = JSON.parse(await readFile(file, 'utf8')) as Partial<Manifest> | null;
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
    if (!manifest || manifest.version !== version || manifest.view !== viewName || typeof manifest.sha256 !== 'string' || typeof manifest.rows !== 'number') {
      throw new StoreDataError(`${file} is not a manifest of view ${viewName} version ${version}; restore it from git (git checkout -- ${FEATURE_REPO.manifests}/${viewName})`, { file });
    }
    out.push(manifest as Manifest);
  }
  return out;
}

/** A view's rows from its partitions (all of them, or `versions`), each partition checked against its manifest. */
export async function readView(repo: FeatureRepo, viewName: string, options: ReadViewOptions = {}): Promise<ViewRows> {
  const view = getView(repo, viewName);
  const manifests = await readManifests(repo, viewName, options.versions);
  if (manifests.length === 0) {
    throw new StoreDataError(`view ${viewName} has no partitions: ${join(repo.dir, FEATURE_REPO.manifests, viewName)} holds no manifest; run bramble ingest in ${repo.dir} first (or check out a commit that has its manifests)`, { view: viewName });
  }
  const columns = declaredColumns(view);
  const parts: Table[] = [];
  for (const manifest of manifests) parts.push(await readPartition(repo, view, manifest, columns));
  const table = parts.length === 1 ? parts[0] : concatTables(parts, Object.keys(view.columns), columns);
  const eventTime = timeValues(table, view.eventTime);
  const createdTime = view.createdTime ? timeValues(table, view.createdTime) : new Float64Array(table.rows);
  if (view.createdTime) for (let i = 0; i < createdTime.length; i++) if (createdTime[i] !== createdTime[i]) createdTime[i] = -Infinity;
  return { view, table, eventTime, createdTime, manifests };
}

async function readPartition(repo: FeatureRepo, view: ViewSpec, manifest: Manifest, columns: Record<string, DeclaredColumn>): Promise<Table> {
  const file = partitionPath(repo, view.name, manifest.version);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    throw new StoreDataError(`the partition ${file} of view ${view.name} version ${manifest.version} is not in the store; ingest it again, or point ${FEATURE_REPO.storeEnv} at the store that has it`, { file });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.sha256) {
    throw new StoreDataError(`the partition ${file} does not match its manifest (sha256 ${sha256.slice(0, 12)}…, manifest says ${manifest.sha256.slice(0, 12)}…); restore it from a backup of the store`, { file, sha256, expected: manifest.sha256 });
  }
  return decodePartition(bytes, file, view, columns);
}

/**
 * A partition's columns straight from hyparquet's column scan into typed arrays. The store wrote the file with
 * the declared types, so nothing is inferred or converted cell by cell as the general Parquet reader does for
 * any file (that path is 4× slower on a million rows); text is interned per column as it streams by.
 */
async function decodePartition(bytes: Uint8Array, file: string, view: ViewSpec, declared: Record<string, DeclaredColumn>): Promise<Table> {
  const read = await openParquet(bytes, file);
  if ('problem' in read) throw new StoreDataError(`the partition ${file} ${read.problem}; ingest the view again`, { file });
  const columns: Column[] = [];
  for (const [name, spec] of Object.entries(declared)) {
    if (!read.columns.some((c) => c.name === name)) throw new StoreDataError(`the partition ${file} has no column ${name} that view ${view.name} declares; ingest the view again`, { file, column: name });
    const coded = spec.type === 'category' || spec.type === 'string';
    const values = coded ? null : new Float64Array(read.rows);
    const codes = coded ? new Int32Array(read.rows) : null;
    const index = new Map<string, number>();
    const categories: string[] = [];
    let lastText: string | undefined;
    let lastCode = -1;
    for (const group of read.groups) {
      const cells = await read.readColumn(name, group);
      for (let i = 0; i < cells.length; i++) {
        const cell = cells[i];
        const at = group.rowStart + i;
        if (codes) {
          if (typeof cell !== 'string') {
            codes[at] = -1;
            continue;
          }
          // Partitions are written in key order, so a text usually repeats the row before's.
          if (cell === lastText) {
            codes[at] = lastCode;
            continue;
          }
          let code = index.get(cell);
          if (code === undefined) {
            code = categories.length;
            categories.push(cell);
            index.set(cell, code);
          }
          codes[at] = code;
          lastText = cell;
          lastCode = code;
        } else if (values) {
          values[at] = typeof cell === 'number' ? cell : typeof cell === 'boolean' ? (cell ? 1 : 0) : typeof cell === 'bigint' ? Number(cell) : NaN;
        }
      }
    }
    if (codes) columns.push({ name, kind: spec.type === 'category' ? 'category' : 'string', values: { codes, categories } });
    else columns.push({ name, kind: spec.type === 'date' ? 'date' : spec.type === 'boolean' ? 'boolean' : 'number', values: values ?? new Float64Array(0) });
  }
  return { rows: read.rows, columns, lines: Int32Array.from({ length: read.rows }, (_, i) => i + 1) };
}

function timeValues(table: Table, name: string): Float64Array {
  const column = table.columns.find((c) => c.name === name);
  if (!column || column.kind !== 'date') throw new StoreDataError(`the store's rows have no date column ${name}; ingest the view again`, { column: name });
  return column.values;
}

/** Tables with the same columns, one after another; text columns' categories are merged in order of appearance. */
export function concatTables(parts: readonly Table[], names: readonly string[], declared: Readonly<Record<string, DeclaredColumn>>): Table {
  let rows = 0;
  for (const part of parts) rows += part.rows;
  const lines = new Int32Array(rows);
  let at = 0;
  for (const part of parts) {
    lines.set(part.lines, at);
    at += part.rows;
  }
  const columns: Column[] = names.map((name) => {
    const pieces = parts.map((p) => {
      const c = p.columns.find((x) => x.name === name);
      if (!c) throw new StoreDataError(`a partition has no column ${name} (declared as ${declared[name]?.type ?? 'unknown'}); ingest it again`, { column: name });
      return c;
    });
    const first = pieces[0];
    if (isCoded(first)) return concatCoded(name, first.kind, pieces as CodedColumn[], rows);
    const values = new Float64Array(rows);
    let offset = 0;
    for (const piece of pieces) {
      values.set(piece.values as Float64Array, offset);
      offset += (piece.values as Float64Array).length;
    }
    return { name, kind: first.kind, values } as Column;
  });
  return { rows, columns, lines };
}

function concatCoded(name: string, kind: 'category' | 'string', pieces: readonly CodedColumn[], rows: number): CodedColumn {
  const categories: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(rows);
  let offset = 0;
  for (const piece of pieces) {
    const remap = new Int32Array(piece.values.categories.length);
    piece.values.categories.forEach((text, i) => {
      let code = index.get(text);
      if (code === undefined) {
        code = categories.length;
        categories.push(text);
        index.set(text, code);
      }
      remap[i] = code;
    });
    const src = piece.values.codes;
    for (let i = 0; i < src.length; i++) codes[offset + i] = src[i] < 0 ? -1 : remap[src[i]];
    offset += src.length;
  }
  return { name, kind, values: { codes, categories } };
}

/**
 * A table's columns `names` (in that order) as Parquet bytes, its rows in the order `rows` gives (all, as they
 * are, when left out); the same table always gives the same bytes.
 */
export function partitionBytes(table: Table, names: readonly string[], rows?: Int32Array): Uint8Array {
  const columnData: ColumnSource[] = names.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (!column) throw new StoreDataError(`the batch has no column ${name}`, { column: name });
    return columnSource(rows ? gatherColumn(column, rows) : column);
  });
  return new Uint8Array(parquetWriteBuffer({ columnData, createdBy: 'bramble', rowGroupSize: 100_000 }));
}

function columnSource(column: Column): ColumnSource {
  if (isCoded(column)) {
    const { codes, categories } = column.values;
    return { name: column.name, type: 'STRING', data: Array.from(codes, (c) => (c < 0 ? null : categories[c])) };
  }
  const values = column.values;
  if (column.kind === 'boolean') return { name: column.name, type: 'BOOLEAN', data: Array.from(values, (v) => (v !== v ? null : v === 1)) };
  return { name: column.name, type: column.kind === 'date' ? 'TIMESTAMP' : 'DOUBLE', data: Array.from(values, (v) => (v !== v ? null : v)) };
}
