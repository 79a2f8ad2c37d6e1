// npm run reference:record: writes scikit-learn's and scipy's figures to test/reference-figures/, which `npm test`
// compares with so that it needs no Python. The recording code is TypeScript shared with the tests
// (test/reference/record.ts), so it is bundled with esbuild first.
//
// The bundle is written beside its source, in test/reference/, and removed afterwards: the helpers find the
// fixtures, the Python scripts and the figures relative to their own module URL, which stays right from there.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../test/reference/record.ts', import.meta.url));
const outfile = fileURLToPath(new URL(`../test/reference/.record-${process.pid}.mjs`, import.meta.url));

try {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  const { recordFigures } = await import(pathToFileURL(outfile).href);
  const python = process.env.BRAMBLE_REFERENCE_PYTHON || '/usr/bin/python3';
  const written = await recordFigures({ python, now: new Date(), log: (line) => console.log(line) });
  console.log(`wrote ${written.join(', ')}`);
} catch (err) {
  console.error(`reference:record failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  rmSync(outfile, { force: true });
}
