// A registry transaction: read the registry (after fetching the remote), plan the tags and files, write the tag
// objects, push the tags (the remote decides who gets a name), then the registry commit, and only then move the
// local refs; when another pipeline got there first, start again from the new state. Tags whose files could not
// be published are taken back, and a tag that cannot be taken back is said, with the command that removes it.
import { resolve } from 'node:path';
import * as git from 'isomorphic-git';
import { describeError } from '../errors.js';
import { fetchRegistry, pushRef, PushRaceError, type Remote } from './remote.js';
import { foldState, type ModelState, type RecordedEvent, type TagRecord } from './state.js';
import {
  REGISTRY,
  RegistryError,
  deleteRef,
  indexBytes,
  readSnapshot,
  recordOfObject,
  resolveOrNull,
  setRef,
  writeRegistryCommit,
  writeTagObject,
  type GitIdentity,
  type GitRepo,
  type Snapshot,
} from './store.js';
import { formatTag, type RegistryEvent } from './tags.js';

/** One change: the tags to write and the files to put on the registry branch. */
export interface Plan<T> {
  result: T;
  /** Nothing to do (e.g. the artifact is registered already). */
  unchanged?: boolean;
  tags: { event: RegistryEvent; target: string; message: string; version?: string; artifact?: string }[];
  files?: Map<string, Uint8Array>;
  message: string;
}

/** What a transaction works with: the repository, its remote (null: this repository alone), who is changing it. */
export interface TransactionContext {
  repo: GitRepo;
  remote: Remote | null;
  attempts: number;
  warn: (message: string) => void;
  who: GitIdentity;
}

/** Moves the local registry branch to the fetched head when that only adds to it. */
export async function fastForward(repo: GitRepo, remoteHead: string): Promise<void> {
  const local = await resolveOrNull(repo, REGISTRY.ref);
  if (local === remoteHead) return;
  const ahead =
    local === null ||
    (await git.isDescendent({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: remoteHead, ancestor: local, depth: -1 }));
  if (ahead) await setRef(repo, REGISTRY.ref, remoteHead);
}

/**
 * Runs one change as a transaction: `plan` sees the registry as it stands and says what to write; when another
 * pipeline wins a race for a tag or the branch, the plan runs again on the new state, up to `ctx.attempts` times.
 */
export async function transact<T>(ctx: TransactionContext, what: string, plan: (snapshot: Snapshot, models: Map<string, ModelState>) => Promise<Plan<T>>): Promise<T> {
  return oneAtATime(resolve(ctx.repo.gitdir), () => transactNow(ctx, what, plan));
}

/**
 * Transactions on one repository in this process run one at a time. Two at once (two models of one repository
 * registered together) fetched packs into the same .git while the other read objects from it, and isomorphic-git
 * then read a pack still being written ("Packfile trailer mismatch", exit 3). Other processes are kept apart by
 * the remote, which takes each tag name once.
 */
const running = new Map<string, Promise<void>>();

function oneAtATime<T>(key: string, run: () => Promise<T>): Promise<T> {
  const before = running.get(key) ?? Promise.resolve();
  // Each caller gets its own outcome through `result`; the chain only waits for the one before to settle.
  const result = before.then(run);
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  running.set(key, settled);
  void settled.then(() => {
    if (running.get(key) === settled) running.delete(key);
  });
  return result;
}

async function transactNow<T>(ctx: TransactionContext, what: string, plan: (snapshot: Snapshot, models: Map<string, ModelState>) => Promise<Plan<T>>): Promise<T> {
  const who = ctx.who;
  for (let attempt = 1; attempt <= ctx.attempts; attempt++) {
    const onRemote = new Map<string, string>();
    const base = ctx.remote ? await fetchRegistry(ctx.repo, ctx.remote, onRemote) : await resolveOrNull(ctx.repo, REGISTRY.ref);
    const snapshot = await readSnapshot(ctx.repo, base, attempt === 1 ? ctx.warn : () => {});
    const planned = await plan(snapshot, foldState(snapshot.events));
    if (planned.unchanged) {
      if (ctx.remote && base !== null) await fastForward(ctx.repo, base);
      return planned.result;
    }
    const written: RecordedEvent[] = [];
    for (const t of planned.tags) {
      const tag = formatTag(t.event);
      const oid = await writeTagObject(ctx.repo, tag, t.target, t.message, who);
      // Read back from the object just written: the record carries the object's text, as the index must.
      const record: TagRecord = await recordOfObject(ctx.repo, tag, oid);
      written.push({ record, event: t.event });
    }
    const files = new Map(planned.files ?? []);
    if (!ctx.remote) {
      const commit = await writeRegistryCommit(ctx.repo, base, await withIndex(files, [...snapshot.events, ...written]), planned.message, who);
      await setRef(ctx.repo, REGISTRY.ref, commit);
      for (const { record } of written) await setRef(ctx.repo, `refs/tags/${record.tag}`, record.oid);
      return planned.result;
    }
    // The tags go first: a tag name can be created only once, so the remote itself decides which of two racing
    // pipelines gets a version or a counter. They are pushed from local refs (see pushRef); a tag that did not
    // reach the remote is taken back here.
    let raced = false;
    for (const { record } of written) {
      const ref = `refs/tags/${record.tag}`;
      await setRef(ctx.repo, ref, record.oid);
      try {
        await pushRef(ctx.repo, ctx.remote, ref, ref);
      } catch (err) {
        await deleteRef(ctx.repo, ref);
        if (!(err instanceof PushRaceError)) throw err;
        raced = true;
        break;
      }
      // Another command in this same repository may have fetched while this one pushed: the fetch then set our
      // local tag to the remote's object, and the push of that ref "succeeded" by sending nothing. The tag is
      // ours only if the ref still holds our object.
      if ((await resolveOrNull(ctx.repo, ref)) !== record.oid) {
        raced = true;
        break;
      }
    }
    if (raced) {
      await backoff(attempt);
      continue;
    }
    // The name is ours; now the files and the index, on whatever the registry branch has become meanwhile.
    await publish(ctx, base, published(snapshot.events, onRemote), written, files, planned.message, who);
    return planned.result;
  }
  throw new RegistryError(`gave up on ${what} after ${ctx.attempts} attempts: other pipelines kept changing the registry first — run the command again`, { what });
}

/** Pushes a registry commit with `files` and an index of every tag known, rebuilding it until the push lands. */
async function publish(ctx: TransactionContext, base: string | null, known: RecordedEvent[], written: RecordedEvent[], files: Map<string, Uint8Array>, message: string, who: GitIdentity): Promise<void> {
  const remote = ctx.remote as Remote;
  let head = base;
  let events = [...known, ...written];
  for (let attempt = 1; attempt <= ctx.attempts; attempt++) {
    const commit = await writeRegistryCommit(ctx.repo, head, await withIndex(files, events), message, who);
    try {
      await pushRef(ctx.repo, remote, commit, REGISTRY.ref);
      await setRef(ctx.repo, REGISTRY.ref, commit);
      return;
    } catch (err) {
      if (!(err instanceof PushRaceError)) {
        await withdraw(ctx, written);
        throw err;
      }
    }
    await backoff(attempt);
    const onRemote = new Map<string, string>();
    head = await fetchRegistry(ctx.repo, remote, onRemote);
    // Our own tags are on the remote now, so the new snapshot holds them with everyone else's.
    events = published((await readSnapshot(ctx.repo, head, () => {})).events, onRemote);
  }
  await withdraw(ctx, written);
  throw new RegistryError(`gave up writing ${REGISTRY.branch} after ${ctx.attempts} attempts: other pipelines kept changing it first — run the command again`, {});
}

/**
 * The records an index pushed to the remote may hold: tags the remote has, with the same object. A tag that exists
 * only here — another command's, pushing at this moment in this same repository, which may yet lose its race —
 * must not reach the shared index, or a record of a version nobody holds would outlive it.
 */
function published(events: readonly RecordedEvent[], onRemote: ReadonlyMap<string, string>): RecordedEvent[] {
return events.filter((e) => onRemote.get(`refs/tags/${e.record.tag}`) === e.record.oid);
}

async function withIndex(files: Map<string, Uint8Array>, events: readonly RecordedEvent[]): Promise<Map<string, Uint8Array>> {
const all = new Map(files);
all.set(REGISTRY.index, await indexBytes(events));
return all;
}

/** How a tag is taken back: on the remote, and here. */
export interface TagRemoval {
  /** Where the tag was pushed, as a person names it in a git command. */
  remote: string;
  deleteRemote(ref: string): Promise<void>;
  deleteLocal(ref: string): Promise<void>;
}

/**
 * Takes back tags whose files could not be published, so that no version points at nothing. Nothing is expected
 * to fail here, and the caller is already failing with the error that matters; so a tag that cannot be taken back
 * is not thrown but said, with the git command that removes it, instead of being left behind in silence.
 */
export async function withdrawTags(tags: readonly string[], removal: TagRemoval, warn: (message: string) => void): Promise<void> {
  for (const tag of tags) {
    const ref = `refs/tags/${tag}`;
    const left = (where: string, fix: string) => (err: unknown): void => {
      warn(`the tag ${tag} could not be taken back ${where} (${describeError(err)}); it names a version whose files are not on ${REGISTRY.branch} — remove it: ${fix}`);
    };
    await removal.deleteRemote(ref).catch(left(`from ${removal.remote}`, `git push --delete ${removal.remote} ${tag}`));
    await removal.deleteLocal(ref).catch(left('here', `git tag -d ${tag}`));
  }
}

async function withdraw(ctx: TransactionContext, written: readonly RecordedEvent[]): Promise<void> {
  const remote = ctx.remote as Remote;
  const removal: TagRemoval = {
    remote: remote.name,
    deleteRemote: (ref) => pushRef(ctx.repo, remote, ref, ref, { delete: true }),
    deleteLocal: (ref) => deleteRef(ctx.repo, ref),
  };
  await withdrawTags(
    written.map(({ record }) => record.tag),
    removal,
    ctx.warn,
  );
}

function backoff(attempt: number): Promise<void> {
  // Jittered, growing waits, so that racing pipelines stop colliding. The jitter only spaces out retries; nothing
  // it touches is recorded, so it need not be seeded.
  const ms = Math.min(2000, 25 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}
