// Files above 16 MB are hashed for the lineage in blocks instead of read whole (src/lineage/source.ts, issue 10's
// memory target): the blob ids must still be git's own, so a clean large file is clean and a changed one is listed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceLineage } from '../src/lineage/source.js';

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  }).trim();
}

/** 17 MB of CSV rows: past the 16 MB at which lineage streams a file. */
function bigCsv(): Buffer {
  const line = Buffer.from('0.12345,-1.5,2.25,yes\n');
  const out = Buffer.alloc(17 * (1 << 20));
  for (let at = 0; at < out.length; at += line.length) line.copy(out, at);
  return out;
}

function repo(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'bramble-lineage-big-')));
  folders.push(dir);
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'ml.yaml'), 'name: big\n');
  writeFileSync(join(dir, 'data', 'rows.csv'), bigCsv());
  return dir;
}

describe('lineage of a work tree with a file larger than 16 MB', () => {
  it('a committed large file is clean: its streamed blob id is the one git wrote', async () => {
    const dir = repo();
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'data');
    // Touch the file so that its stat no longer matches the index and its content must be hashed again.
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(join(dir, 'data', 'rows.csv'), later, later);
    const lineage = await sourceLineage(dir, { fs });
    expect(lineage.dirty).toBe(false);
    expect(lineage.changes).toEqual([]);
  });

  it('one changed byte in the large file is a change, named', async () => {
    const dir = repo();
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-q', '-m', 'data');
    const fd = fs.openSync(join(dir, 'data', 'rows.csv'), 'r+');
    fs.writeSync(fd, Buffer.from('9'), 0, 1, 10 << 20);
    fs.closeSync(fd);
    const lineage = await sourceLineage(dir, { fs });
    expect(lineage.dirty).toBe(true);
    expect(lineage.changes).toEqual(['data/rows.csv']);
  });

  it('outside git, the work-tree hash is over git blob ids: the same folder committed gives the same files hash', async () => {
    const plain = repo();
    const outside = await sourceLineage(plain, { fs });
    // `git hash-object` of each file, hashed as lineage does (path NUL oid LF, sorted): the streamed ids must match.
    const ids = ['data/rows.csv', 'ml.yaml'].map((p) => `${p}\0${git(plain, 'hash-object', p)}\n`).join('');
    const { createHash } = await import('node:crypto');
    expect(outside.workTree).toBe(createHash('sha256').update(ids).digest('hex'));
  });
});
