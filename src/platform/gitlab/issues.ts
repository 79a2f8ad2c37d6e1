// The monitor's one issue per model and environment on GitLab: found by its marker among the project's open issues
// with its labels (every page), updated in place or created, and closed — the healthy note at the end of its
// description — when the model is healthy again. A create that failed with a 5xx may have landed: the retry lists
// again before it posts again.
import { setTimeout as sleep } from 'node:timers/promises';
import type { IssueRequest, IssueResult } from '../types.js';
import { GITLAB_LIMITS, GitLabApiError, GitLabLimitError, type GitLabClient } from './client.js';
import type { GitLabEvent } from './event.js';

interface Issue {
  iid: number;
  description: string | null;
  web_url?: string;
}

export class GitLabIssues {
  constructor(
    private readonly client: GitLabClient,
    private readonly event: () => GitLabEvent,
  ) {}

  private path(): string {
    return `/projects/${encodeURIComponent(this.event().projectId)}/issues`;
  }

  async upsert(issue: IssueRequest): Promise<IssueResult> {
    const description = issue.body.includes(issue.marker) ? issue.body : `${issue.marker}\n${issue.body}`;
    if (description.length > GITLAB_LIMITS.noteChars) {
      throw new GitLabLimitError(`the issue is ${description.length} characters, over GitLab's limit of ${GITLAB_LIMITS.noteChars}; trim it`, { length: description.length });
    }
    for (let attempt = 1; ; attempt++) {
      const existing = await this.find(issue.marker, issue.labels);
      if (existing) {
        const res = await this.client.call<Issue>('PUT', `${this.path()}/${existing.iid}`, 'issues', { body: { title: issue.title, description } });
        return { url: res.data.web_url ?? null, number: res.data.iid, created: false };
      }
      try {
        const res = await this.client.call<Issue>('POST', this.path(), 'issues', { body: { title: issue.title, description, labels: [...issue.labels] } });
        return { url: res.data.web_url ?? null, number: res.data.iid, created: true };
      } catch (err) {
        const again = err instanceof GitLabApiError && typeof err.data.status === 'number' && err.data.status >= 500;
        if (!again || attempt > this.client.retries) throw err;
        await sleep(this.client.wait(attempt));
      }
    }
  }

  /**
   * Closes the issue with the comment at the end of its description, in one edit: the issue-notes endpoint is not
   * in the API description the adapter is checked against (vendor/gitlab/SOURCE.md), so no note is posted. Planned.
   */
  async close(marker: string, comment: string, labels: readonly string[]): Promise<{ url: string | null; number: number } | null> {
    const existing = await this.find(marker, labels);
    if (!existing) return null;
    const description = `${existing.description ?? ''}\n\n---\n\n${comment}`;
    const res = await this.client.call<Issue>('PUT', `${this.path()}/${existing.iid}`, 'issues', { body: { state_event: 'close', description } });
    return { url: res.data.web_url ?? null, number: res.data.iid };
  }

  /** The open issue carrying the marker (the oldest, when someone copied the marker into another), or null. */
  private async find(marker: string, labels: readonly string[]): Promise<Issue | null> {
    const query = `state=opened${labels.length > 0 ? `&labels=${encodeURIComponent(labels.join(','))}` : ''}`;
    const all = await this.client.all<Issue>(`${this.path()}?${query}`, 'issues');
    const matching = all.filter((i) => (i.description ?? '').includes(marker));
    if (matching.length === 0) return null;
    return matching.reduce((oldest, i) => (i.iid < oldest.iid ? i : oldest));
  }
}
