// What the server tells about itself: the Prometheus series of /metrics and the prediction log's records. The
// series the hot path touches are resolved once per model (on each swap), not per request.
import type { Label } from '../model/forest/forest.js';
import { LATENCY_BUCKETS, Metrics } from './metrics.js';
import type { ServedModel } from './model.js';
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

  /** Per environment, the series the hot path touches. */
  private readonly series = new Map<string, { duration: { observe(v: number): void }; byClass: Map<string, Increment> }>();
  private readonly shown = new Map<string, ServedModel>();
  private readonly statusCounters = new Map<string, Increment>();

  constructor(private readonly log: PredictionSink) {}

  /** An environment now serves `model`: re-label the info gauge and resolve its series. */
  swapped(env: string, model: ServedModel): void {
    const before = this.shown.get(env);
    if (before) this.info.set({ env, model: before.name, version: before.version, sha256: before.sha256 }, 0);
    this.info.set({ env, model: model.name, version: model.version, sha256: model.sha256 }, 1);
    this.shown.set(env, model);
    const byClass = new Map<string, Increment>();
    // Regression answers are counted under the empty class, which Prometheus shows as no class label at all.
    if (model.classes) for (const c of model.classes) byClass.set(String(c), this.predictions.child({ env, model: model.name, task: model.task, class: String(c) }));
    else byClass.set('', this.predictions.child({ env, model: model.name, task: model.task, class: '' }));
    this.series.set(env, { duration: this.duration.child({ env, model: model.name, version: model.version }), byClass });
  }

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

  /** A prediction: its latency and classes counted, and its record appended to the prediction log. */
  predicted(a: Answered): void {
    const seconds = (performance.now() - a.started) / 1000;
    const s = this.series.get(a.env);
    s?.duration.observe(seconds);
    if (s && a.model.classes) for (const label of a.labels) s.byClass.get(String(label))?.inc();
    else if (s) s.byClass.get('')?.inc(a.labels.length);
    this.log.appendLine(predictionLine(a, this.fragment(a.env, a.model), seconds * 1000));
  }

  /** Per environment, `"env":…,"model":{…}` of the model it serves, made once per model rather than per request. */
  private readonly fragments = new Map<string, { model: ServedModel; text: string }>();

  private fragment(env: string, model: ServedModel): string {
    const known = this.fragments.get(env);
    if (known?.model === model) return known.text;
    const text = `"env":${JSON.stringify(env)},"model":${JSON.stringify({ name: model.name, version: model.version, sha256: model.sha256 })}`;
    this.fragments.set(env, { model, text });
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
 * A prediction's log line, exactly as JSON.stringify would write the record { id, time, env, model, inputs, outputs:
 * { predictions, probabilities? }, latencyMs } (test/serve-prediction-log.test.ts compares them), with the
 * environment's and model's part made once per model and the probabilities written from their typed array
 * without copying them into an array first.
 */
export function predictionLine(a: Pick<Answered, 'id' | 'records' | 'labels' | 'probabilities'>, envAndModel: string, latencyMs: number): string {
  let line = `{"id":${JSON.stringify(a.id)},"time":"${new Date().toISOString()}",${envAndModel},"inputs":${JSON.stringify(a.records)},"outputs":{"predictions":${JSON.stringify(a.labels)}`;
  const p = a.probabilities;
  if (p) {
    line += ',"probabilities":[';
    for (let i = 0; i < p.length; i++) line += (i === 0 ? '' : ',') + jsonNumber(p[i]);
    line += ']';
  }
  return `${line}},"latencyMs":${jsonNumber(latencyMs)}}`;
}

/** A number as JSON.stringify writes it: itself, or null when it is not finite. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}
