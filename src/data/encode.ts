import { errorClass } from '../errors.js';
import type { Matrix } from '../util/matrix.js';
import type { CsvTable } from './csv.js';
import { MISSING_TEXT } from './load-options.js';
import { cellValue, shortList, type CodedColumn, type Table } from './table.js';

export class EncodeError extends errorClass('E_ENCODE') {}

/** The loader's missing markers (pandas' defaults), and fields of only blanks, such as the Telco data's lone spaces. */
const MISSING = new Set(MISSING_TEXT);
function isMissing(text: string): boolean {
  return MISSING.has(text) || text.trim() === '';
}

export interface EncodedTable {
  featureNames: string[];
  x: Matrix;
  y: (string | number)[];
}

export interface EncodeOptions {
  target: string;
  /** Columns that are not features (ids). */
  drop?: readonly string[];
  /** Read the target as numbers (regression). */
  numericTarget?: boolean;
}

/**
 * A CSV table as a numeric matrix: columns whose present values all parse as numbers stay numbers, the others
 * are one-hot encoded (one column per sorted category, named `column=category`); missing markers become NaN.
 */
export function encodeTable(table: CsvTable, options: EncodeOptions, file = 'the CSV'): EncodedTable {
  const { header, rows } = table;
  const targetAt = header.indexOf(options.target);
  if (targetAt < 0) {
    throw new EncodeError(`${file} has no column ${JSON.stringify(options.target)} for the target; its columns are ${shortList(header)}`);
  }
  for (const d of options.drop ?? []) {
    if (!header.includes(d)) throw new EncodeError(`${file} has no column ${JSON.stringify(d)} to drop; its columns are ${shortList(header)}`);
  }
  const featureColumns = header.map((_, c) => c).filter((c) => c !== targetAt && !(options.drop ?? []).includes(header[c]));

  type Column = { numeric: true; name: string; at: number } | { numeric: false; name: string; at: number; categories: string[] };
  const columns: Column[] = featureColumns.map((at) => {
    let numeric = true;
    const seen = new Set<string>();
    for (const row of rows) {
      const v = row[at];
      if (isMissing(v)) continue;
      if (numeric && !Number.isFinite(Number(v))) numeric = false;
      seen.add(v);
    }
    if (numeric) return { numeric: true, name: header[at], at };
    return { numeric: false, name: header[at], at, categories: Array.from(seen).sort() };
  });
  const featureNames: string[] = [];
  for (const col of columns) {
    if (col.numeric) featureNames.push(col.name);
    else for (const cat of col.categories) featureNames.push(`${col.name}=${cat}`);
  }
  const width = featureNames.length;
  const values = new Float64Array(rows.length * width);
  rows.forEach((row, r) => {
    let o = r * width;
    for (const col of columns) {
      const v = row[col.at];
      if (col.numeric) {
        values[o++] = isMissing(v) ? NaN : Number(v);
      } else {
        for (const cat of col.categories) values[o++] = isMissing(v) ? NaN : v === cat ? 1 : 0;
      }
    }
  });
  const y = rows.map((row, r) => {
    const v = row[targetAt];
    if (!options.numericTarget) return v;
    const num = Number(v);
    if (isMissing(v) || !Number.isFinite(num)) {
      throw new EncodeError(`${file}:${table.lines[r]}: the target ${options.target} is ${JSON.stringify(v)}; regression needs a number on every row`);
    }
    return num;
  });
  return { featureNames, x: { rows: rows.length, columns: width, values }, y };
}

/** The rows of a matrix picked by index, as a new matrix. */
export function takeRows(m: Matrix, picks: ArrayLike<number>): Matrix {
  const values = new Float64Array(picks.length * m.columns);
  for (let j = 0; j < picks.length; j++) values.set(m.values.subarray(picks[j] * m.columns, (picks[j] + 1) * m.columns), j * m.columns);
  return { rows: picks.length, columns: m.columns, values };
}

/**
 * A loaded table (CSV, JSON, Arrow or Parquet, through readTable) as a numeric matrix, by the rules of
 * encodeTable: number and boolean columns stay numbers, category and string columns are one-hot encoded over
 * their sorted values (`column=value`), missing values are NaN. Date columns are left out: a date is not a model
 * input by itself (ml.yaml's `derive` turns it into numbers). Column by column over typed arrays, so a large
 * table never becomes rows of strings.
 */
export function encodeColumns(table: Table, options: EncodeOptions, file = 'the data'): EncodedTable {
  const names = table.columns.map((c) => c.name);
  const target = table.columns.find((c) => c.name === options.target);
  if (target === undefined) {
    throw new EncodeError(`${file} has no column ${JSON.stringify(options.target)} for the target; its columns are ${shortList(names)}`);
  }
  for (const d of options.drop ?? []) {
    if (!names.includes(d)) throw new EncodeError(`${file} has no column ${JSON.stringify(d)} to drop; its columns are ${shortList(names)}`);
  }
  const features = table.columns.filter((c) => c !== target && c.kind !== 'date' && !(options.drop ?? []).includes(c.name));
  if (features.length === 0) {
    throw new EncodeError(`${file}: no input column is left besides the target ${JSON.stringify(options.target)}${options.drop?.length ? ` (--drop removes ${shortList(options.drop)})` : ''}; keep at least one`);
  }
  const featureNames: string[] = [];
  const layout = features.map((column) => {
    if (column.kind === 'number' || column.kind === 'boolean') {
      featureNames.push(column.name);
      return { column, order: null };
    }
    const coded = column as CodedColumn;
    const used = new Uint8Array(coded.values.categories.length);
    for (const code of coded.values.codes) if (code >= 0) used[code] = 1;
    const sorted = coded.values.categories.filter((_, code) => used[code] === 1).sort();
    // order[code] = the category's place among the sorted ones, so each row sets one column.
    const place = new Map(sorted.map((c, i) => [c, i]));
    const order = Int32Array.from(coded.values.categories, (c) => place.get(c) ?? -1);
    for (const c of sorted) featureNames.push(`${column.name}=${c}`);
    return { column, order, width: sorted.length };
  });
  const width = featureNames.length;
  const rows = table.rows;
  const values = new Float64Array(rows * width);
  let offset = 0;
  for (const entry of layout) {
    const { column, order } = entry;
    if (order === null) {
      const v = (column as { values: Float64Array }).values;
      for (let r = 0; r < rows; r++) values[r * width + offset] = v[r];
      offset++;
      continue;
    }
    const span = entry.width ?? 0;
    const codes = (column as CodedColumn).values.codes;
    for (let r = 0; r < rows; r++) {
      const at = r * width + offset;
      const code = codes[r];
      if (code < 0) values.fill(NaN, at, at + span);
      else values[at + order[code]] = 1;
    }
    offset += span;
  }
  const y: (string | number)[] = new Array<string | number>(rows);
  for (let r = 0; r < rows; r++) {
    const v = cellValue(target, r);
    if (v === null) {
      throw new EncodeError(`${file}:${table.lines[r]}: the target ${options.target} is missing; every row needs a target (fill it in, or remove the row)`);
    }
    if (options.numericTarget === true && typeof v !== 'number') {
      throw new EncodeError(`${file}:${table.lines[r]}: the target ${options.target} is ${JSON.stringify(v)}; regression needs a number on every row`);
    }
    y[r] = options.numericTarget === true ? (v as number) : String(v);
  }
  return { featureNames, x: { rows, columns: width, values }, y };
}
