// The one report comment of a pull request: found by its marker through every page of comments (preferring ours
// when someone quoted the marker), updated in place, or created — never posted twice when a create is retried.
import { setTimeout as sleep } from 'node:timers/promises';
import { errorClass } from '../../errors.js';
import type { CommentTarget } from '../types.js';
import { GITHUB_LIMITS, isApiFailure, isRetryable, type GitHubClient, type Octokit } from './client.js';

/** The report is longer than a GitHub comment may be; the caller trims before posting. */
export class CommentTooLongError extends errorClass('E_COMMENT_TOO_LONG') {
  constructor(length: number) {
    super(
      `the comment is ${length.toLocaleString('en-US')} characters, over GitHub's limit of ${GITHUB_LIMITS.commentChars.toLocaleString('en-US')}; trim the report before posting it`,
      { length, limit: GITHUB_LIMITS.commentChars },
    );
  }
}

export function codePoints(text: string): number {
  // GitHub counts characters, not UTF-16 units: an emoji is one.
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

export class GitHubComments {
  private login: Promise<string | null> | undefined;

  constructor(private readonly client: GitHubClient) {}

  async upsertComment(marker: string, text: string, target?: CommentTarget): Promise<{ url: string | null; created: boolean } | null> {
    const client = this.client;
    // A dispatched retrain run has no pull request in its event: it names the one it opened.
    const pr = target ? { number: target.pullRequest } : client.context().pullRequest;
    if (!pr) return null;
    const body = text.includes(marker) ? text : `${marker}\n${text}`;
    const length = codePoints(body);
    if (length > GITHUB_LIMITS.commentChars) throw new CommentTooLongError(length);
    const { owner, repo } = client.ownerRepo();
    const api = await client.octokit();
    for (let attempt = 1; ; attempt++) {
      let existing: Awaited<ReturnType<GitHubComments['findComment']>>;
      try {
        existing = await this.findComment(api, owner, repo, pr.number, marker);
      } catch (err) {
        throw client.explain(err, 'comments');
      }
      try {
        if (existing) {
          const res = await api.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
          return { url: res.data.html_url, created: false };
        }
        // Not retried inside the request: a POST that timed out may have landed, so the retry starts over from
        // the listing, which finds it — a retried POST would post the report twice.
        const res = await api.rest.issues.createComment({ owner, repo, issue_number: pr.number, body, request: { retries: 0 } });
        return { url: res.data.html_url, created: true };
      } catch (err) {
        // A retryable create, or an update of a comment deleted since the listing: list again and write again.
        const again = existing ? isApiFailure(err) && err.status === 404 : isRetryable(err);
        if (!again || attempt > client.retries) {
          if (!existing) client.failedAfter(err, attempt);
          throw client.explain(err, 'comments');
        }
        await sleep(client.wait(attempt, err));
      }
    }
  }

  /** The token's login, or null for an app installation token (GITHUB_TOKEN), which GET /user refuses. */
  private whoAmI(api: Octokit): Promise<string | null> {
    this.login ??= api.rest.users.getAuthenticated().then(
      (res) => res.data.login,
      (err: unknown) => {
        if (isApiFailure(err) && err.status === 403) return null;
        throw this.client.explain(err, 'comments');
      },
    );
    return this.login;
  }

  private async findComment(api: Octokit, owner: string, repo: string, issue: number, marker: string) {
    const all = await api.paginate(api.rest.issues.listComments, { owner, repo, issue_number: issue, per_page: 100 });
    const matching = all.filter((c) => c.body?.includes(marker));
    if (matching.length === 0) return null;
    let candidates = matching;
    // Someone may have quoted the marker; when several authors match, prefer ours: the token's user, or for an
    // installation token (which cannot say who it is) a bot.
    if (new Set(matching.map((c) => c.user?.login)).size > 1) {
      const me = await this.whoAmI(api);
      const ours = matching.filter((c) => (me === null ? c.user?.type === 'Bot' : c.user?.login === me));
      if (ours.length > 0) candidates = ours;
    }
    return candidates.reduce((newest, c) => (c.id > newest.id ? c : newest));
  }
}
