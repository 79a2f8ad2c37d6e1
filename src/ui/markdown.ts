// A model card's Markdown as HTML for the dashboard: the small subset Bramble's own documents use (headings,
// paragraphs, lists, pipe tables, fenced code, block quotes; inline code, bold, italics, links and backslash
// escapes), with every character of the source escaped on the way out.
//
// Decisions:
// - No raw HTML passes, ever: `<`, `>`, `&`, `"` and `'` are written as entities wherever they stand, so a card
//   whose model name or column holds `<img onerror=…>` shows that text and runs nothing. A card is written by
//   Bramble, but its values (names, columns, categories, paths) come from data anyone can commit.
// - Links keep http(s), mailto and relative targets only; `javascript:` and other schemes are shown as text.
// - Not CommonMark: what the subset does not know is shown as the text it is, which is safe and readable.

/** Text as HTML: every character that can open markup or end an attribute is an entity. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SAFE_LINK = /^(https?:\/\/|mailto:|#|\.{0,2}\/|[A-Za-z0-9_.-]+(?:[/#?]|$))/;

/** One line of inline Markdown as HTML. */
export function inlineHtml(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && /[!-/:-@[-`{-~]/.test(text[i + 1])) {
      out += escapeHtml(text[i + 1]);
      i += 2;
      continue;
    }
    if (c === '`') {
      const fence = /^`+/.exec(text.slice(i))?.[0] ?? '`';
      const end = text.indexOf(fence, i + fence.length);
      if (end !== -1) {
        const code = text.slice(i + fence.length, end);
        out += `<code>${escapeHtml(fence.length > 1 ? code.replace(/^ (.*) $/, '$1') : code)}</code>`;
        i = end + fence.length;
        continue;
      }
    }
    if ((c === '*' || c === '_') && text[i + 1] === c) {
      const end = text.indexOf(c + c, i + 2);
      if (end > i + 2) {
        out += `<strong>${inlineHtml(text.slice(i + 2, end))}</strong>`;
        i = end + 2;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const end = closingEmphasis(text, i + 1, c);
      if (end !== -1) {
        out += `<em>${inlineHtml(text.slice(i + 1, end))}</em>`;
        i = end + 1;
        continue;
      }
    }
    if (c === '[') {
      const link = /^\[([^\]\\]*(?:\\.[^\]\\]*)*)\]\(([^()\s]*)\)/.exec(text.slice(i));
      if (link) {
        const label = inlineHtml(link[1]);
        out += SAFE_LINK.test(link[2]) ? `<a href="${escapeHtml(link[2])}">${label}</a>` : `${label} (${escapeHtml(link[2])})`;
        i += link[0].length;
        continue;
      }
    }
    out += escapeHtml(c);
    i++;
  }
  return out;
}

/** The closing emphasis mark after `from` (not escaped, not next to a space), or -1. */
function closingEmphasis(text: string, from: number, mark: string): number {
  if (from >= text.length || text[from] === ' ') return -1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === mark && text[j - 1] !== ' ' && j > from) return j;
  }
  return -1;
}

/** A pipe table row's cells: split on `|` that is not escaped. */
function tableCells(line: string): string[] {
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const cells: string[] = [];
  let cell = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && i + 1 < body.length) {
      cell += body[i] + body[i + 1];
      i++;
    } else if (body[i] === '|') {
      cells.push(cell.trim());
      cell = '';
    } else cell += body[i];
  }
  cells.push(cell.trim());
  return cells;
}

const TABLE_RULE = /^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function tableHtml(lines: readonly string[]): string {
  const head = tableCells(lines[0]);
  const right = tableCells(lines[1]).map((c) => c.endsWith(':') && !c.startsWith(':'));
  const cell = (tag: string, text: string, j: number) => `<${tag}${right[j] ? ' class="num"' : ''}>${inlineHtml(text)}</${tag}>`;
  const rows = lines.slice(2).map((l) => `<tr>${tableCells(l).map((c, j) => cell('td', c, j)).join('')}</tr>`);
  return `<table><thead><tr>${head.map((c, j) => cell('th', c, j)).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A whole document as HTML. */
export function markdownHtml(source: string): string {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i++;
      continue;
    }
    const fence = /^(```+|~~~+)\s*([\w-]*)/.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i].startsWith(fence[1])) body.push(lines[i++]);
      i++;
      out.push(`<pre${fence[2] ? ` data-lang="${escapeHtml(fence[2])}"` : ''}><code>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      // The page has its own h1 and h2: a card's headings start at h3.
      const level = Math.min(6, heading[1].length + 2);
      out.push(`<h${level}>${inlineHtml(heading[2])}</h${level}>`);
      i++;
      continue;
    }
    if (line.trimStart().startsWith('|') && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1])) {
      const rows: string[] = [];
      while (i < lines.length && lines[i].trimStart().startsWith('|')) rows.push(lines[i++]);
      out.push(tableHtml(rows));
      continue;
    }
    const item = /^\s*([-*+]|\d+[.)])\s+/;
    if (item.test(line)) {
      const ordered = /\d/.test(line.trim()[0]);
      const items: string[] = [];
      while (i < lines.length && lines[i].trim() !== '') {
        const m = item.exec(lines[i]);
        if (m) items.push(lines[i].slice(m[0].length));
        else items[items.length - 1] += ` ${lines[i].trim()}`;
        i++;
      }
      const tag = ordered ? 'ol' : 'ul';
      out.push(`<${tag}>${items.map((t) => `<li>${inlineHtml(t)}</li>`).join('')}</${tag}>`);
      continue;
    }
    if (line.startsWith('>')) {
      const quoted: string[] = [];
      while (i < lines.length && lines[i].startsWith('>')) quoted.push(lines[i++].replace(/^>\s?/, ''));
      out.push(`<blockquote>${markdownHtml(quoted.join('\n'))}</blockquote>`);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i].trim() !== '' && !/^(#{1,6}\s|```|~~~|>|\s*([-*+]|\d+[.)])\s)/.test(lines[i])) para.push(lines[i++].trim());
    if (para.length === 0) para.push(lines[i++].trim());
    out.push(`<p>${inlineHtml(para.join(' '))}</p>`);
  }
  return out.join('\n');
}
