// The dashboard's entry: loads the data files (each a <script src> calling BRAMBLE_SITE, which works from
// file:// where fetch does not), then draws the view the address's #hash names. The runs are loaded page after
// page in the background; the table is drawn after the first and grows as the rest arrive.
import './style.css';
import { SITE, type RunsPage, type SiteCards, type SiteIndex } from '../src/ui/site-types.js';
import { h } from './dom.js';
import { experimentsView, type ExperimentsView } from './experiments.js';
import { RunsData } from './runs-table.js';
import { environmentsView, modelsView, monitoringView, versionView } from './views.js';

type Loader = (name: string, value: unknown) => void;

const loaded = new Map<string, unknown>();
const loading = new Map<string, Promise<unknown>>();
(window as unknown as Record<string, Loader>)[SITE.loader] = (name, value) => {
  loaded.set(name, value);
};

/** A data file by name: its script added once (every caller gets the same promise), resolved when it has run. */
function load<T>(name: string): Promise<T> {
  let promise = loading.get(name);
  if (promise === undefined) {
    const file = `${SITE.data}/${name}.js`;
    promise = new Promise<unknown>((resolve, reject) => {
      const script = document.createElement('script');
      script.src = file;
      // A script runs before its load event: by then the file has called the loader, or it is not a data file.
      script.onload = () => (loaded.has(name) ? resolve(loaded.get(name)) : reject(new Error(`${file} is not a data file of this page; build the site again with bramble ui build`)));
      script.onerror = () => reject(new Error(`${file} could not be loaded; build the site again with bramble ui build`));
      document.head.appendChild(script);
    });
    loading.set(name, promise);
  }
  return promise as Promise<T>;
}

const main = document.getElementById('main') as HTMLElement;
const status = document.getElementById('status') as HTMLElement;
let site: SiteIndex;
let runs: RunsData | null = null;
let experiments: ExperimentsView | null = null;
let cards: SiteCards | null = null;

async function loadRuns(): Promise<void> {
  const data = new RunsData(site.runs.metrics, site.runs.params);
  runs = data;
  for (const name of site.runs.pages) {
    const page = await load<RunsPage>(name);
    data.add(page);
    experiments?.refresh();
    status.textContent = `${data.count} of ${site.runs.total} runs loaded`;
    if (data.count === page.id.length) {
      // The first page drawn: what the benchmark times as the table's first paint.
      requestAnimationFrame(() => performance.mark('bramble:table-painted'));
    }
    // Let the page paint and answer between pages.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (site.runs.pages.length === 0) performance.mark('bramble:table-painted');
  status.textContent = `${site.runs.total} runs, ${site.models.length} models; built ${site.generatedAt.slice(0, 16).replace('T', ' ')} UTC`;
}

function show(): void {
  const route = decodeURIComponent(location.hash.slice(1)) || 'models';
  const [view, ...rest] = location.hash.slice(1).split('/');
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#${view || 'models'}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  let content: HTMLElement;
  if (view === 'experiments') {
    if (runs === null) void loadRuns().then(undefined, fail);
    experiments ??= experimentsView(site, runs as RunsData);
    content = experiments.element;
    main.replaceChildren(content);
    experiments.refresh();
    return;
  }
  if (view === 'model' && rest.length === 2) {
    const [name, version] = rest.map(decodeURIComponent);
    const key = `${name}@${version}`;
    content = versionView(site, name, version, cards?.[key]);
    if (cards === null) void load<SiteCards>('cards').then((c) => {
      cards = c;
      if (decodeURIComponent(location.hash.slice(1)) === route) show();
    }, fail);
  } else if (view === 'environments') content = environmentsView(site, Date.now());
  else if (view === 'monitoring') content = monitoringView(site);
  else content = modelsView(site);
  main.replaceChildren(content);
}

function fail(err: unknown): void {
  main.replaceChildren(h('p', { class: 'problem', role: 'alert' }, err instanceof Error ? err.message : String(err)));
}

async function start(): Promise<void> {
  site = await load<SiteIndex>('site');
  if (site.format !== SITE.format || site.version !== SITE.version) throw new Error(`data/site.js is ${site.format} version ${site.version}; this page reads ${SITE.format} version ${SITE.version}: build the site again`);
  (document.getElementById('repository') as HTMLElement).textContent = site.repository;
  document.title = `${site.repository} — Bramble dashboard`;
  status.textContent = `${site.runs.total} runs, ${site.models.length} models; built ${site.generatedAt.slice(0, 16).replace('T', ' ')} UTC`;
  const header = document.querySelector('header') as HTMLElement;
  for (const p of site.problems) header.appendChild(h('p', { class: 'problem' }, p));
  window.addEventListener('hashchange', () => {
    show();
    main.focus({ preventScroll: true });
  });
  show();
}

start().then(undefined, fail);
