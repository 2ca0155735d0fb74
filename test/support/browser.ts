// Real Chromium for page tests: Debian's /usr/bin/chromium driven by playwright-core (which downloads no browser).
// See ../shared/notes/components.md (Browser). Without either, suites skip with a one-line reason — except under
// CI=true, where .ci/run installs chromium and a skip would hide a test.
import { accessSync, constants as fsConstants } from 'node:fs';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { skipWhenMissing } from './helpers.js';

export const CHROMIUM = process.env.VISOR_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

type Playwright = typeof import('playwright-core');

async function loadPlaywright(): Promise<Playwright | undefined> {
  try {
    return await import('playwright-core');
  } catch {
    return undefined;
  }
}

/** In a `before` hook: skip the suite (one-line reason) when Chromium or playwright-core is missing, else launch. */
export async function requireChromium(ctx: Mocha.Context): Promise<Browser> {
  let missing: string | undefined;
  try {
    accessSync(CHROMIUM, fsConstants.X_OK);
  } catch {
    missing = `chromium not found at ${CHROMIUM} (apt install chromium)`;
  }
  const pw = missing ? undefined : await loadPlaywright();
  if (!missing && !pw) missing = 'playwright-core is not installed (npm install)';
  skipWhenMissing(ctx, missing);
  return pw!.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface PageProblems {
  /** Console messages of type error, and uncaught page errors. */
  errors: string[];
  /** Every request the page made (URL), to check what it loaded. */
  requests: string[];
}

/** Collect console errors, page errors and requests of a page. */
export function watchPage(page: Page): PageProblems {
  const problems: PageProblems = { errors: [], requests: [] };
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') problems.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.errors.push(`pageerror: ${err.message}`));
  page.on('request', (r) => problems.requests.push(r.url()));
  return problems;
}

/** How many pixels of each chart canvas are drawn in colour (0: only grey axes and grid, or nothing; -1: no canvas).
 * Page code is passed as text: the tests' TypeScript has no DOM types, and tsx's helpers do not exist in the page. */
export async function chartInk(page: Page): Promise<Record<string, number>> {
  return page.evaluate(`(() => {
    const out = {};
    for (const el of document.querySelectorAll('[data-test^="chart-"]')) {
      const canvas = el.querySelector('canvas');
      if (!canvas) { out[el.dataset.test] = -1; continue; }
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 40) continue;
        const max = Math.max(data[i], data[i + 1], data[i + 2]);
        const min = Math.min(data[i], data[i + 1], data[i + 2]);
        if (max - min > 70) ink++;
      }
      out[el.dataset.test] = ink;
    }
    return out;
  })()`);
}

/** The attacks panel's timeline chart as drawn: its bins (start, epoch ms) and, per severity class, each bin's count
 * (the chart holds running sums, top layer first: the counts are their differences), its coloured pixels, and the
 * bin width the card's title names. */
export async function attackTimeline(page: Page): Promise<{ title: string; bins: number[]; counts: Record<string, number[]>; ink: number }> {
  const ink = (await chartInk(page))['chart-attacks'] ?? -1;
  const drawn = (await page.evaluate(`(() => {
    const u = window.visorDashboard.charts.attacks;
    return { labels: u.series.slice(1).map((s) => s.label), data: u.data.map((d) => Array.from(d)),
      title: document.querySelector('[data-test="attack-timeline-title"]').textContent };
  })()`)) as { labels: string[]; data: number[][]; title: string };
  const [x, ...sums] = drawn.data;
  const counts: Record<string, number[]> = {};
  drawn.labels.forEach((label, k) => (counts[label] = sums[k]!.map((v, i) => v - (k + 1 < sums.length ? sums[k + 1]![i]! : 0))));
  return { title: drawn.title, bins: x!.map((s) => s * 1000), counts, ink };
}

/** The attacks chart's legend with the mouse over bin `i` (what a user hovering it reads): label -> text. */
export async function attackLegendAt(page: Page, i: number): Promise<Record<string, string>> {
  await page.locator('[data-test="chart-attacks"]').scrollIntoViewIfNeeded();
  const at = (await page.evaluate(`(() => {
    const u = window.visorDashboard.charts.attacks;
    const r = u.over.getBoundingClientRect();
    const x0 = u.data[0][${i}], x1 = u.data[0][${i} + 1] ?? x0 + (u.scales.x.max - u.data[0][u.data[0].length - 1]);
    return { x: r.left + u.valToPos((x0 + x1) / 2, 'x'), y: r.top + r.height / 2 };
  })()`)) as { x: number; y: number };
  await page.mouse.move(at.x, at.y);
  return (await page.evaluate(`(() => {
    const out = {};
    for (const row of document.querySelectorAll('[data-test="chart-attacks"] .u-legend .u-series')) {
      const label = row.querySelector('.u-label'), value = row.querySelector('.u-value');
      if (label && value) out[label.textContent] = value.textContent;
    }
    return out;
  })()`)) as Record<string, string>;
}

/** Wait until the dashboard page has rendered a history view newer than number `n` (its body's data-history), and
 * return that view's number; `what` names the view in the error (with the page's reason when it has one). */
export async function historyView(page: Page, n: number, what: string): Promise<number> {
  try {
    // A function, not a string: the page's Content-Security-Policy forbids evaluating strings.
    // (The function runs in the page, serialised: it names nothing of this module. The tests' types have no DOM.)
    await page.waitForFunction((k) => { const d = (globalThis as any).document; return Number(d.body.dataset.history) > k && d.body.dataset.view === 'history'; }, n, { timeout: 10_000 });
  } catch (err) {
    throw new Error(`${what}: ${(await page.textContent('[data-test="history-unavailable"]'))} ${(err as Error).message}`);
  }
  return Number(await page.getAttribute('body', 'data-history'));
}
