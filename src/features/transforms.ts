// The feature steps of ml.yaml, fitted on the training rows, saved in the model artifact and applied the same way to
// a whole table (training, evaluation) and to one served row.
//
// Parity by construction: fitting compiles the steps into a list of row operations over numbered slots (each slot
// holds one intermediate column, numbers or text). The batch path and the row path differ only in where a row's
// input values come from — a table cell or a record field — and both read them through the same `readInput`; after
// that, both run the very same operations on the very same slot layout, so the numbers agree to the bit. Fitting
// applies each fitted step through those same operations before fitting the next one, so a step fitted after an
// impute sees exactly the imputed values that serving will see.
//
// Decisions:
// - Missing numbers are NaN throughout (the forest routes NaN); missing text is null. A missing value in a one-hot
//   column gives NaN in all its 0/1 columns, as src/data/encode.ts does; a value not seen in training gives all
//   zeros and is counted (`unseenCounts`).
// - A text column that is still text after the steps and was not one-hot encoded is an error at fit time naming
//   the column (add it to onehot, or drop it), rather than silently encoded as codes: codes would give an order
//   to labels that have none, and a label unseen in training would have no code at serving time.
// - One-hot categories are sorted (UTF-16 order), so that the feature layout does not depend on row order.
// - `derive` may overwrite a column that exists (as arquero's derive does); the new column keeps its place. A new
//   name is added at the end. Later columns of one derive step can read earlier ones.
import { BrambleError, nearest } from '../errors.js';
import { MISSING_TEXT } from '../data/load.js';
import { cellValue, findColumn, missingColumnError, type Table } from '../data/table.js';
import type { FeatureStep, ImputeRule } from '../config/ml-yaml.js';
import { compileExpression, parseExpression, toNumber, type Evaluate, type Value } from './expression.js';

export const FEATURES_FORMAT = { name: 'bramble-features', version: 1 } as const;

/** A slot holds numbers (Float64, NaN missing) or text (null missing). */
export type SlotKind = 'number' | 'text';

export interface FeatureInput {
  readonly name: string;
  readonly kind: SlotKind;
}

/** One fitted operation on one column; a step of ml.yaml that names several columns becomes several of these. */
export type FittedStep =
  | { kind: 'impute'; step: number; column: string; rule: 'mean' | 'median' | 'mode' | 'constant'; value: number | string }
  | { kind: 'onehot'; step: number; column: string; categories: string[] }
  | { kind: 'standardize'; step: number; column: string; mean: number; std: number }
  | { kind: 'minmax'; step: number; column: string; min: number; max: number }
  | { kind: 'bucketize'; step: number; column: string; edges: number[] }
  | { kind: 'derive'; step: number; column: string; expression: string; type: SlotKind }
  | { kind: 'drop'; step: number; column: string };

export interface FeaturesJSON {
  format: typeof FEATURES_FORMAT.name;
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
}

export interface FeatureMatrix {
  readonly names: string[];
  readonly rows: number;
  /** Row-major, rows × names.length; NaN is missing. */
  readonly matrix: Float64Array;
}

/** A feature step that cannot be fitted to this data: an unknown column, a wrong kind, no values to learn from. */
export class FeatureStepError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_FEATURE_STEP', message, data);
  }
}

/** A row or table that does not fit the fitted features: a missing column, text where a number belongs. */
export class FeatureInputError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_FEATURE_INPUT', message, data);
  }
}

/** Saved features that are not in this format or version, or are damaged. */
export class FeaturesFormatError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_FEATURES_FORMAT', message, data);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Input values: the one door through which both table cells and record fields come in.

const MISSING = new Set(MISSING_TEXT);

function isMissingText(s: string): boolean {
  return MISSING.has(s) || s.trim() === '';
}

/**
 * One input value as its slot stores it, or undefined when it cannot be read as that kind. Text uses the loader's
 * missing markers, so that "NA" in a served record means what it means in a CSV.
 */
function readInput(kind: SlotKind, raw: unknown): number | string | null | undefined {
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
  if (typeof raw === 'string') return isMissingText(raw) ? null : raw;
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'number') return Number.isNaN(raw) ? null : String(raw);
  if (typeof raw === 'boolean') return String(raw);
  return undefined;
}

/** A derived value in a number slot: text (which a numeric derive should not give) reads as missing. */
function derivedNumber(v: Value): number {
  return typeof v === 'string' ? NaN : toNumber(v);
}

function derivedText(v: Value): string | null {
  if (v === null || (typeof v === 'number' && Number.isNaN(v))) return null;
  return typeof v === 'string' ? v : String(v);
}

// ---------------------------------------------------------------------------------------------------------------
// The program: slots and row operations.

/** Intermediate columns by slot, each `rows` long; a number slot's text array (and the reverse) is empty. */
interface State {
  readonly rows: number;
  readonly num: Float64Array[];
  readonly txt: (string | null)[][];
}

type RowOp = (state: State, row: number) => void;

interface LiveColumn {
  readonly name: string;
  readonly slot: number;
}

/** Builds the slot layout and row operations from fitted steps; fitting and fromJSON both go through `add`. */
class Program {
  readonly slots: SlotKind[];
  readonly ops: RowOp[] = [];
  readonly live: LiveColumn[];
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

  private replace(name: string, columns: LiveColumn[]): void {
    const at = this.live.findIndex((c) => c.name === name);
    if (at < 0) this.live.push(...columns);
    else this.live.splice(at, 1, ...columns);
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
    const needs = step.kind === 'onehot' ? 'text' : step.kind === 'impute' ? (typeof step.value === 'number' ? 'number' : 'text') : step.kind === 'drop' ? kind : 'number';
    if (kind !== needs) throw new FeaturesFormatError(`${where}: the saved ${step.kind} step expects ${needs} in ${JSON.stringify(step.column)} but it holds ${kind}; the model file is damaged`);
    let op: RowOp | null = null;
    switch (step.kind) {
      case 'impute': {
        const value = step.value;
        op = typeof value === 'number'
          ? (s, r) => { const a = s.num[slot]; if (Number.isNaN(a[r])) a[r] = value; }
          : (s, r) => { const a = s.txt[slot]; if (a[r] === null) a[r] = value; };
        break;
      }
      case 'onehot': {
        const name = step.column;
        const index = new Map(step.categories.map((c, j) => [c, j] as const));
        const outs = step.categories.map(() => this.newSlot('number'));
        this.unseen.set(name, 0);
        op = (s, r) => {
          const v = s.txt[slot][r];
          if (v === null) {
            for (const o of outs) s.num[o][r] = NaN;
            return;
          }
          for (const o of outs) s.num[o][r] = 0;
          const j = index.get(v);
          if (j === undefined) this.unseen.set(name, (this.unseen.get(name) ?? 0) + 1);
          else s.num[outs[j]][r] = 1;
        };
        this.replace(name, step.categories.map((c, j) => ({ name: `${name}=${c}`, slot: outs[j] })));
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
        this.live.splice(this.live.indexOf(column), 1);
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
    // One getter per step, pointed at the current row before each evaluation: no closure per row.
    let state: State | null = null;
    let row = 0;
    const slots = this.slots;
    const get = (name: string): Value => {
      const slot = slotOf.get(name);
      if (slot === undefined || state === null) throw new FeatureInputError(`${where}: reads ${JSON.stringify(name)}, which was not resolved when fitted`);
      return slots[slot] === 'number' ? state.num[slot][row] : state.txt[slot][row];
    };
    const op: RowOp = step.type === 'number'
      ? (s, r) => { state = s; row = r; s.num[out][r] = derivedNumber(evaluate(get)); }
      : (s, r) => { state = s; row = r; s.txt[out][r] = derivedText(evaluate(get)); };
    this.replace(step.column, [{ name: step.column, slot: out }]);
    this.ops.push(op);
    return op;
  }

  /** Grows a state so it has arrays for every slot allocated so far. */
  extend(state: State): void {
    for (let s = state.num.length; s < this.slots.length; s++) {
      const number = this.slots[s] === 'number';
      state.num.push(number ? new Float64Array(state.rows) : new Float64Array(0));
      state.txt.push(number ? [] : new Array<string | null>(state.rows).fill(null));
    }
  }

  newState(rows: number): State {
    const state: State = { rows, num: [], txt: [] };
    this.extend(state);
    return state;
  }

  run(state: State, row: number): void {
    for (const op of this.ops) op(state, row);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fitted features

export class FittedFeatures {
  readonly names: readonly string[];
  private readonly outputSlots: Int32Array;
  private readonly rowState: State;

  private constructor(
    private readonly program: Program,
    private readonly steps: readonly FittedStep[],
    readonly target: string,
    readonly id: string | null,
  ) {
    const leftover = program.live.find((c) => program.slots[c.slot] === 'text');
    if (leftover !== undefined) {
      throw new FeatureStepError(
        `features: column ${JSON.stringify(leftover.name)} holds text and no step turns it into numbers, so the model cannot read it; add it to an onehot step, or remove it with a drop step`,
        { column: leftover.name },
      );
    }
    this.names = program.live.map((c) => c.name);
    this.outputSlots = Int32Array.from(program.live.map((c) => c.slot));
    this.rowState = program.newState(1);
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
    const chunk = Math.min(count, 1024);
    const state = program.newState(Math.max(chunk, 1));
    for (let start = 0; start < count; start += chunk) {
      const end = Math.min(count, start + chunk);
      for (let i = start; i < end; i++) {
        const r = i - start;
        const source = rows === undefined ? i : rows[i];
        for (let c = 0; c < columns.length; c++) {
          const raw = cellValue(columns[c], source);
          this.store(state, c, r, raw, () => `the data (line ${table.lines[source] ?? source + 1}) column ${JSON.stringify(columns[c].name)}`);
        }
        program.run(state, r);
        const base = i * width;
        for (let j = 0; j < width; j++) matrix[base + j] = state.num[this.outputSlots[j]][r];
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
    program.inputs.forEach((input, c) => {
      // Own fields only: a record parsed from JSON must not reach Object.prototype through a column name.
      const raw = Object.hasOwn(record, input.name) ? record[input.name] : undefined;
      this.store(state, c, 0, raw, () => `the row's field ${JSON.stringify(input.name)}`);
    });
    program.run(state, 0);
    for (let j = 0; j < out.length; j++) out[j] = state.num[this.outputSlots[j]][0];
    return out;
  }

  private store(state: State, slot: number, row: number, raw: unknown, where: () => string): void {
    const kind = this.program.slots[slot];
    const value = readInput(kind, raw);
    if (value === undefined) {
      const shown = typeof raw === 'string' ? JSON.stringify(raw) : typeof raw === 'object' ? 'an object' : String(raw);
      const fix = kind === 'number' ? 'give a number, or null when missing' : 'give text, or null when missing';
      throw new FeatureInputError(`${where()} is ${shown}; ${fix}`, { column: this.program.inputs[slot].name });
    }
    if (kind === 'number') state.num[slot][row] = value as number;
    else state.txt[slot][row] = value as string | null;
  }

  /** Per one-hot column, how many values not seen in training have been encoded as all zeros since loading. */
  unseenCounts(): Record<string, number> {
    return Object.fromEntries(this.program.unseen);
  }

  resetUnseenCounts(): void {
    for (const name of this.program.unseen.keys()) this.program.unseen.set(name, 0);
  }

  toJSON(): FeaturesJSON {
    return {
      format: FEATURES_FORMAT.name,
      version: FEATURES_FORMAT.version,
      target: this.target,
      id: this.id,
      inputs: this.program.inputs.map((i) => ({ name: i.name, kind: i.kind })),
      steps: this.steps.map(copyStep),
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
  if (step.kind === 'onehot') return { ...step, categories: [...step.categories] };
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

/**
 * Fits the feature steps on the training rows of `table` (all rows unless `options.rows` lists them). The target
 * and id columns are never inputs. Throws a FeatureStepError naming the step and column when a step does not fit
 * the data, and a FeatureExpressionError for a derive expression outside the allowed form.
 */
export function fitFeatures(steps: readonly FeatureStep[], table: Table, options: FitOptions): FittedFeatures {
  const { target } = options;
  const id = options.id ?? null;
  const inputs: FeatureInput[] = table.columns
    .filter((c) => c.name !== target && c.name !== id)
    .map((c) => ({ name: c.name, kind: c.kind === 'number' || c.kind === 'boolean' ? 'number' : 'text' }));
  const picks = options.rows ?? Int32Array.from({ length: table.rows }, (_, i) => i);
  const program = new Program(inputs);
  const state = program.newState(picks.length);
  inputs.forEach((input, slot) => {
    const column = table.columns.find((c) => c.name === input.name);
    if (column === undefined) return;
    for (let r = 0; r < picks.length; r++) {
      // Table cells are typed already; readInput only maps them to slot form (null → NaN for numbers).
      const value = readInput(input.kind, cellValue(column, picks[r]));
      if (input.kind === 'number') state.num[slot][r] = value as number;
      else state.txt[slot][r] = value as string | null;
    }
  });

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
      const where = Array.isArray(body) ? `features[${i}].${kind}[${String(rule)}]` : stepPath(i, kind, column);
      const context: FitContext = { program, state, where, target, id, step: i };
      if (kind === 'derive') {
        apply(fitDerive(context, column, String(rule)), where);
        continue;
      }
      checkRole(context, column);
      const live = program.find(column);
      if (live === undefined) throw unknownColumn(context, column);
      const slotKind = program.slots[live.slot];
      const values = slotKind === 'number' ? state.num[live.slot] : null;
      const texts = slotKind === 'text' ? state.txt[live.slot] : null;
      switch (kind) {
        case 'impute':
          apply(fitImpute(context, column, rule as ImputeRule, values, texts), where);
          break;
        case 'onehot': {
          if (texts === null) throw new FeatureStepError(`${where}: ${JSON.stringify(column)} holds numbers; onehot takes text (category) columns — to group numbers, use bucketize`, { column });
          const categories = [...new Set(texts.filter((t): t is string => t !== null))].sort();
          if (categories.length === 0) throw noValues(context, column, 'its categories');
          for (const c of categories) {
            const name = `${column}=${c}`;
            if (program.find(name) !== undefined) throw new FeatureStepError(`${where}: one-hot encoding ${JSON.stringify(column)} would add ${JSON.stringify(name)}, which is already a column; rename that column with derive, or drop it`, { column });
          }
          apply({ kind: 'onehot', step: i, column, categories }, where);
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
          throw new FeatureStepError(`features[${i}]: unknown step ${JSON.stringify(kind)}; the steps are impute, onehot, standardize, minmax, bucketize, derive and drop`, { kind });
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

function numbers(ctx: FitContext, column: string, values: Float64Array | null, kind: string): number[] {
  if (values === null) throw textColumn(ctx, column, kind);
  const present = Array.from(values).filter((x) => !Number.isNaN(x));
  if (present.length === 0) throw noValues(ctx, column, `its ${kind === 'standardize' ? 'mean and spread' : 'range'}`);
  return present;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const x of values) total += x;
  return total;
}

/** The most frequent value; ties go to the smallest, so the result does not depend on row order. */
function mode<T extends number | string>(values: readonly T[]): T {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
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

function fitImpute(ctx: FitContext, column: string, rule: ImputeRule, values: Float64Array | null, texts: (string | null)[] | null): FittedStep {
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
    const present = Array.from(values).filter((x) => !Number.isNaN(x));
    if (present.length === 0) throw noValues(ctx, column, `its ${rule}`);
    if (rule === 'mean') return { ...base, rule, value: sum(present) / present.length };
    if (rule === 'mode') return { ...base, rule, value: mode(present) };
    const sorted = Float64Array.from(present).sort();
    const mid = sorted.length >> 1;
    return { ...base, rule, value: sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2 };
  }
  if (rule !== 'mode') throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(rule)} needs numbers but ${JSON.stringify(column)} holds text; use mode or { constant: … }`, { column });
  const present = (texts ?? []).filter((t): t is string => t !== null);
  if (present.length === 0) throw noValues(ctx, column, 'its mode');
  return { ...base, rule, value: mode(present) };
}

function fitDerive(ctx: FitContext, column: string, expression: string): FittedStep {
  const parsed = parseExpression(expression, ctx.where);
  for (const name of parsed.columns) {
    if (name === ctx.target) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} reads the target ${JSON.stringify(name)} (data.target); a feature cannot see the label`, { column: name });
    if (name === ctx.id) throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} reads the id column ${JSON.stringify(name)} (data.id), which is never a feature`, { column: name });
    if (ctx.program.find(name) === undefined) throw unknownColumn(ctx, name, ` for ${JSON.stringify(expression)} to read`);
  }
  if (column === ctx.target || column === ctx.id) checkRole(ctx, column);
  // The output's kind is learned from the training rows: numbers and booleans make a number column, text a text one.
  const evaluate = compileExpression(parsed);
  const { program, state } = ctx;
  let sawNumber = false;
  let sawText = false;
  for (let r = 0; r < state.rows; r++) {
    const v = evaluate((name) => {
      const slot = (program.find(name) as LiveColumn).slot;
      return program.slots[slot] === 'number' ? state.num[slot][r] : state.txt[slot][r];
    });
    if (typeof v === 'string') sawText = true;
    else if (v !== null && !Number.isNaN(v)) sawNumber = true;
  }
  if (sawText && sawNumber) {
    throw new FeatureStepError(`${ctx.where}: ${JSON.stringify(expression)} gives numbers for some training rows and text for others; make it give one kind`, { column });
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
  if (o.version !== FEATURES_FORMAT.version) {
    throw new FeaturesFormatError(`saved features are version ${JSON.stringify(o.version)}; this Bramble reads version ${FEATURES_FORMAT.version} — retrain the model or use a matching Bramble`, { version: o.version });
  }
  const bad = (field: string): never => {
    throw new FeaturesFormatError(`saved features: ${field} is missing or malformed; the model file is damaged`, { field });
  };
  if (typeof o.target !== 'string') bad('target');
  if (o.id !== null && typeof o.id !== 'string') bad('id');
  const isString = (v: unknown): v is string => typeof v === 'string';
  const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!Array.isArray(o.inputs) || !o.inputs.every((i: unknown) => typeof i === 'object' && i !== null && isString((i as FeatureInput).name) && ((i as FeatureInput).kind === 'number' || (i as FeatureInput).kind === 'text'))) bad('inputs');
  if (!Array.isArray(o.outputs) || !o.outputs.every(isString)) bad('outputs');
  if (!Array.isArray(o.steps)) bad('steps');
  (o.steps as unknown[]).forEach((raw, k) => {
    if (typeof raw !== 'object' || raw === null) return bad(`steps[${k}]`);
    const s = raw as Record<string, unknown>;
    if (!isString(s.column) || !Number.isInteger(s.step)) return bad(`steps[${k}]`);
    const ok =
      s.kind === 'impute' ? ['mean', 'median', 'mode', 'constant'].includes(String(s.rule)) && (isNumber(s.value) || isString(s.value))
      : s.kind === 'onehot' ? Array.isArray(s.categories) && s.categories.every(isString)
      : s.kind === 'standardize' ? isNumber(s.mean) && isNumber(s.std)
      : s.kind === 'minmax' ? isNumber(s.min) && isNumber(s.max)
      : s.kind === 'bucketize' ? Array.isArray(s.edges) && s.edges.every(isNumber)
      : s.kind === 'derive' ? isString(s.expression) && (s.type === 'number' || s.type === 'text')
      : s.kind === 'drop';
    if (!ok) bad(`steps[${k}] (${String(s.kind)})`);
  });
  return o as unknown as FeaturesJSON;
}
