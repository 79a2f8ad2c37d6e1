// The registry's remote: fetch its branch and tags, push them back, over smart HTTP through isomorphic-git, with a
// token from the environment (GitHub and GitLab both take one as the password of HTTP Basic auth). Pushes are
// compare-and-swap: isomorphic-git sends the ref's old id as the server advertised it, the server refuses the
// update if the ref moved since, and a branch push that is not a fast-forward is refused before it is sent.
import * as git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { describeError } from '../errors.js';
import { REGISTRY, RegistryError, type GitRepo } from './store.js';
import { errnoCode } from '../fs/codes.js';

/** Environment variables a token is read from, first found wins, and the user name each goes with. */
export const TOKEN_VARIABLES: readonly { name: string; username: string }[] = [
  { name: 'BRAMBLE_GIT_TOKEN', username: 'x-access-token' },
  { name: 'GITHUB_TOKEN', username: 'x-access-token' },
  { name: 'GITLAB_TOKEN', username: 'oauth2' },
  { name: 'CI_JOB_TOKEN', username: 'gitlab-ci-token' },
];

export interface Remote {
  name: string;
  url: string;
  /** From the environment; undefined when none is set. */
  auth?: { username: string; password: string };
}

/** Raised when a push is refused because the ref moved: the caller fetches, recomputes and tries again. */
export class PushRaceError extends RegistryError {
  constructor(ref: string, reason: string) {
    super(`the remote's ${ref} moved while this command ran (${reason})`, { ref, reason });
  }
}

export function tokenFrom(env: Readonly<Record<string, string | undefined>>): Remote['auth'] {
  for (const v of TOKEN_VARIABLES) {
    const value = env[v.name];
    if (value) return { username: v.username, password: value };
  }
  return undefined;
}

/** The named remote's URL from the repository's config, or null when the repository has no such remote. */
export async function remoteNamed(repo: GitRepo, name: string, env: Readonly<Record<string, string | undefined>>): Promise<Remote | null> {
  const url = (await git.getConfig({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, path: `remote.${name}.url` })) as string | undefined;
  if (!url) return null;
  if (!/^https?:\/\//.test(url)) {
    throw new RegistryError(
      `the remote ${name} is ${url}; Bramble's registry talks to remotes over HTTP(S) only (isomorphic-git has no SSH) — add an https remote (git remote add bramble https://…) and pass --remote bramble, or use --no-remote`,
      { remote: name, url },
    );
  }
  return { name, url, auth: tokenFrom(env) };
}

function authCallbacks(remote: Remote) {
  const variables = TOKEN_VARIABLES.map((v) => v.name).join(', ');
  return {
    onAuth: () => (remote.auth ? { ...remote.auth } : { cancel: true }),
    onAuthFailure: () => ({ cancel: true }),
    variables,
  };
}

/** Turns isomorphic-git's failures into one line that says what to do. */
function remoteFailure(remote: Remote, action: string, err: unknown): Error {
  if (err instanceof RegistryError) return err;
  const safeUrl = safe(remote.url);
  if (err instanceof git.Errors.UserCanceledError || (err instanceof git.Errors.HttpError && (err.data.statusCode === 401 || err.data.statusCode === 403))) {
    const { variables } = authCallbacks(remote);
    return new RegistryError(
      remote.auth
        ? `${action} ${safeUrl} was refused: the remote did not accept the token — check that it is valid and may write to the repository`
        : `${action} ${safeUrl} needs credentials; set a token in one of ${variables}`,
      { remote: remote.name, url: safeUrl },
    );
  }
  return new RegistryError(`${action} ${safeUrl} failed: ${describeError(err)}`, { remote: remote.name, url: safeUrl });
}

/** The remote's refs under refs/heads/bramble/registry and refs/tags, by name. */
export async function remoteRefs(repo: GitRepo, remote: Remote): Promise<Map<string, string>> {
  const { onAuth, onAuthFailure } = authCallbacks(remote);
  try {
    const refs = await git.listServerRefs({ http, url: remote.url, onAuth, onAuthFailure, protocolVersion: 2, peelTags: false });
    return new Map(refs.map((r) => [r.ref, r.oid]));
  } catch (err) {
    throw remoteFailure(remote, 'reading', err);
  }
}

/**
 * Fetches the registry branch (into refs/remotes/<remote>/bramble/registry) and every tag. Returns the remote's
 * registry head, or null when the remote has no registry branch yet.
 */
export async function fetchRegistry(repo: GitRepo, remote: Remote, seen?: Map<string, string>): Promise<string | null> {
  const refs = await remoteRefs(repo, remote);
  // The remote's refs as they were read, for callers that must tell its tags from local ones.
  if (seen) {
    seen.clear();
    for (const [name, oid] of refs) seen.set(name, oid);
  }
  const head = refs.get(REGISTRY.ref) ?? null;
  const hasTags = [...refs.keys()].some((r) => r.startsWith('refs/tags/'));
  if (head === null && !hasTags) return null;
  const { onAuth, onAuthFailure } = authCallbacks(remote);
  try {
    await git.fetch({
      fs: repo.fs,
      http,
      dir: repo.dir,
      gitdir: repo.gitdir,
      cache: repo.cache,
      url: remote.url,
      remote: remote.name,
      // Every branch and tag: a registry tag may point at a commit on any branch (or none the remote keeps), and
      // only a fetch of every ref brings its tag object. Objects already here are not sent again.
      singleBranch: false,
      tags: true,
      onAuth,
      onAuthFailure,
    });
  } catch (err) {
    throw remoteFailure(remote, 'fetching from', err);
  }
  if (head !== null) {
    await git.writeRef({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, ref: `refs/remotes/${remote.name}/${REGISTRY.branch}`, value: head, force: true });
  }
  return head;
}

/** Fetches one branch of the remote into refs/remotes/<remote>/<branch> (no tags): the run records' branch. */
export async function fetchBranch(repo: GitRepo, remote: Remote, branch: string): Promise<void> {
  const { onAuth, onAuthFailure } = authCallbacks(remote);
  try {
    await git.fetch({ fs: repo.fs, http, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, url: remote.url, remote: remote.name, ref: branch, remoteRef: branch, singleBranch: true, tags: false, onAuth, onAuthFailure });
  } catch (err) {
    throw remoteFailure(remote, 'fetching from', err);
  }
}

/**
 * Pushes `ref` — a local ref, or a commit id for the registry branch — to `remoteRef`. A refusal because the ref
 * moved raises PushRaceError (fetch and retry); any other refusal — a hook that says no, a dropped connection, a
 * missing token — raises a RegistryError that carries what the remote said.
 *
 * Tags are pushed by their local ref name, never by id: isomorphic-git refuses to overwrite a remote tag only when
 * the pushed ref is under refs/tags/, and the server would otherwise accept the overwrite.
 */
export async function pushRef(repo: GitRepo, remote: Remote, ref: string, remoteRef: string, options: { delete?: boolean } = {}): Promise<void> {
  const { onAuth, onAuthFailure } = authCallbacks(remote);
  // A hook's words reach the client only as side-band messages, one line per call.
  const said: string[] = [];
  const onMessage = (line: string): void => {
    said.push(line.trimEnd());
  };
  let result: git.PushResult;
  try {
    result = await git.push({ fs: repo.fs, http, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, url: remote.url, ref, remoteRef, delete: options.delete, onAuth, onAuthFailure, onMessage });
  } catch (err) {
    if (err instanceof git.Errors.PushRejectedError) throw new PushRaceError(remoteRef, err.data.reason);
    if (err instanceof git.Errors.GitPushError) {
      const status = err.data.result.refs[remoteRef]?.error ?? err.data.prettyDetails ?? '';
      throw refusal(remote, remoteRef, status, said);
    }
    const code = errnoCode(err);
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNREFUSED' || code === 'ETIMEDOUT') {
      throw new RegistryError(
        `the connection to ${safe(remote.url)} was lost while pushing ${remoteRef} (${describeError(err)}); nothing was changed here — run the command again (what reached the remote is recomputed, never duplicated)`,
        { remote: remote.name, ref: remoteRef, code },
      );
    }
    throw remoteFailure(remote, `pushing ${remoteRef} to`, err);
  }
  if (!result.ok || result.refs[remoteRef]?.ok === false) {
    const status = result.refs[remoteRef]?.error ?? result.error ?? 'refused';
    throw refusal(remote, remoteRef, status, said);
  }
}

function safe(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

function refusal(remote: Remote, ref: string, status: string, said: string[] = []): RegistryError {
  // The server's old-id check: the ref moved between its advertisement and the update.
  if (/failed to (lock|update ref)|fetch first|non-fast-forward|stale info|cannot lock ref|already exists/i.test(status)) {
    return new PushRaceError(ref, status);
  }
  const words = said.filter((line) => line !== '').join(' / ');
  return new RegistryError(
    `the remote ${remote.name} refused ${ref}: ${status.trim()}${words ? ` (the remote says: ${words})` : ''} — nothing was changed here; fix what the remote says and run the command again`,
    { remote: remote.name, ref, status, said },
  );
}
