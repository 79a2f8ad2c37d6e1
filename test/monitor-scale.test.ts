// The monitor's fold at the size a busy host logs: 1,000,000 predictions over four UTC days and 300,000 feedback
// lines, fed in-process (the file reading is what `npm run bench:monitor` measures at the same size). Every row
// must land in its window, every feedback must join, and drift must show on the shifted days only.
import { describe, expect, it } from 'vitest';
import { profileTable } from '../src/data/profile.js';
import type { Table } from '../src/data/table.js';
import type { LoggedFeedback, LoggedPrediction } from '../src/monitor/log.js';
import { MonitorFold } from '../src/monitor/windows.js';
import { Rng } from '../src/util/rng.js';

const DAY = 86_400_000;
const START = Date.parse('2026-11-01T00:00:00Z');
const ROWS = 1_000_000;

function reference(): Table {
  const rng = new Rng(3);
  const n = 5000;
  const x = new Float64Array(n);
  const c = new Int32Array(n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.float() * 100;
    c[i] = rng.float() < 0.3 ? 1 : 0;
    y[i] = rng.float() < 0.4 ? 1 : 0;
  }
  return {
    rows: n,
    lines: new Int32Array(0),
    columns: [
      { name: 'x', kind: 'number', values: x },
      { name: 'c', kind: 'category', values: { codes: c, categories: ['p', 'q'] } },
      { name: 'y', kind: 'category', values: { codes: y, categories: ['a', 'b'] } },
    ],
  };
}

describe('the monitor at 1,000,000 logged predictions', () => {
  it('puts every row in its window, joins every feedback, and flags drift on the shifted days only', { timeout: 120_000 }, async () => {
    const profile = profileTable(reference(), { distributions: true });
    const feedback: LoggedFeedback[] = [];
    const truthOf = (i: number): string => (i % 5 < 2 ? 'b' : 'a');
    const predictedOf = (i: number): string => (i % 7 < 3 ? 'b' : 'a');
    let right = 0;
    for (let i = 0; i < ROWS; i++) {
      if (i % 10 < 3) {
        feedback.push({ id: `r${i}`, time: START + 4 * DAY, env: 'prod', truth: truthOf(i) });
        if (truthOf(i) === predictedOf(i)) right++;
      }
    }
    const fold = new MonitorFold(
      {
        name: 'm',
        env: 'prod',
        resolve: async () => ({ task: 'classification', profile, inputs: ['x', 'c'], target: 'y', classes: ['a', 'b'] }),
        window: '1d',
        since: null,
        ranAt: '2026-11-05T06:00:00.000Z',
        minRows: 100,
        truth: null,
        share: 0.5,
        performance: null,
        headline: 'accuracy',
      },
      feedback,
    );
    const rng = new Rng(5);
    for (let i = 0; i < ROWS; i++) {
      const day = Math.floor((i * 4) / ROWS);
      const x = rng.float() * 100 + (day >= 2 ? 40 : 0);
      const p = i % 7 < 3 ? 0.7 : 0.2;
      const prediction: LoggedPrediction = {
        id: `r${i}`,
        time: START + day * DAY + (i % 250_000) * 300,
        env: 'prod',
        role: 'main',
        model: { name: 'm', version: 'v1.0.0', sha256: 'f'.repeat(64) },
        inputs: [{ x, c: rng.float() < 0.3 ? 'q' : 'p' }],
        predictions: [predictedOf(i)],
        probabilities: [1 - p, p],
      };
      const waiting = fold.prediction(prediction);
      if (waiting !== undefined) await waiting;
    }
    const { result, profiles } = fold.finish({ files: [], faults: 0, corrupt: [], corruptLines: 0 });
    expect(result.log).toMatchObject({ requests: ROWS, rows: ROWS, late: 0, feedback: 300_000 });
    expect(result.windows.map((w) => [w.start.slice(0, 10), w.versions[0].rows])).toEqual([
      ['2026-11-01', 250_000],
      ['2026-11-02', 250_000],
      ['2026-11-03', 250_000],
      ['2026-11-04', 250_000],
    ]);
    const drifted = result.windows.map((w) => w.versions[0].drift?.columns.filter((c) => c.drifted).map((c) => c.column));
    expect(drifted).toEqual([[], [], ['x'], ['x']]);
    let joined = 0;
    let rightJoined = 0;
    for (const w of result.windows) {
      const v = w.versions[0];
      joined += v.joined.feedback;
      if (v.performance.status === 'ok') rightJoined += (v.performance.metrics.accuracy ?? 0) * v.performance.rows;
    }
    expect(joined).toBe(300_000);
    expect(Math.round(rightJoined)).toBe(right);
    expect(profiles.map((p) => p.inputs.rows)).toEqual([250_000, 250_000, 250_000, 250_000]);
  });
});
