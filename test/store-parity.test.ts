// One definition, both sides (issue 17 item 5): over 1,000 entities with histories — newer rows, late older rows,
// created-time ties, future rows past --until, entities a view lacks, values past their ttl — the row the real
// server fills from the online store (materialize twice, incrementally, then a lookup on port 0) equals the row the
// offline point-in-time join gives at the same instant, value for value, after the views' steps. Where the join
// leaves a view's columns empty because the value is older than its ttl, the online answer says "stale".
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cellValue, type Column, type Table } from '../src/data/table.js';
import { checkServeConfig } from '../src/serve/config.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { materialize } from '../src/store/materialize.js';
import { readView } from '../src/store/offline.js';
import { ONLINE_STORE } from '../src/store/online.js';
import { buildTrainingSet } from '../src/store/training-set.js';
import { customerId, ingestAt, lcg, makeFeatureRepo, openRepo, trainOnViewColumns, writeSource, type BillingRow, type UsageRow } from './helpers/store-online.js';

const N = 1000;
const DAY = 86_400_000;
const T = Date.now();
const at = (days: number): string => new Date(T + days * DAY).toISOString();
const CONTRACTS = ['Month-to-month', 'One year', 'Two year'] as const;

function bill(i: number, days: number, createdDays: number, next: () => number): BillingRow {
  const monthly = Math.round(2000 + next() * 10000) / 100;
  return {
    customerID: customerId(i),
    billed_at: at(days),
    loaded_at: at(createdDays),
    MonthlyCharges: monthly,
    TotalCharges: next() < 0.1 ? null : Math.round(monthly * Math.floor(1 + next() * 60) * 100) / 100,
    Contract: CONTRACTS[Math.floor(next() * 3)],
  };
}

function use(i: number, days: number, next: () => number): UsageRow {
  return { customerID: customerId(i), day: at(days), calls: next() < 0.2 ? 0 : Math.floor(next() * 40), minutes: Math.round(next() * 900) };
}

/** The first batch of each view, then the second: the histories the header describes. */
function batches(): { billing: BillingRow[][]; usage: UsageRow[][] } {
  const next = lcg(42);
  const b1: BillingRow[] = [];
  const b2: BillingRow[] = [];
  const u1: UsageRow[] = [];
  const u2: UsageRow[] = [];
  for (let i = 0; i < N; i++) {
    b1.push(bill(i, -50, -49, next)); // past billing's 30d ttl unless something newer comes
    if (i % 2 === 0) b1.push(bill(i, -5, -4, next));
    if (i % 3 === 0) b2.push(bill(i, -3, -1, next)); // newer: wins
    if (i % 5 === 0) b2.push(bill(i, -60, -1, next)); // late and older: must not win
    if (i % 7 === 0) b2.push(bill(i, i % 2 === 0 ? -5 : -50, -1, next)); // the same event time, created later: wins
    if (i % 11 === 0) b2.push(bill(i, 5, -1, next)); // after --until: never served, never joined
    if (i % 4 !== 0) u1.push(use(i, i % 10 === 9 ? -9 : -2, next)); // i % 4 === 0 has no usage; i % 10 === 9 is stale
    if (i % 8 === 1) u2.push(use(i, -10, next)); // older than what is stored
    if (i % 6 === 2) u2.push(use(i, -1, next));
  }
  return { billing: [b1, b2], usage: [u1, u2] };
}

function entityTable(time: number): Table {
  const codes = Int32Array.from({ length: N }, (_, i) => i);
  const customer: Column = { name: 'customerID', kind: 'string', values: { codes, categories: Array.from({ length: N }, (_, i) => customerId(i)) } };
  const eventTime: Column = { name: 'event_time', kind: 'date', values: new Float64Array(N).fill(time) };
  return { rows: N, columns: [customer, eventTime], lines: Int32Array.from({ length: N }, (_, i) => i + 2) };
}

let server: RunningServer | undefined;
afterAll(async () => {
  await server?.close();
});

describe('offline and online rows', () => {
  it('are equal for 1,000 entities, value for value after the steps, stale exactly where the join is out of ttl', async () => {
    const dir = makeFeatureRepo();
    const { billing, usage } = batches();
    const repo = await openRepo(dir);
    const file = join(repo.store, ONLINE_STORE.file);
    writeSource(dir, 'data/billing.csv', billing[0]);
    writeSource(dir, 'data/usage.csv', usage[0]);
    await ingestAt(dir, at(-1));
    await materialize(repo, file, { until: T, now: Date.now });
    writeSource(dir, 'data/billing.csv', billing[1]);
    writeSource(dir, 'data/usage.csv', usage[1]);
    await ingestAt(dir, at(0));
    const second = await materialize(repo, file, { until: T, now: Date.now });
    expect(second.views.map((v) => [v.view, v.versions.length])).toEqual([
      ['billing', 1],
      ['usage', 1],
    ]);

    // Offline: the point-in-time join of every entity at T (which applies the views' steps, as materialize does).
    const views = [await readView(repo, 'billing'), await readView(repo, 'usage')];
    const offline = buildTrainingSet(entityTable(T), 'event_time', views, 'entities');

    // Online: the real server, each row only its key; what it scored comes back through the prediction log.
    const root = mkdtempSync(join(tmpdir(), 'bramble-parity-'));
    mkdirSync(join(root, 'models', 'prod'), { recursive: true });
    writeFileSync(join(root, 'models', 'prod', 'current.json'), await trainOnViewColumns());
    const config = checkServeConfig(
      { listen: { host: '127.0.0.1', port: 0 }, workers: 1, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } }, features: { repo: dir } },
      join(root, 'serve.json'),
      root,
    );
    server = await startServer(config, { env: {}, version: 'test', warn: () => undefined });
    const stale: Record<string, boolean[]> = { billing: [], usage: [] };
    for (let from = 0; from < N; from += 250) {
      const rows = Array.from({ length: 250 }, (_, k) => ({ customerID: customerId(from + k) }));
      const res = await fetch(`${server.url}/prod/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_records: rows }) });
      const body = (await res.json()) as { features: { views: Record<string, { stale: (boolean | null)[]; missing: (boolean | null)[] }> } };
      expect(res.status, JSON.stringify(body)).toBe(200);
      for (const v of ['billing', 'usage']) {
        const meta = body.features.views[v];
        // A row the store lacks (on_missing: null) is neither fresh nor stale: the join leaves it empty too.
        meta.stale.forEach((s, k) => stale[v].push(s === true || meta.missing[k] === true));
      }
    }
    await server.log.flush();
    const online = readFileSync(join(root, 'logs', 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .flatMap((line) => (JSON.parse(line) as { inputs: Record<string, unknown>[] }).inputs);
    expect(online).toHaveLength(N);

    const columnsOf: Record<string, string[]> = { billing: ['MonthlyCharges', 'TotalCharges', 'Contract', 'months', 'long_contract'], usage: ['minutes', 'minutes_per_call'] };
    const cell = (name: string, row: number): unknown => cellValue(offline.table.columns.find((c) => c.name === name) as Column, row);
    let compared = 0;
    const outOfTtl: Record<string, number> = { billing: 0, usage: 0 };
    for (let i = 0; i < N; i++) {
      expect(online[i].customerID).toBe(customerId(i));
      for (const [view, names] of Object.entries(columnsOf)) {
        const offlineRow = Object.fromEntries(names.map((n) => [n, cell(n, i)]));
        if (stale[view][i]) {
          outOfTtl[view]++;
          expect({ i, view, row: offlineRow }).toEqual({ i, view, row: Object.fromEntries(names.map((n) => [n, null])) });
        } else {
          expect({ i, view, row: Object.fromEntries(names.map((n) => [n, online[i][n]])) }).toEqual({ i, view, row: offlineRow });
          compared++;
        }
      }
    }
    // The histories reach every case: most rows compared, and both views have rows past their ttl (or absent).
    const matched = Object.fromEntries(offline.views.map((v) => [v.view, v.matched]));
    expect(outOfTtl).toEqual({ billing: N - matched.billing, usage: N - matched.usage });
    expect(outOfTtl.billing).toBeGreaterThan(100);
    expect(outOfTtl.usage).toBeGreaterThan(200);
    expect(compared).toBeGreaterThan(1200);
  }, 120_000);
});
