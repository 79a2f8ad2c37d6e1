// bramble registry ls | show | history | verify: the registry read, one subcommand a file (ls here).
import type { ModelState } from '../../registry/state.js';
import { latestVersion } from '../../registry/state.js';
import { REGISTRY } from '../../registry/store.js';
import { print } from '../command.js';
import { COMMON_HELP, openRegistry, registryCommand, RegistryUsageError, table } from './common.js';
import { history } from './history.js';
import { show } from './show.js';
import { verify } from './verify.js';

export const HELP = `bramble registry — list the registry

Usage:
  bramble registry ls [--fetch]                        every model: its latest version and what each environment serves
  bramble registry show NAME[@vX.Y.Z] [--fetch]        a model's versions, or one version's record and files
  bramble registry history [NAME] [--env ENV]          every registry event, oldest first, with who and when
  bramble registry verify [NAME] [--fetch]             checks every version's model.json on ${'`'}bramble/registry${'`'} against the
                                                       sha256 its version tag records; exit 1 on any mismatch
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'registry',
  help: HELP,
  accepts: ['fetch', 'env'],
  async run({ values, positionals }, io) {
    const [sub, ...rest] = positionals;
    const registry = await openRegistry(values, io);
    const read = await registry.read({ fetch: values.fetch });
    const args = { registry, ...read, rest, values, io };
    if (sub === 'ls' || sub === undefined) {
      const list = [...read.models.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
      print(io, values.json, list.map(modelJson), formatList(list));
      return 0;
    }
    if (sub === 'show') return show(args);
    if (sub === 'history') return history(args);
    if (sub === 'verify') return verify(args);
    throw new RegistryUsageError(`unknown registry command ${JSON.stringify(sub)}; use ls, show, history or verify`);
  },
});

export function modelJson(m: ModelState) {
  return {
    name: m.name,
    latest: latestVersion(m)?.version ?? null,
    deprecated: m.deprecated,
    environments: Object.fromEntries([...m.envs].map(([env, a]) => [env, { version: a.version, tag: a.tag, by: a.by, at: a.at, ...(a.role ? { role: a.role } : {}), ...(a.canary ? { canary: a.canary } : {}) }])),
    versions: m.versions,
  };
}

function envSummary(m: ModelState): string {
  return [...m.envs.values()]
    .filter((a) => a.version !== null)
    .sort((a, b) => (a.env < b.env ? -1 : 1))
    .map((a) => `${a.env}=${a.version}${a.canary ? ` (weight ${a.canary.weight})` : ''}`)
    .join(' ');
}

function formatList(models: ModelState[]): string {
  if (models.length === 0) return 'the registry is empty; register a model with bramble register';
  const rows = models.map((m) => [m.name, latestVersion(m)?.version ?? '–', String(m.versions.length), envSummary(m) || '–', m.deprecated ? m.deprecated.at.slice(0, 10) : '']);
  return table(['model', 'latest', 'versions', 'environments', 'deprecated'], rows);
}
