// bramble monitor over a log with a canary and a shadow: each version is reported per role with its live metric
// and interval, and the A/B comparison (other − main) matches Wilson's intervals and Newcombe's difference computed
// here by hand. Half of main's lines are written without a role, as hosts wrote them before roles: they are main's.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { monitorText } from '../src/commands/monitor.js';
import { monitorMarkdown } from '../src/monitor/record.js';
import type { MonitorResult } from '../src/monitor/windows.js';
import { Registry } from '../src/registry/registry.js';
import { monitorRun } from '../src/usecases/monitor.js';
import { commitAll, editMlYaml, makeModelRepo, train } from './helpers/model-repo.js';

const Z = 1.959963984540054;
const START = Date.parse('2026-11-02T08:00:00Z');

/** Wilson's score interval for k of n, written out. */
function wilson(k: number, n: number): { value: number; low: number; high: number } {
  const p = k / n;
  const centre = (p + (Z * Z) / (2 * n)) / (1 + (Z * Z) / n);
  const half = (Z / (1 + (Z * Z) / n)) * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n));
  return { value: p, low: centre - half, high: centre + half };
}

/** Newcombe's (1998) hybrid score interval for p₁ − p₂ from the two Wilson intervals. */
function newcombe(a: ReturnType<typeof wilson>, b: ReturnType<typeof wilson>): { difference: number; low: number; high: number } {
  const d = a.value - b.value;
  return { difference: d, low: d - Math.sqrt((a.value - a.low) ** 2 + (b.high - b.value) ** 2), high: d + Math.sqrt((a.high - a.value) ** 2 + (b.value - b.low) ** 2) };
}

describe('bramble monitor with a canary and a shadow', () => {
  let result: MonitorResult;

  beforeAll(async () => {
    const dir = makeModelRepo({ trees: 4 });
    editMlYaml(dir, (t) => t.replace('performance: { metric: roc_auc, min: 0.78 }', 'performance: { metric: accuracy, min: 0.5 }'));
    commitAll(dir, 'watch accuracy');
    let rows: Record<string, unknown>[] = [];
    for (const trees of [4, 5, 6]) {
      editMlYaml(dir, (t) => t.replace(/trees: \d+/, `trees: ${trees}`));
      if (trees !== 4) commitAll(dir, `${trees} trees`);
      const text = await train(dir);
      rows = (JSON.parse(text) as { samples: { rows: Record<string, unknown>[] } }).samples.rows;
      await (await Registry.open({ dir, remote: null, env: {} })).register(text);
    }
    const logs = mkdtempSync(join(tmpdir(), 'bramble-monitor-release-'));
    const lines: string[] = [];
    let t = START;
    // Every request's truth is Yes; `right` of them are answered Yes.
    const answer = (id: string, role: string | null, version: string, right: boolean): void => {
      const record: Record<string, unknown> = { id, time: new Date((t += 1000)).toISOString(), env: 'prod' };
      if (role !== null) record.role = role;
      record.model = { name: 'churn', version, sha256: 'a'.repeat(64) };
      record.inputs = [rows[lines.length % rows.length]];
      record.outputs = { predictions: [right ? 'Yes' : 'No'], probabilities: right ? [0.3, 0.7] : [0.7, 0.3] };
      record.latencyMs = 1;
      lines.push(JSON.stringify(record));
    };
    for (let i = 0; i < 150; i++) {
      answer(`m-${i}`, i % 2 === 0 ? null : 'main', 'v1.0.0', i < 120);
      answer(`m-${i}`, 'shadow', 'v1.2.0', i < 105);
    }
    for (let i = 0; i < 120; i++) answer(`c-${i}`, 'canary', 'v1.1.0', i < 102);
    for (const id of [...Array.from({ length: 150 }, (_, i) => `m-${i}`), ...Array.from({ length: 120 }, (_, i) => `c-${i}`)]) {
      lines.push(JSON.stringify({ type: 'feedback', id, time: new Date((t += 1000)).toISOString(), env: 'prod', truth: 'Yes' }));
    }
    writeFileSync(join(logs, 'predictions.jsonl'), lines.join('\n') + '\n');
    result = (await monitorRun({ dir, env: 'prod', logs }, { git: { env: {}, remote: null }, log: { info() {}, warn() {} } })).result;
  }, 120_000);

  it('reports each version per role with its live metric and Wilson interval, the shadow joined to feedback too', () => {
    expect(result.windows).toHaveLength(1);
    const versions = result.windows[0].versions.map((v) => {
      const p = v.performance;
      return { version: v.version, role: v.role, rows: v.rows, joined: v.joined.feedback, accuracy: p.status === 'ok' ? p.metrics.accuracy : null, interval: p.status === 'ok' ? p.interval : null };
    });
    expect(versions.map((v) => `${v.role} ${v.version} ${v.rows} ${v.joined} ${v.accuracy}`)).toEqual(['main v1.0.0 150 150 0.8', 'canary v1.1.0 120 120 0.85', 'shadow v1.2.0 150 150 0.7']);
    const expected = [wilson(120, 150), wilson(102, 120), wilson(105, 150)];
    versions.forEach((v, i) => {
      expect(v.interval?.method).toBe('Wilson');
      expect(v.interval?.low).toBeCloseTo(expected[i].low, 12);
      expect(v.interval?.high).toBeCloseTo(expected[i].high, 12);
    });
  });

  it("compares the canary and the shadow with main: the difference with Newcombe's interval, and a verdict", () => {
    const ab = result.comparisons ?? [];
    expect(ab.map((c) => `${c.other.role} ${c.other.version} vs ${c.main.version} ${c.metric}`)).toEqual(['canary v1.1.0 vs v1.0.0 accuracy', 'shadow v1.2.0 vs v1.0.0 accuracy']);
    const canary = newcombe(wilson(102, 120), wilson(120, 150));
    const shadow = newcombe(wilson(105, 150), wilson(120, 150));
    expect(ab[0].difference).toBeCloseTo(0.05, 12);
    expect(ab[0].low).toBeCloseTo(canary.low, 12);
    expect(ab[0].high).toBeCloseTo(canary.high, 12);
    // 0.85 against 0.8 on 120 and 150 rows: the interval holds 0.
    expect(ab[0].low).toBeLessThan(0);
    expect(ab[0].verdict).toBe('no difference shown');
    expect(ab[1].difference).toBeCloseTo(-0.1, 12);
    expect(ab[1].low).toBeCloseTo(shadow.low, 12);
    expect(ab[1].high).toBeCloseTo(shadow.high, 12);
    expect(ab[1].high).toBeLessThan(0);
    expect(ab[1].verdict).toBe('worse');
  });

  it('names the role and the A/B comparison in the text summary', () => {
    const text = monitorText(result);
    expect(text).toMatch(/^ {2}v1\.1\.0 \(canary\): 120 row\(s\); /m);
    expect(text).toMatch(/^ {2}v1\.2\.0 \(shadow\): 150 row\(s\); /m);
    expect(text).toContain('A/B 2026-11-02: v1.2.0 (shadow) − v1.0.0 (main): accuracy −0.1000 (95% −0.1958 to −0.0019, MOVER (Newcombe for proportions), 95 %): worse');
  });

  it('shows the role column and the A/B table in the Markdown', () => {
    const markdown = monitorMarkdown(result);
    expect(markdown).toContain('| window | version | role | rows | status | input drift | prediction drift | live metric |');
    expect(markdown).toMatch(/\| v1\.1\.0 \| canary \| 120 \|/);
    expect(markdown).toContain('## A/B: each canary and shadow against main (MOVER (Newcombe for proportions), 95 %)');
    const canary = newcombe(wilson(102, 120), wilson(120, 150));
    expect(markdown).toContain(`| v1.1.0 (canary) | v1.0.0 | accuracy 0.8500 vs 0.8000 | +0.0500 [−${Math.abs(canary.low).toFixed(4)}, +${canary.high.toFixed(4)}] | no difference shown |`);
  });
});
