// bramble monitor over a prediction log written by the server's own writer (PredictionLog), in the record shape
// the server's telemetry appends: a normal day, an empty day, a day whose MonthlyCharges is shifted, and a day
// under the minimum count; corrupt lines in between.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTable } from '../src/data/load.js';
import { cellValue, getColumn } from '../src/data/table.js';
import { evaluateClassification } from '../src/model/evaluate.js';
import type { MonitorProfile, MonitorResult } from '../src/monitor/windows.js';
import { monitorRun } from '../src/usecases/monitor.js';
import type { MonitorSummary } from '../src/usecases/monitor-summary.js';
import { PREDICTION_LOG, PredictionLog } from '../src/serve/prediction-log.js';
import { bramble } from './helpers/cli.js';
import { seeded } from './helpers/data.js';
import { commitAll, editMlYaml, makeModelRepo, train } from './helpers/model-repo.js';

type Row = Record<string, string | number | boolean | null>;

const DAY = 24 * 60 * 60 * 1000;
const START = Date.parse('2026-11-01T00:00:00Z');

/** What the server logs for one single-row prediction (serve/telemetry.ts `predicted`), with the time given. */
function predictionRecord(id: string, time: number, env: string, version: string, sha256: string, row: Row, pYes: number): object {
  return {
    id,
    time: new Date(time).toISOString(),
    env,
    model: { name: 'churn', version, sha256 },
    inputs: [row],
    outputs: { predictions: [pYes >= 0.5 ? 'Yes' : 'No'], probabilities: [1 - pYes, pYes] },
    latencyMs: 1.5,
  };
}

interface Sent {
  labels: string[];
  probabilities: number[];
}

describe('bramble monitor', () => {
  let dir: string;
  let logs: string;
  /** What was fed back on the first day: the rows the live metric is computed on. */
  const dayOne: Sent = { labels: [], probabilities: [] };
  /** What was fed back on every day. */
  const everyDay: Sent = { labels: [], probabilities: [] };
  /** Every row sent, by day: its customer id, its truth and whether feedback came back for it. */
  const sent: { id: string; truth: string; fedBack: boolean }[][] = [[], [], [], []];

  beforeAll(async () => {
    dir = makeModelRepo({ trees: 5 });
    // One drifted input column of the template's 19 is 5 %: make that the data set's drift share.
    editMlYaml(dir, (text) => text.replace('drift: { share: 0.5 }', 'drift: { share: 0.05 }'));
    commitAll(dir, 'monitor: one drifted column is an alert');
    const artifact = JSON.parse(await train(dir)) as { sha256: string; signature: { inputs: { name: string }[] } };
    const registered = bramble(['register'], { cwd: dir });
    expect(registered.stderr).toBe('');
    expect(registered.status).toBe(0);
    const { table } = await readTable(join(dir, 'data/churn.csv'), { columns: { TotalCharges: { type: 'number', nullable: true } } });
    const inputs = artifact.signature.inputs.map((i) => i.name);
    const churn = getColumn(table, 'Churn');
    const customerID = getColumn(table, 'customerID');
    const random = seeded(11);
    const pick = (): { row: Row; truth: string } => {
      const k = Math.floor(random() * table.rows);
      // The client sends the id along with the inputs (the server accepts it), which is what --truth joins by.
      const row: Row = { customerID: cellValue(customerID, k) };
      for (const name of inputs) row[name] = cellValue(getColumn(table, name), k);
      return { row, truth: String(cellValue(churn, k)) };
    };
    logs = mkdtempSync(join(tmpdir(), 'bramble-monitor-logs-'));
    const log = new PredictionLog({ dir: logs, maxBytes: 256 * 1024, files: 20 });
    let n = 0;
    const day = (offset: number, rows: number, shift: boolean): void => {
      for (let r = 0; r < rows; r++) {
        const { row, truth } = pick();
        if (shift && typeof row.MonthlyCharges === 'number') row.MonthlyCharges *= 1.4;
        const pYes = truth === 'Yes' ? 0.4 + 0.6 * random() : 0.7 * random();
        const id = `req-${n++}`;
        const time = START + offset * DAY + Math.floor((r / rows) * (DAY - 1000));
        expect(log.append(predictionRecord(id, time, 'prod', 'v1.0.0', artifact.sha256, row, pYes))).toBe(true);
        // Ground truth for 60 % of the predictions, arriving a minute later.
        const fedBack = random() < 0.6;
        sent[offset].push({ id: String(row.customerID), truth, fedBack });
        if (fedBack) {
          expect(log.append({ type: 'feedback', id, time: new Date(time + 60_000).toISOString(), env: 'prod', truth })).toBe(true);
          if (offset === 0) {
            dayOne.labels.push(truth);
            dayOne.probabilities.push(1 - pYes, pYes);
          }
          everyDay.labels.push(truth);
          everyDay.probabilities.push(1 - pYes, pYes);
        }
      }
    };
    day(0, 600, false);
    // Day 1 (2026-11-02) has no predictions at all.
    day(2, 600, true);
    day(3, 30, false);
    // Another environment's prediction, which prod's monitor leaves out.
    log.append(predictionRecord('staging-1', START, 'staging', 'v1.0.0', artifact.sha256, pick().row, 0.2));
    await log.close();
    // A host that died mid-line, and a line of another shape.
    appendFileSync(join(logs, PREDICTION_LOG.file), '{"id": "req-x", "time": "2026-11-0\n{"id": "req-y", "env": "prod"}\n');
  }, 120_000);

  function run(...args: string[]): { status: number | null; result: MonitorResult | null; stdout: string; stderr: string } {
    const r = bramble(['monitor', '.', '--env', 'prod', '--logs', logs, ...args], { cwd: dir });
    const json = args.includes('--json') && r.status !== 2;
    return { status: r.status, result: json ? (JSON.parse(r.stdout) as MonitorResult) : null, stdout: r.stdout, stderr: r.stderr };
  }

  it('flags the shifted column in the later window only, and exits 1', () => {
    const { status, result } = run('--json');
    expect(status).toBe(1);
    if (result === null) throw new Error('no result');
    expect(result.windows.map((w) => [w.start.slice(0, 10), w.status])).toEqual([
      ['2026-11-01', 'healthy'],
      ['2026-11-02', 'empty'],
      ['2026-11-03', 'alert'],
      ['2026-11-04', 'not-enough-data'],
    ]);
    const drifted = (k: number): string[] => result.windows[k].versions[0].drift?.columns.filter((c) => c.drifted).map((c) => c.column) ?? [];
    expect(drifted(0)).toEqual([]);
    expect(drifted(2)).toEqual(['MonthlyCharges']);
    expect(result.windows[2].versions[0].drift?.datasetDrift).toBe(true);
    expect(result.windows[0].versions[0].rows).toBe(600);
    expect(result.healthy).toBe(false);
  });

  it('scores the joined rows with the evaluation the training report uses, and gives their count', () => {
    const { result } = run('--json');
    const performance = result?.windows[0].versions[0].performance;
    expect(performance?.status).toBe('ok');
    if (performance?.status !== 'ok') throw new Error('no performance');
    expect(performance.rows).toBe(dayOne.labels.length);
    expect(performance.rows).toBeGreaterThan(300);
    const expected = evaluateClassification({ labels: dayOne.labels, classes: ['No', 'Yes'], probabilities: Float64Array.from(dayOne.probabilities) });
    expect(performance.metrics.roc_auc).toBe(expected.roc_auc);
    expect(performance.watched).toEqual({ metric: 'roc_auc', value: expected.roc_auc, alert: false });
    // Hanley & McNeil's interval around the same AUC, from the two class counts.
    const auc = expected.roc_auc as number;
    const nPos = dayOne.labels.filter((l) => l === 'Yes').length;
    const nNeg = dayOne.labels.length - nPos;
    const q1 = auc / (2 - auc);
    const q2 = (2 * auc * auc) / (1 + auc);
    const se = Math.sqrt((auc * (1 - auc) + (nPos - 1) * (q1 - auc * auc) + (nNeg - 1) * (q2 - auc * auc)) / (nPos * nNeg));
    expect(performance.interval).toEqual({ metric: 'roc_auc', low: auc - 1.959963984540054 * se, high: auc + 1.959963984540054 * se, method: 'Hanley–McNeil' });
  });

  it('compares the predicted labels with the training target as prediction drift', () => {
    const { result } = run('--json');
    const first = result?.windows[0].versions[0].predictionDrift;
    // 1,000+ training rows: the Jensen–Shannon distance, on the labels predicted that day against Churn's shares.
    expect(first).toMatchObject({ column: 'Churn', kind: 'categorical', test: 'jensen_shannon', currentCount: 600 });
    expect(result?.windows[3].versions[0].predictionDrift).toBeNull();
  });

  it('says "not enough data" for a window under the minimum count, and the window with no predictions is empty', () => {
    const { result } = run('--json');
    const small = result?.windows[3].versions[0];
    expect(small).toMatchObject({ rows: 30, status: 'not-enough-data', drift: null, performance: { status: 'not-enough-data' } });
    expect(result?.windows[1].versions).toEqual([]);
    const text = run().stdout;
    expect(text).toContain('2026-11-02: empty (no predictions)');
    expect(text).toContain('v1.0.0: 30 row(s); not enough data for drift (under 100 rows)');
    expect(text).toMatch(/2026-11-03: alert\n {2}v1\.0\.0: 600 row\(s\); drift 5% of 19 column\(s\) \(MonthlyCharges\) ≥ 5%: DRIFT/);
  });

  it('skips and counts corrupt lines with their file and line, and leaves other environments out', () => {
    const { result } = run('--json');
    const file = join(logs, PREDICTION_LOG.file);
    const lines = readFileSync(file, 'utf8').split('\n').length - 1;
    expect(result?.log.corrupt).toEqual([
      { file, line: lines - 1, reason: 'not JSON' },
      { file, line: lines, reason: 'no id, time or env' },
    ]);
    expect(result?.log.otherRequests).toBe(1);
    expect(result?.log.files.length).toBeGreaterThan(1);
    expect(result?.log.requests).toBe(1230);
    expect(run().stdout).toContain(`2 corrupt line(s) skipped:\n  ${file}:${lines - 1}: not JSON`);
  });

  it('joins a truth file by ml.yaml data.id for the rows feedback did not cover, and counts ids it never saw', () => {
    const late = sent[2].filter((r) => !r.fedBack);
    const truthFile = join(logs, '..', `truth-${Date.now()}.csv`);
    writeFileSync(truthFile, ['customerID,Churn', ...late.map((r) => `${r.id},${r.truth}`), '0000-NOONE,Yes', '0001-NOONE,No'].join('\n') + '\n');
    const ids = new Set(late.map((r) => r.id));
    const { status, result, stderr } = run('--truth', truthFile, '--json');
    expect(stderr).toBe('');
    expect(status).toBe(1);
    expect(result?.truth).toEqual({ file: truthFile, rows: ids.size + 2, unknownIds: 2 });
    const joined = (day: number): { feedback: number; truthFile: number } => ({
      feedback: sent[day].filter((r) => r.fedBack).length,
      truthFile: sent[day].filter((r) => !r.fedBack && ids.has(r.id)).length,
    });
    expect(result?.windows[2].versions[0].joined).toEqual(joined(2));
    expect(result?.windows[2].versions[0].joined.truthFile).toBe(late.length);
    expect(result?.windows[0].versions[0].joined).toEqual(joined(0));
    expect(result?.windows[2].versions[0].performance.rows).toBe(600);
  });

  it('exits 0 when what it reads is healthy (--since the last, small day)', () => {
    const { status, result } = run('--since', '2026-11-04', '--json');
    expect(status).toBe(0);
    expect(result?.windows.map((w) => w.status)).toEqual(['not-enough-data']);
  });

  it.each([
    [['monitor', '.', '--logs', '/nowhere'], 'bramble: bramble monitor needs --env ENV'],
    [['monitor', '.', '--env', 'prod'], 'bramble: bramble monitor needs --logs DIR'],
    [['monitor', '.', '--env', 'prod', '--logs', '/nowhere/at/all'], "bramble: --logs /nowhere/at/all: cannot read the folder (ENOENT); give the folder of serve.json's log.dir"],
    [['monitor', '.', '--env', 'moon', '--logs', '/tmp'], 'moon'],
    [['monitor', '.', '--env', 'prod', '--logs', '/tmp', '--truth', 'no-such-truth.csv'], 'no-such-truth.csv'],
  ])('exits 2 on a usage or data error: %j', (args, message) => {
    const r = bramble(args, { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('lists no empty days before the first prediction, whatever --since says', () => {
    const { status, result } = run('--since', '2000-01-01', '--json');
    expect(status).toBe(1);
    expect(result?.windows.map((w) => w.start.slice(0, 10))).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04']);
  });

  it('exits 2 on a folder without a prediction log', () => {
    const empty = mkdtempSync(join(tmpdir(), 'bramble-monitor-empty-'));
    const r = bramble(['monitor', '.', '--env', 'prod', '--logs', empty], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`bramble: --logs ${empty}: no predictions.jsonl there; give the folder of serve.json's log.dir\n`);
  });

  it('exits 2, naming the file, when a file of the log cannot be read', () => {
    const odd = mkdtempSync(join(tmpdir(), 'bramble-monitor-odd-'));
    writeFileSync(join(odd, 'predictions.jsonl'), '');
    // A folder where a rotated file should be: reading it fails with EISDIR, as an unreadable file would.
    mkdirSync(join(odd, 'predictions.1.jsonl'));
    const r = bramble(['monitor', '.', '--env', 'prod', '--logs', odd], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`bramble: ${join(odd, 'predictions.1.jsonl')}: cannot read it (EISDIR); if the host rotated the log just now, run again\n`);
  });

  it('exits 2 when the log names a version the registry does not have', async () => {
    const other = mkdtempSync(join(tmpdir(), 'bramble-monitor-logs-'));
    const log = new PredictionLog({ dir: other, maxBytes: 1 << 20, files: 2 });
    log.append(predictionRecord('req-1', START, 'prod', 'v9.9.9', 'f'.repeat(64), { tenure: 1 }, 0.3));
    await log.close();
    const r = bramble(['monitor', '.', '--env', 'prod', '--logs', other], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('churn@v9.9.9 does not exist; churn has v1.0.0');
  });

  it('exits 2 on a --since that is not a date', () => {
    const r = run('--since', 'yesterday');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--since "yesterday" is not a date');
  });

  it('records a run on the registry branch — latest, the run as JSON and Markdown, a profile per window — and reads earlier runs back', async () => {
    const first = run('--record', '--json');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(1);
    const show = (path: string): string => execFileSync('git', ['show', `bramble/registry:${path}`], { cwd: dir, encoding: 'utf8' });
    const latest = JSON.parse(show('churn/monitoring/prod/latest.json')) as MonitorResult;
    expect(latest).toEqual(first.result);
    const runs = execFileSync('git', ['ls-tree', '--name-only', 'bramble/registry', 'churn/monitoring/prod/runs/'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
    const stem = `churn/monitoring/prod/runs/${latest.ranAt.replaceAll(':', '-')}`;
    expect(runs).toEqual([`${stem}.json`, `${stem}.md`]);
    expect(show(`${stem}.md`)).toContain('| 2026-11-03T00:00:00.000Z | v1.0.0 | 600 | alert | 1 of 19: MonthlyCharges |');
    const profiles = execFileSync('git', ['ls-tree', '-r', '--name-only', 'bramble/registry', 'churn/monitoring/prod/profiles/'], { cwd: dir, encoding: 'utf8' }).trim().split('\n');
    // One per window with predictions, per version: not the empty day.
    expect(profiles).toEqual(['2026-11-01', '2026-11-03', '2026-11-04'].map((d) => `churn/monitoring/prod/profiles/${d}T00-00-00.000Z/v1.0.0.json`));
    const profile = JSON.parse(show(profiles[0])) as MonitorProfile;
    expect(profile).toMatchObject({ format: 'bramble-monitor-profile', model: 'v1.0.0', rows: 600, inputs: { rows: 600 }, performance: { task: 'classification', rows: dayOne.labels.length } });
    // The second run, through the use-case: the first is its history, and it adds a run of its own.
    const second = await monitorRun({ dir, env: 'prod', logs, record: true }, { git: { env: {}, remote: null }, log: { info() {}, warn() {} }, now: () => new Date('2030-01-01T00:00:00Z') });
    expect(second.history).toEqual([first.result]);
    expect(second.recorded?.files).toContain('churn/monitoring/prod/runs/2030-01-01T00-00-00.000Z.json');
    expect(second.recorded?.commit).toBe(execFileSync('git', ['rev-parse', 'bramble/registry'], { cwd: dir, encoding: 'utf8' }).trim());
  });

  it('sums up the recorded windows without the log (--summary): merged drift, and the metrics the merged counts give', () => {
    const r = bramble(['monitor', '.', '--env', 'prod', '--summary', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    const summary = JSON.parse(r.stdout) as MonitorSummary;
    expect(summary.versions.map((v) => [v.version, v.windows, v.rows])).toEqual([['v1.0.0', 3, 1230]]);
    const [v] = summary.versions;
    // Half of the 1,200 full-day rows were shifted: the month drifts on MonthlyCharges, as its shifted day did.
    expect(v.drift.columns.filter((c) => c.drifted).map((c) => c.column)).toEqual(['MonthlyCharges']);
    expect(v.predictionDrift?.column).toBe('Churn');
    // Every fed-back row of the three days, scored whole, against the sums of the three windows.
    const whole = evaluateClassification({ labels: everyDay.labels, classes: ['No', 'Yes'], probabilities: Float64Array.from(everyDay.probabilities) });
    expect(v.performance?.rows).toBe(everyDay.labels.length);
    expect(v.performance?.metrics.accuracy).toBeCloseTo(whole.accuracy, 12);
    expect(v.performance?.metrics.precision).toBeCloseTo(whole.precision, 12);
    expect(v.performance?.metrics.recall).toBeCloseTo(whole.recall, 12);
    expect(v.performance?.metrics.f1).toBeCloseTo(whole.f1, 12);
    expect(v.performance?.metrics.log_loss).toBeCloseTo(whole.log_loss, 12);
    expect(v.performance?.metrics.roc_auc).toBeNull();
    const later = JSON.parse(bramble(['monitor', '.', '--env', 'prod', '--summary', '--since', '2026-11-03', '--json'], { cwd: dir }).stdout) as MonitorSummary;
    expect(later.versions.map((x) => [x.windows, x.rows, x.first])).toEqual([[2, 630, '2026-11-03T00:00:00.000Z']]);
    const misuse = bramble(['monitor', '.', '--env', 'prod', '--summary', '--logs', logs], { cwd: dir });
    expect(misuse.status).toBe(2);
    expect(misuse.stderr).toContain('--logs does not go with --summary');
  });

  it('cuts windows of monitor.window: 6h windows, each with its own verdict', () => {
    const yaml = join(dir, 'ml.yaml');
    const before = readFileSync(yaml, 'utf8');
    expect(before).toMatch(/\n {2}window: 1d /);
    writeFileSync(yaml, before.replace(/\n {2}window: 1d /, '\n  window: 6h '));
    try {
      const { result } = run('--json');
      if (result === null) throw new Error('no result');
      expect(result.window).toBe('6h');
      expect(result.windowMs).toBe(6 * 3600 * 1000);
      // 150 rows a window on the full days: enough for drift, and MonthlyCharges drifts on the shifted day only.
      const day = (d: string): MonitorResult['windows'] => result.windows.filter((w) => w.start.startsWith(d));
      // (At 150 rows a window the distance is noisier than at 600: the shifted windows stand well clear of the others.)
      const monthly = (w: MonitorResult['windows'][number]): number => w.versions[0]?.drift?.columns.find((c) => c.column === 'MonthlyCharges')?.score ?? Number.NaN;
      const calm = day('2026-11-01').map(monthly).reduce((a, b) => Math.max(a, b));
      const shifted = day('2026-11-03').map(monthly).reduce((a, b) => Math.min(a, b));
      expect(shifted).toBeGreaterThan(2 * calm);
      expect(day('2026-11-02').map((w) => w.status)).toEqual(['empty', 'empty', 'empty', 'empty']);
      expect(day('2026-11-03').map((w) => w.status)).toEqual(['alert', 'alert', 'alert', 'alert']);
      expect(result.windows.map((w) => w.start.slice(11, 13))).toEqual(['00', '06', '12', '18', '00', '06', '12', '18', '00', '06', '12', '18', '00', '06', '12', '18']);
      const rows = day('2026-11-01').map((w) => w.versions[0].rows);
      expect(rows.reduce((a, b) => a + b)).toBe(600);
      for (const n of rows) expect(Math.abs(n - 150)).toBeLessThanOrEqual(1);
    } finally {
      writeFileSync(yaml, before);
    }
  });

  it('counts a request written after its window was summed up as late, and lists at most 100 corrupt lines of any number', async () => {
    const other = mkdtempSync(join(tmpdir(), 'bramble-monitor-late-'));
    const log = new PredictionLog({ dir: other, maxBytes: 1 << 22, files: 2 });
    const row = { tenure: 3, MonthlyCharges: 20 };
    log.append(predictionRecord('a', START, 'prod', 'v1.0.0', 'f'.repeat(64), row, 0.3));
    log.append(predictionRecord('b', START + 3 * DAY, 'prod', 'v1.0.0', 'f'.repeat(64), row, 0.3));
    // Two windows back: day 0 was summed up when day 3 arrived (a grace of one window).
    log.append(predictionRecord('c', START + 10, 'prod', 'v1.0.0', 'f'.repeat(64), row, 0.3));
    // One window back: still open, so it counts.
    log.append(predictionRecord('d', START + 2 * DAY, 'prod', 'v1.0.0', 'f'.repeat(64), row, 0.3));
    await log.close();
    appendFileSync(join(other, PREDICTION_LOG.file), 'not json\n'.repeat(150));
    const r = bramble(['monitor', '.', '--env', 'prod', '--logs', other, '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as MonitorResult;
    expect(result.log).toMatchObject({ requests: 3, late: 1, corruptLines: 150 });
    expect(result.log.corrupt.length).toBe(100);
    expect(result.log.corrupt[99]).toEqual({ file: join(other, PREDICTION_LOG.file), line: 104, reason: 'not JSON' });
    expect(result.windows.map((w) => [w.start.slice(0, 10), w.versions.map((v) => v.rows)])).toEqual([
      ['2026-11-01', [1]],
      ['2026-11-02', []],
      ['2026-11-03', [1]],
      ['2026-11-04', [1]],
    ]);
  });
});
