// Where ml.yaml may point for data: inside the model's repository, nowhere else.
//
// Decisions:
// - ml.yaml comes from a pull request, and the runner that reads it holds secrets and other repositories' files.
//   A data path is therefore resolved to its real path (every symlink followed) and must stay inside the
//   repository: the git work tree that holds the model folder, or the model folder itself outside git. `..` that
//   stays inside is fine (a monorepo's shared data folder); one that leaves it, or a symlink that points out of it
//   (`/proc/self/environ`, `~/.ssh`), is refused before a byte is read.
import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { errorClass } from '../errors.js';
import { errnoCode, isMissing } from '../fs/codes.js';

export class DataPathError extends errorClass('E_DATA_PATH') {}

/** The folder data may come from: the git work tree holding `dir`, or `dir` itself. */
export async function repositoryRoot(dir: string): Promise<string> {
  const start = await realpath(dir);
  for (let at = start; ; ) {
    const found = await stat(join(at, '.git')).then(
      () => true,
      (err: unknown) => {
        if (isMissing(err) || errnoCode(err) === 'ENOTDIR') return false;
        throw err;
      },
    );
    if (found) return at;
    const up = dirname(at);
    if (up === at) return start;
    at = up;
  }
}

/**
 * The real path of `path` (as written in ml.yaml's `field`, relative to the model folder `dir`), refused when it is
 * absolute or when it, or the file a symlink leads to, lies outside the repository. A file that does not exist is
 * left for the loader to report (with its hint).
 */
export async function containedDataPath(dir: string, path: string, field: string): Promise<string> {
  if (isAbsolute(path)) {
    throw new DataPathError(`${field} is ${JSON.stringify(path)}, an absolute path; give a path inside the model repository, relative to ml.yaml`, { path });
  }
  const root = await repositoryRoot(dir);
  const joined = resolve(await realpath(dir), path);
  const inside = (p: string): boolean => {
    const r = relative(root, p);
    return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
  };
  if (!inside(joined)) {
    throw new DataPathError(`${field} is ${JSON.stringify(path)}, which leaves the model repository (${root}); keep the data inside the repository`, { path, root });
  }
  const real = await realpath(joined).catch((err: unknown) => {
    if (isMissing(err) || errnoCode(err) === 'ENOTDIR') return null;
    throw err;
  });
  if (real !== null && !inside(real)) {
    throw new DataPathError(`${field} is ${JSON.stringify(path)}, a link to a file outside the model repository; Bramble reads data only from inside the repository — copy the file in`, { path, root });
  }
  return real ?? joined;
}
