// bramble ci STEP: what a GitLab CI job of Bramble's components runs. The same steps as the GitHub actions, with
// the same inputs (ACTIONS in actions/common.ts) given as options, each calling the same use-case; the GitLab
// adapter turns the results into a merge-request note, a Code Quality report, a dotenv report and a Markdown report.
//
// Decisions:
// - A merge request from a fork is untrusted code: its steps get an environment without BRAMBLE_GITLAB_TOKEN or
//   GITLAB_TOKEN (a maintainer may run a fork's pipeline in the parent project, where those variables exist), so
//   the report goes to the job log and its artifact only.
// - The registry pushes with GITLAB_TOKEN, or BRAMBLE_GITLAB_TOKEN when that is unset (a project access token with
//   `write_repository`, whose tag push starts the tag's pipeline), else with CI_JOB_TOKEN, whose push starts no
//   pipeline: then the promote step asks GitLab for the tag's pipeline itself.
// - A step that finds a problem writes its outputs first, then fails with exit 1; ml.yaml problems also go to the
//   Code Quality report. Everything else is as the CLI has it: 2 for a person's mistake, 3 for a bug.
// - The validate, train, compare, monitor, retrain and sweep steps are the GitHub actions' own (src/actions/steps.ts);
//   only where the report goes differs. A monitor's retrain is a new pipeline on the default branch with the
//   variable BRAMBLE_RETRAIN=ENV, which the pipeline component's retrain job runs on.
import { tmpdir } from 'node:os';
import { relative, resolve, sep } from 'node:path';
import { ACTIONS, configAnnotations, splitVersion, type Inputs as StepInputs, type Step } from '../actions/common.js';
import { compareStep, monitorStep, retrainStep, sweepStep, trainStep, validateStep, type StepIo } from '../actions/steps.js';
import { canarySummary, deploySummary, promoteSummary, registerSummary } from '../actions/summaries.js';
import { ConfigError } from '../config/ml-yaml.js';
import { gitlabPlatform, type GitLabPlatform } from '../platform/gitlab.js';
import { deploy } from '../usecases/deploy.js';
import { UsageError, workersOption } from '../usecases/options.js';
import type { Env, Ports } from '../usecases/ports.js';
import { promote, releaseCanary, rollback } from '../usecases/promote.js';
import { register } from '../usecases/register.js';
import { defineCommand, type CliIo } from './command.js';

const STEPS = Object.keys(ACTIONS) as Step[];
/** Every input of every step but `token`: GitLab jobs take their tokens from CI/CD variables. */
const INPUTS = [...new Set(STEPS.flatMap((s) => Object.keys(ACTIONS[s].inputs)))].filter((name) => name !== 'token');

export const HELP = `bramble ci — run one step of Bramble's pipeline inside a GitLab CI job

Usage: bramble ci STEP [--INPUT VALUE …]

Steps: ${STEPS.join(', ')}: the same steps, inputs and use-cases as the GitHub
actions (docs/actions.md), the inputs given as options, e.g. bramble ci compare --champion-env staging.

Reads GitLab's predefined CI/CD variables (CI_PIPELINE_SOURCE, CI_MERGE_REQUEST_IID, CI_COMMIT_TAG, CI_API_V4_URL,
CI_PROJECT_ID, …) and BRAMBLE_GITLAB_TOKEN, a project access token with the api scope, for the merge-request note
and deployments. Writes in CI_PROJECT_DIR/.bramble/, which a model repository ignores: bramble-report.md (the
report), gl-code-quality-report.json (ml.yaml and data problems, for artifacts:reports:codequality) and bramble.env
(outputs as BRAMBLE_* variables, for artifacts:reports:dotenv). docs/gitlab.md sets it all up.

Exit codes: 0 ok, 1 the data failed validation or a gate failed, 2 usage, configuration, data or token error,
3 internal error.
`;

type Inputs = Record<string, string>;

interface StepContext {
  platform: GitLabPlatform;
  inputs: Inputs;
  ports: Ports;
  output(values: Record<string, string>): void;
}

export const command = defineCommand({
  name: 'ci',
  help: HELP,
  options: Object.fromEntries(INPUTS.map((name) => [name, { type: 'string' as const }])),
  positionals: { max: 1, what: 'step' },
  async run({ values, positionals }, io) {
    const step = positionals[0];
    if (!isStep(step)) throw new UsageError(`bramble ci takes a step: ${STEPS.join(', ')}${step ? ` (got ${JSON.stringify(step)})` : ''}`);
    const given = Object.entries(values).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    const spec: Inputs = { ...ACTIONS[step].inputs };
    for (const [name] of given) {
      if (!(name in spec)) throw new UsageError(`bramble ci ${step} takes no --${name}; it takes ${Object.keys(spec).filter((n) => n !== 'token').map((n) => `--${n}`).join(', ')}`);
    }
    const inputs: Inputs = Object.fromEntries(Object.entries(spec).map(([name, fallback]) => [name, given.find(([n]) => n === name)?.[1] || fallback]));
    const env = trustedEnv(io.env);
    const platform = gitlabPlatform(env, { write: io.out });
    const ports = stepPorts(platform, env, io);
    const output = (outputs: Record<string, string>) => {
      for (const [name, value] of Object.entries(outputs)) platform.setOutput(name, value);
    };
    try {
      await BODIES[step]({ platform, inputs, ports, output });
    } catch (err) {
      if (err instanceof ConfigError) platform.annotate(configAnnotations(err));
      throw err;
    }
    return 0;
  },
});

function isStep(name: string | undefined): name is Step {
  return name !== undefined && (STEPS as string[]).includes(name);
}

/** The job's environment, without the project token when the merge request comes from a fork. */
function trustedEnv(env: Env): Env {
  const fork = Boolean(env.CI_MERGE_REQUEST_SOURCE_PROJECT_ID) && env.CI_MERGE_REQUEST_SOURCE_PROJECT_ID !== (env.CI_MERGE_REQUEST_PROJECT_ID || env.CI_PROJECT_ID);
  if (!fork) return env;
  return Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'BRAMBLE_GITLAB_TOKEN' && name !== 'GITLAB_TOKEN'));
}

function stepPorts(platform: GitLabPlatform, env: Env, io: CliIo): Ports {
  // The registry's git pushes: the project access token when there is one (its tag push starts a pipeline).
  const gitEnv: Env = env.GITLAB_TOKEN || !env.BRAMBLE_GITLAB_TOKEN ? env : { ...env, GITLAB_TOKEN: env.BRAMBLE_GITLAB_TOKEN };
  const root = env.CI_PROJECT_DIR || process.cwd();
  return {
    git: { env: gitEnv },
    log: { info: (m) => platform.info(m), warn: (m) => platform.info(`warning: ${m}`) },
    clock: { now: () => performance.now() },
    versions: io.versions,
    platform,
    tempDir: tmpdir(),
    showPath: (file) => relative(root, resolve(file)).split(sep).join('/'),
  };
}

const BODIES: Record<Step, (context: StepContext) => Promise<void>> = {
  validate: (step) => validateStep(as<'validate'>(step)),

  train: (step) => trainStep(as<'train'>(step), workersOption(step.inputs.workers, 'the input workers')),

  // A fork's merge request: the adapter writes no note and says so; the job still tells the gates.
  compare: (step) =>
    compareStep(as<'compare'>(step), {
      comment: flag('comment', step.inputs.comment) && step.platform.context().pullRequest !== undefined,
      always: 'the job log and .bramble/bramble-report.md',
      commented: 'the merge request',
    }),

  monitor(step) {
    if (!step.inputs.env) throw new UsageError('--env is empty; name the environment to monitor, one of the environments in ml.yaml');
    const { CI_DEFAULT_BRANCH, CI_COMMIT_REF_NAME } = step.ports.git.env;
    return monitorStep(as<'monitor'>(step), {
      record: flag('record', step.inputs.record),
      failOnAlert: flag('fail-on-alert', step.inputs['fail-on-alert']),
      // GitLab runs the project's pipeline: the workflow's name is GitHub's notion, kept for the record.
      retrain: { ref: CI_DEFAULT_BRANCH || CI_COMMIT_REF_NAME || 'main', workflow: '.gitlab-ci.yml' },
    });
  },

  // The merge request opened with the project token starts a pipeline of its own, but the report is written here
  // too, as on GitHub, so that the run that retrained says how it went.
  retrain: (step) =>
    retrainStep(as<'retrain'>(step), { comment: true, always: 'the job log and .bramble/bramble-report.md', commented: 'the merge request' }, {
      id: step.ports.git.env.CI_PIPELINE_ID || String(Date.now()),
      workers: workersOption(step.inputs.workers, 'the input workers'),
      now: new Date(),
    }),

  // One job of the pipeline's sweep: a shard of the parallel:matrix (--shard K/N), or the gather (--gather true).
  sweep: (step) =>
    sweepStep(as<'sweep'>(step), { gather: flag('gather', step.inputs.gather), apply: flag('apply', step.inputs.apply), workers: workersOption(step.inputs.workers, 'the input workers') }),

  async register({ platform, inputs, ports, output }) {
    const { dir, model, version, bump } = inputs;
    const labels = { model: '--model', version: '--version', bump: '--bump' } as const;
    const { registered, tag } = await register({ dir, model, version, bump, labels }, ports);
    await platform.summary(registerSummary(registered, tag));
    output({ version: registered.version, reused: String(registered.reused), tag });
  },

  async promote({ platform, inputs, ports, output }) {
    const { dir, environment: env } = inputs;
    if (!env) throw new UsageError('--environment is empty; name one of the environments in ml.yaml');
    const back = flag('rollback', inputs.rollback);
    if (!back && !inputs.version) throw new UsageError('--version is empty; give the version to promote (churn@v1.2.0), or --rollback true');
    const result = back ? await rollback({ dir, env, to: inputs.version }, ports) : await promote({ dir, env, ...splitVersion(inputs.version) }, ports);
    // As the promote action: a merged change to ml.yaml's canary block reaches the canary's tag (hosts sync it).
    const canary = back ? null : await releaseCanary({ dir, env }, ports);
    await platform.summary(promoteSummary(result) + canarySummary(canary, env));
    output({ version: result.version ?? '', tag: result.tag ?? '', previous: result.previous ?? '', changed: String(!result.unchanged) });
    // Pushed with the job token: GitLab starts no pipeline for the tag, so ask for one.
    if (!result.unchanged && result.tag && !ports.git.env.GITLAB_TOKEN && !ports.git.env.BRAMBLE_GIT_TOKEN) {
      const started = await platform.triggerTagPipeline(result.tag);
      platform.info(`started the pipeline of ${result.tag}${started.url ? `: ${started.url}` : ''}`);
    }
  },

  async deploy({ platform, inputs, ports, output }) {
    const event = platform.context();
    const tag = inputs.tag || (event.kind === 'tag' && !inputs.version ? (event.ref ?? '') : '');
    const { dir, environment: env, config, server, url } = inputs;
    const named = tag || !inputs.version ? {} : splitVersion(inputs.version);
    const { outcome, url: shown } = await deploy({ dir, tag, env, config, server, url, ...named }, ports);
    await platform.summary(deploySummary(outcome, shown));
    output({ version: outcome.version, url: shown, previous: outcome.previous?.version ?? '', via: outcome.via });
  },
};

/** The step's inputs as the shared step bodies type them: every input of ACTIONS[S] is in `inputs` (see run). */
function as<S extends Step>(step: StepContext): StepIo<S> {
  return { platform: step.platform, inputs: step.inputs as StepInputs<S>, ports: step.ports, output: step.output };
}

/** A boolean input as GitLab's `boolean` component inputs render it: true or false. */
function flag(name: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`--${name} is ${JSON.stringify(value)}; give true or false`, { input: name, value });
}
