// Deployment records: a deployment of a ref to an environment and its statuses (in_progress, then success or
// failure), shown on the repository's Environments page. A promotion starts one for its tag; the deploy of that tag
// continues it.
import type { DeploymentHandle, DeploymentRequest } from '../types.js';
import { GITHUB_LIMITS, GitHubApiError, type GitHubClient } from './client.js';

export class GitHubDeployments {
  constructor(private readonly client: GitHubClient) {}

  async start(request: DeploymentRequest): Promise<DeploymentHandle> {
    const { owner, repo } = this.client.ownerRepo();
    const api = await this.client.octokit();
    let id: number;
    try {
      const res = await api.rest.repos.createDeployment({
        owner,
        repo,
        ref: request.ref,
        environment: request.environment,
        description: request.description,
        auto_merge: false,
        required_contexts: [],
        transient_environment: false,
        production_environment: /^(prod|production)$/i.test(request.environment),
      });
      if (!('id' in res.data)) {
        throw new GitHubApiError(`GitHub did not create a deployment of ${request.ref} to ${request.environment}: ${res.status} ${res.data.message ?? ''}`.trim(), {
          status: res.status,
        });
      }
      id = res.data.id;
    } catch (err) {
      throw this.client.explain(err, 'deployments');
    }
    await this.postStatus(id, 'in_progress', request.description, request.url);
    return {
      id,
      finish: (state, description, url) => this.postStatus(id, state, description, url ?? request.url),
    };
  }

  async continue(request: DeploymentRequest): Promise<DeploymentHandle> {
    const { owner, repo } = this.client.ownerRepo();
    const api = await this.client.octokit();
    let found: number | undefined;
    try {
      const res = await api.rest.repos.listDeployments({ owner, repo, ref: request.ref, environment: request.environment, per_page: 1 });
      found = res.data[0]?.id;
    } catch (err) {
      throw this.client.explain(err, 'deployments');
    }
    if (found === undefined) return this.start(request);
    const id = found;
    await this.postStatus(id, 'in_progress', request.description, request.url);
    return {
      id,
      finish: (state, description, url) => this.postStatus(id, state, description, url ?? request.url),
    };
  }

  private async postStatus(
    deploymentId: number,
    state: 'in_progress' | 'success' | 'failure',
    description: string,
    environmentUrl: string | undefined,
  ): Promise<void> {
    const { owner, repo } = this.client.ownerRepo();
    const api = await this.client.octokit();
    const clipped = [...description].length > GITHUB_LIMITS.statusDescription ? `${[...description].slice(0, GITHUB_LIMITS.statusDescription - 1).join('')}…` : description;
    const runUrl = this.client.context().runUrl;
    try {
      await api.rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: deploymentId,
        state,
        description: clipped,
        ...(environmentUrl ? { environment_url: environmentUrl } : {}),
        ...(runUrl ? { log_url: runUrl } : {}),
      });
    } catch (err) {
      throw this.client.explain(err, 'deployments');
    }
  }
}
