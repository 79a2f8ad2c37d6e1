// Source lineage against real repositories built with the git binary, in temporary folders. Dates and identity are
// fixed and the user's git config is shut out, so the commits (and so the hashes) are the same on every machine.
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SOURCE, sourceLineage } from '../src/lineage/source.js';
import { pinnedGit } from './helpers/git.js';

const deps = { fs };
// The committer time in UTC; deliberately not the author time, which lineage must not report.
const COMMITTED_AT = '2024-05-06T05:08:09.000Z';

const MODEL_FILES: Record<string, string> = {
  'ml.yaml': 'name: churn\ntrain: data/train.csv\n',
  'data/train.csv': 'a,b,target\n1,2,yes\n3,4,no\n',
  '.gitignore': '.bramble/\n*.tmp\n',
};

function tempFolder(): string {
  return realpathSync(mkdtempSync(join(tmpdir(), 'bramble-lineage-')));
}

function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A folder holding `files`, committed once when `commit` is set. */
function fixture(files: Record<string, string>, commit = true): string {
  const root = tempFolder();
  writeFiles(root, files);
  if (commit) {
    pinnedGit(root, 'init', '-q');
    pinnedGit(root, 'add', '-A');
    pinnedGit(root, 'commit', '-q', '-m', 'model');
  }
  return root;
}

describe('sourceLineage in a clean repository', () => {
  it('reports the HEAD commit, its committer time, the root path, and no changes', async () => {
    const root = fixture(MODEL_FILES);
    const lineage = await sourceLineage(root, deps);
    expect(lineage).toEqual({
      commit: pinnedGit(root, 'rev-parse', 'HEAD'),
      committedAt: COMMITTED_AT,
      path: '',
      dirty: false,
      changes: [],
      workTree: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(lineage.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('does not rewrite .git/index while reading', async () => {
    const root = fixture(MODEL_FILES);
    // Touching a file changes its stat but not its content: a refreshing status would rewrite the index.
    fs.utimesSync(join(root, 'ml.yaml'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    const before = fs.readFileSync(join(root, '.git/index'));
    const lineage = await sourceLineage(root, deps);
    expect(lineage.dirty).toBe(false);
    expect(fs.readFileSync(join(root, '.git/index')).equals(before)).toBe(true);
  });
});

describe('sourceLineage with working-tree changes', () => {
  it.each([
    ['a modified tracked file', (root: string) => writeFileSync(join(root, 'ml.yaml'), 'name: churn2\n'), ['ml.yaml']],
    ['an untracked new file', (root: string) => writeFileSync(join(root, 'notes.md'), 'hi\n'), ['notes.md']],
    ['a deleted tracked file', (root: string) => rmSync(join(root, 'data/train.csv')), ['data/train.csv']],
    [
      'a staged change',
      (root: string) => {
        writeFileSync(join(root, 'data/extra.csv'), 'x\n1\n');
        pinnedGit(root, 'add', 'data/extra.csv');
      },
      ['data/extra.csv'],
    ],
    [
      'several changes, listed in byte order',
      (root: string) => {
        writeFileSync(join(root, 'b.txt'), 'b');
        writeFileSync(join(root, 'B.txt'), 'B');
        writeFileSync(join(root, 'ml.yaml'), 'changed\n');
      },
      ['B.txt', 'b.txt', 'ml.yaml'],
    ],
  ])('%s makes the tree dirty and lists it', async (_name, change, expected) => {
    const root = fixture(MODEL_FILES);
    const clean = await sourceLineage(root, deps);
    change(root);
    const lineage = await sourceLineage(root, deps);
    expect(lineage).toMatchObject({ commit: clean.commit, committedAt: COMMITTED_AT, dirty: true, changes: expected });
    expect(lineage.workTree).not.toBe(clean.workTree);
  });

  it.each([
    ['a file matched by .gitignore', '.bramble/model.json'],
    ['a file matched by a .gitignore pattern', 'data/scratch.tmp'],
    ['a file in node_modules', 'node_modules/pkg/index.js'],
  ])('%s leaves the tree clean and the work tree hash unchanged', async (_name, path) => {
    const root = fixture(MODEL_FILES);
    const clean = await sourceLineage(root, deps);
    writeFiles(root, { [path]: 'output\n' });
    expect(await sourceLineage(root, deps)).toEqual(clean);
  });

  it('keeps a tracked file visible even when .gitignore matches it, as git does', async () => {
    const root = fixture(MODEL_FILES);
    writeFileSync(join(root, 'kept.tmp'), 'tracked\n');
    // `add -A` honours .gitignore; only a forced add tracks a matching file.
    pinnedGit(root, 'add', '-f', 'kept.tmp');
    pinnedGit(root, 'commit', '-q', '-m', 'keep');
    writeFileSync(join(root, 'kept.tmp'), 'edited\n');
    expect(await sourceLineage(root, deps)).toMatchObject({ dirty: true, changes: ['kept.tmp'] });
  });

  it(`lists at most ${SOURCE.maxChanges} changes, the first ones in order`, async () => {
    const root = fixture(MODEL_FILES);
    writeFiles(root, Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`new/f${String(i).padStart(2, '0')}.txt`, `${i}`])));
    const lineage = await sourceLineage(root, deps);
    expect(lineage.dirty).toBe(true);
    expect(lineage.changes).toHaveLength(50);
    expect(lineage.changes?.[0]).toBe('new/f00.txt');
    expect(lineage.changes?.[49]).toBe('new/f49.txt');
  });
});

describe('sourceLineage of a model folder inside a bigger repository', () => {
  function bigRepo(): string {
    return fixture({
      'README.md': 'monorepo\n',
      'other/service.ts': 'export {};\n',
      '.gitignore': '*.tmp\n',
      ...Object.fromEntries(Object.entries(MODEL_FILES).map(([path, content]) => [`sub/model/${path}`, content])),
    });
  }

  it('reports the folder relative to the root and only the changes under it, relative to the folder', async () => {
    const root = bigRepo();
    writeFileSync(join(root, 'other/service.ts'), 'changed\n');
    writeFileSync(join(root, 'README.md'), 'changed\n');
    writeFileSync(join(root, 'sub/model/ml.yaml'), 'changed\n');
    writeFileSync(join(root, 'sub/model/data/new.csv'), 'a\n1\n');
    writeFileSync(join(root, 'sub/model/data/ignored.tmp'), 'ignored by the root .gitignore\n');
    expect(await sourceLineage(join(root, 'sub/model'), deps)).toMatchObject({
      commit: pinnedGit(root, 'rev-parse', 'HEAD'),
      committedAt: COMMITTED_AT,
      path: 'sub/model',
      dirty: true,
      changes: ['data/new.csv', 'ml.yaml'],
    });
  });

  it('is clean when only files outside the folder changed', async () => {
    const root = bigRepo();
    writeFileSync(join(root, 'other/service.ts'), 'changed\n');
    writeFileSync(join(root, 'sub/sibling.txt'), 'new\n');
    expect(await sourceLineage(join(root, 'sub/model'), deps)).toMatchObject({ path: 'sub/model', dirty: false, changes: [] });
  });

  it('hashes the folder exactly as a plain copy of it outside git', async () => {
    const root = bigRepo();
    const plain = fixture(MODEL_FILES, false);
    expect((await sourceLineage(join(root, 'sub/model'), deps)).workTree).toBe((await sourceLineage(plain, deps)).workTree);
  });
});

describe('sourceLineage outside git', () => {
  it('claims no commit and counts the tree as dirty', async () => {
    const dir = fixture(MODEL_FILES, false);
    expect(await sourceLineage(dir, deps)).toEqual({
      commit: null,
      committedAt: null,
      path: '',
      dirty: true,
      changes: undefined,
      workTree: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it.each(['node_modules/pkg/index.js', '.bramble/model.json', 'deep/node_modules/x.js'])(
    'leaves %s out of the work tree hash',
    async (path) => {
      const dir = fixture(MODEL_FILES, false);
      const before = await sourceLineage(dir, deps);
      writeFiles(dir, { [path]: 'x' });
      expect((await sourceLineage(dir, deps)).workTree).toBe(before.workTree);
    },
  );

  it('reports a repository with no commits yet as dirty, with every file as a change', async () => {
    const root = fixture(MODEL_FILES, false);
    pinnedGit(root, 'init', '-q');
    expect(await sourceLineage(root, deps)).toMatchObject({
      commit: null,
      committedAt: null,
      path: '',
      dirty: true,
      changes: ['.gitignore', 'data/train.csv', 'ml.yaml'],
    });
  });

  it('rejects a folder that does not exist, naming it', async () => {
    const missing = join(tempFolder(), 'nope');
    await expect(sourceLineage(missing, deps)).rejects.toMatchObject({ code: 'E_SOURCE_DIR', data: { dir: missing } });
    await expect(sourceLineage(missing, deps)).rejects.toThrow(`'${missing}' cannot be read`);
  });
});

describe('the work tree hash', () => {
  it.each([
    ['two plain folders', false],
    ['two repositories', true],
  ])('is the same for identical content in %s and changes with one byte', async (_name, commit) => {
    const a = fixture(MODEL_FILES, commit);
    const b = fixture(MODEL_FILES, commit);
    const hashA = (await sourceLineage(a, deps)).workTree;
    expect((await sourceLineage(b, deps)).workTree).toBe(hashA);
    writeFileSync(join(b, 'data/train.csv'), MODEL_FILES['data/train.csv'].replace('yes', 'yeS'));
    expect((await sourceLineage(b, deps)).workTree).not.toBe(hashA);
  });

  it('changes when a file is renamed with its content kept', async () => {
    const a = fixture(MODEL_FILES, false);
    const before = (await sourceLineage(a, deps)).workTree;
    fs.renameSync(join(a, 'data/train.csv'), join(a, 'data/train2.csv'));
    expect((await sourceLineage(a, deps)).workTree).not.toBe(before);
  });

  it('uses git blob ids, so it equals the hash built from git ls-files -s', async () => {
    const root = fixture(MODEL_FILES);
    const lines = pinnedGit(root, 'ls-files', '-s')
      .split('\n')
      .map((line) => {
        const [meta, path] = line.split('\t');
        return { path, oid: meta.split(' ')[1] };
      })
      .sort((x, y) => Buffer.compare(Buffer.from(x.path), Buffer.from(y.path)));
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256');
    for (const { path, oid } of lines) expected.update(`${path}\0${oid}\n`);
    expect((await sourceLineage(root, deps)).workTree).toBe(expected.digest('hex'));
  });
});
