// The step's job summary ($GITHUB_STEP_SUMMARY, kept within GitHub's 1 MiB a step) and its annotations (workflow
// commands, within GitHub's 10 a level a step, the rest in the log).
import { appendFile, stat } from 'node:fs/promises';
import * as core from '@actions/core';
import { ANNOTATIONS, countHidden, formatAnnotation, spendAnnotationBudget, takeAnnotationSlot } from '../local.js';
import type { Annotation } from '../types.js';
import { GITHUB_LIMITS, isObject, type Env } from './client.js';

/**
 * Markdown cut to fit `budget` bytes: whole lines, an open code fence closed, and a note saying what was left out.
 * Returns '' when not even the note fits.
 */
export function fitSummary(markdown: string, budget: number): string {
  const total = Buffer.byteLength(markdown);
  if (total <= budget) return markdown;
  const note = (omitted: number) =>
    `\n> [!WARNING]\n> This summary was trimmed: the last ${omitted.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} bytes are not shown (GitHub keeps at most 1 MiB of summary per step).\n`;
  const room = budget - Buffer.byteLength(note(total)) - Buffer.byteLength('```\n');
  if (room <= 0) return '';
  let kept = 0;
  let fenced = false;
  const lines: string[] = [];
  for (const line of markdown.split('\n')) {
    const size = Buffer.byteLength(line) + 1;
    if (kept + size > room) break;
    kept += size;
    lines.push(line);
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
  }
  return `${lines.join('\n')}\n${fenced ? '```\n' : ''}${note(total - kept)}`;
}

/** Appends Markdown to the step's summary; without a summary file, to the log. */
export async function writeSummary(env: Env, markdown: string): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) {
    core.info('GITHUB_STEP_SUMMARY is not set (a runner without job summaries?); the summary follows in the log');
    core.info(markdown);
    return;
  }
  const used = await stat(file).then(
    (s) => s.size,
    (err: unknown) => {
      if (isObject(err) && err.code === 'ENOENT') return 0;
      throw err;
    },
  );
  const text = fitSummary(markdown.endsWith('\n') ? markdown : `${markdown}\n`, GITHUB_LIMITS.summaryBytes - used);
  if (text === '') {
    core.warning(`the step summary is full (GitHub keeps at most 1 MiB per step); ${Buffer.byteLength(markdown)} bytes of summary were left out`);
    return;
  }
  // Appended by hand rather than through core.summary: that one reads process.env rather than this adapter's
  // env, remembers the first file it wrote for the life of the process, and shares one buffer process-wide.
  await appendFile(file, text, 'utf8');
}

/** Annotations as workflow commands, within GitHub's budget a step; the rest go to the log. */
export function annotateStep(annotations: readonly Annotation[]): void {
  const { shown, hidden } = spendAnnotationBudget(annotations);
  for (const a of shown) {
    const properties: core.AnnotationProperties = {};
    if (a.title) properties.title = a.title;
    if (a.file) properties.file = a.file;
    if (a.line !== undefined) properties.startLine = a.line;
    if (a.col !== undefined) properties.startColumn = a.col;
    core[a.level](a.message, properties);
  }
  for (const level of ANNOTATIONS.levels) {
    const rest = hidden[level];
    if (rest.length === 0) continue;
    const line = `${countHidden(level, rest.length)} not shown as annotations (GitHub shows ${ANNOTATIONS.perLevel} per step); see the log`;
    // The line is a notice while the step has notices left; after that it can only be a log line.
    if (takeAnnotationSlot('notice')) core.notice(line);
    else core.info(line);
    for (const a of rest) core.info(formatAnnotation(a));
  }
}
