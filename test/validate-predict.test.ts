import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaValidator } from '../src/schemas.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { PredictInputError, predictFile } from '../src/usecases/predict.js';
import { validateRepo } from '../src/usecases/validate.js';
import { readTable } from '../src/data/load.js';
import { FittedFeatures } from '../src/features/transforms.js';
import { ARTIFACT, openArtifact } from '../src/model/artifact.js';
import { RandomForest } from '../src/model/forest/forest.js';
import validationSchema from '../schemas/validation.schema.json' with { type: 'json' };
import { bramble, CLI } from './helpers/cli.js';

const template = join(import.meta.dirname, '../templates/model-repo');
/** The index of tenure among the template data's columns. */
const TENURE = 5;
const checkValidation = schemaValidator(validationSchema.$id);

function copyTemplate(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-validate-'));
  cpSync(template, dir, { recursive: true, filter: (src) => !src.includes(ARTIFACT.folder) });
  return dir;
}

/** Rewrites the copy's data/churn.csv line by line (the template has no quoted fields, so a split is exact). */
function editData(dir: string, edit: (fields: string[], line: number) => void): void {
  const path = join(dir, 'data/churn.csv');
  const lines = readFileSync(path, 'utf8').split('\n');
  const out = lines.map((text, i) => {
    if (i === 0 || text === '') return text;
    const fields = text.split(',');
    edit(fields, i + 1);
    return fields.join(',');
  });
  writeFileSync(path, out.join('\n'));
}

/** The header and rows of a CSV without quoted fields. */
function parseOutput(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

describe('bramble validate and predict: help', () => {
  it.each([['validate'], ['predict']])('prints the %s help and exits 0', (command) => {
    const r = bramble([command, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatchSnapshot();
  });
});

describe('bramble validate', () => {
  let model: string;

  beforeAll(() => {
    const dir = copyTemplate();
    const r = bramble(['run', dir]);
    expect(r.status).toBe(0);
    model = join(dir, ARTIFACT.folder, ARTIFACT.file);
  });

  it('passes the template and prints the summary line', () => {
    const dir = copyTemplate();
    const r = bramble(['validate', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('data/churn.csv: 7043 rows, 85 checks, 0 failed — valid');
  });

  it('fails with exit 1 on three tenures of 500 and names their rule, count and lines', async () => {
    const dir = copyTemplate();
    editData(dir, (fields, line) => {
      if (line === 12 || line === 22 || line === 3000) fields[TENURE] = '500';
    });
    const r = bramble(['validate', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('data/churn.csv: 7043 rows, 85 checks, 1 failed — NOT valid');
    expect(r.stdout).toMatch(/^ {20}range {7}between 0 and 72 +3 {2}12, 22, 3000 +FAIL$/m);
    expect(r.stdout).toContain('Failures:');

    const { validation } = await validateRepo(dir);
    expect(validation.results.filter((x) => !x.success)).toEqual([
      expect.objectContaining({ column: 'tenure', rule: 'range', unexpectedCount: 3, unexpectedLines: [12, 22, 3000], success: false }),
    ]);
  });

  it.each([
    ['valid', (_dir: string): void => {}, true],
    ['failing', (dir: string): void => editData(dir, (fields, line) => { if (line === 2) fields[TENURE] = '-1'; }), false],
  ])('prints JSON for %s data that matches schemas/validation.schema.json', (_name, prepare, success) => {
    const dir = copyTemplate();
    prepare(dir);
    const r = bramble(['validate', dir, '--json']);
    expect(r.status).toBe(success ? 0 : 1);
    const result: unknown = JSON.parse(r.stdout);
    expect(checkValidation(result)).toBe(true);
    expect(checkValidation.errors ?? null).toBeNull();
    expect(result).toMatchObject({ format: 'bramble-validation', file: 'data/churn.csv', rows: 7043, success });
  });

  it('finds no drift against the model trained on the same data', () => {
    const dir = copyTemplate();
    const r = bramble(['validate', dir, '--reference', model]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\nDrift: 0 of 20 columns drifted (0 %); the data set drifts at 50 % or more — no drift\n');
    expect(r.stdout).toMatch(/^ {2}tenure +numeric +Wasserstein \(normed\) +0 +≥ 0\.1 +ok$/m);
  });

  it('finds drift on tenure shifted by 24 months, and drift alone does not fail', () => {
    const dir = copyTemplate();
    editData(dir, (fields) => {
      fields[TENURE] = String(Number(fields[TENURE]) + 24);
    });
    // Widen the range rule, so that only drift tells the shift.
    const yaml = join(dir, 'ml.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace('tenure:           { type: integer, min: 0, max: 72 }', 'tenure: { type: integer, min: 0, max: 96 }'));
    const r = bramble(['validate', dir, '--reference', model]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\nDrift: 1 of 20 columns drifted (5 %); the data set drifts at 50 % or more — no drift\n');
    expect(r.stdout).toMatch(/^ {2}tenure +numeric +Wasserstein \(normed\) +\d\.\d{4} +≥ 0\.1 +DRIFT$/m);
  });

  it('prints validation and drift together as JSON', async () => {
    const dir = copyTemplate();
    const r = bramble(['validate', dir, '--reference', model, '--json']);
    expect(r.status).toBe(0);
    const body = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['validation', 'drift']);
    const direct = await validateRepo(dir, { reference: model });
    expect(body).toEqual(JSON.parse(JSON.stringify({ validation: direct.validation, drift: direct.drift })));
    expect(body.drift).toMatchObject({ format: 'bramble-drift', datasetDrift: false, driftedShare: 0 });
  });

  it.each([
    [['validate', '/no/such/repo'], 'bramble: /no/such/repo/ml.yaml: not found'],
    [['validate', '.', 'extra'], 'bramble: bramble validate takes one folder, got 2: . extra\n'],
    [['validate', template, '--reference', '/no/such/model.json'], 'bramble: the reference /no/such/model.json does not exist; give the path of a model.json (bramble run writes one to .bramble/model.json)\n'],
    [['validate', '--frobnicate'], "bramble: Unknown option '--frobnicate'"],
  ])('refuses %j with exit 2', (args, message) => {
    const r = bramble([...args]);
    expect(r.status).toBe(2);
    expect(r.stderr.startsWith(message)).toBe(true);
  });
});

describe('bramble predict', () => {
  let dir: string;
  let model: string;
  let output: string;

  beforeAll(() => {
    dir = copyTemplate();
    expect(bramble(['run', dir]).status).toBe(0);
    model = join(dir, ARTIFACT.folder, ARTIFACT.file);
    const r = bramble(['predict', '--model', model, join(dir, 'data/churn.csv')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    output = r.stdout;
  });

  it('writes a header and one row per input row, with probabilities that sum to 1', () => {
    const { header, rows } = parseOutput(output);
    expect(header).toEqual(['customerID', 'prediction', 'p_No', 'p_Yes']);
    expect(rows).toHaveLength(7043);
    expect(rows[0][0]).toBe('7590-VHVEG');
    for (const row of rows) {
      expect(row).toHaveLength(4);
      expect(Number(row[2]) + Number(row[3])).toBeCloseTo(1, 12);
      expect(row[1]).toBe(Number(row[3]) > Number(row[2]) ? 'Yes' : 'No');
    }
  });

  it("gives exactly the batch path's numbers, as JavaScript's shortest round-trip text", async () => {
    const artifact = openArtifact(readFileSync(model, 'utf8'), 'model.json');
    const features = FittedFeatures.fromJSON(artifact.features);
    const forest = RandomForest.fromJSON(artifact.estimator);
    const { table } = await readTable(join(dir, 'data/churn.csv'), { file: 'data/churn.csv' });
    const batch = features.transform(table);
    const scores = forest.scores({ rows: batch.rows, columns: batch.names.length, values: batch.matrix });
    const { rows } = parseOutput(output);
    // A few rows spelled out, then every row.
    for (const r of [0, 1, 4999, 7042]) expect(rows[r].slice(2)).toEqual([String(scores[2 * r]), String(scores[2 * r + 1])]);
    const differ = rows.filter((row, r) => row[2] !== String(scores[2 * r]) || row[3] !== String(scores[2 * r + 1]));
    expect(differ).toEqual([]);
  });

  it('writes the same bytes whatever the chunk size', async () => {
    const pieces: string[] = [];
    const summary = await predictFile({ model, data: join(dir, 'data/churn.csv'), chunkRows: 999 }, { write: async (text) => void pieces.push(text) });
    expect(summary).toEqual({ rows: 7043, header: ['customerID', 'prediction', 'p_No', 'p_Yes'] });
    expect(pieces).toHaveLength(1 + Math.ceil(7043 / 999));
    expect(pieces.join('')).toBe(output);
  });

  it('stops quietly, exit 0, when the reader closes the pipe early', () => {
    const command = `set -o pipefail; "${process.execPath}" "${CLI}" predict --model "${model}" "${join(dir, 'data/churn.csv')}" | head -n 2`;
    const r = spawnSync('bash', ['-c', command], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(output.split('\n').slice(0, 2).join('\n') + '\n');
  });

  it('takes the id column from --id, and ignores columns the model does not read', () => {
    const file = join(dir, 'few.csv');
    const lines = readFileSync(join(dir, 'data/churn.csv'), 'utf8').split('\n').slice(0, 4);
    writeFileSync(file, lines.map((l, i) => `${i === 0 ? 'ref' : `r${i}`},${l}`).join('\n') + '\n');
    const r = bramble(['predict', '--model', model, '--id', 'ref', file]);
    expect(r.status).toBe(0);
    const { header, rows } = parseOutput(r.stdout);
    expect(header).toEqual(['ref', 'prediction', 'p_No', 'p_Yes']);
    expect(rows.map((row) => row.slice(0, 2))).toEqual(parseOutput(output).rows.slice(0, 3).map((row, i) => [`r${i + 1}`, row[1]]));
  });

  it('refuses a file without a column the model reads, with exit 2 and no output', async () => {
    const file = join(dir, 'no-tenure.csv');
    const lines = readFileSync(join(dir, 'data/churn.csv'), 'utf8').split('\n').slice(0, 50);
    writeFileSync(file, lines.map((l) => l.split(',').filter((_, i) => i !== TENURE).join(',')).join('\n'));
    const message = `${file} has no column "tenure", which the model reads; add it to the file (values may be blank, read as missing)`;
    const r = bramble(['predict', '--model', model, file]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`bramble: ${message}\n`);
    expect(r.status).toBe(2);
    await expect(predictFile({ model, data: file }, { write: async () => {} })).rejects.toMatchObject({
      code: 'E_PREDICT_INPUT',
      message,
      data: { columns: ['tenure'] },
    });
    await expect(predictFile({ model, data: file }, { write: async () => {} })).rejects.toBeInstanceOf(PredictInputError);
  });

  it.each([
    [['predict', 'x.csv'], 'bramble: bramble predict needs --model FILE (a model.json); see bramble predict --help\n'],
    [['predict', '--model', 'm.json'], 'bramble: bramble predict takes one data file, got none; see bramble predict --help\n'],
    [['predict', '--model', '/no/such/model.json', 'x.csv'], 'bramble: the model /no/such/model.json does not exist; give the path of a model.json (bramble run writes one to .bramble/model.json)\n'],
  ])('refuses %j with exit 2 and one line', (args, message) => {
    const r = bramble([...args]);
    expect(r.stderr).toBe(message);
    expect(r.status).toBe(2);
  });

  it('refuses an --id column the file does not have', () => {
    const r = bramble(['predict', '--model', model, '--id', 'customerId', join(dir, 'data/churn.csv')]);
    expect(r.stderr).toBe(`bramble: ${join(dir, 'data/churn.csv')} has no column "customerId", given with --id; did you mean "customerID"?\n`);
    expect(r.status).toBe(2);
  });

  it('refuses text in a number column, naming the file and line', () => {
    const file = join(dir, 'bad-tenure.csv');
    const lines = readFileSync(join(dir, 'data/churn.csv'), 'utf8').split('\n').slice(0, 5);
    lines[3] = lines[3].split(',').map((f, i) => (i === TENURE ? 'soon' : f)).join(',');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = bramble(['predict', '--model', model, file]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^bramble: ${file.replace(/[.]/g, '\\.')}:4: .*tenure.*"soon"`));
    expect(r.status).toBe(2);
  });
});
