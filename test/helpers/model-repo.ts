// A model repository for registry tests: the template copied into a temporary folder with a small forest, made a
// real git repository with git's own CLI (./git.ts).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACT } from '../../src/model/artifact.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { AUTHOR, git } from './git.js';

const template = join(import.meta.dirname, '../../templates/model-repo');

export { AUTHOR, git, gitAsync } from './git.js';

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
