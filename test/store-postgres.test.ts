// A PostgreSQL source: Debian's postgres started by the test itself (initdb + pg_ctl into a temporary folder, a
// free port, the unix socket in that folder; as the postgres user when the tests run as root, since initdb refuses
// root), a table queried by `bramble ingest` through pg, and its failures. Skipped, with the reason in the
// suite's name, when postgres cannot start here.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { cellValue } from '../src/data/table.js';
import { ingest } from '../src/store/ingest.js';
import { readView } from '../src/store/offline.js';
import { loadFeatureRepo } from '../src/store/spec.js';
import { rejected } from './helpers/data.js';
import { makeFeaturesRepo, billingFeatures } from './helpers/store-repo.js';

const BIN = '/usr/lib/postgresql/15/bin';

/** A free TCP port number (postgres names its socket file after it). */
function freePort(): number {
  const probe = spawnSync(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"], { encoding: 'utf8' });
  return Number(probe.stdout.trim());
}

interface Postgres {
  readonly url: string;
  stop(): void;
}

/** Starts a throwaway postgres; a string saying why when it cannot. */
function startPostgres(): Postgres | string {
  if (spawnSync(join(BIN, 'initdb'), ['--version']).status !== 0) return `${BIN}/initdb is not installed (apt-get install postgresql)`;
  const dir = mkdtempSync(join(tmpdir(), 'bramble-pg-'));
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const run = (cmd: string, args: string[]) => spawnSync(prefix[0] ?? join(BIN, cmd), [...prefix.slice(1), ...(prefix.length > 0 ? [join(BIN, cmd)] : []), ...args], { encoding: 'utf8' });
  const data = join(dir, 'data');
  const init = run('initdb', ['-D', data, '-A', 'trust', '-U', 'bramble', '--no-sync', '-E', 'UTF8']);
  if (init.status !== 0) return `initdb failed: ${(init.stderr || init.error?.message || '').trim().split('\n').slice(-1)[0]}`;
  const port = freePort();
  const start = run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=''`, 'start']);
  if (start.status !== 0) return `pg_ctl could not start postgres: ${start.stderr.trim() || start.stdout.trim()}`;
  return {
    url: `postgresql://bramble@localhost/postgres?host=${encodeURIComponent(dir)}&port=${port}`,
    stop() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const server = startPostgres();
const reason = typeof server === 'string' ? ` (skipped: ${server})` : '';
afterAll(() => {
  if (typeof server !== 'string') server.stop();
});

const FEATURES = billingFeatures('crm', `{ postgres: { query: 'select "customerID", billed_at, loaded_at, "MonthlyCharges", "Contract" from billing order by 1, 2', url_env: CRM_URL } }`);

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function featuresRepo(text = FEATURES) {
  dir = makeFeaturesRepo(text);
  return loadFeatureRepo(dir);
}

const now = () => new Date('2026-12-01T02:00:00Z');

describe.skipIf(typeof server === 'string')(`a PostgreSQL source${reason}`, () => {
  const url = (server as Postgres).url;

  it('is queried through pg, validated and ingested, and reads back with its types', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`create table billing ("customerID" text, billed_at timestamptz, loaded_at timestamptz, "MonthlyCharges" numeric(8,2), "Contract" text);
      insert into billing values ('7590-VHVEG', '2026-11-01T00:00:00Z', '2026-11-01T02:00:00Z', 29.85, 'Month-to-month'),
        ('5575-GNVDE', '2026-11-01T00:00:00Z', '2026-11-01T02:00:00Z', 56.95, 'One year'),
        ('7590-VHVEG', '2026-11-15T00:00:00Z', '2026-11-15T02:00:00Z', 31.10, 'Month-to-month')`);
    await client.end();
    const repo = await featuresRepo();
    const result = await ingest(repo, { env: { CRM_URL: url }, now });
    expect(result.views).toMatchObject([{ view: 'billing', status: 'ingested', rows: 3, manifest: { source: 'postgres:CRM_URL' } }]);
    expect(JSON.parse(readFileSync(join(dir, 'manifests/billing/2026.12.01.json'), 'utf8'))).toMatchObject({ event_time: { min: '2026-11-01T00:00:00.000Z', max: '2026-11-15T00:00:00.000Z' } });
    const rows = await readView(repo, 'billing');
    const charges = rows.table.columns.find((c) => c.name === 'MonthlyCharges');
    expect(charges && [0, 1, 2].map((i) => cellValue(charges, i))).toEqual([56.95, 29.85, 31.1]);
    // The same rows again: nothing new.
    expect((await ingest(repo, { env: { CRM_URL: url }, now })).views).toMatchObject([{ status: 'unchanged' }]);
  });

  it('refuses a query that fails, naming the source', async () => {
    const repo = await featuresRepo(FEATURES.replace('from billing', 'from no_such_table'));
    const err = await rejected(ingest(repo, { env: { CRM_URL: url }, now }));
    expect(err).toMatchObject({ code: 'E_STORE_SOURCE' });
    expect((err as Error).message).toMatch(/source crm: the query failed \(relation "no_such_table" does not exist\)/);
  });
});

describe('a PostgreSQL source that cannot be reached', () => {
  it('is refused when its environment variable is not set', async () => {
    const repo = await featuresRepo();
    const err = await rejected(ingest(repo, { env: {}, now }));
    expect(err).toMatchObject({ code: 'E_STORE_SOURCE' });
    expect((err as Error).message).toBe('source crm: the environment variable CRM_URL is not set; set it to the database\'s connection string (postgresql://user@host/db) on the runner');
  });

  it('is refused, unreachable, when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const repo = await featuresRepo();
    const err = await rejected(ingest(repo, { env: { CRM_URL: `postgresql://bramble@127.0.0.1:${port}/postgres` }, now, timeoutMs: 5000 }));
    expect(err).toMatchObject({ code: 'E_STORE_SOURCE' });
    expect((err as Error).message).toMatch(/source crm: the database in CRM_URL is unreachable \(.*ECONNREFUSED.*\)/);
  });
});
