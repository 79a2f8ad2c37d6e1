/**
 * Prometheus metrics for `bramble serve`, rendered in the text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * The server counts every answer, at tens of thousands a second, so the cost sits in registration and in
 * `child(labels)`: a child holds its series, and its `inc`/`set`/`observe` is one addition with no lookup and no
 * allocation. The labels path (`inc(labels)`) walks a trie keyed by label value, so it allocates only the first
 * time a label set is seen. Rendering runs once per scrape and may allocate freely.
 */
import { errorClass } from '../errors.js';

/** A metric registered wrongly, or used with the wrong labels or a negative counter increment. */
export class MetricsError extends errorClass('E_METRICS') {}

export type Labels = Readonly<Record<string, string>>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  child(labels: Labels): CounterChild;
}
export interface CounterChild {
  inc(by?: number): void;
}
export interface Gauge {
  set(labels: Labels | undefined, value: number): void;
  inc(labels?: Labels, by?: number): void;
  child(labels: Labels): GaugeChild;
  /**
   * Drops every series, for a gauge rebuilt from a source at each scrape (the last monitor result), so that a label
   * set the source no longer has stops showing. A child taken before keeps writing to a series no longer rendered.
   */
  reset(): void;
}
export interface GaugeChild {
  set(value: number): void;
  inc(by?: number): void;
}
export interface Histogram {
  observe(labels: Labels | undefined, value: number): void;
  child(labels: Labels): HistogramChild;
}
export interface HistogramChild {
  observe(value: number): void;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Request latency in seconds, for a service that answers in about a millisecond. */
export const LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
]);

// https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

type MetricType = 'counter' | 'gauge' | 'histogram';

/** One node per label value, in the order of the metric's label names; the last level holds the series. */
class LabelTrie<S> {
  readonly next = new Map<string, LabelTrie<S>>();
  series: S | undefined = undefined;
}

abstract class Family<S> {
  /** Series in first-seen order, the order they are rendered in. */
  readonly series: S[] = [];
  private root = new LabelTrie<S>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
  ) {}

  /** Builds a series; `pairs` is its label set as rendered inside braces (`env="prod",model="churn"`), or ''. */
  protected abstract create(pairs: string): S;

  /** A metric without labels has its one series from the start, so that it renders 0 before anything happens. */
  protected seed(): void {
    if (this.labelNames.length === 0) this.root.series = this.push('');
  }

  /** Forgets every series (a metric without labels gets its one series back, at 0). */
  protected clear(): void {
    this.series.length = 0;
    this.root = new LabelTrie<S>();
    this.seed();
  }

  protected resolve(labels: Labels | undefined): S {
    const names = this.labelNames;
    if (labels === undefined) {
      if (names.length === 0) return this.root.series as S;
      throw this.mismatch({});
    }
    let given = 0;
    for (const key in labels) if (Object.hasOwn(labels, key)) given++;
    if (given !== names.length) throw this.mismatch(labels);
    for (let i = 0; i < names.length; i++) {
      if (typeof labels[names[i]] !== 'string') throw this.mismatch(labels);
    }
    let node = this.root;
    for (let i = 0; i < names.length; i++) {
      const value = labels[names[i]];
      let next = node.next.get(value);
      if (next === undefined) {
        next = new LabelTrie<S>();
        node.next.set(value, next);
      }
      node = next;
    }
    if (node.series === undefined) node.series = this.push(renderPairs(names, labels));
    return node.series;
  }

  private push(pairs: string): S {
    const series = this.create(pairs);
    this.series.push(series);
    return series;
  }

  private mismatch(labels: Labels): MetricsError {
    const given = Object.keys(labels);
    const missing = this.labelNames.filter((n) => !Object.hasOwn(labels, n));
    const extra = given.filter((n) => !this.labelNames.includes(n));
    const wrongType = this.labelNames.filter((n) => Object.hasOwn(labels, n) && typeof labels[n] !== 'string');
    const problems = [
      ...(missing.length ? [`missing ${missing.map((n) => `'${n}'`).join(', ')}`] : []),
      ...(extra.length ? [`unknown ${extra.map((n) => `'${n}'`).join(', ')}`] : []),
      ...wrongType.map((n) => `'${n}' is ${typeof labels[n]} ${String(labels[n])}, not a string`),
    ];
    return new MetricsError(
      `Metric '${this.name}' takes the labels {${this.labelNames.join(', ')}}; got {${given.join(', ')}} ` +
        `(${problems.join('; ')}). Pass every one of its labels, each a string, and no others.`,
      { metric: this.name, labelNames: [...this.labelNames], given, missing, extra },
    );
  }

  abstract render(): string;

  protected header(): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
  }
}

interface ScalarSeries {
  readonly pairs: string;
  value: number;
}

function checkIncrement(name: string, by: number): void {
  // `!(by >= 0)` also refuses NaN.
  if (!(by >= 0)) {
    throw new MetricsError(`Counter '${name}' can only go up; inc(${String(by)}) is refused. Use a gauge for a value that falls.`, {
      metric: name,
      by,
    });
  }
}

class CounterFamily extends Family<ScalarSeries> implements Counter {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, 'counter', labelNames);
    this.seed();
  }

  protected create(pairs: string): ScalarSeries {
    return { pairs, value: 0 };
  }

  inc(labels?: Labels, by = 1): void {
    checkIncrement(this.name, by);
    this.resolve(labels).value += by;
  }

  child(labels: Labels): CounterChild {
    const series = this.resolve(labels);
    const name = this.name;
    return {
      inc(by = 1) {
        if (!(by >= 0)) checkIncrement(name, by);
        series.value += by;
      },
    };
  }

  render(): string {
    let out = this.header();
    for (const s of this.series) out += `${this.name}${braces(s.pairs)} ${formatNumber(s.value)}\n`;
    return out;
  }
}

class GaugeFamily extends Family<ScalarSeries> implements Gauge {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, 'gauge', labelNames);
    this.seed();
  }

  protected create(pairs: string): ScalarSeries {
    return { pairs, value: 0 };
  }

  set(labels: Labels | undefined, value: number): void {
    this.resolve(labels).value = value;
  }

  inc(labels?: Labels, by = 1): void {
    this.resolve(labels).value += by;
  }

  child(labels: Labels): GaugeChild {
    const series = this.resolve(labels);
    return {
      set(value: number) {
        series.value = value;
      },
      inc(by = 1) {
        series.value += by;
      },
    };
  }

  reset(): void {
    this.clear();
  }

  render(): string {
    let out = this.header();
    for (const s of this.series) out += `${this.name}${braces(s.pairs)} ${formatNumber(s.value)}\n`;
    return out;
  }
}

interface HistogramSeries {
  readonly pairs: string;
  /** Observations per bucket, not cumulative (cumulated when rendered); values above every bound are only in `count`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

function observeInto(series: HistogramSeries, bounds: readonly number[], value: number): void {
  // A linear scan: a dozen bounds, most observations fall in the first few. `le` is inclusive. NaN falls in no
  // bucket but +Inf, as in the Go and Python clients.
  for (let i = 0; i < bounds.length; i++) {
    if (value <= bounds[i]) {
      series.counts[i]++;
      break;
    }
  }
  series.sum += value;
  series.count++;
}

class HistogramFamily extends Family<HistogramSeries> implements Histogram {
  private readonly les: readonly string[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
  ) {
    super(name, help, 'histogram', labelNames);
    this.les = bounds.map((b) => `le="${formatNumber(b)}"`);
    this.seed();
  }

  protected create(pairs: string): HistogramSeries {
    return { pairs, counts: new Float64Array(this.bounds.length), sum: 0, count: 0 };
  }

  observe(labels: Labels | undefined, value: number): void {
    observeInto(this.resolve(labels), this.bounds, value);
  }

  child(labels: Labels): HistogramChild {
    const series = this.resolve(labels);
    const bounds = this.bounds;
    return {
      observe(value: number) {
        observeInto(series, bounds, value);
      },
    };
  }

  render(): string {
    let out = this.header();
    for (const s of this.series) {
      const prefix = s.pairs === '' ? '{' : `{${s.pairs},`;
      let cumulative = 0;
      for (let i = 0; i < this.les.length; i++) {
        cumulative += s.counts[i];
        out += `${this.name}_bucket${prefix}${this.les[i]}} ${formatNumber(cumulative)}\n`;
      }
      out += `${this.name}_bucket${prefix}le="+Inf"} ${formatNumber(s.count)}\n`;
      out += `${this.name}_sum${braces(s.pairs)} ${formatNumber(s.sum)}\n`;
      out += `${this.name}_count${braces(s.pairs)} ${formatNumber(s.count)}\n`;
    }
    return out;
  }
}

/** A registry of metrics, rendered whole for `GET /metrics`. */
export class Metrics {
  readonly contentType: string = METRICS_CONTENT_TYPE;
  private readonly families: Family<unknown>[] = [];
  /** Every sample name in use, histograms' `_bucket`/`_sum`/`_count` included, so that none can clash. */
  private readonly taken = new Map<string, string>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    checkName(name);
    if (!name.endsWith('_total')) {
      throw new MetricsError(
        `Counter '${name}' must end in '_total' (Prometheus naming convention): name it '${name.replace(/_+$/, '')}_total'.`,
        { metric: name },
      );
    }
    return this.add(new CounterFamily(name, checkHelp(name, help), checkLabelNames(name, labelNames, [])), [name]);
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    checkName(name);
    return this.add(new GaugeFamily(name, checkHelp(name, help), checkLabelNames(name, labelNames, [])), [name]);
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    checkName(name);
    const family = new HistogramFamily(name, checkHelp(name, help), checkLabelNames(name, labelNames, ['le']), checkBuckets(name, buckets));
    return this.add(family, [name, ...HISTOGRAM_SUFFIXES.map((suffix) => name + suffix)]);
  }

  /** The whole exposition: metrics in registration order, each one's series in the order they were first seen. */
  render(): string {
    let out = '';
    for (const family of this.families) out += family.render();
    return out;
  }

  private add<F extends Family<unknown>>(family: F, names: readonly string[]): F {
    for (const n of names) {
      const owner = this.taken.get(n);
      if (owner !== undefined) {
        throw new MetricsError(
          `Metric '${family.name}' clashes with metric '${owner}', already registered: both would write samples named '${n}'. ` +
            'Register each metric once and give it a name of its own.',
          { metric: family.name, clashesWith: owner },
        );
      }
    }
    for (const n of names) this.taken.set(n, family.name);
    this.families.push(family);
    return family;
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !METRIC_NAME_RE.test(name)) {
    throw new MetricsError(
      `Metric name ${JSON.stringify(name)} is not a valid Prometheus name: it must match [a-zA-Z_:][a-zA-Z0-9_:]* ` +
        "(letters, digits, '_' and ':', not starting with a digit).",
      { metric: name },
    );
  }
}

function checkHelp(name: string, help: string): string {
  if (typeof help !== 'string') {
    throw new MetricsError(`Metric '${name}' needs its help text as a string (got ${typeof help}).`, { metric: name });
  }
  return help;
}

function checkLabelNames(name: string, labelNames: readonly string[], reserved: readonly string[]): readonly string[] {
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (typeof label !== 'string' || !LABEL_NAME_RE.test(label)) {
      throw new MetricsError(
        `Metric '${name}': label name ${JSON.stringify(label)} is not a valid Prometheus label name: it must match ` +
          "[a-zA-Z_][a-zA-Z0-9_]* (letters, digits and '_', not starting with a digit).",
        { metric: name, label },
      );
    }
    if (label.startsWith('__')) {
      throw new MetricsError(`Metric '${name}': label name '${label}' starts with '__', which Prometheus reserves for itself; rename it.`, {
        metric: name,
        label,
      });
    }
    if (reserved.includes(label)) {
      throw new MetricsError(`Metric '${name}': label name '${label}' is reserved for this metric type's own samples; rename it.`, {
        metric: name,
        label,
      });
    }
    if (seen.has(label)) {
      throw new MetricsError(`Metric '${name}': label name '${label}' is listed twice; list each label once.`, { metric: name, label });
    }
    seen.add(label);
  }
  return Object.freeze([...labelNames]);
}

function checkBuckets(name: string, buckets: readonly number[]): readonly number[] {
  // The +Inf bucket is always rendered; a trailing +Inf in the list is accepted and left implicit, as the Go client does.
  const bounds = buckets.length > 0 && buckets[buckets.length - 1] === Infinity ? buckets.slice(0, -1) : [...buckets];
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i];
    if (typeof b !== 'number' || !Number.isFinite(b)) {
      throw new MetricsError(`Histogram '${name}': bucket bound ${String(b)} (index ${i}) must be a finite number.`, {
        metric: name,
        buckets: [...buckets],
      });
    }
    if (i > 0 && !(b > bounds[i - 1])) {
      throw new MetricsError(
        `Histogram '${name}': bucket bounds must increase strictly; ${String(b)} (index ${i}) follows ${String(bounds[i - 1])}.`,
        { metric: name, buckets: [...buckets] },
      );
    }
  }
  return Object.freeze(bounds);
}

function renderPairs(names: readonly string[], labels: Labels): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    const value = labels[names[i]];
    // An empty value is the same as no label to Prometheus; leaving it out says so plainly (a regression answer has
    // no class).
    if (value === '') continue;
    if (out !== '') out += ',';
    out += `${names[i]}="${escapeLabelValue(value)}"`;
  }
  return out;
}

function braces(pairs: string): string {
  return pairs === '' ? '' : `{${pairs}}`;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text escapes backslash and line feed only. */
export function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** A sample value as Prometheus reads it: `+Inf`, `-Inf`, `NaN`; whole numbers below 1e21 without an exponent. */
export function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  // JavaScript prints whole numbers below 1e21 in full and others in the shortest form that reads back the same,
  // with an exponent such as 1e-7 or 1e+21, which Prometheus's float parser (Go's ParseFloat) accepts.
  return String(value);
}
