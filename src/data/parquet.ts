// Apache Parquet input (.parquet), decoded by hyparquet with hyparquet-compressors. Turning the decoded values into
// Bramble's typed columns, with the schema's declared types, is load.ts's work, shared with JSON and Arrow.
//
// Decisions:
// - Read through hyparquet's column scan (parquetScan), one row group and one column at a time, never as row
//   objects: only one row group's values of one column are plain JS values at a time (a 3,000,000-row file as
//   row objects was gigabytes).
// - Dates and timestamps are decoded straight to milliseconds since 1970 UTC (hyparquet's `parsers`), not to
//   Date objects: a DATE is days × 86,400,000, a timestamp without a zone (isAdjustedToUTC false) is read as UTC,
//   as the rest of Bramble reads a date-time without an offset. Micro- and nanoseconds are floored to whole
//   milliseconds in bigint arithmetic, because a nanosecond count of today is past 2^53.
// - 64-bit integers stay bigints here, so that load.ts can refuse the ones a double cannot hold, where they are.
// - pandas writes a DataFrame's index as a column (`__index_level_0__`) when it is not a plain range, as after a
//   filter or a sample, and lists it in the file's `pandas` metadata. It is left out, as pandas' own read_parquet
//   leaves it out: a row's old position is not data, and as a feature it would only leak the row order.
import { parquetMetadata, parquetScan, parquetSchema, type FileMetaData, type ParquetParsers, type SchemaTree } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { errorClass } from '../errors.js';

/** What a Parquet column holds, as far as loading it cares (the same kinds as an Arrow column). */
export type ParquetKind = 'number' | 'boolean' | 'text' | 'date' | 'timestamp' | 'null' | 'nested';

export interface ParquetColumn {
  readonly name: string;
  readonly kind: ParquetKind;
  /** The Parquet type for messages: `INT64`, `BYTE_ARRAY (STRING)`, `LIST`. */
  readonly type: string;
}

/** A row group: rows [rowStart, rowEnd) of the file. */
export interface ParquetGroup {
  readonly rowStart: number;
  readonly rowEnd: number;
}

export interface ParquetData {
  readonly rows: number;
  readonly columns: readonly ParquetColumn[];
  readonly groups: readonly ParquetGroup[];
  /**
   * One column's values in one row group: numbers, bigints (64-bit integers), strings, booleans, instants as
   * milliseconds since 1970 UTC, and null for missing.
   */
  readColumn(column: string, group: ParquetGroup): Promise<ArrayLike<unknown>>;
}

/** Why the bytes could not be decoded: the rest of a sentence that starts with the file's name. */
export interface ParquetProblem {
  readonly problem: string;
}

const PAR1 = [80, 65, 82, 49];
const MS_PER_DAY = 86_400_000;

/** ms since 1970 from a count of `per` units per millisecond, floored (toward the past, also before 1970). */
function floorMillis(value: bigint, per: bigint): number {
  let q = value / per;
  if (value % per < 0n) q -= 1n;
  return Number(q);
}

const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (millis: bigint) => Number(millis),
  timestampFromMicroseconds: (micros: bigint) => floorMillis(micros, 1000n),
  timestampFromNanoseconds: (nanos: bigint) => floorMillis(nanos, 1_000_000n),
  dateFromDays: (days: number) => days * MS_PER_DAY,
};

/** Opens Parquet bytes: the schema and row groups from the footer; values are read on demand by `readColumn`. */
export async function openParquet(bytes: Uint8Array, file: string): Promise<ParquetData | ParquetProblem> {
  if (bytes.length === 0) return { problem: 'is empty; it needs a Parquet footer and its row groups' };
  const head = PAR1.every((b, i) => bytes[i] === b);
  const tail = PAR1.every((b, i) => bytes[bytes.length - 4 + i] === b);
  if (!head || !tail) {
    const name = file.slice(file.lastIndexOf('/') + 1);
    return {
      problem: `is not a Parquet file (${head ? 'it is cut off: the footer that ends in PAR1 is missing' : 'it does not start with PAR1'}); write it again, e.g. with pandas: df.to_parquet(${JSON.stringify(name)})`,
    };
  }
  // hyparquet slices an ArrayBuffer; this one is a view onto the file's bytes, never a copy of them.
  const buffer = {
    byteLength: bytes.length,
    slice: (start: number, end?: number): ArrayBuffer => {
      const from = bytes.byteOffset + start;
      const to = bytes.byteOffset + (end ?? bytes.length);
      return bytes.buffer.slice(from, to) as ArrayBuffer;
    },
  };
  let metadata: FileMetaData;
  let scan: Awaited<ReturnType<typeof parquetScan>>;
  try {
    metadata = parquetMetadata(bytes, { parsers: PARSERS });
    scan = await parquetScan({ file: buffer, metadata, compressors, parsers: PARSERS, utf8: true });
  } catch (err) {
    return { problem: `is a damaged Parquet file (${reason(err)}); write it again with pandas, pyarrow or DuckDB` };
  }
  const index = pandasIndex(metadata);
  const columns = parquetSchema(metadata)
    .children.filter((node) => !index.has(node.element.name))
    .map(describeColumn);
  if (columns.length === 0) return { problem: 'has no columns; write the table with at least one' };
  return {
    rows: Number(metadata.num_rows),
    columns,
    groups: scan.ranges,
    async readColumn(column: string, group: ParquetGroup): Promise<ArrayLike<unknown>> {
      try {
        return await scan.readColumn({ column, rowStart: group.rowStart, rowEnd: group.rowEnd });
      } catch (err) {
        throw new ParquetReadError(`${file}: column ${column} in rows ${group.rowStart + 1}–${group.rowEnd} could not be decoded (${reason(err)}); write the file again with pandas, pyarrow or DuckDB`, {
          file,
          column,
        });
      }
    },
  };
}

/** A row group's column that hyparquet could not decode: a damaged file, or a codec it does not know (LZO). */
export class ParquetReadError extends errorClass('E_DATA_PARQUET') {}

/** The columns that hold a pandas index, from the `pandas` metadata pandas and pyarrow write; none when absent. */
function pandasIndex(metadata: FileMetaData): ReadonlySet<string> {
  const entry = metadata.key_value_metadata?.find((kv) => kv.key === 'pandas');
  if (entry?.value === undefined) return new Set();
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value);
  } catch (err) {
    // Metadata another writer damaged is no reason to refuse the data: read every column.
    if (err instanceof SyntaxError) return new Set();
    throw err;
  }
  const columns = typeof parsed === 'object' && parsed !== null && 'index_columns' in parsed ? parsed.index_columns : undefined;
  // A plain range index is stored as a description ({ kind: 'range', … }), not as a column.
  return new Set(Array.isArray(columns) ? columns.filter((c): c is string => typeof c === 'string') : []);
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describeColumn(node: SchemaTree): ParquetColumn {
  const { element } = node;
  const name = element.name;
  const logical = element.logical_type?.type;
  const converted = element.converted_type;
  const annotation = logical ?? converted;
  const type = `${element.type ?? annotation ?? 'group'}${element.type !== undefined && annotation !== undefined ? ` (${annotation})` : ''}`;
  if (node.children.length > 0 || element.repetition_type === 'REPEATED') return { name, kind: 'nested', type: annotation ?? 'group' };
  if (logical === 'TIMESTAMP' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || element.type === 'INT96') {
    return { name, kind: 'timestamp', type };
  }
  if (logical === 'DATE' || converted === 'DATE') return { name, kind: 'date', type };
  if (logical === 'JSON' || converted === 'JSON' || logical === 'BSON' || logical === 'VARIANT' || logical === 'GEOMETRY' || logical === 'GEOGRAPHY') {
    return { name, kind: 'nested', type };
  }
  if (logical === 'NULL') return { name, kind: 'null', type };
  switch (element.type) {
    case 'BOOLEAN':
      return { name, kind: 'boolean', type };
    case 'INT32':
    case 'INT64':
    case 'FLOAT':
    case 'DOUBLE':
      return { name, kind: 'number', type };
    case 'FIXED_LEN_BYTE_ARRAY':
      return { name, kind: logical === 'DECIMAL' || converted === 'DECIMAL' || logical === 'FLOAT16' ? 'number' : 'text', type };
    default:
      return { name, kind: logical === 'DECIMAL' || converted === 'DECIMAL' ? 'number' : 'text', type };
  }
}
