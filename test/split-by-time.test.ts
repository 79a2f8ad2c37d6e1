// A time split end to end: a date column declared in ml.yaml, derive reading it, split.by holding out the latest
// rows; then newer data arrives, and the champion is scored on the new held-out rows, which it never saw.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bramble } from './helpers/cli.js';

/** Rows for days `from` … `to` (one a day from 2024-01-01): a signup date, two numbers, and churn from a rule. */
function rows(from: number, to: number): string {
  const out: string[] = [];
  for (let d = from; d < to; d++) {
    const when = new Date(Date.UTC(2024, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
    const usage = (d * 37) % 100;
    const tickets = (d * 13) % 7;
    out.push(`c${d},${when},${usage},${tickets},${usage < 30 || tickets > 4 ? 'yes' : 'no'}`);
  }
  return out.join('\n') + '\n';
}

describe('split.by a date column', () => {
  it('holds out the latest days, and a champion is compared on newer days it never saw', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-time-split-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/train.csv'), 'id,signup,usage,tickets,churn\n' + rows(0, 500));
    writeFileSync(
      join(dir, 'ml.yaml'),
      [
        'name: churn',
        'task: classification',
        'data: { train: data/train.csv, target: churn, id: id }',
        'schema:',
        '  columns:',
        "    signup: { type: date, min: '2024-01-01' }",
        'features:',
        '  - derive: { signup_month: "d => op.month(d.signup)" }',
        'model: { type: random-forest, params: { trees: 10 } }',
        'split: { test: 0.2, by: signup }',
      ].join('\n') + '\n',
    );
    const first = bramble(['run', '.', '--json', '--workers', '1'], { cwd: dir });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const run = JSON.parse(first.stdout) as { split: { train: number; test: number }; evaluation: { accuracy: number } };
    expect(run.split).toMatchObject({ train: 400, test: 100 });
    expect(run.evaluation.accuracy).toBeGreaterThan(0.9);
    const artifact = JSON.parse(readFileSync(join(dir, '.bramble/model.json'), 'utf8')) as {
      lineage: { split: { by: string; heldOut: { from: number } } };
      features: { inputs: { name: string; kind: string }[]; outputs: string[] };
    };
    // The cut-off is an instant: the 401st day.
    expect(artifact.lineage.split).toMatchObject({ by: 'signup', heldOut: { from: Date.UTC(2024, 0, 1) + 400 * 86_400_000 } });
    // The date is read by derive and is not a feature itself.
    expect(artifact.features.inputs).toContainEqual({ name: 'signup', kind: 'date' });
    expect(artifact.features.outputs).toEqual(['usage', 'tickets', 'signup_month']);

    // A hundred newer days arrive: the latest 20 % is now days 480–599, of which 480–499 the champion held out.
    writeFileSync(join(dir, 'champion.json'), readFileSync(join(dir, '.bramble/model.json')));
    appendFileSync(join(dir, 'data/train.csv'), rows(500, 600));
    const second = bramble(['run', '.', '--json', '--workers', '1', '--champion', 'champion.json'], { cwd: dir });
    expect(second.status).toBe(0);
    const compared = JSON.parse(second.stdout) as { split: { test: number }; champion: { compared: { heldOut: number; excluded: number; notes: string[] } } };
    expect(compared.split.test).toBe(120);
    // None of the held-out days were the champion's training days: its own rule held 480–499 out, and 500+ are new.
    expect(compared.champion.compared).toMatchObject({ heldOut: 120, excluded: 0 });
    expect(compared.champion.compared.notes).toEqual(['champion.json trained on none of the held-out rows']);
  }, 120_000);

  it('a malformed date is a located error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-time-split-bad-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data/train.csv'), 'id,signup,usage,tickets,churn\n' + rows(0, 50) + 'x9,2024-13-01,1,1,no\n');
    writeFileSync(join(dir, 'ml.yaml'), ['name: churn', 'task: classification', 'data: { train: data/train.csv, target: churn, id: id }', 'schema:', '  columns:', '    signup: { type: date }', 'model: { type: random-forest }', 'split: { test: 0.2, by: signup }'].join('\n') + '\n');
    const r = bramble(['validate', '.'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('data/train.csv:52: signup is "2024-13-01", not a date; write ISO 8601 such as 2024-03-01 or 2024-03-01T12:30:00Z');
  });
});
