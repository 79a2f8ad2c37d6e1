// Whether a person must approve a promotion to an environment on GitLab: a protected tag rule over its assignment
// tags (`churn#prod#*`) that lets only Maintainers, or no one, create them. GitLab Free has protected tags;
// protected environments and deployment approvals are Premium, and Bramble's jobs record deployments through the
// API rather than with `environment:`, so a protected environment would not hold them back (docs/gitlab.md).
//
// Decisions:
// - GitLab matches a protected tag's name as a wildcard where `*` stands for any run of characters, `/` included,
//   and every other character for itself. A rule covers the environment when it matches the assignment tag for every
//   counter (tried on PROBE_COUNTERS, as the GitHub check does for rulesets).
// - When several rules match a tag, GitLab lets a push through if any of their access levels allows it (the most
//   permissive wins), so every access level of every covering rule must be Maintainer or above, or No one. A user,
//   group or deploy key named on a rule is refused: a deploy key is a machine, and a named user's pipelines could
//   push with the user's rights.
// - Reading protected tags needs the Maintainer role (GitLab's protected tags API authorizes admin_project), and a
//   Maintainer's token may create the very tags a rule reserves for Maintainers: BRAMBLE_GITLAB_TOKEN, which pushes
//   the tags, must not be one. So the rules are read with a second token, BRAMBLE_GITLAB_APPROVAL_TOKEN: a project
//   access token with the Maintainer role and only the `read_api` scope, which can read them and push nothing.
//   Without it nothing is read and the promotion is refused, with the fix.
import { GitLabAuthError, GitLabClient, GitLabScopeError, type Env, type GitLabPlatformOptions } from './client.js';
import type { ApprovalQuery, ApprovalVerdict } from '../types.js';
import type { GitLabEvent } from './event.js';

/** The variable holding the token that reads protected tags. */
export const APPROVAL_TOKEN = 'BRAMBLE_GITLAB_APPROVAL_TOKEN';

/** Counters an assignment tag may carry, tried against a rule's wildcard: a rule must take every one of them. */
const PROBE_COUNTERS = ['1', '2', '3', '9', '10', '42', '100', '1000000'] as const;

/** GitLab's access levels (docs: Protected tags API, "Valid access levels"). */
export const GITLAB_ACCESS = { noOne: 0, developer: 30, maintainer: 40, admin: 60 } as const;

interface AccessLevel {
  access_level?: number | null;
  access_level_description?: string | null;
  user_id?: number | null;
  group_id?: number | null;
  deploy_key_id?: number | null;
}

interface ProtectedTag {
  name?: unknown;
  create_access_levels?: unknown;
}

/** Whether a protected tag's name (`*` a wildcard for any characters) matches a tag name, as GitLab matches them. */
export function protectedTagMatches(rule: string, tag: string): boolean {
  if (!rule.includes('*')) return rule === tag;
  const source = rule
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(tag);
}

/** Whether a rule covers `<prefix>N` for every counter N. */
export function protectedTagCovers(rule: string, tagPrefix: string): boolean {
  return PROBE_COUNTERS.every((n) => protectedTagMatches(rule, `${tagPrefix}${n}`));
}

/** Who besides Maintainers an access level lets create the tag, or null when it lets no one else. */
function widerThanMaintainers(level: AccessLevel): string | null {
  if (typeof level.deploy_key_id === 'number') return `deploy key #${level.deploy_key_id}`;
  if (typeof level.user_id === 'number') return `user #${level.user_id}`;
  if (typeof level.group_id === 'number') return `group #${level.group_id}`;
  const access = level.access_level;
  if (access === GITLAB_ACCESS.noOne || (typeof access === 'number' && access >= GITLAB_ACCESS.maintainer)) return null;
  return level.access_level_description || `access level ${String(access)}`;
}

export class GitLabApprovals {
  /** The client that reads protected tags, with BRAMBLE_GITLAB_APPROVAL_TOKEN in place of BRAMBLE_GITLAB_TOKEN; null without it. */
  private readonly client: GitLabClient | null;

  constructor(
    env: Env,
    options: GitLabPlatformOptions,
    private readonly event: () => GitLabEvent,
  ) {
    const token = env[APPROVAL_TOKEN];
    this.client = token ? new GitLabClient({ ...env, BRAMBLE_GITLAB_TOKEN: token }, options) : null;
  }

  async checkApproval({ tagPrefix }: ApprovalQuery): Promise<ApprovalVerdict> {
    const pattern = `${tagPrefix}*`;
    if (this.client === null) {
      return {
        approved: false,
        findings: [`${APPROVAL_TOKEN} is not set, so the protected tags were not read (reading them needs the Maintainer role, which BRAMBLE_GITLAB_TOKEN must not have)`],
        fix:
          `Protect the tags ${pattern} (Settings → Repository → Protected tags, allowed to create: Maintainers), and add a project access token with the Maintainer role ` +
          `and only the read_api scope as the masked CI/CD variable ${APPROVAL_TOKEN}; or promote from a terminal as a maintainer (bramble promote NAME@vX.Y.Z ENV)`,
      };
    }
    const rules = await this.readRules(this.client);
    const covering = rules.filter((r): r is { name: string; create_access_levels?: unknown } => typeof r.name === 'string' && protectedTagCovers(r.name, tagPrefix));
    if (covering.length === 0) {
      const names = rules.map((r) => String(r.name));
      return {
        approved: false,
        findings: [`no protected tag covers ${pattern}${names.length > 0 ? ` (protected: ${names.join(', ')})` : ' (the project protects no tags)'}`],
        fix: `Protect the tags ${pattern} (Settings → Repository → Protected tags, allowed to create: Maintainers), then promote from a terminal as a maintainer (bramble promote NAME@vX.Y.Z ENV); the tag's pipeline deploys it`,
      };
    }
    const wider: string[] = [];
    for (const rule of covering) {
      const levels = Array.isArray(rule.create_access_levels) ? (rule.create_access_levels as AccessLevel[]) : [];
      if (levels.length === 0) wider.push(`GitLab listed no access levels for the protected tag ${rule.name}, so who may create ${pattern} is unknown`);
      for (const level of levels) {
        const who = widerThanMaintainers(level);
        if (who !== null) wider.push(`the protected tag ${rule.name} lets ${who} create ${pattern}`);
      }
    }
    if (wider.length > 0) {
      return {
        approved: false,
        findings: wider,
        fix: `Set "Allowed to create" of ${covering.map((r) => r.name).join(', ')} to Maintainers (or No one) only (Settings → Repository → Protected tags), and keep BRAMBLE_GITLAB_TOKEN a Developer's token so that the pipeline cannot push ${pattern} itself`,
      };
    }
    const names = covering.map((r) => r.name).join(', ');
    return { approved: true, by: `the protected tag ${names} lets only Maintainers create ${pattern}` };
  }

  /** Every protected tag rule of the project; a refused token is named as the approval token, not BRAMBLE_GITLAB_TOKEN. */
  private async readRules(client: GitLabClient): Promise<ProtectedTag[]> {
    const project = encodeURIComponent(this.event().projectId);
    try {
      return await client.all<ProtectedTag>(`/projects/${project}/protected_tags`, 'protectedTags');
    } catch (err) {
      if (!(err instanceof GitLabAuthError || err instanceof GitLabScopeError)) throw err;
      const status = typeof err.data.status === 'number' ? err.data.status : null;
      throw new GitLabScopeError(
        `${APPROVAL_TOKEN} cannot read the protected tags${status === null ? '' : ` (GitLab answered ${status})`}: it must be a valid project access token with the Maintainer role and the read_api scope — ${err.message}`,
        err.data,
      );
    }
  }
}
