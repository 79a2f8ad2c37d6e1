// bramble materialize: the feature views' latest values per entity, from the offline store into the online store
// that `bramble serve` reads (src/store/materialize.ts does it).
import { join } from 'node:path';
import { parseInstant } from '../data/table.js';
import { materialize, type MaterializeResult } from '../store/materialize.js';
import { ONLINE_STORE } from '../store/online.js';
import { loadFeatureRepo } from '../store/spec.js';
import { UsageError } from '../usecases/options.js';
import { defineCommand, print } from './command.js';

export const HELP = `bramble materialize — each feature view's latest values per entity, into the online store

Usage: bramble materialize [DIR] [--view VIEW …] [--until TIME] [--store FOLDER] [--online FILE] [--json]

DIR is the features repository (default .; it holds features.yaml). For each view (or each --view), reads the
partitions of the offline store newer than the last materialized version, applies the view's feature steps, keeps
each entity's latest value (event time, then created time; only values at or before --until, ISO 8601 UTC, when
given) and writes them to the online store in one transaction per view: an entity's stored value is replaced only
by a newer one. The online store is FILE (default online.sqlite in the offline store: features.yaml's store.path,
BRAMBLE_STORE, or --store), a SQLite file that bramble serve reads (serve.json "features").
`;

export const command = defineCommand({
  name: 'materialize',
  help: HELP,
  options: { view: { type: 'string', multiple: true }, until: { type: 'string' }, store: { type: 'string' }, online: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 1, what: 'features repository folder' },
  async run({ values, positionals }, io) {
    let until: number | undefined;
    if (values.until !== undefined) {
      until = parseInstant(values.until);
      if (Number.isNaN(until)) throw new UsageError(`--until is ${JSON.stringify(values.until)}, not a time; give ISO 8601 such as 2026-12-01 or 2026-12-01T06:00:00Z (UTC unless it gives an offset)`);
    }
    const repo = await loadFeatureRepo(positionals[0] ?? '.', { env: io.env, ...(values.store !== undefined ? { store: values.store } : {}) });
    const file = values.online ?? join(repo.store, ONLINE_STORE.file);
    const result = await materialize(repo, file, { ...(values.view ? { views: values.view } : {}), ...(until !== undefined ? { until } : {}), now: Date.now });
    print(io, values.json, result, resultText(result));
    return 0;
  },
});

function resultText(result: MaterializeResult): string {
  const lines = [`${result.file}:`];
  for (const v of result.views) {
    if (v.versions.length === 0) {
      lines.push(`  ${v.view}: up to date (${v.stored} entities)`);
      continue;
    }
    const read = v.versions.length === 1 ? `version ${v.versions[0]}` : `${v.versions.length} versions (${v.versions[0]} … ${v.versions[v.versions.length - 1]})`;
    lines.push(
      `  ${v.view}: ${read}, ${v.rows} rows → ${v.entities} entities; ${v.written} written, ${v.kept} kept (stored as new or newer)${v.full ? ', written anew' : ''}; ${v.stored} entities stored, in ${v.seconds.toFixed(2)} s`,
    );
  }
  return lines.join('\n');
}
