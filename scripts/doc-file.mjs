// What the generators of one reference file share (ml-yaml-docs.mjs, error-docs.mjs): write the file or, with
// --check, only say whether it is stale; --out FILE writes another file (tests use it).
import { readFileSync, writeFileSync } from 'node:fs';

/** Writes `expected` to `out`, or with `check` only compares; returns whether `out` already held it. */
export function syncDocFile(out, expected, check) {
  let actual;
  try {
    actual = readFileSync(out, 'utf8');
  } catch (err) {
    if (err?.code !== 'ENOENT') throw err;
  }
  const fresh = actual === expected;
  if (!check && !fresh) writeFileSync(out, expected);
  return fresh;
}

/**
 * The command line: `[--check] [--out FILE]`; returns the exit code. `render` gives the file's text; `source` and
 * `script` name the source of truth and the generator in the message for a stale file.
 */
export async function docFileMain(argv, { out: defaultOut, example, source, script, render }) {
  const check = argv.includes('--check');
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : defaultOut;
  if (outAt >= 0 && !out) {
    console.error(`--out needs a file name, e.g. --out ${example}`);
    return 2;
  }
  const fresh = syncDocFile(out, await render(), check);
  if (check && !fresh) {
    console.error(`${out} is stale: it differs from what ${source} gives. Run \`node ${script}\` and commit the result.`);
    return 1;
  }
  if (!check) console.log(fresh ? `${out} is up to date` : `wrote ${out}`);
  return 0;
}
