// The experiments table: every run in one scrolling table that draws only the rows in view (plus a few), so that
// 100,000 runs cost as much to show as 40. Sorting and filtering work on an index (a Uint32Array of row numbers)
// over column arrays, never on row objects. Keyboard: Tab reaches the sort buttons and then the rows; arrows,
// Page Up/Down, Home and End move through the rows; Space or Enter selects a run for comparison.
import type { ParamValue, RunsPage } from '../src/ui/site-types.js';
import { fmt, h, short, when } from './dom.js';

const ROW = 28;
const OVERSCAN = 8;

type Cell = string | number | boolean | null;

export interface Column {
  key: string;
  label: string;
  numeric: boolean;
  values: Cell[];
  show(value: Cell): string;
}

/** All pages loaded so far, as one set of columns. */
export class RunsData {
  readonly columns: Column[];
  readonly page: RunsPage;
  count = 0;
  private search: string[] = [];

  constructor(metrics: readonly string[], params: readonly string[]) {
    this.page = { id: [], at: [], name: [], command: [], branch: [], commit: [], dirty: [], dataPath: [], dataSha: [], rows: [], seed: [], gate: [], failed: [], champion: [], seconds: [], runner: [], artifact: [], params: {}, metrics: {} };
    for (const p of params) this.page.params[p] = [];
    for (const m of metrics) this.page.metrics[m] = [];
    const text = (v: Cell) => (v === null ? '–' : String(v));
    const p = this.page;
    this.columns = [
      { key: 'at', label: 'when', numeric: false, values: p.at, show: (v) => when(v as string) },
      { key: 'name', label: 'model', numeric: false, values: p.name, show: text },
      { key: 'branch', label: 'branch', numeric: false, values: p.branch, show: text },
      { key: 'commit', label: 'commit', numeric: false, values: p.commit, show: (v) => short(v as string | null) },
      { key: 'gate', label: 'gates', numeric: false, values: p.gate, show: text },
      ...metrics.map((m) => ({ key: `m:${m}`, label: m, numeric: true, values: p.metrics[m], show: (v: Cell) => fmt(v as number | null) })),
      ...params.map((k) => ({ key: `p:${k}`, label: k, numeric: false, values: p.params[k] as Cell[], show: text })),
      { key: 'seconds', label: 'seconds', numeric: true, values: p.seconds, show: (v) => fmt(v as number | null) },
      { key: 'runner', label: 'runner', numeric: false, values: p.runner, show: text },
      { key: 'id', label: 'run', numeric: false, values: p.id, show: text },
    ];
  }

  /** Appends a page (same columns: the builder wrote every page with all of them). */
  add(page: RunsPage): void {
    const into = this.page as unknown as Record<string, unknown[]>;
    const from = page as unknown as Record<string, unknown[]>;
    for (const key of Object.keys(into)) {
      if (key === 'params' || key === 'metrics') continue;
      for (const v of from[key]) into[key].push(v);
    }
    for (const [k, values] of Object.entries(page.params)) for (const v of values) (this.page.params[k] ??= []).push(v);
    for (const [k, values] of Object.entries(page.metrics)) for (const v of values) (this.page.metrics[k] ??= []).push(v);
    for (let i = this.count; i < this.count + page.id.length; i++) {
      const parts = [p(this.page.id[i]), p(this.page.name[i]), p(this.page.branch[i]), p(this.page.commit[i]), p(this.page.runner[i])];
      for (const values of Object.values(this.page.params)) parts.push(p(values[i]));
      this.search.push(parts.join(' ').toLowerCase());
    }
    this.count += page.id.length;
  }

  matches(i: number, needle: string): boolean {
    return this.search[i].includes(needle);
  }
}

const p = (v: ParamValue | undefined): string => (v === null || v === undefined ? '' : String(v));

export interface TableEvents {
  /** The selection changed (row numbers, in the order chosen). */
  selected(rows: number[]): void;
}

export class RunsTable {
  readonly element: HTMLElement;
  private readonly scroll: HTMLDivElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly tableEl: HTMLTableElement;
  private readonly headers: HTMLTableCellElement[] = [];
  private order = new Uint32Array(0);
  private sortKey: string | null = null;
  private descending = true;
  private filter = '';
  private model = '';
  private active = 0;
  private readonly chosen: number[] = [];
  private frame = 0;

  constructor(
    private readonly data: RunsData,
    private readonly events: TableEvents,
  ) {
    this.tableEl = h('table', { class: 'runs', 'aria-rowcount': 1 });
    this.tableEl.appendChild(h('caption', { class: 'sr' }, 'Runs, newest first; sort with the column buttons, select runs with Space to compare them'));
    const headRow = h('tr', { 'aria-rowindex': 1 }, h('th', { scope: 'col' }, h('span', { class: 'sr' }, 'selected')));
    for (const c of data.columns) {
      const button = h('button', { type: 'button', 'data-key': c.key }, c.label);
      button.addEventListener('click', () => this.sortBy(c.key));
      const th = h('th', { scope: 'col', class: c.numeric ? 'num' : null, 'aria-sort': 'none' }, button);
      this.headers.push(th);
      headRow.appendChild(th);
    }
    this.tableEl.appendChild(h('thead', {}, headRow));
    this.tbody = h('tbody', {});
    this.tableEl.appendChild(this.tbody);
    this.scroll = h('div', { class: 'runs-scroll', id: 'runs-scroll' }, this.tableEl);
    this.scroll.addEventListener('scroll', () => this.schedule());
    this.tbody.addEventListener('keydown', (e) => this.key(e));
    this.tbody.addEventListener('click', (e) => {
      const tr = (e.target as Element).closest('tr.run');
      if (tr) this.toggle(Number(tr.getAttribute('data-row')));
    });
    this.element = this.scroll;
  }

  /** Rows were added (a page loaded): the filter and sort are applied to all of them again. */
  refresh(): void {
    this.apply();
  }

  setFilter(text: string, model: string): void {
    this.filter = text.trim().toLowerCase();
    this.model = model;
    this.active = 0;
    this.apply();
  }

  /** The rows shown, in order. */
  rows(): Uint32Array {
    return this.order;
  }

  sortBy(key: string): void {
    const started = performance.now();
    this.descending = this.sortKey === key ? !this.descending : key.startsWith('m:') || key === 'at';
    this.sortKey = key;
    this.sortOrder();
    this.render();
    performance.measure('bramble:sort', { start: started, end: performance.now() });
  }

  private apply(): void {
    const d = this.data;
    const keep = new Uint32Array(d.count);
    let n = 0;
    for (let i = 0; i < d.count; i++) {
      if (this.model !== '' && d.page.name[i] !== this.model) continue;
      if (this.filter !== '' && !d.matches(i, this.filter)) continue;
      keep[n++] = i;
    }
    this.order = keep.slice(0, n);
    if (this.sortKey !== null) this.sortOrder();
    this.tableEl.setAttribute('aria-rowcount', String(n + 1));
    this.render();
  }

  private sortOrder(): void {
    const column = this.data.columns.find((c) => c.key === this.sortKey);
    if (!column) return;
    const values = column.values;
    const sign = this.descending ? -1 : 1;
    if (column.numeric) {
      const keyed = new Float64Array(this.data.count);
      for (let i = 0; i < keyed.length; i++) {
        const v = values[i];
        keyed[i] = typeof v === 'number' ? v : Number.NaN;
      }
      this.order.sort((a, b) => {
        const x = keyed[a];
        const y = keyed[b];
        if (Number.isNaN(x)) return Number.isNaN(y) ? a - b : 1;
        if (Number.isNaN(y)) return -1;
        return x === y ? a - b : (x - y) * sign;
      });
    } else {
      this.order.sort((a, b) => {
        const x = values[a];
        const y = values[b];
        if (x === null || x === undefined) return y === null || y === undefined ? a - b : 1;
        if (y === null || y === undefined) return -1;
        const sx = String(x);
        const sy = String(y);
        return sx === sy ? a - b : sx < sy ? -sign : sign;
      });
    }
    this.headers.forEach((th, j) => th.setAttribute('aria-sort', this.data.columns[j].key === this.sortKey ? (this.descending ? 'descending' : 'ascending') : 'none'));
  }

  private schedule(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Draws the rows in view, with a spacer above and below standing for the rest. */
  render(): void {
    const total = this.order.length;
    const view = this.scroll.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.scroll.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(total, first + Math.ceil(view / ROW) + 2 * OVERSCAN);
    const focused = this.tbody.contains(document.activeElement);
    const span = this.data.columns.length + 1;
    const pad = (height: number) => {
      const td = h('td', { colspan: span });
      td.style.height = `${height}px`;
      return h('tr', { class: 'pad', 'aria-hidden': 'true' }, td);
    };
    const rows: HTMLTableRowElement[] = [pad(first * ROW)];
    if (total === 0) rows.push(h('tr', {}, h('td', { colspan: span }, this.data.count === 0 ? 'No runs recorded yet: bramble run records one.' : 'No run matches the filter.')));
    for (let k = first; k < last; k++) rows.push(this.row(this.order[k], k));
    rows.push(pad((total - last) * ROW));
    const fragment = document.createDocumentFragment();
    for (const row of rows) fragment.appendChild(row);
    this.tbody.replaceChildren(fragment);
    if (focused) (this.tbody.querySelector('tr[tabindex="0"]') as HTMLElement | null)?.focus({ preventScroll: true });
  }

  private row(i: number, k: number): HTMLTableRowElement {
    const selected = this.chosen.includes(i);
    const box = h('input', { type: 'checkbox', tabindex: -1, 'aria-label': `compare ${this.data.page.id[i]}` });
    box.checked = selected;
    const tr = h(
      'tr',
      { class: `run${selected ? ' selected' : ''}`, 'data-row': i, 'aria-rowindex': k + 2, tabindex: k === this.active ? 0 : -1 },
      h('td', {}, box),
    );
    for (const c of this.data.columns) {
      const v = c.values[i];
      tr.appendChild(h('td', { class: c.numeric ? 'num' : c.key === 'gate' ? (v === 'failed' ? 'bad' : v === 'passed' ? 'good' : null) : null, title: c.key === 'id' || c.key.startsWith('p:') ? String(v) : null }, c.show(v)));
    }
    return tr;
  }

  private key(e: KeyboardEvent): void {
    const total = this.order.length;
    if (total === 0) return;
    const page = Math.max(1, Math.floor((this.scroll.clientHeight || 600) / ROW) - 2);
    const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -total, End: total };
    if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      this.toggle(this.order[this.active]);
      return;
    }
    const move = moves[e.key];
    if (move === undefined) return;
    e.preventDefault();
    this.active = Math.max(0, Math.min(total - 1, this.active + move));
    const top = this.active * ROW;
    const head = ROW;
    if (top < this.scroll.scrollTop) this.scroll.scrollTop = top;
    else if (top + ROW > this.scroll.scrollTop + this.scroll.clientHeight - head) this.scroll.scrollTop = top + 2 * ROW - this.scroll.clientHeight;
    this.render();
    (this.tbody.querySelector('tr[tabindex="0"]') as HTMLElement | null)?.focus({ preventScroll: true });
  }

  private toggle(i: number): void {
    const at = this.chosen.indexOf(i);
    if (at === -1) this.chosen.push(i);
    else this.chosen.splice(at, 1);
    const k = this.order.indexOf(i);
    if (k !== -1) this.active = k;
    this.render();
    this.events.selected(this.chosen.slice());
  }
}
