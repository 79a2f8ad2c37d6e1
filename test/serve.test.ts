// The model server on port 0 with real models: both protocols, the malformed-request battery, tokens, metrics,
// the prediction log, and deploys under load — a hundred swaps, a corrupted artifact, a failing self-test.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync } from 'node:fs';
import { sealArtifact } from '../src/model/artifact.js';
import { runPipeline } from '../src/pipeline/run.js';
import { checkServeConfig, type ServeConfig } from '../src/serve/config.js';
import { writeCandidate } from '../src/serve/host.js';
import { startServer, type RunningServer } from '../src/serve/server.js';

const template = join(import.meta.dirname, '../templates/model-repo');

/** The template trained with a few trees and the given seed: an artifact's text. */
async function trainTemplate(seed: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-serve-model-'));
  cpSync(template, dir, { recursive: true, filter: (src) => !src.includes('.bramble') });
  const yaml = join(dir, 'ml.yaml');
  writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/trees: \d+/, 'trees: 20').replace(/^( {2}seed:) \d+$/m, `$1 ${seed}`));
  const result = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
  return readFileSync(result.artifact?.path ?? '', 'utf8');
}

type Json = Record<string, unknown>;

function configFor(root: string, extra: Json = {}): ServeConfig {
  return checkServeConfig(
    {
      listen: { host: '127.0.0.1', port: 0 },
      models: 'models',
      log: { dir: 'logs', maxBytes: 1_000_000, files: 3 },
      limits: { bodyBytes: 1_048_576, requestTimeoutMs: 1_500, headersTimeoutMs: 1_000 },
      environments: { prod: { path: '/prod' }, staging: { path: '/staging', tokenEnv: 'STAGING_TOKEN' } },
      ...extra,
    },
    'serve.json',
    root,
  );
}

async function post(url: string, body: string | Json, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; headers: Headers }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(url, { method: 'POST', body: text, headers: { 'content-type': 'application/json', ...headers } });
  const raw = await response.text();
  let json: Json;
  try {
    json = JSON.parse(raw) as Json;
  } catch {
    json = { raw };
  }
  return { status: response.status, json, headers: response.headers };
}

let modelA: string;
let modelB: string;
let samples: { rows: Json[]; scores: number[] };
let classes: string[];

beforeAll(async () => {
  modelA = await trainTemplate(1);
  modelB = await trainTemplate(2);
  const parsed = JSON.parse(modelA) as { samples: typeof samples; signature: { classes: string[] } };
  samples = parsed.samples;
  classes = parsed.signature.classes;
});

/** The recorded label of each sample row: the class with the highest recorded score. */
function expectedLabels(): string[] {
  return samples.rows.map((_, r) => (samples.scores[2 * r] >= samples.scores[2 * r + 1] ? classes[0] : classes[1]));
}

describe('bramble serve', () => {
  let root: string;
  let server: RunningServer;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'bramble-host-'));
    const config = configFor(root);
    await writeCandidate(config.models, 'prod', modelA, { name: 'churn', version: 'v1.0.0', sha256: JSON.parse(modelA).sha256 });
    await writeCandidate(config.models, 'staging', modelA, { name: 'churn', version: 'v1.0.0', sha256: JSON.parse(modelA).sha256 });
    server = await startServer(config, { env: { STAGING_TOKEN: 's3cret' }, version: 'test', warn: () => {} });
    for (const env of ['prod', 'staging']) expect((await post(`${server.url}/admin/deploy/${env}`, '')).status).toBe(200);
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers MLflow scoring in all four JSON shapes and CSV with the labels the artifact recorded', async () => {
    const rows = samples.rows;
    const columns = Object.keys(rows[0]);
    const bodies: [string, string | Json, string][] = [
      ['dataframe_records', { dataframe_records: rows }, 'application/json'],
      ['dataframe_split', { dataframe_split: { columns, data: rows.map((r) => columns.map((c) => r[c])) } }, 'application/json'],
      ['instances', { instances: rows }, 'application/json'],
      ['inputs (records)', { inputs: rows }, 'application/json'],
      ['inputs (columns)', { inputs: Object.fromEntries(columns.map((c) => [c, rows.map((r) => r[c])])) }, 'application/json'],
      ['csv', [columns.join(','), ...rows.map((r) => columns.map((c) => (r[c] === null ? '' : String(r[c]))).join(','))].join('\n') + '\n', 'text/csv'],
    ];
    for (const [name, body, type] of bodies) {
      const answer = await post(`${server.url}/prod/invocations`, body, { 'content-type': type });
      expect(answer.status, name).toBe(200);
      expect(answer.json, name).toEqual({ predictions: expectedLabels() });
      expect(answer.headers.get('x-bramble-model')).toBe('churn@v1.0.0');
      expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('speaks the Open Inference Protocol v2, with the recorded probabilities exactly', async () => {
    const live = await fetch(`${server.url}/prod/v2/health/live`);
    expect(await live.json()).toEqual({ live: true });
    const meta = (await (await fetch(`${server.url}/prod/v2/models/churn`)).json()) as Json;
    expect(meta).toMatchObject({ name: 'churn', versions: ['v1.0.0'], outputs: [{ name: 'predict' }, { name: 'predict_proba', shape: [-1, 2] }] });
    const inputs = (meta.inputs as { name: string; datatype: string }[]).map((i) => ({
      name: i.name,
      datatype: i.datatype,
      shape: [samples.rows.length],
      data: samples.rows.map((r) => r[i.name]),
    }));
    const answer = await post(`${server.url}/prod/v2/models/churn/infer`, { id: 'req-1', inputs });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ model_name: 'churn', model_version: 'v1.0.0', id: 'req-1' });
    const outputs = answer.json.outputs as { name: string; data: unknown[] }[];
    expect(outputs[0].data).toEqual(expectedLabels());
    expect(outputs[1].data).toEqual(samples.scores);
    expect((await fetch(`${server.url}/prod/v2/models/churn/ready`)).status).toBe(200);
    expect((await fetch(`${server.url}/prod/v2/models/fraud`)).status).toBe(404);
  });

  it('gives each malformed request its 4xx, names the field, and stays healthy', async () => {
    const row = samples.rows[0];
    const url = `${server.url}/prod/invocations`;
    const cases: [string, string | Json, number, string | RegExp][] = [
      ['invalid JSON', '{"dataframe_records": [', 400, /^the request body is not JSON: /],
      ['no known key', { rows: [row] }, 400, 'the request body has none of dataframe_split, dataframe_records, instances, inputs (it has rows); give exactly one'],
      ['two keys', { instances: [row], inputs: [row] }, 400, 'the request body has instances and inputs; give exactly one'],
      ['not an array', { dataframe_records: row }, 400, 'dataframe_records must be an array of records'],
      ['ragged split', { dataframe_split: { columns: ['a', 'b'], data: [[1]] } }, 400, 'dataframe_split.data[0] must be an array of 2 values, one per column'],
      ['missing column', { dataframe_records: [{ ...row, tenure: undefined }] }, 400, 'row 0: missing column "tenure"; every input must be present (null when missing)'],
      ['extra column', { dataframe_records: [{ ...row, tenur: 3 }] }, 400, /^row 0: unknown column "tenur"; did you mean "tenure"\?/],
      ['text for a number', { dataframe_records: [{ ...row, tenure: 'NaN' }] }, 400, 'row 0: tenure must be a number or null (got "NaN")'],
      ['unknown category', { dataframe_records: [{ ...row, Contract: 'Weekly' }] }, 400, 'row 0: Contract is "Weekly", not a category the model knows; one of "Month-to-month", "One year", "Two year" (or null)'],
      ['a row that is not an object', { instances: [[1, 2, 3]] }, 400, 'row 0: must be an object of column → value (got an array)'],
    ];
    for (const [name, body, status, message] of cases) {
      const answer = await post(url, body);
      expect(answer.status, name).toBe(status);
      expect(answer.json.error_code, name).toBe('BAD_REQUEST');
      if (typeof message === 'string') expect(answer.json.message, name).toBe(message);
      else expect(answer.json.message, name).toMatch(message);
    }
    // 10 MB: refused by its declared length, before it is read.
    const big = await post(url, 'x'.repeat(10 * 1024 * 1024));
    expect(big.status).toBe(413);
    expect(big.json.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
    // A stalled client: headers, half a body, then nothing. The server gives up on it after requestTimeoutMs.
    const stalled = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1', () => {
        socket.write('POST /prod/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"dataframe');
      });
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('close', () => resolve(got));
    });
    expect(stalled).toMatch(/^HTTP\/1\.1 408 /);
    expect((await fetch(`${server.url}/prod/ping`)).status).toBe(200);
  });

  it('asks for the environment token where one is set', async () => {
    const body = { dataframe_records: [samples.rows[0]] };
    const without = await post(`${server.url}/staging/invocations`, body);
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toBe('Bearer realm="bramble"');
    expect((await post(`${server.url}/staging/invocations`, body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(`${server.url}/staging/invocations`, body, { authorization: 'Bearer s3cret' })).status).toBe(200);
  });

  it('logs every prediction with its id, model and latency, records feedback, and counts in /metrics', async () => {
    const answer = await post(`${server.url}/prod/invocations`, { dataframe_records: [samples.rows[1]] }, { 'x-request-id': 'order-42' });
    expect(answer.headers.get('x-request-id')).toBe('order-42');
    expect((await post(`${server.url}/prod/feedback`, { id: 'order-42', truth: 'Yes' })).status).toBe(202);
    await server.log.flush();
    const lines = readFileSync(join(root, 'logs', 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Json);
    const logged = lines.find((l) => l.id === 'order-42' && l.type === undefined);
    expect(logged).toMatchObject({ env: 'prod', model: { name: 'churn', version: 'v1.0.0', sha256: JSON.parse(modelA).sha256 }, outputs: { predictions: [expectedLabels()[1]] } });
    expect(logged?.inputs).toEqual([samples.rows[1]]);
    expect(lines.find((l) => l.type === 'feedback')).toMatchObject({ id: 'order-42', truth: 'Yes', env: 'prod' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^bramble_inference_requests_total\{env="prod",code="200"\} \d+$/m);
    expect(metrics).toMatch(/^bramble_inference_requests_total\{env="prod",code="400"\} 10$/m);
    expect(metrics).toMatch(/^bramble_inference_requests_total\{env="staging",code="401"\} 2$/m);
    expect(metrics).toContain(`bramble_model_info{env="prod",model="churn",version="v1.0.0",sha256="${JSON.parse(modelA).sha256}"} 1`);
    expect(metrics).toMatch(/^bramble_inference_request_duration_seconds_count\{env="prod",model="churn",version="v1.0.0"\} \d+$/m);
    expect(metrics).toMatch(/^bramble_predictions_total\{env="prod",model="churn",task="classification",class="(Yes|No)"\} \d+$/m);
    expect(metrics).toContain('bramble_prediction_log_faulty 0');
  });
});

/** Requests from `clients` keep-alive connections until stopped; every answer's status and model header. */
function load(url: string, body: string, clients: number): { stop: () => Promise<{ ok: number; failed: string[]; models: Set<string> }> } {
  let running = true;
  const failed: string[] = [];
  const models = new Set<string>();
  let ok = 0;
  const agentRequest = (): Promise<void> =>
    new Promise((resolve) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          if (res.statusCode === 200) {
            ok++;
            models.add(String(res.headers['x-bramble-model']));
          } else failed.push(`${res.statusCode} ${text}`);
          resolve();
        });
      });
      req.on('error', (err) => {
        failed.push(err.message);
        resolve();
      });
      req.end(body);
    });
  const loops = Array.from({ length: clients }, async () => {
    while (running) await agentRequest();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { ok, failed, models };
    },
  };
}

describe('deploys under load', () => {
  it('swaps 100 times between two versions with zero failed requests; refuses a corrupted artifact and a failing self-test', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bramble-host-'));
    const config = configFor(root, { environments: { prod: { path: '/prod' } } });
    const server = await startServer(config, { env: {}, version: 'test', warn: () => {} });
    const a = { name: 'churn', version: 'v1.0.0', sha256: JSON.parse(modelA).sha256 as string };
    const b = { name: 'churn', version: 'v1.1.0', sha256: JSON.parse(modelB).sha256 as string };
    await writeCandidate(config.models, 'prod', modelA, a);
    expect((await post(`${server.url}/admin/deploy/prod`, '')).status).toBe(200);
    const traffic = load(`${server.url}/prod/invocations`, JSON.stringify({ dataframe_records: [samples.rows[0]] }), 8);
    for (let i = 0; i < 100; i++) {
      const [text, meta] = i % 2 === 0 ? [modelB, b] : [modelA, a];
      await writeCandidate(config.models, 'prod', text, meta);
      const deployed = await post(`${server.url}/admin/deploy/prod`, '');
      expect(deployed.status).toBe(200);
      expect(deployed.json.version).toBe(meta.version);
    }
    // A corrupted artifact: one byte changed.
    const corrupted = modelB.replace('"task":"classification"', '"task":"classificatioN"');
    await writeCandidate(config.models, 'prod', corrupted, b);
    const refusedCorrupt = await post(`${server.url}/admin/deploy/prod`, '');
    expect(refusedCorrupt.status).toBe(409);
    expect(refusedCorrupt.json.error).toMatch(/sha256/);
    // A self-test that fails: a recorded score changed, and the artifact sealed again so its hash is right.
    const body = JSON.parse(modelB) as Json & { samples: { scores: number[] } };
    delete body.sha256;
    body.samples.scores[0] += 0.001;
    const { text: lying, artifact } = sealArtifact(body);
    await writeCandidate(config.models, 'prod', lying, { ...b, sha256: artifact.sha256 });
    const refusedTest = await post(`${server.url}/admin/deploy/prod`, '');
    expect(refusedTest.status).toBe(409);
    expect(refusedTest.json.error).toMatch(/^churn: self-test failed on sample row 1: score 1 is /);
    const result = await traffic.stop();
    expect(result.failed).toEqual([]);
    expect(result.ok).toBeGreaterThan(100);
    expect([...result.models].sort()).toEqual(['churn@v1.0.0', 'churn@v1.1.0']);
    // The last good model still serves; the refused one is kept aside.
    expect((await (await fetch(`${server.url}/prod/version`)).json()) as Json).toMatchObject({ version: 'v1.0.0' });
    expect(readdirSync(join(config.models, 'prod')).sort()).toEqual(['current.json', 'current.meta.json', 'previous.json', 'previous.meta.json', 'rejected.json', 'rejected.meta.json']);
    await server.close();
  });
});

describe('an unwritable prediction log', () => {
  it('does not stop answers, and shows in /metrics', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bramble-host-'));
    writeFileSync(join(root, 'not-a-folder'), 'x');
    const config = configFor(root, { environments: { prod: { path: '/prod' } }, log: { dir: 'not-a-folder/logs' } });
    await writeCandidate(config.models, 'prod', modelA, { name: 'churn', version: 'v1.0.0', sha256: JSON.parse(modelA).sha256 });
    const warnings: string[] = [];
    const server = await startServer(config, { env: {}, version: 'test', warn: (m) => warnings.push(m) });
    expect((await post(`${server.url}/admin/deploy/prod`, '')).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await post(`${server.url}/prod/invocations`, { dataframe_records: [samples.rows[0]] })).status).toBe(200);
    await server.log.flush();
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('bramble_prediction_log_faulty 1');
    expect(metrics).toMatch(/^bramble_prediction_log_dropped [1-9]\d*$/m);
    expect(warnings.some((w) => w.startsWith('prediction log: ') && w.includes('ENOTDIR'))).toBe(true);
    await server.close();
  });
});

describe('environments by port', () => {
  it('serves an environment on a port of its own, every path reaching it, beside the prefixed ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bramble-host-'));
    const config = configFor(root, { environments: { prod: { path: '/prod' }, dev: { port: 0 } } });
    for (const env of ['prod', 'dev']) await writeCandidate(config.models, env, env === 'prod' ? modelA : modelB, { name: 'churn', version: env === 'prod' ? 'v1.0.0' : 'v1.1.0', sha256: JSON.parse(env === 'prod' ? modelA : modelB).sha256 });
    const server = await startServer(config, { env: {}, version: 'test', warn: () => {} });
    for (const env of ['prod', 'dev']) expect((await post(`${server.url}/admin/deploy/${env}`, '')).status).toBe(200);
    expect(Object.keys(server.envUrls)).toEqual(['dev']);
    const dev = await post(`${server.envUrls.dev}/invocations`, { dataframe_records: [samples.rows[0]] });
    expect(dev.headers.get('x-bramble-model')).toBe('churn@v1.1.0');
    const prod = await post(`${server.url}/prod/invocations`, { dataframe_records: [samples.rows[0]] });
    expect(prod.headers.get('x-bramble-model')).toBe('churn@v1.0.0');
    // Without a prefix or a default, the main port says where the environments are.
    const lost = await post(`${server.url}/invocations`, { dataframe_records: [samples.rows[0]] });
    expect(lost.status).toBe(404);
    expect(lost.json.error).toBe('no route /invocations; environments are served under /prod');
    await server.close();
  });
});
