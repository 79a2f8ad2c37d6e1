// Apache Arrow IPC input (.arrow, .feather version 2, .arrows), decoded by arquero. Turning the decoded columns
// into Bramble's typed columns, with the schema's declared types, is load.ts's work, shared with JSON records.
import { fromArrow } from 'arquero';

/** What an Arrow column holds, as far as loading it cares. */
export type ArrowKind = 'number' | 'boolean' | 'text' | 'dictionary' | 'date' | 'timestamp' | 'null' | 'nested';

export interface ArrowColumn {
  readonly name: string;
  readonly kind: ArrowKind;
  /** The Arrow type's name, for messages: `Int`, `Utf8`, `List`. */
  readonly type: string;
  readonly values: ArrowValues;
}

/** A decoded column: `at(row)` gives a number, bigint (64-bit integers), string, boolean, Date or null. */
interface ArrowValues {
  readonly length: number;
  at(row: number): unknown;
  toArray?(): ArrayLike<unknown>;
}

export interface ArrowData {
  readonly rows: number;
  readonly columns: readonly ArrowColumn[];
}

/** Why the bytes could not be decoded: the rest of a sentence that starts with the file's name. */
export interface ArrowProblem {
  readonly problem: string;
}

/** Arrow's type ids (Arrow's Schema.fbs; dictionaries are −1 in flechette, which arquero wraps without a type). */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'Null', 2: 'Int', 3: 'Float', 4: 'Binary', 5: 'Utf8', 6: 'Bool', 7: 'Decimal', 8: 'Date', 9: 'Time',
  10: 'Timestamp', 11: 'Interval', 12: 'List', 13: 'Struct', 14: 'Union', 15: 'FixedSizeBinary',
  16: 'FixedSizeList', 17: 'Map', 18: 'Duration', 19: 'LargeBinary', 20: 'LargeUtf8', 21: 'LargeList',
  22: 'RunEndEncoded', 23: 'BinaryView', 24: 'Utf8View', 25: 'ListView', 26: 'LargeListView',
};

const KINDS: Readonly<Record<string, ArrowKind>> = {
  Null: 'null', Int: 'number', Float: 'number', Decimal: 'number', Time: 'number', Duration: 'number',
  Bool: 'boolean', Utf8: 'text', LargeUtf8: 'text', Utf8View: 'text', Date: 'date', Timestamp: 'timestamp',
};

const ARROW_FILE = [65, 82, 82, 79, 87, 49]; // "ARROW1"
const PARQUET = [80, 65, 82, 49]; // "PAR1"
const FEATHER_V1 = [70, 69, 65, 49]; // "FEA1"

/** Decodes an Arrow IPC file or stream. 64-bit integers stay bigints, so that load.ts can refuse inexact ones. */
export function readArrow(bytes: Uint8Array, file: string): ArrowData | ArrowProblem {
  const name = file.slice(file.lastIndexOf('/') + 1);
  if (bytes.length === 0) return { problem: 'is empty; it needs an Arrow schema and its columns' };
  if (startsWith(bytes, PARQUET)) return { problem: 'is an Apache Parquet file, not Arrow; rename it to .parquet' };
  if (startsWith(bytes, FEATHER_V1)) {
    return { problem: `is a Feather version 1 file, which arquero does not read; write it again as version 2, e.g. pyarrow.feather.write_feather(df, ${JSON.stringify(name)}, version=2, compression="uncompressed")` };
  }
  let table: ReturnType<typeof fromArrow>;
  try {
    table = fromArrow(bytes, { useBigInt: true });
  } catch (err) {
    return { problem: decodeProblem(err, bytes, name) };
  }
  if (table.numCols() === 0) return { problem: 'has no columns; write the table with at least one' };
  const columns = table.columnNames().map((column): ArrowColumn => {
    const values = table.column(column) as ArrowValues & { type?: { typeId: number } };
    // arquero replaces dictionary columns with its own wrapper, which has no Arrow type.
    const type = values.type === undefined ? 'Dictionary' : (TYPE_NAMES[values.type.typeId] ?? `type ${values.type.typeId}`);
    return { name: column, kind: type === 'Dictionary' ? 'dictionary' : (KINDS[type] ?? 'nested'), type, values };
  });
  return { rows: table.numRows(), columns };
}

/**
 * The column's values as plain cells: null for missing, dates and timestamps as milliseconds since 1970 when
 * `numeric` (read as numbers or as a date column), else as ISO text (a date as `2024-01-05`, a timestamp in UTC as `2024-01-05T10:30:00.000Z`).
 */
export function arrowCells(column: ArrowColumn, numeric: boolean): ArrayLike<unknown> {
  const values = column.values.toArray?.() ?? Array.from({ length: column.values.length }, (_, r) => column.values.at(r));
  if (column.kind !== 'date' && column.kind !== 'timestamp') return values;
  const dateOnly = column.kind === 'date';
  return Array.from(values, (v) => {
    if (!(v instanceof Date)) return v;
    if (numeric) return v.getTime();
    const iso = v.toISOString();
    return dateOnly ? iso.slice(0, 10) : iso;
  });
}

function decodeProblem(err: unknown, bytes: Uint8Array, name: string): string {
  const reason = err instanceof Error ? err.message : String(err);
  // flechette: `Missing compression codec "LZ4_FRAME" (id 0)`. pyarrow and pandas compress Feather with LZ4 by default.
  const codec = /^Missing compression codec "(\w+)"/.exec(reason);
  if (codec) {
    return (
      `is compressed with ${codec[1]}, which arquero cannot decompress; write it uncompressed, ` +
      `e.g. pyarrow.feather.write_feather(table, ${JSON.stringify(name)}, compression="uncompressed")`
    );
  }
  const what = startsWith(bytes, ARROW_FILE) ? 'a damaged Arrow file' : 'not an Arrow IPC file or stream';
  return `is ${what} (${reason}); write it again with pyarrow.feather.write_feather or arquero's toArrowIPC`;
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}
