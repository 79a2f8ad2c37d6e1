// bramble ui build: the site's files and data from a real repository (registry, monitor run, run records), the
// card's Markdown made safe, the pages of runs, the refusals, the bundle's size, and /ui on the model host.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkServeConfig } from '../src/serve/config.js';
import { buildServer } from '../src/serve/server.js';
import { buildSite, dataFile } from '../src/ui/site.js';
import { escapeHtml, inlineHtml, markdownHtml } from '../src/ui/markdown.js';
import { runsPages } from '../src/ui/runs-pages.js';
import { SITE, type RunsPage, type SiteCards, type SiteIndex } from '../src/ui/site-types.js';
import { buildUi } from '../ui/build.mjs';
import { bramble } from './helpers/cli.js';
import { git, makeModelRepo } from './helpers/model-repo.js';
import { HOSTILE, makeSiteRepo, readData as readData0, runBody, siteFile, type SiteRepo } from './helpers/ui-site.js';
import { sealRun } from '../src/registry/runs.js';
import { readRegistryFile, REGISTRY, resolveOrNull, setRef, writeRegistryCommit } from '../src/registry/store.js';

/** A data file's value; the test fails when the file is not one loader call. */
function readData<T>(out: string, name: string): T {
  const value = readData0<T>(out, name);
  expect(value).not.toBeNull();
  return value as T;
}

const BUNDLE_LIMIT = 200 * 1024;
let assets: string;
let fixture: SiteRepo;

beforeAll(async () => {
  assets = await buildUi(mkdtempSync(join(tmpdir(), 'bramble-ui-assets-')));
  fixture = await makeSiteRepo({ runs: 25 });
}, 120_000);

describe('the Markdown of a card', () => {
  it.each([
    ['<script>alert(1)</script>', '&#60;script&#62;alert(1)&#60;/script&#62;'],
    ['<img src=x onerror="alert(1)">', '&#60;img src=x onerror=&#34;alert(1)&#34;&#62;'],
    ['**bold** and _it_', '<strong>bold</strong> and <em>it</em>'],
    ['a \\<b\\> \\| c', 'a &#60;b&#62; | c'],
    ['`<b>` code', '<code>&#60;b&#62;</code> code'],
    ['[docs](https://example.com/a?b=1&c=2)', '<a href="https://example.com/a?b=1&#38;c=2">docs</a>'],
    ['[x](javascript:alert(1))', '[x](javascript:alert(1))'],
    ['[x](javascript:alert)', 'x (javascript:alert)'],
    ['[**b**](docs/x.md)', '<a href="docs/x.md"><strong>b</strong></a>'],
  ])('inline %j → %j', (source, html) => {
    expect(inlineHtml(source)).toBe(html);
  });

  it('renders headings (from h3), tables with escaped pipes, lists, code blocks and quotes, and passes no tag through', () => {
    const html = markdownHtml(
      ['# Card <b>', '', 'Text *a*', 'on two lines.', '', '| metric | value |', '| --- | ---: |', '| a\\|b | 0.5 |', '', '- one', '- two <i>', '', '```mermaid', 'x --> <y>', '```', '', '> quoted'].join('\n'),
    );
    expect(html).toBe(
      [
        '<h3>Card &#60;b&#62;</h3>',
        '<p>Text <em>a</em> on two lines.</p>',
        '<table><thead><tr><th>metric</th><th class="num">value</th></tr></thead><tbody><tr><td>a|b</td><td class="num">0.5</td></tr></tbody></table>',
        '<ul><li>one</li><li>two &#60;i&#62;</li></ul>',
        '<pre data-lang="mermaid"><code>x --&#62; &#60;y&#62;</code></pre>',
        '<blockquote><p>quoted</p></blockquote>',
      ].join('\n'),
    );
    expect(escapeHtml(`<>&"'`)).toBe('&#60;&#62;&#38;&#34;&#39;');
  });
});

describe('bramble ui build', () => {
  let out: string;
  let site: SiteIndex;

  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), 'bramble-site-')), 'site');
    await buildSite({ dir: fixture.dir, out, assets, now: () => Date.parse('2026-12-06T08:00:00Z') });
    site = readData<SiteIndex>(out, 'site');
  }, 60_000);

  it('writes the page and the data beside it, never inlined', () => {
    expect(readdirSync(out).sort()).toEqual(['app.css', 'app.js', SITE.data, 'index.html']);
    expect(readdirSync(join(out, SITE.data)).sort()).toEqual(['cards.js', 'runs-0.js', 'site.js']);
    const html = siteFile(out, 'index.html');
    expect(html).toContain('<script src="app.js" defer></script>');
    expect(html).not.toContain('churn');
    expect(html.length).toBeLessThan(2000);
  });

  it('holds the registry: versions with metrics and lineage, environments with who and when', () => {
    expect(site).toMatchObject({ format: SITE.format, version: SITE.version, generatedAt: '2026-12-06T08:00:00.000Z', problems: [] });
    const [model] = site.models;
    expect(model.name).toBe('churn');
    expect(model.task).toBe('classification');
    expect(model.versions.map((v) => v.version)).toEqual(fixture.versions);
    const [first, second] = model.versions;
    expect(Object.keys(first.metrics)).toContain('roc_auc');
    expect(first.lineage?.params.trees).toBe(5);
    expect(second.lineage?.params.trees).toBe(7);
    expect(second.lineage?.data).toMatchObject({ path: 'data/churn.csv', rows: 7043 });
    expect(second.registered).toMatchObject({ at: '2026-11-05T09:00:00.000Z', by: { name: 'Ada Lovelace' } });
    expect(model.envs.map((a) => [a.env, a.version])).toEqual([
      ['dev', second.version],
      ['prod', second.version],
      ['staging', second.version],
    ]);
    expect(model.history.map((a) => `${a.env} ${a.version} ${a.at}`)).toEqual([
      `dev ${first.version} 2026-11-01T10:00:00.000Z`,
      `prod ${first.version} 2026-11-02T10:00:00.000Z`,
      `dev ${second.version} 2026-11-05T10:00:00.000Z`,
      `staging ${second.version} 2026-11-06T10:00:00.000Z`,
      `prod ${second.version} 2026-11-08T10:00:00.000Z`,
    ]);
  });

  it("holds each version's card as HTML made from its card.md", () => {
    const cards = readData<SiteCards>(out, 'cards');
    const card = cards[`churn@${fixture.versions[1]}`];
    expect(card).toMatch(/^<h3>/);
    expect(card).toContain('<table>');
    expect(card).not.toMatch(/<(script|img|iframe|svg)/i);
  });

  it('holds the monitor run: each window with its drift and live metric', () => {
    expect(site.monitoring).toHaveLength(1);
    const mon = site.monitoring[0];
    expect(mon).toMatchObject({ name: 'churn', env: 'prod', runs: [{ ranAt: '2026-11-20T06:00:00.000Z', healthy: false, windows: 3 }] });
    expect(mon.windows.map((w) => [w.start.slice(0, 10), w.driftedShare, w.status, w.value])).toEqual([
      ['2026-11-17', 0, 'healthy', 0.81],
      ['2026-11-18', 0.25, 'healthy', 0.79],
      ['2026-11-19', 0.75, 'alert', 0.66],
    ]);
    expect(mon.windows[2]).toMatchObject({ drifted: ['tenure', 'MonthlyCharges', 'TotalCharges'], metric: 'accuracy', alert: true });
    expect(mon.windows[2].low).toBeCloseTo(0.61, 10);
  });

  it('holds the runs newest first in columns, names the foreign line it skipped, and keeps hostile text as text', () => {
    expect(site.runs).toMatchObject({ total: 26, pages: ['runs-0'], metrics: ['accuracy', 'f1', 'roc_auc'], params: ['criterion', 'maxDepth', 'note', 'trees'] });
    expect(site.runs.skipped).toEqual([{ where: expect.stringMatching(/^bramble\/runs:runs\/2026-11\.jsonl:27 \(foreign-1\)$/), reason: expect.stringContaining('a foreign record') }]);
    const page = readData<RunsPage>(out, 'runs-0');
    expect(page.id).toHaveLength(26);
    expect(page.name[0]).toBe(HOSTILE.name);
    expect(page.branch[0]).toBe(HOSTILE.branch);
    expect(page.params.note[0]).toBe(HOSTILE.param);
    expect(page.params.note[1]).toBeNull();
    const newestFirst = page.at.slice().sort().reverse();
    expect(page.at).toEqual(newestFirst);
    const i = page.id.indexOf(fixture.records[4].id);
    expect([page.metrics.accuracy[i], page.params.trees[i], page.gate[i], page.failed[i]]).toEqual([fixture.records[4].metrics.accuracy, 50, 'failed', ['roc_auc']]);
  });

  it('builds the same from a fresh clone, which has the branches only as origin/…', async () => {
    const clone = join(mkdtempSync(join(tmpdir(), 'bramble-clone-')), 'repo');
    git(tmpdir(), 'clone', '-q', fixture.dir, clone);
    // As a CI checkout's origin is: https (never contacted: ui build fetches nothing).
    git(clone, 'remote', 'set-url', 'origin', 'https://git.example.invalid/acme/churn.git');
    expect(git(clone, 'branch', '--list', 'bramble/*')).toBe('');
    const again = join(mkdtempSync(join(tmpdir(), 'bramble-site-')), 'site');
    await buildSite({ dir: clone, out: again, assets, now: () => Date.parse('2026-12-06T08:00:00Z') });
    const cloned = readData<SiteIndex>(again, 'site');
    expect({ ...cloned, repository: site.repository }).toEqual(site);
    expect(siteFile(again, 'data/runs-0.js')).toBe(siteFile(out, 'data/runs-0.js'));
  });

  it('is served read-only at /ui/ by the model host, at its root like /metrics', async () => {
    const host = mkdtempSync(join(tmpdir(), 'bramble-ui-host-'));
    const config = checkServeConfig({ listen: { port: 0 }, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } }, ui: out }, 'serve.json', host);
    const server = await buildServer(config, { env: {}, version: 'test', warn: () => {} });
    try {
      const get = (url: string, method = 'GET') => server.inject({ url, method, remoteAddress: '203.0.113.9' });
      expect(await get('/ui')).toMatchObject({ status: 308, headers: { location: '/ui/' } });
      const index = await get('/ui/');
      expect(index).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'x-content-type-options': 'nosniff' } });
      expect(index.headers['content-security-policy']).toContain("default-src 'self'");
      expect(index.body).toBe(siteFile(out, 'index.html'));
      const data = await get('/ui/data/site.js');
      expect([data.status, data.headers['content-type'], data.body]).toEqual([200, 'text/javascript; charset=utf-8', siteFile(out, 'data/site.js')]);
      expect((await get('/ui/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
      expect(await get('/ui/', 'POST')).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD' } });
      for (const bad of ['/ui/../serve.json', '/ui/%2e%2e/serve.json', '/ui/data%2f..%2f..%2fserve.json', '/ui/a\\..\\b.js', '/ui//etc/passwd.js']) {
        expect([bad, (await get(bad)).status]).toEqual([bad, 400]);
      }
      expect((await get('/ui/data/nothing.js')).status).toBe(404);
      expect((await get('/ui/data')).status).toBe(404);
      expect(JSON.parse((await get('/ui/index.sh')).body)).toEqual({ error: 'no file /ui/index.sh in the dashboard' });
    } finally {
      await server.close();
    }
    const without = await buildServer(checkServeConfig({ listen: { port: 0 }, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } } }, 'serve.json', host), { env: {}, version: 'test', warn: () => {} });
    expect((await without.inject({ url: '/ui/' })).status).toBe(404);
    await without.close();
    expect(() => checkServeConfig({ models: 'm', environments: { ui: { path: '/ui' } } }, 'serve.json', host)).toThrow('serve.json environments.ui.path: /ui is the server');
  });

  it('builds again over its own site, and the CLI refuses a folder of other files or a missing subcommand', () => {
    const again = bramble(['ui', 'build', fixture.dir, '--out', out, '--json']);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ models: 1, versions: 2, runs: 26, pages: 1, monitoring: 1 });
    const other = mkdtempSync(join(tmpdir(), 'bramble-other-'));
    writeFileSync(join(other, 'thesis.tex'), 'mine');
    const refused = bramble(['ui', 'build', fixture.dir, '--out', other]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`--out ${other} is a folder with other files in it (no data/site.js of an earlier site); give a new or empty folder`);
    expect(readFileSync(join(other, 'thesis.tex'), 'utf8')).toBe('mine');
    const noVerb = bramble(['ui', fixture.dir, '--out', out]);
    expect(noVerb.status).toBe(2);
    expect(noVerb.stderr).toContain(`bramble ui takes the subcommand build (got ${JSON.stringify(fixture.dir)})`);
  });
});

describe('a repository with nothing to show yet', () => {
  it('builds a site that says so, and outside a repository the CLI says where to start (exit 2)', async () => {
    const dir = makeModelRepo({ trees: 5 });
    const out = join(mkdtempSync(join(tmpdir(), 'bramble-site-')), 'site');
    const built = await buildSite({ dir, out, assets });
    expect(built).toMatchObject({ models: 0, versions: 0, runs: 0, pages: 0, monitoring: 0, skipped: [], problems: [] });
    expect(readData<SiteIndex>(out, 'site')).toMatchObject({ registryHead: null, runsHead: null, models: [], monitoring: [], runs: { total: 0, pages: [] } });
    expect(readdirSync(join(out, SITE.data)).sort()).toEqual(['cards.js', 'site.js']);
    const nowhere = mkdtempSync(join(tmpdir(), 'bramble-nogit-'));
    const refused = bramble(['ui', 'build', nowhere, '--out', join(nowhere, 'site')]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`${nowhere} is not inside a git repository`);
  });
});

describe('a registry that cannot be trusted', () => {
  it('lists a version whose model.json was replaced after registration, and skips a monitor file that is not a result, each problem said', async () => {
    const [first, second] = fixture.versions;
    const head = await resolveOrNull(fixture.repo, REGISTRY.ref);
    const other = await readRegistryFile(fixture.repo, head as string, `churn/${second}/model.json`);
    const files = new Map([
      [`churn/${first}/model.json`, other as Uint8Array],
      ['churn/monitoring/prod/runs/2026-11-21T06-00-00.000Z.json', new TextEncoder().encode('{"format":"evidently-report"}\n')],
    ]);
    const commit = await writeRegistryCommit(fixture.repo, head, files, 'replace', {
      name: 'Mallory',
      email: 'm@example.com',
      timestamp: 1_800_000_000,
      timezoneOffset: 0,
    });
    await setRef(fixture.repo, REGISTRY.ref, commit);
    const out = join(mkdtempSync(join(tmpdir(), 'bramble-site-')), 'site');
    await buildSite({ dir: fixture.dir, out, assets });
    const site = readData<SiteIndex>(out, 'site');
    expect(site.problems).toEqual(['bramble/registry:churn/monitoring/prod/runs/2026-11-21T06-00-00.000Z.json is not a bramble-monitor result; skipped']);
    expect(site.monitoring[0].runs).toHaveLength(1);
    const [model] = site.models;
    expect(model.versions.map((v) => v.version)).toEqual([first, second]);
    expect(model.versions[0].lineage).toBeNull();
    expect(model.versions[0].problems).toEqual([expect.stringMatching(new RegExp(`^bramble/registry:churn/${first.replaceAll('.', '\\.')}/model\\.json has sha256 [0-9a-f]{64}, but the tag churn@${first.replaceAll('.', '\\.')} records [0-9a-f]{64}; the file was replaced after registration`))]);
    expect(model.versions[1].problems).toEqual([]);
  });
});

describe('runs in pages', () => {
  it('cuts 25 runs into pages of 10, every page with every column', () => {
    const records = Array.from({ length: 25 }, (_, i) => sealRun(runBody(i, i === 3 ? { metrics: { accuracy: 0.5, brier: 0.2 } } : {})));
    const { columns, pages } = runsPages(records, 10);
    expect(columns.metrics).toEqual(['accuracy', 'brier', 'f1', 'roc_auc']);
    expect(pages.map((p) => p.id.length)).toEqual([10, 10, 5]);
    for (const page of pages) expect(Object.keys(page.metrics)).toEqual(columns.metrics);
    expect(pages[0].metrics.brier).toEqual([null, null, null, 0.2, null, null, null, null, null, null]);
    expect(pages[0].params.maxDepth.slice(0, 2)).toEqual([null, 8]);
  });

  it('rebuilt with fewer pages, leaves none of the old ones', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'bramble-site-')), 'site');
    await buildSite({ dir: fixture.dir, out, assets, pageRows: 10 });
    expect(readdirSync(join(out, SITE.data)).sort()).toEqual(['cards.js', 'runs-0.js', 'runs-1.js', 'runs-2.js', 'site.js']);
    expect(readData<RunsPage>(out, 'runs-2').id).toHaveLength(6);
    await buildSite({ dir: fixture.dir, out, assets, pageRows: 20 });
    expect(readdirSync(out).sort()).toEqual(['app.css', 'app.js', SITE.data, 'index.html']);
    expect(readdirSync(join(out, SITE.data)).sort()).toEqual(['cards.js', 'runs-0.js', 'runs-1.js', 'site.js']);
    expect(readData<SiteIndex>(out, 'site').runs.pages).toEqual(['runs-0', 'runs-1']);
  });

  it('writes a data file whose argument is exactly the JSON', () => {
    const value = { a: '</script><script>x()</script>', b: '\u2028' };
    const text = dataFile('x', value);
    expect(text).toBe(`BRAMBLE_SITE("x",${JSON.stringify(value)});\n`);
    let seen: unknown = null;
    new Function(SITE.loader, text)((_name: string, v: unknown) => {
      seen = v;
    });
    expect(seen).toEqual(value);
  });
});

describe('the page', () => {
  it(`is at most ${BUNDLE_LIMIT / 1024} KB gzipped, uPlot included`, () => {
    let total = 0;
    for (const asset of SITE.assets) total += gzipSync(readFileSync(join(assets, asset)), { level: 9 }).length;
    expect(total).toBeLessThan(BUNDLE_LIMIT);
    expect(readFileSync(join(assets, 'app.js'), 'utf8')).toContain('uplot');
  });

  it('type-checks against the DOM (ui/tsconfig.json)', () => {
    const run = () => execFileSync(process.execPath, [join(import.meta.dirname, '../node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(import.meta.dirname, '../ui')], { encoding: 'utf8' });
    expect(run()).toBe('');
  }, 60_000);
});
