// The GitLab API double itself: that it catches what GitLab's description forbids (so that a green adapter test
// means something), and that it answers as GitLab does on tokens, scopes and faults.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GITLAB_DOUBLE, startGitLabDouble, type GitLabDouble } from './helpers/gitlab-double.js';

let double: GitLabDouble;
const NOTES = `/projects/${GITLAB_DOUBLE.projectId}/merge_requests/7/notes`;
const notes = () => `${double.apiUrl}${NOTES}`;

beforeEach(async () => {
  double = await startGitLabDouble();
  double.openMergeRequest(7);
});

afterEach(async () => {
  await double.close();
});

async function send(method: string, url: string, body?: unknown, token: string = GITLAB_DOUBLE.apiToken) {
  const res = await fetch(url, {
    method,
    headers: { 'private-token': token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('checking against the OpenAPI subset', () => {
  it.each([
    ['an undeclared body field', 'POST', NOTES, { body: 'x', sticky: true }, 'body field sticky is not declared'],
    ['a body without its required field', 'POST', NOTES, { internal: false }, "body (root) must have required property 'body'"],
    ['a query parameter the operation does not take', 'GET', `${NOTES}?per_page=100&marker=x`, undefined, 'query parameter marker is not declared'],
    ['a parameter of the wrong type', 'GET', `${NOTES}?page=two`, undefined, 'query parameter page=two: (root) must be integer'],
    ['a value outside an enum', 'GET', `${NOTES}?sort=newest`, undefined, 'query parameter sort=newest: (root) must be equal to one of the allowed values'],
    ['a path GitLab does not have', 'GET', '/projects/42/merge_requests/7/comments', undefined, 'no operation in GitLab\'s description'],
    ['a deployment without its sha', 'POST', '/projects/42/deployments', { environment: 'dev', ref: 'main', tag: false, status: 'running' }, "must have required property 'sha'"],
    ['an issue without its title', 'POST', '/projects/42/issues', { description: 'x' }, "body (root) must have required property 'title'"],
    ['a misspelt issue field', 'POST', '/projects/42/issues', { title: 'x', label: 'bramble-monitor' }, 'body field label is not declared'],
    ['a state_event GitLab does not know', 'PUT', '/projects/42/issues/1', { state_event: 'shut' }, 'body /state_event must be equal to one of the allowed values'],
    ['an issue state GitLab does not list', 'GET', '/projects/42/issues?state=open', undefined, 'query parameter state=open: (root) must be equal to one of the allowed values'],
    ['pipeline variables as a map (the trigger API\'s form, not this one\'s)', 'POST', '/projects/42/pipeline', { ref: 'main', variables: { BRAMBLE_RETRAIN: 'prod' } }, 'body /variables must be array'],
    ['a merge request without its target branch', 'POST', '/projects/42/merge_requests', { source_branch: 'a', title: 't' }, "must have required property 'target_branch'"],
  ])('records %s as a problem', async (_, method, path, body, problem) => {
    await send(method, `${double.apiUrl}${path}`, body);
    expect(double.problems.join('\n')).toContain(problem);
  });

  it('records nothing for well-formed calls', async () => {
    await send('POST', notes(), { body: 'hello' });
    await send('GET', `${notes()}?sort=asc&per_page=100&page=1`);
    await send('POST', `${double.apiUrl}/projects/42/issues`, { title: 't', description: 'd', labels: ['bramble-monitor'] });
    await send('GET', `${double.apiUrl}/projects/42/issues?state=opened&labels=bramble-monitor,other&per_page=100&page=1`);
    await send('PUT', `${double.apiUrl}/projects/42/issues/1`, { state_event: 'close', description: 'd' });
    await send('POST', `${double.apiUrl}/projects/42/pipeline`, { ref: 'main', variables: [{ key: 'BRAMBLE_RETRAIN', value: 'prod' }] });
    expect(double.problems).toEqual([]);
    expect(double.issues).toMatchObject([{ iid: 1, state: 'closed', labels: ['bramble-monitor'] }]);
    expect(double.createdPipelines).toMatchObject([{ ref: 'main', variables: { BRAMBLE_RETRAIN: 'prod' } }]);
  });
});

describe('answering as GitLab', () => {
  it.each([
    ['an unknown token', 'glpat-nope', 401, { message: '401 Unauthorized' }],
    ['a read_api token writing', GITLAB_DOUBLE.readToken, 403, { error: 'insufficient_scope', scope: 'api' }],
    ['the job token writing a note', GITLAB_DOUBLE.jobToken, 403, { message: '403 Forbidden' }],
  ])('refuses %s with GitLab\'s error shape', async (_, token, status, body) => {
    const res = await send('POST', notes(), { body: 'x' }, token);
    expect(res).toMatchObject({ status, body });
    expect(double.notes).toEqual([]);
    expect(double.problems).toEqual([]);
  });

  it('lets read_api and the job token read notes', async () => {
    expect((await send('GET', notes(), undefined, GITLAB_DOUBLE.readToken)).status).toBe(200);
    expect((await send('GET', notes(), undefined, GITLAB_DOUBLE.jobToken)).status).toBe(200);
    expect(double.problems).toEqual([]);
  });

  it('lists notes newest first, system notes included', async () => {
    double.seedNotes(7, ['first']);
    double.seedNotes(7, ['added 1 commit'], { system: true });
    const res = await send('GET', notes());
    expect(res.body).toMatchObject([{ body: 'added 1 commit', system: true }, { body: 'first', system: false }]);
  });

  it('answers injected 5xx the given number of times, then normally', async () => {
    double.fail('GET', /\/notes$/, 503, 2);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send('GET', notes())).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(double.problems).toEqual([]);
  });
});
