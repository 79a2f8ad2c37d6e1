// Bramble's own HTTP/1.1 server (src/serve/http1.ts) held to what a careful HTTP/1.1 server must do, over raw
// sockets (test/helpers/raw-http.ts) and real clients (fetch, node:http with a keep-alive agent): keep-alive,
// pipelining split at every byte, bodies, 100-continue, the refusals request smuggling feeds on (each beside what
// node:http answers to the same bytes), timeouts, answers, and the real `bramble serve` stack on both listeners.
import { mkdtempSync } from 'node:fs';
import { Agent, createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../src/serve/body.js';
import { checkServeConfig } from '../src/serve/config.js';
import { writeCandidate } from '../src/serve/host.js';
import { errorReply, reply, type Reply } from '../src/serve/http.js';
import { Http1Server, type Http1Handler, type Http1Options } from '../src/serve/http1.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { seeded } from './helpers/data.js';
import { makeModelRepo, train } from './helpers/model-repo.js';
import { RawClient, nodeRequest, randomCuts, request, sleep, untilNoConnections, type RawAnswer } from './helpers/raw-http.js';

const LIMIT = 1024;
const BASE: Http1Options = { headersTimeoutMs: 5_000, requestTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000, checkIntervalMs: 20, bodyBytes: LIMIT };
/** Small limits, for the timeout tests. */
const QUICK: Partial<Http1Options> = { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 200 };

type Echo = { method: string; url: string; body: string; headers: IncomingHttpHeaders };

/** Answers with the request as the routes see it, its body read as the routes read it (readBody: bodyNow's 413s); `X-Delay: ms` answers late. */
const echo: Http1Handler = async (req) => {
  try {
    const body = await readBody(req, LIMIT);
    const delay = Number(req.headers['x-delay'] ?? 0);
    if (delay > 0) await sleep(delay);
    return reply(200, { method: req.method, url: req.url, body, headers: req.headers });
  } catch (err) {
    return errorReply(err, 'test', () => {}, 'plain');
  }
};

const echoOf = (answer: RawAnswer): Echo => JSON.parse(answer.body) as Echo;

const CHUNKED = { 'Transfer-Encoding': 'chunked' };

type Cleanup = () => Promise<void> | void;
/** What ends after each test, and what after the file. */
const cleanups: Cleanup[] = [];
const fileCleanups: Cleanup[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  for (const cleanup of fileCleanups.splice(0).reverse()) await cleanup();
});

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

async function listen(server: Server, until = cleanups): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  until.push(() => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    (server as Server & { closeAllConnections(): void }).closeAllConnections();
    return closed;
  });
  return (server.address() as AddressInfo).port;
}

/** The server, its port, what onError was told, and how many connections it accepted so far. */
interface Started {
  server: Http1Server;
  port: number;
  faults: unknown[];
  connections(): number;
}

async function start(options: Partial<Http1Options> = {}, handler: Http1Handler = echo): Promise<Started> {
  const faults: unknown[] = [];
  const server = new Http1Server({ ...BASE, ...options }, handler, (err) => faults.push(err));
  let connections = 0;
  server.on('connection', () => connections++);
  return { server, port: await listen(server), faults, connections: () => connections };
}

async function open(port: number, allowHalfOpen = false): Promise<RawClient> {
  const client = await RawClient.open(port, allowHalfOpen);
  cleanups.push(() => client.destroy());
  return client;
}

/** One request on a connection of its own; its answers. */
async function exchange(port: number, bytes: string, answers = 1): Promise<RawAnswer[]> {
  const client = await open(port);
  await client.write(bytes);
  return client.untilAnswers(answers);
}

describe('keep-alive', () => {
  it('answers a hundred requests on one connection, each with the Keep-Alive hint and no Connection: close', async () => {
    const { port, connections } = await start();
    const client = await open(port);
    for (let i = 0; i < 100; i++) {
      await client.write(i % 2 === 0 ? request(`POST /${i} HTTP/1.1`, {}, `body ${i}`) : request(`GET /${i} HTTP/1.1`));
      const answer = (await client.untilAnswers(i + 1))[i];
      expect(answer.status).toBe(200);
      expect(echoOf(answer)).toMatchObject({ url: `/${i}`, body: i % 2 === 0 ? `body ${i}` : '' });
      expect(answer.headers['keep-alive']).toBe('timeout=5');
      expect(answer.headers.connection).toBeUndefined();
    }
    expect(client.endedAt).toBeNull();
    expect(connections()).toBe(1);
  });

  it.each([
    ['HTTP/1.0 without Connection', 'close', 'HTTP/1.0', {}],
    ['HTTP/1.0 with Connection: keep-alive', 'keep-alive', 'HTTP/1.0', { Connection: 'keep-alive' }],
    ['HTTP/1.0 with Connection: keep-alive, close', 'close', 'HTTP/1.0', { Connection: 'keep-alive, close' }],
    ['HTTP/1.1 with Connection: close', 'close', 'HTTP/1.1', { Connection: 'close' }],
    ['HTTP/1.1 with Connection: Upgrade, Close', 'close', 'HTTP/1.1', { Connection: 'Upgrade, Close' }],
    ['HTTP/1.1', undefined, 'HTTP/1.1', {}],
  ])('%s: the answer says Connection: %s, and the connection is kept unless it is close', async (_, connection, version, headers) => {
    const { port } = await start();
    const client = await open(port);
    await client.write(request(`GET /first ${version}`, headers));
    const [first] = await client.untilAnswers(1);
    expect(first.status).toBe(200);
    expect(first.headers.connection).toBe(connection);
    if (connection === 'close') {
      await client.untilEnded(2_000);
      expect(client.answers()).toHaveLength(1);
      return;
    }
    await client.write(request(`GET /second ${version}`, headers));
    const answers = await client.untilAnswers(2);
    expect(echoOf(answers[1]).url).toBe('/second');
    expect(client.endedAt).toBeNull();
  });

  it.each([
    ['one request answered at once', 1, 0, ''],
    ['one request answered after the FIN came', 1, 150, ''],
    ['two pipelined requests, the first answered after the FIN came', 2, 150, ''],
    ['three pipelined requests, each answered after the FIN came', 3, 100, ''],
    ['one request and part of a second, answered at once', 1, 0, 'GET /cut HTTP/1.1\r\nHo'],
    ['one request and part of a second, answered after the FIN came', 1, 150, 'GET /cut HTTP/1.1\r\nHo'],
    ['one request and part of a body, answered after the FIN came', 1, 150, request('POST /cut HTTP/1.1', { 'Content-Length': '9' }) + 'part'],
  ])('a client that half-closes after %s gets every answer it asked for, in order, then the end', async (_, count, delay, cut) => {
    const { port } = await start();
    const client = await open(port, true);
    let bytes = '';
    for (let i = 0; i < count; i++) bytes += request(`GET /${i} HTTP/1.1`, { 'X-Delay': String(delay) });
    await client.write(bytes + cut);
    client.socket.end();
    await client.untilEnded(3_000);
    const answers = client.answers();
    expect(answers.map((a) => echoOf(a).url)).toEqual(Array.from({ length: count }, (_, i) => `/${i}`));
    // An answer written after the FIN came to a connection with nothing more to read says that it ends with it.
    if (delay > 0 && cut === '') expect(answers[count - 1].headers.connection).toBe('close');
  });

  it('node:http with a keep-alive agent, and fetch, send twenty requests each over one or two connections', async () => {
    const { port, connections } = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => agent.destroy());
    for (let i = 0; i < 20; i++) {
      const answer = await nodeRequest(port, `/node/${i}`, { agent, body: `node ${i}` });
      expect(answer.status).toBe(200);
      expect(echoOf(answer)).toMatchObject({ url: `/node/${i}`, body: `node ${i}` });
    }
    expect(connections()).toBe(1);
    for (let i = 0; i < 20; i++) {
      const response = await fetch(`http://127.0.0.1:${port}/fetch/${i}`, { method: 'POST', body: `fetch ${i}` });
      expect(await response.json()).toMatchObject({ url: `/fetch/${i}`, body: `fetch ${i}` });
    }
    // undici opens a second connection while its first still counts as busy (against node:http too), then reuses both.
    expect(connections() - 1).toBeLessThanOrEqual(2);
  });
});

describe('pipelining', () => {
  it('answers ten requests of one write in order, each once, whatever their bodies', async () => {
    const { port } = await start();
    let stream = '';
    for (let i = 0; i < 10; i++) {
      if (i % 3 === 0) stream += request(`POST /${i} HTTP/1.1`, {}, `length ${i}`);
      else if (i % 3 === 1) stream += request(`POST /${i} HTTP/1.1`, CHUNKED) + `7\r\nchunked\r\n${(i + 16).toString(16)}\r\n ${'x'.repeat(i + 15)}\r\n0\r\n\r\n`;
      else stream += request(`GET /${i} HTTP/1.1`);
    }
    const client = await open(port);
    await client.write(stream);
    const answers = await client.untilAnswers(10);
    await sleep(50);
    expect(client.answers()).toHaveLength(10);
    expect(answers.map((a) => echoOf(a).url)).toEqual(Array.from({ length: 10 }, (_, i) => `/${i}`));
    expect(echoOf(answers[4]).body).toBe(`chunked ${'x'.repeat(19)}`);
    expect(echoOf(answers[6]).body).toBe('length 6');
  });

  const TWO = request('POST /one HTTP/1.1', { 'Content-Type': 'application/json' }, '{"a":"é"}') + request('GET /two HTTP/1.1');
  it.each([
    ['one byte per write', () => [range(1, Buffer.byteLength(TWO, 'latin1'))]],
    ['two writes, cut at each byte boundary in turn', () => range(1, Buffer.byteLength(TWO, 'latin1')).map((cut) => [cut])],
    [
      'random cuts (seeded)',
      () => {
        const random = seeded(16);
        return range(0, 40).map(() => randomCuts(Buffer.byteLength(TWO, 'latin1'), 1 + Math.floor(random() * 12), random));
      },
    ],
  ])('a two-request stream written in %s is answered in order, each once', async (_, cutLists) => {
    const { port } = await start();
    for (const cuts of cutLists()) {
      const client = await open(port);
      await client.writeCut(TWO, cuts, 1);
      const answers = await client.untilAnswers(2);
      expect(answers, `cut at ${cuts.join(',')}`).toHaveLength(2);
      expect(echoOf(answers[0]), `cut at ${cuts.join(',')}`).toMatchObject({ url: '/one', body: '{"a":"é"}' });
      expect(echoOf(answers[1]).url).toBe('/two');
      client.destroy();
    }
  });

  it('two thousand requests pipelined behind a slow one (past what is buffered unread, so reading pauses) are all answered, in order', async () => {
    const { port } = await start();
    let stream = request('GET /slow HTTP/1.1', { 'X-Delay': '300' });
    for (let i = 0; i < 2000; i++) stream += request(`GET /${i} HTTP/1.1`);
    expect(stream.length).toBeGreaterThan(64 * 1024);
    const client = await open(port);
    await client.write(stream);
    const answers = await client.untilAnswers(2001, 20_000);
    expect(answers.map((a) => echoOf(a).url)).toEqual(['/slow', ...range(0, 2000).map((i) => `/${i}`)]);
  });

  it.each([
    ['pipelined requests with small answers, past what the kernel buffers', 20_000, 1024],
    ['one request whose answer is 16 MB', 1, 16 * 1024 * 1024],
  ])('a client that stops reading %s for longer than every timeout is not read from, nor timed out, nor cut short', async (_, count, size) => {
    const padding = 'x'.repeat(size);
    let handled = 0;
    const { port } = await start({ ...QUICK, checkIntervalMs: 10 }, async (req) => {
      handled++;
      return reply(200, `${req.url} ${padding}`);
    });
    const client = await open(port);
    client.socket.pause();
    let stream = '';
    for (let i = 0; i < count; i++) stream += request(`GET /${i} HTTP/1.1`);
    client.socket.write(stream);
    await sleep(1_000);
    if (count > 1) expect(handled).toBeLessThan(count);
    client.socket.resume();
    const answers = await client.untilAnswers(count, 30_000);
    expect(answers.map((a) => a.body.slice(0, a.body.indexOf(' ')))).toEqual(range(0, count).map((i) => `/${i}`));
    expect(answers.at(-1)?.body.length).toBe(`/${count - 1} `.length + size);
  });

  it("a slow first answer is not overtaken by the second's: the second is not even started before it", async () => {
    const events: string[] = [];
    const { port } = await start({}, async (req) => {
      events.push(`start ${req.url}`);
      const answer = await echo(req);
      events.push(`end ${req.url}`);
      return answer;
    });
    const client = await open(port);
    await client.write(request('GET /slow HTTP/1.1', { 'X-Delay': '200' }) + request('GET /fast HTTP/1.1'));
    const answers = await client.untilAnswers(2);
    expect(answers.map((a) => echoOf(a).url)).toEqual(['/slow', '/fast']);
    expect(events).toEqual(['start /slow', 'end /slow', 'start /fast', 'end /fast']);
  });
});

describe('bodies', () => {
  it('reads a Content-Length body sent in fifty packets, cutting through its UTF-8 characters', async () => {
    const { port } = await start();
    const body = 'héllo wörld — '.repeat(50).slice(0, 700);
    const bytes = request('POST /split HTTP/1.1', { 'Content-Type': 'text/plain' }, body);
    const headLength = bytes.indexOf('\r\n\r\n') + 4;
    const client = await open(port);
    await client.writeCut(bytes, range(1, 51).map((i) => headLength + i * 20 - 19), 1);
    const [answer] = await client.untilAnswers(1);
    expect(echoOf(answer).body).toBe(body);
  });

  const CHUNKED_BODY = '5;name=value\r\nhello\r\n10 ; q="quoted;x"\r\n, world\r\n0\r\n\r\n!!\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n';
  it.each([
    ['in one write', [] as number[][]],
    ['split at random places (seeded)', (() => {
      const random = seeded(7);
      return range(0, 25).map(() => randomCuts(CHUNKED_BODY.length, 1 + Math.floor(random() * 8), random));
    })()],
  ])('reads a chunked body with extensions, a trailer and CRLF 0 CRLF inside its data, %s', async (_, cutLists) => {
    const { port } = await start();
    const head = request('POST /chunked HTTP/1.1', CHUNKED);
    for (const cuts of cutLists.length === 0 ? [[]] : cutLists) {
      const client = await open(port);
      await client.writeCut(head + CHUNKED_BODY + request('GET /after HTTP/1.1'), cuts.map((c) => c + head.length), 1);
      const answers = await client.untilAnswers(2);
      expect(echoOf(answers[0]).body, `cut at ${cuts.join(',')}`).toBe('hello, world\r\n0\r\n\r\n!!');
      expect(echoOf(answers[1]).url).toBe('/after');
      client.destroy();
    }
  });

  it('Expect: 100-continue gets "HTTP/1.1 100 Continue" before the body is sent, then the answer', async () => {
    const { port } = await start();
    const client = await open(port);
    await client.write(request('POST /expect HTTP/1.1', { Expect: '100-continue', 'Content-Length': '5' }));
    await client.untilAnswers(1);
    expect(client.text).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    await client.write('hello');
    const answers = await client.untilAnswers(2);
    expect(answers[1].status).toBe(200);
    expect(echoOf(answers[1]).body).toBe('hello');
    // node:http's client waits for the 100 before it sends the body.
    const answer = await nodeRequest(port, '/node', { body: 'sent after 100', headers: { Expect: '100-continue' } });
    expect(echoOf(answer).body).toBe('sent after 100');
  });

  it('HTTP/1.0 with Expect: 100-continue gets no 100 Continue (RFC 9110 10.1.1: the expectation is ignored)', async () => {
    const { port } = await start();
    const client = await open(port);
    await client.write(request('POST /expect HTTP/1.0', { Expect: '100-continue', 'Content-Length': '5' }));
    await sleep(100);
    expect(client.text).toBe('');
    await client.write('hello');
    const [answer] = await client.untilAnswers(1);
    expect(echoOf(answer).body).toBe('hello');
  });

  it.each([
    ['Expect: 100-continue with a declared length over the limit', { Expect: '100-continue', 'Content-Length': String(LIMIT + 1) }, '', `the request body is ${LIMIT + 1} bytes; the limit is ${LIMIT}`],
    ['a declared length over the limit, the body on its way', { 'Content-Length': '100000' }, 'x'.repeat(3000), `the request body is 100000 bytes; the limit is ${LIMIT}`],
    ['a chunked body whose total is over the limit', CHUNKED, `200\r\n${'a'.repeat(512)}\r\n201\r\n${'b'.repeat(513)}\r\n0\r\n\r\n`, `the request body is over ${LIMIT} bytes; send fewer rows per request`],
  ])('%s: no 100 Continue, the handler’s 413, and the connection closed', async (_, headers, body, message) => {
    const { port } = await start();
    const client = await open(port);
    await client.write(request('POST /big HTTP/1.1', headers) + body);
    const [answer] = await client.untilAnswers(1);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: message });
    expect(answer.headers.connection).toBe('close');
    await client.untilEnded(2_000);
    expect(client.answers()).toHaveLength(1);
  });
});

const H = 'Host: test\r\n';
/** Bytes a careful server refuses: Bramble's status, and node:http's to the same bytes (200: node:http accepts them). */
const REFUSALS: [string, number, number, string][] = [
  ['Transfer-Encoding with Content-Length', 400, 400, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`],
  ['Transfer-Encoding: gzip', 501, 400, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`],
  ['Transfer-Encoding: gzip, chunked', 501, 200, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`],
  ['two different Content-Lengths', 400, 400, `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`],
  ['a non-numeric Content-Length', 400, 400, `POST / HTTP/1.1\r\n${H}Content-Length: 1x\r\n\r\na`],
  ['a negative Content-Length', 400, 400, `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\na`],
  ['two Host headers', 400, 200, `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`],
  ['HTTP/1.1 without Host', 400, 400, 'GET / HTTP/1.1\r\n\r\n'],
  ['a folded header line', 400, 400, `GET / HTTP/1.1\r\n${H}X-A: one\r\n two\r\n\r\n`],
  ['a space between a header name and its colon', 400, 400, `GET / HTTP/1.1\r\n${H}X-A : one\r\n\r\n`],
  ['a control character in a header value', 400, 400, `GET / HTTP/1.1\r\n${H}X-A: o\x01ne\r\n\r\n`],
  ['a bare LF ending one header line', 400, 400, `GET / HTTP/1.1\r\n${H}X-A: one\nX-B: two\r\n\r\n`],
  ['bare LF ending every line', 400, 400, 'GET / HTTP/1.1\nHost: test\n\n'],
  ['a request line with two spaces', 400, 200, `GET  / HTTP/1.1\r\n${H}\r\n`],
  ['HTTP/2.0', 505, 200, `GET / HTTP/2.0\r\n${H}\r\n`],
  ['a head over 16 KiB', 431, 431, `GET / HTTP/1.1\r\n${H}X-A: ${'a'.repeat(16 * 1024)}\r\n\r\n`],
  ['a chunk size that is not hexadecimal', 400, 400, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n`],
  ['a chunk longer than its size', 400, 400, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n`],
];

describe('refusals', () => {
  let nodePort: number;
  beforeAll(async () => {
    const node = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    nodePort = await listen(node, fileCleanups);
  });

  it.each(REFUSALS)('%s, after a good request in the same write: %i, then the connection closed (node:http: %i)', async (_, status, nodeStatus, bad) => {
    const { port } = await start();
    const good = request('GET /first HTTP/1.1');
    const client = await open(port);
    await client.write(good + bad);
    const answers = await client.untilAnswers(2, 2_000);
    expect(answers.map((a) => a.status)).toEqual([200, status]);
    expect(answers[1].headers.connection).toBe('close');
    await client.untilEnded(2_000);
    expect(client.answers()).toHaveLength(2);
    expect((await exchange(port, request('GET /again HTTP/1.1')))[0].status).toBe(200);
    // node:http in this process, the bad bytes alone (after a good request in the same write it drops the good one's
    // answer when it refuses): its status line (its 400s have no Content-Length).
    const nodeClient = await open(nodePort);
    await nodeClient.write(bad);
    await nodeClient.until(() => /^HTTP\/1\.1 \d{3}/.test(nodeClient.text), 2_000, 'an answer');
    expect(Number(nodeClient.text.slice(9, 12))).toBe(nodeStatus);
  });

  it.each([
    ['a refused request', request('GET / HTTP/7.0')],
    ['an answer with Connection: close', request('GET / HTTP/1.1', { Connection: 'close' })],
    ['a body over the limit', request('POST / HTTP/1.1', { 'Content-Length': '100000' }) + 'x'.repeat(2000)],
  ])('after %s the server lets go of the socket even when the client keeps its half open', async (_, bytes) => {
    const { server, port } = await start({ keepAliveTimeoutMs: 200 });
    const client = await open(port, true);
    await client.write(bytes);
    await client.untilAnswers(1);
    await client.untilEnded(1_000);
    await untilNoConnections(server, 2_000);
  });
});

describe('timeouts', () => {
  it.each([
    ['a stalled head: 408 after headersTimeout', 'GET / HTTP/1.1\r\nHo', '', [408], 300],
    ['a head sent a byte every 50 ms: 408 after headersTimeout', '', request('GET / HTTP/1.1', { 'X-Long': 'x'.repeat(40) }), [408], 300],
    ['a stalled body: 408 after requestTimeout', request('POST / HTTP/1.1', { 'Content-Length': '10' }) + 'abc', '', [408], 600],
    ['a body sent a byte every 50 ms: 408 after requestTimeout', request('POST / HTTP/1.1', { 'Content-Length': '40' }), 'y'.repeat(40), [408], 600],
    ['a connection that sends nothing: closed after headersTimeout, without an answer', '', '', [], 300],
    ['an idle keep-alive connection: closed after keepAliveTimeout, without an answer', request('GET / HTTP/1.1'), '', [200], 200],
    ['a CRLF after a body, as some clients send: closed as idle after keepAliveTimeout, without a 408', request('POST / HTTP/1.1', {}, 'body') + '\r\n', '', [200], 200],
  ])('%s', async (_, bytes, trickled, statuses, afterMs) => {
    const { port } = await start({ ...QUICK, checkIntervalMs: 10 });
    const client = await open(port);
    const since = Date.now();
    if (bytes !== '') await client.write(bytes);
    await client.trickle(trickled, 50);
    const took = await client.untilEnded(3_000, since);
    expect(client.answers().map((a) => a.status)).toEqual(statuses);
    if (statuses.at(-1) === 408) expect(client.answers().at(-1)?.headers.connection).toBe('close');
    expect(took).toBeGreaterThanOrEqual(afterMs - 5);
    expect(took).toBeLessThan(afterMs + 600);
  });

  it('a connection whose answer takes longer than every timeout is not timed out, and stays open', async () => {
    const { port } = await start({ ...QUICK, checkIntervalMs: 10 });
    const client = await open(port);
    await client.write(request('POST /slow HTTP/1.1', { 'X-Delay': '1000' }, 'slow'));
    const [first] = await client.untilAnswers(1, 3_000);
    expect(first.status).toBe(200);
    expect(echoOf(first).body).toBe('slow');
    await client.write(request('GET /next HTTP/1.1'));
    expect(echoOf((await client.untilAnswers(2))[1]).url).toBe('/next');
  });
});

describe('answers', () => {
  it('HEAD is answered with the Content-Length GET would have, and no body: the next answer on the connection reads clean', async () => {
    const { port } = await start({}, async () => reply(200, { hello: 'world' }));
    const client = await open(port);
    await client.write(request('HEAD /h HTTP/1.1') + request('GET /h HTTP/1.1') + request('HEAD /h HTTP/1.1'));
    const answers = await client.untilAnswers(3, 5_000, (i) => i !== 1);
    expect(answers[0].headers['content-length']).toBe(String(Buffer.byteLength('{"hello":"world"}')));
    expect(answers.map((a) => a.body)).toEqual(['', '{"hello":"world"}', '']);
    await sleep(50);
    expect(client.text.endsWith('\r\n\r\n')).toBe(true);
  });

  it.each([
    ['a value with CRLF', { 'X-A': 'one\r\nX-Injected: yes' }],
    ['a value with a bare LF', { 'X-A': 'one\nX-Injected: yes' }],
    ['a value with a bare CR', { 'X-A': 'one\rX-Injected: yes' }],
    ['a value with a NUL', { 'X-A': 'one\0two' }],
    ['a name with a space', { 'X Injected': 'yes' }],
    ['a name with CRLF', { 'X-A: 1\r\nX-Injected': 'yes' }],
  ])('a reply header with %s is a 500 and onError is told; the answer is never split', async (_, headers) => {
    const { port, faults } = await start({}, async (req) => (req.url === '/bad' ? reply(200, 'ok', headers) : reply(200, 'fine')));
    const client = await open(port);
    await client.write(request('GET /bad HTTP/1.1') + request('GET /good HTTP/1.1'));
    const answers = await client.untilAnswers(2);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [500, '{"error":"internal error"}'],
      [200, 'fine'],
    ]);
    expect(client.text).not.toMatch(/injected/i);
    expect(faults).toHaveLength(1);
    expect(String(faults[0])).toContain('cannot be written');
  });

  it('a rejected handler is a 500 and onError gets its error; the connection goes on', async () => {
    const boom = new Error('boom');
    const { port, faults } = await start({}, async (req) => {
      if (req.url === '/boom') throw boom;
      return reply(200, 'after');
    });
    const answers = await exchange(port, request('GET /boom HTTP/1.1') + request('GET /after HTTP/1.1'), 2);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [500, '{"error":"internal error"}'],
      [200, 'after'],
    ]);
    expect(faults).toEqual([boom]);
  });

  it('every answer carries a Date header (IMF-fixdate, this second)', async () => {
    const { port } = await start();
    const [answer] = await exchange(port, request('GET / HTTP/1.1'));
    expect(answer.headers.date).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
    expect(Math.abs(Date.parse(answer.headers.date) - Date.now())).toBeLessThan(2_000);
  });
});

describe('closing', () => {
  it('closeAllConnections ends idle, half-read and busy connections, and server.close() then resolves', async () => {
    const { server, port, faults } = await start();
    const idle = await open(port);
    await idle.write(request('GET / HTTP/1.1'));
    await idle.untilAnswers(1);
    const halfRead = await open(port);
    await halfRead.write('GET / HTTP/1.1\r\nHo');
    const busy = await open(port);
    await busy.write(request('GET /busy HTTP/1.1', { 'X-Delay': '300' }));
    await sleep(50);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const client of [idle, halfRead, busy]) await client.untilEnded(1_000);
    await closed;
    // The busy handler's answer, when it comes, has nowhere to go and is dropped quietly.
    await sleep(400);
    expect(busy.answers()).toHaveLength(0);
    expect(faults).toEqual([]);
  });
});

describe('the real bramble serve, on listen.http "bramble" and "node"', () => {
  const servers = new Map<string, { url: string; port: number }>();
  let rows: unknown[];
  beforeAll(async () => {
    const model = await train(makeModelRepo({ trees: 5 }));
    rows = (JSON.parse(model) as { samples: { rows: unknown[] } }).samples.rows;
    for (const http of ['bramble', 'node'] as const) {
      const root = mkdtempSync(join(tmpdir(), 'bramble-http1-'));
      // The default limits (serve.schema.json): the listeners are compared as they ship.
      const config = checkServeConfig({ listen: { port: 0, http }, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } } }, 'serve.json', root);
      await writeCandidate(config.models, 'prod', model, { name: 'churn', version: 'v1.0.0', sha256: (JSON.parse(model) as { sha256: string }).sha256 });
      const server: RunningServer = await startServer(config, { env: {}, version: 'test', warn: () => {} });
      fileCleanups.push(() => server.close());
      expect((await fetch(`${server.url}/admin/deploy/prod`, { method: 'POST' })).status).toBe(200);
      servers.set(http, { url: server.url, port: Number(new URL(server.url).port) });
    }
  });

  /** What must be the same from either listener: status, body, and the headers the routes set. */
  const same = (answer: RawAnswer): RawAnswer => ({
    status: answer.status,
    body: answer.body,
    headers: Object.fromEntries(Object.entries(answer.headers).filter(([name]) => /^(x-bramble-|x-request-id$|content-type$|allow$)/.test(name))),
  });
  const json = { 'Content-Type': 'application/json', 'X-Request-Id': 'same-id' };
  it.each([
    ['a prediction', '/prod/invocations', () => JSON.stringify({ dataframe_records: rows }), 200],
    ['a prediction sent chunked', '/prod/invocations', () => [JSON.stringify({ dataframe_records: rows.slice(0, 3) }).slice(0, 20), JSON.stringify({ dataframe_records: rows.slice(0, 3) }).slice(20)], 200],
    ['a body that is not JSON', '/prod/invocations', () => '{"dataframe_records": [', 400],
    ["the model's metadata", '/prod/v2/models/churn', () => undefined, 200],
    ['an unknown path', '/nowhere', () => undefined, 404],
  ])('%s is answered the same by both listeners (%s → %i)', async (_, path, body, status) => {
    const bramble = same(await nodeRequest(servers.get('bramble')?.port ?? 0, path, { body: body(), headers: json }));
    const node = same(await nodeRequest(servers.get('node')?.port ?? 0, path, { body: body(), headers: json }));
    expect(bramble.status).toBe(status);
    expect(bramble).toEqual(node);
    if (path === '/prod/invocations' && status === 200) expect(bramble.headers['x-bramble-model']).toBe('churn@v1.0.0');
  });

  it('fifty predictions pipelined in one write are answered in order, each as the one alone', async () => {
    const body = JSON.stringify({ dataframe_records: rows.slice(0, 2) });
    const alone = await nodeRequest(servers.get('bramble')?.port ?? 0, '/prod/invocations', { body, headers: json });
    let stream = '';
    for (let i = 0; i < 50; i++) stream += request('POST /prod/invocations HTTP/1.1', { ...json, 'X-Request-Id': `p${i}` }, body);
    const answers = await exchange(servers.get('bramble')?.port ?? 0, stream, 50);
    expect(answers.map((a) => a.headers['x-request-id'])).toEqual(range(0, 50).map((i) => `p${i}`));
    for (const answer of answers) expect([answer.status, answer.body]).toEqual([200, alone.body]);
  });

  it.each([
    ['in the head', 'POST /prod/invocations HTTP/1.1\r\nHost: t\r\nContent-Le'],
    ['in the body', request('POST /prod/invocations HTTP/1.1', { 'Content-Type': 'application/json', 'Content-Length': '500' }) + '{"dataframe_records": ['],
    ['after a whole request, before its answer', request('POST /prod/invocations HTTP/1.1', { 'Content-Type': 'application/json' }, '{"dataframe_records": []}')],
  ])('clients that reset the connection %s do not crash either listener: the next prediction is answered', async (_, bytes) => {
    for (const [http, { port }] of servers) {
      for (let i = 0; i < 20; i++) {
        const client = await open(port);
        await client.write(bytes);
        client.socket.resetAndDestroy();
      }
      const answer = await nodeRequest(port, '/prod/invocations', { body: JSON.stringify({ dataframe_records: rows.slice(0, 1) }), headers: json });
      expect(answer.status, http).toBe(200);
    }
  });
});
