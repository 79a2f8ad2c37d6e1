// `bramble reproduce name@vX.Y.Z`: put back the source of a registered version — the model folder as it was at
// the version's commit, extracted from git into a temporary folder — train it again, and compare the new
// artifact with the registered one. Training is deterministic, so the answer is "identical" (the same sha256)
// or a list of exactly which parts differ.
import * as nodeFs from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as git from 'isomorphic-git';
import { canonicalJSON } from '../model/artifact.js';
import { sourceLineage, type SourceLineage } from '../lineage/source.js';
import { RegistryError, type GitRepo } from './store.js';

/**
 * Trains the model folder `dir`, recording `source` as its lineage; returns the path of the artifact written, or
 * null when the data no longer passes validation. The caller passes the pipeline, so that the registry imports it not.
 */
export type Retrain = (dir: string, source: SourceLineage) => Promise<string | null>;

export interface ReproduceOptions {
  train: Retrain;
  now: () => number;
  /** How many differences to list (default 20). */
  limit?: number;
}

export interface Difference {
  /** A JSON path into the artifact, e.g. `lineage.versions.node`. */
  path: string;
  registered: string;
  reproduced: string;
}

export interface Reproduction {
  identical: boolean;
  registered: string;
  reproduced: string;
  /** Empty when identical; otherwise the differing leaves, shallowest first, at most `limit`. */
  differences: Difference[];
  /** Differences beyond those listed. */
  more: number;
  seconds: number;
}

/** Writes the tree of `commit` under `path` into `into`, file by file, as git stored them. */
async function extract(repo: GitRepo, commit: string, path: string, into: string): Promise<void> {
  let count = 0;
  await git.walk({
    fs: repo.fs,
    dir: repo.dir,
    gitdir: repo.gitdir,
    cache: repo.cache,
    trees: [git.TREE({ ref: commit })],
    map: async (filepath, [entry]) => {
      if (filepath === '.' || entry === null) return undefined;
      const inside = path === '' || filepath === path || filepath.startsWith(`${path}/`);
      if (!inside && !path.startsWith(`${filepath}/`)) return null;
      if (!inside) return undefined;
      const relativePath = path === '' ? filepath : filepath.slice(path.length + 1);
      const type = await entry.type();
      if (type === 'tree') {
        if (relativePath !== '') await mkdir(join(into, relativePath), { recursive: true });
        return undefined;
      }
      if (type !== 'blob') return null;
      const content = await entry.content();
      if (!content) return null;
      const mode = await entry.mode();
      if (mode === 0o120000) {
        await nodeFs.promises.symlink(new TextDecoder().decode(content), join(into, relativePath));
      } else {
        await writeFile(join(into, relativePath), content, { mode: mode === 0o100755 ? 0o755 : 0o644 });
      }
      count++;
      return undefined;
    },
  });
  if (count === 0) throw new RegistryError(`the commit ${commit.slice(0, 7)} has no files under ${path || 'the repository root'}`, { commit, path });
}

/** The differing leaves of two JSON values, shallowest first. Arrays of numbers count as one leaf each. */
export function differences(a: unknown, b: unknown, path = ''): Difference[] {
  if (canonicalJSON(a) === canonicalJSON(b)) return [];
  const bothObjects = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b);
  if (bothObjects) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`));
  }
  const show = (v: unknown): string => {
    const text = v === undefined ? '(absent)' : canonicalJSON(v);
    return text.length > 80 ? `${text.slice(0, 77)}…` : text;
  };
  return [{ path, registered: show(a), reproduced: show(b) }];
}

export async function reproduce(
  repo: GitRepo,
  registered: Record<string, unknown> & { sha256: string },
  options: ReproduceOptions,
): Promise<Reproduction> {
  const started = options.now();
  const source = (registered.lineage as { source: SourceLineage }).source;
  if (!source.commit) throw new RegistryError('the registered artifact names no source commit; it cannot be reproduced', {});
  const folder = await mkdtemp(join(tmpdir(), 'bramble-reproduce-'));
  try {
    await extract(repo, source.commit, source.path, folder);
    // The extracted files must be exactly the ones that were trained: same paths, same blobs.
    const extracted = await sourceLineage(folder, { fs: nodeFs });
    if (extracted.workTree !== source.workTree) {
      throw new RegistryError(
        `the files of ${source.path || '/'} at ${source.commit.slice(0, 7)} do not hash to the work tree the artifact records (${source.workTree.slice(0, 12)} vs ${extracted.workTree.slice(0, 12)}); the model was trained from files that were not all committed`,
        { commit: source.commit },
      );
    }
    const artifactPath = await options.train(folder, source);
    if (artifactPath === null) throw new RegistryError(`the data at ${source.commit.slice(0, 7)} no longer passes validation, so nothing was trained`, {});
    const text = await nodeFs.promises.readFile(artifactPath, 'utf8');
    const reproduced = JSON.parse(text) as Record<string, unknown> & { sha256: string };
    const strip = (a: Record<string, unknown>) => ({ ...a, sha256: undefined });
    const all = differences(strip(registered), strip(reproduced));
    const limit = options.limit ?? 20;
    return {
      identical: reproduced.sha256 === registered.sha256,
      registered: registered.sha256,
      reproduced: reproduced.sha256,
      differences: all.slice(0, limit),
      more: Math.max(0, all.length - limit),
      seconds: (options.now() - started) / 1000,
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
