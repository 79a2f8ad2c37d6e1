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
import { parseAllDocuments, parse } from 'yaml';
import { ACTIONS } from '../src/actions/common.js';

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

interface Input {
  type?: 'string' | 'number' | 'boolean' | 'array';
  default?: unknown;
}

function readComponent(file: string): { header: { spec: { inputs: Record<string, Input> } }; body: string } {
  const text = readFileSync(file, 'utf8');
  const documents = parseAllDocuments(text);
  if (documents.length !== 2) throw new Error(`${file} has ${documents.length} YAML documents; a component has two (spec, then ---, then jobs)`);
  const at = text.indexOf('\n---\n');
  return { header: documents[0].toJS() as { spec: { inputs: Record<string, Input> } }, body: text.slice(at + 5) };
}

/** GitLab's interpolation: a value that is only `$[[ inputs.x ]]` takes the input's value with its type; inside text, its text. */
function interpolate(body: string, values: Record<string, unknown>): unknown {
  const missing = new Set<string>();
  const value = (name: string): unknown => {
    if (!(name in values)) missing.add(name);
    return values[name];
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const whole = /^\$\[\[\s*inputs\.([\w-]+)\s*\]\]$/.exec(node);
      if (whole) return value(whole[1]);
      return node.replace(/\$\[\[\s*inputs\.([\w-]+)\s*\]\]/g, (_, name: string) => String(value(name)));
    }
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === 'object' && node !== null) return Object.fromEntries(Object.entries(node).map(([k, v]) => [String(walk(k)), walk(v)]));
    return node;
  };
  const result = walk(parse(body));
  if (missing.size > 0) throw new Error(`inputs used but not declared: ${[...missing].join(', ')}`);
  return result;
}

function errors(): string {
  return ajv.errorsText(validateCi.errors, { separator: '\n' });
}

function defaults(inputs: Record<string, Input>, given: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, name in given ? given[name] : (input.default ?? `<${name}>`)]));
}

type Jobs = Record<string, { script?: string[]; rules?: { if?: string; when?: string }[]; tags?: unknown }>;

describe('the components in templates/', () => {
  it('are the whole pipeline and each step of the GitHub actions, within GitLab\'s 30', () => {
    expect(COMPONENTS.map((c) => c.name).sort()).toEqual(['compare', 'deploy', 'pipeline', 'promote', 'register', 'train', 'validate']);
    expect(COMPONENTS.length).toBeLessThanOrEqual(30);
  });

  it.each(COMPONENTS)('$name: the spec header is valid against ci.json', ({ file }) => {
    const { header } = readComponent(file);
    expect(validateCi(header), errors()).toBe(true);
  });

  it.each(COMPONENTS)('$name: the jobs, interpolated with the inputs\' defaults, are valid against ci.json', ({ file }) => {
    const { header, body } = readComponent(file);
    const jobs = interpolate(body, defaults(header.spec.inputs));
    expect(validateCi(jobs), errors()).toBe(true);
  });

  it.each(COMPONENTS)('$name: every `bramble ci STEP --option` is one the step takes', ({ file }) => {
    const { header, body } = readComponent(file);
    const jobs = interpolate(body, defaults(header.spec.inputs)) as Jobs;
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
    const jobs = interpolate(body, defaults(header.spec.inputs, { 'runner-tags': ['pi-5', 'arm64'] })) as Jobs;
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
  const config = parse(readFileSync(file, 'utf8')) as { include: { component: string; inputs: Record<string, unknown> }[] };

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
  const jobs = interpolate(body, defaults(header.spec.inputs)) as Jobs;

  /** GitLab's `if:` for the forms the component uses: ==, !=, =~ /re/, &&, ||, parentheses, a variable alone. */
  function holds(expression: string, vars: Record<string, string>): boolean {
    const get = (name: string) => vars[name.slice(1)] ?? '';
    const atom = (text: string): boolean => {
      const t = text.trim();
      if (t.startsWith('(') && t.endsWith(')')) return or(t.slice(1, -1));
      const match = /^(\$\w+)\s*=~\s*\/(.*)\/$/.exec(t);
      if (match) return new RegExp(match[2]).test(get(match[1]));
      const compare = /^(\$\w+)\s*(==|!=)\s*(?:"([^"]*)"|(\$\w+))$/.exec(t);
      if (compare) {
        const right = compare[3] ?? get(compare[4]);
        return compare[2] === '==' ? get(compare[1]) === right : get(compare[1]) !== right;
      }
      if (/^\$\w+$/.test(t)) return get(t) !== '';
      throw new Error(`the test cannot evaluate ${t}`);
    };
    const and = (text: string): boolean => text.split('&&').every(atom);
    const or = (text: string): boolean => splitTop(text, '||').some(and);
    return or(expression);
  }

  function splitTop(text: string, separator: string): string[] {
    const parts: string[] = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '(') depth++;
      if (text[i] === ')') depth--;
      if (depth === 0 && text.startsWith(separator, i)) {
        parts.push(text.slice(start, i));
        start = i + separator.length;
      }
    }
    parts.push(text.slice(start));
    return parts;
  }

  function running(vars: Record<string, string>): string[] {
    return Object.entries(jobs)
      .filter(([, job]) => {
        const rule = (job.rules ?? []).find((r) => r.if === undefined || holds(r.if, vars));
        return rule !== undefined && rule.when !== 'never';
      })
      .map(([name, job]) => `${name}${(job.rules ?? []).find((r) => r.if === undefined || holds(r.if, vars))?.when === 'manual' ? ' (manual)' : ''}`);
  }

  it.each([
    ['a merge request', { CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '42', CI_MERGE_REQUEST_PROJECT_ID: '42' }, ['bramble-plan', 'bramble-merge-request']],
    ["a fork's merge request", { CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_SOURCE_PROJECT_ID: '99', CI_MERGE_REQUEST_PROJECT_ID: '42' }, ['bramble-plan', 'bramble-merge-request (manual)']],
    ['a push to develop', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'develop' }, ['bramble-plan', 'bramble-release']],
    ['an assignment tag', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: 'churn#prod#3' }, ['bramble-deploy']],
    ['a version tag', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: 'churn@v1.2.0' }, []],
    ['an unassignment tag', { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: 'churn#prod!#4' }, []],
    ['a manual promotion', { CI_PIPELINE_SOURCE: 'web', BRAMBLE_PROMOTE_TO: 'prod' }, ['bramble-promote']],
    ['a manual pipeline without a promotion', { CI_PIPELINE_SOURCE: 'web' }, []],
    ['a schedule', { CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main' }, []],
  ])('%s', (_, vars, expected) => {
    expect(running(vars)).toEqual(expected);
  });
});
