import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateRepo } from '../src/usecases/validate.js';
import type { ColumnDrift, DriftResult } from '../src/data/drift.js';
import type { SourceLineage } from '../src/lineage/source.js';
import { ARTIFACT, openArtifact } from '../src/model/artifact.js';
import { applyGates } from '../src/model/compare.js';
import { metricsOf } from '../src/model/evaluate.js';
import { runPipeline, type RunOptions, type RunResult } from '../src/pipeline/run.js';
import { metricsRecord } from '../src/report/card.js';
import { renderReport } from '../src/report/render.js';
import { REPORT, reportView, type ReportInput } from '../src/report/view.js';
import { loadMermaid, mermaidBlocks } from './helpers/mermaid.js';

const template = join(import.meta.dirname, '../templates/model-repo');
const options: RunOptions = { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } };

/** A fixed source, so that no temporary path, time or machine reaches the report. */
function source(commit: string): SourceLineage {
  return { commit: commit.repeat(40 / commit.length), committedAt: '2026-11-20T10:00:00.000Z', path: '', dirty: false, changes: [], workTree: 'ab'.repeat(32) };
}

/** The template in a temporary folder, with ml.yaml and the data edited. */
function modelRepo(edit: { yaml?: (text: string) => string; csv?: (lines: string[]) => string[] } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-report-'));
  cpSync(template, dir, { recursive: true, filter: (src) => !src.includes(ARTIFACT.folder) });
  const yaml = join(dir, 'ml.yaml');
  if (edit.yaml) writeFileSync(yaml, edit.yaml(readFileSync(yaml, 'utf8')));
  const csv = join(dir, 'data/churn.csv');
  if (edit.csv) writeFileSync(csv, edit.csv(readFileSync(csv, 'utf8').split('\n')).join('\n'));
  return dir;
}

/** Other forest settings: `trees` and the model seed (the split's seed stays, so every model is scored on the same rows). */
function forest(trees: number, seed: number, extra = ''): (text: string) => string {
  return (text) => text.replace(/trees: \d+/, `trees: ${trees}${extra}`).replace(/^ {2}seed: \d+$/m, `  seed: ${seed}`);
}

async function trained(dir: string, run: Partial<RunOptions>): Promise<{ result: RunResult; artifact: Record<string, unknown> & { sha256: string } }> {
  const result = await runPipeline(dir, { ...options, ...run });
  if (!result.artifact) throw new Error(`${dir} failed validation`);
  return { result, artifact: openArtifact(readFileSync(result.artifact.path, 'utf8'), 'model.json') };
}

// The PR's data: the same customers after a 10 % price rise, so that MonthlyCharges drifts. The split depends only on
// the id (data.id: customerID), so the candidate and the champion are scored on the same customers.
const priceRise = (lines: string[]): string[] =>
  lines.map((line, i) => {
    if (i === 0 || line === '') return line;
    // MonthlyCharges is the 19th field; no field before it is quoted.
    const fields = line.split(',');
    fields[18] = (Number(fields[18]) * 1.1).toFixed(2);
    return fields.join(',');
  });

const GATES = { roc_auc: { min: 0.8, max_drop: 0.01 } };

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Unescaped pipes: the cell boundaries GitHub sees in a table row. */
function pipes(line: string): number {
  return line.match(/(?<!\\)\|/g)?.length ?? 0;
}

let input: ReportInput;
let weak: ReportInput;

beforeAll(async () => {
  const older = await trained(modelRepo({ yaml: forest(10, 1) }), { source: source('a1') });
  const champion = await trained(modelRepo({ yaml: forest(50, 3) }), { source: source('b2') });
  const championFile = join(mkdtempSync(join(tmpdir(), 'bramble-champion-')), 'model.json');
  writeFileSync(championFile, readFileSync(champion.result.artifact!.path));
  const history = [
    { version: 'v1.0.0', at: '2026-10-01T09:00:00Z', metrics: metricsRecord(older.artifact) },
    { version: 'v1.1.0', at: '2026-11-01T09:00:00Z', metrics: metricsRecord(champion.artifact) },
  ];
  const run = { url: 'https://github.com/acme/churn/actions/runs/42', sha: 'c3'.repeat(20), ref: 'feature/price-rise' };

  const dir = modelRepo({ csv: priceRise });
  const candidate = await trained(dir, { champion: championFile, source: source('c3') });
  const { drift } = await validateRepo(dir, { reference: championFile });
  input = {
    model: 'churn',
    candidate: { artifact: candidate.artifact, evaluation: candidate.result.evaluation!, validation: candidate.result.validation },
    champion: { version: 'v1.1.0', env: 'prod', artifact: champion.artifact, metrics: candidate.result.champion!.metrics },
    gates: candidate.result.gates!,
    drift: drift ?? null,
    history,
    run,
  };

  // A PR that makes the model worse: three shallow trees, scored against the same champion on the same rows.
  const weakDir = modelRepo({ csv: priceRise, yaml: (text) => forest(3, 7)(text).replace(/maxDepth: \d+/, 'maxDepth: 3') });
  const poor = await trained(weakDir, { champion: championFile, source: source('d4') });
  weak = {
    ...input,
    candidate: { artifact: poor.artifact, evaluation: poor.result.evaluation!, validation: poor.result.validation },
    champion: { ...input.champion!, metrics: poor.result.champion!.metrics },
    gates: poor.result.gates!,
  };
});

describe('the PR report of the template churn model', () => {
  it('is the snapshot: verdict, then every section in order, well under the comment limit', () => {
    const { markdown, trimmed } = renderReport(reportView(input), REPORT.commentLimit);
    expect(trimmed).toEqual([]);
    expect(markdown.length).toBeLessThan(REPORT.commentLimit);
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('<!-- bramble-report:churn -->');
    expect(lines[1]).toBe('### ✅ churn: candidate passes all 2 gates');
    const headings = lines.filter((l) => l.startsWith('#### ')).map((l) => l.slice(5));
    expect(headings).toEqual(Object.values(REPORT.sections).filter((title) => title !== REPORT.sections.sweep));
    expect(markdown).not.toContain(tmpdir());
    if (process.env.PRINT_REPORT) console.log(markdown);
    expect(markdown).toMatchSnapshot();
  });

  it('says which gate failed and by how much', () => {
    const view = reportView(weak);
    expect(view.passed).toBe(false);
    const champion = weak.champion!.metrics.roc_auc!;
    const candidate = metricsOf(weak.candidate.evaluation).roc_auc!;
    expect(candidate).toBeGreaterThan(0.8);
    expect(view.verdict).toBe(`### ❌ churn: 1 of 2 gates failed — roc_auc dropped ${(champion - candidate).toFixed(4)} (max 0.01)`);
    const { markdown } = renderReport(view, REPORT.commentLimit);
    expect(markdown.split('\n')[1]).toBe(view.verdict);
    expect(markdown).toContain(`| roc_auc | ${candidate.toFixed(4)} | ${champion.toFixed(4)} | -${(champion - candidate).toFixed(4)} (worse) | ✅ min 0.8 · ❌ max_drop 0.01 |`);
  });

  it('names every failed gate, and a min on the value itself', () => {
    const metrics = metricsOf(weak.candidate.evaluation);
    const gates = applyGates({ roc_auc: { min: 0.9, max_drop: 0.01 }, log_loss: { max_rise: 0.5 } }, metrics, weak.champion!.metrics);
    const view = reportView({ ...weak, gates });
    expect(view.verdict).toBe(`### ❌ churn: 2 of 3 gates failed — roc_auc is ${metrics.roc_auc!.toFixed(4)} (min 0.9); roc_auc dropped ${(weak.champion!.metrics.roc_auc! - metrics.roc_auc!).toFixed(4)} (max 0.01)`);
  });

  it('is the same bytes every time, and reading the input changes nothing in it', () => {
    const before = structuredClone(input);
    const frozen = deepFreeze(structuredClone(input));
    const a = reportView(frozen);
    const b = reportView(frozen);
    expect(b).toEqual(a);
    expect(frozen).toEqual(before);
    expect(renderReport(b, REPORT.commentLimit).markdown).toBe(renderReport(reportView(input), REPORT.commentLimit).markdown);
  });

  it('sends the same report to the job summary', () => {
    const view = reportView(input);
    expect(renderReport(view, REPORT.summaryLimit)).toEqual(renderReport(view, REPORT.commentLimit));
  });
});

describe('the first model', () => {
  it('has no champion: no deltas, no drift, no history, the parameters it was trained with', () => {
    const metrics = metricsOf(input.candidate.evaluation);
    const first: ReportInput = { ...input, champion: null, gates: applyGates(GATES, metrics, null), drift: null, history: [] };
    const view = reportView(first);
    expect(view.verdict).toBe('### ✅ churn: candidate passes all 2 gates (no champion yet)');
    const { markdown, trimmed } = renderReport(view, REPORT.commentLimit);
    expect(trimmed).toEqual([]);
    expect(markdown).toContain('no champion yet, so this would be the first version of churn.');
    expect(markdown).toMatch(/^\| roc_auc \| 0\.\d{4} \| — \| — \| ✅ min 0\.8 · ✅ max_drop 0\.01 \(no champion\) \|$/m);
    expect(markdown).toContain('No champion yet: there is no reference data to compare with.');
    expect(markdown).toContain('No registered versions yet');
    expect(markdown).not.toContain('xychart-beta\n');
    expect(markdown).toContain("No champion yet; the candidate's settings:\n\n| parameter | candidate |\n| --- | --- |\n| bootstrap | true |");
    expect(markdown).toContain('| trees | 200 |');
    expect(markdown).toContain('| | candidate |\n| --- | --- |\n| artifact sha256 |');
  });
});

describe('a PR whose data breaks the schema', () => {
  it('fails on validation and lists each broken rule with its lines', async () => {
    // tenure is declared 0–72: three customers with 500 months (file lines 3–5).
    const dir = modelRepo({ csv: (lines) => lines.map((line, i) => (i >= 2 && i <= 4 ? line.replace(/^((?:[^,]*,){5})\d+,/, '$1500,') : line)) });
    const { validation } = await validateRepo(dir);
    const view = reportView({ ...input, candidate: { ...input.candidate, validation } });
    expect(view.passed).toBe(false);
    expect(view.verdict).toBe('### ❌ churn: data validation failed — 1 of 85 checks');
    const { markdown } = renderReport(view, REPORT.commentLimit);
    expect(markdown).toContain('❌ 1 of 85 checks failed on data/churn.csv (7043 rows).\n\n| column | rule | expected | rows | first lines |\n| --- | --- | --- | ---: | --- |\n| tenure | range | between 0 and 72 | 3 | 3, 4, 5 |\n');
  });
});

describe('data in the report', () => {
  it('cannot break a table, open HTML or end a chart: a column named a|b<script>', async () => {
    // tenure is among the most important features, so the name reaches the chart, the drift table and the lineage.
    const name = 'a|b<script>';
    const dir = modelRepo({
      yaml: (text) => forest(20, 7)(text).replace(/^ {4}tenure: /m, `    '${name}': `),
      csv: (lines) => [lines[0].replace(',tenure,', `,${name},`), ...lines.slice(1)],
    });
    const model = await trained(dir, { source: source('e5') });
    const reference = join(dir, ARTIFACT.folder, ARTIFACT.file);
    const { drift } = await validateRepo(dir, { reference });
    // A name no CSV header here could hold: a line break, backticks and a closing fence.
    const odd = 'x\n| `y` ```\n</details>';
    const columns = drift!.columns.map((c, i) => (i === 0 ? { ...c, column: odd } : c));
    const view = reportView({
      ...input,
      candidate: { artifact: model.artifact, evaluation: model.result.evaluation!, validation: model.result.validation },
      champion: { version: 'v1.1.0', env: 'prod', artifact: model.artifact, metrics: metricsOf(model.result.evaluation!) },
      drift: { ...drift!, columns },
    });
    const { markdown } = renderReport(view, REPORT.commentLimit);
    expect(markdown).not.toContain('<script>');
    expect(markdown).not.toContain('</details>');
    const rows = markdown.split('\n').filter((l) => l.startsWith('| '));
    const row = rows.find((l) => l.includes('script') && l.includes('numeric'));
    expect(row).toBe('| a\\|b\\<script\\> | numeric | Wasserstein (normed) | 0 |  | ≥ 0.1 | ✅ |');
    expect(rows.find((l) => l.startsWith('| x \\| \\`y\\` \\`\\`\\` \\</details\\> |'))).toBeDefined();
    // Every row of the drift table still has its 8 cell boundaries.
    for (const line of rows.filter((l) => l.includes('Wasserstein') || l.includes('chi-square') || l.includes('Jensen'))) expect(pipes(line)).toBe(8);
    const axis = markdown.split('\n').find((l) => l.startsWith('    x-axis [') && l.includes('script'));
    expect(axis).toContain('["a|b script", ');
    expect(axis).not.toMatch(/[<>`]/);
  });

  it('strips from chart labels what Mermaid cannot take', () => {
    const artifact = structuredClone(input.candidate.artifact) as { features: { outputs: string[] } };
    artifact.features.outputs = artifact.features.outputs.map((o) => `${o} "q" %%{init}%% #amp; a;b\n\`c\``);
    // The artifact's sha256 no longer matches, but the report reads it as a view and never opens it.
    const view = reportView({ ...input, candidate: { ...input.candidate, artifact } });
    const chart = view.sections.find((s) => s.id === 'importances');
    const text = chart?.id === 'importances' ? (chart.data.chart ?? '') : '';
    const axis = text.split('\n').find((l) => l.startsWith('    x-axis ['))!;
    const labels = axis.slice('    x-axis ['.length, -1).split('", "');
    expect(labels).toHaveLength(REPORT.topImportances);
    for (const label of labels) expect(label.replace(/^"|"$/g, '')).not.toMatch(/["%#;`\n<>]/);
  });
});

describe('GitHub limits', () => {
  function manyColumns(n: number, nameLength: number): DriftResult {
    const columns: ColumnDrift[] = Array.from({ length: n }, (_, i) => ({
      column: `c${i}_${'x'.repeat(nameLength)}`,
      kind: 'numeric',
      test: 'wasserstein',
      statistic: (i % 100) / 500,
      pValue: null,
      score: (i % 100) / 500,
      threshold: 0.1,
      drifted: i % 100 >= 50,
      referenceCount: 7043,
      currentCount: 5520,
    }));
    return { format: 'bramble-drift', version: 1, share: 0.5, driftedShare: 0.5, datasetDrift: true, columns, skipped: [] };
  }

  it('trims a 5,000-column drift table out of the comment and says so; the verdict and the metrics stay', () => {
    const full = renderReport(reportView(input), REPORT.commentLimit).markdown;
    const metrics = full.slice(full.indexOf('#### Metrics'), full.indexOf('#### Confusion matrix'));
    const view = reportView({ ...input, drift: manyColumns(5000, 30) });
    const { markdown, trimmed } = renderReport(view, REPORT.commentLimit);
    expect(markdown.length).toBeLessThanOrEqual(REPORT.commentLimit);
    expect(trimmed).toEqual(['Drift']);
    expect(markdown.split('\n')[1]).toBe('### ✅ churn: candidate passes all 2 gates');
    expect(markdown).toContain(metrics);
    expect(markdown).toMatch(/#### Drift\n\n_… trimmed: \d+ characters \(the full report is in the job summary\)_\n/);
    expect(markdown.trimEnd().split('\n').at(-1)).toBe("_Trimmed to fit GitHub's limit of 65536 characters for a comment: Drift._");
    // The job summary has room for all of it.
    const summary = renderReport(view, REPORT.summaryLimit);
    expect(summary.trimmed).toEqual([]);
    expect(summary.markdown).toContain('| c4999\\_xxxxxxxx');
  });

  it('fits 5,000 columns of 10,000-character names into the comment and into the summary', () => {
    const view = reportView({ ...input, drift: manyColumns(5000, 10_000) });
    const comment = renderReport(view, REPORT.commentLimit);
    expect(comment.markdown.length).toBeLessThanOrEqual(REPORT.commentLimit);
    expect(comment.trimmed).toEqual(['Drift']);
    // Each name is cut to REPORT.cellLength characters, so the summary holds every row.
    const summary = renderReport(view, REPORT.summaryLimit);
    expect(summary.markdown.length).toBeLessThanOrEqual(REPORT.summaryLimit);
    expect(summary.trimmed).toEqual([]);
    expect(summary.markdown).toContain(`| c4999\\_${'x'.repeat(REPORT.cellLength - 7)}… | numeric |`);
    expect(summary.markdown).toContain('#### Metrics');
  });

  it('trims the longest sections first, and still fits a limit smaller than what is never trimmed', () => {
    const view = reportView(input);
    const full = renderReport(view, REPORT.commentLimit).markdown;
    const some = renderReport(view, full.length - 1);
    expect(some.trimmed).toHaveLength(1);
    expect(some.markdown.length).toBeLessThanOrEqual(full.length - 1);
    const all = renderReport(view, 1500);
    expect(all.trimmed.length).toBeGreaterThan(some.trimmed.length);
    expect(all.trimmed).not.toContain('Metrics');
    expect(all.markdown.length).toBeLessThanOrEqual(1500);
    expect(all.markdown.startsWith('<!-- bramble-report:churn -->\n### ✅ churn: candidate passes all 2 gates\n')).toBe(true);
  });
});

describe('the Mermaid blocks of the report', () => {
  it('parse with mermaid itself (in jsdom), for the template model and for hostile column names', async () => {
    const mermaid = await loadMermaid();
    // Column names that try to break out of a chart label.
    const hostile = JSON.parse(JSON.stringify(input)) as typeof input;
    const features = hostile.candidate.artifact.features as { outputs: string[] };
    features.outputs = features.outputs.map((f, i) => (i % 3 === 0 ? `${f}"];%% ] x-axis [\`#;` : f));
    const reports = [renderReport(reportView(input), REPORT.commentLimit).markdown, renderReport(reportView(weak), REPORT.commentLimit).markdown];
    const hostileReport = renderReport(reportView(hostile), REPORT.commentLimit).markdown;
    expect(hostileReport).toContain('```mermaid');
    reports.push(hostileReport);
    const all = reports.flatMap(mermaidBlocks);
    expect(all.length).toBeGreaterThanOrEqual(6);
    for (const block of all) {
      await expect(mermaid.parse(block), block).resolves.toMatchObject({ diagramType: 'xychart' });
    }
    // And the parser can fail: a chart with an unclosed axis is refused.
    await expect(mermaid.parse('xychart-beta\n  x-axis ["a", "b"\n  bar [1, 2]')).rejects.toThrow(/Parse error/);
  });
});
