// What the GitHub actions share: their inputs and outputs (the names action.yml declares, kept in step by a
// test), the platform adapter built from the runner's environment, and one top-level handler that turns any thrown
// value into a failed step with a one-line message.
//
// Decisions:
// - A step that finds a problem (invalid data, a failed gate) writes its outputs first and then fails, so that a
//   later `if: always()` step can read them.
// - ml.yaml problems and data validation failures are annotated on their files and lines; the adapter keeps
//   GitHub's budget of 10 per level and says how many more there were.
// - The registry speaks git over HTTPS through isomorphic-git, which does not see the credentials actions/checkout
//   leaves in git's config; the step's `token` input is handed to it as BRAMBLE_GIT_TOKEN.
// - Nothing runs at import: the entries call runAction, which builds the adapter and reads the environment.
// - The entries read inputs, call one use-case (src/usecases/) and render what it returns (summaries.ts): the
//   GitLab jobs will call the same use-cases.
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { ConfigError } from '../config/ml-yaml.js';
import type { ValidationResult } from '../data/validate.js';
import { BrambleError, describeError, errorClass } from '../errors.js';
import { githubPlatform } from '../platform/github.js';
import type { Annotation, Platform } from '../platform/types.js';
import type { Ports } from '../usecases/ports.js';

/**
 * Every action's inputs, with the value each takes when the runner passes none (outside GitHub, e.g. in tests; on
 * GitHub the runner fills in action.yml's defaults), and its outputs. test/action-docs.test.ts checks these against
 * the action.yml files.
 */
export const ACTIONS = {
  validate: {
    inputs: { dir: '.', reference: '', environment: '' },
    outputs: ['valid', 'rows', 'failed', 'name', 'environment', 'champion-env', 'sweep'],
  },
  train: {
    inputs: { dir: '.', workers: '', token: '' },
    outputs: ['model-path', 'sha256', 'metrics', 'valid'],
  },
  compare: {
    inputs: { dir: '.', candidate: '', champion: '', 'champion-env': '', comment: 'true', sweep: '', token: '' },
    outputs: ['passed', 'verdict', 'champion-version', 'comment-url'],
  },
  register: {
    inputs: { dir: '.', model: '', version: '', bump: '', token: '' },
    outputs: ['version', 'reused', 'tag'],
  },
  promote: {
    inputs: { dir: '.', environment: '', version: '', rollback: 'false', token: '' },
    outputs: ['version', 'tag', 'previous', 'changed'],
  },
  deploy: {
    inputs: { dir: '.', tag: '', version: '', environment: '', config: '/etc/bramble/serve.json', server: '', url: '', token: '' },
    outputs: ['version', 'url', 'previous', 'via'],
  },
  monitor: {
    inputs: { dir: '.', env: '', logs: '/var/log/bramble/predictions', truth: '', since: '', 'min-rows': '', record: 'true', 'fail-on-alert': 'false', token: '' },
    outputs: ['healthy', 'drifted-share', 'metric', 'issue-url', 'retrain', 'result'],
  },
  retrain: {
    inputs: { dir: '.', environment: '', workers: '', token: '' },
    outputs: ['branch', 'pull-request', 'pull-request-url', 'passed', 'verdict', 'comment-url'],
  },
  sweep: {
    inputs: { dir: '.', shard: '', gather: 'false', apply: 'false', workers: '', token: '' },
    outputs: ['id', 'shard-file', 'best-trial', 'missing', 'result'],
  },
} as const satisfies Record<string, { inputs: Record<string, string>; outputs: readonly string[] }>;

export type Step = keyof typeof ACTIONS;
export type Inputs<S extends Step> = { readonly [K in keyof (typeof ACTIONS)[S]['inputs']]: string };
export type Outputs<S extends Step> = Record<(typeof ACTIONS)[S]['outputs'][number], string>;

/** An input that is missing or malformed: the message names it, its value, and what it takes. */
export class ActionInputError extends errorClass('E_ACTION_INPUT') {}

/** The step ran and found a problem (invalid data, a failed gate); its outputs are written. */
export class StepFailure extends errorClass('E_STEP_FAILED') {}

export interface ActionContext<S extends Step> {
  platform: Platform;
  inputs: Inputs<S>;
  /** A boolean input, read as GitHub's YAML 1.2 core schema has it (true/True/TRUE, false/False/FALSE). */
  flag(name: keyof Inputs<S> & string): boolean;
  /** What the use-cases are given: the platform, the git token, the clock, the step's log, RUNNER_TEMP. */
  ports: Ports;
  output(values: Outputs<S>): void;
}

/** Runs one action: inputs in, the body's engine calls, outputs out; any failure fails the step with exit code 1. */
export async function runAction<S extends Step>(step: S, body: (context: ActionContext<S>) => Promise<void>): Promise<void> {
  const platform = githubPlatform(process.env);
  try {
    const spec = ACTIONS[step].inputs as Record<string, string>;
    const inputs: Record<string, string> = {};
    for (const [name, fallback] of Object.entries(spec)) inputs[name] = core.getInput(name) || fallback;
    const token = inputs.token || process.env.GITHUB_TOKEN || '';
    if (token) core.setSecret(token);
    const env = token ? { ...process.env, BRAMBLE_GIT_TOKEN: token } : process.env;
    const ports: Ports = {
      git: { env },
      log: { info: (m) => platform.info(m), warn: (m) => platform.info(`warning: ${m}`) },
      clock: { now: () => performance.now() },
      versions: { bramble: brambleVersion(), node: process.version },
      platform,
      tempDir: process.env.RUNNER_TEMP || tmpdir(),
      showPath: repoPath,
    };
    await body({
      platform,
      inputs: inputs as Inputs<S>,
      flag: (name) => flag(name, inputs[name]),
      ports,
      output: (values) => {
        for (const [name, value] of Object.entries(values)) platform.setOutput(name, String(value));
      },
    });
  } catch (err) {
    failStep(platform, err);
  }
}

function flag(name: string, value: string): boolean {
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new ActionInputError(`the input ${name} is ${JSON.stringify(value)}; give true or false`, { input: name, value });
}

/** A person's error is one line on the step (and annotations for ml.yaml); anything else also says it is a bug. */
function failStep(platform: Platform, err: unknown): void {
  let message = describeError(err);
  if (err instanceof ConfigError) {
    platform.annotate(configAnnotations(err));
    const lines = message.split('\n');
    if (lines.length > 1) message = `${lines[0]} (and ${lines.length - 1} more problem${lines.length === 2 ? '' : 's'} in ${repoPath(String(err.data.file))}, annotated there)`;
  } else if (!(err instanceof BrambleError)) {
    if (err instanceof Error && err.stack) core.debug(err.stack);
    message = `${message} — this is a bug in Bramble; please report it with this step's log`;
  }
  core.setFailed(message.replace(/\s*\n\s*/g, ' '));
  process.exitCode = 1;
}

/** A path as GitHub's annotations want it: relative to the workspace (the repository root), with `/`. */
export function repoPath(file: string): string {
  return relative(process.env.GITHUB_WORKSPACE || process.cwd(), resolve(file)).split(sep).join('/');
}

/** One annotation per ml.yaml problem, at its line and column. */
export function configAnnotations(err: ConfigError): Annotation[] {
  const file = repoPath(String(err.data.file));
  return err.problems.map((p) => ({
    level: 'error',
    file,
    line: p.line,
    col: p.col,
    title: 'ml.yaml',
    message: p.path ? `${p.path}: ${p.message}` : p.message,
  }));
}

/** One annotation per failed rule, on the data file's first offending line (or the file, for whole-file rules). */
export function validationAnnotations(dir: string, validation: ValidationResult): Annotation[] {
  const file = repoPath(join(dir, validation.file));
  return validation.results
    .filter((r) => !r.success)
    .map((r) => ({
      level: 'error',
      file,
      line: r.unexpectedLines[0],
      title: `data validation: ${r.column === null ? '' : `${r.column} `}${r.rule}`,
      message: r.message ?? `${r.unexpectedCount} rows break ${r.rule} (expected ${r.expectation})`,
    }));
}

/** The Markdown a step writes to the job summary for a data validation. */
export function validationSummary(dir: string, validation: ValidationResult, text: string): string {
  const s = validation.statistics;
  const head = validation.success
    ? `### ✅ ${repoPath(join(dir, validation.file))}: all ${s.evaluated} checks passed (${validation.rows} rows)`
    : `### ❌ ${repoPath(join(dir, validation.file))}: ${s.failed} of ${s.evaluated} checks failed (${validation.rows} rows)`;
  return `${head}\n\n\`\`\`text\n${text.trimEnd()}\n\`\`\`\n`;
}

/** Splits `churn@v1.2.0` into its name and version; a bare `v1.2.0` leaves the name to ml.yaml. */
export function splitVersion(text: string): { name?: string; version: string } {
  const at = text.lastIndexOf('@');
  if (at === 0 || at === text.length - 1) {
    throw new ActionInputError(`the version ${JSON.stringify(text)} is not NAME@vX.Y.Z or vX.Y.Z (e.g. churn@v1.2.0)`, { version: text });
  }
  return at < 0 ? { version: text } : { name: text.slice(0, at), version: text.slice(at + 1) };
}

/**
 * Bramble's version from its package.json, found by walking up from this file: the bundles sit in dist/ and
 * dist/actions/, the sources in src/actions/, and all of them live inside the checkout that holds package.json.
 */
function brambleVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'bramble' && pkg.version) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of bramble above ${fileURLToPath(import.meta.url)}; the action's checkout is incomplete`);
    dir = up;
  }
}
