// bramble serve with online features and `workers: 2`, as a process (dist/cli.js): each worker opens the online store
// read-only and fills rows by key; both answer; /metrics sums their lookups; a materialization while they serve is
// seen by the next request (WAL: the writer does not block the readers, and they read its commit).
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { materialize } from '../src/store/materialize.js';
import { ONLINE_STORE } from '../src/store/online.js';
import { startServe } from './helpers/cli.js';
import { billingRows, customerId, ingestAt, makeFeatureRepo, openRepo, trainOnViewColumns, usageRows, writeSource } from './helpers/store-online.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** One request on a connection of its own, so that the primary hands each to the next worker. */
function post(url: string, body: unknown): Promise<{ status: number; body: string }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let answer = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (answer += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: answer }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

describe('bramble serve with online features and workers: 2', () => {
  it('fills rows in every worker, sums their lookups in /metrics, and serves a new materialization at once', async () => {
    const day = (d: number): string => new Date(Date.now() - d * 86_400_000).toISOString();
    const repoDir = makeFeatureRepo();
    writeSource(repoDir, 'data/billing.csv', billingRows(20, day(3), day(3), 1));
    writeSource(repoDir, 'data/usage.csv', usageRows(20, day(1), 2));
    await ingestAt(repoDir, day(1));
    const repo = await openRepo(repoDir);
    await materialize(repo, join(repo.store, ONLINE_STORE.file), { now: Date.now });

    const host = mkdtempSync(join(tmpdir(), 'bramble-online-cluster-'));
    mkdirSync(join(host, 'models', 'prod'), { recursive: true });
    writeFileSync(join(host, 'models', 'prod', 'current.json'), await trainOnViewColumns());
    const config = join(host, 'serve.json');
    writeFileSync(config, JSON.stringify({ listen: { port: 0 }, workers: 2, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } }, features: { repo: repoDir } }));
    const served = await startServe(config);
    children.push(served.child);
    expect(served.stderr()).toContain('(2 workers)');

    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(`${served.url}/prod/invocations`, { dataframe_records: [{ customerID: customerId(i) }] })));
    for (const a of answers) {
      expect(a.status, a.body).toBe(200);
      expect(JSON.parse(a.body)).toMatchObject({ features: { views: { billing: { stale: [false], missing: [false] }, usage: { stale: [false], missing: [false] } } } });
    }
    // The workers accept connections themselves, so the kernel decides which one a connection reaches: more rounds
    // of requests until each worker has answered some (it always happens within a few; 30 rounds at most).
    const answeredBy = async () => ((await (await fetch(`${served.url}/status`)).json()) as { workers: { predictions: number }[] }).workers.map((w) => w.predictions > 0);
    let sent = answers.length;
    for (let round = 0; round < 30 && !(await answeredBy()).every(Boolean); round++) {
      sent += 10;
      const more = await Promise.all(Array.from({ length: 10 }, (_, i) => post(`${served.url}/prod/invocations`, { dataframe_records: [{ customerID: customerId(i) }] })));
      expect(more.map((a) => a.status)).toEqual(new Array(10).fill(200));
    }
    expect(await answeredBy()).toEqual([true, true]);
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^bramble_feature_lookups_total\\{view="billing"\\} ${sent}$`, 'm'));

    // Customer 25 is not in the store yet (404); once a new batch is ingested and materialized, both workers serve it.
    expect((await post(`${served.url}/prod/invocations`, { dataframe_records: [{ customerID: customerId(25) }] })).status).toBe(404);
    writeSource(repoDir, 'data/billing.csv', billingRows(30, day(2), day(2), 3));
    await ingestAt(repoDir, day(0), ['billing']);
    const second = await materialize(repo, join(repo.store, ONLINE_STORE.file), { views: ['billing'], now: Date.now });
    expect(second.views[0]).toMatchObject({ written: 30, stored: 30 });
    const after = await Promise.all(Array.from({ length: 4 }, () => post(`${served.url}/prod/invocations`, { dataframe_records: [{ customerID: customerId(25) }] })));
    expect(after.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(JSON.parse(after[0].body)).toMatchObject({ features: { views: { usage: { missing: [true] } } } });
  }, 120_000);
});
