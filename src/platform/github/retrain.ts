// What a retrain needs from GitHub: a workflow_dispatch of the model's workflow on a branch (the run's page when
// GitHub says which run it started), and the pull request that carries the retrained model to review — found when
// one from the branch is open already, so a second retrain updates the same pull request.
import type { PipelineDispatch, PullRequestRequest } from '../types.js';
import { isObject, type Env, type GitHubClient } from './client.js';

export class GitHubRetrain {
  constructor(
    private readonly client: GitHubClient,
    private readonly env: Env,
  ) {}

  async dispatch(request: PipelineDispatch): Promise<{ url: string | null }> {
    const { owner, repo } = this.client.ownerRepo();
    const api = await this.client.octokit();
    try {
      // return_run_details: GitHub answers 200 with the run it started; a server that does not know the field
      // answers 204, and the workflow's page is the link instead. Not retried: a dispatch that timed out may have
      // started a run, and a second would train twice.
      const res = await api.rest.actions.createWorkflowDispatch({
        owner,
        repo,
        workflow_id: request.workflow,
        ref: request.ref,
        inputs: { ...request.inputs },
        return_run_details: true,
        request: { retries: 0 },
      });
      // octokit's types know only the 204; the 200's body is read as what it is.
      const data: unknown = res.data;
      if (isObject(data) && typeof data.html_url === 'string') return { url: data.html_url };
    } catch (err) {
      throw this.client.explain(err, 'actions');
    }
    const server = (this.env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
    return { url: `${server}/${owner}/${repo}/actions/workflows/${encodeURIComponent(request.workflow)}` };
  }

  async openPullRequest(request: PullRequestRequest): Promise<{ number: number; url: string | null; created: boolean }> {
    const { owner, repo } = this.client.ownerRepo();
    const api = await this.client.octokit();
    try {
      const open = await api.rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${request.head}`, base: request.base, per_page: 1 });
      const found = open.data[0];
      if (found) return { number: found.number, url: found.html_url, created: false };
      const res = await api.rest.pulls.create({ owner, repo, head: request.head, base: request.base, title: request.title, body: request.body });
      return { number: res.data.number, url: res.data.html_url, created: true };
    } catch (err) {
      throw this.client.explain(err, 'pulls');
    }
  }
}
