// The GitHub Actions adapter: the event from GITHUB_EVENT_NAME and the payload at GITHUB_EVENT_PATH, the sticky PR
// comment, the monitor's issue, workflow dispatches, pull requests and the deployment records through GitHub's REST API (octokit from @actions/github), annotations as
// workflow commands and the summary in $GITHUB_STEP_SUMMARY. Each concern is its own part under github/: the
// client and its error messages (client.ts), the event (event.ts), the comment (comments.ts), the monitor's issue
// (issues.ts), a retrain's dispatch and pull request (retrain.ts), deployments (deployments.ts), approvals
// (approval.ts), the summary and annotations (summary.ts); this file puts them together.
//
// Every API failure becomes one line a person can act on: a 403 names the permission to add to the job (or says the
// pull request comes from a fork, whose token is read-only whatever the workflow asks for); 5xx and dropped
// connections are retried a bounded number of times with backoff, then named with the endpoint and the status.
//
// Decisions (approvals, checkApproval):
// - An environment is approved when its GitHub environment has a `required_reviewers` rule with at least one
//   reviewer (GET /repos/{owner}/{repo}/environments/{environment_name}), or when an active tag ruleset restricts
//   the creation of every assignment tag of it (GET /repos/{owner}/{repo}/rulesets?targets=tag, then each ruleset:
//   the list gives summaries without `conditions` or `rules`). Tag protection rules are not asked: GitHub retired
//   them in favour of rulesets.
// - A ruleset counts only when `enforcement` is `active` (not `evaluate` or `disabled`), its `target` is `tag`, it
//   has a `creation` rule (only its bypass list may create matching refs; a ruleset that only forbids deletions
//   approves nothing), and its `ref_name` patterns cover `refs/tags/<name>#<env>#N` for any counter N.
// - A 404 from the environment (no such environment, or environments not available to the repository) or a 403
//   that says the plan lacks the feature is a finding, not a failure: the other check may still approve. A 403 for
//   a missing permission fails the step with the permission named — GitHub's own X-Accepted-GitHub-Permissions
//   header when it sends one — unless the other check approved.
import * as core from '@actions/core';
import type { Platform } from './types.js';
import { GitHubApprovals } from './github/approval.js';
import { GitHubClient, type Env, type GitHubPlatformOptions } from './github/client.js';
import { GitHubComments } from './github/comments.js';
import { GitHubDeployments } from './github/deployments.js';
import { GitHubIssues } from './github/issues.js';
import { GitHubRetrain } from './github/retrain.js';
import { readGitHubEvent } from './github/event.js';
import { annotateStep, writeSummary } from './github/summary.js';
import type { EventContext } from './types.js';

export { patternsCoverTags, refPatternMatches } from './github/approval.js';
export { GITHUB_LIMITS, GitHubApiError, GitHubAuthError, GitHubPermissionError, type GitHubPlatformOptions } from './github/client.js';
export { CommentTooLongError } from './github/comments.js';
export { GitHubEventError, readGitHubEvent } from './github/event.js';
export { fitSummary } from './github/summary.js';

export function githubPlatform(env: Env, options: GitHubPlatformOptions = {}): Platform {
  let event: EventContext | undefined;
  const context = (): EventContext => (event ??= readGitHubEvent(env));
  const client = new GitHubClient(env, options, context);
  const comments = new GitHubComments(client);
  const deployments = new GitHubDeployments(client);
  const approvals = new GitHubApprovals(client);
  const issues = new GitHubIssues(client);
  const retrain = new GitHubRetrain(client, env);
  return {
    name: 'github',
    context,
    upsertComment: (marker, text, target) => comments.upsertComment(marker, text, target),
    upsertIssue: (issue) => issues.upsert(issue),
    closeIssue: (marker, comment, labels) => issues.close(marker, comment, labels),
    dispatchPipeline: (request) => retrain.dispatch(request),
    openPullRequest: (request) => retrain.openPullRequest(request),
    summary: (markdown) => writeSummary(env, markdown),
    annotate: (annotations) => annotateStep(annotations),
    startDeployment: (request) => deployments.start(request),
    continueDeployment: (request) => deployments.continue(request),
    checkApproval: (query) => approvals.checkApproval(query),
    setOutput: (name, value) => core.setOutput(name, value),
    info: (message) => core.info(message),
  };
}
