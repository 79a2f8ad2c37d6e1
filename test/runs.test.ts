// Issue 15, parts 1–2: every run and train is recorded on the orphan branch bramble/runs without changing the model
// file, and `bramble runs ls|show|diff|best|push` read the records back — on real git repositories (git's own CLI
// reads what isomorphic-git wrote) and a real smart-HTTP git server for the pushes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT } from '../src/model/artifact.js';
import { RUNS, sealRun, type RunBody, type RunRecord } from '../src/registry/runs.js';
import { appendRuns, findRepo } from '../src/registry/runs-store.js';
import { schemaValidator } from '../src/schemas.js';
import type { Ports } from '../src/usecases/ports.js';
import { pushRuns } from '../src/usecases/runs.js';
import { train } from '../src/usecases/train.js';
import { bramble, brambleAsync } from './helpers/cli.js';
import { startGitServer, type GitServer } from './helpers/git-server.js';
import { AUTHOR, editMlYaml, git, gitAsync, makeModelRepo } from './helpers/model-repo.js';

const WHO = { name: AUTHOR.name, email: AUTHOR.email, timestamp: 1_765_000_000, timezoneOffset: 0 };

function ports(env: Record<string, string> = {}): Ports & { said: string[] } {
  const said: string[] = [];
  let ms = 0;
  return {
    git: { env: { GIT_COMMITTER_NAME: AUTHOR.name, GIT_COMMITTER_EMAIL: AUTHOR.email, ...env } },
    log: { info: (m) => said.push(`info: ${m}`), warn: (m) => said.push(`warn: ${m}`) },
    // A clock that moves a millisecond a reading: every step then takes some time.
    clock: { now: () => (ms += 1) },
    versions: { bramble: 'test', node: 'test' },
    said,
  };
}

/** A record as `bramble run` would write it, without training: run `i` of a sweep over trees, on `branch`. */
function fakeRun(i: number, over: { branch?: string; at?: string; trees?: number; roc?: number; champion?: boolean } = {}): RunRecord {
  const roc = over.roc ?? 0.8 + (i % 10) / 100;
  const body: RunBody = {
    format: RUNS.format,
    version: RUNS.version,
    at: over.at ?? new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
    command: 'run',
    name: 'churn',
    task: 'classification',
    params: { task: 'classification', trees: over.trees ?? 10 + (i % 3), maxDepth: 12, maxFeatures: 'sqrt', bootstrap: true, seed: 7 },
    seed: 7,
    metrics: { roc_auc: roc, f1: 0.56, accuracy: 0.79, log_loss: 0.48 - (i % 10) / 1000 },
    data: { path: 'data/churn.csv', sha256: 'a'.repeat(64), rows: 7043 },
    source: { commit: (i % 2 === 0 ? 'b' : 'c').repeat(40), branch: over.branch ?? 'main', dirty: false, workTree: 'd'.repeat(64), path: '' },
    champion: over.champion
      ? { label: 'churn@v1.0.0', via: 'compare.against: prod', version: 'v1.0.0', env: 'prod', sha256: 'e'.repeat(64), metrics: { roc_auc: 0.8, f1: 0.5 }, candidateMetrics: { roc_auc: roc, f1: 0.56 }, rows: 1409 }
      : null,
    gates: { passed: true, failed: [] },
    steps: { validate: 0.1, features: 0.2, train: 1.5, evaluate: 0.05, compare: over.champion ? 0.3 : null, write: 0.1, total: 2.25 },
    machine: { ci: null, runner: null, cores: 2, node: 'v20.19.0', bramble: 'test' },
    artifact: { sha256: 'f'.repeat(64), bytes: 123_456 },
  };
  return sealRun(body);
}

/** A plain git repository with one commit (the runs branch needs no model to be read). */
function plainRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-runs-'));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README.md'), 'runs\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'start');
  return dir;
}

async function addRuns(dir: string, records: readonly RunRecord[]): Promise<void> {
  const repo = await findRepo(dir, await import('node:fs'));
  if (repo === null) throw new Error('not a repository');
  await appendRuns(repo, records, WHO);
}

describe('every run is recorded', () => {
  it('records bramble run on bramble/runs and leaves the model file byte for byte as without recording', async () => {
    const dir = makeModelRepo({ trees: 5 });
    const head = git(dir, 'rev-parse', 'HEAD').trim();
    const plain = await train({ dir, workers: 1, findChampion: true }, ports());
    const bytes = readFileSync(join(dir, ARTIFACT.folder, ARTIFACT.file));
    const p = ports({ GIT_COMMITTER_DATE: '2026-12-06T07:51:09Z' });
    const recorded = await train({ dir, workers: 1, findChampion: true, record: { command: 'run' } }, p);
    expect(readFileSync(join(dir, ARTIFACT.folder, ARTIFACT.file)).equals(bytes)).toBe(true);
    expect(recorded.artifact?.sha256).toBe(plain.artifact?.sha256);
    // A second recorded run: the first record changed nothing the lineage sees (the work tree, HEAD).
    await train({ dir, workers: 1, findChampion: true, record: { command: 'run' } }, ports());
    expect(readFileSync(join(dir, ARTIFACT.folder, ARTIFACT.file)).equals(bytes)).toBe(true);
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(head);
    expect(git(dir, 'status', '--porcelain')).toBe('');

    const id = recorded.run?.id ?? '';
    expect(id).toMatch(/^20261206T075109Z-[0-9a-f]{10}$/);
    expect(p.said).toContain(`info: run recorded as ${id} on bramble/runs (bramble runs show ${id})`);
    // git itself reads the record isomorphic-git wrote: one line of runs/2026-12.jsonl.
    const line = git(dir, 'show', `${recorded.run?.commit}:runs/2026-12.jsonl`).trim();
    expect(Buffer.byteLength(line)).toBeLessThan(4096);
    const record = JSON.parse(line) as RunRecord;
    expect(schemaValidator(RUNS.schemaId)(record)).toBe(true);
    expect(record).toMatchObject({
      id,
      at: '2026-12-06T07:51:09.000Z',
      command: 'run',
      name: 'churn',
      params: { trees: 5 },
      seed: 7,
      data: { path: 'data/churn.csv', rows: 7043 },
      source: { commit: head, branch: 'main', dirty: false, path: '' },
      champion: null,
      artifact: { sha256: plain.artifact?.sha256, bytes: bytes.length },
      machine: { ci: null, runner: null, node: 'test', bramble: 'test' },
    });
    expect(record.metrics.roc_auc).toBe(plain.evaluation && 'roc_auc' in plain.evaluation ? plain.evaluation.roc_auc : NaN);
    // run looks for the champion ml.yaml's compare.against names (none here): that look is its compare step.
    for (const step of ['validate', 'features', 'train', 'evaluate', 'compare', 'write'] as const) expect(record.steps[step]).toBeGreaterThan(0);
    const { total, ...steps } = record.steps;
    const sum = Object.values(steps).reduce<number>((acc, v) => acc + (v ?? 0), 0);
    expect(sum).toBeLessThanOrEqual((total ?? 0) + 1e-9);
    expect(git(dir, 'log', '--format=%s', RUNS.branch).trim().split('\n')).toHaveLength(2);
    // An orphan branch: none of the model's history under it.
    expect(git(dir, 'rev-list', '--count', RUNS.branch).trim()).toBe('2');
  }, 60_000);

  it('records the champion and the gate outcome of bramble run, with CI machine facts from the environment', async () => {
    const dir = makeModelRepo({ trees: 5 });
    await train({ dir, workers: 1 }, ports());
    const champion = join(mkdtempSync(join(tmpdir(), 'bramble-champion-')), 'model.json');
    writeFileSync(champion, readFileSync(join(dir, ARTIFACT.folder, ARTIFACT.file)));
    editMlYaml(dir, (text) => text.replace(/trees: \d+/, 'trees: 7'));
    const env = { GITHUB_ACTIONS: 'true', RUNNER_NAME: 'pi-5', GITHUB_HEAD_REF: 'more-trees', GIT_COMMITTER_DATE: '2026-11-30T10:00:00Z' };
    const result = await train({ dir, workers: 1, champion, record: { command: 'run' } }, ports(env));
    const record = JSON.parse(execFileSync('git', ['show', `${RUNS.branch}:runs/2026-11.jsonl`], { cwd: dir, encoding: 'utf8' })) as RunRecord;
    expect(record.id).toBe(result.run?.id);
    expect(record.source).toMatchObject({ branch: 'more-trees', dirty: true });
    expect(record.machine).toMatchObject({ ci: 'github', runner: 'pi-5' });
    expect(record.champion).toMatchObject({ label: champion, rows: result.champion?.compared.rows, metrics: result.champion?.metrics });
    expect(record.gates).toEqual({ passed: result.gates?.passed, failed: (result.gates?.rows ?? []).filter((r) => !r.passed).map((r) => r.metric) });
    expect(record.steps.compare).toBeGreaterThan(0);
  }, 60_000);

  it('records nothing for a run that fails validation, nor outside git', async () => {
    const dir = makeModelRepo({ trees: 5 });
    editMlYaml(dir, (text) => text.replace(/rows: \{ min: \d+ \}/, 'rows: { min: 999999 }'));
    const failed = await train({ dir, workers: 1, record: { command: 'train' } }, ports());
    expect(failed.validation.success).toBe(false);
    expect(failed.run).toBeUndefined();
    expect(() => git(dir, 'rev-parse', '--verify', '-q', RUNS.ref)).toThrow();

    const outside = mkdtempSync(join(tmpdir(), 'bramble-nogit-'));
    execFileSync('cp', ['-r', `${dir}/.`, outside]);
    execFileSync('rm', ['-rf', join(outside, '.git')]);
    editMlYaml(outside, (text) => text.replace(/rows: \{ min: 999999 \}/, 'rows: { min: 1 }'));
    const p = ports();
    const trained = await train({ dir: outside, workers: 1, record: { command: 'train' } }, p);
    expect(trained.artifact).toBeDefined();
    expect(trained.run).toBeUndefined();
    expect(p.said).toEqual([]);
  }, 60_000);

  it('bramble run and bramble train say where the run went, and runs ls lists both', () => {
    const dir = makeModelRepo({ trees: 5 });
    const env = { GIT_COMMITTER_DATE: '2026-12-06T08:00:00Z' };
    const run = bramble(['run', dir, '--workers', '1'], { env });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^bramble: run recorded as 20261206T080000Z-[0-9a-f]{10} on bramble\/runs/m);
    expect(bramble(['train', dir, '--workers', '1'], { env }).status).toBe(0);
    const ls = bramble(['runs', 'ls', '--dir', dir, '--json']);
    expect(ls.status).toBe(0);
    const page = JSON.parse(ls.stdout) as { total: number; runs: RunRecord[] };
    expect(page.total).toBe(2);
    expect(page.runs.map((r) => r.command).sort()).toEqual(['run', 'train']);
  }, 60_000);
});

describe('bramble runs ls, show, diff and best', () => {
  const dir = plainRepo();
  const runs = Array.from({ length: 12 }, (_, i) => fakeRun(i, { branch: i < 6 ? 'main' : 'wider-trees', champion: i === 11 }));
  beforeAll(async () => {
    await addRuns(dir, runs);
  });

  it('lists the runs newest first, grouped by branch and commit, with the delta against the champion', () => {
    const r = bramble(['runs', 'ls', '--dir', dir, '--limit', '3']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^ {2}run +at +command +roc_auc +f1 +accuracy +log_loss +bootstrap +maxDepth +maxFeatures +trees +seed +data +champion +gate$/);
    expect(lines[1]).toBe(`wider-trees @ ${'c'.repeat(7)}`);
    expect(lines[2]).toContain(runs[11].id);
    expect(lines[2]).toContain('0.8100 (+0.0100)');
    expect(r.stdout).toContain(`wider-trees @ ${'b'.repeat(7)}`);
    expect(r.stdout).toContain('runs 1–3 of 12, newest first; next page: bramble runs ls --offset 3 --limit 3');
  });

  it('pages with --offset, sorts best first with --sort, and keeps only the columns that differ with --only-changed', () => {
    const page = JSON.parse(bramble(['runs', 'ls', '--dir', dir, '--json', '--limit', '5', '--offset', '10']).stdout) as { runs: RunRecord[]; next: number | null; total: number };
    expect(page.runs.map((r) => r.id)).toEqual([runs[1].id, runs[0].id]);
    expect(page.next).toBeNull();
    const sorted = JSON.parse(bramble(['runs', 'ls', '--dir', dir, '--json', '--sort', 'log_loss', '--limit', '2']).stdout) as { runs: RunRecord[] };
    expect(sorted.runs.map((r) => r.id)).toEqual([runs[9].id, runs[8].id]);
    const changed = bramble(['runs', 'ls', '--dir', dir, '--only-changed', '--csv']);
    expect(changed.stdout.split('\n')[0]).toBe('run,at,command,branch,commit,roc_auc,delta_roc_auc,log_loss,delta_log_loss,trees,champion,gate');
    expect(changed.stdout.split('\n')).toHaveLength(14);
  });

  it('shows one run by its id, a prefix or its hash, and refuses an unknown one (exit 2, E_RUNS_ID)', () => {
    const hash = runs[3].id.split('-')[1];
    const shown = bramble(['runs', 'show', hash.slice(0, 6), '--dir', dir, '--json']);
    expect(JSON.parse(shown.stdout)).toEqual(runs[3]);
    const text = bramble(['runs', 'show', runs[11].id, '--dir', dir]).stdout;
    expect(text).toMatch(/^metrics\.roc_auc +0\.8100 \(\+0\.0100 vs the champion\)$/m);
    expect(text).toMatch(/^champion +churn@v1\.0\.0 \(compare\.against: prod; sha256:e{12}…; 1409 rows compared\)$/m);
    const missing = bramble(['runs', 'show', 'nope', '--dir', dir]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`bramble: no run "nope" on bramble/runs (the newest is ${runs[11].id}); bramble runs ls lists them\n`);
    const ambiguous = bramble(['runs', 'show', '2026', '--dir', dir]);
    expect(ambiguous.status).toBe(2);
    expect(ambiguous.stderr).toMatch(/^bramble: the run "2026" is ambiguous: 12 runs match/);
  });

  it('diffs two runs: every metric with B − A, and the params and source that differ', () => {
    const r = bramble(['runs', 'diff', runs[0].id, runs[4].id, '--dir', dir, '--json']);
    const { differences } = JSON.parse(r.stdout) as { differences: { section: string; field: string; a: unknown; b: unknown; delta: number | null }[] };
    expect(differences.map((d) => `${d.section}.${d.field}`)).toEqual(['metrics.roc_auc', 'metrics.f1', 'metrics.accuracy', 'metrics.log_loss', 'params.trees']);
    expect(differences[0]).toEqual({ section: 'metrics', field: 'roc_auc', a: 0.8, b: runs[4].metrics.roc_auc, delta: (runs[4].metrics.roc_auc ?? NaN) - 0.8 });
    expect(differences[4]).toMatchObject({ a: 10, b: 11, delta: 1 });
    const md = bramble(['runs', 'diff', runs[0].id, runs[1].id, '--dir', dir, '--md', '--only-changed']).stdout;
    expect(md.split('\n').slice(0, 2)).toEqual(['| section | field | a | b | B − A |', '| --- | --- | --- | --- | ---: |']);
    expect(md).toContain(`| source | commit | ${'b'.repeat(40)} | ${'c'.repeat(40)} |  |`);
    expect(md).not.toContain('accuracy');
  });

  it('finds the best run by a metric in its direction, and refuses an unknown metric (exit 2, E_RUNS_METRIC)', () => {
    const best = JSON.parse(bramble(['runs', 'best', 'roc_auc', '--dir', dir, '--json']).stdout) as { value: number; run: RunRecord };
    expect(best.value).toBe(runs[9].metrics.roc_auc);
    expect(best.run.id).toBe(runs[9].id);
    const wrong = bramble(['runs', 'best', 'roc', '--dir', dir]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toBe('bramble: bramble runs best "roc": not a metric; did you mean roc_auc? the runs recorded roc_auc, f1, accuracy, log_loss\n');
    const unrecorded = bramble(['runs', 'ls', '--dir', dir, '--sort', 'rmse']);
    expect(unrecorded.status).toBe(2);
    expect(unrecorded.stderr).toMatch(/^bramble: --sort "rmse": no run recorded it;/);
  });

  it('refuses contradicting formats and options a subcommand does not take', () => {
    expect(bramble(['runs', 'ls', '--dir', dir, '--json', '--csv']).stderr).toBe('bramble: --json and --csv contradict each other; give one output format\n');
    expect(bramble(['runs', 'show', runs[0].id, '--dir', dir, '--sort', 'f1']).stderr).toBe('bramble: bramble runs show takes no --sort; see bramble runs --help\n');
    expect(bramble(['runs', 'ls', '--dir', dir, '--limit', '0']).stderr).toBe('bramble: --limit is "0"; give a whole number ≥ 1\n');
    expect(bramble(['runs', 'lst', '--dir', dir]).stderr).toBe('bramble: unknown runs command "lst"; did you mean ls? use ls, show, diff, best or push\n');
  });
});

describe('bad input on bramble/runs', () => {
  it('skips a malformed, a foreign and an edited record, naming each, and lists the rest', async () => {
    const dir = plainRepo();
    const good = [fakeRun(1), fakeRun(2)];
    await addRuns(dir, good);
    // A person edits the branch with git itself: a line that is not JSON, another tool's record, a changed metric.
    const work = mkdtempSync(join(tmpdir(), 'bramble-runs-edit-'));
    git(work, 'clone', '-q', '--branch', RUNS.branch, dir, '.');
    const edited = { ...fakeRun(3), metrics: { roc_auc: 0.99, f1: 0.56, accuracy: 0.79, log_loss: 0.477 } };
    const file = join(work, 'runs/2026-01.jsonl');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    lines.push('{not json', JSON.stringify({ format: 'mlflow-run', version: 3, id: 'abc' }), JSON.stringify(edited));
    writeFileSync(file, lines.join('\n') + '\n');
    writeFileSync(join(work, 'notes.txt'), 'hello\n');
    git(work, 'add', '-A');
    git(work, 'commit', '-qm', 'by hand');
    git(work, 'push', '-q', 'origin', RUNS.branch);

    const r = bramble(['runs', 'ls', '--dir', dir, '--json']);
    expect(r.status).toBe(0);
    // The month checked once is kept under .git/bramble/runs/ by its blob id; a second read gives the same.
    const month = git(dir, 'rev-parse', `${RUNS.branch}:runs/2026-01.jsonl`).trim();
    expect(readdirSync(join(dir, '.git/bramble/runs'))).toEqual([`2026-01-${month}.json`]);
    expect(bramble(['runs', 'ls', '--dir', dir, '--json'])).toEqual(r);
    const page = JSON.parse(r.stdout) as { runs: RunRecord[]; skipped: { where: string; reason: string }[] };
    expect(page.runs.map((x) => x.id)).toEqual([good[1].id, good[0].id]);
    expect(page.skipped).toEqual([
      { where: 'bramble/runs:notes.txt', reason: 'not a run file (records live in runs/YYYY-MM.jsonl)' },
      { where: 'bramble/runs:runs/2026-01.jsonl:3', reason: 'not JSON' },
      { where: 'bramble/runs:runs/2026-01.jsonl:4 (abc)', reason: 'a foreign record (format "mlflow-run", version 3; Bramble writes bramble-run version 1)' },
      { where: `bramble/runs:runs/2026-01.jsonl:5 (${edited.id})`, reason: expect.stringMatching(/^edited after it was written: its content hashes to 20260101T030000Z-[0-9a-f]{10}, not to its id$/) },
    ]);
    expect(r.stderr).toBe(
      "bramble: warning: skipped 4 entries of bramble/runs that are not a run record Bramble can read: bramble/runs:notes.txt: not a run file (records live in runs/YYYY-MM.jsonl); bramble/runs:runs/2026-01.jsonl:3: not JSON; bramble/runs:runs/2026-01.jsonl:4 (abc): a foreign record (format \"mlflow-run\", version 3; Bramble writes bramble-run version 1); …\n",
    );
  });

  it('keeps both records when two runs of one repository finish at once (the lock beside the ref)', async () => {
    const dir = plainRepo();
    await Promise.all([addRuns(dir, [fakeRun(1)]), addRuns(dir, [fakeRun(2)]), addRuns(dir, [fakeRun(3)])]);
    const ids = git(dir, 'show', `${RUNS.branch}:runs/2026-01.jsonl`)
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as RunRecord).id)
      .sort();
    expect(ids).toEqual([fakeRun(1).id, fakeRun(2).id, fakeRun(3).id].sort());
    expect(git(dir, 'rev-list', '--count', RUNS.branch).trim()).toBe('3');
  });

  it('escapes names with HTML and Markdown in --md, and defuses formulas in --csv', async () => {
    const dir = plainRepo();
    const branch = '<img src=x onerror=alert(1)>|*bold*_[x](y)';
    await addRuns(dir, [fakeRun(1, { branch }), fakeRun(2, { branch: '=HYPERLINK("http://x")' })]);
    const md = bramble(['runs', 'ls', '--dir', dir, '--md']).stdout;
    expect(md).toContain('| \\<img src=x onerror=alert(1)\\>\\|\\*bold\\*\\_\\[x\\](y) |');
    expect(md).not.toMatch(/(?<!\\)<img/);
    const csv = bramble(['runs', 'ls', '--dir', dir, '--csv']).stdout;
    expect(csv).toContain(`,"'=HYPERLINK(""http://x"")",`);
    expect(csv).toContain(`,<img src=x onerror=alert(1)>|*bold*_[x](y),`);
  });

  it('pages 3,000 runs over 25 months reading only the newest months for the first page', async () => {
    const dir = plainRepo();
    const many = Array.from({ length: 3000 }, (_, i) => fakeRun(i, { at: new Date(Date.UTC(2024, 0, 1) + i * 6 * 3_600_000).toISOString() }));
    await addRuns(dir, many);
    const first = JSON.parse(bramble(['runs', 'ls', '--dir', dir, '--json', '--limit', '20']).stdout) as { runs: RunRecord[]; total: number | null; next: number };
    expect(first.runs.map((r) => r.id)).toEqual(many.slice(-20).reverse().map((r) => r.id));
    expect(first.total).toBeNull();
    expect(first.next).toBe(20);
    const later = JSON.parse(bramble(['runs', 'ls', '--dir', dir, '--json', '--limit', '20', '--offset', '2990']).stdout) as { runs: RunRecord[]; total: number | null; next: number | null };
    expect(later.runs.map((r) => r.id)).toEqual(many.slice(0, 10).reverse().map((r) => r.id));
    expect(later.total).toBe(3000);
    // One checked month kept per month file; a new run of the newest month replaces that month's.
    expect(readdirSync(join(dir, '.git/bramble/runs'))).toHaveLength(25);
    await addRuns(dir, [fakeRun(3000, { at: many[2999].at.replace(/:00\.000Z$/, ':30.000Z') })]);
    expect(JSON.parse(bramble(['runs', 'ls', '--dir', dir, '--json', '--limit', '1']).stdout).runs[0].id).toBe(fakeRun(3000, { at: many[2999].at.replace(/:00\.000Z$/, ':30.000Z') }).id);
    expect(readdirSync(join(dir, '.git/bramble/runs'))).toHaveLength(25);
    expect(later.next).toBeNull();
    const text = bramble(['runs', 'ls', '--dir', dir, '--limit', '20']).stdout;
    expect(text.trimEnd().split('\n').at(-1)).toBe('runs 1–20, newest first; next page: bramble runs ls --offset 20 --limit 20');
  }, 60_000);
});

describe('bramble runs push', () => {
  let server: GitServer;
  beforeAll(async () => {
    server = await startGitServer();
  });
  afterAll(async () => {
    await server.close();
  });

  async function remoteAndClones(name: string): Promise<{ url: string; a: string; b: string }> {
    const a = plainRepo();
    await server.createBare(name);
    const url = server.repoUrl(name);
    git(a, 'remote', 'add', 'origin', url);
    await gitAsync(a, 'push', '-q', 'origin', 'main');
    const b = mkdtempSync(join(tmpdir(), 'bramble-runs-clone-'));
    await gitAsync(b, 'clone', '-q', url, '.');
    return { url, a, b };
  }

  it('pushes local runs, adds them on top when another clone pushed first, and fetches them back', async () => {
    const { a, b } = await remoteAndClones('runs-union');
    await addRuns(a, [fakeRun(1), fakeRun(2)]);
    await addRuns(b, [fakeRun(3)]);
    const first = await pushRuns({ dir: a }, ports());
    expect(first).toMatchObject({ pushed: true, added: 2, before: null });
    const second = await pushRuns({ dir: b }, ports());
    expect(second).toMatchObject({ pushed: true, added: 1, before: first.head });
    expect(await pushRuns({ dir: b }, ports())).toMatchObject({ pushed: false, added: 0 });
    const ids = (await gitAsync(b, 'ls-remote', 'origin', RUNS.ref)).split('\t')[0];
    expect(ids).toBe(second.head);
    const again = await brambleAsync(['runs', 'push', '--dir', a]);
    expect(again).toEqual({ status: 0, stdout: '', stderr: 'bramble: origin already has every run here\n' });
    expect((await gitAsync(a, 'rev-parse', RUNS.ref)).trim()).toBe(second.head);
    const ls = await brambleAsync(['runs', 'ls', '--dir', a, '--fetch', '--json']);
    expect(ls.stderr).toBe('');
    expect((JSON.parse(ls.stdout) as { runs: RunRecord[] }).runs.map((r) => r.id)).toEqual([fakeRun(3).id, fakeRun(2).id, fakeRun(1).id]);
  });

  it('refuses to push over a remote branch rewritten by hand (exit 2), and says how to put it back or accept it', async () => {
    const { a, b } = await remoteAndClones('runs-rewritten');
    await addRuns(a, [fakeRun(1)]);
    const pushed = await pushRuns({ dir: a }, ports());
    // Someone force-pushes a new history over it from another clone.
    await addRuns(b, [fakeRun(5)]);
    await gitAsync(b, 'push', '-q', '--force', 'origin', `${RUNS.ref}:${RUNS.ref}`);
    const theirs = (await gitAsync(b, 'rev-parse', RUNS.ref)).trim();
    await addRuns(a, [fakeRun(2)]);
    const r = await brambleAsync(['runs', 'push', '--dir', a]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `bramble: the remote origin's bramble/runs was rewritten by hand: it is at ${theirs.slice(0, 7)}, which does not contain ${pushed.head?.slice(0, 7)}, what this repository last fetched from or pushed there; nothing was pushed. ` +
        `If that was a mistake, put it back: git push origin ${pushed.head}:refs/heads/bramble/runs --force. If it was meant, accept it: git update-ref refs/heads/bramble/runs ${theirs} && git update-ref refs/remotes/origin/bramble/runs ${theirs} (your local runs it lacks are dropped), then run bramble runs push again\n`,
    );
    // Refused again, not pushed over on the second try.
    expect((await brambleAsync(['runs', 'push', '--dir', a])).status).toBe(2);
    expect((await gitAsync(a, 'ls-remote', 'origin', RUNS.ref)).split('\t')[0]).toBe(theirs);
    await expect(pushRuns({ dir: a }, ports())).rejects.toMatchObject({ code: 'E_RUNS_REWRITTEN' });
  });

  it('refuses a push when the remote branch was deleted by hand, and pushes again once that is accepted', async () => {
    const { a, b } = await remoteAndClones('runs-deleted');
    await addRuns(a, [fakeRun(1)]);
    const pushed = await pushRuns({ dir: a }, ports());
    await gitAsync(b, 'push', '-q', 'origin', '--delete', RUNS.ref);
    await expect(pushRuns({ dir: a }, ports())).rejects.toMatchObject({
      code: 'E_RUNS_REWRITTEN',
      message: expect.stringContaining(`it is gone (${pushed.head?.slice(0, 7)} was there, what this repository last fetched from or pushed there); nothing was pushed. `),
    });
    // Accepted as the message says: the local runs are pushed again, onto an empty remote.
    git(a, 'update-ref', '-d', `refs/remotes/origin/${RUNS.branch}`);
    expect(await pushRuns({ dir: a }, ports())).toMatchObject({ pushed: true, before: null, added: 1 });
  });

  it('pushes a CI run through the train use-case (record.push), and says a push it could not make without failing the run', async () => {
    const { url } = await remoteAndClones('runs-ci');
    const dir = makeModelRepo({ trees: 5 });
    git(dir, 'remote', 'add', 'origin', url);
    const result = await train({ dir, workers: 1, record: { command: 'train', push: true } }, ports({ GITLAB_CI: 'true', CI_RUNNER_DESCRIPTION: 'pi-runner' }));
    expect(result.run?.push).toMatchObject({ pushed: true, added: 1 });
    expect((await gitAsync(dir, 'ls-remote', 'origin', RUNS.ref)).split('\t')[0]).toBe(result.run?.push?.head);

    git(dir, 'remote', 'set-url', 'origin', `${server.url}/missing.git`);
    const p = ports();
    const failed = await train({ dir, workers: 1, record: { command: 'train', push: true } }, p);
    expect(failed.artifact).toBeDefined();
    expect(failed.run).toMatchObject({ push: null, problem: expect.stringContaining('missing.git') });
    expect(p.said.filter((m) => m.startsWith('warn: '))).toEqual([expect.stringMatching(/^warn: the run \S+ is recorded here but was not pushed: /)]);
  }, 60_000);
});
