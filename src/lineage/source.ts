/**
 * Where a model's source came from: the commit of the repository folder it was trained from, whether the working
 * tree differed from that commit, and a content hash of the working tree itself. The commit alone cannot identify
 * an uncommitted run, so `workTree` hashes what was actually on disk, the same way inside or outside git.
 */
import { createHash } from 'node:crypto';
import { join, relative, sep } from 'node:path';
import { Errors, STAGE, TREE, WORKDIR, findRoot, hashBlob, isIgnored, readCommit, resolveRef, walk, type WalkerEntry } from 'isomorphic-git';
import { errorClass } from '../errors.js';
import { REPO_LAYOUT } from '../repo-layout.js';

/** Names that cross into the lineage record and the tests. */
export const SOURCE = {
  /** Folder names never part of a model's source, at any depth: git's own data, installed packages, Bramble's outputs. */
  skippedFolders: ['.git', 'node_modules', REPO_LAYOUT.outputFolder],
  /** The list of changed paths is for a person to read; the full picture is `git status`. */
  maxChanges: 50,
} as const;

export interface SourceLineage {
  /** HEAD's commit (40 hex), or null outside git or before the first commit. */
  commit: string | null;
  /** The commit's committer time as ISO 8601 UTC, or null with `commit`. */
  committedAt: string | null;
  /** The folder relative to the repository root, with `/` separators; '' at the root or outside git. */
  path: string;
  /** The working tree under `path` differs from HEAD or the index (always true outside git: nothing vouches for it). */
  dirty: boolean;
  /** Changed paths relative to the folder, sorted, at most SOURCE.maxChanges; undefined outside git. */
  changes?: string[];
  /** sha256 (hex) over the sorted (path, git blob id) of every non-ignored file under the folder. */
  workTree: string;
}

export interface SourceDeps {
  fs: typeof import('node:fs');
}

export class SourceDirectoryError extends errorClass('E_SOURCE_DIR') {}

/** One file under the folder: its path relative to the folder, and its blob id in HEAD, the working tree, the index. */
interface FileState {
  path: string;
  head: string | undefined;
  workdir: string | undefined;
  stage: string | undefined;
}

/** The lineage of the model repository folder `dir`, which may sit anywhere inside a git work tree, or outside one. */
export async function sourceLineage(dir: string, deps: SourceDeps): Promise<SourceLineage> {
  const { fs } = deps;
  const folder = await realFolder(dir, fs);
  const root = await gitRoot(folder, fs);
  if (root === null) {
    return { commit: null, committedAt: null, path: '', dirty: true, changes: undefined, workTree: hashWorkTree(await plainFiles(folder, fs)) };
  }
  const path = relative(root, folder).split(sep).join('/');
  const head = await readHead(root, fs);
  const files = await repoFiles(root, path, fs);
  const changes = files
    .filter((f) => f.head !== f.workdir || f.workdir !== f.stage)
    .map((f) => f.path)
    .sort(byBytes);
  const present = files.flatMap((f) => (f.workdir === undefined ? [] : [{ path: f.path, oid: f.workdir }]));
  return {
    commit: head?.commit ?? null,
    committedAt: head?.committedAt ?? null,
    path,
    dirty: changes.length > 0,
    changes: changes.slice(0, SOURCE.maxChanges),
    workTree: hashWorkTree(present),
  };
}

/** The canonical path: git reports the root with symlinks resolved (macOS's /tmp), so `relative` needs the same form. */
async function realFolder(dir: string, fs: SourceDeps['fs']): Promise<string> {
  let real: string;
  try {
    real = await fs.promises.realpath(dir);
  } catch (err) {
    throw new SourceDirectoryError(
      `Model repository folder '${dir}' cannot be read (${err instanceof Error ? err.message : String(err)}). Pass the folder that holds ml.yaml.`,
      { dir },
    );
  }
  if (!(await fs.promises.stat(real)).isDirectory()) {
    throw new SourceDirectoryError(`Model repository folder '${dir}' is a file, not a folder. Pass the folder that holds ml.yaml.`, { dir });
  }
  return real;
}

async function gitRoot(folder: string, fs: SourceDeps['fs']): Promise<string | null> {
  try {
    return await findRoot({ fs, filepath: folder });
  } catch (err) {
    // Only "no .git above this folder" means "not in git"; anything else (permissions, I/O) must surface.
    if (err instanceof Errors.NotFoundError) return null;
    throw err;
  }
}

async function readHead(root: string, fs: SourceDeps['fs']): Promise<{ commit: string; committedAt: string } | null> {
  let oid: string;
  try {
    oid = await resolveRef({ fs, dir: root, ref: 'HEAD' });
  } catch (err) {
    // A freshly initialised repository has HEAD pointing at a branch with no commits yet.
    if (err instanceof Errors.NotFoundError) return null;
    throw err;
  }
  const { commit } = await readCommit({ fs, dir: root, oid });
  // The committer time, not the author time: a rebase or cherry-pick keeps the author's date but makes a new commit.
  return { commit: oid, committedAt: new Date(commit.committer.timestamp * 1000).toISOString() };
}

/**
 * The files under `path` in HEAD, the working tree and the index, in one walk. This is statusMatrix's walk, kept
 * here because statusMatrix does not return the working-tree blob ids, and the work tree hash needs them: taking
 * them from the same walk reads each file at most once (not at all when the index's stat cache vouches for it).
 */
async function repoFiles(root: string, path: string, fs: SourceDeps['fs']): Promise<FileState[]> {
  const files: FileState[] = [];
  const prefix = path === '' ? '' : `${path}/`;
  await walk({
    fs,
    dir: root,
    // refresh: false keeps lineage read-only: reading provenance must not rewrite the repository's .git/index.
    trees: [TREE({ ref: 'HEAD' }), WORKDIR({ refresh: false }), STAGE()],
    map: async (filepath: string, [head, workdir, stage]: Array<WalkerEntry | null>) => {
      if (filepath === '.') return undefined;
      const inside = prefix === '' || filepath.startsWith(prefix);
      // Returning null prunes a subtree; undefined walks on into it. Ancestors of the folder are walked through.
      if (!inside && !prefix.startsWith(`${filepath}/`)) return null;
      const relativePath = filepath.slice(prefix.length);
      if (inside && relativePath.split('/').some((name) => (SOURCE.skippedFolders as readonly string[]).includes(name))) return null;
      // Like git, .gitignore hides only untracked files (a tracked file that matches stays visible), and an ignored
      // untracked folder hides everything in it, the model folder included.
      if (!head && !stage && workdir && (await isIgnored({ fs, dir: root, filepath }))) return null;
      if (!inside) return undefined;

      const [headType, workdirType, stageType] = await Promise.all([head?.type(), workdir?.type(), stage?.type()]);
      // A submodule is a commit in HEAD or the index: its content is another repository's lineage.
      if (headType === 'commit' || stageType === 'commit') return null;
      if (headType !== 'blob' && workdirType !== 'blob' && stageType !== 'blob') return undefined;
      const [headOid, workdirOid, stageOid] = await Promise.all([
        headType === 'blob' ? head?.oid() : undefined,
        workdirType === 'blob' && workdir ? workTreeOid(workdir, join(root, filepath), fs) : undefined,
        stageType === 'blob' ? stage?.oid() : undefined,
      ]);
      files.push({ path: relativePath, head: headOid, workdir: workdirOid, stage: stageOid });
      return undefined;
    },
  });
  return files;
}

/** Every file under a folder outside git, with the blob id git would give it, so the hash matches the in-git one. */
async function plainFiles(folder: string, fs: SourceDeps['fs']): Promise<Array<{ path: string; oid: string }>> {
  const found: Array<{ path: string; oid: string }> = [];
  const visit = async (relativeDir: string): Promise<void> => {
    const entries = await fs.promises.readdir(join(folder, relativeDir), { withFileTypes: true });
    for (const entry of entries) {
      const relativePath = relativeDir === '' ? entry.name : `${relativeDir}/${entry.name}`;
      const full = join(folder, relativePath);
      if (entry.isDirectory()) {
        if (!(SOURCE.skippedFolders as readonly string[]).includes(entry.name)) await visit(relativePath);
      } else if (entry.isSymbolicLink()) {
        // git stores a symlink as a blob of its target path, not of the file it points at.
        found.push({ path: relativePath, oid: (await hashBlob({ object: await fs.promises.readlink(full) })).oid });
      } else if (entry.isFile()) {
        found.push({ path: relativePath, oid: await blobOid(full, fs) });
      }
    }
  };
  await visit('');
  return found;
}

/** Files above this are hashed in blocks by blobOid rather than read whole (isomorphic-git holds ~2 copies). */
const LARGE_FILE = 16 << 20;

/** A work-tree file's blob id: isomorphic-git's for small files and links, blobOid's for large ones. */
async function workTreeOid(entry: WalkerEntry, full: string, fs: SourceDeps['fs']): Promise<string> {
  const stat = await entry.stat();
  return stat !== undefined && (stat.mode & 0o170000) === 0o100000 && stat.size > LARGE_FILE ? blobOid(full, fs) : entry.oid();
}

/**
 * git's blob id of a file (sha1 of "blob SIZE NUL" and the bytes), read in 1 MB blocks: a data file of a million
 * rows is ~170 MB, and reading it whole (with the copy hashBlob makes) was ~350 MB of the run's peak memory.
 */
async function blobOid(full: string, fs: SourceDeps['fs']): Promise<string> {
  const handle = await fs.promises.open(full, 'r');
  try {
    const { size } = await handle.stat();
    const hash = createHash('sha1').update(`blob ${size}\0`);
    const block = Buffer.allocUnsafe(1 << 20);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await handle.read(block, 0, Math.min(block.length, size - read), read);
      if (bytesRead === 0) break;
      hash.update(block.subarray(0, bytesRead));
      read += bytesRead;
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

function hashWorkTree(files: ReadonlyArray<{ path: string; oid: string }>): string {
  const hash = createHash('sha256');
  // NUL cannot occur in a path, so "path NUL oid LF" cannot be forged by a file name that contains an oid.
  for (const file of [...files].sort((a, b) => byBytes(a.path, b.path))) hash.update(`${file.path}\0${file.oid}\n`);
  return hash.digest('hex');
}

/** git's order (bytes of UTF-8), independent of locale, so the hash and the list are the same on every machine. */
function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
