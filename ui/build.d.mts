/** Bundles the dashboard's page (app.js, app.css, index.html) into `outdir` (default dist/ui/); resolves with it. */
export function buildUi(outdir?: string): Promise<string>;
