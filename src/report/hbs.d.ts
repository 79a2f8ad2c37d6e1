// A Handlebars template imported as its text: `import text from './templates/x.hbs?raw'`. Vitest (Vite) reads
// `?raw` imports as text; esbuild drops the query when no such file exists and inlines the file with its text
// loader (scripts/build.mjs: `loader: { '.hbs': 'text' }`).
declare module '*.hbs?raw' {
  const text: string;
  export default text;
}
