// The host pulls: every interval (and at once on POST /admin/sync, a nudge that carries nothing) it fetches the
// model repository's tags and registry branch, resolves what each environment should serve exactly as `bramble
// which` does, verifies the artifact against the sha256 in its version tag, and hands it to the host, which loads
// it beside the running model, runs its self-test and swaps with no request refused. What fails never serves; while
// git cannot be reached the last good model keeps serving, and /status says why.
//
// Decisions:
// - OpenGitOps, as Argo CD and Flux do it: nobody pushes an artifact into a host. The desired state is git's; the
//   host reconciles toward it and reports drift. Several hosts reconcile the same repository on their own.
// - A URL (http or https) is fetched into a mirror under the model folder (MODELS/.git-mirror), with a token from
//   the variable `tokenEnv` names; a path is read where it is (a clone on the same machine, or a test's repository).
// - One sync at a time: a nudge during a sync asks for one more after it, never two at once.
import { mkdir, stat } from 'node:fs/promises';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import * as git from 'isomorphic-git';
import { describeError, errorClass } from '../errors.js';
import { Registry } from '../registry/registry.js';
import { readRegistryFile, REGISTRY, type Snapshot } from '../registry/store.js';
import { RELEASE, roleStage, stageRole, type CanarySettings } from '../registry/roles.js';
import type { Assignment, ModelState } from '../registry/state.js';
import { writeCandidate, type ModelHost } from './host.js';
import { blobId, monitorLatestPath, readMonitorSummary, type MonitorSummary } from './monitor-metrics.js';

export interface GitSource {
  /** A path to the model repository, or its http(s) URL. */
  url: string;
  /** The environment variable holding a token for an http(s) URL. */
  tokenEnv?: string;
  intervalSeconds: number;
}

/** What an environment should serve, by the tags. */
export interface Desired {
  tag: string;
  version: string;
  sha256: string | null;
  /** A canary's weight and stickiness, from its tag. */
  canary?: CanarySettings;
}

export interface SlotStatus {
  desired: Desired | null;
  live: { version: string; sha256: string } | null;
  /** Whether live is what the tags say (null when the tags assign nothing). */
  inSync: boolean | null;
  /** Why the last attempt to serve the desired version failed, if it did. */
  error: string | null;
}

export interface EnvStatus extends SlotStatus {
  model: string;
  /** The environment's canary and shadow, when the tags name one or one serves; a canary with the weight it serves at. */
  roles?: { canary?: SlotStatus & { weight?: number | null; sticky?: string | null }; shadow?: SlotStatus };
}

export interface SyncStatus {
  url: string;
  intervalSeconds: number;
  lastSync: { at: string; ok: boolean; seconds: number; error: string | null } | null;
  syncs: number;
  environments: Record<string, EnvStatus>;
}

export class SyncError extends errorClass('E_SYNC') {}

export interface SyncDeps {
  env: Readonly<Record<string, string | undefined>>;
  warn: (message: string) => void;
  now?: () => number;
  /** After every sync (the server counts them in /metrics). */
  onSync?: (ok: boolean, seconds: number) => void;
}

export class GitSync {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private last: SyncStatus['lastSync'] = null;
  private count = 0;
  private readonly desired = new Map<string, Desired | null>();
  private readonly errors = new Map<string, string | null>();
  /** Per environment, the last monitor result on the registry branch and its blob id (read again only when it changes). */
  private readonly monitors = new Map<string, { blob: string; summary: MonitorSummary | null }>();
  /** Blob ids of latest.json files already warned about: one warning per file, not one per sync. */
  private readonly warnedBlobs = new Set<string>();

  constructor(
    private readonly source: GitSource,
    /** Environment → the model name it serves (serve.json `environments.<env>.model`). */
    private readonly models: Readonly<Record<string, string>>,
    private readonly host: ModelHost,
    private readonly deps: SyncDeps,
  ) {}

  /** Syncs once now (without failing the start when git is unreachable), then every interval. */
  async start(): Promise<void> {
    await this.sync();
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.sync().then(
        () => this.schedule(),
        () => this.schedule(),
      );
    }, this.source.intervalSeconds * 1000);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One sync, or the one after the sync under way: resolves when git's state as of this call is reconciled. */
  sync(): Promise<void> {
    if (this.running) {
      // The run under way goes round once more before it resolves, so this caller sees git as of now.
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      do {
        this.again = false;
        await this.syncOnce();
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async syncOnce(): Promise<void> {
    const now = this.deps.now ?? Date.now;
    const started = performance.now();
    let error: string | null = null;
    try {
      const registry = await this.openRegistry();
      const { snapshot, models } = await registry.read({ fetch: registry.remote !== null });
      for (const [env, name] of Object.entries(this.models)) {
        const model = models.get(name);
        const main = model?.envs.get(env);
        await this.reconcile(registry, snapshot, models, name, env, main);
        for (const role of RELEASE.roles) {
          const slot = roleStage(env, role);
          const assignment = model?.envs.get(slot);
          // A canary or shadow runs beside a main version: without one it is not served, and /status says why.
          if (assignment?.version && !main?.version) {
            await this.reconcile(registry, snapshot, models, name, slot, undefined);
            this.errors.set(slot, `${name} ${assignment.tag} names a ${role} for ${env}, which has no main version assigned; promote one to ${env} first`);
          } else await this.reconcile(registry, snapshot, models, name, slot, assignment);
        }
      }
      try {
        await this.readMonitors(registry, snapshot);
      } catch (err) {
        // The models are synced; a registry branch whose monitor files git cannot read costs only their series.
        this.deps.warn(`the monitor results on ${REGISTRY.branch} cannot be read: ${describeError(err)}`);
      }
    } catch (err) {
      error = `git ${safeUrl(this.source.url)}: ${describeError(err).replace(/\s+/g, ' ')}; the last good models keep serving`;
      this.deps.warn(error);
    }
    const seconds = (performance.now() - started) / 1000;
    this.count++;
    this.last = { at: new Date(now()).toISOString(), ok: error === null, seconds, error };
    this.deps.onSync?.(error === null, seconds);
  }

  /** One slot (an environment, or its canary or shadow) brought to what its assignment says. */
  private async reconcile(registry: Registry, snapshot: Snapshot, models: Map<string, ModelState>, name: string, slot: string, assignment: Assignment | undefined): Promise<void> {
    const { env, role } = stageRole(slot);
    const live = this.host.model(slot);
    if (!assignment || assignment.version === null) {
      this.desired.set(slot, null);
      this.errors.set(slot, null);
      // Taken away by its tag (or its main version's): the role's slot empties; a main version stays (DESIGN.md §6).
      if (role !== 'main' && live !== null) await this.host.retire(slot);
      return;
    }
    const v = Registry.version(models, name, assignment.version);
    const canary = role === 'canary' ? (assignment.canary ?? null) : null;
    this.desired.set(slot, { tag: assignment.tag, version: v.version, sha256: v.artifact, ...(canary ? { canary } : {}) });
    if (role === 'canary' && canary === null) {
      this.errors.set(slot, `${name} ${assignment.tag} records no weight, so the canary is not served; promote it with bramble promote --role canary, which writes ml.yaml's weight into the tag`);
      if (live !== null) await this.host.retire(slot);
      return;
    }
    try {
      if (live !== null && v.artifact !== null && live.sha256 === v.artifact && live.version === v.version) {
        const now = this.host.canary(env);
        if (canary && (now?.weight !== canary.weight || now.sticky !== canary.sticky)) await this.host.reweight(env, canary);
      } else {
        // Verified against the sha256 in the version tag; a replaced file is refused here and never served.
        const { text, artifact } = await registry.artifact(snapshot.head, v);
        await writeCandidate(this.host.folder, slot, text, { name, version: v.version, sha256: artifact.sha256, ...(canary ? { canary } : {}) });
        await this.host.deploy(slot);
      }
      this.errors.set(slot, null);
    } catch (err) {
      const message = `${name}@${v.version} (${assignment.tag}) is not served: ${describeError(err)}`;
      this.errors.set(slot, message);
      this.deps.warn(`${slot}: ${message}`);
    }
  }

  /** Each environment's NAME/monitoring/ENV/latest.json on the snapshot just read; absent is no result, not an error. */
  private async readMonitors(registry: Registry, snapshot: Snapshot): Promise<void> {
    for (const [env, name] of Object.entries(this.models)) {
      const path = monitorLatestPath(name, env);
      const bytes = snapshot.head === null ? null : await readRegistryFile(registry.repo, snapshot.head, path);
      if (bytes === null) {
        this.monitors.delete(env);
        continue;
      }
      const blob = blobId(bytes);
      if (this.monitors.get(env)?.blob === blob) continue;
      const read = readMonitorSummary(bytes, name, env);
      if ('problem' in read && !this.warnedBlobs.has(blob)) {
        this.warnedBlobs.add(blob);
        this.deps.warn(`${env}: the monitor result ${REGISTRY.branch}:${path} (blob ${blob.slice(0, 7)}) is not shown in /metrics: ${read.problem}`);
      }
      this.monitors.set(env, { blob, summary: 'summary' in read ? read.summary : null });
    }
  }

  /** The last monitor result of each environment that has a readable one, in serve.json's order. */
  monitorResults(): MonitorSummary[] {
    const out: MonitorSummary[] = [];
    for (const env of Object.keys(this.models)) {
      const summary = this.monitors.get(env)?.summary;
      if (summary) out.push(summary);
    }
    return out;
  }

  private async openRegistry(): Promise<Registry> {
    const { url } = this.source;
    if (!/^https?:\/\//.test(url)) return Registry.open({ dir: url, remote: null, warn: this.deps.warn });
    const mirror = join(this.host.folder, '.git-mirror');
    const fs = nodeFs;
    const exists = await stat(join(mirror, '.git')).then(
      () => true,
      (err: unknown) => {
        if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return false;
        throw err;
      },
    );
    if (!exists) {
      await mkdir(mirror, { recursive: true });
      await git.init({ fs, dir: mirror, defaultBranch: 'main' });
    }
    await git.setConfig({ fs, dir: mirror, path: 'remote.origin.url', value: url });
    await git.setConfig({ fs, dir: mirror, path: 'remote.origin.fetch', value: '+refs/heads/*:refs/remotes/origin/*' });
    const token = this.source.tokenEnv ? this.deps.env[this.source.tokenEnv] : undefined;
    return Registry.open({ dir: mirror, remote: 'origin', env: token ? { BRAMBLE_GIT_TOKEN: token } : {}, warn: this.deps.warn });
  }

  status(): SyncStatus {
    const environments: Record<string, EnvStatus> = {};
    for (const [env, model] of Object.entries(this.models)) {
      const status: EnvStatus = { model, ...this.slotStatus(env) };
      for (const role of RELEASE.roles) {
        const slot = this.slotStatus(roleStage(env, role));
        if (slot.desired === null && slot.live === null && slot.error === null) continue;
        status.roles ??= {};
        status.roles[role] = role === 'canary' ? { ...slot, weight: this.host.canary(env)?.weight ?? null, sticky: this.host.canary(env)?.sticky ?? null } : slot;
      }
      environments[env] = status;
    }
    return { url: safeUrl(this.source.url), intervalSeconds: this.source.intervalSeconds, lastSync: this.last, syncs: this.count, environments };
  }

  private slotStatus(slot: string): SlotStatus {
    const live = this.host.model(slot);
    const desired = this.desired.get(slot) ?? null;
    return {
      desired,
      live: live ? { version: live.version, sha256: live.sha256 } : null,
      inSync: desired === null ? null : live !== null && live.version === desired.version && live.sha256 === desired.sha256,
      error: this.errors.get(slot) ?? null,
    };
  }
}

/** A URL without any credentials written into it, fit for /status and logs. */
function safeUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}
