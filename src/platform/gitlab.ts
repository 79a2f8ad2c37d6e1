// The GitLab CI adapter: the pipeline from GitLab's predefined variables (CI_PIPELINE_SOURCE, CI_MERGE_REQUEST_IID,
// CI_COMMIT_TAG, …), the sticky merge-request note, the monitor's issue, a retrain's pipeline and merge request, and
// the deployment records through GitLab's REST API (plain
// fetch at CI_API_V4_URL, the project access token BRAMBLE_GITLAB_TOKEN), problems on files and lines as a Code
// Quality report, outputs as a dotenv report, and the report as a Markdown file and in the job log. Each concern is
// its own part under gitlab/; this file puts them together.
//
// Every API failure becomes one line a person can act on: a 403 names the scope the token lacks; 5xx and dropped
// connections are retried a bounded number of times with backoff, then named with the endpoint and the status.
//
// Decisions:
// - checkApproval reads the project's protected tags (gitlab/approval.ts): an environment with `approval: true` is
//   promoted from a pipeline only when a protected tag `NAME#ENV#*` lets only Maintainers create its tags; otherwise
//   it is refused (promote it from a terminal as a maintainer). Protected environments are Premium, and not read.
// - A tag pushed with CI_JOB_TOKEN starts no pipeline, so a promotion asks for one with
//   POST /projects/:id/ref/:tag/trigger/pipeline, authenticated by the job token in the body.
import { join } from 'node:path';
import { parseTag } from '../registry/tags.js';
import type { Platform } from './types.js';
import { GitLabApprovals } from './gitlab/approval.js';
import { GitLabAuthError, GitLabClient, GitLabTagError, type Env, type GitLabPlatformOptions } from './gitlab/client.js';
import { GitLabDeployments } from './gitlab/deployments.js';
import { readGitLabEvent, type GitLabEvent } from './gitlab/event.js';
import { GitLabIssues } from './gitlab/issues.js';
import { GitLabNotes } from './gitlab/notes.js';
import { GitLabRetrain } from './gitlab/retrain.js';
import { appendCodeQuality, appendReport, GITLAB_FILES, writeDotenv } from './gitlab/reports.js';
import { formatAnnotation } from './local.js';

export { GITLAB_LIMITS, GITLAB_NEEDS, GitLabApiError, GitLabAuthError, GitLabLimitError, GitLabScopeError, GitLabTagError, type GitLabPlatformOptions } from './gitlab/client.js';
export { GitLabCiError, readGitLabEvent, type GitLabEvent } from './gitlab/event.js';
export { codeQualityIssue, dotenvName, GITLAB_FILES, type CodeQualityIssue } from './gitlab/reports.js';

export interface GitLabPlatform extends Platform {
  context(): GitLabEvent;
  /** Starts the pipeline of a pushed registry tag (a job token's push starts none); refuses a tag that is not GTO's. */
  triggerTagPipeline(tag: string): Promise<{ id: number; url: string | null }>;
}

export function gitlabPlatform(env: Env, options: GitLabPlatformOptions = {}): GitLabPlatform {
  let event: GitLabEvent | undefined;
  const context = (): GitLabEvent => (event ??= readGitLabEvent(env));
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const info = (message: string) => write(`${message}\n`);
  const client = new GitLabClient(env, options);
  const notes = new GitLabNotes(client, context, info);
  const deployments = new GitLabDeployments(client, context, env.CI_ENVIRONMENT_NAME, info);
  const issues = new GitLabIssues(client, context);
  const retrain = new GitLabRetrain(client, context);
  const approvals = new GitLabApprovals(env, options, context);
  const dir = env.CI_PROJECT_DIR || '.';
  const file = (name: keyof typeof GITLAB_FILES, override: string | undefined) => override || join(dir, GITLAB_FILES[name]);

  return {
    name: 'gitlab',
    context,
    upsertComment: (marker, text, target) => notes.upsert(marker, text, target),
    upsertIssue: (issue) => issues.upsert(issue),
    closeIssue: (marker, comment, labels) => issues.close(marker, comment, labels),
    dispatchPipeline: (request) => retrain.dispatch(request),
    openPullRequest: (request) => retrain.openMergeRequest(request),
    async summary(markdown) {
      write(markdown.endsWith('\n') ? markdown : `${markdown}\n`);
      appendReport(file('report', env.BRAMBLE_REPORT_FILE), markdown);
    },
    annotate(annotations) {
      if (annotations.length === 0) return;
      for (const a of annotations) info(formatAnnotation(a));
      appendCodeQuality(file('codequality', env.BRAMBLE_CODEQUALITY_FILE), annotations);
    },
    startDeployment: (request) => deployments.start(request),
    continueDeployment: (request) => deployments.continue(request),
    checkApproval: (query) => approvals.checkApproval(query),
    setOutput: (name, value) => writeDotenv(file('dotenv', env.BRAMBLE_DOTENV_FILE), name, value),
    info,
    async triggerTagPipeline(tag) {
      if (parseTag(tag) === null) {
        throw new GitLabTagError(`${JSON.stringify(tag)} is not a registry tag (NAME@vX.Y.Z or NAME#ENV#N); Bramble starts pipelines only for its own tags`, { tag });
      }
      const token = env.CI_JOB_TOKEN;
      if (!token) throw new GitLabAuthError('CI_JOB_TOKEN is not set: the pipeline of a pushed tag is started with the job token, inside a GitLab CI job', { tag });
      const project = encodeURIComponent(context().projectId);
      const res = await client.call<{ id: number; web_url?: string }>('POST', `/projects/${project}/ref/${encodeURIComponent(tag)}/trigger/pipeline`, 'trigger', {
        body: { token },
        token: 'none',
      });
      return { id: res.data.id, url: res.data.web_url ?? null };
    },
  };
}
