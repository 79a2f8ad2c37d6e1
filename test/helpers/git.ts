// git's own CLI for tests, so that what Bramble writes through isomorphic-git is read back by git (and the other
// way round). `git` commits as AUTHOR with the machine's config; `pinnedGit` ignores the machine's config and
// fixes the identity and both dates, so that the same files give the same commit ids on every run.
import { execFile, execFileSync } from 'node:child_process';

export const AUTHOR = { name: 'Ada Lovelace', email: 'ada@example.com' };

/** The dates pinnedGit commits with. */
export const PINNED_DATES = { author: '2024-01-02T03:04:05+00:00', committer: '2024-05-06T07:08:09+02:00' };

type Env = Readonly<Record<string, string>>;

const IDENTITY: Env = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: AUTHOR.name,
  GIT_AUTHOR_EMAIL: AUTHOR.email,
  GIT_COMMITTER_NAME: AUTHOR.name,
  GIT_COMMITTER_EMAIL: AUTHOR.email,
};

const PINNED: Env = {
  GIT_AUTHOR_DATE: PINNED_DATES.author,
  GIT_COMMITTER_DATE: PINNED_DATES.committer,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};
const PINNED_CONFIG = ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main'];

/** git in `dir` as AUTHOR; its standard output. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: Object.assign({}, process.env, IDENTITY) });
}

/** git in `dir` without blocking: needed when the remote is a server in this same process. */
export function gitAsync(dir: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd: dir, encoding: 'utf8', env: Object.assign({}, process.env, IDENTITY) }, (err, stdout, stderr) =>
      err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}

/** git in `dir` isolated from the machine's config, with a fixed identity and dates; its output, trimmed. */
export function pinnedGit(dir: string, ...args: string[]): string {
  return execFileSync('git', [...PINNED_CONFIG, ...args], { cwd: dir, encoding: 'utf8', env: Object.assign({}, process.env, PINNED) }).trim();
}
