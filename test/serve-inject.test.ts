// The server without a socket: buildServer answers injected requests (as fastify's inject), so that routes, auth,
// body parsing and the error → status mapping are tested directly; serve.test.ts and serve-edges.test.ts test the
// same server over a real port.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../src/pipeline/run.js';
import { checkServeConfig, type ServeConfig } from '../src/serve/config.js';
import { writeCandidate } from '../src/serve/host.js';
import { buildServer, type BuiltServer, type InjectRequest } from '../src/serve/server.js';

const scratch = mkdtempSync(join(tmpdir(), 'bramble-inject-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A small classifier: label is "yes" when a > b, trained once for every test here. */
async function trainModel(): Promise<string> {
  const dir = join(scratch, 'repo');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const lines = ['a,b,label'];
  for (let i = 0; i < 200; i++) lines.push(`${i % 17},${(i * 7) % 13},${i % 17 > (i * 7) % 13 ? 'yes' : 'no'}`);
  writeFileSync(join(dir, 'data/train.csv'), lines.join('\n') + '\n');
  writeFileSync(
    join(dir, 'ml.yaml'),
    ['name: ab', 'task: classification', 'data:', '  train: data/train.csv', '  target: label', 'model:', '  type: random-forest', '  params: { trees: 5 }', 'split: { test: 0.2, seed: 1 }'].join('\n') + '\n',
  );
  const result = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
  return readFileSync(result.artifact?.path ?? '', 'utf8');
}

/** prod by path, secure by path with a token, side on a port of its own; bodies up to 2,000 bytes. */
function hostConfig(root: string): ServeConfig {
  return checkServeConfig(
    {
      listen: { host: '127.0.0.1', port: 0 },
      models: 'models',
      log: { dir: 'logs', maxBytes: 1_000_000, files: 3 },
      limits: { bodyBytes: 2_000 },
      environments: { prod: { path: '/prod' }, secure: { path: '/secure', tokenEnv: 'SECURE_TOKEN' }, side: { port: 0 } },
    },
    'serve.json',
    root,
  );
}

const json = (body: string): unknown => JSON.parse(body);

describe('buildServer, by injection', () => {
  let text: string;
  let config: ServeConfig;
  let server: BuiltServer;
  const warnings: string[] = [];

  beforeAll(async () => {
    text = await trainModel();
    config = hostConfig(join(scratch, 'host'));
    server = await buildServer(config, { env: { SECURE_TOKEN: 's3cret' }, version: 'test', warn: (m) => warnings.push(m) });
  });
  afterAll(async () => server.close());

  const deploy = async (env: string): Promise<void> => {
    await writeCandidate(config.models, env, text, { name: 'ab', version: 'v1.0.0', sha256: (JSON.parse(text) as { sha256: string }).sha256 });
    const answer = await server.inject({ method: 'POST', url: `/admin/deploy/${env}` });
    expect({ env, status: answer.status }).toEqual({ env, status: 200 });
  };

  it('answers before any model: not ready, and 503 for predictions in each protocol', async () => {
    expect(await server.inject({ url: '/ping' })).toMatchObject({ status: 503, body: JSON.stringify({ status: 'not ready', missing: ['prod', 'secure', 'side'] }) });
    const mlflow = await server.inject({ method: 'POST', url: '/prod/invocations', body: { dataframe_records: [] } });
    expect({ status: mlflow.status, body: json(mlflow.body) }).toEqual({
      status: 503,
      body: { error_code: 'INTERNAL_ERROR', message: 'prod has no model yet; deploy one with bramble deploy NAME@VERSION --env prod' },
    });
    expect(await server.inject({ url: '/prod/v2/models/ab' })).toMatchObject({ status: 503, body: JSON.stringify({ error: 'prod has no model yet; deploy one with bramble deploy NAME@VERSION --env prod' }) });
  });

  it('deploys through the admin route from this machine only', async () => {
    expect(await server.inject({ method: 'POST', url: '/admin/deploy/prod', remoteAddress: '192.0.2.7' })).toMatchObject({
      status: 401,
      body: JSON.stringify({ error: 'admin calls are accepted from this machine only (or set adminTokenEnv)' }),
    });
    const unknown = await server.inject({ method: 'POST', url: '/admin/deploy/nope' });
    expect({ status: unknown.status, body: json(unknown.body) }).toEqual({ status: 409, body: { error: 'unknown environment "nope"; this server hosts prod, secure, side' } });
    await deploy('prod');
    await deploy('secure');
    await deploy('side');
    expect(await server.inject({ url: '/ping' })).toMatchObject({ status: 200 });
  });

  it('predicts over MLflow (JSON and CSV) and v2, echoing the request id', async () => {
    const records = await server.inject({ method: 'POST', url: '/prod/invocations', headers: { 'X-Request-Id': 'order-1' }, body: { dataframe_records: [{ a: 9, b: 1 }, { a: 0, b: 12 }] } });
    expect(records).toMatchObject({ status: 200, headers: { 'x-request-id': 'order-1', 'x-bramble-model': 'ab@v1.0.0', 'content-type': 'application/json' } });
    expect(json(records.body)).toEqual({ predictions: ['yes', 'no'] });
    const csv = await server.inject({ method: 'POST', url: '/prod/invocations', headers: { 'content-type': 'text/csv' }, body: 'a,b\n9,1\n0,12\n' });
    expect(json(csv.body)).toEqual({ predictions: ['yes', 'no'] });
    const v2 = await server.inject({
      method: 'POST',
      url: '/prod/v2/models/ab/infer',
      body: { id: 'mine', inputs: [{ name: 'a', shape: [1], datatype: 'INT64', data: [9] }, { name: 'b', shape: [1], datatype: 'INT64', data: [1] }] },
    });
    expect(json(v2.body)).toMatchObject({ model_name: 'ab', model_version: 'v1.0.0', id: 'mine', outputs: [{ name: 'predict', data: ['yes'] }, { name: 'predict_proba', shape: [1, 2] }] });
  });

  it('logs the records as the client sent them when they are the body alone, and as parsed otherwise', async () => {
    const cases: [string, string, string][] = [
      // The records' text itself, spaces and 1.0 included: the log does not serialise them again.
      ['as-sent', '{ "dataframe_records" :\n [ {"a": 9, "b": 1.0} ]\n}', '"inputs":[ {"a": 9, "b": 1.0} ],'],
      ['with-params', '{"instances": [ {"a": 0, "b": 12} ], "params": {}}', '"inputs":[{"a":0,"b":12}],'],
      ['split', '{"dataframe_split": {"columns": ["a", "b"], "data": [[9, 1]]}}', '"inputs":[{"a":9,"b":1}],'],
      // The key twice: JSON.parse keeps the last, so the text from the first [ to the last ] is not the records.
      ['twice', '{"instances": [{"a": 0, "b": 12}], "instances": [{"a": 9, "b": 1}]}', '"inputs":[{"a":9,"b":1}],'],
    ];
    for (const [id, body] of cases) {
      const answer = await server.inject({ method: 'POST', url: '/prod/invocations', headers: { 'x-request-id': id, 'content-type': 'application/json' }, body });
      expect({ id, status: answer.status }).toEqual({ id, status: 200 });
    }
    await server.log.flush();
    const lines = readFileSync(join(config.log.dir, 'predictions.jsonl'), 'utf8').split('\n');
    for (const [id, , inputs] of cases) {
      const line = lines.find((l) => l.startsWith(`{"id":"${id}"`)) ?? '';
      expect({ id, inputs: line.includes(inputs) }).toEqual({ id, inputs: true });
      expect((JSON.parse(line) as { inputs: unknown }).inputs).toEqual([id === 'with-params' ? { a: 0, b: 12 } : { a: 9, b: 1 }]);
    }
  });

  it('routes an environment on its own port without the prefix', async () => {
    const answer = await server.inject({ method: 'POST', url: '/invocations', env: 'side', body: { instances: [{ a: 9, b: 1 }] } });
    expect({ status: answer.status, body: json(answer.body) }).toEqual({ status: 200, body: { predictions: ['yes'] } });
  });

  const big = { dataframe_records: Array.from({ length: 200 }, () => ({ a: 1, b: 2 })) };
  const bearer = { authorization: 'Bearer s3cret' };
  const cases: Array<[string, InjectRequest, number, Record<string, string>, unknown]> = [
    ['GET on /invocations', { url: '/prod/invocations' }, 405, { allow: 'POST' }, { error_code: 'BAD_REQUEST', message: 'use POST /invocations' }],
    ['a body that is not JSON', { method: 'POST', url: '/prod/invocations', headers: { 'content-type': 'application/json' }, body: '{' }, 400, {}, { error_code: 'BAD_REQUEST' }],
    [
      'a Content-Type not taken',
      { method: 'POST', url: '/prod/invocations', headers: { 'content-type': 'text/xml' }, body: '<a/>' },
      415,
      {},
      { error_code: 'BAD_REQUEST', message: 'Content-Type text/xml is not accepted; send application/json or text/csv' },
    ],
    ['a body over limits.bodyBytes', { method: 'POST', url: '/prod/invocations', body: big }, 413, { connection: 'close' }, { error_code: 'REQUEST_LIMIT_EXCEEDED' }],
    ['an unknown column', { method: 'POST', url: '/prod/invocations', body: { dataframe_records: [{ a: 1, bb: 2 }] } }, 400, {}, { message: expect.stringContaining('row 0: missing column "b"') }],
    ['no token', { method: 'POST', url: '/secure/invocations', body: { instances: [] } }, 401, { 'www-authenticate': 'Bearer realm="bramble"' }, { error_code: 'BAD_REQUEST' }],
    ['a wrong token', { method: 'POST', url: '/secure/invocations', headers: { authorization: 'Bearer nope' }, body: { instances: [] } }, 401, {}, { message: 'secure needs a bearer token (Authorization: Bearer …)' }],
    ['the right token', { method: 'POST', url: '/secure/invocations', headers: bearer, body: { instances: [{ a: 9, b: 1 }] } }, 200, {}, { predictions: ['yes'] }],
    ['a route that is not there', { url: '/prod/nothing' }, 404, {}, { error: 'no route GET /nothing for prod; try POST /invocations, /v2/models/ab/infer, /ping' }],
    ['another model by name', { url: '/prod/v2/models/other' }, 404, {}, { error: 'prod serves ab v1.0.0, not other' }],
    ['a malformed percent-escape', { url: '/prod/v2/models/%E0%A4%A/ready' }, 400, {}, { error: expect.stringContaining('malformed percent-escape') }],
    ['a path outside every environment', { url: '/elsewhere' }, 404, {}, { error: 'no route /elsewhere; environments are served under /prod, /secure' }],
    ['feedback that is not JSON', { method: 'POST', url: '/prod/feedback', body: 'truth?' }, 400, {}, { error: expect.stringMatching(/^the request body is not JSON: /) }],
    ['feedback of null', { method: 'POST', url: '/prod/feedback', body: 'null' }, 400, {}, { error: 'feedback needs "id": the x-request-id of the prediction' }],
    ['feedback for a prediction', { method: 'POST', url: '/prod/feedback', body: { id: 'order-1', truth: 'yes' } }, 202, {}, { id: 'order-1', recorded: true }],
    ['feedback without the token', { method: 'POST', url: '/secure/feedback', body: { id: 'order-1', truth: 'yes' } }, 401, {}, { error: 'secure needs a bearer token' }],
    ['sync on a host without git', { method: 'POST', url: '/admin/sync' }, 404, {}, { error: expect.stringContaining('no git block') }],
  ];
  it.each(cases)('%s: %j → %i', async (_what, request, status, headers, body) => {
    const answer = await server.inject(request);
    expect({ status: answer.status, body: json(answer.body) }).toMatchObject({ status, body });
    expect(answer.headers).toMatchObject(headers);
  });

  it('counts what each environment answered in /metrics, and warned only of the models it started without', async () => {
    const metrics = await server.inject({ url: '/metrics' });
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).toMatch(/^bramble_inference_requests_total\{env="prod",code="405"\} 1$/m);
    expect(metrics.body).toMatch(/^bramble_inference_requests_total\{env="secure",code="401"\} 3$/m);
    expect(metrics.body).toMatch(/^bramble_deploys_total\{env="unknown",result="refused"\} 1$/m);
    expect(warnings).toEqual(['prod', 'secure', 'side'].map((env) => `${env}: no model yet; deploy one with bramble deploy NAME@VERSION --env ${env}`));
  });
});

describe('buildServer refuses to start', () => {
  it('when a tokenEnv is not set, before it loads or logs anything', async () => {
    const root = join(scratch, 'untokened');
    const config = hostConfig(root);
    await expect(buildServer(config, { env: {}, version: 'test', warn: () => {} })).rejects.toMatchObject({
      code: 'E_SERVE_CONFIG',
      message: 'environments.secure.tokenEnv names SECURE_TOKEN, which is not set; set it (e.g. in /etc/bramble/serve.env) or remove tokenEnv to serve secure without a token',
    });
    expect(existsSync(join(root, 'models'))).toBe(false);
  });
});

describe('serve.json', () => {
  it.each([
    [{ listen: { http: 'nginx' } }, 'serve.json listen.http: is "nginx"; give one of "bramble", "node"; see schemas/serve.schema.json'],
    [{ listen: { port: 70000 } }, 'serve.json listen.port: must be <= 65535 (got 70000); see schemas/serve.schema.json'],
  ])('names the field, the value and what would do: %j', (extra, message) => {
    const config = { models: 'models', environments: { prod: { path: '/prod' } }, ...extra };
    expect(() => checkServeConfig(config, 'serve.json', '/')).toThrow(message);
  });

  it('answers through Bramble\'s own HTTP/1.1 server unless listen.http says node', () => {
    const base = { models: 'models', environments: { prod: { path: '/prod' } } };
    expect(checkServeConfig(base, 'serve.json', '/').listen).toEqual({ host: '127.0.0.1', port: 8080, http: 'bramble' });
    expect(checkServeConfig({ ...base, listen: { http: 'node' } }, 'serve.json', '/').listen.http).toBe('node');
  });
});
