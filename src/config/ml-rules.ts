// The rules on ml.yaml that a JSON Schema cannot express: across keys (a gate on a metric never computed, a target
// used as a feature, maxSamples without bootstrap), checked after the schema, each at the place it names.
import { nearest } from '../errors.js';
import { CLASSIFICATION_METRICS, REGRESSION_METRICS, type Gate, type Metric } from '../model/metric-names.js';
import { parseInstant } from '../data/table.js';
import { forestParamsFinding } from './forest-options.js';
import { checkSweep } from './sweep-rules.js';
import type { MlConfig, Task } from './ml-yaml.js';
import type { Finding, Segment } from './positions.js';
import { orList, shown } from './schema-messages.js';

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

export function checkSemantics(config: MlConfig): Finding[] {
  const out: Finding[] = [];
  const { target, id } = config.data;

  if (id !== undefined && id === target) {
    out.push({ path: ['data', 'id'], at: 'value', message: `is the same column as data.target (${shown(target)}); the id is never a feature, so it cannot be the target` });
  }

  config.metrics.forEach((m, i) => checkMetric(config, m, ['metrics', i], 'value', out));

  checkSplit(config, out);
  checkFeatures(config, out);
  const forest = forestParamsFinding(config);
  if (forest) out.push(forest);
  checkDataSchema(config, out);
  checkEnvironments(config, out);
  checkSweep(config, out, checkMetric);

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
