// `npm run bench:store`: the feature store's point-in-time join (issue 17's target: 1,000,000 label rows against
// 10,000,000 feature rows over two views ≤ 15 s, ≤ 2 GB, and ≥ 3× faster than pandas' merge_asof doing the same
// join), side by side with pandas (Debian's python3-pandas at /usr/bin/python3).
//
// Decisions:
// - The data is generated once under bench/.out/store-join/ as CSV (Debian's pandas has no pyarrow for Parquet):
//   500,000 customers; billing with 5,000,000 rows (event time, created time with ties on the event time, two
//   values) and usage with 5,000,000 rows (two values); 1,000,000 labels at random times. Keys are integers, so
//   that pandas gets its fastest `by` path.
// - Each side runs in its own process, so that its peak memory (max RSS) is its own. Reading the CSV files is
//   timed apart from the join: the target is the join (interning, sorting, matching and gathering the columns
//   for Bramble; sort_values + merge_asof for pandas), and both read the same bytes with their own CSV readers.
// - Both print a checksum (per view: labels matched, and the sum of the values they see), compared here, so the
//   two sides are shown to do the same join.
// - With --store, a third run reads the two views from store partitions written once (readView, sha256 checked)
//   and joins them: what `bramble run` with data.store does, less the entity table's CSV.
// Options: --labels N, --rows N (per view), --entities N, --fresh (generate again), --store, --no-pandas.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng } from './rng.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DAY = 86_400_000;
const BASE = Date.UTC(2026, 0, 1);
const TTL = { billing: 30 * DAY, usage: 14 * DAY };

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const LABELS = Number(option('--labels', '1000000'));
const ROWS = Number(option('--rows', '5000000'));
const ENTITIES = Number(option('--entities', '500000'));
const out = join(here, '.out', 'store-join', `${LABELS}-${ROWS}-${ENTITIES}`);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function writeLines(file, header, rows, line) {
  const stream = createWriteStream(`${file}.partial`);
  stream.write(`${header}\n`);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    chunk += `${line(i)}\n`;
    if (chunk.length > 1 << 20) {
      if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
      chunk = '';
    }
  }
  stream.write(chunk);
  await new Promise((resolve, reject) => stream.end((err) => (err ? reject(err) : resolve())));
  const { renameSync } = await import('node:fs');
  renameSync(`${file}.partial`, file);
}

async function generate() {
  if (existsSync(join(out, 'usage.csv')) && !process.argv.includes('--fresh')) return;
  mkdirSync(out, { recursive: true });
  process.stderr.write(`generating ${LABELS.toLocaleString('en')} labels and 2 × ${ROWS.toLocaleString('en')} feature rows under ${out} …\n`);
  const rng = new Rng(20261206, 0x5707e);
  await writeLines(join(out, 'labels.csv'), 'customer,at', LABELS, () => `${rng.int(ENTITIES)},${BASE + rng.int(120 * 24) * 3_600_000}`);
  await writeLines(join(out, 'billing.csv'), 'customer,billed_at,loaded_at,charge,total', ROWS, (i) => {
    // Bills on the first of a month (ties on the event time), each loaded at its own instant.
    const t = BASE + rng.int(4) * 30 * DAY;
    return `${rng.int(ENTITIES)},${t},${t + i},${(rng.int(10_000) / 100).toFixed(2)},${rng.int(1_000_000) / 100}`;
  });
  await writeLines(join(out, 'usage.csv'), 'customer,as_of,calls,minutes', ROWS, (i) => `${i % ENTITIES},${BASE + Math.floor(i / ENTITIES) * 12 * DAY + rng.int(11 * DAY)},${rng.int(20)},${rng.int(3000)}`);
}

const FEATURES_YAML = `name: bench-features
entities:
  customer: { key: customer }
sources:
  billing: { path: billing.csv }
  usage: { path: usage.csv }
views:
  billing: { entity: customer, source: billing, event_time: billed_at, created_time: loaded_at, ttl: 30d, columns: { charge: { type: number }, total: { type: number } } }
  usage: { entity: customer, source: usage, event_time: as_of, ttl: 14d, columns: { calls: { type: number }, minutes: { type: number } } }
`;

/** The CSV files' views written as store partitions with their manifests (once), as `bramble ingest` leaves them. */
async function prepareStore(lib, tables) {
  const repoDir = join(out, 'repo');
  const { mkdirSync: mk, writeFileSync: write } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  if (existsSync(join(repoDir, 'manifests', 'usage', '2026.12.01.json')) && !process.argv.includes('--fresh')) return repoDir;
  mk(repoDir, { recursive: true });
  write(join(repoDir, 'features.yaml'), FEATURES_YAML);
  const repo = lib.parseFeatureRepo(FEATURES_YAML, repoDir);
  for (const [name, table] of Object.entries(tables)) {
    const names = Object.keys(repo.views[name].columns);
    // In key order, as bramble ingest writes a partition.
    const bytes = lib.partitionBytes(table, names, lib.batchOrder(repo.views[name], table).order);
    mk(join(repo.store, name), { recursive: true });
    write(join(repo.store, name, '2026.12.01.parquet'), bytes);
    mk(join(repoDir, 'manifests', name), { recursive: true });
    const manifest = { format: 'bramble-manifest', view: name, version: '2026.12.01', sha256: createHash('sha256').update(bytes).digest('hex'), batch_sha256: '', rows: table.rows, event_time: { min: '', max: '' }, source: `${name}.csv`, schema: {}, ingested: '' };
    write(join(repoDir, 'manifests', name, '2026.12.01.json'), JSON.stringify(manifest));
  }
  return repoDir;
}

/** Bramble's side, in this process (started by the parent with --ours). */
async function ours() {
  const lib = await import(pathToFileURL(join(here, '..', 'dist', 'index.js')).href);
  const t0 = performance.now();
  const columns = (names) => Object.fromEntries(names.map(([n, type]) => [n, { type }]));
  const read = (file, names) => lib.readTable(join(out, file), { columns: columns(names) });
  const labels = (await read('labels.csv', [['customer', 'string'], ['at', 'number']])).table;
  const billing = (await read('billing.csv', [['customer', 'string'], ['billed_at', 'number'], ['loaded_at', 'number'], ['charge', 'number'], ['total', 'number']])).table;
  const usage = (await read('usage.csv', [['customer', 'string'], ['as_of', 'number'], ['calls', 'number'], ['minutes', 'number']])).table;
  const t1 = performance.now();
  const col = (table, name) => table.columns.find((c) => c.name === name).values;
  // Times are epoch milliseconds in the CSV; as date columns they are the same numbers.
  const asDate = (table, name) => ({ ...table, columns: table.columns.map((c) => (c.name === name ? { ...c, kind: 'date' } : c)) });
  const view = (name, table, eventTime, createdTime, features) => ({
    view: { name, entity: 'customer', keys: ['customer'], source: name, eventTime, ...(createdTime ? { createdTime } : {}), ttl: '', ttlMs: TTL[name], onMissing: 'null', columns: {}, features, steps: [] },
    table,
    eventTime: col(table, eventTime),
    createdTime: createdTime ? col(table, createdTime) : new Float64Array(table.rows),
    manifests: [],
  });
  let set;
  let fromStore = null;
  if (process.argv.includes('--from-store')) {
    // The same join, with the views read from their Parquet partitions through readView (sha256 checked).
    const repo = await lib.loadFeatureRepo(await prepareStore(lib, { billing: asDate(asDate(billing, 'billed_at'), 'loaded_at'), usage: asDate(usage, 'as_of') }));
    const s0 = performance.now();
    const views = [await lib.readView(repo, 'billing'), await lib.readView(repo, 'usage')];
    const s1 = performance.now();
    set = lib.buildTrainingSet(asDate(labels, 'at'), 'at', views, 'labels.csv');
    fromStore = { read: (s1 - s0) / 1000, join: (performance.now() - s1) / 1000 };
  } else {
    set = lib.buildTrainingSet(asDate(labels, 'at'), 'at', [view('billing', billing, 'billed_at', 'loaded_at', ['charge', 'total']), view('usage', usage, 'as_of', null, ['calls', 'minutes'])], 'labels.csv');
  }
  const t2 = performance.now();
  const sum = (name) => {
    let s = 0;
    for (const v of col(set.table, name)) if (v === v) s += v;
    return s;
  };
  const check = { billing: [set.views[0].matched, Math.round(sum('charge') * 100)], usage: [set.views[1].matched, sum('minutes')] };
  console.log(JSON.stringify({ read: (t1 - t0) / 1000, join: (t2 - t1) / 1000, fromStore, maxRssMB: process.resourceUsage().maxRSS / 1024, check }));
}

const PANDAS = `
import json, sys, time, resource
import pandas as pd
d, ttl_b, ttl_u = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
labels = pd.read_csv(d + '/labels.csv')
billing = pd.read_csv(d + '/billing.csv')
usage = pd.read_csv(d + '/usage.csv')
t1 = time.perf_counter()
labels = labels.sort_values('at', kind='stable')
billing = billing.sort_values(['billed_at', 'loaded_at'], kind='stable')
usage = usage.sort_values('as_of', kind='stable')
out = pd.merge_asof(labels, billing, left_on='at', right_on='billed_at', by='customer', direction='backward', tolerance=ttl_b)
out = pd.merge_asof(out, usage, left_on='at', right_on='as_of', by='customer', direction='backward', tolerance=ttl_u)
t2 = time.perf_counter()
check = {'billing': [int(out['charge'].notna().sum()), int(round(out['charge'].sum() * 100))], 'usage': [int(out['minutes'].notna().sum()), int(out['minutes'].sum())]}
print(json.dumps({'read': t1 - t0, 'join': t2 - t1, 'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'check': check, 'pandas': pd.__version__}))
`;

function run(command, args) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

async function main() {
  await generate();
  console.log(`point-in-time join: ${LABELS.toLocaleString('en')} labels × 2 views × ${ROWS.toLocaleString('en')} rows (${ENTITIES.toLocaleString('en')} entities)`);
  console.log(`  load average before Bramble: ${load()}`);
  const b = run(process.execPath, [fileURLToPath(import.meta.url), '--ours', '--labels', String(LABELS), '--rows', String(ROWS), '--entities', String(ENTITIES)]);
  console.log(`  Bramble: join ${b.join.toFixed(2)} s (reading the CSV ${b.read.toFixed(2)} s), max RSS ${Math.round(b.maxRssMB)} MB`);
  if (process.argv.includes('--store')) {
    console.log(`  load average before Bramble from the store: ${load()}`);
    const f = run(process.execPath, [fileURLToPath(import.meta.url), '--ours', '--from-store', '--labels', String(LABELS), '--rows', String(ROWS), '--entities', String(ENTITIES)]);
    const same = JSON.stringify(f.check) === JSON.stringify(b.check);
    console.log(`  Bramble from the store's Parquet partitions: reading both views ${f.fromStore.read.toFixed(2)} s, join ${f.fromStore.join.toFixed(2)} s, max RSS ${Math.round(f.maxRssMB)} MB (same join: ${same ? 'yes' : 'NO'})`);
    if (!same) process.exitCode = 1;
  }
  if (process.argv.includes('--no-pandas')) return;
  if (!existsSync('/usr/bin/python3')) {
    console.log('  pandas: skipped, /usr/bin/python3 is absent');
    return;
  }
  console.log(`  load average before pandas: ${load()}`);
  const scriptDir = join(out, '..');
  const script = join(scriptDir, 'pandas_join.py');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(script, PANDAS);
  const p = run('/usr/bin/python3', [script, out, String(TTL.billing), String(TTL.usage)]);
  rmSync(script);
  console.log(`  pandas ${p.pandas} merge_asof: join ${p.join.toFixed(2)} s (read_csv ${p.read.toFixed(2)} s), max RSS ${Math.round(p.maxRssMB)} MB`);
  const same = JSON.stringify(b.check) === JSON.stringify(p.check);
  console.log(`  same join: ${same ? 'yes' : 'NO'} (${JSON.stringify(b.check)}${same ? '' : ` vs pandas ${JSON.stringify(p.check)}`})`);
  console.log(`  Bramble is ${(p.join / b.join).toFixed(1)}× faster than merge_asof (target ≥ 3×; ≤ 15 s and ≤ 2 GB)`);
  if (!same) process.exitCode = 1;
}

if (process.argv.includes('--ours')) await ours();
else await main();
