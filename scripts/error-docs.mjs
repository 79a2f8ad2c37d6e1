// Generates docs/errors.md from the error catalog (ERRORS in src/errors.ts), the single source of truth for codes,
// exit codes, HTTP statuses and fixes.
//   node scripts/error-docs.mjs           writes docs/errors.md
//   node scripts/error-docs.mjs --check   exits 1 when docs/errors.md differs from what the catalog gives
//   --out <file>                          another file (tests use it)
// The catalog is TypeScript; esbuild (already the build's bundler) turns src/errors.ts into a module in memory, so
// the docs never depend on a stale dist/.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { docFileMain } from './doc-file.mjs';

const CATALOG_FILE = fileURLToPath(new URL('../src/errors.ts', import.meta.url));
const DOCS_FILE = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

/** src/errors.ts's exports (ERRORS, EXIT), loaded from the source. */
export async function loadCatalog(file = CATALOG_FILE) {
  const out = await build({ entryPoints: [file], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'silent' });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}

/** The Markdown reference: what the exit codes mean, then one row per code in the catalog's order. */
export function renderErrorDocs({ ERRORS, EXIT }) {
  const out = [
    '<!-- Generated from ERRORS in src/errors.ts by scripts/error-docs.mjs; do not edit by hand. -->',
    '',
    '# Errors',
    '',
    "Every failure Bramble explains has a stable code, raised by one class. The CLI prints the message (which names the value, where it came from and the fix) on one line and exits with the code's exit status; the server answers with the code's HTTP status. A code is part of Bramble's interface: it does not change between releases.",
    '',
    `Exit codes: ${EXIT.ok} ok, ${EXIT.failed} a gate, check or deploy failed, ${EXIT.usage} a mistake to fix (usage, configuration, data), ${EXIT.internal} a bug in Bramble (anything not in this table; please report it). In GitHub Actions every error fails the step.`,
    '',
    'HTTP: 500 means a request cannot cause the error; the server then answers "internal error" with the request id and logs the message.',
    '',
    '| code | raised by | exit | HTTP | fix |',
    '|---|---|---|---|---|',
  ];
  for (const [code, spec] of Object.entries(ERRORS)) out.push(row([`\`${code}\``, `\`${spec.class}\``, spec.exit, spec.http, spec.fix]));
  return out.join('\n') + '\n';
}

function row(cells) {
  return `| ${cells.map((c) => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await docFileMain(process.argv.slice(2), {
    out: DOCS_FILE,
    example: 'docs/errors.md',
    source: 'ERRORS in src/errors.ts',
    script: 'scripts/error-docs.mjs',
    render: async () => renderErrorDocs(await loadCatalog()),
  });
}
