// The server's edges (issue 11.6): a malformed path is the client's 400, feedback is never "recorded" when it is
// not, regression answers are counted, and CSV output cannot smuggle a spreadsheet formula.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defuse } from '../src/usecases/predict.js';
import { runPipeline } from '../src/pipeline/run.js';
import { checkServeConfig, type ServeConfig } from '../src/serve/config.js';
import { writeCandidate } from '../src/serve/host.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { bramble } from './helpers/cli.js';

const options = { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } };

/** A small regression model: y = 3x + noise, with an id column whose values look like formulas. */
async function regressionModel(): Promise<{ dir: string; text: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-edges-'));
  mkdirSync(join(dir, 'data'));
  const lines = ['id,x,y'];
  for (let i = 0; i < 300; i++) {
    const id = i % 5 === 0 ? `"=HYPERLINK(""http://evil"")${i}"` : `${['', '+1+2', '@SUM(A1)', '-cmd', 'plain'][i % 5]}${i}`;
    lines.push(`${id},${i % 50},${3 * (i % 50) + (i % 7)}`);
  }
  writeFileSync(join(dir, 'data/train.csv'), lines.join('\n') + '\n');
  writeFileSync(
    join(dir, 'ml.yaml'),
    ['name: prices', 'task: regression', 'data:', '  train: data/train.csv', '  target: y', '  id: id', 'model:', '  type: random-forest', '  params: { trees: 5 }', 'split: { test: 0.2, seed: 1 }'].join('\n') + '\n',
  );
  const result = await runPipeline(dir, options);
  return { dir, text: readFileSync(result.artifact?.path ?? '', 'utf8') };
}

/** One environment, prod, on port 0, with its model folder and log under `root`. */
function hostConfig(root: string): ServeConfig {
  return checkServeConfig(
    {
      listen: { host: '127.0.0.1', port: 0 },
      models: 'models',
      log: { dir: 'logs', maxBytes: 1_000_000, files: 3 },
      limits: { bodyBytes: 1_048_576, requestTimeoutMs: 1_500, headersTimeoutMs: 1_000 },
      environments: { prod: { path: '/prod' } },
    },
    'serve.json',
    root,
  );
}

describe('server edges', () => {
  let root: string;
  let server: RunningServer;
  let model: { dir: string; text: string };

  beforeAll(async () => {
    model = await regressionModel();
    root = mkdtempSync(join(tmpdir(), 'bramble-edges-host-'));
    const config = hostConfig(root);
    await writeCandidate(config.models, 'prod', model.text, { name: 'prices', version: 'v1.0.0', sha256: JSON.parse(model.text).sha256 });
    server = await startServer(config, { env: {}, version: 'test', warn: () => {} });
    expect((await fetch(`${server.url}/admin/deploy/prod`, { method: 'POST' })).status).toBe(200);
  });
  afterAll(async () => server.close());

  it('a malformed percent-escape in the path is a 400, not a 500', async () => {
    for (const path of ['/prod/v2/models/%E0%A4%A/infer', '/prod/v2/models/prices/versions/%ZZ/infer', '/admin/deploy/%E0%A4%A']) {
      const response = await fetch(`${server.url}${path}`, { method: 'POST', body: '{}' });
      expect(response.status, path).toBe(400);
      expect(await response.text(), path).toContain('malformed percent-escape');
    }
  });

  it('regression answers are counted, with the task and no class', async () => {
    const rows = [{ id: 'a', x: 3 }, { id: 'b', x: 7 }, { id: 'c', x: 9 }];
    const answer = await fetch(`${server.url}/prod/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_records: rows }) });
    expect(answer.status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^bramble_predictions_total\{env="prod",model="prices",task="regression"\} 3$/m);
  });

  it.each([
    [{ id: 'r-1', truth: { label: 'x' } }, 400, 'feedback "truth" must be one label or number, not a list or an object'],
    [{ id: 'r-1', truth: [1, 2] }, 400, 'feedback "truth" must be one label or number'],
    [{ id: 'r-1', truth: 'x'.repeat(300) }, 413, 'feedback "truth" is 300 characters; a label is at most 256'],
  ])('feedback over the limits is refused, never 202: %j', async (body, status, message) => {
    const response = await fetch(`${server.url}/prod/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toContain(message);
  });

  it('bramble predict defuses formula-looking text cells unless --raw; numbers stay numbers', () => {
    const file = join(model.dir, '.bramble/model.json');
    const data = join(model.dir, 'data/train.csv');
    const safe = bramble(['predict', '--model', file, data]);
    expect(safe.status).toBe(0);
    const lines = safe.stdout.trim().split('\n');
    expect(lines[0]).toBe('id,prediction');
    expect(lines[1]).toMatch(/^"'=HYPERLINK\(""http:\/\/evil""\)0",\d+(\.\d+)?$/);
    expect(lines[2]).toMatch(/^'\+1\+21,/);
    expect(lines[3]).toMatch(/^'@SUM\(A1\)2,/);
    expect(lines[4]).toMatch(/^'-cmd3,/);
    expect(lines[5]).toMatch(/^plain4,/);
    const raw = bramble(['predict', '--raw', '--model', file, data]);
    expect(raw.stdout.split('\n')[2]).toMatch(/^\+1\+21,/);
  });

  it.each([
    ['=1+1', "'=1+1"],
    ['-3.5', '-3.5'],
    ['+7', '+7'],
    ['-', "'-"],
    ['@x', "'@x"],
    ['\tx', "'\tx"],
    ['ok', 'ok'],
  ])('defuse(%j) is %j', (text, expected) => {
    expect(defuse(text)).toBe(expected);
  });
});

describe('feedback when the log cannot keep it', () => {
  it('answers 503 with Retry-After, not 202', async () => {
    const model = await regressionModel();
    const root = mkdtempSync(join(tmpdir(), 'bramble-edges-full-'));
    // The log folder is a file: every write fails, so the log is faulty.
    writeFileSync(join(root, 'logs'), 'not a folder');
    const config = hostConfig(root);
    await writeCandidate(config.models, 'prod', model.text, { name: 'prices', version: 'v1.0.0', sha256: JSON.parse(model.text).sha256 });
    const server = await startServer(config, { env: {}, version: 'test', warn: () => {} });
    try {
      await fetch(`${server.url}/admin/deploy/prod`, { method: 'POST' });
      // A prediction is logged; its write fails and marks the log faulty.
      await fetch(`${server.url}/prod/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_records: [{ id: 'a', x: 1 }] }) });
      let status = 0;
      let retry: string | null = null;
      for (let attempt = 0; attempt < 50 && status !== 503; attempt++) {
        await new Promise((r) => setTimeout(r, 40));
        const response = await fetch(`${server.url}/prod/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'r-1', truth: 3 }) });
        status = response.status;
        retry = response.headers.get('retry-after');
      }
      expect(status).toBe(503);
      expect(retry).toBe('5');
    } finally {
      await server.close();
    }
  }, 60_000);
});
