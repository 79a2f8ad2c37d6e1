// A model trained from the feature store: the features-repo template ingested into a real git repository, a model
// repository beside it whose ml.yaml takes data.store, `bramble run`'s pipeline joining the views point in time,
// the lineage naming the manifest versions, and a rebuild at those versions giving the same artifact after a
// newer batch arrived. Also: the template's workflow runs on features.yaml's cron.
import { cpSync, existsSync, mkdirSync, readdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateArtifact } from '../src/model/artifact-schema.js';
import { runPipeline, type RunOptions } from '../src/pipeline/run.js';
import { ingest } from '../src/store/ingest.js';
import { loadFeatureRepo } from '../src/store/spec.js';
import { storeVersions } from '../src/store/training-data.js';
import { rejected } from './helpers/data.js';
import { bramble } from './helpers/cli.js';
import { commitAll, git } from './helpers/model-repo.js';

const TEMPLATE = join(import.meta.dirname, '../templates/features-repo');

const ML_YAML = `name: churn-from-store
task: classification
data:
  train: data/labels.csv
  target: Churn
  id: customerID
  store: { repo: ../customer-features, event_time: at, views: [billing, usage] }
schema:
  columns:
    Churn: { type: category, values: ['Yes', 'No'] }
    MonthlyCharges: { type: number, min: 0 }
    tenure: { type: integer, min: 0, nullable: true }
    support_calls: { type: integer, min: 0, nullable: true }
features:
  - impute: { tenure: median, support_calls: median }
  - onehot: [Contract, PaymentMethod, PaperlessBilling, InternetService, StreamingTV, StreamingMovies, TechSupport]
model:
  type: random-forest
  params: { trees: 10 }
  seed: 7
split: { test: 0.25, seed: 7 }
`;

let parent: string;
let features: string;
let model: string;
const env = { GIT_COMMITTER_NAME: 'Ingest Bot', GIT_COMMITTER_EMAIL: 'bot@example.com' };
const options: RunOptions = { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' }, env };

function init(dir: string): void {
  git(dir, 'init', '-q', '-b', 'main');
  commitAll(dir, 'initial');
}

async function artifactOf(runOptions: RunOptions): Promise<{ text: string; json: Record<string, unknown> & { sha256: string } }> {
  const result = await runPipeline(model, runOptions);
  if (!result.artifact) throw new Error(`the model did not train: ${JSON.stringify(result.validation.results.filter((r) => !r.success))}`);
  const text = readFileSync(result.artifact.path, 'utf8');
  return { text, json: JSON.parse(text) as Record<string, unknown> & { sha256: string } };
}

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'bramble-store-training-'));
  features = join(parent, 'customer-features');
  cpSync(TEMPLATE, features, { recursive: true });
  init(features);
  const repo = await loadFeatureRepo(features, { env });
  await ingest(repo, { env, now: () => new Date('2026-12-01T02:00:00Z') });
  model = join(parent, 'churn');
  mkdirSync(join(model, 'data'), { recursive: true });
  writeFileSync(join(model, 'ml.yaml'), ML_YAML);
  cpSync(join(TEMPLATE, 'data/labels.csv'), join(model, 'data/labels.csv'));
  writeFileSync(join(model, '.gitignore'), '.bramble/\n');
  init(model);
});
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('a training set from the feature store', () => {
  it('trains, and records the views, their versions and sha256 in a schema-valid lineage', async () => {
    const { text, json } = await artifactOf(options);
    expect(() => validateArtifact(JSON.parse(text), 'model.json')).not.toThrow();
    const data = (json.lineage as { data: Record<string, unknown> }).data;
    expect(data).toMatchObject({ path: 'data/labels.csv', rows: 600 });
    const store = data.store as { repo: string; views: { view: string; versions: { version: string; sha256: string }[]; matched: number }[] };
    expect(store.repo).toBe('../customer-features');
    expect(store.views.map((v) => [v.view, v.versions.map((x) => x.version), v.matched])).toEqual([
      ['billing', ['2026.12.01'], 600],
      ['usage', ['2026.12.01'], 600],
    ]);
    const manifest = JSON.parse(readFileSync(join(features, 'manifests/billing/2026.12.01.json'), 'utf8')) as { sha256: string };
    expect(store.views[0].versions[0].sha256).toBe(manifest.sha256);
    // The set's columns: the entity table's, then the views' (with the view's derived column).
    const signature = (json.signature as { inputs: { name: string }[] }).inputs.map((i) => i.name);
    expect(signature).toEqual(expect.arrayContaining(['MonthlyCharges', 'charge_ratio', 'tenure', 'support_calls', 'Contract']));
  });

  it('rebuilds the same artifact from the recorded versions after a newer batch, and a different one without them', async () => {
    const first = await artifactOf(options);
    // A late correction for 40 customers: usage as of 2026-11-18, before every label's event time.
    const lines = readFileSync(join(features, 'data/usage.csv'), 'utf8').trim().split('\n');
    const late = lines.slice(1, 81).filter((_, i) => i % 2 === 1).map((l) => l.replace('2026-11-15T00:00:00Z', '2026-11-18T00:00:00Z').replace(/,\d+$/, ',9'));
    writeFileSync(join(features, 'data/usage.csv'), `${[...lines, ...late].join('\n')}\n`);
    commitAll(features, 'a late usage batch');
    const repo = await loadFeatureRepo(features, { env });
    const outcome = await ingest(repo, { env, now: () => new Date('2026-12-02T02:00:00Z') }, { views: ['usage'] });
    expect(outcome.views).toMatchObject([{ view: 'usage', status: 'ingested', version: '2026.12.02' }]);

    const now = await artifactOf(options);
    expect(now.json.sha256).not.toBe(first.json.sha256);
    const versions = storeVersions(first.json);
    expect(versions).toEqual({ versions: { billing: ['2026.12.01'], usage: ['2026.12.01'] } });
    const rebuilt = await artifactOf({ ...options, store: versions });
    expect(rebuilt.json.sha256).toBe(first.json.sha256);
    expect(rebuilt.text).toBe(first.text);
  });

  it('refuses a features repository that is neither inside the model repository nor beside it', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'bramble-model-'));
    try {
      writeFileSync(join(elsewhere, 'ml.yaml'), ML_YAML.replace('../customer-features', '../../etc'));
      const err = await rejected(runPipeline(elsewhere, options));
      expect(err).toMatchObject({ code: 'E_DATA_PATH' });
      expect((err as Error).message).toContain('data.store.repo is "../../etc", which is neither inside the model repository nor beside it');
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('bramble register and reproduce, through the CLI', () => {
  it('registers a model trained from the store, and reproduces it identically after a newer batch arrived', async () => {
    const sandbox = mkdtempSync(join(tmpdir(), 'bramble-store-cli-'));
    try {
      const featuresDir = join(sandbox, 'customer-features');
      cpSync(TEMPLATE, featuresDir, { recursive: true });
      init(featuresDir);
      // The store is a host folder named by BRAMBLE_STORE, as on the runner: every command below must honour it.
      const hostStore = join(sandbox, 'host-store');
      const withStore = { env: { BRAMBLE_STORE: hostStore } };
      expect(bramble(['ingest', '.'], { cwd: featuresDir, ...withStore }).status).toBe(0);
      expect(readdirSync(join(hostStore, 'billing'))).toHaveLength(1);
      expect(existsSync(join(featuresDir, '.bramble'))).toBe(false);
      const modelDir = join(sandbox, 'churn');
      mkdirSync(join(modelDir, 'data'), { recursive: true });
      writeFileSync(join(modelDir, 'ml.yaml'), ML_YAML.replace('name: churn-from-store', 'name: churn'));
      cpSync(join(TEMPLATE, 'data/labels.csv'), join(modelDir, 'data/labels.csv'));
      writeFileSync(join(modelDir, '.gitignore'), '.bramble/\n');
      init(modelDir);
      expect(bramble(['validate', modelDir], withStore).status).toBe(0);
      const registered = bramble(['register', '--dir', modelDir], withStore);
      expect(registered.status).toBe(0);
      expect(registered.stdout).toMatch(/^registered churn@v1\.0\.0 on [0-9a-f]{7}/);

      // A newer usage batch, with values before every label's time: the current set differs, the recorded one not.
      const usage = join(featuresDir, 'data/usage.csv');
      writeFileSync(usage, `${readFileSync(usage, 'utf8')}7590-VHVEG,2026-11-19T00:00:00Z,3,DSL,No,No,No,9\n`);
      commitAll(featuresDir, 'a newer usage batch');
      const ingested = bramble(['ingest', '.', '--json'], { cwd: featuresDir, ...withStore });
      expect(JSON.parse(ingested.stdout).views).toEqual(expect.arrayContaining([expect.objectContaining({ view: 'usage', status: 'ingested' })]));

      const same = bramble(['reproduce', 'churn@v1.0.0', '--dir', modelDir], withStore);
      expect(same.stderr).toBe('');
      expect(same.stdout).toMatch(/^identical: churn@v1\.0\.0 retrained from [0-9a-f]{7} gives the registered artifact/);
      expect(same.status).toBe(0);
    } finally {
      rmSync(sandbox, { recursive: true, force: true });
    }
  });
});

describe('the features-repo template', () => {
  it("runs its workflow on features.yaml's ingest schedule, then materializes the host's online store", () => {
    const features = parse(readFileSync(join(TEMPLATE, 'features.yaml'), 'utf8')) as { ingest: { schedule: string } };
    const workflow = parse(readFileSync(join(TEMPLATE, '.github/workflows/ingest.yml'), 'utf8')) as { on: { schedule: { cron: string }[] }; jobs: { ingest: { steps: { run?: string }[] } } };
    expect(workflow.on.schedule).toEqual([{ cron: features.ingest.schedule }]);
    expect(workflow.jobs.ingest.steps.map((s) => s.run).filter(Boolean)).toEqual(['bramble ingest .', 'git push origin "HEAD:${GITHUB_REF_NAME}"', 'bramble materialize .']);
  });

  it('has sample data that `node scripts/features-sample.mjs` writes', () => {
    const billing = readFileSync(join(TEMPLATE, 'data/billing.csv'), 'utf8').trim().split('\n');
    expect(billing[0]).toBe('customerID,billed_at,loaded_at,MonthlyCharges,TotalCharges,Contract,PaymentMethod,PaperlessBilling');
    expect(billing).toHaveLength(1801);
  });
});
