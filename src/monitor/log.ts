// Reads the host's prediction log back: the rotated JSON Lines files `bramble serve` writes (serve/prediction-log.ts,
// records from serve/telemetry.ts and the feedback route), oldest file first.
//
// Decisions: a line that is not JSON, or not the shape the server writes, is skipped and counted with its file
// and line rather than failing the run — a host that died mid-write leaves a half line, and one bad line must not
// hide a day of drift. A missing or unreadable folder is a data error (exit 2), because then nothing can be said.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { errorClass } from '../errors.js';
import type { Label } from '../model/forest/input.js';
import { PREDICTION_LOG } from '../serve/prediction-log.js';

/** The logs cannot be read at all: the folder is missing, unreadable, or holds no log file. */
export class MonitorLogError extends errorClass('E_MONITOR_LOG') {}

export type LoggedValue = string | number | boolean | null;

/** One request the server answered: one or more rows. */
export interface LoggedPrediction {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly env: string;
  readonly model: { readonly name: string; readonly version: string; readonly sha256: string };
  readonly inputs: readonly Readonly<Record<string, LoggedValue>>[];
  readonly predictions: readonly Label[];
  /** rows × classes, row-major; absent for regression. */
  readonly probabilities: readonly number[] | null;
}

export interface LoggedFeedback {
  readonly id: string;
  readonly time: number;
  readonly env: string;
  readonly truth: Label | null;
}

export interface CorruptLine {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly reason: string;
}

export interface PredictionLogRead {
  /** The files read, oldest first. */
  readonly files: readonly string[];
  readonly predictions: readonly LoggedPrediction[];
  readonly feedback: readonly LoggedFeedback[];
  /** Fault lines: gaps the server recorded while it could not write. */
  readonly faults: number;
  readonly corrupt: readonly CorruptLine[];
}

/** Reads every file of the log in `dir`, oldest first (predictions.N.jsonl … predictions.jsonl). */
export async function readPredictionLog(dir: string): Promise<PredictionLogRead> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = expectedCode(err);
    throw new MonitorLogError(`--logs ${dir}: cannot read the folder (${code}); give the folder of serve.json's log.dir`, { dir, code });
  }
  const numbered = names.flatMap((name) => {
    const m = PREDICTION_LOG.pattern.exec(name);
    return m === null ? [] : [{ name, n: m[1] === undefined ? 0 : Number(m[1]) }];
  });
  if (numbered.length === 0) {
    throw new MonitorLogError(`--logs ${dir}: no ${PREDICTION_LOG.file} there; give the folder of serve.json's log.dir`, { dir });
  }
  numbered.sort((a, b) => b.n - a.n);
  const predictions: LoggedPrediction[] = [];
  const feedback: LoggedFeedback[] = [];
  const corrupt: CorruptLine[] = [];
  let faults = 0;
  for (const { name } of numbered) {
    const file = join(dir, name);
    let line = 0;
    for await (const text of logLines(file)) {
      line++;
      if (text.trim() === '') continue;
      const read = parseLine(text);
      if (typeof read === 'string') corrupt.push({ file, line, reason: read });
      else if (read.kind === 'prediction') predictions.push(read.value);
      else if (read.kind === 'feedback') feedback.push(read.value);
      else faults++;
    }
  }
  return { files: numbered.map((f) => join(dir, f.name)), predictions, feedback, faults, corrupt };
}

/**
 * A file of the log, line by line: serve.json's log.maxBytes has no upper bound, and a file read whole as one string
 * fails past V8's string limit (~512 MB). One the host rotated away while we listed the folder is a reason to run
 * again, said so.
 */
async function* logLines(file: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const text of lines) yield text;
  } catch (err) {
    const code = expectedCode(err);
    throw new MonitorLogError(`${file}: cannot read it (${code}); if the host rotated the log just now, run again`, { file, code });
  } finally {
    lines.close();
  }
}

/** The code of a file-system error a person can fix (a missing folder, no permission); anything else is thrown on. */
function expectedCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EACCES' && code !== 'EISDIR') throw err;
  return code;
}

type ParsedLine = { kind: 'prediction'; value: LoggedPrediction } | { kind: 'feedback'; value: LoggedFeedback } | { kind: 'fault' };

/** One line, or the reason it is not one the server writes. */
function parseLine(text: string): ParsedLine | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return 'not JSON';
  }
  if (!isObject(value)) return 'not a JSON object';
  if (value.type === PREDICTION_LOG.faultType) return { kind: 'fault' };
  const time = typeof value.time === 'string' ? Date.parse(value.time) : Number.NaN;
  if (typeof value.id !== 'string' || Number.isNaN(time) || typeof value.env !== 'string') return 'no id, time or env';
  if (value.type === 'feedback') {
    const truth = value.truth;
    if (truth !== null && typeof truth !== 'string' && typeof truth !== 'number') return 'feedback truth is not a label or a number';
    return { kind: 'feedback', value: { id: value.id, time, env: value.env, truth } };
  }
  if (value.type !== undefined) return `unknown type ${JSON.stringify(value.type)}`;
  const model = value.model;
  if (!isObject(model) || typeof model.name !== 'string' || typeof model.version !== 'string' || typeof model.sha256 !== 'string') return 'no model name, version and sha256';
  const inputs = value.inputs;
  if (!Array.isArray(inputs) || !inputs.every(isRecord)) return 'inputs are not a list of rows';
  const outputs = value.outputs;
  if (!isObject(outputs) || !Array.isArray(outputs.predictions) || outputs.predictions.length !== inputs.length) return 'outputs.predictions is not one label per row';
  const labels: Label[] = [];
  for (const p of outputs.predictions) {
    if (typeof p !== 'string' && typeof p !== 'number') return 'a prediction is not a label or a number';
    labels.push(p);
  }
  let probabilities: number[] | null = null;
  if (outputs.probabilities !== undefined) {
    if (!Array.isArray(outputs.probabilities) || !outputs.probabilities.every((p) => typeof p === 'number')) return 'outputs.probabilities is not a list of numbers';
    probabilities = outputs.probabilities.map(Number);
  }
  return {
    kind: 'prediction',
    value: { id: value.id, time, env: value.env, model: { name: model.name, version: model.version, sha256: model.sha256 }, inputs, predictions: labels, probabilities },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRecord(value: unknown): value is Record<string, LoggedValue> {
  return isObject(value) && Object.values(value).every((v) => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean');
}
