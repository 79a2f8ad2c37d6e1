// The monitor's one issue per model and environment: found by its marker among the open issues with its labels
// (every page), updated in place or created, and closed with a comment when the model is healthy again. Like the
// pull request's comment, a create that may have landed is never posted twice: the retry lists again first.
import { setTimeout as sleep } from 'node:timers/promises';
import type { IssueRequest, IssueResult } from '../types.js';
import { GITHUB_LIMITS, isRetryable, type GitHubClient, type Octokit } from './client.js';
import { CommentTooLongError, codePoints } from './comments.js';

interface FoundIssue {
  number: number;
  html_url: string;
}

export class GitHubIssues {
  constructor(private readonly client: GitHubClient) {}

  async upsert(issue: IssueRequest): Promise<IssueResult> {
    const client = this.client;
    const body = issue.body.includes(issue.marker) ? issue.body : `${issue.marker}\n${issue.body}`;
    const length = codePoints(body);
    if (length > GITHUB_LIMITS.commentChars) throw new CommentTooLongError(length);
    const { owner, repo } = client.ownerRepo();
    const api = await client.octokit();
    for (let attempt = 1; ; attempt++) {
      const existing = await this.find(api, issue.marker, issue.labels);
      try {
        if (existing) {
          const res = await api.rest.issues.update({ owner, repo, issue_number: existing.number, title: issue.title, body });
          return { url: res.data.html_url, number: res.data.number, created: false };
        }
        // Not retried inside the request: a POST that timed out may have landed, and the listing finds it.
        const res = await api.rest.issues.create({ owner, repo, title: issue.title, body, labels: [...issue.labels], request: { retries: 0 } });
        return { url: res.data.html_url, number: res.data.number, created: true };
      } catch (err) {
        if (existing || !isRetryable(err) || attempt > client.retries) {
          if (!existing) client.failedAfter(err, attempt);
          throw client.explain(err, 'issues');
        }
        await sleep(client.wait(attempt, err));
      }
    }
  }

  async close(marker: string, comment: string, labels: readonly string[]): Promise<{ url: string | null; number: number } | null> {
    const client = this.client;
    const { owner, repo } = client.ownerRepo();
    const api = await client.octokit();
    const existing = await this.find(api, marker, labels);
    if (!existing) return null;
    try {
      await api.rest.issues.createComment({ owner, repo, issue_number: existing.number, body: comment });
      const res = await api.rest.issues.update({ owner, repo, issue_number: existing.number, state: 'closed', state_reason: 'completed' });
      return { url: res.data.html_url, number: res.data.number };
    } catch (err) {
      throw client.explain(err, 'issues');
    }
  }

  /** The open issue carrying the marker (the oldest, when someone copied the marker into another), or null. */
  private async find(api: Octokit, marker: string, labels: readonly string[]): Promise<FoundIssue | null> {
    const { owner, repo } = this.client.ownerRepo();
    let all: Awaited<ReturnType<typeof api.rest.issues.listForRepo>>['data'];
    try {
      all = await api.paginate(api.rest.issues.listForRepo, {
        owner,
        repo,
        state: 'open',
        ...(labels.length > 0 ? { labels: labels.join(',') } : {}),
        per_page: 100,
      });
    } catch (err) {
      throw this.client.explain(err, 'issues');
    }
    // The listing holds pull requests too (GitHub's issues are both); a pull request is never the monitor's issue.
    const matching = all.filter((i) => !i.pull_request && (i.body ?? '').includes(marker));
    if (matching.length === 0) return null;
    return matching.reduce((oldest, i) => (i.number < oldest.number ? i : oldest));
  }
}
