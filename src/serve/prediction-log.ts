/**
 * The prediction log: every prediction `bramble serve` makes, and the ground truth `POST /feedback` sends for it,
 * appended as JSON Lines to size-bounded, rotating files that the monitoring job joins later.
 *
 * Logging must never slow or stop answers. `append` is synchronous and only serialises and queues a line; a timer
 * writes the queue in batches (one append per batch, more only when the batch crosses a rotation). The queue is
 * bounded: when the disk is slow, full or gone, records beyond the bound are dropped and counted rather than held.
 * A write error drops its batch, marks the log faulty (visible in `stats()`, which `/metrics` reads) and is
 * reported once; writes are retried at a fixed interval, and the first that succeeds writes a `fault` line, so
 * that the gap shows in the log itself.
 *
 * Lines are never split across files or left half-written: rotation happens only between lines, and after a
 * failed write the file is cut back to the last whole line we wrote (a full disk can take half a write).
 */
import { Buffer } from 'node:buffer';
import { appendFile, mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { errorClass } from '../errors.js';
import { LineQueue, lineBytes, withFirstLine, type LineBatch } from './line-queue.js';

/** The log's file names, shared with the server and the monitoring job. */
export const PREDICTION_LOG = {
  /** The file being written. */
  file: 'predictions.jsonl',
  /** The n-th newest rotated file; 0 is the current file. */
  rotated: (n: number): string => (n === 0 ? 'predictions.jsonl' : `predictions.${n}.jsonl`),
  /** Matches every file of the log; group 1 is n, absent for the current file. */
  pattern: /^predictions(?:\.([1-9][0-9]*))?\.jsonl$/,
  /** The `type` of the line written when writing resumes after a fault. */
  faultType: 'fault',
} as const;

export interface PredictionLogOptions {
  /** Created if absent (mkdir -p); a failure to create it is a fault, not a throw. */
  dir: string;
  /** Rotate when the current file would exceed this many bytes. A single longer line gets a file to itself. */
  maxBytes: number;
  /** How many files to keep, the current one included: predictions.jsonl, predictions.1.jsonl … predictions.(files-1).jsonl. */
  files: number;
  /** Default 8 MiB. Records beyond it are dropped and counted, never buffered without bound. */
  maxQueueBytes?: number;
  /** Default 50: how long appends gather before they are written in one batch. */
  flushMs?: number;
  /** Default 1000: after a write error, how long to wait before trying again. */
  retryMs?: number;
  /** Called once when writing starts failing and once when it recovers, with a message naming the path and the OS error. */
  onFault?: (message: string) => void;
  /** The clock for the times in fault lines (ms since the epoch). */
  now?: () => number;
}

export interface PredictionLogStats {
  /** Records written to the log (fault lines not included). */
  written: number;
  /** Records lost: failed writes, a full queue, records that could not be serialised, appends after close. */
  dropped: number;
  /** Write attempts that failed. */
  failedWrites: number;
  /** Bytes queued or being written. */
  queuedBytes: number;
  /** True from a failed write until a write succeeds. */
  faulty: boolean;
  /** The last write error, e.g. "ENOSPC: no space left on device, write"; null if there has been none. */
  lastError: string | null;
  rotations: number;
}

/** What the server's routes append to: this log, or in a cluster's worker the link to the primary that writes it. */
export interface PredictionSink {
  append(record: object): boolean;
  /** A line already serialised. */
  appendLine(line: string): boolean;
  /**
   * Lines already encoded, each ending in '\n': line k is bytes[k === 0 ? 0 : ends[k - 1], ends[k]). A cluster's
   * primary takes its workers' lines through this (worker.ts sends them so). Returns how many were queued.
   */
  appendEncoded(bytes: Uint8Array, ends: readonly number[]): number;
  stats(): PredictionLogStats;
  /** Writes (or sends) what is queued now. Never rejects. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A record as one line of JSON; undefined when it cannot be (BigInt, a cycle, a throwing toJSON, or nothing to write). */
export function serialised(record: object): string | undefined {
  try {
    const line: unknown = JSON.stringify(record);
    // JSON.stringify gives undefined for undefined, functions and symbols.
    return typeof line === 'string' ? line : undefined;
  } catch {
    // The record cannot be logged, and the answer must not fail for it.
    return undefined;
  }
}

/** Serialises a record and queues its line on `sink`; `unserialisable` counts one that cannot be written. */
export function appendRecord(sink: PredictionSink, record: object, unserialisable: () => void): boolean {
  const line = serialised(record);
  if (line === undefined) {
    unserialisable();
    return false;
  }
  return sink.appendLine(line);
}

/** Options that cannot work; thrown by the constructor only, never by `append`. */
export class PredictionLogError extends errorClass('E_PREDICTION_LOG') {}

const NEWLINE = Buffer.from('\n');
const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
const DEFAULT_FLUSH_MS = 50;
const DEFAULT_RETRY_MS = 1000;

interface FaultEpisode {
  from: number;
  error: string;
  /** Records dropped since the episode began. */
  dropped: number;
}

export class PredictionLog implements PredictionSink {
  readonly path: string;
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly files: number;
  private readonly maxQueueBytes: number;
  private readonly flushMs: number;
  private readonly retryMs: number;
  private readonly onFault: ((message: string) => void) | undefined;
  private readonly now: () => number;

  // The queue: lines already encoded, each with its '\n' (line-queue.ts).
  private readonly queue = new LineQueue();
  /** Bytes queued or being written, of records only (a fault line is not counted). */
  private queuedBytes = 0;

  private written = 0;
  private dropped = 0;
  private failedWrites = 0;
  private rotations = 0;
  private lastError: string | null = null;
  private fault: FaultEpisode | null = null;

  private timer: NodeJS.Timeout | null = null;
  private retryAt = 0;
  private closed = false;
  /** Every write runs after the one before, so batches land in order and rotation never races a write. */
  private chain: Promise<void> = Promise.resolve();

  /** Whether the folder exists and `size` is known; false at first and after any failure. */
  private ready = false;
  /** Bytes of whole lines in the current file, as far as we wrote them. */
  private size = 0;
  /** The first write must start a new line: an earlier process left the file ending mid-line. */
  private needsNewline = false;
  /** `size` has been read from disk at least once. */
  private sized = false;

  constructor(options: PredictionLogOptions) {
    const { dir, maxBytes, files } = options;
    if (typeof dir !== 'string' || dir === '') throw new PredictionLogError(`Prediction log: 'dir' must be a folder path (got ${JSON.stringify(dir)}).`);
    requireWhole('maxBytes', maxBytes, 1);
    requireWhole('files', files, 1);
    const maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    const flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    requireWhole('maxQueueBytes', maxQueueBytes, 1);
    requireWhole('flushMs', flushMs, 0);
    requireWhole('retryMs', retryMs, 0);
    this.dir = dir;
    this.path = join(dir, PREDICTION_LOG.file);
    this.maxBytes = maxBytes;
    this.files = files;
    this.maxQueueBytes = maxQueueBytes;
    this.flushMs = flushMs;
    this.retryMs = retryMs;
    this.onFault = options.onFault;
    this.now = options.now ?? Date.now;
  }

  /**
   * Serialises the record to one line and queues it. Never throws, never waits; a record it cannot keep is counted
   * in `dropped`, and the answer is false, so that a caller who promised to record it can say it did not.
   */
  append(record: object): boolean {
    if (this.closed) {
      this.drop(1);
      return false;
    }
    return appendRecord(this, record, () => this.dropped++);
  }

  /**
   * Queues a line already serialised (one JSON object, no newline): what a cluster's workers send the primary,
   * which alone writes the log (cluster.ts). The same bounds and counts as append.
   */
  appendLine(line: string): boolean {
    if (this.closed) {
      this.drop(1);
      return false;
    }
    const bytes = this.queue.push(line, this.maxQueueBytes - this.queuedBytes);
    if (bytes < 0) {
      this.drop(1);
      return false;
    }
    this.queuedBytes += bytes;
    if (this.timer === null) this.schedule();
    return true;
  }

  appendEncoded(bytes: Uint8Array, ends: readonly number[]): number {
    let queued = 0;
    for (let k = 0; k < ends.length; k++) {
      const size = this.closed ? -1 : this.queue.pushEncoded(bytes, k === 0 ? 0 : ends[k - 1], ends[k], this.maxQueueBytes - this.queuedBytes);
      if (size < 0) {
        this.drop(1);
        continue;
      }
      this.queuedBytes += size;
      queued++;
    }
    if (queued > 0 && this.timer === null) this.schedule();
    return queued;
  }

  stats(): PredictionLogStats {
    return {
      written: this.written,
      dropped: this.dropped,
      failedWrites: this.failedWrites,
      queuedBytes: this.queuedBytes,
      faulty: this.fault !== null,
      lastError: this.lastError,
      rotations: this.rotations,
    };
  }

  /** Writes what is queued now, without waiting out a retry interval. Never rejects; failures show in `stats()`. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.drain());
    return this.chain;
  }

  /** Writes what is queued and stops; later appends are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.flush();
  }

  private drop(count: number): void {
    this.dropped += count;
    if (this.fault !== null) this.fault.dropped += count;
  }

  private schedule(): void {
    if (this.timer !== null || this.closed) return;
    const delay = this.fault === null ? this.flushMs : Math.max(0, this.retryAt - performance.now());
    this.timer = setTimeout(this.onTimer, delay);
    // The log must not keep a process alive; the server closes it on shutdown.
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.fault !== null && performance.now() < this.retryAt) {
      this.schedule();
      return;
    }
    void this.flush();
  };

  private async drain(): Promise<void> {
    if (this.queue.count === 0 && this.fault === null) return;
    const taken = this.queue.take();
    let batch = taken;
    const fault = this.fault;
    let faultDropped = 0;
    // Items before `first` are not records: the fault line, written ahead of the batch when writing resumes.
    let first = 0;
    let done = 0;
    try {
      if (fault !== null) {
        faultDropped = fault.dropped;
        const line = JSON.stringify({
          type: PREDICTION_LOG.faultType,
          from: new Date(fault.from).toISOString(),
          to: new Date(this.now()).toISOString(),
          dropped: faultDropped,
          error: fault.error,
        });
        batch = withFirstLine(batch, line);
        first = 1;
        done = 1;
      }
      await this.prepare();
      let start = 0;
      let chunkBytes = this.needsNewline ? 1 : 0;
      const count = batch.ends.length;
      for (let k = 0; k < count; k++) {
        // Rotate between lines, never inside one; a line longer than maxBytes gets a file of its own.
        const size = lineBytes(batch, k);
        if (this.size + chunkBytes > 0 && this.size + chunkBytes + size > this.maxBytes) {
          if (k > start) done = await this.writeLines(batch, start, k, first);
          await this.rotate();
          start = k;
          chunkBytes = 0;
        }
        chunkBytes += size;
      }
      if (count > start) done = await this.writeLines(batch, start, count, first);
      if (fault !== null) this.recover(fault, faultDropped);
    } catch (err) {
      let lostBytes = 0;
      for (let k = done; k < batch.ends.length; k++) lostBytes += lineBytes(batch, k);
      this.queuedBytes -= lostBytes;
      this.fail(err, batch.ends.length - done);
    }
    this.queue.release(taken);
    if (this.queue.count > 0 || this.fault !== null) this.schedule();
  }

  /** Appends lines[start, end) in one write; returns `end`. Counts the records among them and frees their queue bytes. */
  private async writeLines(batch: LineBatch, start: number, end: number, first: number): Promise<number> {
    const from = start === 0 ? 0 : batch.ends[start - 1];
    const lines = batch.buf.subarray(from, batch.ends[end - 1]);
    // Lines before `first` are not records: the fault line.
    let recordBytes = lines.length;
    for (let k = start; k < Math.min(first, end); k++) recordBytes -= lineBytes(batch, k);
    const data = this.needsNewline ? Buffer.concat([NEWLINE, lines]) : lines;
    const bytes = data.length;
    await appendFile(this.path, data);
    this.size += bytes;
    this.needsNewline = false;
    this.written += end - Math.max(start, first);
    this.queuedBytes -= recordBytes;
    return end;
  }

  /** Makes the folder and learns the current file's size; after a failed write, cuts off what it left half-written. */
  private async prepare(): Promise<void> {
    if (this.ready) return;
    await mkdir(this.dir, { recursive: true });
    const onDisk = await fileSize(this.path);
    if (this.sized && onDisk > this.size) {
      // A failed write (a full disk) may have landed in part. Cut the file back to the last line we know was
      // whole, so that no line is ever split; those records were counted as dropped. One writer per folder.
      await truncate(this.path, this.size);
    } else {
      // First start, or the file was removed or cut by someone else. If it ends mid-line (a process that died
      // while writing), our first line starts on a new one.
      this.size = onDisk;
      this.needsNewline = onDisk > 0 && !(await endsWithNewline(this.path, onDisk));
    }
    if (!this.sized) await this.removeBeyondRetention();
    this.sized = true;
    this.ready = true;
  }

  private async rotate(): Promise<void> {
    // Oldest first: predictions.(files-1) goes, each older file moves up one, the current file becomes .1.
    await rm(join(this.dir, PREDICTION_LOG.rotated(this.files - 1)), { force: true });
    for (let n = this.files - 2; n >= 0; n--) {
      try {
        await rename(join(this.dir, PREDICTION_LOG.rotated(n)), join(this.dir, PREDICTION_LOG.rotated(n + 1)));
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
    }
    this.size = 0;
    this.needsNewline = false;
    this.rotations++;
  }

  /** Files left by a run that kept more of them. */
  private async removeBeyondRetention(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      const n = PREDICTION_LOG.pattern.exec(name)?.[1];
      if (n !== undefined && Number(n) >= this.files) await rm(join(this.dir, name), { force: true });
    }
  }

  private fail(err: unknown, lost: number): void {
    this.failedWrites++;
    this.drop(lost);
    const error = describeFsError(err);
    this.lastError = error;
    this.ready = false;
    this.retryAt = performance.now() + this.retryMs;
    if (this.fault !== null) return;
    this.fault = { from: this.now(), error, dropped: lost };
    this.report(
      `Prediction log ${this.path}: cannot write (${error}). Predictions are still answered but not logged; ` +
        `retrying every ${this.retryMs} ms. Fix the folder or free disk space.`,
    );
  }

  private recover(fault: FaultEpisode, dropped: number): void {
    this.fault = null;
    const seconds = ((this.now() - fault.from) / 1000).toFixed(1);
    this.report(
      `Prediction log ${this.path}: writing again after ${seconds} s; ${dropped} record(s) were dropped ` +
        `during the fault (${fault.error}). A "${PREDICTION_LOG.faultType}" line in the log marks the gap.`,
    );
  }

  private report(message: string): void {
    if (this.onFault === undefined) return;
    try {
      this.onFault(message);
    } catch (err) {
      // A broken callback must not stop the writer; keep what it said where /metrics shows it.
      const thrown = `onFault threw: ${describeFsError(err)}`;
      this.lastError = this.lastError === null ? thrown : `${this.lastError} (and ${thrown})`;
    }
  }
}

function requireWhole(name: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new PredictionLogError(`Prediction log: '${name}' must be a whole number ≥ ${min} (got ${JSON.stringify(value)}).`, {
      option: name,
      value,
    });
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** "ENOSPC: no space left on device, write": Node's fs messages start with the code; others get it put in front. */
function describeFsError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = errorCode(err);
  return code !== undefined && !message.startsWith(code) ? `${code}: ${message}` : message;
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 0;
    throw err;
  }
}

async function endsWithNewline(path: string, size: number): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
    return bytesRead === 1 && buffer[0] === 0x0a;
  } finally {
    await handle.close();
  }
}
