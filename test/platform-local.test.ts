// The terminal adapter: what a person sees when the steps run from the `bramble` command instead of GitHub Actions.
import { beforeEach, describe, expect, it } from 'vitest';
import { formatAnnotation, localPlatform, resetAnnotationBudget } from '../src/platform/local.js';
import type { Annotation } from '../src/platform/types.js';

let out: string[];
let err: string[];
const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };

beforeEach(() => {
  out = [];
  err = [];
  resetAnnotationBudget();
});

const PR = { kind: 'pull_request', pullRequest: { number: 2, base: 'main', head: 'more-data', fork: false } } as const;

describe('localPlatform', () => {
  it('has a local context unless told otherwise', () => {
    expect(localPlatform(io).context()).toEqual({
      kind: 'local',
      repository: null,
      sha: null,
      ref: null,
      pullRequest: null,
      actor: null,
      runUrl: null,
    });
    expect(localPlatform(io, { ...PR, sha: 'abc' }).context()).toMatchObject({ ...PR, sha: 'abc', repository: null });
  });

  it('prints no comment without a pull request', async () => {
    expect(await localPlatform(io).upsertComment('<!-- m -->', 'report')).toBeNull();
    expect(out).toEqual([]);
  });

  it('prints the comment for a pull request: created the first time, updated after', async () => {
    const local = localPlatform(io, PR);
    expect(await local.upsertComment('<!-- m -->', '<!-- m -->\nreport 1')).toEqual({ url: null, created: true });
    expect(await local.upsertComment('<!-- m -->', '<!-- m -->\nreport 2')).toEqual({ url: null, created: false });
    expect(await local.upsertComment('<!-- other -->', 'other')).toEqual({ url: null, created: true });
    expect(out).toEqual(['<!-- m -->\nreport 1', '<!-- m -->\nreport 2', 'other']);
  });

  it('prints the summary, outputs and info', async () => {
    const local = localPlatform(io);
    await local.summary('## Verdict: better');
    local.setOutput('verdict', 'better');
    local.info('trained 200 trees');
    expect(out).toEqual(['## Verdict: better', 'verdict=better']);
    expect(err).toEqual(['trained 200 trees']);
  });

  it('prints annotations like a compiler, 10 of each level, then how many more', () => {
    const local = localPlatform(io);
    const errors: Annotation[] = Array.from({ length: 12 }, (_, i) => ({ level: 'error', message: `rule ${i + 1} failed`, file: 'ml.yaml', line: i + 1, col: 5 }));
    local.annotate([...errors, { level: 'warning', message: 'drifted', file: 'data/churn.csv', line: 7, title: 'tenure' }]);
    local.annotate([{ level: 'error', message: 'one more' }, { level: 'notice', message: 'no champion yet' }]);
    expect(err).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `ml.yaml:${i + 1}:5: error: rule ${i + 1} failed`),
      'data/churn.csv:7: warning: tenure: drifted',
      '2 more errors not shown (at most 10 of each level per step)',
      'notice: no champion yet',
      '1 more error not shown (at most 10 of each level per step)',
    ]);
  });

  it.each([
    [{ level: 'error', message: 'm' }, 'error: m'],
    [{ level: 'error', message: 'm', file: 'a.csv' }, 'a.csv: error: m'],
    [{ level: 'error', message: 'm', file: 'a.csv', line: 3 }, 'a.csv:3: error: m'],
    [{ level: 'error', message: 'm', file: 'a.csv', col: 3 }, 'a.csv: error: m'],
    [{ level: 'notice', message: 'm', file: 'a.csv', line: 3, col: 9, title: 't' }, 'a.csv:3:9: notice: t: m'],
  ] as [Annotation, string][])('formats %j as %s', (annotation, line) => {
    expect(formatAnnotation(annotation)).toBe(line);
  });

  it('prints a deployment and its end, with no id', async () => {
    const local = localPlatform(io);
    const handle = await local.startDeployment({ environment: 'prod', ref: 'churn#prod#3', description: 'churn@v1.2.0', url: 'http://pi.local:8080/prod' });
    expect(handle.id).toBeNull();
    await handle.finish('success', 'serving churn@v1.2.0');
    await handle.finish('failure', 'self-test failed', 'http://pi.local:8081/prod');
    expect(out).toEqual([
      'deployment prod: in_progress, churn#prod#3 (churn@v1.2.0) http://pi.local:8080/prod',
      'deployment prod: success, serving churn@v1.2.0 http://pi.local:8080/prod',
      'deployment prod: failure, self-test failed http://pi.local:8081/prod',
    ]);
  });
});
