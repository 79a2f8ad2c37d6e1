// The features repository: features.yaml read, checked and typed. Decisions:
//
// Store layout. A features repository is a git repository holding `features.yaml`, its sample data and
// `manifests/<view>/<version>.json`; the data itself lives in the offline store, a folder outside git:
//
//   <store>/<view>/<version>.parquet                  one immutable partition per ingested batch
//   <store>/quarantine/<view>/<stamp>/                a refused batch (batch.<ext> + report.json), never merged
//   <repo>/manifests/<view>/<version>.json            { view, version, sha256, rows, event_time: {min, max}, source,
//                                                      schema, ingested }, committed by `bramble ingest`
//
// <store> is features.yaml's `store.path` (default `.bramble/store`, inside the repository and gitignored), or
// BRAMBLE_STORE / --store, which may name any folder the host mounts. A version is the ingest day in UTC,
// `2026.12.01`, then `2026.12.01.2`, `2026.12.01.3` for later batches that day; versions sort by their numbers, so
// the manifests in a commit say which partitions a view had then ("train on data version 2026.12.01" is a git
// ref), and the sha256 in a manifest is the partition file's, checked on every read.
//
// features.yaml is checked like ml.yaml (src/config/ml-yaml.ts): the JSON Schema in schemas/features.schema.json
// first, then the rules across keys here, every problem at its line and column.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { errorClass } from '../errors.js';
import { errnoCode } from '../fs/codes.js';
import { formatProblem, parseCheckedYaml, type ColumnSpec, type ConfigProblem } from '../config/ml-yaml.js';
import { place, sortProblems, type Finding } from '../config/positions.js';
import { orList, shown } from '../config/schema-messages.js';
import { nearest } from '../errors.js';
import type { FeatureStep } from '../features/transforms.js';

/** Names that cross a boundary: file and folder names of a features repository and its store. */
export const FEATURE_REPO = {
  file: 'features.yaml',
  schemaId: 'https://bramble.dev/schemas/features.schema.json',
  manifests: 'manifests',
  quarantine: 'quarantine',
  defaultStore: '.bramble/store',
  storeEnv: 'BRAMBLE_STORE',
  manifestFormat: 'bramble-manifest',
} as const;

export class FeaturesConfigError extends errorClass('E_FEATURES_CONFIG') {
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'), { file, problems });
    this.problems = problems;
  }
}

export type SourceSpec =
  | { readonly name: string; readonly kind: 'path'; readonly path: string }
  | { readonly name: string; readonly kind: 'url'; readonly url: string; readonly format?: 'csv' | 'json' | 'arrow' | 'parquet' }
  | { readonly name: string; readonly kind: 'postgres'; readonly query: string; readonly urlEnv: string };

export interface EntitySpec {
  readonly name: string;
  /** The key columns, in order. */
  readonly keys: readonly string[];
}

export interface ViewSpec {
  readonly name: string;
  readonly entity: string;
  /** The entity's key columns. */
  readonly keys: readonly string[];
  readonly source: string;
  readonly eventTime: string;
  readonly createdTime?: string;
  /** As written (`30d`), and in milliseconds (> 0). */
  readonly ttl: string;
  readonly ttlMs: number;
  readonly onMissing: 'error' | 'null';
  /** Every column of a batch, key and time columns included (added as string/date when not declared). */
  readonly columns: Readonly<Record<string, ColumnSpec>>;
  /** The view's own columns: `columns` less the keys and time columns. */
  readonly features: readonly string[];
  /** Stateless steps (derive, drop, impute with a constant), applied offline and online alike. */
  readonly steps: readonly FeatureStep[];
}

/** A loaded features repository. */
export interface FeatureRepo {
  /** The repository's folder, absolute. */
  readonly dir: string;
  readonly name: string;
  /** The offline store's folder, absolute. */
  readonly store: string;
  readonly schedule?: string;
  readonly entities: Readonly<Record<string, EntitySpec>>;
  readonly sources: Readonly<Record<string, SourceSpec>>;
  readonly views: Readonly<Record<string, ViewSpec>>;
}

/** features.yaml as written (after the schema's defaults). */
interface RawRepo {
  name: string;
  store?: { path: string };
  ingest?: { schedule: string };
  entities: Record<string, { key: string | string[] }>;
  sources: Record<string, { path?: string; url?: string; format?: 'csv' | 'json' | 'arrow' | 'parquet'; postgres?: { query: string; url_env: string } }>;
  views: Record<string, RawView>;
}

interface RawView {
  entity: string;
  source: string;
  event_time: string;
  created_time?: string;
  ttl: string;
  on_missing: 'error' | 'null';
  columns: Record<string, ColumnSpec>;
  features: FeatureStep[];
}

export interface LoadRepoOptions {
  /** The environment (BRAMBLE_STORE); passed in, never read here. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** --store: wins over the environment and features.yaml. */
  readonly store?: string;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d` as milliseconds; the schema has checked the form. */
export function durationMs(text: string): number {
  return Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1)];
}

/** Reads `<dir>/features.yaml`; throws a FeaturesConfigError listing every problem at its place. */
export async function loadFeatureRepo(dir: string, options: LoadRepoOptions = {}): Promise<FeatureRepo> {
  const root = resolve(dir);
  const file = join(root, FEATURE_REPO.file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    throw new FeaturesConfigError(file, [{ path: '', message: 'not found; a features repository has a features.yaml at its root (see templates/features-repo/features.yaml)' }]);
  }
  return parseFeatureRepo(text, root, options, FEATURE_REPO.file);
}

/** Parses features.yaml text for the repository in `root`; `file` names it in messages. */
export function parseFeatureRepo(text: string, root: string, options: LoadRepoOptions = {}, file: string = FEATURE_REPO.file): FeatureRepo {
  const fail = (problems: ConfigProblem[]): FeaturesConfigError => new FeaturesConfigError(file, problems);
  const { doc, lineCounter, data } = parseCheckedYaml(text, file, FEATURE_REPO.schemaId, fail);
  const raw = data as RawRepo;
  const findings: Finding[] = [];
  const storePath = raw.store?.path ?? FEATURE_REPO.defaultStore;
  if (isAbsolute(storePath) || relative(root, resolve(root, storePath)).startsWith('..')) {
    findings.push({ path: ['store', 'path'], at: 'value', message: `${shown(storePath)} is outside the repository; give a folder inside it, or name a host folder with ${FEATURE_REPO.storeEnv} or --store` });
  }
  const views: Record<string, ViewSpec> = {};
  for (const [name, view] of Object.entries(raw.views)) {
    const spec = viewSpec(raw, name, view, findings);
    if (spec) views[name] = spec;
  }
  if (findings.length > 0) throw fail(sortProblems(findings.map((f) => place(doc, lineCounter, f))));
  const override = options.store ?? options.env?.[FEATURE_REPO.storeEnv];
  return {
    dir: root,
    name: raw.name,
    store: override !== undefined && override !== '' ? resolve(override) : resolve(root, storePath),
    ...(raw.ingest ? { schedule: raw.ingest.schedule } : {}),
    entities: Object.fromEntries(Object.entries(raw.entities).map(([n, e]) => [n, { name: n, keys: typeof e.key === 'string' ? [e.key] : e.key }])),
    sources: Object.fromEntries(Object.entries(raw.sources).map(([n, s]) => [n, sourceSpec(n, s)])),
    views,
  };
}

function sourceSpec(name: string, raw: RawRepo['sources'][string]): SourceSpec {
  if (raw.postgres) return { name, kind: 'postgres', query: raw.postgres.query, urlEnv: raw.postgres.url_env };
  if (raw.url !== undefined) return { name, kind: 'url', url: raw.url, ...(raw.format ? { format: raw.format } : {}) };
  return { name, kind: 'path', path: raw.path ?? '' };
}

const STATELESS = 'derive, drop, or impute with { constant: … }';

/** The rules across keys for one view; problems go to `out`, and undefined is returned when the view is unusable. */
function viewSpec(raw: RawRepo, name: string, view: RawView, out: Finding[]): ViewSpec | undefined {
  const at = (key: string): Finding['path'] => ['views', name, key];
  const before = out.length;
  const entity = raw.entities[view.entity];
  if (!entity) out.push({ path: at('entity'), at: 'value', message: unknownName('entity', view.entity, Object.keys(raw.entities)) });
  const source = raw.sources[view.source];
  if (!source) out.push({ path: at('source'), at: 'value', message: unknownName('source', view.source, Object.keys(raw.sources)) });
  else checkSource(view.source, source, out);
  const ttlMs = durationMs(view.ttl);
  if (!(ttlMs > 0)) out.push({ path: at('ttl'), at: 'value', message: `must be longer than 0 (got ${shown(view.ttl)}); a value that is never valid would join as missing everywhere — give a duration such as 30d` });
  const keys = entity ? (typeof entity.key === 'string' ? [entity.key] : entity.key) : [];
  const columns: Record<string, ColumnSpec> = { ...view.columns };
  for (const key of keys) columns[key] ??= { type: 'string', nullable: false, unique: false };
  for (const time of [view.event_time, view.created_time]) {
    if (time === undefined) continue;
    const declared = columns[time];
    if (declared && declared.type !== 'date') {
      out.push({ path: ['views', name, 'columns', time, 'type'], at: 'value', message: `${shown(time)} is the view's ${time === view.event_time ? 'event_time' : 'created_time'}, so its type must be date (got ${shown(declared.type)})` });
    }
    columns[time] ??= { type: 'date', nullable: time !== view.event_time, unique: false };
  }
  if (view.created_time !== undefined && view.created_time === view.event_time) {
    out.push({ path: at('created_time'), at: 'value', message: `is the same column as event_time; name the column that says when each row was written, or leave created_time out` });
  }
  view.features.forEach((step, i) => {
    const kind = Object.keys(step)[0];
    const constantOnly = 'impute' in step && Object.values(step.impute).every((rule) => typeof rule === 'object');
    if (kind !== 'derive' && kind !== 'drop' && !constantOnly) {
      out.push({ path: ['views', name, 'features', i], at: 'value', message: `a ${kind} step is fitted on training data, so it cannot run the same way offline and online; a view's steps are ${STATELESS} (fitted steps go in ml.yaml)` });
    }
  });
  if (out.length > before || !entity || !source) return undefined;
  const special = new Set([...keys, view.event_time, ...(view.created_time ? [view.created_time] : [])]);
  return {
    name,
    entity: view.entity,
    keys,
    source: view.source,
    eventTime: view.event_time,
    ...(view.created_time ? { createdTime: view.created_time } : {}),
    ttl: view.ttl,
    ttlMs,
    onMissing: view.on_missing,
    columns,
    features: Object.keys(columns).filter((c) => !special.has(c)),
    steps: view.features,
  };
}

function checkSource(name: string, source: RawRepo['sources'][string], out: Finding[]): void {
  const kinds = ['path', 'url', 'postgres'].filter((k) => k in source);
  if (kinds.length !== 1) {
    out.push({ path: ['sources', name], at: 'parent', message: `give exactly one of path, url or postgres (got ${kinds.length === 0 ? 'none' : kinds.join(' and ')})` });
  } else if (source.format !== undefined && kinds[0] !== 'url') {
    out.push({ path: ['sources', name, 'format'], at: 'key', message: `format is for url sources; a ${kinds[0]} source's format is ${kinds[0] === 'path' ? "the file's extension" : 'its columns'}` });
  } else if (source.path !== undefined && (isAbsolute(source.path) || source.path.split(/[\\/]/).includes('..'))) {
    out.push({ path: ['sources', name, 'path'], at: 'value', message: `${shown(source.path)} is outside the repository; give a path inside it, or serve the file over http(s) and use url` });
  }
}

function unknownName(what: string, name: string, known: string[]): string {
  const guess = nearest(name, known);
  return `no ${what} ${shown(name)}${guess ? `; did you mean ${shown(guess)}?` : `; declared: ${orList(known.map((k) => shown(k)))}`}`;
}

/** A view by name, or a located-enough error naming the nearest. */
export function getView(repo: FeatureRepo, name: string): ViewSpec {
  const view = repo.views[name];
  if (view) return view;
  throw new FeaturesConfigError(join(repo.dir, FEATURE_REPO.file), [{ path: 'views', message: unknownName('view', name, Object.keys(repo.views)) }]);
}

// ---------------------------------------------------------------------------------------------------------------
// Manifests

/** What git holds for one partition: `manifests/<view>/<version>.json`. */
export interface Manifest {
  readonly format: typeof FEATURE_REPO.manifestFormat;
  readonly view: string;
  readonly version: string;
  /** Of the partition file `<store>/<view>/<version>.parquet`. */
  readonly sha256: string;
  /** Of the batch as it arrived (the source's bytes): the same batch again is a no-op. */
  readonly batch_sha256: string;
  readonly rows: number;
  /** ISO 8601 instants. */
  readonly event_time: { readonly min: string; readonly max: string };
  readonly source: string;
  readonly schema: Readonly<Record<string, string>>;
  /** When it was ingested, ISO 8601. */
  readonly ingested: string;
}

/** Orders versions by their numbers: 2026.12.1 < 2026.12.01.2 < 2026.12.02. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const VERSION_PATTERN = /^\d{4}\.\d{2}\.\d{2}(\.\d+)?$/;

export function partitionPath(repo: FeatureRepo, view: string, version: string): string {
  return join(repo.store, view, `${version}.parquet`);
}

export function manifestPath(repo: FeatureRepo, view: string, version: string): string {
  return join(repo.dir, FEATURE_REPO.manifests, view, `${version}.json`);
}
