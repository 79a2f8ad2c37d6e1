// The one Markdown kit: how text from data becomes safe Markdown (and Mermaid) in everything Bramble writes for
// people — the pull request report (view.ts), the model card (card.ts) and the training report (training-report.ts).
//
// Decisions:
// - One escaping rule. Text from data is made one line (control characters and line breaks become spaces) and
//   every character that can start inline markup, a table cell or HTML is backslash-escaped: \ ` * _ [ ] < > | #
//   ~ & $ @ !. The card and the report used to escape different sets (the card left `&`, `~`, `$`, `@` and `!`).
// - Table cells are escaped text, never code spans of data: GitHub splits a table row on a `|` even inside a code
//   span, and inside a code span a backslash is literal, so `\|` could not be both escaped and shown right.
// - Cuts never fall between the halves of a surrogate pair.

const INLINE_MARKUP = /[\\`*_[\]<>|#~&$@!]/g;

/** Plain text safe in a paragraph or a table cell: one line, inline markup and HTML characters escaped, at most `max` characters. */
export function escapeMarkdown(value: unknown, max = Number.POSITIVE_INFINITY): string {
  return cut(oneLine(String(value)), max).replace(INLINE_MARKUP, (c) => `\\${c}`);
}

/** A code span that survives any backticks in the value (CommonMark: a longer fence, padded by spaces); one line. */
export function codeSpan(value: unknown): string {
  const text = oneLine(String(value));
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  const pad = longest > 0 || text.startsWith(' ') || text.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A table's lines; cells are already-escaped text (escapeMarkdown or a number format). `right`: right-aligned columns. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (right.includes(i) ? '---:' : '---'))), ...rows.map(line)];
}

/** A quoted label of Mermaid's xychart grammar, with what the grammar cannot take removed. */
export function mermaidLabel(value: unknown, max: number): string {
  const text = String(value)
    .replace(/["`%#;<>\\]|[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return `"${cut(text, max) || '(blank)'}"`;
}

/** Control characters and line breaks (CR, LF, U+2028/9 included) as spaces. */
export function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

/** At most `max` characters, ending with … when cut; never between the halves of a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** `lines` added to the end of `out`: a loop, so that no table's length meets a call's argument limit. */
export function appendLines(out: string[], lines: readonly string[]): void {
  for (const line of lines) out.push(line);
}

/** `lines` added to the end of `out`, then a blank line. */
export function appendBlock(out: string[], lines: readonly string[]): void {
  appendLines(out, lines);
  out.push('');
}
