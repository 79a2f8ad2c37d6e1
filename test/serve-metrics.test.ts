// Prometheus metrics: the exact exposition text, escaping, name rules, and a grammar check written independently of
// the renderer (from https://prometheus.io/docs/instrumenting/exposition_formats/, text format 0.0.4).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_FORMAT, DRIFT_VERSION, type ColumnDrift, type DriftResult } from '../src/data/drift.js';
import { monitorRecordFiles } from '../src/monitor/record.js';
import type { MonitorResult, VersionWindow } from '../src/monitor/windows.js';
import { Registry } from '../src/registry/registry.js';
import { checkServeConfig } from '../src/serve/config.js';
import { LATENCY_BUCKETS, Metrics, type Labels } from '../src/serve/metrics.js';
import { monitorLatestPath } from '../src/serve/monitor-metrics.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { git, makeModelRepo, train } from './helpers/model-repo.js';

/** The small registry of the tests, fed either through label sets or through children. */
function smallRegistry(path: 'labels' | 'child'): Metrics {
  const m = new Metrics();
  const requests = m.counter('bramble_requests_total', 'Predictions answered, by environment and status.', ['env', 'status']);
  const loaded = m.gauge('bramble_model_loaded', 'Whether a model is loaded (1) or not (0).');
  const latency = m.histogram('bramble_request_seconds', 'Time to answer.', ['env'], [0.25, 0.5, 1]);
  const observations = [0.25, 0.5, 0.5, 0.75, 2];
  if (path === 'labels') {
    requests.inc({ env: 'prod', status: '200' });
    requests.inc({ env: 'prod', status: '200' }, 2);
    // Label order in the call does not matter; the registered order does.
    requests.inc({ status: '500', env: 'dev' });
    loaded.set(undefined, 1);
    for (const v of observations) latency.observe({ env: 'prod' }, v);
  } else {
    const ok = requests.child({ env: 'prod', status: '200' });
    const failed = requests.child({ status: '500', env: 'dev' });
    const prod = latency.child({ env: 'prod' });
    ok.inc();
    ok.inc(2);
    failed.inc();
    loaded.child({}).set(1);
    for (const v of observations) prod.observe(v);
  }
  return m;
}

const SMALL_REGISTRY_TEXT = `# HELP bramble_requests_total Predictions answered, by environment and status.
# TYPE bramble_requests_total counter
bramble_requests_total{env="prod",status="200"} 3
bramble_requests_total{env="dev",status="500"} 1
# HELP bramble_model_loaded Whether a model is loaded (1) or not (0).
# TYPE bramble_model_loaded gauge
bramble_model_loaded 1
# HELP bramble_request_seconds Time to answer.
# TYPE bramble_request_seconds histogram
bramble_request_seconds_bucket{env="prod",le="0.25"} 1
bramble_request_seconds_bucket{env="prod",le="0.5"} 3
bramble_request_seconds_bucket{env="prod",le="1"} 4
bramble_request_seconds_bucket{env="prod",le="+Inf"} 5
bramble_request_seconds_sum{env="prod"} 4
bramble_request_seconds_count{env="prod"} 5
`;

// ---------------------------------------------------------------------------------------------------------------
// An independent reader of the text format. It knows nothing of the renderer: it reads lines by the grammar and
// checks the rules a scraper relies on. It returns the problems found, so that a test can show it finds them.

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const VALUE = /^(?:[+-]?Inf|NaN|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

interface Sample {
  name: string;
  labels: Map<string, string>;
  value: number;
}

/** Reads `{a="x",b="y"}` from `text` at `at`; returns the labels and where reading stopped, or a problem. */
function readLabels(text: string, at: number): { labels: Map<string, string>; end: number } | string {
  const labels = new Map<string, string>();
  let i = at + 1;
  if (text[i] === '}') return { labels, end: i + 1 };
  for (;;) {
    const name = new RegExp(`^${LABEL}`).exec(text.slice(i))?.[0];
    if (name === undefined) return `bad label name at column ${i}`;
    if (labels.has(name)) return `label ${name} given twice`;
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') return `expected =" after label ${name}`;
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) return `unterminated value of label ${name}`;
      if (c === '"') break;
      if (c === '\n') return `raw line feed in label ${name}`;
      if (c === '\\') {
        const e = text[i + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else return `bad escape \\${String(e)} in label ${name}`;
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    labels.set(name, value);
    i++;
    if (text[i] === '}') return { labels, end: i + 1 };
    if (text[i] !== ',') return `expected , or } after label ${name}`;
    i++;
  }
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function checkExposition(text: string): { problems: string[]; samples: Sample[] } {
  const problems: string[] = [];
  const samples: Sample[] = [];
  if (text !== '' && !text.endsWith('\n')) problems.push('the text does not end with a line feed');
  const types = new Map<string, string>();
  const helped = new Set<string>();
  const finished = new Set<string>();
  let current: string | null = null;
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    const help = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
    const type = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (help) {
      if (helped.has(help[1])) problems.push(`${where}: second HELP for ${help[1]}`);
      helped.add(help[1]);
      if (/\\[^\\n]|\\$/.test(help[2].replace(/\\\\/g, ''))) problems.push(`${where}: bad escape in HELP`);
      return;
    }
    if (type) {
      if (types.has(type[1])) problems.push(`${where}: second TYPE for ${type[1]}`);
      types.set(type[1], type[2]);
      return;
    }
    if (line.startsWith('#')) {
      problems.push(`${where}: a comment that is neither HELP nor TYPE`);
      return;
    }
    const name = new RegExp(`^${NAME}`).exec(line)?.[0];
    if (name === undefined) {
      problems.push(`${where}: not a sample: ${JSON.stringify(line)}`);
      return;
    }
    let rest = line.slice(name.length);
    let labels = new Map<string, string>();
    if (rest.startsWith('{')) {
      const read = readLabels(rest, 0);
      if (typeof read === 'string') {
        problems.push(`${where}: ${read}`);
        return;
      }
      labels = read.labels;
      rest = rest.slice(read.end);
    }
    const value = / (\S+)$/.exec(rest);
    if (!value || rest !== ` ${value[1]}` || !VALUE.test(value[1])) {
      problems.push(`${where}: bad value in ${JSON.stringify(line)}`);
      return;
    }
    // The metric a sample belongs to: itself, or a histogram it is a part of.
    const family =
      [...types.keys()].find((f) => types.get(f) === 'histogram' && [`${f}_bucket`, `${f}_sum`, `${f}_count`].includes(name)) ??
      (types.has(name) ? name : undefined);
    if (family === undefined) {
      problems.push(`${where}: sample ${name} has no TYPE before it`);
      return;
    }
    if (family !== current) {
      if (finished.has(family)) problems.push(`${where}: samples of ${family} are not in one group`);
      if (current !== null) finished.add(current);
      current = family;
    }
    if (types.get(family) === 'counter' && !name.endsWith('_total')) problems.push(`${where}: counter ${name} does not end in _total`);
    if (types.get(family) === 'histogram' && name.endsWith('_bucket') !== labels.has('le')) {
      problems.push(`${where}: le label on a histogram sample that is not a bucket, or a bucket without le`);
    }
    samples.push({ name, labels, value: parseValue(value[1]) });
  });
  // Histograms: per series, buckets ascend in le, counts never fall, and le="+Inf" equals _count.
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const key = (labels: Map<string, string>) =>
      JSON.stringify([...labels].filter(([k]) => k !== 'le').sort(([a], [b]) => (a < b ? -1 : 1)));
    const buckets = new Map<string, { le: number; count: number }[]>();
    const counts = new Map<string, number>();
    for (const s of samples) {
      if (s.name === `${family}_bucket`) {
        const list = buckets.get(key(s.labels)) ?? [];
        list.push({ le: parseValue(s.labels.get('le') as string), count: s.value });
        buckets.set(key(s.labels), list);
      }
      if (s.name === `${family}_count`) counts.set(key(s.labels), s.value);
    }
    for (const [series, list] of buckets) {
      for (let i = 1; i < list.length; i++) {
        if (!(list[i].le > list[i - 1].le)) problems.push(`${family}${series}: le ${list[i].le} after ${list[i - 1].le}`);
        if (list[i].count < list[i - 1].count) problems.push(`${family}${series}: bucket le=${list[i].le} counts fewer than the one before`);
      }
      const last = list[list.length - 1];
      if (last.le !== Infinity) problems.push(`${family}${series}: no le="+Inf" bucket`);
      else if (last.count !== counts.get(series)) problems.push(`${family}${series}: le="+Inf" is ${last.count} but _count is ${counts.get(series)}`);
    }
    for (const series of counts.keys()) if (!buckets.has(series)) problems.push(`${family}${series}: _count without buckets`);
  }
  return { problems, samples };
}

// ---------------------------------------------------------------------------------------------------------------

describe('rendering', () => {
  it('renders a small registry exactly: registration order, first-seen series, cumulative buckets with inclusive le', () => {
    const m = smallRegistry('labels');
    expect(m.render()).toBe(SMALL_REGISTRY_TEXT);
    expect(m.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('gives the same text through children as through label sets', () => {
    expect(smallRegistry('child').render()).toBe(smallRegistry('labels').render());
  });

  it('renders a metric without labels as 0 before anything happens, and a labelled one as its header only', () => {
    const m = new Metrics();
    m.counter('a_total', 'A.');
    m.counter('b_total', 'B.', ['env']);
    m.histogram('c_seconds', 'C.', [], [1]);
    expect(m.render()).toBe(
      [
        '# HELP a_total A.',
        '# TYPE a_total counter',
        'a_total 0',
        '# HELP b_total B.',
        '# TYPE b_total counter',
        '# HELP c_seconds C.',
        '# TYPE c_seconds histogram',
        'c_seconds_bucket{le="1"} 0',
        'c_seconds_bucket{le="+Inf"} 0',
        'c_seconds_sum 0',
        'c_seconds_count 0',
        '',
      ].join('\n'),
    );
    expect(new Metrics().render()).toBe('');
  });

  it('drops every series of a gauge on reset: a labelled one keeps its header, one without labels goes back to 0', () => {
    const m = new Metrics();
    const labelled = m.gauge('g', 'G.', ['env']);
    const plain = m.gauge('h', 'H.');
    labelled.set({ env: 'prod' }, 1);
    labelled.set({ env: 'dev' }, 2);
    plain.set(undefined, 3);
    labelled.reset();
    plain.reset();
    labelled.set({ env: 'dev' }, 4);
    expect(m.render()).toBe('# HELP g G.\n# TYPE g gauge\ng{env="dev"} 4\n# HELP h H.\n# TYPE h gauge\nh 0\n');
  });

  it('escapes label values (backslash, quote, line feed) and HELP text (backslash, line feed)', () => {
    const m = new Metrics();
    const c = m.counter('odd_total', 'First line\nsecond C:\\path "quoted"', ['v']);
    c.inc({ v: 'a\\b"c\nd' });
    expect(m.render()).toBe(
      '# HELP odd_total First line\\nsecond C:\\\\path "quoted"\n' + '# TYPE odd_total counter\n' + 'odd_total{v="a\\\\b\\"c\\nd"} 1\n',
    );
    const { problems, samples } = checkExposition(m.render());
    expect(problems).toEqual([]);
    expect(samples[0].labels.get('v')).toBe('a\\b"c\nd');
  });

  it.each([
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
    [123456789012345, '123456789012345'],
    [1e20, '100000000000000000000'],
    [-0, '0'],
    [0.1, '0.1'],
    [-2.5, '-2.5'],
    [1e-7, '1e-7'],
  ])('renders the value %s as %s', (value, text) => {
    const m = new Metrics();
    m.gauge('g', 'G.').set(undefined, value);
    expect(m.render().split('\n')[2]).toBe(`g ${text}`);
  });

  it('counts an observation above every bound, or NaN, only in +Inf, _count and _sum', () => {
    const m = new Metrics();
    const h = m.histogram('h_seconds', 'H.', [], [1, 2]).child({});
    h.observe(3);
    h.observe(1);
    expect(m.render()).toContain('h_seconds_bucket{le="1"} 1\nh_seconds_bucket{le="2"} 1\nh_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 4\n');
    h.observe(NaN);
    expect(m.render()).toContain('h_seconds_bucket{le="2"} 1\nh_seconds_bucket{le="+Inf"} 3\nh_seconds_sum NaN\nh_seconds_count 3\n');
  });

  it('has Prometheus-style latency buckets for a fast service', () => {
    expect(LATENCY_BUCKETS).toEqual([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
    expect(Object.isFrozen(LATENCY_BUCKETS)).toBe(true);
  });
});

describe('the exposition grammar check', () => {
  it('passes the small registry and a busy one with every kind of value', () => {
    expect(checkExposition(SMALL_REGISTRY_TEXT).problems).toEqual([]);
    const m = new Metrics();
    const requests = m.counter('bramble:requests_total', 'Requests.\\ with \n odd help', ['env', 'model', 'status']);
    const inflight = m.gauge('inflight', 'In flight.', ['env']);
    const latency = m.histogram('latency_seconds', 'Latency.', ['env', 'model'], LATENCY_BUCKETS);
    const envs = ['dev', 'staging', 'prod', 'a "quoted"\\ env\n'];
    for (let i = 0; i < 500; i++) {
      const env = envs[i % envs.length];
      requests.inc({ env, model: `m${i % 3}`, status: i % 7 === 0 ? '500' : '200' });
      inflight.inc({ env }, i % 2 ? 1 : -1);
      latency.observe({ env, model: `m${i % 3}` }, [0, 0.0005, 0.0007, 0.003, 0.1, 3, Infinity][i % 7]);
    }
    inflight.set({ env: 'x' }, NaN);
    const { problems, samples } = checkExposition(m.render());
    expect(problems).toEqual([]);
    const total = samples.filter((s) => s.name === 'bramble:requests_total').reduce((a, s) => a + s.value, 0);
    expect(total).toBe(500);
    const infs = samples.filter((s) => s.name === 'latency_seconds_bucket' && s.labels.get('le') === '+Inf');
    expect(infs.reduce((a, s) => a + s.value, 0)).toBe(500);
  });

  it.each([
    ['a sample before its TYPE', 'x_total 1\n# TYPE x_total counter\n', 'sample x_total has no TYPE before it'],
    [
      'falling bucket counts',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
      'counts fewer than the one before',
    ],
    ['+Inf not equal to _count', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n', '_count is 2'],
    ['a bad escape', '# TYPE g gauge\ng{a="x\\ty"} 1\n', 'bad escape'],
    ['a bad value', '# TYPE g gauge\ng 1,5\n', 'bad value'],
    ['a missing final line feed', '# TYPE g gauge\ng 1', 'does not end with a line feed'],
    ['split groups', '# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na 2\n', 'not in one group'],
    ['a stray comment', '# just a comment\n', 'neither HELP nor TYPE'],
  ])('finds %s', (_, text, problem) => {
    expect(checkExposition(text).problems.join('\n')).toContain(problem);
  });
});

describe('names and labels', () => {
  const m = () => new Metrics();
  it.each<[string, () => unknown, string]>([
    ['a counter not ending in _total', () => m().counter('requests', 'R.'), "Counter 'requests' must end in '_total' (Prometheus naming convention): name it 'requests_total'."],
    ['a metric name with a dash', () => m().gauge('bad-name', 'B.'), 'Metric name "bad-name" is not a valid Prometheus name: it must match [a-zA-Z_:][a-zA-Z0-9_:]*'],
    ['a metric name starting with a digit', () => m().gauge('1up', 'U.'), 'Metric name "1up" is not a valid Prometheus name'],
    ['a label name with a colon', () => m().gauge('g', 'G.', ['a:b']), `Metric 'g': label name "a:b" is not a valid Prometheus label name`],
    ['a label name starting with __', () => m().gauge('g', 'G.', ['__name']), "Metric 'g': label name '__name' starts with '__', which Prometheus reserves"],
    ['le on a histogram', () => m().histogram('h', 'H.', ['le'], [1]), "Metric 'h': label name 'le' is reserved"],
    ['a label listed twice', () => m().gauge('g', 'G.', ['env', 'env']), "Metric 'g': label name 'env' is listed twice"],
    ['falling buckets', () => m().histogram('h', 'H.', [], [1, 0.5]), "Histogram 'h': bucket bounds must increase strictly; 0.5 (index 1) follows 1."],
    ['a NaN bucket', () => m().histogram('h', 'H.', [], [NaN]), "Histogram 'h': bucket bound NaN (index 0) must be a finite number."],
    [
      'a metric registered twice',
      () => {
        const r = m();
        r.gauge('g', 'G.');
        r.gauge('g', 'G again.');
      },
      "Metric 'g' clashes with metric 'g', already registered",
    ],
    [
      'a gauge named like a histogram part',
      () => {
        const r = m();
        r.histogram('h', 'H.', [], [1]);
        r.gauge('h_count', 'Clash.');
      },
      "Metric 'h_count' clashes with metric 'h', already registered: both would write samples named 'h_count'.",
    ],
  ])('refuses %s', (_, register, message) => {
    expect(register).toThrow(message);
    try {
      register();
    } catch (err) {
      expect(err).toMatchObject({ code: 'E_METRICS', name: 'MetricsError' });
    }
  });

  it('accepts a trailing +Inf bucket and leaves it implicit', () => {
    const r = new Metrics();
    r.histogram('h', 'H.', [], [1, Infinity]).observe(undefined, 5);
    expect(r.render()).toBe('# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="+Inf"} 1\nh_sum 5\nh_count 1\n');
  });

  const requests = () => new Metrics().counter('requests_total', 'R.', ['env', 'status']);
  it.each<[string, () => unknown, string]>([
    ['a missing label', () => requests().inc({ env: 'prod' }), "Metric 'requests_total' takes the labels {env, status}; got {env} (missing 'status')."],
    [
      'an extra label',
      () => requests().inc({ env: 'prod', status: '200', zone: 'eu' }),
      "Metric 'requests_total' takes the labels {env, status}; got {env, status, zone} (unknown 'zone').",
    ],
    ['a renamed label', () => requests().child({ env: 'prod', code: '200' }), "(missing 'status'; unknown 'code')"],
    ['no labels at all', () => requests().inc(), "Metric 'requests_total' takes the labels {env, status}; got {} (missing 'env', 'status')."],
    ['labels on a metric without any', () => new Metrics().gauge('g', 'G.').set({ env: 'x' }, 1), "Metric 'g' takes the labels {}; got {env} (unknown 'env')."],
    ['a label value that is not a string', () => requests().inc({ env: 'prod', status: 200 } as unknown as Labels), "'status' is number 200, not a string"],
    ['a counter going down', () => requests().inc({ env: 'prod', status: '200' }, -1), "Counter 'requests_total' can only go up; inc(-1) is refused."],
    ['a counter child going down', () => requests().child({ env: 'prod', status: '200' }).inc(NaN), "Counter 'requests_total' can only go up; inc(NaN) is refused."],
  ])('refuses %s', (_, use, message) => {
    expect(use).toThrow(message);
  });

  it('leaves no trace of a refused label set', () => {
    const r = new Metrics();
    const c = r.counter('requests_total', 'R.', ['env', 'status']);
    expect(() => c.inc({ env: 'prod' })).toThrow('missing');
    expect(() => c.inc({ env: 'prod', status: '200' }, -1)).toThrow('only go up');
    expect(r.render()).toBe('# HELP requests_total R.\n# TYPE requests_total counter\n');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The last monitor result (issue 14 item 4): a real model repository whose registry branch carries
// NAME/monitoring/ENV/latest.json, a real server on port 0 that follows it, /metrics scraped over HTTP.

const HOUR = 3_600_000;
const DAY_ONE = Date.parse('2026-11-01T00:00:00Z');

function drift(driftedShare: number): DriftResult {
  return { format: DRIFT_FORMAT, version: DRIFT_VERSION, share: 0.5, driftedShare, datasetDrift: driftedShare >= 0.5, columns: [], skipped: [] };
}

/** The predicted labels against the training target: chi-square, drifted when its p-value is under 0.05. */
function predictionDrift(pValue: number): ColumnDrift {
  return { column: 'Churn', kind: 'categorical', test: 'chi2', statistic: 9.1, pValue, score: pValue, threshold: 0.05, drifted: pValue < 0.05, referenceCount: 5000, currentCount: 400 };
}

/** One version's window: drift with that share (null: too few rows), the predictions' p-value, the watched accuracy. */
function versionWindow(version: string, share: number | null, accuracy: { value: number | null; rows: number } | null, predictionsP: number | null = null): VersionWindow {
  const performance: VersionWindow['performance'] =
    accuracy === null
      ? { status: 'not-enough-data', rows: 3 }
      : { status: 'ok', rows: accuracy.rows, metrics: { accuracy: accuracy.value ?? 0 }, watched: { metric: 'accuracy', value: accuracy.value, alert: (accuracy.value ?? 1) < 0.8 }, interval: null };
  const status = share === null ? 'not-enough-data' : share >= 0.5 ? 'alert' : 'healthy';
  const drifted = share === null ? null : drift(share);
  return { version, rows: share === null ? 5 : 400, status, drift: drifted, predictionDrift: predictionsP === null ? null : predictionDrift(predictionsP), performance, joined: { feedback: 0, truthFile: 0 }, unjoinedFeedback: 0, unknownTruth: 0 };
}

/** A bramble-monitor result of churn in `env`, one window a day from DAY_ONE. */
function monitorResult(env: string, days: readonly (readonly VersionWindow[])[], healthy: boolean, ranAt = '2026-11-04T06:00:00.000Z'): MonitorResult {
  const windows = days.map((versions, i) => ({
    start: new Date(DAY_ONE + i * 24 * HOUR).toISOString(),
    end: new Date(DAY_ONE + (i + 1) * 24 * HOUR).toISOString(),
    status: versions.length === 0 ? ('empty' as const) : ('healthy' as const),
    versions,
  }));
  const log = { files: ['predictions.jsonl'], requests: 900, rows: 900, feedback: 0, otherRequests: 0, late: 0, faults: 0, corrupt: [], corruptLines: 0 };
  return { format: 'bramble-monitor', version: 1, name: 'churn', env, ranAt, window: '1d', windowMs: 24 * HOUR, minRows: 100, share: 0.5, log, truth: null, windows, healthy };
}

/** Writes (or, for null, removes) files on the registry branch with git's own CLI, in a worktree of that branch. */
function commitOnRegistry(repo: string, files: Readonly<Record<string, string | null>>): void {
  const tree = mkdtempSync(join(tmpdir(), 'bramble-registry-tree-'));
  git(repo, 'worktree', 'add', '-q', tree, 'bramble/registry');
  for (const [path, text] of Object.entries(files)) {
    if (text === null) git(tree, 'rm', '-q', path);
    else {
      mkdirSync(dirname(join(tree, path)), { recursive: true });
      writeFileSync(join(tree, path), text);
      git(tree, 'add', path);
    }
  }
  git(tree, 'commit', '-qm', 'monitor results');
  git(repo, 'worktree', 'remove', '--force', tree);
}

describe('the last monitor result in /metrics', () => {
  let repo: string;
  let server: RunningServer;
  const warnings: string[] = [];

  async function scrape(): Promise<{ monitor: string[]; problems: string[] }> {
    await server.sync?.sync();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return { monitor: text.split('\n').filter((l) => l.startsWith('bramble_monitor_')), problems: checkExposition(text).problems };
  }

  beforeAll(async () => {
    repo = makeModelRepo({ trees: 5 });
    const registry = await Registry.open({ dir: repo, remote: null });
    await registry.register(await train(repo));
    await registry.assign('churn', 'v1.0.0', 'prod', ['staging', 'prod']);
    const prod = monitorResult(
      'prod',
      [
        [versionWindow('v1.0.0', 0.1, { value: 0.9, rows: 150 }, 0.4)],
        [versionWindow('v1.0.0', 0.6, null, 0.001), versionWindow('v1.0.1', 0.2, { value: null, rows: 120 })],
        [versionWindow('v1.0.0', null, null), versionWindow('v1.0.1', 0.3, { value: 0.75, rows: 130 }, 0.2)],
      ],
      false,
    );
    commitOnRegistry(repo, { 'churn/monitoring/prod/latest.json': JSON.stringify(prod, null, 2), 'churn/monitoring/staging/latest.json': '{"format": "bramble-monitor", ' });
    const root = mkdtempSync(join(tmpdir(), 'bramble-monitor-host-'));
    const config = checkServeConfig(
      {
        listen: { host: '127.0.0.1', port: 0 },
        models: 'models',
        log: { dir: 'logs' },
        git: { url: repo, intervalSeconds: 3600 },
        environments: { prod: { path: '/prod', model: 'churn' }, staging: { path: '/staging', model: 'churn' } },
      },
      'serve.json',
      root,
    );
    server = await startServer(config, { env: {}, version: 'test', warn: (m) => warnings.push(m) });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('reads latest.json where the monitor writes it', () => {
    const files = monitorRecordFiles(monitorResult('prod', [], true), [], '');
    expect([...files.keys()]).toContain(monitorLatestPath('churn', 'prod'));
  });

  it('shows per environment: healthy, the run time, drift and the live metric of the newest window with enough rows', async () => {
    const { monitor, problems } = await scrape();
    expect(problems).toEqual([]);
    const end = (day: number) => String((DAY_ONE + day * 24 * HOUR) / 1000);
    expect(monitor).toEqual([
      'bramble_monitor_healthy{env="prod",model="churn"} 0',
      `bramble_monitor_run_timestamp_seconds{env="prod",model="churn"} ${Date.parse('2026-11-04T06:00:00Z') / 1000}`,
      // v1.0.0's third day had too few rows: its drift is the second day's.
      'bramble_monitor_drifted_share{env="prod",model="churn",version="v1.0.0"} 0.6',
      'bramble_monitor_drifted_share{env="prod",model="churn",version="v1.0.1"} 0.3',
      'bramble_monitor_dataset_drift{env="prod",model="churn",version="v1.0.0"} 1',
      'bramble_monitor_dataset_drift{env="prod",model="churn",version="v1.0.1"} 0',
      'bramble_monitor_prediction_drift{env="prod",model="churn",version="v1.0.0"} 1',
      'bramble_monitor_prediction_drift{env="prod",model="churn",version="v1.0.1"} 0',
      `bramble_monitor_window_end_timestamp_seconds{env="prod",model="churn",version="v1.0.0"} ${end(2)}`,
      `bramble_monitor_window_end_timestamp_seconds{env="prod",model="churn",version="v1.0.1"} ${end(3)}`,
      // v1.0.0's accuracy is the first day's (the later ones had no joined rows); v1.0.1's day 2 had no value.
      'bramble_monitor_metric{env="prod",model="churn",version="v1.0.0",metric="accuracy"} 0.9',
      'bramble_monitor_metric{env="prod",model="churn",version="v1.0.1",metric="accuracy"} 0.75',
      'bramble_monitor_metric_rows{env="prod",model="churn",version="v1.0.0",metric="accuracy"} 150',
      'bramble_monitor_metric_rows{env="prod",model="churn",version="v1.0.1",metric="accuracy"} 130',
    ]);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^bramble_model_info\{env="prod",model="churn",version="v1\.0\.0",sha256="[0-9a-f]{64}"\} 1$/m);
    expect(text).toContain('# TYPE bramble_monitor_drifted_share gauge\n');
  });

  it('warns once per blob of an unreadable latest.json, shows nothing for it, and follows the branch as it changes', async () => {
    await scrape();
    const about = (file: string) => warnings.filter((w) => w.includes(file));
    expect(about('churn/monitoring/staging/latest.json')).toHaveLength(1);
    expect(about('churn/monitoring/staging/latest.json')[0]).toMatch(/^staging: the monitor result bramble\/registry:churn\/monitoring\/staging\/latest\.json \(blob [0-9a-f]{7}\) is not shown in \/metrics: it is not JSON/);
    // Another model's result in staging's place; prod's result without ranAt (as written before the monitor had it).
    const healthy = Object.entries(monitorResult('prod', [[versionWindow('v1.0.1', 0.1, null)], []], true)).filter(([key]) => key !== 'ranAt');
    commitOnRegistry(repo, {
      'churn/monitoring/prod/latest.json': JSON.stringify(Object.fromEntries(healthy)),
      'churn/monitoring/staging/latest.json': JSON.stringify({ ...monitorResult('staging', [], true), name: 'prices' }),
    });
    const changed = await scrape();
    expect(changed.problems).toEqual([]);
    expect(changed.monitor).toEqual([
      'bramble_monitor_healthy{env="prod",model="churn"} 1',
      // No ranAt: the newest window's end (an empty window's too).
      `bramble_monitor_run_timestamp_seconds{env="prod",model="churn"} ${(DAY_ONE + 2 * 24 * HOUR) / 1000}`,
      'bramble_monitor_drifted_share{env="prod",model="churn",version="v1.0.1"} 0.1',
      'bramble_monitor_dataset_drift{env="prod",model="churn",version="v1.0.1"} 0',
      `bramble_monitor_window_end_timestamp_seconds{env="prod",model="churn",version="v1.0.1"} ${(DAY_ONE + 24 * HOUR) / 1000}`,
    ]);
    expect(about('churn/monitoring/staging/latest.json')).toHaveLength(2);
    expect(about('churn/monitoring/staging/latest.json')[1]).toContain('it is the result of "prices" in "staging", not of churn in staging');
    commitOnRegistry(repo, { 'churn/monitoring/prod/latest.json': null, 'churn/monitoring/staging/latest.json': null });
    expect((await scrape()).monitor).toEqual([]);
    expect(warnings.filter((w) => w.includes('monitor'))).toHaveLength(2);
  });
});
