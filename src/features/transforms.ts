// The feature steps of ml.yaml, fitted on the training rows, saved in the model artifact and applied the same way to
// a whole table (training, evaluation) and to one served row.
//
// Parity by construction: fitting compiles the steps into a list of row operations over numbered slots (each slot
// holds one intermediate column: numbers, dates or text). The batch path and the row path differ only in where a
// row's input values come from — a table column or a record field — and both turn them into slot form through the
// same `readInput`; after that, both run the very same operations on the very same slot layout, so the numbers
// agree to the bit. Fitting applies each fitted step through those same operations before fitting the next one, so
// a step fitted after an impute sees exactly the imputed values that serving will see.
//
// Decisions:
// - Missing numbers are NaN throughout (the forest routes NaN); missing text is code −1. A missing value in a one-hot
//   column gives NaN in all its 0/1 columns, as src/data/encode.ts does; a value not seen in training gives all
//   zeros and is counted (`unseenCounts`). An ordinal column gives the value's index among the sorted training
//   categories; missing and unseen give NaN (unseen counted the same way), which the forest routes as missing.
// - Text slots hold codes into a word list that belongs to the state (Int32 per row, not a string per row), so a
//   million-row table costs a flat array per text column, and onehot and ordinal look a word up once per distinct
//   word rather than once per row. The batch path adopts a table column's own categories as the word list; the row
//   path interns the record's text. Words are distinct within a list, so counting by code is counting by text.
// - Dates are instants (UTC milliseconds, NaN missing) in a slot of their own kind, stored like numbers. A date is
//   never a feature by itself: a date column that is still a date after the steps is left out of the outputs, with
//   no error, while `derive` can read it (`d => op.month(d.signup)`). Served records give ISO 8601 text or epoch
//   milliseconds.
// - A text column that is still text after the steps and was not encoded is an error at fit time naming the
//   column (add it to onehot or ordinal, or drop it), rather than silently encoded as codes: first-seen codes would
//   depend on row order, and a label unseen in training would have no code at serving time.
// - One-hot and ordinal categories are sorted (UTF-16 order), so that the feature layout does not depend on row order.
// - `derive` may overwrite a column that exists (as arquero's derive does); the new column keeps its place. A new
//   name is added at the end. Later columns of one derive step can read earlier ones.
// - Saved features are version 1 unless they use a date input or an ordinal step, which make them version 2: a model
//   without either stays byte for byte what it was, and an older Bramble refuses a version 2 model by its version
//   instead of calling it damaged.
import { findColumn, missingColumnError, type Table } from '../data/table.js';
import { REPO_LAYOUT } from '../repo-layout.js';
import { FeatureInputError, FeaturesFormatError, FeatureStepError } from './feature-errors.js';
import {
  checkRole,
  dateColumn,
  fitDerive,
  fitImpute,
  noValues,
  numbers,
  sortedCategories,
  sum,
  textColumn,
  unknownColumn,
  type FitContext,
} from './fit-steps.js';
import { inputProblem, readInput } from './inputs.js';
import { intern, Program, slotFiller, type State } from './program.js';

/** A rule of an impute step, as ml.yaml writes it. */
export type ImputeRule = 'mean' | 'median' | 'mode' | { constant: string | number | boolean };

/** One step of ml.yaml's `features` list, as written there: ml.yaml's config (src/config) is typed with it. */
export type FeatureStep =
  | { impute: Record<string, ImputeRule> }
  | { onehot: string[] }
  | { ordinal: string[] }
  | { standardize: string[] }
  | { minmax: string[] }
  | { bucketize: Record<string, number[]> }
  | { derive: Record<string, string> }
  | { drop: string[] };

export const FEATURES_FORMAT = { name: 'bramble-features', version: 2, versions: [1, 2] } as const;

/** A slot holds numbers (Float64, NaN missing), dates (UTC milliseconds in a Float64, NaN missing) or text. */
export type SlotKind = 'number' | 'date' | 'text';

export interface FeatureInput {
  readonly name: string;
  readonly kind: SlotKind;
  /** Texts read as missing in this input besides the built-in markers (ml.yaml's data.missing and the column's). */
  readonly missing?: readonly string[];
}

/** One fitted operation on one column; a step of ml.yaml that names several columns becomes several of these. */
export type FittedStep =
  | { kind: 'impute'; step: number; column: string; rule: 'mean' | 'median' | 'mode' | 'constant'; value: number | string }
  | { kind: 'onehot'; step: number; column: string; categories: string[] }
  | { kind: 'ordinal'; step: number; column: string; categories: string[] }
  | { kind: 'standardize'; step: number; column: string; mean: number; std: number }
  | { kind: 'minmax'; step: number; column: string; min: number; max: number }
  | { kind: 'bucketize'; step: number; column: string; edges: number[] }
  | { kind: 'derive'; step: number; column: string; expression: string; type: 'number' | 'text' }
  | { kind: 'drop'; step: number; column: string };

export interface FeaturesJSON {
  format: typeof FEATURES_FORMAT.name;
  /** 1, or 2 when an input is a date or a step is ordinal. */
  version: number;
  /** Never features; kept so that a served record that carries them is understood. */
  target: string;
  id: string | null;
  /** The columns read from a row, and how. */
  inputs: FeatureInput[];
  steps: FittedStep[];
  /** The model's feature names, in matrix column order. */
  outputs: string[];
}

export interface FitOptions {
  /** The target column (data.target); never a feature. */
  readonly target: string;
  /** The id column (data.id); never a feature. */
  readonly id?: string;
  /** The training rows to fit on (indices into the table); all rows when left out. */
  readonly rows?: ArrayLike<number>;
  /**
   * ml.yaml's extra missing markers (data.missing, and schema.columns.X.missing per column): saved with the inputs,
   * so that a served "." means what it meant in the training file.
   */
  readonly missing?: { readonly all?: readonly string[]; readonly columns?: Readonly<Record<string, readonly string[] | undefined>> };
}

export interface FeatureMatrix {
  readonly names: string[];
  readonly rows: number;
  /** Row-major, rows × names.length; NaN is missing. */
  readonly matrix: Float64Array;
}

// ---------------------------------------------------------------------------------------------------------------
// Fitted features

/** When the row path's word lists grow past this, they start over, so a long-running server's memory stays flat. */
const ROW_WORDS_LIMIT = 4096;

export class FittedFeatures {
  readonly names: readonly string[];
  private readonly outputSlots: Int32Array;
  private readonly rowState: State;
  private readonly textSlots: Int32Array;
  /** Per input, the extra texts read as missing when serving (undefined: the built-in markers only). */
  private readonly markers: (ReadonlySet<string> | undefined)[];

  private constructor(
    private readonly program: Program,
    private readonly steps: readonly FittedStep[],
    readonly target: string,
    readonly id: string | null,
  ) {
    const leftover = program.live.find((c) => program.slots[c.slot] === 'text');
    if (leftover !== undefined) {
      throw new FeatureStepError(
        `features: column ${JSON.stringify(leftover.name)} holds text and no step turns it into numbers, so the model cannot read it; add it to an onehot step (one 0/1 column per category) or an ordinal step (one column of category codes, for many categories), or remove it with a drop step`,
        { column: leftover.name },
      );
    }
    // A date is read by derive but is not a feature by itself.
    const outputs = program.live.filter((c) => program.slots[c.slot] === 'number');
    if (outputs.length === 0) {
      const dropped = steps.filter((s) => s.kind === 'drop').map((s) => s.column);
      throw new FeatureStepError(
        `features: no input column is left for the model${dropped.length > 0 ? ` (drop removes ${dropped.slice(0, 10).join(', ')}${dropped.length > 10 ? ', …' : ''})` : ''}; keep at least one column besides the target and the id`,
        { dropped },
      );
    }
    this.names = outputs.map((c) => c.name);
    this.outputSlots = Int32Array.from(outputs, (c) => c.slot);
    this.rowState = program.newState(1);
    this.textSlots = Int32Array.from(program.slots.flatMap((k, slot) => (k === 'text' ? [slot] : [])));
    this.markers = program.inputs.map((i) => (i.missing && i.missing.length > 0 ? new Set(i.missing) : undefined));
  }

  /** @internal Fitting and loading build through here. */
  static build(program: Program, steps: readonly FittedStep[], target: string, id: string | null): FittedFeatures {
    return new FittedFeatures(program, steps, target, id);
  }

  /** The input columns a row must carry (missing values allowed), with how each is read. */
  get inputs(): readonly FeatureInput[] {
    return this.program.inputs;
  }

  get width(): number {
    return this.names.length;
  }

  /** The batch path: every row of `table` (or the listed rows) as a row-major matrix in `names` order. */
  transform(table: Table, rows?: ArrayLike<number>): FeatureMatrix {
    const program = this.program;
    const count = rows === undefined ? table.rows : rows.length;
    const columns = program.inputs.map((input) => {
      const column = findColumn(table, input.name);
      if (column === undefined) throw missingColumnError(input.name, table.columns.map((c) => c.name), 'the data', ', which the model reads');
      return column;
    });
    const width = this.names.length;
    const matrix = new Float64Array(count * width);
    // Chunks bound the intermediate columns' memory on large tables; each row is still computed on its own.
    const chunk = Math.min(count, 4096);
    const state = program.newState(Math.max(chunk, 1));
    const fillers = columns.map((column, c) =>
      slotFiller(state, c, program.inputs[c].kind, column, rows, (source) => `the data (line ${table.lines[source] ?? source + 1}) column ${JSON.stringify(column.name)}`),
    );
    const outputs = this.outputSlots;
    for (let start = 0; start < count; start += chunk) {
      const end = Math.min(count, start + chunk);
      const n = end - start;
      for (const fill of fillers) fill(start, end);
      program.runRows(state, n);
      for (let j = 0; j < width; j++) {
        const values = state.num[outputs[j]];
        for (let r = 0, at = start * width + j; r < n; r++, at += width) matrix[at] = values[r];
      }
    }
    return { names: [...this.names], rows: count, matrix };
  }

  /** The serving path: one record's features into `out` (length `width`), with exactly the batch path's numbers. */
  transformRow(record: Readonly<Record<string, unknown>>, out: Float64Array): Float64Array {
    if (out.length !== this.names.length) {
      throw new FeatureInputError(`transformRow needs an output array of ${this.names.length} values (one per feature), got ${out.length}`, { width: this.names.length, got: out.length });
    }
    const program = this.program;
    const state = this.rowState;
    for (const slot of this.textSlots) {
      if (state.words[slot].length > ROW_WORDS_LIMIT) {
        state.words[slot] = [];
        state.lookup[slot] = null;
      }
    }
    const inputs = program.inputs;
    for (let c = 0; c < inputs.length; c++) {
      const input = inputs[c];
      // Own fields only: a record parsed from JSON must not reach Object.prototype through a column name.
      const raw = Object.hasOwn(record, input.name) ? record[input.name] : undefined;
      const value = readInput(input.kind, raw, this.markers[c]);
      if (value === undefined) throw new FeatureInputError(`the row's field ${JSON.stringify(input.name)} ${inputProblem(input.kind, raw)}`, { column: input.name });
      if (input.kind === 'text') state.codes[c][0] = value === null ? -1 : intern(state, c, value as string);
      else state.num[c][0] = value as number;
    }
    program.runRows(state, 1);
    for (let j = 0; j < out.length; j++) out[j] = state.num[this.outputSlots[j]][0];
    return out;
  }

  /** Per one-hot or ordinal column, how many values not seen in training have been encoded since loading. */
  unseenCounts(): Record<string, number> {
    return Object.fromEntries(this.program.unseen);
  }

  resetUnseenCounts(): void {
    for (const name of this.program.unseen.keys()) this.program.unseen.set(name, 0);
  }

  toJSON(): FeaturesJSON {
    const inputs = this.program.inputs.map((i): FeatureInput => (i.missing ? { name: i.name, kind: i.kind, missing: [...i.missing] } : { name: i.name, kind: i.kind }));
    const steps = this.steps.map(copyStep);
    // Version 2 only when it is needed: a model without dates, ordinal steps or missing markers is saved as it
    // always was (an older Bramble would ignore the markers, and read "." differently from training).
    const needs2 = inputs.some((i) => i.kind === 'date' || i.missing !== undefined) || steps.some((s) => s.kind === 'ordinal');
    return {
      format: FEATURES_FORMAT.name,
      version: needs2 ? 2 : 1,
      target: this.target,
      id: this.id,
      inputs,
      steps,
      outputs: [...this.names],
    };
  }

  static fromJSON(json: unknown): FittedFeatures {
    const data = checkJson(json);
    const program = new Program(data.inputs);
    data.steps.forEach((step) => program.add(step, stepPath(step.step, step.kind, step.column)));
    const features = new FittedFeatures(program, data.steps, data.target, data.id);
    if (features.names.length !== data.outputs.length || features.names.some((n, i) => n !== data.outputs[i])) {
      throw new FeaturesFormatError(`the saved features list outputs ${data.outputs.join(', ')} but their steps give ${features.names.join(', ')}; the model file is damaged`);
    }
    return features;
  }
}

function copyStep(step: FittedStep): FittedStep {
  if (step.kind === 'onehot' || step.kind === 'ordinal') return { ...step, categories: [...step.categories] };
  if (step.kind === 'bucketize') return { ...step, edges: [...step.edges] };
  return { ...step };
}

// ---------------------------------------------------------------------------------------------------------------
// Fitting

/** ml.yaml's path to a step's entry, as its loader prints it: `features[0].impute.TotalCharges`. */
function stepPath(step: number, kind: string, column: string): string {
  const key = /^[A-Za-z_][\w-]*$/.test(column) ? `.${column}` : `[${JSON.stringify(column)}]`;
  return `features[${step}].${kind}${key}`;
}

const STEP_KINDS = 'impute, onehot, ordinal, standardize, minmax, bucketize, derive and drop';

/**
 * Fits the feature steps on the training rows of `table` (all rows unless `options.rows` lists them). The target
 * and id columns are never inputs. Throws a FeatureStepError naming the step and column when a step does not fit
 * the data, and a FeatureExpressionError for a derive expression outside the allowed form.
 */
export function fitFeatures(steps: readonly FeatureStep[], table: Table, options: FitOptions): FittedFeatures {
  const { target } = options;
  const id = options.id ?? null;
  const columns = table.columns.filter((c) => c.name !== target && c.name !== id);
  const inputs: FeatureInput[] = columns.map((c) => {
    const input: FeatureInput = { name: c.name, kind: c.kind === 'number' || c.kind === 'boolean' ? 'number' : c.kind === 'date' ? 'date' : 'text' };
    const markers = [...new Set([...(options.missing?.all ?? []), ...(options.missing?.columns?.[c.name] ?? [])])].sort();
    // Only when there are any: a model without markers keeps the bytes it always had.
    return markers.length > 0 ? { ...input, missing: markers } : input;
  });
  const program = new Program(inputs);
  const rows = options.rows;
  const count = rows === undefined ? table.rows : rows.length;
  // Only the inputs a step reads are copied out of the table, when it first reads them: in a wide table most columns
  // go to the model as they are, and copying every one for fitting would double the table's memory for nothing.
  const state = program.newState(count, inputs.length);
  const filled = new Uint8Array(inputs.length);
  const materialize = (slot: number): void => {
    if (slot >= inputs.length || filled[slot] === 1) return;
    filled[slot] = 1;
    if (inputs[slot].kind === 'text') state.codes[slot] = new Int32Array(count);
    else state.num[slot] = new Float64Array(count);
    const column = columns[slot];
    // The table's own cells are of their slot's kind, so nothing here can fail; the line is for form's sake.
    slotFiller(state, slot, inputs[slot].kind, column, rows, (source) => `the data (line ${table.lines[source] ?? source + 1}) column ${JSON.stringify(column.name)}`)(0, count);
  };

  const fitted: FittedStep[] = [];
  const apply = (step: FittedStep, where: string): void => {
    const op = program.add(step, where);
    fitted.push(step);
    program.extend(state);
    if (op !== null) for (let r = 0; r < state.rows; r++) op(state, r);
  };

  steps.forEach((step, i) => {
    const [kind, body] = Object.entries(step)[0] as [string, unknown];
    const entries: [string, unknown][] = Array.isArray(body)
      ? body.map((column: unknown, j) => [String(column), j])
      : Object.entries(body as Record<string, unknown>);
    for (const [column, rule] of entries) {
      // Fitting has lost ml.yaml's line numbers, so the place is the file and the path, as the loader writes it.
      const where = `${REPO_LAYOUT.mlYaml} ${Array.isArray(body) ? `features[${i}].${kind}[${String(rule)}]` : stepPath(i, kind, column)}`;
      const context: FitContext = { program, state, where, target, id, step: i, materialize };
      if (kind === 'derive') {
        apply(fitDerive(context, column, String(rule)), where);
        continue;
      }
      checkRole(context, column);
      const live = program.find(column);
      if (live === undefined) throw unknownColumn(context, column);
      if (kind !== 'drop') materialize(live.slot);
      const slotKind = program.slots[live.slot];
      if (slotKind === 'date' && kind !== 'drop') throw dateColumn(context, column, kind);
      const values = slotKind === 'number' ? state.num[live.slot] : null;
      const text = slotKind === 'text' ? live.slot : -1;
      switch (kind) {
        case 'impute':
          apply(fitImpute(context, column, rule as ImputeRule, values, text), where);
          break;
        case 'onehot': {
          if (text < 0) throw new FeatureStepError(`${where}: ${JSON.stringify(column)} holds numbers; onehot takes text (category) columns — to group numbers, use bucketize`, { column });
          const categories = sortedCategories(state, text);
          if (categories.length === 0) throw noValues(context, column, 'its categories');
          for (const c of categories) {
            const name = `${column}=${c}`;
            if (program.find(name) !== undefined) throw new FeatureStepError(`${where}: one-hot encoding ${JSON.stringify(column)} would add ${JSON.stringify(name)}, which is already a column; rename that column with derive, or drop it`, { column });
          }
          apply({ kind: 'onehot', step: i, column, categories }, where);
          break;
        }
        case 'ordinal': {
          if (text < 0) throw new FeatureStepError(`${where}: ${JSON.stringify(column)} holds numbers; ordinal takes text (category) columns — a number column is ordered already, so use it as it is (or bucketize it)`, { column });
          const categories = sortedCategories(state, text);
          if (categories.length === 0) throw noValues(context, column, 'its categories');
          apply({ kind: 'ordinal', step: i, column, categories }, where);
          break;
        }
        case 'standardize': {
          const present = numbers(context, column, values, 'standardize');
          const mean = sum(present) / present.length;
          let squares = 0;
          for (const x of present) squares += (x - mean) * (x - mean);
          apply({ kind: 'standardize', step: i, column, mean, std: Math.sqrt(squares / present.length) }, where);
          break;
        }
        case 'minmax': {
          const present = numbers(context, column, values, 'minmax');
          let min = Infinity;
          let max = -Infinity;
          for (const x of present) {
            if (x < min) min = x;
            if (x > max) max = x;
          }
          apply({ kind: 'minmax', step: i, column, min, max }, where);
          break;
        }
        case 'bucketize': {
          if (values === null) throw textColumn(context, column, 'bucketize');
          const edges = rule as number[];
          for (let k = 1; k < edges.length; k++) {
            if (!(edges[k] > edges[k - 1])) throw new FeatureStepError(`${where}: bucket edges must increase (${edges[k]} is not above ${edges[k - 1]})`, { column, edges });
          }
          apply({ kind: 'bucketize', step: i, column, edges: [...edges] }, where);
          break;
        }
        case 'drop':
          apply({ kind: 'drop', step: i, column }, where);
          break;
        default:
          throw new FeatureStepError(`${REPO_LAYOUT.mlYaml} features[${i}]: unknown step ${JSON.stringify(kind)}; the steps are ${STEP_KINDS}`, { kind });
      }
    }
  });
  return FittedFeatures.build(program, fitted, target, id);
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

function checkJson(json: unknown): FeaturesJSON {
  if (typeof json !== 'object' || json === null) throw new FeaturesFormatError(`saved features must be an object with format "${FEATURES_FORMAT.name}", got ${json === null ? 'null' : typeof json}`);
  const o = json as Record<string, unknown>;
  if (o.format !== FEATURES_FORMAT.name) {
    throw new FeaturesFormatError(`saved features have format ${JSON.stringify(o.format)}; expected "${FEATURES_FORMAT.name}"`, { format: o.format });
  }
  if (!(FEATURES_FORMAT.versions as readonly unknown[]).includes(o.version)) {
    throw new FeaturesFormatError(`saved features are version ${JSON.stringify(o.version)}; this Bramble reads versions ${FEATURES_FORMAT.versions.join(' and ')} — retrain the model or use a matching Bramble`, { version: o.version });
  }
  const bad = (field: string): never => {
    throw new FeaturesFormatError(`saved features: ${field} is missing or malformed; the model file is damaged`, { field });
  };
  if (typeof o.target !== 'string') bad('target');
  if (o.id !== null && typeof o.id !== 'string') bad('id');
  const isString = (v: unknown): v is string => typeof v === 'string';
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const markersOk = (m: unknown): boolean => m === undefined || (Array.isArray(m) && m.every(isString));
  if (!Array.isArray(o.inputs) || !o.inputs.every((i: unknown) => typeof i === 'object' && i !== null && isString((i as FeatureInput).name) && ['number', 'date', 'text'].includes((i as FeatureInput).kind) && markersOk((i as FeatureInput).missing))) bad('inputs');
  if (!Array.isArray(o.outputs) || !o.outputs.every(isString)) bad('outputs');
  if (!Array.isArray(o.steps)) bad('steps');
  (o.steps as unknown[]).forEach((raw, k) => {
    if (typeof raw !== 'object' || raw === null) return bad(`steps[${k}]`);
    const s = raw as Record<string, unknown>;
    if (!isString(s.column) || !Number.isInteger(s.step)) return bad(`steps[${k}]`);
    const ok =
      s.kind === 'impute' ? ['mean', 'median', 'mode', 'constant'].includes(String(s.rule)) && (isNumber(s.value) || isString(s.value))
      : s.kind === 'onehot' ? Array.isArray(s.categories) && s.categories.every(isString)
      // An ordinal code is a position in this list, so it must be the sorted, distinct list fitting made.
      : s.kind === 'ordinal' ? Array.isArray(s.categories) && s.categories.every((c, j, all) => isString(c) && (j === 0 || all[j - 1] < c))
      : s.kind === 'standardize' ? isNumber(s.mean) && isNumber(s.std)
      : s.kind === 'minmax' ? isNumber(s.min) && isNumber(s.max)
      : s.kind === 'bucketize' ? Array.isArray(s.edges) && s.edges.every(isNumber)
      : s.kind === 'derive' ? isString(s.expression) && (s.type === 'number' || s.type === 'text')
      : s.kind === 'drop';
    if (!ok) bad(`steps[${k}] (${String(s.kind)})`);
  });
  return o as unknown as FeaturesJSON;
}
