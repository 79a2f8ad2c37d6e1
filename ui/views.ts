// The registry's views: models and their versions, one version with its lineage and card, the environments on a
// timeline, and the monitor's results over time. Each is a function from the site's data to elements.
import type { SiteAssignment, SiteIndex, SiteModel, SiteMonitoring, SiteVersion } from '../src/ui/site-types.js';
import { aligned, chart, seconds } from './charts.js';
import { fmt, h, short, table, when } from './dom.js';

const versionLink = (model: string, version: string) => h('a', { href: `#model/${encodeURIComponent(model)}/${encodeURIComponent(version)}` }, version);

/** The metric names of a model's versions, in the order first seen (the card's headline first). */
function metricNames(m: SiteModel): string[] {
  const names: string[] = [];
  for (const v of m.versions) for (const k of Object.keys(v.metrics)) if (!names.includes(k)) names.push(k);
  return names;
}

function serving(m: SiteModel, version: string): string {
  return m.envs.filter((a) => a.version === version).map((a) => a.env).join(', ');
}

export function modelsView(site: SiteIndex): HTMLElement {
  const out = h('section', { 'aria-labelledby': 'models-title' }, h('h2', { id: 'models-title' }, 'Models'));
  if (site.models.length === 0) out.appendChild(h('p', {}, 'No model is registered yet: bramble register adds the first version.'));
  for (const m of site.models) {
    const names = metricNames(m);
    out.appendChild(
      h('h3', {}, m.name, ' ', h('span', { class: 'muted' }, m.task ?? ''), m.deprecated ? h('span', { class: 'bad' }, ` deprecated ${when(m.deprecated.at)} by ${m.deprecated.by.name}`) : null),
    );
    out.appendChild(
      table(
        `${m.name}: versions`,
        ['version', 'registered', 'by', 'commit', 'serving', ...names, 'notes'],
        m.versions
          .slice()
          .reverse()
          .map((v) => [
            versionLink(m.name, v.version),
            when(v.registered.at),
            v.registered.by.name,
            h('code', {}, short(v.commit)),
            serving(m, v.version),
            ...names.map((k) => fmt(v.metrics[k])),
            v.deregistered ? `deregistered ${when(v.deregistered.at)}` : v.problems.length > 0 ? h('span', { class: 'problem' }, v.problems.join('; ')) : '',
          ]),
        names.map((_, j) => j + 5),
      ),
    );
    out.appendChild(metricsByVersion(m, names));
    out.appendChild(metricServed(m, names[0]));
  }
  return out;
}

/** Each metric of each version, in the order registered. */
function metricsByVersion(m: SiteModel, names: string[]): HTMLElement {
  return chart({
    title: `${m.name}: metrics by version`,
    x: m.versions.map((_, i) => i),
    xLabels: m.versions.map((v) => v.version),
    series: names.map((k) => ({ label: k, values: m.versions.map((v) => v.metrics[k] ?? null) })),
  });
}

/** The headline metric of what each environment served, over time (a step at each assignment). */
function metricServed(m: SiteModel, metric: string | undefined): HTMLElement {
  if (metric === undefined) return h('p', { class: 'muted' }, 'No metrics recorded.');
  const byVersion = new Map(m.versions.map((v) => [v.version, v.metrics[metric] ?? null]));
  const points = m.history.map((a) => ({ x: seconds(a.at), series: a.env, y: a.version === null ? null : (byVersion.get(a.version) ?? null) }));
  const { x, series } = aligned(points);
  // A step holds until the next assignment of its environment: carry each value forward.
  for (const s of series) for (let i = 1; i < s.values.length; i++) if (s.values[i] === null && !points.some((p) => p.x === x[i] && p.series === s.label)) s.values[i] = s.values[i - 1];
  return chart({ title: `${m.name}: ${metric} of the version each environment served`, x, series, time: true, steps: true });
}

export function versionView(site: SiteIndex, name: string, version: string, card: string | undefined): HTMLElement {
  const m = site.models.find((x) => x.name === name);
  const v = m?.versions.find((x) => x.version === version);
  if (!m || !v) return h('section', {}, h('h2', {}, 'Not found'), h('p', {}, `${name}@${version} is not in this site's registry.`));
  const out = h('section', { 'aria-labelledby': 'version-title' }, h('h2', { id: 'version-title' }, `${name}@${version}`));
  for (const p of v.problems) out.appendChild(h('p', { class: 'problem' }, p));
  out.appendChild(h('h3', {}, 'Lineage'));
  out.appendChild(lineageFlow(m, v));
  out.appendChild(h('h3', {}, 'Metrics'));
  out.appendChild(table(`${name}@${version}: metrics`, ['metric', 'value'], Object.entries(v.metrics).map(([k, x]) => [k, fmt(x)]), [1]));
  out.appendChild(h('h3', {}, 'Model card'));
  const holder = h('div', { class: 'card' });
  // The builder rendered the card from Markdown with every character of its source escaped (src/ui/markdown.ts).
  if (card !== undefined) holder.innerHTML = card;
  else holder.appendChild(h('p', { class: 'muted' }, v.card ? 'Loading the card…' : 'No card.md beside this version.'));
  out.appendChild(holder);
  return out;
}

/** commit, data, params → artifact → assignments. */
function lineageFlow(m: SiteModel, v: SiteVersion): HTMLElement {
  const l = v.lineage;
  const served = m.history.filter((a) => a.version === v.version);
  const box = (title: string, lines: (string | Node)[]) => h('div', {}, h('strong', {}, title), lines.flatMap((x) => [h('br', {}), x]));
  const arrow = () => h('span', { 'aria-hidden': 'true' }, '→');
  if (l === null) return h('p', { class: 'muted' }, 'The artifact could not be read, so its lineage is unknown.');
  return h(
    'div',
    { class: 'flow' },
    box('source', [`commit ${short(l.commit, 12)}${l.dirty ? ' (uncommitted changes)' : ''}`, `at ${when(l.committedAt)}`, `folder ${l.path || '/'}`, `ml.yaml ${short(l.mlYaml, 12)}`]),
    box('data', [l.data.path, `${l.data.rows} rows × ${l.data.columns} columns`, `sha256 ${short(l.data.sha256, 12)}`, l.split]),
    box('params', [...Object.entries(l.params).map(([k, x]) => `${k} = ${x === null ? '–' : String(x)}`), `seed ${l.seed}`]),
    arrow(),
    box('artifact', [`sha256 ${short(v.artifact, 12)}`, `registered ${when(v.registered.at)} by ${v.registered.by.name}`, `tag ${v.registered.tag}`, `bramble ${l.bramble}, node ${l.node}`]),
    arrow(),
    box('assignments', served.length > 0 ? served.map((a) => `${a.env} from ${when(a.at)} by ${a.by.name}`) : ['never assigned']),
  );
}

/** Who served what where, when: a bar per environment, a segment per assignment, and the same as a table. */
export function environmentsView(site: SiteIndex, now: number): HTMLElement {
  const out = h('section', { 'aria-labelledby': 'envs-title' }, h('h2', { id: 'envs-title' }, 'Environments'));
  if (site.models.every((m) => m.history.length === 0)) out.appendChild(h('p', {}, 'No version is assigned to an environment yet: bramble promote NAME@vX.Y.Z ENV.'));
  for (const m of site.models) {
    if (m.history.length === 0) continue;
    out.appendChild(h('h3', {}, m.name));
    const start = seconds(m.history[0].at);
    const end = Math.max(now / 1000, seconds(m.history[m.history.length - 1].at) + 1);
    const envs = [...new Set(m.history.map((a) => a.env))];
    for (const env of envs) {
      const own = m.history.filter((a) => a.env === env);
      const bar = h('div', { class: 'timeline', role: 'img', 'aria-label': `${env}: ${own.map((a) => `${a.version ?? 'nothing'} from ${when(a.at)}`).join(', ')}` });
      own.forEach((a, i) => bar.appendChild(segment(a, own[i + 1], start, end, m)));
      out.appendChild(h('p', { class: 'muted' }, env));
      out.appendChild(bar);
    }
    out.appendChild(
      table(
        `${m.name}: every assignment`,
        ['when', 'environment', 'version', 'by', 'tag'],
        m.history
          .slice()
          .reverse()
          .map((a) => [when(a.at), a.env, a.version === null ? 'unassigned' : versionLink(m.name, a.version), `${a.by.name} <${a.by.email}>`, h('code', {}, a.tag)]),
      ),
    );
  }
  return out;
}

function segment(a: SiteAssignment, next: SiteAssignment | undefined, start: number, end: number, m: SiteModel): HTMLElement {
  const from = seconds(a.at);
  const to = next ? seconds(next.at) : end;
  const span = Math.max(1, end - start);
  const index = a.version === null ? -1 : m.versions.findIndex((v) => v.version === a.version);
  const div = h('div', { class: a.version === null ? 'none' : `v${index % 3}`, title: `${a.version ?? 'unassigned'} from ${when(a.at)} by ${a.by.name}` }, a.version ?? '–');
  div.style.left = `${((from - start) / span) * 100}%`;
  div.style.width = `${Math.max(0.5, ((to - from) / span) * 100)}%`;
  return div;
}

export function monitoringView(site: SiteIndex): HTMLElement {
  const out = h('section', { 'aria-labelledby': 'monitoring-title' }, h('h2', { id: 'monitoring-title' }, 'Monitoring'));
  if (site.monitoring.length === 0) out.appendChild(h('p', {}, 'No monitor run is recorded yet: bramble monitor --record writes one to the registry branch.'));
  for (const mon of site.monitoring) out.appendChild(monitoringOf(mon));
  return out;
}

function monitoringOf(mon: SiteMonitoring): HTMLElement {
  const last = mon.runs[mon.runs.length - 1];
  const out = h(
    'div',
    {},
    h('h3', {}, `${mon.name} in ${mon.env}`),
    h('p', {}, last ? h('span', { class: last.healthy ? 'good' : 'bad' }, `${last.healthy ? 'healthy' : 'alert'} at the last run, ${when(last.ranAt)}`) : 'no run', ` — ${mon.runs.length} run(s), ${mon.windows.length} window(s)`),
  );
  const drift = aligned(mon.windows.map((w) => ({ x: seconds(w.start), series: `${w.version} drifted share`, y: w.driftedShare })));
  out.appendChild(chart({ title: `${mon.name} in ${mon.env}: share of drifted input columns per window`, ...drift, time: true }));
  const metric = mon.windows.find((w) => w.metric !== null)?.metric ?? null;
  if (metric !== null) {
    const points: { x: number; series: string; y: number | null }[] = [];
    for (const w of mon.windows) {
      if (w.metric !== metric) continue;
      points.push({ x: seconds(w.start), series: `${w.version} ${metric}`, y: w.value });
      if (w.low !== null) points.push({ x: seconds(w.start), series: `${w.version} low`, y: w.low });
      if (w.high !== null) points.push({ x: seconds(w.start), series: `${w.version} high`, y: w.high });
    }
    out.appendChild(chart({ title: `${mon.name} in ${mon.env}: live ${metric} with its 95% interval`, ...aligned(points), time: true }));
  }
  const recent = mon.windows.slice(-50).reverse();
  out.appendChild(
    table(
      `${mon.name} in ${mon.env}: windows, newest first`,
      ['window', 'version', 'rows', 'status', 'drifted share', 'drifted columns', 'prediction drift', 'live metric'],
      recent.map((w) => [
        when(w.start),
        w.version,
        w.rows,
        h('span', { class: w.status === 'alert' ? 'bad' : w.status === 'healthy' ? 'good' : 'muted' }, w.status),
        fmt(w.driftedShare),
        w.drifted.join(', '),
        fmt(w.predictionDrift),
        w.metric === null ? '–' : `${w.metric} ${fmt(w.value)}${w.low !== null ? ` [${fmt(w.low)}, ${fmt(w.high)}]` : ''}${w.alert ? ' (out of bounds)' : ''}`,
      ]),
      [2, 4, 6],
    ),
  );
  return out;
}
