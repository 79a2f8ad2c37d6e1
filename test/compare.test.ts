import { describe, expect, it } from 'vitest';
import { applyGates, compareModels, formatVerdict, GATES, METRIC_DIRECTIONS, type GateRow, type Gates } from '../src/model/compare.js';
import type { MetricValues } from '../src/model/evaluate.js';
import { CLASSIFICATION_METRICS, REGRESSION_METRICS } from '../src/model/metric-names.js';

interface GateCase {
  name: string;
  gates: Gates;
  candidate: MetricValues;
  champion: MetricValues | null;
  rows: GateRow[];
}

const CASES: GateCase[] = [
  {
    name: 'min fails below the bound',
    gates: { roc_auc: { min: 0.8 } },
    candidate: { roc_auc: 0.79 },
    champion: { roc_auc: 0.85 },
    rows: [{ metric: 'roc_auc', rule: 'min', limit: 0.8, candidate: 0.79, champion: 0.85, delta: 0.79 - 0.85, passed: false, note: null }],
  },
  {
    name: 'min passes at the bound',
    gates: { roc_auc: { min: 0.8 } },
    candidate: { roc_auc: 0.8 },
    champion: { roc_auc: 0.78 },
    rows: [{ metric: 'roc_auc', rule: 'min', limit: 0.8, candidate: 0.8, champion: 0.78, delta: 0.8 - 0.78, passed: true, note: null }],
  },
  {
    name: 'max fails above the bound',
    gates: { log_loss: { max: 0.5 } },
    candidate: { log_loss: 0.61 },
    champion: null,
    rows: [{ metric: 'log_loss', rule: 'max', limit: 0.5, candidate: 0.61, champion: null, delta: null, passed: false, note: null }],
  },
  {
    name: 'max passes below the bound',
    gates: { rmse: { max: 12 } },
    candidate: { rmse: 11.5 },
    champion: { rmse: 11 },
    rows: [{ metric: 'rmse', rule: 'max', limit: 12, candidate: 11.5, champion: 11, delta: 0.5, passed: true, note: null }],
  },
  {
    name: 'max_drop passes a fall of exactly the limit in a higher-is-better metric (0.85 − 0.84 is 0.010000000000000009)',
    gates: { roc_auc: { max_drop: 0.01 } },
    candidate: { roc_auc: 0.84 },
    champion: { roc_auc: 0.85 },
    rows: [{ metric: 'roc_auc', rule: 'max_drop', limit: 0.01, candidate: 0.84, champion: 0.85, delta: 0.84 - 0.85, passed: true, note: null }],
  },
  {
    name: 'max_drop fails a larger fall in a higher-is-better metric',
    gates: { f1: { max_drop: 0.01 } },
    candidate: { f1: 0.7 },
    champion: { f1: 0.72 },
    rows: [{ metric: 'f1', rule: 'max_drop', limit: 0.01, candidate: 0.7, champion: 0.72, delta: 0.7 - 0.72, passed: false, note: null }],
  },
  {
    name: 'max_drop fails a rise in a lower-is-better metric (a drop in quality)',
    gates: { log_loss: { max_drop: 0.02 } },
    candidate: { log_loss: 0.35 },
    champion: { log_loss: 0.3 },
    rows: [
      {
        metric: 'log_loss',
        rule: 'max_drop',
        limit: 0.02,
        candidate: 0.35,
        champion: 0.3,
        delta: 0.35 - 0.3,
        passed: false,
        note: 'log_loss is lower-is-better, so max_drop bounds a rise',
      },
    ],
  },
  {
    name: 'max_drop passes a fall in a lower-is-better metric (an improvement)',
    gates: { log_loss: { max_drop: 0.02 } },
    candidate: { log_loss: 0.2 },
    champion: { log_loss: 0.3 },
    rows: [
      {
        metric: 'log_loss',
        rule: 'max_drop',
        limit: 0.02,
        candidate: 0.2,
        champion: 0.3,
        delta: 0.2 - 0.3,
        passed: true,
        note: 'log_loss is lower-is-better, so max_drop bounds a rise',
      },
    ],
  },
  {
    name: 'max_rise passes a small rise in an error',
    gates: { rmse: { max_rise: 0.5 } },
    candidate: { rmse: 10.4 },
    champion: { rmse: 10 },
    rows: [{ metric: 'rmse', rule: 'max_rise', limit: 0.5, candidate: 10.4, champion: 10, delta: 10.4 - 10, passed: true, note: null }],
  },
  {
    name: 'max_rise fails a large rise in an error',
    gates: { mae: { max_rise: 0.5 } },
    candidate: { mae: 8.6 },
    champion: { mae: 8 },
    rows: [{ metric: 'mae', rule: 'max_rise', limit: 0.5, candidate: 8.6, champion: 8, delta: 8.6 - 8, passed: false, note: null }],
  },
  {
    name: 'max_rise on a higher-is-better metric bounds its fall',
    gates: { r2: { max_rise: 0.05 } },
    candidate: { r2: 0.7 },
    champion: { r2: 0.8 },
    rows: [
      { metric: 'r2', rule: 'max_rise', limit: 0.05, candidate: 0.7, champion: 0.8, delta: 0.7 - 0.8, passed: false, note: 'r2 is higher-is-better, so max_rise bounds a fall' },
    ],
  },
  {
    name: 'a missing candidate metric fails every gate on it',
    gates: { roc_auc: { min: 0.5, max_drop: 0.01 } },
    candidate: { accuracy: 0.9, roc_auc: null },
    champion: { roc_auc: 0.85 },
    rows: [
      { metric: 'roc_auc', rule: 'min', limit: 0.5, candidate: null, champion: 0.85, delta: null, passed: false, note: 'the candidate has no roc_auc' },
      { metric: 'roc_auc', rule: 'max_drop', limit: 0.01, candidate: null, champion: 0.85, delta: null, passed: false, note: 'the candidate has no roc_auc' },
    ],
  },
  {
    name: 'a champion without the metric fails the relative gate',
    gates: { recall: { max_drop: 0.05 } },
    candidate: { recall: 0.6 },
    champion: { accuracy: 0.8 },
    rows: [{ metric: 'recall', rule: 'max_drop', limit: 0.05, candidate: 0.6, champion: null, delta: null, passed: false, note: 'the champion has no recall' }],
  },
  {
    name: 'no champion: relative gates pass with a note, absolute ones still apply',
    gates: { accuracy: { max_drop: 0.01, min: 0.9 } },
    candidate: { accuracy: 0.85 },
    champion: null,
    rows: [
      { metric: 'accuracy', rule: 'min', limit: 0.9, candidate: 0.85, champion: null, delta: null, passed: false, note: null },
      { metric: 'accuracy', rule: 'max_drop', limit: 0.01, candidate: 0.85, champion: null, delta: null, passed: true, note: 'no champion' },
    ],
  },
];

describe('applyGates', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const result = applyGates(c.gates, c.candidate, c.champion);
    expect(result.rows).toEqual(c.rows);
    expect(result.passed).toBe(c.rows.every((r) => r.passed));
  });

  it('lists gates in ml.yaml order, rules in min, max, max_drop, max_rise order, and fails if any fails', () => {
    const result = applyGates(
      { roc_auc: { max_drop: 0.01, min: 0.8 }, log_loss: { max: 0.5 } },
      { roc_auc: 0.83, log_loss: 0.52 },
      { roc_auc: 0.83, log_loss: 0.5 },
    );
    expect(result.rows.map((r) => [r.metric, r.rule, r.passed])).toEqual([
      ['roc_auc', 'min', true],
      ['roc_auc', 'max_drop', true],
      ['log_loss', 'max', false],
    ]);
    expect(result.passed).toBe(false);
  });

  it('passes with no gates', () => {
    expect(applyGates({}, { accuracy: 0.5 }, null)).toEqual({ passed: true, rows: [] });
  });

  it('knows the direction of every metric ml.yaml can name', () => {
    expect(Object.keys(METRIC_DIRECTIONS).sort()).toEqual([...CLASSIFICATION_METRICS, ...REGRESSION_METRICS].sort());
  });
});

describe('compareModels', () => {
  it('scores the candidate and the champion on the very same held-out rows', async () => {
    const heldOut = { rows: [1, 2, 3] };
    const seen: unknown[] = [];
    const comparison = await compareModels({
      heldOut,
      candidate: (rows) => {
        seen.push(rows);
        return { accuracy: 0.9 };
      },
      champion: async (rows) => {
        seen.push(rows);
        return { accuracy: 0.92 };
      },
      gates: { accuracy: { max_drop: 0.01 } },
    });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(heldOut);
    expect(seen[1]).toBe(heldOut);
    expect(comparison).toEqual({
      candidate: { accuracy: 0.9 },
      champion: { accuracy: 0.92 },
      verdict: {
        passed: false,
        rows: [{ metric: 'accuracy', rule: 'max_drop', limit: 0.01, candidate: 0.9, champion: 0.92, delta: 0.9 - 0.92, passed: false, note: null }],
      },
    });
  });

  it('gates the first model without a champion', async () => {
    const comparison = await compareModels({ heldOut: [], candidate: () => ({ rmse: 3 }), champion: null, gates: { rmse: { max: 4, max_rise: 0.1 } } });
    expect(comparison.champion).toBeNull();
    expect(comparison.verdict.passed).toBe(true);
    expect(comparison.verdict.rows.map((r) => r.note)).toEqual([null, GATES.noChampion]);
  });
});

describe('formatVerdict', () => {
  it('shows every gate with both values, the signed delta and the mark', () => {
    const result = applyGates(
      { roc_auc: { min: 0.8, max_drop: 0.01 }, log_loss: { max: 0.5, max_drop: 0.02 }, f1: { min: 0.6 }, precision: { max_drop: 0.05 } },
      { roc_auc: 0.8412, log_loss: 0.4133, f1: null, precision: 0.7 },
      { roc_auc: 0.8357, log_loss: 0.3801, f1: 0.66, precision: 0.7 },
    );
    expect(formatVerdict(result)).toMatchInlineSnapshot(`
      "   metric     rule      limit  candidate  champion    delta  note
      ✓  roc_auc    min         0.8     0.8412    0.8357  +0.0055
      ✓  roc_auc    max_drop   0.01     0.8412    0.8357  +0.0055
      ✓  log_loss   max         0.5     0.4133    0.3801  +0.0332
      ✗  log_loss   max_drop   0.02     0.4133    0.3801  +0.0332  log_loss is lower-is-better, so max_drop bounds a rise
      ✗  f1         min         0.6          —    0.6600        —  the candidate has no f1
      ✓  precision  max_drop   0.05     0.7000    0.7000   0.0000
      Failed: 2 of 6 gates (log_loss, f1)."
    `);
  });

  it('says so when there are no gates', () => {
    expect(formatVerdict({ passed: true, rows: [] })).toBe('No gates: compare.gates in ml.yaml is empty, so nothing blocks promotion.');
  });
});
