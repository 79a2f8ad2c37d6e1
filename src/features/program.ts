// The program fitted features run: numbered slots and row operations over them, the same list for a table at
// training time and for one record when serving (see transforms.ts's Decisions), and how a table's columns are
// read into slots.
import { cellValue, type Column } from '../data/table.js';
import { compileExpression, parseExpression, type Evaluate, type Value } from './expression.js';
import { FeatureInputError, FeaturesFormatError } from './feature-errors.js';
import { derivedNumber, derivedText, inputProblem, readInput } from './inputs.js';
import type { FeatureInput, FittedStep, SlotKind } from './transforms.js';

/**
 * Intermediate columns by slot, each `rows` long. Number and date slots use `num`; text slots use `codes` (−1 is
 * missing) into `words`, the slot's distinct texts, with `lookup` (built when first needed) from text to code.
 * The arrays of a slot of the other kind are empty.
 */
export interface State {
  readonly rows: number;
  readonly num: Float64Array[];
  readonly codes: Int32Array[];
  readonly words: string[][];
  readonly lookup: (Map<string, number> | null)[];
}

export type RowOp = (state: State, row: number) => void;

export interface LiveColumn {
  readonly name: string;
  readonly slot: number;
}

export const NO_NUMBERS = new Float64Array(0);
export const NO_CODES = new Int32Array(0);

/** The code of `text` in a text slot's word list, added when new. */
export function intern(state: State, slot: number, text: string): number {
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

export function textAt(state: State, slot: number, row: number): string | null {
  const code = state.codes[slot][row];
  return code < 0 ? null : state.words[slot][code];
}

/**
 * A word list's codes mapped through `index` (text → category position, −1 when absent), each code looked up the
 * first time a row carries it: a lookup per distinct word, not per row, and none for words no row uses. Word lists
 * only grow; a state that starts over gets a new list, which this notices by identity.
 */
export function categoryMapper(index: ReadonlyMap<string, number>): (state: State, slot: number, code: number) => number {
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
export class Program {
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
export function slotFiller(
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
