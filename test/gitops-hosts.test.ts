// The host pulls from git (issue 11.2): three `bramble serve` processes reconcile the same repository, served by a
// real smart-HTTP git server, each on its own. A promotion tag is live on all three within the interval; a nudge
// makes it live at once; a tampered branch file never serves; while git is gone the last good model keeps serving.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { brambleAsync, startServe } from './helpers/cli.js';
import { commitAll, editMlYaml, git, gitAsync, makeModelRepo } from './helpers/model-repo.js';

const TOKEN = 'gitops-token';
const AUTH = ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`];
const INTERVAL_S = 2;
/** The CLI pushes and fetches the registry with the token the git server takes. */
const TOKEN_ENV = { BRAMBLE_GIT_TOKEN: TOKEN };

interface Host {
  url: string;
  config: string;
  process: ChildProcess;
}

interface Status {
  lastSync: { ok: boolean; error: string | null } | null;
  environments: Record<string, { desired: { version: string; tag: string } | null; live: { version: string; sha256: string } | null; inSync: boolean | null; error: string | null }>;
}

/** `bramble serve` as its own process, following the repository at `url`; resolves once it listens. */
function startHost(url: string, interval = INTERVAL_S): Promise<Host> {
  const root = mkdtempSync(join(tmpdir(), 'bramble-gitops-host-'));
  const config = join(root, 'serve.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      models: 'models',
      log: { dir: 'logs' },
      git: { url, tokenEnv: 'HOST_GIT_TOKEN', intervalSeconds: interval },
      environments: { prod: { path: '/prod', model: 'churn' }, staging: { path: '/staging', model: 'churn' } },
    }),
  );
  return startServe(config, { env: { HOST_GIT_TOKEN: TOKEN } }).then((served) => ({ url: served.url, config, process: served.child }));
}

async function status(host: Host): Promise<Status> {
  return (await fetch(`${host.url}/status`)).json() as Promise<Status>;
}

async function live(host: Host, env = 'prod'): Promise<string | null> {
  return (await status(host)).environments[env].live?.version ?? null;
}

/** Polls until every host serves `version` in prod; returns the seconds it took. */
async function untilLive(hosts: Host[], version: string, limitS: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const versions = await Promise.all(hosts.map((h) => live(h)));
    if (versions.every((v) => v === version)) return (performance.now() - started) / 1000;
    if ((performance.now() - started) / 1000 > limitS) throw new Error(`not live within ${limitS} s: ${versions.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('hosts that pull from git', () => {
  let server: GitServer;
  let author: string;
  let remote: string;
  const hosts: Host[] = [];

  beforeAll(async () => {
    server = await startGitServer({ token: TOKEN });
    await server.createBare('churn');
    remote = server.repoUrl('churn');
    author = makeModelRepo({ trees: 5 });
    git(author, 'remote', 'add', 'origin', remote);
    await gitAsync(author, ...AUTH, 'push', '-q', 'origin', 'main');
    expect((await brambleAsync(['run', '.', '--workers', '1'], { cwd: author, env: TOKEN_ENV })).status).toBe(0);
    expect((await brambleAsync(['register'], { cwd: author, env: TOKEN_ENV })).stdout).toContain('registered churn@v1.0.0');
    editMlYaml(author, (t) => t.replace(/trees: \d+/, 'trees: 6'));
    commitAll(author, 'one more tree');
    await gitAsync(author, ...AUTH, 'push', '-q', 'origin', 'main');
    expect((await brambleAsync(['run', '.', '--workers', '1'], { cwd: author, env: TOKEN_ENV })).status).toBe(0);
    expect((await brambleAsync(['register'], { cwd: author, env: TOKEN_ENV })).stdout).toContain('registered churn@v1.1.0');
    expect((await brambleAsync(['promote', 'churn@v1.0.0', 'prod'], { cwd: author, env: TOKEN_ENV })).status).toBe(0);
    for (let i = 0; i < 3; i++) hosts.push(await startHost(remote));
  }, 240_000);

  let serverClosed = false;
  afterAll(async () => {
    for (const h of hosts) h.process.kill('SIGTERM');
    if (!serverClosed) await server?.close();
  });

  it('three hosts start serving what the tags assign, each from its own sync', async () => {
    await untilLive(hosts, 'v1.0.0', 10);
    for (const h of hosts) {
      const s = await status(h);
      expect(s.lastSync?.ok).toBe(true);
      expect(s.environments.prod).toMatchObject({ desired: { version: 'v1.0.0', tag: 'churn#prod#1' }, live: { version: 'v1.0.0' }, inSync: true, error: null });
      // Nothing assigned to staging: it serves nothing and says so.
      expect(s.environments.staging).toMatchObject({ desired: null, live: null, inSync: null });
    }
  });

  it('a promotion tag is live on all three within the interval + 2 s; after /admin/sync, within 2 s', async () => {
    expect((await brambleAsync(['promote', 'churn@v1.1.0', 'prod'], { cwd: author, env: TOKEN_ENV })).status).toBe(0);
    const seconds = await untilLive(hosts, 'v1.1.0', INTERVAL_S + 2);
    expect(seconds).toBeLessThanOrEqual(INTERVAL_S + 2);
    // Back, with a nudge to each host: no waiting for the interval.
    expect((await brambleAsync(['promote', 'churn@v1.0.0', 'prod'], { cwd: author, env: TOKEN_ENV })).status).toBe(0);
    const started = performance.now();
    await Promise.all(hosts.map((h) => fetch(`${h.url}/admin/sync`, { method: 'POST' })));
    for (const h of hosts) expect(await live(h)).toBe('v1.0.0');
    expect((performance.now() - started) / 1000).toBeLessThanOrEqual(2);
  }, 60_000);

  it('nothing is pushed into a host: /admin/deploy is refused, even from this machine', async () => {
    const response = await fetch(`${hosts[0].url}/admin/deploy/prod`, { method: 'POST' });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: string }).error).toContain('this host follows git');
  });

  it('deploy is "sync now, then wait until live equals desired"; which --server shows desired and live', async () => {
    const deployed = await brambleAsync(['deploy', 'churn@v1.0.0', '--env', 'prod', '--config', hosts[1].config, '--server', hosts[1].url], { cwd: author, env: TOKEN_ENV });
    expect(deployed.stderr).toBe('');
    expect(deployed.stdout).toMatch(/^prod serves churn@v1\.0\.0 \(sha256 [0-9a-f]{12}\), as the tags say; the host synced from git in \d+\.\d\d s\n$/);
    const wrong = await brambleAsync(['deploy', 'churn@v1.1.0', '--env', 'prod', '--config', hosts[1].config, '--server', hosts[1].url], { cwd: author, env: TOKEN_ENV });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('the tags assign prod churn@v1.0.0 (churn#prod#3), not v1.1.0; promote it first (bramble promote churn@v1.1.0 prod)');
    const which = await brambleAsync(['which', 'prod', '--server', hosts[2].url], { cwd: author, env: TOKEN_ENV });
    expect(which.status).toBe(0);
    expect(which.stdout).toContain('desired: churn@v1.0.0 serves prod — churn#prod#3');
    expect(which.stdout).toContain(`live on ${hosts[2].url}: churn@v1.0.0`);
    expect(which.stdout).toContain('live is what the tags say');
  }, 60_000);

  it('rollback writes a tag and the hosts follow', async () => {
    const rolled = await brambleAsync(['rollback', 'prod'], { cwd: author, env: TOKEN_ENV });
    expect(rolled.status).toBe(0);
    await Promise.all(hosts.map((h) => fetch(`${h.url}/admin/sync`, { method: 'POST' })));
    for (const h of hosts) expect(await live(h)).toBe('v1.1.0');
  }, 60_000);

  it('a model file swapped on the registry branch never serves; the last good model keeps serving and /status says why', async () => {
    // The attacker pushes a branch, not a tag: v1.0.0's model.json becomes v1.1.0's, with the index to match.
    const clone = mkdtempSync(join(tmpdir(), 'bramble-gitops-attacker-'));
    await gitAsync(clone, ...AUTH, 'clone', '-q', '--branch', 'bramble/registry', remote, '.');
    writeFileSync(join(clone, 'churn/v1.0.0/model.json'), readFileSync(join(clone, 'churn/v1.1.0/model.json')));
    git(clone, 'commit', '-qam', 'refresh');
    await gitAsync(clone, ...AUTH, 'push', '-q', 'origin', 'bramble/registry');
    expect((await brambleAsync(['promote', 'churn@v1.0.0', 'prod'], { cwd: author, env: TOKEN_ENV })).status).toBe(2);
    // A tag written by git itself, as an attacker with tag rights but no Bramble might: assign v1.0.0 anyway.
    const target = git(author, 'rev-list', '-n', '1', 'churn@v1.0.0').trim();
    git(author, 'tag', '-a', 'churn#prod#9', '-m', 'Assigning stage prod to artifact churn version v1.0.0\n\nBramble-Version: v1.0.0', target);
    await gitAsync(author, ...AUTH, 'push', '-q', 'origin', 'refs/tags/churn#prod#9');
    await Promise.all(hosts.map((h) => fetch(`${h.url}/admin/sync`, { method: 'POST' })));
    for (const h of hosts) {
      const s = await status(h);
      expect(s.environments.prod.desired?.version).toBe('v1.0.0');
      expect(s.environments.prod.live?.version).toBe('v1.1.0');
      expect(s.environments.prod.inSync).toBe(false);
      expect(s.environments.prod.error).toContain('the file was replaced after registration');
    }
    const prediction = await fetch(`${hosts[0].url}/prod/ping`);
    expect(prediction.status).toBe(200);
  }, 60_000);

  it('a host whose git token is refused says so in /status and serves nothing it cannot verify', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bramble-gitops-badtoken-'));
    const config = join(root, 'serve.json');
    writeFileSync(config, JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, models: 'models', log: { dir: 'logs' }, git: { url: remote, tokenEnv: 'HOST_GIT_TOKEN', intervalSeconds: 60 }, environments: { prod: { path: '/prod', model: 'churn' } } }));
    const { child, url } = await startServe(config, { env: { HOST_GIT_TOKEN: 'wrong' } });
    try {
      const s = (await (await fetch(`${url}/status`)).json()) as Status;
      expect(s.lastSync?.ok).toBe(false);
      expect(s.lastSync?.error).toContain('was refused: the remote did not accept the token');
      expect(s.environments.prod.live).toBeNull();
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);

  it('while git cannot be reached the hosts keep serving, and /status says why', async () => {
    const before = await live(hosts[0]);
    await server.close();
    serverClosed = true;
    const response = await fetch(`${hosts[0].url}/admin/sync`, { method: 'POST' });
    expect(response.status).toBe(200);
    const s = (await response.json()) as Status;
    expect(s.lastSync?.ok).toBe(false);
    expect(s.lastSync?.error).toMatch(/^git http:\/\/127\.0\.0\.1:\d+\/churn\.git: .+; the last good models keep serving$/);
    expect(await live(hosts[0])).toBe(before);
    expect((await fetch(`${hosts[0].url}/prod/ping`)).status).toBe(200);
    const metrics = await (await fetch(`${hosts[0].url}/metrics`)).text();
    expect(metrics).toMatch(/^bramble_sync_total\{result="failed"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^bramble_sync_total\{result="ok"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^bramble_sync_in_sync\{env="prod"\} 0$/m);
  }, 60_000);
});
