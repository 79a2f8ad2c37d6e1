// The registry on real git repositories, written through isomorphic-git and read back with git's own CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Registry, type RegistryOptions } from '../src/registry/registry.js';
import { REGISTRY } from '../src/registry/store.js';
import { schemaValidator } from '../src/schemas.js';
import { AUTHOR, commitAll, editMlYaml, git, makeModelRepo, train } from './helpers/model-repo.js';
import { bramble } from './helpers/cli.js';

const ENVS = ['dev', 'staging', 'prod'];

function open(dir: string, at?: string, extra: Partial<RegistryOptions> = {}): Promise<Registry> {
  return Registry.open({ dir, remote: null, env: at ? { GIT_COMMITTER_DATE: at } : {}, ...extra });
}

describe('register, promote, roll back', () => {
  let dir: string;
  let first: string;
  beforeAll(async () => {
    dir = makeModelRepo();
    first = await train(dir);
  });

  it('registers the first version as v1.0.0, an annotated tag on the source commit, with its files', async () => {
    const registry = await open(dir, '2026-10-01T09:00:00Z');
    const result = await registry.register(first);
    expect(result).toMatchObject({ name: 'churn', version: 'v1.0.0', reused: false });
    expect(git(dir, 'cat-file', '-t', 'churn@v1.0.0').trim()).toBe('tag');
    const tag = git(dir, 'cat-file', '-p', 'churn@v1.0.0');
    expect(tag).toContain(`object ${git(dir, 'rev-parse', 'HEAD').trim()}`);
    expect(tag).toContain(`tagger ${AUTHOR.name} <${AUTHOR.email}> 1destination`.replace('1destination', String(Date.parse('2026-10-01T09:00:00Z') / 1000)));
    expect(tag).toContain(`Bramble-Artifact: sha256:${JSON.parse(first).sha256}`);
    const files = git(dir, 'ls-tree', '-r', '--name-only', REGISTRY.branch).trim().split('\n');
    expect(files).toEqual(['churn/v1.0.0/model.json', 'index.json']);
    expect(git(dir, 'show', `${REGISTRY.branch}:churn/v1.0.0/model.json`)).toBe(first);
    // An orphan branch: no history shared with main.
    expect(git(dir, 'rev-list', '--max-parents=0', REGISTRY.branch).trim()).toBe(git(dir, 'rev-list', REGISTRY.branch).trim());
    expect(git(dir, 'fsck', '--no-progress')).toBe('');
    const index = JSON.parse(git(dir, 'show', `${REGISTRY.branch}:index.json`)) as { tags: { tag: string }[] };
    expect(schemaValidator(REGISTRY.schemaId)(index)).toBe(true);
    expect(index.tags.map((t) => t.tag)).toEqual(['churn@v1.0.0']);
  });

  it('does not register the same artifact twice: that version is reused (build once)', async () => {
    const again = await (await open(dir)).register(first);
    expect(again).toMatchObject({ version: 'v1.0.0', reused: true });
    expect(git(dir, 'tag', '-l').trim().split('\n')).toEqual(['churn@v1.0.0']);
  });

  it('bumps patch for a new commit with the same recipe, minor for new parameters, major for a new signature', async () => {
    writeFileSync(join(dir, 'NOTES.md'), 'a note\n');
    commitAll(dir, 'notes');
    const patch = await (await open(dir, '2026-10-05T09:00:00Z')).register(await train(dir));
    expect(patch).toMatchObject({ version: 'v1.0.1', bump: 'patch' });
    editMlYaml(dir, (t) => t.replace(/trees: \d+/, 'trees: 12'));
    commitAll(dir, 'more trees');
    const minor = await (await open(dir, '2026-10-10T09:00:00Z')).register(await train(dir));
    expect(minor).toMatchObject({ version: 'v1.1.0', bump: 'minor' });
    editMlYaml(dir, (t) => t.replace(/^features:.*\n/m, 'features:\n  - drop: [gender]\n').replace(/^ {6}- gender\n/m, ''));
    commitAll(dir, 'drop gender');
    const features = await (await open(dir, '2026-10-12T09:00:00Z')).register(await train(dir));
    expect(features).toMatchObject({ version: 'v1.2.0', bump: 'minor' });
    // The data loses a column: the model's inputs change.
    const csv = join(dir, 'data/churn.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').split('\n').map((line) => line.split(',').filter((_, i) => i !== 1).join(',')).join('\n'));
    editMlYaml(dir, (t) => t.replace(/^ {2}- drop: \[gender\]\n/m, '').replace(/^ +gender: .*\n/m, ''));
    commitAll(dir, 'no gender in the data');
    const major = await (await open(dir, '2026-10-15T09:00:00Z')).register(await train(dir));
    expect(major).toMatchObject({ version: 'v2.0.0', bump: 'major' });
  });

  it('promotes with counters across environments, and answers which version served when', async () => {
    const r = async (at: string) => open(dir, at);
    expect(await (await r('2026-10-20T10:00:00Z')).assign('churn', 'v1.0.1', 'prod', ENVS)).toMatchObject({ tag: 'churn#prod#1', previous: null });
    expect(await (await r('2026-10-21T10:00:00Z')).assign('churn', 'v1.1.0', 'staging', ENVS)).toMatchObject({ tag: 'churn#staging#2' });
    expect(await (await r('2026-11-02T10:00:00Z')).assign('churn', 'v2.0.0', 'prod', ENVS)).toMatchObject({ tag: 'churn#prod#3', previous: 'v1.0.1' });
    const out = bramble(['which', 'prod', '--at', '2026-11-01', '--dir', dir]);
    expect(out.stdout).toBe('churn@v1.0.1 served prod at 2026-11-01T23:59:59.999Z — churn#prod#1, by Ada Lovelace <ada@example.com> at 2026-10-20T10:00:00.000Z\n');
    expect(bramble(['which', 'prod', '--dir', dir]).stdout).toMatch(/^churn@v2\.0\.0 serves prod — churn#prod#3/);
    expect(bramble(['which', 'prod', '--at', '2026-10-01', '--dir', dir]).status).toBe(1);
  });

  it('rolls back by date, by version and to the previous version, each a new assignment', async () => {
    const byDate = await (await open(dir, '2026-11-03T10:00:00Z')).rollback('churn', 'prod', ENVS, { date: '2026-11-01' });
    expect(byDate).toMatchObject({ version: 'v1.0.1', tag: 'churn#prod#4', previous: 'v2.0.0' });
    const previous = await (await open(dir, '2026-11-04T10:00:00Z')).rollback('churn', 'prod', ENVS);
    expect(previous).toMatchObject({ version: 'v2.0.0', tag: 'churn#prod#5' });
    const byVersion = await (await open(dir, '2026-11-05T10:00:00Z')).rollback('churn', 'prod', ENVS, { version: 'v1.1.0' });
    expect(byVersion).toMatchObject({ version: 'v1.1.0', tag: 'churn#prod#6' });
    // Nothing was moved or deleted: every assignment is still a tag.
    expect(git(dir, 'tag', '-l', 'churn#prod#*').trim().split('\n')).toEqual(['churn#prod#1', 'churn#prod#3', 'churn#prod#4', 'churn#prod#5', 'churn#prod#6']);
  });

  it('shows the history with who and when, and the lineage of a version', () => {
    const history = bramble(['registry', 'history', 'churn', '--env', 'prod', '--json', '--dir', dir]);
    const rows = JSON.parse(history.stdout) as { at: string; action: string; version: string; by: { name: string }; tag: string }[];
    expect(rows.map((r) => `${r.at.slice(0, 10)} ${r.tag} ${r.version} ${r.by.name}`)).toEqual([
      '2026-10-20 churn#prod#1 v1.0.1 Ada Lovelace',
      '2026-11-02 churn#prod#3 v2.0.0 Ada Lovelace',
      '2026-11-03 churn#prod#4 v1.0.1 Ada Lovelace',
      '2026-11-04 churn#prod#5 v2.0.0 Ada Lovelace',
      '2026-11-05 churn#prod#6 v1.1.0 Ada Lovelace',
    ]);
    const lineage = JSON.parse(bramble(['lineage', 'churn@v1.1.0', '--json', '--dir', dir]).stdout) as {
      lineage: { source: { commit: string }; data: { sha256: string; path: string } };
      assignments: { tag: string }[];
    };
    expect(lineage.lineage.source.commit).toBe(git(dir, 'rev-list', '-n1', 'churn@v1.1.0').trim());
    expect(lineage.lineage.data.path).toBe('data/churn.csv');
    expect(lineage.assignments.map((a) => a.tag)).toEqual(['churn#staging#2', 'churn#prod#6']);
    const ls = bramble(['registry', 'ls', '--dir', dir]);
    expect(ls.stdout).toBe('model  latest  versions  environments                deprecated\nchurn  v2.0.0  5         prod=v1.1.0 staging=v1.1.0\n');
  });

  it('refuses what cannot be: a missing version, an unknown environment, a deregistered version, a deprecated model', async () => {
    const registry = await open(dir);
    await expect(registry.assign('churn', 'v9.9.9', 'prod', ENVS)).rejects.toThrow('churn@v9.9.9 does not exist; churn has v1.0.0, v1.0.1, v1.1.0, v1.2.0, v2.0.0');
    await expect(registry.assign('churn', 'v1.0.0', 'prd', ENVS)).rejects.toThrow('the environment "prd" is not in ml.yaml; did you mean prod? (known: dev, staging, prod)');
    await registry.deregister('churn', 'v1.0.0');
    await expect(registry.assign('churn', 'v1.0.0', 'dev', ENVS)).rejects.toThrow(/^churn@v1\.0\.0 was deregistered \(churn@v1\.0\.0!, by Ada Lovelace at /);
    await registry.deprecate('churn');
    await expect(registry.assign('churn', 'v1.1.0', 'dev', ENVS)).rejects.toThrow(/^churn is deprecated \(churn@deprecated#7, by Ada Lovelace at .+\); a deprecated model cannot be promoted$/);
    const cli = bramble(['promote', 'churn@v1.0.0', 'qa', '--dir', dir]);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toBe('bramble: the environment "qa" is not in ml.yaml (known: dev, staging, prod)\n');
  });
});

describe('the index and the tags', () => {
  it('rebuilds from the tags when the index is missing, stale or damaged; the tags win', async () => {
    const dir = makeModelRepo();
    const registry = await open(dir);
    await registry.register(await train(dir));
    await registry.assign('churn', 'v1.0.0', 'dev', ENVS);
    const fromIndex = await registry.read();
    expect(fromIndex.snapshot).toMatchObject({ fromIndex: 2, readTags: 0 });
    // A tag written by another tool (GTO, or git itself): read from git, not the index.
    git(dir, 'tag', '-a', 'churn#staging#3', '-m', 'Assigning stage staging', 'churn@v1.0.0^{commit}');
    const stale = await (await open(dir)).read();
    expect(stale.snapshot).toMatchObject({ fromIndex: 2, readTags: 1 });
    expect(stale.models.get('churn')?.envs.get('staging')?.version).toBe('v1.0.0');
    // A tag deleted by hand: its record in the index no longer counts.
    git(dir, 'tag', '-d', 'churn#dev#1');
    const gone = await (await open(dir)).read();
    expect(gone.models.get('churn')?.envs.has('dev')).toBe(false);
    expect([...gone.snapshot.reserved]).toEqual(['churn#dev#1']);
    // The next assignment takes a counter beyond every one ever used, so a deleted tag's name is never reused.
    expect(await (await open(dir)).assign('churn', 'v1.0.0', 'dev', ENVS)).toMatchObject({ tag: 'churn#dev#4' });
  });

  it('warns once about tags that look like registry tags but do not parse, and ignores ordinary tags', async () => {
    const dir = makeModelRepo();
    git(dir, 'tag', '-a', 'churn@v1.2', '-m', 'x');
    git(dir, 'tag', '-a', 'churn#prod#x', '-m', 'x');
    git(dir, 'tag', '-a', 'release-3', '-m', 'x');
    const warnings: string[] = [];
    const { models } = await (await open(dir, undefined, { warn: (m) => warnings.push(m) })).read();
    expect(models.size).toBe(0);
    expect(warnings).toEqual(["ignored 2 tags that look like registry tags but do not follow GTO's grammar: churn#prod#x, churn@v1.2"]);
  });

  it('refuses a version whose tag points at a commit without an artifact, and an artifact whose hash does not match', async () => {
    const dir = makeModelRepo();
    const registry = await open(dir);
    await registry.register(await train(dir));
    git(dir, 'tag', '-a', 'churn@v0.5.0', '-m', 'Registering artifact churn version v0.5.0');
    await expect(registry.assign('churn', 'v0.5.0', 'prod', ENVS)).rejects.toThrow(
      `churn@v0.5.0 (tag on ${git(dir, 'rev-parse', '--short=7', 'HEAD').trim()}) has no artifact on bramble/registry: churn/v0.5.0/model.json is missing`,
    );
    // Replace the registered model.json on the registry branch with another (valid) artifact.
    writeFileSync(join(dir, 'NOTES.md'), 'x\n');
    commitAll(dir, 'notes');
    const other = await train(dir);
    const blob = spawnSync('git', ['hash-object', '-w', '--stdin'], { cwd: dir, input: other, encoding: 'utf8' }).stdout.trim();
    git(dir, 'read-tree', '--index-output=.git/tmp-index', REGISTRY.branch);
    spawnSync('git', ['update-index', '--cacheinfo', `100644,${blob},churn/v1.0.0/model.json`], { cwd: dir, env: { ...process.env, GIT_INDEX_FILE: '.git/tmp-index' } });
    const tree = spawnSync('git', ['write-tree'], { cwd: dir, env: { ...process.env, GIT_INDEX_FILE: '.git/tmp-index' }, encoding: 'utf8' }).stdout.trim();
    const commit = git(dir, 'commit-tree', tree, '-p', REGISTRY.branch, '-m', 'swap').trim();
    git(dir, 'update-ref', `refs/heads/${REGISTRY.branch}`, commit);
    await expect((await open(dir)).assign('churn', 'v1.0.0', 'prod', ENVS)).rejects.toThrow(
      `bramble/registry:churn/v1.0.0/model.json has sha256 ${JSON.parse(other).sha256}, but the tag churn@v1.0.0 records`,
    );
  });

  it('refuses an artifact trained from uncommitted changes', async () => {
    const dir = makeModelRepo();
    writeFileSync(join(dir, 'NOTES.md'), 'not committed\n');
    const text = await train(dir);
    await expect((await open(dir)).register(text)).rejects.toThrow(
      'the artifact was trained from uncommitted changes (changed: NOTES.md); a version must point at the commit that made it — commit, train again, then register',
    );
    expect(git(dir, 'tag', '-l')).toBe('');
  });
});

describe('bramble reproduce', () => {
  it('says identical for the template model trained and registered by the CLI', () => {
    const dir = makeModelRepo({ trees: 200 });
    const registered = bramble(['register', '--dir', dir]);
    expect(registered.stdout).toMatch(/^registered churn@v1\.0\.0 on [0-9a-f]{7} \(artifact [0-9a-f]{7}, first version\)\n$/);
    const sha = git(dir, 'cat-file', '-p', 'churn@v1.0.0').match(/Bramble-Artifact: sha256:([0-9a-f]{64})/)?.[1];
    const same = bramble(['reproduce', 'churn@v1.0.0', '--dir', dir]);
    expect(same.stderr).toBe('');
    expect(same.stdout).toMatch(new RegExp(`^identical: churn@v1\\.0\\.0 retrained from [0-9a-f]{7} gives the registered artifact, sha256 ${sha} `));
    expect(same.status).toBe(0);
  });

  it('names exactly what differs: here the versions recorded by a different build of Bramble', async () => {
    const dir = makeModelRepo();
    await (await open(dir)).register(await train(dir));
    const other = bramble(['reproduce', 'churn@v1.0.0', '--workers', '1', '--dir', dir]);
    expect(other.status).toBe(1);
    expect(other.stdout.split('\n').slice(1)).toEqual([
      'field                     registered  reproduced',
      `lineage.versions.bramble  "test"      "${bramble(['--version', '--dir', dir]).stdout.trim()}"`,
      `lineage.versions.node     "test"      "${process.version}"`,
      '',
    ]);
  });
});

describe('who changes the registry', () => {
  it("takes the tagger from git's global config when the repository has none, as git does", async () => {
    const dir = makeModelRepo();
    git(dir, 'config', '--unset', 'user.name');
    git(dir, 'config', '--unset', 'user.email');
    const home = mkdtempSync(join(tmpdir(), 'bramble-home-'));
    writeFileSync(join(home, '.gitconfig'), '[core]\n\tautocrlf = false\n[user]\n\tname = Grace Hopper\n\temail = grace@example.com\n');
    const text = await train(dir);
    await (await Registry.open({ dir, remote: null, env: { HOME: home } })).register(text);
    expect(git(dir, 'cat-file', '-p', 'churn@v1.0.0')).toMatch(/^tagger Grace Hopper <grace@example\.com> \d+ \+0000$/m);
    await expect((await Registry.open({ dir, remote: null, env: { HOME: mkdtempSync(join(tmpdir(), 'bramble-home-')) } })).deprecate('churn')).rejects.toThrow(/^git does not know who you are/);
  });
});
