// Canary and shadow releases declared in git, served by one process that follows the repository (a real git
// repository, tags written by the registry, the host's own sync): a canary at weight 0.1 answers 10 % ± 1 point of
// 10,000 distinct ids, each id always the same version; the shadow's answer is in the log and never in a body; a
// request of many rows is split per row; a reweight moves keys from main to canary only; removal by tag empties
// the slot; a canary without a main version is not served. test/serve-release-cluster.test.ts does the same under
// load with workers: 2.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../src/registry/registry.js';
import { stickyHash, toCanary } from '../src/serve/release.js';
import { checkServeConfig } from '../src/serve/config.js';
import { buildServer, type BuiltServer } from '../src/serve/server.js';
import type { SyncStatus } from '../src/serve/sync.js';
import { commitAll, editMlYaml, makeModelRepo, train } from './helpers/model-repo.js';

const ENVS = ['dev', 'staging', 'prod'];

interface LogLine {
  id: string;
  env: string;
  role?: string;
  model: { version: string };
  inputs: Record<string, unknown>[];
  outputs: { predictions: unknown[]; probabilities?: number[] };
}

/** Three versions of the template's model: v1.0.0, v1.1.0 and v1.2.0 (more trees each time), registered. */
async function threeVersions(repo: string): Promise<{ registry: Registry; rows: Record<string, unknown>[] }> {
  const registry = await Registry.open({ dir: repo, remote: null, env: {} });
  let rows: Record<string, unknown>[] = [];
  for (const trees of [5, 6, 7]) {
    editMlYaml(repo, (t) => t.replace(/trees: \d+/, `trees: ${trees}`));
    commitAll(repo, `${trees} trees`);
    const text = await train(repo);
    rows = (JSON.parse(text) as { samples: { rows: Record<string, unknown>[] } }).samples.rows;
    await (await Registry.open({ dir: repo, remote: null, env: {} })).register(text);
  }
  // v2.0.0 (a major bump: another signature) is trained without the gender column: it refuses rows that carry it.
  const data = join(repo, 'data/churn.csv');
  writeFileSync(data, readFileSync(data, 'utf8').split('\n').map((line) => line.split(',').filter((_, i) => i !== 1).join(',')).join('\n'));
  editMlYaml(repo, (t) => t.replace(/^ +gender: .*\n/m, '').replace('      - gender\n', ''));
  commitAll(repo, 'without gender');
  await (await Registry.open({ dir: repo, remote: null, env: {} })).register(await train(repo));
  return { registry, rows };
}

describe('the sticky hash', () => {
  it('sends 10 % ± 1 point of 10,000 distinct ids to a canary at 0.1, the same way every time, and only more when raised', () => {
    let at10 = 0;
    let movedBack = 0;
    for (let i = 0; i < 10_000; i++) {
      const key = `7590-C${String(i).padStart(5, '0')}`;
      const inTen = toCanary(0.1 * 2 ** 32, key);
      if (inTen) at10++;
      expect(toCanary(0.1 * 2 ** 32, key)).toBe(inTen);
      if (inTen && !toCanary(0.5 * 2 ** 32, key)) movedBack++;
    }
    expect(Math.abs(at10 / 10_000 - 0.1)).toBeLessThanOrEqual(0.01);
    expect(movedBack).toBe(0);
    // The identities' text hash under the sticky seed, pinned: a change of hash would move every client.
    expect(stickyHash('')).toBe(205702734);
    expect(stickyHash('a')).toBe(412723663);
    expect(stickyHash('a')).toBe(stickyHash('a'));
    expect(stickyHash('a')).not.toBe(stickyHash('b'));
  });
});

describe('a canary and a shadow declared by tags, served by a host that follows git', () => {
  let repo: string;
  let root: string;
  let server: BuiltServer;
  let registry: Registry;
  let sample: Record<string, unknown>;
  const warnings: string[] = [];

  const status = async (): Promise<SyncStatus> => JSON.parse((await server.inject({ url: '/status' })).body) as SyncStatus;
  const ask = (rows: Record<string, unknown>[], headers: Record<string, string> = {}) =>
    server.inject({ method: 'POST', url: '/prod/invocations', headers, body: { dataframe_records: rows } });
  const logLines = async (): Promise<LogLine[]> => {
    await server.log.flush();
    return readFileSync(join(root, 'logs', 'predictions.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as LogLine);
  };
  const sync = async (): Promise<void> => {
    expect((await server.inject({ method: 'POST', url: '/admin/sync' })).status).toBe(200);
  };

  beforeAll(async () => {
    repo = makeModelRepo({ trees: 4 });
    const made = await threeVersions(repo);
    registry = made.registry;
    sample = made.rows[0];
    await registry.assign('churn', 'v1.0.0', 'prod', ENVS);
    await registry.assign('churn', 'v1.1.0', 'prod', ENVS, { role: 'canary', canary: { weight: 0.1, sticky: 'id' } });
    await registry.assign('churn', 'v1.2.0', 'prod', ENVS, { role: 'shadow', canary: null });
    root = mkdtempSync(join(tmpdir(), 'bramble-release-'));
    const config = checkServeConfig(
      { listen: { host: '127.0.0.1', port: 0 }, workers: 1, models: 'models', log: { dir: 'logs', maxBytes: 1_000_000_000 }, git: { url: repo, intervalSeconds: 3600 }, environments: { prod: { path: '/prod', model: 'churn' } } },
      'serve.json',
      root,
    );
    server = await buildServer(config, { env: {}, version: 'test', warn: (m) => warnings.push(m) });
  }, 180_000);

  afterAll(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('lists the roles in the registry index with the weight their tag records', async () => {
    const { models } = await registry.read();
    const envs = models.get('churn')?.envs;
    expect(envs?.get('prod-canary')).toMatchObject({ version: 'v1.1.0', role: 'canary', canary: { weight: 0.1, sticky: 'id' }, tag: 'churn#prod-canary#2' });
    expect(envs?.get('prod-shadow')).toMatchObject({ version: 'v1.2.0', role: 'shadow', tag: 'churn#prod-shadow#3' });
    expect(envs?.get('prod-shadow')?.canary).toBeUndefined();
  });

  it('shows each role, its version and weight in /status and /metrics', async () => {
    const s = (await status()).environments.prod;
    expect(s.live?.version).toBe('v1.0.0');
    expect(s.roles?.canary).toMatchObject({ live: { version: 'v1.1.0' }, weight: 0.1, sticky: 'id', inSync: true, error: null });
    expect(s.roles?.shadow).toMatchObject({ live: { version: 'v1.2.0' }, inSync: true, error: null });
    const metrics = (await server.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('bramble_release_weight{env="prod",role="main",model="churn",version="v1.0.0"} 0.9');
    expect(metrics).toContain('bramble_release_weight{env="prod",role="canary",model="churn",version="v1.1.0"} 0.1');
    expect(metrics).toContain('bramble_release_weight{env="prod",role="shadow",model="churn",version="v1.2.0"} 1');
  });

  it('answers 10 % ± 1 point of 10,000 distinct ids from the canary, the same id always from the same version, and never with the shadow', async () => {
    const byVersion = new Map<string, number>();
    const firstAnswer = new Map<string, string>();
    for (let i = 0; i < 10_000; i++) {
      const id = `id-${i}`;
      // Injected requests resolve in microtasks: yield now and then, as sockets do, so that the shadow runs and the
      // log is written rather than its bounded queue filled (and records dropped, by design).
      if (i % 200 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        await server.log.flush();
      }
      const r = await ask([{ ...sample, customerID: id }]);
      expect(r.status, r.body).toBe(200);
      const model = r.headers['x-bramble-model'];
      byVersion.set(model, (byVersion.get(model) ?? 0) + 1);
      if (i < 200) firstAnswer.set(id, model);
      expect(r.body).not.toContain('v1.2.0');
      expect(r.headers['x-bramble-role']).toBe(model === 'churn@v1.1.0' ? 'canary' : 'main');
    }
    expect([...byVersion.keys()].sort()).toEqual(['churn@v1.0.0', 'churn@v1.1.0']);
    expect(Math.abs((byVersion.get('churn@v1.1.0') ?? 0) / 10_000 - 0.1)).toBeLessThanOrEqual(0.01);
    // Sticky: the first 200 ids asked again, 5 times each, get the version they got the first time.
    for (let round = 0; round < 5; round++) {
      for (const [id, model] of firstAnswer) expect((await ask([{ ...sample, customerID: id }])).headers['x-bramble-model']).toBe(model);
    }
  }, 120_000);

  it("logs the shadow's answer to every request as role shadow, after the answer, and names every line's role", async () => {
    const r = await ask([{ ...sample, customerID: 'shadow-check' }], { 'x-request-id': 'shadow-check-1' });
    expect(r.status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    const lines = (await logLines()).filter((l) => l.id === 'shadow-check-1');
    expect(lines.map((l) => `${l.role} ${l.model.version}`).sort()).toEqual(['main v1.0.0', 'shadow v1.2.0'].sort());
    const all = await logLines();
    expect(all.every((l) => l.role === 'main' || l.role === 'canary' || l.role === 'shadow')).toBe(true);
    // Every answered request has its shadow line: as many shadow lines as main and canary requests.
    const answered = new Set(all.filter((l) => l.role !== 'shadow').map((l) => l.id));
    const shadowed = new Set(all.filter((l) => l.role === 'shadow').map((l) => l.id));
    expect(shadowed).toEqual(answered);
  }, 60_000);

  it('counts, and does not log, requests a shadow of another signature refuses; the client never hears of it', async () => {
    await registry.assign('churn', 'v2.0.0', 'prod', ENVS, { role: 'shadow', canary: null });
    await sync();
    const refused = async (): Promise<number> => Number(/^bramble_shadow_refused_total\{env="prod"\} (\d+)$/m.exec((await server.inject({ url: '/metrics' })).body)?.[1] ?? 0);
    const before = await refused();
    const r = await ask([{ ...sample, customerID: 'refused-1' }], { 'x-request-id': 'refused-1' });
    expect(r.status, r.body).toBe(200);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await refused()).toBe(before + 1);
    expect((await logLines()).filter((l) => l.id === 'refused-1').map((l) => l.role)).toEqual(['main']);
    await registry.assign('churn', 'v1.2.0', 'prod', ENVS, { role: 'shadow', canary: null });
    await sync();
    expect(server.host.plan('prod').shadow?.version).toBe('v1.2.0');
  });

  it('splits a request of many rows per row by id, answers them in order, and logs each part with its version', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `split-${i}`);
    const rows = ids.map((id) => ({ ...sample, customerID: id }));
    const expectCanary = ids.map((id) => toCanary(0.1 * 2 ** 32, id));
    expect(expectCanary.some(Boolean) && !expectCanary.every(Boolean)).toBe(true);
    const r = await ask(rows, { 'x-request-id': 'split-request' });
    expect(r.status, r.body).toBe(200);
    expect(r.headers['x-bramble-role']).toBe('mixed');
    expect(r.headers['x-bramble-model']).toBe('churn@v1.0.0,churn@v1.1.0');
    const lines = (await logLines()).filter((l) => l.id === 'split-request' && l.role !== 'shadow');
    const canaryLine = lines.find((l) => l.role === 'canary');
    expect(canaryLine?.inputs.map((row) => row.customerID)).toEqual(ids.filter((_, i) => expectCanary[i]));
    expect(lines.find((l) => l.role === 'main')?.inputs.map((row) => row.customerID)).toEqual(ids.filter((_, i) => !expectCanary[i]));
    // The answer puts each row's prediction back in its place.
    const predictions = (JSON.parse(r.body) as { predictions: unknown[] }).predictions;
    const canaryPredictions = canaryLine?.outputs.predictions ?? [];
    expect(predictions.filter((_, i) => expectCanary[i])).toEqual(canaryPredictions);
  });

  it('answers v2 with the canary version and role in its parameters, and keeps the v2 shape', async () => {
    const canaryId = Array.from({ length: 100 }, (_, i) => `v2-${i}`).find((id) => toCanary(0.1 * 2 ** 32, id)) ?? '';
    const row: Record<string, unknown> = { ...sample, customerID: canaryId };
    const inputs = Object.keys(row).map((name) => ({ name, shape: [1], datatype: typeof row[name] === 'number' ? 'FP64' : 'BYTES', data: [row[name]] }));
    const r = await server.inject({ method: 'POST', url: '/prod/v2/models/churn/infer', body: { inputs } });
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ model_name: 'churn', model_version: 'v1.1.0', parameters: { bramble_role: 'canary', bramble_model: 'churn@v1.1.0' } });
    expect(r.headers['x-bramble-role']).toBe('canary');
  });

  it('takes a reweight from a new tag without loading the model again, and only moves ids from main to canary', async () => {
    const before = server.host.model('prod-canary');
    const ids = Array.from({ length: 400 }, (_, i) => `rw-${i}`);
    const at10 = await Promise.all(ids.map(async (id) => (await ask([{ ...sample, customerID: id }])).headers['x-bramble-role']));
    await registry.assign('churn', 'v1.1.0', 'prod', ENVS, { role: 'canary', canary: { weight: 0.5, sticky: 'id' } });
    await sync();
    expect(server.host.model('prod-canary')).toBe(before);
    expect((await status()).environments.prod.roles?.canary).toMatchObject({ weight: 0.5, desired: { canary: { weight: 0.5 } } });
    const at50 = await Promise.all(ids.map(async (id) => (await ask([{ ...sample, customerID: id }])).headers['x-bramble-role']));
    ids.forEach((_, i) => {
      if (at10[i] === 'canary') expect(at50[i]).toBe('canary');
    });
    const share = at50.filter((r) => r === 'canary').length / ids.length;
    expect(share).toBeGreaterThan(0.4);
    expect(share).toBeLessThan(0.6);
    expect(JSON.parse(readFileSync(join(root, 'models', 'prod-canary', 'current.meta.json'), 'utf8'))).toMatchObject({ version: 'v1.1.0', canary: { weight: 0.5, sticky: 'id' } });
  }, 60_000);

  it('follows a client header when ml.yaml says sticky: header:X-Client-Id', async () => {
    await registry.assign('churn', 'v1.1.0', 'prod', ENVS, { role: 'canary', canary: { weight: 0.5, sticky: 'header:X-Client-Id' } });
    await sync();
    for (let c = 0; c < 20; c++) {
      const client = `client-${c}`;
      const expected = toCanary(0.5 * 2 ** 32, client) ? 'canary' : 'main';
      // Different ids, one client: one version.
      for (let k = 0; k < 3; k++) expect((await ask([{ ...sample, customerID: `${c}-${k}` }], { 'X-Client-Id': client })).headers['x-bramble-role']).toBe(expected);
    }
  }, 60_000);

  it('serves its canary and shadow again after a restart, from its folders, before the first sync', async () => {
    const config = checkServeConfig(
      { listen: { host: '127.0.0.1', port: 0 }, workers: 1, models: 'models', log: { dir: 'logs-restart' }, environments: { prod: { path: '/prod' } } },
      'serve.json',
      root,
    );
    const again = await buildServer(config, { env: {}, version: 'test', warn: (m) => warnings.push(m) });
    try {
      const plan = again.host.plan('prod');
      expect(plan.main?.version).toBe('v1.0.0');
      expect(plan.canary?.model.version).toBe('v1.1.0');
      expect(plan.canary?.settings).toEqual({ weight: 0.5, sticky: 'header:X-Client-Id' });
      expect(plan.shadow?.version).toBe('v1.2.0');
      const client = Array.from({ length: 50 }, (_, i) => `c-${i}`).find((c) => toCanary(0.5 * 2 ** 32, c)) ?? '';
      const r = await again.inject({ method: 'POST', url: '/prod/invocations', headers: { 'X-Client-Id': client }, body: { dataframe_records: [sample] } });
      expect(r.headers['x-bramble-model']).toBe('churn@v1.1.0');
    } finally {
      await again.close();
    }
  });

  it('does not serve a canary whose main version is taken away, and empties its slot when its own tag is', async () => {
    await registry.unassign('churn', 'prod', ENVS);
    await sync();
    let s = (await status()).environments.prod;
    expect(s.roles?.canary?.live).toBeNull();
    expect(s.roles?.canary?.error).toMatch(/has no main version assigned; promote one to prod first/);
    // The main version is not taken down by its unassignment (the last good model keeps serving), but the roles are.
    expect((await ask([{ ...sample, customerID: 'rw-1' }])).headers['x-bramble-role']).toBe('main');
    await registry.assign('churn', 'v1.0.0', 'prod', ENVS);
    await sync();
    expect((await status()).environments.prod.roles?.canary?.live?.version).toBe('v1.1.0');
    await registry.unassign('churn', 'prod', ENVS, 'canary');
    await registry.unassign('churn', 'prod', ENVS, 'shadow');
    await sync();
    s = (await status()).environments.prod;
    expect(s.roles).toBeUndefined();
    expect(existsSync(join(root, 'models', 'prod-canary', 'retired.json'))).toBe(true);
    expect(existsSync(join(root, 'models', 'prod-canary', 'current.json'))).toBe(false);
    const r = await ask([{ ...sample, customerID: 'rw-1' }], { 'x-request-id': 'after-removal' });
    expect(r.headers['x-bramble-role']).toBe('main');
    await new Promise((resolve) => setImmediate(resolve));
    expect((await logLines()).filter((l) => l.id === 'after-removal').map((l) => l.role)).toEqual(['main']);
    expect(warnings.filter((w) => !/no model yet/.test(w))).toEqual([]);
  }, 60_000);
});
