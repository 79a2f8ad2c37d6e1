// Bundles the CLI, the library entry, the training worker and the GitHub actions into dist/ with esbuild;
// shared code goes into chunks, so nothing is bundled twice.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { buildUi } from '../ui/build.mjs';

/** The actions under actions/<step>/, each with its entry src/actions/<step>.ts. */
export const ACTION_STEPS = ['validate', 'train', 'compare', 'register', 'promote', 'deploy', 'monitor', 'retrain', 'sweep'];

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: {
    cli: 'src/cli.ts',
    index: 'src/index.ts',
    'forest-worker': 'src/model/forest/worker.ts',
    // actions/<step>/action.yml runs dist/actions/<step>.js; the chunks they share with the CLI stay in dist/.
    ...Object.fromEntries(ACTION_STEPS.map((step) => [`actions/${step}`, `src/actions/${step}.ts`])),
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Chunks sit beside the top-level entries, so that the code that starts training threads (always in a chunk,
  // since the CLI and the actions share it) finds forest-worker.js next to itself.
  chunkNames: 'chunk-[hash]',
  // The report's Handlebars templates are inlined as text (imported as `./x.hbs?raw`, which vitest reads too).
  loader: { '.hbs': 'text' },
  // A native addon finds its compiled .node file beside its own package: it is loaded from node_modules, never bundled.
  external: ['better-sqlite3'],
  banner: { js: "import { createRequire as __bramble_createRequire } from 'node:module'; const require = __bramble_createRequire(import.meta.url);" },
  logLevel: 'warning',
});
// The dashboard's page (bramble ui build copies it into each site): a browser bundle of its own.
await buildUi();
