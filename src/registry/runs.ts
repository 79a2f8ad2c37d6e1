// A run record: what one `bramble run` or `bramble train` trained, scored and was gated against, kept in git on
// the orphan branch `bramble/runs` (runs-store.ts) and read back by `bramble runs` (issue 15).
//
// Decisions:
// - A record's id is its UTC time to the second and a hash of its content: sortable by time, unique across
//   machines without a counter to agree on, and a check of the record: the hash is over the canonical JSON of the
//   record without `id`, so a line edited on the branch no longer matches its id and is skipped, named.
// - No model inside: the artifact's sha256 points at it (the registry or .bramble/model.json holds it), so a
//   record stays ~1–2 KB and 10,000 of them fit in a few megabytes.
// - Records are grouped one JSON line each in runs/YYYY-MM.jsonl (the month of `at`). One blob per month keeps
//   `runs ls` over 10,000 records to a few blob reads (one blob per record would be 10,000 reads); a line, once
//   written, is never changed: a new run rewrites only its month's file, with every earlier line as it was.
import { createHash } from 'node:crypto';
import { canonicalJSON } from '../model/artifact.js';
import { errorClass } from '../errors.js';

export const RUNS = {
  branch: 'bramble/runs',
  ref: 'refs/heads/bramble/runs',
  folder: 'runs',
  format: 'bramble-run',
  version: 1,
  schemaId: 'https://bramble.dev/schemas/run-record.schema.json',
  /** Hex digits of the content hash in an id. */
  hashLength: 10,
} as const;

export class RunsError extends errorClass('E_RUNS') {}
export class RunIdError extends errorClass('E_RUNS_ID') {}

export type MetricMap = Record<string, number | null>;

export interface RunRecord {
  format: typeof RUNS.format;
  version: typeof RUNS.version;
  id: string;
  at: string;
  command: 'run' | 'train' | 'sweep';
  name: string;
  task: 'classification' | 'regression';
  params: Record<string, unknown>;
  seed: number | null;
  metrics: MetricMap;
  data: { path: string; sha256: string; rows: number };
  source: { commit: string | null; branch: string | null; dirty: boolean; workTree: string; path: string };
  champion: {
    label: string;
    via: string;
    version?: string;
    env?: string;
    sha256: string;
    metrics: MetricMap;
    candidateMetrics: MetricMap;
    rows: number;
  } | null;
  gates: { passed: boolean; failed: string[] } | null;
  steps: { validate: number | null; features: number | null; train: number | null; evaluate: number | null; compare: number | null; write: number | null; total: number | null };
  machine: { ci: 'github' | 'gitlab' | null; runner: string | null; cores: number; node: string; bramble: string };
  /** Null for a sweep trial: it keeps none of the forests it trains. */
  artifact: { sha256: string; bytes: number } | null;
  /** A sweep trial's place and cross-validated score (command sweep only). */
  sweep?: SweepTrialRecord;
}

export interface SweepTrialRecord {
  id: string;
  strategy: 'grid' | 'random' | 'halving';
  trial: number;
  trials: number;
  rung: number;
  share: number;
  metric: string;
  folds: (number | null)[];
  mean: number | null;
  sd: number | null;
  swept: Record<string, string | number | boolean | null>;
  shard?: string;
}

export type RunBody = Omit<RunRecord, 'id'>;

/** The content hash of a record: sha256 over its canonical JSON without `id`, cut to RUNS.hashLength digits. */
function contentHash(body: RunBody | RunRecord): string {
  const rest: Record<string, unknown> = { ...body };
  delete rest.id;
  return createHash('sha256').update(canonicalJSON(rest)).digest('hex').slice(0, RUNS.hashLength);
}

/** `2026-12-06T07:51:09.123Z` → `20261206T075109Z`. */
function compactTime(at: string): string {
  return `${at.slice(0, 4)}${at.slice(5, 7)}${at.slice(8, 10)}T${at.slice(11, 13)}${at.slice(14, 16)}${at.slice(17, 19)}Z`;
}

/** The record with its id. */
export function sealRun(body: RunBody): RunRecord {
  return { ...body, id: `${compactTime(body.at)}-${contentHash(body)}` };
}

/**
 * A record's line in its month file: its canonical JSON (keys sorted), so that a reader checks its id by hashing
 * the line's own text with the id taken out, instead of re-serialising 10,000 records (runsLineChecks).
 */
export function runLine(record: RunRecord): string {
  return canonicalJSON(record);
}

/** Whether a line's content hashes to its id: from the line's text when it is canonical, else re-serialised. */
function idMatches(line: string, record: RunRecord): boolean {
  const hash = record.id.slice(record.id.indexOf('-') + 1);
  const field = `,"id":${JSON.stringify(record.id)}`;
  const at = line.indexOf(field);
  if (at > 0) {
    const rest = line.slice(0, at) + line.slice(at + field.length);
    if (createHash('sha256').update(rest).digest('hex').slice(0, RUNS.hashLength) === hash) return true;
  }
  return `${compactTime(record.at)}-${contentHash(record)}` === record.id;
}

/** Where a record is kept on the branch: runs/YYYY-MM.jsonl, the month of its time. */
export function monthFile(record: Pick<RunRecord, 'at'>): string {
  return `${RUNS.folder}/${record.at.slice(0, 7)}.jsonl`;
}

/** A month file's name as the branch holds it: YYYY-MM.jsonl. */
export const MONTH_FILE = /^(\d{4})-(\d{2})\.jsonl$/;

export type ParsedLine = { record: RunRecord } | { problem: string; id?: string };

let validator: ((value: unknown) => string | null) | undefined;

/** A schema check that says what is wrong in one line, or null (ajv is loaded on the first record read). */
async function schemaCheck(): Promise<(value: unknown) => string | null> {
  if (validator) return validator;
  const { schemaValidator } = await import('../schemas.js');
  const validate = schemaValidator(RUNS.schemaId);
  validator = (value) => {
    if (validate(value)) return null;
    const first = validate.errors?.[0];
    return first ? `${first.instancePath || '(the record)'} ${first.message ?? 'is not valid'}` : 'does not match the run record schema';
  };
  return validator;
}

/** Loads the schema check before a batch of parseRunLine calls. */
export async function prepareRunChecks(): Promise<void> {
  await schemaCheck();
}

/**
 * One line of a month file as a record, or why it is not one: not JSON, another format or version (a foreign
 * record), not matching the schema, or edited since it was written (its id no longer hashes from its content).
 * prepareRunChecks must have run.
 */
export function parseRunLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return { problem: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  const fields = value as Record<string, unknown>;
  const id = typeof fields.id === 'string' ? fields.id : undefined;
  if (fields.format !== RUNS.format || fields.version !== RUNS.version) {
    return { problem: `a foreign record (format ${JSON.stringify(fields.format)}, version ${JSON.stringify(fields.version)}; Bramble writes ${RUNS.format} version ${RUNS.version})`, id };
  }
  const wrong = (validator as (value: unknown) => string | null)(value);
  if (wrong !== null) return { problem: `does not match ${RUNS.schemaId}: ${wrong}`, id };
  const record = value as RunRecord;
  if (!idMatches(line, record)) return { problem: `edited after it was written: its content hashes to ${compactTime(record.at)}-${contentHash(record)}, not to its id`, id };
  return { record };
}

/** Orders records oldest first (by time, then id). */
export function byTime(a: RunRecord, b: RunRecord): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The record a person named: its whole id, a unique prefix of it, or its content hash (or a prefix of that, ≥ 4
 * digits). An unknown or ambiguous name is refused with the ids it could mean.
 */
export function findRun(records: readonly RunRecord[], name: string): RunRecord {
  const exact = records.find((r) => r.id === name);
  if (exact) return exact;
  const matches: RunRecord[] = [];
  for (const r of records) {
    const hash = r.id.slice(r.id.indexOf('-') + 1);
    if (r.id.startsWith(name) || (name.length >= 4 && hash.startsWith(name))) matches.push(r);
  }
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    const shown = matches.slice(0, 5).map((r) => r.id).join(', ');
    throw new RunIdError(`the run ${JSON.stringify(name)} is ambiguous: ${matches.length} runs match (${shown}${matches.length > 5 ? ', …' : ''}); give more of the id`, { run: name, matches: matches.length });
  }
  const newest = records.length > 0 ? ` (the newest is ${records.reduce((a, b) => (byTime(a, b) >= 0 ? a : b)).id})` : '';
  throw new RunIdError(`no run ${JSON.stringify(name)} on ${RUNS.branch}${newest}; bramble runs ls lists them`, { run: name });
}
