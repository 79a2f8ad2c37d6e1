// The pipeline that started a GitLab CI job, from GitLab's predefined CI/CD variables, reduced to what the steps
// decide on.
//
// Decisions:
// - A merge request's notes live in the target project: CI_MERGE_REQUEST_PROJECT_ID (falling back to
//   CI_PROJECT_ID). Its source is a fork when CI_MERGE_REQUEST_SOURCE_PROJECT_ID names another project. A fork's
//   pipeline runs in the fork with the fork's variables by default, or in the parent when a maintainer runs it
//   there — either way its code is untrusted, so the steps report and use no token.
// - A tag pipeline is `push` with CI_COMMIT_TAG set; its `ref` is the tag.
import { errorClass } from '../../errors.js';
import type { EventContext } from '../types.js';
import type { Env } from './client.js';

/** The job's variables are missing or say something Bramble does not run on. */
export class GitLabCiError extends errorClass('E_GITLAB_CI') {}

/** What the adapter adds to the event: the project the API calls are made on. */
export interface GitLabEvent extends EventContext {
  projectId: string;
}

export function readGitLabEvent(env: Env): GitLabEvent {
  const source = env.CI_PIPELINE_SOURCE;
  const projectId = env.CI_MERGE_REQUEST_PROJECT_ID || env.CI_PROJECT_ID;
  if (!source || !projectId) {
    throw new GitLabCiError(
      `CI_PIPELINE_SOURCE and CI_PROJECT_ID are ${JSON.stringify(source ?? null)} and ${JSON.stringify(env.CI_PROJECT_ID ?? null)}: the GitLab adapter runs inside a GitLab CI job; use the terminal adapter elsewhere`,
    );
  }
  const common = {
    projectId,
    repository: env.CI_PROJECT_PATH || null,
    sha: env.CI_COMMIT_SHA || null,
    actor: env.GITLAB_USER_LOGIN || null,
    runUrl: env.CI_PIPELINE_URL || env.CI_JOB_URL || null,
  };
  if (source === 'merge_request_event' || env.CI_MERGE_REQUEST_IID) {
    const iid = Number(env.CI_MERGE_REQUEST_IID);
    if (!Number.isInteger(iid) || iid < 1) {
      throw new GitLabCiError(`CI_MERGE_REQUEST_IID is ${JSON.stringify(env.CI_MERGE_REQUEST_IID ?? null)} in a merge-request pipeline; expected a number`);
    }
    const from = env.CI_MERGE_REQUEST_SOURCE_PROJECT_ID;
    const fork = Boolean(from) && from !== projectId;
    const head = env.CI_MERGE_REQUEST_SOURCE_BRANCH_NAME || env.CI_COMMIT_REF_NAME || '';
    const base = env.CI_MERGE_REQUEST_TARGET_BRANCH_NAME || '';
    return { kind: 'pull_request', ...common, ref: head || null, pullRequest: { number: iid, base, head, fork } };
  }
  switch (source) {
    case 'push':
      if (env.CI_COMMIT_TAG) return { kind: 'tag', ...common, ref: env.CI_COMMIT_TAG, pullRequest: null };
      return { kind: 'push', ...common, ref: env.CI_COMMIT_BRANCH || env.CI_COMMIT_REF_NAME || null, pullRequest: null };
    case 'web':
    case 'api':
    case 'trigger':
    case 'pipeline':
      if (env.CI_COMMIT_TAG) return { kind: 'tag', ...common, ref: env.CI_COMMIT_TAG, pullRequest: null };
      return { kind: 'dispatch', ...common, ref: env.CI_COMMIT_BRANCH || env.CI_COMMIT_REF_NAME || null, pullRequest: null };
    case 'schedule':
      return { kind: 'schedule', ...common, ref: env.CI_COMMIT_BRANCH || env.CI_COMMIT_REF_NAME || null, pullRequest: null };
    default:
      throw new GitLabCiError(
        `Bramble does not run on pipelines whose CI_PIPELINE_SOURCE is \`${source}\`; run it on merge_request_event, push, web, api, trigger or schedule`,
        { source },
      );
  }
}
