// The PR report's sweep section (issue 18 item 4), from a real sweep: the top trials with mean ± sd, a Mermaid chart
// that mermaid's own parser accepts, and the change the chosen configuration makes to ml.yaml.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../src/report/render.js';
import { influentialParameter, sweepView, type SweepReportInput } from '../src/report/sweep-view.js';
import { REPORT, type ReportView } from '../src/report/view.js';
import { runSweep, type SweepSummary } from '../src/usecases/sweep.js';
import { bramble } from './helpers/cli.js';
import { loadMermaid, mermaidBlocks } from './helpers/mermaid.js';
import { sweepRepo } from './helpers/sweep-repo.js';

const GRID = `sweep:
  params:
    trees: [5, 15]
    maxDepth: [1, 6]
    minSamplesLeaf: [1, 20]
  folds: 3
  metric: roc_auc
`;

const dir = sweepRepo(GRID);
let summary: SweepSummary;
beforeAll(async () => {
  const ports = { git: { env: {} }, log: { info: () => undefined, warn: () => undefined }, clock: { now: () => 0 }, versions: { bramble: 'test', node: 'test' } };
  summary = (await runSweep({ dir, workers: 1 }, ports)).sweep as SweepSummary;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function report(input: SweepReportInput): string {
  const view: ReportView = { marker: REPORT.marker('sweepy'), verdict: '### sweepy', passed: true, context: [], sections: [{ id: 'sweep', title: REPORT.sections.sweep, trimmable: true, data: sweepView(input) }] };
  return renderReport(view, REPORT.commentLimit).markdown;
}

describe("the report's sweep section", () => {
  it('is the snapshot: trials best first, the chart, the change to ml.yaml', () => {
    const markdown = report(summary);
    expect(markdown).toContain('#### Parameter sweep');
    expect(markdown).toContain(`| 1 | ${summary.best?.trial} |`);
    expect(markdown).toContain('| maxDepth | 4 | 6 |');
    expect(markdown).toMatchSnapshot();
  });

  it("charts the parameter that moves the score most: here maxDepth (a stump against six levels)", () => {
    const found = influentialParameter(summary);
    expect(found?.param).toBe('maxDepth');
    expect(found?.points.map((p) => p.value)).toEqual(['1', '6']);
  });

  it("has Mermaid that mermaid's parser accepts", async () => {
    const mermaid = await loadMermaid();
    const blocks = mermaidBlocks(report(summary));
    expect(blocks).toHaveLength(1);
    for (const block of blocks) await expect(mermaid.parse(block)).resolves.toBeTruthy();
  });

  it('says when shards are missing and when ml.yaml already has the best, and escapes what came from ml.yaml', () => {
    const input: SweepReportInput = {
      ...summary,
      ranked: summary.ranked.map((o) => ({ ...o, swept: { ...o.swept, classWeight: 'a|b' } })),
      missing: { rung: 0, trials: [2, 5] },
      params: { base: { trees: 5 }, best: { trees: 5 } },
    };
    const markdown = report(input);
    expect(markdown).toContain('2 of its trials have no record (a shard did not finish); the choice is among those that did.');
    expect(markdown).toContain("ml.yaml's model.params already has it.");
    expect(markdown).toContain('classWeight=a\\|b');
  });
});

describe('bramble sweep --report', () => {
  it('writes the section as Markdown under its own marker, with the same trials', () => {
    const out = join(dir, 'sweep.md');
    const r = bramble(['sweep', dir, '--report', out]);
    expect(r.status).toBe(0);
    const markdown = readFileSync(out, 'utf8');
    expect(markdown.split('\n').slice(0, 2)).toEqual(['<!-- bramble-sweep:sweepy -->', '### sweepy: parameter sweep']);
    expect(markdown).toContain(report(summary).slice(report(summary).indexOf('#### Parameter sweep')));
  });

  it('refuses a report path in a folder that does not exist, before any training', () => {
    const r = bramble(['sweep', dir, '--report', join(dir, 'no', 'sweep.md')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('does not exist; create it first');
  });
});
