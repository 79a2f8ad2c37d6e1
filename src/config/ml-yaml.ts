// Loads ml.yaml: YAML with source positions, checked against schemas/ml.schema.json (the single source of truth for
// its shape, defaults and descriptions), then against the rules a JSON Schema cannot express. Every problem is
// reported at once, in document order, as `ml.yaml:14:5 model.params.trees: must be an integer ≥ 1 (got "lots")`.
import { readFile } from 'node:fs/promises';
import { schemaValidator } from '../schemas.js';
import { isMap, isSeq, LineCounter, parseDocument, Parser, visit } from 'yaml';
import type { CST, Document } from 'yaml';
import { describeError, errorClass } from '../errors.js';
import { errnoCode } from '../fs/codes.js';
import type { DeclaredType } from '../data/load-options.js';
import type { FeatureStep } from '../features/transforms.js';
import { REPO_LAYOUT } from '../repo-layout.js';
import { DEFAULT_METRICS, type Gate, type Metric } from '../model/metric-names.js';
import { checkSemantics } from './ml-rules.js';
import { keyAt, place, sortProblems } from './positions.js';
import { describeAjvError, reduceAjvErrors, shown } from './schema-messages.js';

/** Names that cross a boundary: the file's name, the schema's identity. */
export const ML_YAML = {
  file: REPO_LAYOUT.mlYaml,
  schemaId: 'https://bramble.dev/schemas/ml.schema.json',
} as const;

export type Task = 'classification' | 'regression';
/** A column type in ml.yaml's schema block: the types the data readers take. */
export type ColumnType = DeclaredType;

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

/** A swept parameter: the values to try, or a numeric range (random search draws from it). */
export type SweepValues = (string | number | boolean | null)[] | { min: number; max: number; log?: boolean };

/** ml.yaml's `sweep:` (docs/sweep.md): the search `bramble sweep` runs with k-fold cross-validation. */
export interface SweepConfig {
  strategy: 'grid' | 'random' | 'halving';
  params: Partial<Record<keyof ForestParamsConfig, SweepValues>> & Record<string, SweepValues>;
  trials?: number;
  folds: number;
  metric?: Metric;
  seed?: number;
}

export interface Environment {
  branch: string;
  approval: boolean;
  /** A canary release's split (the schema fills in sticky: "id"). */
  canary?: { weight: number; sticky: string };
}

/** A loaded ml.yaml with the schema's defaults filled in. Written by hand to match schemas/ml.schema.json. */
export interface MlConfig {
  name: string;
  task: Task;
  data: {
    train: string;
    target: string;
    id?: string;
    skip_missing_target?: boolean;
    missing?: string[];
    /** The training set from a feature store: data.train is then the entity table (docs/feature-store.md). */
    store?: { repo: string; event_time: string; views: string[] };
  };
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
    /** `30m`, `6h`, `1d`: see monitorWindowMs. */
    window: string;
    min_rows: number;
    retrain?: { schedule: string };
    drift: { share: number };
    performance?: { metric: Metric; min?: number; max?: number };
    on_alert: ('issue' | 'retrain')[];
  };
  sweep?: SweepConfig;
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

export function formatProblem(file: string, p: ConfigProblem): string {
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
  const { doc, lineCounter, data } = parseCheckedYaml(text, file, ML_YAML.schemaId, (problems) => new ConfigError(file, problems));
  const config = data as MlConfig;
  config.metrics ??= [...DEFAULT_METRICS[config.task]];

  const semantic = checkSemantics(config);
  if (semantic.length > 0) throw new ConfigError(file, sortProblems(semantic.map((f) => place(doc, lineCounter, f))));
  return config;
}

/** A YAML file parsed with positions and checked against a schema in schemas/ (ml.yaml, features.yaml). */
export interface CheckedYaml {
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  /** The document as plain data, the schema's defaults filled in. */
  readonly data: unknown;
}

/**
 * The steps every YAML config Bramble reads shares: nesting and alias limits, syntax errors, list keys, then the
 * JSON Schema; each failure becomes one error (from `fail`) listing every problem at once, in document order.
 */
export function parseCheckedYaml(text: string, file: string, schemaId: string, fail: (problems: ConfigProblem[]) => Error): CheckedYaml {
  const tooDeep = nestingProblem(text);
  if (tooDeep) throw fail([tooDeep]);
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
        problems.push({ line, col, path: '', message: `a key is a ${isSeq(pair.key) ? 'list' : 'mapping'}; keys in ${file.slice(file.lastIndexOf('/') + 1)} are plain names, such as model or trees` });
      },
    });
  }
  if (problems.length > 0) throw fail(sortProblems(problems));

  const data = aliasesResolved(doc, lineCounter, fail);
  const validate = schemaValidator(schemaId);
  if (!validate(data)) {
    const found = reduceAjvErrors(validate.errors ?? []).flatMap(describeAjvError);
    throw fail(sortProblems(found.map((f) => place(doc, lineCounter, f))));
  }
  return { doc, lineCounter, data };
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
function aliasesResolved(doc: Document, lineCounter: LineCounter, fail: (problems: ConfigProblem[]) => Error): unknown {
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
    throw fail([{ line, col, path: '', message }]);
  }
}

/** Reads and loads an ml.yaml file; `path` is also how problems name the file. */
export async function readMlYaml(path: string): Promise<MlConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
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
