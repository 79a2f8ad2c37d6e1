// `bramble sweep --report FILE`: the sweep section of the PR report (sweep-view.ts) as a Markdown file of its own,
// for a job summary or a comment of its own; the pipeline puts the same section into the PR report (compare's sweep input).
import { renderReport } from './render.js';
import { sweepView, type SweepReportInput } from './sweep-view.js';
import { REPORT, type ReportView } from './view.js';
import { escapeMarkdown } from './markdown.js';

/** Its own marker, so a sticky comment of the sweep is never mistaken for the model report. */
export const SWEEP_MARKER = (model: string): string => `<!-- bramble-sweep:${model} -->`;

export function sweepReportMarkdown(model: string, input: SweepReportInput): string {
  const view: ReportView = {
    marker: SWEEP_MARKER(model),
    verdict: `### ${escapeMarkdown(model, 120)}: parameter sweep`,
    passed: input.best !== null,
    context: [],
    sections: [{ id: 'sweep', title: REPORT.sections.sweep, trimmable: false, data: sweepView(input) }],
  };
  return renderReport(view, REPORT.commentLimit).markdown;
}
