import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { loadArrow } from './arrow-table.js';
import type { Parsed } from './columns.js';
import { loadCsvBytes, streamCsv } from './csv-table.js';
import { loadJson } from './json-table.js';
import { DataFileError, DataFormatError } from './load-errors.js';
import type { DataFormat, LoadOptions, TypeViolation } from './load-options.js';
import { loadParquet } from './parquet-table.js';
import type { Table } from './table.js';
import { errnoCode } from '../fs/codes.js';

/**
 * Reading a data set, whatever its format: the entry every caller uses. Decisions: each format has its own reader
 * (csv-table.ts, json-table.ts, arrow-table.ts, parquet-table.ts) writing into the same typed columns
 * (columns.ts, cells.ts), so a data set is the same Table whichever format it came in.
 */

export interface ReadOptions extends Omit<LoadOptions, 'file'> {
  /** The file as shown in messages; the path itself when not given. */
  readonly file?: string;
  /** What to check when the file does not exist, such as `check data.train in ml.yaml`. */
  readonly hint?: string;
}

/** What identifies a data set in the lineage: the sha256 of its bytes plus its shape. */
export interface DataIdentity {
  readonly sha256: string;
  readonly rows: number;
  readonly columns: number;
  readonly bytes: number;
}

export interface LoadedTable {
  readonly table: Table;
  readonly identity: DataIdentity;
  /** Only with `lenient`: the declared columns that had values not of their type, in column order. */
  readonly violations?: readonly TypeViolation[];
}
/** Loads a CSV, JSON or Arrow data set already in memory; Parquet needs loadTableAsync. */
export function loadTable(bytes: Uint8Array, options: LoadOptions): LoadedTable {
  const format = options.format ?? formatOf(options.file);
  if (format === 'parquet') throw new Error(`loadTable cannot read ${options.file}: Parquet is decoded asynchronously; call loadTableAsync or readTable`);
  if (format === 'csv' || format === 'json') refuseBinary(bytes, format, options.file);
  const parse = format === 'json' ? loadJson : format === 'arrow' ? loadArrow : loadCsvBytes;
  return loaded(bytes, parse(bytes, options), options);
}

/** Loads a data set already in memory, of any format, Parquet included. */
export async function loadTableAsync(bytes: Uint8Array, options: LoadOptions): Promise<LoadedTable> {
  const format = options.format ?? formatOf(options.file);
  if (format !== 'parquet') return loadTable(bytes, { ...options, format });
  return loaded(bytes, await loadParquet(bytes, options), options);
}

function loaded(bytes: Uint8Array, { table, violations }: Parsed, options: LoadOptions): LoadedTable {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const identity = { sha256, rows: table.rows, columns: table.columns.length, bytes: bytes.length };
  return options.lenient === true ? { table, identity, violations } : { table, identity };
}

/** Binary formats by their first bytes, and what to do about each: the end of "… (it looks like X); FIX". */
const BINARY_SIGNS: readonly { magic: readonly number[]; looks: string; fix: (stem: string) => string }[] = [
  { magic: [0x50, 0x41, 0x52, 0x31], looks: 'Parquet', fix: () => 'rename it to .parquet' },
  { magic: [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31], looks: 'an Arrow file', fix: () => 'rename it to .arrow' },
  { magic: [0x1f, 0x8b], looks: 'gzip-compressed', fix: (stem) => `decompress it first (gunzip ${stem}.gz)` },
  { magic: [0x50, 0x4b, 0x03, 0x04], looks: 'a zip archive, such as an Excel .xlsx workbook', fix: () => 'unzip it, or export the sheet as CSV' },
  { magic: [0xff, 0xfe], looks: 'UTF-16 text', fix: () => 'save it as UTF-8' },
  { magic: [0xfe, 0xff], looks: 'UTF-16 text', fix: () => 'save it as UTF-8' },
];

/**
 * A binary file given where text is expected is refused by its first bytes, before a parser reads it as one
 * enormous field or a ragged row ("row 3 has 2 fields") that hides what is really wrong.
 */
function refuseBinary(head: Uint8Array, format: 'csv' | 'json', file: string): void {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const stem = name.replace(/\.[^.]*$/, '');
  const what = format === 'csv' ? 'a CSV file' : 'a JSON file';
  for (const sign of BINARY_SIGNS) {
    if (sign.magic.every((b, i) => head[i] === b)) {
      throw new DataFormatError(`${file} is not ${what} (it looks like ${sign.looks}); ${sign.fix(stem)}`, file);
    }
  }
  // Text never holds a NUL byte; binary formats nearly always do within their first KiB.
  const nul = head.subarray(0, 1024).indexOf(0);
  if (nul >= 0) {
    throw new DataFormatError(`${file} is not ${what} (it looks like binary data: byte ${nul + 1} is NUL); give the data as ${format === 'csv' ? 'CSV text' : 'JSON text'}, Arrow or Parquet`, file);
  }
}

/**
 * Reads a data file. CSV is parsed as it streams in, so the file's bytes are never all in memory beside the
 * columns (that is half the peak memory on a million-row file).
 */
export async function readTable(path: string, options: ReadOptions = {}): Promise<LoadedTable> {
  const file = options.file ?? path;
  const loadOptions: LoadOptions = { file, format: options.format ?? formatOf(file), columns: options.columns, missing: options.missing, lenient: options.lenient };
  const handle = await open(path, 'r').catch((err: unknown) => {
    throw fileError(err, file, options.hint) ?? err;
  });
  try {
    const size = (await handle.stat()).size;
    if (loadOptions.format !== 'csv') {
      const bytes = await handle.readFile().catch((err: unknown) => {
        throw fileError(err, file, options.hint) ?? err;
      });
      return await loadTableAsync(bytes, loadOptions);
    }
    const head = new Uint8Array(Math.min(size, 1024));
    await handle.read(head, 0, head.length, 0).catch((err: unknown) => {
      throw fileError(err, file, options.hint) ?? err;
    });
    refuseBinary(head, 'csv', file);
    const hash = createHash('sha256');
    let counted = 0;
    const hashChunk = (chunk: Uint8Array): void => {
      hash.update(chunk);
      counted += chunk.length;
    };
    let asCategory = new Set<string>();
    let first = true;
    for (;;) {
      // Only the first pass hashes: a second one happens only when an inferred column turned out to hold text.
      const done = await streamCsv(handle, size, loadOptions, asCategory, first ? hashChunk : () => {}).catch((err: unknown) => {
        throw fileError(err, file, options.hint) ?? err;
      });
      if (done.retry.size === 0) {
        const table = done.table;
        const identity = { sha256: hash.digest('hex'), rows: table.rows, columns: table.columns.length, bytes: counted };
        return loadOptions.lenient === true ? { table, identity, violations: done.violations } : { table, identity };
      }
      asCategory = done.retry;
      first = false;
    }
  } finally {
    await handle.close();
  }
}

function fileError(err: unknown, file: string, hint: string | undefined): DataFileError | undefined {
  const code = errnoCode(err);
  if (code === 'ENOENT') return new DataFileError(`the data file ${file} does not exist; ${hint ?? 'check the path'}`, file);
  if (code === 'EISDIR') return new DataFileError(`the data file ${file} is a folder; give a CSV, JSON, Arrow or Parquet file`, file);
  if (code === 'EACCES') return new DataFileError(`the data file ${file} cannot be read (permission denied); check its permissions`, file);
  return undefined;
}

function formatOf(file: string): DataFormat {
  const dot = file.lastIndexOf('.');
  const ext = dot > file.lastIndexOf('/') ? file.slice(dot + 1).toLowerCase() : '';
  if (ext === 'csv' || ext === 'txt') return 'csv';
  if (ext === 'json') return 'json';
  if (ext === 'arrow' || ext === 'feather' || ext === 'ipc' || ext === 'arrows') return 'arrow';
  if (ext === 'parquet') return 'parquet';
  throw new DataFormatError(`${file} has no .csv, .json, .arrow or .parquet extension; rename it, or give the format (csv, json, arrow or parquet)`, file);
}

