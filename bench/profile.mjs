// `node bench/profile.mjs [--rows N] [--runs R] [--lib PATH]`: load and profile a seeded 1,000,000 × 20 CSV with
// readTable + profileTable, and the same file with pandas (read_csv + describe + isna().sum()), side by side.
// Each run is a fresh process on each side; the figures are medians. Wall time covers reading and profiling (not
// process start-up or imports); peak memory is the process's peak resident set, imports included on both sides.
// The CSV is written once to the system's temp folder and reused.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, renameSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Rng } from './rng.mjs';

const PYTHON = '/usr/bin/python3';
const QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95];

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

/** The project's own seeded generator. */
function generator(seed) {
  const rng = new Rng(seed);
  return () => rng.float();
}

/** 15 number columns (6 decimals, different scales), 2 integer columns, 3 category columns; about 1 % blanks in some. */
function writeCsv(file, rows) {
  const random = generator(20240601);
  const levels = [5, 50, 1000].map((k) => Array.from({ length: k }, (_, i) => `level_${i}`));
  const header = [...Array.from({ length: 15 }, (_, i) => `x${i}`), 'count', 'id_group', 'colour', 'region', 'store'];
  const partial = `${file}.part`;
  const fd = openSync(partial, 'w');
  writeSync(fd, header.join(',') + '\n');
  let lines = [];
  for (let r = 0; r < rows; r++) {
    const fields = [];
    for (let c = 0; c < 15; c++) {
      if (c % 4 === 3 && random() < 0.01) fields.push('');
      else fields.push(((random() - 0.3) * 10 ** (c % 5)).toFixed(6));
    }
    fields.push(String(Math.floor(random() * 100)), String(Math.floor(random() * 1_000_000)));
    for (const level of levels) fields.push(random() < 0.01 ? '' : level[Math.floor(random() * level.length)]);
    lines.push(fields.join(','));
    if (lines.length === 10_000) {
      writeSync(fd, lines.join('\n') + '\n');
      lines = [];
    }
  }
  if (lines.length > 0) writeSync(fd, lines.join('\n') + '\n');
  closeSync(fd);
  renameSync(partial, file);
}

async function child(file, lib) {
  const { readTable, profileTable } = await import(pathToFileURL(lib).href);
  const started = performance.now();
  const { table, identity } = await readTable(file);
  const profile = profileTable(table);
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ seconds, peakMB: process.resourceUsage().maxRSS / 1024, rows: identity.rows, columns: profile.columns.length }));
}

const PANDAS = `
import json, resource, sys, time
import pandas as pd
started = time.perf_counter()
df = pd.read_csv(sys.argv[1])
summary = df.describe(include=sys.argv[2] if sys.argv[2] == 'all' else None, percentiles=${JSON.stringify(QUANTILES)})
nulls = df.isna().sum()
seconds = time.perf_counter() - started
print(json.dumps({'seconds': seconds, 'peakMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'rows': len(df), 'columns': len(summary.columns)}))
`;

function run(command, args) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main() {
  const self = fileURLToPath(import.meta.url);
  const lib = option('--lib', fileURLToPath(new URL('../dist/index.js', import.meta.url)));
  if (process.argv[2] === '--child') return child(process.argv[3], lib);
  const rows = Number(option('--rows', '1000000'));
  const runs = Number(option('--runs', '3'));
  const file = join(tmpdir(), `bramble-profile-${rows}x20.csv`);
  if (!existsSync(file)) {
    process.stdout.write(`writing ${file} ...\n`);
    writeCsv(file, rows);
  }
  const ours = [];
  const pandas = [];
  const pandasNumeric = [];
  for (let i = 0; i < runs; i++) {
    ours.push(run(process.execPath, [self, '--child', file, '--lib', lib]));
    pandas.push(run(PYTHON, ['-c', PANDAS, file, 'all']));
    pandasNumeric.push(run(PYTHON, ['-c', PANDAS, file, 'numbers']));
  }
  const row = (name, results) => {
    const s = median(results.map((r) => r.seconds));
    const m = median(results.map((r) => r.peakMB));
    return { name, s, m, text: `${name.padEnd(60)} ${s.toFixed(2).padStart(7)} s ${m.toFixed(0).padStart(7)} MB   (runs: ${results.map((r) => r.seconds.toFixed(2)).join(', ')} s)` };
  };
  const a = row('bramble readTable + profileTable', ours);
  // describe(include='all') also counts and ranks the category columns, as profileTable does; the plain
  // describe() summarises only the number columns.
  const b = row("pandas read_csv + describe(include='all') + isna().sum()", pandas);
  const c = row('pandas, describe() of the number columns only', pandasNumeric);
  process.stdout.write(`${file}: ${ours[0].rows} rows × ${ours[0].columns} columns, medians of ${runs} fresh processes\n`);
  process.stdout.write(`${a.text}\n${b.text}\n${c.text}\n`);
  for (const p of [b, c]) {
    process.stdout.write(`bramble / ${p.name}: wall ${(a.s / p.s).toFixed(2)}× (target ≤ 1.0×), peak memory ${(a.m / p.m).toFixed(2)}× (target ≤ 0.5×)\n`);
  }
}

await main();
