// One model as the server holds it: the artifact opened and verified (format, version, sha256, schema), its fitted
// features and forest, a compiled validator for one input record (built from the model's signature), and the
// self-test that must pass before the model may answer: the artifact's own sample rows must give, bit for bit,
// the scores recorded when it was trained.
import type { ErrorObject, ValidateFunction } from 'ajv';
import { errorClass, nearest } from '../errors.js';
import { DATE_INPUT, readDateInput } from '../features/inputs.js';
import type { FeaturesJSON, FittedFeatures, SlotKind } from '../features/transforms.js';
import type { Label, RandomForest } from '../model/forest/forest.js';
import { openModel, type OpenedModel } from '../model/open.js';
import { compileSchema } from '../schemas.js';

/** A request whose rows do not fit the model: the server answers 400 with this message. */
export class InputError extends errorClass('E_SERVE_INPUT') {}

/** A model that may not be served: a damaged artifact, or a self-test that fails. */
export class ModelLoadError extends errorClass('E_SERVE_MODEL') {}

export interface Prediction {
  /** Per row: the class label (classification) or the value (regression). */
  predictions: Label[];
  /** Classification: row-major probabilities, one per class per row. */
  probabilities: Float64Array | null;
}

export class ServedModel {
  readonly name: string;
  readonly task: 'classification' | 'regression';
  readonly sha256: string;
  /** The registry version it was deployed as, when known (`v1.2.0`); otherwise the sha256's first 12 digits. */
  readonly version: string;
  readonly classes: readonly Label[] | null;
  readonly inputs: readonly { name: string; kind: SlotKind }[];
  /** Columns a record may carry that are not inputs: the id and the target. */
  readonly passthrough: readonly string[];
  /** The input record's JSON Schema as text: two models with the same accept the same rows (a shadow skips the check main made). */
  readonly signature: string;
  /** ml.yaml's data.id: the column a canary's `sticky: id` reads (release.ts); null when the model has none. */
  readonly idColumn: string | null;
  readonly bytes: number;
  private readonly features: FittedFeatures;
  private readonly forest: RandomForest;
  private readonly validate: ValidateFunction;
  private readonly row: Float64Array;
  private readonly out: Float64Array;
  private readonly known: readonly string[];
  /** Date inputs: JSON Schema checks they are text or a number, and `check` that the text is a date. */
  private readonly dates: readonly string[];

  private constructor(opened: OpenedModel, version: string | undefined) {
    const { artifact } = opened;
    this.name = String(artifact.name);
    this.task = artifact.task === 'regression' ? 'regression' : 'classification';
    this.sha256 = artifact.sha256;
    this.version = version ?? artifact.sha256.slice(0, 12);
    this.bytes = opened.bytes;
    this.features = opened.features;
    this.forest = opened.forest;
    this.classes = this.forest.classes;
    this.inputs = this.features.inputs.map((i) => ({ name: i.name, kind: i.kind }));
    const json = artifact.features as FeaturesJSON;
    this.passthrough = [json.id, json.target].filter((c): c is string => typeof c === 'string');
    this.idColumn = typeof json.id === 'string' ? json.id : null;
    this.known = [...this.inputs.map((i) => i.name), ...this.passthrough];
    this.dates = this.inputs.filter((i) => i.kind === 'date').map((i) => i.name);
    const schema = recordSchema(json, booleanColumns(artifact.profile));
    this.signature = JSON.stringify(schema);
    this.validate = compileSchema(schema);
    this.row = new Float64Array(this.features.width);
    this.out = new Float64Array(this.classes ? this.classes.length : 1);
  }

  /** Opens and checks an artifact's text; `file` names it in errors. Runs the self-test before returning. */
  static load(text: string, file: string, options: { version?: string; expectSha256?: string } = {}): ServedModel {
    let model: ServedModel;
    try {
      // The one way every face opens a model: hash, schema, the deployed sha256, features and forest.
      const opened = openModel(text, file, { expectSha256: options.expectSha256 });
      model = new ServedModel(opened, options.version);
      model.selfTest(opened.artifact.samples as { rows: Record<string, unknown>[]; scores: number[] });
    } catch (err) {
      if (err instanceof ModelLoadError) throw err;
      throw new ModelLoadError(err instanceof Error ? err.message : String(err), { file });
    }
    return model;
  }

  /** The recorded sample rows must give exactly the recorded scores, or the model is not served. */
  private selfTest(samples: { rows: Record<string, unknown>[]; scores: number[] }): void {
    const width = this.out.length;
    if (samples.rows.length === 0) throw new ModelLoadError(`${this.name}: the artifact has no sample rows, so it cannot be self-tested`);
    samples.rows.forEach((record, r) => {
      this.score(record);
      for (let k = 0; k < width; k++) {
        const expected = samples.scores[r * width + k];
        if (!Object.is(this.out[k], expected)) {
          throw new ModelLoadError(
            `${this.name}: self-test failed on sample row ${r + 1}: score ${k + 1} is ${this.out[k]}, the artifact recorded ${expected}; this model does not reproduce its own results here — it is not served`,
            { row: r, expected, got: this.out[k] },
          );
        }
      }
    });
  }

  /** Scores one record into `this.out` (probabilities or the value). */
  private score(record: Readonly<Record<string, unknown>>): void {
    this.features.transformRow(record, this.row);
    if (this.classes) this.forest.predictProbaRow(this.row, this.out);
    else this.out[0] = this.forest.predictRow(this.row) as number;
  }

  /** Checks one record against the signature; throws an InputError naming the row and field. */
  check(record: unknown, where: string): void {
    if (!this.validate(record)) throw new InputError(describe(this.validate.errors ?? [], record, where, this.known), { where });
    for (const name of this.dates) {
      const value = (record as Record<string, unknown>)[name];
      if (readDateInput(value) === undefined) {
        throw new InputError(`${where}: ${name} is ${shown(value)}, not a date; give ${DATE_INPUT}, or null`, { where, column: name });
      }
    }
  }

  /** Checks and scores records; every record is checked before any is scored (unless `checked`: by a model of the same signature). */
  predict(records: readonly unknown[], where: (i: number) => string, checked = false): Prediction {
    if (!checked) for (let i = 0; i < records.length; i++) this.check(records[i], where(i));
    const n = records.length;
    const width = this.out.length;
    const probabilities = this.classes ? new Float64Array(n * width) : null;
    const predictions: Label[] = new Array(n);
    for (let i = 0; i < n; i++) {
      this.score(records[i] as Record<string, unknown>);
      if (this.classes && probabilities) {
        let best = 0;
        for (let k = 0; k < width; k++) {
          probabilities[i * width + k] = this.out[k];
          if (this.out[k] > this.out[best]) best = k;
        }
        predictions[i] = this.classes[best];
      } else predictions[i] = this.out[0];
    }
    return { predictions, probabilities };
  }
}

/** Inputs whose training column was boolean: they accept true/false as well as 1/0. */
function booleanColumns(profile: unknown): Set<string> {
  const names = new Set<string>();
  const columns = (profile as { columns?: { name?: unknown; kind?: unknown }[] } | undefined)?.columns;
  if (Array.isArray(columns)) for (const c of columns) if (c.kind === 'boolean' && typeof c.name === 'string') names.add(c.name);
  return names;
}

/**
 * The JSON Schema of one input record: every input present (null for missing), numbers as numbers, a one-hot
 * column's value one of the categories seen in training, a date as text or epoch milliseconds (whether the text is
 * a date is checked after, with the reader transformRow uses), nothing else but the id and the target. An ordinal
 * column takes any text: a value not seen in training is read as missing, as its step defines.
 */
export function recordSchema(features: FeaturesJSON, booleans: ReadonlySet<string>): Record<string, unknown> {
  const categories = new Map<string, string[]>();
  for (const step of features.steps) if (step.kind === 'onehot') categories.set(step.column, step.categories);
  const properties: Record<string, unknown> = {};
  for (const input of features.inputs) {
    // ml.yaml's missing markers ("." and the like) are accepted wherever a missing value is.
    const markers = input.missing ?? [];
    if (input.kind === 'number') {
      const plain = { type: booleans.has(input.name) ? ['number', 'boolean', 'null'] : ['number', 'null'] };
      properties[input.name] = markers.length > 0 ? { anyOf: [plain, { enum: [...markers] }] } : plain;
    } else if (input.kind === 'date') properties[input.name] = { type: ['string', 'number', 'null'] };
    else if (categories.has(input.name)) properties[input.name] = { enum: [...(categories.get(input.name) ?? []), ...markers, null] };
    else properties[input.name] = { type: ['string', 'null'] };
  }
  for (const extra of [features.id, features.target]) if (typeof extra === 'string' && !(extra in properties)) properties[extra] = true;
  return { type: 'object', required: features.inputs.map((i) => i.name), additionalProperties: false, properties };
}

/** ajv's first complaint as one line naming the row, the field, the bad value and what would do. */
function describe(errors: readonly ErrorObject[], record: unknown, where: string, known: readonly string[]): string {
  const missing = errors.filter((e) => e.keyword === 'required').map((e) => (e.params as { missingProperty: string }).missingProperty);
  if (missing.length > 0) {
    return `${where}: missing ${missing.length === 1 ? 'column' : 'columns'} ${missing.map((m) => JSON.stringify(m)).join(', ')}; every input must be present (null when missing)`;
  }
  const extra = errors.find((e) => e.keyword === 'additionalProperties');
  if (extra) {
    const name = (extra.params as { additionalProperty: string }).additionalProperty;
    const hint = nearest(name, known);
    return `${where}: unknown column ${JSON.stringify(name)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ''} (the model reads ${known.length} columns)`;
  }
  const e = errors[0];
  if (!e || e.instancePath === '') return `${where}: must be an object of column → value (got ${shown(record)})`;
  const field = decodeURIComponent(e.instancePath.slice(1).replace(/~1/g, '/').replace(/~0/g, '~'));
  const value = (record as Record<string, unknown>)[field];
  if (e.keyword === 'enum') {
    const allowed = ((e.params as { allowedValues: unknown[] }).allowedValues ?? []).filter((v) => v !== null);
    return `${where}: ${field} is ${shown(value)}, not a category the model knows; one of ${allowed.map((v) => JSON.stringify(v)).join(', ')} (or null)`;
  }
  const types = (e.params as { type?: string | string[] }).type;
  const wanted = Array.isArray(types) ? types.filter((t) => t !== 'null').join(' or ') : String(types);
  return `${where}: ${field} must be a ${wanted} or null (got ${shown(value)})`;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}
