/**
 * The point-in-time join's reference case: generated feature rows with ties on event time (broken by created
 * time), late-arriving rows (a later batch with older event times), batches read out of order, and labels placed
 * on the TTL's edges (exactly ttl after a value, 1 ms past it, exactly at a value's event time, 1 ms before it) —
 * and pandas' merge_asof on the same rows, run live (test/reference/) or recorded in
 * test/reference-figures/store-pit.json (npm test).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Column, Table } from '../../src/data/table.js';
import { concatTables, type ViewRows } from '../../src/store/offline.js';
import type { ViewSpec } from '../../src/store/spec.js';
import { buildTrainingSet } from '../../src/store/training-set.js';
import { Rng } from '../../src/util/rng.js';
import { FIGURES_DIR, isFiniteNumber, type Provenance } from './reference.js';
import { referencePython } from './reference-python.js';

export const STORE_FIGURES = 'store-pit.json';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 0, 1);
export const PIT_TTL_MS = 7 * DAY;

export interface PitCase {
  /** Feature rows, in batches (each batch one partition). */
  readonly batches: { key: string[]; time: number[]; created: number[]; value: number[] }[];
  readonly labels: { key: string[]; time: number[] };
}

/** The generated case: `entities` keys, up to 12 rows each, `labels` label rows. */
export function pitCase(seed = 17, entities = 300, labels = 3000): PitCase {
  const rng = new Rng(seed);
  const batches = [0, 1, 2, 3].map(() => ({ key: [] as string[], time: [] as number[], created: [] as number[], value: [] as number[] }));
  const all: { key: string; time: number }[] = [];
  for (let e = 0; e < entities; e++) {
    const key = `c${String(e).padStart(4, '0')}`;
    const seen = new Set<string>();
    const rows = 1 + rng.int(12);
    for (let r = 0; r < rows; r++) {
      // Days on a coarse grid, so that several rows of one key share an event time (ties).
      const time = BASE + rng.int(40) * DAY;
      let created = time + rng.int(4) * HOUR;
      while (seen.has(`${time}|${created}`)) created += HOUR;
      seen.add(`${time}|${created}`);
      // Batch 3 arrives late with old rows; the batches' order below is not their time order.
      const batch = rng.float() < 0.2 ? 3 : rng.int(3);
      const b = batches[batch];
      b.key.push(key);
      b.time.push(time);
      b.created.push(created);
      b.value.push(Math.round(rng.float() * 1e6) / 100);
      all.push({ key, time });
    }
  }
  const lk: string[] = [];
  const lt: number[] = [];
  for (let i = 0; i < labels; i++) {
    const pick = rng.int(10);
    if (pick === 0) {
      lk.push(`z${rng.int(50)}`);
      lt.push(BASE + rng.int(50 * 24) * HOUR);
      continue;
    }
    const row = all[rng.int(all.length)];
    lk.push(row.key);
    // The TTL's edges and a value's own event time, besides random times.
    const edges = [PIT_TTL_MS, PIT_TTL_MS + 1, 0, -1];
    lt.push(pick <= 4 ? row.time + edges[pick - 1] : BASE + rng.int(50 * 24) * HOUR + rng.int(60) * 60_000);
  }
  return { batches: [batches[2], batches[0], batches[3], batches[1]], labels: { key: lk, time: lt } };
}

/** A string column from its values, coded in order of first appearance. */
export function textColumn(name: string, values: readonly string[]): Column {
  const categories = [...new Set(values)];
  const index = new Map(categories.map((c, i) => [c, i]));
  return { name, kind: 'string', values: { codes: Int32Array.from(values, (v) => index.get(v) ?? -1), categories } };
}

function table(columns: Column[], rows: number): Table {
  return { rows, columns, lines: Int32Array.from({ length: rows }, (_, i) => i + 2) };
}

export const PIT_VIEW: ViewSpec = {
  name: 'billing',
  entity: 'customer',
  keys: ['customerID'],
  source: 'billing',
  eventTime: 'billed_at',
  createdTime: 'loaded_at',
  ttl: '7d',
  ttlMs: PIT_TTL_MS,
  onMissing: 'error',
  columns: {
    customerID: { type: 'string', nullable: false, unique: false },
    billed_at: { type: 'date', nullable: false, unique: false },
    loaded_at: { type: 'date', nullable: true, unique: false },
    charge: { type: 'number', nullable: false, unique: false },
  },
  features: ['charge'],
  steps: [],
};

/** The case's batches as one view's rows, through concatTables as readView joins partitions. */
export function pitViewRows(c: PitCase): ViewRows {
  const parts = c.batches.map((b) =>
    table(
      [
        textColumn('customerID', b.key),
        { name: 'billed_at', kind: 'date', values: Float64Array.from(b.time) },
        { name: 'loaded_at', kind: 'date', values: Float64Array.from(b.created) },
        { name: 'charge', kind: 'number', values: Float64Array.from(b.value) },
      ],
      b.key.length,
    ),
  );
  const joined = concatTables(parts, ['customerID', 'billed_at', 'loaded_at', 'charge'], {});
  const col = (name: string): Float64Array => (joined.columns.find((x) => x.name === name) as { values: Float64Array }).values;
  return { view: PIT_VIEW, table: joined, eventTime: col('billed_at'), createdTime: col('loaded_at'), manifests: [] };
}

/** Our join's answer: per label, the charge it sees, or null. */
export function pitOurs(c: PitCase): (number | null)[] {
  const labels = table([textColumn('customerID', c.labels.key), { name: 'at', kind: 'date', values: Float64Array.from(c.labels.time) }], c.labels.key.length);
  const set = buildTrainingSet(labels, 'at', [pitViewRows(c)], 'labels.csv');
  const charge = set.table.columns.find((x) => x.name === 'charge') as { values: Float64Array };
  return Array.from(charge.values, (v) => (Number.isNaN(v) ? null : v));
}

/** What identifies the generated data, so that recorded answers are never compared with other data. */
export function pitFingerprint(c: PitCase): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex');
}

const PANDAS_SCRIPT = `
import json, sys
import pandas as pd
d, ttl = sys.argv[1], int(sys.argv[2])
labels = pd.read_csv(d + '/labels.csv', dtype={'customerID': str})
feats = pd.read_csv(d + '/features.csv', dtype={'customerID': str})
labels['row'] = range(len(labels))
labels = labels.sort_values('at', kind='stable')
# merge_asof takes the last right row at or before each time: sorted by created time, that is the latest written.
feats = feats.sort_values(['billed_at', 'loaded_at'], kind='stable')
out = pd.merge_asof(labels, feats, left_on='at', right_on='billed_at', by='customerID', direction='backward',
                    tolerance=ttl, allow_exact_matches=True).sort_values('row')
values = [None if pd.isna(v) else float(v) for v in out['charge']]
print(json.dumps({'pandas': pd.__version__, 'values': values}))
`;

/** pandas' merge_asof on the case; throws when pandas cannot run (the caller skips with the reason). */
export function pitPandas(c: PitCase, python = referencePython()): { pandas: string; values: (number | null)[] } {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-pit-'));
  try {
    const rows = c.labels.key.map((k, i) => `${k},${c.labels.time[i]}`);
    writeFileSync(join(dir, 'labels.csv'), `customerID,at\n${rows.join('\n')}\n`);
    const feats: string[] = [];
    for (const b of c.batches) b.key.forEach((k, i) => feats.push(`${k},${b.time[i]},${b.created[i]},${b.value[i]}`));
    writeFileSync(join(dir, 'features.csv'), `customerID,billed_at,loaded_at,charge\n${feats.join('\n')}\n`);
    writeFileSync(join(dir, 'pit.py'), PANDAS_SCRIPT);
    const run = spawnSync(python, [join(dir, 'pit.py'), dir, String(PIT_TTL_MS)], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (run.error || run.status !== 0) throw new Error(`${python} with pandas could not run: ${run.error?.message ?? run.stderr.trim().split('\n').slice(-1)[0]}`);
    return JSON.parse(run.stdout) as { pandas: string; values: (number | null)[] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The recorded figures: the data's fingerprint and pandas' answer per label. */
export interface PitFigures {
  readonly data: string;
  readonly out: (number | null)[];
}

export function parsePitFigures(figures: unknown, where: string): PitFigures {
  const f = figures as Partial<PitFigures> | null;
  if (!f || typeof f.data !== 'string' || !Array.isArray(f.out) || !f.out.every((v) => v === null || isFiniteNumber(v))) {
    throw new Error(`${where}: figures must be { data: <sha256>, out: [number | null, …] }; record it again`);
  }
  return { data: f.data, out: f.out };
}

/** Runs pandas on the case and writes test/reference-figures/store-pit.json (npm run reference:record). */
export function recordStorePitFigures(base: Omit<Provenance, 'versions'>, python = referencePython()): string {
  const c = pitCase();
  const live = pitPandas(c, python);
  const path = join(FIGURES_DIR, STORE_FIGURES);
  const figures: PitFigures = { data: pitFingerprint(c), out: live.values };
  writeFileSync(path, `${JSON.stringify({ ...base, versions: { pandas: live.pandas }, figures }, null, 2)}\n`);
  return path;
}
