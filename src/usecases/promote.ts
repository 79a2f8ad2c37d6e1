// promote and rollback: a GTO assignment tag (name#env#N) written and pushed, so that the environment's hosts
// serve that version. Neither deploys anything itself: the tag does. Where the run has a platform (GitHub), an
// environment that ml.yaml marks `approval: true` is refused unless the platform makes a person approve, and the
// promotion is recorded as a deployment in progress, which the deploy continues.
import { join } from 'node:path';
import { readMlYaml, type MlConfig } from '../config/ml-yaml.js';
import { checkEnvironment, Registry, type Assigned } from '../registry/registry.js';
import { checkCanary, parseRole, ReleaseError, roleStage, type CanarySettings, type ReleaseRole } from '../registry/roles.js';
import { requireApproval } from './approval.js';
import { rollbackTarget } from './options.js';
import type { Ports } from './ports.js';

export interface PromoteOptions {
  dir: string;
  /** The model (default: ml.yaml's name). */
  name?: string;
  version: string;
  env: string;
  /** A release role (canary or shadow): the version runs beside the environment's main one (registry/roles.ts). */
  role?: string;
}

export interface RollbackOptions {
  dir: string;
  name?: string;
  env: string;
  /** A version (v1.2.0), a date or an ISO time; empty or undefined: the version served before the current one. */
  to?: string;
}

type AssignPorts = Pick<Ports, 'git' | 'log' | 'fs' | 'platform' | 'showPath'>;

/** The promote use-case. */
export function promote(options: PromoteOptions, ports: AssignPorts): Promise<Assigned> {
  return assignWith(options.dir, options.env, ports, (registry, config, environments) =>
    registry.assign(options.name ?? config.name, options.version, options.env, environments, releaseOf(options, config)),
  );
}

/** A role's settings: a canary's weight and stickiness come from ml.yaml, reviewed there, and go into its tag. */
function releaseOf(options: PromoteOptions, config: MlConfig): { role: ReleaseRole; canary: CanarySettings | null } | undefined {
  if (options.role === undefined) return undefined;
  const role = parseRole(options.role, '--role');
  if (role !== 'canary') return { role, canary: null };
  const block = config.environments[options.env]?.canary;
  if (!block) {
    throw new ReleaseError(
      `${join(options.dir, 'ml.yaml')} environments.${options.env}: no canary block, so the canary's weight is not decided; add canary: { weight: 0.1, sticky: id } under environments.${options.env} (by pull request), then promote with --role canary`,
      { env: options.env },
    );
  }
  return { role, canary: checkCanary({ weight: block.weight, sticky: block.sticky }, `ml.yaml environments.${options.env}.canary`) };
}

/**
 * The reweight use-case: ml.yaml's `environments.ENV.canary`, as merged, written to ENV's canary tag — a new tag
 * for the same version when the weight or stickiness changed, its unassignment when ml.yaml has no canary block
 * any more, nothing when the two agree. What a pull request changed in ml.yaml thus reaches the hosts, which read
 * only the tags (registry/roles.ts), on their next sync.
 */
export function reweight(options: { dir: string; name?: string; env: string; ifCanary?: boolean }, ports: AssignPorts): Promise<Assigned> {
  return assignWith(options.dir, options.env, ports, async (registry, config, environments) => {
    const name = options.name ?? config.name;
    const { models } = await registry.read({ fetch: registry.remote !== null });
    const stage = roleStage(options.env, 'canary');
    const current = models.get(name)?.envs.get(stage);
    if (!current?.version) {
      // The release job's reweight after every merge: no canary is nothing to do.
      if (options.ifCanary) return { name, env: stage, version: null, tag: null, unchanged: true, previous: null };
      throw new ReleaseError(`${options.env} has no canary of ${name} to reweight; start one with bramble promote ${name}@vX.Y.Z ${options.env} --role canary`, { env: options.env });
    }
    if (!config.environments[options.env]?.canary) return registry.unassign(name, options.env, environments, 'canary');
    return registry.assign(name, current.version, options.env, environments, releaseOf({ ...options, version: current.version, role: 'canary' }, config));
  });
}

/**
 * After a release's promotion: ml.yaml's canary block, as merged, applied to the environment's canary (reweight),
 * or nothing when it has none. Without the platform: the promotion just passed the environment's approval, and a
 * role's tag deploys nothing.
 */
export function releaseCanary(options: { dir: string; env: string }, ports: AssignPorts): Promise<Assigned> {
  return reweight({ ...options, ifCanary: true }, { ...ports, platform: undefined });
}

/** The rollback use-case: an earlier version assigned again; history is never rewritten. */
export function rollback(options: RollbackOptions, ports: AssignPorts): Promise<Assigned> {
  return assignWith(options.dir, options.env, ports, (registry, config, environments) =>
    registry.rollback(options.name ?? config.name, options.env, environments, rollbackTarget(options.to)),
  );
}

async function assignWith(
  dir: string,
  env: string,
  ports: AssignPorts,
  write: (registry: Registry, config: MlConfig, environments: string[]) => Promise<Assigned>,
): Promise<Assigned> {
  const file = join(dir, 'ml.yaml');
  const config = await readMlYaml(file);
  const environments = Object.keys(config.environments);
  checkEnvironment(env, environments);
  // Before the registry is opened: a promotion nobody must approve is refused with nothing fetched or tagged.
  if (ports.platform) await requireApproval(ports.platform, config, file, ports.showPath?.(file) ?? file, env);
  const registry = await Registry.open({ dir, env: ports.git.env, remote: ports.git.remote, fs: ports.fs, warn: (m) => ports.log.warn(m) });
  const result = await write(registry, config, environments);
  // The promotion is recorded as a Deployment of the tag, in progress until the deploy run the tag starts (or the
  // deploy step after this one) continues it to success or failure.
  if (ports.platform && !result.unchanged && result.tag && result.version) {
    const description = `${result.name}@${result.version} assigned by ${result.tag}; deploying`;
    await ports.platform.startDeployment({ environment: result.env, ref: result.tag, description });
  }
  return result;
}
