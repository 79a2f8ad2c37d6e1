// The registry's commands: register, promote (assign), unassign, deprecate, deregister, rollback, which,
// registry ls|show|history, lineage and reproduce. Each parses its arguments, opens the registry of the model
// folder's git repository, and prints text or --json. The edge (cli.ts) passes in process's parts.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { MlConfig } from '../config/ml-yaml.js';
import { errorClass } from '../errors.js';
import { ARTIFACT } from '../model/artifact.js';
import { Registry, checkEnvironment, endOf, servedAt, type Bump } from '../registry/registry.js';
import { foldState, latestVersion, type Assignment, type ModelState } from '../registry/state.js';
import { REGISTRY, listRegistryFolder } from '../registry/store.js';

export interface RegistryIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  versions: { bramble: string; node: string };
}

class RegistryUsageError extends errorClass('E_REGISTRY_USAGE') {}

const COMMON = `
Common options:
  --dir DIR          the model's folder, holding ml.yaml (default: the current folder)
  --remote NAME      the git remote to fetch from and push to (default: origin, when it exists)
  --no-remote        work on this repository alone; push nothing
  --json             print the result as JSON
The remote is reached over HTTP(S) with a token from BRAMBLE_GIT_TOKEN, GITHUB_TOKEN, GITLAB_TOKEN or CI_JOB_TOKEN.
`;

export const REGISTRY_HELP: Record<string, string> = {
  register: `bramble register — register the trained model as a new version (a name@vX.Y.Z tag on its source commit)

Usage: bramble register [--model FILE] [--version vX.Y.Z | --bump major|minor|patch] [options]

The artifact (default DIR/.bramble/model.json, trained first when it is missing) must come from committed source.
Its files go to the ${REGISTRY.branch} branch under NAME/vX.Y.Z/: model.json, card.md, report.md, metrics.json,
validation.json. The version bumps major when the signature changed, minor when the features or parameters did,
patch otherwise. An artifact registered before (the same sha256) is not registered again: that version is reused.
${COMMON}`,
  promote: `bramble promote — assign a registered version to an environment (a name#env#N tag)

Usage: bramble promote NAME@vX.Y.Z ENV [options]     (also: bramble assign)
${COMMON}`,
  unassign: `bramble unassign — take an environment's version away (a name#env!#N tag)

Usage: bramble unassign NAME ENV [options]
${COMMON}`,
  deprecate: `bramble deprecate — deprecate a model: no version of it can be promoted (a name@deprecated#N tag)

Usage: bramble deprecate NAME [options]
${COMMON}`,
  deregister: `bramble deregister — withdraw one version (a name@vX.Y.Z! tag); its files stay on ${REGISTRY.branch}

Usage: bramble deregister NAME@vX.Y.Z [options]
${COMMON}`,
  rollback: `bramble rollback — assign an earlier version to an environment again; history is never rewritten

Usage: bramble rollback ENV [--to vX.Y.Z | --to DATE] [--name NAME] [options]

Without --to, the version the environment served before its current one. A DATE (2026-11-01) means the version
that served at the end of that day (UTC); an ISO time (2026-11-01T12:00:00Z) means that moment.
${COMMON}`,
  which: `bramble which — the version an environment serves, now or at a date

Usage: bramble which ENV [--at DATE] [--name NAME] [--server URL] [options]

What the tags say ENV should serve (desired). With --server, also what that host serves (live, from its /status),
and whether the two differ; exit 1 when they do.
${COMMON}`,
  registry: `bramble registry — list the registry

Usage:
  bramble registry ls [--fetch]                        every model: its latest version and what each environment serves
  bramble registry show NAME[@vX.Y.Z] [--fetch]        a model's versions, or one version's record and files
  bramble registry history [NAME] [--env ENV]          every registry event, oldest first, with who and when
  bramble registry verify [NAME] [--fetch]             checks every version's model.json on ${'`'}bramble/registry${'`'} against the
                                                       sha256 its version tag records; exit 1 on any mismatch
${COMMON}`,
  lineage: `bramble lineage — what made a registered version: commit, data, parameters, seed, versions, and where it ran

Usage: bramble lineage NAME@vX.Y.Z [options]
${COMMON}`,
  reproduce: `bramble reproduce — train a registered version again from its source commit and compare the artifacts

Usage: bramble reproduce NAME@vX.Y.Z [--workers N] [options]

Says "identical" when the new artifact has the registered sha256, and otherwise lists exactly what differs.
Exit codes: 0 identical, 1 different.
${COMMON}`,
};

const OPTIONS = {
  dir: { type: 'string' },
  remote: { type: 'string' },
  'no-remote': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  model: { type: 'string' },
  version: { type: 'string' },
  bump: { type: 'string' },
  to: { type: 'string' },
  at: { type: 'string' },
  name: { type: 'string' },
  env: { type: 'string' },
  fetch: { type: 'boolean' },
  workers: { type: 'string' },
  server: { type: 'string' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Options a command does not take are an error, not silently ignored. */
function only(command: string, values: Values, allowed: string[]): void {
  const common = ['dir', 'remote', 'no-remote', 'json', 'help'];
  for (const key of Object.keys(values)) {
    if (!common.includes(key) && !allowed.includes(key)) throw new RegistryUsageError(`bramble ${command} takes no --${key}; see bramble ${command} --help`);
  }
}

function splitRef(text: string | undefined, command: string): { name: string; version: string } {
  const at = text?.lastIndexOf('@') ?? -1;
  if (!text || at <= 0 || at === text.length - 1) {
    throw new RegistryUsageError(`bramble ${command} needs NAME@vX.Y.Z (e.g. churn@v1.2.0), got ${text === undefined ? 'nothing' : JSON.stringify(text)}`);
  }
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}

// ml.yaml, the pipeline, the cards and reproduce are loaded by the commands that use them, so that reading the
// registry (ls, show, history) loads none of them.
async function config(dir: string): Promise<MlConfig> {
  const { readMlYaml } = await import('../config/ml-yaml.js');
  return readMlYaml(join(dir, 'ml.yaml'));
}

async function open(values: Values, io: RegistryIo): Promise<Registry> {
  if (values.remote !== undefined && values['no-remote']) throw new RegistryUsageError('--remote and --no-remote contradict each other; give one');
  return Registry.open({
    dir: values.dir ?? '.',
    env: io.env,
    remote: values['no-remote'] ? null : values.remote,
    warn: (m) => io.err(`bramble: warning: ${m}\n`),
  });
}

function print(io: RegistryIo, values: Values, json: unknown, text: string): void {
  io.out(values.json ? JSON.stringify(json, null, 2) + '\n' : text + '\n');
}

const short = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '–');

/** Runs a registry command; returns the exit code. */
export async function registryCommand(command: string, args: string[], io: RegistryIo): Promise<number> {
  const { values, positionals } = parse(args);
  const helpKey = command === 'assign' ? 'promote' : command;
  if (values.help) {
    io.out(REGISTRY_HELP[helpKey]);
    return 0;
  }
  const dir = values.dir ?? '.';
  switch (command) {
    case 'register': {
      only(command, values, ['model', 'version', 'bump', 'workers']);
      if (positionals.length > 0) throw new RegistryUsageError(`bramble register takes no arguments, got ${positionals.join(' ')}; give the folder with --dir`);
      if (values.version !== undefined && values.bump !== undefined) throw new RegistryUsageError('--version and --bump contradict each other; give one');
      if (values.bump !== undefined && !['major', 'minor', 'patch'].includes(values.bump)) {
        throw new RegistryUsageError(`--bump is ${JSON.stringify(values.bump)}; use major, minor or patch`);
      }
      const cfg = await config(dir);
      const { readAndValidate, runPipeline } = await import('../pipeline/run.js');
      const { registrationFiles } = await import('../registry/card.js');
      let file = values.model ?? join(dir, ARTIFACT.folder, ARTIFACT.file);
      if (values.model === undefined && !existsSync(file)) {
        io.err(`bramble: ${file} does not exist; training first\n`);
        const run = await runPipeline(dir, { now: () => performance.now(), versions: io.versions, workers: values.workers ? Number(values.workers) : undefined });
        if (!run.artifact) throw new RegistryUsageError(`the data of ${dir} failed validation; run bramble validate ${dir} to see why — nothing was registered`);
        file = run.artifact.path;
      }
      const text = await readFile(file, 'utf8').catch(() => {
        throw new RegistryUsageError(`the model file ${file} cannot be read; train one with bramble train, or give --model FILE`);
      });
      const { validation } = await readAndValidate(dir);
      const registry = await open(values, io);
      const result = await registry.register(text, {
        file,
        version: values.version,
        bump: values.bump as Bump | undefined,
        files: (version, artifact) => registrationFiles({ artifact, version, config: cfg, validation }),
      });
      const line = result.reused
        ? `${result.name}@${result.version} already holds this artifact (${short(result.artifact)}); reused it, nothing registered`
        : `registered ${result.name}@${result.version} on ${short(result.commit)} (artifact ${short(result.artifact)}, ${result.bump === 'first' ? 'first version' : `${result.bump} bump`})${registry.remote ? `; pushed to ${registry.remote.name}` : ''}`;
      print(io, values, result, line);
      return 0;
    }
    case 'promote':
    case 'assign': {
      only(command, values, []);
      if (positionals.length !== 2) throw new RegistryUsageError(`bramble ${command} takes NAME@vX.Y.Z ENV, got ${positionals.length === 0 ? 'nothing' : positionals.join(' ')}`);
      const { name, version } = splitRef(positionals[0], command);
      const cfg = await config(dir);
      const result = await (await open(values, io)).assign(name, version, positionals[1], Object.keys(cfg.environments));
      print(io, values, result, result.unchanged ? `${result.env} already serves ${name}@${result.version}; nothing to do` : `assigned ${name}@${result.version} to ${result.env} (${result.tag})${result.previous ? `; it served ${result.previous}` : ''}`);
      return 0;
    }
    case 'unassign': {
      only(command, values, []);
      if (positionals.length !== 2) throw new RegistryUsageError(`bramble unassign takes NAME ENV, got ${positionals.length === 0 ? 'nothing' : positionals.join(' ')}`);
      const cfg = await config(dir);
      const result = await (await open(values, io)).unassign(positionals[0], positionals[1], Object.keys(cfg.environments));
      print(io, values, result, `unassigned ${positionals[0]} from ${result.env} (${result.tag}); it served ${result.previous}`);
      return 0;
    }
    case 'deprecate': {
      only(command, values, []);
      if (positionals.length !== 1) throw new RegistryUsageError('bramble deprecate takes one model NAME');
      const result = await (await open(values, io)).deprecate(positionals[0]);
      print(io, values, result, `deprecated ${result.name} (${result.tag})`);
      return 0;
    }
    case 'deregister': {
      only(command, values, []);
      if (positionals.length !== 1) throw new RegistryUsageError('bramble deregister takes one NAME@vX.Y.Z');
      const { name, version } = splitRef(positionals[0], command);
      const result = await (await open(values, io)).deregister(name, version);
      print(io, values, result, `deregistered ${result.name}@${result.version} (${result.tag})`);
      return 0;
    }
    case 'rollback': {
      only(command, values, ['to', 'name']);
      if (positionals.length !== 1) throw new RegistryUsageError('bramble rollback takes one ENV; see bramble rollback --help');
      const cfg = await config(dir);
      const name = values.name ?? cfg.name;
      const to = values.to === undefined ? {} : /^v?\d+\.\d+\.\d+/.test(values.to) ? { version: values.to } : { date: values.to };
      const result = await (await open(values, io)).rollback(name, positionals[0], Object.keys(cfg.environments), to);
      print(
        io,
        values,
        result,
        result.unchanged ? `${result.env} already serves ${name}@${result.version}; nothing to do` : `rolled ${result.env} back to ${name}@${result.version} (${result.tag}); it served ${result.previous ?? 'nothing'}`,
      );
      return 0;
    }
    case 'which': {
      only(command, values, ['at', 'name', 'fetch', 'server']);
      if (positionals.length !== 1) throw new RegistryUsageError('bramble which takes one ENV; see bramble which --help');
      if (values.server !== undefined && values.at !== undefined) throw new RegistryUsageError('bramble which takes --server or --at, not both: a host serves now, not at a date');
      const cfg = await config(dir);
      const env = positionals[0];
      const name = values.name ?? cfg.name;
      const registry = await open(values, io);
      const { snapshot, models } = await registry.read({ fetch: values.fetch });
      checkEnvironment(env, Object.keys(cfg.environments));
      const at = values.at === undefined ? undefined : endOf(values.at);
      const assignment = at === undefined ? (models.get(name)?.envs.get(env) ?? null) : servedAt(snapshot.events, name, env, at);
      const served = assignment?.version ? assignment : null;
      const desiredLine = served
        ? `${name}@${served.version}${at ? ` served ${env} at ${at}` : ` serves ${env}`} — ${served.tag}, by ${served.by.name} <${served.by.email}> at ${served.at}`
        : `${env} ${at ? `served no version of ${name} at ${at}` : `serves no version of ${name}`}`;
      const record = { name, env, at: at ?? null, version: served?.version ?? null, tag: served?.tag ?? null, by: served?.by ?? null, assignedAt: served?.at ?? null };
      if (values.server === undefined) {
        print(io, values, record, desiredLine);
        return served ? 0 : 1;
      }
      const live = await liveOn(values.server, env);
      const desiredSha = served?.version ? (Registry.version(models, name, served.version).artifact ?? null) : null;
      const differs = served !== null && (live === null || live.version !== served.version || (desiredSha !== null && live.sha256 !== desiredSha));
      const liveLine = live ? `live on ${values.server}: ${name}@${live.version} (sha256 ${live.sha256.slice(0, 12)})` : `live on ${values.server}: nothing`;
      print(
        io,
        values,
        { ...record, desired: served ? { version: served.version, sha256: desiredSha } : null, live, differs },
        [`desired: ${desiredLine}`, liveLine, differs ? `they differ: the host has not caught up with the tags (it syncs every interval; POST ${values.server}/admin/sync to nudge it), or it refused the version — see ${values.server}/status` : 'live is what the tags say'].join('\n'),
      );
      return served && !differs ? 0 : 1;
    }
    case 'registry': {
      const [sub, ...rest] = positionals;
      only(command, values, ['fetch', 'env']);
      const registry = await open(values, io);
      const { snapshot, models } = await registry.read({ fetch: values.fetch });
      if (sub === 'ls' || sub === undefined) {
        const list = [...models.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
        print(io, values, list.map(modelJson), formatList(list));
        return 0;
      }
      if (sub === 'show') {
        if (rest.length !== 1) throw new RegistryUsageError('bramble registry show takes NAME or NAME@vX.Y.Z');
        if (rest[0].includes('@')) {
          const { name, version } = splitRef(rest[0], 'registry show');
          const v = Registry.version(models, name, version);
          const m = models.get(name) as ModelState;
          const envs = [...m.envs.values()].filter((a) => a.version === v.version).map((a) => a.env);
          const files = await listRegistryFolder(registry.repo, snapshot.head, `${name}/${v.version}`);
          // The file is shown only as the tag vouches for it: a swapped model.json is refused here too.
          if (files.includes('model.json')) await registry.artifact(snapshot.head, v);
          print(io, values, { ...v, environments: envs, files }, formatVersionRecord(v, envs, files));
          return 0;
        }
        const m = models.get(rest[0]);
        if (!m) Registry.version(models, rest[0], 'v0.0.0');
        print(io, values, modelJson(m as ModelState), formatModel(m as ModelState));
        return 0;
      }
      if (sub === 'history') {
        const name = rest[0];
        const events = snapshot.events
          .filter((e) => name === undefined || e.event.name === name)
          .filter((e) => values.env === undefined || ('env' in e.event && e.event.env === values.env))
          .sort((a, b) => (a.record.at < b.record.at ? -1 : a.record.at > b.record.at ? 1 : a.record.tag < b.record.tag ? -1 : 1));
        const resolved = foldState(snapshot.events);
        const rows = events.map((e) => ({
          at: e.record.at,
          tag: e.record.tag,
          action: e.event.kind,
          name: e.event.name,
          env: 'env' in e.event ? e.event.env : null,
          version: 'version' in e.event && e.event.version ? e.event.version : (resolved.get(e.event.name)?.history.find((h) => h.tag === e.record.tag)?.version ?? null),
          by: e.record.by,
          commit: e.record.target,
        }));
        print(io, values, rows, rows.length === 0 ? 'no registry events' : table(['when', 'action', 'model', 'env', 'version', 'by', 'tag'], rows.map((r) => [r.at, r.action, r.name, r.env ?? '', r.version ?? '', `${r.by.name} <${r.by.email}>`, r.tag])));
        return 0;
      }
      if (sub === 'verify') {
        if (rest.length > 1) throw new RegistryUsageError('bramble registry verify takes at most one NAME');
        const checks = await registry.verify(snapshot.head, models, rest[0]);
        const bad = checks.filter((c) => c.problem !== null);
        const text = checks.length === 0
          ? 'no registered versions'
          : [
              table(['version', 'tag records', 'file has', 'result'], checks.map((c) => [`${c.name}@${c.version}`, c.recorded?.slice(0, 12) ?? '—', c.found?.slice(0, 12) ?? '—', c.problem ?? 'ok'])),
              bad.length === 0 ? `all ${checks.length} versions match their tags` : `${bad.length} of ${checks.length} versions do not match their tags; do not serve them — register them again`,
            ].join('\n');
        print(io, values, checks, text);
        return bad.length === 0 ? 0 : 1;
      }
      throw new RegistryUsageError(`unknown registry command ${JSON.stringify(sub)}; use ls, show, history or verify`);
    }
    case 'lineage': {
      only(command, values, ['fetch']);
      if (positionals.length !== 1) throw new RegistryUsageError('bramble lineage takes one NAME@vX.Y.Z');
      const { name, version } = splitRef(positionals[0], command);
      const registry = await open(values, io);
      const { snapshot, models } = await registry.read({ fetch: values.fetch });
      const v = Registry.version(models, name, version);
      const { artifact } = await registry.artifact(snapshot.head, v);
      const lineage = artifact.lineage as Record<string, unknown>;
      const served = (models.get(name)?.history ?? []).filter((a) => a.version === v.version);
      const body = { name, version: v.version, artifact: artifact.sha256, registered: v.registered, deregistered: v.deregistered, lineage, assignments: served };
      print(io, values, body, formatLineage(body));
      return 0;
    }
    case 'reproduce': {
      only(command, values, ['workers', 'fetch']);
      if (positionals.length !== 1) throw new RegistryUsageError('bramble reproduce takes one NAME@vX.Y.Z');
      const { name, version } = splitRef(positionals[0], command);
      const registry = await open(values, io);
      const { snapshot, models } = await registry.read({ fetch: values.fetch });
      const v = Registry.version(models, name, version);
      const { artifact } = await registry.artifact(snapshot.head, v);
      const { reproduce } = await import('../registry/reproduce.js');
      const { runPipeline } = await import('../pipeline/run.js');
      const workers = values.workers ? Number(values.workers) : undefined;
      const now = (): number => performance.now();
      const result = await reproduce(registry.repo, artifact, {
        train: async (dir, source) => (await runPipeline(dir, { workers, versions: io.versions, now, source })).artifact?.path ?? null,
        now,
      });
      const text = result.identical
        ? `identical: ${name}@${v.version} retrained from ${short(v.commit)} gives the registered artifact, sha256 ${result.registered} (${result.seconds.toFixed(1)} s)`
        : [
            `different: ${name}@${v.version} retrained from ${short(v.commit)} gives sha256 ${result.reproduced}, not the registered ${result.registered}`,
            table(
              ['field', 'registered', 'reproduced'],
              result.differences.map((d) => [d.path, d.registered, d.reproduced]),
            ),
            ...(result.more > 0 ? [`and ${result.more} more`] : []),
          ].join('\n');
      print(io, values, { name, version: v.version, ...result }, text);
      return result.identical ? 0 : 1;
    }
  }
  throw new RegistryUsageError(`unknown command ${JSON.stringify(command)}`);
}

function modelJson(m: ModelState) {
  return {
    name: m.name,
    latest: latestVersion(m)?.version ?? null,
    deprecated: m.deprecated,
    environments: Object.fromEntries([...m.envs].map(([env, a]) => [env, { version: a.version, tag: a.tag, by: a.by, at: a.at }])),
    versions: m.versions,
  };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i].length), h.length));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function envSummary(m: ModelState): string {
  return [...m.envs.values()]
    .filter((a) => a.version !== null)
    .sort((a, b) => (a.env < b.env ? -1 : 1))
    .map((a) => `${a.env}=${a.version}`)
    .join(' ');
}

function formatList(models: ModelState[]): string {
  if (models.length === 0) return 'the registry is empty; register a model with bramble register';
  return table(
    ['model', 'latest', 'versions', 'environments', 'deprecated'],
    models.map((m) => [m.name, latestVersion(m)?.version ?? '–', String(m.versions.length), envSummary(m) || '–', m.deprecated ? m.deprecated.at.slice(0, 10) : '']),
  );
}

function formatModel(m: ModelState): string {
  const envOf = (version: string): string =>
    [...m.envs.values()]
      .filter((a) => a.version === version)
      .map((a) => a.env)
      .join(',');
  return [
    `${m.name}${m.deprecated ? ` (deprecated ${m.deprecated.at} by ${m.deprecated.by.name})` : ''}`,
    table(
      ['version', 'registered', 'by', 'commit', 'artifact', 'serves', 'status'],
      m.versions.map((v) => [v.version, v.registered.at, v.registered.by.name, short(v.commit), short(v.artifact), envOf(v.version), v.deregistered ? 'deregistered' : '']),
    ),
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
  return [
    `${body.name}@${body.version}  artifact sha256:${body.artifact}`,
    `  source     commit ${l.source.commit} (${l.source.committedAt}), folder ${l.source.path || '/'}${l.source.dirty ? ', UNCOMMITTED CHANGES' : ''}`,
    `  ml.yaml    sha256:${l.mlYaml.sha256}`,
    `  data       ${l.data.path}: ${l.data.rows} rows × ${l.data.columns} columns, sha256:${l.data.sha256}`,
    `  split      ${JSON.stringify(l.split)}`,
    `  params     ${Object.entries(l.params)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(' ')}`,
    `  seed       ${l.seed}`,
    `  versions   bramble ${l.versions.bramble}, node ${l.versions.node}`,
    `  registered ${body.registered.at} by ${body.registered.by.name} <${body.registered.by.email}>`,
    `  served     ${body.assignments.length > 0 ? body.assignments.map((a) => `${a.env} from ${a.at} (${a.tag}, ${a.by.name})`).join('; ') : 'never assigned'}`,
    `  reproduce  git show ${l.source.commit?.slice(0, 7) ?? 'HEAD'}:${l.source.path ? `${l.source.path}/` : ''}${l.data.path} | sha256sum   # the data; or: bramble reproduce ${body.name}@${body.version}`,
  ].join('\n');
}

/** What a host serves in `env`, from its /status (or /version when it does not follow git). */
async function liveOn(server: string, env: string): Promise<{ version: string; sha256: string } | null> {
  if (!/^https?:\/\//.test(server)) throw new RegistryUsageError(`--server is ${JSON.stringify(server)}; give the host's base URL, such as http://127.0.0.1:8080`);
  let body: { environments?: Record<string, { live?: { version: string; sha256: string } | null }> };
  try {
    const response = await fetch(`${server.replace(/\/$/, '')}/status`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`it answered ${response.status}`);
    body = (await response.json()) as typeof body;
  } catch (err) {
    throw new RegistryUsageError(`the host at ${server} did not answer /status (${err instanceof Error ? err.message : String(err)}); is bramble serve running there?`);
  }
  const entry = body.environments?.[env];
  if (entry === undefined) throw new RegistryUsageError(`the host at ${server} does not serve ${env}`);
  return entry.live ?? null;
}

