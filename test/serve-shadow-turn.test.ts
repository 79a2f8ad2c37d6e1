// The shadow's turn (telemetry.shadow): every request answered in one event-loop turn is shadowed after the turn,
// by one setImmediate, in the order the requests came; a row the shadow refuses is counted and does not stop the
// others of its turn.
import { describe, expect, it } from 'vitest';
import { ServedModel } from '../src/serve/model.js';
import type { PredictionLogStats, PredictionSink } from '../src/serve/prediction-log.js';
import { ServeTelemetry } from '../src/serve/telemetry.js';
import { makeModelRepo, train } from './helpers/model-repo.js';

/** A sink that keeps the lines it is given. */
function memorySink(): PredictionSink & { lines: string[] } {
  const lines: string[] = [];
  const stats: PredictionLogStats = { written: 0, dropped: 0, failedWrites: 0, queuedBytes: 0, faulty: false, lastError: null, rotations: 0 };
  return {
    lines,
    append: (record) => lines.push(JSON.stringify(record)) > 0,
    appendLine: (line) => lines.push(line) > 0,
    appendEncoded: (bytes, ends) => {
      ends.forEach((end, k) => lines.push(Buffer.from(bytes.subarray(k === 0 ? 0 : ends[k - 1], end - 1)).toString('utf8')));
      return ends.length;
    },
    stats: () => stats,
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

describe('the shadow, a turn at a time', () => {
  it('scores every request of a turn after it, in order, and counts a refused one without losing the rest', async () => {
    const text = await train(makeModelRepo({ trees: 5 }));
    const main = ServedModel.load(text, 'main.json', { version: 'v1.0.0' });
    const shadow = ServedModel.load(text, 'shadow.json', { version: 'v1.1.0' });
    const sink = memorySink();
    const telemetry = new ServeTelemetry(sink);
    telemetry.swapped('prod', main);
    telemetry.swapped('prod-shadow', shadow);
    const row = { gender: 'Female', SeniorCitizen: 0, Partner: 'Yes', Dependents: 'No', tenure: 12, PhoneService: 'Yes', MultipleLines: 'No', InternetService: 'DSL', OnlineSecurity: 'No', OnlineBackup: 'Yes', DeviceProtection: 'No', TechSupport: 'No', StreamingTV: 'No', StreamingMovies: 'No', Contract: 'Month-to-month', PaperlessBilling: 'Yes', PaymentMethod: 'Electronic check', MonthlyCharges: 29.85, TotalCharges: 358.2 };
    const expected = shadow.predict([row], () => 'row 0');

    telemetry.shadow({ env: 'prod', id: 'a' }, shadow, [row], main, undefined);
    // Not checked by main (no inputs given): the shadow checks it, refuses it, counts it.
    telemetry.shadow({ env: 'prod', id: 'b' }, shadow, [{ ...row, Contract: 'Weekly' }], main, undefined);
    telemetry.shadow({ env: 'prod', id: 'c' }, shadow, [row], main, undefined);
    expect(sink.lines).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));

    const logged = sink.lines.map((l) => JSON.parse(l) as { id: string; role: string; model: { version: string }; outputs: { probabilities: number[] } });
    expect(logged.map((l) => `${l.id} ${l.role} ${l.model.version}`)).toEqual(['a shadow v1.1.0', 'c shadow v1.1.0']);
    for (const l of logged) expect(l.outputs.probabilities).toEqual(Array.from(expected.probabilities ?? []));
    expect(telemetry.metrics.render()).toMatch(/^bramble_shadow_refused_total\{env="prod"\} 1$/m);

    // The next turn is a turn of its own.
    telemetry.shadow({ env: 'prod', id: 'd' }, shadow, [row], main, undefined);
    expect(sink.lines).toHaveLength(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.lines).toHaveLength(3);
  }, 60_000);
});
