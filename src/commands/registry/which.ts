// bramble which: the version an environment serves, now or at a date; with --server, also what a host serves.
import { which } from '../../usecases/which.js';
import { print } from '../command.js';
import { COMMON_HELP, registryCommand, registryPorts, RegistryUsageError } from './common.js';

export const HELP = `bramble which — the version an environment serves, now or at a date

Usage: bramble which ENV [--at DATE] [--name NAME] [--server URL] [options]

What the tags say ENV should serve (desired). With --server, also what that host serves (live, from its /status),
and whether the two differ; exit 1 when they do.
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'which',
  help: HELP,
  accepts: ['at', 'name', 'fetch', 'server'],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new RegistryUsageError('bramble which takes one ENV; see bramble which --help');
    if (values.server !== undefined && values.at !== undefined) throw new RegistryUsageError('bramble which takes --server or --at, not both: a host serves now, not at a date');
    const request = { dir: values.dir ?? '.', env: positionals[0], name: values.name, at: values.at, server: values.server, fetch: values.fetch };
    const { name, env, at, served, live } = await which(request, registryPorts(values, io));
    const desiredLine = served
      ? `${name}@${served.version}${at ? ` served ${env} at ${at}` : ` serves ${env}`} — ${served.tag}, by ${served.by.name} <${served.by.email}> at ${served.at}`
      : `${env} ${at ? `served no version of ${name} at ${at}` : `serves no version of ${name}`}`;
    const record = { name, env, at, version: served?.version ?? null, tag: served?.tag ?? null, by: served?.by ?? null, assignedAt: served?.at ?? null };
    if (live === undefined || values.server === undefined) {
      print(io, values.json, record, desiredLine);
      return served ? 0 : 1;
    }
    const server = values.server;
    const liveLine = live.live ? `live on ${server}: ${name}@${live.live.version} (sha256 ${live.live.sha256.slice(0, 12)})` : `live on ${server}: nothing`;
    const verdict = live.differs
      ? `they differ: the host has not caught up with the tags (it syncs every interval; POST ${server}/admin/sync to nudge it), or it refused the version — see ${server}/status`
      : 'live is what the tags say';
    const desired = served ? { version: served.version, sha256: live.desiredSha } : null;
    print(io, values.json, { ...record, desired, live: live.live, differs: live.differs }, [`desired: ${desiredLine}`, liveLine, verdict].join('\n'));
    return served && !live.differs ? 0 : 1;
  },
});
