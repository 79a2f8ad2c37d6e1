// Canary releases through git under load, as a process with workers: 2 (dist/cli.js, as serve-cluster.test.ts)
// following a repository on the smart-HTTP git server (as gitops-hosts.test.ts):
// a canary added (bramble promote --role canary), reweighted and removed through ml.yaml (bramble reweight after
// each commit) and the host's sync while four clients keep asking — no request fails, each change answers once both
// workers serve it, and every worker routes the same id the same way.
// Promotions go through the CLI (`bramble promote --role canary`, weights from ml.yaml), and its bad input exits 2
// with a located message.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from '../src/registry/registry.js';
import { toCanary } from '../src/serve/release.js';
import type { SyncStatus } from '../src/serve/sync.js';
import { bramble, brambleAsync, startServe } from './helpers/cli.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { send } from './helpers/send.js';
import { commitAll, editMlYaml, git, gitAsync, makeModelRepo, train } from './helpers/model-repo.js';

const TOKEN = 'release-token';
const AUTH = ['-c', `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`];
/** The CLI pushes and fetches the registry with the token the git server takes. */
const TOKEN_ENV = { BRAMBLE_GIT_TOKEN: TOKEN };

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

const canaryBlock = (weight: number): string => `prod:    { branch: main, approval: true, canary: { weight: ${weight}, sticky: id } }`;

describe('bramble promote --role', () => {
  it('refuses an unknown role, a weight out of range, a canary without a main version and one ml.yaml does not weigh, each with exit 2 and where', async () => {
    const repo = makeModelRepo({ trees: 4 });
    await train(repo);
    expect(bramble(['register', '--no-remote'], { cwd: repo }).status).toBe(0);
    const unknown = bramble(['promote', 'churn@v1.0.0', 'prod', '--role', 'canry', '--no-remote'], { cwd: repo });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--role: unknown role "canry"; did you mean canary?');
    const unweighed = bramble(['promote', 'churn@v1.0.0', 'staging', '--role', 'canary', '--no-remote'], { cwd: repo });
    expect(unweighed.status).toBe(2);
    expect(unweighed.stderr).toMatch(/ml\.yaml environments\.staging: no canary block/);
    editMlYaml(repo, (t) => t.replace(/prod: +\{ branch: main, approval: true \}/, canaryBlock(1.5)));
    const heavy = bramble(['promote', 'churn@v1.0.0', 'prod', '--role', 'canary', '--no-remote'], { cwd: repo });
    expect(heavy.status).toBe(2);
    expect(heavy.stderr).toMatch(/ml\.yaml:\d+:\d+ environments\.prod\.canary\.weight: must be a number from 0 to 1 \(got 1\.5\)/);
    editMlYaml(repo, (t) => t.replace('weight: 1.5', 'weight: 0.1'));
    const alone = bramble(['promote', 'churn@v1.0.0', 'prod', '--role', 'canary', '--no-remote'], { cwd: repo });
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain('churn has no main version in prod: a canary runs beside one; promote a version to prod first');
    expect(bramble(['promote', 'churn@v1.0.0', 'prod', '--no-remote'], { cwd: repo }).status).toBe(0);
    const ok = bramble(['promote', 'churn@v1.0.0', 'prod', '--role', 'canary', '--no-remote'], { cwd: repo });
    expect(ok.stdout).toContain('assigned churn@v1.0.0 to prod-canary (churn#prod-canary#2)');
    expect(bramble(['registry', 'ls', '--no-remote'], { cwd: repo }).stdout).toContain('prod=v1.0.0 prod-canary=v1.0.0 (weight 0.1)');
    const same = bramble(['promote', 'churn@v1.0.0', 'prod', '--role', 'canary', '--no-remote'], { cwd: repo });
    expect(same.stdout).toContain('prod-canary already serves churn@v1.0.0; nothing to do');
    expect(bramble(['reweight', 'prod', '--no-remote'], { cwd: repo }).stdout).toContain("prod-canary already runs churn@v1.0.0 as ml.yaml says; nothing to do");
    const removed = bramble(['unassign', 'churn', 'prod', '--role', 'canary', '--no-remote'], { cwd: repo });
    expect(removed.stdout).toContain('unassigned churn from prod-canary (churn#prod-canary!#3)');
    const none = bramble(['reweight', 'prod', '--no-remote'], { cwd: repo });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('prod has no canary of churn to reweight; start one with bramble promote churn@vX.Y.Z prod --role canary');
  }, 120_000);
});

describe('a canary added, reweighted and removed under load with workers: 2', () => {
  let server: GitServer | undefined;
  afterAll(async () => server?.close());

  it('fails no request, and each change answers once both workers route by it', async () => {
    // The repository lives on a smart-HTTP git server; the CLI pushes its tags there and the host fetches them.
    server = await startGitServer({ token: TOKEN });
    await server.createBare('churn');
    const remote = server.repoUrl('churn');
    const repo = makeModelRepo({ trees: 5 });
    git(repo, 'remote', 'add', 'origin', remote);
    await gitAsync(repo, ...AUTH, 'push', '-q', 'origin', 'main');
    const cli = async (args: string[]): Promise<void> => {
      const r = await brambleAsync(args, { cwd: repo, env: TOKEN_ENV });
      expect(r.status, r.stderr).toBe(0);
    };
    const first = await train(repo);
    await (await Registry.open({ dir: repo, remote: 'origin', env: TOKEN_ENV })).register(first);
    editMlYaml(repo, (t) => t.replace(/trees: \d+/, 'trees: 6').replace(/prod: +\{ branch: main, approval: true \}/, canaryBlock(0.1)));
    commitAll(repo, 'a canary at 0.1');
    await (await Registry.open({ dir: repo, remote: 'origin', env: TOKEN_ENV })).register(await train(repo));
    await cli(['promote', 'churn@v1.0.0', 'prod']);
    const sample = (JSON.parse(first) as { samples: { rows: Record<string, unknown>[] } }).samples.rows[0];

    const host = mkdtempSync(join(tmpdir(), 'bramble-release-cluster-'));
    const config = join(host, 'serve.json');
    writeFileSync(
      config,
      JSON.stringify({
        listen: { port: 0 },
        workers: 2,
        models: 'models',
        log: { dir: 'logs' },
        git: { url: remote, tokenEnv: 'HOST_GIT_TOKEN', intervalSeconds: 3600 },
        environments: { prod: { path: '/prod', model: 'churn' } },
      }),
    );
    const served = await startServe(config, { env: { HOST_GIT_TOKEN: TOKEN } });
    children.push(served.child);
    const { url } = served;

    let load = true;
    let answered = 0;
    const failures: string[] = [];
    const client = async (c: number): Promise<void> => {
      for (let i = 0; load; i++) {
        const r = await send(`${url}/prod/invocations`, 'POST', JSON.stringify({ dataframe_records: [{ ...sample, customerID: `load-${c}-${i % 500}` }] }));
        answered++;
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    const ids = Array.from({ length: 60 }, (_, i) => `probe-${i}`);
    /** Each probe id asked twice (two connections: either worker); the roles must agree and follow the weight. */
    const probe = async (weight: number): Promise<void> => {
      for (const id of ids) {
        const body = JSON.stringify({ dataframe_records: [{ ...sample, customerID: id }] });
        const [a, b] = await Promise.all([send(`${url}/prod/invocations`, 'POST', body), send(`${url}/prod/invocations`, 'POST', body)]);
        const expected = toCanary(weight * 2 ** 32, id) ? 'canary' : 'main';
        expect([a.role, b.role], id).toEqual([expected, expected]);
      }
    };
    const change = async (args: string[]): Promise<SyncStatus> => {
      await cli(args);
      const sync = await send(`${url}/admin/sync`, 'POST');
      expect(sync.status, sync.body).toBe(200);
      return JSON.parse(sync.body) as SyncStatus;
    };
    await new Promise((resolve) => setTimeout(resolve, 300));
    await probe(0);

    let s = await change(['promote', 'churn@v1.1.0', 'prod', '--role', 'canary']);
    expect(s.environments.prod.roles?.canary).toMatchObject({ live: { version: 'v1.1.0' }, weight: 0.1 });
    await probe(0.1);
    const workers = (JSON.parse((await send(`${url}/status`, 'GET')).body) as { workers: { serves: Record<string, string> }[] }).workers;
    expect(workers.map((w) => w['serves']['prod-canary'])).toEqual(['v1.1.0', 'v1.1.0']);

    // A pull request changes the weight in ml.yaml; once merged, bramble reweight writes it to the canary's tag.
    editMlYaml(repo, (t) => t.replace('weight: 0.1', 'weight: 0.6'));
    commitAll(repo, 'canary at 0.6');
    s = await change(['reweight', 'prod']);
    expect(s.environments.prod.roles?.canary).toMatchObject({ live: { version: 'v1.1.0' }, weight: 0.6, desired: { tag: 'churn#prod-canary#3' } });
    await probe(0.6);

    // Another removes the canary block: reweight takes the canary away.
    editMlYaml(repo, (t) => t.replace(canaryBlock(0.6), 'prod:    { branch: main, approval: true }'));
    commitAll(repo, 'no canary');
    s = await change(['reweight', 'prod']);
    expect(s.environments.prod.roles).toBeUndefined();
    await probe(0);

    load = false;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(100);
    served.child.kill('SIGTERM');
    await new Promise((resolve) => served.child.once('exit', resolve));
  }, 180_000);
});
