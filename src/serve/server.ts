// `bramble serve`: one process serving each environment's current model, over MLflow's scoring protocol and the
// Open Inference Protocol v2 (KServe, Triton, MLServer), so that existing clients work unchanged. Environments are
// reached by path prefix (/prod/invocations) or by a port of their own. Every answer carries a request id and is
// appended to the prediction log; /metrics speaks Prometheus.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, errorFamily } from '../errors.js';
import { parseCsv } from '../data/csv.js';
import type { Label } from '../model/forest/forest.js';
import { GitSync } from './sync.js';
import { ModelHost, type DeployResult } from './host.js';
import { InputError, ModelLoadError, type ServedModel } from './model.js';
import { LATENCY_BUCKETS, Metrics } from './metrics.js';
import { PredictionLog } from './prediction-log.js';
import { ServeConfigError, type ServeConfig } from './config.js';

export const SERVE = {
  /** Request ids a client may choose: short and plain, so they are safe in logs and headers. */
  requestId: /^[A-Za-z0-9._:-]{1,64}$/,
  mlflowTypes: ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const,
  /** The longest label /feedback records: ground truth is one label or number, not a document. */
  feedbackTruthChars: 256,
} as const;

/** A path segment, percent-decoded; a malformed escape (`%E0%A4%A`) is the client's mistake, a 400. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (err) {
    if (err instanceof URIError) throw new HttpError(400, `the path has a malformed percent-escape in ${JSON.stringify(segment.slice(0, 40))}; encode it with encodeURIComponent`);
    throw err;
  }
}

const HTTP_CODES = {
  400: 'E_HTTP_BAD_PATH',
  401: 'E_HTTP_UNAUTHORIZED',
  404: 'E_HTTP_NOT_FOUND',
  405: 'E_HTTP_METHOD',
  409: 'E_HTTP_CONFLICT',
  413: 'E_HTTP_TOO_LARGE',
  415: 'E_HTTP_MEDIA_TYPE',
  503: 'E_HTTP_UNAVAILABLE',
} as const;

class HttpError extends errorFamily(Object.values(HTTP_CODES)) {
  constructor(
    readonly status: keyof typeof HTTP_CODES,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(HTTP_CODES[status], message, { status });
  }
}

/** A listener that cannot start, for a reason the person running the server must fix in serve.json or on the host. */
export class ListenError extends errorFamily(['E_PORT_IN_USE', 'E_PORT_PRIVILEGED', 'E_LISTEN_ADDRESS']) {}

/**
 * What went wrong when a listener would not start, as a ListenError; undefined for an error Bramble cannot explain.
 * `key` is where serve.json sets the port (listen.port, or environments.ENV.port).
 */
export function listenError(err: unknown, host: string, port: number, key: string): ListenError | undefined {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const data = { host, port, key };
  const fix = key === 'listen.port' ? 'choose another port in serve.json' : `choose another port in serve.json (${key})`;
  if (code === 'EADDRINUSE') return new ListenError('E_PORT_IN_USE', `port ${port} is in use (${where}); stop what listens there, or ${fix}`, data);
  if (code === 'EACCES') {
    return new ListenError('E_PORT_PRIVILEGED', `port ${port} needs privileges (${where}); ${fix.replace('another port', 'a port from 1024 up')}, or let the service bind low ports (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE)`, data);
  }
  if (code === 'EADDRNOTAVAIL') return new ListenError('E_LISTEN_ADDRESS', `listen.host ${host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its own addresses in serve.json`, data);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ListenError('E_LISTEN_ADDRESS', `listen.host ${JSON.stringify(host)} does not resolve to an address; use 127.0.0.1, 0.0.0.0 or one of this machine's addresses in serve.json`, data);
  return undefined;
}

export interface RunningServer {
  /** The base URL of the main listener, and of each environment with a port of its own. */
  url: string;
  envUrls: Record<string, string>;
  host: ModelHost;
  metrics: Metrics;
  log: PredictionLog;
  /** With serve.json's git block: the reconciler that pulls what to serve from git. */
  sync: GitSync | null;
  close(): Promise<void>;
}

export interface ServeDeps {
  env: Readonly<Record<string, string | undefined>>;
  version: string;
  warn: (message: string) => void;
}

type Protocol = 'mlflow' | 'v2' | 'plain';

export async function startServer(config: ServeConfig, deps: ServeDeps): Promise<RunningServer> {
  const envNames = Object.keys(config.environments);
  const host = new ModelHost(config.models, envNames, deps.warn);
  const metrics = new Metrics();
  const duration = metrics.histogram('bramble_inference_request_duration_seconds', 'Time to answer a prediction request.', ['env', 'model', 'version'], LATENCY_BUCKETS);
  const requests = metrics.counter('bramble_inference_requests_total', 'Prediction requests answered, by status code.', ['env', 'code']);
  const predictions = metrics.counter('bramble_predictions_total', 'Rows predicted: by predicted class for classification; regression answers carry no class.', ['env', 'model', 'task', 'class']);
  const info = metrics.gauge('bramble_model_info', 'The model each environment serves (value 1).', ['env', 'model', 'version', 'sha256']);
  const deploys = metrics.counter('bramble_deploys_total', 'Deploys by outcome.', ['env', 'result']);
  const logDropped = metrics.gauge('bramble_prediction_log_dropped', 'Prediction log records dropped since start (disk full, unwritable, or queue full).');
  const logFaulty = metrics.gauge('bramble_prediction_log_faulty', '1 while the prediction log cannot be written.');
  const log = new PredictionLog({ dir: config.log.dir, maxBytes: config.log.maxBytes, files: config.log.files, onFault: (m) => deps.warn(`prediction log: ${m}`) });

  // Per environment, the series the hot path touches, resolved once per model.
  const series = new Map<string, { duration: { observe(v: number): void }; byClass: Map<string, { inc(by?: number): void }> }>();
  const shown = new Map<string, ServedModel>();
  host.onSwap = (env, model) => {
    const before = shown.get(env);
    if (before) info.set({ env, model: before.name, version: before.version, sha256: before.sha256 }, 0);
    info.set({ env, model: model.name, version: model.version, sha256: model.sha256 }, 1);
    shown.set(env, model);
    const byClass = new Map<string, { inc(by?: number): void }>();
    // Regression answers are counted under the empty class, which Prometheus shows as no class label at all.
    if (model.classes) for (const c of model.classes) byClass.set(String(c), predictions.child({ env, model: model.name, task: model.task, class: String(c) }));
    else byClass.set('', predictions.child({ env, model: model.name, task: model.task, class: '' }));
    series.set(env, { duration: duration.child({ env, model: model.name, version: model.version }), byClass });
  };
  await host.start();

  // The host pulls from git when serve.json says where: the tags decide what serves, not a deploy call.
  const syncs = metrics.counter('bramble_sync_total', 'Syncs with git, by result (ok: git was read; failed: it could not be).', ['result']);
  const lastSync = metrics.gauge('bramble_sync_last_success_timestamp_seconds', 'When git was last read successfully (seconds since 1970).');
  const syncSeconds = metrics.gauge('bramble_sync_duration_seconds', 'How long the last sync took.');
  const inSync = metrics.gauge('bramble_sync_in_sync', '1 when an environment serves what the tags assign it, 0 when not (absent when they assign nothing).', ['env']);
  const sync = config.git
    ? new GitSync(config.git, Object.fromEntries(Object.entries(config.environments).map(([env, e]) => [env, e.model as string])), host, {
        env: deps.env,
        warn: deps.warn,
        onSync: (ok, seconds) => {
          syncs.inc({ result: ok ? 'ok' : 'failed' });
          syncSeconds.set(undefined, seconds);
          if (ok) lastSync.set(undefined, Date.now() / 1000);
        },
      })
    : null;
  if (sync) await sync.start();

  const statusCounters = new Map<string, { inc(by?: number): void }>();
  const countStatus = (env: string, code: number): void => {
    const key = `${env}\0${code}`;
    let c = statusCounters.get(key);
    if (!c) {
      c = requests.child({ env, code: String(code) });
      statusCounters.set(key, c);
    }
    c.inc();
  };

  const tokens = new Map<string, string>();
  for (const [env, e] of Object.entries(config.environments)) {
    if (e.tokenEnv) {
      const token = deps.env[e.tokenEnv];
      if (!token) throw new ServeConfigError(`environments.${env}.tokenEnv names ${e.tokenEnv}, which is not set; set it (e.g. in /etc/bramble/serve.env) or remove tokenEnv to serve ${env} without a token`);
      tokens.set(env, token);
    }
  }
  const adminToken = config.adminTokenEnv ? deps.env[config.adminTokenEnv] : undefined;

  function authorised(req: IncomingMessage, token: string | undefined): boolean {
    if (token === undefined) return true;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const limit = config.limits.bodyBytes;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) throw new HttpError(413, `the request body is ${declared} bytes; the limit is ${limit}`, { Connection: 'close' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new HttpError(413, `the request body is over ${limit} bytes; send fewer rows per request`, { Connection: 'close' });
      chunks.push(chunk);
    }
    return chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
  }

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function errorBody(protocol: Protocol, status: number, message: string): unknown {
    if (protocol === 'mlflow') return { error_code: status === 413 ? 'REQUEST_LIMIT_EXCEEDED' : status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST', message };
    return { error: message };
  }

  /** MLflow's four JSON shapes (exactly one) or CSV, as records. */
  function mlflowRecords(body: string, contentType: string, model: ServedModel): unknown[] {
    if (contentType.startsWith('text/csv')) {
      let table;
      try {
        table = parseCsv(body, 'the request body');
      } catch (err) {
        throw new InputError(describeError(err));
      }
      const kinds = new Map(model.inputs.map((i) => [i.name, i.kind]));
      return table.rows.map((row) => {
        const record: Record<string, unknown> = {};
        table.header.forEach((name, c) => {
          const text = row[c];
          if (kinds.get(name) === 'number') record[name] = text === '' || text === 'NA' ? null : Number.isNaN(Number(text)) ? text : Number(text);
          else record[name] = text === '' ? null : text;
        });
        return record;
      });
    }
    if (!contentType.startsWith('application/json') && contentType !== '') {
      throw new HttpError(415, `Content-Type ${contentType} is not accepted; send application/json or text/csv`);
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      throw new InputError(`the request body is not JSON: ${describeError(err)}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new InputError(`the request body must be an object with one of ${SERVE.mlflowTypes.join(', ')}`);
    }
    const keys = SERVE.mlflowTypes.filter((k) => k in json);
    const unknown = Object.keys(json).filter((k) => !(SERVE.mlflowTypes as readonly string[]).includes(k) && k !== 'params');
    if (keys.length !== 1 || unknown.length > 0) {
      throw new InputError(
        keys.length === 0
          ? `the request body has none of ${SERVE.mlflowTypes.join(', ')}${unknown.length ? ` (it has ${unknown.join(', ')})` : ''}; give exactly one`
          : keys.length > 1
            ? `the request body has ${keys.join(' and ')}; give exactly one`
            : `the request body has unknown keys ${unknown.join(', ')}; MLflow's are ${SERVE.mlflowTypes.join(', ')} and params`,
      );
    }
    const value = (json as Record<string, unknown>)[keys[0]];
    if (keys[0] === 'dataframe_split') {
      const split = value as { columns?: unknown; data?: unknown };
      if (typeof split !== 'object' || split === null || !Array.isArray(split.columns) || !Array.isArray(split.data)) {
        throw new InputError('dataframe_split must be { "columns": [...], "data": [[...], ...] }');
      }
      const columns = split.columns as unknown[];
      return (split.data as unknown[]).map((row, i) => {
        if (!Array.isArray(row) || row.length !== columns.length) throw new InputError(`dataframe_split.data[${i}] must be an array of ${columns.length} values, one per column`);
        const record: Record<string, unknown> = {};
        columns.forEach((c, j) => {
          record[String(c)] = row[j];
        });
        return record;
      });
    }
    if (keys[0] === 'inputs' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      // Columnar: { column: [values…] }.
      const columns = Object.entries(value as Record<string, unknown>);
      const n = columns.length > 0 && Array.isArray(columns[0][1]) ? (columns[0][1] as unknown[]).length : 0;
      for (const [name, values] of columns) if (!Array.isArray(values) || values.length !== n) throw new InputError(`inputs.${name} must be an array of ${n} values, as long as the others`);
      return Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([name, values]) => [name, (values as unknown[])[i]])));
    }
    if (!Array.isArray(value)) throw new InputError(`${keys[0]} must be an array of records`);
    return value;
  }

  /** OIP v2 tensors, one per column ([n] or [n, 1]), as records. */
  function v2Records(body: string, model: ServedModel): { records: unknown[]; id: string | undefined } {
    let json: { id?: unknown; inputs?: unknown };
    try {
      json = JSON.parse(body) as typeof json;
    } catch (err) {
      throw new InputError(`the request body is not JSON: ${describeError(err)}`);
    }
    if (typeof json !== 'object' || json === null || !Array.isArray(json.inputs) || json.inputs.length === 0) {
      throw new InputError('an inference request needs "inputs": [{ "name", "shape", "datatype", "data" }, …], one tensor per column');
    }
    const kinds = new Map(model.inputs.map((i) => [i.name, i.kind]));
    let n = -1;
    const columns: [string, unknown[]][] = [];
    for (const [t, tensor] of (json.inputs as { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown }[]).entries()) {
      if (typeof tensor?.name !== 'string' || !Array.isArray(tensor.shape) || !Array.isArray(tensor.data) || typeof tensor.datatype !== 'string') {
        throw new InputError(`inputs[${t}] must have name, shape, datatype and data`);
      }
      const shape = tensor.shape as unknown[];
      const rows = Number(shape[0]);
      if (!Number.isInteger(rows) || rows < 0 || (shape.length === 2 && shape[1] !== 1) || shape.length > 2) {
        throw new InputError(`inputs[${t}] (${tensor.name}) has shape ${JSON.stringify(shape)}; give [rows] or [rows, 1] — one tensor per column`);
      }
      const data = (tensor.data as unknown[]).flat();
      if (data.length !== rows) throw new InputError(`inputs[${t}] (${tensor.name}) has shape [${rows}] but ${data.length} values`);
      const kind = kinds.get(tensor.name);
      const numeric = ['FP64', 'FP32', 'INT64', 'INT32', 'INT16', 'INT8', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'BOOL'];
      if (kind === 'number' && !numeric.includes(tensor.datatype)) throw new InputError(`inputs[${t}] (${tensor.name}) is ${tensor.datatype}; this column takes numbers (FP64, INT64, …)`);
      if (kind === 'text' && tensor.datatype !== 'BYTES') throw new InputError(`inputs[${t}] (${tensor.name}) is ${tensor.datatype}; this column takes text (BYTES)`);
      if (n !== -1 && rows !== n) throw new InputError(`inputs[${t}] (${tensor.name}) has ${rows} rows, the tensors before it ${n}`);
      n = rows;
      columns.push([tensor.name, data]);
    }
    const records = Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map(([name, data]) => [name, data[i]])));
    return { records, id: typeof json.id === 'string' ? json.id : undefined };
  }

  function v2Metadata(model: ServedModel) {
    const classes = model.classes;
    return {
      name: model.name,
      versions: [model.version],
      platform: 'bramble-random-forest',
      inputs: model.inputs.map((i) => ({ name: i.name, datatype: i.kind === 'number' ? 'FP64' : 'BYTES', shape: [-1] })),
      outputs: classes
        ? [
            { name: 'predict', datatype: typeof classes[0] === 'number' ? 'FP64' : 'BYTES', shape: [-1] },
            { name: 'predict_proba', datatype: 'FP64', shape: [-1, classes.length] },
          ]
        : [{ name: 'predict', datatype: 'FP64', shape: [-1] }],
    };
  }

  function record(env: string, model: ServedModel, id: string, records: unknown[], labels: Label[], probabilities: Float64Array | null, started: number): void {
    const seconds = (performance.now() - started) / 1000;
    const s = series.get(env);
    s?.duration.observe(seconds);
    if (s && model.classes) for (const label of labels) s.byClass.get(String(label))?.inc();
    else if (s) s.byClass.get('')?.inc(labels.length);
    log.append({
      id,
      time: new Date().toISOString(),
      env,
      model: { name: model.name, version: model.version, sha256: model.sha256 },
      inputs: records,
      outputs: probabilities ? { predictions: labels, probabilities: Array.from(probabilities) } : { predictions: labels },
      latencyMs: seconds * 1000,
    });
  }

  /** Routes a request for one environment; `rest` is the path after the environment's prefix. */
  async function handleEnv(env: string, rest: string, req: IncomingMessage, res: ServerResponse, id: string): Promise<number> {
    const started = performance.now();
    const model = host.model(env);
    const method = req.method ?? 'GET';
    if (rest === '/ping' || rest === '/health') {
      const status = model ? 200 : 503;
      send(res, status, model ? { status: 'ok', env, model: model.name, version: model.version } : { status: 'no model', env });
      return status;
    }
    if (rest === '/version') {
      send(res, model ? 200 : 503, { bramble: deps.version, env, model: model?.name ?? null, version: model?.version ?? null, sha256: model?.sha256 ?? null });
      return model ? 200 : 503;
    }
    if (rest === '/v2' || rest === '/v2/') {
      send(res, 200, { name: 'bramble', version: deps.version, extensions: [] });
      return 200;
    }
    if (rest === '/v2/health/live') {
      send(res, 200, { live: true });
      return 200;
    }
    if (rest === '/v2/health/ready') {
      send(res, model ? 200 : 503, { ready: model !== null });
      return model ? 200 : 503;
    }
    if (rest === '/feedback' && method === 'POST') return feedback(env, req, res);
    const protocol: Protocol = rest.startsWith('/v2/') ? 'v2' : rest === '/invocations' ? 'mlflow' : 'plain';
    try {
      if (!authorised(req, tokens.get(env))) throw new HttpError(401, `${env} needs a bearer token (Authorization: Bearer …)`, { 'WWW-Authenticate': 'Bearer realm="bramble"' });
      const v2 = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(rest);
      if (!model && (protocol !== 'plain' || v2)) throw new HttpError(503, `${env} has no model yet; deploy one with bramble deploy NAME@VERSION --env ${env}`);
      if (protocol === 'mlflow') {
        if (method !== 'POST') throw new HttpError(405, 'use POST /invocations', { Allow: 'POST' });
        const m = model as ServedModel;
        const records = mlflowRecords(await readBody(req), String(req.headers['content-type'] ?? ''), m);
        const { predictions, probabilities } = m.predict(records, (i) => `row ${i}`);
        send(res, 200, { predictions }, { 'x-request-id': id, 'x-bramble-model': `${m.name}@${m.version}` });
        record(env, m, id, records, predictions, probabilities, started);
        return 200;
      }
      if (v2) {
        const m = model as ServedModel;
        const asked = decodeSegment(v2[1]);
        const askedVersion = v2[2] === undefined ? undefined : decodeSegment(v2[2]);
        if (asked !== m.name || (askedVersion !== undefined && askedVersion !== m.version)) {
          throw new HttpError(404, `${env} serves ${m.name} ${m.version}, not ${asked}${askedVersion !== undefined ? ` ${askedVersion}` : ''}`);
        }
        if (v2[3] === undefined) {
          send(res, 200, v2Metadata(m));
          return 200;
        }
        if (v2[3] === '/ready') {
          send(res, 200, { name: m.name, ready: true });
          return 200;
        }
        if (method !== 'POST') throw new HttpError(405, 'use POST …/infer', { Allow: 'POST' });
        const { records, id: requestId } = v2Records(await readBody(req), m);
        const { predictions, probabilities } = m.predict(records, (i) => `row ${i}`);
        const outputs: unknown[] = [
          { name: 'predict', shape: [predictions.length], datatype: typeof predictions[0] === 'string' ? 'BYTES' : 'FP64', data: predictions },
        ];
        if (probabilities && m.classes) outputs.push({ name: 'predict_proba', shape: [predictions.length, m.classes.length], datatype: 'FP64', data: Array.from(probabilities) });
        send(res, 200, { model_name: m.name, model_version: m.version, id: requestId ?? id, outputs }, { 'x-request-id': id });
        record(env, m, id, records, predictions, probabilities, started);
        return 200;
      }
      throw new HttpError(404, `no route ${method} ${rest} for ${env}; try POST /invocations, /v2/models/${model?.name ?? 'NAME'}/infer, /ping`);
    } catch (err) {
      if (err instanceof HttpError) {
        send(res, err.status, errorBody(protocol, err.status, err.message), { 'x-request-id': id, ...err.headers });
        return err.status;
      }
      if (err instanceof InputError) {
        send(res, 400, errorBody(protocol, 400, err.message), { 'x-request-id': id });
        return 400;
      }
      deps.warn(`request ${id}: ${describeError(err)}`);
      send(res, 500, errorBody(protocol, 500, `internal error (request ${id})`), { 'x-request-id': id });
      return 500;
    }
  }

  async function feedback(env: string, req: IncomingMessage, res: ServerResponse): Promise<number> {
    try {
      if (!authorised(req, tokens.get(env))) throw new HttpError(401, `${env} needs a bearer token`, { 'WWW-Authenticate': 'Bearer realm="bramble"' });
      const body = JSON.parse(await readBody(req).catch((e: unknown) => Promise.reject(e))) as { id?: unknown; truth?: unknown; actual?: unknown };
      const truth = body.truth ?? body.actual;
      if (typeof body.id !== 'string' || !SERVE.requestId.test(body.id)) throw new InputError('feedback needs "id": the x-request-id of the prediction');
      if (truth === undefined) throw new InputError('feedback needs "truth": the actual label or value for that prediction');
      if (truth !== null && typeof truth === 'object') throw new InputError('feedback "truth" must be one label or number, not a list or an object');
      if (typeof truth === 'string' && truth.length > SERVE.feedbackTruthChars) {
        throw new HttpError(413, `feedback "truth" is ${truth.length} characters; a label is at most ${SERVE.feedbackTruthChars}`);
      }
      // "recorded" only when the log kept it: a full or failing log answers 503, so the sender retries.
      if (log.stats().faulty || !log.append({ type: 'feedback', id: body.id, time: new Date().toISOString(), env, truth })) {
        throw new HttpError(503, 'the prediction log cannot take the feedback now (full or failing; see /metrics); retry later', { 'Retry-After': '5' });
      }
      send(res, 202, { id: body.id, recorded: true });
      return 202;
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 400;
      send(res, status, { error: err instanceof SyntaxError ? `the request body is not JSON: ${err.message}` : describeError(err) }, err instanceof HttpError ? err.headers : {});
      return status;
    }
  }

  async function admin(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const loopback = ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? '');
    if (adminToken ? !authorised(req, adminToken) : !loopback) {
      send(res, 401, { error: adminToken ? 'admin calls need the admin bearer token' : 'admin calls are accepted from this machine only (or set adminTokenEnv)' });
      return;
    }
    if (path === '/admin/sync' && req.method === 'POST') {
      if (!sync) {
        send(res, 404, { error: 'this host has no git block in serve.json, so there is nothing to sync from; deploy with bramble deploy' });
        return;
      }
      await sync.sync();
      send(res, 200, sync.status());
      return;
    }
    if (sync) {
      // Nothing is pushed into a host that follows git: not even from this machine.
      send(res, 409, { error: 'this host follows git (serve.json git): promote with an assignment tag (bramble promote NAME@vX.Y.Z ENV), then POST /admin/sync; artifacts are not accepted here' });
      return;
    }
    const deploy = /^\/admin\/deploy\/([^/]+)$/.exec(path);
    if (!deploy || req.method !== 'POST') {
      send(res, 404, { error: 'admin: POST /admin/deploy/ENV' });
      return;
    }
    let env: string;
    try {
      env = decodeSegment(deploy[1]);
    } catch (err) {
      send(res, 400, { error: describeError(err) });
      return;
    }
    try {
      const result: DeployResult = await host.deploy(env);
      deploys.inc({ env, result: 'ok' });
      send(res, 200, result);
    } catch (err) {
      deploys.inc({ env: host.envs.includes(env) ? env : 'unknown', result: 'refused' });
      send(res, err instanceof ModelLoadError ? 409 : 500, { error: describeError(err) });
    }
  }

  const prefixes = Object.entries(config.environments)
    .filter(([, e]) => e.path)
    .map(([env, e]) => [env, (e.path as string).replace(/\/$/, '')] as const);

  function listener(fixedEnv: string | null) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && SERVE.requestId.test(given) ? given : randomUUID();
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      let env = fixedEnv;
      let rest = path;
      if (env === null) {
        for (const [name, prefix] of prefixes) {
          if (path === prefix || path.startsWith(prefix + '/')) {
            env = name;
            rest = path.slice(prefix.length) || '/';
            break;
          }
        }
      }
      const done = (status: number): void => {
        if (env !== null) countStatus(env, status);
      };
      const fail = (err: unknown): void => {
        deps.warn(`request ${id}: ${describeError(err)}`);
        if (!res.headersSent) send(res, 500, { error: `internal error (request ${id})` });
      };
      if (env === null) {
        if (path === '/metrics') {
          logDropped.set(undefined, log.stats().dropped);
          logFaulty.set(undefined, log.stats().faulty ? 1 : 0);
          if (sync) for (const [env, s] of Object.entries(sync.status().environments)) if (s.inSync !== null) inSync.set({ env }, s.inSync ? 1 : 0);
          send(res, 200, metrics.render(), { 'Content-Type': metrics.contentType });
          return;
        }
        if (path.startsWith('/admin/')) {
          admin(path, req, res).catch(fail);
          return;
        }
        if (path === '/ping' || path === '/health' || path === '/v2/health/live' || path === '/v2/health/ready') {
          const missing = envNames.filter((e) => !host.model(e));
          const ok = path === '/v2/health/live' || missing.length === 0;
          send(res, ok ? 200 : 503, ok ? { status: 'ok', environments: envNames } : { status: 'not ready', missing });
          return;
        }
        if (path === '/status') {
          // What git says each environment should serve, what it serves, and the last sync: drift, in one look.
          send(res, 200, sync ? sync.status() : { environments: Object.fromEntries(envNames.map((e) => [e, { live: host.model(e) ? { version: host.model(e)?.version, sha256: host.model(e)?.sha256 } : null }])) });
          return;
        }
        if (path === '/version') {
          send(res, 200, { bramble: deps.version, environments: Object.fromEntries(envNames.map((e) => [e, host.model(e)?.version ?? null])) });
          return;
        }
        if (config.default) {
          env = config.default;
        } else {
          send(res, 404, { error: `no route ${path}; environments are served under ${prefixes.map(([, p]) => p).join(', ')}` });
          return;
        }
      }
      handleEnv(env, rest, req, res, id).then(done, fail);
    };
  }

  const servers: Server[] = [];
  const listen = async (port: number, fixedEnv: string | null): Promise<string> => {
    const server = createServer(
      {
        requestTimeout: config.limits.requestTimeoutMs,
        headersTimeout: config.limits.headersTimeoutMs,
        // An idle keep-alive connection must be closed before the headers timeout could fire on it: equal values
        // race, and a client then sees a 408 for a request it had not yet sent.
        keepAliveTimeout: Math.min(5_000, Math.floor(config.limits.headersTimeoutMs / 2)),
        // How often stalled requests are looked for (Node's default, 30 s, lets a slow client hold a socket that long).
        connectionsCheckingInterval: Math.min(1_000, config.limits.headersTimeoutMs),
      },
      listener(fixedEnv),
    );
    server.on('clientError', (err: Error & { code?: string }, socket) => {
      const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
      if (socket.writable) socket.end(timedOut ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy(err);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(listenError(err, config.listen.host, port, fixedEnv === null ? 'listen.port' : `environments.${fixedEnv}.port`) ?? err));
      server.listen(port, config.listen.host, () => resolve());
    });
    servers.push(server);
    const address = server.address() as AddressInfo;
    return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  };
  const close = async (): Promise<void> => {
    sync?.close();
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    await log.close();
  };
  let url: string;
  const envUrls: Record<string, string> = {};
  try {
    url = await listen(config.listen.port, null);
    for (const [env, e] of Object.entries(config.environments)) if (e.port !== undefined) envUrls[env] = await listen(e.port, env);
  } catch (err) {
    // The listeners that did start would keep the process alive, serving only part of the configuration.
    await close();
    throw err;
  }

  return { url, envUrls, host, metrics, log, sync, close };
}
