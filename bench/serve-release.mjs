// `npm run bench:serve` (after bench/serve.mjs): issue 16's release targets, side by side in one run, on the
// template's churn model (200 trees, depth 12) served by `bramble serve` following a real git repository:
//   (a) a canary at weight 0.1 over 10,000 single-row requests with distinct ids: its share (target 10 % ± 1 point);
//   (b) throughput with a shadow against the same server without one (wrk -t1, 10 connections; target: the shadow
//       costs ≤ 20 %), alternating runs without and with it (--rounds, 3): the median of the rounds' costs is
//       judged (best of each is shown too), with the server's CPU time per request (median) from /proc;
//   (c) `workers: 2` under wrk load while a canary is added (bramble promote --role canary), reweighted and removed
//       through ml.yaml (a commit, then bramble reweight) and POST /admin/sync: failed requests (non-2xx and socket
//       errors; target 0).
// Versions are three trainings of the template with different seeds (same size), registered and promoted with the
// CLI. Options: --duration S (8), --connections N (10), --rounds N (3).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist/cli.js');
const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const DURATION = Number(arg('--duration', '8'));
const CONNECTIONS = Number(arg('--connections', '10'));
const ROUNDS = Number(arg('--rounds', '3'));
const procs = new Set();

function run(args, cwd) {
  const r = spawnSync(args[0] === 'git' ? 'git' : process.execPath, args[0] === 'git' ? args.slice(1) : [cli, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function serve(config) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    procs.add(child);
    let text = '';
    child.stderr.setEncoding('utf8').on('data', (c) => {
      text += c;
      const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(text);
      if (m) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) => reject(new Error(`bramble serve exited ${code}:\n${text}`)));
  });
}

async function stop(server) {
  // Its start's listener would take this exit for a failure to start.
  server.child.removeAllListeners('exit');
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
  procs.delete(server.child);
}

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, role: res.headers['x-bramble-role'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** wrk -t1 over `seconds`: requests/s and failures (non-2xx, connect/write/timeout errors). */
function wrk(url, script, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.add(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.on('exit', (code) => {
      procs.delete(child);
      const rps = /Requests\/sec:\s+([0-9.]+)/.exec(out);
      if (code !== 0 || !rps) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const total = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const failed = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0) + (sock ? Number(sock[1]) + Number(sock[3]) + Number(sock[4]) : 0);
      resolve({ rps: Number(rps[1]), total, failed });
    });
  });
}

function cpu(pids) {
  let s = 0;
  for (const pid of pids) {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    s += (Number(f[11]) + Number(f[12])) / 100;
  }
  return s;
}

async function sync(url) {
  const r = await fetch(`${url}/admin/sync`, { method: 'POST' });
  if (r.status !== 200) throw new Error(`sync answered ${r.status}: ${await r.text()}`);
}

async function main() {
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(`serve-release: ${cpus().length} cores, load average ${load()} at start; wrk -t1 -c${CONNECTIONS}, ${DURATION} s per run.\n`);
  const work = mkdtempSync(join(tmpdir(), 'bramble-bench-release-'));
  process.once('exit', () => {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });
  const repo = join(work, 'repo');
  mkdirSync(repo);
  cpSync(join(root, 'templates/model-repo/ml.yaml'), join(repo, 'ml.yaml'));
  cpSync(join(root, 'templates/model-repo/data'), join(repo, 'data'), { recursive: true });
  writeFileSync(join(repo, '.gitignore'), '.bramble/\n');
  run(['git', 'init', '-q', '-b', 'main'], repo);
  for (const [k, v] of [['user.name', 'Bench'], ['user.email', 'bench@example.com']]) run(['git', 'config', k, v], repo);
  const edit = (f) => writeFileSync(join(repo, 'ml.yaml'), f(readFileSync(join(repo, 'ml.yaml'), 'utf8')));
  edit((t) => t.replace(/prod: +\{ branch: main, approval: true \}/, 'prod:    { branch: main, canary: { weight: 0.1, sticky: id } }'));
  for (const seed of [1, 2, 3]) {
    edit((t) => t.replace(/^(\s+seed: )\d+/m, `$1${seed}`));
    run(['git', 'add', '-A'], repo);
    run(['git', 'commit', '-qm', `seed ${seed}`, '--allow-empty'], repo);
    run(['run', '.', '--workers', '1'], repo);
    run(['register', '--no-remote'], repo);
  }
  const versions = JSON.parse(run(['registry', 'ls', '--json', '--no-remote'], repo))[0].versions.map((v) => v.version);
  const [main, canary, shadow] = versions;
  run(['promote', `churn@${main}`, 'prod', '--no-remote'], repo);
  const artifact = JSON.parse(readFileSync(join(repo, '.bramble/model.json'), 'utf8'));
  const row = artifact.samples.rows[0];
  const config = (workers, name) => {
    const file = join(work, `${name}.json`);
    writeFileSync(file, JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, workers, models: join(work, `models-${name}`), log: { dir: join(work, `logs-${name}`) }, git: { url: repo, intervalSeconds: 3600 }, environments: { prod: { path: '/prod', model: 'churn' } } }));
    return file;
  };
  const script = join(work, 'post.lua');
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(JSON.stringify({ dataframe_records: [row] }))}\nwrk.headers["Content-Type"] = "application/json"\n`);

  // (a) and (b): one process.
  const one = await serve(config(1, 'one'));
  const url = `${one.url}/prod/invocations`;
  // Without and with the shadow, alternately, ROUNDS times: on a shared 2-core machine one pair of runs is noise.
  const measure = async () => {
    await wrk(url, script, 2);
    const before = cpu([one.child.pid]);
    const r = await wrk(url, script, DURATION);
    return { ...r, cpu: (cpu([one.child.pid]) - before) / r.total };
  };
  const plainRuns = [];
  const shadowRuns = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) {
      run(['unassign', 'churn', 'prod', '--role', 'shadow', '--no-remote'], repo);
      await sync(one.url);
    }
    plainRuns.push(await measure());
    run(['promote', `churn@${shadow}`, 'prod', '--role', 'shadow', '--no-remote'], repo);
    await sync(one.url);
    shadowRuns.push(await measure());
  }
  const best = (runs) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const plain = best(plainRuns);
  const shadowed = best(shadowRuns);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const plainCpu = median(plainRuns.map((r) => r.cpu));
  const shadowCpu = median(shadowRuns.map((r) => r.cpu));
  const loadB = load();
  run(['unassign', 'churn', 'prod', '--role', 'shadow', '--no-remote'], repo);
  run(['promote', `churn@${canary}`, 'prod', '--role', 'canary', '--no-remote'], repo);
  await sync(one.url);
  let toCanary = 0;
  const N = 10_000;
  for (let i = 0; i < N; i += CONNECTIONS) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + CONNECTIONS); k++) batch.push(post(url, JSON.stringify({ dataframe_records: [{ ...row, customerID: `bench-${k}` }] })));
    for (const r of await Promise.all(batch)) if (r.role === 'canary') toCanary++;
  }
  const loadA = load();
  await stop(one);
  run(['unassign', 'churn', 'prod', '--role', 'canary', '--no-remote'], repo);

  // (c) workers: 2, changes under load.
  const two = await serve(config(2, 'two'));
  const loaded = wrk(`${two.url}/prod/invocations`, script, DURATION + 4);
  const wait = (s) => new Promise((resolve) => setTimeout(resolve, s * 1000));
  await wait(2);
  run(['promote', `churn@${canary}`, 'prod', '--role', 'canary', '--no-remote'], repo);
  await sync(two.url);
  await wait(DURATION / 4);
  // Reweighted and removed through ml.yaml, as a merged pull request would, then `bramble reweight`.
  edit((t) => t.replace('weight: 0.1', 'weight: 0.5'));
  run(['git', 'commit', '-qam', 'canary at 0.5'], repo);
  run(['reweight', 'prod', '--no-remote'], repo);
  await sync(two.url);
  await wait(DURATION / 4);
  edit((t) => t.replace(', canary: { weight: 0.5, sticky: id }', ''));
  run(['git', 'commit', '-qam', 'no canary'], repo);
  run(['reweight', 'prod', '--no-remote'], repo);
  await sync(two.url);
  const changes = await loaded;
  const loadC = load();
  await stop(two);

  const share = toCanary / N;
  const bestCost = 1 - shadowed.rps / plain.rps;
  // Each round's pair of runs, side by side: the cost judged is their median, which one lucky run cannot move.
  const pairCosts = plainRuns.map((r, i) => 1 - shadowRuns[i].rps / r.rps);
  const cost = median(pairCosts);
  process.stdout.write(
    [
      '',
      '| target | measured | met |',
      '|---|---|---|',
      `| (a) canary at 0.1: 10 % ± 1 point of ${N.toLocaleString('en')} requests | ${(100 * share).toFixed(2)} % (${toCanary}) | ${Math.abs(share - 0.1) <= 0.01 ? 'yes' : 'no'} |`,
      `| (b) a shadow costs ≤ 20 % of throughput | median of ${ROUNDS} rounds: ${(100 * cost).toFixed(1)} % (per round: ${pairCosts.map((c) => `${(100 * c).toFixed(1)} %`).join(', ')}); best of each: ${plain.rps.toFixed(0)} → ${shadowed.rps.toFixed(0)} req/s, ${(100 * bestCost).toFixed(1)} % (runs: ${plainRuns.map((r) => r.rps.toFixed(0)).join(', ')} → ${shadowRuns.map((r) => r.rps.toFixed(0)).join(', ')}); CPU ${(plainCpu * 1e6).toFixed(0)} → ${(shadowCpu * 1e6).toFixed(0)} µs/request (+${((100 * (shadowCpu - plainCpu)) / plainCpu).toFixed(0)} %) | ${cost <= 0.2 ? 'yes' : 'no'} |`,
      `| (c) workers: 2, canary added, reweighted, removed under load: 0 failed | ${changes.failed} failed of ${changes.total.toLocaleString('en')} (${changes.rps.toFixed(0)} req/s) | ${changes.failed === 0 ? 'yes' : 'no'} |`,
      '',
      `load average after (b) ${loadB}, after (a) ${loadA}, after (c) ${loadC}.`,
      '',
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
