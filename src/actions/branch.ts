// The retrain step's branch: cut from another branch of the remote, with one commit that says why, pushed, and
// checked out in the job's work tree so that the steps after it train what the branch holds.
//
// Decisions:
// - Through isomorphic-git and the token the registry uses (BRAMBLE_GIT_TOKEN, GITHUB_TOKEN, GITLAB_TOKEN,
//   CI_JOB_TOKEN): actions/checkout leaves no credentials in git's config, and a GitLab job's token is not git's.
// - The commit changes one file, RETRAIN.md in the model folder: a branch identical to its base could not carry a
//   pull request, and the file tells a reviewer what started the retrain. Each retrain overwrites it.
// - The commit's author is git's own variables when set, else "Bramble" (the job, not a person, wrote it).
import * as nodeFs from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import * as git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { describeError, errorClass } from '../errors.js';
import { PushRaceError, pushRef, remoteNamed } from '../registry/remote.js';
import type { GitRepo } from '../registry/store.js';
import type { Env } from '../usecases/ports.js';

/** The branch cannot be cut, committed to or pushed: the message says what is missing. */
export class RetrainBranchError extends errorClass('E_RETRAIN_BRANCH') {}

export interface BranchRequest {
  /** The model folder (holding ml.yaml). */
  dir: string;
  /** The remote branch the new one starts from. */
  base: string;
  /** The new branch's name. */
  branch: string;
  /** RETRAIN.md's text. */
  record: string;
  /** The commit message's first line. */
  message: string;
  env: Env;
}

/** Cuts, commits, pushes and checks out the branch; returns its commit. */
export async function cutBranch(request: BranchRequest): Promise<string> {
  const fs = nodeFs;
  let root: string;
  try {
    root = await git.findRoot({ fs, filepath: resolve(request.dir) });
  } catch (err) {
    throw new RetrainBranchError(`${request.dir} is not inside a git checkout (${describeError(err)}); the retrain step cuts a branch of the model's repository`, { dir: request.dir });
  }
  const repo: GitRepo = { fs, dir: root, gitdir: join(root, '.git'), cache: {} };
  const remote = await remoteNamed(repo, 'origin', request.env);
  if (remote === null) throw new RetrainBranchError('this checkout has no remote named origin; the retrain step pushes its branch there', {});
  const onAuth = () => (remote.auth ? { ...remote.auth } : { cancel: true });
  try {
    await git.fetch({ fs, http, dir: root, gitdir: repo.gitdir, cache: repo.cache, url: remote.url, remote: remote.name, ref: request.base, singleBranch: true, tags: false, onAuth, onAuthFailure: () => ({ cancel: true }) });
  } catch (err) {
    throw new RetrainBranchError(`fetching ${request.base} from the remote origin failed (${describeError(err)}); the first environment's branch must exist there, and the token must read it`, { base: request.base });
  }
  const base = await git.resolveRef({ fs, dir: root, gitdir: repo.gitdir, ref: `refs/remotes/${remote.name}/${request.base}` });
  await git.branch({ fs, dir: root, gitdir: repo.gitdir, ref: request.branch, object: base, force: true });
  await git.checkout({ fs, dir: root, gitdir: repo.gitdir, cache: repo.cache, ref: request.branch, force: true });
  const file = relative(root, join(resolve(request.dir), 'RETRAIN.md')).split(sep).join('/');
  fs.writeFileSync(join(root, file), request.record);
  await git.add({ fs, dir: root, gitdir: repo.gitdir, cache: repo.cache, filepath: file });
  const author = { name: request.env.GIT_COMMITTER_NAME || 'Bramble', email: request.env.GIT_COMMITTER_EMAIL || 'bramble@users.noreply.github.com' };
  const commit = await git.commit({ fs, dir: root, gitdir: repo.gitdir, cache: repo.cache, message: `${request.message}\n`, author, committer: author });
  try {
    await pushRef(repo, remote, `refs/heads/${request.branch}`, `refs/heads/${request.branch}`);
  } catch (err) {
    // The name carries the run's id: a branch of that name is there already when the same run is run again.
    if (err instanceof PushRaceError) {
      throw new RetrainBranchError(`the remote origin has a branch ${request.branch} already (this run retrained before?); delete it, or start a new run rather than re-running this one`, {
        branch: request.branch,
      });
    }
    throw err;
  }
  return commit;
}
