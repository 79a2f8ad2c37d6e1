// bramble registry verify [NAME]: every version's model.json on the registry branch checked against the sha256 its
// version tag records; exit 1 on any mismatch.
import { print } from '../command.js';
import { RegistryUsageError, table } from './common.js';
import type { RegistryRead } from './read.js';

export async function verify({ registry, snapshot, models, rest, values, io }: RegistryRead): Promise<number> {
  if (rest.length > 1) throw new RegistryUsageError('bramble registry verify takes at most one NAME');
  const checks = await registry.verify(snapshot.head, models, rest[0]);
  const bad = checks.filter((c) => c.problem !== null);
  const rows = checks.map((c) => [`${c.name}@${c.version}`, c.recorded?.slice(0, 12) ?? '—', c.found?.slice(0, 12) ?? '—', c.problem ?? 'ok']);
  const verdict =
    bad.length === 0
      ? `all ${checks.length} versions match their tags`
      : `${bad.length} of ${checks.length} versions do not match their tags; do not serve them — register them again`;
  const text = checks.length === 0 ? 'no registered versions' : [table(['version', 'tag records', 'file has', 'result'], rows), verdict].join('\n');
  print(io, values.json, checks, text);
  return bad.length === 0 ? 0 : 1;
}
