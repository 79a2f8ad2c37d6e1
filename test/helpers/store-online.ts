// A features repository for the online store's tests: features.yaml with two views of one entity (billing, with a
// created time and steps; usage, with on_missing: null), their sources as CSV files, batches ingested through the
// real `ingest` (partitions and manifests), and a model trained on the views' columns to serve them.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runPipeline } from '../../src/pipeline/run.js';
import { ingest, type IngestResult } from '../../src/store/ingest.js';
import { loadFeatureRepo, type FeatureRepo } from '../../src/store/spec.js';

export const FEATURES_YAML = `name: customer-features
entities:
  customer: { key: customerID }
sources:
  billing: { path: data/billing.csv }
  usage: { path: data/usage.csv }
views:
  billing:
    entity: customer
    source: billing
    event_time: billed_at
    created_time: loaded_at
    ttl: 30d
    on_missing: error
    columns:
      MonthlyCharges: { type: number, min: 0 }
      TotalCharges: { type: number, min: 0, nullable: true }
      Contract: { type: category, values: [Month-to-month, One year, Two year] }
    features:
      - impute: { TotalCharges: { constant: 0 } }
      - derive:
          months: "d => d.MonthlyCharges > 0 ? op.round(d.TotalCharges / d.MonthlyCharges) : null"
          long_contract: "d => d.Contract === 'Two year' ? 1 : 0"
  usage:
    entity: customer
    source: usage
    event_time: day
    ttl: 7d
    on_missing: "null"
    columns:
      calls: { type: number, min: 0 }
      minutes: { type: number, min: 0 }
    features:
      - derive: { minutes_per_call: "d => d.calls > 0 ? d.minutes / d.calls : null" }
      - drop: [calls]
`;

export interface BillingRow {
  customerID: string;
  billed_at: string;
  loaded_at: string;
  MonthlyCharges: number;
  TotalCharges: number | null;
  Contract: 'Month-to-month' | 'One year' | 'Two year';
}

export interface UsageRow {
  customerID: string;
  day: string;
  calls: number;
  minutes: number;
}

/** A features repository in a new temporary folder (its store inside it, as features.yaml's default). */
export function makeFeatureRepo(yaml: string = FEATURES_YAML): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-features-'));
  writeFileSync(join(dir, 'features.yaml'), yaml);
  return dir;
}

export function csvText(rows: readonly object[]): string {
  if (rows.length === 0) throw new Error('csvText needs a row for its header');
  const header = Object.keys(rows[0]);
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return `${header.join(',')}\n${rows.map((r) => header.map((h) => cell((r as Record<string, unknown>)[h])).join(',')).join('\n')}\n`;
}

export function writeSource(dir: string, path: string, rows: readonly object[]): void {
  const file = join(dir, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, csvText(rows));
}

/** Ingests every view's source as it is now, as if at `now`; no git commit (the manifests are read from the folder). */
export async function ingestAt(dir: string, now: string, views?: string[]): Promise<IngestResult> {
  const repo = await loadFeatureRepo(dir, { env: {} });
  return ingest(repo, { env: {}, now: () => new Date(now) }, { commit: false, ...(views ? { views } : {}) });
}

export async function openRepo(dir: string): Promise<FeatureRepo> {
  return loadFeatureRepo(dir, { env: {} });
}

/** A small deterministic stream of numbers in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const CONTRACTS = ['Month-to-month', 'One year', 'Two year'] as const;

export function customerId(i: number): string {
  return `C${String(i).padStart(6, '0')}`;
}

/** `n` customers' billing rows at `at` (ISO), loaded at `loaded`; every seventh has no TotalCharges. */
export function billingRows(n: number, at: string, loaded: string, seed: number): BillingRow[] {
  const next = lcg(seed);
  return Array.from({ length: n }, (_, i) => {
    const monthly = Math.round(2000 + next() * 10000) / 100;
    return {
      customerID: customerId(i),
      billed_at: at,
      loaded_at: loaded,
      MonthlyCharges: monthly,
      TotalCharges: i % 7 === 3 ? null : Math.round(monthly * Math.floor(1 + next() * 60) * 100) / 100,
      Contract: CONTRACTS[Math.floor(next() * 3)],
    };
  });
}

export function usageRows(n: number, day: string, seed: number): UsageRow[] {
  const next = lcg(seed);
  return Array.from({ length: n }, (_, i) => {
    const calls = i % 5 === 0 ? 0 : Math.floor(next() * 40);
    return { customerID: customerId(i), day, calls, minutes: Math.round(next() * 900) };
  });
}

/**
 * A model that reads the views' features (after their steps), trained on `rows` rows of generated data with the
 * same columns; returns the artifact's text.
 */
export async function trainOnViewColumns(rows = 400): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-features-model-'));
  const next = lcg(11);
  const data = Array.from({ length: rows }, (_, i) => {
    const monthly = Math.round(2000 + next() * 10000) / 100;
    const months = Math.floor(1 + next() * 60);
    const contract = CONTRACTS[Math.floor(next() * 3)];
    const perCall = i % 9 === 0 ? null : Math.round(next() * 3000) / 100;
    const churn = (contract === 'Month-to-month' ? 0.5 : 0.1) + (months < 12 ? 0.3 : 0) > next() ? 'Yes' : 'No';
    return {
      customerID: customerId(i),
      MonthlyCharges: monthly,
      TotalCharges: monthly * months,
      Contract: contract,
      months,
      long_contract: contract === 'Two year' ? 1 : 0,
      minutes: Math.round(next() * 900),
      minutes_per_call: perCall,
      Churn: churn,
    };
  });
  writeSource(dir, 'data/train.csv', data);
  writeFileSync(
    join(dir, 'ml.yaml'),
    `name: churn-online
task: classification
data: { train: data/train.csv, target: Churn, id: customerID }
schema:
  columns:
    Contract: { type: category, values: [Month-to-month, One year, Two year] }
    minutes_per_call: { type: number, nullable: true }
features:
  - onehot: [Contract]
model: { type: random-forest, params: { trees: 10, maxDepth: 6 }, seed: 7 }
split: { test: 0.25, stratify: true, seed: 7 }
metrics: [accuracy]
`,
  );
  const result = await runPipeline(dir, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
  if (!result.artifact) throw new Error('the model did not train');
  return readFileSync(result.artifact.path, 'utf8');
}
