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
