// The report's Markdown: the view (view.ts) laid out by the Handlebars templates in ./templates, then fitted
// into a limit — GitHub's 65,536 characters for a comment, 1 MiB for a job summary.
//
// Decisions:
// - The templates are imported as text (`?raw`): Vitest reads such imports as text, and esbuild inlines them
//   with its text loader, so the bundles carry them and nothing is read from disk at run time.
// - One isolated Handlebars environment, each template compiled once on first use (no work at import time),
//   with `strict: true`, so a field the view lacks fails loudly instead of printing nothing, and `noEscape: true`,
//   because the view has already escaped everything for Markdown (Handlebars' escaping is for HTML).
// - Trimming works on whole section bodies, longest first, each replaced by a one-line note, until the report
//   fits; the verdict and the metrics table are never trimmed. If the report still does not fit (a limit smaller
//   than what is never trimmed), it is cut at a line boundary with a note: the result is never over the limit.
import Handlebars from 'handlebars';
import confusionTemplate from './templates/confusion.hbs?raw';
import driftTemplate from './templates/drift.hbs?raw';
import historyTemplate from './templates/history.hbs?raw';
import importancesTemplate from './templates/importances.hbs?raw';
import lineageTemplate from './templates/lineage.hbs?raw';
import metricsTemplate from './templates/metrics.hbs?raw';
import parametersTemplate from './templates/parameters.hbs?raw';
import reportTemplate from './templates/report.hbs?raw';
import sweepTemplate from './templates/sweep.hbs?raw';
import validationTemplate from './templates/validation.hbs?raw';
import { REPORT, type ReportView, type SectionId } from './view.js';

const SOURCES: Readonly<Record<SectionId | 'report', string>> = {
  report: reportTemplate,
  validation: validationTemplate,
  metrics: metricsTemplate,
  confusion: confusionTemplate,
  importances: importancesTemplate,
  history: historyTemplate,
  drift: driftTemplate,
  lineage: lineageTemplate,
  parameters: parametersTemplate,
  sweep: sweepTemplate,
};

type Compiled = Record<keyof typeof SOURCES, Handlebars.TemplateDelegate>;

let compiled: Compiled | undefined;

function templates(): Compiled {
  if (compiled) return compiled;
  const hbs = Handlebars.create();
  const out: Partial<Compiled> = {};
  for (const [name, source] of Object.entries(SOURCES) as [keyof typeof SOURCES, string][]) {
    out[name] = hbs.compile(source, { strict: true, noEscape: true });
  }
  compiled = out as Compiled;
  return compiled;
}

/** The context report.hbs lays out. */
interface Page {
  marker: string;
  verdict: string;
  context: string[];
  sections: { title: string; body: string }[];
  footer: string | null;
}

/**
 * The report as Markdown of at most `limit` characters (JavaScript string length, as GitHub counts), and the
 * titles of the sections whose bodies were trimmed to get there, longest first.
 */
export function renderReport(view: ReportView, limit: number): { markdown: string; trimmed: string[] } {
  const t = templates();
  const full = view.sections.map((s) => (t[s.id] as Handlebars.TemplateDelegate<typeof s.data>)(s.data).trimEnd());
  const bodies = [...full];
  const trimmed: string[] = [];
  const inSummary = limit >= REPORT.summaryLimit;
  const page = (): string => {
    const context: Page = {
      marker: view.marker,
      verdict: view.verdict,
      context: view.context,
      sections: view.sections.map((s, i) => ({ title: s.title, body: bodies[i] })),
      footer:
        trimmed.length === 0
          ? null
          : `_Trimmed to fit GitHub's limit of ${limit} characters${inSummary ? '' : ' for a comment'}: ${trimmed.join(', ')}._`,
    };
    return t.report(context);
  };
  let markdown = page();
  while (markdown.length > limit) {
    let longest = -1;
    view.sections.forEach((s, i) => {
      if (s.trimmable && bodies[i] === full[i] && (longest < 0 || full[i].length > full[longest].length)) longest = i;
    });
    if (longest < 0) break;
    bodies[longest] = trimNote(full[longest].length, inSummary);
    trimmed.push(view.sections[longest].title);
    markdown = page();
  }
  return { markdown: markdown.length > limit ? cutToFit(markdown, limit) : markdown, trimmed };
}

function trimNote(characters: number, inSummary: boolean): string {
  return `_… trimmed: ${characters} characters ${inSummary ? "(over GitHub's limit for a job summary)" : '(the full report is in the job summary)'}_`;
}

/** The last resort: whole lines up to the limit, then a note; never more than `limit` characters. */
function cutToFit(markdown: string, limit: number): string {
  const note = `\n\n_… cut at ${limit} characters: GitHub's limit_\n`;
  const room = limit - note.length;
  if (room <= 0) return markdown.slice(0, limit);
  let end = markdown.lastIndexOf('\n', room);
  if (end <= 0) {
    end = room;
    const code = markdown.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end--;
  }
  return `${markdown.slice(0, end)}${note}`;
}
