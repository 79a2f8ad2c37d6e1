// Bramble's own HTTP/1.1 server, on node:net: the listener in front of every route unless serve.json says
// `listen.http: "node"`. It reads requests into the ServeRequest the routes take and writes their Reply.
//
// Decisions:
// - Why not node:http: on these machines it costs ~25 µs of CPU a request before a route runs (IncomingMessage
//   and ServerResponse streams, a cork and a two-buffer writev per answer); this server costs about half that
//   (bench/serve.mjs: 79,000 against 41,000 requests/s answering the same constant). The answer is written with
//   one write() of one string.
// - Strict, in the subset prediction clients use: HTTP/1.1 and 1.0, Content-Length or chunked bodies,
//   `Expect: 100-continue`, keep-alive and pipelining (answered in order, one at a time). What request smuggling
//   feeds on is refused with a 400 and the connection closed: Transfer-Encoding with Content-Length, a
//   Transfer-Encoding other than chunked (501), two different Content-Lengths, two Hosts, folded header lines,
//   control characters, a bare LF in a line. HTTP/1.1 without Host is a 400, as node:http's requireHostHeader.
// - Limits as node:http's: a head over 16 KiB is a 431; headersTimeout from the request's first byte to the end of
//   its head and requestTimeout to the end of its body are a 408; an idle keep-alive connection is closed after
//   keepAliveTimeout. One interval per server checks them (node's connectionsCheckingInterval): no timer per
//   request. They run on performance.now(), which a changed wall clock (or a test's faked Date) cannot move. No
//   clock runs while answers are still being written to a client that reads slowly. A connection this server ends
//   lingers, dropping what the client still sends, until the client ends its side or keepAliveTimeout.
// - A body over `bodyBytes` is not read: the routes see its declared length (readBody answers 413), and the
//   connection is closed after the answer, as with everything left unread.
// - Duplicate headers are merged as node:http merges them (the first kept for content-type, host, user-agent…; a
//   list for set-cookie; "; " for cookie; ", " otherwise), so the routes see what they saw before.
// - Answers are written at the end of the event loop's turn, all of the turn's together (send, flush): on these
//   virtual machines waking the client on the other core was most of what a write cost.
import { STATUS_CODES } from 'node:http';
import { Server, type Socket } from 'node:net';
import { reply as jsonReply, type Reply, type ServeRequest } from './http.js';
import { BAD_VALUE, hasBareLf, parseHead, quote, Refusal, TOKEN, type Head } from './http1-head.js';

export interface Http1Options {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How often stalled and idle connections are looked for. */
  checkIntervalMs: number;
  /** The largest body read; a longer one is left unread and the connection closed after the answer. */
  bodyBytes: number;
  /** The request line and headers together, at most (node:http's default, 16 KiB). */
  maxHeaderBytes?: number;
}

/** Answers a request; a rejection is answered 500 and passed to `onError`. */
export type Http1Handler = (req: ServeRequest) => Promise<Reply>;

/** Told of a rejected handler, a reply that cannot be written, or a fault of this server's own; the client gets a 500. */
export type Http1Fault = (err: unknown, req: Pick<ServeRequest, 'method' | 'url' | 'headers'> | null) => void;

/** A header value we write: visible ASCII, space and tab. */
const BAD_OUT_VALUE = /[^\t\x20-\x7e]/;
/** Pipelined bytes kept while a request is answered; past this the socket stops reading until the answer is out. */
const PIPELINE_BYTES = 64 * 1024;
/** A chunk-size line (with its extensions), at most. */
const CHUNK_LINE_BYTES = 4096;

/** What a connection is doing, for the timeouts. */
const enum Phase {
  /** Between requests (or before the first): keepAliveTimeout (headersTimeout before the first). */
  Idle,
  /** Reading a head: headersTimeout from its first byte. */
  Head,
  /** Reading a body: requestTimeout from the request's first byte. */
  Body,
  /** A route is answering: no timeout of ours. */
  Busy,
  Closed,
}

/** Chunked decoding's place: in a size line, in data, at the CRLF after data, or in the trailer. */
const enum Chunked {
  Size,
  Data,
  DataEnd,
  Trailer,
}

/** The server: a net.Server that speaks HTTP/1.1 to each connection through `handler`. */
export class Http1Server extends Server {
  private readonly open = new Set<Connection>();
  private timer: NodeJS.Timeout | null = null;
  readonly maxHeaderBytes: number;
  /** What a kept-alive answer ends with: node:http's Keep-Alive hint, so that clients drop the connection before we do. */
  readonly keepAliveTail: string;

  constructor(
    readonly options: Http1Options,
    readonly handler: Http1Handler,
    readonly onError: Http1Fault,
  ) {
    super({ allowHalfOpen: true, noDelay: true });
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
    this.keepAliveTail = `Keep-Alive: timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}\r\n\r\n`;
    this.on('connection', (socket: Socket) => {
      const c = new Connection(this, socket);
      this.open.add(c);
      socket.once('close', () => this.open.delete(c));
    });
    this.on('listening', () => {
      this.timer = setInterval(() => this.check(), options.checkIntervalMs);
      this.timer.unref();
    });
    this.on('close', () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    });
  }

  /** Answers waiting for the end of this turn of the event loop: socket, text, and whether the connection ends. */
  private outbox: { socket: Socket; text: string; end: boolean }[] = [];

  /**
   * Writes `text` at the end of this turn of the event loop, after every request that came in it is answered: the
   * first write wakes the client, and the rest find it awake. On these machines that wake-up is most of the CPU a
   * write costs (bench/serve.mjs: 10 % more answers a second than writing each at once).
   */
  send(socket: Socket, text: string, end: boolean): void {
    this.flushSoon();
    this.outbox.push({ socket, text, end });
  }

  private flushing = false;

  /**
   * The flush is queued when a request's bytes come in, before its route runs: work a route leaves for later with
   * setImmediate (a shadow's scoring, release.ts) then runs after the answers are written, not before them.
   */
  flushSoon(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.flushing = false;
    const out = this.outbox;
    this.outbox = [];
    for (const { socket, text, end } of out) {
      if (socket.destroyed) continue;
      if (end) socket.end(text);
      else socket.write(text);
    }
  };

  /** Ends every connection now, answering none of what is in flight (node:http's closeAllConnections). */
  closeAllConnections(): void {
    for (const c of this.open) c.socket.destroy();
  }

  private check(): void {
    const now = performance.now();
    for (const c of this.open) c.check(now);
  }
}

/** One client connection: bytes in, requests read one at a time, answers written in order. */
class Connection {
  private phase = Phase.Idle;
  /** When the phase's clock started (the server's clock). */
  private since: number;
  private fresh = true;
  /** Bytes received and not yet read as part of a request. */
  private buffered: Buffer | null = null;
  /** Bytes that came while a route was answering (pipelined), and their total. */
  private inbox: Buffer[] = [];
  private inboxBytes = 0;
  private head: Head | null = null;
  private body: Buffer[] = [];
  private bodyBytes = 0;
  /** Content-Length: the bytes still to come; chunked: those of the current chunk. */
  private need = 0;
  private chunked = Chunked.Size;
  private continued = false;
  /** The request's body was left unread (too long): the connection cannot be read past it. */
  private unread = false;
  /** The client sent its FIN: answer what was asked, then close. */
  private ended = false;
  private readonly remoteAddress: string;

  constructor(
    private readonly server: Http1Server,
    readonly socket: Socket,
  ) {
    this.since = performance.now();
    this.remoteAddress = socket.remoteAddress ?? '';
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.clientEnded());
    // A reset, or a write to a peer that has gone: nothing is left to answer (node:http ignores these too).
    socket.on('error', () => this.close());
    socket.on('close', () => {
      this.phase = Phase.Closed;
    });
    socket.on('drain', () => this.pump());
  }

  check(now: number): void {
    const o = this.server.options;
    // While answers are still being written to a client that reads them slowly, the connection is not idle, and what
    // it sent meanwhile waits unread in the inbox, not stalled: the clocks start when the writing is done (node:http
    // starts keepAliveTimeout when an answer is written, too).
    if (this.phase !== Phase.Closed && (this.socket.writableLength > 0 || this.inboxBytes > 0)) {
      this.since = now;
      return;
    }
    if (this.phase === Phase.Idle && now - this.since > (this.fresh ? o.headersTimeoutMs : o.keepAliveTimeoutMs)) this.close();
    else if (this.phase === Phase.Head && now - this.since > o.headersTimeoutMs) this.refuse(408, 'the request head did not arrive in time');
    else if (this.phase === Phase.Body && now - this.since > o.requestTimeoutMs) this.refuse(408, 'the request body did not arrive in time');
    // Ended on our side and the answer handed to the kernel: what the client still sends is read and dropped (a reset
    // now could destroy the answer before the client reads it) until it ends its side too, or keepAliveTimeout
    // passes and the socket is let go (with allowHalfOpen, a client that never ends its side would hold it forever).
    else if (this.phase === Phase.Closed && this.socket.writableFinished && now - this.since > o.keepAliveTimeoutMs) this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    if (this.phase === Phase.Busy || this.phase === Phase.Closed || this.socket.writableNeedDrain) {
      if (this.phase === Phase.Closed) return;
      this.inbox.push(chunk);
      this.inboxBytes += chunk.length;
      if (this.inboxBytes > PIPELINE_BYTES) this.socket.pause();
      return;
    }
    this.buffered = this.buffered === null ? chunk : Buffer.concat([this.buffered, chunk]);
    this.server.flushSoon();
    this.pump();
  }

  private clientEnded(): void {
    this.ended = true;
    // A request cut short by the FIN can never be read: the connection ends, after the answers before it (still in
    // the server's outbox).
    if ((this.phase === Phase.Idle && this.buffered === null && this.inboxBytes === 0) || this.phase === Phase.Head || this.phase === Phase.Body) this.endAfterAnswers();
  }

  private endAfterAnswers(): void {
    this.phase = Phase.Closed;
    this.since = performance.now();
    this.buffered = null;
    this.server.send(this.socket, '', true);
  }

  /** Reads what is buffered: heads, bodies, and the requests they make, until it needs more bytes or a route is answering. */
  private pump(): void {
    try {
      while (this.phase !== Phase.Busy && this.phase !== Phase.Closed && !this.socket.writableNeedDrain) {
        if (this.inboxBytes > 0) this.takeInbox();
        if (this.buffered === null) {
          if (this.ended && this.phase === Phase.Idle) this.endAfterAnswers();
          return;
        }
        if ((this.head === null && !this.readHead()) || !this.readBody()) {
          // After the client's FIN the rest of this request can never come.
          if (this.ended) this.endAfterAnswers();
          return;
        }
        this.dispatch();
      }
    } catch (err) {
      // Thrown out of a 'data' listener it would end the process: a fault of ours is this request's 500.
      if (!(err instanceof Refusal)) this.server.onError(err, null);
      this.refuse(err instanceof Refusal ? err.status : 500, err instanceof Refusal ? err.message : 'internal error');
    }
  }

  private takeInbox(): void {
    const parts = this.buffered === null ? this.inbox : [this.buffered, ...this.inbox];
    this.buffered = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.inbox = [];
    this.inboxBytes = 0;
    if (this.socket.isPaused()) this.socket.resume();
  }

  /** The head, when all of it is here; false while it is not. */
  private readHead(): boolean {
    let buf = this.buffered as Buffer;
    // Empty lines before a request line are ignored (RFC 9112 2.2): some clients send CRLF after a body. They do not
    // start a request: the connection stays idle (keepAliveTimeout), not a stalled head (a 408 at headersTimeout).
    let skip = 0;
    while (skip + 1 < buf.length && buf[skip] === 13 && buf[skip + 1] === 10) skip += 2;
    if (skip > 0) {
      const rest = this.consume(skip);
      if (rest === null) return false;
      buf = rest;
    }
    if (this.phase === Phase.Idle) {
      this.phase = Phase.Head;
      this.since = performance.now();
    }
    const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
    if (end === -1) {
      if (buf.length > this.server.maxHeaderBytes) throw new Refusal(431, `the request head is over ${this.server.maxHeaderBytes} bytes`);
      // A head whose lines end in bare LFs has no CRLF CRLF to wait for: refused now, not with a 408 at headersTimeout.
      if (hasBareLf(buf)) throw new Refusal(400, 'a line of the request head ends in a bare LF; end each line with CRLF');
      return false;
    }
    if (end > this.server.maxHeaderBytes) throw new Refusal(431, `the request head is over ${this.server.maxHeaderBytes} bytes`);
    this.head = parseHead(buf.toString('latin1', 0, end));
    this.consume(end + 4);
    this.body = [];
    this.bodyBytes = 0;
    this.chunked = Chunked.Size;
    this.continued = false;
    this.need = this.head.length;
    if (this.head.length > this.server.options.bodyBytes) {
      // Not read: the route answers by the declared length, and the connection ends with the answer.
      this.unread = true;
      this.need = 0;
    }
    return true;
  }

  /** Takes `n` bytes off the front of what is buffered; what remains (or null). */
  private consume(n: number): Buffer | null {
    const buf = this.buffered as Buffer;
    this.buffered = n >= buf.length ? null : buf.subarray(n);
    return this.buffered;
  }

  /** Reads the body from what is buffered; true when all of it is here. */
  private readBody(): boolean {
    const head = this.head as Head;
    if (this.unread || head.length === 0) return true;
    if (this.phase !== Phase.Body) this.phase = Phase.Body;
    const done = head.length > 0 ? this.readLength() : this.readChunked();
    if (!done && head.expectContinue && !this.continued && !this.socket.destroyed) {
      this.continued = true;
      this.server.send(this.socket, 'HTTP/1.1 100 Continue\r\n\r\n', false);
    }
    return done;
  }

  private readLength(): boolean {
    const buf = this.buffered;
    if (buf === null) return this.need === 0;
    const take = Math.min(this.need, buf.length);
    this.keep(take === buf.length ? buf : buf.subarray(0, take));
    this.consume(take);
    this.need -= take;
    return this.need === 0;
  }

  private keep(part: Buffer): void {
    this.body.push(part);
    this.bodyBytes += part.length;
  }

  /** Chunked transfer coding (RFC 9112 7.1); past bodyBytes the rest is left unread. */
  private readChunked(): boolean {
    for (;;) {
      const buf = this.buffered;
      if (buf === null) return false;
      if (this.chunked === Chunked.Data) {
        const take = Math.min(this.need, buf.length);
        this.keep(buf.subarray(0, take));
        this.consume(take);
        this.need -= take;
        if (this.need === 0) this.chunked = Chunked.DataEnd;
        if (this.bodyBytes > this.server.options.bodyBytes) {
          this.unread = true;
          return true;
        }
        continue;
      }
      const eol = buf.indexOf('\r\n', 0, 'latin1');
      if (eol === -1) {
        if (buf.length > (this.chunked === Chunked.Trailer ? this.server.maxHeaderBytes : CHUNK_LINE_BYTES)) throw new Refusal(400, 'a chunked body has a line too long');
        return false;
      }
      const line = buf.toString('latin1', 0, eol);
      this.consume(eol + 2);
      if (this.chunked === Chunked.DataEnd) {
        if (line !== '') throw new Refusal(400, 'a chunk of the body is longer than its size says');
        this.chunked = Chunked.Size;
      } else if (this.chunked === Chunked.Trailer) {
        if (line === '') return true;
        if (line.indexOf(':') <= 0 || BAD_VALUE.test(line)) throw new Refusal(400, `the body's trailer line ${quote(line)} is not NAME: VALUE`);
      } else {
        const size = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(line);
        if (size === null || BAD_VALUE.test(line)) throw new Refusal(400, `the chunk size ${quote(line)} is not a hexadecimal number`);
        this.need = parseInt(size[1], 16);
        this.chunked = this.need === 0 ? Chunked.Trailer : Chunked.Data;
      }
    }
  }

  private dispatch(): void {
    const head = this.head as Head;
    this.head = null;
    this.phase = Phase.Busy;
    const req: ServeRequest = { method: head.method, url: head.url, headers: head.headers, remoteAddress: this.remoteAddress, body: this.body };
    this.server.handler(req).then(
      (reply) => this.answer(head, reply),
      (err: unknown) => {
        this.server.onError(err, req);
        this.answer(head, jsonReply(500, { error: 'internal error' }));
      },
    );
  }

  private answer(head: Head, reply: Reply): void {
    if (this.phase === Phase.Closed) return;
    // After the client's FIN, the connection ends with the answer to the last request it sent (pipelined ones are
    // answered first).
    const close = !head.keepAlive || this.unread || (this.ended && this.buffered === null && this.inboxBytes === 0);
    let text: string;
    let shut: boolean;
    try {
      ({ text, shut } = writeReply(reply, head, close, this.server.keepAliveTail));
    } catch (err) {
      // A header the socket cannot carry: the route's bug, answered as node:http's writeHead refusal was.
      this.server.onError(err, head);
      ({ text, shut } = writeReply(jsonReply(500, { error: 'internal error' }), head, close, this.server.keepAliveTail));
    }
    this.server.send(this.socket, text, shut);
    if (shut) {
      this.phase = Phase.Closed;
      this.since = performance.now();
      return;
    }
    this.phase = Phase.Idle;
    this.fresh = false;
    this.since = performance.now();
    this.pump();
  }

  /** Answers a request the connection cannot read, and closes it. */
  private refuse(status: number, message: string): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.since = performance.now();
    this.buffered = null;
    const body = `${message}\n`;
    const length = Buffer.byteLength(body);
    // Through the outbox, after the answers to earlier requests that are still there.
    this.server.send(this.socket, `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n${body}`, true);
  }

  private close(): void {
    this.phase = Phase.Closed;
    this.buffered = null;
    this.socket.destroy();
  }
}

/** The status lines written so far, by status. */
const STATUS_LINES = new Map<number, string>();

function statusLine(status: number): string {
  let line = STATUS_LINES.get(status);
  if (line === undefined) {
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new Error(`a reply has status ${status}`);
    STATUS_LINES.set(status, (line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`));
  }
  return line;
}

let dateSecond = 0;
let dateText = '';

/** The Date header's value (RFC 9110 6.6.1: an origin server with a clock sends it), made once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Header names the routes have written: a handful, set in code, each checked once. */
const NAMES_WRITTEN = new Set<string>();

function writableName(name: string): boolean {
  if (!TOKEN.test(name)) return false;
  if (NAMES_WRITTEN.size < 256) NAMES_WRITTEN.add(name);
  return true;
}

/** The whole answer as one string, and whether the connection ends with it. Throws on a header it cannot write. */
export function writeReply(reply: Reply, head: Pick<Head, 'method' | 'http10KeepAlive'>, close: boolean, keepAliveTail: string): { text: string; shut: boolean } {
  let text = statusLine(reply.status);
  let shut = close;
  let length = false;
  const headers = reply.headers;
  for (const name in headers) {
    const value = headers[name];
    if (!(NAMES_WRITTEN.has(name) || writableName(name)) || BAD_OUT_VALUE.test(value)) throw new Error(`the reply's header ${JSON.stringify(name)}: ${JSON.stringify(value)} cannot be written`);
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      if (value.toLowerCase() === 'close') shut = true;
      continue;
    }
    if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
    text += `${name}: ${value}\r\n`;
  }
  if (!length) text += `Content-Length: ${Buffer.byteLength(reply.body)}\r\n`;
  text += `Date: ${httpDate()}\r\n`;
  text += shut ? 'Connection: close\r\n\r\n' : head.http10KeepAlive ? `Connection: keep-alive\r\n${keepAliveTail}` : keepAliveTail;
  return { text: head.method === 'HEAD' ? text : text + reply.body, shut };
}
