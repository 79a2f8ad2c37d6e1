// The run records' branch and its remote: `bramble runs push` (and CI's push of pull-request runs) and
// `bramble runs ls --fetch`.
//
// Decisions:
// - Records only ever get added, so catching up with a remote that moved on is a union: the local runs the
//   remote lacks are written again on top of its branch (their lines are unchanged, so their ids still check),
//   and the result is pushed as a fast-forward. Two CI jobs pushing at once both keep their runs: the loser's
//   compare-and-swap push is refused, and it fetches, catches up and pushes again.
// - A remote branch that does not contain what this repository last fetched from or pushed to it
//   (refs/remotes/NAME/bramble/runs) was rewritten by hand: a force-push or a deletion. Pushing over it would
//   take sides in something a person did on purpose or by mistake, so it is refused (exit 2) with both ways out.
import * as git from 'isomorphic-git';
import { fetchBranch, pushRef, PushRaceError, remoteRefs, type Remote } from './remote.js';
import { readRuns, withRunsLock, writeRunsCommit } from './runs-store.js';
import { RUNS, RunsError } from './runs.js';
import { errorClass } from '../errors.js';
import { resolveOrNull, setRef, type GitIdentity, type GitRepo } from './store.js';

export class RunsRewrittenError extends errorClass('E_RUNS_REWRITTEN') {}

export interface RunsSync {
  remote: string;
  /** The remote's runs branch before this, or null when it had none. */
  before: string | null;
  /** The local runs branch after this (what the remote holds when pushed). */
  head: string | null;
  /** Local runs the remote lacked, written on top of its branch. */
  added: number;
  pushed: boolean;
}

const short = (oid: string | null): string => (oid === null ? 'nothing' : oid.slice(0, 7));

async function isAncestor(repo: GitRepo, ancestor: string, of: string): Promise<boolean> {
  if (ancestor === of) return true;
  return git.isDescendent({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: of, ancestor, depth: -1 });
}

async function hasCommit(repo: GitRepo, oid: string): Promise<boolean> {
  try {
    await git.readCommit({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid });
    return true;
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) return false;
    throw err;
  }
}

function rewritten(remote: Remote, seen: string, theirs: string | null): RunsRewrittenError {
  const tracking = `refs/remotes/${remote.name}/${RUNS.branch}`;
  const now = theirs === null ? `is gone (${short(seen)} was there` : `is at ${short(theirs)}, which does not contain ${short(seen)}`;
  const accept =
    theirs === null
      ? `git update-ref -d ${tracking}`
      : `git update-ref ${RUNS.ref} ${theirs} && git update-ref ${tracking} ${theirs} (your local runs it lacks are dropped)`;
  return new RunsRewrittenError(
    `the remote ${remote.name}'s ${RUNS.branch} was rewritten by hand: it ${now}, what this repository last fetched from or pushed there${theirs === null ? ')' : ''}; nothing was pushed. ` +
      `If that was a mistake, put it back: git push ${remote.name} ${seen}:${RUNS.ref} --force. If it was meant, accept it: ${accept}, then run bramble runs push again`,
    { remote: remote.name, seen, theirs },
  );
}

/** The local runs branch caught up with `theirs`: unchanged, moved to it, or with the runs it lacks written on top. */
async function catchUp(repo: GitRepo, theirs: string, who: GitIdentity): Promise<{ head: string; added: number }> {
  return withRunsLock(repo, async () => {
    const ours = await resolveOrNull(repo, RUNS.ref);
    if (ours === null || (await isAncestor(repo, ours, theirs))) {
      await setRef(repo, RUNS.ref, theirs);
      return { head: theirs, added: 0 };
    }
    if (await isAncestor(repo, theirs, ours)) return { head: ours, added: 0 };
    const remote = new Set((await readRuns(repo, theirs)).records.map((r) => r.id));
    const missing = (await readRuns(repo, ours)).records.filter((r) => !remote.has(r.id));
    if (missing.length === 0) {
      await setRef(repo, RUNS.ref, theirs);
      return { head: theirs, added: 0 };
    }
    const head = await writeRunsCommit(repo, theirs, missing, who, `${missing.length} ${missing.length === 1 ? 'run' : 'runs'} from ${who.name}, added to the remote's`);
    await setRef(repo, RUNS.ref, head);
    return { head, added: missing.length };
  });
}

/**
 * Fetches the remote's runs branch, catches the local one up with it, and (with `push`) pushes the local runs
 * the remote lacks. A remote branch rewritten by hand is refused (RunsRewrittenError) before anything is written.
 */
export async function syncRuns(repo: GitRepo, remote: Remote, who: GitIdentity, options: { push: boolean; attempts?: number }): Promise<RunsSync> {
  const tracking = `refs/remotes/${remote.name}/${RUNS.branch}`;
  const attempts = options.attempts ?? 6;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const seen = await resolveOrNull(repo, tracking);
    const theirs = (await remoteRefs(repo, remote)).get(RUNS.ref) ?? null;
    if (theirs !== null && !(await hasCommit(repo, theirs))) await fetchBranch(repo, remote, RUNS.branch);
    if (seen !== null && seen !== theirs && (theirs === null || !(await isAncestor(repo, seen, theirs)))) {
      // The fetch moved the tracking ref: put it back, so that the next push is refused too.
      await setRef(repo, tracking, seen);
      throw rewritten(remote, seen, theirs);
    }
    let head = await resolveOrNull(repo, RUNS.ref);
    let added = 0;
    if (theirs !== null) {
      await setRef(repo, tracking, theirs);
      ({ head, added } = await catchUp(repo, theirs, who));
    }
    if (!options.push || head === null || head === theirs) return { remote: remote.name, before: theirs, head, added, pushed: false };
    try {
      await pushRef(repo, remote, RUNS.ref, RUNS.ref);
    } catch (err) {
      // Another push landed between our read and ours: read the remote again and catch up with it.
      if (err instanceof PushRaceError && attempt < attempts) continue;
      throw err;
    }
    await setRef(repo, tracking, head);
    added = (await readRuns(repo, head)).records.length - (theirs === null ? 0 : (await readRuns(repo, theirs)).records.length);
    return { remote: remote.name, before: theirs, head, added, pushed: true };
  }
  throw new RunsError(`the remote ${remote.name}'s ${RUNS.branch} kept moving while pushing (${attempts} attempts); run bramble runs push again`, { remote: remote.name });
}
