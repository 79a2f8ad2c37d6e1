// The one report note of a merge request: found by its marker through every page of notes (system notes — "added
// 1 commit" — skipped), updated in place, or created; never posted twice when a create is retried.
import { setTimeout as sleep } from 'node:timers/promises';
import { GITLAB_LIMITS, GitLabApiError, GitLabLimitError, type GitLabClient } from './client.js';
import type { CommentTarget } from '../types.js';
import type { GitLabEvent } from './event.js';

interface Note {
  id: number;
  body: string;
  system: boolean;
  author?: { username?: string };
}

/** GitLab names a project or group access token's user `project_<id>_bot_<hash>` (or `group_…`). */
const TOKEN_BOT = /^(project|group)_\d+_bot/;

export class GitLabNotes {
  constructor(
    private readonly client: GitLabClient,
    private readonly event: () => GitLabEvent,
    private readonly info: (message: string) => void,
  ) {}

  async upsert(marker: string, text: string, target?: CommentTarget): Promise<{ url: string | null; created: boolean } | null> {
    const event = this.event();
    // A retrain pipeline has no merge request in its variables: it names the one it opened (never a fork's).
    const mr = target ? { number: target.pullRequest, fork: false } : event.pullRequest;
    if (!mr) return null;
    if (mr.fork) {
      // No token goes near a fork's code: the report stays in the job log and the report artifact.
      this.info(`merge request !${mr.number} comes from a fork: the report is in the job log and its artifact, not in a note`);
      return null;
    }
    const body = text.includes(marker) ? text : `${marker}\n${text}`;
    if (body.length > GITLAB_LIMITS.noteChars) {
      throw new GitLabLimitError(`the note is ${body.length} characters, over GitLab's limit of ${GITLAB_LIMITS.noteChars}; trim the report`, { length: body.length });
    }
    const path = `/projects/${encodeURIComponent(event.projectId)}/merge_requests/${mr.number}/notes`;
    for (let attempt = 1; ; attempt++) {
      const existing = await this.find(path, marker);
      if (existing) {
        await this.client.call<Note>('PUT', `${path}/${existing.id}`, 'notes', { body: { body } });
        return { url: this.noteUrl(mr.number, existing.id), created: false };
      }
      try {
        const res = await this.client.call<Note>('POST', path, 'notes', { body: { body } });
        return { url: this.noteUrl(mr.number, res.data.id), created: true };
      } catch (err) {
        // A 5xx on the create: it may have landed, so list again (which finds it) rather than post again.
        const again = err instanceof GitLabApiError && typeof err.data.status === 'number' && err.data.status >= 500;
        if (!again || attempt > this.client.retries) throw err;
        await sleep(this.client.wait(attempt));
      }
    }
  }

  private async find(path: string, marker: string): Promise<Note | null> {
    const all = await this.client.all<Note>(`${path}?sort=asc`, 'notes');
    const matching = all.filter((n) => !n.system && n.body.includes(marker));
    if (matching.length === 0) return null;
    // Someone may have quoted the marker; when several authors match, prefer a token's bot user.
    const bots = matching.filter((n) => TOKEN_BOT.test(n.author?.username ?? ''));
    const candidates = new Set(matching.map((n) => n.author?.username)).size > 1 && bots.length > 0 ? bots : matching;
    return candidates.reduce((newest, n) => (n.id > newest.id ? n : newest));
  }

  private noteUrl(iid: number, id: number): string | null {
    const server = this.event().repository;
    const base = this.client.serverUrl;
    return server && base ? `${base}/${server}/-/merge_requests/${iid}#note_${id}` : null;
  }
}
