// The dashboard output in real Chromium: a known seeded set of access, error-log and alert events goes through a
// real pipeline (apache_access, apache_error, alert) into the dashboard; the figures the page shows must equal a
// brute-force count of what the parsers produced. Also: charts draw, updates arrive, the token is enforced,
// several tabs, no console errors, /api/state, a screenshot for the README, and the static report of the model.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { Event, PluginContext } from '../core/index.js';
import { DashboardModel, renderStaticHtml, trimSeries, type DashboardState } from '../lib/dashboard/index.js';
import { atOrAbove, bySeverity, messageTemplate } from '../lib/stats/index.js';
import dashboardPlugin from '../plugins/outputs/dashboard/index.js';
import { chartInk, requireChromium, watchPage } from './support/browser.js';
import { rng } from './bench/apache-lines.js';
import { freePort, ROOT, tempDir } from './support/helpers.js';
import { startPipeline, type Harness } from './support/pipeline-harness.js';

/** Sends `events` through the test_script input `id` of `h`, in batches of 200, without waiting for them. */
function push(h: Harness, id: string, events: Event[]): void {
  for (let i = 0; i < events.length; i += 200) void h.script(id).send(events.slice(i, i + 200));
}

// ---------- seeded traffic ----------
const CLIENTS = Array.from({ length: 40 }, (_, i) => (i % 2 ? `198.51.100.${i + 7}` : `203.0.113.${i + 20}`));
const PATHS = ['/', '/index.html', '/api/orders', '/api/users', '/login', '/static/app.js', '/static/app.css', '/images/logo.png',
  '/search?q=x', '/cart', '/checkout', '/api/health', '/blog/2026/11/hello', '/favicon.ico', '/robots.txt', '/admin'];
const MESSAGES = [
  'File does not exist: /var/www/html/wp-login.php',
  'client denied by server configuration: /var/www/html/.git',
  'AH01630: client denied by server configuration',
  'script timed out before returning headers: app.cgi',
  'proxy: error reading status line from remote server 127.0.0.1:8080',
  'Cannot serve directory /var/www/html/uploads/: No matching DirectoryIndex',
];
const LEVELS = ['error', 'error', 'warn', 'notice', 'crit'];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const p2 = (n: number) => String(n).padStart(2, '0');
/** Apache access-log time (UTC) of epoch ms. */
const accessTime = (ms: number) => { const d = new Date(ms); return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`; };
/** Apache error-log time (the error log has no zone: the agent reads it as local time, UTC on the test machines unless TZ says otherwise). */
const errorTime = (ms: number) => { const d = new Date(ms); return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.123456 ${d.getFullYear()}`; };

/** `n` seeded access lines; their times: within the 4 minutes before `recent` (the live dashboard charts and
 * counts by event time), or, without it, over an hour of 25 Nov 2026. */
function accessLines(seed: number, n: number, recent?: number): string[] {
  const rnd = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const client = CLIENTS[Math.floor(rnd() ** 2 * CLIENTS.length)]!;
    const p = PATHS[Math.floor(rnd() ** 1.5 * PATHS.length)]!;
    const r = rnd();
    const status = r < 0.62 ? 200 : r < 0.7 ? 304 : r < 0.8 ? 404 : r < 0.84 ? 301 : r < 0.92 ? 500 : r < 0.97 ? 503 : 502;
    const bytes = Math.floor(rnd() * 40000);
    const time = recent === undefined ? `25/Nov/2026:10:${String(i % 60).padStart(2, '0')}:00 +0000` : accessTime(recent - (i % 240) * 1000);
    lines.push(`${client} - - [${time}] "GET ${p} HTTP/1.1" ${status} ${bytes} "-" "Mozilla/5.0 (X11; Linux x86_64) test"`);
  }
  return lines;
}
function errorLines(seed: number, n: number, recent?: number): string[] {
  const rnd = rng(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const level = LEVELS[Math.floor(rnd() * LEVELS.length)]!;
    const msg = MESSAGES[Math.floor(rnd() ** 2 * MESSAGES.length)]!;
    const time = recent === undefined ? `Wed Nov 25 10:00:${String(i % 60).padStart(2, '0')}.123456 2026` : errorTime(recent - (i % 240) * 1000);
    lines.push(`[${time}] [core:${level}] [pid 7:tid 8] [client 203.0.113.9:5555] ${msg}`);
  }
  return lines;
}
const toEvents = (lines: string[]): Event[] => lines.map((message) => ({ message }));

// ---------- brute force ----------
interface Expected {
  requests: number;
  errors: number;
  bytes: number;
  errorLogLines: number;
  top: Record<'clients' | 'paths' | 'error_clients', Array<{ value: string; count: number }>>;
  /** The error-log lines. */
  logLines: Event[];
}
function topOf(values: string[], n: number) {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n).map(([value, count]) => ({ value, count }));
}
function bruteForce(access: Event[], errors: Event[], n = 10): Expected {
  const requests = access.filter((e) => typeof e.status === 'number');
  const fivexx = requests.filter((e) => (e.status as number) >= 500 && (e.status as number) < 600);
  const logLines = errors.filter((e) => typeof e.level === 'string' && e.level);
  return {
    requests: requests.length,
    errors: fivexx.length,
    bytes: requests.reduce((s, e) => s + (typeof e.bytes === 'number' ? e.bytes : 0), 0),
    errorLogLines: logLines.length,
    top: {
      clients: topOf(requests.map((e) => e.client_ip as string), n),
      paths: topOf(requests.map((e) => e.path as string).filter(Boolean), n),
      error_clients: topOf(fivexx.map((e) => e.client_ip as string), n),
    },
    logLines,
  };
}

/** The message templates of the lines at or above `threshold`, recounted: [{value, count, level}], top n. */
function messagesAtOrAbove(lines: Event[], threshold: string, n = 10) {
  const m = new Map<string, { value: string; count: number; level: string }>();
  for (const e of lines) {
    if (!atOrAbove(String(e.level), threshold) || typeof e.message_text !== 'string' || !e.message_text) continue;
    const value = (typeof e.error_code === 'string' ? `${e.error_code}: ` : '') + messageTemplate(e.message_text);
    const k = `${e.level}\u0000${value}`;
    const had = m.get(k);
    if (had) had.count++;
    else m.set(k, { value, count: 1, level: String(e.level) });
  }
  return [...m.values()].sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : bySeverity(a.level, b.level))).slice(0, n);
}
/** Lines per level, most severe first. */
function levelCounts(lines: Event[]): Record<string, number> {
  const m = new Map<string, number>();
  for (const e of lines) m.set(String(e.level), (m.get(String(e.level)) ?? 0) + 1);
  return Object.fromEntries([...m].sort((a, b) => bySeverity(a[0], b[0])));
}
const messageRows = (page: Page): Promise<Array<{ value: string; count: number; level: string }>> =>
  page.evaluate(`[...document.querySelectorAll('[data-test="row-error_messages"]')].map((r) => ({ value: r.dataset.value, count: Number(r.dataset.count), level: r.dataset.level }))`);

// ---------- page helpers (page code as text: no DOM types here, no tsx helpers there) ----------
const kpi = async (page: Page, id: string) => Number(await page.getAttribute(`[data-test="kpi-${id}"]`, 'data-value'));
const kpiText = (page: Page, id: string) => page.textContent(`[data-test="kpi-${id}"]`);
const tableRows = (page: Page, table: string): Promise<Array<{ value: string; count: number }>> =>
  page.evaluate(`[...document.querySelectorAll('[data-test="row-${table}"]')].map((r) => ({ value: r.dataset.value, count: Number(r.dataset.count) }))`);
// Polled from here: the page's Content-Security-Policy forbids the eval that waitForFunction(string) uses.
const waitKpi = (page: Page, id: string, value: number, timeout = 15000) =>
  waitFor(async () => (await page.getAttribute(`[data-test="kpi-${id}"]`, 'data-value')) === String(value), timeout, `kpi ${id} = ${value}`);

async function waitFor(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TOKEN = 'dashboard-test-token-6d1f';
/** Write the README's docs/dashboard.png (with its 23 s of history) instead of a temporary screenshot. */
const DOCS_SCREENSHOT = process.env.VISOR_DOCS_SCREENSHOT === '1';

describe('dashboard output', function () {
  this.timeout(90_000);
  let browser: Browser;
  before(async function () {
    browser = await requireChromium(this);
  });
  after(async () => browser?.close());

  describe('live, fed a known seeded set through a real pipeline', () => {
    let harness: Harness;
    let base: string;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const garbage = ['not an access line', 'GET / oops', ''].filter(Boolean);

    before(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      harness = await startPipeline(`
inputs:
  access_src: { type: test_script }
  error_src: { type: test_script }
  alert_src: { type: test_script }
filters:
  access: { type: apache_access, inputs: [access_src], format: combined }
  errors: { type: apache_error, inputs: [error_src] }
aggregates:
  alerts:
    type: alert
    inputs: [access, errors]
    rules:
      - { name: server-error, when: 'status >= 500', cooldown: 10m, severity: warning }
      - { name: error-log, when: 'level == "crit"', cooldown: 10m, severity: critical }
outputs:
  dash:
    type: dashboard
    inputs: [access, access._unparsed, errors, alerts, alert_src]
    listen: 127.0.0.1:${port}
    token: ${TOKEN}
    title: web01 test
    update_every: 250ms
    max_clients: 5
  seen_access: { type: test_record, inputs: [access] }
  seen_errors: { type: test_record, inputs: [errors] }
  seen_alerts: { type: test_record, inputs: [alerts] }
  seen_unparsed: { type: test_record, inputs: [access._unparsed] }
`);
      push(harness, 'access_src', toEvents([...accessLines(42, 3000, Date.now()), ...garbage]));
      push(harness, 'error_src', toEvents(errorLines(43, 250, Date.now())));
      push(harness, 'alert_src', [{ name: 'disk-full', severity: 'critical', kind: 'threshold', state: 'firing', message: '[critical] disk-full: /var 97%', time: Date.now(), value: 0.97 }]);
      await waitFor(() => harness.probe('seen_access').written.length === 3000 && harness.probe('seen_errors').written.length === 250 && harness.probe('seen_alerts').written.length >= 2, 20_000, 'the seeded events to be parsed');
      // The dashboard has absorbed them all once its state says so (and the charts' last complete second holds them).
      await waitFor(async () => {
        const s = (await (await fetch(`${base}/api/state`, { headers: auth })).json()) as DashboardState;
        // (and its health sample, taken once per tick, has seen the parser's counters since)
        return s.totals.requests === 3000 && s.totals.error_log_lines === 250 && s.series.requests.reduce((a, b) => a + b, 0) === 3000
          && s.health?.find((r) => r.id === 'access')?.unparsed === garbage.length;
      }, 20_000, 'the dashboard to absorb every event');
    });
    after(async () => harness?.pipeline.stop(5000));

    it('/api/state equals a brute-force count of the parsed events (totals, series, top lists, alerts, health)', async () => {
      const expected = bruteForce(harness.probe('seen_access').written, harness.probe('seen_errors').written);
      const res = await fetch(`${base}/api/state`, { headers: auth });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const s = (await res.json()) as DashboardState;
      assert.equal(s.title, 'web01 test');
      assert.equal(s.totals.requests, expected.requests);
      assert.equal(s.totals.errors, expected.errors);
      assert.equal(s.totals.error_rate, expected.errors / expected.requests);
      assert.equal(s.totals.bytes, expected.bytes);
      assert.equal(s.totals.error_log_lines, expected.errorLogLines);
      assert.deepEqual({ clients: s.top.clients, paths: s.top.paths, error_clients: s.top.error_clients }, expected.top);
      // Error log: every level counted; templates per level (the page filters them), each with a sample of its own.
      assert.deepEqual(s.error_log!.levels, levelCounts(expected.logLines));
      assert.equal(s.error_log!.message_level, 'warn');
      for (const level of Object.keys(s.error_log!.levels)) {
        const shown = s.top.error_messages.filter((m) => m.level === level).map(({ value, count, level: l }) => ({ value, count, level: l }));
        assert.deepEqual(shown, messagesAtOrAbove(expected.logLines.filter((e) => e.level === level), level), `templates of ${level}`);
      }
      for (const m of s.top.error_messages) {
        assert.ok(expected.logLines.some((e) => e.level === m.level && `${e.error_code ? `${e.error_code}: ` : ''}${e.message_text}` === m.sample), `a sample of ${m.value} as logged`);
        assert.equal(messageTemplate(m.sample!), m.value, 'the sample is a message of its template');
      }
      assert.deepEqual(s.top.error_bounds, { clients: 0, paths: 0, error_clients: 0, error_messages: 0 });
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      assert.equal(sum(s.series.requests), expected.requests);
      assert.equal(sum(s.series.errors), expected.errors);
      assert.equal(sum(s.series.bytes), expected.bytes);
      assert.equal(sum(s.series.status_2xx) + sum(s.series.status_3xx) + sum(s.series.status_4xx) + sum(s.series.status_5xx), expected.requests);
      // The charts start at the first event seen (not at the left end of an empty 15-minute axis).
      const earliest = Math.min(...[...harness.probe('seen_access').written, ...harness.probe('seen_errors').written].map((e) => e.timestamp as number));
      assert.equal(s.series.t[0], Math.floor(earliest / 1000) * 1000, 'charts span what was seen');
      assert.ok(s.series.t.length < 900, `${s.series.t.length} buckets, not 15 minutes of them`);
      assert.equal(s.series.t[1]! - s.series.t[0]!, 1000);
      // Alerts: the alert aggregate's (server-error, error-log) and the one fed directly, newest first.
      const names = s.alerts.map((a) => a.name).sort();
      assert.deepEqual(names, ['disk-full', 'error-log', 'server-error']);
      assert.ok(s.alerts.every((a) => typeof a.severity === 'string' && typeof a.state === 'string' && typeof a.time === 'number'));
      // Health: every component, the parser's unparsed lines, no buffer left.
      assert.deepEqual(s.health!.map((r) => r.id), ['access_src', 'error_src', 'alert_src', 'access', 'errors', 'alerts', 'dash', 'seen_access', 'seen_errors', 'seen_alerts', 'seen_unparsed']);
      const access = s.health!.find((r) => r.id === 'access')!;
      assert.equal(access.unparsed, garbage.length);
      assert.equal(harness.probe('seen_unparsed').written.length, garbage.length);
      assert.ok(s.health!.every((r) => r.healthy && r.buffer_fill >= 0 && r.buffer_fill <= 1 && r.errors === 0));
      assert.equal(s.ignored, garbage.length, 'unparsed lines are neither traffic nor alerts');
    });

    it('the page shows those numbers (KPIs and table rows), draws every chart, and updates when more events arrive', async () => {
      const expected = bruteForce(harness.probe('seen_access').written, harness.probe('seen_errors').written);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems = watchPage(page);
      try {
        await page.goto(`${base}/?token=${TOKEN}`);
        await waitKpi(page, 'requests', expected.requests);
        await page.waitForSelector('[data-test="status"][data-state="live"]');
        assert.equal(await page.textContent('[data-test="title"]'), 'web01 test');
        assert.equal(await kpi(page, 'requests'), expected.requests);
        assert.equal(await kpiText(page, 'requests'), expected.requests.toLocaleString('en-US'));
        assert.equal(await kpi(page, 'error-rate'), expected.errors / expected.requests);
        assert.equal(await kpiText(page, 'error-rate'), `${((expected.errors / expected.requests) * 100).toFixed(2)}%`);
        assert.equal(await kpi(page, 'error-log-lines'), expected.errorLogLines);
        for (const id of ['rps', 'errors-per-s', 'bytes-per-s']) assert.ok(Number.isFinite(await kpi(page, id)), `${id} shows a number`);
        for (const table of ['clients', 'paths', 'error_clients'] as const) {
          assert.deepEqual(await tableRows(page, table), expected.top[table], `table ${table}`);
        }
        // Error log: levels, then the templates at warn and worse (the default), then at notice and worse (the filter).
        assert.deepEqual(Object.fromEntries((await tableRows(page, 'error_levels')).map((r) => [r.value, r.count])), levelCounts(expected.logLines));
        assert.equal(await page.inputValue('[data-test="level-filter"]'), 'warn');
        assert.deepEqual(await messageRows(page), messagesAtOrAbove(expected.logLines, 'warn'));
        assert.ok((await messageRows(page)).every((m) => m.level !== 'notice'), 'no notice lines among the error messages');
        await page.selectOption('[data-test="level-filter"]', 'notice');
        assert.deepEqual(await messageRows(page), messagesAtOrAbove(expected.logLines, 'notice'));
        await page.selectOption('[data-test="level-filter"]', 'error');
        const errorRows = await messageRows(page);
        assert.deepEqual(errorRows, messagesAtOrAbove(expected.logLines, 'error'));
        // A sample on demand, whole, and it stays open across the live updates.
        assert.equal(await page.isVisible('[data-test="row-error_messages"] [data-test="sample"]'), false);
        await page.click('[data-test="row-error_messages"] [data-test="sample-toggle"]');
        const sampleText = (await page.textContent('[data-test="row-error_messages"] [data-test="sample"]'))!;
        assert.ok(expected.logLines.some((e) => `${e.error_code ? `${e.error_code}: ` : ''}${e.message_text}` === sampleText), 'the sample is a logged message, whole');
        assert.equal(messageTemplate(sampleText), errorRows[0]!.value);
        const rendered = Number(await page.getAttribute('body', 'data-rendered'));
        await waitFor(async () => Number(await page.getAttribute('body', 'data-rendered')) > rendered + 2, 5000, 'more live updates');
        assert.equal(await page.isVisible('[data-test="row-error_messages"] [data-test="sample"]'), true, 'still open');
        const moduleRows = await tableRows(page, 'error_modules');
        assert.deepEqual(moduleRows, [{ value: 'core', count: expected.logLines.filter((e) => atOrAbove(String(e.level), 'error')).length }]);
        assert.equal(await page.locator('[data-test="alert"]').count(), 3);
        assert.equal(await page.getAttribute('[data-test="alert"][data-name="disk-full"]', 'data-severity'), 'critical');
        assert.equal(await page.locator('[data-test="health-row"]').count(), 11);
        // Charts: each canvas has coloured ink (series drawn), not just grey axes.
        assert.equal(await page.locator('[data-test^="chart-"] canvas').count(), 4);
        const ink = await chartInk(page);
        for (const [chart, pixels] of Object.entries(ink)) assert.ok(pixels > 10, `${chart} has a drawn series (${pixels} coloured pixels)`);

        // More events: the page follows.
        const before = Number(await page.getAttribute('[data-test="updated"]', 'data-value'));
        push(harness, 'access_src', toEvents(accessLines(7, 500, Date.now())));
        await waitKpi(page, 'requests', expected.requests + 500);
        assert.ok(Number(await page.getAttribute('[data-test="updated"]', 'data-value')) > before, 'a newer state');
        const more = bruteForce(harness.probe('seen_access').written, harness.probe('seen_errors').written);
        assert.deepEqual(await tableRows(page, 'clients'), more.top.clients);
        assert.equal(await kpi(page, 'error-rate'), more.errors / more.requests);
        // Pause holds the view (and says so); resume shows the latest state.
        await page.click('[data-test="pause"]');
        assert.equal(await page.getAttribute('[data-test="status"]', 'data-state'), 'paused');
        push(harness, 'access_src', toEvents(accessLines(9, 50, Date.now())));
        await waitFor(() => harness.probe('seen_access').written.length === expected.requests + 550, 10_000, 'more events parsed');
        await new Promise((r) => setTimeout(r, 700));
        assert.equal(await kpi(page, 'requests'), expected.requests + 500, 'paused: the numbers stay');
        await page.click('[data-test="pause"]');
        assert.equal(await page.getAttribute('[data-test="status"]', 'data-state'), 'live');
        await waitKpi(page, 'requests', expected.requests + 550);
        assert.deepEqual(problems.errors, [], 'no console or page errors');
        assert.ok(problems.requests.every((u) => u.startsWith(base)), `everything from the agent: ${problems.requests.filter((u) => !u.startsWith(base)).join(', ')}`);
      } finally {
        await page.close();
      }
    });

    it('enforces the token on every route: 401 without, the bearer header or ?token= works', async () => {
      for (const route of ['/', '/assets/app.js', '/assets/uPlot.iife.min.js', '/api/state', '/events']) {
        const none = await fetch(`${base}${route}`);
        assert.equal(none.status, 401, `${route} without a token`);
        assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
        await none.body?.cancel();
        const wrong = await fetch(`${base}${route}?token=nope`);
        assert.equal(wrong.status, 401, `${route} with a wrong token`);
        await wrong.body?.cancel();
        const wrongBearer = await fetch(`${base}${route}`, { headers: { authorization: 'Bearer nope' } });
        assert.equal(wrongBearer.status, 401);
        await wrongBearer.body?.cancel();
      }
      const ctl = new AbortController();
      const ok = await fetch(`${base}/events`, { headers: auth, signal: ctl.signal });
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = ok.body!.getReader();
      let text = '';
      while (!/event: state\ndata: \{.*\}\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
      ctl.abort();
      const deniedPage = await browser.newPage();
      try {
        const denied = await deniedPage.goto(`${base}/`);
        assert.equal(denied!.status(), 401);
      } finally {
        await deniedPage.close();
      }
      const page = await browser.newPage();
      const problems = watchPage(page);
      try {
        await page.goto(`${base}/?token=${TOKEN}`);
        await page.waitForSelector('[data-test="status"][data-state="live"]');
        assert.deepEqual(problems.errors, []);
      } finally {
        await page.close();
      }
      const html = await (await fetch(`${base}/`, { headers: auth })).text();
      assert.match(html, /assets\/app\.js/);
      assert.doesNotMatch(html, /https?:\/\//, 'the page loads nothing from elsewhere');
    });

    it('serves several tabs at once from one state per tick, drops closed ones, and caps the number of streams', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const pages = await Promise.all([0, 1, 2].map(() => context.newPage()));
      const problems = pages.map(watchPage);
      const clients = async () => Number(/visor_dashboard_clients\{[^}]*\} (\d+)/.exec(await harness.metrics.exposition())?.[1]);
      try {
        await Promise.all(pages.map((p) => p.goto(`${base}/?token=${TOKEN}`)));
        const total = harness.probe('seen_access').written.length;
        await Promise.all(pages.map((p) => waitKpi(p, 'requests', total)));
        await waitFor(async () => (await clients()) === 3, 5000, 'three streams').catch(async (err) => {
          throw new Error(`${(err as Error).message}: ${(await harness.metrics.exposition()).split('\n').filter((l) => l.includes('dashboard')).join('\n')}`);
        });
        push(harness, 'access_src', toEvents(accessLines(8, 100, Date.now())));
        await Promise.all(pages.map((p) => waitKpi(p, 'requests', total + 100)));
        // The cap: 5 streams; 3 pages hold 3; two more fit, the sixth is refused.
        const ctl = new AbortController();
        const extra = await Promise.all([0, 1, 2].map(() => fetch(`${base}/events`, { headers: auth, signal: ctl.signal })));
        assert.deepEqual(extra.map((r) => r.status).sort(), [200, 200, 503]);
        ctl.abort();
        await pages[0]!.close();
        await pages[1]!.close();
        await waitFor(async () => (await clients()) === 1, 5000, 'closed pages to be dropped');
        for (const p of problems) assert.deepEqual(p.errors, []);
      } finally {
        await context.close();
      }
    });

    it('shows "disconnected" when the agent goes away', async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${base}/?token=${TOKEN}`);
        await page.waitForSelector('[data-test="status"][data-state="live"]');
        await harness.pipeline.stop(5000);
        await page.waitForSelector('[data-test="status"][data-state="disconnected"]', { timeout: 10_000 });
        assert.match((await page.textContent('[data-test="status"]')) ?? '', /disconnected/);
      } finally {
        await page.close();
      }
    });
  });

  it('takes a screenshot with realistic generator traffic and an alert (docs/dashboard.png with VISOR_DOCS_SCREENSHOT=1)', async function () {
    const port = await freePort();
    const tmp = await tempDir('visor-dash-shot-');
    const base = `http://127.0.0.1:${port}`;
    const h = await startPipeline(`
inputs:
  traffic:
    type: generator
    format: combined
    rate: 120
    seed: 2026
    bursts: { scheduled: [{ every: 8s, for: 3s, multiplier: 4 }] }
    heartbeat: { interval: 5s }
  error_log: { type: generator, format: error_2.4, rate: 3, seed: 7 }
filters:
  access: { type: apache_access, inputs: [traffic], format: combined }
  errors: { type: apache_error, inputs: [error_log] }
aggregates:
  alerts:
    type: alert
    inputs: [access, errors]
    rules:
      - { name: server-error, when: 'status >= 500', cooldown: 1m, severity: warning }
      - { name: error-burst, when: 'count(status >= 500) > 25', over: 10s, for: 2s, severity: critical }
      - { name: error-log, when: 'level in ("crit", "alert", "emerg")', cooldown: 1m, severity: critical }
outputs:
  dashboard:
    type: dashboard
    inputs: [access, access._unparsed, errors, alerts]
    listen: 127.0.0.1:${port}
    title: web01.example.com
    history: 25s
    top_window: 5m
  unparsed: { type: blackhole, inputs: [errors._unparsed] }
`);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchPage(page);
    try {
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-test="status"][data-state="live"]');
      // The README's picture wants most of the 25 s of history drawn; the assertions want only what is waited on
      // below. So the 23 s of filler are spent, and docs/dashboard.png rewritten, only when the picture is asked for
      // (VISOR_DOCS_SCREENSHOT=1); otherwise the screenshot goes to a temporary file (CI: ~20 s less, and a test
      // run no longer rewrites a tracked file).
      if (DOCS_SCREENSHOT) await new Promise((r) => setTimeout(r, 23_000));
      await waitFor(async () => (await kpi(page, 'requests')) > 1000, 30_000, 'over 1000 requests');
      await page.waitForSelector('[data-test="alert"]');
      const ink = await chartInk(page);
      for (const [chart, pixels] of Object.entries(ink)) assert.ok(pixels > 10, `${chart} drawn`);
      assert.ok((await kpi(page, 'requests')) > 1000);
      if (DOCS_SCREENSHOT) await mkdir(path.join(ROOT, 'docs'), { recursive: true });
      const shot = DOCS_SCREENSHOT ? path.join(ROOT, 'docs', 'dashboard.png') : path.join(tmp.dir, 'dashboard.png');
      await page.screenshot({ path: shot });
      assert.ok(statSync(shot).size > 10_000, `a screenshot was written (${statSync(shot).size} bytes)`);
      assert.deepEqual(problems.errors, []);
    } finally {
      await page.close();
      await h.pipeline.stop(5000);
      await tmp.remove();
    }
  });

  it('renderStaticHtml: one self-contained file that renders the same charts and numbers with nothing from the network', async () => {
    // Event time, one-minute buckets over three hours, as `visor analyze --html` uses the model.
    const model = new DashboardModel({ bucketMs: 60_000, buckets: 180, topN: 10, topWindowMs: Infinity, capacity: 1000, alerts: 50, title: 'access.log' });
    const rnd = rng(99);
    const t0 = Date.UTC(2026, 10, 25, 8, 0, 0);
    const access: Event[] = [];
    const errors: Event[] = [];
    for (const line of accessLines(5, 4000)) {
      const m = /^(\S+) .*"GET (\S+) HTTP\/1\.1" (\d+) (\d+)/.exec(line)!;
      const e: Event = { client_ip: m[1], path: m[2], status: Number(m[3]), bytes: Number(m[4]), timestamp: t0 + Math.floor(rnd() * 3 * 3600_000) };
      access.push(e);
    }
    for (const line of errorLines(6, 300)) {
      const m = /\[core:(\w+)\] \[pid 7:tid 8\] \[client \S+\] (.*)$/.exec(line)!;
      errors.push({ level: m[1], message_text: m[2], timestamp: t0 + Math.floor(rnd() * 3 * 3600_000) });
    }
    for (const e of [...access, ...errors]) model.add(e, e.timestamp as number);
    model.add({ name: 'error-rate', severity: 'critical', kind: 'threshold', state: 'firing', message: 'error rate 9% > 5%', time: t0 + 3600_000 }, t0 + 3600_000);
    model.add({ heartbeat: true, message: 'beat' }, t0);
    const state = model.snapshot(model.latest);
    const expected = bruteForce(access, errors);
    assert.equal(state.totals.requests, expected.requests);
    assert.equal(state.totals.bytes, expected.bytes);
    assert.deepEqual(state.top.paths, expected.top.paths);
    assert.equal(state.series.requests.reduce((a, b) => a + b, 0), expected.requests, 'every request in a chart bucket');
    assert.equal(state.series.t.length, 180);
    const lastTwoHours = trimSeries(state, t0 + 3600_000);
    assert.equal(lastTwoHours.series.t[0], t0 + 3600_000);
    assert.equal(lastTwoHours.series.requests.length, 120);

    const html = renderStaticHtml(state);
    assert.doesNotMatch(html, /<(script|link)[^>]+(src|href)="(?!data:)/i, 'no external script or stylesheet');
    const tmp = await tempDir();
    const file = await tmp.file('report.html', html);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchPage(page);
    const fileUrl = pathToFileURL(file).href;
    await page.route('**/*', (route) => (route.request().url() === fileUrl ? route.continue() : route.abort()));
    try {
      await page.goto(fileUrl);
      await page.waitForSelector('body[data-rendered]');
      assert.equal(await page.getAttribute('[data-test="status"]', 'data-state'), 'static');
      assert.equal(await page.textContent('[data-test="title"]'), 'access.log');
      assert.equal(await kpi(page, 'requests'), expected.requests);
      assert.equal(await kpi(page, 'error-rate'), expected.errors / expected.requests);
      assert.equal(await kpi(page, 'error-log-lines'), expected.errorLogLines);
      for (const table of ['clients', 'paths', 'error_clients'] as const) {
        assert.deepEqual(await tableRows(page, table), expected.top[table], `table ${table}`);
      }
      assert.deepEqual(await messageRows(page), messagesAtOrAbove(expected.logLines, 'warn'));
      assert.deepEqual(Object.fromEntries((await tableRows(page, 'error_levels')).map((r) => [r.value, r.count])), levelCounts(expected.logLines));
      // A report of files runs no alert rules: no "recent alerts" panel (not an empty one).
      assert.equal(await page.locator('[data-test="alerts"]').count(), 0, 'no alerts panel');
      assert.equal(await page.locator('[data-test="alert"]').count(), 0);
      assert.equal(await page.isVisible('[data-test="health"]'), false, 'no health panel without health');
      const ink = await chartInk(page);
      assert.equal(Object.keys(ink).length, 4);
      for (const [chart, pixels] of Object.entries(ink)) assert.ok(pixels > 10, `${chart} has a drawn series (${pixels} coloured pixels)`);
      assert.deepEqual(problems.requests.filter((u) => u !== fileUrl), [], 'nothing loaded besides the file');
      assert.deepEqual(problems.errors, []);
    } finally {
      await page.close();
      await tmp.remove();
    }
  });

  it('a static report of access logs only has no error-log panels; with error-log lines it has them', async () => {
    const tmp = await tempDir();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchPage(page);
    try {
      for (const withErrors of [false, true]) {
        const model = new DashboardModel({ bucketMs: 60_000, buckets: 60, topN: 10, topWindowMs: Infinity, capacity: 100, alerts: 0 });
        const t = Date.UTC(2026, 10, 25, 8);
        model.add({ client_ip: '203.0.113.1', path: '/', status: 200, bytes: 5, timestamp: t }, t);
        if (withErrors) model.add({ level: 'notice', module: 'mpm_event', message_text: 'AH00489: resuming normal operations', timestamp: t }, t);
        const file = await tmp.file(`r${withErrors}.html`, renderStaticHtml(model.snapshot(t + 1)));
        await page.goto(pathToFileURL(file).href);
        await page.waitForSelector('body[data-rendered]');
        assert.equal(await page.isVisible('[data-test="error-log"]'), withErrors);
        if (withErrors) {
          assert.deepEqual(await tableRows(page, 'error_levels'), [{ value: 'notice', count: 1 }]);
          assert.deepEqual(await messageRows(page), [], 'a notice is no error message');
        }
      }
      assert.deepEqual(problems.errors, []);
    } finally {
      await page.close();
      await tmp.remove();
    }
  });

  it('hostile log values (HTML, </script>, quotes) are shown as text in the live page and the static file, never run', async () => {
    const evil = {
      path: '/</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">',
      client_ip: '"><svg onload=window.__pwned=3>',
      message_text: '<b>bold</b> & <!-- comment --> \u2028 </style>',
    };
    const model = new DashboardModel({ bucketMs: 1000, buckets: 60, topN: 10, topWindowMs: 60_000, capacity: 100, alerts: 10, title: '<i>title</i>' });
    const now = Date.now();
    for (let i = 0; i < 5; i++) model.add({ client_ip: evil.client_ip, path: evil.path, status: 503, bytes: 10, timestamp: now }, now);
    model.add({ level: 'error', message_text: evil.message_text, timestamp: now }, now);
    model.add({ name: '<script>x</script>', severity: 'critical', state: 'firing', message: evil.path, time: now }, now);
    const tmp = await tempDir();
    const file = await tmp.file('evil.html', renderStaticHtml(model.snapshot(now)));
    const port = await freePort();
    const h = await startPipeline(`
inputs: { feed: { type: test_script } }
outputs: { dash: { type: dashboard, inputs: [feed], listen: 127.0.0.1:${port}, update_every: 200ms, title: '<i>title</i>' } }
`);
    push(h, 'feed', [{ client_ip: evil.client_ip, path: evil.path, status: 503, bytes: 10 }, { level: 'error', message_text: evil.message_text },
      { name: '<script>x</script>', severity: 'critical', state: 'firing', message: evil.path, time: now }]);
    const page = await browser.newPage();
    const problems = watchPage(page);
    try {
      for (const url of [pathToFileURL(file).href, `http://127.0.0.1:${port}/`]) {
        await page.goto(url);
        await page.waitForSelector('[data-test="row-paths"]');
        assert.equal(await page.evaluate('window.__pwned'), undefined, `${url}: injected code ran`);
        assert.equal(await page.locator('img, svg[onload], b').count(), 0, `${url}: injected elements`);
        assert.equal(await page.getAttribute('[data-test="row-paths"]', 'data-value'), evil.path);
        assert.match((await page.textContent('[data-test="table-paths"]'))!, /<\/script><script>/, 'shown as text');
        assert.equal(await page.getAttribute('[data-test="row-clients"]', 'data-value'), evil.client_ip);
        assert.equal(await page.getAttribute('[data-test="row-error_messages"]', 'data-value'), messageTemplate(evil.message_text));
        await page.click('[data-test="sample-toggle"]');
        assert.equal(await page.textContent('[data-test="row-error_messages"] [data-test="sample"]'), evil.message_text);
        assert.equal(await page.textContent('[data-test="title"]'), '<i>title</i>');
      }
      assert.deepEqual(problems.errors, []);
    } finally {
      await page.close();
      await h.pipeline.stop(5000);
      await tmp.remove();
    }
  });
});

// No browser needed: runs even where Chromium is missing.
describe('dashboard model: window results', () => {
  it('counts access events only: a window result grouped by status, and window_merge\'s amended result of it, are no requests', () => {
    const model = new DashboardModel({ bucketMs: 1000, buckets: 60, topN: 10, topWindowMs: 60_000, capacity: 100, alerts: 10 });
    const t = Date.UTC(2026, 10, 25, 8);
    model.add({ client_ip: '203.0.113.1', path: '/', status: 503, bytes: 5, timestamp: t }, t);
    // The result of [t-10s, t) for status 503, then its correction after late events (amended, revision 1).
    model.add({ window_start: t - 10_000, window_end: t, status: 503, count: 40, requests: 40 }, t);
    model.add({ window_start: t - 10_000, window_end: t, status: 503, count: 52, requests: 52, amended: true, revision: 1 }, t);
    const s = model.snapshot(t + 1);
    assert.deepEqual([s.totals.requests, s.totals.errors, s.series.requests.reduce((a, b) => a + (b ?? 0), 0), s.ignored], [1, 1, 1, 2], 'requests, errors, charted requests, ignored');
  });
});

describe('dashboard output options', () => {
  it('refuses a non-loopback listen address without a token, at validation and at create', async () => {
    for (const listen of ['0.0.0.0:0', '[::]:0', '192.0.2.1:0', '8080.example.com:0']) {
      await assert.rejects(
        startPipeline(`
inputs: { src: { type: test_script } }
outputs: { dash: { type: dashboard, inputs: [src], listen: '${listen}' } }
`),
        (err: Error) => /pipeline\.yaml:3:\d+: .*refusing to serve the dashboard on .* without a token: .*Set token/.test(err.message),
        listen,
      );
      // Embedders that build options without validation meet the same refusal in create().
      assert.throws(
        () => dashboardPlugin.create({ listen, title: 'x', history: 60_000, top: 10, top_window: 60_000, capacity: 100, alerts: 10, update_every: 1000, max_clients: 4, store_max_events: 200_000, message_level: 'warn' }, {} as PluginContext),
        /refusing to serve the dashboard on .* without a token/,
      );
    }
    // Loopback without a token, and any address with one, are fine.
    const h = await startPipeline(`
inputs: { src: { type: test_script } }
outputs:
  a: { type: dashboard, inputs: [src], listen: '127.0.0.1:0' }
  b: { type: dashboard, inputs: [src], listen: '0.0.0.0:0', token: '${TOKEN}' }
`);
    await h.pipeline.stop(5000);
  });
});
