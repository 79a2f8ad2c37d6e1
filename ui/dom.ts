// The page's one way of making elements: text goes in as text (textContent), never as markup, so a model, column
// or parameter named `<img onerror=…>` is shown as written. The one exception, a card, is HTML the builder made
// from escaped Markdown (src/ui/markdown.ts).
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.className = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else if (c !== null && c !== undefined && c !== false) el.appendChild(document.createTextNode(String(c)));
  }
}

/** A number as a table shows it: four significant decimals, or a dash for none. */
export function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(1) : value.toFixed(4);
}

/** An ISO time as "2026-12-06 07:51" (UTC, as git records it). */
export function when(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '–';
}

export function short(sha: string | null | undefined, n = 7): string {
  return sha ? sha.slice(0, n) : '–';
}

/** A table with a caption; cells are nodes or text, numbers right-aligned. */
export function table(caption: string, head: string[], rows: Child[][], numeric: number[] = []): HTMLTableElement {
  const cls = (j: number) => (numeric.includes(j) ? 'num' : null);
  return h(
    'table',
    {},
    h('caption', { class: 'sr' }, caption),
    h('thead', {}, h('tr', {}, head.map((x, j) => h('th', { scope: 'col', class: cls(j) }, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, j) => h('td', { class: cls(j) }, c))))),
  );
}
