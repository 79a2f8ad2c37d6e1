import { describe, expect, it } from 'vitest';
import { rowIdentities, TrainingRowFilter } from '../src/data/identity.js';
import { splitRows, splitTable, SplitError, type SplitRule } from '../src/data/split.js';
import type { Column, Table } from '../src/data/table.js';
import { Rng } from '../src/util/rng.js';

/** A table of `n` rows: an id, two numbers, a category, a label (about 10 % "yes"), and a day number. */
function makeTable(n: number, seed = 1, from = 0): { table: Table; labels: string[] } {
  const rng = new Rng(seed);
  const id: string[] = [];
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const day = new Float64Array(n);
  const codes = new Int32Array(n);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    id.push(`c${from + i}`);
    x[i] = Math.round(rng.float() * 1e6) / 100;
    y[i] = rng.float() < 0.05 ? NaN : rng.int(1000);
    day[i] = Math.floor((from + i) / 10);
    codes[i] = rng.int(3);
    labels.push(rng.float() < 0.1 ? 'yes' : 'no');
  }
  const labelCodes = Int32Array.from(labels, (l) => (l === 'yes' ? 1 : 0));
  const columns: Column[] = [
    { name: 'id', kind: 'string', values: { codes: Int32Array.from(id, (_, i) => i), categories: id } },
    { name: 'x', kind: 'number', values: x },
    { name: 'y', kind: 'number', values: y },
    { name: 'day', kind: 'number', values: day },
    { name: 'colour', kind: 'category', values: { codes, categories: ['red', 'green', 'blue'] } },
    { name: 'label', kind: 'category', values: { codes: labelCodes, categories: ['no', 'yes'] } },
  ];
  return { table: { rows: n, columns, lines: Int32Array.from({ length: n }, (_, i) => i + 2) }, labels };
}

/** The rows of `table` in another order (and the same labels moved with them). */
function permute(table: Table, labels: string[], order: number[]): { table: Table; labels: string[] } {
  const columns = table.columns.map((c): Column => {
    if (c.kind === 'category' || c.kind === 'string') return { ...c, values: { codes: Int32Array.from(order, (r) => c.values.codes[r]), categories: c.values.categories } };
    const values = c.values as Float64Array;
    return { ...c, values: Float64Array.from(order, (r) => values[r]) } as Column;
  });
  return { table: { rows: table.rows, columns, lines: Int32Array.from(order, (_, i) => i + 2) }, labels: order.map((r) => labels[r]) };
}

/** Concatenates two tables with the same columns (category lists merged by value). */
function append(a: Table, b: Table): Table {
  const columns = a.columns.map((c, j): Column => {
    const d = b.columns[j];
    if ((c.kind === 'category' || c.kind === 'string') && (d.kind === 'category' || d.kind === 'string')) {
      const categories = [...c.values.categories];
      const index = new Map(categories.map((v, k) => [v, k]));
      const codes = new Int32Array(a.rows + b.rows);
      codes.set(c.values.codes);
      for (let r = 0; r < b.rows; r++) {
        const code = d.values.codes[r];
        const v = d.values.categories[code];
        let k = index.get(v);
        if (k === undefined) {
          k = categories.length;
          categories.push(v);
          index.set(v, k);
        }
        codes[a.rows + r] = k;
      }
      return { ...c, values: { codes, categories } };
    }
    const values = new Float64Array(a.rows + b.rows);
    values.set(c.values as Float64Array);
    values.set(d.values as Float64Array, a.rows);
    return { ...c, values } as Column;
  });
  return { rows: a.rows + b.rows, columns, lines: Int32Array.from({ length: a.rows + b.rows }, (_, i) => i + 2) };
}

const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
const idOf = (table: Table, r: number): string => {
  const c = table.columns[0];
  if (c.kind !== 'string') throw new Error('id column expected');
  return c.values.categories[c.values.codes[r]];
};

const RULES: [string, SplitRule][] = [
  ['by identity values', { test: 0.2, seed: 7, stratify: false, target: 'label' }],
  ['by data.id', { test: 0.2, seed: 7, stratify: false, target: 'label', id: 'id' }],
  ['stratified', { test: 0.2, seed: 7, stratify: true, target: 'label' }],
];

describe('splitTable: a split by identity hash', () => {
  it.each(RULES)('%s: appending rows never moves an existing row between train and test', (_, rule) => {
    const { table, labels } = makeTable(20_000);
    const extra = makeTable(2_000, 99, 20_000);
    const before = splitTable(table, all(table.rows), labels, rule, 'data.csv');
    const grown = append(table, extra.table);
    const after = splitTable(grown, all(grown.rows), [...labels, ...extra.labels], rule, 'data.csv');
    const testBefore = new Set(before.test.map((r) => idOf(table, r)));
    const testAfter = new Set(after.test.filter((r) => r < table.rows).map((r) => idOf(grown, r)));
    let moved = 0;
    for (const id of testBefore) if (!testAfter.has(id)) moved++;
    for (const id of testAfter) if (!testBefore.has(id)) moved++;
    if (rule.stratify) {
      // Only rows at each class's cut-off can change side (a handful), and the training-row filter catches those.
      expect(moved).toBeLessThan(60);
      const filter = TrainingRowFilter.of(before.identity, before.identities, before.train);
      const ids = rowIdentities(before.identity.map((n) => grown.columns.find((c) => c.name === n) as Column), grown.rows);
      const leaked = after.test.filter((r) => r < table.rows && !testBefore.has(idOf(grown, r)) && !filter.has(ids.lo[r], ids.hi[r]));
      expect(leaked).toEqual([]);
    } else {
      expect(moved).toBe(0);
    }
  });

  it.each(RULES)('%s: reordering the rows gives the same rows on each side', (_, rule) => {
    const { table, labels } = makeTable(5_000);
    const rng = new Rng(3);
    const order = Array.from({ length: table.rows }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const shuffled = permute(table, labels, order);
    const a = splitTable(table, all(table.rows), labels, rule, 'data.csv');
    const b = splitTable(shuffled.table, all(table.rows), shuffled.labels, rule, 'data.csv');
    expect(new Set(b.test.map((r) => idOf(shuffled.table, r)))).toEqual(new Set(a.test.map((r) => idOf(table, r))));
  });

  it('reordering the columns changes nothing: identity columns are hashed by name', () => {
    const { table, labels } = makeTable(3_000);
    const reversed: Table = { ...table, columns: [...table.columns].reverse() };
    const rule = RULES[0][1];
    expect(splitTable(reversed, all(table.rows), labels, rule, 'd.csv').test).toEqual(splitTable(table, all(table.rows), labels, rule, 'd.csv').test);
  });

  it('without stratify the share is close to the one asked for, and is reported; another seed gives another split', () => {
    const { table, labels } = makeTable(50_000);
    const a = splitTable(table, all(table.rows), labels, { test: 0.25, seed: 1, stratify: false, target: 'label' }, 'd.csv');
    const b = splitTable(table, all(table.rows), labels, { test: 0.25, seed: 2, stratify: false, target: 'label' }, 'd.csv');
    expect(a.share).toBeCloseTo(a.test.length / table.rows, 12);
    expect(Math.abs(a.share - 0.25)).toBeLessThan(0.01);
    expect(a.train.length + a.test.length).toBe(table.rows);
    const overlap = b.test.filter((r) => a.test.includes(r)).length;
    // Independent seeds: about a quarter of one test side is in the other.
    expect(overlap / b.test.length).toBeGreaterThan(0.2);
    expect(overlap / b.test.length).toBeLessThan(0.3);
  });

  it('with stratify each class keeps its share within a point, even a small class', () => {
    const { table, labels } = makeTable(4_000);
    const result = splitTable(table, all(table.rows), labels, { test: 0.2, seed: 5, stratify: true, target: 'label' }, 'd.csv');
    expect(Object.keys(result.classShares ?? {}).sort()).toEqual(['no', 'yes']);
    for (const share of Object.values(result.classShares ?? {})) expect(Math.abs(share - 0.2)).toBeLessThan(0.01);
    const yesTest = result.test.filter((r) => labels[r] === 'yes').length;
    const yesAll = labels.filter((l) => l === 'yes').length;
    expect(yesTest).toBe(Math.round(yesAll * 0.2));
  });

  it('rows that repeat an id, or repeat every value, land on the same side', () => {
    const { table, labels } = makeTable(2_000);
    // Rows 1000..1999 copy rows 0..999 exactly.
    const order = Array.from({ length: 2_000 }, (_, i) => i % 1_000);
    const copied = permute(table, labels, order);
    for (const rule of [RULES[0][1], RULES[1][1]]) {
      const result = splitTable(copied.table, all(2_000), copied.labels, rule, 'd.csv');
      const test = new Set(result.test);
      for (let r = 0; r < 1_000; r++) expect(test.has(r)).toBe(test.has(r + 1_000));
    }
  });

  it('split.by holds out the latest values, with ties kept together on the held-out side', () => {
    const { table, labels } = makeTable(1_005);
    const result = splitTable(table, all(table.rows), labels, { test: 0.2, seed: 0, stratify: false, by: 'day', target: 'label' }, 'd.csv');
    const day = table.columns[3].values as Float64Array;
    const latestTrain = result.train.reduce((m, r) => Math.max(m, day[r]), -Infinity);
    const earliestTest = result.test.reduce((m, r) => Math.min(m, day[r]), Infinity);
    expect(latestTrain).toBeLessThan(earliestTest);
    // 201 rows asked for; the cut-off day has 10 rows, all held out.
    expect(result.test.length).toBe(205);
    expect(result.test.every((r) => day[r] >= 80)).toBe(true);
  });

  it('split.by: a row without a value is a located error; a column with one value cannot be split', () => {
    const { table, labels } = makeTable(100);
    const y = table.columns[2].values as Float64Array;
    const missingAt = Array.from(y).findIndex((v) => Number.isNaN(v));
    expect(missingAt).toBeGreaterThanOrEqual(0);
    const rule: SplitRule = { test: 0.2, seed: 0, stratify: false, by: 'y', target: 'label' };
    expect(() => splitTable(table, all(100), labels, rule, 'data/t.csv')).toThrow(
      `data/t.csv:${missingAt + 2}: split.by column "y" is missing on this row; every row needs a value to be placed in time — fill it, or split at random (remove split.by)`,
    );
    const flat: Table = { ...table, columns: [...table.columns, { name: 'same', kind: 'number', values: new Float64Array(100).fill(3) }] };
    expect(() => splitTable(flat, all(100), labels, { ...rule, by: 'same' }, 'data/t.csv')).toThrow(SplitError);
    expect(() => splitTable(flat, all(100), labels, { ...rule, by: 'same' }, 'data/t.csv')).toThrow('every row has the same latest value (3)');
  });

  it('a split that would leave one side empty is an error naming the share', () => {
    const { table, labels } = makeTable(3);
    expect(() => splitTable(table, all(3), labels, { test: 0.01, seed: 0, stratify: true, target: 'label' }, 'd.csv')).toThrow(
      'd.csv: split.test 0.01 leaves no held-out rows out of 3; add rows',
    );
  });

  it('splits a million rows without spreading them into a call (the old split overflowed the stack at ~150,000)', () => {
    const { table, labels } = makeTable(1_000_000);
    const result = splitTable(table, all(table.rows), labels, { test: 0.2, seed: 1, stratify: true, target: 'label' }, 'd.csv');
    expect(result.train.length + result.test.length).toBe(1_000_000);
    const old = splitRows(labels, 0.2, 1, true);
    expect(old.train.length + old.test.length).toBe(1_000_000);
  });
});

describe('TrainingRowFilter', () => {
  it('never misses a training row, rarely claims another, and survives its JSON', () => {
    const { table, labels } = makeTable(100_000);
    const split = splitTable(table, all(table.rows), labels, RULES[0][1], 'd.csv');
    const filter = TrainingRowFilter.fromJSON(TrainingRowFilter.of(split.identity, split.identities, split.train).toJSON(), 'model.json');
    for (const r of split.train) expect(filter.has(split.identities.lo[r], split.identities.hi[r])).toBe(true);
    const falsePositives = split.test.filter((r) => filter.has(split.identities.lo[r], split.identities.hi[r])).length;
    expect(falsePositives / split.test.length).toBeLessThan(0.015);
    // About ten bits a row.
    expect(filter.toJSON().bits).toBe(Math.ceil((split.train.length * 10) / 8) * 8);
  });

  it('a damaged filter is refused with the file named', () => {
    const json = TrainingRowFilter.of(['x'], rowIdentities([], 10), [1, 2, 3]).toJSON();
    expect(() => TrainingRowFilter.fromJSON({ ...json, bits: json.bits * 2 }, 'prod/model.json')).toThrow(
      `prod/model.json: the training-row filter holds ${json.bits} bits but records ${json.bits * 2} (7 hashes); the model file is damaged`,
    );
  });

  it('identities depend on values, not on where a value came from', () => {
    const text: Column = { name: 'a', kind: 'category', values: { codes: Int32Array.from([0, 1, -1]), categories: ['x', 'y'] } };
    const text2: Column = { name: 'a', kind: 'category', values: { codes: Int32Array.from([1, 0, -1]), categories: ['y', 'x'] } };
    const num: Column = { name: 'b', kind: 'number', values: Float64Array.from([0, -0, NaN]) };
    const a = rowIdentities([text, num], 3);
    const b = rowIdentities([text2, num], 3);
    expect(Array.from(a.lo)).toEqual(Array.from(b.lo));
    expect(Array.from(a.hi)).toEqual(Array.from(b.hi));
    expect(a.lo[0]).not.toBe(a.lo[1]);
  });
});
