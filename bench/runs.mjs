// `npm run bench:runs` [-- --runs N] [--rebuild]: `bramble runs ls` over 10,000 run records (issue 15's target:
// ≤ 1 s), and over 100,000 (paged: the first page reads only the newest months), beside two baselines that read the
// same records with Python, the language DVC and MLflow are written in:
// - python, same JSON: the month files read out of git with one `git cat-file --batch` (git's C, no Python git
//   library to load), every line parsed with json.loads, sorted, the first 50 printed. A lower bound for a Python
//   tool reading these records: DVC's own start (its imports) is ~0.5–1 s before it reads anything.
// - python, a file per run: the same 10,000 records as 10,000 JSON files in one folder (MLflow's FileStore keeps
//   a folder per run, several files each), read and sorted. What one blob per record would cost even on disk,
//   before git's per-object overhead (isomorphic-git reads an object in ~1 ms: 10 s for 10,000).
// Each figure is the median wall time of fresh processes, spawn to exit; the cases take turns. Bramble keeps each
// month file it has checked under .git/bramble/runs/ (keyed by the blob's id); the "cache removed" cases time the
// first read (after a clone or a fetch), the others every read after it.
//
// The repositories (built once in the system's temp folder, reused): 10,000 records over 20 months written by
// Bramble's own appendRuns (one commit, loose objects, as local runs leave them), the same repacked (as after a
// clone or fetch), and 100,000 over 20 months, loose. Records vary trees, depth, metrics, branch and commit.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cli = join(root, 'dist', 'cli.js');
const TARGET_S = 1;
const MONTHS = 20;

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
const runs = Number(option('--runs', '5'));
const rebuild = process.argv.includes('--rebuild');
const cache = join(tmpdir(), 'bramble-runs-bench-v3');
const repos = { loose: join(cache, 'loose-10k'), packed: join(cache, 'packed-10k'), large: join(cache, 'loose-100k'), files: join(cache, 'files-10k') };

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

/** A small program, bundled from the sources, that writes N generated records with Bramble's own appendRuns. */
async function writerBundle() {
  const outfile = join(cache, 'write-runs.mjs');
  await build({
    stdin: {
      contents: `
import * as fs from 'node:fs';
import { sealRun, RUNS } from './src/registry/runs.ts';
import { appendRuns, findRepo } from './src/registry/runs-store.ts';
const [dir, count, months, filesDir] = process.argv.slice(2);
const n = Number(count);
const start = Date.UTC(2025, 0, 1);
const span = Number(months) * 30 * 86_400_000;
const hex = (i, c) => (i.toString(16) + c.repeat(40)).slice(0, 40);
const records = [];
for (let i = 0; i < n; i++) {
  const trees = 50 + (i % 7) * 25;
  const roc = 0.8 + ((i * 7919) % 1000) / 20000;
  records.push(sealRun({
    format: RUNS.format, version: RUNS.version,
    at: new Date(start + Math.floor((i / n) * span)).toISOString(),
    command: i % 3 === 0 ? 'train' : 'run', name: 'churn', task: 'classification',
    params: { task: 'classification', trees, maxDepth: 8 + (i % 5), minSamplesSplit: 2, minSamplesLeaf: 1 + (i % 3), maxFeatures: 'sqrt', bootstrap: true, maxSamples: null, classWeight: null, maxBins: 255, seed: 7 },
    seed: 7,
    metrics: { roc_auc: roc, f1: roc - 0.25, accuracy: roc - 0.02, precision: roc - 0.15, recall: roc - 0.3, log_loss: 1.3 - roc },
    data: { path: 'data/churn.csv', sha256: hex(Math.floor(i / 500), 'a').padEnd(64, 'a'), rows: 7043 + Math.floor(i / 500) },
    source: { commit: hex(Math.floor(i / 10), 'b'), branch: ['main', 'deeper-trees', 'new-features'][Math.floor(i / 10) % 3], dirty: i % 11 === 0, workTree: hex(i, 'c').padEnd(64, 'c'), path: '' },
    champion: i % 2 === 0 ? null : { label: 'churn@v1.4.0', via: 'compare.against: prod', version: 'v1.4.0', env: 'prod', sha256: 'd'.repeat(64), metrics: { roc_auc: 0.82, f1: 0.57 }, candidateMetrics: { roc_auc: roc, f1: roc - 0.25 }, rows: 1409 },
    gates: { passed: roc >= 0.82, failed: roc >= 0.82 ? [] : ['roc_auc'] },
    steps: { validate: 0.21, features: 0.34, train: 2.5 + (i % 10) / 10, evaluate: 0.02, compare: 0.4, write: 0.3, total: 3.9 + (i % 10) / 10 },
    machine: { ci: i % 4 === 0 ? 'github' : null, runner: i % 4 === 0 ? 'pi-5' : null, cores: 4, node: 'v20.19.0', bramble: '0.1.0' },
    artifact: { sha256: hex(i, 'e').padEnd(64, 'e'), bytes: 1_234_567 },
  }));
}
if (filesDir) {
  fs.mkdirSync(filesDir, { recursive: true });
  for (const r of records) fs.writeFileSync(filesDir + '/' + r.id + '.json', JSON.stringify(r));
} else {
  const repo = await findRepo(dir, fs);
  await appendRuns(repo, records, { name: 'Bench', email: 'bench@example.com', timestamp: 1_767_225_600, timezoneOffset: 0 });
}
`,
      resolveDir: root,
      sourcefile: 'write-runs.ts',
      loader: 'ts',
    },
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: { js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

const PYTHON_GIT = `
import json, subprocess, sys
repo = sys.argv[1]
tree = subprocess.run(['git', '-C', repo, 'ls-tree', 'refs/heads/bramble/runs:runs'], capture_output=True, text=True, check=True).stdout
oids = [line.split()[2] for line in tree.splitlines()]
out = subprocess.run(['git', '-C', repo, 'cat-file', '--batch'], input=('\\n'.join(oids) + '\\n').encode(), capture_output=True, check=True).stdout
records, at = [], 0
while at < len(out):
    end = out.index(b'\\n', at)
    size = int(out[at:end].split()[2])
    for line in out[end + 1:end + 1 + size].decode().splitlines():
        if line.strip():
            records.append(json.loads(line))
    at = end + 1 + size + 1
records.sort(key=lambda r: r['at'], reverse=True)
for r in records[:50]:
    print(r['id'], r['at'], r['metrics'].get('roc_auc'))
print(len(records))
`;

const PYTHON_FILES = `
import json, os, sys
folder = sys.argv[1]
records = []
for name in os.listdir(folder):
    with open(os.path.join(folder, name)) as f:
        records.append(json.load(f))
records.sort(key=lambda r: r['at'], reverse=True)
for r in records[:50]:
    print(r['id'], r['at'], r['metrics'].get('roc_auc'))
print(len(records))
`;

async function buildRepositories() {
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  const writer = await writerBundle();
  for (const [dir, count] of [
    [repos.loose, 10_000],
    [repos.large, 100_000],
  ]) {
    mkdirSync(dir, { recursive: true });
    run('git', ['init', '-q', '-b', 'main', dir]);
    writeFileSync(join(dir, 'README.md'), 'bench\n');
    run('git', ['-C', dir, 'add', '-A']);
    run('git', ['-C', dir, '-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', 'commit', '-qm', 'bench']);
    run(process.execPath, [writer, dir, String(count), String(MONTHS)]);
  }
  cpSync(repos.loose, repos.packed, { recursive: true });
  run('git', ['-C', repos.packed, 'repack', '-adq']);
  run('git', ['-C', repos.packed, 'prune']);
  run(process.execPath, [writer, '', '10000', String(MONTHS), repos.files]);
  writeFileSync(join(cache, 'python-git.py'), PYTHON_GIT);
  writeFileSync(join(cache, 'python-files.py'), PYTHON_FILES);
  writeFileSync(join(cache, 'ready'), 'ok\n');
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timed(command, args) {
  const started = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

async function main() {
  if (!existsSync(cli)) throw new Error(`${cli} is missing; run npm run build first (npm run bench:runs does)`);
  if (rebuild || !existsSync(join(cache, 'ready'))) await buildRepositories();
  const ls = (dir, ...more) => [cli, 'runs', 'ls', '--dir', dir, ...more];
  const page = (total) => (out) => out.includes(total === null ? 'runs 1–50, newest first' : `runs 1–50 of ${total}`);
  const all = (count) => (out) => JSON.parse(out).runs.length === count;
  const counted = (count) => (out) => out.trim().endsWith(`\n${count}`);
  const python = '/usr/bin/python3';
  // The checked months Bramble keeps under .git/bramble/runs/ (runs-store.ts): removed, the first read after a fetch.
  const uncache = (dir) => () => rmSync(join(dir, '.git', 'bramble', 'runs'), { recursive: true, force: true });
  const cases = [
    { key: 'node', name: 'node -e 0 (process start)', command: process.execPath, args: ['-e', '0'] },
    { key: 'version', name: 'bramble --version (start + bundle load)', command: process.execPath, args: [cli, '--version'] },
    { key: 'py-start', name: 'python3 -c 0 (process start)', command: python, args: ['-c', '0'] },
    { key: 'py-git', name: 'baseline: python, the same JSON out of git, 10k', command: python, args: [join(cache, 'python-git.py'), repos.loose], check: counted(10_000) },
    { key: 'py-files', name: 'baseline: python, a JSON file per run, 10k', command: python, args: [join(cache, 'python-files.py'), repos.files], check: counted(10_000) },
    { key: 'ls-loose', name: 'runs ls, 10k, loose (newest 50: one month read)', command: process.execPath, args: ls(repos.loose), check: page(null), baseline: 'py-git', target: true },
    { key: 'ls-packed', name: 'runs ls, 10k, packed (newest 50: one month read)', command: process.execPath, args: ls(repos.packed), check: page(null), baseline: 'py-git', target: true },
    { key: 'sort-loose', name: 'runs ls --sort roc_auc, 10k, loose (reads all)', command: process.execPath, args: ls(repos.loose, '--sort', 'roc_auc'), check: page(10_000), baseline: 'py-git', target: true },
    { key: 'sort-packed', name: 'runs ls --sort roc_auc, 10k, packed (reads all)', command: process.execPath, args: ls(repos.packed, '--sort', 'roc_auc'), check: page(10_000), baseline: 'py-git', target: true },
    { key: 'cold-loose', name: 'runs ls --sort roc_auc, 10k, loose, cache removed', command: process.execPath, args: ls(repos.loose, '--sort', 'roc_auc'), check: page(10_000), baseline: 'py-git', before: uncache(repos.loose) },
    { key: 'cold-packed', name: 'runs ls --sort roc_auc, 10k, packed, cache removed', command: process.execPath, args: ls(repos.packed, '--sort', 'roc_auc'), check: page(10_000), baseline: 'py-git', before: uncache(repos.packed) },
    { key: 'json-all', name: 'runs ls --json --limit 10000, 10k, loose (all out)', command: process.execPath, args: ls(repos.loose, '--json', '--limit', '10000'), check: all(10_000), baseline: 'py-git', target: true },
    { key: 'large-page', name: 'runs ls, 100k, loose (newest 50: one month read)', command: process.execPath, args: ls(repos.large), check: page(null), baseline: 'py-git' },
    { key: 'large-sort', name: 'runs ls --sort roc_auc, 100k, loose (reads all)', command: process.execPath, args: ls(repos.large, '--sort', 'roc_auc'), check: page(100_000), baseline: 'py-git' },
  ];
  for (const c of cases) c.times = [];
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      c.before?.();
      const r = timed(c.command, c.args);
      if (c.check && !c.check(r.stdout)) throw new Error(`${c.name}: unexpected output:\n${r.stdout.slice(0, 2000)}${r.stderr}`);
      c.times.push(r.seconds);
    }
  }
  const byKey = new Map(cases.map((c) => [c.key, median(c.times)]));
  let width = 0;
  for (const c of cases) width = Math.max(width, c.name.length);
  const lines = [
    `${cache}: 10,000 run records over ${MONTHS} months on bramble/runs (runs/YYYY-MM.jsonl), loose and repacked; 100,000 likewise, loose; 10,000 as files for the file-per-run baseline`,
    `medians of ${runs} fresh processes, wall time spawn → exit; ratio = case ÷ the Python baseline reading the same JSON out of git`,
    '',
    `${'case'.padEnd(width)}  median s  ratio  ≤ ${TARGET_S} s   runs (s)`,
  ];
  for (const c of cases) {
    const s = byKey.get(c.key);
    const ratio = c.baseline ? `${(s / byKey.get(c.baseline)).toFixed(2)}×` : '';
    const verdict = c.target ? (s <= TARGET_S ? 'met' : 'MISSED') : '';
    lines.push(`${c.name.padEnd(width)}  ${s.toFixed(3).padStart(8)}  ${ratio.padStart(5)}  ${verdict.padEnd(7)}  ${c.times.map((t) => t.toFixed(3)).join(' ')}`);
  }
  const met = cases.filter((c) => c.target).every((c) => byKey.get(c.key) <= TARGET_S);
  lines.push('', `target (runs ls over 10,000 records ≤ ${TARGET_S} s): ${met ? 'MET' : 'NOT MET'}`);
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
