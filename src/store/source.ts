// Pulling a source's batch: a file inside the features repository, an http(s) URL, or a PostgreSQL query. Each
// answers with bytes and a format, so that everything after (validation, the batch's sha256 that makes re-ingest a
// no-op, quarantine) is the same for all three. Decisions:
// - A path is resolved with symlinks and must stay inside the repository: ingest runs on the runner with the
//   runner's rights, and a features.yaml is not to read whatever the runner may.
// - An http answer is refused when it is not 2xx, or is HTML (a login page or a proxy's error page answered 200
//   is the usual way a URL "works" and yields no data).
// - A query's rows become a JSON array of records (dates as ISO 8601 text), the form the JSON reader takes; the
//   connection string comes from an environment variable, never from features.yaml, which git holds.
import { readFile, realpath } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import pg from 'pg';
import { describeError, errorClass } from '../errors.js';
import { errnoCode } from '../fs/codes.js';
import type { DataFormat } from '../data/load-options.js';
import type { FeatureRepo, SourceSpec } from './spec.js';

export class StoreSourceError extends errorClass('E_STORE_SOURCE') {}

/** One batch as it arrived. */
export interface Batch {
  readonly bytes: Uint8Array;
  readonly format: DataFormat;
  /** Where it came from, for messages and the manifest: a path, a URL, or `postgres:<ENV>`. */
  readonly origin: string;
}

export interface SourceDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** How long an http source or the database may take. */
  readonly timeoutMs?: number;
}

const FORMATS: Readonly<Record<string, DataFormat>> = { csv: 'csv', txt: 'csv', json: 'json', arrow: 'arrow', feather: 'arrow', ipc: 'arrow', arrows: 'arrow', parquet: 'parquet' };

function formatOfName(name: string): DataFormat | undefined {
  const dot = name.lastIndexOf('.');
  return dot > name.lastIndexOf('/') ? FORMATS[name.slice(dot + 1).toLowerCase()] : undefined;
}

/** The source's current batch. */
export async function pullSource(repo: FeatureRepo, source: SourceSpec, deps: SourceDeps): Promise<Batch> {
  if (source.kind === 'path') return pullPath(repo, source.name, source.path);
  if (source.kind === 'url') return pullUrl(source.name, source.url, source.format, deps.timeoutMs ?? 60_000);
  return pullPostgres(source.name, source.query, source.urlEnv, deps);
}

async function pullPath(repo: FeatureRepo, name: string, path: string): Promise<Batch> {
  const full = resolve(repo.dir, path);
  let real: string;
  try {
    real = await realpath(full);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    throw new StoreSourceError(`source ${name}: ${path} does not exist in ${repo.dir}; check sources.${name}.path in features.yaml`, { source: name, path });
  }
  const inside = relative(await realpath(repo.dir), real);
  if (inside.startsWith(`..${sep}`) || inside === '..') {
    throw new StoreSourceError(`source ${name}: ${path} leads outside the repository (to ${real}); copy the file into the repository, or serve it over http(s)`, { source: name, path });
  }
  const format = formatOfName(path);
  if (!format) throw new StoreSourceError(`source ${name}: ${path} has no .csv, .json, .arrow or .parquet extension`, { source: name, path });
  return { bytes: await readFile(real), format, origin: path };
}

async function pullUrl(name: string, url: string, declared: DataFormat | undefined, timeoutMs: number): Promise<Batch> {
  const format = declared ?? formatOfName(new URL(url).pathname);
  if (!format) throw new StoreSourceError(`source ${name}: cannot tell the format of ${url} from its path; add format: csv, json, arrow or parquet to sources.${name}`, { source: name, url });
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  } catch (err) {
    const cause = err instanceof Error && err.cause !== undefined ? describeError(err.cause) : describeError(err);
    throw new StoreSourceError(`source ${name}: ${url} is unreachable (${cause}); check the address and that the runner can reach it`, { source: name, url });
  }
  if (response.status < 200 || response.status > 299) {
    await response.body?.cancel();
    throw new StoreSourceError(`source ${name}: ${url} answered ${response.status} ${response.statusText}; it must answer 200 with the data file`, { source: name, url, status: response.status });
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const head = new TextDecoder().decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (type.toLowerCase().includes('text/html') || head.startsWith('<!doctype html') || head.startsWith('<html')) {
    throw new StoreSourceError(`source ${name}: ${url} answered with an HTML page (content-type ${type || 'none'}), not ${format} data; a login or error page is the usual cause — give the address of the file itself`, { source: name, url });
  }
  return { bytes, format, origin: url };
}

async function pullPostgres(name: string, query: string, urlEnv: string, deps: SourceDeps): Promise<Batch> {
  const connectionString = deps.env[urlEnv];
  if (!connectionString) throw new StoreSourceError(`source ${name}: the environment variable ${urlEnv} is not set; set it to the database's connection string (postgresql://user@host/db) on the runner`, { source: name, env: urlEnv });
  const timeout = deps.timeoutMs ?? 60_000;
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeout, query_timeout: timeout });
  try {
    await client.connect();
  } catch (err) {
    throw new StoreSourceError(`source ${name}: the database in ${urlEnv} is unreachable (${describeError(err)}); check the connection string and that the server runs`, { source: name, env: urlEnv });
  }
  try {
    const result = await client.query({ text: query, rowMode: 'array' }).then(
      (r) => r,
      (err: unknown) => {
        throw new StoreSourceError(`source ${name}: the query failed (${describeError(err)}); fix sources.${name}.postgres.query in features.yaml`, { source: name });
      },
    );
    const names = result.fields.map((f) => f.name);
    const records = (result.rows as unknown[][]).map((row) => Object.fromEntries(names.map((n, i) => [n, jsonCell(row[i])])));
    return { bytes: new TextEncoder().encode(JSON.stringify(records)), format: 'json', origin: `postgres:${urlEnv}` };
  } finally {
    await client.end();
  }
}

function jsonCell(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  return value;
}
