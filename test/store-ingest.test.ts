// bramble ingest's engine on a real git repository and real http on 127.0.0.1: partitions and manifests, one
// commit, idempotent re-ingest, readView back, quarantine, and every bad input of issue 17.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cellValue } from '../src/data/table.js';
import { ingest } from '../src/store/ingest.js';
import { readView } from '../src/store/offline.js';
import { loadFeatureRepo, parseFeatureRepo } from '../src/store/spec.js';
import { rejected } from './helpers/data.js';
import { git } from './helpers/git.js';
import { billingFeatures, makeFeaturesRepo } from './helpers/store-repo.js';

const FEATURES = (spec: string, extra = ''): string => billingFeatures('billing', spec, extra);

const GOOD = `customerID,billed_at,loaded_at,MonthlyCharges,Contract
7590-VHVEG,2026-11-01,2026-11-01T02:00:00Z,29.85,Month-to-month
5575-GNVDE,2026-11-01,2026-11-01T02:00:00Z,56.95,One year
7590-VHVEG,2026-11-15,2026-11-15T02:00:00Z,31.10,Month-to-month
`;

const NOW = new Date('2026-12-01T02:00:00Z');
let dir: string;
const deps = (now = NOW) => ({ env: { GIT_COMMITTER_NAME: 'Ingest Bot', GIT_COMMITTER_EMAIL: 'bot@example.com' }, now: () => now });

function repoWith(features: string, data: string): string {
  dir = makeFeaturesRepo(features, { 'data/billing.csv': data });
  return dir;
}

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('bramble ingest from a file in the repository', () => {
  it('writes a partition and its manifest, commits the manifest, and reads back every row', async () => {
    const repo = await loadFeatureRepo(repoWith(FEATURES('{ path: data/billing.csv }'), GOOD));
    const result = await ingest(repo, deps());
    expect(result.views).toMatchObject([{ view: 'billing', status: 'ingested', version: '2026.12.01', rows: 3 }]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifests/billing/2026.12.01.json'), 'utf8'));
    expect(manifest).toMatchObject({ view: 'billing', version: '2026.12.01', rows: 3, source: 'data/billing.csv', event_time: { min: '2026-11-01T00:00:00.000Z', max: '2026-11-15T00:00:00.000Z' } });
    expect(manifest.schema).toEqual({ MonthlyCharges: 'number', Contract: 'category', customerID: 'string', billed_at: 'date', loaded_at: 'date' });
    expect(existsSync(join(dir, '.bramble/store/billing/2026.12.01.parquet'))).toBe(true);
    // One commit, holding the manifest and nothing of the store.
    expect(git(dir, 'log', '--format=%an %s', '-1').trim()).toBe('Ingest Bot ingest: billing@2026.12.01');
    expect(git(dir, 'show', '--name-only', '--format=', 'HEAD').trim()).toBe('manifests/billing/2026.12.01.json');
    expect(git(dir, 'status', '--porcelain').trim()).toBe('');

    // The partition holds the rows by key (in order of first appearance), then event time.
    const rows = await readView(repo, 'billing');
    expect(rows.table.rows).toBe(3);
    expect(Array.from(rows.eventTime)).toEqual([Date.parse('2026-11-01'), Date.parse('2026-11-15'), Date.parse('2026-11-01')]);
    const charges = rows.table.columns.find((c) => c.name === 'MonthlyCharges');
    expect(charges && [0, 1, 2].map((i) => cellValue(charges, i))).toEqual([29.85, 31.1, 56.95]);
  });

  it('is a no-op for the same batch, and writes the next version for a new one the same day', async () => {
    const repo = await loadFeatureRepo(repoWith(FEATURES('{ path: data/billing.csv }'), GOOD));
    await ingest(repo, deps());
    const head = git(dir, 'rev-parse', 'HEAD');
    const again = await ingest(repo, deps(new Date('2026-12-01T09:00:00Z')));
    expect(again).toEqual({ views: [{ view: 'billing', status: 'unchanged', version: '2026.12.01' }] });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(head);

    writeFileSync(join(dir, 'data/billing.csv'), `${GOOD}5575-GNVDE,2026-11-20,2026-11-20T02:00:00Z,57.00,One year\n`);
    const next = await ingest(repo, deps(new Date('2026-12-01T09:00:00Z')));
    expect(next.views).toMatchObject([{ status: 'ingested', version: '2026.12.01.2', rows: 4 }]);
    expect((await readView(repo, 'billing')).table.rows).toBe(7);
    expect((await readView(repo, 'billing', { versions: ['2026.12.01'] })).table.rows).toBe(3);
  });

  it('refuses a partition that no longer matches its manifest', async () => {
    const repo = await loadFeatureRepo(repoWith(FEATURES('{ path: data/billing.csv }'), GOOD));
    await ingest(repo, deps());
    writeFileSync(join(dir, '.bramble/store/billing/2026.12.01.parquet'), 'PAR1 tampered');
    const err = await rejected(readView(repo, 'billing'));
    expect(err).toMatchObject({ code: 'E_STORE_DATA' });
    expect((err as Error).message).toMatch(/2026\.12\.01\.parquet does not match its manifest/);
  });
  it('refuses to read a view that was never ingested', async () => {
    const repo = await loadFeatureRepo(repoWith(FEATURES('{ path: data/billing.csv }'), GOOD));
    const err = await rejected(readView(repo, 'billing'));
    expect(err).toMatchObject({ code: 'E_STORE_DATA' });
    expect((err as Error).message).toMatch(/^view billing has no partitions: .*manifests\/billing holds no manifest; run bramble ingest in /);
  });

  it('refuses an unknown --view before pulling anything', async () => {
    const repo = await loadFeatureRepo(repoWith(FEATURES('{ path: data/billing.csv }'), GOOD));
    const err = await rejected(ingest(repo, deps(), { views: ['biling'] }));
    expect(err).toMatchObject({ code: 'E_FEATURES_CONFIG' });
    expect((err as Error).message).toMatch(/views: no view "biling"; did you mean "billing"\?/);
  });

  it('refuses a damaged manifest, naming it', async () => {
    const repo = await loadFeatureRepo(repoWith(FEATURES('{ path: data/billing.csv }'), GOOD));
    await ingest(repo, deps());
    writeFileSync(join(dir, 'manifests/billing/2026.12.01.json'), '{"view": "billing"');
    const err = await rejected(readView(repo, 'billing'));
    expect(err).toMatchObject({ code: 'E_STORE_DATA' });
    expect((err as Error).message).toMatch(/manifests\/billing\/2026\.12\.01\.json is not a manifest of view billing version 2026\.12\.01; restore it from git/);
  });

  it('refuses a folder outside git before writing anything', async () => {
    repoWith(FEATURES('{ path: data/billing.csv }'), GOOD);
    rmSync(join(dir, '.git'), { recursive: true, force: true });
    const err = await rejected(ingest(await loadFeatureRepo(dir), deps()));
    expect(err).toMatchObject({ code: 'E_STORE_BATCH' });
    expect((err as Error).message).toContain('is not inside a git repository; bramble ingest commits each partition\'s manifest there — run git init (nothing was ingested)');
    expect(existsSync(join(dir, '.bramble'))).toBe(false);
  });
});

describe('a bad batch is quarantined, reported and never merged', () => {
  it.each([
    ['duplicate entity rows at one timestamp', `${GOOD}7590-VHVEG,2026-11-15,2026-11-15T02:00:00Z,99.00,Month-to-month\n`, /duplicate entity rows: lines 4 and 5 both have key 7590-VHVEG at 2026-11-15T00:00:00.000Z/],
    ['unparseable event times', GOOD.replace('2026-11-15,', 'last Tuesday,'), /event_time "billed_at": data\/billing.csv \(view billing\):4: billed_at is "last Tuesday", not a date; write ISO 8601/],
    ['a changed schema', GOOD.replace('Contract\n', 'Contract,Discount\n').replace(/\n(?=.)/g, '\n').replace(/(Month-to-month|One year)\n/g, '$1,0\n'), /the source's schema changed: column "Discount" is not declared in views.billing.columns/],
    ['a broken rule', GOOD.replace('56.95', '-5'), /MonthlyCharges/],
  ])('%s', async (_, data, message) => {
    const repo = await loadFeatureRepo(repoWith(FEATURES('{ path: data/billing.csv }'), data));
    const head = git(dir, 'rev-parse', 'HEAD');
    const err = await rejected(ingest(repo, deps()));
    expect(err).toMatchObject({ code: 'E_STORE_BATCH' });
    expect((err as Error).message).toMatch(message);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(head);
    expect(existsSync(join(dir, 'manifests'))).toBe(false);
    expect(existsSync(join(dir, '.bramble/store/billing'))).toBe(false);
    const folder = join(dir, '.bramble/store/quarantine/billing');
    const [stamp] = readdirSync(folder);
    expect(stamp).toBe('2026-12-01T02-00-00.000Z');
    const report = JSON.parse(readFileSync(join(folder, stamp, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ format: 'bramble-quarantine', view: 'billing', source: 'data/billing.csv' });
    expect(report.problems.join('\n')).toMatch(message);
    expect(readFileSync(join(folder, stamp, 'batch.csv'), 'utf8')).toBe(data);
  });
});

describe('an http(s) source', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/billing.csv') res.writeHead(200, { 'content-type': 'text/csv' }).end(GOOD);
      else if (req.url === '/login.csv') res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>Sign in</body></html>');
      else res.writeHead(404).end('not here');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is pulled and ingested, its URL in the manifest', async () => {
    const repo = await loadFeatureRepo(repoWith(FEATURES(`{ url: "${base}/billing.csv" }`), ''));
    const result = await ingest(repo, deps());
    expect(result.views).toMatchObject([{ status: 'ingested', rows: 3, manifest: { source: `${base}/billing.csv` } }]);
  });

  it.each([
    ['an HTML answer', '/login.csv', /answered with an HTML page \(content-type text\/html\), not csv data/],
    ['a 404', '/gone.csv', /answered 404 Not Found; it must answer 200 with the data file/],
  ])('refuses %s', async (_, path, message) => {
    const repo = await loadFeatureRepo(repoWith(FEATURES(`{ url: "${base}${path}" }`), ''));
    const err = await rejected(ingest(repo, deps()));
    expect(err).toMatchObject({ code: 'E_STORE_SOURCE' });
    expect((err as Error).message).toMatch(message);
  });

  it('refuses an unreachable one', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const repo = await loadFeatureRepo(repoWith(FEATURES(`{ url: "http://127.0.0.1:${port}/billing.csv" }`), ''));
    const err = await rejected(ingest(repo, deps()));
    expect(err).toMatchObject({ code: 'E_STORE_SOURCE' });
    expect((err as Error).message).toMatch(/is unreachable \(.*ECONNREFUSED.*\); check the address/);
  });
});

describe('features.yaml', () => {
  const parse = (text: string) => () => parseFeatureRepo(text, '/tmp/features-repo');

  it.each([
    ['a ttl of zero', FEATURES('{ path: data/billing.csv }').replace('ttl: 30d', 'ttl: 0d'), 'features.yaml:12:10 views.billing.ttl: must be longer than 0 (got "0d")'],
    ['an unknown entity', FEATURES('{ path: data/billing.csv }').replace('entity: customer', 'entity: custmer'), 'features.yaml:8:13 views.billing.entity: no entity "custmer"; did you mean "customer"?'],
    ['a source outside the repository', FEATURES('{ path: ../elsewhere/billing.csv }'), 'features.yaml:5:20 sources.billing.path: "../elsewhere/billing.csv" is outside the repository'],
    ['an event time that is not a date', FEATURES('{ path: data/billing.csv }', '      billed_at: { type: number }\n'), 'views.billing.columns.billed_at.type: "billed_at" is the view\'s event_time, so its type must be date'],
    ['a fitted step', FEATURES('{ path: data/billing.csv }', '    features:\n      - standardize: [MonthlyCharges]\n'), 'a standardize step is fitted on training data'],
    ['an unknown key', FEATURES('{ path: data/billing.csv }').replace('ttl: 30d', 'ttl: 30d\n    tll: 1d'), 'views.billing'],
  ])('refuses %s at its place', (_, text, message) => {
    expect(parse(text)).toThrow(message);
  });

  it('puts the store where BRAMBLE_STORE says, else inside the repository', () => {
    const text = FEATURES('{ path: data/billing.csv }');
    expect(parseFeatureRepo(text, '/srv/features').store).toBe('/srv/features/.bramble/store');
    expect(parseFeatureRepo(text, '/srv/features', { env: { BRAMBLE_STORE: '/mnt/store' } }).store).toBe('/mnt/store');
    expect(parseFeatureRepo(text, '/srv/features', { env: { BRAMBLE_STORE: '/mnt/store' }, store: '/data/s' }).store).toBe('/data/s');
  });
});
