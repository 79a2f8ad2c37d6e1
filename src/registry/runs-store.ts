// The run records in git: the orphan branch `bramble/runs` holding runs/YYYY-MM.jsonl, one record a line
// (runs.ts says why a month a file). Written through isomorphic-git without a work tree, as the registry branch
// is (store.ts's writeRegistryCommit), so recording a run never touches the checkout or the model file.
//
// Reading 10,000 records costs one tree and ~one blob per month. A loose blob (what a local run writes) is
// inflated with node's zlib, not isomorphic-git's pure-JS one, which is most of the time otherwise; a packed one
// (after a fetch or a clone) goes through isomorphic-git. Each month file, once checked, is kept under
// .git/bramble/runs/ by its blob id, so that later reads only parse JSON.
import { dirname, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import * as git from 'isomorphic-git';
import { writeFileAtomic } from '../fs/atomic.js';
import { errnoCode, isMissing } from '../fs/codes.js';
import { resolveOrNull, setRef, writeRegistryCommit, type GitIdentity, type GitRepo } from './store.js';
import { byTime, monthFile, MONTH_FILE, parseRunLine, prepareRunChecks, runLine, RUNS, RunsError, type RunRecord } from './runs.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A line or file of the branch that is not a record Bramble can read: where it is, and why. */
export interface Skipped {
  where: string;
  reason: string;
}

export interface RunsRead {
  /** The commit read, or null when there are no runs yet. */
  head: string | null;
  /** Newest first. */
  records: RunRecord[];
  skipped: Skipped[];
  /** False when reading stopped early (`enough` records found): older months were not read. */
  complete: boolean;
}

/** The repository holding `dir`, or null when `dir` is not inside one. */
export async function findRepo(dir: string, fs: typeof import('node:fs')): Promise<GitRepo | null> {
  try {
    const root = await git.findRoot({ fs, filepath: dir });
    return { fs, dir: root, gitdir: join(root, '.git'), cache: {} };
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) return null;
    throw err;
  }
}

/** The repository holding `dir`; outside one, an error saying so. */
export async function requireRepo(dir: string, fs: typeof import('node:fs')): Promise<GitRepo> {
  const repo = await findRepo(dir, fs);
  if (repo === null) throw new RunsError(`${dir} is not inside a git repository; run records live on the ${RUNS.branch} branch of the model's repository — run git init there first`, { dir });
  return repo;
}

/** A blob's bytes: a loose object inflated by node's zlib, a packed one read by isomorphic-git. */
function looseBlob(repo: GitRepo, oid: string): Uint8Array | null {
  let raw: Buffer;
  try {
    raw = repo.fs.readFileSync(join(repo.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)));
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  const object = inflateSync(raw);
  const nul = object.indexOf(0);
  if (nul < 0 || !object.subarray(0, 5).equals(Buffer.from('blob '))) return null;
  return object.subarray(nul + 1);
}

async function blobText(repo: GitRepo, oid: string): Promise<string> {
  const loose = looseBlob(repo, oid);
  if (loose !== null) return Buffer.from(loose.buffer, loose.byteOffset, loose.byteLength).toString('utf8');
  const { blob } = await git.readBlob({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid });
  return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('utf8');
}

/** The month files under runs/ at `head`, newest month first, and what else the branch holds (named, skipped). */
async function monthEntries(repo: GitRepo, head: string, skipped: Skipped[]): Promise<{ path: string; oid: string }[]> {
  const { commit } = await git.readCommit({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: head });
  const { tree } = await git.readTree({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: commit.tree });
  const months: { path: string; oid: string }[] = [];
  for (const entry of tree) {
    if (entry.path !== RUNS.folder || entry.type !== 'tree') {
      skipped.push({ where: `${RUNS.branch}:${entry.path}`, reason: `not a run file (records live in ${RUNS.folder}/YYYY-MM.jsonl)` });
      continue;
    }
    const { tree: files } = await git.readTree({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: entry.oid });
    for (const file of files) {
      const path = `${RUNS.folder}/${file.path}`;
      if (file.type === 'blob' && MONTH_FILE.test(file.path)) months.push({ path, oid: file.oid });
      else skipped.push({ where: `${RUNS.branch}:${path}`, reason: 'not a month file (YYYY-MM.jsonl)' });
    }
  }
  return months.sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
}

/** One month file read and checked: its records (in file order) and the lines skipped. */
interface MonthRead {
  records: RunRecord[];
  skipped: Skipped[];
}

/** Reads and checks a month file's lines (the schema check is loaded on the first call). */
async function checkMonth(repo: GitRepo, path: string, oid: string): Promise<MonthRead> {
  await prepareRunChecks();
  const records: RunRecord[] = [];
  const skipped: Skipped[] = [];
  const lines = (await blobText(repo, oid)).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const parsed = parseRunLine(line);
    if ('problem' in parsed) {
      skipped.push({ where: `${RUNS.branch}:${path}:${i + 1}${parsed.id ? ` (${parsed.id})` : ''}`, reason: parsed.problem });
      continue;
    }
    const { record } = parsed;
    if (monthFile(record) !== path) {
      skipped.push({ where: `${RUNS.branch}:${path}:${i + 1} (${record.id})`, reason: `filed in the wrong month (its time ${record.at} belongs in ${monthFile(record)})` });
      continue;
    }
    records.push(record);
  }
  return { records, skipped };
}

/**
 * The local cache of checked month files: .git/bramble/runs/YYYY-MM-<blob id>.json, the records a month file
 * held once checked. Keyed by the blob's id, so it is never stale, and local, so no push can change it — the
 * registry's index cache (store.ts) is kept the same way. It saves inflating, schema-checking and hashing every
 * record again on each `runs ls` (most of its time at 10,000 records); one file is kept per month.
 */
const MONTH_CACHE = { folder: 'runs', format: 'bramble-runs-month', version: 1 } as const;

function monthCachePath(repo: GitRepo, path: string, oid: string): string {
  return join(repo.gitdir, 'bramble', MONTH_CACHE.folder, `${path.slice(RUNS.folder.length + 1, -'.jsonl'.length)}-${oid}.json`);
}

async function cachedMonth(repo: GitRepo, path: string, oid: string): Promise<MonthRead | null> {
  let text: string;
  try {
    text = await repo.fs.promises.readFile(monthCachePath(repo, path, oid), 'utf8');
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  try {
    const value = JSON.parse(text) as { format?: string; version?: number; path?: string; records?: RunRecord[]; skipped?: Skipped[] };
    if (value.format !== MONTH_CACHE.format || value.version !== MONTH_CACHE.version || value.path !== path || !Array.isArray(value.records) || !Array.isArray(value.skipped)) return null;
    return { records: value.records, skipped: value.skipped };
  } catch (err) {
    // A damaged cache file costs a read from git, nothing else.
    if (err instanceof SyntaxError) return null;
    throw err;
  }
}

/** Keeps a checked month in the cache, in place of that month's earlier file; a cache that cannot be written is said and read past. */
async function keepMonth(repo: GitRepo, path: string, oid: string, read: MonthRead, warn: (message: string) => void): Promise<void> {
  const file = monthCachePath(repo, path, oid);
  const folder = dirname(file);
  const month = `${path.slice(RUNS.folder.length + 1, -'.jsonl'.length)}-`;
  try {
    await repo.fs.promises.mkdir(folder, { recursive: true });
    for (const name of await repo.fs.promises.readdir(folder)) if (name.startsWith(month)) await repo.fs.promises.rm(join(folder, name), { force: true });
    await writeFileAtomic(file, JSON.stringify({ format: MONTH_CACHE.format, version: MONTH_CACHE.version, path, records: read.records, skipped: read.skipped }));
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS' && code !== 'ENOSPC') throw err;
    warn(`the run records' cache ${folder} cannot be written (${code}); each command reads the records from git instead`);
  }
}

/**
 * The records at `head`, newest first. A line that is not a record Bramble wrote (not JSON, foreign, edited) is
 * skipped and named in `skipped`; a record seen twice counts once. With `enough`, months stop being read once
 * that many records are in hand (the newest months first), so a page of the newest runs does not read them all.
 */
export async function readRuns(repo: GitRepo, head: string | null, options: { enough?: number; warn?: (message: string) => void } = {}): Promise<RunsRead> {
  const skipped: Skipped[] = [];
  if (head === null) return { head, records: [], skipped, complete: true };
  const months = await monthEntries(repo, head, skipped);
  const records: RunRecord[] = [];
  const seen = new Set<string>();
  let complete = true;
  let warned = false;
  const warn = (message: string): void => {
    if (!warned) options.warn?.(message);
    warned = true;
  };
  for (const { path, oid } of months) {
    if (options.enough !== undefined && records.length >= options.enough) {
      complete = false;
      break;
    }
    let month = await cachedMonth(repo, path, oid);
    if (month === null) {
      month = await checkMonth(repo, path, oid);
      await keepMonth(repo, path, oid, month, warn);
    }
    for (const s of month.skipped) skipped.push(s);
    for (const record of month.records) {
      if (seen.has(record.id)) continue;
      seen.add(record.id);
      records.push(record);
    }
  }
  records.sort((a, b) => byTime(b, a));
  return { head, records, skipped, complete };
}

/** The lines of `path` at `head`, or none when the branch or file is not there. */
async function monthLines(repo: GitRepo, head: string | null, path: string): Promise<string[]> {
  if (head === null) return [];
  try {
    const { blob } = await git.readBlob({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: head, filepath: path });
    return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('utf8').split('\n').filter((line) => line.trim() !== '');
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) return [];
    throw err;
  }
}

/** The id a line's record claims, or null when the line is not a JSON object with one (it is kept as it is). */
function lineId(line: string): string | null {
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value !== 'object' || value === null) return null;
    const id = (value as Record<string, unknown>).id;
    return typeof id === 'string' ? id : null;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return null;
  }
}

/**
 * A commit on `parent` adding `records` to their month files: every line already there is kept as it is, and a
 * record whose id is there already is not added twice. Only objects are written; no ref moves.
 */
export async function writeRunsCommit(repo: GitRepo, parent: string | null, records: readonly RunRecord[], who: GitIdentity, message: string): Promise<string> {
  const byMonth = new Map<string, RunRecord[]>();
  for (const record of [...records].sort(byTime)) {
    const path = monthFile(record);
    const list = byMonth.get(path) ?? [];
    list.push(record);
    byMonth.set(path, list);
  }
  const files = new Map<string, Uint8Array>();
  for (const [path, added] of byMonth) {
    const lines = await monthLines(repo, parent, path);
    const present = new Set<string>();
    for (const line of lines) {
      const id = lineId(line);
      if (id !== null) present.add(id);
    }
    for (const record of added) if (!present.has(record.id)) lines.push(runLine(record));
    files.set(path, new TextEncoder().encode(lines.join('\n') + '\n'));
  }
  return writeRegistryCommit(repo, parent, files, message, who);
}

/**
 * Runs `change` holding the lock beside the local runs ref (git's own `<ref>.lock` convention): runs of one
 * repository finishing together, or a run and a push, take turns, so that no record is lost between a read of
 * the ref and its update.
 */
export async function withRunsLock<T>(repo: GitRepo, change: () => Promise<T>): Promise<T> {
  const lock = join(repo.gitdir, `${RUNS.ref}.lock`);
  await repo.fs.promises.mkdir(join(lock, '..'), { recursive: true });
  await takeLock(repo, lock);
  try {
    return await change();
  } finally {
    await repo.fs.promises.rm(lock, { force: true });
  }
}

/** Adds `records` to the local runs branch; returns its new commit. */
export function appendRuns(repo: GitRepo, records: readonly RunRecord[], who: GitIdentity): Promise<string> {
  return withRunsLock(repo, async () => {
    const head = await resolveOrNull(repo, RUNS.ref);
    const message = records.length === 1 ? `run ${records[0].id}` : `${records.length} runs`;
    const commit = await writeRunsCommit(repo, head, records, who, message);
    await setRef(repo, RUNS.ref, commit);
    return commit;
  });
}

const LOCK = { attempts: 100, waitMs: 50 } as const;

async function takeLock(repo: GitRepo, lock: string): Promise<void> {
  for (let attempt = 0; attempt < LOCK.attempts; attempt++) {
    try {
      await repo.fs.promises.writeFile(lock, 'bramble runs\n', { flag: 'wx' });
      return;
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
      await new Promise((resolve) => setTimeout(resolve, LOCK.waitMs));
    }
  }
  throw new RunsError(`${lock} has been held for ${(LOCK.attempts * LOCK.waitMs) / 1000} s: another bramble run is recording, or one stopped while it did — if none runs, remove that file`, { lock });
}

/** Who writes the runs commits: git's variables, then the repository's config, then Bramble itself (a record is not a person's change). */
export async function runsIdentity(repo: GitRepo, env: Env, at: string): Promise<GitIdentity> {
  const config = async (path: string): Promise<string | undefined> => (await git.getConfig({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, path })) as string | undefined;
  const name = env.GIT_COMMITTER_NAME ?? (await config('user.name')) ?? env.GIT_AUTHOR_NAME ?? env.GITHUB_ACTOR ?? env.GITLAB_USER_LOGIN ?? 'bramble';
  const email = env.GIT_COMMITTER_EMAIL ?? (await config('user.email')) ?? env.GIT_AUTHOR_EMAIL ?? 'bramble@localhost';
  return { name, email, timestamp: Math.floor(Date.parse(at) / 1000), timezoneOffset: 0 };
}

/** The time of a run as ISO 8601 UTC: GIT_COMMITTER_DATE when set (seconds or ISO, as git takes it), else `nowMs`. */
export function runTime(env: Env, nowMs: number): string {
  const date = env.GIT_COMMITTER_DATE;
  if (!date) return new Date(nowMs).toISOString();
  const parsed = /^\d+$/.test(date) ? Number(date) * 1000 : Date.parse(date);
  if (!Number.isFinite(parsed)) throw new RunsError(`GIT_COMMITTER_DATE is ${JSON.stringify(date)}; give seconds since 1970 or an ISO 8601 time`, { date });
  return new Date(parsed).toISOString();
}
