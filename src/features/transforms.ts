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
import { errorClass, nearest } from '../errors.js';
import { MISSING_TEXT } from '../data/load-options.js';
import { cellValue, findColumn, missingColumnError, parseInstant, type Column, type Table } from '../data/table.js';
import { ML_YAML, type FeatureStep, type ImputeRule } from '../config/ml-yaml.js';
import { compileExpression, parseExpression, toNumber, type Evaluate, type Value } from './expression.js';

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

/** A feature step that cannot be fitted to this data: an unknown column, a wrong kind, no values to learn from. */
export class FeatureStepError extends errorClass('E_FEATURE_STEP') {}

/** A row or table that does not fit the fitted features: a missing column, text where a number belongs. */
export class FeatureInputError extends errorClass('E_FEATURE_INPUT') {}

/** Saved features that are not in this format or version, or are damaged. */
export class FeaturesFormatError extends errorClass('E_FEATURES_FORMAT') {}

// ---------------------------------------------------------------------------------------------------------------
// Input values: the one door through which both table cells and record fields come in.

const MISSING = new Set(MISSING_TEXT);

function isMissingText(s: string): boolean {
  return MISSING.has(s) || s.trim() === '';
}

/** What a date input accepts, for messages. */
export const DATE_INPUT = 'ISO 8601 text such as 2024-03-01 or 2024-03-01T12:30:00Z (UTC unless it gives an offset), or milliseconds since 1970 UTC';

/**
 * One input value as its slot stores it, or undefined when it cannot be read as that kind. Text uses the loader's
 * missing markers, so that "NA" in a served record means what it means in a CSV.
 */
function readInput(kind: SlotKind, raw: unknown, markers?: ReadonlySet<string>): number | string | null | undefined {
  if (typeof raw === 'string' && markers !== undefined && markers.has(raw)) return kind === 'text' ? null : NaN;
  if (kind === 'number') {
    if (typeof raw === 'number') return raw;
    if (raw === null || raw === undefined) return NaN;
    if (typeof raw === 'boolean') return raw ? 1 : 0;
    if (typeof raw === 'string') {
      if (isMissingText(raw)) return NaN;
      const n = Number(raw.trim());
      return Number.isNaN(n) ? undefined : n;
    }
    return undefined;
  }
  if (kind === 'date') {
    // An instant beyond what a Date holds (±8.64e15 ms) is not a date; NaN is a missing one.
    if (typeof raw === 'number') return Number.isNaN(raw) || Math.abs(raw) <= 864e13 ? raw : undefined;
    if (raw === null || raw === undefined) return NaN;
    if (typeof raw === 'string') {
      if (isMissingText(raw)) return NaN;
      // The loader's parser: a served date reads exactly as the same text in a training file.
      const t = parseInstant(raw);
      return Number.isNaN(t) ? undefined : t;
    }
    return undefined;
  }
  if (typeof raw === 'string') return isMissingText(raw) ? null : raw;
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'number') return Number.isNaN(raw) ? null : String(raw);
  if (typeof raw === 'boolean') return String(raw);
  return undefined;
}

/** A served record's date field as an instant, or undefined when it is not one (null and "" are missing: NaN). */
export function readDateInput(raw: unknown): number | undefined {
  const v = readInput('date', raw);
  return typeof v === 'number' ? v : undefined;
}

/** A derived value in a number slot: text (which a numeric derive should not give) reads as missing. */
function derivedNumber(v: Value): number {
  return typeof v === 'string' ? NaN : toNumber(v);
}

function derivedText(v: Value): string | null {
  if (v === null || (typeof v === 'number' && Number.isNaN(v))) return null;
  return typeof v === 'string' ? v : String(v);
}

function inputProblem(kind: SlotKind, raw: unknown): string {
  const shown = typeof raw === 'string' ? JSON.stringify(raw) : typeof raw === 'object' ? 'an object' : String(raw);
  const fix = kind === 'number' ? 'give a number, or null when missing' : kind === 'date' ? `give ${DATE_INPUT}, or null when missing` : 'give text, or null when missing';
  return `is ${shown}; ${fix}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The program: slots and row operations.

/**
 * Intermediate columns by slot, each `rows` long. Number and date slots use `num`; text slots use `codes` (−1 is
 * missing) into `words`, the slot's distinct texts, with `lookup` (built when first needed) from text to code.
 * The arrays of a slot of the other kind are empty.
 */
interface State {
  readonly rows: number;
  readonly num: Float64Array[];
  readonly codes: Int32Array[];
  readonly words: string[][];
  readonly lookup: (Map<string, number> | null)[];
}

type RowOp = (state: State, row: number) => void;

interface LiveColumn {
  readonly name: string;
  readonly slot: number;
}

const NO_NUMBERS = new Float64Array(0);
const NO_CODES = new Int32Array(0);

/** The code of `text` in a text slot's word list, added when new. */
function intern(state: State, slot: number, text: string): number {
  const words = state.words[slot];
  let lookup = state.lookup[slot];
  if (lookup === null) {
    lookup = new Map();
    for (let k = 0; k < words.length; k++) lookup.set(words[k], k);
    state.lookup[slot] = lookup;
  }
  let code = lookup.get(text);
  if (code === undefined) {
    code = words.length;
    words.push(text);
    lookup.set(text, code);
  }
  return code;
}

function textAt(state: State, slot: number, row: number): string | null {
  const code = state.codes[slot][row];
  return code < 0 ? null : state.words[slot][code];
}

/**
 * A word list's codes mapped through `index` (text → category position, −1 when absent), each code looked up the
 * first time a row carries it: a lookup per distinct word, not per row, and none for words no row uses. Word lists
 * only grow; a state that starts over gets a new list, which this notices by identity.
 */
function categoryMapper(index: ReadonlyMap<string, number>): (state: State, slot: number, code: number) => number {
  const UNKNOWN = -2;
  let seen: string[] | null = null;
  let map = new Int32Array(0);
  return (state, slot, code) => {
    const words = state.words[slot];
    if (words !== seen) {
      seen = words;
      map = new Int32Array(Math.max(16, words.length)).fill(UNKNOWN);
    }
    if (code >= map.length) {
      const grown = new Int32Array(Math.max(words.length, map.length * 2)).fill(UNKNOWN);
      grown.set(map);
      map = grown;
    }
    let j = map[code];
    if (j === UNKNOWN) {
      j = index.get(words[code]) ?? -1;
      map[code] = j;
    }
    return j;
  };
}

/** Builds the slot layout and row operations from fitted steps; fitting and fromJSON both go through `add`. */
class Program {
  readonly slots: SlotKind[];
  readonly ops: RowOp[] = [];
  live: LiveColumn[];
  readonly unseen = new Map<string, number>();

  constructor(readonly inputs: readonly FeatureInput[]) {
    this.slots = inputs.map((i) => i.kind);
    this.live = inputs.map((input, slot) => ({ name: input.name, slot }));
  }

  find(name: string): LiveColumn | undefined {
    return this.live.find((c) => c.name === name);
  }

  private newSlot(kind: SlotKind): number {
    this.slots.push(kind);
    return this.slots.length - 1;
  }

  /** Puts `columns` where `name` was, or at the end; no spread, since a one-hot column can have very many labels. */
  private replace(name: string, columns: LiveColumn[]): void {
    const at = this.live.findIndex((c) => c.name === name);
    this.live = at < 0 ? this.live.concat(columns) : this.live.slice(0, at).concat(columns, this.live.slice(at + 1));
  }

  private countUnseen(name: string): void {
    this.unseen.set(name, (this.unseen.get(name) ?? 0) + 1);
  }

  /**
   * Adds one fitted step and returns its row operation (null for drop). Fitting has checked the step against the
   * data already; the checks here catch a damaged saved file in fromJSON.
   */
  add(step: FittedStep, where: string): RowOp | null {
    if (step.kind === 'derive') return this.addDerive(step, where);
    const column = this.find(step.column);
    if (column === undefined) throw new FeaturesFormatError(`${where}: the saved features read ${JSON.stringify(step.column)}, which no earlier step provides; the model file is damaged`);
    const slot = column.slot;
    const kind = this.slots[slot];
    const needs: SlotKind =
      step.kind === 'onehot' || step.kind === 'ordinal' ? 'text'
      : step.kind === 'impute' ? (typeof step.value === 'number' ? 'number' : 'text')
      : step.kind === 'drop' ? kind
      : 'number';
    if (kind !== needs) throw new FeaturesFormatError(`${where}: the saved ${step.kind} step expects ${needs} in ${JSON.stringify(step.column)} but it holds ${kind}; the model file is damaged`);
    let op: RowOp | null = null;
    switch (step.kind) {
      case 'impute': {
        const value = step.value;
        if (typeof value === 'number') {
          op = (s, r) => { const a = s.num[slot]; if (Number.isNaN(a[r])) a[r] = value; };
          break;
        }
        // The value's code, looked up once per word list rather than once per missing cell.
        let words: string[] | null = null;
        let code = -1;
        op = (s, r) => {
          const a = s.codes[slot];
          if (a[r] >= 0) return;
          if (s.words[slot] !== words) {
            code = intern(s, slot, value);
            words = s.words[slot];
          }
          a[r] = code;
        };
        break;
      }
      case 'onehot': {
        const name = step.column;
        const categoryOf = categoryMapper(new Map(step.categories.map((c, j) => [c, j] as const)));
        const outs = Int32Array.from(step.categories, () => this.newSlot('number'));
        this.unseen.set(name, 0);
        op = (s, r) => {
          const code = s.codes[slot][r];
          if (code < 0) {
            for (let k = 0; k < outs.length; k++) s.num[outs[k]][r] = NaN;
            return;
          }
          for (let k = 0; k < outs.length; k++) s.num[outs[k]][r] = 0;
          const j = categoryOf(s, slot, code);
          if (j < 0) this.countUnseen(name);
          else s.num[outs[j]][r] = 1;
        };
        this.replace(name, step.categories.map((c, j) => ({ name: `${name}=${c}`, slot: outs[j] })));
        break;
      }
      case 'ordinal': {
        const name = step.column;
        const categoryOf = categoryMapper(new Map(step.categories.map((c, j) => [c, j] as const)));
        const out = this.newSlot('number');
        this.unseen.set(name, 0);
        op = (s, r) => {
          const code = s.codes[slot][r];
          if (code < 0) {
            s.num[out][r] = NaN;
            return;
          }
          const j = categoryOf(s, slot, code);
          if (j < 0) {
            this.countUnseen(name);
            s.num[out][r] = NaN;
          } else {
            s.num[out][r] = j;
          }
        };
        this.replace(name, [{ name, slot: out }]);
        break;
      }
      case 'standardize': {
        const { mean } = step;
        // scikit-learn's StandardScaler leaves a constant column's scale at 1 rather than dividing by 0.
        const scale = step.std === 0 ? 1 : step.std;
        op = (s, r) => { const a = s.num[slot]; a[r] = (a[r] - mean) / scale; };
        break;
      }
      case 'minmax': {
        const { min } = step;
        const range = step.max - step.min === 0 ? 1 : step.max - step.min;
        op = (s, r) => { const a = s.num[slot]; a[r] = (a[r] - min) / range; };
        break;
      }
      case 'bucketize': {
        const edges = Float64Array.from(step.edges);
        op = (s, r) => {
          const a = s.num[slot];
          const x = a[r];
          if (Number.isNaN(x)) return;
          // Bucket i holds edges[i−1] ≤ x < edges[i]: the count of edges at or below x.
          let i = 0;
          while (i < edges.length && edges[i] <= x) i++;
          a[r] = i;
        };
        break;
      }
      case 'drop':
        this.live = this.live.filter((c) => c !== column);
        return null;
    }
    this.ops.push(op);
    return op;
  }

  private addDerive(step: Extract<FittedStep, { kind: 'derive' }>, where: string): RowOp {
    const parsed = parseExpression(step.expression, where);
    const evaluate: Evaluate = compileExpression(parsed);
    const slotOf = new Map<string, number>();
    for (const name of parsed.columns) {
      const column = this.find(name);
      if (column === undefined) throw new FeaturesFormatError(`${where}: the saved expression reads ${JSON.stringify(name)}, which no earlier step provides; the model file is damaged`);
      slotOf.set(name, column.slot);
    }
    const out = this.newSlot(step.type);
    const get = this.getter(slotOf, where);
    const op: RowOp = step.type === 'number'
      ? (s, r) => { get.at(s, r); s.num[out][r] = derivedNumber(evaluate(get.read)); }
      : (s, r) => {
          get.at(s, r);
          const v = derivedText(evaluate(get.read));
          s.codes[out][r] = v === null ? -1 : intern(s, out, v);
        };
    this.replace(step.column, [{ name: step.column, slot: out }]);
    this.ops.push(op);
    return op;
  }

  /**
   * One reader per expression, pointed at a state and row before each evaluation: no closure per row. A number or
   * date slot gives its number (a date as UTC milliseconds, as arquero's Date values compare and subtract), a
   * text slot its text or null.
   */
  getter(slotOf: ReadonlyMap<string, number>, where: string): { at: (s: State, r: number) => void; read: (name: string) => Value } {
    let state: State | null = null;
    let row = 0;
    const slots = this.slots;
    return {
      at: (s, r) => {
        state = s;
        row = r;
      },
      read: (name) => {
        const slot = slotOf.get(name);
        if (slot === undefined || state === null) throw new FeatureInputError(`${where}: reads ${JSON.stringify(name)}, which was not resolved when fitted`);
        return slots[slot] === 'text' ? textAt(state, slot, row) : state.num[slot][row];
      },
    };
  }

  /** Grows a state so it has arrays for every slot allocated so far. */
  extend(state: State): void {
    for (let s = state.num.length; s < this.slots.length; s++) {
      const text = this.slots[s] === 'text';
      state.num.push(text ? NO_NUMBERS : new Float64Array(state.rows));
      state.codes.push(text ? new Int32Array(state.rows).fill(-1) : NO_CODES);
      state.words.push([]);
      state.lookup.push(null);
    }
  }

  /** A state of `rows` rows; the first `empty` slots get no arrays yet (fitting fills inputs when a step reads them). */
  newState(rows: number, empty = 0): State {
    const state: State = { rows, num: [], codes: [], words: [], lookup: [] };
    for (let s = 0; s < empty; s++) {
      state.num.push(NO_NUMBERS);
      state.codes.push(NO_CODES);
      state.words.push([]);
      state.lookup.push(null);
    }
    this.extend(state);
    return state;
  }

  /** Runs every operation on rows [0, count) of a state, one operation at a time over the rows. */
  runRows(state: State, count: number): void {
    // Each row still goes through the same operations in the same order; only the loop nesting differs, so the
    // numbers are those of running row by row.
    for (const op of this.ops) for (let r = 0; r < count; r++) op(state, r);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading a table's columns into slots

/**
 * A filler for one slot of a state from one table column: `fill(start, end)` copies table row `rows[start + r]`
 * (or `start + r`) into state row r. Every conversion goes through readInput; the direct copies are the cases where
 * readInput is the identity (a number or boolean column into a number slot, a date column into a date slot), and a
 * coded column is converted once per distinct category, not once per row.
 */
function slotFiller(
  state: State,
  slot: number,
  kind: SlotKind,
  column: Column,
  rows: ArrayLike<number> | undefined,
  where: (source: number) => string,
): (start: number, end: number) => void {
  const source = (start: number, r: number): number => (rows === undefined ? start + r : rows[start + r]);
  const fail = (row: number, raw: unknown): never => {
    throw new FeatureInputError(`${where(row)} ${inputProblem(kind, raw)}`, { column: column.name });
  };
  const coded = column.kind === 'category' || column.kind === 'string' ? column.values : null;
  if (kind === 'text') {
    const out = state.codes[slot];
    if (coded !== null) {
      // The column's categories become the slot's words, each read the first time a row carries it (a missing
      // marker becomes −1): a column with a million distinct labels costs nothing for the labels a chunk lacks.
      const { codes, categories } = coded;
      const UNREAD = -2;
      const remap = new Int32Array(categories.length).fill(UNREAD);
      return (start, end) => {
        for (let r = 0; r < end - start; r++) {
          const code = codes[source(start, r)];
          if (code < 0) {
            out[r] = -1;
            continue;
          }
          let mapped = remap[code];
          if (mapped === UNREAD) {
            const v = readInput('text', categories[code]);
            mapped = typeof v === 'string' ? intern(state, slot, v) : -1;
            remap[code] = mapped;
          }
          out[r] = mapped;
        }
      };
    }
    return (start, end) => {
      for (let r = 0; r < end - start; r++) {
        const row = source(start, r);
        const raw = cellValue(column, row);
        const v = readInput('text', raw);
        if (v === undefined) fail(row, raw);
        out[r] = typeof v === 'string' ? intern(state, slot, v) : -1;
      }
    };
  }
  const out = state.num[slot];
  if (kind === 'number' ? column.kind === 'number' || column.kind === 'boolean' : column.kind === 'date') {
    const values = (column as { values: Float64Array }).values;
    return (start, end) => {
      if (rows === undefined) out.set(values.subarray(start, end));
      else for (let r = 0; r < end - start; r++) out[r] = values[rows[start + r]];
    };
  }
  if (coded !== null) {
    const { codes, categories } = coded;
    const read = categories.map((c) => readInput(kind, c));
    return (start, end) => {
      for (let r = 0; r < end - start; r++) {
        const row = source(start, r);
        const code = codes[row];
        if (code < 0) {
          out[r] = NaN;
          continue;
        }
        const v = read[code];
        if (typeof v !== 'number') fail(row, categories[code]);
        out[r] = v as number;
      }
    };
  }
  return (start, end) => {
    for (let r = 0; r < end - start; r++) {
      const row = source(start, r);
      const raw = cellValue(column, row);
      const v = readInput(kind, raw);
      if (typeof v !== 'number') fail(row, raw);
      out[r] = v as number;
    }
  };
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
      const where = `${ML_YAML.file} ${Array.isArray(body) ? `features[${i}].${kind}[${String(rule)}]` : stepPath(i, kind, column)}`;
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
          throw new FeatureStepError(`${ML_YAML.file} features[${i}]: unknown step ${JSON.stringify(kind)}; the steps are ${STEP_KINDS}`, { kind });
      }
    }
  });
  return FittedFeatures.build(program, fitted, target, id);
}

interface FitContext {
  readonly program: Program;
  readonly state: State;
  readonly where: string;
  readonly target: string;
  readonly id: string | null;
  readonly step: number;
  /** Copies an input slot's training rows in from the table, the first time a step reads it. */
  readonly materialize: (slot: number) => void;
}

function checkRole(ctx: FitContext, column: string): void {
  if (column === ctx.target) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(column)} is the target (data.target); it cannot be used as a feature`, { column });
  if (column === ctx.id) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(column)} is the id column (data.id), which is never a feature; remove it`, { column });
}

function unknownColumn(ctx: FitContext, column: string, context = ''): FeatureStepError {
  const names = ctx.program.live.map((c) => c.name);
  const guess = nearest(column, names);
  const fix = guess !== undefined ? `did you mean ${JSON.stringify(guess)}?` : `the columns at this step are ${names.join(', ')}`;
  return new FeatureStepError(`${ctx.where}: there is no column ${JSON.stringify(column)}${context} at this step; ${fix}`, { column, suggestion: guess ?? null });
}

function noValues(ctx: FitContext, column: string, what: string): FeatureStepError {
  return new FeatureStepError(`${ctx.where}: ${JSON.stringify(column)} has no values in the training rows, so ${what} cannot be learned; give { constant: … } or drop the column`, { column });
}

function textColumn(ctx: FitContext, column: string, kind: string): FeatureStepError {
  return new FeatureStepError(`${ctx.where}: ${JSON.stringify(column)} holds text; ${kind} takes numeric columns — one-hot encode text with onehot`, { column });
}

function dateColumn(ctx: FitContext, column: string, kind: string): FeatureStepError {
  return new FeatureStepError(
    `${ctx.where}: ${JSON.stringify(column)} holds dates, which ${kind} does not take; a date is not a feature by itself — read parts of it with derive, as in d => op.month(d[${JSON.stringify(column)}]), or leave it out with drop`,
    { column },
  );
}

/** A text slot's distinct present values in the training rows, sorted in UTF-16 order (as Array#sort does). */
function sortedCategories(state: State, slot: number): string[] {
  const words = state.words[slot];
  const codes = state.codes[slot];
  const used = new Uint8Array(words.length);
  for (let r = 0; r < state.rows; r++) if (codes[r] >= 0) used[codes[r]] = 1;
  const out: string[] = [];
  for (let k = 0; k < words.length; k++) if (used[k] === 1) out.push(words[k]);
  return out.sort();
}

/** The present (not NaN) values of a number slot. */
function numbers(ctx: FitContext, column: string, values: Float64Array | null, kind: string): Float64Array {
  if (values === null) throw textColumn(ctx, column, kind);
  const present = presentValues(values);
  if (present.length === 0) throw noValues(ctx, column, `its ${kind === 'standardize' ? 'mean and spread' : 'range'}`);
  return present;
}

function presentValues(values: Float64Array): Float64Array {
  let n = 0;
  for (let r = 0; r < values.length; r++) if (values[r] === values[r]) n++;
  const out = new Float64Array(n);
  for (let r = 0, k = 0; r < values.length; r++) if (values[r] === values[r]) out[k++] = values[r];
  return out;
}

function sum(values: Float64Array): number {
  let total = 0;
  for (let k = 0; k < values.length; k++) total += values[k];
  return total;
}

/**
 * The median of present values, exactly as sorting would give it (the middle value, or the mean of the middle two),
 * found by selection in linear time rather than by sorting a million values. `values` is reordered.
 * @internal exported for its test against sorting
 */
export function median(values: Float64Array): number {
  const n = values.length;
  const mid = n >> 1;
  const upper = orderStatistic(values, mid);
  return n % 2 === 1 ? upper : (orderStatistic(values, mid - 1) + upper) / 2;
}

/**
 * The k-th smallest value (0-based) in sort order, where −0 comes before +0 as Float64Array#sort puts it. Quickselect
 * with a three-way partition, so runs of equal values cost nothing; a range that does not shrink fast enough
 * (a pathological order) is sorted instead, which bounds the worst case at a sort.
 */
function orderStatistic(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  let budget = 2 * Math.ceil(Math.log2(a.length + 1)) + 16;
  let found = a[k];
  while (hi > lo) {
    if (budget-- === 0) {
      a.subarray(lo, hi + 1).sort();
      found = a[k];
      break;
    }
    const x = a[lo];
    const y = a[(lo + hi) >>> 1];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) {
        a[i++] = a[lt];
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[gt];
        a[gt--] = v;
      } else {
        i++;
      }
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else {
      found = pivot;
      break;
    }
    found = a[k];
  }
  if (found !== 0) return found;
  // Partitions cannot tell −0 from +0; their order in a sort can: negatives, then −0s, then +0s.
  let below = 0;
  let negativeZeros = 0;
  for (let r = 0; r < a.length; r++) {
    if (a[r] < 0) below++;
    else if (Object.is(a[r], -0)) negativeZeros++;
  }
  return k < below + negativeZeros ? -0 : 0;
}

/** The most frequent number; ties go to the smallest, so the result does not depend on row order. */
function numberMode(values: Float64Array): number {
  const counts = new Map<number, number>();
  for (let k = 0; k < values.length; k++) counts.set(values[k], (counts.get(values[k]) ?? 0) + 1);
  let best = values[0];
  let bestCount = 0;
  for (const [v, n] of counts) {
    if (n > bestCount || (n === bestCount && v < best)) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

/** The most frequent text of a text slot, or null when all are missing; ties go to the smallest text. */
function textMode(state: State, slot: number): string | null {
  const words = state.words[slot];
  const codes = state.codes[slot];
  const counts = new Float64Array(words.length);
  for (let r = 0; r < state.rows; r++) if (codes[r] >= 0) counts[codes[r]]++;
  let best = -1;
  for (let k = 0; k < words.length; k++) {
    if (counts[k] === 0) continue;
    if (best < 0 || counts[k] > counts[best] || (counts[k] === counts[best] && words[k] < words[best])) best = k;
  }
  return best < 0 ? null : words[best];
}

function fitImpute(ctx: FitContext, column: string, rule: ImputeRule, values: Float64Array | null, text: number): FittedStep {
  const base = { kind: 'impute', step: ctx.step, column } as const;
  if (typeof rule === 'object') {
    const c = rule.constant;
    if (values !== null) {
      if (typeof c === 'string') throw new FeatureStepError(`${ctx.where}: the constant ${JSON.stringify(c)} is text but ${JSON.stringify(column)} holds numbers; give a number`, { column });
      return { ...base, rule: 'constant', value: typeof c === 'boolean' ? (c ? 1 : 0) : c };
    }
    return { ...base, rule: 'constant', value: String(c) };
  }
  if (values !== null) {
    const present = presentValues(values);
    if (present.length === 0) throw noValues(ctx, column, `its ${rule}`);
    if (rule === 'mean') return { ...base, rule, value: sum(present) / present.length };
    if (rule === 'mode') return { ...base, rule, value: numberMode(present) };
    return { ...base, rule, value: median(present) };
  }
  if (rule !== 'mode') throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(rule)} needs numbers but ${JSON.stringify(column)} holds text; use mode or { constant: … }`, { column });
  const mode = textMode(ctx.state, text);
  if (mode === null) throw noValues(ctx, column, 'its mode');
  return { ...base, rule, value: mode };
}

function fitDerive(ctx: FitContext, column: string, expression: string): FittedStep {
  const parsed = parseExpression(expression, ctx.where);
  const slotOf = new Map<string, number>();
  for (const name of parsed.columns) {
    if (name === ctx.target) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} reads the target ${JSON.stringify(name)} (data.target); a feature cannot see the label`, { column: name });
    if (name === ctx.id) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} reads the id column ${JSON.stringify(name)} (data.id), which is never a feature`, { column: name });
    const live = ctx.program.find(name);
    if (live === undefined) throw unknownColumn(ctx, name, ` for ${JSON.stringify(expression)} to read`);
    ctx.materialize(live.slot);
    slotOf.set(name, live.slot);
  }
  if (column === ctx.target || column === ctx.id) checkRole(ctx, column);
  // The output's kind is learned from the training rows: numbers and booleans make a number column, text a text one.
  const evaluate = compileExpression(parsed);
  const get = ctx.program.getter(slotOf, ctx.where);
  const { state } = ctx;
  let sawNumber = false;
  let sawText = false;
  for (let r = 0; r < state.rows; r++) {
    get.at(state, r);
    const v = evaluate(get.read);
    if (typeof v === 'string') sawText = true;
    else if (v !== null && !Number.isNaN(v)) sawNumber = true;
    if (v === Infinity || v === -Infinity) {
      throw new FeatureStepError(
        `${ctx.where}: ${JSON.stringify(expression)} gives ${v} on a training row, which no model can learn from; guard it, e.g. \`d.b === 0 ? null : d.a / d.b\` (null is a missing value)`,
        { column },
      );
    }
    if (sawText && sawNumber) {
      throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} gives numbers for some training rows and text for others; make it give one kind`, { column });
    }
  }
  return { kind: 'derive', step: ctx.step, column, expression, type: sawText ? 'text' : 'number' };
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
