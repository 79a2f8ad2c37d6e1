// The model card, training report and metrics.json of a registered version, from real artifacts: the template
// trained in a real git repository (classification), and a small regression model on the diabetes fixture whose
// category values carry a `|`, trained outside git. Nothing is mocked.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMlYaml, type MlConfig } from '../src/config/ml-yaml.js';
import type { ValidationResult } from '../src/data/validate.js';
import { ARTIFACT, openArtifact } from '../src/model/artifact.js';
import { runPipeline, type RunOptions } from '../src/pipeline/run.js';
import { metricsRecord, modelCard } from '../src/report/card.js';
import { CARD, type CardInput } from '../src/report/card-facts.js';
import { trainingReport } from '../src/report/training-report.js';
import { pinnedGit } from './helpers/git.js';

const template = join(import.meta.dirname, '../templates/model-repo');
const diabetes = join(import.meta.dirname, 'fixtures/datasets/diabetes.csv');
const options: RunOptions = { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } };

type Json = Record<string, unknown>;

interface Trained {
  artifact: Json;
  config: MlConfig;
  validation: ValidationResult;
}

async function train(dir: string): Promise<Trained> {
  const result = await runPipeline(dir, options);
  if (!result.artifact) throw new Error(`${dir} did not train`);
  const artifact = openArtifact(readFileSync(result.artifact.path, 'utf8'), 'model.json');
  return { artifact, config: await readMlYaml(join(dir, 'ml.yaml')), validation: result.validation };
}

/** diabetes.csv with `sex` turned into a category whose values contain a pipe, one-hot encoded. */
function regressionRepo(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'bramble-card-reg-')));
  mkdirSync(join(dir, 'data'));
  const lines = readFileSync(diabetes, 'utf8').trimEnd().split('\n');
  const rows = lines.slice(1).map((line) => line.replace(/^([^,]*),([12]),/, (_, age: string, sex: string) => `${age},${sex === '1' ? 'one|1' : 'two|2'},`));
  writeFileSync(join(dir, 'data/diabetes.csv'), [lines[0], ...rows].join('\n') + '\n');
  writeFileSync(
    join(dir, 'ml.yaml'),
    [
      'name: diabetes',
      'task: regression',
      'data: { train: data/diabetes.csv, target: target }',
      'features:',
      '  - onehot: [sex]',
      'model:',
      '  type: random-forest',
      '  params: { trees: 20, minSamplesLeaf: 5 }',
      '  seed: 3',
      'split: { test: 0.25, seed: 3 }',
      'environments: {}',
      '',
    ].join('\n'),
  );
  return dir;
}

/** The text of a level-2 section, up to the next one. */
function section(markdown: string, name: string): string {
  const start = markdown.indexOf(`\n## ${name}\n`);
  if (start < 0) throw new Error(`no section ${name}`);
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next < 0 ? undefined : next);
}

/** The cells of the table row whose first cell is `first`. */
function tableRow(markdown: string, first: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${first} |`));
  if (!line) throw new Error(`no table row ${first}`);
  return splitCells(line);
}

/** A table line's cells, split on the pipes that are not escaped (as GFM splits them). */
function splitCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  for (let i = 1; i < line.length - 1; i++) {
    if (line[i] === '\\') {
      cell += line[i] + line[i + 1];
      i++;
    } else if (line[i] === '|') {
      cells.push(cell.trim());
      cell = '';
    } else cell += line[i];
  }
  cells.push(cell.trim());
  return cells;
}

/** Every table of a document as its lines' cell counts: a stray pipe in a value shows up as one cell too many. */
function tableWidths(markdown: string): number[][] {
  const tables: number[][] = [];
  let current: number[] | null = null;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      current ??= [];
      current.push(splitCells(line).length);
    } else if (current) {
      tables.push(current);
      current = null;
    }
  }
  if (current) tables.push(current);
  return tables;
}

function metricsOf(artifact: Json): Json {
  return artifact.metrics as Json;
}

describe('the documents of a registered version', () => {
  let churn: Trained;
  let commit: string;
  let reg: Trained;
  let churnInput: CardInput;
  let regInput: CardInput;

  beforeAll(async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'bramble-card-')));
    cpSync(template, dir, { recursive: true, filter: (src) => !src.includes(ARTIFACT.folder) });
    pinnedGit(dir, 'init', '-q');
    pinnedGit(dir, 'add', '-A');
    pinnedGit(dir, 'commit', '-q', '-m', 'model');
    commit = pinnedGit(dir, 'rev-parse', 'HEAD');
    churn = await train(dir);
    reg = await train(regressionRepo());
    churnInput = {
      artifact: churn.artifact,
      version: 'v1.2.0',
      config: churn.config,
      validation: churn.validation,
      registered: { by: { name: 'Ada Lovelace', email: 'ada@example.com' }, at: '2026-11-24T09:00:00.000Z', commit },
    };
    regInput = { artifact: reg.artifact, version: 'v0.1.0', config: reg.config, validation: reg.validation };
  });

  describe('model card', () => {
    it('has a title, a summary line, and every section once, in order', () => {
      const card = modelCard(churnInput);
      expect(card.split('\n')[0]).toBe('# churn v1.2.0');
      expect(card.split('\n')[2]).toContain((churn.artifact.sha256 as string).slice(0, 12));
      const headings = card.split('\n').filter((l) => l.startsWith('## '));
      expect(headings).toEqual(['## Purpose', '## Data', '## Metrics', '## Parameters', '## Lineage', '## Signature', '## Limits']);
      expect(headings).toEqual(CARD.sections.map((s) => `## ${s}`));
    });

    it("shows the artifact's own held-out metrics to 4 decimals", () => {
      const card = modelCard(churnInput);
      const m = metricsOf(churn.artifact);
      const metrics = section(card, 'Metrics');
      expect(metrics).toContain(`On the ${m.rows as number} held-out rows.`);
      expect(tableRow(metrics, 'ROC AUC').slice(0, 3)).toEqual(['ROC AUC', (m.roc_auc as number).toFixed(4), 'higher']);
      expect(tableRow(metrics, 'Log loss').slice(0, 3)).toEqual(['Log loss', (m.log_loss as number).toFixed(4), 'lower']);
      // The gate of ml.yaml's compare, beside the metric it is about.
      expect(tableRow(metrics, 'ROC AUC')[4]).toBe('min 0.8000, max\\_drop 0.0100');
    });

    it('records the lineage: commit, hashes, versions, and who registered it', () => {
      const card = modelCard(churnInput);
      const lineage = section(card, 'Lineage');
      const recorded = churn.artifact.lineage as { source: { commit: string }; mlYaml: { sha256: string }; data: { sha256: string } };
      expect(recorded.source.commit).toBe(commit);
      expect(lineage).toContain(`- Source commit: \`${commit}\`, committed 2024-05-06T05:08:09.000Z.`);
      expect(lineage).toContain('- Work tree: clean;');
      expect(lineage).toContain(recorded.mlYaml.sha256);
      expect(lineage).toContain(recorded.data.sha256);
      expect(lineage).toContain('- Trained with Bramble test on Node test.');
      // The one Markdown kit escapes @ (no mention in a PR comment); rendered, the card shows <ada@example.com>.
      expect(lineage).toContain(`- Registered by Ada Lovelace \\<ada\\@example.com\\> at 2026-11-24T09:00:00.000Z, on commit \`${commit}\`.`);
    });

    it('states data, parameters, signature and limits from the artifact and ml.yaml', () => {
      const card = modelCard(churnInput);
      const heldOut = metricsOf(churn.artifact).rows as number;
      expect(section(card, 'Data')).toContain(`- Split: ${7043 - heldOut} rows for training, ${heldOut} held out (20.0%), stratified by the target, by a hash of each row's identity with seed 7.`);
      expect(section(card, 'Data')).toContain('- Target: `Churn`; id column: `customerID` (never a feature).');
      expect(tableRow(section(card, 'Parameters'), 'trees')).toEqual(['trees', '200']);
      expect(tableRow(section(card, 'Parameters'), 'maxDepth')).toEqual(['maxDepth', '12']);
      expect(tableRow(section(card, 'Signature'), 'Contract')).toEqual([
        'Contract',
        'text',
        'Month-to-month, One year, Two year; others count as none of them',
        'passed to the trees as missing',
      ]);
      // The median of the training rows' TotalCharges, as the fitted features saved it.
      const steps = (churn.artifact.features as { steps: { kind: string; column: string; value?: number }[] }).steps;
      const median = steps.find((s) => s.kind === 'impute' && s.column === 'TotalCharges')?.value;
      expect(median).toBeGreaterThan(1000);
      expect(tableRow(section(card, 'Signature'), 'TotalCharges')[3]).toBe(`replaced by ${median?.toFixed(4)} (median)`);
      const limits = section(card, 'Limits');
      expect(limits).toContain(`- Trained on ${7043 - heldOut} rows from one file (\`data/churn.csv\``);
      expect(limits).toContain(`one held-out split of ${heldOut} rows (seed 7); no confidence intervals`);
      expect(limits).toContain('they count as drifted when at least 50.0% of the columns drift, and live roc\\_auc must stay ≥ 0.7800 (a window under 100 rows never alerts). On alert: issue, retrain.');
      // What ml.yaml asks of the monitor, and what runs it.
      expect(limits).toContain('Monitoring (ml.yaml, checked by `bramble monitor` and the scheduled monitor action or job): on schedule `0 6 * * *` (UTC), per window of `1d`');
      expect(limits).toContain('Retrained on schedule `0 3 * * 1` (UTC) whatever the monitor finds.');
      expect(modelCard({ ...churnInput, config: undefined })).toContain('ml.yaml was not available');
    });

    it('escapes a | in a value, so that every table keeps its columns', () => {
      const card = modelCard(regInput);
      expect(tableRow(section(card, 'Signature'), 'sex')[2]).toBe('one\\|1, two\\|2; others count as none of them');
      expect(card).not.toMatch(/[^\\]\|1/);
      for (const doc of [card, trainingReport(regInput)]) {
        for (const widths of tableWidths(doc)) expect(new Set(widths).size).toBe(1);
      }
    });

    it('gives a regression model RMSE, MAE and R², and its prediction range', () => {
      const card = modelCard(regInput);
      const m = metricsOf(reg.artifact);
      const metrics = section(card, 'Metrics');
      expect(tableRow(metrics, 'RMSE')[1]).toBe((m.rmse as number).toFixed(4));
      expect(tableRow(metrics, 'MAE')[1]).toBe((m.mae as number).toFixed(4));
      expect(tableRow(metrics, 'R²')[1]).toBe((m.r2 as number).toFixed(4));
      expect(metrics).not.toContain('ROC AUC');
      expect(section(card, 'Limits')).toContain("they never leave 25 to 346, the target's range in the training file.");
      expect(section(card, 'Limits')).toContain('No monitoring is configured in ml.yaml');
      expect(section(card, 'Lineage')).toContain('- Source: not a git commit');
    });

    it('marks a model trained from uncommitted changes', () => {
      const artifact = structuredClone(churn.artifact);
      const source = (artifact.lineage as { source: Json }).source;
      source.dirty = true;
      source.changes = ['ml.yaml', 'data/churn.csv'];
      const card = modelCard({ ...churnInput, artifact });
      expect(section(card, 'Lineage')).toContain('- Work tree: **dirty** (changed: ml.yaml, data/churn.csv); sha256');
      expect(section(card, 'Limits')).toContain('trained from a work tree with uncommitted changes');
      expect(section(modelCard(churnInput), 'Limits')).not.toContain('uncommitted');
    });

    it('shows a metric the held-out rows cannot define as n/a, with the reason', () => {
      const artifact = structuredClone(reg.artifact);
      const m = metricsOf(artifact);
      m.r2 = null;
      m.reasons = { r2: 'undefined: every one of the held-out targets is 7' };
      expect(tableRow(section(modelCard({ ...regInput, artifact }), 'Metrics'), 'R²')).toEqual(['R²', 'n/a', 'higher', 'undefined: every one of the held-out targets is 7']);
    });
  });

  describe('training report', () => {
    it("has the classification sections, the artifact's confusion matrix and calibration bins", () => {
      const report = trainingReport(churnInput);
      const headings = report.split('\n').filter((l) => l.startsWith('## '));
      expect(headings).toEqual(CARD.reportSections.filter((s) => s !== 'Residuals').map((s) => `## ${s}`));
      const m = metricsOf(churn.artifact) as { confusion: { matrix: number[][] }; calibration: { bins: { count: number }[] } };
      const confusion = section(report, 'Confusion matrix');
      expect(tableRow(confusion, 'No')).toEqual(['No', ...m.confusion.matrix[0].map(String)]);
      expect(tableRow(confusion, 'Yes')).toEqual(['Yes', ...m.confusion.matrix[1].map(String)]);
      expect(tableRow(section(report, 'Calibration'), '[0.0, 0.1]')[1]).toBe(String(m.calibration.bins[0].count));
    });

    it('lists every feature importance, most important first', () => {
      const report = trainingReport(churnInput);
      const rows = section(report, 'Feature importances')
        .split('\n')
        .filter((l) => /^\| \d+ \|/.test(l))
        .map(splitCells);
      const outputs = (churn.artifact.features as { outputs: string[] }).outputs;
      const importances = (churn.artifact.estimator as { importances: number[] }).importances;
      expect(rows).toHaveLength(outputs.length);
      expect(rows.map((r) => r[1]).sort()).toEqual([...outputs].sort());
      const values = rows.map((r) => Number(r[2]));
      expect(values).toEqual([...values].sort((a, b) => b - a));
      expect(rows[0][2]).toBe(Math.max(...importances).toFixed(4));
    });

    it('summarises validation and the data profile', () => {
      const report = trainingReport(churnInput);
      const validation = section(report, 'Validation');
      const s = churn.validation.statistics;
      expect(validation).toContain(`${s.evaluated} checks, ${s.successful} passed, 0 failed: valid.`);
      const valuesRules = churn.validation.results.filter((r) => r.rule === 'values').length;
      expect(valuesRules).toBeGreaterThan(0);
      expect(tableRow(validation, 'values')).toEqual(['values', String(valuesRules), '0']);
      const profile = section(report, 'Data profile');
      expect(tableRow(profile, 'Churn')).toEqual(['Churn', 'target', 'category', '0', 'No 5174, Yes 1869']);
      expect(tableRow(profile, 'customerID')).toEqual(['customerID', 'id', 'string', '0', '7043 distinct']);
      expect(tableRow(profile, 'TotalCharges')[3]).toBe('11 (0.2%)');
      expect(trainingReport({ ...churnInput, validation: undefined })).toContain('No validation result was recorded with this version.');
    });

    it('lists failing validation rules', () => {
      const failing: ValidationResult = {
        ...churn.validation,
        success: false,
        statistics: { ...churn.validation.statistics, successful: churn.validation.statistics.successful - 1, failed: 1 },
        results: churn.validation.results.map((r) =>
          r.column === 'tenure' && r.rule === 'range' ? { ...r, success: false, unexpectedCount: 3, unexpectedLines: [3, 4, 5], message: 'tenure out of range' } : r,
        ),
      };
      const validation = section(trainingReport({ ...churnInput, validation: failing }), 'Validation');
      expect(validation).toContain('1 failed: **NOT valid**.');
      expect(tableRow(validation, 'range')).toEqual(['range', '3', '1']);
      expect(tableRow(validation, 'tenure')).toEqual(['tenure', 'range', 'between 0 and 72', '3', '3, 4, 5']);
      expect(section(modelCard({ ...churnInput, validation: failing }), 'Limits')).toContain('The data failed 1 validation check at registration.');
    });

    it('gives a regression model a residual summary and no confusion matrix', () => {
      const report = trainingReport(regInput);
      const m = metricsOf(reg.artifact);
      expect(report).not.toContain('## Confusion matrix');
      expect(report).not.toContain('## Calibration');
      const residuals = section(report, 'Residuals');
      expect(residuals).toContain(`RMSE ${(m.rmse as number).toFixed(4)}, MAE ${(m.mae as number).toFixed(4)}.`);
      const samples = reg.artifact.samples as { rows: Json[]; scores: number[] };
      const first = tableRow(residuals, '1');
      expect(first).toEqual([
        '1',
        String(samples.rows[0].target),
        samples.scores[0].toFixed(4),
        ((samples.rows[0].target as number) - samples.scores[0]).toFixed(4),
      ]);
      expect(tableRow(section(report, 'Metrics'), 'R²')[1]).toBe((m.r2 as number).toFixed(4));
    });
  });

  describe('metricsRecord', () => {
    it('holds exactly the finite metrics, named as the evaluation names them', () => {
      const m = metricsOf(churn.artifact);
      expect(metricsRecord(churn.artifact)).toStrictEqual({
        accuracy: m.accuracy,
        precision: m.precision,
        recall: m.recall,
        f1: m.f1,
        roc_auc: m.roc_auc,
        log_loss: m.log_loss,
      });
      const r = metricsOf(reg.artifact);
      expect(metricsRecord(reg.artifact)).toStrictEqual({ rmse: r.rmse, mae: r.mae, r2: r.r2 });
    });

    it('leaves out a metric that is null', () => {
      const artifact = structuredClone(reg.artifact);
      metricsOf(artifact).r2 = null;
      metricsOf(artifact).reasons = { r2: 'undefined' };
      expect(Object.keys(metricsRecord(artifact))).toEqual(['rmse', 'mae']);
    });
  });

  it('gives the same bytes for the same input, however the artifact object was built', () => {
    const copy = { ...churnInput, artifact: JSON.parse(JSON.stringify(churn.artifact)) as Json };
    expect(modelCard(copy)).toBe(modelCard(churnInput));
    expect(trainingReport(copy)).toBe(trainingReport(churnInput));
    expect(JSON.stringify(metricsRecord(copy.artifact))).toBe(JSON.stringify(metricsRecord(churn.artifact)));
    expect(modelCard(regInput)).toBe(modelCard(regInput));
  });

  it('refuses an artifact that is not a model, naming the field', () => {
    const artifact = structuredClone(churn.artifact);
    delete artifact.signature;
    expect(() => modelCard({ ...churnInput, artifact })).toThrow('model.json#/signature: is missing');
    expect(() => metricsRecord(artifact)).toThrow(expect.objectContaining({ code: 'E_ARTIFACT' }));
  });
});
