/**
 * What a caller tells a data reader: the file's name and format, the declared columns and the missing markers.
 * Kept apart from load.ts so that every format's reader can read these types without importing the entry.
 */

/**
 * Field texts read as missing: pandas' read_csv defaults (so that a profile agrees with pandas on the same file),
 * plus "None" (pandas 2) and — checked separately — any field of only spaces and tabs, because the Telco data
 * writes 11 missing TotalCharges as a lone space.
 */
export const MISSING_TEXT: readonly string[] = [
  '', '#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL',
  'NaN', 'None', 'n/a', 'nan', 'null',
];

export type DeclaredType = 'integer' | 'number' | 'category' | 'string' | 'boolean' | 'date';

export interface DeclaredColumn {
  readonly type: DeclaredType;
  /** Whether a declared column may have missing values; declared columns may not unless this is true. */
  readonly nullable?: boolean;
  /** More texts read as missing in this column only (ml.yaml's `schema.columns.X.missing`), besides `LoadOptions.missing`. */
  readonly missing?: readonly string[];
}

/**
 * `arrow` is Arrow IPC, file or stream: .arrow, .feather (version 2), .ipc and .arrows; `parquet` is Apache
 * Parquet (.parquet), read by readTable or loadTableAsync (hyparquet decodes asynchronously).
 */
export type DataFormat = 'csv' | 'json' | 'arrow' | 'parquet';

export interface LoadOptions {
  /** The file as a person should see it in messages (a path relative to the repository). */
  readonly file: string;
  /** Taken from the file name when not given. */
  readonly format?: DataFormat;
  /** The declared schema. Undeclared columns are inferred: numbers if every present value is one, else categories. */
  readonly columns?: Readonly<Record<string, DeclaredColumn>>;
  /**
   * More texts read as missing in every column (ml.yaml's `data.missing`, such as `['.', 'n/a']`), besides
   * MISSING_TEXT. In a number column such a value is missing, not a type error. In JSON, Arrow and Parquet, where
   * text is typed, they apply to text values (MISSING_TEXT applies there only to numbers written as text).
   */
  readonly missing?: readonly string[];
  /**
   * Report bad values instead of throwing, for validation, which counts every failure rather than stopping at the
   * first: a value not of its declared type is read as missing and listed in `LoadedTable.violations`, every
   * declared column is read as nullable (the caller counts the missing values), and a declared column absent
   * from the file is left out rather than an error (the caller reports it).
   */
  readonly lenient?: boolean;
}

/** The values of one declared column that are not of its type, found by a lenient load. */
export interface TypeViolation {
  readonly column: string;
  readonly expected: DeclaredType;
  /** Every offending row (0-based, ascending); `Table.lines` gives their file lines (for Arrow, rows from 1). */
  readonly rows: readonly number[];
  /** The message a strict load throws for the first of them, with its file and line. */
  readonly message: string;
}

