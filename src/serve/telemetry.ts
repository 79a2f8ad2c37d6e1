// What the server tells about itself: the Prometheus series of /metrics and the prediction log's records. The
// series the hot path touches are resolved once per model (on each swap), not per request.
import type { Label } from '../model/forest/forest.js';
import { LATENCY_BUCKETS, Metrics } from './metrics.js';
import { describeError } from '../errors.js';
import { roleStage, stageRole, type Role } from '../registry/roles.js';
import { InputError, type ServedModel } from './model.js';
import { MonitorMetrics } from './monitor-metrics.js';
import type { PredictionSink } from './prediction-log.js';
import type { GitSync } from './sync.js';

interface Increment {
  inc(by?: number): void;
}

/** One prediction answered: what the log records and the metrics count. */
export interface Answered {
  env: string;
  model: ServedModel;
  id: string;
  records: unknown[];
  labels: Label[];
  probabilities: Float64Array | null;
  /** performance.now() when the request came in. */
  started: number;
  /** Who answered (release.ts); main when absent. */
  role?: Role;
}

export class ServeTelemetry {
  readonly metrics = new Metrics();
  private readonly duration = this.metrics.histogram('bramble_inference_request_duration_seconds', 'Time to answer a prediction request.', ['env', 'model', 'version'], LATENCY_BUCKETS);
  private readonly requests = this.metrics.counter('bramble_inference_requests_total', 'Prediction requests answered, by status code.', ['env', 'code']);
  private readonly predictions = this.metrics.counter(
    'bramble_predictions_total',
    'Rows predicted: by predicted class for classification; regression answers carry no class.',
    ['env', 'model', 'task', 'class'],
  );
  private readonly info = this.metrics.gauge('bramble_model_info', 'The model each environment serves (value 1).', ['env', 'model', 'version', 'sha256']);
  private readonly deploys = this.metrics.counter('bramble_deploys_total', 'Deploys by outcome.', ['env', 'result']);
  private readonly logDropped = this.metrics.gauge('bramble_prediction_log_dropped', 'Prediction log records dropped since start (disk full, unwritable, or queue full).');
  private readonly logFaulty = this.metrics.gauge('bramble_prediction_log_faulty', '1 while the prediction log cannot be written.');
  private readonly syncs = this.metrics.counter('bramble_sync_total', 'Syncs with git, by result (ok: git was read; failed: it could not be).', ['result']);
  private readonly lastSync = this.metrics.gauge('bramble_sync_last_success_timestamp_seconds', 'When git was last read successfully (seconds since 1970).');
  private readonly syncSeconds = this.metrics.gauge('bramble_sync_duration_seconds', 'How long the last sync took.');
  private readonly inSync = this.metrics.gauge('bramble_sync_in_sync', '1 when an environment serves what the tags assign it, 0 when not (absent when they assign nothing).', ['env']);
  private readonly monitor = new MonitorMetrics(this.metrics);
  private readonly release = this.metrics.gauge(
    'bramble_release_weight',
    "The share of an environment's rows each role's version answers: main 1 − the canary's weight; a shadow scores every request (1) and answers none.",
    ['env', 'role', 'model', 'version'],
  );
  private readonly shadowRefused = this.metrics.counter('bramble_shadow_refused_total', 'Requests the shadow could not score (rows its signature refuses); they are not logged for it.', ['env']);
  private readonly shadowErrors = this.metrics.counter('bramble_shadow_errors_total', "Requests whose shadow scoring failed unexpectedly (each warned of); the client's answer had gone already.", ['env']);

  /** Per environment, the series the hot path touches. */
  private readonly series = new Map<string, { duration: { observe(v: number): void }; byClass: Map<string, Increment> }>();
  private readonly shown = new Map<string, ServedModel>();
  private readonly statusCounters = new Map<string, Increment>();

  constructor(
    private readonly log: PredictionSink,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** A slot (an environment, or its role's `ENV-canary`/`ENV-shadow`) now serves `model`: re-label its gauge and resolve its series. */
  swapped(slot: string, model: ServedModel): void {
    const { env, role } = stageRole(slot);
    const before = this.shown.get(slot);
    if (role === 'main') {
      if (before) this.info.set({ env, model: before.name, version: before.version, sha256: before.sha256 }, 0);
      this.info.set({ env, model: model.name, version: model.version, sha256: model.sha256 }, 1);
    }
    this.shown.set(slot, model);
    const byClass = new Map<string, Increment>();
    // Regression answers are counted under the empty class, which Prometheus shows as no class label at all.
    if (model.classes) for (const c of model.classes) byClass.set(String(c), this.predictions.child({ env, model: model.name, task: model.task, class: String(c) }));
    else byClass.set('', this.predictions.child({ env, model: model.name, task: model.task, class: '' }));
    this.series.set(slot, { duration: this.duration.child({ env, model: model.name, version: model.version }), byClass });
  }

  /** Each role's share of an environment's rows, after any swap, reweight or removal (release.ts's plan). */
  released(env: string, shares: readonly { role: Role; model: ServedModel; weight: number }[]): void {
    for (const shown of this.releaseShown.get(env) ?? []) this.release.set(shown, 0);
    const now = shares.map((s) => ({ env, role: s.role, model: s.model.name, version: s.model.version }));
    shares.forEach((s, i) => this.release.set(now[i], s.weight));
    this.releaseShown.set(env, now);
  }

  private readonly releaseShown = new Map<string, { env: string; role: string; model: string; version: string }[]>();

  /** A request to an environment was answered with `code`. */
  answered(env: string, code: number): void {
    const key = `${env}\0${code}`;
    let c = this.statusCounters.get(key);
    if (!c) {
      c = this.requests.child({ env, code: String(code) });
      this.statusCounters.set(key, c);
    }
    c.inc();
  }

  /** A prediction: its latency and classes counted, and its record appended to the prediction log; returns the inputs as the line wrote them. */
  predicted(a: Answered, inputs: string = JSON.stringify(a.records)): string {
    const seconds = (performance.now() - a.started) / 1000;
    const slot = a.role === undefined || a.role === 'main' ? a.env : roleStage(a.env, a.role);
    const s = this.series.get(slot);
    s?.duration.observe(seconds);
    if (s && a.model.classes) for (const label of a.labels) s.byClass.get(String(label))?.inc();
    else if (s) s.byClass.get('')?.inc(a.labels.length);
    this.log.appendLine(predictionLine(a, this.fragment(slot, a.env, a.role ?? 'main', a.model), seconds * 1000, inputs));
    return inputs;
  }

  /**
   * Queues a shadow's turn for after the answers of this event-loop turn are written: one setImmediate for all the
   * requests of a turn, not one each (an Immediate and a closure a request were a measurable share of the shadow).
   */
  shadow(q: Pick<Answered, 'env' | 'id'>, shadow: ServedModel, records: unknown[], main: ServedModel, inputs: string | undefined): void {
    if (this.shadows.length === 0) setImmediate(this.runShadows);
    this.shadows.push({ q, shadow, records, main, inputs });
  }

  private shadows: { q: Pick<Answered, 'env' | 'id'>; shadow: ServedModel; records: unknown[]; main: ServedModel; inputs: string | undefined }[] = [];

  private readonly runShadows = (): void => {
    const due = this.shadows;
    this.shadows = [];
    for (const s of due) this.shadowed(s.q, s.shadow, s.records, s.main, s.inputs);
  };

  /**
   * The shadow's turn, after the answer went out: scored and logged as role shadow, never returned. `main` is the
   * model that checked these rows and `inputs` their JSON as main's line wrote it: a shadow of the same signature
   * neither checks nor serialises them again.
   */
  shadowed(q: Pick<Answered, 'env' | 'id'>, shadow: ServedModel, records: unknown[], main: ServedModel, inputs: string | undefined): void {
    const started = performance.now();
    let p;
    try {
      // Rows one model checked whole (inputs given) need no second check by a model with the same signature.
      p = shadow.predict(records, (i) => `row ${i}`, inputs !== undefined && shadow.signature === main.signature);
    } catch (err) {
      // It runs after the answer, outside any request: a failure here must neither reach a client nor end the process.
      if (err instanceof InputError) this.shadowRefused.inc({ env: q.env });
      else {
        this.shadowErrors.inc({ env: q.env });
        this.warn(`request ${q.id}: the shadow ${shadow.name}@${shadow.version} failed: ${describeError(err)}`);
      }
      return;
    }
    const answered = { env: q.env, model: shadow, id: q.id, records, labels: p.predictions, probabilities: p.probabilities, started, role: 'shadow' as const };
    if (inputs === undefined) this.predicted(answered);
    else this.predicted(answered, inputs);
  }

  /** Per slot, `"env":…,"role":…,"model":{…}` of the model it serves, made once per model rather than per request. */
  private readonly fragments = new Map<string, { model: ServedModel; text: string }>();

  private fragment(slot: string, env: string, role: Role, model: ServedModel): string {
    const known = this.fragments.get(slot);
    if (known?.model === model) return known.text;
    const text = `"env":${JSON.stringify(env)},"role":${JSON.stringify(role)},"model":${JSON.stringify({ name: model.name, version: model.version, sha256: model.sha256 })}`;
    this.fragments.set(slot, { model, text });
    return text;
  }

  deployed(env: string, result: 'ok' | 'refused'): void {
    this.deploys.inc({ env, result });
  }

  synced(ok: boolean, seconds: number): void {
    this.syncs.inc({ result: ok ? 'ok' : 'failed' });
    this.syncSeconds.set(undefined, seconds);
    if (ok) this.lastSync.set(undefined, Date.now() / 1000);
  }

  /** The text of /metrics, with the gauges that are read rather than kept brought up to date first. */
  render(sync: GitSync | null): string {
    this.logDropped.set(undefined, this.log.stats().dropped);
    this.logFaulty.set(undefined, this.log.stats().faulty ? 1 : 0);
    if (sync) for (const [env, s] of Object.entries(sync.status().environments)) if (s.inSync !== null) this.inSync.set({ env }, s.inSync ? 1 : 0);
    if (sync) this.monitor.show(sync.monitorResults());
    return this.metrics.render();
  }
}

/**
 * A prediction's log line, exactly as JSON.stringify would write the record { id, time, env, role, model, inputs, outputs:
 * { predictions, probabilities? }, latencyMs } (test/serve-prediction-log.test.ts compares them), with the
 * environment's and model's part made once per model and the probabilities written from their typed array
 * without copying them into an array first.
 */
export function predictionLine(a: Pick<Answered, 'id' | 'records' | 'labels' | 'probabilities'>, envAndModel: string, latencyMs: number, inputs: string = JSON.stringify(a.records)): string {
  let line = `{"id":${JSON.stringify(a.id)},"time":"${isoNow()}",${envAndModel},"inputs":${inputs},"outputs":{"predictions":${JSON.stringify(a.labels)}`;
  const p = a.probabilities;
  if (p) {
    line += ',"probabilities":[';
    for (let i = 0; i < p.length; i++) line += (i === 0 ? '' : ',') + jsonNumber(p[i]);
    line += ']';
  }
  return `${line}},"latencyMs":${jsonNumber(latencyMs)}}`;
}

let isoMs = 0;
let isoText = '';

/** new Date().toISOString(), made once a millisecond: several requests are logged in one. */
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/** A number as JSON.stringify writes it: itself, or null when it is not finite. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}
