// Reads the host's prediction log back: the rotated JSON Lines files `bramble serve` writes (serve/prediction-log.ts,
// records from serve/telemetry.ts and the feedback route), oldest file first.
//
// Decisions: a line that is not JSON, or not the shape the server writes, is skipped and counted with its file
// and line rather than failing the run — a host that died mid-write leaves a half line, and one bad line must not
// hide a day of drift. A missing or unreadable folder is a data error (exit 2), because then nothing can be said.
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { errorClass } from '../errors.js';
import type { Label } from '../model/forest/input.js';
import { RELEASE, type Role } from '../registry/roles.js';
import { PREDICTION_LOG } from '../serve/prediction-log.js';

const ROLES: readonly Role[] = ['main', ...RELEASE.roles];

/** The logs cannot be read at all: the folder is missing, unreadable, or holds no log file. */
export class MonitorLogError extends errorClass('E_MONITOR_LOG') {}

export type LoggedValue = string | number | boolean | null;

/** One request the server answered: one or more rows. */
export interface LoggedPrediction {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly env: string;
  /** Who answered: main, canary or shadow (lines written before roles existed are main's). */
  readonly role: Role;
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

/** At most this many corrupt lines are listed (all are counted): a log of garbage must not become a report of it. */
export const CORRUPT_LISTED = 100;

/** What reading the log found besides the records it handed on. */
export interface PredictionLogRead {
  /** The files read, oldest first. */
  readonly files: readonly string[];
  /** Fault lines: gaps the server recorded while it could not write. */
  readonly faults: number;
  /** The first CORRUPT_LISTED corrupt lines, with their file and line. */
  readonly corrupt: readonly CorruptLine[];
  /** Every corrupt line, listed or not. */
  readonly corruptLines: number;
}

/** Where the records go, one at a time, as the files are read; a promise returned is awaited before the next line. */
export interface LogSink {
  prediction(p: LoggedPrediction): void | Promise<void>;
}

/**
 * Reads every file of the log in `dir`, oldest first (predictions.N.jsonl … predictions.jsonl), in two passes so
 * that nothing but the feedback is held: the first keeps the feedback (the truth for a request id, which arrives
 * after its prediction, often days later) and gives it to `start` for the sink; the second hands each prediction to
 * the sink in the order it was written.
 * The first pass parses only the lines that hold `"type":"feedback"`, found in the bytes.
 */
export async function readPredictionLog(dir: string, start: (feedback: readonly LoggedFeedback[]) => LogSink): Promise<PredictionLogRead> {
  const files = await logFiles(dir);
  const feedback: LoggedFeedback[] = [];
  for (const file of files) {
    await scanLines(file, FEEDBACK_MARK, (text) => {
      const read = parseLine(text);
      if (typeof read !== 'string' && read.kind === 'feedback') feedback.push(read.value);
    });
  }
  const sink = start(feedback);
  const corrupt: CorruptLine[] = [];
  let corruptLines = 0;
  let faults = 0;
  for (const file of files) {
    await scanLines(file, null, (text, line) => {
      const read = parseLine(text);
      if (typeof read === 'string') {
        corruptLines++;
        if (corrupt.length < CORRUPT_LISTED) corrupt.push({ file, line, reason: read });
      } else if (read.kind === 'prediction') {
        return sink.prediction(read.value);
      } else if (read.kind === 'fault') {
        faults++;
      }
      return undefined;
    });
  }
  return { files, faults, corrupt, corruptLines };
}

/** The log's files in `dir`, oldest first. */
async function logFiles(dir: string): Promise<string[]> {
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
  return numbered.map((f) => join(dir, f.name));
}

/** The bytes every feedback line holds: the server writes `{"type":"feedback",…}` with JSON.stringify. */
const FEEDBACK_MARK = Buffer.from('"type":"feedback"');
const LF = 10;
const CHUNK = 1 << 20;

/**
 * Calls `visit` with each non-blank line of `file` (1-based line numbers), or with `only` just the lines that hold
 * those bytes (line numbers then 0: the first pass reports nothing). Lines are cut from 1 MB reads by byte search:
 * serve.json's log.maxBytes has no upper bound, and a file read whole as one string fails past V8's string limit
 * (~512 MB). A file the host rotated away while we listed the folder is a reason to run again, said so.
 */
async function scanLines(file: string, only: Buffer | null, visit: (text: string, line: number) => void | Promise<void>): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = expectedCode(err);
    throw new MonitorLogError(`${file}: cannot read it (${code}); if the host rotated the log just now, run again`, { file, code });
  }
  try {
    let carry: Buffer = Buffer.alloc(0);
    let line = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const bytesRead = await readChunk(handle, chunk, file);
      const last = bytesRead === 0;
      const bytes = carry.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([carry, chunk.subarray(0, bytesRead)]);
      // Whole lines end at the last LF; at the end of the file, what follows it is a line too.
      const whole = last ? bytes.length : bytes.lastIndexOf(LF) + 1;
      let from = 0;
      while (from < whole) {
        if (only !== null) {
          const at = bytes.indexOf(only, from);
          if (at < 0 || at >= whole) break;
          from = bytes.lastIndexOf(LF, at) + 1;
        }
        let end = bytes.indexOf(LF, from);
        if (end < 0 || end > whole) end = whole;
        if (only === null) line++;
        const text = bytes.toString('utf8', from, end);
        if (text.trim() !== '') {
          const waiting = visit(text, line);
          if (waiting !== undefined) await waiting;
        }
        from = end + 1;
      }
      if (last) break;
      carry = Buffer.from(bytes.subarray(whole));
    }
  } finally {
    await handle.close();
  }
}

/** One read of the file; an error a person can fix (it is a folder, or gone) names the file. */
async function readChunk(handle: FileHandle, chunk: Buffer, file: string): Promise<number> {
  try {
    return (await handle.read(chunk, 0, CHUNK, null)).bytesRead;
  } catch (err) {
    const code = expectedCode(err);
    throw new MonitorLogError(`${file}: cannot read it (${code}); if the host rotated the log just now, run again`, { file, code });
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
    const list: unknown = outputs.probabilities;
    if (!Array.isArray(list)) return 'outputs.probabilities is not a list of numbers';
    for (const p of list) if (typeof p !== 'number') return 'outputs.probabilities is not a list of numbers';
    probabilities = list as number[];
  }
  const role = value.role === undefined ? 'main' : ROLES.find((r) => r === value.role);
  if (role === undefined) return `unknown role ${JSON.stringify(value.role)}`;
  return {
    kind: 'prediction',
    value: { id: value.id, time, env: value.env, role, model: { name: model.name, version: model.version, sha256: model.sha256 }, inputs, predictions: labels, probabilities },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRecord(value: unknown): value is Record<string, LoggedValue> {
  if (!isObject(value)) return false;
  for (const key in value) {
    const v = value[key];
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return false;
  }
  return true;
}
