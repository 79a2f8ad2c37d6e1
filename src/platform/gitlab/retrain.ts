// What a retrain needs from GitLab: a new pipeline of the project on a branch, the dispatch's inputs passed as
// variables (`retrain` → BRAMBLE_RETRAIN, the name the pipeline template reads), and the merge request that carries
// the retrained model to review — found when one from the branch is open already.
import type { PipelineDispatch, PullRequestRequest } from '../types.js';
import type { GitLabClient } from './client.js';
import type { GitLabEvent } from './event.js';

/** An input's name as a CI/CD variable: `retrain` → `BRAMBLE_RETRAIN`. */
export function variableName(input: string): string {
  return `BRAMBLE_${input.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

export class GitLabRetrain {
  constructor(
    private readonly client: GitLabClient,
    private readonly event: () => GitLabEvent,
  ) {}

  private project(): string {
    return `/projects/${encodeURIComponent(this.event().projectId)}`;
  }

  async dispatch(request: PipelineDispatch): Promise<{ url: string | null }> {
    const variables = Object.entries(request.inputs).map(([key, value]) => ({ key: variableName(key), value }));
    // A POST is not retried: a pipeline that was created before the connection dropped would train twice.
    const res = await this.client.call<{ id: number; web_url?: string }>('POST', `${this.project()}/pipeline`, 'pipelines', { body: { ref: request.ref, variables } });
    return { url: res.data.web_url ?? null };
  }

  async openMergeRequest(request: PullRequestRequest): Promise<{ number: number; url: string | null; created: boolean }> {
    const query = `state=opened&source_branch=${encodeURIComponent(request.head)}&target_branch=${encodeURIComponent(request.base)}`;
    const open = await this.client.all<{ iid: number; web_url?: string }>(`${this.project()}/merge_requests?${query}`, 'mergeRequests');
    const found = open[0];
    if (found) return { number: found.iid, url: found.web_url ?? null, created: false };
    const res = await this.client.call<{ iid: number; web_url?: string }>('POST', `${this.project()}/merge_requests`, 'mergeRequests', {
      body: { source_branch: request.head, target_branch: request.base, title: request.title, description: request.body },
    });
    return { number: res.data.iid, url: res.data.web_url ?? null, created: true };
  }
}
