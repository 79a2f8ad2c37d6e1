// Checks a model artifact against schemas/model.schema.json, the single source of truth for its shape. The sha256
// proves that a file was not changed since it was written; this proves that what was written is a model this
// Bramble understands, and says where it is not: `model.json#/lineage/data/sha256: must be 64 lower-case hex
// digits (got "xyz")`, one problem per line.
import type { TrainingRowFilterJSON } from '../data/identity.js';
import type { HeldOutRule } from '../data/split.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { SCHEMAS, schemaValidator } from '../schemas.js';
import { nearest } from '../errors.js';
import type { TableProfile } from '../data/profile.js';
import type { FeatureInput, FeaturesJSON } from '../features/transforms.js';
import type { SourceLineage } from '../lineage/source.js';
import type { Evaluation } from './evaluate.js';
import type { Label } from './forest/forest.js';
import type { ForestParams } from './forest/options.js';
import { ArtifactError } from './artifact.js';

/** The schema's identity: the key it is compiled under. */
export const ARTIFACT_SCHEMA_ID = 'https://bramble.dev/schemas/model.schema.json';

/** Problems listed in one error; a badly damaged file would otherwise print thousands of lines. */
const MAX_PROBLEMS = 10;

function artifactValidator(): ValidateFunction {
  return schemaValidator(ARTIFACT_SCHEMA_ID);
}

/** Throws an ArtifactError listing every way `value` is not a model artifact; `file` names it in the messages. */
export function validateArtifact(value: unknown, file: string): void {
  const validate = artifactValidator();
  if (validate(value)) return;
  const problems = reduceErrors(validate.errors ?? []).map((e) => describeError(e, file));
  const shown = problems.slice(0, MAX_PROBLEMS);
  if (problems.length > MAX_PROBLEMS) shown.push(`and ${problems.length - MAX_PROBLEMS} more`);
  throw new ArtifactError(shown.join('\n'), { file, problems });
}

interface SchemaNode {
  $ref?: string;
  anyOf?: SchemaNode[];
  const?: unknown;
  enum?: unknown[];
  type?: string | string[];
  properties?: Record<string, unknown>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  'x-expected'?: string;
}

// An `if` that failed is not a problem in itself (its `then` reports what is wrong), and an anyOf repeats each
// branch's complaint; keep the anyOf's one summary and drop the branches under it.
function reduceErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  return errors.filter((e) => {
    if (e.keyword === 'if') return false;
    return !anyOfs.some((a) => a !== e && a.instancePath === e.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`));
  });
}

function describeError(error: ErrorObject, file: string): string {
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  const at = (pointer: string) => `${file}#${pointer}`;
  const got = ` (got ${shown(error.data)})`;
  switch (error.keyword) {
    case 'required':
      return `${at(`${error.instancePath}/${escapePointer(String(params.missingProperty))}`)}: is missing; a model artifact needs it`;
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const guess = nearest(key, allowed);
      return `${at(`${error.instancePath}/${escapePointer(key)}`)}: is not part of the format${guess ? `; did you mean ${shown(guess)}?` : `; allowed: ${allowed.join(', ')}`}`;
    }
    case 'propertyNames':
      return `${at(`${error.instancePath}/${escapePointer(String(params.propertyName))}`)}: is not a known name`;
    case 'const':
    case 'enum':
    case 'type':
    case 'pattern':
    case 'anyOf':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${at(error.instancePath)}: must be ${expected(parent, error.keyword)}${got}`;
    default:
      return `${at(error.instancePath)}: ${error.message ?? 'is not valid'}${got}`;
  }
}

/** What a schema node accepts, as a phrase that follows "must be". */
function expected(node: SchemaNode, keyword: string): string {
  if (node['x-expected']) return node['x-expected'];
  if (node.const !== undefined) return shown(node.const);
  if (node.enum) return `one of ${node.enum.map(shown).join(', ')}`;
  if (keyword === 'anyOf' && node.anyOf) return node.anyOf.map((branch) => expected(resolve(branch), '')).join(' or ');
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  const range = [
    node.minimum !== undefined ? `≥ ${node.minimum}` : '',
    node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : '',
    node.maximum !== undefined ? `≤ ${node.maximum}` : '',
    node.exclusiveMaximum !== undefined ? `< ${node.exclusiveMaximum}` : '',
  ].filter(Boolean);
  const phrase = types.map((t) => (t === 'null' ? 'null' : t === 'array' ? 'a list' : t === 'object' ? 'an object' : `${t === 'integer' ? 'an' : 'a'} ${t}`)).join(' or ');
  return `${phrase || 'a valid value'}${range.length ? ` ${range.join(' and ')}` : ''}`;
}

/** A branch of an anyOf, following a local `$ref` (the only kind model.schema.json uses). */
function resolve(node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const defs = (SCHEMAS[ARTIFACT_SCHEMA_ID] as { $defs: Record<string, SchemaNode> }).$defs;
  return defs[node.$ref.replace('#/$defs/', '')] ?? node;
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A value as it reads in a message: short, and never the 3 MB of a whole subtree. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** A model artifact's fields, typed: what the documents and reports built from an artifact read. */
export interface ArtifactView {
  name: string;
  task: 'classification' | 'regression';
  sha256: string;
  signature: { inputs: FeatureInput[]; target: string; classes: Label[] | null };
  features: FeaturesJSON;
  estimator: { format: string; params: ForestParams; oobScore: number | null; importances: number[] };
  metrics: Evaluation;
  profile: TableProfile;
  samples: { rows: Record<string, string | number | boolean | null>[]; scores: number[] };
  lineage: {
    source: SourceLineage | null;
    mlYaml: { sha256: string };
    data: { path: string; sha256: string; rows: number; columns: number; bytes: number };
    split: {
      test: number;
      stratify: boolean;
      seed: number;
      by?: string;
      /** Absent in artifacts written before the split by identity. */
      rows?: { train: number; test: number; skipped: number };
      heldOut?: HeldOutRule;
      trainRows?: TrainingRowFilterJSON;
    };
    params: ForestParams;
    seed: number;
    versions: { bramble: string; node: string };
  };
}

/** Checks `value` against the schema (throwing where it is not an artifact) and returns it typed. */
export function artifactView(value: Record<string, unknown>, file: string): ArtifactView {
  validateArtifact(value, file);
  // The schema has just vouched for every field ArtifactView names.
  return value as unknown as ArtifactView;
}
