// `bramble ui build`'s engine: the dashboard as a folder of static files — the page (index.html, app.js, app.css,
// built once by ui/build.mjs into dist/ui/) and the data beside it (data/*.js, written here from git). It opens
// from file://, from GitHub or GitLab Pages, and from the model host's /ui, with no server code.
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, isMissing } from '../fs/codes.js';
import { collectSite, type CollectOptions } from './collect.js';
import { runsPages } from './runs-pages.js';
import { SITE, type SiteIndex } from './site-types.js';

export interface BuildSiteOptions extends CollectOptions {
  /** The folder to write the site into: missing, empty, or a site built before (its data is replaced). */
  out: string;
  /** The folder holding the page's own files (SITE.assets): dist/ui/. */
  assets: string;
  /** Milliseconds since the epoch, for "generated at". */
  now?: () => number;
  pageRows?: number;
}

export interface BuiltSite {
  out: string;
  /** Every file written, relative to `out`, with its size in bytes. */
  files: { path: string; bytes: number }[];
  models: number;
  versions: number;
  runs: number;
  pages: number;
  monitoring: number;
  skipped: { where: string; reason: string }[];
  problems: string[];
}

/** What a --out folder holds now: nothing, an empty folder, a site built before, something else, or a file. */
export function outFolderState(out: string): 'missing' | 'empty' | 'site' | 'other' | 'file' {
  let entries: Dirent[];
  try {
    entries = readdirSync(out, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return 'missing';
    if (errnoCode(err) === 'ENOTDIR') return 'file';
    throw err;
  }
  if (entries.length === 0) return 'empty';
  try {
    return statSync(join(out, SITE.data, 'site.js')).isFile() ? 'site' : 'other';
  } catch (err) {
    if (isMissing(err)) return 'other';
    throw err;
  }
}

/** A data file: one call of the page's loader with the JSON as its argument (site-types.ts says why not .json). */
export function dataFile(name: string, value: unknown): string {
  return `${SITE.loader}(${JSON.stringify(name)},${JSON.stringify(value)});\n`;
}

/** Reads git, writes the site into `out`. The caller has checked `out` (outFolderState). */
export async function buildSite(options: BuildSiteOptions): Promise<BuiltSite> {
  for (const asset of SITE.assets) {
    try {
      statSync(join(options.assets, asset));
    } catch (err) {
      if (!isMissing(err)) throw err;
      // Not a person's mistake: the package ships dist/ui/. From a source checkout, npm run build makes it.
      throw new Error(`the dashboard's page is not built: ${join(options.assets, asset)} is missing (npm run build writes dist/ui/)`);
    }
  }
  const collected = await collectSite(options);
  const { columns, pages } = runsPages(collected.runs, options.pageRows ?? SITE.pageRows);
  const pageNames = pages.map((_, i) => `runs-${i}`);
  const index: SiteIndex = {
    format: SITE.format,
    version: SITE.version,
    generatedAt: new Date((options.now ?? Date.now)()).toISOString(),
    repository: collected.repository,
    registryHead: collected.registryHead,
    runsHead: collected.runsHead,
    models: collected.models,
    monitoring: collected.monitoring,
    runs: { total: collected.runs.length, pages: pageNames, metrics: columns.metrics, params: columns.params, skipped: collected.skipped },
    problems: collected.problems,
  };

  const files: { path: string; bytes: number }[] = [];
  // The data is written into a folder beside the old one and swapped in with two renames, so that a host serving
  // the site (/ui/) never answers from half a build, and a site built before loses its stale pages.
  const fresh = join(options.out, `${SITE.data}.new`);
  const old = join(options.out, `${SITE.data}.old`);
  mkdirSync(options.out, { recursive: true });
  rmSync(fresh, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
  mkdirSync(fresh);
  const write = (name: string, content: string): void => {
    writeFileSync(join(fresh, name), content);
    files.push({ path: `${SITE.data}/${name}`, bytes: Buffer.byteLength(content) });
  };
  write('site.js', dataFile('site', index));
  write('cards.js', dataFile('cards', collected.cards));
  pages.forEach((page, i) => write(`${pageNames[i]}.js`, dataFile(pageNames[i], page)));
  for (const asset of SITE.assets) {
    copyFileSync(join(options.assets, asset), join(options.out, asset));
    files.push({ path: asset, bytes: statSync(join(options.out, asset)).size });
  }
  const current = join(options.out, SITE.data);
  if (outFolderState(options.out) === 'site') renameSync(current, old);
  else rmSync(current, { recursive: true, force: true });
  renameSync(fresh, current);
  rmSync(old, { recursive: true, force: true });

  return {
    out: options.out,
    files,
    models: collected.models.length,
    versions: collected.models.reduce((n, m) => n + m.versions.length, 0),
    runs: collected.runs.length,
    pages: pages.length,
    monitoring: collected.monitoring.length,
    skipped: collected.skipped,
    problems: collected.problems,
  };
}
