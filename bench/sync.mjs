// `npm run bench:sync` [-- --swaps N] [--connections N]: a host that follows git, under load, while its prod
// assignment alternates between two versions. Each swap is a real `bramble promote` (an assignment tag) followed
// by a nudge (POST /admin/sync); the figure is the time from the nudge to live = desired, and the target is zero
// failed requests from the 8 connections that keep asking for predictions the whole time (issue 11).
import { execFile } from 'node:child_process';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'dist', 'cli.js');
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const SWAPS = option('--swaps', 100);
const CONNECTIONS = option('--connections', 8);
const who = { GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

function run(file, args, cwd) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, encoding: 'utf8', env: { ...process.env, ...who } }, (err, stdout, stderr) => (err ? reject(new Error(`${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
  });
}
const bramble = (dir, ...args) => run(process.execPath, [cli, ...args], dir);
const git = (dir, ...args) => run('git', args, dir);

// A model repository with two registered versions of the template's model.
const repo = mkdtempSync(join(tmpdir(), 'bramble-bench-sync-'));
cpSync(join(here, '..', 'templates', 'model-repo'), repo, { recursive: true, filter: (src) => !src.includes('.bramble') });
const yaml = join(repo, 'ml.yaml');
writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/trees: \d+/, 'trees: 50'));
await git(repo, 'init', '-q', '-b', 'main');
await git(repo, 'add', '-A');
await git(repo, 'commit', '-qm', 'a model');
await bramble(repo, 'run', '.');
await bramble(repo, 'register');
writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/trees: \d+/, 'trees: 60'));
await git(repo, 'commit', '-qam', 'more trees');
await bramble(repo, 'run', '.');
await bramble(repo, 'register');
await bramble(repo, 'promote', 'churn@v1.0.0', 'prod');

// The host: follows the repository (a path: no network in the figure), syncs only when nudged.
const root = mkdtempSync(join(tmpdir(), 'bramble-bench-sync-host-'));
const config = join(root, 'serve.json');
writeFileSync(config, JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, models: 'models', log: { dir: 'logs' }, git: { url: repo, intervalSeconds: 3600 }, environments: { prod: { path: '/prod', model: 'churn' } } }));
const host = spawn(process.execPath, [cli, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
const url = await new Promise((resolve, reject) => {
  let text = '';
  host.stderr.setEncoding('utf8');
  host.stderr.on('data', (c) => {
    text += c;
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
    if (m) resolve(m[1]);
  });
  host.once('exit', (code) => reject(new Error(`bramble serve exited ${code}: ${text}`)));
});
const sample = JSON.parse(readFileSync(join(repo, '.bramble', 'model.json'), 'utf8')).samples.rows[0];
const body = JSON.stringify({ dataframe_records: [sample] });

const autocannon = createRequire(import.meta.url)('autocannon');
const statuses = new Map();
let errors = 0;
const load = autocannon({ url: `${url}/prod/invocations`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: CONNECTIONS, duration: 3600 });
load.on('response', (_c, status) => statuses.set(status, (statuses.get(status) ?? 0) + 1));
load.on('reqError', () => errors++);

const latencies = [];
for (let i = 0; i < SWAPS; i++) {
  const version = i % 2 === 0 ? 'v1.1.0' : 'v1.0.0';
  await bramble(repo, 'promote', `churn@${version}`, 'prod');
  const started = performance.now();
  const answer = await (await fetch(`${url}/admin/sync`, { method: 'POST' })).json();
  if (answer.environments.prod.live?.version !== version) throw new Error(`swap ${i + 1}: live is ${answer.environments.prod.live?.version}, not ${version}: ${answer.environments.prod.error}`);
  latencies.push(performance.now() - started);
}
load.stop();
const result = await load;
host.kill('SIGTERM');

latencies.sort((a, b) => a - b);
const total = [...statuses.values()].reduce((a, b) => a + b, 0);
const failed = total - (statuses.get(200) ?? 0) + errors;
console.log(`${SWAPS} swaps (promote → POST /admin/sync → live = desired), ${CONNECTIONS} connections of load the whole time`);
console.log(`nudge → live: median ${latencies[Math.floor(latencies.length / 2)].toFixed(0)} ms, p95 ${latencies[Math.floor(latencies.length * 0.95)].toFixed(0)} ms, max ${latencies.at(-1).toFixed(0)} ms`);
console.log(`requests: ${total} answered (${Math.round(result.requests.average)} req/s), statuses ${JSON.stringify(Object.fromEntries(statuses))}, connection errors ${errors}`);
console.log(`failed requests: ${failed} (target 0) — ${failed === 0 ? 'met' : 'NOT MET'}`);
process.exitCode = failed === 0 ? 0 : 1;
