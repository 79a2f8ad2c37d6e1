// bramble ui build: the dashboard as a static site, from git alone (src/ui/site.ts builds it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSite, outFolderState, type BuiltSite } from '../ui/site.js';
import { SITE } from '../ui/site-types.js';
import { UsageError } from '../usecases/options.js';
import { defineCommand, print } from './command.js';

export const HELP = `bramble ui build — the dashboard as a static site, from git alone

Usage: bramble ui build [DIR] --out FOLDER [--json]

Reads the model repository holding DIR (default .): the registry (models, versions with their cards, metrics and
lineage, environments and who promoted what when), the monitor's recorded runs, and the run records on
bramble/runs; writes FOLDER/index.html, app.js, app.css and the data beside them in FOLDER/data/*.js.
Open FOLDER/index.html from disk, publish FOLDER on GitHub or GitLab Pages, or let bramble serve show it at /ui
(serve.json "ui"). Nothing is fetched: fetch the registry and runs branches first to show a remote's.

FOLDER must be missing, empty, or a site built before (its data is replaced).
`;

/** dist/ui/, beside the bundle that runs this (dist/cli.js and its chunks), or, from the sources, the repository's. */
export function uiAssets(): string {
  const bundled = fileURLToPath(new URL('./ui/', import.meta.url));
  return existsSync(`${bundled}index.html`) ? bundled : fileURLToPath(new URL('../../dist/ui/', import.meta.url));
}

export const command = defineCommand({
  name: 'ui',
  help: HELP,
  options: { out: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 2, what: 'subcommand and folder' },
  async run({ values, positionals }, io) {
    if (positionals[0] !== 'build') throw new UsageError(`bramble ui takes the subcommand build (got ${positionals[0] === undefined ? 'none' : JSON.stringify(positionals[0])}); see bramble ui --help`);
    if (!values.out) throw new UsageError('bramble ui build needs --out FOLDER, where the site is written (e.g. --out site)');
    const state = outFolderState(values.out);
    if (state === 'file') throw new UsageError(`--out ${values.out} is a file; give a folder for the site (it is created when missing)`);
    if (state === 'other') {
      throw new UsageError(`--out ${values.out} is a folder with other files in it (no ${SITE.data}/site.js of an earlier site); give a new or empty folder, so that nothing of yours is replaced`);
    }
    const started = performance.now();
    const built = await buildSite({ dir: positionals[1] ?? '.', out: values.out, assets: uiAssets(), env: io.env, warn: (m) => io.err(`bramble: warning: ${m}\n`) });
    const seconds = (performance.now() - started) / 1000;
    print(io, values.json, { ...built, seconds }, builtText(built, seconds));
    return 0;
  },
});

function builtText(built: BuiltSite, seconds: number): string {
  const bytes = built.files.reduce((n, f) => n + f.bytes, 0);
  const lines = [
    `${built.out}/index.html: ${built.models} model(s), ${built.versions} version(s), ${built.runs} run(s) in ${built.pages} page(s), ${built.monitoring} monitored environment(s); ${built.files.length} files, ${(bytes / 1024).toFixed(0)} KiB, in ${seconds.toFixed(2)} s`,
  ];
  for (const s of built.skipped) lines.push(`  skipped ${s.where}: ${s.reason}`);
  for (const p of built.problems) lines.push(`  problem: ${p}`);
  return lines.join('\n');
}
