// The registry's storage in git, all through isomorphic-git (it runs where no git binary is installed): the
// registry tags, and the orphan branch `bramble/registry` holding each version's files and `index.json`, a cache
// of every registry tag's record so that reading the registry costs one blob, not thousands of tag objects.
//
// The tags always win. Anyone who can push a branch can rewrite index.json, so a record from it is believed only
// when the tag object text it carries hashes (git's SHA-1) to the object id the tag's ref holds, and the record is
// then parsed from that text, not taken from the index's other fields. A tag without such a record is read from
// git and remembered under .git/bramble/ by object id (local, so no push can change it; keyed by content, so never
// stale), which is what keeps `registry ls` fast over tags Bramble did not write (GTO's, `git tag`'s).
import { createHash } from 'node:crypto';
import * as git from 'isomorphic-git';
import { join } from 'node:path';
import { describeError, errorClass } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { errnoCode, isMissing } from '../fs/codes.js';
import type { Person, RecordedEvent, TagRecord } from './state.js';
import { parseTag } from './tags.js';
import { readCanaryTrailers } from './roles.js';

export const REGISTRY = {
  branch: 'bramble/registry',
  ref: 'refs/heads/bramble/registry',
  index: 'index.json',
  format: 'bramble-registry-index',
  version: 1,
  schemaId: 'https://bramble.dev/schemas/registry-index.schema.json',
} as const;

type Fs = typeof import('node:fs');

export interface GitRepo {
  fs: Fs;
  /** The work tree's root (the folder holding .git). */
  dir: string;
  gitdir: string;
  /** isomorphic-git's object cache, shared by every call on this repository. */
  cache: object;
}

export class RegistryError extends errorClass('E_REGISTRY') {}

export interface RegistryIndex {
  format: typeof REGISTRY.format;
  version: number;
  /** Every registry tag's record, sorted by tag name. */
  tags: TagRecord[];
}

export interface Snapshot {
  /** The registry branch's commit read, or null when the branch does not exist yet. */
  head: string | null;
  events: RecordedEvent[];
  /** Tag names the index holds that git does not (written by a push that did not finish): never reused. */
  reserved: Set<string>;
  /** How the records were obtained, for the benchmark and `--verbose`: from the index, and tags read one by one. */
  fromIndex: number;
  readTags: number;
}

export async function resolveOrNull(repo: GitRepo, ref: string): Promise<string | null> {
  try {
    return await git.resolveRef({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, ref });
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) return null;
    throw err;
  }
}

/** A file on the registry branch at `head`, or null when it is not there. */
export async function readRegistryFile(repo: GitRepo, head: string, path: string): Promise<Uint8Array | null> {
  try {
    const { blob } = await git.readBlob({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: head, filepath: path });
    return blob;
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) return null;
    throw err;
  }
}

/** The names directly under `path` on the registry branch (e.g. a model's version folders). */
export async function listRegistryFolder(repo: GitRepo, head: string | null, path: string): Promise<string[]> {
  if (head === null) return [];
  try {
    const { tree } = await git.readTree({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: head, filepath: path });
    return tree.map((e) => e.path);
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) return [];
    throw err;
  }
}

/** Reads one registry tag into its record, from the object its ref names. */
export async function readTagRecord(repo: GitRepo, tag: string): Promise<TagRecord | null> {
  const oid = await resolveOrNull(repo, `refs/tags/${tag}`);
  if (oid === null) return null;
  return recordOfObject(repo, tag, oid);
}

/** The record of the object `oid` under the tag name `tag`: an annotated tag's own fields, or a commit's. */
export async function recordOfObject(repo: GitRepo, tag: string, oid: string): Promise<TagRecord> {
  const { type, object } = await git.readObject({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid, format: 'content' });
  if (type !== 'tag') {
    // A lightweight tag: GTO always writes annotated ones, but a person may not. The commit's time stands in.
    const commit = await git.readCommit({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid });
    const c = commit.commit.committer;
    return { tag, oid, target: oid, by: { name: c.name, email: c.email }, at: isoTime(c.timestamp) };
  }
  const text = new TextDecoder().decode(object as Uint8Array);
  const record = parseTagObject(tag, oid, text);
  if (record === null) throw new RegistryError(`the tag ${tag} (${oid.slice(0, 7)}) is not a well-formed annotated tag object; delete it or write it again with git tag -a`, { tag, oid });
  return record;
}

/** git's object id of an annotated tag object with this text. */
function tagObjectId(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return createHash('sha1').update(`tag ${bytes.length}\0`).update(bytes).digest('hex');
}

/** The record an annotated tag object's text holds, or null when the text is not one. */
function parseTagObject(tag: string, oid: string, text: string): TagRecord | null {
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const message = end < 0 ? '' : text.slice(end + 2);
  const target = /^object ([0-9a-f]{40})$/m.exec(head)?.[1];
  const tagger = /^tagger (.*) <([^>]*)> (-?\d+) [+-]\d{4}$/m.exec(head);
  if (target === undefined || tagger === null) return null;
  const record: TagRecord = { tag, oid, target, by: { name: tagger[1], email: tagger[2] }, at: isoTime(Number(tagger[3])), object: text };
  const version = /^Bramble-Version: (\S+)$/m.exec(message)?.[1];
  const artifact = /^Bramble-Artifact: sha256:([0-9a-f]{64})$/m.exec(message)?.[1];
  if (version) record.version = version;
  if (artifact) record.artifact = artifact;
  const canary = readCanaryTrailers(message);
  if (canary) record.canary = canary;
  return record;
}

/**
 * The record of the tag `name` whose ref holds `oid`, from an index record when its tag object text hashes to
 * `oid` (parsed from that text, so no other field of the index counts), else null.
 */
function verifiedRecord(name: string, oid: string, cached: TagRecord | undefined): TagRecord | null {
  if (cached?.object === undefined || cached.oid !== oid) return null;
  if (tagObjectId(cached.object) !== oid) return null;
  return parseTagObject(name, oid, cached.object);
}

/**
 * Every tag's object id: packed-refs, then the loose refs under refs/tags (which win, as in git). Read straight
 * from the ref store, because isomorphic-git's listTags and resolveRef go one ref at a time.
 */
export async function tagRefs(repo: GitRepo): Promise<Map<string, string>> {
  const refs = new Map<string, string>();
  // A repository whose refs were never packed has no packed-refs: only that absence means "no packed tags".
  const packed = await repo.fs.promises.readFile(join(repo.gitdir, 'packed-refs'), 'utf8').catch((err: unknown) => {
    if (isMissing(err)) return '';
    throw err;
  });
  for (const line of packed.split('\n')) {
    // "<oid> refs/tags/<name>"; "^<oid>" lines peel the tag above and "#" lines are comments.
    const space = line.indexOf(' ');
    if (space === 40 && line.startsWith('refs/tags/', 41)) refs.set(line.slice(51).trimEnd(), line.slice(0, 40));
  }
  // Synchronous reads: thousands of 41-byte files cost a file handle and an event-loop turn each when read
  // asynchronously (0.3–0.9 s at 2,000 loose tags), against ~20 ms this way.
  const walk = (folder: string, prefix: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = repo.fs.readdirSync(folder, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) walk(join(folder, entry.name), `${prefix}${entry.name}/`);
      else if (!entry.name.endsWith('.lock')) {
        const value = repo.fs.readFileSync(join(folder, entry.name), 'utf8').trim();
        if (/^[0-9a-f]{40}$/.test(value)) refs.set(`${prefix}${entry.name}`, value);
      }
    }
  };
  walk(join(repo.gitdir, 'refs', 'tags'), '');
  return refs;
}

/** The local cache of tag records read from git, by object id: .git/bramble/tags.json. */
const LOCAL_TAGS = { file: 'tags.json', format: 'bramble-tag-records', version: 1 } as const;

async function readLocalRecords(repo: GitRepo): Promise<Map<string, TagRecord>> {
  const text = await repo.fs.promises.readFile(join(repo.gitdir, 'bramble', LOCAL_TAGS.file), 'utf8').catch((err: unknown) => {
    if (isMissing(err)) return null;
    throw err;
  });
  if (text === null) return new Map();
  try {
    const value = JSON.parse(text) as { format?: string; version?: number; records?: TagRecord[] };
    if (value.format !== LOCAL_TAGS.format || value.version !== LOCAL_TAGS.version || !Array.isArray(value.records)) return new Map();
    return new Map(value.records.map((r) => [r.oid, r]));
  } catch (err) {
    // A damaged cache costs a re-read from git, nothing else.
    if (err instanceof SyntaxError) return new Map();
    throw err;
  }
}

async function writeLocalRecords(repo: GitRepo, records: Iterable<TagRecord>): Promise<void> {
  const folder = join(repo.gitdir, 'bramble');
  await repo.fs.promises.mkdir(folder, { recursive: true });
  await writeFileAtomic(join(folder, LOCAL_TAGS.file), JSON.stringify({ format: LOCAL_TAGS.format, version: LOCAL_TAGS.version, records: [...records] }));
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/**
 * The index at `head`. Its blob is inflated and parsed once per blob id and then kept, as plain JSON, in
 * .git/bramble/index-<blob>.json: the blob id comes from the (small) commit and tree, so the cache can never be
 * stale, and reading it costs a file read instead of inflating 600 KB with isomorphic-git's pure-JS zlib.
 */
async function readIndex(repo: GitRepo, head: string, warn: (message: string) => void): Promise<RegistryIndex | null> {
  const { commit } = await git.readCommit({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: head });
  const { tree } = await git.readTree({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: commit.tree });
  const entry = tree.find((e) => e.path === REGISTRY.index && e.type === 'blob');
  if (!entry) return null;
  const cached = join(repo.gitdir, 'bramble', `index-${entry.oid}.json`);
  // The cache is only a cache: absent is normal, and any other failure is said and read past (from git itself).
  const cacheProblem = (what: string) => (err: unknown): null => {
    if (!isMissing(err)) warn(`the registry index cache ${cached} could not be ${what} (${errnoCode(err) || describeError(err)}); reading the index from git instead`);
    return null;
  };
  const hit = await repo.fs.promises.readFile(cached).catch(cacheProblem('read'));
  if (hit) {
    const index = parseIndex(hit);
    if (index) return index;
  }
  const { blob } = await git.readBlob({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: entry.oid });
  const index = parseIndex(blob);
  if (index) {
    // Only the newest index is worth keeping.
    const folder = join(repo.gitdir, 'bramble');
    await repo.fs.promises.mkdir(folder, { recursive: true }).catch(cacheProblem('written'));
    const old = (await repo.fs.promises.readdir(folder).catch(cacheProblem('listed'))) ?? [];
    for (const name of old) if (name.startsWith('index-') && name.endsWith('.json')) await repo.fs.promises.rm(join(folder, name), { force: true });
    await writeFileAtomic(cached, new TextDecoder().decode(blob)).catch(cacheProblem('written'));
  }
  return index;
}

/** Parses an index.json blob; a damaged or foreign one is treated as missing (it is only a cache). */
function parseIndex(bytes: Uint8Array | null): RegistryIndex | null {
  if (bytes === null) return null;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as RegistryIndex | null;
    if (typeof value !== 'object' || value === null) return null;
    if (value.format !== REGISTRY.format || value.version !== REGISTRY.version || !Array.isArray(value.tags)) return null;
    return value;
  } catch (err) {
    // JSON.parse fails only with a SyntaxError: a damaged index, read past like a foreign one.
    if (!(err instanceof SyntaxError)) throw err;
    return null;
  }
}

/**
 * The registry as it stands: the index at `head` reconciled with the repository's tags. `warn` hears (once) about
 * tags that look like registry tags but do not parse.
 */
export async function readSnapshot(repo: GitRepo, head: string | null, warn: (message: string) => void): Promise<Snapshot> {
  const refs = await tagRefs(repo);
  const names = [...refs.keys()].sort();
  const parsed = new Map<string, ReturnType<typeof parseTag>>();
  const malformed: string[] = [];
  for (const name of names) {
    const event = parseTag(name);
    if (event) parsed.set(name, event);
    else if (name.includes('@') || name.includes('#')) malformed.push(name);
  }
  if (malformed.length > 0) {
    const shown = malformed.slice(0, 3).join(', ');
    warn(`ignored ${malformed.length} tag${malformed.length === 1 ? '' : 's'} that look${malformed.length === 1 ? 's' : ''} like registry tags but do not follow GTO's grammar: ${shown}${malformed.length > 3 ? ', …' : ''}`);
  }
  const index = head === null ? null : await readIndex(repo, head, warn);
  const cached = new Map((index?.tags ?? []).map((r) => [r.tag, r]));
  const local = parsed.size === 0 ? new Map<string, TagRecord>() : await readLocalRecords(repo);
  const events: RecordedEvent[] = [];
  let fromIndex = 0;
  let readTags = 0;
  let learned = false;
  for (const [name, event] of parsed) {
    const oid = refs.get(name);
    if (oid === undefined || !event) continue;
    let record = verifiedRecord(name, oid, cached.get(name));
    if (record) fromIndex++;
    else {
      const known = local.get(oid);
      if (known) record = { ...known, tag: name };
      else {
        record = await recordOfObject(repo, name, oid);
        local.set(oid, record);
        learned = true;
      }
      readTags++;
    }
    events.push({ record, event });
  }
  if (learned) await writeLocalRecords(repo, local.values());
  const reserved = new Set([...cached.keys()].filter((name) => !parsed.has(name)));
  return { head, events, reserved, fromIndex, readTags };
}

export async function indexBytes(events: readonly RecordedEvent[]): Promise<Uint8Array> {
  const tags = events.map((e) => e.record).sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const index: RegistryIndex = { format: REGISTRY.format, version: REGISTRY.version, tags };
  // Nothing that breaks the published format is ever written.
  // Loaded here, not at the top: reading the registry never needs ajv.
  const { schemaValidator } = await import('../schemas.js');
  const validate = schemaValidator(REGISTRY.schemaId);
  if (!validate(index)) throw new RegistryError(`the registry index would not match ${REGISTRY.schemaId}: ${JSON.stringify(validate.errors?.slice(0, 3))}`, {});
  return new TextEncoder().encode(JSON.stringify(index, null, 1) + '\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

export interface GitIdentity extends Person {
  /** Seconds since the epoch, and the offset in minutes as git records it. */
  timestamp: number;
  timezoneOffset: number;
}

/** Writes an annotated tag object (not its ref) and returns its id. */
export async function writeTagObject(repo: GitRepo, tag: string, target: string, message: string, tagger: GitIdentity): Promise<string> {
  return git.writeTag({
    fs: repo.fs,
    dir: repo.dir,
    gitdir: repo.gitdir,
    tag: { object: target, type: 'commit', tag, tagger, message },
  });
}

/**
 * A new commit on the registry branch: `parent`'s tree with `files` put in (paths may be nested), and its message.
 * Only objects are written; no ref moves until the caller says so.
 */
export async function writeRegistryCommit(
  repo: GitRepo,
  parent: string | null,
  files: ReadonlyMap<string, Uint8Array>,
  message: string,
  author: GitIdentity,
): Promise<string> {
  const base = parent === null ? null : (await git.readCommit({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: parent })).commit.tree;
  const tree = await putFiles(repo, base, [...files].map(([path, bytes]) => ({ parts: path.split('/'), bytes })));
  return git.writeCommit({
    fs: repo.fs,
    dir: repo.dir,
    gitdir: repo.gitdir,
    commit: { message, tree, parent: parent === null ? [] : [parent], author, committer: author },
  });
}

async function putFiles(repo: GitRepo, treeOid: string | null, files: { parts: string[]; bytes: Uint8Array }[]): Promise<string> {
  const entries = new Map<string, git.TreeEntry>();
  if (treeOid !== null) {
    const { tree } = await git.readTree({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: treeOid });
    for (const e of tree) entries.set(e.path, e);
  }
  const folders = new Map<string, { parts: string[]; bytes: Uint8Array }[]>();
  for (const file of files) {
    const [head, ...rest] = file.parts;
    if (rest.length === 0) {
      const oid = await git.writeBlob({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, blob: file.bytes });
      entries.set(head, { mode: '100644', path: head, oid, type: 'blob' });
    } else {
      const list = folders.get(head) ?? [];
      list.push({ parts: rest, bytes: file.bytes });
      folders.set(head, list);
    }
  }
  for (const [name, list] of folders) {
    const existing = entries.get(name);
    const oid = await putFiles(repo, existing?.type === 'tree' ? existing.oid : null, list);
    entries.set(name, { mode: '040000', path: name, oid, type: 'tree' });
  }
  return git.writeTree({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, tree: [...entries.values()] });
}

export async function setRef(repo: GitRepo, ref: string, value: string): Promise<void> {
  await git.writeRef({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, ref, value, force: true });
}

export async function deleteRef(repo: GitRepo, ref: string): Promise<void> {
  await git.deleteRef({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, ref });
}
