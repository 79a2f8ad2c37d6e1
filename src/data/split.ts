// How rows are held out, so that the held-out side survives changes to the data.
//
// Decisions:
// - A row's side is decided by a hash of its identity with the split seed, never by its position: appending,
//   deleting or reordering rows never moves another row between train and test (the practice of Google's ML
//   guides and TFX's hash buckets). The identity is ml.yaml's `data.id` when declared (rows that repeat an id stay
//   together), else the row's values other than the target, taken in column-name order so that reordering the
//   file's columns changes nothing. Identical rows always land on the same side, so a duplicate can never leak
//   its own label from train into test.
// - Without stratify a row is held out when its hash falls under the test share, so the share obtained is close
//   to, not exactly, the one asked for; it is reported. With stratify each class holds out the round(n·share) rows
//   with the lowest hashes, so class shares stay within a point even for small classes; as a class grows only the
//   rows at its cut-off can change side, and the champion's training-row filter catches those.
// - `split.by`: the rows with the latest values of that column are held out (rows tied at the cut-off stay
//   together on the held-out side), as a time split should be.
// - The identity hash has no seed: the artifact records its training rows' identities in a Bloom filter, and a
//   later run recognises them under any seed or share (src/data/identity.ts).
import { errorClass } from '../errors.js';
import { Rng } from '../util/rng.js';
import { identityPosition, rowIdentities, type RowIdentities } from './identity.js';
import { cellValue, getColumn, type Column, type Table } from './table.js';

export interface Split {
  train: number[];
  test: number[];
}

export class SplitError extends errorClass('E_SPLIT') {}

/**
 * A seeded shuffle split of row indices by position, for `bramble forest train` and the reference tests, where a
 * file is split once and never compared across versions. Stratified: each label keeps its share in both parts.
 */
export function splitRows(labels: readonly unknown[], testShare: number, seed: number, stratify: boolean): Split {
  const rng = new Rng(seed, 0x5eed);
  const groups = new Map<unknown, number[]>();
  labels.forEach((label, i) => {
    const key = stratify ? label : 0;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const train: number[] = [];
  const test: number[] = [];
  for (const rows of groups.values()) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    const nTest = Math.round(rows.length * testShare);
    // A loop, not push(...rows): spreading a million rows into one call overflows the stack.
    for (let k = 0; k < rows.length; k++) (k < nTest ? test : train).push(rows[k]);
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train, test };
}

export interface SplitRule {
  readonly test: number;
  readonly seed: number;
  readonly stratify: boolean;
  readonly by?: string;
  /** ml.yaml's data.id: the identity of a row when declared. */
  readonly id?: string;
  /** The target: never part of a row's identity. */
  readonly target: string;
}

export interface IdentitySplit extends Split {
  /** The columns whose values identify a row, in the order hashed (sorted by name). */
  readonly identity: readonly string[];
  /** Every row's identity (index = table row), for the training-row filter. */
  readonly identities: RowIdentities;
  /** The test share obtained, over the rows split. */
  readonly share: number;
  /** With stratify: each class's held-out share. */
  readonly classShares?: Readonly<Record<string, number>>;
  /** The rule that held rows out, as the artifact records it (see HeldOutRule). */
  readonly heldOut: HeldOutRule;
}

/**
 * Which rows a split held out, row by row, so that a later run can tell for certain that a model never trained on
 * a row (its rule held the row out) without a Bloom filter's false positives: `below` — the row's position under
 * the seed is below it; `atOrBelow` — at or below its class's cut-off (stratified); `from` — its split.by value is
 * at or after it.
 */
export type HeldOutRule = { below: number } | { atOrBelow: Record<string, number> } | { from: number | string };

/** The columns that identify a row under `rule` in `table`: data.id, or every column but the target, by name. */
export function identityColumns(table: Table, rule: Pick<SplitRule, 'id' | 'target'>, file: string): Column[] {
  if (rule.id !== undefined) return [getColumn(table, rule.id, file)];
  return table.columns.filter((c) => c.name !== rule.target).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Splits `rows` (indices into `table`: the rows that have a target) by ml.yaml's rule. `labels[r]` is row r's
 * class, read only with stratify.
 */
export function splitTable(table: Table, rows: ArrayLike<number>, labels: readonly unknown[], rule: SplitRule, file: string): IdentitySplit {
  const columns = identityColumns(table, rule, file);
  const identities = rowIdentities(columns, table.rows);
  const test: number[] = [];
  const train: number[] = [];
  let classShares: Record<string, number> | undefined;
  let heldOut: HeldOutRule = { below: rule.test };
  if (rule.by !== undefined) {
    heldOut = splitByLatest(table, rows, rule, file, train, test);
  } else if (rule.stratify) {
    classShares = {};
    const cuts: Record<string, number> = {};
    heldOut = { atOrBelow: cuts };
    const groups = new Map<unknown, number[]>();
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const g = groups.get(labels[r]);
      if (g) g.push(r);
      else groups.set(labels[r], [r]);
    }
    const side = new Uint8Array(table.rows);
    for (const [label, members] of groups) {
      const positions = new Float64Array(members.length);
      for (let k = 0; k < members.length; k++) positions[k] = identityPosition(identities, members[k], rule.seed);
      const sorted = positions.slice().sort();
      const nTest = Math.round(members.length * rule.test);
      // Rows tied at the cut-off share an identity: they go together, to the held-out side.
      const cut = nTest === 0 ? -1 : sorted[nTest - 1];
      let held = 0;
      for (let k = 0; k < members.length; k++) {
        if (positions[k] <= cut) {
          side[members[k]] = 1;
          held++;
        }
      }
      classShares[String(label)] = members.length === 0 ? 0 : held / members.length;
      cuts[String(label)] = cut;
    }
    for (let i = 0; i < rows.length; i++) (side[rows[i]] === 1 ? test : train).push(rows[i]);
  } else {
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      (identityPosition(identities, r, rule.seed) < rule.test ? test : train).push(r);
    }
  }
  if (train.length === 0 || test.length === 0) {
    const empty = train.length === 0 ? 'training' : 'held-out';
    throw new SplitError(
      `${file}: split.test ${rule.test} leaves no ${empty} rows out of ${rows.length}; ${rows.length < 10 ? 'add rows' : `choose a test share between ${(1 / rows.length).toPrecision(2)} and 0.5`}`,
      { rows: rows.length, test: rule.test },
    );
  }
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  const names = columns.map((c) => c.name);
  return { train, test, identity: names, identities, share: test.length / rows.length, heldOut, ...(classShares ? { classShares } : {}) };
}

/** split.by: the latest values held out; rows tied at the cut-off go together to the held-out side. */
function splitByLatest(table: Table, rows: ArrayLike<number>, rule: SplitRule, file: string, train: number[], test: number[]): HeldOutRule {
  const by = rule.by as string;
  const column = getColumn(table, by, file);
  const n = rows.length;
  const keys = new Float64Array(n);
  /** For a text column: its values by rank. */
  let text: string[] | null = null;
  if (column.kind === 'number' || column.kind === 'date' || column.kind === 'boolean') {
    for (let i = 0; i < n; i++) keys[i] = column.values[rows[i]];
  } else {
    // Text sorts by UTF-16 order, as ISO 8601 dates written as text do: rank the categories once.
    const { codes, categories } = column.values;
    const order = categories.map((_, c) => c).sort((a, b) => (categories[a] < categories[b] ? -1 : categories[a] > categories[b] ? 1 : 0));
    const rank = new Float64Array(categories.length);
    order.forEach((c, k) => (rank[c] = k));
    text = order.map((c) => categories[c]);
    for (let i = 0; i < n; i++) {
      const code = codes[rows[i]];
      keys[i] = code < 0 ? NaN : rank[code];
    }
  }
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(keys[i])) {
      const r = rows[i];
      throw new SplitError(`${file}:${table.lines[r]}: split.by column ${JSON.stringify(by)} is missing on this row; every row needs a value to be placed in time — fill it, or split at random (remove split.by)`, {
        line: table.lines[r],
        column: by,
      });
    }
  }
  const sorted = keys.slice().sort();
  const nTest = Math.round(n * rule.test);
  if (nTest === 0) {
    for (let i = 0; i < n; i++) train.push(rows[i]);
    return { from: Infinity };
  }
  const cut = sorted[n - nTest];
  for (let i = 0; i < n; i++) (keys[i] >= cut ? test : train).push(rows[i]);
  if (train.length === 0) {
    throw new SplitError(
      `${file}: split.by ${JSON.stringify(by)} cannot hold out the latest rows: every row has the same latest value (${JSON.stringify(cellValue(column, rows[0]))}); split by a column that changes over time, or remove split.by`,
      { column: by },
    );
  }
  // The cut-off as a value, not a rank: a later run compares its own rows' values with it.
  return { from: text === null ? cut : text[cut] };
}


/** Mixed into the seed of fold positions, so that a row's fold is independent of its side of the test split. */
const FOLD_SEED = 0xf01d5eed;

/**
 * k-fold cross-validation's fold of each of `rows` (out[i] for rows[i]): the same identity hashing as the split,
 * so a row keeps its fold when rows are appended, deleted or reordered, and rows that repeat data.id (or repeat
 * their values) share a fold. A fold is floor(k · position) under the seed: every class is spread over the folds
 * by its rows' hashes, so each fold keeps each class's share up to sampling noise. (Exact per-class counts, as
 * scikit-learn's StratifiedKFold gives, rank rows within a class, and an appended row would then move others.)
 */
export function assignFolds(identities: RowIdentities, rows: ArrayLike<number>, folds: number, seed: number): Int32Array {
  const out = new Int32Array(rows.length);
  const foldSeed = (seed ^ FOLD_SEED) >>> 0;
  for (let i = 0; i < rows.length; i++) out[i] = Math.min(folds - 1, Math.floor(identityPosition(identities, rows[i], foldSeed) * folds));
  return out;
}
