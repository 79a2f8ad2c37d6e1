import { errorClass, nearest } from '../errors.js';
import { readTable } from '../data/load.js';
import type { DeclaredColumn } from '../data/load-options.js';
import { cellValue, findColumn, type Table } from '../data/table.js';
import type { FittedFeatures } from '../features/transforms.js';
import type { RandomForest } from '../model/forest/forest.js';
import { readModelFile } from '../model/open.js';

/** Names that cross a boundary: the output's column names, which scripts join on. */
export const PREDICTIONS = {
  prediction: 'prediction',
  /** Prefix of a class's probability column: `p_Yes`. */
  probability: 'p_',
  /** Rows transformed, scored and written at a time: the feature matrix and output text never exceed this. */
  chunkRows: 10_000,
} as const;

export interface PredictRequest {
  /** The model artifact (model.json). */
  readonly model: string;
  /** The rows to score: a CSV (or JSON records) file with the columns the model reads; other columns are ignored. */
  readonly data: string;
  /** A column to copy into the output beside each prediction; when not given, the model's id column (data.id) if the file has it. */
  readonly id?: string;
  readonly chunkRows?: number;
  /** csv (default), or JSON Lines: one object per row, `{ <id>, prediction, probabilities: { <class>: p } }`. */
  readonly format?: 'csv' | 'jsonl';
  /** CSV text cells as they are, without the guard against spreadsheet formulas (`--raw`). */
  readonly raw?: boolean;
}

export interface PredictDeps {
  /** Takes the output in pieces (the header, then one chunk of rows); resolves when the next piece may follow. */
  readonly write: (text: string) => Promise<void>;
}

export interface PredictSummary {
  readonly rows: number;
  readonly header: readonly string[];
}

/** The rows to predict do not fit the model: a column it reads is absent, a value is not of its kind. */
export class PredictInputError extends errorClass('E_PREDICT_INPUT') {}

/**
 * `bramble predict`: scores every row of a file with a model artifact and writes CSV — the id column, the
 * prediction, and for classification one probability column per class. The file is checked in full before the
 * header is written, so a bad file gives an error and no partial output; then rows are transformed and scored a
 * chunk at a time, through the same batch path (`transform` + `scores`) that evaluated the model.
 */
export async function predictFile(request: PredictRequest, deps: PredictDeps): Promise<PredictSummary> {
  const { features, forest, profileKinds } = await readModel(request.model);
  const modelId = features.id ?? undefined;
  const inputNames = new Set(features.inputs.map((i) => i.name));
  // Read each input as the model read it in training, so that "1" in a text column stays "1" and a boolean
  // column (true/yes/1) becomes 1/0; every value may be missing, as it may when serving.
  const columns: Record<string, DeclaredColumn> = {};
  for (const input of features.inputs) {
    // A date input is read as the loader reads `type: date` (ISO 8601, UTC), which is how it was read in training.
    const type = input.kind === 'text' ? 'category' : input.kind === 'date' ? 'date' : profileKinds.get(input.name) === 'boolean' ? 'boolean' : 'number';
    // The model's own missing markers (ml.yaml's data.missing and the column's), as training applied them.
    columns[input.name] = input.missing ? { type, nullable: true, missing: [...input.missing] } : { type, nullable: true };
  }
  for (const id of [request.id, modelId]) if (id !== undefined && !inputNames.has(id)) columns[id] = { type: 'string', nullable: true };
  const loaded = await readTable(request.data, { file: request.data, columns, lenient: true });
  const { table } = loaded;

  checkInputs(table, [...inputNames], request.data);
  const bad = loaded.violations?.[0];
  if (bad !== undefined) {
    const more = loaded.violations?.reduce((n, v) => n + v.rows.length, 0) ?? 0;
    throw new PredictInputError(more > 1 ? `${bad.message} (${more} values in all are not of their column's kind)` : bad.message, { column: bad.column, rows: more });
  }
  let idName: string | undefined;
  if (request.id !== undefined) {
    if (findColumn(table, request.id) === undefined) throw columnError([request.id], table, request.data, 'given with --id');
    idName = request.id;
  } else if (modelId !== undefined && findColumn(table, modelId) !== undefined) {
    idName = modelId;
  }
  const idColumn = idName === undefined ? undefined : findColumn(table, idName);

  const classes = forest.classes;
  const header = [
    ...(idName === undefined ? [] : [idName]),
    PREDICTIONS.prediction,
    ...(classes === null ? [] : classes.map((c) => `${PREDICTIONS.probability}${String(c)}`)),
  ];
  const jsonl = request.format === 'jsonl';
  // A cell that a spreadsheet would run as a formula (=, +, -, @ first; OWASP's CSV injection guidance) gets a
  // leading ' unless --raw: ids and labels come from data files, which anyone may have written.
  const cell = request.raw ? csvField : (text: string): string => csvField(defuse(text));
  if (!jsonl) await deps.write(`${header.map(cell).join(',')}\n`);

  const chunkRows = request.chunkRows ?? PREDICTIONS.chunkRows;
  const width = classes === null ? 1 : classes.length;
  for (let start = 0; start < table.rows; start += chunkRows) {
    const end = Math.min(table.rows, start + chunkRows);
    const rows = Int32Array.from({ length: end - start }, (_, i) => start + i);
    const batch = features.transform(table, rows);
    const scores = forest.scores({ rows: batch.rows, columns: batch.names.length, values: batch.matrix });
    const lines: string[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      if (jsonl) {
        const at = i * width;
        const record: Record<string, unknown> = {};
        if (idColumn !== undefined && idName !== undefined) record[idName] = cellValue(idColumn, rows[i]);
        if (classes === null) record[PREDICTIONS.prediction] = scores[at];
        else {
          record[PREDICTIONS.prediction] = classes[argmax(scores, at, width)];
          const probabilities: Record<string, number> = {};
          for (let c = 0; c < width; c++) probabilities[String(classes[c])] = scores[at + c];
          record.probabilities = probabilities;
        }
        lines[i] = JSON.stringify(record);
        continue;
      }
      const fields: string[] = [];
      if (idColumn !== undefined) {
        const v = cellValue(idColumn, rows[i]);
        fields.push(v === null ? '' : cell(String(v)));
      }
      const at = i * width;
      if (classes === null) {
        fields.push(String(scores[at]));
      } else {
        fields.push(cell(String(classes[argmax(scores, at, width)])));
        for (let c = 0; c < width; c++) fields.push(String(scores[at + c]));
      }
      lines[i] = fields.join(',');
    }
    await deps.write(`${lines.join('\n')}\n`);
  }
  return { rows: table.rows, header };
}

async function readModel(file: string): Promise<{ features: FittedFeatures; forest: RandomForest; profileKinds: Map<string, string> }> {
  // The one way every face opens a model: hash, schema, features and forest.
  const { artifact, features, forest } = await readModelFile(file);
  // The training data's column kinds, where the artifact has its profile: only to tell booleans from numbers.
  const profileKinds = new Map<string, string>();
  const profile = artifact.profile;
  if (typeof profile === 'object' && profile !== null && Array.isArray((profile as { columns?: unknown }).columns)) {
    for (const c of (profile as { columns: unknown[] }).columns) {
      if (typeof c === 'object' && c !== null && typeof (c as { name?: unknown }).name === 'string') {
        const { name, kind } = c as { name: string; kind?: unknown };
        profileKinds.set(name, String(kind));
      }
    }
  }
  return { features, forest, profileKinds };
}

function checkInputs(table: Table, inputs: readonly string[], file: string): void {
  const missing = inputs.filter((name) => findColumn(table, name) === undefined);
  if (missing.length > 0) throw columnError(missing, table, file, 'which the model reads', inputs);
}

function columnError(missing: readonly string[], table: Table, file: string, why: string, taken: readonly string[] = []): PredictInputError {
  const quoted = missing.map((m) => JSON.stringify(m));
  const names = quoted.length === 1 ? `column ${quoted[0]}` : `columns ${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
  // A near miss among the file's other columns, e.g. a misspelled header; never one that is itself needed.
  const present = table.columns.map((c) => c.name).filter((name) => !taken.includes(name));
  const guess = missing.length === 1 ? nearest(missing[0], present) : undefined;
  const fix = guess !== undefined ? `did you mean ${JSON.stringify(guess)}?` : `add ${missing.length === 1 ? 'it' : 'them'} to the file (values may be blank, read as missing)`;
  return new PredictInputError(`${file} has no ${names}, ${why}; ${fix}`, { file, columns: [...missing], suggestion: guess ?? null });
}

/** The class with the highest score; ties go to the first, as RandomForest.predict decides. */
function argmax(scores: Float64Array, at: number, width: number): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (scores[at + c] > scores[at + best]) best = c;
  return best;
}

/** Text that a spreadsheet would read as a formula, with a leading ' (numbers, even negative ones, stay as they are). */
export function defuse(text: string): string {
  if (!/^[=+\-@\t\r]/.test(text)) return text;
  return Number.isFinite(Number(text)) && text.trim() !== '' ? text : `'${text}`;
}

/** RFC 4180: quoted only when it holds a comma, a quote or a line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
