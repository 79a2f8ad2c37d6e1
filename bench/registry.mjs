// `npm run bench:registry` [-- --runs N] [--rebuild]: `bramble registry ls` on a repository with 500 versions and
// 1,500 assignment tags, beside a plain scan of every tag the way GTO rebuilds its state (list the tags, read every
// annotated tag object, parse every name). Each figure is the median wall time of fresh processes, from spawn to
// exit, so process start and bundle loading count on both sides; the cases take turns, so that a load on the
// machine falls on all of them alike. The issue's target: registry ls ≤ 0.3 s.
//
// The repository (built once in the system's temp folder, reused): 10 commits; 5 models (churn, fraud, ltv,
// propensity, uplift), each with 100 registration tags name@vX.Y.Z and 300 assignment tags name#env#N (dev,
// staging, prod; N = 1..300), every tag annotated, tagger times one minute apart. One more model, `retired`, is
// registered and then deprecated through the real CLI: that write reads every tag once and leaves `index.json` on
// the registry branch, as any registry write does. The commits and tags are in a pack (fast-import), as after a
// clone; the refs come in five copies: loose (what a registry written locally has), packed (`git pack-refs
// --all`, what a clone has), stale (200 assignment tags added after the index, each read from git), and without
// the registry branch, loose and packed (no index: every tag is read, Bramble's fallback).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cli = join(root, 'dist', 'cli.js');

const MODELS = ['churn', 'fraud', 'ltv', 'propensity', 'uplift'];
const VERSIONS_PER_MODEL = 100;
const ENVS = ['dev', 'staging', 'prod'];
const COMMITS = 10;
const LATE_TAGS = 200;
const TARGET_S = 0.3;
const START = 1_767_225_600; // 2026-01-01T00:00:00Z: the first tagger time; each tag is one minute later
const TAGGER = 'Bench Tagger <bench@example.com>';

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
const runs = Number(option('--runs', '7'));
const rebuild = process.argv.includes('--rebuild');

const registrations = MODELS.length * VERSIONS_PER_MODEL;
const assignments = registrations * ENVS.length;
const cache = join(tmpdir(), `bramble-registry-bench-${registrations}v-${assignments}a`);
const repos = {
  loose: join(cache, 'loose'),
  packed: join(cache, 'packed'),
  stale: join(cache, 'stale'),
  noindex: join(cache, 'noindex'),
  noindexPacked: join(cache, 'noindex-packed'),
};

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

const versionOf = (j) => `v1.${Math.floor(j / 10)}.${j % 10}`;
const fakeArtifact = (name, version) => createHash('sha256').update(`${name}@${version}`).digest('hex');

/** git fast-import's `data` block: a byte count, then the bytes. */
const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;

function tagCommand(tag, from, time, message) {
  return `tag ${tag}\nfrom ${from}\ntagger ${TAGGER} ${time} +0000\n${data(message)}`;
}

function assignMessage(name, env, version) {
  return `Assigning stage ${env} to artifact ${name} version ${version}\n\nBramble-Version: ${version}\n`;
}

/** One fast-import stream: the commits, then every tag in time order; returns the next free tagger time. */
function writeHistory(dir) {
  const parts = [];
  for (let c = 1; c <= COMMITS; c++) {
    const time = START - (COMMITS - c + 1) * 3600;
    parts.push(`commit refs/heads/main\nmark :${c}\ncommitter ${TAGGER} ${time} +0000\n${data(`change ${c}`)}`);
    if (c > 1) parts.push(`from :${c - 1}\n`);
    parts.push(`M 644 inline model.txt\n${data(`model source, revision ${c}\n`)}\n`);
  }
  let time = START;
  // The counter of a model's next assignment tag (GTO's #N: one sequence per model, across environments).
  const counters = new Map(MODELS.map((m) => [m, 0]));
  for (let j = 0; j < VERSIONS_PER_MODEL; j++) {
    for (const name of MODELS) {
      const version = versionOf(j);
      const commit = `:${(j % COMMITS) + 1}`;
      parts.push(tagCommand(`${name}@${version}`, commit, time, `Registering ${name} version ${version}\n\nBramble-Artifact: sha256:${fakeArtifact(name, version)}\n`));
      time += 60;
      for (const env of ENVS) {
        const n = counters.get(name) + 1;
        counters.set(name, n);
        parts.push(tagCommand(`${name}#${env}#${n}`, commit, time, assignMessage(name, env, version)));
        time += 60;
      }
    }
  }
  // The model that the index-writing `deprecate` acts on, so that the 500 versions above stay as they are.
  parts.push(tagCommand('retired@v1.0.0', `:${COMMITS}`, time, `Registering retired version v1.0.0\n\nBramble-Artifact: sha256:${fakeArtifact('retired', 'v1.0.0')}\n`));
  time += 60;
  run('git', ['fast-import', '--quiet'], { cwd: dir, input: parts.join('') + 'done\n' });
  return { time, counters };
}

/** 200 assignment tags written after the index: the index lacks them, so each is read from git. */
function addLateTags(dir, time, counters) {
  const parts = [];
  for (let k = 0; k < LATE_TAGS; k++) {
    const name = MODELS[k % MODELS.length];
    const j = VERSIONS_PER_MODEL - 1 - Math.floor(k / MODELS.length);
    const n = counters.get(name) + 1;
    counters.set(name, n);
    const commit = run('git', ['rev-parse', `refs/tags/${name}@${versionOf(j)}^{commit}`], { cwd: dir }).trim();
    parts.push(tagCommand(`${name}#${ENVS[k % ENVS.length]}#${n}`, commit, time, assignMessage(name, ENVS[k % ENVS.length], versionOf(j))));
    time += 60;
  }
  run('git', ['fast-import', '--quiet', '--force'], { cwd: dir, input: parts.join('') + 'done\n' });
}

function indexRecords(dir) {
  const index = JSON.parse(run('git', ['show', 'bramble/registry:index.json'], { cwd: dir }));
  return index.tags.length;
}

const tagCount = (dir) => run('git', ['for-each-ref', '--format=x', 'refs/tags'], { cwd: dir }).split('\n').filter(Boolean).length;

function buildRepositories() {
  process.stderr.write(`building ${cache} …\n`);
  const started = performance.now();
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(repos.loose, { recursive: true });
  run('git', ['init', '--quiet', '--initial-branch=main', repos.loose]);
  const { time, counters } = writeHistory(repos.loose);
  // The index is written by Bramble itself: a registry write reads every tag once and records all of them.
  run(process.execPath, [cli, 'deprecate', 'retired', '--dir', repos.loose, '--no-remote'], {
    env: { ...process.env, GIT_COMMITTER_NAME: 'Bench Tagger', GIT_COMMITTER_EMAIL: 'bench@example.com', GIT_COMMITTER_DATE: String(time) },
  });
  cpSync(repos.loose, repos.packed, { recursive: true });
  run('git', ['pack-refs', '--all'], { cwd: repos.packed });
  cpSync(repos.loose, repos.stale, { recursive: true });
  addLateTags(repos.stale, time + 60, counters);
  cpSync(repos.loose, repos.noindex, { recursive: true });
  run('git', ['update-ref', '-d', 'refs/heads/bramble/registry'], { cwd: repos.noindex });
  cpSync(repos.packed, repos.noindexPacked, { recursive: true });
  run('git', ['update-ref', '-d', 'refs/heads/bramble/registry'], { cwd: repos.noindexPacked });
  const summary = { tags: tagCount(repos.loose), indexed: indexRecords(repos.loose), seconds: (performance.now() - started) / 1000 };
  writeFileSync(join(cache, 'ready.json'), JSON.stringify(summary) + '\n');
  return summary;
}

/**
 * The baseline: list every tag, read every annotated tag object with isomorphic-git, parse every name with the
 * project's own parseTag (dist/index.js does not export it, so src/registry/tags.ts is bundled here), and pull
 * the version and artifact out of the message, as Bramble's per-tag read does. Bundled like dist/cli.js, so both
 * sides pay for loading a bundle; this one is smaller (no CLI, no training code).
 */
async function buildBaseline() {
  const outfile = join(cache, 'scan-all-tags.mjs');
  await build({
    stdin: {
      contents: `
import * as fs from 'node:fs';
import * as git from 'isomorphic-git';
import { parseTag } from './src/registry/tags.ts';
const dir = process.argv[2];
const cache = {};
let events = 0;
for (const name of await git.listTags({ fs, dir })) {
  const event = parseTag(name);
  if (!event) continue;
  const oid = await git.resolveRef({ fs, dir, ref: 'refs/tags/' + name });
  const { tag } = await git.readTag({ fs, dir, oid, cache });
  const version = /^Bramble-Version: (\\S+)$/m.exec(tag.message)?.[1];
  const artifact = /^Bramble-Artifact: sha256:([0-9a-f]{64})$/m.exec(tag.message)?.[1];
  if (tag.object && (event.kind !== 'assign' || version) && (event.kind !== 'register' || artifact)) events++;
}
process.stdout.write(events + '\\n');
`,
      resolveDir: root,
      sourcefile: 'scan-all-tags.ts',
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

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timed(command, args) {
  const started = performance.now();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

async function main() {
  if (!existsSync(cli)) throw new Error(`${cli} is missing; run npm run build first (npm run bench:registry does)`);
  const ready = join(cache, 'ready.json');
  const missing = !existsSync(ready) || Object.values(repos).some((dir) => !existsSync(dir));
  const built = rebuild || missing ? buildRepositories() : JSON.parse(readFileSync(ready, 'utf8'));
  const scan = await buildBaseline();
  const expected = registrations + assignments + 2; // + retired@v1.0.0 and retired@deprecated#1
  if (built.tags !== expected || built.indexed !== expected) {
    throw new Error(`${cache} holds ${built.tags} tags and ${built.indexed} index records, not ${expected}; run again with --rebuild`);
  }
  const ls = (dir) => [cli, 'registry', 'ls', '--dir', dir, '--no-remote'];
  const lsModels = (out) => [...MODELS, 'retired'].every((m) => new RegExp(`^${m}\\s`, 'm').test(out));
  const forEachRef = ['for-each-ref', '--format=%(refname:short) %(objectname) %(*objectname) %(taggerdate:unix) %(contents:body)', 'refs/tags'];
  const cases = [
    { key: 'node', name: 'node -e 0 (process start)', command: process.execPath, args: ['-e', '0'] },
    { key: 'version', name: 'bramble --version (start + bundle load)', command: process.execPath, args: [cli, '--version'] },
    { key: 'git', name: "git for-each-ref refs/tags (git's C scan), loose", command: 'git', args: ['-C', repos.loose, ...forEachRef] },
    { key: 'scan-loose', name: 'baseline: read every tag (isomorphic-git), loose refs', command: process.execPath, args: [scan, repos.loose], check: (o) => Number(o) === expected },
    { key: 'scan-packed', name: 'baseline: read every tag, packed refs', command: process.execPath, args: [scan, repos.packed], check: (o) => Number(o) === expected },
    { key: 'ls-loose', name: 'registry ls, index fresh, loose refs', command: process.execPath, args: ls(repos.loose), check: lsModels, baseline: 'scan-loose', target: true },
    { key: 'ls-packed', name: 'registry ls, index fresh, packed refs', command: process.execPath, args: ls(repos.packed), check: lsModels, baseline: 'scan-packed', target: true },
    { key: 'ls-stale', name: `registry ls, index stale (+${LATE_TAGS} tags), loose`, command: process.execPath, args: ls(repos.stale), check: lsModels, baseline: 'scan-loose', target: true },
    { key: 'ls-noindex', name: 'registry ls, no index (reads every tag), loose', command: process.execPath, args: ls(repos.noindex), check: lsModels, baseline: 'scan-loose', target: true },
    // A clone has packed refs, and its registry branch only as refs/remotes/…: without --fetch it has no index.
    { key: 'ls-noindex-packed', name: 'registry ls, no index, packed refs', command: process.execPath, args: ls(repos.noindexPacked), check: lsModels, baseline: 'scan-packed', target: true },
  ];
  for (const c of cases) c.times = [];
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const r = timed(c.command, c.args);
      if (c.check && !c.check(r.stdout.trim())) throw new Error(`${c.name}: unexpected output:\n${r.stdout}${r.stderr}`);
      c.times.push(r.seconds);
    }
  }
  const byKey = new Map(cases.map((c) => [c.key, median(c.times)]));
  const width = Math.max(...cases.map((c) => c.name.length));
  const lines = [
    `${cache}: ${built.tags} tags (${registrations} versions of ${MODELS.length} models, ${assignments} assignments, 2 for the index write), ${built.indexed} records in index.json; commits and tags in a pack, the index commit loose`,
    `medians of ${runs} fresh processes, wall time spawn → exit; ratio = case ÷ the baseline scan with the same refs layout`,
    '',
    `${'case'.padEnd(width)}  median s  ratio  ≤ ${TARGET_S} s   runs (s)`,
  ];
  for (const c of cases) {
    const s = byKey.get(c.key);
    const ratio = c.baseline ? `${(s / byKey.get(c.baseline)).toFixed(2)}×` : '';
    const verdict = c.target ? (s <= TARGET_S ? 'met' : 'MISSED') : '';
    lines.push(`${c.name.padEnd(width)}  ${s.toFixed(3).padStart(8)}  ${ratio.padStart(5)}  ${verdict.padEnd(7)}  ${c.times.map((t) => t.toFixed(3)).join(' ')}`);
  }
  const met = ['ls-loose', 'ls-packed'].every((k) => byKey.get(k) <= TARGET_S);
  lines.push('', `target (registry ls ≤ ${TARGET_S} s with the index): ${met ? 'MET' : 'NOT MET'}`);
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
