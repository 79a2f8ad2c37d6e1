// serve.json `workers: 2` (node:cluster), as a process: both workers answer with the batch path's numbers to the
// bit; a deploy under load answers only once every worker serves the new model, and no request fails meanwhile;
// /status lists each worker and /metrics sums their counters; a worker killed with SIGKILL is replaced and no
// request fails; the primary alone writes the prediction log, one whole line per prediction, in today's file.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from '../src/registry/registry.js';
import { checkServeConfig } from '../src/serve/config.js';
import { startServe } from './helpers/cli.js';
import { send } from './helpers/send.js';
import { commitAll, editMlYaml, makeModelRepo, train } from './helpers/model-repo.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Status {
  workers: { pid: number; listening: boolean; serves: Record<string, string | null>; rssMB: number; predictions: number }[];
}

async function status(url: string): Promise<Status> {
  return JSON.parse((await send(`${url}/status`, 'GET')).body) as Status;
}

describe('serve.json workers', () => {
  it('defaults to the core count and refuses 0', () => {
    const base = { models: 'm', environments: { prod: { path: '/prod' } } };
    expect(checkServeConfig(base, 'serve.json', '/').workers).toBe(availableParallelism());
    expect(checkServeConfig({ ...base, workers: 1 }, 'serve.json', '/').workers).toBe(1);
    expect(() => checkServeConfig({ ...base, workers: 0 }, 'serve.json', '/')).toThrow(/workers: must be >= 1/);
  });
});

describe('bramble serve with workers: 2', () => {
  it('serves bit-identical answers from both workers, swaps all of them under load, replaces a killed worker, and logs every prediction once', async () => {
    const repo = makeModelRepo({ trees: 10 });
    const first = await train(repo);
    editMlYaml(repo, (t) => t.replace(/trees: \d+/, 'trees: 12'));
    const second = await train(repo);
    const a = JSON.parse(first) as { sha256: string; samples: { rows: Record<string, unknown>[]; scores: number[] } };
    const b = JSON.parse(second) as { sha256: string };
    expect(a.sha256).not.toBe(b.sha256);

    const host = mkdtempSync(join(tmpdir(), 'bramble-cluster-'));
    mkdirSync(join(host, 'models', 'prod'), { recursive: true });
    writeFileSync(join(host, 'models', 'prod', 'current.json'), first);
    const config = join(host, 'serve.json');
    writeFileSync(config, JSON.stringify({ listen: { port: 0 }, workers: 2, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } } }));
    const served = await startServe(config);
    children.push(served.child);
    const { url } = served;
    expect(served.stderr()).toContain('(2 workers)');

    const before = await status(url);
    expect(before.workers).toHaveLength(2);
    expect(new Set(before.workers.map((w) => w.pid)).size).toBe(2);
    for (const w of before.workers) {
      expect(w.serves.prod).toBe(a.sha256.slice(0, 12));
      expect(w.rssMB).toBeGreaterThan(0);
    }

    // Bit-identical: every sample row's probabilities as the artifact recorded them from the batch path, from
    // whichever worker answers (ten connections, handed round-robin).
    const body = JSON.stringify({ dataframe_records: a.samples.rows });
    let predictions = 0;
    for (let i = 0; i < 10; i++) {
      const v2 = JSON.stringify({
        inputs: Object.keys(a.samples.rows[0]).map((name) => ({ name, shape: [a.samples.rows.length], datatype: typeof a.samples.rows[0][name] === 'number' ? 'FP64' : 'BYTES', data: a.samples.rows.map((r) => r[name]) })),
      });
      const answer = await send(`${url}/prod/v2/models/churn/infer`, 'POST', v2);
      expect(answer.status, answer.body).toBe(200);
      predictions++;
      const proba = (JSON.parse(answer.body) as { outputs: { name: string; data: number[] }[] }).outputs.find((o) => o.name === 'predict_proba');
      expect(proba?.data.every((p, k) => Object.is(p, a.samples.scores[k]))).toBe(true);
    }

    // A deploy under load: four clients keep asking; the deploy answers once both workers serve the new model.
    let load = true;
    const failures: string[] = [];
    const client = async (): Promise<void> => {
      while (load) {
        const r = await send(`${url}/prod/invocations`, 'POST', body);
        predictions++;
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
      }
    };
    const clients = [client(), client(), client(), client()];
    await new Promise((resolve) => setTimeout(resolve, 300));
    writeFileSync(join(host, 'models', 'prod', 'candidate.json'), second);
    const deploy = await send(`${url}/admin/deploy/prod`, 'POST');
    expect(deploy.status, deploy.body).toBe(200);
    const right = await Promise.all(Array.from({ length: 8 }, () => send(`${url}/prod/invocations`, 'POST', body)));
    predictions += right.length;
    expect(right.map((r) => r.model)).toEqual(right.map(() => `churn@${b.sha256.slice(0, 12)}`));
    await new Promise((resolve) => setTimeout(resolve, 200));
    load = false;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect((await status(url)).workers.map((w) => w.serves.prod)).toEqual([b.sha256.slice(0, 12), b.sha256.slice(0, 12)]);

    // A worker killed outright: the other answers at once, and a new one takes its place with the current model.
    // Its records gather for 50 ms before they go to the primary (src/serve/worker.ts); waiting past that first means
    // the log below is owed every answer, so a loss on the way shows up instead of hiding in the last batch.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const victim = (await status(url)).workers[0].pid;
    process.kill(victim, 'SIGKILL');
    for (let i = 0; i < 20; i++) {
      const r = await send(`${url}/prod/invocations`, 'POST', body);
      predictions++;
      expect(r.status, r.body).toBe(200);
    }
    let after = await status(url);
    for (let wait = 0; wait < 50 && (after.workers.length < 2 || after.workers.some((w) => !w.listening)); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await status(url);
    }
    expect(after.workers).toHaveLength(2);
    expect(after.workers.map((w) => w.pid)).not.toContain(victim);
    expect(after.workers.map((w) => w.serves.prod)).toEqual([b.sha256.slice(0, 12), b.sha256.slice(0, 12)]);
    expect(served.stderr()).toContain(`worker ${victim} died (SIGKILL)`);

    // /metrics: the workers' counters summed (the killed worker's count went with it, so at least the rest).
    const metrics = (await send(`${url}/metrics`, 'GET')).body;
    const counted = Number(/^bramble_inference_requests_total\{env="prod",code="200"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(counted).toBeGreaterThan(20);
    expect(counted).toBeLessThanOrEqual(predictions);
    expect(metrics.match(/^# TYPE bramble_inference_requests_total counter$/gm)).toHaveLength(1);

    // The log: written by the primary only, in today's file, a whole JSON line per prediction answered.
    served.child.kill('SIGTERM');
    await new Promise((resolve) => served.child.once('exit', resolve));
    expect(readdirSync(join(host, 'logs'))).toEqual(['predictions.jsonl']);
    const lines = readFileSync(join(host, 'logs', 'predictions.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    // Every answer was logged: the victim had sent its records before it was killed, and its successor and the
    // other worker sent theirs before the primary stopped.
    expect(lines.length).toBe(predictions);
    for (const line of lines) expect((JSON.parse(line) as { env: string }).env).toBe('prod');
    expect(existsSync(join(host, 'models', 'prod', 'previous.json'))).toBe(true);
  }, 120_000);
});

describe('bramble serve with workers: 2 following git', () => {
  it('a sync with git that moves an assignment switches every worker before it answers', async () => {
    const repo = makeModelRepo({ trees: 6 });
    const registry = await Registry.open({ dir: repo, remote: null, env: {} });
    await registry.register(await train(repo));
    await registry.assign('churn', 'v1.0.0', 'prod', ['staging', 'prod']);

    const host = mkdtempSync(join(tmpdir(), 'bramble-cluster-git-'));
    const config = join(host, 'serve.json');
    writeFileSync(
      config,
      JSON.stringify({ listen: { port: 0 }, workers: 2, models: 'models', log: { dir: 'logs' }, git: { url: repo, intervalSeconds: 3600 }, environments: { prod: { path: '/prod', model: 'churn' } } }),
    );
    const served = await startServe(config);
    children.push(served.child);
    const { url } = served;
    expect((await status(served.url)).workers.map((w) => w.serves.prod)).toEqual(['v1.0.0', 'v1.0.0']);

    editMlYaml(repo, (t) => t.replace(/trees: \d+/, 'trees: 8'));
    commitAll(repo, 'more trees');
    const again = await Registry.open({ dir: repo, remote: null, env: {} });
    await again.register(await train(repo));
    await again.assign('churn', 'v1.1.0', 'prod', ['staging', 'prod']);

    const sync = await send(`${url}/admin/sync`, 'POST');
    expect(sync.status, sync.body).toBe(200);
    expect((await status(url)).workers.map((w) => w.serves.prod)).toEqual(['v1.1.0', 'v1.1.0']);
    const body = JSON.stringify({ dataframe_records: [(JSON.parse(await train(repo)) as { samples: { rows: unknown[] } }).samples.rows[0]] });
    const answers = await Promise.all(Array.from({ length: 8 }, () => send(`${url}/prod/invocations`, 'POST', body)));
    expect(answers.map((a) => `${a.status} ${a.model}`)).toEqual(answers.map(() => '200 churn@v1.1.0'));
    served.child.kill('SIGTERM');
    await new Promise((resolve) => served.child.once('exit', resolve));
  }, 120_000);
});
