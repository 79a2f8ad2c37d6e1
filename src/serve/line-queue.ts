// The prediction log's queue: each line is encoded as UTF-8 into one buffer the moment it is queued, with its '\n'.
//
// Why not an array of strings: a line waits up to the log's flush interval (50 ms) before it is written, long
// enough to outlive a young-generation collection or two, so V8 copied every queued line (and promoted many) before
// it was written, then flattened and encoded it again to write it. Measured on one prediction's line (~800 bytes),
// that was ~2.4 µs of a request against ~0.6 µs for encoding it here, where the string dies young and the bytes
// wait off the heap. The bytes written are the ones Buffer.byteLength counted before: the same UTF-8.
import { Buffer } from 'node:buffer';

/** Lines taken from the queue: line k is buf[k === 0 ? 0 : ends[k - 1], ends[k]), its '\n' included. */
export interface LineBatch {
  readonly buf: Buffer;
  readonly ends: readonly number[];
}

const INITIAL_BYTES = 64 * 1024;
/**
 * A written batch's buffer is kept for the next one up to this size, and a new queue starts at the size the last
 * one reached (up to this): at 25,000 predictions a second a 50 ms batch holds ~2 MB, which grew by copying from
 * 64 KiB every batch when only 1 MiB was kept. A larger one (a burst) is let go.
 */
const KEEP_BYTES = 4 * 1024 * 1024;
/** Lines up to this many UTF-16 units are written at once into room for three bytes a unit; longer ones are measured first. */
const MEASURE_FROM = 64 * 1024;

export class LineQueue {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private used = 0;
  private ends: number[] = [];
  private spare: Buffer | null = null;

  /** Lines queued. */
  get count(): number {
    return this.ends.length;
  }

  /**
   * Queues `line` and a '\n' when they take at most `room` bytes, and returns how many they took; returns -1 and
   * queues nothing otherwise.
   */
  push(line: string, room: number): number {
    // Every UTF-16 unit is at least one byte of UTF-8 and at most three.
    if (line.length + 1 > room) return -1;
    let most = 3 * line.length + 1;
    if (line.length > MEASURE_FROM) {
      most = Buffer.byteLength(line) + 1;
      if (most > room) return -1;
    }
    if (this.used + most > this.buf.length) this.grow(most);
    const written = this.buf.write(line, this.used, 'utf8');
    const bytes = written + 1;
    if (bytes > room) return -1;
    this.buf[this.used + written] = 0x0a;
    this.used += bytes;
    this.ends.push(this.used);
    return bytes;
  }

  /** Queues bytes[from, to): one line already encoded, its '\n' included (a cluster's worker sent it). As `push`. */
  pushEncoded(bytes: Uint8Array, from: number, to: number, room: number): number {
    const size = to - from;
    if (size > room) return -1;
    if (this.used + size > this.buf.length) this.grow(size);
    this.buf.set(bytes.subarray(from, to), this.used);
    this.used += size;
    this.ends.push(this.used);
    return size;
  }

  /** What is queued, as a batch; the queue starts again empty. Give the batch back with `release` once written. */
  take(): LineBatch {
    const batch = { buf: this.buf, ends: this.ends };
    this.buf = this.spare ?? Buffer.allocUnsafe(Math.min(KEEP_BYTES, Math.max(INITIAL_BYTES, this.used)));
    this.spare = null;
    this.used = 0;
    this.ends = [];
    return batch;
  }

  /** A batch written (or dropped): its buffer may hold the next one. */
  release(batch: LineBatch): void {
    if (batch.buf !== this.buf && batch.buf.length <= KEEP_BYTES && (this.spare === null || this.spare.length < batch.buf.length)) this.spare = batch.buf;
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.used + need));
    this.buf.copy(bigger, 0, 0, this.used);
    this.buf = bigger;
  }
}

/** Line k's size in bytes, its '\n' included. */
export function lineBytes(batch: LineBatch, k: number): number {
  return batch.ends[k] - (k === 0 ? 0 : batch.ends[k - 1]);
}

/** The batch with `line` put in front of it (the log's fault line): a copy, made only when writing resumes after a fault. */
export function withFirstLine(batch: LineBatch, line: string): LineBatch {
  const head = Buffer.from(`${line}\n`, 'utf8');
  const used = batch.ends.length === 0 ? 0 : batch.ends[batch.ends.length - 1];
  const buf = Buffer.concat([head, batch.buf.subarray(0, used)]);
  return { buf, ends: [head.length, ...batch.ends.map((end) => end + head.length)] };
}
