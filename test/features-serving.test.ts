// Dates and ordinal categories through the whole chain: ml.yaml → bramble run → model.json → bramble serve's model
// (one record at a time) and bramble predict (a file, in chunks). Both must give the very numbers training gave.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { predictFile } from '../src/usecases/predict.js';
import { runPipeline } from '../src/pipeline/run.js';
import { modelCard } from '../src/report/card.js';
import { trainingReport } from '../src/report/training-report.js';
import { InputError, recordSchema, ServedModel } from '../src/serve/model.js';
import type { FeaturesJSON } from '../src/features/transforms.js';

const ROWS = 1200;

/** A seeded data set: the label depends on the signup month, the route's origin and the spend. */
function makeCsv(): { csv: string; records: Record<string, unknown>[] } {
  let seed = 5;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const lines = ['id,signup,origin,destination,plan,spend,churn'];
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < ROWS; i++) {
    const t = Date.UTC(2019, 0, 1) + Math.floor(random() * 5 * 365) * 86_400_000 + Math.floor(random() * 86_400) * 1000;
    const signup = random() < 0.03 ? '' : new Date(t).toISOString().replace('.000Z', 'Z');
    const origin = `o${String(Math.floor(random() * 300)).padStart(3, '0')}`;
    const destination = random() < 0.02 ? '' : `d${Math.floor(random() * 300)}`;
    const plan = ['basic', 'plus', 'pro'][Math.floor(random() * 3)];
    const spend = Math.round(random() * 10_000) / 100;
    const month = new Date(t).getUTCMonth();
    const churn = (month < 4 ? 0.6 : 0.2) + (Number(origin.slice(1)) < 100 ? 0.2 : 0) + (spend > 50 ? -0.1 : 0.1) > random() + 0.2 ? 'yes' : 'no';
    lines.push([`c${i}`, signup, origin, destination, plan, spend, churn].join(','));
    records.push({ id: `c${i}`, signup: signup === '' ? null : signup, origin, destination: destination === '' ? null : destination, plan, spend });
  }
  return { csv: `${lines.join('\n')}\n`, records };
}

const ML_YAML = `name: routes
task: classification
data:
  train: data/routes.csv
  target: churn
  id: id
schema:
  columns:
    signup: { type: date, nullable: true }
    origin: { type: category }
    destination: { type: category, nullable: true }
features:
  - derive:
      signup_month: "d => op.month(d.signup)"
      signup_weekday: "d => op.dayofweek(d.signup)"
      signup_week: "d => op.week(d.signup)"
  - ordinal: [origin, destination]
  - onehot: [plan]
model:
  type: random-forest
  params: { trees: 15, maxDepth: 8 }
  seed: 3
`;

describe('a model with a date and two 300-label categories, served and batch-scored', () => {
  let dir = '';
  let text = '';
  let records: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bramble-features-serving-'));
    mkdirSync(join(dir, 'data'));
    const made = makeCsv();
    records = made.records;
    writeFileSync(join(dir, 'data/routes.csv'), made.csv);
    writeFileSync(join(dir, 'ml.yaml'), ML_YAML);
    const result = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
    text = readFileSync(result.artifact?.path ?? '', 'utf8');
  }, 120_000);

  it('saves the date as an input, the categories as one ordinal column each, and no date feature', () => {
    const features = (JSON.parse(text) as { features: FeaturesJSON }).features;
    expect(features.version).toBe(2);
    expect(features.inputs).toEqual([
      { name: 'signup', kind: 'date' },
      { name: 'origin', kind: 'text' },
      { name: 'destination', kind: 'text' },
      { name: 'plan', kind: 'text' },
      { name: 'spend', kind: 'number' },
    ]);
    expect(features.outputs).toEqual(['origin', 'destination', 'plan=basic', 'plan=plus', 'plan=pro', 'spend', 'signup_month', 'signup_weekday', 'signup_week']);
    const ordinal = features.steps.flatMap((s) => (s.kind === 'ordinal' ? [s] : []));
    expect(ordinal.map((s) => s.column)).toEqual(['origin', 'destination']);
    // The labels of the training rows only (about 960 of the 1,200 rows), sorted and distinct.
    for (const s of ordinal) {
      expect(s.categories.length).toBeGreaterThan(250);
      expect(s.categories.length).toBeLessThanOrEqual(300);
      expect(s.categories).toEqual([...new Set(s.categories)].sort());
    }
  });

  it('serves every row with exactly the probabilities bramble predict writes for the same file', async () => {
    const model = ServedModel.load(text, 'model.json');
    const served = model.predict(records, (i) => `row ${i + 1}`);
    let out = '';
    await predictFile({ model: join(dir, '.bramble/model.json'), data: join(dir, 'data/routes.csv') }, { write: async (t) => { out += t; } });
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('id,prediction,p_no,p_yes');
    expect(lines).toHaveLength(ROWS + 1);
    const mismatches = lines.slice(1).filter((line, i) => {
      const [, label, pNo, pYes] = line.split(',');
      return label !== served.predictions[i] || Number(pNo) !== served.probabilities?.[2 * i] || Number(pYes) !== served.probabilities?.[2 * i + 1];
    });
    expect(mismatches).toEqual([]);
  });

  it('takes a date as epoch milliseconds too, with the same result as its ISO text', () => {
    const model = ServedModel.load(text, 'model.json');
    const withText = records.slice(0, 50);
    const withMillis = withText.map((r) => ({ ...r, signup: r.signup === null ? null : Date.parse(r.signup as string) }));
    expect(model.predict(withMillis, String).probabilities).toEqual(model.predict(withText, String).probabilities);
  });

  it('answers a malformed date with an input error naming the row and the field', () => {
    const model = ServedModel.load(text, 'model.json');
    const bad = [records[0], { ...records[1], signup: '2024-02-30' }];
    let caught: unknown;
    try {
      model.predict(bad, (i) => `dataframe_records[${i}]`);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect(caught).toMatchObject({
      code: 'E_SERVE_INPUT',
      message: 'dataframe_records[1]: signup is "2024-02-30", not a date; give ISO 8601 text such as 2024-03-01 or 2024-03-01T12:30:00Z (UTC unless it gives an offset), or milliseconds since 1970 UTC, or null',
      data: { column: 'signup' },
    });
  });

  it('accepts any text in an ordinal column (unseen is missing) but only known labels in a one-hot one', () => {
    const features = (JSON.parse(text) as { features: FeaturesJSON }).features;
    const schema = recordSchema(features, new Set()) as { properties: Record<string, unknown> };
    expect(schema.properties.origin).toEqual({ type: ['string', 'null'] });
    expect(schema.properties.signup).toEqual({ type: ['string', 'number', 'null'] });
    expect(schema.properties.plan).toEqual({ enum: ['basic', 'plus', 'pro', null] });
    const model = ServedModel.load(text, 'model.json');
    const unseen = model.predict([{ ...records[0], origin: 'o999', destination: 'nowhere' }], String);
    expect(unseen.probabilities?.[0]).toBeGreaterThanOrEqual(0);
  });

  it('describes the date input and the ordinal columns in the model card', () => {
    const card = modelCard({ artifact: JSON.parse(text) as Record<string, unknown>, version: 'v1.0.0' });
    expect(card).toContain('| signup | date | a date or date-time: ISO 8601 text (UTC unless it gives an offset) or milliseconds since 1970 UTC; not a feature itself, read by derive |');
    expect(card).toMatch(/\| origin \| text \| any text; the (\d+) labels seen in training are coded 0–(\d+) in sorted order \(o000, o001, o002, …\), others count as missing \| passed to the trees as missing \|/);
    const report = trainingReport({ artifact: JSON.parse(text) as Record<string, unknown>, version: 'v1.0.0' });
    expect(report).toMatch(/\| 1 \| ordinal \| origin \| \d+ categories coded 0–\d+ in sorted order: o000, o001, o002, … \|/);
    expect(report).toMatch(/\| signup \| input \| date \| \d+ \(\d+(\.\d)?%\) \| from 2019-01-\d\dT[\d:.]+Z to 2023-12-\d\dT[\d:.]+Z \|/);
    expect(card).toContain('A category not seen in training, in `origin`, `destination`, is read as missing (the trees route it as a missing value).');
  });
});
