// Tags win: whoever can push the registry branch (not a tag) cannot change what a version is or what serves.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openArtifact } from '../src/model/artifact.js';
import { Registry } from '../src/registry/registry.js';
import { commitAll, editMlYaml, git, makeModelRepo, train } from './helpers/model-repo.js';
import { bramble } from './helpers/cli.js';

/** Commits `edit` on the registry branch with git's own CLI, as a push of that branch would. */
function tamper(dir: string, edit: (worktree: string) => void): void {
  const worktree = mkdtempSync(join(tmpdir(), 'bramble-tamper-'));
  git(dir, 'worktree', 'add', '-q', '--force', worktree, 'bramble/registry');
  edit(worktree);
  git(worktree, 'commit', '-qam', 'an innocent-looking change');
  git(dir, 'worktree', 'remove', '--force', worktree);
}

interface IndexFile {
  tags: { tag: string; version?: string; artifact?: string; object?: string }[];
}

describe('a registry branch that lies', () => {
  let dir: string;
  let registered: string;
  let other: { text: string; sha256: string };

  beforeAll(async () => {
    dir = makeModelRepo({ trees: 5 });
    const text = await train(dir);
    registered = openArtifact(text, 'model.json').sha256;
    expect(bramble(['register'], { cwd: dir }).status).toBe(0);
    expect(bramble(['promote', 'churn@v1.0.0', 'prod'], { cwd: dir }).status).toBe(0);
    // Another artifact of the same model: what an attacker would like prod to serve.
    editMlYaml(dir, (t) => t.replace(/seed: 7\n/, 'seed: 8\n'));
    commitAll(dir, 'another seed');
    const forged = await train(dir);
    other = { text: forged, sha256: openArtifact(forged, 'model.json').sha256 };
    expect(other.sha256).not.toBe(registered);
    tamper(dir, (tree) => {
      writeFileSync(join(tree, 'churn/v1.0.0/model.json'), other.text);
      const index = JSON.parse(readFileSync(join(tree, 'index.json'), 'utf8')) as IndexFile;
      for (const record of index.tags) {
        if (record.tag === 'churn@v1.0.0') record.artifact = other.sha256;
        if (record.tag === 'churn#prod#1') record.version = 'v9.9.9';
      }
      writeFileSync(join(tree, 'index.json'), JSON.stringify(index, null, 1) + '\n');
    });
  }, 120_000);

  it('registry show refuses the swapped file, naming both hashes', () => {
    const r = bramble(['registry', 'show', 'churn@v1.0.0'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`bramble/registry:churn/v1.0.0/model.json has sha256 ${other.sha256}, but the tag churn@v1.0.0 records ${registered}`);
  });

  it('promote and --champion refuse it too; which still names what the tags say', () => {
    const promote = bramble(['promote', 'churn@v1.0.0', 'staging'], { cwd: dir });
    expect(promote.status).toBe(2);
    expect(promote.stderr).toContain(`but the tag churn@v1.0.0 records ${registered}`);
    const run = bramble(['run', '.', '--champion', 'churn@v1.0.0'], { cwd: dir });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('the file was replaced after registration');
    const which = bramble(['which', 'prod', '--json'], { cwd: dir });
    expect(which.status).toBe(0);
    expect(which.stdout).toContain('v1.0.0');
    expect(which.stdout).not.toContain('v9.9.9');
  });

  it('registry verify lists the mismatch and exits 1', () => {
    const r = bramble(['registry', 'verify'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`the file was replaced: the tag records ${registered}, the file has ${other.sha256}`);
    expect(r.stdout).toContain('1 of 1 versions do not match their tags; do not serve them — register them again');
    const json = JSON.parse(bramble(['registry', 'verify', '--json'], { cwd: dir }).stdout) as { version: string; recorded: string; found: string }[];
    expect(json).toEqual([expect.objectContaining({ version: 'v1.0.0', recorded: registered, found: other.sha256 })]);
  });

  it('an index record whose tag object text is edited is not believed: the tag is read from git instead', async () => {
    tamper(dir, (tree) => {
      const index = JSON.parse(readFileSync(join(tree, 'index.json'), 'utf8')) as IndexFile;
      for (const record of index.tags) {
        if (record.tag === 'churn@v1.0.0' && record.object) record.object = record.object.replace(registered, other.sha256);
      }
      writeFileSync(join(tree, 'index.json'), JSON.stringify(index, null, 1) + '\n');
    });
    const registry = await Registry.open({ dir, remote: null });
    const { models } = await registry.read();
    expect(models.get('churn')?.versions[0].artifact).toBe(registered);
    expect(models.get('churn')?.envs.get('prod')?.version).toBe('v1.0.0');
  });
});

describe('a version whose artifact is gone from the branch', () => {
  it('is reported by registry verify and refused by show, with the path named', async () => {
    const dir = makeModelRepo({ trees: 5 });
    await train(dir);
    expect(bramble(['register'], { cwd: dir }).status).toBe(0);
    tamper(dir, (tree) => {
      git(tree, 'rm', '-q', 'churn/v1.0.0/model.json');
    });
    const verify = bramble(['registry', 'verify'], { cwd: dir });
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain('bramble/registry:churn/v1.0.0/model.json is missing');
    const show = bramble(['registry', 'show', 'churn@v1.0.0'], { cwd: dir });
    expect(show.status).toBe(0);
    const champion = bramble(['run', '.', '--champion', 'churn@v1.0.0'], { cwd: dir });
    expect(champion.status).toBe(2);
    expect(champion.stderr).toContain('has no artifact on bramble/registry: churn/v1.0.0/model.json is missing');
  }, 120_000);
});

describe('tags Bramble did not write', () => {
  it('are read from git once and then remembered by object id under .git/bramble/', async () => {
    const dir = makeModelRepo({ trees: 5 });
    await train(dir);
    expect(bramble(['register'], { cwd: dir }).status).toBe(0);
    // GTO's own assignment tags (annotated, no Bramble trailer), written by git.
    for (let n = 1; n <= 30; n++) git(dir, 'tag', '-a', `churn#dev#${n}`, '-m', `Assigning stage dev to artifact churn version v1.0.0`);
    const registry = await Registry.open({ dir, remote: null });
    const first = await registry.read();
    expect(first.snapshot.readTags).toBe(30);
    const cache = JSON.parse(readFileSync(join(dir, '.git/bramble/tags.json'), 'utf8')) as { records: { oid: string }[] };
    const oids = git(dir, 'for-each-ref', '--format=%(objectname)', 'refs/tags/churn#dev#*').trim().split('\n');
    expect(new Set(cache.records.map((r) => r.oid))).toEqual(new Set(oids));
    expect(first.models.get('churn')?.envs.get('dev')?.version).toBe('v1.0.0');
    // A tag moved to another object is read again: the cache is keyed by object, never by name.
    git(dir, 'tag', '-f', '-a', 'churn#dev#30', '-m', 'moved');
    const again = await (await Registry.open({ dir, remote: null })).read();
    const record = again.snapshot.events.find((e) => e.record.tag === 'churn#dev#30')?.record;
    expect(record?.oid).toBe(git(dir, 'rev-parse', 'refs/tags/churn#dev#30').trim());
  }, 120_000);
});
