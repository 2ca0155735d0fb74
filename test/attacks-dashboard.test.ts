// The dashboard's Attacks panel over time: a real `visor run` (tail -> apache_access -> detect -> store with events,
// and the dashboard reading the store) on attack lines with known times, the page in real Chromium. The timeline
// chart shows each minute's alerts per severity class (read from the drawn chart and from its legend under the
// mouse) and updates live as more attacks are read; after a restart the history views show the stored alerts for
// the range picked (rules, clients, evidence, timeline), the live view its refilled ones, and a range without
// attacks shows no panel. Every number is a recount of the alerts detect raised (a file output beside the store).
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Event } from '../core/index.js';
import type { DashboardState, HistoryState } from '../lib/dashboard/index.js';
import { attackTime, isAttack, severityClass } from '../lib/stats/index.js';
import { historyState } from '../lib/dashboard/index.js';
import { PostgresEngine, SqliteEngine, type StoreEngine } from '../lib/store/index.js';
import { attackLegendAt, attackTimeline, historyView, requireChromium, watchPage } from './support/browser.js';
import { startPipeline } from './support/pipeline-harness.js';
import { CliProcess, freePort, skipWhenMissing, tempDir } from './support/helpers.js';
import { postgresMissing, sharedPostgres } from './support/postgres.js';
import { waitFor } from './support/smtp.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');
const stamp = (ms: number) => { const d = new Date(ms); return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`; };
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const line = (ip: string, target: string, status: number, time: number) => `${ip} - - [${stamp(time)}] "GET ${target} HTTP/1.1" ${status} 512 "-" "${UA}"\n`;
/** One alert each (detect's default pack): three sensitive files in a second (warning), one traversal (critical). */
const sensitive = (ip: string, time: number) => ['/.env', '/.git/config', '/wp-config.php~'].map((p) => line(ip, p, 404, time)).join('');
const traversal = (ip: string, time: number) => line(ip, '/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd', 400, time);
const MIN = 60_000;

/** Per minute (epoch ms of its start): alerts per severity class. */
type Minutes = Record<string, { critical: number; warning: number; info: number }>;
function perMinute(alerts: Event[]): Minutes {
  const out: Minutes = {};
  for (const a of alerts) {
    const m = String(Math.floor(attackTime(a, 0) / MIN) * MIN);
    (out[m] ??= { critical: 0, warning: 0, info: 0 })[severityClass(a.severity)]++;
  }
  return out;
}
/** A state's series summed per minute, minutes with alerts only. */
function stateMinutes(s: DashboardState): Minutes {
  const out: Minutes = {};
  s.series.t.forEach((t, i) => {
    const c = s.series.attacks_critical[i]!, w = s.series.attacks_warning[i]!, n = s.series.attacks_info[i]!;
    if (c + w + n === 0) return;
    const m = (out[String(Math.floor(t / MIN) * MIN)] ??= { critical: 0, warning: 0, info: 0 });
    m.critical += c; m.warning += w; m.info += n;
  });
  return out;
}
/** What the panel shows, recounted from the alerts. */
function recount(alerts: Event[]) {
  const rules: Record<string, number> = {};
  const clients: Record<string, number> = {};
  for (const a of alerts) {
    rules[a.rule as string] = (rules[a.rule as string] ?? 0) + 1;
    clients[a.client_ip as string] = (clients[a.client_ip as string] ?? 0) + 1;
  }
  return { alerts: alerts.length, rules, clients };
}
const shown = (s: DashboardState) => s.attacks && {
  alerts: s.attacks.alerts,
  rules: Object.fromEntries(s.attacks.rules.map((r) => [r.rule, r.alerts])),
  clients: Object.fromEntries(s.attacks.clients.map((c) => [c.client, c.alerts])),
};

/** The chart as drawn, minutes with alerts only, checked against the chart's own bins (every other bin empty). */
async function drawnMinutes(page: Page): Promise<{ minutes: Minutes; title: string; ink: number; bins: number[] }> {
  const t = await attackTimeline(page);
  const minutes: Minutes = {};
  t.bins.forEach((b, i) => {
    const v = { critical: t.counts.critical![i]!, warning: t.counts.warning![i]!, info: t.counts.info![i]! };
    if (v.critical + v.warning + v.info > 0) minutes[String(b)] = v;
  });
  return { minutes, title: t.title, ink: t.ink, bins: t.bins };
}

/** Two clients alerting on one rule in the same second, and an error-log alert at a microsecond time (Apache 2.4),
 * through tail -> apache_access/apache_error -> detect -> store (`store` options); the alerts read back from the
 * engine `open` gives equal what detect raised, and a history view counts them. */
async function storeCase(store: (dir: string) => Promise<string>, open: () => StoreEngine): Promise<void> {
  const tmp = await tempDir('visor-attacks-store-');
  try {
    const t = Date.UTC(2026, 11, 3, 10, 0, 1);
    const access = await tmp.file('access.log', sensitive('198.51.100.2', t) + sensitive('198.51.100.3', t));
    const errors = await tmp.file('error.log', '[Thu Dec 03 10:00:02.123456 2026] [auth_basic:error] [pid 1234:tid 5678] [client 192.0.2.9:51234] AH01618: user bob not found: /private\n'.repeat(8));
    const h = await startPipeline(`
service: { data_dir: ${JSON.stringify(tmp.dir)} }
inputs:
  a: { type: tail, path: ${JSON.stringify(access)}, read_from: beginning, exit_on_eof: true }
  e: { type: tail, path: ${JSON.stringify(errors)}, read_from: beginning, exit_on_eof: true }
filters:
  access: { type: apache_access, inputs: [a], format: combined, timezone: UTC }
  errs: { type: apache_error, inputs: [e], timezone: UTC }
aggregates:
  det: { type: detect, inputs: [access, errs] }
outputs:
  db: { type: store, inputs: [det], ${await store(tmp.dir)} }
  alerts: { type: test_record, inputs: [det] }
`);
    await h.pipeline.done();
    const all = h.probe('alerts').written;
    // The 7th and 8th auth failures fall in brute-force's quiet period: a digest at the end of the input, stored too.
    assert.deepEqual(all.map((a) => [a.rule, a.client_ip, a.state]).sort(), [['brute-force', '192.0.2.9', 'digest'], ['brute-force', '192.0.2.9', 'firing'], ['sensitive-files', '198.51.100.2', 'firing'], ['sensitive-files', '198.51.100.3', 'firing']]);
    const raised = all.filter(isAttack); // what the attacks panel counts: detections, not digests
    assert.ok(raised.some((a) => !Number.isInteger(a.since)), 'an alert starting at a fractional millisecond');
    const engine = open();
    try {
      const rows = await engine.query('SELECT payload FROM alerts');
      const stored = rows.map((r) => (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Event);
      const wholeState = (a: Event) => JSON.stringify([a.state, a.rule, a.client_ip, a.severity, a.last, a.evidence]);
      assert.deepEqual(stored.map(wholeState).sort(), all.map(wholeState).sort());
      // A history view counts them all, with each client's evidence.
      const view = await historyState(engine, { from: t - 60_000, to: t + 60_000, filters: {}, topN: 10, alerts: 10, title: 't', events: false });
      assert.deepEqual(shown(view), recount(raised));
      for (const c of view.attacks!.clients) assert.deepEqual(c.evidence, raised.find((a) => a.client_ip === c.client)!.evidence, c.client);
      assert.deepEqual(stateMinutes(view), perMinute(raised));
    } finally {
      await engine.close();
    }
  } finally {
    await tmp.remove();
  }
}

describe('attacks in the store: every detect alert one row, whole', () => {
  it('SQLite', async () => {
    let file = '';
    await storeCase(async (dir) => `path: ${JSON.stringify((file = path.join(dir, 'visor.db')))}`,
      () => new SqliteEngine({ file, synchronous: 'normal', busyTimeout: 5000, readOnly: true }));
  });
  it('PostgreSQL (a real server)', async function () {
    skipWhenMissing(this, postgresMissing());
    const { server, release } = await sharedPostgres();
    try {
      const url = await server.createDatabase('visor_attacks');
      await storeCase(async () => `engine: postgres, url: "${url}"`, () => new PostgresEngine({ url, timeout: 10_000 }));
    } finally {
      await release();
    }
  });
});

describe('attacks panel: live timeline, history from a store, after a restart', function () {
  this.timeout(180_000);
  let browser: Browser;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let agent: CliProcess | undefined;
  let base = '';
  // The start of the current minute: the offsets below (+5 s at most) then never carry an attack into the next
  // minute, which a `now` in a minute's last seconds did (the per-minute counts failed about 1 run in 10).
  const now = Math.floor(Date.now() / MIN) * MIN;
  // C: 3 h ago (two minutes), B: 40 min ago, A: 6 and 3 min ago (in the live charts' 15 minutes). Quiet traffic from
  // 5 h ago on, none of it an attack: 2 h to 1 h ago is a range with traffic and no attacks.
  const C1 = now - 180 * MIN, C2 = now - 178 * MIN, B = now - 40 * MIN, A1 = now - 6 * MIN, A2 = now - 3 * MIN;
  const attacks = {
    before: sensitive('198.51.100.10', C1) + traversal('198.51.100.11', C1 + 5000) + traversal('198.51.100.12', C2)
      + traversal('198.51.100.20', B) + traversal('198.51.100.21', B) + sensitive('198.51.100.22', B + 1000) + sensitive('203.0.113.30', A1),
    appended: traversal('203.0.113.31', A2) + traversal('203.0.113.32', A2 + 2000),
  };
  const quiet: string[] = [];
  for (let k = 0, t = now - 300 * MIN; t < now - 5 * MIN; k++, t += 90_000) quiet.push(line(`192.0.2.${1 + (k % 7)}`, ['/', '/shop', '/about'][k % 3]!, 200, t));
  const quietIn = (from: number, to: number) => quiet.filter((l) => stampOf(l) >= from && stampOf(l) < to).length;
  const recorded = (): Event[] => readFileSync(path.join(tmp.dir, 'alerts.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
  const state = async () => (await (await fetch(`${base}/api/state`)).json()) as DashboardState;
  const history = async (q: string) => {
    const res = await fetch(`${base}/api/history?${q}`);
    const body = (await res.json()) as HistoryState;
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  };
  const start = async (): Promise<CliProcess> => {
    const p = new CliProcess(['run', '-c', path.join(tmp.dir, 'visor.yaml')], { cwd: tmp.dir });
    await p.waitForStderr(/visor started/, 20_000);
    return p;
  };
  const stop = async () => {
    agent?.child.kill('SIGTERM');
    const r = await agent?.exited;
    agent = undefined;
    assert.equal(r?.code, 0, r?.stderr.slice(-3000));
  };

  before(async function () {
    browser = await requireChromium(this);
    tmp = await tempDir('visor-attacks-dash-');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Time order, as a server writes them.
    const all = [...quiet, ...attacks.before.split(/(?<=\n)/)].sort((a, b) => stampOf(a) - stampOf(b));
    await tmp.file('access.log', all.join(''));
    await tmp.file('visor.yaml', `service: { data_dir: ./state, log_level: info }
inputs:
  logs: { type: tail, path: access.log, read_from: beginning, checkpoint_interval: 100ms }
filters:
  access: { type: apache_access, inputs: [logs], format: combined, timezone: UTC }
aggregates:
  det: { type: detect, inputs: [access] }
outputs:
  db: { type: store, inputs: [access, det], events: true, batch_timeout: 10ms }
  record: { type: file, inputs: [det], path: alerts.jsonl }
  dash: { type: dashboard, inputs: [access, det], listen: 127.0.0.1:${port}, store: db, update_every: 200ms, history: 15m, top_window: 15m }
  unparsed: { type: blackhole, inputs: [access._unparsed] }
`);
  });
  after(async () => {
    agent?.child.kill('SIGTERM');
    await agent?.exited;
    await browser?.close();
    await tmp?.remove();
  });
  function stampOf(l: string): number {
    const [, d, mon, y, hh, mm, ss] = /\[(\d+)\/(\w+)\/(\d+):(\d+):(\d+):(\d+)/.exec(l)!;
    return Date.UTC(Number(y), MONTHS.indexOf(mon!), Number(d), Number(hh), Number(mm), Number(ss));
  }

  it('live: the timeline chart shows each minute\'s alerts per severity, and updates as more attacks are read', async () => {
    agent = await start();
    await waitFor(async () => (await state().catch(() => undefined))?.attacks?.alerts === 7, 20_000, 'the 7 alerts of the first lines');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchPage(page);
    try {
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-test="chart-attacks"] canvas');
      const first = recorded();
      assert.equal(first.length, 7, 'one alert per attacker');
      // Charted: those within the live charts' 15 minutes (A1's); the panel's tables count all since start.
      const live = (alerts: Event[]) => alerts.filter((a) => attackTime(a, 0) >= now - 15 * MIN);
      let drawn = await drawnMinutes(page);
      assert.deepEqual(drawn.minutes, { [String(Math.floor(A1 / MIN) * MIN)]: { critical: 0, warning: 1, info: 0 } });
      assert.deepEqual(drawn.minutes, perMinute(live(first)));
      assert.equal(drawn.title, 'Alerts per minute, by severity');
      assert.ok(drawn.ink > 10, `drawn (${drawn.ink} coloured pixels)`);
      assert.ok(drawn.bins.length >= 10 && drawn.bins.every((b, i) => i === 0 || b - drawn.bins[i - 1]! === MIN), 'one bin per minute');

      // Two more attackers (critical), read while the page is open.
      appendFileSync(path.join(tmp.dir, 'access.log'), attacks.appended);
      // The chart's first series is the stack's top: each bin's total.
      await page.waitForFunction(() => (globalThis as any).visorDashboard.charts.attacks.data[1].reduce((s: number, v: number) => s + v, 0) === 3, undefined, { timeout: 15_000 });
      const all = recorded();
      assert.equal(all.length, 9);
      drawn = await drawnMinutes(page);
      assert.deepEqual(drawn.minutes, {
        [String(Math.floor(A1 / MIN) * MIN)]: { critical: 0, warning: 1, info: 0 },
        [String(Math.floor(A2 / MIN) * MIN)]: { critical: 2, warning: 0, info: 0 },
      });
      assert.deepEqual(drawn.minutes, perMinute(live(all)));
      // What a user reads hovering the bar of A2's minute.
      const at = drawn.bins.indexOf(Math.floor(A2 / MIN) * MIN);
      const legend = await attackLegendAt(page, at);
      assert.deepEqual({ critical: legend.critical, warning: legend.warning, info: legend.info }, { critical: '2', warning: '0', info: '0' });
      assert.equal(Number(await page.getAttribute(`[data-test="row-attack_rules"][data-value="path-traversal"]`, 'data-count')), recount(all).rules['path-traversal']);
      assert.deepEqual(problems.errors, []);
    } finally {
      await page.close();
    }
  });

  it('after a restart: the live view refilled with the stored alerts; /api/history has each range\'s attacks', async () => {
    const all = recorded();
    // The store has them all before the agent stops (its batches commit within 10 ms).
    await waitFor(async () => (await history(`from=${now - 86_400_000}&to=${Date.now()}`)).attacks?.alerts === all.length, 10_000, 'the store to hold the alerts');
    await stop();
    agent = await start();
    await agent.waitForStderr(/dashboard refilled from the store/, 20_000);
    const t = Date.now();
    const inRange = (from: number, to: number) => all.filter((a) => attackTime(a, 0) >= from && attackTime(a, 0) < to);

    // Live: the alerts of the refill span (the 15 minutes), charted at their minute.
    const after = await state();
    assert.deepEqual(shown(after), recount(inRange(t - 15 * MIN, t)));
    assert.equal(after.attacks!.alerts, 3);
    assert.deepEqual(stateMinutes(after), perMinute(inRange(t - 15 * MIN, t)));

    // 24 h: every alert, per minute and class; the evidence of each client shown is its alert's.
    const day = await history(`from=${t - 86_400_000}&to=${t}`);
    assert.deepEqual(shown(day), recount(all));
    assert.deepEqual(stateMinutes(day), perMinute(all));
    assert.equal(Object.keys(perMinute(all)).length, 5, 'C1, C2, B, A1, A2');
    for (const c of day.attacks!.clients) {
      const a = all.find((x) => x.client_ip === c.client)!;
      assert.deepEqual(c.evidence, a.evidence, c.client);
      assert.deepEqual(c.rules, [a.rule]);
      assert.equal(c.last, a.last);
    }
    assert.deepEqual(day.attacks!.rules.map((r) => [r.rule, r.severity]).sort(), [['path-traversal', 'critical'], ['sensitive-files', 'warning']]);
    // 1 h: B and A; 10 s event buckets, summed per minute by the page.
    const hour = await history(`from=${t - 3600_000}&to=${t}`);
    assert.deepEqual(shown(hour), recount(inRange(t - 3600_000, t)));
    assert.equal(hour.attacks!.alerts, 6);
    assert.deepEqual(stateMinutes(hour), perMinute(inRange(t - 3600_000, t)));
    // 2 h to 1 h ago: traffic, no attacks.
    const none = await history(`from=${t - 2 * 3600_000}&to=${t - 3600_000}`);
    assert.equal(none.totals.requests, quietIn(t - 2 * 3600_000, t - 3600_000));
    assert.ok(none.totals.requests > 0);
    assert.equal(none.attacks, undefined);
    assert.deepEqual(stateMinutes(none), {});
    // A client filter: that client's alerts; a status filter: no panel, and the view says why.
    const one = await history(`from=${t - 86_400_000}&to=${t}&client=198.51.100.21`);
    assert.deepEqual(shown(one), recount(all.filter((a) => a.client_ip === '198.51.100.21')));
    const byStatus = await history(`from=${t - 86_400_000}&to=${t}&status=404`);
    assert.equal(byStatus.attacks, undefined);
    assert.ok(byStatus.history.missing.some((m) => /^attacks/.test(m)), byStatus.history.missing.join('; '));
  });

  it('after a restart, in Chromium: the range picked shows its stored attacks; a range without any shows no panel', async () => {
    const all = recorded();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchPage(page);
    const view = (n: number, what: string) => historyView(page, n, what);
    const rows = (table: string): Promise<Record<string, number>> =>
      page.evaluate(`Object.fromEntries([...document.querySelectorAll('[data-test="row-${table}"]')].map((r) => [r.dataset.value, Number(r.dataset.count)]))`);
    const panel = async () => ({ alerts: Number((await page.textContent('[data-test="attacks-note"]'))!.replace(/,/g, '').match(/^\d+/)![0]), rules: await rows('attack_rules'), clients: await rows('attack_clients') });
    try {
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-test="chart-attacks"] canvas');
      const t = Date.now();
      const inRange = (from: number, to: number) => all.filter((a) => attackTime(a, 0) >= from && attackTime(a, 0) < to);
      // Live, after the restart: the refilled alerts.
      assert.deepEqual(await panel(), recount(inRange(t - 15 * MIN, t)));
      assert.deepEqual((await drawnMinutes(page)).minutes, perMinute(inRange(t - 15 * MIN, t)));

      await page.click('[data-test="range-1h"]');
      let seq = await view(0, '1 h');
      assert.deepEqual(await panel(), recount(inRange(t - 3600_000, t)));
      let drawn = await drawnMinutes(page);
      assert.deepEqual(drawn.minutes, perMinute(inRange(t - 3600_000, t)));
      assert.equal(drawn.title, 'Alerts per minute, by severity');
      assert.match((await page.textContent('[data-test="attacks-note"]'))!, /alerts in the range/);
      // Hovering B's bar (a minute is ~20 px wide here; in 24 h it is under one pixel).
      const legend = await attackLegendAt(page, drawn.bins.indexOf(Math.floor(B / MIN) * MIN));
      assert.deepEqual([legend.critical, legend.warning, legend.info], ['2', '1', '0'], 'B\'s minute: two traversals and a sensitive-files alert');

      await page.click('[data-test="range-24h"]');
      seq = await view(seq, '24 h');
      assert.deepEqual(await panel(), recount(all));
      drawn = await drawnMinutes(page);
      assert.deepEqual(drawn.minutes, perMinute(all));
      // The evidence of a pre-restart client, whole, on a click.
      const c = '198.51.100.10';
      await page.click(`[data-test="row-attack_clients"][data-value="${c}"] [data-test="evidence-toggle"]`);
      assert.equal(await page.textContent(`[data-test="evidence-row"][data-value="${c}"] [data-test="evidence"]`), (all.find((a) => a.client_ip === c)!.evidence as string[]).join('\n'));

      // A custom range without attacks (2 h to 1 h ago, whole minutes): traffic, and no Attacks panel.
      await page.click('[data-test="range-custom"]');
      const local = (ms: number) => { const d = new Date(ms); return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}`; };
      const from = Math.ceil((t - 2 * 3600_000) / MIN) * MIN, to = Math.floor((t - 3600_000) / MIN) * MIN;
      await page.fill('[data-test="custom-from"]', local(from));
      await page.fill('[data-test="custom-to"]', local(to));
      await page.click('[data-test="custom-apply"]');
      seq = await view(seq, 'custom');
      assert.equal(Number(await page.getAttribute('[data-test="kpi-requests"]', 'data-value')), quietIn(from, to));
      assert.ok(quietIn(from, to) > 0);
      assert.equal(await page.locator('[data-test="attacks"]').isHidden(), true, 'no Attacks panel');

      // Back to 24 h: the panel again.
      await page.click('[data-test="range-24h"]');
      await view(seq, '24 h again');
      assert.equal(await page.locator('[data-test="attacks"]').isVisible(), true);
      assert.deepEqual((await panel()).rules, recount(all).rules);
      assert.deepEqual(problems.errors, []);
    } finally {
      await page.close();
    }
  });
});
