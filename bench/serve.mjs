// `npm run bench:serve`: single-row prediction over HTTP on 127.0.0.1, side by side in one run:
//   (a) a bare node:http server that reads and parses the JSON body and answers a constant — the floor for Node here;
//   (b) `bramble serve` with the template's churn model (200 trees, depth 12) in prod, staging and dev;
//   (c) Flask + scikit-learn (bench/flask_serve.py), a forest trained on the same data — MLflow's shape.
// Each server is a child process, and all are started first; each gets the same load: a warm-up, then in each of
// --rounds rounds a measured run on every server in turn (wrk -t1 when it is installed, autocannon otherwise; 10
// connections); each row is its server's median run, and the ratios of every round are printed too. Then (b) again at half its maximum throughput, from
// a paced client of our own (wrk cannot limit its rate, and autocannon's overallRate sends each second's quota as
// fast as it can and then waits, so its latencies are those of full load), and (b)'s memory from /proc/PID/status.
// Options: --tool wrk|autocannon, --duration S (10), --warmup S (3), --connections N (10), --rounds N (3),
//          --model FILE (a model.json to serve instead of training the template), --cpu-prof DIR (profile (b)),
//          --workers N (2; (d): the same server with serve.json `workers: N`; 1 skips it),
//          --no-node-http (skips (b'): (b) with serve.json listen.http "node", node:http in front of the routes),
//          --pipeline N (1: wrk sends N requests a write on each connection, a cheap client; the paced run is
//          unchanged).
// (b) runs with `workers: 1` (one process). Each measured run also gives the server's CPU time per request, from
// /proc (the primary and its workers summed for (d)): on two cores shared with the load generator, req/s says as
// much about the client as about the server.
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cli = join(root, 'dist/cli.js');
const template = join(root, 'templates/model-repo');
const PYTHON = '/usr/bin/python3';
const ENVS = ['prod', 'staging', 'dev'];
const ANSWER = '{"predictions":["No"]}';

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const settings = {
  duration: Number(option('--duration', '10')),
  warmup: Number(option('--warmup', '3')),
  connections: Number(option('--connections', '10')),
  rounds: Number(option('--rounds', '3')),
  pipeline: Number(option('--pipeline', '1')),
};

/** The run with the median throughput (the lower middle one of an even count). */
function median(list) {
  return [...list].sort((x, y) => x.rps - y.rps)[Math.floor((list.length - 1) / 2)];
}

// The bare server reads the whole body and parses it as JSON, as the real one must (issue 16's baseline: "a bare
// node:http server that parses the same JSON body"), then answers a constant.
const BARE = `
const http = require('node:http');
const answer = Buffer.from(${JSON.stringify(ANSWER)});
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write('bare: listening on http://127.0.0.1:' + server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

const children = new Set();

/** Starts a server and resolves with its base URL once it prints `listening on http://…`. */
function startServer(name, command, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    let ready = false;
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${timeoutMs / 1000} s:\n${output}`)), timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      if (!ready) reject(err);
    };
    // Both streams are always drained, so that a chatty server never blocks on a full pipe.
    const read = (chunk) => {
      output = (output + chunk).slice(-8192);
      const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(output);
      if (!ready && m) {
        ready = true;
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => output });
      }
    };
    child.stdout.setEncoding('utf8').on('data', read);
    child.stderr.setEncoding('utf8').on('data', read);
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      children.delete(child);
      fail(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${output}`));
    });
  });
}

function stopServer(server) {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      children.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The machine's busy CPU seconds so far, all cores (/proc/stat: everything but idle and iowait, in 1/100 s). */
function machineBusy() {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  return (ticks.reduce((sum, t) => sum + t, 0) - ticks[3] - ticks[4]) / 100;
}

/**
 * A measured run, with the server's CPU time per answered request (µs): the cost that does not depend on how busy
 * the machine is; the load generator's (wrk's) too, and how many of the machine's cores were busy.
 */
async function withCpu(pids, run, seconds) {
  const before = pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const busyBefore = machineBusy();
  const r = await run();
  const busy = machineBusy() - busyBefore;
  const used = pids().reduce((sum, pid) => sum + cpuSeconds(pid), 0) - before;
  const requests = Math.max(1, r.rps * seconds);
  return { ...r, cpuUs: (used * 1e6) / requests, clientUs: r.clientCpu === undefined ? undefined : (r.clientCpu * 1e6) / requests, cores: busy / seconds };
}

/** A process's children (a cluster's workers), from /proc. */
function childPids(pid) {
  const out = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (text) for (const child of text.split(' ')) out.push(Number(child));
  }
  return out;
}

function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** One request, to prove the server answers this body before it is loaded. */
async function check(name, url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  if (res.status !== 200 || !text.includes('"predictions"')) throw new Error(`${name}: POST ${url} answered ${res.status} ${text.slice(0, 300)}`);
  return text.trim();
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

/** autocannon, with every 2xx latency kept (its own histogram holds whole milliseconds only). */
async function autocannonLoad(autocannon, url, body, seconds) {
  const latencies = [];
  const instance = autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: settings.connections,
    duration: seconds,
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const result = await instance;
  latencies.sort((x, y) => x - y);
  return {
    rps: result.requests.total / (result.duration || seconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * Open loop at a fixed rate over `connections` keep-alive sockets: each millisecond, every request that is due is
 * sent on an idle socket or queued for the next one to free up, whether or not earlier ones have been answered.
 * A request's latency runs from the moment it was due to be sent, so waiting for a free socket counts (as in wrk2);
 * our timer's own lateness (≤ ~1 ms) does not. Raw sockets and a prebuilt request: node:http's client costs so much
 * CPU that, on two cores shared with the server, it became the limit (it could not send 6,000 req/s to the bare
 * server) and added milliseconds to every latency.
 */
function pacedLoad(url, body, rate, seconds) {
  const { hostname, port, pathname } = new URL(url);
  const payload = Buffer.from(body);
  const head = `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`;
  const message = Buffer.concat([Buffer.from(head, 'latin1'), payload]);
  const latencies = [];
  const idle = [];
  const waiting = [];
  const sockets = [];
  let bad = 0;
  let sent = 0;
  let answered = 0;
  let ended = false;
  return new Promise((resolve, reject) => {
    const finish = () => {
      if (!ended || answered < sent) return;
      for (const socket of sockets) socket.destroy();
      latencies.sort((x, y) => x - y);
      resolve({ rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), bad });
    };
    const send = (conn, due) => {
      conn.due = due;
      conn.socket.write(message);
    };
    const begin = () => {
      const start = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        const elapsed = Math.min(now - start, seconds * 1000);
        for (const due = Math.floor((elapsed * rate) / 1000); sent < due; sent++) {
          const conn = idle.pop();
          if (conn) send(conn, now);
          else waiting.push(now);
        }
        if (elapsed >= seconds * 1000) {
          clearInterval(timer);
          ended = true;
          finish();
        }
      }, 1);
    };
    // One request in flight per socket, and the server always sends Content-Length: a response is complete when
    // its headers and that many bytes have arrived. A socket the server closes (keep-alive timeout, 408) is opened
    // again; a request it had in flight counts as an error.
    let connected = 0;
    const open = (conn) => {
      const socket = connect({ host: hostname, port: Number(port), noDelay: true });
      conn.socket = socket;
      conn.buffer = Buffer.alloc(0);
      sockets.push(socket);
      socket.on('error', () => {});
      socket.on('connect', () => {
        const next = waiting.shift();
        if (next !== undefined) send(conn, next);
        else idle.push(conn);
        if (++connected === settings.connections) begin();
      });
      socket.on('close', () => {
        if (ended && answered >= sent) return;
        const at = idle.indexOf(conn);
        if (at >= 0) idle.splice(at, 1);
        if (conn.due !== null) {
          conn.due = null;
          bad++;
          answered++;
        }
        if (connected < settings.connections) return reject(new Error(`cannot connect to ${url}`));
        open(conn);
        finish();
      });
      socket.on('data', (chunk) => {
        conn.buffer = conn.buffer.length > 0 ? Buffer.concat([conn.buffer, chunk]) : chunk;
        const end = conn.buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headers = conn.buffer.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(headers)?.[1] ?? 0);
        if (conn.buffer.length < end + 4 + length) return;
        conn.buffer = conn.buffer.subarray(end + 4 + length);
        if (conn.due === null) return; // unsolicited (a 408 on an idle socket): its close follows
        if (headers.startsWith('HTTP/1.1 200')) latencies.push(performance.now() - conn.due);
        else bad++;
        conn.due = null;
        answered++;
        const next = waiting.shift();
        if (next !== undefined) send(conn, next);
        else idle.push(conn);
        finish();
      });
    };
    for (let i = 0; i < settings.connections; i++) open({ socket: null, buffer: null, due: null });
  });
}

function toMs(value, unit) {
  return Number(value) * { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[unit];
}

function wrkLoad(url, script, seconds) {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${settings.connections}`, `-d${seconds}s`, '--latency', '-s', script, url];
    // Through sh, which prints its waited children's CPU time (cutime and cstime of /proc/PID/stat) after wrk exits:
    // the load generator's own CPU.
    const child = spawn('sh', ['-c', 'wrk "$@"; s=$?; echo "client-cpu $(cut -d" " -f16,17 /proc/$$/stat)"; exit $s', 'sh', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      const rps = /Requests\/sec:\s+([0-9.]+)/.exec(out);
      const at = (p) => /^\s+(\d+)%\s+([0-9.]+)(us|ms|s|m)\s*$/m.exec(out.split('\n').filter((l) => l.trim().startsWith(`${p}%`)).join('\n'));
      const p50 = at(50);
      const p99 = at(99);
      if (code !== 0 || !rps || !p50 || !p99) return reject(new Error(`wrk ${args.join(' ')} failed (${code}):\n${out}`));
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const client = /client-cpu (\d+) (\d+)/.exec(out);
      resolve({
        clientCpu: client ? (Number(client[1]) + Number(client[2])) / 100 : undefined,
        rps: Number(rps[1]),
        p50: toMs(p50[2], p50[3]),
        p99: toMs(p99[2], p99[3]),
        bad: non2xx + (socket ? Number(socket[1]) + Number(socket[3]) + Number(socket[4]) : 0),
        readErrors: socket ? Number(socket[2]) : 0,
      });
    });
  });
}

/** Trains the template in a copy (templates/ stays untouched) and returns the artifact's path. */
function trainTemplate(work) {
  const repo = join(work, 'model-repo');
  mkdirSync(repo, { recursive: true });
  cpSync(join(template, 'ml.yaml'), join(repo, 'ml.yaml'));
  cpSync(join(template, 'data'), join(repo, 'data'), { recursive: true });
  const r = spawnSync(process.execPath, [cli, 'run', repo], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bramble run ${repo} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return join(repo, '.bramble/model.json');
}

/** Top self-time functions of a .cpuprofile, as shares of the sampled time. */
function summariseProfile(file, top = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const self = new Map(profile.nodes.map((n) => [n.id, 0]));
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], self.get(profile.samples[i]) + (profile.timeDeltas[i] ?? 0));
  const byFunction = new Map();
  let total = 0;
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\//, '')}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + self.get(n.id));
    total += self.get(n.id);
  }
  return [...byFunction.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([key, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${key}`);
}

async function main() {
  const tool = option('--tool', spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error ? 'autocannon' : 'wrk');
  const profileDir = option('--cpu-prof', null);
  if (tool !== 'wrk' && tool !== 'autocannon') throw new Error(`--tool ${tool}: give wrk or autocannon`);
  const autocannon = tool === 'autocannon' ? (await import('autocannon')).default : null;
  process.stdout.write(
    `${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start; load from ${tool}, ` +
      `1 thread, ${settings.connections} connections${settings.pipeline > 1 ? `, ${settings.pipeline} requests pipelined a write` : ''}, ${settings.warmup} s warm-up each, then ${settings.rounds} rounds of ${settings.duration} s on each server in turn; medians.\n`,
  );

  const work = mkdtempSync(join(tmpdir(), 'bramble-bench-serve-'));
  const cleanup = () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));

  const modelFile = option('--model', null) ?? trainTemplate(work);
  const artifact = JSON.parse(readFileSync(modelFile, 'utf8'));
  const body = JSON.stringify({ dataframe_records: [artifact.samples.rows[0]] });
  const script = join(work, 'post.lua');
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  if (settings.pipeline > 1) {
    // --pipeline N: each write carries N requests (wrk's request() returning them joined), so the client's CPU a
    // request falls to a few µs and the cores are left to the servers: what (d) can do when the client is cheap.
    const one = `wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, ${JSON.stringify(body)})`;
    writeFileSync(script, `init = function(args)\n  local r = {}\n  for i = 1, ${settings.pipeline} do r[i] = ${one} end\n  req = table.concat(r)\nend\nrequest = function() return req end\n`);
  }
  const load = (url, seconds) => (tool === 'wrk' ? wrkLoad(url, script, seconds) : autocannonLoad(autocannon, url, body, seconds));
  const measure = async (url) => {
    await load(url, settings.warmup);
    return load(url, settings.duration);
  };

  // (b) bramble serve, the same artifact as every environment's current model.
  const models = join(work, 'models');
  for (const env of ENVS) {
    mkdirSync(join(models, env), { recursive: true });
    cpSync(modelFile, join(models, env, 'current.json'));
  }
  const serveConfig = {
    listen: { host: '127.0.0.1', port: 0 },
    workers: 1,
    models,
    log: { dir: join(work, 'logs') },
    environments: Object.fromEntries(ENVS.map((env) => [env, { path: `/${env}` }])),
  };
  const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const serve = (name, file, overrides, args = []) => {
    writeFileSync(join(work, file), JSON.stringify({ ...serveConfig, ...overrides }, null, 2));
    return startServer(name, process.execPath, [...args, cli, 'serve', '--config', join(work, file)], 60_000);
  };
  const workers = Number(option('--workers', '2'));

  // Every server is started first and stays up; the rounds then load them in turn, so that each round's ratios are
  // side by side and a busy spell of the machine falls on every case alike. An idle server costs nothing.
  const cases = [];
  const bare = await startServer('the bare node:http server', process.execPath, ['-e', BARE], 10_000);
  cases.push({ key: 'a', url: bare.url, server: bare, pids: () => [bare.child.pid] });
  const bramble = await serve('bramble serve', 'serve.json', {}, nodeArgs);
  cases.push({ key: 'b', url: `${bramble.url}/prod/invocations`, server: bramble, pids: () => [bramble.child.pid] });
  if (!process.argv.includes('--no-node-http')) {
    // (b') the same server with node:http in front of the routes (listen.http: node): what http1.ts is worth.
    const viaNode = await serve('bramble serve (node:http)', 'serve-node-http.json', { listen: { ...serveConfig.listen, http: 'node' }, log: { dir: join(work, 'logs-node-http') } });
    cases.push({ key: "b'", url: `${viaNode.url}/prod/invocations`, server: viaNode, pids: () => [viaNode.child.pid] });
  }
  if (workers > 1) {
    // (d) the same with `workers: N` (default 2): the primary and its workers, their CPU summed.
    const many = await serve('bramble serve (workers)', 'serve-workers.json', { workers, log: { dir: join(work, 'logs-workers') } });
    cases.push({ key: 'd', url: `${many.url}/prod/invocations`, server: many, pids: () => [many.child.pid, ...childPids(many.child.pid)] });
  }
  const byKey = Object.fromEntries(cases.map((k) => [k.key, k]));
  let half = null;
  const mem = { started: memory(bramble.child.pid) };
  const runs = Object.fromEntries(cases.map((k) => [k.key, []]));
  try {
    for (const k of cases) {
      const answer = await check(k.key, k.url, body);
      if (k.key !== 'a' && answer !== ANSWER) process.stdout.write(`note: (${k.key}) answered ${answer}, the bare server ${ANSWER}\n`);
      await load(k.url, settings.warmup);
    }
    mem.warm = memory(bramble.child.pid);
    for (let round = 0; round < settings.rounds; round++) {
      for (const k of cases) runs[k.key].push(await withCpu(k.pids, () => load(k.url, settings.duration), settings.duration));
    }
    mem.loaded = memory(bramble.child.pid);
    if (byKey.d) byKey.d.rss = byKey.d.pids().map((pid) => memory(pid).rss);
    // The paced client warms up too (its first half-second is its own JIT, not the server), and measures (a) at the
    // same rate: the floor of what it can show on this machine.
    const rate = Math.round(median(runs.b).rps / 2);
    await pacedLoad(byKey.b.url, body, rate, settings.warmup);
    half = { rate, ...(await pacedLoad(byKey.b.url, body, rate, settings.duration)) };
    await pacedLoad(byKey.a.url, body, rate, settings.warmup);
    half.floor = await pacedLoad(byKey.a.url, body, rate, settings.duration);
    mem.end = memory(bramble.child.pid);
  } finally {
    for (const k of cases) await stopServer(k.server);
  }
  const a = median(runs.a);
  const b = median(runs.b);
  const bNode = runs["b'"] ? median(runs["b'"]) : null;
  const d = runs.d ? { ...median(runs.d), rss: byKey.d.rss } : null;
  if (settings.rounds > 1) {
    const each = (x, y) => runs[x].map((r, i) => (r.rps / runs[y][i].rps).toFixed(2)).join(', ');
    process.stdout.write(`\nper round: (b)/(a) ${each('b', 'a')}${d ? `; (d)/(b) ${each('d', 'b')}` : ''}${bNode ? `; (b)/(b') ${each('b', "b'")}` : ''}\n`);
  }

  // (c) Flask + scikit-learn.
  let c = null;
  const python = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import flask, sklearn, pandas'], { encoding: 'utf8' }) : null;
  if (!python || python.status !== 0) {
    process.stdout.write(`(c) skipped: flask, sklearn or pandas is not importable from ${PYTHON} (apt-get install python3-flask python3-sklearn).\n`);
  } else {
    const flask = await startServer('bench/flask_serve.py', PYTHON, [join(here, 'flask_serve.py'), join(template, 'data/churn.csv')], 180_000);
    try {
      await check('flask', `${flask.url}/invocations`, body);
      c = await measure(`${flask.url}/invocations`);
    } finally {
      await stopServer(flask);
    }
  }

  const ms = (v) => (v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(0));
  const rows = [
    ['(a) bare node:http, parses the body, constant answer', a, '1.00× a', ''],
    ['(b) bramble serve, churn 200 trees, /prod/invocations', b, `${(b.rps / a.rps).toFixed(2)}× a`, `${mem.loaded.rss.toFixed(0)} MB`],
  ];
  if (half) {
    rows.push([`(b) at half its max: ${half.rate} req/s (paced, open loop)`, half, `${(half.rps / a.rps).toFixed(2)}× a`, `${mem.end.rss.toFixed(0)} MB`]);
    rows.push([`(a) at the same rate (the paced client's floor)`, half.floor, '', '']);
  }
  if (bNode) rows.push([`(b') the same, listen.http: node (node:http)`, bNode, `${(bNode.rps / a.rps).toFixed(2)}× a, b = ${(b.rps / bNode.rps).toFixed(2)}× b'`, '']);
  if (d) rows.push([`(d) bramble serve, workers: ${workers}`, d, `${(d.rps / a.rps).toFixed(2)}× a, ${(d.rps / b.rps).toFixed(2)}× b`, `${d.rss.map((r) => r.toFixed(0)).join(' + ')} MB`]);
  if (c) rows.push(['(c) Flask + scikit-learn, 200 trees, 1 worker', c, `b = ${(b.rps / c.rps).toFixed(1)}× c`, '']);
  const lines = ['| case | req/s | p50 ms | p99 ms | ratio | errors | server CPU µs/request | wrk CPU µs/request | cores busy | RSS |', '|---|---|---|---|---|---|---|---|---|---|'];
  const us = (v) => (v === undefined ? '–' : v.toFixed(0));
  for (const [name, r, ratio, rss] of rows) {
    lines.push(`| ${name} | ${Math.round(r.rps)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ratio} | ${r.bad} | ${us(r.cpuUs)} | ${us(r.clientUs)} | ${r.cores === undefined ? '–' : r.cores.toFixed(2)} | ${rss} |`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (d?.clientUs !== undefined) {
    // What the machine's cores can give (d) at the CPU it and its client spent a request: its ceiling here.
    const ceiling = (cpus().length * 1e6) / (d.cpuUs + d.clientUs);
    process.stdout.write(
      `\n(d) and wrk kept ${d.cores.toFixed(2)} of ${cpus().length} cores busy. At ${d.cpuUs.toFixed(0)} µs of server CPU and ${d.clientUs.toFixed(0)} µs of wrk's a request, ` +
        `${cpus().length} cores answer at most ${Math.round(ceiling)} req/s: ${(ceiling / b.rps).toFixed(2)}× (b). A client on the same cores caps (d) there.\n`,
    );
  }

  const rss = Math.max(mem.warm.rss, mem.loaded.rss, mem.end?.rss ?? 0);
  const hwm = (mem.end ?? mem.loaded).hwm;
  const targets = [
    ['(b) ≥ 0.7× the throughput of (a)', `${(b.rps / a.rps).toFixed(2)}×`, b.rps >= 0.7 * a.rps],
    [`(d) workers: ${workers} ≥ 1.6× the throughput of (b)`, d ? `${(d.rps / b.rps).toFixed(2)}×` : 'not measured', d ? d.rps >= 1.6 * b.rps : null],
    ['(b) p99 ≤ 5 ms at half its max throughput', half ? `${ms(half.p99)} ms ((a) at the same rate: ${ms(half.floor.p99)} ms)` : 'not measured', half ? half.p99 <= 5 : null],
    ['(b) ≥ 20× the throughput of (c)', c ? `${(b.rps / c.rps).toFixed(1)}×` : 'not measured', c ? b.rps >= 20 * c.rps : null],
    ['RSS with three environments loaded ≤ 150 MB', `${rss.toFixed(0)} MB (peak VmHWM ${hwm.toFixed(0)} MB)`, rss <= 150],
  ];
  const t = ['| target | measured | met |', '|---|---|---|'];
  for (const [name, got, met] of targets) t.push(`| ${name} | ${got} | ${met === null ? '–' : met ? 'yes' : 'no'} |`);
  process.stdout.write(`\n${t.join('\n')}\n`);
  process.stdout.write(
    `\n(b) memory, VmRSS: ${mem.started.rss.toFixed(0)} MB after start, ${mem.warm.rss.toFixed(0)} MB after the warm-up, ${mem.loaded.rss.toFixed(0)} MB after the load` +
      `${mem.end ? `, ${mem.end.rss.toFixed(0)} MB after the rate-limited run` : ''}; VmHWM ${hwm.toFixed(0)} MB.\n` +
      `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end. The load generator shares the machine's cores with the server.\n`,
  );
  if (tool === 'wrk' && c?.readErrors) process.stdout.write(`(c) closes every connection (HTTP/1.0, like gunicorn's sync worker): wrk counted ${c.readErrors} read errors for it, not counted as failures.\n`);
  if (profileDir) {
    const file = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profileDir, f)).sort().pop();
    if (file) process.stdout.write(`\n(b)'s CPU profile: ${file}; top self time:\n${summariseProfile(file).join('\n')}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench/serve.mjs: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
