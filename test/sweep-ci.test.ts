// The sweep across runners (issue 18 item 3): the sweep action run as GitHub's runner runs it — two shards, each in
// its own workspace as on two runners, a second attempt that resumes, the shard files "downloaded" into the gather's
// sweep folder — then the gather with one shard missing, which names the missing trials and decides on what
// finished, the choice applied to ml.yaml, the candidate trained and compared with the sweep section in the report
// on the pull request (the OpenAPI-checked GitHub double); and `bramble ci sweep` as the GitLab jobs run it.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS } from '../src/actions/common.js';
import { applyParams } from '../src/sweep/apply.js';
import { pullRequestOpened, runnerEnv, runStep } from './helpers/actions.js';
import { bramble, brambleAsync } from './helpers/cli.js';
import { git, gitAsync } from './helpers/git.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { GITHUB_DOUBLE, startGitHubDouble, type GitHubDouble } from './helpers/github-double.js';
import { gitlabJobVariables, startGitLabDouble } from './helpers/gitlab-double.js';
import { sweepRepo } from './helpers/sweep-repo.js';

// Four trials; shared by cost, shard 1 of 2 trains trial 3 (the deepest and largest forest), shard 2 the other three.
const GRID = `sweep:
  params:
    trees: [5, 15]
    maxDepth: [2, 6]
  folds: 3
  metric: roc_auc
`;

const made: string[] = [];
const servers: GitServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** The model repository, and a copy of it as another runner's checkout. */
function checkout(from: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-runner-'));
  made.push(dir);
  cpSync(from, dir, { recursive: true });
  return dir;
}

/** What actions/download-artifact does with the shard artifacts: their files under DIR/.bramble/sweeps/. */
/** The one month file on a checkout's bramble/runs branch (a test's records are all from this month). */
function runsMonthPath(dir: string): string {
  const files = git(dir, 'ls-tree', '-r', '--name-only', 'bramble/runs').trim().split('\n').filter((f) => f.endsWith('.jsonl'));
  expect(files).toHaveLength(1);
  return files[0];
}

/** The trial indices a shard file holds, in order. */
function trialsIn(file: string): number[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { sweep: { trial: number } }).sweep.trial).sort((a, b) => a - b);
}

function download(shardFiles: { workspace: string; file: string }[], into: string): void {
  for (const { workspace, file } of shardFiles) {
    const target = join(into, file);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(workspace, file), target);
  }
}

describe('the sweep action across two runners, and the gather with a shard missing', () => {
  let double: GitHubDouble;
  let repo: string;
  let env: Record<string, string>;
  const shard: Record<string, { workspace: string; file: string }> = {};
  beforeAll(async () => {
    double = await startGitHubDouble();
    repo = sweepRepo(GRID, { git: true });
    made.push(repo);
    const event = pullRequestOpened();
    const number = event.number;
    double.openPullRequest(number);
    const eventPath = join(checkout(repo), 'event.json');
    writeFileSync(eventPath, JSON.stringify(event));
    env = runnerEnv(double.url, repo, eventPath, { event: 'pull_request', ref: `refs/pull/${number}/merge`, run: '42' }, { GITHUB_ACTOR: 'Codertocat' });
  });
  afterAll(async () => {
    await double.close();
  });

  it('each shard trains its trials into its own file, and a second attempt resumes, training nothing twice', { timeout: 120_000 }, async () => {
    const held: number[][] = [];
    for (const k of [1, 2]) {
      const workspace = checkout(repo);
      const run = await runStep('sweep', { dir: '.', shard: `${k}/2`, token: GITHUB_DOUBLE.botToken }, env, workspace);
      expect(run.code, run.stdout).toBe(0);
      const file = run.outputs['shard-file'];
      expect(file).toMatch(new RegExp(`^\\.bramble/sweeps/${run.outputs.id}/shard-${k}-of-2\\.jsonl$`));
      held.push(trialsIn(join(workspace, file)));
      expect(run.summary).toContain(`shard ${k} of 2`);
      expect(run.summary).toContain(`trained ${held[k - 1].length} trials, found 0 recorded`);
      expect(run.outputs['best-trial']).toBe('');
      expect(run.outputs.result).toBe('');
      shard[k] = { workspace, file };
    }
    // Every trial in exactly one shard; the shares balanced by cost: trial 3 (15 trees of depth 6) weighs as much as
    // the other three together (5×2 + 5×6 + 15×2 trees × levels), so it is shard 1's alone.
    expect(held).toEqual([[3], [0, 1, 2]]);
    // The workflow's retry step: the same shard again on the same runner finds its trials recorded.
    const again = await runStep('sweep', { dir: '.', shard: '2/2', token: GITHUB_DOUBLE.botToken }, env, shard[2].workspace);
    expect(again.code, again.stdout).toBe(0);
    expect(again.summary).toContain('trained 0 trials, found 3 recorded');
    expect(trialsIn(join(shard[2].workspace, shard[2].file))).toEqual([0, 1, 2]);
  });

  it('refuses apply with a shard, naming both inputs', async () => {
    const run = await runStep('sweep', { dir: '.', shard: '1/2', apply: 'true' }, env, checkout(repo));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::the input apply writes the chosen trial into ml\.yaml, and a shard chooses nothing/m);
  });

  it('gathers with shard 1 missing: names trial 3, chooses among 0, 1 and 2, applies the choice to ml.yaml, and the report has the sweep section', { timeout: 180_000 }, async () => {
    const gather = checkout(repo);
    download([shard[2]], gather);
    // The repository on a real smart-HTTP git server, as GitHub holds it: the gather pushes bramble/runs there.
    const server = await startGitServer({ token: GITHUB_DOUBLE.botToken });
    servers.push(server);
    await server.createBare('churn');
    git(gather, 'remote', 'add', 'origin', server.repoUrl('churn'));
    await gitAsync(repo, 'push', '-q', server.repoUrlWithAuth('churn', 'x-access-token', GITHUB_DOUBLE.botToken), 'HEAD:refs/heads/main');
    const before = readFileSync(join(gather, 'ml.yaml'), 'utf8');
    const run = await runStep('sweep', { dir: '.', gather: 'true', apply: 'true', token: GITHUB_DOUBLE.botToken }, env, gather);
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.missing).toBe('3');
    expect(['0', '1', '2']).toContain(run.outputs['best-trial']);
    expect(run.outputs.result).toBe('.bramble/sweep.json');
    expect(run.stdout).toMatch(/^::warning title=sweep \w+ has trials missing::1 of 4 trials have no record \(3\)/m);
    expect(run.summary).toContain('1 of 4 trials have no record (3)');
    expect(run.summary).toContain('1 of its trials have no record (a shard did not finish); the choice is among those that did.');
    // The shard's runner could not push; the gather put its three trial records on bramble/runs and pushed it.
    expect(run.summary).toContain('3 trial records from the shards added to bramble/runs and pushed');
    const shardIds = readFileSync(join(gather, shard[2].file), 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
    const bare = join(server.root, 'churn.git');
    const onRemote = new Set(git(bare, 'show', `bramble/runs:${runsMonthPath(bare)}`).trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id));
    expect(shardIds).toHaveLength(3);
    expect(shardIds.filter((id) => onRemote.has(id))).toEqual(shardIds);

    // The best trial's values in model.params; every other line of ml.yaml as it was.
    const result = JSON.parse(readFileSync(join(gather, run.outputs.result), 'utf8')) as { best: { trial: number; swept: Record<string, number> } };
    expect(String(result.best.trial)).toBe(run.outputs['best-trial']);
    const after = readFileSync(join(gather, 'ml.yaml'), 'utf8');
    expect((parse(after) as { model: { params: Record<string, number> } }).model.params).toEqual({ trees: result.best.swept.trees, maxDepth: result.best.swept.maxDepth });
    const changed = after.split('\n').filter((line, i) => line !== before.split('\n')[i]);
    expect(changed).toHaveLength(1);
    expect(changed.every((line) => line.trimStart().startsWith('params:'))).toBe(true);

    const trained = await runStep('train', { dir: '.', token: GITHUB_DOUBLE.botToken }, env, gather);
    expect(trained.code, trained.stdout).toBe(0);
    const model = JSON.parse(readFileSync(join(gather, trained.outputs['model-path']), 'utf8')) as { params?: Record<string, unknown>; model?: { params?: Record<string, unknown> } };
    expect(JSON.stringify(model)).toContain(`"trees":${result.best.swept.trees}`);
    const compared = await runStep('compare', { dir: '.', candidate: trained.outputs['model-path'], sweep: run.outputs.result, token: GITHUB_DOUBLE.botToken }, env, gather);
    expect(compared.code, compared.stdout).toBe(0);
    expect(compared.summary).toContain('Parameter sweep');
    expect(double.comments).toHaveLength(1);
    expect(double.comments[0].body).toContain('Parameter sweep');
    expect(double.comments[0].body).toContain('1 of its trials have no record');
    expect(double.problems).toEqual([]);
  });

  it('gathers every shard: nothing missing, and the choice is the whole sweep\'s', { timeout: 120_000 }, async () => {
    const gather = checkout(repo);
    download([shard[1], shard[2]], gather);
    const run = await runStep('sweep', { dir: '.', gather: 'true' }, env, gather);
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.missing).toBe('');
    const whole = bramble(['sweep', checkout(repo), '--json']);
    expect(whole.status, whole.stderr).toBe(0);
    expect(run.outputs['best-trial']).toBe(String((JSON.parse(whole.stdout) as { sweep: { best: { trial: number } } }).sweep.best.trial));
    // apply was not asked for: ml.yaml is untouched.
    expect(readFileSync(join(gather, 'ml.yaml'), 'utf8')).toBe(readFileSync(join(repo, 'ml.yaml'), 'utf8'));
  });

  it('fails a gather when no shard finished, and a compare given a file that is no sweep result', async () => {
    const run = await runStep('sweep', { dir: '.', gather: 'true' }, env, checkout(repo));
    expect(run.code).toBe(1);
    expect(run.outputs.missing).toBe('0,1,2,3');
    expect(run.stdout).toMatch(/^::error::sweepy: no trial of sweep \w+ could be scored, so nothing was chosen/m);
    const workspace = checkout(repo);
    writeFileSync(join(workspace, 'not-a-sweep.json'), '{"rows": 3}\n');
    const compared = await runStep('compare', { dir: '.', sweep: 'not-a-sweep.json' }, env, workspace);
    expect(compared.code).toBe(1);
    expect(compared.stdout).toMatch(/^::error::the input sweep is "not-a-sweep\.json", which has no sweep id, trials and params/m);
  });
});

describe('the sweep action with strategy: halving', () => {
  it('is not split: shard 1 runs it whole, the other shards do nothing, and the gather chooses from shard 1\'s records', { timeout: 120_000 }, async () => {
    const repo = sweepRepo(GRID.replace('  params:', '  strategy: halving\n  params:'), { git: true, rows: 600 });
    made.push(repo);
    const env = { GITHUB_ACTIONS: 'true', GITHUB_REPOSITORY: `${GITHUB_DOUBLE.owner}/${GITHUB_DOUBLE.repo}`, GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/feature', GITHUB_SHA: git(repo, 'rev-parse', 'HEAD').trim() };
    const second = await runStep('sweep', { dir: '.', shard: '2/2' }, env, checkout(repo));
    expect(second.code, second.stdout).toBe(0);
    expect(second.outputs['shard-file']).toBe('');
    expect(second.summary).toContain('shard 2 of 2 has nothing to do');
    const workspace = checkout(repo);
    const first = await runStep('sweep', { dir: '.', shard: '1/2' }, env, workspace);
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs['shard-file']).toMatch(/^\.bramble\/sweeps\/\w+\/trials\.jsonl$/);
    expect(first.outputs['best-trial']).toBe('');
    const gather = checkout(repo);
    download([{ workspace, file: first.outputs['shard-file'] }], gather);
    const gathered = await runStep('sweep', { dir: '.', gather: 'true' }, env, gather);
    expect(gathered.code, gathered.stdout).toBe(0);
    expect(gathered.outputs.missing).toBe('');
    expect(gathered.outputs['best-trial']).toMatch(/^[0-3]$/);
  });
});

interface WorkflowStep {
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  'continue-on-error'?: boolean;
  with?: Record<string, string>;
}
interface WorkflowJob {
  needs?: string | string[];
  if?: string;
  'runs-on'?: string;
  strategy?: { 'fail-fast'?: boolean; matrix: Record<string, string> };
  outputs?: Record<string, string>;
  steps: WorkflowStep[];
}

describe("the reusable workflow's sweep jobs", () => {
  const workflow = parse(readFileSync(join(import.meta.dirname, '../.github/workflows/model-pipeline.yml'), 'utf8')) as {
    on: { workflow_call: { inputs: Record<string, { type: string; default: unknown }> } };
    jobs: Record<string, WorkflowJob>;
  };
  const { jobs } = workflow;
  const brambleSteps = (job: WorkflowJob, step: string): WorkflowStep[] => job.steps.filter((s) => s.uses === `OWNER/bramble/actions/${step}@v1`);

  it('a pull request with sweep: runs the matrix and the gather instead of the pull-request job', () => {
    expect(workflow.on.workflow_call.inputs['sweep-shards']).toMatchObject({ type: 'number', default: 2 });
    expect(jobs.plan.outputs?.sweep).toBe('${{ steps.validate.outputs.sweep }}');
    expect(jobs['pull-request'].if).toContain("needs.plan.outputs.sweep != 'true'");
    expect(jobs['sweep-shard'].if).toContain("needs.plan.outputs.sweep == 'true'");
    expect(jobs['sweep-shard'].if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
    // Whatever became of the shards, unless the run was cancelled (a newer push to the pull request).
    expect(jobs['sweep-gather'].if).toMatch(/^\$\{\{ !cancelled\(\) && needs\.plan\.result == 'success' && needs\.plan\.outputs\.sweep == 'true'/);
    expect(jobs['sweep-gather'].needs).toEqual(['plan', 'sweep-shard']);
  });

  it('each shard: K/N of the matrix, a second attempt only when the first failed, its file uploaded whatever happened', () => {
    const job = jobs['sweep-shard'];
    expect(job.strategy).toEqual({ 'fail-fast': false, matrix: { shard: '${{ fromJSON(needs.plan.outputs.sweep-shards) }}' } });
    expect(job['runs-on']).toBe('${{ fromJSON(inputs.sweep-runner || inputs.runner) }}');
    const [first, retry] = brambleSteps(job, 'sweep');
    expect(first).toMatchObject({ id: 'first', 'continue-on-error': true, with: { shard: '${{ matrix.shard }}/${{ inputs.sweep-shards }}' } });
    expect(retry).toMatchObject({ id: 'retry', if: "steps.first.outcome == 'failure'", with: { shard: first.with?.shard } });
    const upload = job.steps.find((s) => s.uses === 'actions/upload-artifact@v4');
    expect(upload?.if).toBe('always()');
    expect(upload?.with?.name).toMatch(/^bramble-sweep-shard-/);
    expect(upload?.with?.path).toBe('${{ inputs.dir }}/.bramble/sweeps/');
  });

  it('the gather: every shard file into the sweep folder, gather and apply, then train, then compare with the sweep result', () => {
    const job = jobs['sweep-gather'];
    const uses = job.steps.map((s) => s.uses);
    const download = job.steps.find((s) => s.uses === 'actions/download-artifact@v4');
    expect(download?.with).toEqual({ pattern: 'bramble-sweep-shard-*', 'merge-multiple': true, path: '${{ inputs.dir }}/.bramble/sweeps' });
    expect(uses.indexOf('actions/download-artifact@v4')).toBeLessThan(uses.indexOf('OWNER/bramble/actions/sweep@v1'));
    expect(uses.slice(-3)).toEqual(['OWNER/bramble/actions/sweep@v1', 'OWNER/bramble/actions/train@v1', 'OWNER/bramble/actions/compare@v1']);
    expect(brambleSteps(job, 'sweep')[0]).toMatchObject({ id: 'sweep', with: { gather: 'true', apply: 'true' } });
    expect(brambleSteps(job, 'compare')[0].with).toMatchObject({ candidate: '${{ steps.train.outputs.model-path }}', sweep: '${{ steps.sweep.outputs.result }}' });
  });
});

describe('bramble ci sweep in a GitLab merge-request pipeline', () => {
  it('takes the action\'s inputs as options, runs a parallel job\'s shard and the gather, and writes the outputs to the dotenv report', { timeout: 120_000 }, async () => {
    const double = await startGitLabDouble();
    try {
      const repo = sweepRepo(GRID, { git: true });
      made.push(repo);
      const sha = git(repo, 'rev-parse', 'HEAD').trim();
      const vars = { ...gitlabJobVariables(double.apiUrl, repo, sha), CI_PIPELINE_SOURCE: 'merge_request_event', CI_MERGE_REQUEST_IID: '1' };
      const refused = bramble(['ci', 'sweep', '--env', 'prod'], { cwd: repo, env: vars });
      expect(refused.status).toBe(2);
      const takes = Object.keys(ACTIONS.sweep.inputs).filter((n) => n !== 'token').map((n) => `--${n}`).join(', ');
      expect(refused.stderr).toContain(`bramble ci sweep takes no --env; it takes ${takes}`);

      const shard = await brambleAsync(['ci', 'sweep', '--dir', '.', '--shard', '2/2'], { cwd: repo, env: { ...vars, CI_NODE_INDEX: '2', CI_NODE_TOTAL: '2' } });
      expect(shard.status, shard.stderr).toBe(0);
      const shardEnv = readFileSync(join(repo, '.bramble/bramble.env'), 'utf8');
      expect(shardEnv).toMatch(/^BRAMBLE_SHARD_FILE=\.bramble\/sweeps\/\w+\/shard-2-of-2\.jsonl$/m);

      const gathered = await brambleAsync(['ci', 'sweep', '--dir', '.', '--gather', 'true', '--apply', 'true'], { cwd: repo, env: vars });
      expect(gathered.status, gathered.stderr).toBe(0);
      const dotenv = readFileSync(join(repo, '.bramble/bramble.env'), 'utf8');
      expect(dotenv).toContain('BRAMBLE_MISSING=3\n');
      expect(dotenv).toMatch(/^BRAMBLE_BEST_TRIAL=[012]$/m);
      expect(dotenv).toContain('BRAMBLE_RESULT=.bramble/sweep.json\n');
      expect(existsSync(join(repo, '.bramble/sweep.json'))).toBe(true);
      expect(readFileSync(join(repo, '.bramble/bramble-report.md'), 'utf8')).toContain('1 of 4 trials have no record (3)');
      expect(double.problems).toEqual([]);
    } finally {
      await double.close();
    }
  });
});

describe('bramble sweep --apply', () => {
  const YAML = `name: churn
model:
  type: random-forest
  # chosen by the sweep of 2026-12
  params:
    trees: 100 # more is slower
    maxDepth: 8
  seed: 3
`;

  it('replaces the values in the text, keeping every comment and line; a parameter model.params lacks is added', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-apply-'));
    made.push(dir);
    const file = join(dir, 'ml.yaml');
    writeFileSync(file, YAML);
    expect(await applyParams(file, { trees: 400, maxDepth: 8 })).toEqual(['trees']);
    expect(readFileSync(file, 'utf8')).toBe(YAML.replace('trees: 100 #', 'trees: 400 #'));
    expect(await applyParams(file, { trees: 400, maxDepth: 8 })).toEqual([]);
    expect(await applyParams(file, { minSamplesLeaf: 5 })).toEqual(['minSamplesLeaf']);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# chosen by the sweep of 2026-12');
    expect(text).toContain('trees: 400 # more is slower');
    expect((parse(text) as { model: { params: unknown } }).model.params).toEqual({ trees: 400, maxDepth: 8, minSamplesLeaf: 5 });
  });

  it('is refused with --shard, and after a gather says what it changed', { timeout: 120_000 }, () => {
    const dir = sweepRepo(GRID);
    made.push(dir);
    const refused = bramble(['sweep', dir, '--shard', '1/2', '--apply']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('--apply writes the chosen trial into ml.yaml, and a shard chooses nothing');
    expect(bramble(['sweep', dir]).status).toBe(0);
    const applied = bramble(['sweep', dir, '--gather', '--apply']);
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('applied to ml.yaml model.params: trees, maxDepth');
    // model.params is part of the sweep's id: the applied ml.yaml is another sweep, none of whose trials ran.
    const again = bramble(['sweep', dir, '--gather', '--apply']);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain('missing: 4 trials have no record (0, 1, 2, 3)');
  });
});
