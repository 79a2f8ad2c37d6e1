import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable } from '../src/data/load.js';
import { cellValue } from '../src/data/table.js';
import { FittedFeatures } from '../src/features/transforms.js';
import { ARTIFACT, openArtifact } from '../src/model/artifact.js';
import { RandomForest } from '../src/model/forest/forest.js';
import { compareArtifacts, evaluateModel, runPipeline, type RunOptions } from '../src/pipeline/run.js';
import { metricsOf } from '../src/model/evaluate.js';
import { bramble } from './helpers/cli.js';

const template = join(import.meta.dirname, '../templates/model-repo');
const options: RunOptions = { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } };

function copyTemplate(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-run-'));
  cpSync(template, dir, { recursive: true, filter: (src) => !src.includes(ARTIFACT.folder) });
  return dir;
}

describe('bramble run on the template', () => {
  it('validates, trains, passes its gates, and writes the same artifact twice, byte for byte', async () => {
    const dir = copyTemplate();
    const first = await runPipeline(dir, options);
    const bytes = readFileSync(join(dir, ARTIFACT.folder, ARTIFACT.file));
    const second = await runPipeline(dir, { ...options, workers: 2 });
    expect(first.validation.success).toBe(true);
    expect(first.gates?.passed).toBe(true);
    expect(first.evaluation && 'roc_auc' in first.evaluation ? first.evaluation.roc_auc : null).toBeGreaterThanOrEqual(0.82);
    expect(second.artifact?.sha256).toBe(first.artifact?.sha256);
    expect(readFileSync(join(dir, ARTIFACT.folder, ARTIFACT.file)).equals(bytes)).toBe(true);
  });

  it('gives one row at a time, through the loaded artifact, exactly the batch numbers', async () => {
    const dir = copyTemplate();
    await runPipeline(dir, options);
    const artifact = openArtifact(readFileSync(join(dir, ARTIFACT.folder, ARTIFACT.file), 'utf8'), 'model.json');
    const features = FittedFeatures.fromJSON(artifact.features);
    const forest = RandomForest.fromJSON(artifact.estimator);
    const { table } = await readTable(join(dir, 'data/churn.csv'), { file: 'data/churn.csv' });
    const rows = Array.from({ length: 1000 }, (_, i) => i * 7);
    const batch = features.transform(table, rows);
    const scores = forest.scores({ rows: batch.rows, columns: batch.names.length, values: batch.matrix });
    const x = new Float64Array(features.width);
    const p = new Float64Array(2);
    let same = 0;
    rows.forEach((r, i) => {
      const record: Record<string, unknown> = {};
      for (const column of table.columns) record[column.name] = cellValue(column, r);
      features.transformRow(record, x);
      forest.predictProbaRow(x, p);
      if (Object.is(p[0], scores[2 * i]) && Object.is(p[1], scores[2 * i + 1])) same++;
    });
    expect(same).toBe(1000);
  });

  it('gates a candidate against a champion scored on the same held-out rows', async () => {
    const dir = copyTemplate();
    const first = await runPipeline(dir, options);
    const champion = join(dir, 'champion.json');
    cpSync(first.artifact!.path, champion);
    const second = await runPipeline(dir, { ...options, champion });
    expect(second.champion?.sha256).toBe(first.artifact?.sha256);
    expect(second.gates?.rows.map((row) => [row.metric, row.rule, row.delta, row.passed])).toEqual([
      ['roc_auc', 'min', 0, true],
      ['roc_auc', 'max_drop', 0, true],
    ]);
  });

  it('stops at validation, writes no model, and exits 1 when the data breaks the schema', () => {
    const dir = copyTemplate();
    const file = join(dir, 'data/churn.csv');
    const lines = readFileSync(file, 'utf8').split('\n');
    // tenure is declared 0–72: three customers with 500 months.
    for (const at of [2, 3, 4]) lines[at] = lines[at].replace(/^([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,)\d+,/, '$1500,');
    writeFileSync(file, lines.join('\n'));
    const r = bramble(['run', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('validate: 7043 rows, 84/85 rules hold');
    // Rows 2–4 of the array are file lines 3–5 (line 1 is the header).
    expect(r.stdout).toMatch(/range\s+between 0 and 72\s+3\s+3, 4, 5\s+FAIL/);
    expect(existsSync(join(dir, ARTIFACT.folder, ARTIFACT.file))).toBe(false);
  });
});

describe('bramble train, evaluate and compare', () => {
  it('evaluate scores a saved model on the held-out rows exactly as run did', async () => {
    const dir = copyTemplate();
    const ran = await runPipeline(dir, options);
    const evaluated = await evaluateModel(dir, ran.artifact!.path);
    expect(evaluated.model?.sha256).toBe(ran.artifact?.sha256);
    expect(metricsOf(evaluated.model!.evaluation)).toEqual(metricsOf(ran.evaluation!));
  });

  it('compare scores both models on the same rows: a model against itself changes nothing', async () => {
    const dir = copyTemplate();
    const ran = await runPipeline(dir, options);
    const compared = await compareArtifacts(dir, ran.artifact!.path, ran.artifact!.path);
    expect(compared.gates?.passed).toBe(true);
    expect(compared.gates?.rows.map((row) => row.delta)).toEqual([0, 0]);
    expect(compared.candidate?.metrics).toEqual(compared.champion?.metrics);
  });

  it('a failed gate fails run (exit 1) but not train (exit 0)', () => {
    const dir = copyTemplate();
    const yaml = join(dir, 'ml.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/roc_auc: \{ min: 0\.8/, 'roc_auc: { min: 0.99'));
    const run = bramble(['run', dir]);
    expect(run.stdout).toMatch(/✗\s+roc_auc\s+min\s+0\.99/);
    expect(run.status).toBe(1);
    const train = bramble(['train', dir]);
    expect(train.status).toBe(0);
    expect(existsSync(join(dir, ARTIFACT.folder, ARTIFACT.file))).toBe(true);
  });

  it('predict --json writes one JSON object per row, the same predictions as its CSV', async () => {
    const dir = copyTemplate();
    const ran = await runPipeline(dir, options);
    const data = join(dir, 'data/churn.csv');
    const csv = bramble(['predict', '--model', ran.artifact!.path, data]);
    const json = bramble(['predict', '--model', ran.artifact!.path, '--json', data]);
    expect(json.status).toBe(0);
    const records = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { customerID: string; prediction: string; probabilities: Record<string, number> });
    const rows = csv.stdout.trim().split('\n').slice(1).map((line) => line.split(','));
    expect(records).toHaveLength(7043);
    expect(records.map((r) => [r.customerID, r.prediction, String(r.probabilities.No), String(r.probabilities.Yes)])).toEqual(rows);
  });

  it('compare without a champion is a usage error', () => {
    const r = bramble(['compare', template, '--candidate', 'a.json']);
    expect(r.stderr).toBe('bramble: bramble compare needs --candidate FILE (a model.json) and --champion MODEL (a model.json, churn@v1.2.0 or an environment); see bramble compare --help\n');
    expect(r.status).toBe(2);
  });
});

describe('bramble run refuses', () => {
  function exitOf(dir: string, ...args: string[]): { status: number | null; stderr: string } {
    const r = bramble(['run', dir, ...args]);
    return { status: r.status, stderr: r.stderr };
  }

  it('a champion whose signature does not match the data, and writes nothing', async () => {
    const first = copyTemplate();
    await runPipeline(first, options);
    const champion = join(first, 'champion.json');
    cpSync(join(first, ARTIFACT.folder, ARTIFACT.file), champion);
    // The candidate's data loses a column the champion reads.
    const dir = copyTemplate();
    const file = join(dir, 'data/churn.csv');
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').map((line) => line.replace(/^([^,]*),[^,]*,/, '$1,')).join('\n'));
    const yaml = join(dir, 'ml.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/\n\s*gender:.*/, '').replace(/\n\s*- gender/, ''));
    const r = exitOf(dir, '--champion', champion);
    expect(r.stderr).toMatch(
      /^bramble: the model .*champion\.json cannot score data\/churn\.csv: its signature does not match the data \(the data has no column "gender", which the model reads; .*\); compare against a model trained on data of this shape, or run without it\n$/,
    );
    expect(r.status).toBe(2);
    expect(existsSync(join(dir, ARTIFACT.folder, ARTIFACT.file))).toBe(false);
  });

  it('a target with one class, and writes nothing', () => {
    const dir = copyTemplate();
    const file = join(dir, 'data/churn.csv');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/,Yes\n/g, ',No\n'));
    const r = exitOf(dir);
    expect(r.stderr).toBe(
      'bramble: data/churn.csv: the target Churn has a single class ("No"); classification needs at least two — check the data, or data.target in ml.yaml\n',
    );
    expect(r.status).toBe(2);
    expect(existsSync(join(dir, ARTIFACT.folder, ARTIFACT.file))).toBe(false);
  });
});

describe('openArtifact', () => {
  it.each([
    ['one byte changed', (t: string) => t.replace('"name":"churn"', '"name":"chura"'), /^model\.json does not match its sha256 \(recorded [0-9a-f]{12}…, content [0-9a-f]{12}…\): the file was changed or damaged; restore it from the registry$/],
    ['a newer format version', (t: string) => JSON.stringify({ ...(JSON.parse(t) as object), version: 2 }), /^model\.json has format version 2, newer than this Bramble reads \(1\); upgrade Bramble$/],
    ['another format', (t: string) => t.replace('"format":"bramble-model"', '"format":"mlflow"'), /^model\.json has format "mlflow", not "bramble-model"; give a model written by bramble train or run$/],
  ])('refuses %s', async (_what, damage, message) => {
    const dir = copyTemplate();
    const result = await runPipeline(dir, options);
    const text = damage(readFileSync(result.artifact!.path, 'utf8'));
    let caught: unknown;
    try {
      openArtifact(text, 'model.json');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'E_ARTIFACT' });
    expect((caught as Error).message).toMatch(message);
  });
});
