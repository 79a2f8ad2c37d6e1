// bramble which: the version an environment serves, now or at a date; with --server, also what a host serves.
import { checkEnvironment, endOf, Registry, servedAt } from '../../registry/registry.js';
import { isUnanswered, jsonOr } from '../../platform/http.js';
import { print } from '../command.js';
import { COMMON_HELP, openRegistry, readConfig, registryCommand, RegistryUsageError } from './common.js';

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
    const config = await readConfig(values);
    const env = positionals[0];
    const name = values.name ?? config.name;
    const registry = await openRegistry(values, io);
    const { snapshot, models } = await registry.read({ fetch: values.fetch });
    checkEnvironment(env, Object.keys(config.environments));
    const at = values.at === undefined ? undefined : endOf(values.at);
    const assignment = at === undefined ? (models.get(name)?.envs.get(env) ?? null) : servedAt(snapshot.events, name, env, at);
    const served = assignment?.version ? assignment : null;
    const desiredLine = served
      ? `${name}@${served.version}${at ? ` served ${env} at ${at}` : ` serves ${env}`} — ${served.tag}, by ${served.by.name} <${served.by.email}> at ${served.at}`
      : `${env} ${at ? `served no version of ${name} at ${at}` : `serves no version of ${name}`}`;
    const record = { name, env, at: at ?? null, version: served?.version ?? null, tag: served?.tag ?? null, by: served?.by ?? null, assignedAt: served?.at ?? null };
    if (values.server === undefined) {
      print(io, values.json, record, desiredLine);
      return served ? 0 : 1;
    }
    const server = values.server;
    const live = await liveOn(server, env);
    const desiredSha = served?.version ? (Registry.version(models, name, served.version).artifact ?? null) : null;
    const differs = served !== null && (live === null || live.version !== served.version || (desiredSha !== null && live.sha256 !== desiredSha));
    const liveLine = live ? `live on ${server}: ${name}@${live.version} (sha256 ${live.sha256.slice(0, 12)})` : `live on ${server}: nothing`;
    const verdict = differs
      ? `they differ: the host has not caught up with the tags (it syncs every interval; POST ${server}/admin/sync to nudge it), or it refused the version — see ${server}/status`
      : 'live is what the tags say';
    const desired = served ? { version: served.version, sha256: desiredSha } : null;
    print(io, values.json, { ...record, desired, live, differs }, [`desired: ${desiredLine}`, liveLine, verdict].join('\n'));
    return served && !differs ? 0 : 1;
  },
});

/** What a host serves in `env`, from its /status (or /version when it does not follow git). */
async function liveOn(server: string, env: string): Promise<{ version: string; sha256: string } | null> {
  if (!/^https?:\/\//.test(server)) throw new RegistryUsageError(`--server is ${JSON.stringify(server)}; give the host's base URL, such as http://127.0.0.1:8080`);
  type Status = { environments?: Record<string, { live?: { version: string; sha256: string } | null }> };
  const refused = (why: string): RegistryUsageError =>
    new RegistryUsageError(`the host at ${server} did not answer /status (${why}); is bramble serve running there?`);
  let response: Response;
  try {
    response = await fetch(`${server.replace(/\/$/, '')}/status`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    if (!isUnanswered(err)) throw err;
    throw refused(err.message);
  }
  if (!response.ok) throw refused(`it answered ${response.status}`);
  const body = await jsonOr<Status | null>(response, null);
  if (body === null) throw refused('its answer is not JSON');
  const entry = body.environments?.[env];
  if (entry === undefined) throw new RegistryUsageError(`the host at ${server} does not serve ${env}`);
  return entry.live ?? null;
}
