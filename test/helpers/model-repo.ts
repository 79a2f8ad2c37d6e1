// A model repository for registry tests: the template copied into a temporary folder with a small forest, made a
// real git repository (git's own CLI, so that what Bramble writes through isomorphic-git is read back by git).
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACT } from '../../src/model/artifact.js';
import { runPipeline } from '../../src/pipeline/run.js';

const template = join(import.meta.dirname, '../../templates/model-repo');

export const AUTHOR = { name: 'Ada Lovelace', email: 'ada@example.com' };

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: AUTHOR.name, GIT_AUTHOR_EMAIL: AUTHOR.email, GIT_COMMITTER_NAME: AUTHOR.name, GIT_COMMITTER_EMAIL: AUTHOR.email },
  });
}

/** The template with `trees` trees (fast to train), committed on main. */
export function makeModelRepo(options: { trees?: number; name?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-registry-'));
  cpSync(template, dir, { recursive: true, filter: (src) => !src.includes(ARTIFACT.folder) });
  editMlYaml(dir, (text) => text.replace(/trees: \d+/, `trees: ${options.trees ?? 10}`).replace(/^name: .*$/m, `name: ${options.name ?? 'churn'}`));
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', AUTHOR.name);
  git(dir, 'config', 'user.email', AUTHOR.email);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'a model');
  return dir;
}

export function editMlYaml(dir: string, edit: (text: string) => string): void {
  const path = join(dir, 'ml.yaml');
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
}

export function commitAll(dir: string, message: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', message);
  return git(dir, 'rev-parse', 'HEAD').trim();
}

/** Trains the folder as it is and returns the artifact's text. */
export async function train(dir: string): Promise<string> {
  const result = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
  if (!result.artifact) throw new Error('the template failed validation');
  return readFileSync(result.artifact.path, 'utf8');
}

/** git's CLI without blocking: needed when the remote is a server in this same process. */
export function gitAsync(dir: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: AUTHOR.name, GIT_AUTHOR_EMAIL: AUTHOR.email, GIT_COMMITTER_NAME: AUTHOR.name, GIT_COMMITTER_EMAIL: AUTHOR.email } },
      (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout)),
    );
  });
}
