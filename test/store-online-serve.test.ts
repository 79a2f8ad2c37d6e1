// bramble serve with online features, through the real server on port 0: a row that carries only its entity key
// is filled from the online store and scores exactly as the same row with every input; the answer and /metrics say
// each view's age and staleness; a missing entity is a 404 naming the key or nulls, as the view declares; a row
// without its key is a 400 naming it; a row with every input never touches the store.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkServeConfig, type ServeConfig } from '../src/serve/config.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { materialize } from '../src/store/materialize.js';
import { ONLINE_STORE } from '../src/store/online.js';
import { OnlineFeatures } from '../src/store/online-serve.js';
import { Metrics } from '../src/serve/metrics.js';
import { billingRows, customerId, ingestAt, makeFeatureRepo, openRepo, trainOnViewColumns, usageRows, writeSource, type BillingRow, type UsageRow } from './helpers/store-online.js';

const DAY = 86_400_000;
const T = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();

/** Customers 0–29 billed two days ago (fresh under billing's 30d ttl), 30–59 forty days ago (stale); usage for 0–49 only. */
const billing: BillingRow[] = [...billingRows(30, iso(T - 2 * DAY), iso(T - 2 * DAY + 3_600_000), 1), ...billingRows(60, iso(T - 40 * DAY), iso(T - 40 * DAY + 3_600_000), 2).slice(30)];
const usage: UsageRow[] = usageRows(50, iso(T - DAY), 3);

/** The row the views give customer `i`, computed here from the generated data and the steps in features.yaml. */
function inputsOf(i: number): Record<string, unknown> {
  const b = billing[i];
  const total = b.TotalCharges ?? 0;
  const u = usage[i] as UsageRow | undefined;
  return {
    MonthlyCharges: b.MonthlyCharges,
    TotalCharges: total,
    Contract: b.Contract,
    months: Math.round(total / b.MonthlyCharges),
    long_contract: b.Contract === 'Two year' ? 1 : 0,
    minutes: u ? u.minutes : null,
    minutes_per_call: u && u.calls > 0 ? u.minutes / u.calls : null,
  };
}

let root: string;
let server: RunningServer;
let config: ServeConfig;
const warnings: string[] = [];

function serveConfig(features: Record<string, unknown>): ServeConfig {
  return checkServeConfig(
    { listen: { host: '127.0.0.1', port: 0 }, workers: 1, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } }, features },
    join(root, 'serve.json'),
    root,
  );
}

beforeAll(async () => {
  const repoDir = makeFeatureRepo();
  writeSource(repoDir, 'data/billing.csv', billing);
  writeSource(repoDir, 'data/usage.csv', usage);
  await ingestAt(repoDir, iso(T));
  const repo = await openRepo(repoDir);
  await materialize(repo, join(repo.store, ONLINE_STORE.file), { now: Date.now });
  root = mkdtempSync(join(tmpdir(), 'bramble-online-serve-'));
  mkdirSync(join(root, 'models', 'prod'), { recursive: true });
  writeFileSync(join(root, 'models', 'prod', 'current.json'), await trainOnViewColumns());
  config = serveConfig({ repo: repoDir, views: ['billing', 'usage'] });
  server = await startServer(config, { env: {}, version: 'test', warn: (m) => warnings.push(m) });
}, 120_000);

afterAll(async () => {
  await server?.close();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function post(path: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** v2 inference for records (each a column → value), as one tensor per column; the answer's probabilities. */
async function infer(records: Record<string, unknown>[]): Promise<Answer & { proba: number[] }> {
  const names = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const inputs = names.map((name) => ({
    name,
    shape: [records.length],
    datatype: records.some((r) => typeof r[name] === 'string') ? 'BYTES' : 'FP64',
    data: records.map((r) => r[name] ?? null),
  }));
  const answer = await post('/prod/v2/models/churn-online/infer', { inputs });
  const outputs = (answer.body.outputs ?? []) as { name: string; data: number[] }[];
  return { ...answer, proba: outputs.find((o) => o.name === 'predict_proba')?.data ?? [] };
}

describe('bramble serve with online features', () => {
  it('fills a row that carries only its key, and it scores bit for bit as the same row with every input', async () => {
    const customers = [1, 3, 10, 29, 40];
    const byKey = await infer(customers.map((i) => ({ customerID: customerId(i) })));
    expect(byKey.status, JSON.stringify(byKey.body)).toBe(200);
    const whole = await infer(customers.map((i) => ({ customerID: customerId(i), ...inputsOf(i) })));
    expect(whole.status, JSON.stringify(whole.body)).toBe(200);
    expect(byKey.proba).toHaveLength(customers.length * 2);
    expect(byKey.proba.every((p, k) => Object.is(p, whole.proba[k]))).toBe(true);
    // A row with every input needs no store: the answer says nothing of features.
    expect(whole.body.parameters).toBeUndefined();
    const meta = (byKey.body.parameters as { features: { views: Record<string, { age_seconds: number[]; stale: boolean[]; missing: boolean[] }> } }).features.views;
    expect(meta.billing.stale).toEqual([false, false, false, false, true]);
    expect(meta.billing.missing).toEqual([false, false, false, false, false]);
    expect(meta.billing.age_seconds[0]).toBeGreaterThanOrEqual(2 * 86_400);
    expect(meta.billing.age_seconds[0]).toBeLessThan(2 * 86_400 + 600);
    expect(meta.billing.age_seconds[4]).toBeGreaterThanOrEqual(40 * 86_400);
    expect(meta.usage.stale).toEqual([false, false, false, false, false]);
    // What the model scored, as the prediction log recorded it: each row's inputs exactly as the views give them.
    await server.log.flush();
    const lines = readFileSync(join(root, 'logs', 'predictions.jsonl'), 'utf8').trim().split('\n');
    const logged = lines.map((l) => JSON.parse(l) as { id: string; inputs: Record<string, unknown>[] }).find((l) => l.inputs.length === customers.length && Object.keys(l.inputs[0]).length > 1);
    expect(logged?.inputs).toEqual(customers.map((i) => ({ customerID: customerId(i), ...inputsOf(i) })));
  });

  it('keeps a value the row gives (an override), filling only what it leaves out', async () => {
    const override = await infer([{ customerID: customerId(7), MonthlyCharges: 999, minutes: 0 }]);
    const whole = await infer([{ customerID: customerId(7), ...inputsOf(7), MonthlyCharges: 999, minutes: 0 }]);
    const plain = await infer([{ customerID: customerId(7) }]);
    expect(override.status).toBe(200);
    expect(override.proba).toEqual(whole.proba);
    expect(plain.proba).not.toEqual([]);
  });

  it('answers MLflow /invocations with the features per view beside the predictions', async () => {
    const answer = await post('/prod/invocations', { dataframe_records: [{ customerID: customerId(2) }, { customerID: customerId(33) }] });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.predictions).toHaveLength(2);
    expect(answer.body.features).toMatchObject({ views: { billing: { stale: [false, true], missing: [false, false] }, usage: { stale: [false, false] } } });
  });

  it('fills nulls for an entity a view with on_missing: null lacks, and says so', async () => {
    // Customer 55 is billed but has no usage.
    const answer = await post('/prod/invocations', { dataframe_records: [{ customerID: customerId(55) }] });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const views = (answer.body.features as { views: Record<string, { age_seconds: (number | null)[] }> }).views;
    expect(views.billing.age_seconds[0]).toBeGreaterThan(40 * 86_400);
    expect(views).toEqual({
      billing: { age_seconds: views.billing.age_seconds, stale: [true], missing: [false] },
      usage: { age_seconds: [null], stale: [null], missing: [true] },
    });
    const whole = await infer([{ customerID: customerId(55), ...inputsOf(55) }]);
    const byKey = await infer([{ customerID: customerId(55) }]);
    expect(byKey.proba).toEqual(whole.proba);
  });

  it('answers 404 naming the key and the view for an entity a view with on_missing: error lacks', async () => {
    const answer = await post('/prod/invocations', { dataframe_records: [{ customerID: customerId(1) }, { customerID: 'C999999' }] });
    expect(answer.status).toBe(404);
    expect(answer.body.message).toBe(
      'row 1: the online store has no customer customerID="C999999" in view billing; materialize it, send its features in the row, or declare on_missing: null for the view',
    );
  });

  it('answers 400 naming the key when a row leaves features to the store without its key', async () => {
    const answer = await post('/prod/invocations', { dataframe_records: [{ MonthlyCharges: 50, Contract: 'One year' }] });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/^row 0: the row has no entity key "customerID", which view billing needs to look up "TotalCharges", "months", "long_contract"; give "customerID"/);
    const v2 = await post('/prod/v2/models/churn-online/infer', { inputs: [{ name: 'customerID', shape: [1], datatype: 'FP64', data: [null] }] });
    expect(v2.status).toBe(400);
    expect(v2.body.error).toMatch(/has no entity key "customerID"/);
  });

  it('counts lookups, misses, stale values and value ages per view in /metrics', async () => {
    const before = await (await fetch(`${server.url}/metrics`)).text();
    const count = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}"+]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    await post('/prod/invocations', { dataframe_records: [{ customerID: customerId(0) }, { customerID: customerId(45) }, { customerID: customerId(58) }] });
    const after = await (await fetch(`${server.url}/metrics`)).text();
    const delta = (series: string): number => count(after, series) - count(before, series);
    expect(delta('bramble_feature_lookups_total{view="billing"}')).toBe(3);
    expect(delta('bramble_feature_lookups_total{view="usage"}')).toBe(3);
    expect(delta('bramble_feature_lookup_misses_total{view="usage"}')).toBe(1);
    expect(delta('bramble_feature_lookup_misses_total{view="billing"}')).toBe(0);
    expect(delta('bramble_feature_stale_total{view="billing"}')).toBe(2);
    expect(delta('bramble_feature_stale_total{view="usage"}')).toBe(0);
    expect(delta('bramble_feature_age_seconds_count{view="billing"}')).toBe(3);
    expect(delta('bramble_feature_age_seconds_bucket{view="billing",le="604800"}')).toBe(1);
  });

  it('fills only the model\'s inputs, and takes out a key the model does not read', async () => {
    const features = await OnlineFeatures.open({ repo: config.features?.repo ?? '' }, { env: {}, metrics: new Metrics() });
    try {
      const row: Record<string, unknown> = { customerID: customerId(4) };
      // A model that reads two of billing's columns, with another id and TotalCharges as its target.
      const answer = features.fill([row], { inputs: [{ name: 'MonthlyCharges' }, { name: 'months' }], passthrough: ['account', 'TotalCharges'] }, (i) => `row ${i}`);
      expect(row).toEqual({ MonthlyCharges: inputsOf(4).MonthlyCharges, months: inputsOf(4).months });
      expect(Object.keys(answer?.views ?? {})).toEqual(['billing']);
      expect(features.fill([{ MonthlyCharges: 1 }], { inputs: [{ name: 'calls' }], passthrough: [] }, (i) => `row ${i}`)).toBeNull();
    } finally {
      features.close();
    }
  });

  it('refuses to start with a view features.yaml lacks, or a store never materialized, naming the fix', async () => {
    const deps = { env: {}, version: 'test', warn: () => undefined };
    await expect(startServer(serveConfig({ repo: config.features?.repo, views: ['billing', 'usgae'] }), deps)).rejects.toMatchObject({
      code: 'E_ONLINE_STORE',
      message: expect.stringContaining('features.views names "usgae", not a view of'),
    });
    await expect(startServer(serveConfig({ repo: config.features?.repo, store: 'nowhere/online.sqlite' }), deps)).rejects.toMatchObject({
      code: 'E_ONLINE_STORE',
      message: expect.stringMatching(/online store .*nowhere\/online\.sqlite cannot be opened to read .*run bramble materialize first/),
    });
  });
});
