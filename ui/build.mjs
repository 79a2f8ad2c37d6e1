// Bundles the dashboard's page into dist/ui/: app.js (the entry with uPlot, minified, for browsers) and app.css
// (uPlot's styles and ours), and copies index.html. `bramble ui build` copies these three into every site.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function buildUi(outdir = fileURLToPath(new URL('../dist/ui/', import.meta.url))) {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { app: fileURLToPath(new URL('./app.ts', import.meta.url)) },
    outdir,
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    // What Chromium, Firefox and Safari of the last two years run without transforms.
    target: ['chrome110', 'firefox115', 'safari16'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(new URL('./index.html', import.meta.url), `${outdir}/index.html`);
  return outdir;
}
