// What the forest is given, checked before anything is trained or predicted: rows or a matrix of finite numbers (NaN
// or null for missing), labels of one kind, targets, and class weights that name real classes. Each mistake names
// the row, the column and the value.
import { errorClass } from '../../errors.js';
import type { Matrix } from '../../util/matrix.js';
import type { ForestParams } from './options.js';

export type Label = string | number;
export type Row = ArrayLike<number | null>;
export type Rows = readonly Row[] | Matrix;

export class TrainingDataError extends errorClass('E_TRAINING_DATA') {}

export function describeValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}${typeof v === 'boolean' ? ` (${String(v)})` : ''}`;
}

/** Rows or a matrix, checked, as one row-major Float64Array with NaN for missing. */
export function toMatrix(x: Rows, what: 'training' | 'prediction', strict: boolean, expectColumns?: number): Matrix {
  if (!Array.isArray(x)) {
    const m = x as Matrix;
    if (!(m.values instanceof Float64Array)) {
      throw new TrainingDataError(`the ${what} matrix's values are ${describeValue(m.values)}; give a Float64Array (row-major, NaN for missing)`);
    }
    if (!Number.isInteger(m.rows) || m.rows < 0 || !Number.isInteger(m.columns) || m.columns < 1) {
      throw new TrainingDataError(
        `the ${what} matrix is ${String(m.rows)} × ${String(m.columns)}; rows must be an integer ≥ 0 and columns an integer ≥ 1`,
      );
    }
    if (m.values.length !== m.rows * m.columns) {
      throw new TrainingDataError(`the ${what} matrix has ${m.values.length} values for ${m.rows} × ${m.columns}; they must agree`);
    }
    if (expectColumns !== undefined && m.columns !== expectColumns) {
      throw new TrainingDataError(`the ${what} data has ${m.columns} features but the model takes ${expectColumns}`);
    }
    if (strict) {
      for (let i = 0; i < m.values.length; i++) {
        const v = m.values[i];
        if (v === Infinity || v === -Infinity) {
          const r = Math.floor(i / m.columns);
          throw new TrainingDataError(`X[${r}][${i - r * m.columns}] is ${v}; features must be finite numbers (NaN marks a missing value in a matrix)`);
        }
      }
    }
    return m;
  }
  const rows = x as readonly Row[];
  const n = rows.length;
  if (n === 0) return { rows: 0, columns: expectColumns ?? 0, values: new Float64Array(0) };
  const columns = rows[0]?.length ?? 0;
  if (!rows[0] || typeof rows[0] !== 'object') {
    throw new TrainingDataError(`X[0] is ${describeValue(rows[0])}; each row must be an array of numbers`);
  }
  if (expectColumns !== undefined && columns !== expectColumns) {
    throw new TrainingDataError(`X[0] has ${columns} values but the model takes ${expectColumns} features`, { columns, expectColumns });
  }
  if (columns === 0) throw new TrainingDataError('X[0] has no values; each row needs at least one feature');
  const values = new Float64Array(n * columns);
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    if (!row || row.length !== columns) {
      throw new TrainingDataError(
        row
          ? `X[${r}] has ${row.length} values but X[0] has ${columns}; every row needs the same number of features`
          : `X[${r}] is ${describeValue(row)}; every row must be an array of ${columns} features`,
        { row: r, expected: columns, got: row?.length },
      );
    }
    for (let c = 0; c < columns; c++) {
      const v = row[c];
      if (v === null || v === undefined) {
        values[r * columns + c] = NaN;
        continue;
      }
      if (typeof v !== 'number') {
        throw new TrainingDataError(`X[${r}][${c}] is ${describeValue(v)}; features must be numbers, or null for a missing value`, {
          row: r,
          column: c,
        });
      }
      if (!Number.isFinite(v)) {
        if (strict || v === Infinity || v === -Infinity) {
          throw new TrainingDataError(
            `X[${r}][${c}] is ${v}; features must be finite numbers — use null for a missing value`,
            { row: r, column: c, value: String(v) },
          );
        }
      }
      values[r * columns + c] = v;
    }
  }
  return { rows: n, columns, values };
}

function newInt32(n: number, shared: boolean): Int32Array {
  return new Int32Array(shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
}

function newFloat64(n: number, shared: boolean): Float64Array {
  return new Float64Array(shared ? new SharedArrayBuffer(n * 8) : new ArrayBuffer(n * 8));
}

/** Sorted distinct labels (numbers ascending, strings by code unit, as numpy's unique) and each row's index. */
export function encodeLabels(y: readonly unknown[], shared: boolean): { classes: Label[]; classIndex: Int32Array } {
  const kind = typeof y[0];
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if ((typeof v !== 'string' && typeof v !== 'number') || (typeof v === 'number' && !Number.isFinite(v))) {
      throw new TrainingDataError(`y[${i}] is ${describeValue(v)}; class labels must be strings or finite numbers`, { row: i });
    }
    if (typeof v !== kind) {
      throw new TrainingDataError(`y[${i}] is ${describeValue(v)} but y[0] is a ${kind}; class labels must be all strings or all numbers`, {
        row: i,
      });
    }
  }
  const distinct = Array.from(new Set(y as Label[]));
  distinct.sort((a, b) => (typeof a === 'number' ? (a as number) - (b as number) : a < b ? -1 : a > b ? 1 : 0));
  if (distinct.length < 2) {
    throw new TrainingDataError(
      `y has a single class (${describeValue(distinct[0])}); classification needs at least 2 classes — check the target column or use task "regression"`,
      { classes: distinct },
    );
  }
  const position = new Map<Label, number>(distinct.map((c, i) => [c, i]));
  const classIndex = newInt32(y.length, shared);
  for (let i = 0; i < y.length; i++) classIndex[i] = position.get(y[i] as Label)!;
  return { classes: distinct, classIndex };
}

export function encodeTargets(y: readonly unknown[], shared: boolean): Float64Array {
  const target = newFloat64(y.length, shared);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new TrainingDataError(`y[${i}] is ${describeValue(v)}; regression targets must be finite numbers`, { row: i });
    }
    target[i] = v;
  }
  return target;
}

export function classWeights(p: ForestParams, classes: Label[], classIndex: Int32Array, shared: boolean): Float64Array | null {
  if (p.classWeight === null) return null;
  const weights = newFloat64(classes.length, shared);
  if (p.classWeight === 'balanced') {
    // scikit-learn's "balanced": n / (k · count of the class).
    const counts = new Float64Array(classes.length);
    for (let i = 0; i < classIndex.length; i++) counts[classIndex[i]]++;
    for (let c = 0; c < classes.length; c++) weights[c] = classIndex.length / (classes.length * counts[c]);
    return weights;
  }
  const map = p.classWeight;
  for (const key of Object.keys(map)) {
    if (!classes.some((c) => String(c) === key)) {
      throw new TrainingDataError(`classWeight names class ${JSON.stringify(key)}, which is not in y; the classes are ${classes.map(String).join(', ')}`);
    }
  }
  for (let c = 0; c < classes.length; c++) weights[c] = map[String(classes[c])] ?? 1;
  return weights;
}
