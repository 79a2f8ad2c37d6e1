// Deployment records on GitLab's Environments page: a deployment of a ref to an environment (running, then success
// or failed), and the environment's URL. A job that declares `environment:` gets its deployment from GitLab itself,
// so for the job's own environment nothing is recorded twice and no token is used.
import type { DeploymentHandle, DeploymentRequest } from '../types.js';
import type { GitLabClient } from './client.js';
import type { GitLabEvent } from './event.js';

interface Deployment {
  id: number;
  ref: string;
  status: string;
}

interface Environment {
  id: number;
  name: string;
  external_url?: string;
}

const SHA = /^[0-9a-f]{40}$/i;

export class GitLabDeployments {
  constructor(
    private readonly client: GitLabClient,
    private readonly event: () => GitLabEvent,
    private readonly jobEnvironment: string | undefined,
    private readonly info: (message: string) => void,
  ) {}

  private project(): string {
    return `/projects/${encodeURIComponent(this.event().projectId)}`;
  }

  async start(request: DeploymentRequest): Promise<DeploymentHandle> {
    if (request.environment === this.jobEnvironment) return this.recordedByJob(request);
    const event = this.event();
    // GitLab's deployment wants a branch or tag name and the commit: a sha given as the ref is the job's commit.
    const ref = SHA.test(request.ref) ? (event.ref ?? request.ref) : request.ref;
    const res = await this.client.call<Deployment>('POST', `${this.project()}/deployments`, 'deployments', {
      body: { environment: request.environment, sha: event.sha ?? request.ref, ref, tag: event.kind === 'tag' || ref.includes('#') || ref.includes('@'), status: 'running' },
    });
    await this.setUrl(request.environment, request.url);
    return this.handle(res.data.id, request);
  }

  async continue(request: DeploymentRequest): Promise<DeploymentHandle> {
    if (request.environment === this.jobEnvironment) return this.recordedByJob(request);
    const query = `environment=${encodeURIComponent(request.environment)}&order_by=id&sort=desc`;
    const found = (await this.client.all<Deployment>(`${this.project()}/deployments?${query}`, 'deployments')).find((d) => d.ref === request.ref);
    if (!found) return this.start(request);
    if (found.status !== 'running') await this.client.call('PUT', `${this.project()}/deployments/${found.id}`, 'deployments', { body: { status: 'running' } });
    return this.handle(found.id, request);
  }

  private handle(id: number, request: DeploymentRequest): DeploymentHandle {
    return {
      id,
      finish: async (state, _description, url) => {
        await this.client.call('PUT', `${this.project()}/deployments/${id}`, 'deployments', { body: { status: state === 'success' ? 'success' : 'failed' } });
        await this.setUrl(request.environment, url ?? request.url);
      },
    };
  }

  private recordedByJob(request: DeploymentRequest): DeploymentHandle {
    this.info(`deployment ${request.environment}: recorded by this job's environment: keyword (${request.description})`);
    return { id: null, finish: async (state, description) => this.info(`deployment ${request.environment}: ${state}, ${description}`) };
  }

  private async setUrl(environment: string, url: string | undefined): Promise<void> {
    if (!url) return;
    const [env] = await this.client.all<Environment>(`${this.project()}/environments?name=${encodeURIComponent(environment)}`, 'environments');
    if (!env || env.external_url === url) return;
    await this.client.call('PUT', `${this.project()}/environments/${env.id}`, 'environments', { body: { external_url: url } });
  }
}
