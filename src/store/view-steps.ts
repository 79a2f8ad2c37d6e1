// A feature view's steps (features.yaml `views.V.features`), applied to a table of the view's rows: the one function
// both sides call — the offline join on the partitions it reads, `bramble materialize` before it writes the online
// store — so that a training row and a served row hold the same values.
// Decisions:
// - Only stateless steps (spec.ts refuses the rest): `impute` with `{ constant }`, `derive`, `drop`. They read and
//   write whole columns, in order, as ml.yaml's steps do: a derive may overwrite a column (it keeps its place) or
//   add one at the end; later derives read earlier ones.
// - A derive reads and gives values as ml.yaml's derive does (src/features/program.ts): numbers and booleans as
//   numbers (NaN missing), dates as UTC milliseconds, text as text or null; the same compiled expression
//   (compileExpression). Its column is text when any row gives text, else numbers; Infinity is missing.
// - A table of no rows gives the same columns (a derive of no rows is numbers).
import { type CodedColumn, type Column, type Table } from '../data/table.js';
import { compileExpression, parseExpression, type Value } from '../features/expression.js';
import { derivedNumber, derivedText } from '../features/inputs.js';
import type { FeatureStep } from '../features/transforms.js';
import { FeatureStepError } from '../features/feature-errors.js';

/** The steps as features.yaml holds them for one view; `where` names the view in messages (`views.billing`). */
export interface ViewSteps {
  readonly name: string;
  readonly steps: readonly FeatureStep[];
}

/** The table after the view's steps: the same rows, the columns the steps leave. */
export function applyViewSteps(view: ViewSteps, table: Table): Table {
  let columns: Column[] = [...table.columns];
  view.steps.forEach((step, i) => {
    const where = `views.${view.name}.features[${i}]`;
    if ('drop' in step) {
      const gone = new Set(step.drop);
      for (const name of step.drop) requireColumn(columns, name, where);
      columns = columns.filter((c) => !gone.has(c.name));
    } else if ('impute' in step) {
      for (const [name, rule] of Object.entries(step.impute)) {
        if (typeof rule !== 'object') throw new FeatureStepError(`${where}.impute.${name}: a view imputes only with { constant: … }; ${JSON.stringify(rule)} is fitted on training data (put it in ml.yaml)`);
        columns = replaced(columns, imputeConstant(requireColumn(columns, name, where), rule.constant, `${where}.impute.${name}`));
      }
    } else if ('derive' in step) {
      for (const [name, expression] of Object.entries(step.derive)) {
        columns = replaced(columns, deriveColumn(columns, table.rows, name, expression, `${where}.derive.${name}`));
      }
    } else {
      throw new FeatureStepError(`${where}: a ${Object.keys(step)[0]} step is fitted on training data; a view's steps are derive, drop and impute with { constant: … }`);
    }
  });
  return { rows: table.rows, columns, lines: table.lines };
}

/** A view's features after its steps: the stepped table's columns but the keys and the time columns, in order. */
export function viewFeatureColumns(view: ViewSteps & { readonly keys: readonly string[]; readonly eventTime: string; readonly createdTime?: string }, stepped: Table): Column[] {
  const special = new Set([...view.keys, view.eventTime, ...(view.createdTime === undefined ? [] : [view.createdTime])]);
  return stepped.columns.filter((c) => !special.has(c.name));
}

function requireColumn(columns: readonly Column[], name: string, where: string): Column {
  const found = columns.find((c) => c.name === name);
  if (!found) throw new FeatureStepError(`${where}: no column ${JSON.stringify(name)} in the view (it has ${columns.map((c) => c.name).join(', ')})`, { column: name });
  return found;
}

/** The columns with `column` in place of the one of its name, or added at the end. */
function replaced(columns: readonly Column[], column: Column): Column[] {
  const at = columns.findIndex((c) => c.name === column.name);
  if (at === -1) return [...columns, column];
  const out = [...columns];
  out[at] = column;
  return out;
}

function isCoded(column: Column): column is CodedColumn {
  return column.kind === 'category' || column.kind === 'string';
}

function imputeConstant(column: Column, constant: string | number | boolean, where: string): Column {
  if (isCoded(column)) {
    const text = String(constant);
    const categories = [...column.values.categories];
    let code = categories.indexOf(text);
    if (code === -1) code = categories.push(text) - 1;
    const codes = Int32Array.from(column.values.codes, (c) => (c === -1 ? code : c));
    return { name: column.name, kind: column.kind, values: { codes, categories } };
  }
  if (typeof constant === 'string') throw new FeatureStepError(`${where}: the constant ${JSON.stringify(constant)} is text but ${JSON.stringify(column.name)} holds ${column.kind === 'date' ? 'dates' : 'numbers'}; give a number`, { column: column.name });
  const fill = typeof constant === 'boolean' ? (constant ? 1 : 0) : constant;
  const values = Float64Array.from(column.values, (v) => (Number.isNaN(v) ? fill : v));
  return { name: column.name, kind: column.kind, values } as Column;
}

/** How an expression reads a column at a row, as ml.yaml's derive reads a slot. */
function reader(column: Column): (row: number) => Value {
  if (isCoded(column)) {
    const { codes, categories } = column.values;
    return (row) => (codes[row] === -1 ? null : categories[codes[row]]);
  }
  const values = column.values;
  return (row) => values[row];
}

function deriveColumn(columns: readonly Column[], rows: number, name: string, expression: string, where: string): Column {
  const parsed = parseExpression(expression, where);
  const readers = new Map<string, (row: number) => Value>();
  for (const field of parsed.columns) readers.set(field, reader(requireColumn(columns, field, where)));
  const evaluate = compileExpression(parsed);
  let row = 0;
  const get = (field: string): Value => (readers.get(field) as (row: number) => Value)(row);
  const raw: Value[] = new Array(rows);
  let text = false;
  for (row = 0; row < rows; row++) {
    const v = evaluate(get);
    raw[row] = v;
    if (typeof v === 'string') text = true;
  }
  if (!text) {
    const values = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const n = derivedNumber(raw[r]);
      values[r] = Number.isFinite(n) ? n : NaN;
    }
    return { name, kind: 'number', values };
  }
  const categories: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const v = derivedText(raw[r]);
    if (v === null) {
      codes[r] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = categories.push(v) - 1;
      index.set(v, code);
    }
    codes[r] = code;
  }
  const column: CodedColumn = { name, kind: 'string', values: { codes, categories } };
  return column;
}
