// `npm run bench:monitor [-- --predictions N] [-- --feedback N] [-- --repeats N]`: `bramble monitor` over the
// prediction log of a busy host — by default 1,000,000 logged predictions of the template's churn model over seven
// UTC days and 300,000 feedback lines, in the server's own rotated files — side by side with the first step a
// Python user takes with the same files: pandas reading the JSON Lines (`pd.read_json(lines=True)`), nothing more.
//
// Issue 14's targets: ≤ 10 s and ≤ 400 MB here. Decisions:
// - Whole processes timed from outside, peak RSS by GNU time's %M; runs alternate (Bramble, pandas, …).
// - The log is generated once into bench/.out/monitor/ from the template's own data (inputs of real rows, the later
//   days with MonthlyCharges × 1.4, each with the model's own answer from `bramble predict`), written as
//   serve/telemetry.ts writes it: one single-row request a line, its feedback (the row's true Churn) three hours
//   later in the same stream, files rotated at 100 MB.
// - Bramble reads the log twice (feedback first) and holds one or two windows; pandas holds all of it.
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const cli = join(root, 'dist', 'cli.js');
const PYTHON = '/usr/bin/python3';
const TIME = '/usr/bin/time';
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const PREDICTIONS = option('predictions', 1_000_000);
const FEEDBACK = option('feedback', 300_000);
const REPEATS = option('repeats', 1);
const DAYS = 7;
const ROTATE_BYTES = 100 * 1024 * 1024;
const who = { GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.com' };

function run(file, argv, cwd) {
  const r = spawnSync(file, argv, { cwd, encoding: 'utf8', env: { ...process.env, ...who }, maxBuffer: 1 << 28 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${file} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

// The template's model, registered in a fresh repository (20 trees: the model's size does not enter the figure).
const repo = mkdtempSync(join(tmpdir(), 'bramble-bench-monitor-'));
cpSync(join(root, 'templates', 'model-repo'), repo, { recursive: true, filter: (src) => !src.includes('.bramble') });
const yaml = join(repo, 'ml.yaml');
writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/trees: \d+/, 'trees: 20'));
run('git', ['init', '-q', '-b', 'main'], repo);
run('git', ['add', '-A'], repo);
run('git', ['commit', '-qm', 'a model'], repo);
run(process.execPath, [cli, 'run', '.'], repo);
run(process.execPath, [cli, 'register'], repo);
const artifact = JSON.parse(readFileSync(join(repo, '.bramble', 'model.json'), 'utf8'));
const inputs = artifact.signature.inputs.map((i) => i.name);

// The log, generated once per size.
const logs = join(here, '.out', 'monitor', `${PREDICTIONS}x${FEEDBACK}-${artifact.sha256.slice(0, 12)}-answered`);
if (!existsSync(join(logs, 'predictions.jsonl'))) {
  process.stderr.write(`generating ${PREDICTIONS.toLocaleString('en')} predictions and ${FEEDBACK.toLocaleString('en')} feedback lines …\n`);
  rmSync(logs, { recursive: true, force: true });
  const partial = `${logs}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const csv = readFileSync(join(repo, 'data', 'churn.csv'), 'utf8');
  const rows = csvRows(csv);
  // The model's own answers, for the rows as they are and with MonthlyCharges × 1.4 (the later days' traffic).
  const header = csv.split('\n')[0].split(',');
  const at = header.indexOf('MonthlyCharges');
  const shifted = csv
    .trim()
    .split('\n')
    .map((line, i) => {
      if (i === 0) return line;
      const cells = line.split(',');
      cells[at] = String(Math.round(Number(cells[at]) * 1.4 * 100) / 100);
      return cells.join(',');
    })
    .join('\n');
  writeFileSync(join(repo, 'data', 'shifted.csv'), `${shifted}\n`);
  const answers = (file) =>
    run(process.execPath, [cli, 'predict', '--model', join(repo, '.bramble', 'model.json'), '--json', file], repo)
      .stdout.trim()
      .split('\n')
      .map((line) => JSON.parse(line).probabilities.Yes);
  const pYes = answers(join(repo, 'data', 'churn.csv'));
  const pShifted = answers(join(repo, 'data', 'shifted.csv'));
  writeLog(partial, rows, pYes, pShifted);
  renameSync(partial, logs);
}

/** The template's CSV as records of the model's inputs, typed as a client would send them. */
function csvRows(text) {
  const lines = text.trim().split('\n');
  const header = lines[0].split(',');
  const numeric = new Set(['SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges']);
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const row = {};
    for (const name of inputs) {
      const cell = cells[header.indexOf(name)];
      row[name] = numeric.has(name) ? (cell.trim() === '' ? null : Number(cell)) : cell;
    }
    row.customerID = cells[header.indexOf('customerID')];
    row._truth = cells[header.indexOf('Churn')];
    return row;
  });
}

function writeLog(dir, rows, pYes, pShifted) {
  const start = Date.parse('2026-11-01T00:00:00Z');
  const span = DAYS * 86_400_000;
  const every = Math.max(1, Math.floor(PREDICTIONS / FEEDBACK));
  const pending = [];
  let files = [];
  let fd = -1;
  let bytes = 0;
  let buffer = '';
  const open = () => {
    const name = `part-${files.length}.jsonl`;
    files.push(name);
    fd = openSync(join(dir, name), 'w');
    bytes = 0;
  };
  const flush = () => {
    writeSync(fd, buffer);
    buffer = '';
  };
  const append = (record) => {
    const line = `${JSON.stringify(record)}\n`;
    if (bytes + line.length > ROTATE_BYTES) {
      flush();
      closeSync(fd);
      open();
    }
    buffer += line;
    bytes += line.length;
    if (buffer.length > 1 << 20) flush();
  };
  open();
  let fed = 0;
  for (let i = 0; i < PREDICTIONS; i++) {
    const time = start + Math.floor((i / PREDICTIONS) * span);
    const k = (i * 7919) % rows.length;
    const source = rows[k];
    const row = {};
    for (const name of inputs) row[name] = source[name];
    row.customerID = source.customerID;
    const day = Math.floor((time - start) / 86_400_000);
    const late = day >= 4;
    if (late && row.MonthlyCharges !== null) row.MonthlyCharges = Math.round(row.MonthlyCharges * 1.4 * 100) / 100;
    const p = (late ? pShifted : pYes)[k];
    const id = `req-${i.toString(36)}-${(i * 48271).toString(36)}`;
    while (pending.length > 0 && pending[0].due <= time) {
      const f = pending.shift();
      append({ type: 'feedback', id: f.id, time: new Date(f.due).toISOString(), env: 'prod', truth: f.truth });
    }
    append({
      id,
      time: new Date(time).toISOString(),
      env: 'prod',
      model: { name: 'churn', version: 'v1.0.0', sha256: artifact.sha256 },
      inputs: [row],
      outputs: { predictions: [p >= 0.5 ? 'Yes' : 'No'], probabilities: [1 - p, p] },
      latencyMs: 1.2,
    });
    if (i % every === 0 && fed < FEEDBACK) {
      pending.push({ id, due: time + 3 * 3_600_000, truth: source._truth });
      fed++;
    }
  }
  for (const f of pending) append({ type: 'feedback', id: f.id, time: new Date(f.due).toISOString(), env: 'prod', truth: f.truth });
  flush();
  closeSync(fd);
  // The server's names: the newest file is predictions.jsonl, the oldest the highest number.
  files = files.reverse();
  files.forEach((name, n) => renameSync(join(dir, name), join(dir, n === 0 ? 'predictions.jsonl' : `predictions.${n}.jsonl`)));
}

const haveTime = existsSync(TIME);
const havePandas = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pandas'], { stdio: 'ignore' }).status === 0;

function timed(file, argv) {
  const started = process.hrtime.bigint();
  const r = haveTime ? spawnSync(TIME, ['-f', '%M', file, ...argv], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 28 }) : spawnSync(file, argv, { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const lines = r.stderr.trim().split('\n');
  const peakMB = haveTime ? Number(lines[lines.length - 1]) / 1024 : null;
  return { status: r.status, seconds, peakMB, stdout: r.stdout, stderr: r.stderr };
}

const PANDAS = `
import glob, os, sys, pandas as pd
files = sorted(glob.glob(os.path.join(sys.argv[1], 'predictions*.jsonl')), key=lambda f: -int(f.split('.')[-2]) if f.split('.')[-2].isdigit() else 0)
frames = [pd.read_json(f, lines=True) for f in files]
df = pd.concat(frames, ignore_index=True)
print(len(df))
`;

const results = [];
for (let r = 0; r < REPEATS; r++) {
  const b = timed(process.execPath, [cli, 'monitor', '.', '--env', 'prod', '--logs', logs, '--json']);
  if (b.status !== 0 && b.status !== 1) throw new Error(`bramble monitor exited ${b.status}: ${b.stderr}`);
  const result = JSON.parse(b.stdout);
  const p = havePandas ? timed(PYTHON, ['-c', PANDAS, logs]) : null;
  if (p !== null && p.status !== 0) throw new Error(`pandas exited ${p.status}: ${p.stderr}`);
  results.push({ bramble: b, pandas: p, result });
}

const best = (side) => results.map((x) => x[side]).filter(Boolean).sort((a, b) => a.seconds - b.seconds)[0];
const b = best('bramble');
const p = best('pandas');
const { result } = results[0];
const drifted = result.windows.map((w) => `${w.start.slice(5, 10)} ${w.versions.map((v) => (v.drift === null ? '–' : v.drift.columns.filter((c) => c.drifted).map((c) => c.column).join('+') || 'none')).join(' ')}`);
const joined = result.windows.reduce((n, w) => n + w.versions.reduce((m, v) => m + v.joined.feedback, 0), 0);
console.log(`bramble monitor over ${result.log.requests.toLocaleString('en')} predictions and ${result.log.feedback.toLocaleString('en')} feedback lines in ${result.log.files.length} files (${joined.toLocaleString('en')} rows joined)`);
console.log('| | seconds | peak RSS | target |');
console.log('|---|---|---|---|');
console.log(`| bramble monitor | ${b.seconds.toFixed(2)} | ${b.peakMB === null ? '–' : `${b.peakMB.toFixed(0)} MB`} | ≤ 10 s, ≤ 400 MB |`);
if (p) console.log(`| pandas read_json(lines=True) only | ${p.seconds.toFixed(2)} | ${p.peakMB === null ? '–' : `${p.peakMB.toFixed(0)} MB`} | – |`);
if (p) console.log(`ratio bramble / pandas: ${(b.seconds / p.seconds).toFixed(2)}× time, ${b.peakMB && p.peakMB ? `${(b.peakMB / p.peakMB).toFixed(2)}× memory` : ''}`);
console.log(`drifted columns by day: ${drifted.join('; ')}`);
if (!args.includes("--keep")) rmSync(repo, { recursive: true, force: true });
else console.log(`kept ${repo}`);
