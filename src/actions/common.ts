// What the six GitHub actions share: their inputs and outputs (the names action.yml declares, kept in step by a
// test), the platform adapter built from the runner's environment, and one top-level handler that turns any thrown
// value into a failed step with a one-line message. Each entry (validate.ts, train.ts, …) reads its inputs, makes
// its engine calls and writes its outputs; nothing here re-implements a step.
//
// Decisions:
// - A step that finds a problem (invalid data, a failed gate) writes its outputs first and then fails, so that a
//   later `if: always()` step can read them.
// - ml.yaml problems and data validation failures are annotated on their files and lines; the adapter keeps
//   GitHub's budget of 10 per level and says how many more there were.
// - The registry speaks git over HTTPS through isomorphic-git, which does not see the credentials actions/checkout
//   leaves in git's config; the step's `token` input is handed to it as BRAMBLE_GIT_TOKEN.
// - Nothing runs at import: the entries call runAction, which builds the adapter and reads the environment.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { readFile } from 'node:fs/promises';
import { validateRepo } from '../commands/validate.js';
import { ConfigError, type MlConfig } from '../config/ml-yaml.js';
import type { DriftResult } from '../data/drift.js';
import type { ValidationResult } from '../data/validate.js';
import { BrambleError, describeError } from '../errors.js';
import { ARTIFACT, openArtifact } from '../model/artifact.js';
import { applyGates, type GateResult } from '../model/compare.js';
import { metricsOf, type Evaluation, type MetricValues } from '../model/evaluate.js';
import { compareArtifacts, evaluateModel, type ComparedRows } from '../pipeline/run.js';
import { githubPlatform } from '../platform/github.js';
import type { Annotation, ApprovalVerdict, EventContext, Platform } from '../platform/types.js';
import type { ServeConfig } from '../serve/config.js';
import { checkEnvironment, Registry } from '../registry/registry.js';
import { readRegistryFile } from '../registry/store.js';
import { formatTag, parseTag } from '../registry/tags.js';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';

/**
 * Every action's inputs, with the value each takes when the runner passes none (outside GitHub, e.g. in tests; on
 * GitHub the runner fills in action.yml's defaults), and its outputs. test/action-docs.test.ts checks these against
 * the action.yml files.
 */
export const ACTIONS = {
  validate: {
    inputs: { dir: '.', reference: '', environment: '' },
    outputs: ['valid', 'rows', 'failed', 'name', 'environment', 'champion-env'],
  },
  train: {
    inputs: { dir: '.', workers: '' },
    outputs: ['model-path', 'sha256', 'metrics', 'valid'],
  },
  compare: {
    inputs: { dir: '.', candidate: '', champion: '', 'champion-env': '', comment: 'true', token: '' },
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
} as const satisfies Record<string, { inputs: Record<string, string>; outputs: readonly string[] }>;

export type Step = keyof typeof ACTIONS;
type Env = Readonly<Record<string, string | undefined>>;
type Inputs<S extends Step> = { readonly [K in keyof (typeof ACTIONS)[S]['inputs']]: string };
type Outputs<S extends Step> = Record<(typeof ACTIONS)[S]['outputs'][number], string>;

/** An input that is missing or malformed: the message names it, its value, and what it takes. */
export class ActionInputError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_ACTION_INPUT', message, data);
  }
}

/** The step ran and found a problem (invalid data, a failed gate); its outputs are written. */
export class StepFailure extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_STEP_FAILED', message, data);
  }
}

/**
 * ml.yaml says an environment needs approval, and the platform enforces none: promoting would let anyone who can
 * run the workflow change what it serves.
 */
export class ApprovalNotEnforcedError extends BrambleError {
  constructor(message: string, data: Record<string, unknown>) {
    super('E_APPROVAL_NOT_ENFORCED', message, data);
  }
}

export interface ActionContext<S extends Step> {
  platform: Platform;
  inputs: Inputs<S>;
  /** A boolean input, read as GitHub's YAML 1.2 core schema has it (true/True/TRUE, false/False/FALSE). */
  flag(name: keyof Inputs<S> & string): boolean;
  /** The environment the engine reads tokens and the git identity from: the runner's, plus the step's token. */
  env: Env;
  /** Recorded in an artifact's lineage; the same as the CLI's, so both build the same artifact. */
  versions: { bramble: string; node: string };
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
    await body({
      platform,
      inputs: inputs as Inputs<S>,
      flag: (name) => flag(name, inputs[name]),
      env: token ? { ...process.env, BRAMBLE_GIT_TOKEN: token } : process.env,
      versions: { bramble: brambleVersion(), node: process.version },
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

/** The model folder's default artifact: where the train action writes and the others read. */
export function defaultArtifact(dir: string): string {
  return join(dir, ARTIFACT.folder, ARTIFACT.file);
}

/** Splits `churn@v1.2.0` into its name and version; a bare `v1.2.0` is a version of `name`. */
export function splitVersion(text: string, name: string): { name: string; version: string } {
  const at = text.lastIndexOf('@');
  if (at === 0 || at === text.length - 1) {
    throw new ActionInputError(`the version ${JSON.stringify(text)} is not NAME@vX.Y.Z or vX.Y.Z (e.g. ${name}@v1.2.0)`, { version: text });
  }
  return at < 0 ? { name, version: text } : { name: text.slice(0, at), version: text.slice(at + 1) };
}

export interface Target {
  /** The environment this run deploys to, or '' when it deploys nowhere. */
  environment: string;
  /** The environment whose model is the champion, or '' when there is none. */
  championEnv: string;
}

/**
 * Which environment an event is for, by ml.yaml: a manual run names it (checked); a push to a branch is for the
 * environment that follows that branch; an assignment tag names its own; a pull request is for none, but its
 * base branch's environment is the champion unless ml.yaml's compare.against names one.
 */
export function targetOf(config: MlConfig, event: EventContext, requested: string): Target {
  const environments = Object.keys(config.environments);
  const byBranch = (branch: string | null | undefined): string =>
    Object.entries(config.environments).find(([, e]) => e.branch === branch)?.[0] ?? '';
  let environment = '';
  let branchEnv = '';
  if (requested) {
    checkEnvironment(requested, environments);
    environment = requested;
  } else if (event.kind === 'push') {
    environment = branchEnv = byBranch(event.ref);
  } else if (event.kind === 'pull_request') {
    branchEnv = byBranch(event.pullRequest?.base);
  } else if (event.kind === 'tag' && event.ref) {
    const tag = parseTag(event.ref);
    if (tag === null && /[@#]/.test(event.ref)) {
      throw new ActionInputError(
        `the tag ${event.ref} is not in GTO's grammar (name#env#N assigns, name@vX.Y.Z registers); see docs/registry.md — push assignments with bramble promote`,
        { tag: event.ref },
      );
    }
    // Only an assignment deploys; taking a version away (name#env!#N) does not stop a server yet.
    if (tag?.kind === 'assign' && tag.name === config.name) {
      checkEnvironment(tag.env, environments);
      environment = tag.env;
    }
  }
  return { environment, championEnv: config.compare?.against ?? branchEnv };
}

/** What the registry knows that a report needs: the champion's artifact (saved to a file) and every version's metrics. */
export interface RegistryFacts {
  champion: { version: string; env: string; file: string } | null;
  history: { version: string; at: string; metrics: Record<string, number> }[];
}

export async function registryFacts(dir: string, config: MlConfig, championEnv: string, env: Env, warn: (m: string) => void): Promise<RegistryFacts> {
  if (championEnv) checkEnvironment(championEnv, Object.keys(config.environments));
  const registry = await Registry.open({ dir, env, warn });
  const { snapshot, models } = await registry.read({ fetch: registry.remote !== null });
  const model = models.get(config.name);
  const history: RegistryFacts['history'] = [];
  for (const v of model?.versions ?? []) {
    if (v.deregistered || snapshot.head === null) continue;
    const bytes = await readRegistryFile(registry.repo, snapshot.head, `${v.name}/${v.version}/metrics.json`);
    if (bytes !== null) history.push({ version: v.version, at: v.registered.at, metrics: JSON.parse(new TextDecoder().decode(bytes)) as Record<string, number> });
  }
  const served = championEnv ? model?.envs.get(championEnv)?.version : null;
  if (!served) return { champion: null, history };
  const { text } = await registry.artifact(snapshot.head, Registry.version(models, config.name, served));
  const file = join(await mkdtemp(join(process.env.RUNNER_TEMP || tmpdir(), 'bramble-champion-')), ARTIFACT.file);
  await writeFile(file, text);
  return { champion: { version: served, env: championEnv, file }, history };
}

const TAG_KINDS = {
  register: 'a registration',
  deregister: 'a deregistration',
  assign: 'an assignment',
  unassign: 'an unassignment',
  deprecate: 'a deprecation',
} as const;

/** The model, version and environment a pushed assignment tag (name#env#N) gives, from the registry. */
export async function resolveAssignment(dir: string, tag: string, env: Env, warn: (m: string) => void): Promise<{ name: string; version: string; env: string }> {
  const event = parseTag(tag);
  if (event === null || event.kind !== 'assign') {
    throw new ActionInputError(
      `the tag ${tag} is not an assignment tag in GTO's grammar (name#env#N, e.g. churn#prod#4)${event ? ` but ${TAG_KINDS[event.kind]}` : ''}; there is nothing to deploy for it`,
      { tag },
    );
  }
  const registry = await Registry.open({ dir, env, warn });
  const { models } = await registry.read({ fetch: registry.remote !== null });
  const assignment = models.get(event.name)?.history.find((a) => a.tag === tag);
  if (!assignment?.version) {
    throw new ActionInputError(`the registry has no assignment ${tag}${assignment ? ' with a version' : ''}; check that the tag was pushed as an annotated tag (bramble promote does)`, { tag });
  }
  return { name: event.name, version: assignment.version, env: event.env };
}

/** Where an environment answers on the model host, for the Environments page when no public URL is given. */
export function serveUrl(config: Pick<ServeConfig, 'listen' | 'environments'>, environment: string, server: string): string {
  const e = config.environments[environment] ?? {};
  const host = config.listen.host === '0.0.0.0' ? '127.0.0.1' : config.listen.host;
  const base = (server || `http://${host.includes(':') ? `[${host}]` : host}:${e.port ?? config.listen.port}`).replace(/\/+$/, '');
  return e.port !== undefined && !server ? `${base}/` : `${base}${e.path ?? ''}/`;
}

/** The candidate and the champion scored on the same held-out rows, the gates, and the data's drift: a report's facts. */
export interface Scored {
  config: MlConfig;
  validation: ValidationResult;
  candidate: { artifact: Record<string, unknown> & { sha256: string }; evaluation: Evaluation } | null;
  champion: { artifact: Record<string, unknown> & { sha256: string }; metrics: MetricValues; compared: ComparedRows } | null;
  gates: GateResult | null;
  drift: DriftResult | null;
}

// The engine has no single "score for a report" call yet, so this reads the data three times with a champion
// (candidate, champion, drift) where once would do; pipeline/run.ts is the place for one that loads once.
export async function scoreCandidate(dir: string, candidateFile: string, championFile: string | null): Promise<Scored> {
  // With a champion, both models are scored on one read of the data (the same held-out rows); without, the candidate.
  if (championFile === null) {
    const scored = await evaluateModel(dir, candidateFile);
    const { config, validation } = scored;
    if (!scored.model) return { config, validation, candidate: null, champion: null, gates: null, drift: null };
    const candidate = { artifact: openArtifact(await readFile(candidateFile, 'utf8'), candidateFile), evaluation: scored.model.evaluation };
    const gates = applyGates(config.compare?.gates ?? {}, metricsOf(candidate.evaluation), null);
    return { config, validation, candidate, champion: null, gates, drift: null };
  }
  const compared = await compareArtifacts(dir, candidateFile, championFile);
  const { config, validation } = compared;
  if (!compared.candidate || !compared.champion || !compared.gates) return { config, validation, candidate: null, champion: null, gates: null, drift: null };
  const candidate = { artifact: openArtifact(await readFile(candidateFile, 'utf8'), candidateFile), evaluation: compared.candidate.evaluation };
  const champion = { artifact: openArtifact(await readFile(championFile, 'utf8'), championFile), metrics: compared.champion.metrics, compared: compared.compared as ComparedRows };
  const drift = (await validateRepo(dir, { reference: championFile })).drift ?? null;
  return { config, validation, candidate, champion, gates: compared.gates, drift };
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

/**
 * Refuses a promotion to an environment that ml.yaml marks `approval: true` unless the platform makes a person
 * approve it (GitHub: the environment's required reviewers, or a tag ruleset over its assignment tags); says which
 * did. An environment without `approval: true` asks nothing. Call before anything is tagged.
 */
export async function requireApproval(platform: Platform, config: MlConfig, file: string, environment: string): Promise<ApprovalVerdict | null> {
  if (!config.environments[environment]?.approval) return null;
  // Every assignment tag of the environment begins so, whatever its counter: name#env#.
  const tagPrefix = formatTag({ kind: 'assign', name: config.name, env: environment, counter: 0 }).replace(/0$/, '');
  const verdict = await platform.checkApproval({ environment, tagPrefix });
  if (verdict.approved) {
    platform.info(`${environment} needs approval (ml.yaml), and ${verdict.by}`);
    return verdict;
  }
  const where = await approvalPlace(file, environment);
  const pattern = `refs/tags/${tagPrefix}*`;
  const message =
    `${repoPath(file)}${where ? `:${where.line}:${where.col}` : ''} environments.${environment}.approval is true, but nothing on GitHub makes a person approve a promotion to ${environment}: ` +
    `${verdict.findings.join('; ')}. Nothing was tagged. Add required reviewers to the GitHub environment ${environment} (Settings → Environments → ${environment} → Required reviewers), ` +
    `or add a tag ruleset (Settings → Rules → Rulesets → New tag ruleset) that targets ${pattern} and restricts creations, with the promoting token's app or user on its bypass list`;
  if (where) platform.annotate([{ level: 'error', file: repoPath(file), line: where.line, col: where.col, title: 'approval not enforced', message }]);
  throw new ApprovalNotEnforcedError(message, { environment, findings: verdict.findings, pattern });
}

/** The line and column of environments.<env>.approval in ml.yaml, or null when it cannot be read there. */
async function approvalPlace(file: string, environment: string): Promise<{ line: number; col: number } | null> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(await readFile(file, 'utf8'), { lineCounter });
  const env = doc.getIn(['environments', environment], true);
  if (!isMap(env)) return null;
  const pair = env.items.find((p) => isScalar(p.key) && p.key.value === 'approval');
  const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
  return offset === undefined ? null : lineCounter.linePos(offset);
}
