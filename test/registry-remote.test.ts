// The registry against a real smart-HTTP remote (git http-backend behind node:http on 127.0.0.1): pushing and
// fetching, a remote that says no, a connection dropped mid-push, a token, and sixteen registrations at once.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT } from '../src/model/artifact.js';
import { Registry } from '../src/registry/registry.js';
import { REGISTRY } from '../src/registry/store.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { commitAll, editMlYaml, git, gitAsync, makeModelRepo, train } from './helpers/model-repo.js';

const ENVS = ['dev', 'staging', 'prod'];

let server: GitServer;
beforeAll(async () => {
  server = await startGitServer();
});
afterAll(async () => {
  await server.close();
});

/** A bare remote holding a model repository's main branch, and a clone of it. */
async function remoteWithModel(name: string, source = makeModelRepo()): Promise<{ source: string; url: string }> {
  await server.createBare(name);
  const url = server.repoUrl(name);
  git(source, 'remote', 'add', 'origin', url);
  await gitAsync(source, 'push', '-q', 'origin', 'main');
  return { source, url };
}

async function clone(url: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-clone-'));
  await gitAsync(dir, 'clone', '-q', url, '.');
  git(dir, 'config', 'user.name', 'Grace Hopper');
  git(dir, 'config', 'user.email', 'grace@example.com');
  return dir;
}

/** The remote's refs, as git's own client sees them. */
function remoteRefs(url: string): Promise<string> {
  return gitAsync(mkdtempSync(join(tmpdir(), 'bramble-ls-')), 'ls-remote', url);
}

describe('a registry with a remote', () => {
  it('pushes registrations and assignments; another clone fetches and reads them', async () => {
    const { source, url } = await remoteWithModel('shared');
    const registry = await Registry.open({ dir: source, env: {} });
    expect(registry.remote?.url).toBe(url);
    await registry.register(await train(source));
    await registry.assign('churn', 'v1.0.0', 'prod', ENVS);
    const refs = await remoteRefs(url);
    expect(refs).toMatch(/\trefs\/heads\/bramble\/registry\n/);
    expect(refs).toMatch(/\trefs\/tags\/churn@v1\.0\.0\n/);
    expect(refs).toMatch(/\trefs\/tags\/churn#prod#1\n/);
    const other = await clone(url);
    const reader = await Registry.open({ dir: other, env: {} });
    const { models } = await reader.read({ fetch: true });
    expect(models.get('churn')?.envs.get('prod')?.version).toBe('v1.0.0');
    // The clone promotes too: its tag takes the next counter, pushed from there.
    const staged = await reader.assign('churn', 'v1.0.0', 'staging', ENVS);
    expect(staged.tag).toBe('churn#staging#2');
    expect(await gitAsync(other, 'ls-remote', '--tags', 'origin')).toContain('refs/tags/churn#staging#2');
  });

  it('reports a remote that refuses the push (a pre-receive hook) with its words, and leaves the local refs as they were', async () => {
    const { source } = await remoteWithModel('guarded');
    await server.setHook('guarded', 'pre-receive', '#!/bin/sh\necho "registry changes need a review: ask #ml-platform" >&2\nexit 1\n');
    const before = git(source, 'show-ref');
    const registry = await Registry.open({ dir: source, env: {} });
    await expect(registry.register(await train(source))).rejects.toThrow(
      'the remote origin refused refs/tags/churn@v1.0.0: pre-receive hook declined (the remote says: registry changes need a review: ask #ml-platform) — nothing was changed here; fix what the remote says and run the command again',
    );
    expect(git(source, 'show-ref')).toBe(before);
    expect(git(source, 'tag', '-l')).toBe('');
  });

  it('reports a connection dropped mid-push, and leaves the local refs as they were', async () => {
    const { source, url } = await remoteWithModel('flaky');
    const before = git(source, 'show-ref');
    const registry = await Registry.open({ dir: source, env: {} });
    const text = await train(source);
    server.faults.dropNextPush = true;
    await expect(registry.register(text)).rejects.toThrow(
      /^the connection to http:\/\/127\.0\.0\.1:\d+\/flaky\.git was lost while pushing refs\/tags\/churn@v1\.0\.0 \(.+\); nothing was changed here — run the command again/,
    );
    expect(git(source, 'show-ref')).toBe(before);
    expect(await remoteRefs(url)).not.toMatch(/bramble\/registry|churn@/);
    // Run again: it goes through.
    expect(await registry.register(text)).toMatchObject({ version: 'v1.0.0', reused: false });
  });
});

describe('a remote that needs a token', () => {
  let guarded: GitServer;
  beforeAll(async () => {
    guarded = await startGitServer({ token: 'glpat-test-token' });
  });
  afterAll(async () => {
    await guarded.close();
  });

  it('says which variables to set when no token is given, and works with one', async () => {
    const source = makeModelRepo();
    await guarded.createBare('private');
    const url = guarded.repoUrl('private');
    await gitAsync(source, 'push', '-q', url.replace('http://', 'http://oauth2:glpat-test-token@'), 'main');
    git(source, 'remote', 'add', 'origin', url);
    const text = await train(source);
    const anonymous = await Registry.open({ dir: source, env: {} });
    await expect(anonymous.register(text)).rejects.toThrow(
      `reading ${url} needs credentials; set a token in one of BRAMBLE_GIT_TOKEN, GITHUB_TOKEN, GITLAB_TOKEN, CI_JOB_TOKEN`,
    );
    const wrong = await Registry.open({ dir: source, env: { GITHUB_TOKEN: 'nope' } });
    await expect(wrong.register(text)).rejects.toThrow(`reading ${url} was refused: the remote did not accept the token — check that it is valid and may write to the repository`);
    expect(git(source, 'tag', '-l')).toBe('');
    const authorised = await Registry.open({ dir: source, env: { GITLAB_TOKEN: 'glpat-test-token' } });
    expect(await authorised.register(text)).toMatchObject({ version: 'v1.0.0' });
    expect(guarded.requests.some((r) => r.user === 'oauth2' && r.status === 200)).toBe(true);
  });
});

describe('sixteen registrations at once from eight clones', () => {
  it('all succeed with distinct versions, no artifact is lost, and the index agrees with the tags', async () => {
    // One repository with nine models: m0 … m7 and churn.
    const source = makeModelRepo({ trees: 3 });
    const template = mkdtempSync(join(tmpdir(), 'bramble-model-'));
    cpSync(source, template, { recursive: true, filter: (src) => !src.includes('.git') && !src.includes(ARTIFACT.folder) });
    git(source, 'rm', '-rq', '.');
    for (const name of ['churn', ...Array.from({ length: 8 }, (_, i) => `m${i}`)]) {
      cpSync(template, join(source, name), { recursive: true });
      editMlYaml(join(source, name), (t) => t.replace(/^name: .*$/m, `name: ${name}`));
    }
    commitAll(source, 'nine models');
    const { url } = await remoteWithModel('busy', source);

    // Each clone trains its own model, and its own variant of churn (a different seed, on its own commit).
    const clones: { dir: string; texts: string[] }[] = [];
    for (let i = 0; i < 8; i++) {
      const dir = await clone(url);
      editMlYaml(join(dir, 'churn'), (t) => t.replace(/^( {2}seed:) \d+$/m, `$1 ${100 + i}`));
      commitAll(dir, `churn with seed ${100 + i}`);
      clones.push({ dir, texts: [await train(join(dir, `m${i}`)), await train(join(dir, 'churn'))] });
    }
    const registrations = clones.flatMap(({ dir, texts }, i) =>
      texts.map(async (text, k) => {
        const registry = await Registry.open({ dir: join(dir, k === 0 ? `m${i}` : 'churn'), env: {}, attempts: 40 });
        return registry.register(text);
      }),
    );
    const results = await Promise.all(registrations);

    const mine = results.filter((r) => r.name !== 'churn');
    expect(mine.map((r) => `${r.name}@${r.version}`).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `m${i}@v1.0.0`));
    const churn = results.filter((r) => r.name === 'churn');
    expect(new Set(churn.map((r) => r.version)).size, JSON.stringify(churn.map((r) => [r.version, r.reused, r.artifact.slice(0, 8), r.commit.slice(0, 8)]))).toBe(8);
    expect(churn.every((r) => !r.reused)).toBe(true);

    // What the remote holds, read by git's own client.
    const check = await clone(url);
    await gitAsync(check, 'fetch', '-q', 'origin', `${REGISTRY.branch}:${REGISTRY.branch}`, 'refs/tags/*:refs/tags/*');
    const tags = git(check, 'tag', '-l').trim().split('\n').sort();
    expect(tags).toEqual(results.map((r) => `${r.name}@${r.version}`).sort());
    for (const r of results) {
      const stored = JSON.parse(git(check, 'show', `${REGISTRY.branch}:${r.name}/${r.version}/model.json`)) as { sha256: string };
      expect(stored.sha256).toBe(r.artifact);
      expect(git(check, 'cat-file', '-p', `${r.name}@${r.version}`)).toContain(`Bramble-Artifact: sha256:${r.artifact}`);
    }
    const index = JSON.parse(git(check, 'show', `${REGISTRY.branch}:index.json`)) as { tags: { tag: string; oid: string }[] };
    expect(index.tags.map((t) => t.tag).sort()).toEqual(tags);
    for (const t of index.tags) expect(git(check, 'rev-parse', `refs/tags/${t.tag}`).trim()).toBe(t.oid);
    // Every artifact registered is one of the sixteen trained.
    const trained = new Set(clones.flatMap((c) => c.texts.map((t) => (JSON.parse(t) as { sha256: string }).sha256)));
    expect(new Set(results.map((r) => r.artifact))).toEqual(trained);
    expect(readFileSync(join(clones[0].dir, 'churn', 'ml.yaml'), 'utf8')).toContain('seed: 100');
    // About 30 s on an idle machine (sixteen trainings, then sixteen racing pushes); a loaded one needs more.
  }, 240_000);
});
