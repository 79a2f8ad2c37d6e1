// The one Markdown kit (src/report/markdown.ts), which the pull request report, the model card and the training
// report all write with: text from data can neither break a table nor inject markup, HTML or a mention.
import { describe, expect, it } from 'vitest';
import { codeSpan, cut, escapeMarkdown, markdownTable, mermaidLabel } from '../src/report/markdown.js';

/** The cells of a rendered table row, split as GitHub splits them: on every `|` not escaped by a backslash. */
function cellsOf(row: string): string[] {
  return row
    .slice(2, -2)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

describe('escapeMarkdown', () => {
  it.each([
    ['a pipe', 'a|b', 'a\\|b'],
    ['backticks', 'x `code` y', 'x \\`code\\` y'],
    ['HTML', '<script>alert(1)</script>', '\\<script\\>alert(1)\\</script\\>'],
    ['LF, CRLF, CR and U+2028', 'one\ntwo\r\nthree\rfour\u2028five', 'one two three four five'],
    ['emphasis, links, headings', '*a* _b_ [c](d) # e', '\\*a\\* \\_b\\_ \\[c\\](d) \\# e'],
    ['a mention, an entity, a strike-through and maths', '@team &amp; ~~x~~ $y$ !', '\\@team \\&amp; \\~\\~x\\~\\~ \\$y\\$ \\!'],
    ['a backslash', 'C:\\data', 'C:\\\\data'],
  ])('%s', (_, text, escaped) => {
    expect(escapeMarkdown(text)).toBe(escaped);
  });

  it('cuts to the length asked, never inside a surrogate pair', () => {
    expect(escapeMarkdown('abcdef', 4)).toBe('abc…');
    expect(cut('ab😀cd', 3)).toBe('ab…');
    expect(escapeMarkdown('x'.repeat(500))).toHaveLength(500);
  });

  it('keeps a table row to its cells whatever the text holds', () => {
    const nasty = 'a|b`|`c\n| d | e |';
    const [, , row] = markdownTable(['column', 'value'], [[escapeMarkdown(nasty), '1']], [1]);
    expect(row.split('\n')).toHaveLength(1);
    expect(cellsOf(row)).toEqual([escapeMarkdown(nasty), '1']);
  });
});

describe('codeSpan', () => {
  it.each([
    ['plain text', 'abc', '`abc`'],
    ['a backtick inside', 'a`b', '`` a`b ``'],
    ['a run of backticks', 'a``b', '``` a``b ```'],
    ['a line break', 'a\nb', '`a b`'],
  ])('%s', (_, text, span) => {
    expect(codeSpan(text)).toBe(span);
  });
});

describe('markdownTable', () => {
  it('aligns the columns asked to the right', () => {
    expect(markdownTable(['a', 'b'], [['1', '2']], [1])).toEqual(['| a | b |', '| --- | ---: |', '| 1 | 2 |']);
  });
});

describe('mermaidLabel', () => {
  it('drops what the xychart grammar cannot take: quotes, %, #, ;, <, >, backticks, line breaks', () => {
    expect(mermaidLabel('a"b%%{init}%%#c;d<e>`f\ng', 40)).toBe('"a b {init} c d e f g"');
    expect(mermaidLabel('   ', 40)).toBe('"(blank)"');
  });
});
