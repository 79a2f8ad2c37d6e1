// A real smart-HTTP git server on 127.0.0.1 for tests: Debian's `git http-backend` run as a CGI program behind a
// small node:http bridge, the way Apache or nginx+fcgiwrap would run it. Nothing about git is reimplemented here:
// the bridge only does what a web server does (auth, CGI environment, streaming) plus a few faults tests can arm.
//
// What git clients see, and how isomorphic-git 1.44 reports it (read from node_modules/isomorphic-git/index.js):
// - Wrong or missing credentials: 401 on `GET info/refs`. Without `onAuth` (or when `onAuthFailure` gives nothing
//   after a first try) isomorphic-git throws `HttpError` { code: 'HttpError', data: { statusCode: 401, ... } }.
// - A hook that exits non-zero: receive-pack answers 200 with report-status `ng <ref> pre-receive hook declined`
//   (or `hook declined` for the `update` hook). isomorphic-git throws `GitPushError` whose `data.result.refs[ref]`
//   is `{ ok: false, error: 'pre-receive hook declined' }`. The hook's own output travels on side-band 2, which
//   isomorphic-git hands, line by line, only to the `onMessage` callback — it is not part of the error.
// - A dropped connection (`faults.dropNextPush`, `dropNextPushResponse`): Node's own `Error` from the HTTP client,
//   no isomorphic-git class: { code: 'ECONNRESET', caller: 'git.push', message: 'socket hang up' | 'read ECONNRESET' }
//   (or code 'EPIPE', 'write EPIPE'), depending on whether the body was still being written.
// - A lost compare-and-swap: receive-pack updates a ref only if it still holds the old oid the client sent, under the
//   ref's lock; the loser gets `GitPushError` with refs[ref] = { ok: false, error: 'failed to update ref' }. A client
//   whose advertisement already showed the winner fails earlier, locally: `PushRejectedError` 'not-fast-forward'.
// isomorphic-git pushes one ref per `git.push` call and does not ask for the `atomic` capability.
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const GIT_SERVER = {
  realm: 'bramble-test',
  backend: '/usr/lib/git-core/git-http-backend',
  defaultBranch: 'main',
} as const;

export type GitHook = 'pre-receive' | 'update' | 'post-receive';

export interface GitServerFaults {
  /**
   * The next `git-receive-pack` POST loses its connection while the body is arriving: `true` after the first chunk,
   * a number after that many bytes. The backend is killed having seen neither the last chunk nor the end of the
   * body, so the push never lands. Resets to `false` once used.
   */
  dropNextPush: boolean | number;
  /**
   * The next `git-receive-pack` POST runs to completion on the server (refs updated, hooks run), then the connection
   * is destroyed before a byte of the answer is sent: the client cannot know its push landed. Resets once used.
   */
  dropNextPushResponse: boolean;
  /** Wait this long before handing each request to the backend. */
  delayMs?: number;
}

export interface GitServerRequest {
  method: string;
  /** URL path without the query string, e.g. `/models.git/git-receive-pack`. */
  path: string;
  query: string;
  /** 0 when the connection was dropped by a fault before any answer. */
  status: number;
  user?: string;
  /** `Content-Encoding` of the request body (git CLI gzips large upload-pack requests). */
  contentEncoding?: string;
  /** `Git-Protocol` header, e.g. `version=2`. */
  gitProtocol?: string;
  bytesIn: number;
  fault?: 'dropped-request' | 'dropped-response';
  /** What git-http-backend and the programs it ran wrote to stderr. */
  stderr: string;
}

export interface GitServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Folder holding the bare repositories. */
  root: string;
  /** `${url}/${name}.git` */
  repoUrl(name: string): string;
  /** The same URL with `user:password@` in it, as git CLI takes credentials. */
  repoUrlWithAuth(name: string, user: string, password: string): string;
  /** `git init --bare` with default branch main and `http.receivepack` on; returns its path. */
  createBare(name: string): Promise<string>;
  /** Writes an executable hook (a `#!/bin/sh` line is added if the script has none); `null` removes it. */
  setHook(name: string, hook: GitHook, script: string | null): Promise<void>;
  faults: GitServerFaults;
  requests: GitServerRequest[];
  close(): Promise<void>;
}

export interface GitServerOptions {
  /** When set, every request needs Basic auth with this password (or `Authorization: Bearer <token>`). */
  token?: string;
  /** When set with `token`, Basic auth must also use this user name; otherwise any user name is accepted. */
  user?: string;
  /** Folder for the bare repositories; a fresh temporary folder when omitted (and removed on close). */
  root?: string;
}

type Backend = ChildProcessByStdio<Writable, Readable, Readable>;

/** Environment of every git program the server runs: no system or user config can change what it does. */
function gitEnvironment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    LANG: 'C',
  };
}

function backendCommand(): { file: string; args: string[] } {
  return existsSync(GIT_SERVER.backend) ? { file: GIT_SERVER.backend, args: [] } : { file: 'git', args: ['http-backend'] };
}

/** The user name the request authenticated as, `null` when it did not; `undefined` when no token is configured. */
function authenticate(req: IncomingMessage, options: GitServerOptions): string | null | undefined {
  if (options.token === undefined) return undefined;
  const header = req.headers.authorization ?? '';
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme.toLowerCase() === 'bearer') return value === options.token ? (options.user ?? 'bearer') : null;
  if (scheme.toLowerCase() !== 'basic') return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (password !== options.token) return null;
  if (options.user !== undefined && user !== options.user) return null;
  return user;
}

/**
 * The CGI/1.1 meta-variables (RFC 3875) a web server gives a script. Every request header also goes in as HTTP_*,
 * as Apache does: http-backend reads HTTP_CONTENT_ENCODING to inflate gzipped bodies itself and HTTP_GIT_PROTOCOL
 * to switch to protocol v2. Authorization is left out, as Apache does, since REMOTE_USER carries the outcome.
 */
function cgiEnvironment(req: IncomingMessage, root: string, url: URL, user: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...gitEnvironment(),
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_SOFTWARE: 'bramble-test-git-server',
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: url.port,
    SCRIPT_NAME: '',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  if (user !== undefined) env.REMOTE_USER = user;
  if (req.headers['content-type']) env.CONTENT_TYPE = req.headers['content-type'];
  if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'authorization' || name === 'content-type' || name === 'content-length') continue;
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
  }
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;
  return env;
}

interface CgiHead {
  status: number;
  statusMessage: string;
  headers: Array<[string, string]>;
  rest: Buffer;
}

/** Splits a CGI answer into its header block and the start of the body; `null` until the blank line arrived. */
function parseCgiHead(data: Buffer): CgiHead | null {
  const crlf = data.indexOf('\r\n\r\n');
  const lf = data.indexOf('\n\n');
  let end: number;
  let skip: number;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) [end, skip] = [crlf, 4];
  else if (lf >= 0) [end, skip] = [lf, 2];
  else return null;
  const head: CgiHead = { status: 200, statusMessage: 'OK', headers: [], rest: data.subarray(end + skip) };
  for (const line of data.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const match = /^(\d{3})\s*(.*)$/.exec(value);
      if (match) [head.status, head.statusMessage] = [Number(match[1]), match[2] || ''];
    } else {
      head.headers.push([name, value]);
    }
  }
  return head;
}

/** Kills the backend and every git program it started (they share its process group). */
function killGroup(backend: Backend): void {
  if (backend.pid === undefined || backend.exitCode !== null || backend.signalCode !== null) return;
  try {
    process.kill(-backend.pid, 'SIGKILL');
  } catch (err) {
    // ESRCH: the group has exited between the check and the kill, which is what we wanted.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function isReceivePack(req: IncomingMessage, url: URL): boolean {
  return req.method === 'POST' && url.pathname.endsWith('/git-receive-pack');
}

export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const ownRoot = options.root === undefined;
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'bramble-git-server-')));
  await mkdir(root, { recursive: true });
  const backends = new Set<Backend>();
  const faults: GitServerFaults = { dropNextPush: false, dropNextPushResponse: false };
  const requests: GitServerRequest[] = [];
  let baseUrl = '';

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', baseUrl);
    const entry: GitServerRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      status: 0,
      bytesIn: 0,
      stderr: '',
    };
    const encoding = req.headers['content-encoding'];
    if (encoding) entry.contentEncoding = encoding;
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string') entry.gitProtocol = protocol;
    requests.push(entry);

    const user = authenticate(req, options);
    if (user === null) {
      entry.status = 401;
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': `Basic realm="${GIT_SERVER.realm}"`, 'Content-Type': 'text/plain' });
      res.end('Authentication required\n');
      return;
    }
    if (user !== undefined) entry.user = user;

    // Faults are taken when the request arrives, so a fault armed for "the next push" hits exactly one push.
    let dropAfter: number | null = null;
    let dropResponse = false;
    if (isReceivePack(req, url)) {
      if (faults.dropNextPush !== false) {
        dropAfter = faults.dropNextPush === true ? 0 : faults.dropNextPush;
        faults.dropNextPush = false;
      } else if (faults.dropNextPushResponse) {
        dropResponse = true;
        faults.dropNextPushResponse = false;
      }
    }

    const start = (): void => {
      const { file, args } = backendCommand();
      // Its own process group, so a fault or close() can kill receive-pack and index-pack along with it.
      const backend: Backend = spawn(file, args, {
        env: cgiEnvironment(req, root, url, user),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      backends.add(backend);
      backend.on('close', () => backends.delete(backend));
      backend.stderr.setEncoding('utf8');
      backend.stderr.on('data', (text: string) => {
        entry.stderr += text;
      });
      // The backend may answer (a 403, a fatal error) without reading the whole body; writing the rest then fails
      // with EPIPE, which is the backend's answer to report, not an error of the bridge.
      backend.stdin.on('error', (err: NodeJS.ErrnoException) => {
        entry.stderr += `[bridge] request body not fully delivered: ${err.code ?? err.message}\n`;
      });
      req.on('error', () => {
        // The client went away mid-body. As Apache does, close the backend's input: receive-pack then sees a
        // truncated pack and gives up on its own, without a kill that could leave a ref lock behind.
        backend.stdin.destroy();
      });

      if (dropAfter !== null) feedThenDrop(req, res, backend, entry, dropAfter);
      else {
        req.on('data', (chunk: Buffer) => {
          entry.bytesIn += chunk.length;
        });
        req.pipe(backend.stdin);
      }

      if (dropResponse) {
        // Let the push land, throw the answer away, then hang up as a crashed proxy would.
        backend.stdout.resume();
        backend.on('close', () => {
          entry.fault = 'dropped-response';
          req.socket.destroy();
        });
        return;
      }
      if (dropAfter === null) relayAnswer(res, backend, entry);
    };
    if (faults.delayMs) setTimeout(start, faults.delayMs);
    else start();
  }

  /** Hands the backend all but the last chunk and at most `limit` bytes, then kills it and hangs up. */
  function feedThenDrop(req: IncomingMessage, res: ServerResponse, backend: Backend, entry: GitServerRequest, limit: number): void {
    let held: Buffer | null = null;
    let sent = 0;
    let dropped = false;
    backend.stdout.resume();
    const drop = (): void => {
      if (dropped) return;
      dropped = true;
      entry.fault = 'dropped-request';
      entry.status = 0;
      killGroup(backend);
      req.socket.destroy();
      res.destroy();
    };
    req.on('data', (chunk: Buffer) => {
      if (dropped) return;
      entry.bytesIn += chunk.length;
      // One chunk is always held back, so the backend can never have the whole pack and complete the push.
      if (held) {
        const part = held.subarray(0, Math.max(0, limit - sent));
        if (part.length > 0) backend.stdin.write(part);
        sent += part.length;
      }
      held = chunk;
      if (sent >= limit) drop();
    });
    req.on('end', drop);
  }

  /** Parses the CGI header block, then streams the rest of the backend's output as the response body. */
  function relayAnswer(res: ServerResponse, backend: Backend, entry: GitServerRequest): void {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const head = parseCgiHead(buffered);
      if (!head) return;
      backend.stdout.off('data', onData);
      backend.stdout.off('end', onEnd);
      entry.status = head.status;
      for (const [name, value] of head.headers) res.appendHeader(name, value);
      res.writeHead(head.status, head.statusMessage);
      if (head.rest.length > 0) res.write(head.rest);
      backend.stdout.pipe(res);
    };
    const onEnd = (): void => {
      // The backend ended without a complete header block: a gateway error, with what it said on stderr.
      backend.on('close', (code) => {
        if (res.headersSent) return;
        entry.status = 502;
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend exited with ${code} without a CGI answer\n${entry.stderr}`);
      });
    };
    backend.stdout.on('data', onData);
    backend.stdout.on('end', onEnd);
    res.on('close', () => {
      // The client hung up before the answer was complete: nobody is left to read the backend's output, and
      // leaving it paused would keep it alive until close().
      if (!res.writableFinished) {
        backend.stdout.unpipe(res);
        backend.stdout.resume();
      }
    });
  }

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const repoPath = (name: string): string => join(root, `${name}.git`);

  return {
    url: baseUrl,
    root,
    faults,
    requests,
    repoUrl: (name) => `${baseUrl}/${name}.git`,
    repoUrlWithAuth: (name, user, password) => {
      const url = new URL(`${baseUrl}/${name}.git`);
      url.username = user;
      url.password = password;
      return url.href;
    },
    async createBare(name) {
      const path = repoPath(name);
      const env = gitEnvironment();
      await run('git', ['init', '--quiet', '--bare', `--initial-branch=${GIT_SERVER.defaultBranch}`, path], { env });
      // http-backend enables receive-pack only for an authenticated REMOTE_USER unless the repository says so;
      // without a token there is no user, and pushes must still work.
      await run('git', ['config', 'http.receivepack', 'true'], { cwd: path, env });
      return path;
    },
    async setHook(name, hook, script) {
      const file = join(repoPath(name), 'hooks', hook);
      if (script === null) {
        await rm(file, { force: true });
        return;
      }
      await writeFile(file, script.startsWith('#!') ? script : `#!/bin/sh\n${script}`);
      await chmod(file, 0o755);
    },
    async close() {
      const exits = [...backends].map(
        (backend) =>
          new Promise<void>((resolve) => {
            if (backend.exitCode !== null || backend.signalCode !== null) resolve();
            else {
              backend.once('close', () => resolve());
              killGroup(backend);
            }
          }),
      );
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      await Promise.all(exits);
      if (ownRoot) await rm(root, { recursive: true, force: true });
    },
  };
}
