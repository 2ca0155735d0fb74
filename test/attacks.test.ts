// The attacks figures (lib/stats/attacks.ts) and where they are shown: the report's attacks section and the
// dashboard's attacks panel, fed by a real tail -> apache_access -> detect pipeline, the page in real Chromium.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { Event } from '../core/index.js';
import { DashboardModel, renderStaticHtml, type DashboardState } from '../lib/dashboard/index.js';
import { AttackCounter, isAttack, type AttacksJSON } from '../lib/stats/index.js';
import { attackTimeline, requireChromium, watchPage } from './support/browser.js';
import { freePort, tempDir } from './support/helpers.js';
import { waitFor } from './support/smtp.js';
import { startPipeline } from './support/pipeline-harness.js';
import { ScanningAttackCounter } from './support/attack-counter-scan.js';
import { rng } from './bench/apache-lines.js';

const BASE = Date.UTC(2026, 11, 3, 10, 0, 0);
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
function acc(ip: string, target: string, status: number, s: number): string {
  const d = new Date(BASE + s * 1000);
  const t = `${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `${ip} - - [${t}] "GET ${target} HTTP/1.1" ${status} 512 "-" "${UA}"`;
}

const alert = (rule: string, client: string, time: number, evidence = [`line of ${client}`]): Event =>
  ({ name: `detect ${rule}`, rule, severity: 'high', kind: 'detect', state: 'firing', message: 'm', time, client_ip: client, evidence });

/** The figures recounted from the alerts themselves. */
function recount(alerts: Event[]): { alerts: number; rules: Record<string, number>; clients: Record<string, [number, string[]]> } {
  const rules: Record<string, number> = {};
  const clients: Record<string, [number, string[]]> = {};
  for (const a of alerts) {
    rules[a.rule as string] = (rules[a.rule as string] ?? 0) + 1;
    const c = (clients[a.client_ip as string] ??= [0, []]);
    c[0]++;
    if (!c[1].includes(a.rule as string)) c[1].push(a.rule as string);
  }
  for (const c of Object.values(clients)) c[1].sort();
  return { alerts: alerts.length, rules, clients };
}
function figures(a: AttacksJSON): ReturnType<typeof recount> {
  return {
    alerts: a.alerts,
    rules: Object.fromEntries(a.rules.map((r) => [r.rule, r.alerts])),
    clients: Object.fromEntries(a.clients.map((c) => [c.client, [c.alerts, c.rules]])),
  };
}

describe('attacks: counting', () => {
  it('counts alerts per rule and client, keeps the rules, last seen and newest evidence of each client', () => {
    const c = new AttackCounter(100);
    c.add(alert('probing', '198.51.100.1', 1000, ['old']), 0);
    c.add(alert('xss', '198.51.100.1', 3000, ['new a', 'new b']), 0);
    c.add(alert('probing', '198.51.100.2', 2000), 0);
    c.add({ ...alert('probing', '198.51.100.1', 500, ['older']), severity: 'medium' }, 0);
    const j = c.toJSON(10);
    assert.equal(j.alerts, 4);
    assert.deepEqual(j.rules.map((r) => [r.rule, r.alerts, r.severity, r.last]), [['probing', 3, 'medium', 2000], ['xss', 1, 'high', 3000]]);
    assert.deepEqual(j.clients.map((x) => [x.client, x.alerts, x.rules, x.last, x.evidence]), [
      ['198.51.100.1', 3, ['probing', 'xss'], 3000, ['new a', 'new b']],
      ['198.51.100.2', 1, ['probing'], 2000, ['line of 198.51.100.2']],
    ]);
    assert.equal(j.error_bound, 0);
    assert.deepEqual(c.toJSON(1).clients.map((x) => x.client), ['198.51.100.1']);
  });

  it('a digest (the matches of the quiet period after an alert) is no attack alert of its own; alert\'s events are none', () => {
    assert.equal(isAttack(alert('probing', '198.51.100.1', 1000)), true);
    assert.equal(isAttack({ ...alert('probing', '198.51.100.1', 1000), state: 'digest', count: 12 }), false);
    assert.equal(isAttack({ name: 'server-error', severity: 'warning', kind: 'event', state: 'firing' }), false);
  });

  it('holds at most capacity clients; a replaced one carries its count over and the bound says by how much', () => {
    const c = new AttackCounter(2);
    for (let i = 0; i < 5; i++) c.add(alert('probing', 'heavy', i), 0);
    c.add(alert('probing', 'once-a', 10), 0);
    c.add(alert('probing', 'once-b', 11), 0);
    const j = c.toJSON(10);
    assert.deepEqual(j.clients.map((x) => [x.client, x.alerts]), [['heavy', 5], ['once-b', 2]]);
    assert.equal(j.error_bound, 1);
    assert.equal(j.alerts, 7);
  });
});

/** A flood of alerts: a few heavy clients and rules among many seen once or twice (so counts tie often), times
 * out of order. */
function flood(n: number, seed: number, clients: number, rules: number): Event[] {
  const rnd = rng(seed);
  const out: Event[] = [];
  for (let i = 0; i < n; i++) {
    const heavy = rnd() < 0.3;
    const client = heavy ? `heavy-${Math.floor(rnd() * 5)}` : `c-${Math.floor(rnd() * clients)}`;
    const rule = rnd() < 0.5 ? `r-${Math.floor(rnd() * 4)}` : `r-${Math.floor(rnd() * rules)}`;
    out.push(alert(rule, client, Math.floor(rnd() * 100_000), [`${client} ${i}`]));
  }
  return out;
}

describe('attacks: eviction at capacity', () => {
  it('the heap evicts what the scan of every entry evicted: same entries, counts and error bound on a random flood', () => {
    for (const [seed, capacity] of [[1, 7], [2, 50], [3, 200]] as const) {
      const fast = new AttackCounter(capacity);
      const scan = new ScanningAttackCounter(capacity);
      const alerts = flood(20_000, seed, capacity * 20, capacity * 3);
      for (let i = 0; i < alerts.length; i++) {
        fast.add(alerts[i]!, i);
        scan.add(alerts[i]!, i);
        if (i % 997 === 0) assert.deepEqual(fast.toJSON(capacity), scan.toJSON(capacity), `seed ${seed}, alert ${i}`);
      }
      const j = fast.toJSON(capacity);
      assert.deepEqual(j, scan.toJSON(capacity));
      assert.ok(j.error_bound > 0 && j.clients.length === capacity, 'the flood evicted');
    }
  });

  it('admission at capacity does not scan the entries: a flood of distinct clients costs a fraction of the scan\'s', () => {
    const capacity = 5000;
    const alerts = flood(2 * capacity, 4, 1e9, 10).map((e, i) => ({ ...e, client_ip: `distinct-${i}` }));
    const cpu = (c: AttackCounter) => {
      const t = process.cpuUsage();
      alerts.forEach((e, i) => c.add(e, i));
      const d = process.cpuUsage(t);
      return d.user + d.system;
    };
    // Alternating, the faster of two each, so a burst of other work on the machine hits both alike.
    let fast = Infinity;
    let scan = Infinity;
    for (let round = 0; round < 2; round++) {
      fast = Math.min(fast, cpu(new AttackCounter(capacity)));
      scan = Math.min(scan, cpu(new ScanningAttackCounter(capacity)));
    }
    assert.ok(fast * 5 < scan, `heap ${fast / 1000} ms, scan ${scan / 1000} ms of CPU`);
  });
});

describe('attacks: a detect pipeline into the report and the dashboard', function () {
  let browser: Browser | undefined;
  let alerts: Event[] = [];
  let report: Event | undefined;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let lines: string[] = [];

  before(async function () {
    tmp = await tempDir('visor-attacks-');
    lines = [];
    for (let i = 0; i < 16; i++) lines.push(acc('198.51.100.1', `/admin${i}.php`, 404, 0));
    for (const p of ['/.env', '/.git/config', '/wp-config.php~']) lines.push(acc('198.51.100.2', p, 404, 1));
    lines.push(acc('198.51.100.3', '/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd', 400, 2));
    lines.push(acc('198.51.100.1', '/search?q=%3Cscript%3Ealert(1)%3C/script%3E', 200, 3));
    for (let i = 0; i < 20; i++) lines.push(acc('203.0.113.9', `/page${i}`, 200, i));
    const file = await tmp.file('access.log', lines.join('\n') + '\n');
    const h = await startPipeline(`
inputs:
  a: { type: tail, path: ${JSON.stringify(file)}, read_from: beginning, exit_on_eof: true }
filters:
  access: { type: apache_access, inputs: [a], format: combined, timezone: UTC }
aggregates:
  det: { type: detect, inputs: [access] }
  rep: { type: report, inputs: [access, det], interval: 1h, emit_empty: false, html: true }
outputs:
  alerts: { type: test_record, inputs: [det] }
  reports: { type: test_record, inputs: [rep] }
`);
    await h.pipeline.done();
    alerts = h.probe('alerts').written;
    report = h.probe('reports').written[0];
  });
  after(async () => {
    await browser?.close();
    await tmp?.remove();
  });

  it('the report has an attacks section whose numbers equal a recount of the alerts', () => {
    assert.ok(alerts.length >= 4, `detect fired ${alerts.length} alerts`);
    const expected = recount(alerts);
    assert.ok(Object.keys(expected.rules).length >= 3, 'several rules fired');
    assert.ok(report, 'a report');
    assert.deepEqual(figures(report.attacks as unknown as AttacksJSON), expected);
    assert.equal(report.requests, 41, 'alerts are not counted as requests');
    const text = String(report.message);
    assert.match(text, new RegExp(`^attacks: ${alerts.length} alerts$`, 'm'));
    for (const rule of Object.keys(expected.rules)) assert.ok(text.includes(`${rule} [`), rule);
    const html = String(report.html);
    assert.match(html, new RegExp(`attacks \\(${alerts.length} alerts\\)`));
    for (const ip of Object.keys(expected.clients)) assert.ok(html.includes(`<td>${ip}</td>`), ip);
  });

  it('a report without detect alerts has no attacks section', async () => {
    const h = await startPipeline(`
inputs:
  gen: { type: generator, rate: max, count: 50, seed: 1 }
filters:
  access: { type: apache_access, inputs: [gen] }
aggregates:
  rep: { type: report, inputs: [access], interval: 1h, emit_empty: false }
outputs:
  r: { type: test_record, inputs: [rep] }
`);
    await h.pipeline.done();
    const [r] = h.probe('r').written;
    assert.equal(r!.attacks, undefined);
    assert.doesNotMatch(String(r!.message), /attacks/);
  });

  it('the dashboard panel shows the rules, the clients and their evidence in Chromium, numbers equal to the recount', async function () {
    const model = new DashboardModel({ bucketMs: 1000, buckets: 600, topN: 10, topWindowMs: Infinity, capacity: 1000, alerts: 50 });
    // The alert's chart time: its last matching line (the live dashboard passes an event's own time).
    for (const a of alerts) model.add(a, a.last as number, a.last as number);
    const state = model.snapshot(BASE + 60_000, BASE + 60_000);
    const expected = recount(alerts);
    assert.deepEqual(figures(state.attacks!), expected);
    const charted = [...state.series.attacks_critical, ...state.series.attacks_warning, ...state.series.attacks_info];
    assert.equal(charted.reduce((s, n) => s + n, 0), alerts.length, 'every alert is on the timeline');
    browser = await requireChromium(this);
    const file = path.join(tmp.dir, 'dashboard.html');
    writeFileSync(file, renderStaticHtml(state));
    const page = await browser.newPage();
    const problems = watchPage(page);
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('[data-test="attacks"]');
    const rows = (sel: string) => page.$$eval(sel, (els) => els.map((e) => [(e as unknown as { dataset: Record<string, string> }).dataset.value, Number((e as unknown as { dataset: Record<string, string> }).dataset.count)]));
    assert.deepEqual(Object.fromEntries(await rows('[data-test="row-attack_rules"]')), expected.rules);
    const clients = Object.fromEntries(await rows('[data-test="row-attack_clients"]'));
    assert.deepEqual(clients, Object.fromEntries(Object.entries(expected.clients).map(([k, v]) => [k, v[0]])));
    const timeline = await attackTimeline(page);
    assert.equal(Object.values(timeline.counts).flat().reduce((s, n) => s + n, 0), alerts.length, 'every alert in a bar of the chart');
    assert.ok(timeline.ink > 10, `the timeline is drawn (${timeline.ink} coloured pixels)`);
    // The evidence is hidden until asked for, then shown whole.
    const first = state.attacks!.clients[0]!;
    const row = page.locator(`[data-test="row-attack_clients"][data-value="${first.client}"]`);
    const evidence = page.locator(`[data-test="evidence-row"][data-value="${first.client}"] [data-test="evidence"]`);
    assert.equal(await evidence.isHidden(), true);
    await row.locator('[data-test="evidence-toggle"]').click();
    assert.equal(await evidence.isVisible(), true);
    assert.equal(await evidence.textContent(), first.evidence.join('\n'));
    assert.ok(first.evidence.length > 0);
    assert.deepEqual(problems.errors, []);
  });

  it('the live dashboard output fed by detect: /api/state and the page show the recount', async function () {
    const file = await tmp.file('live.log', lines.join('\n') + '\n');
    const port = await freePort();
    const h = await startPipeline(`
inputs:
  a: { type: tail, path: ${JSON.stringify(file)}, read_from: beginning }
filters:
  access: { type: apache_access, inputs: [a], format: combined, timezone: UTC }
aggregates:
  det: { type: detect, inputs: [access] }
outputs:
  dash: { type: dashboard, inputs: [access, det], listen: 127.0.0.1:${port}, update_every: 200ms }
  alerts: { type: test_record, inputs: [det] }
`);
    try {
      const base = `http://127.0.0.1:${port}`;
      let state: DashboardState | undefined;
      // The alerts detect raises while the file is read (the end-of-input flush does not happen: tail keeps following).
      await waitFor(async () => {
        const seen = h.probe('alerts').written.length;
        state = (await (await fetch(`${base}/api/state`)).json()) as DashboardState;
        return seen >= 4 && state.attacks?.alerts === seen;
      }, 15_000, 'the dashboard to absorb the alerts');
      const live = h.probe('alerts').written;
      assert.deepEqual(figures(state!.attacks!), recount(live));
      browser ??= await requireChromium(this);
      const page = await browser.newPage();
      const problems = watchPage(page);
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-test="row-attack_clients"]');
      const values = (sel: string) => page.$$eval(sel, (els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.value));
      assert.deepEqual((await values('[data-test="row-attack_rules"]')).sort(), Object.keys(recount(live).rules).sort());
      assert.deepEqual((await values('[data-test="row-attack_clients"]')).sort(), Object.keys(recount(live).clients).sort());
      assert.deepEqual(problems.errors, []);
      await page.close();
    } finally {
      await h.pipeline.stop(5000);
    }
  });
});
