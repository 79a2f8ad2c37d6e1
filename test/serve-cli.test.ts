// bramble serve and bramble deploy as processes: deploys from the registry, kill -9, and a restart that serves the
// last good model of every environment.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from '../src/registry/registry.js';
import { commitAll, editMlYaml, makeModelRepo, train } from './helpers/model-repo.js';
import { bramble, startServe, type Served } from './helpers/cli.js';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `bramble serve`, to be killed after the tests. */
async function serve(config: string): Promise<Served> {
  const served = await startServe(config);
  children.push(served.child);
  return served;
}

async function servedVersion(url: string): Promise<unknown> {
  const body = (await (await fetch(`${url}/prod/version`)).json()) as { version: unknown };
  return body.version;
}

describe('bramble deploy and a server that is killed', () => {
  it('deploys registered versions, and after kill -9 and a restart serves the last good model', async () => {
    const repo = makeModelRepo({ trees: 10 });
    const registry = await Registry.open({ dir: repo, remote: null, env: {} });
    await registry.register(await train(repo));
    editMlYaml(repo, (t) => t.replace(/trees: \d+/, 'trees: 12'));
    commitAll(repo, 'more trees');
    await (await Registry.open({ dir: repo, remote: null, env: {} })).register(await train(repo));

    const host = mkdtempSync(join(tmpdir(), 'bramble-pi-'));
    const config = join(host, 'serve.json');
    writeFileSync(config, JSON.stringify({ listen: { port: 0 }, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' }, dev: { path: '/dev' } } }));

    // No server yet: the deploy checks the model here and leaves it for the server's start.
    const offline = bramble(['deploy', 'churn@v1.0.0', '--env', 'prod', '--config', config, '--dir', repo, '--no-remote']);
    expect(offline.stderr).toBe('');
    expect(offline.stdout).toBe('installed churn@v1.0.0 for prod (self-test passed); no server answered, so it serves it when it starts\n');
    const first = await serve(config);
    expect(await servedVersion(first.url)).toBe('v1.0.0');

    const online = bramble(['deploy', 'churn@v1.1.0', '--env', 'prod', '--config', config, '--server', first.url, '--dir', repo, '--no-remote']);
    expect(online.stdout).toMatch(/^deployed churn@v1\.1\.0 to prod \(sha256 [0-9a-f]{12}; it served v1\.0\.0\) in \d+\.\d\d s\n$/);
    expect(await servedVersion(first.url)).toBe('v1.1.0');

    const unknown = bramble(['deploy', 'churn@v1.1.0', '--env', 'qa', '--config', config, '--server', first.url, '--dir', repo, '--no-remote']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe('bramble: the environment "qa" is not in ml.yaml (known: dev, staging, prod)\n');

    // A crash in the middle of the next deploy: a damaged candidate on disk, and the server killed outright.
    writeFileSync(join(host, 'models', 'prod', 'candidate.json'), '{"format":"bramble-model"');
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const second = await serve(config);
    expect(await servedVersion(second.url)).toBe('v1.1.0');
    const ping = await fetch(`${second.url}/prod/ping`);
    expect(ping.status).toBe(200);
    // dev never had a model: the server says so, and the whole-host health says which is missing.
    expect((await fetch(`${second.url}/dev/ping`)).status).toBe(503);
    expect(await (await fetch(`${second.url}/ping`)).json()).toEqual({ status: 'not ready', missing: ['dev'] });
    second.child.kill('SIGTERM');
  });
});
