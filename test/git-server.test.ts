// The test git server against both clients the project uses: the git CLI and isomorphic-git. Besides proving the
// server, these tests pin down how each failure reaches isomorphic-git, which the model registry relies on.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git, { Errors, type PushResult } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from './helpers/git-server.js';

const TOKEN = 'ghs_test-token-1234';
const author = { name: 'Bramble Test', email: 'test@bramble.invalid', timestamp: 1_700_000_000, timezoneOffset: 0 };
const onAuth = () => ({ username: 'x-access-token', password: TOKEN });

let scratch: string;
let counter = 0;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'bramble-git-server-test-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function freshDir(label: string): string {
  const dir = join(scratch, `${label}-${counter++}`);
  mkdirSync(dir);
  return dir;
}

/** Git CLI with no user or system config and no way to prompt: a missing credential must fail, not hang. */
const cliEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: scratch,
  LANG: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: author.name,
  GIT_AUTHOR_EMAIL: author.email,
  GIT_COMMITTER_NAME: author.name,
  GIT_COMMITTER_EMAIL: author.email,
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(cwd: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env: cliEnv(), maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function cliOk(cwd: string, args: string[]): Promise<string> {
  const result = await cli(cwd, args);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

/** Adds `count` empty commits on main in one `git fast-import` run (200 `git commit`s take seconds). */
function addCommits(repo: string, count: number): Promise<void> {
  // Newer than the commits the CLI made just before (the negotiation walks newest first), one second apart.
  const start = Math.floor(Date.now() / 1000) + 60;
  let stream = '';
  for (let i = 0; i < count; i++) {
    const message = `local ${i}\n`;
    stream += `commit refs/heads/main\ncommitter ${author.name} <${author.email}> ${start + i} +0000\ndata ${Buffer.byteLength(message)}\n${message}`;
    if (i === 0) stream += 'from refs/heads/main^0\n';
    stream += '\n';
  }
  return new Promise((resolve, reject) => {
    const child = execFile('git', ['fast-import', '--quiet'], { cwd: repo, env: cliEnv() }, (err, _stdout, stderr) =>
      err ? reject(new Error(`git fast-import failed: ${stderr}`)) : resolve(),
    );
    child.stdin?.end(stream);
  });
}

/** `git ls-remote` as a map from ref name to oid. */
async function remoteRefs(url: string): Promise<Record<string, string>> {
  const out = await cliOk(scratch, ['ls-remote', url]);
  const refs: Record<string, string> = {};
  for (const line of out.trim().split('\n').filter(Boolean)) {
    const [oid, ref] = line.split('\t');
    refs[ref] = oid;
  }
  return refs;
}

async function commitFile(dir: string, content: string | Buffer, file = 'model.txt'): Promise<string> {
  writeFileSync(join(dir, file), content);
  await git.add({ fs, dir, filepath: file });
  return git.commit({ fs, dir, message: `write ${file}`, author });
}

/** A bare repository on the server holding one commit on main, pushed by isomorphic-git. */
async function seededRepo(server: GitServer, name: string): Promise<string> {
  await server.createBare(name);
  const dir = freshDir('seed');
  await git.init({ fs, dir, defaultBranch: 'main' });
  await commitFile(dir, 'seed');
  await git.push({ fs, http, dir, url: server.repoUrl(name), ref: 'main', onAuth });
  return dir;
}

async function isoClone(server: GitServer, name: string): Promise<string> {
  const dir = freshDir('clone');
  await git.clone({ fs, http, dir, url: server.repoUrl(name), onAuth });
  return dir;
}

/** Runs `promise`, which must reject, and returns what it rejected with. */
async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; data?: unknown }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error('expected a rejection, but it resolved');
}

describe('git CLI against the server', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer();
  });
  afterAll(() => server.close());

  it.each([
    { label: 'default protocol', config: [] as string[], upload: 'version=2' },
    { label: 'protocol.version=2', config: ['-c', 'protocol.version=2'], upload: 'version=2' },
    { label: 'protocol.version=0', config: ['-c', 'protocol.version=0'], upload: undefined },
  ])('clones, commits, pushes a branch and an annotated tag, and lists them ($label)', async ({ label, config, upload }) => {
    const name = `cli-${label.replace(/\W+/g, '-')}`;
    await server.createBare(name);
    const work = freshDir('cli');
    await cliOk(work, [...config, 'clone', '--quiet', server.repoUrl(name), 'repo']);
    const repo = join(work, 'repo');
    writeFileSync(join(repo, 'model.txt'), 'trees: 100\n');
    await cliOk(repo, ['add', 'model.txt']);
    await cliOk(repo, ['commit', '--quiet', '-m', 'first model']);
    await cliOk(repo, ['tag', '-a', 'model/v1', '-m', 'model v1']);
    // Over protocol v0 the clone of an empty repository cannot learn that the remote's unborn HEAD is main (v2's
    // ls-refs "unborn" can), so the local branch is master there; push HEAD explicitly to main.
    await cliOk(repo, [...config, 'push', '--quiet', 'origin', 'HEAD:refs/heads/main', 'model/v1']);

    const head = (await cliOk(repo, ['rev-parse', 'HEAD'])).trim();
    const tag = (await cliOk(repo, ['rev-parse', 'model/v1'])).trim();
    const listed = await cliOk(repo, [...config, 'ls-remote', 'origin']);
    expect(listed).toBe(`${head}\tHEAD\n${head}\trefs/heads/main\n${tag}\trefs/tags/model/v1\n${head}\trefs/tags/model/v1^{}\n`);

    const again = freshDir('cli');
    await cliOk(again, [...config, 'clone', '--quiet', server.repoUrl(name), 'repo']);
    expect(readFileSync(join(again, 'repo', 'model.txt'), 'utf8')).toBe('trees: 100\n');
    expect((await cliOk(join(again, 'repo'), ['cat-file', '-t', 'model/v1'])).trim()).toBe('tag');

    const mine = server.requests.filter((r) => r.path.startsWith(`/${name}.git/`));
    expect(mine.every((r) => r.status === 200)).toBe(true);
    expect(mine.filter((r) => r.query === 'service=git-upload-pack').map((r) => r.gitProtocol)).toEqual([upload, upload, upload]);
    // receive-pack has no protocol v2: git asks for it on fetches only.
    expect(mine.find((r) => r.query === 'service=git-receive-pack')?.gitProtocol).toBeUndefined();
  });

  it('takes a gzipped fetch request (git CLI compresses upload-pack bodies over 1 KiB)', async () => {
    await server.createBare('gzip');
    const work = freshDir('gzip');
    await cliOk(work, ['clone', '--quiet', server.repoUrl('gzip'), 'a']);
    await cliOk(work, ['clone', '--quiet', server.repoUrl('gzip'), 'b']);
    const a = join(work, 'a');
    const b = join(work, 'b');
    await cliOk(a, ['commit', '--quiet', '--allow-empty', '-m', 'base']);
    await cliOk(a, ['push', '--quiet', 'origin', 'main']);
    // Many local commits the server lacks make the negotiation send many "have" lines.
    await cliOk(b, ['pull', '--quiet', 'origin', 'main']);
    await addCommits(b, 200);
    await cliOk(a, ['commit', '--quiet', '--allow-empty', '-m', 'remote']);
    await cliOk(a, ['push', '--quiet', 'origin', 'main']);
    await cliOk(b, ['fetch', '--quiet', 'origin']);

    expect((await cliOk(b, ['rev-parse', 'origin/main'])).trim()).toBe((await cliOk(a, ['rev-parse', 'HEAD'])).trim());
    const gzipped = server.requests.filter((r) => r.path === '/gzip.git/git-upload-pack' && r.contentEncoding === 'gzip');
    expect(gzipped.length).toBeGreaterThan(0);
    expect(gzipped.every((r) => r.status === 200)).toBe(true);
  });

  it('streams a 24 MB push (chunked, no Content-Length) and a clone of it', async () => {
    await server.createBare('large');
    const work = freshDir('large');
    await cliOk(work, ['clone', '--quiet', server.repoUrl('large'), 'repo']);
    const repo = join(work, 'repo');
    const blob = randomBytes(24 * 1024 * 1024);
    writeFileSync(join(repo, 'weights.bin'), blob);
    await cliOk(repo, ['add', 'weights.bin']);
    await cliOk(repo, ['commit', '--quiet', '-m', 'weights']);
    await cliOk(repo, ['push', '--quiet', 'origin', 'main']);

    // A body over http.postBuffer (1 MiB) is first probed with a 4-byte "0000" POST (so auth fails before the
    // upload, not after), then sent chunked.
    const pushes = server.requests.filter((r) => r.path === '/large.git/git-receive-pack');
    expect(pushes.map((r) => r.bytesIn)).toEqual([4, expect.any(Number)]);
    expect(pushes[1].bytesIn).toBeGreaterThan(24 * 1024 * 1024);
    expect(pushes.map((r) => r.status)).toEqual([200, 200]);
    await cliOk(work, ['clone', '--quiet', server.repoUrl('large'), 'copy']);
    expect(readFileSync(join(work, 'copy', 'weights.bin')).equals(blob)).toBe(true);
  });

  it('shows a pre-receive hook message as "remote:" lines and refuses the push', async () => {
    await server.createBare('cli-hook');
    await server.setHook('cli-hook', 'pre-receive', 'echo "registry: models/iris is frozen" >&2\nexit 1\n');
    const work = freshDir('cli-hook');
    await cliOk(work, ['clone', '--quiet', server.repoUrl('cli-hook'), 'repo']);
    const repo = join(work, 'repo');
    await cliOk(repo, ['commit', '--quiet', '--allow-empty', '-m', 'x']);
    const result = await cli(repo, ['push', 'origin', 'main']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('remote: registry: models/iris is frozen');
    expect(result.stderr).toContain('! [remote rejected] main -> main (pre-receive hook declined)');
    expect(await remoteRefs(server.repoUrl('cli-hook'))).toEqual({});
  });
});

describe('git CLI with a token', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer({ token: TOKEN });
    await server.createBare('private');
  });
  afterAll(() => server.close());

  it('answers 401 with a Basic challenge, so git without credentials fails instead of prompting', async () => {
    const result = await cli(scratch, ['ls-remote', server.repoUrl('private')]);
    expect(result.code).toBe(128);
    expect(result.stderr).toContain("could not read Username for 'http://127.0.0.1");
    expect(result.stderr).toContain('terminal prompts disabled');
    const response = await fetch(`${server.repoUrl('private')}/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="bramble-test"');
  });

  it('refuses a wrong token with "Authentication failed"', async () => {
    const result = await cli(scratch, ['ls-remote', server.repoUrlWithAuth('private', 'x-access-token', 'wrong')]);
    expect(result.code).toBe(128);
    expect(result.stderr).toContain("fatal: Authentication failed for 'http://127.0.0.1");
  });

  it.each(['x-access-token', 'oauth2'])('pushes with the token in the URL as %s:TOKEN', async (user) => {
    const name = `private-${user}`;
    await server.createBare(name);
    const work = freshDir('token');
    const url = server.repoUrlWithAuth(name, user, TOKEN);
    await cliOk(work, ['clone', '--quiet', url, 'repo']);
    const repo = join(work, 'repo');
    await cliOk(repo, ['commit', '--quiet', '--allow-empty', '-m', 'x']);
    await cliOk(repo, ['push', '--quiet', 'origin', 'main']);
    const head = (await cliOk(repo, ['rev-parse', 'HEAD'])).trim();
    expect(await remoteRefs(url)).toEqual({ HEAD: head, 'refs/heads/main': head });
    const push = server.requests.filter((r) => r.path === `/${name}.git/git-receive-pack`);
    expect(push).toMatchObject([{ method: 'POST', status: 200, user }]);
  });

  it('takes the token as a Bearer header too', async () => {
    const result = await cli(scratch, ['-c', `http.extraHeader=Authorization: Bearer ${TOKEN}`, 'ls-remote', server.repoUrl('private')]);
    expect(result).toMatchObject({ code: 0, stdout: '' });
  });
});

describe('isomorphic-git against the server', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer({ token: TOKEN });
  });
  afterAll(() => server.close());

  it('clones, pushes a branch and an annotated tag, and fetches the tag into another clone', async () => {
    await seededRepo(server, 'iso');
    const first = await isoClone(server, 'iso');
    const second = await isoClone(server, 'iso');
    await git.branch({ fs, dir: first, ref: 'registry', checkout: true });
    const commit = await commitFile(first, 'model v1');
    await git.annotatedTag({ fs, dir: first, ref: 'model/v1', message: 'model v1\n\nroc_auc: 0.91', tagger: author });
    const tagOid = await git.resolveRef({ fs, dir: first, ref: 'refs/tags/model/v1' });

    const pushed = await git.push({ fs, http, dir: first, ref: 'registry', onAuth });
    expect(pushed).toMatchObject({ ok: true, refs: { 'refs/heads/registry': { ok: true, error: '' } } });
    expect(await git.push({ fs, http, dir: first, ref: 'model/v1', onAuth })).toMatchObject({
      ok: true,
      refs: { 'refs/tags/model/v1': { ok: true, error: '' } },
    });

    await git.fetch({ fs, http, dir: second, tags: true, onAuth });
    expect(await git.resolveRef({ fs, dir: second, ref: 'refs/tags/model/v1' })).toBe(tagOid);
    expect(await git.resolveRef({ fs, dir: second, ref: 'refs/remotes/origin/registry' })).toBe(commit);
    const tag = await git.readTag({ fs, dir: second, oid: tagOid });
    expect(tag.tag).toMatchObject({ object: commit, type: 'commit', tag: 'model/v1', message: 'model v1\n\nroc_auc: 0.91\n' });

    // listServerRefs speaks protocol v2 (ls-refs); peelTags adds the commit an annotated tag points at.
    const refs = await git.listServerRefs({ http, url: server.repoUrl('iso'), prefix: 'refs/tags/', peelTags: true, onAuth });
    expect(refs).toEqual([{ ref: 'refs/tags/model/v1', oid: tagOid, peeled: commit }]);
  });

  it('throws HttpError 401 without onAuth', async () => {
    await seededRepo(server, 'iso-401');
    const dir = await isoClone(server, 'iso-401');
    const err = await failure(git.push({ fs, http, dir, ref: 'main' }));
    expect(err).toBeInstanceOf(Errors.HttpError);
    expect(err).toMatchObject({
      code: 'HttpError',
      message: 'HTTP Error: 401 Unauthorized',
      data: { statusCode: 401, statusMessage: 'Unauthorized', response: 'Authentication required\n' },
    });
    const wrong = await failure(git.listServerRefs({ http, url: server.repoUrl('iso-401'), onAuth: () => ({ username: 'x', password: 'nope' }) }));
    expect(wrong).toMatchObject({ code: 'HttpError', data: { statusCode: 401 } });
  });

  it('refuses, on the client, a push that is not a fast-forward and a tag that exists', async () => {
    await seededRepo(server, 'iso-ff');
    const ahead = await isoClone(server, 'iso-ff');
    const behind = await isoClone(server, 'iso-ff');
    await commitFile(ahead, 'ahead');
    await git.push({ fs, http, dir: ahead, ref: 'main', onAuth });
    await commitFile(behind, 'behind');
    const before = await remoteRefs(server.repoUrlWithAuth('iso-ff', 'x', TOKEN));

    // isomorphic-git checks locally whether the advertised remote tip is an ancestor; a tip it has never fetched
    // is not, so "remote moved since my fetch" reads as not-fast-forward without a byte of pack being sent.
    const nonFastForward = await failure(git.push({ fs, http, dir: behind, ref: 'main', onAuth }));
    expect(nonFastForward).toBeInstanceOf(Errors.PushRejectedError);
    expect(nonFastForward).toMatchObject({
      code: 'PushRejectedError',
      message: 'Push rejected because it was not a simple fast-forward. Use "force: true" to override.',
      data: { reason: 'not-fast-forward' },
    });

    await git.annotatedTag({ fs, dir: ahead, ref: 'model/v1', message: 'ahead', tagger: author });
    await git.push({ fs, http, dir: ahead, ref: 'model/v1', onAuth });
    await git.annotatedTag({ fs, dir: behind, ref: 'model/v1', message: 'behind', tagger: author });
    const tagExists = await failure(git.push({ fs, http, dir: behind, ref: 'model/v1', onAuth }));
    expect(tagExists).toMatchObject({
      code: 'PushRejectedError',
      message: 'Push rejected because tag already exists. Use "force: true" to override.',
      data: { reason: 'tag-exists' },
    });
    const after = await remoteRefs(server.repoUrlWithAuth('iso-ff', 'x', TOKEN));
    expect(after['refs/heads/main']).toBe(before['refs/heads/main']);
  });

  it.each([
    { hook: 'pre-receive' as const, error: 'pre-receive hook declined', extra: [] as string[] },
    { hook: 'update' as const, error: 'hook declined', extra: ['error: hook declined to update refs/heads/main\n'] },
  ])('reports a $hook hook that exits 1 as GitPushError, its output only through onMessage', async ({ hook, error, extra }) => {
    const name = `iso-${hook}`;
    await seededRepo(server, name);
    await server.setHook(name, hook, 'echo "registry: models/iris is frozen" >&2\necho "ask #ml-platform"\nexit 1\n');
    const dir = await isoClone(server, name);
    await commitFile(dir, 'refused');
    const before = await git.listServerRefs({ http, url: server.repoUrl(name), onAuth });

    const messages: string[] = [];
    const err = await failure(git.push({ fs, http, dir, ref: 'main', onAuth, onMessage: (line) => void messages.push(line) }));
    expect(err).toBeInstanceOf(Errors.GitPushError);
    expect(err).toMatchObject({
      code: 'GitPushError',
      message: `One or more branches were not updated: \n  - refs/heads/main: ${error}`,
      data: { prettyDetails: `\n  - refs/heads/main: ${error}`, result: { ok: true, refs: { 'refs/heads/main': { ok: false, error } } } },
    });
    // The hook's stdout and stderr arrive on side-band 2, before the report, so by the time push settles every
    // line has gone to onMessage (newline included). Nothing of it is in the error. For the update hook
    // receive-pack adds a line of its own.
    expect(messages).toEqual(['registry: models/iris is frozen\n', 'ask #ml-platform\n', ...extra]);
    expect(err.message).not.toContain('frozen');
    expect(await git.listServerRefs({ http, url: server.repoUrl(name), onAuth })).toEqual(before);

    await server.setHook(name, hook, null);
    expect(await git.push({ fs, http, dir, ref: 'main', onAuth })).toMatchObject({ ok: true });
  });

  it.each([
    { label: 'after the first chunk', drop: true as const, size: 10 },
    { label: 'after 256 KiB of a 2 MiB push', drop: 256 * 1024, size: 2 * 1024 * 1024 },
  ])('rejects with a socket error and leaves the remote unchanged when the push is dropped $label', async ({ drop, size }) => {
    const name = `iso-drop-${String(drop)}`;
    await seededRepo(server, name);
    const dir = await isoClone(server, name);
    // Random bytes do not compress, so the request body is about `size` and spans many socket chunks.
    await commitFile(dir, randomBytes(size), 'weights.bin');
    await git.annotatedTag({ fs, dir, ref: 'model/v2', message: 'v2', tagger: author });
    const before = await git.listServerRefs({ http, url: server.repoUrl(name), onAuth });

    server.faults.dropNextPush = drop;
    const err = await failure(git.push({ fs, http, dir, ref: 'main', onAuth }));
    // Not an isomorphic-git error class: Node's own error from the HTTP client, with isomorphic-git's `caller`
    // added. Its message depends on whether the client was still writing the body when the socket went: "socket
    // hang up" if not, "read ECONNRESET" (or "write EPIPE", code EPIPE) if it was.
    expect(err.constructor).toBe(Error);
    expect(err).toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/), caller: 'git.push' });
    expect(err.message).toMatch(/^(socket hang up|read ECONNRESET|write EPIPE)$/);
    expect(server.faults.dropNextPush).toBe(false);
    const dropped = server.requests.at(-1);
    expect(dropped).toMatchObject({ path: `/${name}.git/git-receive-pack`, status: 0, fault: 'dropped-request' });
    expect(dropped?.bytesIn).toBeGreaterThanOrEqual(drop === true ? 1 : drop);
    expect(await git.listServerRefs({ http, url: server.repoUrl(name), onAuth })).toEqual(before);

    // The fault is spent: the same pushes now go through.
    expect(await git.push({ fs, http, dir, ref: 'main', onAuth })).toMatchObject({ ok: true });
    expect(await git.push({ fs, http, dir, ref: 'model/v2', onAuth })).toMatchObject({ ok: true });
  });

  it('rejects a push whose answer is lost although it landed, and a retry then succeeds', async () => {
    await seededRepo(server, 'iso-lost');
    const dir = await isoClone(server, 'iso-lost');
    const commit = await commitFile(dir, 'landed');
    await git.annotatedTag({ fs, dir, ref: 'model/v3', message: 'v3', tagger: author });
    const tagOid = await git.resolveRef({ fs, dir, ref: 'refs/tags/model/v3' });

    server.faults.dropNextPushResponse = true;
    const err = await failure(git.push({ fs, http, dir, ref: 'model/v3', onAuth }));
    expect(err).toMatchObject({ code: 'ECONNRESET', message: 'socket hang up', caller: 'git.push' });
    expect(server.requests.at(-1)).toMatchObject({ path: '/iso-lost.git/git-receive-pack', fault: 'dropped-response' });
    const refs = await git.listServerRefs({ http, url: server.repoUrl('iso-lost'), prefix: 'refs/tags/', onAuth });
    expect(refs).toEqual([{ ref: 'refs/tags/model/v3', oid: tagOid }]);

    // When the remote already holds exactly this oid, isomorphic-git skips its tag-exists check (it treats
    // oid === remote oid as forced), and receive-pack accepts the no-op: the retry is idempotent.
    expect(await git.push({ fs, http, dir, ref: 'model/v3', onAuth })).toMatchObject({
      ok: true,
      refs: { 'refs/tags/model/v3': { ok: true, error: '' } },
    });
    expect(await git.push({ fs, http, dir, ref: 'main', onAuth })).toMatchObject({ ok: true });
    expect(await git.resolveRef({ fs, dir, ref: 'refs/remotes/origin/main' })).toBe(commit);
  });

  it('holds every request bound for the backend for faults.delayMs', async () => {
    await seededRepo(server, 'iso-slow');
    server.faults.delayMs = 300;
    const started = performance.now();
    try {
      await git.listServerRefs({ http, url: server.repoUrl('iso-slow'), onAuth });
    } finally {
      server.faults.delayMs = 0;
    }
    // The 401 is the bridge's own answer and comes at once; the two requests for the backend (info/refs, then
    // the ls-refs POST of protocol v2) wait 300 ms each.
    expect(performance.now() - started).toBeGreaterThanOrEqual(590);
    expect(server.requests.slice(-3).map((r) => r.status)).toEqual([401, 200, 200]);
  });
});

describe('concurrent isomorphic-git pushes', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer();
  });
  afterAll(() => server.close());

  async function clones(name: string, count: number): Promise<string[]> {
    await seededRepo(server, name);
    return Promise.all(Array.from({ length: count }, () => isoClone(server, name)));
  }

  it('lands 8 different tags pushed at once from 8 clones', async () => {
    const dirs = await clones('tags', 8);
    const tags = await Promise.all(
      dirs.map(async (dir, i) => {
        await commitFile(dir, `model ${i}`, `model-${i}.txt`);
        await git.annotatedTag({ fs, dir, ref: `model/v${i}`, message: `v${i}`, tagger: author });
        return git.resolveRef({ fs, dir, ref: `refs/tags/model/v${i}` });
      }),
    );
    const results = await Promise.all(dirs.map((dir, i) => git.push({ fs, http, dir, ref: `model/v${i}` })));
    results.forEach((result, i) => expect(result).toMatchObject({ ok: true, refs: { [`refs/tags/model/v${i}`]: { ok: true } } }));
    const refs = await git.listServerRefs({ http, url: server.repoUrl('tags'), prefix: 'refs/tags/' });
    expect(refs.map((r) => r.oid).sort()).toEqual([...tags].sort());
  });

  it('lets exactly one of 8 pushes of the same new branch win; the others are rejected', async () => {
    const dirs = await clones('race', 8);
    const commits = await Promise.all(
      dirs.map(async (dir, i) => {
        await git.branch({ fs, dir, ref: 'registry', checkout: true });
        return commitFile(dir, `candidate ${i}`);
      }),
    );
    const settled = await Promise.allSettled(dirs.map((dir) => git.push({ fs, http, dir, ref: 'registry' })));

    const winners = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect((settled[winners[0]] as PromiseFulfilledResult<PushResult>).value).toMatchObject({
      ok: true,
      refs: { 'refs/heads/registry': { ok: true, error: '' } },
    });
    const remote = await git.listServerRefs({ http, url: server.repoUrl('race'), prefix: 'refs/heads/registry' });
    expect(remote).toEqual([{ ref: 'refs/heads/registry', oid: commits[winners[0]] }]);

    // A loser gets one of two shapes, depending on when its ref advertisement was read:
    // - before the winner landed: it sends old-oid 0000…, receive-pack's compare-and-swap under the ref lock fails,
    //   and the report says `ng refs/heads/registry failed to update ref` → GitPushError;
    // - after: the advertised tip is a commit it lacks → PushRejectedError not-fast-forward, decided client-side.
    const losers = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error & { code?: string; data?: unknown }] : []));
    expect(losers).toHaveLength(7);
    for (const loser of losers) {
      if (loser.code === 'GitPushError') {
        expect(loser).toMatchObject({
          message: 'One or more branches were not updated: \n  - refs/heads/registry: failed to update ref',
          data: { result: { ok: true, refs: { 'refs/heads/registry': { ok: false, error: 'failed to update ref' } } } },
        });
      } else {
        expect(loser).toMatchObject({ code: 'PushRejectedError', data: { reason: 'not-fast-forward' } });
      }
    }
  });
});
