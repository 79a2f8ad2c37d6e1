// The offline store's path at a user's size (issue 17): a source of 1,000,000 rows through the real `ingest`
// (validation, the order by key, the Parquet partition, its manifest), read back by `readView` (checked against the
// manifest's sha256), and joined onto 1,000,000 labels by `buildTrainingSet`.
//
// Decisions:
// - One usage row per customer at a known day, so every label's answer is known without a second join: a label one
//   day after its customer's row sees that row (minutes, and minutes_per_call from the view's steps); a label ten
//   days after is past the view's 7-day TTL and sees nothing; a label a day before sees nothing (no future values).
// - The CSV is written in chunks from a seeded stream, so every run sees the same bytes.
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Column, Table } from '../src/data/table.js';
import { readView } from '../src/store/offline.js';
import { buildTrainingSet } from '../src/store/training-set.js';
import { textColumn } from './helpers/reference-store.js';
import { customerId, ingestAt, lcg, makeFeatureRepo, openRepo } from './helpers/store-online.js';

const N = 1_000_000;
const DAY = 86_400_000;
const BASE = Date.parse('2026-11-01T00:00:00Z');

/** Customer i's usage row: day BASE + (i mod 20) days, calls and minutes from a seeded stream. */
function usageOf(next: () => number, i: number): { day: number; calls: number; minutes: number } {
  return { day: BASE + (i % 20) * DAY, calls: Math.floor(next() * 50), minutes: Math.round(next() * 100_000) / 100 };
}

async function writeUsage(file: string): Promise<void> {
  const out = createWriteStream(file);
  const next = lcg(17);
  let chunk = 'customerID,day,calls,minutes\n';
  for (let i = 0; i < N; i++) {
    const u = usageOf(next, i);
    chunk += `${customerId(i)},${new Date(u.day).toISOString()},${u.calls},${u.minutes}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise<void>((resolve, reject) => out.on('finish', resolve).on('error', reject));
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe(`the offline store at ${N.toLocaleString('en')} rows`, () => {
  it('ingests, reads back and joins every row: a label sees its row within the TTL, never past it or before it', async () => {
    const dir = makeFeatureRepo();
    dirs.push(dir);
    mkdirSync(join(dir, 'data'), { recursive: true });
    await writeUsage(join(dir, 'data/usage.csv'));
    const result = await ingestAt(dir, '2026-12-02T00:00:00Z', ['usage']);
    expect(result.views.map((v) => [v.view, v.status, v.status === 'ingested' ? v.rows : null])).toEqual([['usage', 'ingested', N]]);

    const rows = await readView(await openRepo(dir), 'usage');
    expect(rows.table.rows).toBe(N);
    expect(rows.manifests.map((m) => [m.version, m.rows])).toEqual([['2026.12.02', N]]);
    expect(rows.manifests[0].event_time).toEqual({ min: new Date(BASE).toISOString(), max: new Date(BASE + 19 * DAY).toISOString() });

    // Labels: customer i asks one day after its row (i mod 3 = 0), ten days after (1: past the 7-day TTL) or one
    // day before (2: its row is in the future).
    const ids: string[] = new Array<string>(N);
    const at = new Float64Array(N);
    const offset = [DAY, 10 * DAY, -DAY];
    for (let i = 0; i < N; i++) {
      ids[i] = customerId(i);
      at[i] = BASE + (i % 20) * DAY + offset[i % 3];
    }
    const labels: Table = { rows: N, columns: [textColumn('customerID', ids), { name: 'at', kind: 'date', values: at }], lines: Int32Array.from({ length: N }, (_, i) => i + 2) };
    const set = buildTrainingSet(labels, 'at', [rows], 'data/labels.csv');
    expect(set.table.rows).toBe(N);
    expect(set.views[0].matched).toBe(Math.ceil(N / 3));
    const column = (name: string): Float64Array => (set.table.columns.find((c) => c.name === name) as Column & { values: Float64Array }).values;
    expect(set.table.columns.map((c) => c.name)).toEqual(['customerID', 'at', 'minutes', 'minutes_per_call']);
    const minutes = column('minutes');
    const perCall = column('minutes_per_call');
    const next = lcg(17);
    for (let i = 0; i < N; i++) {
      const u = usageOf(next, i);
      if (i % 997 !== 0) continue;
      if (i % 3 === 0) {
        expect(minutes[i]).toBe(u.minutes);
        if (u.calls > 0) expect(perCall[i]).toBe(u.minutes / u.calls);
        else expect(Number.isNaN(perCall[i])).toBe(true);
      } else {
        expect(Number.isNaN(minutes[i])).toBe(true);
      }
    }
  }, 240_000);
});
