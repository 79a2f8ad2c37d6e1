// bramble ingest: each view's source pulled, validated, written to the offline store, manifests committed.
import { ingest } from '../store/ingest.js';
import { loadFeatureRepo } from '../store/spec.js';
import { defineCommand } from './command.js';

export const HELP = `bramble ingest — pull each feature view's source into the offline store (DIR/features.yaml)

Usage: bramble ingest [DIR] [options]

Each source is pulled (a file in the repository, an http(s) URL, or a PostgreSQL query), validated against
its view's columns, written to the store as an immutable Parquet partition, and its manifest committed to git
(one commit for the run). A batch the store already holds (the same sha256) is skipped. A batch that fails
validation is quarantined under <store>/quarantine/<view>/ with a report.json and never merged.

Options:
  --view NAME   only this view (repeatable)
  --store DIR   the offline store's folder (else BRAMBLE_STORE, else features.yaml's store.path)
  --json        print the outcome per view as JSON

Exit codes: 0 ingested or unchanged, 2 a batch was quarantined, or a configuration or source error.
`;

export const command = defineCommand({
  name: 'ingest',
  help: HELP,
  options: { view: { type: 'string', multiple: true }, store: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    const repo = await loadFeatureRepo(positionals[0] ?? '.', { env: io.env, ...(values.store ? { store: values.store } : {}) });
    const result = await ingest(repo, { env: io.env, now: () => new Date() }, values.view ? { views: values.view } : {});
    if (values.json) {
      io.out(`${JSON.stringify({ store: repo.store, commit: result.commit ?? null, views: result.views.map((v) => (v.status === 'ingested' ? { view: v.view, status: v.status, version: v.version, rows: v.rows, sha256: v.manifest.sha256 } : v)) }, null, 2)}\n`);
      return 0;
    }
    for (const v of result.views) {
      io.out(v.status === 'ingested' ? `${v.view}: ingested ${v.version} (${v.rows} rows)\n` : v.status === 'unchanged' ? `${v.view}: unchanged (the batch is ${v.version})\n` : '');
    }
    if (result.commit) io.out(`committed the manifests: ${result.commit.slice(0, 12)}\n`);
    return 0;
  },
});
