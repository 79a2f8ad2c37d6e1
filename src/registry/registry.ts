// The model registry's operations: register, assign (promote), unassign, deprecate, deregister, roll back, and
// the questions — what is registered, what serves where, what served then. Every change is one transaction: read
// the registry (after fetching the remote), plan the tags and files, write a registry commit and the tag objects,
// push the branch (compare-and-swap) and then the tags, and only then move the local refs. When another pipeline
// got there first, the push is refused, and the transaction starts again from the new state: the next free
// version or counter is recomputed, never guessed. History is never rewritten: a rollback is a new assignment.
import * as nodeFs from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as git from 'isomorphic-git';
import { ArtifactError, canonicalJSON, openArtifact } from '../model/artifact.js';
import { BrambleError, describeError, nearest } from '../errors.js';
import { errnoCode, isMissing } from '../fs/codes.js';
import { fetchRegistry, remoteNamed, type Remote } from './remote.js';
import { ReleaseError, releaseTrailers, roleStage, type CanarySettings, type ReleaseRole, type Role } from './roles.js';
import { foldState, latestVersion, type Assignment, type ModelState, type RecordedEvent, type VersionState } from './state.js';
import {
  REGISTRY,
  RegistryError,
  listRegistryFolder,
  readRegistryFile,
  readSnapshot,
  resolveOrNull,
  type GitIdentity,
  type GitRepo,
  type Snapshot,
} from './store.js';
import { bumpVersion, compareVersions, formatTag, parseTag, parseVersion, type RegistryEvent } from './tags.js';
import { fastForward, transact, type Plan } from './transaction.js';

type Fs = typeof import('node:fs');

/** The version a model's first registration gets. */
export const REGISTRY_FIRST_VERSION = 'v1.0.0';
type Env = Readonly<Record<string, string | undefined>>;

export type Bump = 'major' | 'minor' | 'patch';

export interface RegistryOptions {
  /** Any folder inside the model's git repository (usually the one holding ml.yaml). */
  dir: string;
  fs?: Fs;
  /** Where tokens, the tagger's name and GIT_COMMITTER_DATE come from (the edge passes process.env). */
  env?: Env;
  /** The remote to fetch from and push to: a name, or null for this repository alone. Default: origin, if set. */
  remote?: string | null;
  /** Milliseconds since the epoch; GIT_COMMITTER_DATE in `env` wins, as it does for git. */
  now?: () => number;
  warn?: (message: string) => void;
  /** Transactions tried before giving up when other pipelines keep winning the race. */
  attempts?: number;
}

export interface Registered {
  name: string;
  version: string;
  commit: string;
  artifact: string;
  /** True when an identical artifact was registered before: that version is reused (build once). */
  reused: boolean;
  bump: Bump | 'first' | 'explicit' | null;
}

export interface Assigned {
  name: string;
  env: string;
  version: string | null;
  tag: string | null;
  /** True when the environment already had exactly this: no tag was written. */
  unchanged: boolean;
  previous: string | null;
}

export class Registry {
  readonly repo: GitRepo;
  readonly remote: Remote | null;
  /** The model folder relative to the repository root, with `/` separators. */
  readonly path: string;
  private readonly env: Env;
  private readonly now: () => number;
  private readonly warn: (message: string) => void;
  private readonly attempts: number;

  private constructor(repo: GitRepo, path: string, remote: Remote | null, options: RegistryOptions) {
    this.repo = repo;
    this.path = path;
    this.remote = remote;
    this.env = options.env ?? {};
    this.now = options.now ?? Date.now;
    this.warn = options.warn ?? (() => {});
    this.attempts = options.attempts ?? 12;
  }

  static async open(options: RegistryOptions): Promise<Registry> {
    const fs = options.fs ?? nodeFs;
    let root: string;
    try {
      root = await git.findRoot({ fs, filepath: options.dir });
    } catch (err) {
      // findRoot says NotFoundError when no folder above holds .git; anything else (EACCES on the way) is not that.
      if (!(err instanceof git.Errors.NotFoundError)) throw err;
      throw new RegistryError(`${options.dir} is not inside a git repository; the registry lives in the model's repository — run git init (and commit) first`, {
        dir: options.dir,
      });
    }
    const repo: GitRepo = { fs, dir: root, gitdir: join(root, '.git'), cache: {} };
    const path = relative(root, options.dir).split(sep).join('/');
    const name = options.remote === undefined ? 'origin' : options.remote;
    let remote: Remote | null = null;
    if (name !== null) {
      remote = await remoteNamed(repo, name, options.env ?? {});
      if (remote === null && options.remote !== undefined) {
        throw new RegistryError(`this repository has no remote named ${name}; add it with git remote add ${name} URL, or leave --remote out`, { remote: name });
      }
    }
    return new Registry(repo, path, remote, options);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Reading

  /** The registry now: fetched from the remote first when `fetch` is set and there is one. */
  async read(options: { fetch?: boolean } = {}): Promise<{ snapshot: Snapshot; models: Map<string, ModelState> }> {
    let head: string | null;
    if (options.fetch && this.remote) {
      head = await fetchRegistry(this.repo, this.remote);
      if (head !== null) await fastForward(this.repo, head);
      else head = await resolveOrNull(this.repo, REGISTRY.ref);
    } else head = await resolveOrNull(this.repo, REGISTRY.ref);
    // A fresh clone has the registry branch only as the remote's: read that rather than every tag.
    if (head === null && this.remote) head = await resolveOrNull(this.repo, `refs/remotes/${this.remote.name}/${REGISTRY.branch}`);
    const snapshot = await readSnapshot(this.repo, head, this.warn);
    return { snapshot, models: foldState(snapshot.events) };
  }

  /** One registered version, or an error naming the versions there are. */
  static version(models: Map<string, ModelState>, name: string, version: string): VersionState {
    const m = models.get(name);
    if (!m || m.versions.length === 0) {
      const names = [...models.keys()];
      const hint = nearest(name, names);
      throw new RegistryError(
        `no model named ${name} is registered${hint ? `; did you mean ${hint}?` : names.length > 0 ? ` (registered: ${names.join(', ')})` : ' — register one with bramble register'}`,
        { name },
      );
    }
    const normal = version.startsWith('v') ? version : `v${version}`;
    const v = m.versions.find((x) => x.version === normal);
    if (!v) {
      const known = m.versions.map((x) => x.version);
      throw new RegistryError(`${name}@${normal} does not exist; ${name} has ${known.join(', ')}`, { name, version: normal, known });
    }
    return v;
  }

  /** The artifact of a version, read from the registry branch and checked against its record. */
  async artifact(head: string | null, v: VersionState): Promise<{ text: string; artifact: Record<string, unknown> & { sha256: string }; path: string }> {
    const path = `${v.name}/${v.version}/model.json`;
    const bytes = head === null ? null : await readRegistryFile(this.repo, head, path);
    if (bytes === null) {
      throw new RegistryError(
        `${v.name}@${v.version} (tag on ${v.commit.slice(0, 7)}) has no artifact on ${REGISTRY.branch}: ${path} is missing — fetch the registry branch (bramble registry ls --fetch), or register the model again`,
        { name: v.name, version: v.version, path },
      );
    }
    const text = new TextDecoder().decode(bytes);
    const artifact = openArtifact(text, `${REGISTRY.branch}:${path}`);
    if (v.artifact !== null && artifact.sha256 !== v.artifact) {
      throw new RegistryError(
        `${REGISTRY.branch}:${path} has sha256 ${artifact.sha256}, but the tag ${v.registered.tag} records ${v.artifact}; the file was replaced after registration — do not serve it; register the model again`,
        { name: v.name, version: v.version, expected: v.artifact, found: artifact.sha256 },
      );
    }
    return { text, artifact, path };
  }

  /**
   * Every version's artifact on the registry branch checked against the sha256 its version tag records (the tag,
   * never the index, is the truth): one row per version, with the problem when there is one.
   */
  async verify(head: string | null, models: Map<string, ModelState>, only?: string): Promise<VersionCheck[]> {
    if (only !== undefined) Registry.version(models, only, models.get(only)?.versions[0]?.version ?? 'v0.0.0');
    const checks: VersionCheck[] = [];
    for (const m of [...models.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (only !== undefined && m.name !== only) continue;
      for (const v of m.versions) {
        const check: VersionCheck = { name: v.name, version: v.version, tag: v.registered.tag, recorded: v.artifact, found: null, problem: null };
        const path = `${v.name}/${v.version}/model.json`;
        const bytes = head === null ? null : await readRegistryFile(this.repo, head, path);
        if (bytes === null) check.problem = `${REGISTRY.branch}:${path} is missing`;
        else {
          const found = foundSha256(bytes);
          check.found = found;
          if (found === null) check.problem = `${REGISTRY.branch}:${path} is not a sealed Bramble model`;
          else if (v.artifact === null) check.problem = `the tag ${v.registered.tag} records no sha256 (not written by Bramble), so the file cannot be checked`;
          else if (found !== v.artifact) check.problem = `the file was replaced: the tag records ${v.artifact}, the file has ${found}`;
        }
        checks.push(check);
      }
    }
    return checks;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Changing

  /**
   * Registers an artifact (its text, as written by the pipeline): build once — an artifact registered before is
   * not registered again. `files(version)` gives the other files of the version's folder (card, report, …).
   */
  async register(
    text: string,
    options: { version?: string; bump?: Bump; file?: string; files?: (version: string, artifact: Record<string, unknown>) => Map<string, string> } = {},
  ): Promise<Registered> {
    const artifact = openArtifact(text, options.file ?? 'the artifact');
    const name = String(artifact.name);
    const source = (artifact.lineage as { source?: { commit: string | null; dirty: boolean; changes?: string[] } } | undefined)?.source;
    if (!source?.commit || source.dirty) {
      const changes = source?.changes?.length ? ` (changed: ${source.changes.slice(0, 5).join(', ')})` : '';
      throw new RegistryError(
        `the artifact was trained from uncommitted changes${changes}; a version must point at the commit that made it — commit, train again, then register`,
        { name },
      );
    }
    const commit = source.commit;
    if (options.version !== undefined && parseVersion(options.version) === null) {
      throw new RegistryError(`--version ${JSON.stringify(options.version)} is not a semantic version; write it like v1.2.0`, { version: options.version });
    }
    return this.transact<Registered>(`register ${name}`, async (snapshot, models) => {
      const m = models.get(name);
      const same = m?.versions.find((v) => v.artifact === artifact.sha256 && v.deregistered === null);
      if (same && options.version === undefined) {
        return {
          result: { name, version: same.version, commit: same.commit, artifact: artifact.sha256, reused: true, bump: null },
          unchanged: true,
          tags: [],
          message: '',
        };
      }
      const taken = new Set<string>(m?.versions.map((v) => v.version) ?? []);
      for (const tag of snapshot.reserved) {
        const e = parseTag(tag);
        if (e && e.kind === 'register' && e.name === name) taken.add(e.version);
      }
      for (const folder of await listRegistryFolder(this.repo, snapshot.head, name)) if (parseVersion(folder)) taken.add(folder);
      let version: string;
      let bump: Registered['bump'];
      if (options.version !== undefined) {
        version = options.version.startsWith('v') ? options.version : `v${options.version}`;
        if (taken.has(version)) {
          const v = m?.versions.find((x) => x.version === version);
          throw new RegistryError(
            `${name}@${version} is already registered${v ? ` (on ${v.commit.slice(0, 7)}, by ${v.registered.by.name} at ${v.registered.at})` : ''}; choose another --version, or leave it out to bump automatically`,
            { name, version },
          );
        }
        bump = 'explicit';
      } else {
        const previous = latestVersion(m);
        bump = options.bump ?? (previous ? await this.bumpFrom(snapshot.head, previous, artifact) : 'first');
        const newest = [...taken].sort(compareVersions).pop() ?? null;
        // The first version is v1.0.0, as a model registry's users expect (MLflow counts from 1); GTO's own CLI starts
        // at v0.0.1, but reads any version.
        version = newest === null ? REGISTRY_FIRST_VERSION : bumpVersion(newest, bump === 'first' ? 'patch' : bump);
        while (taken.has(version)) version = bumpVersion(version, 'patch');
      }
      const folder = `${name}/${version}`;
      const files = new Map<string, Uint8Array>([[`${folder}/model.json`, new TextEncoder().encode(text)]]);
      for (const [file, content] of options.files?.(version, artifact) ?? []) files.set(`${folder}/${file}`, new TextEncoder().encode(content));
      return {
        result: { name, version, commit, artifact: artifact.sha256, reused: false, bump },
        tags: [
          {
            event: { kind: 'register', name, version, counter: null },
            target: commit,
            message: `Registering ${name} version ${version}\n\nBramble-Artifact: sha256:${artifact.sha256}\n`,
            artifact: artifact.sha256,
          },
        ],
        files,
        message: `register ${name}@${version}`,
      };
    });
  }

  /** major when the signature changed, minor when the features or parameters did, patch otherwise. */
  private async bumpFrom(head: string | null, previous: VersionState, artifact: Record<string, unknown>): Promise<Bump> {
    let before: Record<string, unknown>;
    try {
      before = (await this.artifact(head, previous)).artifact;
    } catch (err) {
      // A version registered by another tool has no artifact to compare with (RegistryError): assume the smallest
      // change that can be wrong, a minor one, rather than claim nothing changed. A damaged one is said as well.
      if (err instanceof ArtifactError) this.warn(`${previous.name}@${previous.version}'s artifact cannot be read (${err.message}); the bump assumes a minor change`);
      else if (!(err instanceof RegistryError)) throw err;
      return 'minor';
    }
    if (canonicalJSON(before.signature) !== canonicalJSON(artifact.signature)) return 'major';
    const recipe = (a: Record<string, unknown>): string => {
      const features = a.features as { steps?: unknown[] } | undefined;
      const steps = (features?.steps ?? []).map((s) => {
        const step = s as Record<string, unknown>;
        return { kind: step.kind, columns: step.columns ?? step.column ?? step.name, method: step.method ?? step.strategy };
      });
      const lineage = a.lineage as { params?: unknown; split?: unknown; seed?: unknown } | undefined;
      return canonicalJSON({ steps, params: lineage?.params ?? null, split: lineage?.split ?? null, seed: lineage?.seed ?? null });
    };
    return recipe(before) !== recipe(artifact) ? 'minor' : 'patch';
  }

  /**
   * Assigns (promotes) a version to an environment: a new `name#env#N` tag; with `release`, to the environment's
   * role stage (`name#env-canary#N`, roles.ts), which needs a main version there first.
   */
  async assign(name: string, version: string, env: string, environments: readonly string[], release?: { role: ReleaseRole; canary: CanarySettings | null }): Promise<Assigned> {
    checkEnvironment(env, environments);
    const stage = roleStage(env, release?.role ?? 'main');
    return this.transact<Assigned>(`assign ${name}@${version} to ${stage}`, async (snapshot, models) => {
      const v = Registry.version(models, name, version);
      const m = models.get(name) as ModelState;
      if (v.deregistered) {
        throw new RegistryError(`${name}@${v.version} was deregistered (${v.deregistered.tag}, by ${v.deregistered.by.name} at ${v.deregistered.at}); promote a registered version`, {
          name,
          version: v.version,
        });
      }
      if (m.deprecated) {
        throw new RegistryError(`${name} is deprecated (${m.deprecated.tag}, by ${m.deprecated.by.name} at ${m.deprecated.at}); a deprecated model cannot be promoted`, { name });
      }
      if (release && !m.envs.get(env)?.version) throw new ReleaseError(`${name} has no main version in ${env}: a ${release.role} runs beside one; promote a version to ${env} first`, { name, env });
      // The artifact must be there and intact before any environment is pointed at it.
      await this.artifact(snapshot.head, v);
      const current = m.envs.get(stage) ?? null;
      if (current?.version === v.version && current.canary?.weight === release?.canary?.weight && current.canary?.sticky === release?.canary?.sticky) {
        return { result: { name, env: stage, version: v.version, tag: current.tag, unchanged: true, previous: v.version }, unchanged: true, tags: [], message: '' };
      }
      const counter = nextCounter(m, snapshot, name);
      const event = { kind: 'assign', name, env: stage, counter } as const;
      const trailers = `Bramble-Version: ${v.version}\n${releaseTrailers(release?.role ?? 'main', release?.canary ?? null)}`;
      return {
        result: { name, env: stage, version: v.version, tag: formatTag(event), unchanged: false, previous: current?.version ?? null },
        tags: [{ event, target: v.commit, message: `Assigning stage ${stage} to artifact ${name} version ${v.version}\n\n${trailers}`, version: v.version }],
        message: `assign ${name}@${v.version} to ${stage}`,
      };
    });
  }

  /** Takes an environment's version away: `name#env!#N` (`name#env-canary!#N` for a role). */
  async unassign(name: string, base: string, environments: readonly string[], role: Role = 'main'): Promise<Assigned> {
    checkEnvironment(base, environments);
    const env = roleStage(base, role);
    return this.transact<Assigned>(`unassign ${name} from ${env}`, async (snapshot, models) => {
      const m = models.get(name);
      const current = m?.envs.get(env);
      if (!m || !current || current.version === null) {
        throw new RegistryError(`${env} has no version of ${name} assigned; nothing to unassign`, { name, env });
      }
      const v = m.versions.find((x) => x.version === current.version);
      const counter = nextCounter(m, snapshot, name);
      return {
        result: { name, env, version: null, tag: formatTag({ kind: 'unassign', name, env, counter }), unchanged: false, previous: current.version },
        tags: [{ event: { kind: 'unassign', name, env, counter }, target: v?.commit ?? (await this.targetOf(current)), message: `Unassigning stage ${env} from artifact ${name}\n` }],
        message: `unassign ${name} from ${env}`,
      };
    });
  }

  /** Deprecates the whole model: `name@deprecated#N`. */
  async deprecate(name: string): Promise<{ name: string; tag: string }> {
    return this.transact(`deprecate ${name}`, async (snapshot, models) => {
      const m = models.get(name);
      const latest = m ? latestVersion(m) ?? m.versions[m.versions.length - 1] : undefined;
      if (!m || !latest) throw new RegistryError(`no model named ${name} is registered; nothing to deprecate`, { name });
      if (m.deprecated) throw new RegistryError(`${name} is deprecated already (${m.deprecated.tag}, by ${m.deprecated.by.name} at ${m.deprecated.at})`, { name });
      const counter = nextCounter(m, snapshot, name);
      const event: RegistryEvent = { kind: 'deprecate', name, counter };
      return { result: { name, tag: formatTag(event) }, tags: [{ event, target: latest.commit, message: `Deprecating artifact ${name}\n` }], message: `deprecate ${name}` };
    });
  }

  /** Deregisters one version: `name@vX.Y.Z!`. Its files stay on the registry branch, for the record. */
  async deregister(name: string, version: string): Promise<{ name: string; version: string; tag: string }> {
    return this.transact(`deregister ${name}@${version}`, async (_snapshot, models) => {
      const v = Registry.version(models, name, version);
      if (v.deregistered) throw new RegistryError(`${name}@${v.version} is deregistered already (${v.deregistered.tag})`, { name, version: v.version });
      const event: RegistryEvent = { kind: 'deregister', name, version: v.version, counter: null };
      return {
        result: { name, version: v.version, tag: formatTag(event) },
        tags: [{ event, target: v.commit, message: `Deregistering artifact ${name} version ${v.version}\n` }],
        message: `deregister ${name}@${v.version}`,
      };
    });
  }

  /**
   * Rolls an environment back: a new assignment of an earlier version — the one given, the one that served at a
   * date, or (with neither) the version it served before the current one.
   */
  async rollback(name: string, env: string, environments: readonly string[], to: { version?: string; date?: string } = {}): Promise<Assigned> {
    checkEnvironment(env, environments);
    const { snapshot, models } = await this.read({ fetch: true });
    const m = models.get(name);
    if (!m) throw new RegistryError(`no model named ${name} is registered`, { name });
    let target: string;
    if (to.version !== undefined) target = to.version;
    else if (to.date !== undefined) {
      const at = endOf(to.date);
      const then = servedAt(snapshot.events, name, env, at)?.version;
      if (!then) {
        const first = m.history.find((a) => a.env === env);
        throw new RegistryError(
          `${env} served no version of ${name} at ${at}${first ? `; its first assignment was ${first.tag} at ${first.at}` : '; it has never had one'}`,
          { name, env, at },
        );
      }
      target = then;
    } else {
      const history = m.history.filter((a) => a.env === env);
      const current = m.envs.get(env)?.version ?? null;
      const earlier = [...history].reverse().find((a) => a.version !== null && a.version !== current);
      if (!earlier?.version) throw new RegistryError(`${env} has served no other version of ${name} to roll back to; give one with --to`, { name, env });
      target = earlier.version;
    }
    return this.assign(name, target, env, environments);
  }

  private async targetOf(assignment: Assignment): Promise<string> {
    const oid = await resolveOrNull(this.repo, `refs/tags/${assignment.tag}`);
    if (oid === null) throw new RegistryError(`the tag ${assignment.tag} is missing`, { tag: assignment.tag });
    const t = await git.readTag({ fs: this.repo.fs, dir: this.repo.dir, gitdir: this.repo.gitdir, oid });
    return t.tag.object;
  }

  /** Who is changing the registry, and when: git's own variables first, then git config, then CI's actor. */
  private async identity(): Promise<GitIdentity> {
    const config = async (path: string): Promise<string | undefined> =>
      (await git.getConfig({ fs: this.repo.fs, dir: this.repo.dir, gitdir: this.repo.gitdir, path })) as string | undefined;
    // isomorphic-git reads the repository's .git/config only; git itself also reads the user's global files.
    const global = await globalUser(this.repo.fs, this.env, this.warn);
    const actor = this.env.GITHUB_ACTOR ?? this.env.GITLAB_USER_LOGIN;
    const name = this.env.GIT_COMMITTER_NAME ?? (await config('user.name')) ?? this.env.GIT_AUTHOR_NAME ?? global.name ?? actor;
    const email =
      this.env.GIT_COMMITTER_EMAIL ??
      (await config('user.email')) ??
      this.env.GIT_AUTHOR_EMAIL ??
      global.email ??
      this.env.GITLAB_USER_EMAIL ??
      (actor ? `${actor}@users.noreply.github.com` : undefined);
    if (!name || !email) {
      throw new RegistryError('git does not know who you are, and registry tags record who made each change; run git config user.name "Your Name" and git config user.email you@example.com', {});
    }
    const date = this.env.GIT_COMMITTER_DATE;
    let ms = this.now();
    if (date) {
      const parsed = /^\d+$/.test(date) ? Number(date) * 1000 : Date.parse(date);
      if (!Number.isFinite(parsed)) throw new RegistryError(`GIT_COMMITTER_DATE is ${JSON.stringify(date)}; give seconds since 1970 or an ISO 8601 time`, { date });
      ms = parsed;
    }
    return { name, email, timestamp: Math.floor(ms / 1000), timezoneOffset: 0 };
  }

  /**
   * Writes files that record something about the registered models (the monitor's results and profiles) in one
   * registry commit, pushed like any registry change; no tag. Returns the registry branch's commit after it.
   */
  async record(what: string, files: ReadonlyMap<string, string>): Promise<string> {
    const bytes = new Map<string, Uint8Array>();
    for (const [path, text] of files) bytes.set(path, new TextEncoder().encode(text));
    await this.transact<null>(what, async () => ({ result: null, tags: [], files: bytes, message: what }));
    return (await resolveOrNull(this.repo, REGISTRY.ref)) as string;
  }

  /** The files directly under `folder` on the registry branch at `head`, by name, as text; with `folders`, the names of the folders there instead. */
  async folder(head: string | null, folder: string): Promise<Map<string, string>>;
  async folder(head: string | null, folder: string, folders: 'folders'): Promise<string[]>;
  async folder(head: string | null, folder: string, folders?: 'folders'): Promise<Map<string, string> | string[]> {
    const entries = await treeEntries(this.repo, head, folder);
    if (folders === 'folders') return entries.filter((e) => e.type === 'tree').map((e) => e.path);
    const out = new Map<string, string>();
    for (const e of entries) {
      if (e.type !== 'blob') continue;
      const { blob } = await git.readBlob({ fs: this.repo.fs, dir: this.repo.dir, gitdir: this.repo.gitdir, cache: this.repo.cache, oid: e.oid });
      out.set(e.path, new TextDecoder().decode(blob));
    }
    return out;
  }

  private async transact<T>(what: string, plan: (snapshot: Snapshot, models: Map<string, ModelState>) => Promise<Plan<T>>): Promise<T> {
    const context = { repo: this.repo, remote: this.remote, attempts: this.attempts, warn: this.warn, who: await this.identity() };
    return transact(context, what, plan);
  }
}

/** The entries directly under `path` at `head`; none when the branch or the folder is not there. */
async function treeEntries(repo: GitRepo, head: string | null, path: string): Promise<{ path: string; type: string; oid: string }[]> {
  if (head === null) return [];
  try {
    return (await git.readTree({ fs: repo.fs, dir: repo.dir, gitdir: repo.gitdir, cache: repo.cache, oid: head, filepath: path })).tree;
  } catch (err) {
    if (err instanceof git.Errors.NotFoundError) return [];
    throw err;
  }
}

/** user.name and user.email from git's global files: ~/.gitconfig, then $XDG_CONFIG_HOME/git/config. */
async function globalUser(fs: Fs, env: Env, warn: (message: string) => void): Promise<{ name?: string; email?: string }> {
  const home = env.HOME ?? env.USERPROFILE;
  const files = [home && join(home, '.gitconfig'), env.XDG_CONFIG_HOME ? join(env.XDG_CONFIG_HOME, 'git', 'config') : home && join(home, '.config', 'git', 'config')];
  const found: { name?: string; email?: string } = {};
  for (const file of files) {
    if (!file) continue;
    // Most people have one of the two files or neither; a file that is there but cannot be read is said.
    const text = await fs.promises.readFile(file, 'utf8').catch((err: unknown) => {
      if (!isMissing(err) && errnoCode(err) !== 'ENOTDIR') warn(`git's config ${file} cannot be read (${errnoCode(err) || describeError(err)}); its user.name and user.email are not used`);
      return '';
    });
    let inUser = false;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('[')) inUser = /^\[user\]$/i.test(line);
      else if (inUser) {
        const m = /^(name|email)\s*=\s*(.*?)\s*$/i.exec(line);
        if (m) found[m[1].toLowerCase() as 'name' | 'email'] ??= m[2].replace(/^"(.*)"$/, '$1');
      }
    }
  }
  return found;
}

function nextCounter(m: ModelState | undefined, snapshot: Snapshot, name: string): number {
  let highest = m?.counter ?? 0;
  for (const tag of snapshot.reserved) {
    const e = parseTag(tag);
    if (e && e.name === name && e.counter !== null) highest = Math.max(highest, e.counter);
  }
  return highest + 1;
}

/** An environment must be one ml.yaml declares. */
/** One version's artifact against its tag (`bramble registry verify`). */
export interface VersionCheck {
  name: string;
  version: string;
  tag: string;
  /** The sha256 the version tag's message records (null for tags Bramble did not write). */
  recorded: string | null;
  /** The sha256 of the file on the registry branch, when it is a sealed artifact. */
  found: string | null;
  problem: string | null;
}

/** The sha256 an artifact's bytes hash to, or null when they are not a sealed artifact. */
function foundSha256(bytes: Uint8Array): string | null {
  try {
    return openArtifact(new TextDecoder().decode(bytes), 'model.json').sha256;
  } catch (err) {
    if (err instanceof BrambleError) return null;
    throw err;
  }
}

export function checkEnvironment(env: string, environments: readonly string[]): void {
  if (environments.includes(env)) return;
  const hint = nearest(env, environments);
  throw new RegistryError(
    `the environment ${JSON.stringify(env)} is not in ml.yaml${hint ? `; did you mean ${hint}?` : ''} (known: ${environments.length > 0 ? environments.join(', ') : 'none — add an environments section'})`,
    { env, known: environments },
  );
}

/** A date (2026-11-01) means the end of that day, UTC; a full ISO time means itself. */
export function endOf(date: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    const t = Date.parse(`${date}T23:59:59.999Z`);
    if (Number.isFinite(t)) return new Date(t).toISOString();
  } else {
    const t = Date.parse(date);
    if (Number.isFinite(t) && /^\d{4}-\d{2}-\d{2}T/.test(date)) return new Date(t).toISOString();
  }
  throw new RegistryError(`${JSON.stringify(date)} is not a date; write it like 2026-11-01 or 2026-11-01T12:00:00Z`, { date });
}

/** The version `env` served at time `at` (ISO): the registry folded up to that moment. */
export function servedAt(events: readonly RecordedEvent[], name: string, env: string, at: string): Assignment | null {
  const assignment = foldState(events, at).get(name)?.envs.get(env) ?? null;
  return assignment?.version ? assignment : null;
}

export { latestVersion };
