// bramble materialize into the online store: partitions ingested through the real ingest, the view's steps applied,
// each entity's latest value (event time, then created time) kept, and incremental runs that read only the new
// partitions, where a newer row wins and a late older one does not overwrite.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { materialize, versionsToRead } from '../src/store/materialize.js';
import type { FeatureRepo } from '../src/store/spec.js';
import { OnlineStore, ONLINE_STORE, type OnlineRow } from '../src/store/online.js';
import { OnlineFeatures } from '../src/store/online-serve.js';
import { Metrics } from '../src/serve/metrics.js';
import { bramble } from './helpers/cli.js';
import { billingRows, customerId, ingestAt, makeFeatureRepo, openRepo, usageRows, writeSource } from './helpers/store-online.js';

const NOW = () => Date.parse('2026-12-06T12:00:00Z');

/** The stored row of one entity in one view, as a record of column → value plus its event time. */
function stored(file: string, view: string, key: string): Record<string, unknown> | undefined {
  const store = OnlineStore.open(file, { readonly: true });
  try {
    const { layout, read } = store.reader(view);
    const row: OnlineRow | undefined = read([key]);
    if (!row) return undefined;
    const out: Record<string, unknown> = Object.fromEntries(layout.columns.map((c, i) => [c.name, row[i]]));
    out.event_time = new Date(row[row.length - 1] as number).toISOString();
    return out;
  } finally {
    store.close();
  }
}

/** A features repository with `n` customers' billing (2026-11-01) and usage (2026-12-01) ingested once. */
async function ingested(n: number): Promise<{ dir: string; repo: FeatureRepo; file: string }> {
  const dir = makeFeatureRepo();
  writeSource(dir, 'data/billing.csv', billingRows(n, '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z', 1));
  writeSource(dir, 'data/usage.csv', usageRows(n, '2026-12-01T00:00:00Z', 2));
  await ingestAt(dir, '2026-12-01T02:00:00Z');
  const repo = await openRepo(dir);
  return { dir, repo, file: join(repo.store, ONLINE_STORE.file) };
}

describe('bramble materialize', () => {
  it('writes each entity once with the view steps applied, then reads only new partitions: newer wins, a late older row does not overwrite', async () => {
    const { dir, repo, file } = await ingested(50);

    const first = await materialize(repo, file, { now: NOW });
    expect(first.views.map((v) => [v.view, v.versions, v.rows, v.entities, v.written, v.kept, v.stored, v.full])).toEqual([
      ['billing', ['2026.12.01'], 50, 50, 50, 0, 50, true],
      ['usage', ['2026.12.01'], 50, 50, 50, 0, 50, true],
    ]);
    // Customer 3 has no TotalCharges: imputed with 0, so months is 0; the steps' columns are stored, `calls` dropped.
    const c3 = billingRows(50, '', '', 1)[3];
    expect(stored(file, 'billing', customerId(3))).toEqual({
      MonthlyCharges: c3.MonthlyCharges,
      TotalCharges: 0,
      Contract: c3.Contract,
      months: 0,
      long_contract: c3.Contract === 'Two year' ? 1 : 0,
      event_time: '2026-11-01T00:00:00.000Z',
    });
    const u0 = usageRows(50, '', 2)[0];
    expect(stored(file, 'usage', customerId(0))).toEqual({ minutes: u0.minutes, minutes_per_call: null, event_time: '2026-12-01T00:00:00.000Z' });

    // A second batch: customers 0–9 billed again later (newer: wins); customers 10–19 arrive late with an older
    // billing (must not overwrite); customer 20 at the same event time with a later created time (wins the tie).
    const newer = billingRows(10, '2026-11-20T00:00:00Z', '2026-12-02T01:00:00Z', 3);
    const late = billingRows(20, '2026-10-15T00:00:00Z', '2026-12-02T01:00:00Z', 4).slice(10);
    const tie = billingRows(21, '2026-11-01T00:00:00Z', '2026-12-02T01:00:00Z', 5).slice(20);
    writeSource(dir, 'data/billing.csv', [...newer, ...late, ...tie]);
    await ingestAt(dir, '2026-12-02T02:00:00Z', ['billing']);
    const second = await materialize(repo, file, { now: NOW });
    expect(second.views.map((v) => [v.view, v.versions, v.rows, v.written, v.kept, v.stored, v.full])).toEqual([
      ['billing', ['2026.12.02'], 21, 11, 10, 50, false],
      ['usage', [], 0, 0, 0, 50, false],
    ]);
    expect(stored(file, 'billing', customerId(4))).toMatchObject({ MonthlyCharges: newer[4].MonthlyCharges, event_time: '2026-11-20T00:00:00.000Z' });
    expect(stored(file, 'billing', customerId(14))).toMatchObject({ MonthlyCharges: billingRows(50, '', '', 1)[14].MonthlyCharges, event_time: '2026-11-01T00:00:00.000Z' });
    expect(stored(file, 'billing', customerId(20))).toMatchObject({ MonthlyCharges: tie[0].MonthlyCharges, event_time: '2026-11-01T00:00:00.000Z' });

    // Nothing new: nothing read.
    const third = await materialize(repo, file, { now: NOW });
    expect(third.views.map((v) => v.versions)).toEqual([[], []]);
  });

  it('takes a row a later batch restates at the same event and created time, incrementally and in one run, as the offline join does', async () => {
    const { dir, repo, file } = await ingested(5);
    await materialize(repo, file, { now: NOW });
    const restated = billingRows(3, '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z', 9).slice(2);
    expect(restated[0].MonthlyCharges).not.toBe(billingRows(5, '', '', 1)[2].MonthlyCharges);
    writeSource(dir, 'data/billing.csv', restated);
    await ingestAt(dir, '2026-12-02T02:00:00Z', ['billing']);
    await materialize(repo, file, { now: NOW });
    expect(stored(file, 'billing', customerId(2))).toMatchObject({ MonthlyCharges: restated[0].MonthlyCharges, event_time: '2026-11-01T00:00:00.000Z' });
    // Both partitions in one run (a new online file): the same answer, not a duplicate-row error.
    const fresh = join(dir, 'fresh.sqlite');
    await materialize(repo, fresh, { now: NOW });
    expect(stored(fresh, 'billing', customerId(2))).toMatchObject({ MonthlyCharges: restated[0].MonthlyCharges });
    expect(stored(fresh, 'billing', customerId(1))).toMatchObject({ MonthlyCharges: billingRows(5, '', '', 1)[1].MonthlyCharges });
  });

  it('keeps only values at or before --until, and a later run without it reads the partitions with rows after that instant again', async () => {
    const dir = makeFeatureRepo();
    writeSource(dir, 'data/billing.csv', [
      ...billingRows(5, '2026-11-01T00:00:00Z', '2026-11-01T01:00:00Z', 1),
      ...billingRows(5, '2026-11-10T00:00:00Z', '2026-11-10T01:00:00Z', 2),
    ]);
    await ingestAt(dir, '2026-12-01T02:00:00Z', ['billing']);
    const repo = await openRepo(dir);
    const file = join(repo.store, ONLINE_STORE.file);
    const early = await materialize(repo, file, { views: ['billing'], until: Date.parse('2026-11-05T00:00:00Z'), now: NOW });
    expect(early.views[0]).toMatchObject({ rows: 10, entities: 5, written: 5 });
    expect(stored(file, 'billing', customerId(2))).toMatchObject({ event_time: '2026-11-01T00:00:00.000Z' });
    const all = await materialize(repo, file, { views: ['billing'], now: NOW });
    expect(all.views[0]).toMatchObject({ versions: ['2026.12.01'], written: 5, kept: 0 });
    expect(stored(file, 'billing', customerId(2))).toMatchObject({ event_time: '2026-11-10T00:00:00.000Z', MonthlyCharges: billingRows(5, '', '', 2)[2].MonthlyCharges });
  });

  it('writes a view anew when features.yaml changes it, with no new partition; a server sees the new column within a second', async () => {
    const made = await ingested(8);
    const { dir, file } = made;
    let repo = made.repo;
    await materialize(repo, file, { now: NOW });
    let clock = NOW();
    const features = await OnlineFeatures.open({ repo: dir }, { env: {}, metrics: new Metrics(), now: () => clock });
    try {
      const model = { inputs: [{ name: 'long_contract' }, { name: 'double_charge' }], passthrough: [] };
      const before: Record<string, unknown> = { customerID: customerId(2) };
      features.fill([before], model, (i) => `row ${i}`);
      expect(before).toEqual({ long_contract: billingRows(8, '', '', 1)[2].Contract === 'Two year' ? 1 : 0 });

      // The same columns with another expression (the layout is the same: only the definition tells), and a new one.
      const yaml = readFileSync(join(dir, 'features.yaml'), 'utf8');
      writeFileSync(
        join(dir, 'features.yaml'),
        yaml.replace(`long_contract: "d => d.Contract === 'Two year' ? 1 : 0"`, `long_contract: "d => d.Contract === 'Month-to-month' ? 0 : 1"\n          double_charge: "d => d.MonthlyCharges * 2"`),
      );
      repo = await openRepo(dir);
      const again = await materialize(repo, file, { views: ['billing'], now: NOW });
      expect(again.views[0]).toMatchObject({ versions: ['2026.12.01'], written: 8, full: true });
      const b2 = billingRows(8, '', '', 1)[2];
      expect(stored(file, 'billing', customerId(2))).toMatchObject({ long_contract: b2.Contract === 'Month-to-month' ? 0 : 1, double_charge: b2.MonthlyCharges * 2 });
      const unchanged = await materialize(repo, file, { views: ['billing'], now: NOW });
      expect(unchanged.views[0]).toMatchObject({ versions: [], full: false });

      // The open reader finds the new layout once a second has passed.
      clock += 1000;
      const after: Record<string, unknown> = { customerID: customerId(2) };
      features.fill([after], model, (i) => `row ${i}`);
      expect(after).toEqual({ long_contract: b2.Contract === 'Month-to-month' ? 0 : 1, double_charge: b2.MonthlyCharges * 2 });
    } finally {
      features.close();
    }
  });

  it('chooses the partitions to read from the record: newer versions, and those with rows after the recorded until', () => {
    const m = (version: string, max: string) => ({ version, event_time: { min: max, max } }) as Parameters<typeof versionsToRead>[0][number];
    const manifests = [m('2026.12.01', '2026-11-30T00:00:00Z'), m('2026.12.01.2', '2026-12-01T00:00:00Z'), m('2026.12.02', '2026-12-02T00:00:00Z')];
    expect(versionsToRead(manifests, null, undefined)).toEqual(['2026.12.01', '2026.12.01.2', '2026.12.02']);
    expect(versionsToRead(manifests, { version: '2026.12.01.2', until: null }, undefined)).toEqual(['2026.12.02']);
    expect(versionsToRead(manifests, { version: '2026.12.02', until: Date.parse('2026-11-30T12:00:00Z') }, undefined)).toEqual(['2026.12.01.2', '2026.12.02']);
    expect(versionsToRead(manifests, { version: '2026.12.02', until: Date.parse('2026-11-30T12:00:00Z') }, Date.parse('2026-11-30T06:00:00Z'))).toEqual([]);
  });

  it('refuses an unknown --view with the nearest name, before opening the store', async () => {
    const dir = makeFeatureRepo();
    const repo = await openRepo(dir);
    await expect(materialize(repo, join(dir, 'never', 'online.sqlite'), { views: ['biling'], now: NOW })).rejects.toMatchObject({
      code: 'E_FEATURES_CONFIG',
      message: expect.stringContaining('did you mean "billing"'),
    });
  });

  it('runs as bramble materialize: --json reports each view, a bad --until exits 2 naming the value', async () => {
    const { dir } = await ingested(5);
    const online = join(dir, 'elsewhere', 'online.sqlite');
    const ran = bramble(['materialize', dir, '--online', online, '--view', 'usage', '--json']);
    expect(ran.stderr).toBe('');
    expect(ran.status).toBe(0);
    expect(JSON.parse(ran.stdout)).toMatchObject({ file: online, views: [{ view: 'usage', versions: ['2026.12.01'], entities: 5, written: 5, stored: 5 }] });
    const bad = bramble(['materialize', dir, '--until', 'last tuesday']);
    expect({ status: bad.status, stderr: bad.stderr }).toEqual({
      status: 2,
      stderr: 'bramble: --until is "last tuesday", not a time; give ISO 8601 such as 2026-12-01 or 2026-12-01T06:00:00Z (UTC unless it gives an offset)\n',
    });
  });

  it('refuses to read a store that was never materialized, naming the command', () => {
    expect(() => OnlineStore.open('/nonexistent/online.sqlite', { readonly: true })).toThrow(/run bramble materialize first/);
  });
});
