// The GitLab CI/CD components in templates/ and the model repository's .gitlab-ci.yml, checked against GitLab's own
// CI schema (vendor/gitlab/ci.json, with the Ajv options its SOURCE.md gives). A component is two YAML documents:
// the `spec:` header, validated as it is, and the jobs after `---`, validated after the inputs are interpolated
// with their defaults, as GitLab does before it reads the jobs. Beyond the schema: every `$[[ inputs.x ]]` names a
// declared input, every `bramble ci STEP --option` is one the CLI takes, and the jobs' rules play out as intended
// for each kind of pipeline. Verified against the schema only: no GitLab instance runs these files here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS } from '../src/actions/common.js';
import { inputValues, interpolate, matchingRule, readComponent, type CiJob } from './helpers/gitlab-ci-files.js';

const ROOT = join(import.meta.dirname, '..');
const TEMPLATES = join(ROOT, 'templates');

const ajv = new Ajv({ strict: false, allowUnionTypes: true, validateFormats: false, allErrors: true });
ajv.addKeyword('markdownDescription');
const validateCi = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'vendor/gitlab/ci.json'), 'utf8')) as object);

/** The components: templates/NAME.yml and templates/NAME/template.yml, as GitLab finds them. */
const COMPONENTS = readdirSync(TEMPLATES, { withFileTypes: true }).flatMap((entry) => {
  if (entry.isFile() && entry.name.endsWith('.yml')) return [{ name: entry.name.replace(/\.yml$/, ''), file: join(TEMPLATES, entry.name) }];
  if (entry.isDirectory() && readdirSync(join(TEMPLATES, entry.name)).includes('template.yml')) return [{ name: entry.name, file: join(TEMPLATES, entry.name, 'template.yml') }];
  return [];
});

function errors(): string {
  return ajv.errorsText(validateCi.errors, { separator: '\n' });
}

type Jobs = Record<string, CiJob>;

describe('the components in templates/', () => {
  it('are the whole pipeline, each step of the GitHub actions and the dashboard\'s Pages job, within GitLab\'s 30', () => {
    expect(COMPONENTS.map((c) => c.name).sort()).toEqual(['compare', 'deploy', 'monitor', 'pages', 'pipeline', 'promote', 'register', 'train', 'validate']);
    expect(COMPONENTS.length).toBeLessThanOrEqual(30);
  });

  it.each(COMPONENTS)('$name: the spec header is valid against ci.json', ({ file }) => {
    const { header } = readComponent(file);
    expect(validateCi(header), errors()).toBe(true);
  });

  it.each(COMPONENTS)('$name: the jobs, interpolated with the inputs\' defaults, are valid against ci.json', ({ file }) => {
    const { header, body } = readComponent(file);
    const jobs = interpolate(body, inputValues(header.spec.inputs));
    expect(validateCi(jobs), errors()).toBe(true);
  });

  it('pages: a job named pages that builds the dashboard into public/ on the branch it publishes, with every branch fetched', () => {
    const { header, body } = readComponent(join(TEMPLATES, 'pages.yml'));
    const jobs = interpolate(body, inputValues(header.spec.inputs)) as Record<string, { script: string[]; artifacts: { paths: string[] }; rules: { if: string }[]; variables: Record<string, unknown> }>;
    expect(Object.keys(jobs)).toEqual(['pages']);
    expect(jobs.pages.script.at(-1)).toBe('bramble ui build "." --out public');
    expect(jobs.pages.artifacts.paths).toEqual(['public']);
    expect(jobs.pages.rules).toEqual([{ if: '$CI_COMMIT_BRANCH == "main" && $CI_PIPELINE_SOURCE == "push"' }]);
    expect(jobs.pages.variables.GIT_DEPTH).toBe(0);
  });

  it.each(COMPONENTS.filter((c) => c.name !== 'pages'))('$name: every `bramble ci STEP --option` is one the step takes', ({ file }) => {
    const { header, body } = readComponent(file);
    const jobs = interpolate(body, inputValues(header.spec.inputs)) as Jobs;
    const commands = Object.values(jobs).flatMap((job) => (job.script ?? []).filter((line) => line.includes(' ci ')));
    expect(commands.length).toBeGreaterThan(0);
    for (const line of commands) {
      const [, step, rest] = /\bci (\w+)(.*)$/.exec(line) ?? [];
      expect(Object.keys(ACTIONS)).toContain(step);
      for (const [, option] of rest.matchAll(/--([\w-]+)/g)) expect(Object.keys(ACTIONS[step as keyof typeof ACTIONS].inputs), `${line}`).toContain(option);
    }
  });

  it('an input given by the includer replaces the default, with its type (runner tags as a list)', () => {
    const { header, body } = readComponent(join(TEMPLATES, 'pipeline/template.yml'));
    const jobs = interpolate(body, inputValues(header.spec.inputs, { 'runner-tags': ['pi-5', 'arm64'] })) as Jobs;
    expect(jobs['bramble-plan'].tags).toEqual(['pi-5', 'arm64']);
    expect(validateCi(jobs), errors()).toBe(true);
  });

  it('refuses a component that is wrong, so that the checks above mean something', () => {
    expect(validateCi({ spec: { inputs: { dir: { type: 'text' } } } })).toBe(false);
    expect(validateCi({ job: { stage: 'test', script: 'x', artifacts: { reports: { dotenv: 'a.env', codequality: 'c.json' }, expose_as: 'r' }, rules: [{ when: 'sometimes' }] } })).toBe(false);
  });
});

describe('templates/model-repo/.gitlab-ci.yml', () => {
  const file = join(TEMPLATES, 'model-repo/.gitlab-ci.yml');
  const config = parse(readFileSync(file, 'utf8')) as { include: { component: string; inputs: Record<string, unknown> }[]; workflow: { rules: { if: string }[] } };

  it('lets scheduled pipelines (the monitor) and api pipelines (a retrain) through its workflow rules', () => {
    const rules = config.workflow.rules.map((r) => r.if);
    expect(rules).toContain('$CI_PIPELINE_SOURCE == "schedule"');
    expect(rules.some((rule) => rule.includes('$CI_PIPELINE_SOURCE == "api"'))).toBe(true);
  });

  it('is valid against ci.json', () => {
    expect(validateCi(config), errors()).toBe(true);
  });

  it('includes the pipeline component at a released version, with inputs it declares', () => {
    const [include] = config.include;
    expect(include.component).toMatch(/^\$CI_SERVER_FQDN\/[^/]+\/bramble\/pipeline@\d+\.\d+\.\d+$/);
    const { header } = readComponent(join(TEMPLATES, 'pipeline/template.yml'));
    for (const name of Object.keys(include.inputs)) expect(Object.keys(header.spec.inputs)).toContain(name);
  });
});

describe("Bramble's own .gitlab-ci.yml", () => {
  const config = parse(readFileSync(join(ROOT, '.gitlab-ci.yml'), 'utf8')) as Record<string, { release?: { tag_name?: string }; rules?: { if?: string }[] }>;

  it('is valid against ci.json, and a version tag publishes the components with the release keyword', () => {
    expect(validateCi(config), errors()).toBe(true);
    expect(config['release-components'].release?.tag_name).toBe('$CI_COMMIT_TAG');
    expect(config['release-components'].rules?.[0].if).toContain('$CI_COMMIT_TAG =~');
  });
});

// The rules of the pipeline's jobs, evaluated for each kind of pipeline with the few expression forms they use.
describe('which jobs run for which pipeline', () => {
  const { header, body } = readComponent(join(TEMPLATES, 'pipeline/template.yml'));
  const jobs = interpolate(body, inputValues(header.spec.inputs)) as Jobs;

  function running(vars: Record<string, string>): string[] {
    return Object.entries(jobs).flatMap(([name, job]) => {
      const rule = matchingRule(job, vars);
      return rule === null || rule.when === 'never' ? [] : [`${name}${rule.when === 'manual' ? ' (manual)' : ''}`];
    });
  }

  it("a merge request's sweep: sweep-shards parallel shards, each retried once and allowed to fail, then the gather before the candidate trains", () => {
    const shard = jobs['bramble-sweep-shard'] as CiJob & { parallel: number; retry: { max: number }; allow_failure: boolean; needs: string[] };
    expect(shard.parallel).toBe(2);
    expect(shard.retry.max).toBe(1);
    expect(shard.allow_failure).toBe(true);
    expect(shard.script?.at(-1)).toBe('bramble ci sweep --dir "." --shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"');
    const mr = jobs['bramble-merge-request'] as CiJob & { needs: unknown[] };
    expect(mr.needs).toEqual(['bramble-plan', { job: 'bramble-sweep-shard', optional: true }]);
    const script = mr.script ?? [];
    const gather = script.findIndex((line) => line.includes('ci sweep --dir "." --gather true --apply true'));
    const train = script.findIndex((line) => line.includes('ci train'));
    expect(gather).toBeGreaterThan(-1);
    expect(gather).toBeLessThan(train);
    expect(script.at(-1)).toContain('--sweep "$SWEEP_RESULT"');
  });

  it.each([
    ['a merge request', { CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '42', CI_MERGE_REQUEST_PROJECT_ID: '42' }, ['bramble-plan', 'bramble-sweep-shard', 'bramble-merge-request']],
    ["a fork's merge request", { CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '99', CI_MERGE_REQUEST_PROJECT_ID: '42' }, ['bramble-plan', 'bramble-merge-request (manual)']],
    ['a push to develop', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'develop' }, ['bramble-plan', 'bramble-release']],
    ['an assignment tag', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: 'churn#prod#3' }, ['bramble-deploy']],
    ['a version tag', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: 'churn@v1.2.0' }, []],
    ['an unassignment tag', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: 'churn#prod!#4' }, []],
    ['a manual promotion', { CI_PIPELINE_SOURCE: 'web', BRAMBLE_PROMOTE_TO: 'prod' }, ['bramble-promote']],
    ['a manual pipeline without a promotion', { CI_PIPELINE_SOURCE: 'web' }, []],
    ['a schedule (the monitor)', { CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main' }, ['bramble-monitor']],
    ['a schedule that names an environment', { CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main', BRAMBLE_MONITOR: 'staging' }, ['bramble-monitor']],
    ['the retrain schedule', { CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main', BRAMBLE_RETRAIN: 'schedule' }, ['bramble-retrain']],
    ["a monitor alert's retrain pipeline", { CI_PIPELINE_SOURCE: 'api', CI_COMMIT_BRANCH: 'main', BRAMBLE_RETRAIN: 'prod' }, ['bramble-retrain']],
    ['a retrain started by hand', { CI_PIPELINE_SOURCE: 'web', CI_COMMIT_BRANCH: 'main', BRAMBLE_RETRAIN: 'prod' }, ['bramble-retrain']],
    ['a push that carries BRAMBLE_RETRAIN (not a retrain)', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'feature', BRAMBLE_RETRAIN: 'prod' }, ['bramble-plan', 'bramble-release']],
  ])('%s', (_, vars, expected) => {
    expect(running(vars)).toEqual(expected);
  });
});
