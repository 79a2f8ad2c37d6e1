// Features repositories for the store's tests: a features.yaml with one `billing` view of the customer entity, and
// a real git repository holding it (./git.ts).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { git } from './git.js';

/** features.yaml with the source `source` (its YAML after `name:`) feeding the billing view, and `extra` view lines. */
export function billingFeatures(source: string, spec: string, extra = ''): string {
  return `name: customer-features
entities:
  customer: { key: customerID }
sources:
  ${source}: ${spec}
views:
  billing:
    entity: customer
    source: ${source}
    event_time: billed_at
    created_time: loaded_at
    ttl: 30d
    columns:
      MonthlyCharges: { type: number, min: 0 }
      Contract: { type: category, values: [Month-to-month, One year, Two year] }
${extra}`;
}

/** A committed git repository with features.yaml and `files` (path → text); the store is gitignored. */
export function makeFeaturesRepo(features: string, files: Readonly<Record<string, string>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-features-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'features.yaml'), features);
  writeFileSync(join(dir, '.gitignore'), '.bramble/\n');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'features');
  return dir;
}
