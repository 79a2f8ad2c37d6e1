// ml.yaml: the template loads into the typed config, every bad document is rejected with an exact message that
// points at the line, and the schema, its examples and the generated docs agree.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import schema from '../schemas/ml.schema.json' with { type: 'json' };
import { ConfigError, loadMlYaml, ML_YAML, readMlYaml } from '../src/config/ml-yaml.js';
import { CLASSIFICATION_METRICS, REGRESSION_METRICS } from '../src/model/metric-names.js';
import type { MlConfig } from '../src/config/ml-yaml.js';
import { resolveForestParams } from '../src/model/forest/options.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TEMPLATE = join(ROOT, 'templates/model-repo/ml.yaml');
const CHURN_CSV = join(ROOT, 'templates/model-repo/data/churn.csv');

/** The smallest valid document; cases below append to it. Line 9 is the first line after it. */
const HEAD = `name: churn
task: classification
data:
  train: data/churn.csv
  target: Churn
  id: customerID
model:
  type: random-forest
`;

function loadError(text: string, file?: string): ConfigError {
  try {
    loadMlYaml(text, file);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the document to be rejected');
}

describe('loadMlYaml on valid documents', () => {
  it('loads the template into the typed config', () => {
    const config: MlConfig = loadMlYaml(readFileSync(TEMPLATE, 'utf8'));
    expect(config).toMatchObject({
      name: 'churn',
      task: 'classification',
      data: { train: 'data/churn.csv', target: 'Churn', id: 'customerID' },
      schema: {
        rows: { min: 1000 },
        columns: {
          customerID: { type: 'string', regex: '^\\d{4}-[A-Z]{5}$', unique: true, nullable: false },
          tenure: { type: 'integer', min: 0, max: 72, nullable: false, unique: false },
          TotalCharges: { type: 'number', min: 0, nullable: true },
        },
      },
      features: [{ impute: { TotalCharges: 'median' } }, { onehot: expect.arrayContaining(['Contract', 'PaymentMethod']) }],
      model: {
        type: 'random-forest',
        params: {
          trees: 200,
          maxDepth: 12,
          minSamplesSplit: 2,
          minSamplesLeaf: 10,
          bootstrap: true,
          maxSamples: null,
          classWeight: null,
          maxBins: 255,
        },
        seed: 7,
      },
      split: { test: 0.2, stratify: true, seed: 7 },
      metrics: ['roc_auc', 'f1', 'accuracy', 'log_loss'],
      compare: { against: 'prod', gates: { roc_auc: { min: 0.8, max_drop: 0.01 } } },
      environments: {
        dev: { branch: 'develop', approval: false },
        staging: { branch: 'staging', approval: false },
        prod: { branch: 'main', approval: true },
      },
      monitor: {
        schedule: '0 6 * * *',
        drift: { share: 0.5 },
        performance: { metric: 'roc_auc', min: 0.78 },
        on_alert: ['issue', 'retrain'],
      },
    });
    expect(config.model.params.maxFeatures).toBeUndefined();
  });

  it('describes churn.csv exactly: every column, every category label, the ranges and the blanks', () => {
    const config = loadMlYaml(readFileSync(TEMPLATE, 'utf8'));
    const columns = config.schema?.columns ?? {};
    const [header, ...lines] = readFileSync(CHURN_CSV, 'utf8').trimEnd().split('\n');
    const names = header.split(',');
    const rows = lines.map((line) => line.split(','));
    expect(Object.keys(columns)).toEqual(names);
    expect(rows.length).toBeGreaterThanOrEqual(config.schema?.rows?.min ?? 0);
    names.forEach((name, c) => {
      const spec = columns[name];
      const cells = rows.map((r) => r[c]);
      const present = cells.filter((v) => v.trim() !== '');
      expect({ name, nullable: spec.nullable }).toEqual({ name, nullable: present.length < cells.length });
      if (spec.type === 'category') expect({ name, values: new Set(present) }).toEqual({ name, values: new Set(spec.values) });
      if (spec.type === 'integer' || spec.type === 'number') {
        const numbers = present.map(Number);
        expect({ name, allNumbers: numbers.every(Number.isFinite) }).toEqual({ name, allNumbers: true });
        if (spec.type === 'integer') expect({ name, integers: numbers.every(Number.isInteger) }).toEqual({ name, integers: true });
        if (spec.min !== undefined) expect(Math.min(...numbers)).toBeGreaterThanOrEqual(spec.min);
        if (spec.max !== undefined) expect(Math.max(...numbers)).toBeLessThanOrEqual(spec.max);
      }
      if (spec.regex !== undefined) expect(present.every((v) => new RegExp(spec.regex ?? '').test(v))).toBe(true);
      if (spec.unique) expect(new Set(present).size).toBe(present.length);
    });
  });

  it('fills in every default the schema gives, and the metrics by task', () => {
    const expected: MlConfig = {
      name: 'churn',
      task: 'classification',
      data: { train: 'data/churn.csv', target: 'Churn', id: 'customerID', skip_missing_target: false },
      features: [],
      model: {
        type: 'random-forest',
        params: {
          trees: 100,
          maxDepth: null,
          minSamplesSplit: 2,
          minSamplesLeaf: 1,
          bootstrap: true,
          maxSamples: null,
          classWeight: null,
          maxBins: 255,
        },
        seed: 0,
      },
      split: { test: 0.2, stratify: false, seed: 0 },
      metrics: ['roc_auc', 'f1', 'accuracy'],
      environments: {},
    };
    expect(loadMlYaml(HEAD)).toEqual(expected);
    const regression = loadMlYaml('name: prices\ntask: regression\ndata: { train: houses.json, target: price }\nmodel: { type: random-forest }\n');
    expect(regression.metrics).toEqual(['rmse', 'mae', 'r2']);
  });

  it('loads a document that uses every kind of feature step and every optional key', () => {
    const text = `${HEAD}  params: { maxFeatures: 0.5, maxSamples: 0.8, classWeight: balanced }
schema:
  rows: { min: 10, max: 100000 }
  columns:
    plan: { type: category, values: [basic, pro], nullable: true }
    code: { type: string, regex: "^[a-z]+$" }
    active: { type: boolean }
features:
  - impute: { tenure: mean, plan: { constant: basic } }
  - derive: { charge_per_month: "d => d.TotalCharges / (d.tenure + 1)" }
  - bucketize: { tenure: [12, 24, 48] }
  - standardize: [MonthlyCharges]
  - minmax: [charge_per_month]
  - onehot: [plan]
  - drop: [code]
split: { test: 0.25, by: signup_date }
metrics: [accuracy, precision, recall]
compare:
  against: prod
  gates:
    accuracy: { min: 0.7, max: 1, max_drop: 0.02, max_rise: 0.5 }
environments:
  prod: { branch: main }
monitor:
  schedule: "*/15 * * * 1-5"
  performance: { metric: accuracy, min: 0.6, max: 1 }
`;
    const config = loadMlYaml(text);
    expect(config.features.map((step) => Object.keys(step)[0])).toEqual(['impute', 'derive', 'bucketize', 'standardize', 'minmax', 'onehot', 'drop']);
    expect(config.split).toEqual({ test: 0.25, by: 'signup_date', stratify: false, seed: 0 });
    expect(config.monitor).toEqual({
      schedule: '*/15 * * * 1-5',
      window: '1d',
      min_rows: 100,
      drift: { share: 0.5 },
      performance: { metric: 'accuracy', min: 0.6, max: 1 },
      on_alert: ['issue'],
    });
    expect(config.model.params).toMatchObject({ maxFeatures: 0.5, maxSamples: 0.8, classWeight: 'balanced' });
  });
});

describe('loadMlYaml on bad documents', () => {
  it.each([
    ['malformed YAML', 'name: churn\ntask: [classification\ndata:\n  train: data/churn.csv\n',
      'ml.yaml:3:1: YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    ['a duplicate key', `${HEAD}task: regression\n`,
      'ml.yaml:9:1: YAML syntax: duplicate key "task"; a key may appear once in a mapping'],
    ['an empty file', '', 'ml.yaml:1:1: is empty; an ml.yaml needs at least the keys name, task, data and model'],
    ['a list instead of a mapping', '- churn\n',
      'ml.yaml:1:1: must be a mapping (got a list); an ml.yaml needs at least the keys name, task, data and model'],
    ['an unknown top-level key', `${HEAD}metric: [f1]\n`, 'ml.yaml:9:1 metric: unknown key "metric"; did you mean "metrics"?'],
    ['an unknown nested key', `${HEAD}  params:\n    tres: 200\n`,
      'ml.yaml:10:5 model.params.tres: unknown key "tres"; did you mean "trees"?'],
    ['an unknown key with nothing close', `${HEAD}  params: { random_state: 7 }\n`,
      'ml.yaml:9:13 model.params.random_state: unknown key "random_state"; allowed: trees, maxDepth, minSamplesSplit, minSamplesLeaf, maxFeatures, bootstrap, maxSamples, classWeight, maxBins'],
    ['an unknown feature step', `${HEAD}features:\n  - one_hot: [Contract]\n`,
      'ml.yaml:10:5 features[0].one_hot: unknown key "one_hot"; did you mean "onehot"?'],
    ['an unknown gate metric', `${HEAD}compare:\n  against: prod\n  gates:\n    rocauc: { min: 0.8 }\nenvironments:\n  prod: { branch: main }\n`,
      'ml.yaml:12:5 compare.gates.rocauc: unknown key "rocauc"; did you mean "roc_auc"?'],
    ['a wrong type', `${HEAD}  params:\n    trees: lots\n`,
      'ml.yaml:10:12 model.params.trees: must be an integer from 1 to 100000 (got "lots")'],
    ['an empty value', `${HEAD}  params:\n    trees:\n`, 'ml.yaml:10:5 model.params.trees: must be an integer from 1 to 100000 (got null)'],
    ['a yes that YAML 1.2 reads as a string', `${HEAD}environments:\n  prod: { branch: main, approval: yes }\n`,
      'ml.yaml:10:35 environments.prod.approval: must be true or false (got "yes")'],
    ['a value no alternative accepts', `${HEAD}  params: { maxFeatures: 1.5 }\n`,
      'ml.yaml:9:26 model.params.maxFeatures: must be "sqrt", "log2", "all", a number > 0 and < 1 or an integer ≥ 1 (got 1.5)'],
    ['a value inside the alternative it was meant for', `${HEAD}  params: { classWeight: { "Yes": -1 } }\n`,
      'ml.yaml:9:35 model.params.classWeight.Yes: must be a number > 0 (got -1)'],
    ['a missing required key', 'name: churn\ntask: classification\ndata:\n  train: data/churn.csv\nmodel:\n  type: random-forest\n',
      'ml.yaml:3:1 data: missing required key "target"'],
    ['a bad enum value', 'name: churn\ntask: clasification\ndata: { train: data/churn.csv, target: Churn }\nmodel: { type: random-forest }\n',
      'ml.yaml:2:7 task: must be "classification" or "regression" (got "clasification"); did you mean "classification"?'],
    ['a bad enum value in a list', `${HEAD}metrics: [roc_auc, auc]\n`,
      'ml.yaml:9:20 metrics[1]: must be one of "roc_auc", "f1", "accuracy", "precision", "recall", "log_loss", "rmse", "mae", "r2" (got "auc")'],
    ['a window in weeks', `${HEAD}monitor: { schedule: "0 6 * * *", window: 2w }\n`,
      'ml.yaml:9:43 monitor.window: must be a whole number of minutes, hours or days, such as "1d", "6h" or "30m" (got "2w")'],
    ['a retrain block without its schedule', `${HEAD}monitor: { schedule: "0 6 * * *", retrain: {} }\n`,
      'ml.yaml:9:35 monitor.retrain: missing required key "schedule"'],
    ['a pattern', `${HEAD}monitor: { schedule: daily, on_alert: [email] }\n`,
      'ml.yaml:9:22 monitor.schedule: must be a cron expression with five fields, such as "0 6 * * *" (got "daily")\n' +
      'ml.yaml:9:40 monitor.on_alert[0]: must be "issue" or "retrain" (got "email")'],
    ['a bad environment name', `${HEAD}environments:\n  Prod: { branch: main }\n`,
      'ml.yaml:10:3 environments.Prod: the name must be lower-case letters, digits and dashes, starting with a letter, at most 32 characters, not ending in -canary or -shadow (the release roles\' stages) (got "Prod")'],
    ['an environment named as a role stage', `${HEAD}environments:\n  prod-canary: { branch: main }\n`,
      'ml.yaml:10:3 environments.prod-canary: the name must be lower-case letters, digits and dashes, starting with a letter, at most 32 characters, not ending in -canary or -shadow (the release roles\' stages) (got "prod-canary")'],
    ['a canary weight over 1', `${HEAD}environments:\n  prod: { branch: main, canary: { weight: 1.5 } }\n`,
      'ml.yaml:10:43 environments.prod.canary.weight: must be a number from 0 to 1 (got 1.5)'],
    ['a canary stuck to nothing', `${HEAD}environments:\n  prod: { branch: main, canary: { weight: 0.1, sticky: cookie } }\n`,
      'ml.yaml:10:56 environments.prod.canary.sticky: must be id, or header: followed by a header name, such as header:X-Client-Id (got "cookie")'],
    ['a repeated list item', `${HEAD}metrics: [f1, f1]\n`, 'ml.yaml:9:15 metrics[1]: lists "f1" twice; each may appear once'],
    ['two kinds in one feature step', `${HEAD}features:\n  - impute: { TotalCharges: median }\n    onehot: [Contract]\n`,
      'ml.yaml:10:5 features[0]: has 2 keys (impute, onehot); each step has exactly one, so make each its own list item'],
    ['a bad imputation', `${HEAD}features:\n  - impute: { TotalCharges: average }\n`,
      'ml.yaml:10:29 features[0].impute.TotalCharges: must be "mean", "median", "mode" or a mapping { constant: … } (got "average")'],
    ['several problems, one per line in document order',
      'nme: churn\ntask: classification\ndata:\n  train: data/churn.xlsx\n  target: Churn\nmodel:\n  type: random-forest\n' +
      '  params: { trees: 0, maxDepth: deep }\n  seed: -1\nsplit: { test: 1.5, stratify: "yes" }\n',
      [
        'ml.yaml:1:1: missing required key "name"',
        'ml.yaml:1:1 nme: unknown key "nme"; did you mean "name"?',
        'ml.yaml:4:10 data.train: must be a path ending in .csv, .json, .arrow, .feather, .ipc, .arrows or .parquet (got "data/churn.xlsx")',
        'ml.yaml:8:20 model.params.trees: must be an integer from 1 to 100000 (got 0)',
        'ml.yaml:8:33 model.params.maxDepth: must be an integer from 1 to 1000 or null (got "deep")',
        'ml.yaml:9:9 model.seed: must be an integer from 0 to 4294967295 (got -1)',
        'ml.yaml:10:16 split.test: must be a number > 0 and < 1 (got 1.5)',
        'ml.yaml:10:31 split.stratify: must be true or false (got "yes")',
      ].join('\n')],
  ])('rejects %s', (_case, text, message) => {
    expect(() => loadMlYaml(text)).toThrow(message);
    expect(loadError(text)).toMatchObject({ code: 'E_CONFIG', message, data: { file: 'ml.yaml' } });
  });

  it.each([
    ['the id as the target', 'name: churn\ntask: classification\ndata: { train: a.csv, target: Churn, id: Churn }\nmodel: { type: random-forest }\n',
      'ml.yaml:3:42 data.id: is the same column as data.target ("Churn"); the id is never a feature, so it cannot be the target'],
    ['a metric of the other task', `${HEAD}metrics: [roc_auc, rmse]\n`,
      'ml.yaml:9:20 metrics[1]: "rmse" is a regression metric but task is classification; use roc_auc, f1, accuracy, precision, recall or log_loss'],
    ['the target and the id in feature steps', `${HEAD}features:\n  - onehot: [Contract, Churn]\n  - impute: { customerID: mode }\n`,
      'ml.yaml:10:24 features[0].onehot[1]: "Churn" is the target (data.target); it cannot be used as a feature\n' +
      'ml.yaml:11:15 features[1].impute.customerID: "customerID" is the id column (data.id), which is never a feature; remove it'],
    ['bucket edges out of order', `${HEAD}features:\n  - bucketize: { tenure: [12, 48, 24] }\n`,
      'ml.yaml:10:35 features[0].bucketize.tenure[2]: bucket edges must increase (24 is not above 48)'],
    ['a time split that also stratifies', `${HEAD}split: { by: signup, stratify: true }\n`,
      'ml.yaml:9:32 split.stratify: cannot be combined with split.by (a time split keeps time order); remove one of them'],
    ['a stratified regression', 'name: prices\ntask: regression\ndata: { train: data/houses.csv, target: price }\nmodel: { type: random-forest }\nsplit: { stratify: true }\n',
      'ml.yaml:5:20 split.stratify: stratifying needs classes, but task is regression; remove it'],
    ['constraints that do not fit the column',
      `${HEAD}schema:\n  rows: { min: 100, max: 10 }\n  columns:\n    Contract: { type: category, min: 0 }\n    tenure: { type: integer, min: 72, max: 0 }\n` +
      '    customerID: { type: string, regex: "([" }\n    Churn: { type: boolean, values: [Yes] }\n',
      [
        'ml.yaml:10:26 schema.rows.max: is below rows.min (100)',
        'ml.yaml:12:33 schema.columns.Contract.min: only applies to integer and number columns (this one is category)',
        'ml.yaml:13:44 schema.columns.tenure.max: is below min (72)',
        'ml.yaml:14:40 schema.columns.customerID.regex: is not a valid regular expression (Invalid regular expression: /([/: Unterminated character class)',
        'ml.yaml:15:29 schema.columns.Churn.values: only applies to category columns (this one is boolean)',
      ].join('\n')],
    ['a champion environment that does not exist', `${HEAD}compare: { against: production }\nenvironments:\n  staging: { branch: staging }\n  prod: { branch: main }\n`,
      'ml.yaml:9:21 compare.against: "production" is not an environment; use one of staging, prod'],
    ['a misspelt champion environment', `${HEAD}compare: { against: prd }\nenvironments:\n  prod: { branch: main }\n`,
      'ml.yaml:9:21 compare.against: "prd" is not an environment; did you mean "prod"?'],
    ['a champion without environments', `${HEAD}compare: { against: prod }\n`,
      'ml.yaml:9:21 compare.against: "prod" is not an environment, and none are defined; add it under environments'],
    ['a gate on a metric that is not computed', `${HEAD}metrics: [roc_auc]\ncompare:\n  against: prod\n  gates:\n    f1: { max_drop: 0.02 }\nenvironments:\n  prod: { branch: main }\n`,
      'ml.yaml:13:5 compare.gates.f1: f1 is not listed under metrics, so it is never computed; add it to metrics or remove this gate'],
    ['two environments on one branch', `${HEAD}environments:\n  staging: { branch: main }\n  prod: { branch: main }\n`,
      'ml.yaml:11:19 environments.prod.branch: branch "main" already deploys to staging; each environment needs its own branch'],
    ['a performance check without bounds', `${HEAD}monitor: { schedule: "0 6 * * *", performance: { metric: roc_auc } }\n`,
      'ml.yaml:9:35 monitor.performance: needs min, max or both (the bounds that raise an alert)'],
  ])('rejects %s, which the schema alone cannot catch', (_case, text, message) => {
    expect(loadError(text)).toMatchObject({ code: 'E_CONFIG', message });
  });

  it('names the file it was given in every problem, and keeps the problems as data', () => {
    const err = loadError(`${HEAD}metric: [f1]\nsplit: { tset: 0.2 }\n`, 'models/churn/ml.yaml');
    expect(err.message).toBe(
      'models/churn/ml.yaml:9:1 metric: unknown key "metric"; did you mean "metrics"?\n' +
        'models/churn/ml.yaml:10:10 split.tset: unknown key "tset"; did you mean "test"?',
    );
    expect(err.data).toEqual({
      file: 'models/churn/ml.yaml',
      problems: [
        { line: 9, col: 1, path: 'metric', message: 'unknown key "metric"; did you mean "metrics"?' },
        { line: 10, col: 10, path: 'split.tset', message: 'unknown key "tset"; did you mean "test"?' },
      ],
    });
  });
});

describe('readMlYaml', () => {
  it('reads the template from disk', async () => {
    await expect(readMlYaml(TEMPLATE)).resolves.toMatchObject({ name: 'churn', model: { seed: 7 } });
  });

  it('says where a repository without ml.yaml should look', async () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'bramble-ml-yaml-')), ML_YAML.file);
    await expect(readMlYaml(missing)).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: `${missing}: not found; every model repository needs an ml.yaml at its root (see templates/model-repo/ml.yaml)`,
    });
  });

  it('reports problems under the path it was given', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'bramble-ml-yaml-')), ML_YAML.file);
    writeFileSync(file, `${HEAD}  params:\n    trees: lots\n`);
    await expect(readMlYaml(file)).rejects.toThrow(`${file}:10:12 model.params.trees: must be an integer from 1 to 100000 (got "lots")`);
  });
});

describe('schemas/ml.schema.json', () => {
  interface Node {
    $ref?: string;
    description?: string;
    default?: unknown;
    examples?: unknown[];
    properties?: Record<string, Node>;
    additionalProperties?: boolean | Node;
    items?: Node;
    anyOf?: Node[];
    enum?: unknown[];
  }
  const root = schema as Node & { $id: string; $defs: Record<string, Node> };
  const resolve = (node: Node): Node => (node.$ref ? { ...root.$defs[node.$ref.replace('#/$defs/', '')], ...node } : node);

  /** Every schema node with its JSON pointer. */
  function walk(node: Node, pointer: string, out: [string, Node][] = []): [string, Node][] {
    out.push([pointer, node]);
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${pointer}/properties/${key}`, out);
    if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${pointer}/additionalProperties`, out);
    if (node.items) walk(node.items, `${pointer}/items`, out);
    node.anyOf?.forEach((branch, i) => walk(branch, `${pointer}/anyOf/${i}`, out));
    return out;
  }
  const nodes = [...walk(root, ''), ...Object.entries(root.$defs).flatMap(([name, def]) => walk(def, `/$defs/${name}`))];

  function strictAjv(): Ajv2020 {
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    ajv.addKeyword('x-expected');
    ajv.addSchema(schema);
    return ajv;
  }

  it('compiles in ajv strict mode', () => {
    expect(() => strictAjv().getSchema(root.$id)).not.toThrow();
    expect(root.$id).toBe(ML_YAML.schemaId);
  });

  it('describes every property, since the docs are made from the descriptions', () => {
    const bare = nodes.flatMap(([pointer, node]) =>
      Object.entries(node.properties ?? {})
        .filter(([, child]) => !resolve(child).description)
        .map(([key]) => `${pointer}/properties/${key}`),
    );
    expect(bare).toEqual([]);
  });

  it('accepts every example and every default it gives', () => {
    const ajv = strictAjv();
    const samples = nodes.flatMap(([pointer, node]) =>
      [...(node.examples ?? []), ...(node.default === undefined ? [] : [node.default])].map((value) => ({ pointer, value })),
    );
    expect(samples.length).toBeGreaterThan(10);
    for (const { pointer, value } of samples) {
      const validate = ajv.getSchema(`${root.$id}#${pointer}`);
      expect({ pointer, value, valid: validate?.(value) }).toEqual({ pointer, value, valid: true });
    }
  });

  it('gives the forest the same defaults as the forest itself', () => {
    const params = resolve({ $ref: '#/$defs/forestParams' }).properties ?? {};
    const fromSchema = Object.fromEntries(Object.entries(params).filter(([, p]) => p.default !== undefined).map(([k, p]) => [k, p.default]));
    const { task: _task, seed: _seed, maxFeatures: _byTask, ...forest } = resolveForestParams({});
    expect(fromSchema).toEqual(forest);
  });

  it('lists exactly the metrics the loader sorts by task', () => {
    expect(root.$defs.metric.enum).toEqual([...CLASSIFICATION_METRICS, ...REGRESSION_METRICS]);
  });
});

describe('docs/ml-yaml.md', () => {
  const script = join(ROOT, 'scripts/ml-yaml-docs.mjs');

  it('is what the generator makes from the schema', () => {
    const run = spawnSync(process.execPath, [script, '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('fails the check with a fix when it is stale', () => {
    const stale = join(mkdtempSync(join(tmpdir(), 'bramble-docs-')), 'ml-yaml.md');
    writeFileSync(stale, readFileSync(join(ROOT, 'docs/ml-yaml.md'), 'utf8').replace('How many trees to grow.', 'Trees.'));
    const run = spawnSync(process.execPath, [script, '--check', '--out', stale], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `${stale} is stale: it differs from what schemas/ml.schema.json gives. Run \`node scripts/ml-yaml-docs.mjs\` and commit the result.\n`,
    );
  });
});
