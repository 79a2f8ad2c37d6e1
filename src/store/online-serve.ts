// Serving with online features: a request's row that leaves out inputs the model reads, and carries the entity's
// key (`{"customerID": "7590-VHVEG"}` is enough), gets them from the online store, with per view the value's age
// and whether it is stale (older than the view's ttl) in the answer and in /metrics.
// Decisions:
// - serve.json's `features` names the features repository (for each view's keys, ttl and on_missing), the online
//   store's file (default `<offline store>/online.sqlite`) and the views to serve from. Every process that answers
//   requests (each worker of a cluster) opens the file read-only; `bramble materialize` is its only writer, and WAL
//   lets it write while they read.
// - Only inputs absent from a row are looked up: a row that carries a value (null included) keeps it, so a client
//   can override a feature, and a row that carries every input never touches the store.
// - A view is looked up for a row only when the row leaves out one of that view's columns the model reads; then its
//   key must be in the row (400 naming the key otherwise). An entity the store does not have is a 404 naming the
//   key and the view, or nulls, as the view's `on_missing` says.
// - Key columns the model does not read are taken out of the row once its features are filled, so the model's
//   signature check (which refuses unknown columns) sees only its own inputs.
// - Nothing here imports the server (src/serve/ imports this): the model and the metrics come in as the small
//   shapes below.
import { join } from 'node:path';
import { errorClass } from '../errors.js';
import { OnlineStore, OnlineStoreError, ONLINE_STORE, sameLayout, type OnlineLayout, type OnlineReader } from './online.js';
import { loadFeatureRepo, type FeatureRepo, type ViewSpec } from './spec.js';

/** A row leaves features to the online store but not the key to find them by: 400. */
export class FeatureKeyError extends errorClass('E_FEATURE_KEY') {}

/** The online store has no values for the row's entity, and the view says that is an error: 404. */
export class FeatureEntityError extends errorClass('E_FEATURE_ENTITY') {}

/** serve.json's `features` block, its paths resolved. */
export interface ServeFeaturesConfig {
  /** The features repository (features.yaml). */
  repo: string;
  /** The online store's file; default `<offline store>/online.sqlite`. */
  store?: string;
  /** The views to fill inputs from; default every view of the repository. */
  views?: string[];
}

/** What the model tells about its inputs (ServedModel fits). */
export interface ModelInputs {
  readonly inputs: readonly { readonly name: string }[];
  readonly passthrough: readonly string[];
}

/** The metrics registry of the server (src/serve/metrics.ts's Metrics fits). */
export interface FeatureMetrics {
  counter(name: string, help: string, labelNames: readonly string[]): { child(labels: Readonly<Record<string, string>>): { inc(by?: number): void } };
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): { child(labels: Readonly<Record<string, string>>): { observe(value: number): void } };
}

/** Per view looked up, per row of the request (null where the row did not need the view). */
export interface ViewAnswer {
  /** Seconds between the value's event time and now. */
  age_seconds: (number | null)[];
  stale: (boolean | null)[];
  /** The store had no values for the row's entity (filled with nulls, as on_missing: null says). */
  missing: (boolean | null)[];
}

export interface FeatureAnswer {
  views: Record<string, ViewAnswer>;
}

/** How often a lookup asks whether a materialization committed a new layout (ms). */
const REFRESH_MS = 1000;

/** Value ages in seconds: a minute to a quarter. */
const AGE_BUCKETS = [60, 600, 3600, 6 * 3600, 86_400, 7 * 86_400, 30 * 86_400, 90 * 86_400];

interface ServedView {
  readonly spec: ViewSpec;
  readonly layout: OnlineLayout;
  readonly read: OnlineReader;
  readonly lookups: { inc(by?: number): void };
  readonly misses: { inc(by?: number): void };
  readonly stale: { inc(by?: number): void };
  readonly age: { observe(value: number): void };
}

/** For one model: per view, the model's inputs it holds (its layout's index and the input's name). */
interface Plan {
  readonly views: readonly { readonly view: ServedView; readonly columns: readonly number[]; readonly names: readonly string[] }[];
  /** Key columns the model does not read: taken out of a row once filled. */
  readonly foreignKeys: readonly string[];
}

export class OnlineFeatures {
  private plans = new WeakMap<ModelInputs, Plan>();
  /** When the store was last asked whether a materialization committed (ms). */
  private checked: number;

  private constructor(
    private readonly store: OnlineStore,
    private served: ServedView[],
    private readonly now: () => number,
  ) {
    this.checked = now();
  }

  /**
   * Loads the repository's views and opens the store read-only; a view the store lacks, or whose keys changed since
   * it was materialized, stops the server with the command that fixes it.
   */
  static async open(
    config: ServeFeaturesConfig,
    deps: { env: Readonly<Record<string, string | undefined>>; metrics: FeatureMetrics; now?: () => number },
  ): Promise<OnlineFeatures> {
    const repo: FeatureRepo = await loadFeatureRepo(config.repo, { env: deps.env });
    const names = config.views ?? Object.keys(repo.views);
    const unknown = names.filter((v) => !(v in repo.views));
    if (unknown.length > 0) {
      throw new OnlineStoreError(`serve.json features.views names ${unknown.map((v) => JSON.stringify(v)).join(', ')}, not a view of ${join(repo.dir, 'features.yaml')} (it has ${Object.keys(repo.views).join(', ')})`);
    }
    const store = OnlineStore.open(config.store ?? join(repo.store, ONLINE_STORE.file), { readonly: true });
    try {
      const m = deps.metrics;
      const lookups = m.counter('bramble_feature_lookups_total', 'Online store lookups, by view.', ['view']);
      const misses = m.counter('bramble_feature_lookup_misses_total', 'Online store lookups that found no entity, by view.', ['view']);
      const stale = m.counter('bramble_feature_stale_total', 'Online values served older than their view\'s ttl, by view.', ['view']);
      const age = m.histogram('bramble_feature_age_seconds', 'Age of the online values served (now − event time), by view.', ['view'], AGE_BUCKETS);
      const served = names.map((name): ServedView => {
        const labels = { view: name };
        const counted = { lookups: lookups.child(labels), misses: misses.child(labels), stale: stale.child(labels), age: age.child(labels) };
        return { spec: repo.views[name], ...counted, ...reading(store, repo.views[name]) };
      });
      return new OnlineFeatures(store, served, deps.now ?? Date.now);
    } catch (err) {
      store.close();
      throw err;
    }
  }

  /**
   * At most once a second: when a materialization has committed since, views whose columns changed are read with
   * their new layout (a model deployed after a new feature was materialized finds it without a restart).
   */
  private refresh(now: number): void {
    this.checked = now;
    if (!this.store.changed()) return;
    const next = this.served.map((view) => {
      const state = this.store.state(view.spec.name);
      return state && !sameLayout(state.layout, view.layout) ? { ...view, ...reading(this.store, view.spec) } : view;
    });
    if (next.some((v, i) => v !== this.served[i])) {
      this.served = next;
      this.plans = new WeakMap();
    }
  }

  /** The views served and their feature columns. */
  get views(): Record<string, string[]> {
    return Object.fromEntries(this.served.map((v) => [v.spec.name, v.layout.columns.map((c) => c.name)]));
  }

  private plan(model: ModelInputs): Plan {
    const known = this.plans.get(model);
    if (known) return known;
    // Only inputs are filled (never the id or the target); keys the model reads in either role stay in the row.
    const inputs = new Set(model.inputs.map((i) => i.name));
    const reads = new Set([...inputs, ...model.passthrough]);
    const views: Plan['views'][number][] = [];
    const keys = new Set<string>();
    for (const view of this.served) {
      const columns: number[] = [];
      view.layout.columns.forEach((c, i) => {
        if (inputs.has(c.name)) columns.push(i);
      });
      if (columns.length === 0) continue;
      views.push({ view, columns, names: columns.map((i) => view.layout.columns[i].name) });
      for (const k of view.layout.keys) keys.add(k);
    }
    const plan: Plan = { views, foreignKeys: [...keys].filter((k) => !reads.has(k)) };
    this.plans.set(model, plan);
    return plan;
  }

  /**
   * Fills each row's absent inputs from the store, in place; null when no row needed the store. `where(i)` names a
   * row in messages. Rows that are not objects are left for the model's check to refuse.
   */
  fill(records: readonly unknown[], model: ModelInputs, where: (i: number) => string): FeatureAnswer | null {
    const now = this.now();
    if (now - this.checked >= REFRESH_MS) this.refresh(now);
    const plan = this.plan(model);
    if (plan.views.length === 0) return null;
    let answer: FeatureAnswer | null = null;
    for (let r = 0; r < records.length; r++) {
      const record = records[r];
      if (typeof record !== 'object' || record === null || Array.isArray(record)) continue;
      const row = record as Record<string, unknown>;
      for (const p of plan.views) {
        if (!leavesOut(row, p.names)) continue;
        answer ??= { views: {} };
        const meta = (answer.views[p.view.spec.name] ??= emptyAnswer(records.length));
        this.fillView(row, p, meta, r, now, where);
      }
      for (const k of plan.foreignKeys) delete row[k];
    }
    return answer;
  }

  private fillView(row: Record<string, unknown>, p: Plan['views'][number], meta: ViewAnswer, r: number, now: number, where: (i: number) => string): void {
    const { view } = p;
    const key = keyOf(row, view, p.names, where(r));
    view.lookups.inc();
    const found = view.read(key);
    if (found === undefined) {
      view.misses.inc();
      if (view.spec.onMissing === 'error') {
        throw new FeatureEntityError(
          `${where(r)}: the online store has no ${view.spec.entity} ${describeKey(view.layout.keys, key)} in view ${view.spec.name}; materialize it, send its features in the row, or declare on_missing: null for the view`,
          { view: view.spec.name, key },
        );
      }
      for (const name of p.names) if (row[name] === undefined) row[name] = null;
      meta.missing[r] = true;
      return;
    }
    for (let j = 0; j < p.columns.length; j++) {
      const name = p.names[j];
      if (row[name] === undefined) row[name] = found[p.columns[j]];
    }
    const ageMs = now - (found[found.length - 1] as number);
    const stale = ageMs > view.spec.ttlMs;
    view.age.observe(ageMs / 1000);
    if (stale) view.stale.inc();
    meta.age_seconds[r] = ageMs / 1000;
    meta.stale[r] = stale;
    meta.missing[r] = false;
  }

  close(): void {
    this.store.close();
  }
}

/** A view's prepared lookup and layout; keys other than features.yaml's stop the server (or the refresh). */
function reading(store: OnlineStore, spec: ViewSpec): { layout: OnlineLayout; read: OnlineReader } {
  const { layout, read } = store.reader(spec.name);
  if (layout.keys.join('\0') !== spec.keys.join('\0')) {
    throw new OnlineStoreError(`the online store's ${spec.name} is keyed by ${layout.keys.join(', ')} but features.yaml keys it by ${spec.keys.join(', ')}; run bramble materialize --view ${spec.name}`, { view: spec.name });
  }
  return { layout, read };
}

function emptyAnswer(rows: number): ViewAnswer {
  return { age_seconds: new Array<null>(rows).fill(null), stale: new Array<null>(rows).fill(null), missing: new Array<null>(rows).fill(null) };
}

/** Whether the row leaves out any of `names` (absent or undefined; null is a value the client gave). */
function leavesOut(row: Record<string, unknown>, names: readonly string[]): boolean {
  for (const name of names) if (row[name] === undefined) return true;
  return false;
}

/** The row's key for the view, as text; a key that is absent or not text or a number is a 400 naming it. */
function keyOf(row: Record<string, unknown>, view: ServedView, names: readonly string[], where: string): string[] {
  const keys = view.layout.keys;
  const key: string[] = new Array(keys.length);
  for (let k = 0; k < keys.length; k++) {
    const v = row[keys[k]];
    if (typeof v === 'string') key[k] = v;
    else if (typeof v === 'number' && Number.isFinite(v)) key[k] = String(v);
    else {
      const left = names.filter((n) => row[n] === undefined);
      const what = v === undefined || v === null ? 'has no' : `has ${JSON.stringify(v)} as its`;
      throw new FeatureKeyError(
        `${where}: the row ${what} entity key ${JSON.stringify(keys[k])}, which view ${view.spec.name} needs to look up ${left.map((n) => JSON.stringify(n)).join(', ')}; give "${keys[k]}" (text or a number) or send those inputs in the row`,
        { view: view.spec.name, key: keys[k] },
      );
    }
  }
  return key;
}

function describeKey(names: readonly string[], key: readonly string[]): string {
  return names.map((n, i) => `${n}=${JSON.stringify(key[i])}`).join(', ');
}
