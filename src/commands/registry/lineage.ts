// bramble lineage: what made a registered version — commit, data, parameters, seed, versions — and where it served.
import { Registry } from '../../registry/registry.js';
import type { Assignment } from '../../registry/state.js';
import { print } from '../command.js';
import { COMMON_HELP, openRegistry, registryCommand, RegistryUsageError, splitRef } from './common.js';

export const HELP = `bramble lineage — what made a registered version: commit, data, parameters, seed, versions, and where it ran

Usage: bramble lineage NAME@vX.Y.Z [options]
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'lineage',
  help: HELP,
  accepts: ['fetch'],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new RegistryUsageError('bramble lineage takes one NAME@vX.Y.Z');
    const { name, version } = splitRef(positionals[0], 'lineage');
    const registry = await openRegistry(values, io);
    const { snapshot, models } = await registry.read({ fetch: values.fetch });
    const v = Registry.version(models, name, version);
    const { artifact } = await registry.artifact(snapshot.head, v);
    const lineage = artifact.lineage as Record<string, unknown>;
    const served = (models.get(name)?.history ?? []).filter((a) => a.version === v.version);
    const body = { name, version: v.version, artifact: artifact.sha256, registered: v.registered, deregistered: v.deregistered, lineage, assignments: served };
    print(io, values.json, body, formatLineage(body));
    return 0;
  },
});

function formatLineage(body: {
  name: string;
  version: string;
  artifact: string;
  registered: { by: { name: string; email: string }; at: string; tag: string };
  lineage: Record<string, unknown>;
  assignments: Assignment[];
}): string {
  const l = body.lineage as {
    source: { commit: string | null; committedAt: string | null; path: string; dirty: boolean; workTree: string };
    mlYaml: { sha256: string };
    data: { path: string; sha256: string; rows: number; columns: number };
    params: Record<string, unknown>;
    seed: number;
    split: unknown;
    versions: { bramble: string; node: string };
  };
  const params = Object.entries(l.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ');
  const served = body.assignments.length > 0 ? body.assignments.map((a) => `${a.env} from ${a.at} (${a.tag}, ${a.by.name})`).join('; ') : 'never assigned';
  const data = `${l.source.commit?.slice(0, 7) ?? 'HEAD'}:${l.source.path ? `${l.source.path}/` : ''}${l.data.path}`;
  return [
    `${body.name}@${body.version}  artifact sha256:${body.artifact}`,
    `  source     commit ${l.source.commit} (${l.source.committedAt}), folder ${l.source.path || '/'}${l.source.dirty ? ', UNCOMMITTED CHANGES' : ''}`,
    `  ml.yaml    sha256:${l.mlYaml.sha256}`,
    `  data       ${l.data.path}: ${l.data.rows} rows × ${l.data.columns} columns, sha256:${l.data.sha256}`,
    `  split      ${JSON.stringify(l.split)}`,
    `  params     ${params}`,
    `  seed       ${l.seed}`,
    `  versions   bramble ${l.versions.bramble}, node ${l.versions.node}`,
    `  registered ${body.registered.at} by ${body.registered.by.name} <${body.registered.by.email}>`,
    `  served     ${served}`,
    `  reproduce  git show ${data} | sha256sum   # the data; or: bramble reproduce ${body.name}@${body.version}`,
  ].join('\n');
}
