// Loads ml.yaml: YAML with source positions, checked against schemas/ml.schema.json (the single source of truth for
// its shape, defaults and descriptions), then against the rules a JSON Schema cannot express. Every problem is
// reported at once, in document order, as `ml.yaml:14:5 model.params.trees: must be an integer ≥ 1 (got "lots")`.
import { readFile } from 'node:fs/promises';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { schemaValidator } from '../schemas.js';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, visit } from 'yaml';
import type { CST, Document } from 'yaml';
import { describeError, errorClass, nearest } from '../errors.js';
import mlSchema from '../../schemas/ml.schema.json' with { type: 'json' };
import { parseInstant } from '../data/table.js';

/** Names that cross a boundary: the file's name, the schema's identity. */
export const ML_YAML = {
  file: 'ml.yaml',
  schemaId: 'https://bramble.dev/schemas/ml.schema.json',
} as const;

export const CLASSIFICATION_METRICS = ['roc_auc', 'f1', 'accuracy', 'precision', 'recall', 'log_loss'] as const;
export const REGRESSION_METRICS = ['rmse', 'mae', 'r2'] as const;
/** The metrics computed when ml.yaml lists none (the schema's description says the same). */
export const DEFAULT_METRICS = {
  classification: ['roc_auc', 'f1', 'accuracy'],
  regression: ['rmse', 'mae', 'r2'],
} as const satisfies Record<Task, readonly Metric[]>;

export type Task = 'classification' | 'regression';
export type ClassificationMetric = (typeof CLASSIFICATION_METRICS)[number];
export type RegressionMetric = (typeof REGRESSION_METRICS)[number];
export type Metric = ClassificationMetric | RegressionMetric;
export type ColumnType = 'integer' | 'number' | 'category' | 'string' | 'boolean' | 'date';

interface ColumnSpecBase {
  nullable: boolean;
  values?: (string | number)[];
  regex?: string;
  unique: boolean;
  /** More texts read as missing in this column, besides data.missing and the built-in markers. */
  missing?: string[];
}

/**
 * One column of ml.yaml's schema. `min`/`max` are numbers for integer and number columns and ISO 8601 text for
 * date columns (`min: 2020-01-01`, which yaml's core schema reads as a string); checkDataSchema enforces both,
 * and refuses them on other types.
 */
export type ColumnSpec =
  | (ColumnSpecBase & { type: 'integer' | 'number'; min?: number; max?: number })
  | (ColumnSpecBase & { type: 'date'; min?: string; max?: string })
  | (ColumnSpecBase & { type: 'category' | 'string' | 'boolean'; min?: number | string; max?: number | string });

export type ImputeRule = 'mean' | 'median' | 'mode' | { constant: string | number | boolean };

export type FeatureStep =
  | { impute: Record<string, ImputeRule> }
  | { onehot: string[] }
  | { ordinal: string[] }
  | { standardize: string[] }
  | { minmax: string[] }
  | { bucketize: Record<string, number[]> }
  | { derive: Record<string, string> }
  | { drop: string[] };

/** The forest's options as ml.yaml spells them; `task` and `seed` come from the top level and `model.seed`. */
export interface ForestParamsConfig {
  trees: number;
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /** Left out: the forest picks by task (`sqrt` for classification, `all` for regression). */
  maxFeatures?: 'sqrt' | 'log2' | 'all' | number;
  bootstrap: boolean;
  maxSamples: number | null;
  classWeight: 'balanced' | Record<string, number> | null;
  maxBins: number;
}

export interface Gate {
  min?: number;
  max?: number;
  max_drop?: number;
  max_rise?: number;
}

export interface Environment {
  branch: string;
  approval: boolean;
}

/** A loaded ml.yaml with the schema's defaults filled in. Written by hand to match schemas/ml.schema.json. */
export interface MlConfig {
  name: string;
  task: Task;
  data: { train: string; target: string; id?: string; skip_missing_target?: boolean; missing?: string[] };
  schema?: {
    rows?: { min?: number; max?: number };
    columns?: Record<string, ColumnSpec>;
  };
  features: FeatureStep[];
  model: { type: 'random-forest'; params: ForestParamsConfig; seed: number };
  split: { test: number; stratify: boolean; seed: number; by?: string };
  metrics: Metric[];
  compare?: { against: string; gates: Partial<Record<Metric, Gate>> };
  environments: Record<string, Environment>;
  monitor?: {
    schedule: string;
    drift: { share: number };
    performance?: { metric: Metric; min?: number; max?: number };
    on_alert: ('issue' | 'retrain')[];
  };
}

/** One thing wrong with an ml.yaml; `line`/`col` are 1-based and absent when the file itself could not be read. */
export interface ConfigProblem {
  line?: number;
  col?: number;
  path: string;
  message: string;
}

export class ConfigError extends errorClass('E_CONFIG') {
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'), { file, problems });
    this.problems = problems;
  }
}

function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line === undefined ? file : `${file}:${p.line}:${p.col ?? 1}`;
  return `${where}${p.path ? ` ${p.path}` : ''}: ${p.message}`;
}

/**
 * Limits that keep a hostile or broken ml.yaml from exhausting the process. Real files nest a handful of levels
 * (derive expressions are strings, not YAML) and use aliases, if at all, a few times.
 */
const YAML_LIMITS = { depth: 64, aliasCount: 100 } as const;

/** Parses and checks ml.yaml text; throws a ConfigError that lists every problem. */
export function loadMlYaml(text: string, file: string = ML_YAML.file): MlConfig {
  const tooDeep = nestingProblem(text);
  if (tooDeep) throw new ConfigError(file, [tooDeep]);
  const lineCounter = new LineCounter();
  // logLevel 'error': yaml would otherwise print its own warnings (a list used as a key) on stderr.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const syntax = [...doc.errors, ...doc.warnings];
  const problems: ConfigProblem[] = syntax.map((e) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    const key = e.code === 'DUPLICATE_KEY' ? keyAt(doc, e.pos[0]) : undefined;
    const message = key === undefined ? e.message : `duplicate key ${shown(key)}; a key may appear once in a mapping`;
    return { line, col, path: '', message: `YAML syntax: ${message}` };
  });
  if (problems.length === 0) {
    // JSON has no list or mapping keys; yaml would turn one into text such as "[ a, b ]".
    visit(doc, {
      Pair(_, pair) {
        if (!isMap(pair.key) && !isSeq(pair.key)) return;
        const { line, col } = lineCounter.linePos(pair.key.range?.[0] ?? 0);
        problems.push({ line, col, path: '', message: `a key is a ${isSeq(pair.key) ? 'list' : 'mapping'}; keys in ml.yaml are plain names, such as model or trees` });
      },
    });
  }
  if (problems.length > 0) throw new ConfigError(file, sortProblems(problems));

  const data = aliasesResolved(doc, lineCounter, file);
  const validate = mlValidator();
  if (!validate(data)) {
    const found = reduceAjvErrors(validate.errors ?? []).flatMap(describeAjvError);
    throw new ConfigError(file, sortProblems(found.map((f) => place(doc, lineCounter, f))));
  }
  const config = data as MlConfig;
  config.metrics ??= [...DEFAULT_METRICS[config.task]];

  const semantic = checkSemantics(config);
  if (semantic.length > 0) throw new ConfigError(file, sortProblems(semantic.map((f) => place(doc, lineCounter, f))));
  return config;
}

/**
 * The first place where collections nest deeper than YAML_LIMITS.depth, found on yaml's concrete syntax tree, which
 * it builds with a loop. Its composer recurses per level: a few thousand `[` overflow the stack, and V8 may then
 * abort the whole process while compiling a regular expression instead of throwing, so the check comes first.
 */
function nestingProblem(text: string): ConfigProblem | undefined {
  const lines = new LineCounter();
  const pending: Array<{ token: CST.Token; depth: number }> = [];
  for (const token of new Parser(lines.addNewLine).parse(text)) pending.push({ token, depth: 0 });
  while (pending.length > 0) {
    const { token, depth } = pending.pop() as { token: CST.Token; depth: number };
    if (token.type === 'document') {
      if (token.value) pending.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > YAML_LIMITS.depth) {
        const { line, col } = lines.linePos(token.offset);
        const check = token.type === 'flow-collection' ? 'the brackets' : 'the indentation';
        return { line, col, path: '', message: `nested too deep (limit ${YAML_LIMITS.depth}); ml.yaml is never that deep — check ${check}` };
      }
      for (const item of token.items) {
        if (item.key) pending.push({ token: item.key, depth: depth + 1 });
        if (item.value) pending.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** The document as plain data, with aliases expanded; an alias bomb or a dangling alias is a located problem. */
function aliasesResolved(doc: Document, lineCounter: LineCounter, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: YAML_LIMITS.aliasCount });
  } catch (err) {
    // yaml reports both as a ReferenceError; its messages are the only way to tell them apart.
    if (!(err instanceof ReferenceError)) throw err;
    const dangling = /^Unresolved alias .*: (.+)$/.exec(err.message)?.[1];
    if (!dangling && !err.message.startsWith('Excessive alias count')) throw err;
    let offset = 0;
    visit(doc, {
      Alias(_, node) {
        if (dangling !== undefined && node.source !== dangling) return undefined;
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const { line, col } = lineCounter.linePos(offset);
    const message = dangling
      ? `the alias *${dangling} has no anchor &${dangling} before it; put the anchor on a value above, or write the value out`
      : `aliases expand too far (more than ${YAML_LIMITS.aliasCount}); write the values out instead of repeating aliases`;
    throw new ConfigError(file, [{ line, col, path: '', message }]);
  }
}

/** Reads and loads an ml.yaml file; `path` is also how problems name the file. */
export async function readMlYaml(path: string): Promise<MlConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    const message =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'not found; every model repository needs an ml.yaml at its root (see templates/model-repo/ml.yaml)'
        : code === 'EISDIR'
          ? 'is a folder; ml.yaml must be a file (see templates/model-repo/ml.yaml)'
          : code === 'EACCES' || code === 'EPERM'
            ? 'cannot be read (permission denied); let the user running bramble read it'
            : `cannot be read (${code || describeError(err)})`;
    throw new ConfigError(path, [{ path: '', message }]);
  }
  return loadMlYaml(text, path);
}

// ---------------------------------------------------------------------------------------------------------------
// Schema validation

type Segment = string | number;

/** A problem before it has a position: the path of the node, and whether it is the key or the value that is wrong. */
interface Finding {
  path: Segment[];
  at: 'key' | 'value' | 'parent';
  message: string;
}

/** The parts of a JSON Schema node this module reads. */
interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  propertyNames?: SchemaNode;
  required?: string[];
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minProperties?: number;
  maxProperties?: number;
  minItems?: number;
  'x-expected'?: string;
}

const ROOT_SCHEMA = mlSchema as SchemaNode & { $defs: Record<string, SchemaNode> };

function mlValidator(): ValidateFunction {
  return schemaValidator(ML_YAML.schemaId);
}

/** The schema behind the given one, following a local `$ref` (the only kind ml.schema.json uses). */
function resolveSchema(node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const name = node.$ref.replace('#/$defs/', '');
  const target = ROOT_SCHEMA.$defs[name];
  if (!target) throw new Error(`ml.schema.json: unresolvable $ref ${node.$ref}`);
  return { ...target, ...node, $ref: undefined };
}

function pointerToPath(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function reduceAjvErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  // anyOf reports every branch's errors; keep only the branch the value was meant for (the one whose own type
  // fits), or else one summary naming every alternative. propertyNames repeats its inner error; keep the outer.
  const dropped = new Set<ErrorObject>();
  const within = (e: ErrorObject, parent: ErrorObject) =>
    e.instancePath === parent.instancePath || e.instancePath.startsWith(`${parent.instancePath}/`);
  const branches = (parent: ErrorObject) =>
    errors.filter((e) => e !== parent && within(e, parent) && e.schemaPath.startsWith(`${parent.schemaPath}/`));
  const sorted = [...errors].sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const e of sorted) {
    if (dropped.has(e)) continue;
    // Errors from inside propertyNames carry the name; the outer propertyNames error says it once.
    if ('propertyName' in e && e.keyword !== 'propertyNames') {
      dropped.add(e);
    } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      const inner = branches(e);
      const byBranch = new Map<string, ErrorObject[]>();
      for (const i of inner) {
        const branch = i.schemaPath.slice(e.schemaPath.length + 1).split('/')[0];
        byBranch.set(branch, [...(byBranch.get(branch) ?? []), i]);
      }
      const fitting = [...byBranch.values()].filter((list) => list.every((i) => i.instancePath.length > e.instancePath.length));
      for (const i of inner) dropped.add(i);
      if (fitting.length === 1) {
        dropped.add(e);
        for (const i of fitting[0]) dropped.delete(i);
      }
    }
  }
  return errors.filter((e) => !dropped.has(e));
}

function describeAjvError(error: ErrorObject): Finding[] {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const parent = resolveSchema((error.parentSchema ?? {}) as SchemaNode);
  const value: unknown = error.data;
  const got = ` (got ${shown(value)})`;

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      return [{ path: [...path, key], at: 'key', message: unknownKey(key, allowed) }];
    }
    case 'propertyNames': {
      const key = String(params.propertyName);
      const names = resolveSchema(parent.propertyNames ?? {});
      if (names.enum) return [{ path: [...path, key], at: 'key', message: unknownKey(key, names.enum.map(String)) }];
      return [{ path: [...path, key], at: 'key', message: `the name must be ${describe(names)} (got ${shown(key)})` }];
    }
    case 'required':
      return [{ path, at: 'parent', message: `missing required key ${shown(params.missingProperty)}` }];
    case 'enum': {
      const allowed = (parent.enum ?? []).map(String);
      const guess = typeof value === 'string' ? nearest(value, allowed) : undefined;
      return [{ path, at: 'value', message: `must be ${describe(parent)}${got}${guess ? `; did you mean ${shown(guess)}?` : ''}` }];
    }
    case 'minProperties':
      if (parent.maxProperties === 1 && parent.properties) {
        return [{ path, at: 'value', message: `must have one of the keys ${Object.keys(parent.properties).join(', ')}` }];
      }
      return [{ path, at: 'value', message: 'must not be empty' }];
    case 'maxProperties': {
      const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
      if (parent.maxProperties === 1) {
        return [{ path, at: 'value', message: `has ${keys.length} keys (${keys.join(', ')}); each step has exactly one, so make each its own list item` }];
      }
      return [{ path, at: 'value', message: `must have at most ${parent.maxProperties} keys` }];
    }
    case 'minItems': {
      const n = Number(params.limit);
      return [{ path, at: 'value', message: `must list at least ${n} ${n === 1 ? 'item' : 'items'}` }];
    }
    case 'uniqueItems': {
      const j = Number(params.i);
      const item: unknown = Array.isArray(value) ? value[j] : undefined;
      return [{ path: [...path, j], at: 'value', message: `lists ${shown(item)} twice; each may appear once` }];
    }
    case 'minLength':
      return [{ path, at: 'value', message: 'must not be empty' }];
    case 'type':
      if (path.length === 0) {
        const needed = orList(parent.required ?? []).replace(' or ', ' and ');
        const what = value === null ? 'is empty' : `must be a mapping${got}`;
        return [{ path, at: 'value', message: `${what}; an ml.yaml needs at least the keys ${needed}` }];
      }
      return [{ path, at: 'value', message: `must be ${describe(parent)}${got}` }];
    case 'const':
    case 'pattern':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'anyOf':
    case 'oneOf':
      return [{ path, at: 'value', message: `must be ${describe(parent)}${got}` }];
    default:
      return [{ path, at: 'value', message: `${error.message ?? 'is not valid'}${got}` }];
  }
}

function unknownKey(key: string, allowed: readonly string[]): string {
  const guess = nearest(key, allowed);
  if (guess) return `unknown key ${shown(key)}; did you mean ${shown(guess)}?`;
  return `unknown key ${shown(key)}; allowed: ${allowed.join(', ')}`;
}

/** What a schema node accepts, as a phrase that follows "must be". */
function describe(raw: SchemaNode): string {
  const node = resolveSchema(raw);
  if (node['x-expected']) return node['x-expected'];
  if (node.const !== undefined) return shown(node.const);
  if (node.enum) return node.enum.length <= 2 ? orList(node.enum.map(shown)) : `one of ${node.enum.map(shown).join(', ')}`;
  if (node.anyOf) {
    return orList(node.anyOf.flatMap((branch) => {
      const b = resolveSchema(branch);
      return b.enum ? b.enum.map(shown) : [describe(b)];
    }));
  }
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  return orList(types.map((t) => (t === 'boolean' && types.length > 1 ? 'a boolean' : describeType(t, node))));
}

function describeType(type: string, node: SchemaNode): string {
  switch (type) {
    case 'integer':
      return `an integer${describeRange(node)}`;
    case 'number':
      return `a number${describeRange(node)}`;
    case 'string':
      return node.minLength ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array':
      return node.items ? `a list of ${plural(describe(node.items))}` : 'a list';
    case 'object':
      return node.required?.length ? `a mapping { ${node.required.map((k) => `${k}: …`).join(', ')} }` : 'a mapping';
    default:
      return type;
  }
}

function describeRange(node: SchemaNode): string {
  const { minimum: min, maximum: max, exclusiveMinimum: xmin, exclusiveMaximum: xmax } = node;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(`≥ ${min}`);
  if (xmin !== undefined) parts.push(`> ${xmin}`);
  if (max !== undefined) parts.push(`≤ ${max}`);
  if (xmax !== undefined) parts.push(`< ${xmax}`);
  return parts.length ? ` ${parts.join(' and ')}` : '';
}

function plural(phrase: string): string {
  return phrase
    .replace(/^an? non-empty string$/, 'non-empty strings')
    .replace(/^an? (integer|number|string|mapping)/, '$1s');
}

function orList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'a valid value';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** A value as a message shows it: strings quoted, mappings and lists by kind. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Positions

function displayPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** The offset of a path's key or value in the document; the nearest existing ancestor when the node is not there. */
function locate(doc: Document, path: readonly Segment[], at: Finding['at']): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  // Where the parent mapping is named (`data:`), for problems about the mapping as a whole.
  let keyOffset = offset;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return offset;
      const keyStart = rangeStart(pair.key) ?? offset;
      if (i === path.length - 1 && at === 'key') return keyStart;
      node = pair.value;
      keyOffset = keyStart;
      // An empty value (`trees:`) has no text of its own; point at its key.
      offset = isScalar(node) && node.value === null && node.source === '' ? keyStart : (rangeStart(node) ?? keyStart);
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      offset = rangeStart(node) ?? offset;
      keyOffset = offset;
    } else {
      return offset;
    }
  }
  return at === 'parent' ? keyOffset : offset;
}

/** The key that starts at an offset (yaml reports a duplicate key by position only). */
function keyAt(doc: Document, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && rangeStart(pair.key) === offset) {
        found = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
    const start: unknown = node.range[0];
    return typeof start === 'number' ? start : undefined;
  }
  return undefined;
}

function place(doc: Document, lineCounter: LineCounter, finding: Finding): ConfigProblem {
  const offset = locate(doc, finding.path, finding.at);
  const { line, col } = lineCounter.linePos(offset);
  return { line, col, path: displayPath(finding.path), message: finding.message };
}

/** Document order, each distinct problem once. */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.col ?? 0) - (b.p.col ?? 0) || a.i - b.i)
    .map(({ p }) => ({ line: p.line, col: p.col, path: p.path, message: p.message }))
    .filter((p) => {
      const key = JSON.stringify(p);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Rules beyond the schema

const METRICS_BY_TASK: Record<Task, readonly Metric[]> = {
  classification: CLASSIFICATION_METRICS,
  regression: REGRESSION_METRICS,
};

function checkMetric(config: MlConfig, metric: Metric, path: Segment[], at: Finding['at'], out: Finding[]): boolean {
  const allowed = METRICS_BY_TASK[config.task];
  if (allowed.includes(metric)) return true;
  const other = config.task === 'classification' ? 'regression' : 'classification';
  out.push({ path, at, message: `${shown(metric)} is a ${other} metric but task is ${config.task}; use ${orList([...allowed])}` });
  return false;
}

function checkSemantics(config: MlConfig): Finding[] {
  const out: Finding[] = [];
  const { target, id } = config.data;

  if (id !== undefined && id === target) {
    out.push({ path: ['data', 'id'], at: 'value', message: `is the same column as data.target (${shown(target)}); the id is never a feature, so it cannot be the target` });
  }

  config.metrics.forEach((m, i) => checkMetric(config, m, ['metrics', i], 'value', out));

  checkSplit(config, out);
  checkFeatures(config, out);
  checkDataSchema(config, out);
  checkEnvironments(config, out);

  if (config.monitor?.performance) {
    const perf = config.monitor.performance;
    checkMetric(config, perf.metric, ['monitor', 'performance', 'metric'], 'value', out);
    if (perf.min === undefined && perf.max === undefined) {
      out.push({ path: ['monitor', 'performance'], at: 'parent', message: 'needs min, max or both (the bounds that raise an alert)' });
    }
  }
  return out;
}

function checkSplit(config: MlConfig, out: Finding[]): void {
  const { split, task, data } = config;
  if (split.stratify && task === 'regression') {
    out.push({ path: ['split', 'stratify'], at: 'value', message: 'stratifying needs classes, but task is regression; remove it' });
  }
  if (split.by !== undefined) {
    if (split.stratify) {
      out.push({ path: ['split', 'stratify'], at: 'value', message: 'cannot be combined with split.by (a time split keeps time order); remove one of them' });
    }
    if (split.by === data.target || split.by === data.id) {
      const role = split.by === data.target ? 'the target' : 'the id column';
      out.push({ path: ['split', 'by'], at: 'value', message: `${shown(split.by)} is ${role}; split by a time column` });
    }
  }
}

function featureRole(config: MlConfig, column: string): string | undefined {
  if (column === config.data.target) return `${shown(column)} is the target (data.target); it cannot be used as a feature`;
  if (column === config.data.id) return `${shown(column)} is the id column (data.id), which is never a feature; remove it`;
  return undefined;
}

function checkFeatures(config: MlConfig, out: Finding[]): void {
  config.features.forEach((step, i) => {
    const [kind, body] = Object.entries(step)[0] as [string, unknown];
    const base: Segment[] = ['features', i, kind];
    if (Array.isArray(body)) {
      body.forEach((column: unknown, j) => {
        const problem = typeof column === 'string' ? featureRole(config, column) : undefined;
        if (problem) out.push({ path: [...base, j], at: 'value', message: problem });
      });
      return;
    }
    for (const [column, rule] of Object.entries(body as Record<string, unknown>)) {
      const problem = featureRole(config, column);
      if (problem) out.push({ path: [...base, column], at: 'key', message: problem });
      if (kind === 'bucketize' && Array.isArray(rule)) {
        const edges = rule as number[];
        for (let k = 1; k < edges.length; k++) {
          if (!(edges[k] > edges[k - 1])) {
            out.push({ path: [...base, column, k], at: 'value', message: `bucket edges must increase (${edges[k]} is not above ${edges[k - 1]})` });
          }
        }
      }
    }
  });
}

function checkDataSchema(config: MlConfig, out: Finding[]): void {
  const rows = config.schema?.rows;
  if (rows?.min !== undefined && rows.max !== undefined && rows.min > rows.max) {
    out.push({ path: ['schema', 'rows', 'max'], at: 'value', message: `is below rows.min (${rows.min})` });
  }
  for (const [name, spec] of Object.entries(config.schema?.columns ?? {})) {
    const base: Segment[] = ['schema', 'columns', name];
    const numeric = spec.type === 'integer' || spec.type === 'number';
    for (const key of ['min', 'max'] as const) {
      const bound = spec[key];
      if (bound === undefined) continue;
      if (spec.type === 'date') {
        // yaml's core schema reads an unquoted 2020-01-01 as a string; it must be an instant parseInstant reads.
        if (typeof bound !== 'string' || Number.isNaN(parseInstant(bound))) {
          out.push({ path: [...base, key], at: 'value', message: `must be an ISO 8601 date such as 2020-01-01 or 2020-01-01T00:00:00Z (got ${shown(bound)})` });
        }
      } else if (!numeric) {
        out.push({ path: [...base, key], at: 'key', message: `only applies to integer and number columns (this one is ${spec.type})` });
      } else if (typeof bound !== 'number') {
        out.push({ path: [...base, key], at: 'value', message: `must be a number for a ${spec.type} column (got ${shown(bound)})` });
      }
    }
    const [lo, hi] = spec.type === 'date' ? [parseInstant(String(spec.min)), parseInstant(String(spec.max))] : [spec.min, spec.max];
    if ((numeric || spec.type === 'date') && typeof lo === 'number' && typeof hi === 'number' && lo > hi) {
      out.push({ path: [...base, 'max'], at: 'value', message: `is below min (${spec.min})` });
    }
    if (spec.values !== undefined && spec.type !== 'category') {
      out.push({ path: [...base, 'values'], at: 'key', message: `only applies to category columns (this one is ${spec.type})` });
    }
    if (spec.regex !== undefined) {
      if (spec.type !== 'string' && spec.type !== 'category') {
        out.push({ path: [...base, 'regex'], at: 'key', message: `only applies to string and category columns (this one is ${spec.type})` });
      } else {
        try {
          new RegExp(spec.regex);
        } catch (err) {
          out.push({ path: [...base, 'regex'], at: 'value', message: `is not a valid regular expression (${err instanceof Error ? err.message : String(err)})` });
        }
      }
    }
  }
}

function checkEnvironments(config: MlConfig, out: Finding[]): void {
  const names = Object.keys(config.environments);
  const owner = new Map<string, string>();
  for (const [name, env] of Object.entries(config.environments)) {
    const first = owner.get(env.branch);
    if (first !== undefined) {
      out.push({ path: ['environments', name, 'branch'], at: 'value', message: `branch ${shown(env.branch)} already deploys to ${first}; each environment needs its own branch` });
    } else {
      owner.set(env.branch, name);
    }
  }

  const compare = config.compare;
  if (!compare) return;
  if (!names.includes(compare.against)) {
    const guess = nearest(compare.against, names);
    const message = names.length === 0
      ? `${shown(compare.against)} is not an environment, and none are defined; add it under environments`
      : `${shown(compare.against)} is not an environment; ${guess ? `did you mean ${shown(guess)}?` : `use one of ${names.join(', ')}`}`;
    out.push({ path: ['compare', 'against'], at: 'value', message });
  }
  for (const [metric, gate] of Object.entries(compare.gates) as [Metric, Gate][]) {
    const path: Segment[] = ['compare', 'gates', metric];
    if (!checkMetric(config, metric, path, 'key', out)) continue;
    if (!config.metrics.includes(metric)) {
      out.push({ path, at: 'key', message: `${metric} is not listed under metrics, so it is never computed; add it to metrics or remove this gate` });
    }
    if (gate.min !== undefined && gate.max !== undefined && gate.min > gate.max) {
      out.push({ path: [...path, 'max'], at: 'value', message: `is below min (${gate.min}), so no model can pass` });
    }
  }
}
