// A cluster worker's side of the link to its primary (cluster.ts): the messages both ways, the models it is sent
// (loaded and self-tested here before they serve), the prediction records it sends in batches to the primary that
// writes the log, and the requests it forwards for the primary to answer.
import { describeError } from '../errors.js';
import type { WorkerSide } from './app.js';
import { readBody } from './body.js';
import type { ModelHost } from './host.js';
import type { Reply, ServeRequest } from './http.js';
import type { CanarySettings } from '../registry/roles.js';
import { ServedModel } from './model.js';
import { appendRecord, type PredictionLogStats, type PredictionSink } from './prediction-log.js';
import { LineQueue } from './line-queue.js';

/** One model as sent over IPC: the artifact's text, as the primary read and verified it. */
export interface WireModel {
  env: string;
  text: string;
  file: string;
  version: string;
  sha256: string;
  /** A canary slot's weight and stickiness. */
  canary?: CanarySettings;
}

export interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string;
  body: string;
}

export type ToWorker =
  | { t: 'models'; seq: number; models: WireModel[]; /** Role slots emptied (a canary or shadow taken away). */ removed?: string[] }
  | { t: 'reply'; n: number; reply: Reply }
  | { t: 'collect'; n: number }
  | { t: 'log-state'; faulty: boolean };

export type ToPrimary =
  | { t: 'hello' }
  | { t: 'loaded'; seq: number; versions: Record<string, string | null>; error?: string }
  | { t: 'listening'; url: string; envUrls: Record<string, string> }
  | { t: 'failed'; message: string; listen?: { code: 'E_PORT_IN_USE' | 'E_PORT_PRIVILEGED' | 'E_LISTEN_ADDRESS'; data: { host: string; port: number; key: string } } }
  | { t: 'log'; bytes: Uint8Array; ends: number[] }
  | { t: 'request'; n: number; req: WireRequest }
  | { t: 'collected'; n: number; metrics: string; rss: number; answered: number };

/** Every message carries this mark, so that the link ignores messages that are not its own. */
export interface Envelope<T> {
  bramble: 1;
  body: T;
}

/** How long log records gather in a worker before they go to the primary in one message. */
const LOG_BATCH_MS = 50;
/** Records held while the primary is slow to take them; more are dropped and counted, as the log itself does. */
const LOG_MAX_QUEUE_BYTES = 8 * 1024 * 1024;

/**
 * The prediction log as a worker sees it: records are serialised and encoded here (line-queue.ts, for the reason
 * given there) and their bytes sent to the primary in batches, which queues them as they are.
 */
class RemoteLog implements PredictionSink {
  private readonly queue = new LineQueue();
  private bytes = 0;
  private sent = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The primary's log could not be written when it last said so. */
  faulty = false;

  constructor(private readonly send: (body: ToPrimary) => void) {}

  append(record: object): boolean {
    return appendRecord(this, record, () => this.dropped++);
  }

  appendLine(line: string): boolean {
    const size = this.closed ? -1 : this.queue.push(line, LOG_MAX_QUEUE_BYTES - this.bytes);
    return this.queued(size);
  }

  appendEncoded(bytes: Uint8Array, ends: readonly number[]): number {
    let queued = 0;
    for (let k = 0; k < ends.length; k++) {
      const size = this.closed ? -1 : this.queue.pushEncoded(bytes, k === 0 ? 0 : ends[k - 1], ends[k], LOG_MAX_QUEUE_BYTES - this.bytes);
      if (this.queued(size)) queued++;
    }
    return queued;
  }

  private queued(size: number): boolean {
    if (size < 0) {
      this.dropped++;
      return false;
    }
    this.bytes += size;
    this.timer ??= setTimeout(() => this.drain(), LOG_BATCH_MS);
    return true;
  }

  private drain(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.count === 0) return;
    // Not released for reuse: the message may be serialised after this returns (a channel busy with a handle).
    const batch = this.queue.take();
    const ends = batch.ends as number[];
    this.bytes = 0;
    this.sent += ends.length;
    this.send({ t: 'log', bytes: batch.buf.subarray(0, ends[ends.length - 1]), ends });
  }

  /** Records taken since start: sent to the primary or waiting to be. */
  get records(): number {
    return this.sent + this.queue.count;
  }

  stats(): PredictionLogStats {
    return { written: this.sent, dropped: this.dropped, failedWrites: 0, queuedBytes: this.bytes, faulty: this.faulty, lastError: null, rotations: 0 };
  }

  flush(): Promise<void> {
    this.drain();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.drain();
    this.closed = true;
    return Promise.resolve();
  }
}

export class WorkerLink {
  private readonly log = new RemoteLog((body) => this.send(body));
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private asked = 0;
  private host: ModelHost | null = null;
  private metrics: (() => string) | null = null;
  private firstModels: (() => void) | null = null;
  private readonly listener = (message: Envelope<ToWorker>): void => this.received(message);

  constructor(
    private readonly bodyLimit: number,
    private readonly warn: (message: string) => void,
  ) {
    process.on('message', this.listener);
  }

  side(): WorkerSide {
    return { log: this.log, forward: (req) => this.forward(req) };
  }

  /** Asks the primary for the models and resolves once they are loaded here; then this worker may listen. */
  start(host: ModelHost, metrics: () => string): Promise<void> {
    this.host = host;
    this.metrics = metrics;
    const loaded = new Promise<void>((resolve) => (this.firstModels = resolve));
    this.send({ t: 'hello' });
    return loaded;
  }

  send(body: ToPrimary): void {
    process.send?.({ bramble: 1, body } satisfies Envelope<ToPrimary>);
  }

  stop(): void {
    void this.log.close();
    process.off('message', this.listener);
  }

  private async forward(req: ServeRequest): Promise<Reply> {
    const body = await readBody(req, this.bodyLimit);
    const n = ++this.asked;
    const answer = new Promise<Reply>((resolve) => this.waiting.set(n, resolve));
    this.send({ t: 'request', n, req: { method: req.method, url: req.url, headers: { ...req.headers }, remoteAddress: req.remoteAddress, body } });
    return answer;
  }

  private received(message: Envelope<ToWorker>): void {
    if (typeof message !== 'object' || message === null || message.bramble !== 1) return;
    const m = message.body;
    if (m.t === 'models') this.load(m.seq, m.models, m.removed ?? []);
    else if (m.t === 'reply') {
      const resolve = this.waiting.get(m.n);
      this.waiting.delete(m.n);
      resolve?.(m.reply);
    } else if (m.t === 'collect') {
      this.send({ t: 'collected', n: m.n, metrics: this.metrics?.() ?? '', rss: process.memoryUsage().rss, answered: this.log.records });
    } else if (m.t === 'log-state') this.log.faulty = m.faulty;
  }

  /** Loads each model sent (hash, schema, self-test: as every process does) and serves it; answers what it serves. */
  private load(seq: number, models: readonly WireModel[], removed: readonly string[]): void {
    const host = this.host;
    if (!host) return;
    const errors: string[] = [];
    for (const m of models) {
      try {
        const now = host.model(m.env);
        // The same artifact with new canary settings (a reweight): nothing to load again.
        const model = now !== null && now.sha256 === m.sha256 && now.version === m.version ? now : ServedModel.load(m.text, m.file, { version: m.version, expectSha256: m.sha256 });
        host.install(m.env, model, m.canary);
      } catch (err) {
        // The primary verified this text: a worker that cannot load it keeps its model and says so (/status shows it).
        errors.push(`${m.env}: ${describeError(err)}`);
        this.warn(`${m.env}: the model the primary sent is not served here: ${describeError(err)}`);
      }
    }
    for (const slot of removed) host.drop(slot);
    const versions: Record<string, string | null> = {};
    for (const slot of host.slots) if (host.envs.includes(slot) || host.model(slot)) versions[slot] = host.model(slot)?.version ?? null;
    this.send({ t: 'loaded', seq, versions, ...(errors.length > 0 ? { error: errors.join('; ') } : {}) });
    this.firstModels?.();
    this.firstModels = null;
  }
}
