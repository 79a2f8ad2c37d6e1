// The dashboard in a real browser: Debian's chromium driven by playwright-core, the site built by `bramble ui
// build` from a real repository and opened from file:// and from the model host's /ui/. Each view loads without a
// console error, draws its tables and charts (screenshots in test-output/ui/), passes axe-core with no serious or
// critical violation; two runs selected show their differences; the keyboard reaches and works the table; names
// with HTML in them stay text; 100,000 runs load page by page with the table drawn and sortable throughout.
//
// axe-core runs with preload off: it would fetch the stylesheets with XMLHttpRequest, which file:// refuses.
//
// Without chromium the tests are skipped with the reason, except in CI (CI=true), where that is a failure:
// .ci/run installs chromium first.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkServeConfig } from '../src/serve/config.js';
import { startServer, type RunningServer } from '../src/serve/server.js';
import { buildSite } from '../src/ui/site.js';
import { buildUi } from '../ui/build.mjs';
import { fillRuns, HOSTILE, makeSiteRepo, type SiteRepo } from './helpers/ui-site.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const MISSING = 'chromium is not installed (apt-get install -y chromium; .ci/run installs it)';
if (CHROMIUM === undefined && process.env.CI === 'true') throw new Error(`${MISSING}: CI must run the browser tests`);

export const SCREENSHOTS = join(import.meta.dirname, '../test-output/ui');
const AXE = readFileSync(join(import.meta.dirname, '../node_modules/axe-core/axe.min.js'), 'utf8');

let browser: Browser;
let fixture: SiteRepo;
let assets: string;
let out: string;

/** A page that records every console error and uncaught exception. */
async function open(url: string, size = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: size });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

/** axe-core's serious and critical violations on the page as it is now, as "rule: target" lines. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(c: Document, o: object): Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'], preload: false });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.targets.slice(0, 3).join(', ')}`);
}

/** The view as it is now: a full-page screenshot kept, then no serious axe violation and no console error; closed. */
async function checked(page: Page, errors: string[], name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  expect(await axeViolations(page)).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
}

describe.skipIf(CHROMIUM === undefined)(`the dashboard in chromium${CHROMIUM === undefined ? ` (skipped: ${MISSING})` : ''}`, () => {
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    assets = await buildUi(mkdtempSync(join(tmpdir(), 'bramble-ui-assets-')));
    fixture = await makeSiteRepo({ runs: 60 });
    out = join(mkdtempSync(join(tmpdir(), 'bramble-site-')), 'site');
    await buildSite({ dir: fixture.dir, out, assets, now: () => Date.parse('2026-12-06T08:00:00Z') });
    browser = await chromium.launch({ executablePath: CHROMIUM });
  }, 180_000);
  afterAll(async () => browser?.close());

  const url = (hash: string) => `${pathToFileURL(join(out, 'index.html')).href}#${hash}`;

  it('models: versions with metrics, charts drawn, from file://, without console errors or serious axe violations', async () => {
    const { page, errors } = await open(url('models'));
    await page.waitForSelector('#models-title');
    const rows = await page.$$eval('main table:not(.u-legend) tbody tr', (trs) => trs.map((tr) => (tr.querySelector('td')?.textContent ?? '').trim()));
    expect(rows).toEqual(fixture.versions.slice().reverse());
    expect(await page.locator('main .uplot canvas').count()).toBe(2);
    expect(await page.textContent('#repository')).toBe(fixture.dir.split('/').pop());
    await checked(page, errors, 'models');
  });

  it('a version: its lineage from commit and data to assignments, and its card', async () => {
    const { page, errors } = await open(url(`model/churn/${fixture.versions[1]}`));
    await page.waitForSelector('.card h3');
    const flow = await page.textContent('.flow');
    expect(flow).toContain('data/churn.csv');
    expect(flow).toContain('7043 rows');
    expect(flow).toContain('trees = 7');
    expect(flow).toMatch(/prod from 2026-11-08 10:00 by Ada Lovelace/);
    expect(await page.locator('.card table').count()).toBeGreaterThan(0);
    await checked(page, errors, 'version');
  });

  it('environments: a timeline per environment and every assignment with who and when', async () => {
    const { page, errors } = await open(url('environments'));
    await page.waitForSelector('#envs-title');
    const bars = await page.$$eval('.timeline', (els) => els.map((el) => el.getAttribute('aria-label')));
    expect(bars).toEqual([
      `dev: ${fixture.versions[0]} from 2026-11-01 10:00, ${fixture.versions[1]} from 2026-11-05 10:00`,
      `prod: ${fixture.versions[0]} from 2026-11-02 10:00, ${fixture.versions[1]} from 2026-11-08 10:00`,
      `staging: ${fixture.versions[1]} from 2026-11-06 10:00`,
    ]);
    expect(await page.locator('main table:not(.u-legend) tbody tr').count()).toBe(5);
    await checked(page, errors, 'environments');
  });

  it('monitoring: drift and the live metric over time, the alert said', async () => {
    const { page, errors } = await open(url('monitoring'));
    await page.waitForSelector('#monitoring-title');
    expect(await page.textContent('main h3')).toBe('churn in prod');
    expect(await page.textContent('main .bad')).toBe('alert at the last run, 2026-11-20 06:00');
    expect(await page.locator('main .uplot canvas').count()).toBe(2);
    expect(await page.locator('main table:not(.u-legend) tbody tr').count()).toBe(3);
    await checked(page, errors, 'monitoring');
  });

  it('experiments: the table, two runs selected show their differences, hostile names stay text', async () => {
    const { page, errors } = await open(url('experiments'));
    await page.waitForSelector('#runs-scroll tr.run');
    expect(await page.textContent('#runs-count')).toBe('61 of 61 run(s)');
    // The newest run is the one named with HTML: shown as written, run as nothing.
    const first = page.locator('#runs-scroll tr.run').first();
    expect(await first.locator('td').nth(2).textContent()).toBe(HOSTILE.name);
    expect(await first.locator('td').nth(3).textContent()).toBe(HOSTILE.branch);
    // Markdown in a value is not rendered either: the parameter shows its asterisks and its tag as typed.
    expect(await page.evaluate((t) => Array.from(document.querySelectorAll('#runs-scroll td')).some((td) => td.textContent === t), HOSTILE.param)).toBe(true);
    expect(await page.locator('#runs-scroll strong, #runs-scroll b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('#runs-scroll img, #runs-scroll svg, #runs-scroll script').count()).toBe(0);
    await page.fill('#runs-filter', 'onload');
    await page.waitForFunction(() => document.getElementById('runs-count')?.textContent === '1 of 61 run(s)');
    expect(await page.locator('#runs-scroll tr.run').count()).toBe(1);
    await page.fill('#runs-filter', '');
    await page.selectOption('#runs-model', 'churn');
    await page.waitForFunction(() => document.getElementById('runs-count')?.textContent === '60 of 61 run(s)');
    await page.selectOption('#runs-model', '');
    await page.waitForFunction(() => document.getElementById('runs-count')?.textContent === '61 of 61 run(s)');
    await page.locator('#runs-scroll tr.run').nth(1).click();
    await page.locator('#runs-scroll tr.run').nth(2).click();
    await page.waitForSelector('#compare-table');
    const header = await page.$$eval('#compare-table thead th', (ths) => ths.map((th) => th.textContent));
    expect(header.slice(1)).toEqual([fixture.records[59].id, fixture.records[58].id]);
    const changed = await page.$$eval('#compare-table tr.changed th', (ths) => ths.map((th) => th.firstChild?.textContent));
    expect(changed).toEqual(['when', 'commit', 'seconds', 'param maxDepth', 'param trees', 'accuracy', 'f1', 'roc_auc']);
    expect(await page.locator('#compare .uplot canvas').count()).toBe(1);
    await checked(page, errors, 'experiments');
  });

  it('keyboard: Tab reaches the sort buttons, Enter sorts, arrows move through the rows, Space selects', async () => {
    const { page, errors } = await open(url('experiments'));
    await page.waitForSelector('#runs-scroll tr.run');
    let focused = '';
    for (let i = 0; i < 30 && focused !== 'm:accuracy'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.getAttribute('data-key') ?? '');
    }
    expect(focused).toBe('m:accuracy');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('th:has(button[data-key="m:accuracy"])', 'aria-sort')).toBe('descending');
    const accuracy = await page.$$eval('#runs-scroll tr.run', (trs) => trs.slice(0, 5).map((tr) => Number(tr.querySelector('td.num')?.textContent)));
    expect(accuracy).toEqual(accuracy.slice().sort((a, b) => b - a));
    // Past the other sort buttons to the table's rows: the current row is the one stop.
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.classList.contains('run') ?? false)) break;
    }
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-rowindex'))).toBe('2');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-rowindex'))).toBe('4');
    await page.keyboard.press(' ');
    await page.keyboard.press('End');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-rowindex'))).toBe('62');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#compare-table');
    expect(await page.locator('#compare-table thead th').count()).toBe(3);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('is served by bramble serve at /ui/ under its content security policy, with the same page', async () => {
    const host = mkdtempSync(join(tmpdir(), 'bramble-ui-host-'));
    const config = checkServeConfig({ listen: { host: '127.0.0.1', port: 0 }, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } }, ui: out }, 'serve.json', host);
    const server: RunningServer = await startServer(config, { env: {}, version: 'test', warn: () => {} });
    try {
      const { page, errors } = await open(`${server.url}/ui#monitoring`);
      await page.waitForSelector('#monitoring-title');
      expect(page.url()).toBe(`${server.url}/ui/#monitoring`);
      expect(await page.locator('main .uplot canvas').count()).toBe(2);
      await page.goto(`${server.url}/ui/#experiments`);
      await page.waitForSelector('#runs-scroll tr.run');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  });

  it('a data file missing or not one: the page says which and what to do, instead of waiting forever', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'bramble-site-broken-')), 'site');
    await buildSite({ dir: fixture.dir, out: broken, assets });
    rmSync(join(broken, 'data', 'runs-0.js'));
    writeFileSync(join(broken, 'data', 'cards.js'), 'window.somethingElse = 1;\n');
    const missing = await open(`${pathToFileURL(join(broken, 'index.html')).href}#experiments`);
    await missing.page.waitForSelector('[role=alert]');
    expect(await missing.page.textContent('[role=alert]')).toBe('data/runs-0.js could not be loaded; build the site again with bramble ui build');
    await missing.page.close();
    const foreign = await open(`${pathToFileURL(join(broken, 'index.html')).href}#model/churn/${fixture.versions[0]}`);
    await foreign.page.waitForSelector('[role=alert]');
    expect(await foreign.page.textContent('[role=alert]')).toBe('data/cards.js is not a data file of this page; build the site again with bramble ui build');
    expect(foreign.errors).toEqual([]);
    await foreign.page.close();
  });

  it('100,000 runs: loaded page by page, the table drawn from the first page, only the rows in view, sortable', async () => {
    const big = join(mkdtempSync(join(tmpdir(), 'bramble-site-big-')), 'site');
    await buildSite({ dir: fixture.dir, out: big, assets });
    fillRuns(big, 100_000);
    const { page, errors } = await open(`${pathToFileURL(join(big, 'index.html')).href}#experiments`);
    await page.evaluate(() => {
      const w = window as unknown as { __longest: number };
      w.__longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longest = Math.max(w.__longest, e.duration);
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.waitForSelector('#runs-scroll tr.run');
    await page.waitForFunction(() => document.getElementById('runs-count')?.textContent === '100000 of 100000 run(s)', undefined, { timeout: 60_000 });
    expect(await page.locator('#runs-scroll tr.run').count()).toBeLessThan(80);
    expect(await page.getAttribute('#runs-scroll table', 'aria-rowcount')).toBe('100001');
    await page.click('button[data-key="m:roc_auc"]');
    const sorts = await page.evaluate(() => performance.getEntriesByName('bramble:sort').map((e) => e.duration));
    expect(sorts).toHaveLength(1);
    expect(sorts[0]).toBeLessThan(1500);
    await page.evaluate(() => {
      const s = document.getElementById('runs-scroll') as HTMLElement;
      s.scrollTop = s.scrollHeight;
    });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#runs-scroll tr.run')).pop()?.getAttribute('aria-rowindex') === '100001');
    const longest = await page.evaluate(() => (window as unknown as { __longest: number }).__longest);
    expect(longest).toBeLessThan(3000);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
