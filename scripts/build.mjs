// Bundles the CLI, the library entry and the training worker into dist/ with esbuild; shared code goes into
// chunks, so nothing is bundled twice.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: {
    cli: 'src/cli.ts',
    index: 'src/index.ts',
    'forest-worker': 'src/model/forest/worker.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Chunks sit beside the entries, so that every bundle finds forest-worker.js next to itself.
  chunkNames: 'chunk-[hash]',
  // The report's Handlebars templates are inlined as text (imported as `./x.hbs?raw`, which vitest reads too).
  loader: { '.hbs': 'text' },
  banner: { js: "import { createRequire as __bramble_createRequire } from 'node:module'; const require = __bramble_createRequire(import.meta.url);" },
  logLevel: 'warning',
});
