// bramble registry show NAME[@vX.Y.Z]: a model's versions, or one version's record and files.
import { Registry } from '../../registry/registry.js';
import type { ModelState } from '../../registry/state.js';
import { listRegistryFolder, REGISTRY } from '../../registry/store.js';
import { print } from '../command.js';
import { RegistryUsageError, short, splitRef, table } from './common.js';
import { modelJson } from './list.js';
import type { RegistryRead } from './read.js';

export async function show({ registry, snapshot, models, rest, values, io }: RegistryRead): Promise<number> {
  if (rest.length !== 1) throw new RegistryUsageError('bramble registry show takes NAME or NAME@vX.Y.Z');
  if (rest[0].includes('@')) {
    const { name, version } = splitRef(rest[0], 'registry show');
    const v = Registry.version(models, name, version);
    const m = models.get(name) as ModelState;
    const envs = [...m.envs.values()].filter((a) => a.version === v.version).map((a) => a.env);
    const files = await listRegistryFolder(registry.repo, snapshot.head, `${name}/${v.version}`);
    // The file is shown only as the tag vouches for it: a swapped model.json is refused here too.
    if (files.includes('model.json')) await registry.artifact(snapshot.head, v);
    print(io, values.json, { ...v, environments: envs, files }, formatVersionRecord(v, envs, files));
    return 0;
  }
  const m = models.get(rest[0]);
  // Registry.version says that the model is not registered, and suggests the nearest name.
  if (!m) Registry.version(models, rest[0], 'v0.0.0');
  print(io, values.json, modelJson(m as ModelState), formatModel(m as ModelState));
  return 0;
}

function formatModel(m: ModelState): string {
  const envOf = (version: string): string =>
    [...m.envs.values()]
      .filter((a) => a.version === version)
      .map((a) => a.env)
      .join(',');
  const rows = m.versions.map((v) => [v.version, v.registered.at, v.registered.by.name, short(v.commit), short(v.artifact), envOf(v.version), v.deregistered ? 'deregistered' : '']);
  return [
    `${m.name}${m.deprecated ? ` (deprecated ${m.deprecated.at} by ${m.deprecated.by.name})` : ''}`,
    table(['version', 'registered', 'by', 'commit', 'artifact', 'serves', 'status'], rows),
  ].join('\n');
}

function formatVersionRecord(v: ReturnType<typeof Registry.version>, envs: string[], files: string[]): string {
  return [
    `${v.name}@${v.version}`,
    `  commit       ${v.commit}`,
    `  artifact     ${v.artifact ? `sha256:${v.artifact}` : '– (not registered by Bramble)'}`,
    `  registered   ${v.registered.at} by ${v.registered.by.name} <${v.registered.by.email}> (${v.registered.tag})`,
    ...(v.deregistered ? [`  deregistered ${v.deregistered.at} by ${v.deregistered.by.name} (${v.deregistered.tag})`] : []),
    `  serves       ${envs.length > 0 ? envs.join(', ') : '–'}`,
    `  files        ${files.length > 0 ? files.map((f) => `${REGISTRY.branch}:${v.name}/${v.version}/${f}`).join('\n               ') : '– (none on the registry branch)'}`,
  ].join('\n');
}
