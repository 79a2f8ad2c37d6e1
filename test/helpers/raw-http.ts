// A raw HTTP/1.1 client on node:net, for the listener tests (test/serve-http1.test.ts): the bytes go out exactly as
// written (split, delayed, malformed), and the answers are read back from the bytes, so that no client library
// repairs a request or hides a second answer, a missing one or a split one. Also node:http's client, for a real one.
import { request as httpRequest, type Agent } from 'node:http';
import { connect, type Server, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  /** The headers, names lower-cased; a repeated name keeps its last value. */
  headers: Record<string, string>;
  body: string;
}

/** A request's bytes: Host first (unless `headers` sets it to null), `headers`, and Content-Length for a body. */
export function request(line: string, headers: Record<string, string | null> = {}, body?: string): string {
  const all: Record<string, string | null> = { Host: 'test', ...headers };
  if (body !== undefined) all['Content-Length'] = String(Buffer.byteLength(body));
  let text = `${line}\r\n`;
  for (const [name, value] of Object.entries(all)) if (value !== null) text += `${name}: ${value}\r\n`;
  return `${text}\r\n${body === undefined ? '' : Buffer.from(body).toString('latin1')}`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The answers in `text` (latin1), in order: interim 1xx answers too (without a body), and no incomplete one at the
 * end. `noBody(i)` says that the i-th final answer is to a HEAD request, whose Content-Length announces no bytes.
 */
export function parseAnswers(text: string, noBody: (i: number) => boolean = () => false): RawAnswer[] {
  const answers: RawAnswer[] = [];
  readAnswers(text, answers, noBody);
  return answers;
}

/**
 * Reads the answers in `text` onto `answers` (which holds those before it); where the first incomplete one starts,
 * and how long `text` must be to complete it (0 while its head is incomplete).
 */
function readAnswers(text: string, answers: RawAnswer[], noBody: (i: number) => boolean): { at: number; need: number } {
  let at = 0;
  let finals = 0;
  for (const answer of answers) if (answer.status >= 200) finals++;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end === -1) return { at, need: 0 };
    const lines = text.slice(at, end).split('\r\n');
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
    if (status === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])} at byte ${at} of ${JSON.stringify(text.slice(0, 300))}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`not a header line: ${JSON.stringify(line)} at byte ${at}`);
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const code = Number(status[1]);
    const interim = code < 200;
    const length = interim || noBody(finals) ? 0 : Number(headers['content-length']);
    if (!Number.isInteger(length)) throw new Error(`an answer without a Content-Length: ${JSON.stringify(text.slice(at, end))}`);
    if (end + 4 + length > text.length) return { at, need: end + 4 + length };
    answers.push({ status: code, headers, body: Buffer.from(text.slice(end + 4, end + 4 + length), 'latin1').toString('utf8') });
    if (!interim) finals++;
    at = end + 4 + length;
  }
}

/** One connection: what the server sent (latin1), and when it ended its side or the socket closed. */
export class RawClient {
  /** The server's FIN (or the socket's close), in Date.now() time. */
  endedAt: number | null = null;
  closed = false;
  /** A reset or a write the server refused (ECONNRESET, EPIPE). */
  error: string | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly chunks: Buffer[] = [];
  /** What is read but not yet parsed into `parsed` (latin1), and the length it must reach to complete an answer. */
  private tail = '';
  private need = 0;
  private readonly parsed: RawAnswer[] = [];
  /** Why the bytes could not be read as answers. */
  private unreadable: string | null = null;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.tail += chunk.toString('latin1');
      // Parsed only when an answer can be complete: a 16 MB body is not searched 250 times.
      if (this.tail.length >= this.need) {
        try {
          const { at, need } = readAnswers(this.tail, this.parsed, () => false);
          this.tail = this.tail.slice(at);
          this.need = need === 0 ? 0 : need - at;
        } catch (err) {
          // Not HTTP/1.1 answers with lengths (node:http's refusals have none): `text` still has every byte.
          this.unreadable = err instanceof Error ? err.message : String(err);
          this.need = Infinity;
        }
      }
      this.wake();
    });
    socket.on('end', () => {
      this.endedAt ??= Date.now();
      this.wake();
    });
    socket.on('error', (err: Error & { code?: string }) => {
      this.error = err.code ?? err.message;
    });
    socket.on('close', () => {
      this.endedAt ??= Date.now();
      this.closed = true;
      this.wake();
    });
  }

  /** Everything the server sent, as latin1 text. */
  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** `allowHalfOpen`: the client keeps its side open after the server's FIN (it does not answer with its own). */
  static open(port: number, allowHalfOpen = false): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, (err) => (err ? reject(err) : resolve())));
  }

  /** Writes `data` in pieces cut at `cuts` (ascending offsets), `delayMs` apart, so that each reaches the server alone. */
  async writeCut(data: string | Buffer, cuts: readonly number[], delayMs = 2): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (cut <= from) continue;
      await this.write(bytes.subarray(from, cut));
      from = cut;
      await sleep(delayMs);
    }
  }

  /** Writes `text` a byte every `ms` (a slow client), until it is written or the connection ends. */
  async trickle(text: string, ms: number): Promise<void> {
    for (const byte of text) {
      if (this.endedAt !== null) return;
      this.socket.write(byte, 'latin1');
      await sleep(ms);
    }
  }

  /** The answers read so far (each parsed once, as it came), or all of them parsed again with `noBody`. */
  answers(noBody?: (i: number) => boolean): RawAnswer[] {
    return noBody === undefined ? this.parsed.slice() : parseAnswers(this.text, noBody);
  }

  /** Waits for `n` answers (interim ones count), or fails with what did arrive. */
  async untilAnswers(n: number, timeoutMs = 5_000, noBody?: (i: number) => boolean): Promise<RawAnswer[]> {
    const count = (): number => (noBody === undefined ? this.parsed : this.answers(noBody)).length;
    await this.until(() => count() >= n || this.endedAt !== null || this.unreadable !== null, timeoutMs, `${n} answers`);
    const answers = this.answers(noBody);
    if (this.unreadable !== null && noBody === undefined) throw new Error(this.unreadable);
    if (answers.length < n) throw new Error(`the connection ended after ${answers.length} of ${n} answers, the last ${JSON.stringify(answers.at(-1))}; it began ${JSON.stringify(this.text.slice(0, 300))}`);
    return answers;
  }

  /** Waits for the server to end the connection; the time it took from `since`. */
  async untilEnded(timeoutMs = 5_000, since = Date.now()): Promise<number> {
    await this.until(() => this.endedAt !== null, timeoutMs, 'the end of the connection');
    return (this.endedAt as number) - since;
  }

  until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; received ${JSON.stringify(this.text.slice(0, 600))}`));
      }, timeoutMs);
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** `count` distinct cut points in (0, length), ascending, drawn from `random`. */
export function randomCuts(length: number, count: number, random: () => number): number[] {
  const cuts = new Set<number>();
  while (cuts.size < Math.min(count, length - 1)) cuts.add(1 + Math.floor(random() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

/** A request through node:http's client; its status, headers (joined) and body. A body in parts is sent chunked. */
export function nodeRequest(port: number, path: string, options: { agent?: Agent; body?: string | string[]; headers?: Record<string, string> } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.body === undefined ? 'GET' : 'POST', agent: options.agent, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])), body }));
    });
    req.on('error', reject);
    const parts = typeof options.body === 'string' ? [options.body] : (options.body ?? []);
    const send = (): void => {
      for (const part of parts.slice(0, -1)) req.write(part);
      req.end(parts.at(-1));
    };
    if (options.headers?.Expect === '100-continue') req.on('continue', send);
    else send();
  });
}

/** Polls until the server holds no socket (it closed its side and let go), or fails after `timeoutMs`. */
export async function untilNoConnections(server: Server, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const count = await new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    if (count === 0) return;
    if (Date.now() > until) throw new Error(`the server still holds ${count} connection(s) after ${timeoutMs} ms`);
    await sleep(20);
  }
}
