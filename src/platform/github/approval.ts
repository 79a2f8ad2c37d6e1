// Whether a person must approve a promotion to an environment: the GitHub environment's required reviewers, or an
// active tag ruleset that lets only its bypass list create the environment's assignment tags. (The decisions are in
// ../github.ts.)
import type { ApprovalQuery, ApprovalVerdict } from '../types.js';
import { GitHubPermissionError, isApiFailure, isObject, type ApiFailure, type GitHubClient } from './client.js';

/** Counters an assignment tag may carry, tried against a ruleset's patterns: a pattern must take every one of them. */
const PROBE_COUNTERS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '42', '100', '1000000'] as const;

/**
 * Whether a ruleset's ref name pattern matches a full ref (`refs/tags/churn#prod#4`), as GitHub matches them: fnmatch
 * syntax, `*` and `?` not crossing `/`, `**` crossing it, `[…]` a class (`[!…]` negated); `~ALL` matches every ref of
 * the ruleset's target. A pattern without `refs/` is taken as a tag name.
 */
export function refPatternMatches(pattern: string, ref: string): boolean {
  if (pattern === '~ALL') return true;
  if (pattern.startsWith('~')) return false; // ~DEFAULT_BRANCH names a branch, never a tag
  const full = pattern.startsWith('refs/') ? pattern : `refs/tags/${pattern}`;
  let source = '';
  for (let i = 0; i < full.length; i++) {
    const c = full[i];
    if (c === '*') {
      if (full[i + 1] === '*') {
        source += '.*';
        i++;
      } else source += '[^/]*';
    } else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = full.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let body = full.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < full.length) {
      source += full[++i].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(`^${source}$`).test(ref);
  } catch (err) {
    if (err instanceof SyntaxError) return false; // a class GitHub would accept and JavaScript not: no match claimed
    throw err;
  }
}

/** Whether include/exclude patterns cover `refs/tags/<prefix>N` for every counter N (tried on PROBE_COUNTERS). */
export function patternsCoverTags(include: readonly string[], exclude: readonly string[], tagPrefix: string): boolean {
  return PROBE_COUNTERS.every((n) => {
    const ref = `refs/tags/${tagPrefix}${n}`;
    return include.some((p) => refPatternMatches(p, ref)) && !exclude.some((p) => refPatternMatches(p, ref));
  });
}

/** The reviewers of an environment's `required_reviewers` rule, by login or team slug; [] when it has none. */
function requiredReviewers(rules: readonly unknown[] | undefined): string[] {
  const names: string[] = [];
  for (const rule of rules ?? []) {
    if (!isObject(rule) || rule.type !== 'required_reviewers' || !Array.isArray(rule.reviewers)) continue;
    for (const entry of rule.reviewers) {
      const reviewer = isObject(entry) && isObject(entry.reviewer) ? entry.reviewer : undefined;
      const name = reviewer ? (typeof reviewer.login === 'string' ? reviewer.login : typeof reviewer.slug === 'string' ? `team ${reviewer.slug}` : null) : null;
      if (name) names.push(name);
    }
  }
  return names;
}

/** The ref_name patterns of a ruleset's conditions (repository or organization shape); null when it has none. */
function refNames(conditions: unknown): { include: string[]; exclude: string[] } | null {
  if (!isObject(conditions) || !isObject(conditions.ref_name)) return null;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return { include: strings(conditions.ref_name.include), exclude: strings(conditions.ref_name.exclude) };
}

/** A 403 that says the repository's plan lacks the feature, which no permission would fix. */
function isPlanLimit(err: ApiFailure): boolean {
  const body = err.response?.data;
  const said = isObject(body) && typeof body.message === 'string' ? body.message : err.message;
  return /upgrade to github|make this repository public|not available (for|on|in) (this|your)/i.test(said);
}

export class GitHubApprovals {
  constructor(private readonly client: GitHubClient) {}

  async checkApproval({ environment, tagPrefix }: ApprovalQuery): Promise<ApprovalVerdict> {
    const client = this.client;
    const { owner, repo } = client.ownerRepo();
    const api = await client.octokit();
    const findings: string[] = [];
    const refused: unknown[] = [];
    const pattern = `refs/tags/${tagPrefix}*`;

    try {
      const res = await api.rest.repos.getEnvironment({ owner, repo, environment_name: environment });
      const reviewers = requiredReviewers(res.data.protection_rules);
      if (reviewers.length > 0) return { approved: true, by: `the GitHub environment ${environment} requires a review by ${reviewers.join(', ')}` };
      findings.push(`the GitHub environment ${environment} has no required reviewers`);
    } catch (err) {
      if (isApiFailure(err) && err.response && err.status === 404) {
        findings.push(`${owner}/${repo} has no GitHub environment ${environment} (or environments are not available to it)`);
      } else if (isApiFailure(err) && err.response && err.status === 403 && isPlanLimit(err)) {
        findings.push(`GitHub environments with required reviewers are not available to ${owner}/${repo} on its plan`);
      } else {
        const explained = client.explain(err, 'environments');
        if (!(explained instanceof GitHubPermissionError)) throw explained;
        refused.push(explained);
      }
    }

    try {
      const summaries = await api.paginate(api.rest.repos.getRepoRulesets, { owner, repo, targets: 'tag', per_page: 100 });
      for (const summary of summaries) {
        // The listing may leave `target` out; `enforcement` is always there.
        if (summary.enforcement !== 'active' || (summary.target !== undefined && summary.target !== 'tag')) continue;
        const { data: ruleset } = await api.rest.repos.getRepoRuleset({ owner, repo, ruleset_id: summary.id });
        if (ruleset.enforcement !== 'active' || ruleset.target !== 'tag') continue;
        if (!(ruleset.rules ?? []).some((rule) => rule.type === 'creation')) continue;
        const refs = refNames(ruleset.conditions);
        if (refs && patternsCoverTags(refs.include, refs.exclude, tagPrefix)) {
          return { approved: true, by: `the tag ruleset "${ruleset.name}" (#${ruleset.id}) lets only its bypass list create ${pattern}` };
        }
      }
      findings.push(`no active tag ruleset restricts the creation of ${pattern}`);
    } catch (err) {
      if (isApiFailure(err) && err.response && (err.status === 404 || (err.status === 403 && isPlanLimit(err)))) {
        findings.push(`rulesets are not available to ${owner}/${repo} (GitHub answered ${err.status})`);
      } else {
        const explained = client.explain(err, 'rulesets');
        if (!(explained instanceof GitHubPermissionError)) throw explained;
        refused.push(explained);
      }
    }
    // Neither check approved; one that could not look says so rather than a refusal that may be wrong.
    if (refused.length > 0) throw refused[0];
    return { approved: false, findings };
  }
}
