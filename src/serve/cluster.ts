// serve.json `workers: N`: N processes answer requests on the same ports (node:cluster; the primary hands each new
// connection to the next worker). The primary is the host: it loads and verifies each environment's model, syncs
// with git, takes deploys, and alone writes the prediction log. It answers no connection itself; its workers
// do, each with its own copy of every model, sent by the primary as the text it verified and loaded and
// self-tested again in the worker before it serves. What speaks for the whole host — /metrics, /status, /admin/… —
// a worker forwards to the primary: a deploy or a sync answers only once every worker serves what it swapped in;
// /metrics sums the workers' counters; /status lists each worker. A worker that dies is replaced, and is sent
// the current models before it listens. `workers: 1` is the single process of server.ts, unchanged.
import cluster, { type Worker } from 'node:cluster';
import { describeError } from '../errors.js';
import { buildServer, type BuiltServer, type ServeDeps } from './app.js';
import type { ServeConfig } from './config.js';
import type { Reply, ServeRequest } from './http.js';
import type { ModelHost, ModelSource } from './host.js';
import { mergeMetrics } from './metrics-merge.js';
import type { ServedModel } from './model.js';
import { ListenError, startServer, type RunningServer } from './server.js';
import { WorkerLink, type Envelope, type ToPrimary, type ToWorker, type WireModel } from './worker.js';

/** A worker as the primary sees it. */
interface WorkerState {
  worker: Worker;
  pid: number;
  started: number;
  /** Per environment, the version it said it serves (after its last load). */
  versions: Record<string, string | null>;
  listening: boolean;
  answered: number;
  rss: number;
}

/** A dead worker is replaced at once, unless it died this soon after starting (then after RESTART_DELAY_MS). */
const EARLY_DEATH_MS = 5_000;
const RESTART_DELAY_MS = 1_000;
const COLLECT_TIMEOUT_MS = 2_000;

/** `bramble serve`: one process when serve.json says `workers: 1`, else the primary here or a worker. */
export async function runServe(config: ServeConfig, deps: ServeDeps): Promise<RunningServer & { role: 'single' | 'primary' | 'worker' }> {
  if (cluster.isWorker) return { ...(await runWorker(config, deps)), role: 'worker' };
  if (config.workers <= 1) return { ...(await startServer(config, deps)), role: 'single' };
  return { ...(await runPrimary(config, deps)), role: 'primary' };
}

async function runWorker(config: ServeConfig, deps: ServeDeps): Promise<RunningServer> {
  const link = new WorkerLink(config.limits.bodyBytes, deps.warn);
  let server: RunningServer;
  try {
    // The models come before the listeners: a worker never answers "no model" for a model its primary serves.
    server = await startServer(config, { ...deps, worker: link.side() }, (host, metrics) => link.start(host, () => metrics.render()));
  } catch (err) {
    link.send(err instanceof ListenError ? { t: 'failed', message: err.message, listen: { code: err.code, data: err.data as { host: string; port: number; key: string } } } : { t: 'failed', message: describeError(err) });
    link.stop();
    throw err;
  }
  link.send({ t: 'listening', url: server.url, envUrls: server.envUrls });
  return {
    ...server,
    close: async () => {
      await server.close();
      link.stop();
      // The open IPC channel would keep this process alive: closing it ends the worker once its last message is out.
      cluster.worker?.disconnect();
    },
  };
}

/** The primary: the host's state, and workers in front of it. */
class Primary {
  readonly workers = new Map<number, WorkerState>();
  private closing = false;
  private asked = 0;
  private readonly collecting = new Map<number, { want: number; got: Map<number, { metrics: string }>; done: () => void }>();
  /** Swaps sent to the workers and not yet acknowledged by all of them. */
  private readonly pendingSwaps = new Set<Promise<void>>();
  private readonly swapWaiters = new Map<number, { left: Set<number>; done: () => void }>();
  private ready: { want: number; resolve: (url: { url: string; envUrls: Record<string, string> }) => void; reject: (err: Error) => void } | null = null;

  constructor(
    private readonly app: BuiltServer,
    private readonly config: ServeConfig,
    private readonly warn: (message: string) => void,
  ) {}

  /** Forks `config.workers` workers and resolves with the URL once all of them listen. */
  start(): Promise<{ url: string; envUrls: Record<string, string> }> {
    const promise = new Promise<{ url: string; envUrls: Record<string, string> }>((resolve, reject) => {
      this.ready = { want: this.config.workers, resolve, reject };
    });
    // The workers accept from the shared socket themselves (SCHED_NONE), rather than the primary handing each
    // connection on (round robin): a connection handed to a worker as it dies was lost, and its client waited
    // forever; one waiting in the socket's queue is taken by a live worker.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    // Structured clone, not JSON: the log lines workers send (JSON text already) are not escaped a second time.
    cluster.setupPrimary({ serialization: 'advanced' });
    cluster.on('message', (worker, message: Envelope<ToPrimary>) => this.received(worker, message));
    cluster.on('exit', (worker, code, signal) => this.exited(worker, code, signal));
    for (let i = 0; i < this.config.workers; i++) this.fork();
    return promise;
  }

  private fork(): void {
    const worker = cluster.fork();
    this.workers.set(worker.id, { worker, pid: worker.process.pid ?? 0, started: Date.now(), versions: {}, listening: false, answered: 0, rss: 0 });
  }

  /** Every environment's model, as the text the primary loaded. */
  private wireModels(): WireModel[] {
    const out: WireModel[] = [];
    for (const slot of this.app.host.slots) {
      const model = this.app.host.model(slot);
      const source = model ? this.app.host.source(model) : undefined;
      if (model && source) out.push(wireModel(slot, model, source));
    }
    return out;
  }

  private received(worker: Worker, message: Envelope<ToPrimary>): void {
    if (typeof message !== 'object' || message === null || message.bramble !== 1) return;
    const state = this.workers.get(worker.id);
    const m = message.body;
    if (!state) return;
    if (m.t === 'hello') this.send(worker, { t: 'models', seq: 0, models: this.wireModels() });
    else if (m.t === 'loaded') {
      state.versions = m.versions;
      if (m.error) this.warn(`worker ${state.pid}: ${m.error}`);
      const waiter = this.swapWaiters.get(m.seq);
      if (waiter) {
        waiter.left.delete(worker.id);
        if (waiter.left.size === 0) waiter.done();
      }
    } else if (m.t === 'listening') this.listening(state, m.url, m.envUrls);
    else if (m.t === 'failed') this.failed(state, m);
    else if (m.t === 'log') this.app.log.appendEncoded(m.bytes, m.ends);
    else if (m.t === 'request') void this.answerForwarded(worker, m.n, m.req);
    else if (m.t === 'collected') this.collected(worker.id, state, m);
  }

  private listening(state: WorkerState, url: string, envUrls: Record<string, string>): void {
    state.listening = true;
    if (!this.ready) return;
    if ([...this.workers.values()].filter((w) => w.listening).length >= this.ready.want) {
      this.ready.resolve({ url, envUrls });
      this.ready = null;
    }
  }

  private failed(state: WorkerState, m: Extract<ToPrimary, { t: 'failed' }>): void {
    const err = m.listen ? new ListenError(m.listen.code, m.message, m.listen.data) : new Error(`a worker could not start: ${m.message}`);
    if (this.ready) {
      this.ready.reject(err);
      this.ready = null;
      this.closing = true;
    } else this.warn(`worker ${state.pid} could not start: ${m.message}`);
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const state = this.workers.get(worker.id);
    this.workers.delete(worker.id);
    for (const waiter of this.swapWaiters.values()) {
      waiter.left.delete(worker.id);
      if (waiter.left.size === 0) waiter.done();
    }
    for (const c of this.collecting.values()) if (c.got.size >= --c.want) c.done();
    if (this.closing || !state) return;
    const early = Date.now() - state.started < EARLY_DEATH_MS;
    this.warn(`worker ${state.pid} died (${signal ?? `exit code ${code ?? '?'}`}); starting another${early ? ` in ${RESTART_DELAY_MS / 1000} s` : ''}`);
    if (early) setTimeout(() => this.closing || this.fork(), RESTART_DELAY_MS).unref();
    else this.fork();
  }

  /** A model was swapped in here: every worker loads the same text; resolves once each has answered. */
  swapped(env: string, model: ServedModel): void {
    const source = this.app.host.source(model);
    if (source) this.broadcast([wireModel(env, model, source)], []);
  }

  /** Sends every worker models to serve and role slots to empty; /status and /admin answers wait until each has. */
  broadcast(models: WireModel[], removed: string[]): void {
    const seq = ++this.asked;
    const left = new Set([...this.workers.values()].filter((w) => w.worker.isConnected()).map((w) => w.worker.id));
    if (left.size === 0) return;
    const done = new Promise<void>((resolve) => this.swapWaiters.set(seq, { left, done: resolve }));
    const settled = done.then(() => {
      this.swapWaiters.delete(seq);
      this.pendingSwaps.delete(settled);
    });
    this.pendingSwaps.add(settled);
    for (const id of left) {
      const w = this.workers.get(id);
      if (w) this.send(w.worker, { t: 'models', seq, models, ...(removed.length > 0 ? { removed } : {}) });
    }
  }

  /** A request a worker forwarded: answered as one process would, once every swap it caused reached every worker. */
  private async answerForwarded(worker: Worker, n: number, req: { method: string; url: string; headers: Record<string, string | string[] | undefined>; remoteAddress: string; body: string }): Promise<void> {
    let answer: Reply;
    try {
      const request: ServeRequest = { ...req, body: req.body === '' ? [] : [Buffer.from(req.body)] };
      answer = await this.app.handle(request, null);
      while (this.pendingSwaps.size > 0) await Promise.all([...this.pendingSwaps]);
      const path = req.url.split('?')[0];
      if (answer.status === 200 && path === '/metrics') answer = await this.metrics(answer);
      if (answer.status === 200 && path === '/status') answer = await this.status(answer);
    } catch (err) {
      this.warn(`forwarded request ${req.url}: ${describeError(err)}`);
      answer = { status: 500, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ error: 'internal error' }) };
    }
    if (worker.isConnected()) this.send(worker, { t: 'reply', n, reply: answer });
  }

  /** The primary's series (sync, deploys, the log) with every worker's counters summed in. */
  private async metrics(own: Reply): Promise<Reply> {
    const texts = await this.collect();
    const body = mergeMetrics(own.body, texts);
    return { ...own, headers: { ...own.headers, 'Content-Length': String(Buffer.byteLength(body)) }, body };
  }

  /** Asks every worker for its metrics (and its RSS and count); resolves with what came within COLLECT_TIMEOUT_MS. */
  private collect(): Promise<string[]> {
    const n = ++this.asked;
    const live = [...this.workers.values()].filter((w) => w.worker.isConnected());
    return new Promise((resolve) => {
      const got = new Map<number, { metrics: string }>();
      const finish = (): void => {
        clearTimeout(timer);
        this.collecting.delete(n);
        resolve([...got.values()].map((g) => g.metrics));
      };
      const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
      this.collecting.set(n, { want: live.length, got, done: finish });
      if (live.length === 0) finish();
      for (const w of live) this.send(w.worker, { t: 'collect', n });
    });
  }

  private collected(id: number, state: WorkerState, m: Extract<ToPrimary, { t: 'collected' }>): void {
    state.rss = m.rss;
    state.answered = m.answered;
    const c = this.collecting.get(m.n);
    if (!c) return;
    c.got.set(id, { metrics: m.metrics });
    if (c.got.size >= c.want) c.done();
  }

  /** /status with a `workers` list: each worker's pid, what it serves, predictions logged, RSS (asked now). */
  private async status(own: Reply): Promise<Reply> {
    await this.collect();
    const json = JSON.parse(own.body) as Record<string, unknown>;
    json.workers = [...this.workers.values()].map((w) => ({
      pid: w.pid,
      listening: w.listening,
      startedAt: new Date(w.started).toISOString(),
      serves: w.versions,
      predictions: w.answered,
      rssMB: Math.round(w.rss / 1024 / 1024),
    }));
    const body = JSON.stringify(json);
    return { ...own, headers: { ...own.headers, 'Content-Length': String(Buffer.byteLength(body)) }, body };
  }

  private logFaulty = false;
  private ticks = 0;

  /** Each second: tells the workers when the log starts or stops failing (feedback is refused while it fails); every fifth, refreshes /status's RSS and counts. */
  async tick(): Promise<void> {
    const faulty = this.app.log.stats().faulty;
    if (faulty !== this.logFaulty) {
      this.logFaulty = faulty;
      for (const w of this.workers.values()) if (w.worker.isConnected()) this.send(w.worker, { t: 'log-state', faulty });
    }
    if (++this.ticks % 5 === 0) await this.collect();
  }

  private send(worker: Worker, body: ToWorker): void {
    worker.send({ bramble: 1, body } satisfies Envelope<ToWorker>);
  }

  async close(): Promise<void> {
    this.closing = true;
    const exits = [...this.workers.values()].map((w) => new Promise<void>((resolve) => (w.worker.isDead() ? resolve() : w.worker.once('exit', () => resolve()))));
    for (const w of this.workers.values()) if (!w.worker.isDead()) w.worker.kill('SIGTERM');
    await Promise.all(exits);
  }
}

function wireModel(slot: string, model: ServedModel, source: ModelSource): WireModel {
  return { env: slot, text: source.text, file: source.file, version: model.version, sha256: model.sha256, ...(source.canary ? { canary: source.canary } : {}) };
}

async function runPrimary(config: ServeConfig, deps: ServeDeps): Promise<RunningServer> {
  const app = await buildServer(config, { ...deps, keepModelSources: true });
  const host: ModelHost = app.host;
  const primary = new Primary(app, config, deps.warn);
  const before = host.onSwap;
  host.onSwap = (env, model) => {
    before(env, model);
    primary.swapped(env, model);
  };
  const retired = host.onRetire;
  host.onRetire = (slot) => {
    retired(slot);
    primary.broadcast([], [slot]);
  };
  let where: { url: string; envUrls: Record<string, string> };
  try {
    where = await primary.start();
  } catch (err) {
    await primary.close();
    await app.close();
    throw err;
  }
  const refresh = setInterval(() => void primary.tick(), 1_000);
  refresh.unref();
  return {
    url: where.url,
    envUrls: where.envUrls,
    host,
    metrics: app.metrics,
    log: app.log,
    sync: app.sync,
    close: async () => {
      clearInterval(refresh);
      app.sync?.close();
      await primary.close();
      await app.close();
    },
  };
}
