// The dashboard's history from a store (`dashboard: { store: ID }`): a real `visor run` (tail -> apache_access ->
// window state: true -> store with events, alerts, and the dashboard reading the store) on generated lines with
// known timestamps, stopped and started again. After the restart the live view shows what it showed before (refilled
// from the store), and GET /api/history and the page's range picker and filters give a brute-force recount of the
// lines: from window rows (1m, and the 1h roll-ups for 7 d) or, for a filter the windows do not group by, from the
// stored events. SQLite in real Chromium; PostgreSQL (a real server) at the API level.
import assert from 'node:assert/strict';

import type { Browser, Page } from 'playwright-core';
import path from 'node:path';
import { historyState, type DashboardState, type HistoryState } from '../lib/dashboard/index.js';
import { SqliteEngine } from '../lib/store/index.js';
import { historyView, requireChromium, watchPage } from './support/browser.js';
import { CliProcess, freePort, skipWhenMissing, tempDir } from './support/helpers.js';
import { postgresMissing, sharedPostgres, type PostgresServer } from './support/postgres.js';
import { rng } from './bench/apache-lines.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');
const accessTime = (ms: number) => { const d = new Date(ms); return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`; };

// Few clients and paths: every window's top-10 list is then complete, and the merged lists exact.
const CLIENTS = ['203.0.113.5', '203.0.113.9', '198.51.100.7', '198.51.100.23', '192.0.2.44', '192.0.2.80'];
const PATHS = ['/', '/api/orders', '/api/users', '/login', '/static/app.js', '/cart', '/checkout'];
const STATUSES = [200, 200, 200, 200, 304, 301, 404, 500, 503];

interface Line { time: number; client: string; path: string; status: number; bytes: number }

/** The lines: A in the last 12 to 2 minutes, B 50 to 20 minutes ago, C 5 to 3 hours ago; in time order. */
function generate(now: number, seed = 7): { lines: Line[]; text: string; groups: Record<'A' | 'B' | 'C', Line[]> } {
  const rnd = rng(seed);
  const second = Math.floor(now / 1000) * 1000;
  const group = (n: number, fromAgo: number, toAgo: number): Line[] => Array.from({ length: n }, () => ({
    time: second - toAgo - Math.floor(rnd() * (fromAgo - toAgo) / 1000) * 1000,
    client: CLIENTS[Math.floor(rnd() ** 2 * CLIENTS.length)]!,
    path: PATHS[Math.floor(rnd() * PATHS.length)]!,
    status: STATUSES[Math.floor(rnd() * STATUSES.length)]!,
    bytes: Math.floor(rnd() * 5000),
  })).sort((a, b) => a.time - b.time);
  const groups = { C: group(400, 5 * 3600_000, 3 * 3600_000), B: group(300, 50 * 60_000, 20 * 60_000), A: group(200, 12 * 60_000, 2 * 60_000) };
  const lines = [...groups.C, ...groups.B, ...groups.A];
  const text = lines.map((l) => `${l.client} - - [${accessTime(l.time)}] "GET ${l.path} HTTP/1.1" ${l.status} ${l.bytes} "-" "test/1.0"\n`).join('');
  return { lines, text, groups };
}

function topOf(values: string[], n = 10) {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n).map(([value, count]) => ({ value, count }));
}
/** What the dashboard should show for these lines. */
function recount(lines: Line[]) {
  const cls = (s: number) => `${Math.floor(s / 100)}xx`;
  const errors = lines.filter((l) => l.status >= 500);
  return {
    requests: lines.length,
    errors: errors.length,
    bytes: lines.reduce((s, l) => s + l.bytes, 0),
    status_classes: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0, ...Object.fromEntries(topOf(lines.map((l) => cls(l.status)), 9).map((i) => [i.value, i.count])) },
    clients: topOf(lines.map((l) => l.client)),
    paths: topOf(lines.map((l) => l.path)),
    error_clients: topOf(errors.map((l) => l.client)),
  };
}
const figures = (s: DashboardState) => ({
  requests: s.totals.requests, errors: s.totals.errors, bytes: s.totals.bytes, status_classes: s.totals.status_classes,
  clients: s.top.clients, paths: s.top.paths, error_clients: s.top.error_clients,
});
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

const TOKEN = 'history-test-token-4b7e';
const auth = { headers: { authorization: `Bearer ${TOKEN}` } };

const config = (port: number, store: string) => `service: { data_dir: ./state, log_level: info }
inputs:
  logs: { type: tail, path: access.log, read_from: beginning, position_field: position, checkpoint_interval: 100ms, batch_size: 500 }
filters:
  access: { type: apache_access, inputs: [logs], timezone: UTC }
aggregates:
  traffic:
    type: window
    inputs: [access]
    window: { size: 1m }
    group_by: [status]
    metrics: { bytes: sum(bytes) }
    top: [{ field: client_ip, n: 10 }, { field: path, n: 10 }]
    state: true
    ack: emit
  alerts:
    type: alert
    inputs: [access]
    rules: [{ name: server-error, when: 'status >= 500', cooldown: 10m, severity: warning }]
outputs:
  db: { type: store, inputs: [access, traffic, alerts], events: true, agent: test-agent, batch_timeout: 10ms, ${store} }
  dash: { type: dashboard, inputs: [access, alerts], listen: 127.0.0.1:${port}, token: ${TOKEN}, store: db, update_every: 250ms, top_window: 15m }
  late: { type: blackhole, inputs: [traffic._late] }
  unparsed: { type: blackhole, inputs: [access._unparsed] }
`;

interface Run {
  base: string;
  data: ReturnType<typeof generate>;
  before: DashboardState;
  agent: CliProcess;
  stop(): Promise<void>;
}

async function until<T>(get: () => Promise<T | undefined>, test: (v: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await get().catch(() => undefined);
    if (last !== undefined && test(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)?.slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the agent over the lines, stops it (its last windows are flushed into the store), starts it again, and
 * waits until the restarted dashboard has refilled its live view. */
async function runAndRestart(dir: { dir: string; file(name: string, text: string): Promise<string> }, store: string): Promise<Run> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const data = generate(Date.now());
  await dir.file('access.log', data.text);
  const file = await dir.file('visor.yaml', config(port, store));
  const state = async () => (await (await fetch(`${base}/api/state`, auth)).json()) as DashboardState;
  const first = new CliProcess(['run', '-c', file], { cwd: dir.dir });
  let before: DashboardState;
  try {
    await first.waitForStderr(/visor started/);
    // The live view counts by event time: the last 15 minutes are the lines of A.
    before = await until(state, (s) => s.totals.requests === data.groups.A.length && sum(s.series.requests) === data.groups.A.length && s.alerts.length > 0, 'the live view of A');
  } finally {
    first.child.kill('SIGTERM');
    await first.exited;
  }
  assert.equal((await first.exited).code, 0, first.stderr.slice(-3000));
  const agent = new CliProcess(['run', '-c', file], { cwd: dir.dir });
  await agent.waitForStderr(/dashboard refilled from the store/, 20_000);
  return {
    base, data, before, agent,
    async stop() {
      agent.child.kill('SIGTERM');
      await agent.exited;
    },
  };
}

const history = async (base: string, query: string): Promise<HistoryState> => {
  const res = await fetch(`${base}/api/history?${query}`, auth);
  const body = (await res.json()) as HistoryState;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
};

/** The API checks both engines share. */
async function checkApi(run: Run): Promise<void> {
  const { base, data } = run;
  const now = Date.now();
  const { A, B, C } = data.groups;
  // After the restart: the live view as before it (refilled from the stored events and alerts).
  const after = (await (await fetch(`${base}/api/state`, auth)).json()) as DashboardState;
  assert.deepEqual(figures(after), figures(run.before), 'live view after the restart');
  assert.deepEqual(figures(after), recount(A));
  assert.equal(sum(after.series.requests), A.length);
  assert.deepEqual(after.series.requests.filter((n) => n > 0), run.before.series.requests.filter((n) => n > 0), 'the same chart');
  const key = (a: DashboardState['alerts'][number]) => `${a.name} ${a.state} ${a.time}`;
  for (const a of run.before.alerts) assert.ok(after.alerts.map(key).includes(key(a)), `alert ${key(a)} shown after the restart`);

  // 1 h: window rows at 1m.
  const hour = await history(base, `from=${now - 3600_000}&to=${now}`);
  assert.equal(hour.history.source, 'windows');
  assert.equal(hour.history.resolution, '1m');
  assert.deepEqual(figures(hour), recount([...B, ...A]));
  assert.equal(sum(hour.series.requests), B.length + A.length);
  assert.equal(hour.bucket_ms, 60_000);
  // Each chart bucket: the lines of that minute.
  for (const [i, t] of hour.series.t.entries()) {
    assert.equal(hour.series.requests[i], [...B, ...A].filter((l) => l.time >= t && l.time < t + 60_000).length, `minute ${new Date(t).toISOString()}`);
  }
  assert.ok(hour.alerts.length > 0, 'stored alerts');
  // 24 h and 7 d (the 1h roll-ups).
  const day = await history(base, `from=${now - 86_400_000}&to=${now}`);
  assert.equal(day.history.resolution, '1m');
  assert.deepEqual(figures(day), recount([...C, ...B, ...A]));
  const week = await history(base, `from=${now - 7 * 86_400_000}&to=${now}`);
  assert.equal(week.history.resolution, '1h');
  assert.deepEqual(figures(week), recount([...C, ...B, ...A]));
  // A filter the windows group by: status class and code, from window rows.
  const fivexx = await history(base, `from=${now - 86_400_000}&to=${now}&status_class=5xx`);
  assert.equal(fivexx.history.source, 'windows');
  assert.deepEqual(figures(fivexx), recount(data.lines.filter((l) => l.status >= 500)));
  const s404 = await history(base, `from=${now - 3600_000}&to=${now}&status=404`);
  assert.deepEqual(figures(s404), recount([...B, ...A].filter((l) => l.status === 404)));
  // A filter they do not group by: from the stored events, exact.
  const client = CLIENTS[1]!;
  const byClient = await history(base, `from=${now - 86_400_000}&to=${now}&client=${client}&status_class=5xx`);
  assert.equal(byClient.history.source, 'events');
  assert.deepEqual(figures(byClient), recount(data.lines.filter((l) => l.client === client && l.status >= 500)));
  const byPath = await history(base, `from=${now - 3600_000}&to=${now}&path=${encodeURIComponent('/api/orders')}`);
  assert.equal(byPath.history.source, 'events');
  assert.deepEqual(figures(byPath), recount([...B, ...A].filter((l) => l.path === '/api/orders')));
  assert.equal(sum(byPath.series.requests), byPath.totals.requests);
  // Values are bound, never pasted: a hostile one is a value nobody has.
  const hostile = await history(base, `from=${now - 3600_000}&to=${now}&client=${encodeURIComponent("x'; DROP TABLE events; --")}`);
  assert.equal(hostile.totals.requests, 0);
  assert.equal((await history(base, `from=${now - 3600_000}&to=${now}&client=${client}`)).totals.requests, [...B, ...A].filter((l) => l.client === client).length, 'events still there');
  // Bad requests are refused with the reason.
  // The token, as on every route.
  const none = await fetch(`${base}/api/history?from=${now - 3600_000}&to=${now}`);
  assert.equal(none.status, 401);
  await none.body?.cancel();
  const bad = await fetch(`${base}/api/history?from=${now}&to=${now - 1}`, auth);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /from must be before to/);
  assert.equal((await fetch(`${base}/api/history?status_class=6xx`, auth)).status, 400);
}

describe('dashboard history from a store', function () {
  this.timeout(180_000);

  describe('SQLite, in Chromium', () => {
    let browser: Browser;
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    let run: Run | undefined;
    before(async function () {
      browser = await requireChromium(this);
      tmp = await tempDir('visor-dash-history-');
      run = await runAndRestart(tmp, 'batch_size: 500');
    });
    after(async () => {
      await run?.stop();
      await browser?.close();
      await tmp?.remove();
    });

    it('after a restart, the live view is what it was, and /api/history equals a recount for each range and filter', async () => {
      await checkApi(run!);
    });

    it('the page: the range picker and filters change the numbers to the recount, and say where they come from', async () => {
      const { base, data } = run!;
      const { A, B, C } = data.groups;
      const page: Page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems = watchPage(page);
      const kpi = async () => Number(await page.getAttribute('[data-test="kpi-requests"]', 'data-value'));
      const view = (n: number, what: string) => historyView(page, n, what);
      const rows = (table: string): Promise<Array<{ value: string; count: number }>> =>
        page.evaluate(`[...document.querySelectorAll('[data-test="row-${table}"]')].map((r) => ({ value: r.dataset.value, count: Number(r.dataset.count) }))`);
      try {
        // The token given in the page's URL reaches its history requests too.
        await page.goto(`${base}/?token=${TOKEN}`);
        // The live 15 min view (from memory, refilled from the store after the restart).
        const liveKpi = (want: number) => page.waitForFunction((k) => { const d = (globalThis as any).document; return d.body.dataset.view !== 'history' && d.querySelector('[data-test="kpi-requests"]')?.dataset.value === String(k); }, want, { timeout: 10_000 });
        await liveKpi(A.length);
        assert.match(await page.textContent('[data-test="history-source"]') ?? '', /live, from memory/);
        assert.deepEqual(await rows('clients'), recount(A).clients);

        await page.click('[data-test="range-1h"]');
        let seq = await view(0, '1 h');
        assert.equal(await kpi(), A.length + B.length);
        assert.match(await page.textContent('[data-test="history-source"]') ?? '', /window rows of "traffic" at 1m/);
        assert.deepEqual(await rows('paths'), recount([...B, ...A]).paths);

        await page.click('[data-test="range-24h"]');
        seq = await view(seq, '24 h');
        assert.equal(await kpi(), data.lines.length);

        await page.selectOption('[data-test="filter-status_class"]', '5xx');
        seq = await view(seq, '24 h, 5xx');
        const fivexx = recount(data.lines.filter((l) => l.status >= 500));
        assert.equal(await kpi(), fivexx.requests);
        assert.equal(Number(await page.getAttribute('[data-test="kpi-error-rate"]', 'data-value')), 1);
        assert.deepEqual(await rows('clients'), fivexx.clients);

        const client = CLIENTS[0]!;
        await page.fill('[data-test="filter-client"]', client);
        await page.press('[data-test="filter-client"]', 'Enter');
        await page.locator('[data-test="filter-client"]').blur();
        seq = await view(seq, '24 h, 5xx, one client');
        const mine = recount(data.lines.filter((l) => l.status >= 500 && l.client === client));
        assert.equal(await kpi(), mine.requests);
        assert.match(await page.textContent('[data-test="history-source"]') ?? '', /from stored events/);
        assert.deepEqual(await rows('paths'), mine.paths);

        // A custom range around C only, without filters.
        await page.click('[data-test="filters-clear"]');
        seq = await view(seq, 'filters cleared');
        await page.click('[data-test="range-custom"]');
        const local = (ms: number) => { const d = new Date(ms); return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}`; };
        // Whole minutes around C (5 h to 3 h ago): the inputs have minute precision.
        await page.fill('[data-test="custom-from"]', local(C[0]!.time - 60_000));
        await page.fill('[data-test="custom-to"]', local(C[C.length - 1]!.time + 120_000));
        await page.click('[data-test="custom-apply"]');
        seq = await view(seq, 'custom');
        assert.equal(await kpi(), C.length);

        // Back to live.
        await page.click('[data-test="range-15m"]');
        await liveKpi(A.length);
        assert.deepEqual(problems.errors, [], 'no console or page errors');
      } finally {
        await page.close();
      }
    });

    it('a filter no source can answer is refused with the reason, never answered unfiltered', async () => {
      const engine = new SqliteEngine({ file: path.join(tmp.dir, 'state', 'db', 'visor.db'), synchronous: 'normal', busyTimeout: 5000, readOnly: true });
      try {
        const now = Date.now();
        const req = { from: now - 3600_000, to: now, topN: 10, alerts: 10, title: 't' };
        // Without stored events, a filter on a field the aggregate does not group by.
        const noEvents = await historyState(engine, { ...req, filters: { client: CLIENTS[0] }, events: false });
        assert.match(noEvents.history.unavailable ?? '', /cannot filter by client: aggregate "traffic" does not group by client_ip \(add it to its group_by\), and the store does not keep events/);
        assert.equal(noEvents.totals.requests, 0);
        assert.equal(sum(noEvents.series.requests), 0);
        assert.deepEqual(noEvents.top.clients, []);
        // With events, but more of them in the range than a view may read.
        const tooMany = await historyState(engine, { ...req, filters: { path: '/' }, events: true, maxEvents: 10 });
        assert.match(tooMany.history.unavailable ?? '', /cannot filter by path .*more than 10 stored events/);
        assert.equal(tooMany.totals.requests, 0);
        // The windows still answer what they group by.
        const ok = await historyState(engine, { ...req, filters: { status: 500 }, events: false });
        assert.equal(ok.history.unavailable, undefined);
        assert.equal(ok.totals.requests, run!.data.lines.filter((l) => l.status === 500 && l.time >= now - 3600_000).length);
      } finally {
        await engine.close();
      }
    });

    it('window groups summed in JavaScript (too many to name in SQL) give the same figures as summed by the database', async () => {
      const engine = new SqliteEngine({ file: path.join(tmp.dir, 'state', 'db', 'visor.db'), synchronous: 'normal', busyTimeout: 5000, readOnly: true });
      try {
        const now = Date.now();
        for (const filters of [{}, { status_class: '5xx' as const }]) {
          const req = { from: now - 86_400_000, to: now, filters, topN: 10, alerts: 0, title: 't', events: true };
          const inSql = await historyState(engine, req);
          const inJs = await historyState(engine, { ...req, maxGroupsInSql: 1 });
          assert.equal(inSql.history.source, 'windows');
          assert.deepEqual({ ...inJs, generated_at: 0 }, { ...inSql, generated_at: 0 });
          assert.equal(inSql.totals.requests, run!.data.lines.filter((l) => !filters.status_class || l.status >= 500).length);
        }
      } finally {
        await engine.close();
      }
    });

    it('a dashboard whose store names no store output is a located validate and run error (78), naming the fix', async () => {
      const port = await freePort();
      const text = config(port, 'batch_size: 500');
      const at = (yaml: string, needle: string) => {
        const before = yaml.slice(0, yaml.indexOf(needle)).split('\n');
        return `${before.length}:${before[before.length - 1]!.length + 1}`;
      };
      const file = await tmp.file('bad.yaml', text.replace('store: db,', 'store: nosuch,'));
      const other = await tmp.file('bad2.yaml', text.replace('store: db,', 'store: late,'));
      for (const command of ['validate', 'run']) {
        const r = await new CliProcess([command, '-c', file], { cwd: tmp.dir }).exited;
        assert.equal(r.code, 78, r.stderr);
        assert.ok(r.stderr.includes(`bad.yaml:${at(text.replace('store: db,', 'store: nosuch,'), 'nosuch')}`), r.stderr);
        assert.match(r.stderr, /no component "nosuch" in this pipeline: set it to the id of a store component \(the store components here: db\)/);
        const r2 = await new CliProcess([command, '-c', other], { cwd: tmp.dir }).exited;
        assert.equal(r2.code, 78, r2.stderr);
        assert.match(r2.stderr, /component "late" is of type blackhole, not store \(the store components here: db\)/);
      }
    });
  });

  describe('PostgreSQL (a real server), at the API level', () => {
    let server: PostgresServer;
    let release = async () => undefined as void;
    let tmp: Awaited<ReturnType<typeof tempDir>>;
    let run: Run | undefined;
    before(async function () {
      skipWhenMissing(this, postgresMissing());
      ({ server, release } = await sharedPostgres());
      tmp = await tempDir('visor-dash-history-pg-');
      const url = await server.createDatabase('visor_history');
      run = await runAndRestart(tmp, `engine: postgres, url: "${url}"`);
    });
    after(async () => {
      await run?.stop();
      await tmp?.remove();
      await release();
    });

    it('after a restart, the live view is what it was, and /api/history equals a recount for each range and filter', async () => {
      await checkApi(run!);
    });
  });
});


