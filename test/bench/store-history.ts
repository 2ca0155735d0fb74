// The dashboard's history views over a big SQLite store: 10 million stored events over the last 24 h, with the
// window rows a `window` aggregate (1m, group_by [vhost, status], top client_ip and path) and the store's roll-ups
// (1h, 1d) would have written for them. The rows are generated directly and written through the engine's own
// upsert (StoreEngine.write, in large transactions), not through the pipeline: the figure is the read side.
// p95 latency of the 24 h view (GET /api/history's work: historyState over a read-only connection, from the 1m
// window rows), beside same-run baselines: a plain `SELECT count(*)` of the same 24 h of events, the 15 min view
// (from events, 1 s buckets) and the 7 d view (1h roll-ups). Goal: 24 h view p95 <= 100 ms.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { historyState, type HistoryRequest } from '../../lib/dashboard/index.js';
import { SqliteEngine, TABLES, type Row } from '../../lib/store/index.js';
import { rng } from './apache-lines.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const VHOSTS = ['www.example.com', 'shop.example.com', 'api.example.com', 'blog.example.com'];
const STATUSES = [200, 200, 200, 200, 200, 200, 304, 301, 404, 404, 500, 503];
const MINUTE = 60_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** p50 and p95 of `runs` calls of `fn` (ms), after one to warm up. */
export async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await fn(); // warm (statement cache, page cache)
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  t.sort((a, b) => a - b);
  return { p50: percentile(t, 50), p95: percentile(t, 95) };
}

type Group = { count: number; bytes: number; clients: Map<string, number>; paths: Map<string, number> };
const top = (m: Map<string, number>, n = 10) => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n).map(([value, count]) => ({ value, count }));

/** Fills `engine` with `total` events over [end - 24 h, end) and their window rows (1m, 1h, 1d). */
export async function fill(engine: SqliteEngine, total: number, end: number): Promise<void> {
  const rnd = rng(11);
  const start = end - 86_400_000;
  const clients = Array.from({ length: 2000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`);
  const paths = Array.from({ length: 300 }, (_, i) => `/p/${i}`);
  const windowRow = (resolution: string, size: number, t: number, key: string, g: Group): Row => {
    const [vhost, status] = JSON.parse(key) as [string, number];
    const metrics = { bytes: g.bytes, top_client_ip: top(g.clients), top_client_ip_error_bound: 0, top_path: top(g.paths), top_path_error_bound: 0 };
    return { values: ['bench', 'traffic', resolution, t, t + size, key, JSON.stringify({ vhost, status }), g.count, JSON.stringify(metrics), null, 'f', end], event: {} };
  };
  const hours = new Map<string, Group>();
  const days = new Map<string, Group>();
  const addTo = (m: Map<string, Group>, key: string, g: Group) => {
    let h = m.get(key);
    if (!h) m.set(key, (h = { count: 0, bytes: 0, clients: new Map(), paths: new Map() }));
    h.count += g.count;
    h.bytes += g.bytes;
    for (const [k, v] of g.clients) h.clients.set(k, (h.clients.get(k) ?? 0) + v);
    for (const [k, v] of g.paths) h.paths.set(k, (h.paths.get(k) ?? 0) + v);
  };
  let minute = new Map<string, Group>();
  let minuteStart = Math.floor(start / MINUTE) * MINUTE;
  let events: Row[] = [];
  const windows: Row[] = [];
  const flushMinute = async () => {
    for (const [key, g] of minute) {
      windows.push(windowRow('1m', MINUTE, minuteStart, key, g));
      addTo(hours, `${Math.floor(minuteStart / 3_600_000) * 3_600_000}|${key}`, g);
      addTo(days, `${Math.floor(minuteStart / 86_400_000) * 86_400_000}|${key}`, g);
    }
    minute = new Map();
  };
  for (let i = 0; i < total; i++) {
    const time = start + Math.floor((i / total) * 86_400_000);
    const m = Math.floor(time / MINUTE) * MINUTE;
    if (m !== minuteStart) {
      await flushMinute();
      minuteStart = m;
    }
    const vhost = VHOSTS[Math.floor(rnd() * VHOSTS.length)]!;
    const status = STATUSES[Math.floor(rnd() * STATUSES.length)]!;
    const client = clients[Math.floor(rnd() ** 3 * clients.length)]!;
    const p = paths[Math.floor(rnd() ** 2 * paths.length)]!;
    const bytes = Math.floor(rnd() * 20_000);
    events.push({ values: [`e${i}`, time, 'bench', `tail:f:${i}`, vhost, client, null, 'GET', p, null, 'HTTP/1.1', status, bytes, null, null, null, null, null, '{}'], event: {} });
    const key = JSON.stringify([vhost, status]);
    let g = minute.get(key);
    if (!g) minute.set(key, (g = { count: 0, bytes: 0, clients: new Map(), paths: new Map() }));
    g.count++;
    g.bytes += bytes;
    g.clients.set(client, (g.clients.get(client) ?? 0) + 1);
    g.paths.set(p, (g.paths.get(p) ?? 0) + 1);
    if (events.length === 100_000) {
      await engine.write([{ table: TABLES.events, rows: events }]);
      events = [];
    }
  }
  await flushMinute();
  for (const [k, g] of hours) windows.push(windowRow('1h', 3_600_000, Number(k.slice(0, k.indexOf('|'))), k.slice(k.indexOf('|') + 1), g));
  for (const [k, g] of days) windows.push(windowRow('1d', 86_400_000, Number(k.slice(0, k.indexOf('|'))), k.slice(k.indexOf('|') + 1), g));
  const spec = { group_by: ['vhost', 'status'], window: { size: MINUTE, advance: MINUTE } };
  await engine.write([
    { table: TABLES.events, rows: events },
    { table: TABLES.windows, rows: windows },
    { table: TABLES.aggregates, rows: [{ values: ['bench', 'traffic', 'f', JSON.stringify(spec), start], event: {} }] },
  ]);
}

export async function benchStoreHistory(total = Number(process.env.BENCH_HISTORY_EVENTS ?? 10_000_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-history-'));
  const file = path.join(dir, 'visor.db');
  const out: string[] = [];
  try {
    const end = Math.floor(Date.now() / MINUTE) * MINUTE;
    const writer = new SqliteEngine({ file, synchronous: 'normal', busyTimeout: 1000 });
    await writer.open();
    const loadStart = process.hrtime.bigint();
    await fill(writer, total, end);
    const loadSecs = Number(process.hrtime.bigint() - loadStart) / 1e9;
    await writer.close();
    const size = (await stat(file)).size + (await stat(`${file}-wal`).catch(() => ({ size: 0 }))).size;
    const reader = new SqliteEngine({ file, synchronous: 'normal', busyTimeout: 5000, readOnly: true });
    await reader.open();
    const [{ windows }] = (await reader.query("SELECT count(*) AS windows FROM windows WHERE resolution = '1m'")) as Array<{ windows: number }>;
    const view = (from: number, to: number, filters = {}) => {
      const req: HistoryRequest = { from, to, filters, topN: 10, alerts: 50, title: 'bench', events: true };
      return () => historyState(reader, req);
    };
    const now = end;
    const runs = Number(process.env.BENCH_HISTORY_RUNS ?? 30);
    const day = await timed(runs, view(now - 86_400_000, now));
    const dayState = await view(now - 86_400_000, now)();
    if (dayState.history.source !== 'windows' || dayState.totals.requests !== total) throw new Error(`24 h view: ${dayState.history.source}, ${dayState.totals.requests} requests (want windows, ${total})`);
    const count = await timed(Math.min(runs, 10), () => reader.query('SELECT count(*) AS n FROM events WHERE time >= ? AND time < ?', [now - 86_400_000, now]));
    const quarter = await timed(runs, view(now - 15 * MINUTE, now, { client: '10.0.0.0' }));
    const week = await timed(runs, view(now - 7 * 86_400_000, now));
    const fivexx = await timed(runs, view(now - 86_400_000, now, { status_class: '5xx', vhost: VHOSTS[1] }));
    await reader.close();
    out.push(`dashboard history (SQLite, ${fmt(total)} stored events over 24 h, ${fmt(windows)} 1m window rows; loaded in ${loadSecs.toFixed(1)} s through the engine, ${fmt(size / 1e6)} MB):`);
    out.push(`  24 h view (1m window rows):              p50 ${day.p50.toFixed(1)} ms, p95 ${day.p95.toFixed(1)} ms (goal <= 100 ms)`);
    out.push(`  24 h view, 5xx of one vhost (windows):   p50 ${fivexx.p50.toFixed(1)} ms, p95 ${fivexx.p95.toFixed(1)} ms`);
    out.push(`  7 d view (1h roll-ups):                  p50 ${week.p50.toFixed(1)} ms, p95 ${week.p95.toFixed(1)} ms`);
    out.push(`  baseline: 15 min view, one client (events, 1 s buckets): p50 ${quarter.p50.toFixed(1)} ms, p95 ${quarter.p95.toFixed(1)} ms`);
    out.push(`  baseline: SELECT count(*) of the same 24 h of events:   p50 ${count.p50.toFixed(1)} ms, p95 ${count.p95.toFixed(1)} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
