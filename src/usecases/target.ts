// Which environment a run is for, decided from ml.yaml and the event that started it: the plan the pipeline's
// later jobs bind to (deploy where, compare against whom).
import type { MlConfig } from '../config/ml-yaml.js';
import type { EventContext } from '../platform/types.js';
import { checkEnvironment } from '../registry/registry.js';
import { stageRole } from '../registry/roles.js';
import { parseTag } from '../registry/tags.js';
import { UsageError } from './options.js';

export interface Target {
  /** The environment this run deploys to, or '' when it deploys nowhere. */
  environment: string;
  /** The environment whose model is the champion, or '' when there is none. */
  championEnv: string;
}

/**
 * Which environment an event is for, by ml.yaml: a manual run names it (checked); a push to a branch is for the
 * environment that follows that branch; an assignment tag names its own; a pull request is for none, but its
 * base branch's environment is the champion unless ml.yaml's compare.against names one.
 */
export function targetOf(config: MlConfig, event: EventContext, requested: string): Target {
  const environments = Object.keys(config.environments);
  const byBranch = (branch: string | null | undefined): string =>
    Object.entries(config.environments).find(([, e]) => e.branch === branch)?.[0] ?? '';
  let environment = '';
  let branchEnv = '';
  if (requested) {
    checkEnvironment(requested, environments);
    environment = requested;
  } else if (event.kind === 'push') {
    environment = branchEnv = byBranch(event.ref);
  } else if (event.kind === 'pull_request') {
    branchEnv = byBranch(event.pullRequest?.base);
  } else if (event.kind === 'tag' && event.ref) {
    const tag = parseTag(event.ref);
    if (tag === null && /[@#]/.test(event.ref)) {
      throw new UsageError(
        `the tag ${event.ref} is not in GTO's grammar (name#env#N assigns, name@vX.Y.Z registers); see docs/registry.md — push assignments with bramble promote`,
        { tag: event.ref },
      );
    }
    // Only an assignment deploys; taking a version away (name#env!#N) does not stop a server yet. A canary or
    // shadow (name#env-canary#N) deploys nothing here either: the hosts that follow git take it on their next sync.
    if (tag?.kind === 'assign' && tag.name === config.name && stageRole(tag.env).role === 'main') {
      checkEnvironment(tag.env, environments);
      environment = tag.env;
    }
  }
  return { environment, championEnv: config.compare?.against ?? branchEnv };
}
