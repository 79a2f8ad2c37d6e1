/**
 * Live: pandas' merge_asof (Debian's python3-pandas, /usr/bin/python3) on the point-in-time case of
 * test/helpers/reference-store.ts — ties on event time, late-arriving and out-of-order batches, labels on the TTL's
 * edges — answers what the store's join answers, label by label, and what test/reference-figures/store-pit.json
 * recorded. Skipped, with the reason in the suite's name, where pandas cannot run.
 */
import { describe, expect, it } from 'vitest';
import { readFigures, RECORD_HINT } from '../helpers/reference.js';
import { parsePitFigures, pitCase, pitFingerprint, pitOurs, pitPandas, STORE_FIGURES } from '../helpers/reference-store.js';
import { describeError } from '../../src/errors.js';

const c = pitCase();
const live = ((): ReturnType<typeof pitPandas> | string => {
  try {
    return pitPandas(c);
  } catch (err) {
    return describeError(err);
  }
})();
const reason = typeof live === 'string' ? ` (skipped: ${live})` : '';

describe.skipIf(typeof live === 'string')(`the point-in-time join against pandas merge_asof, live${reason}`, () => {
  const pandas = live as ReturnType<typeof pitPandas>;

  it('answers what merge_asof answers for every label', () => {
    const ours = pitOurs(c);
    expect(ours.length).toBe(3000);
    const differing = ours.map((v, i) => (v === pandas.values[i] ? -1 : i)).filter((i) => i >= 0);
    expect(differing, `labels ${differing.slice(0, 5).join(', ')} differ`).toEqual([]);
    // The case is not trivial: most labels see a value, many do not.
    const seen = ours.filter((v) => v !== null).length;
    expect(seen).toBeGreaterThan(1000);
    expect(seen).toBeLessThan(2900);
  });

  it('the recorded figures are what pandas answers now', () => {
    const recorded = readFigures(STORE_FIGURES, parsePitFigures);
    expect(recorded.figures.data).toBe(pitFingerprint(c));
    expect(recorded.figures.out, `pandas now answers differently from the recording; ${RECORD_HINT}`).toEqual(pandas.values);
  });
});
