// Roll-ups and retention of the store on SQLite, read back with Debian's sqlite3 CLI: 1m window rows (made by
// lib/stats' shape, as the window aggregate makes them, with event times in the past) rolled up to 1h and 1d
// equal both the merge of the stored 1m rows and a brute-force recount of the input (exact metrics equal; top-N
// and percentiles within their bounds); writing the same batches again adds no row; retention deletes exactly
// the expired rows and keeps the rest.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Event, OutputInstance, PluginContext } from '../core/index.js';
import { MetricsHub } from '../core/runtime/metrics.js';
import { compileShape, storedState, STATE_TOP, type ShapeOptions } from '../lib/stats/index.js';
import type { Retention } from '../lib/store/index.js';
import storePlugin from '../plugins/outputs/store/index.js';
import { pluginContext } from './support/corpora.js';
import { onPath, skipWhenMissing, tempDir } from './support/helpers.js';

const SQLITE3 = onPath('sqlite3');
function sq<T = Record<string, unknown>>(file: string, sql: string): T[] {
  const out = execFileSync(SQLITE3!, ['-json', '-readonly', '-cmd', '.timeout 10000', file, sql], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.trim() ? (JSON.parse(out) as T[]) : [];
}

const HOUR = 3_600_000;
const T0 = Date.UTC(2020, 0, 1, 0, 0, 0); // long expired for a 14d retention
const SHAPE = {
  window: { type: 'tumbling', size: 60_000 }, group_by: ['status'],
  metrics: { bytes: 'sum(bytes)', max_bytes: 'max(bytes)', errors: 'count(status >= 500)' },
  top: [{ field: 'path', n: 3, capacity: 10000 }], percentiles: [{ field: 'bytes', p: [50, 95] }], distinct: ['client'],
} as unknown as ShapeOptions;

/** Seeded events over 3 hours; deterministic. */
function input(): Event[] {
  let x = 7;
  const rnd = (n: number) => { x = (x * 1103515245 + 12345) % 2147483648; return x % n; };
  const out: Event[] = [];
  for (let i = 0; i < 6000; i++) {
    out.push({ timestamp: T0 + rnd(3 * HOUR), status: [200, 404, 500][rnd(3)], bytes: 100 + rnd(5000), path: `/p${rnd(20)}`, client: `10.0.0.${rnd(200)}` });
  }
  return out;
}

/** The 1m window results with `_window`, as the window aggregate emits them with state: true. */
function minuteResults(events: Event[]): Event[] {
  const shape = compileShape(SHAPE);
  const groups = new Map<string, { start: number; g: ReturnType<typeof shape.newGroup> }>();
  for (const e of events) {
    const start = Math.floor((e.timestamp as number) / 60_000) * 60_000;
    const k = `${start}|${e.status}`;
    let w = groups.get(k);
    if (!w) groups.set(k, (w = { start, g: shape.newGroup([e.status]) }));
    shape.addTo(w.g, e);
  }
  return [...groups.values()].map(({ start, g }) => ({ ...shape.result(start, start + 60_000, g), _window: storedState('traffic', ['status'], 60_000, shape, g, STATE_TOP) }));
}

async function openStore(dir: string, options: Record<string, unknown>) {
  const hub = new MetricsHub();
  const base = pluginContext('db', 'store', hub, 'output');
  const context: PluginContext = { ...base, configDir: dir, dataDir: async () => { await mkdir(path.join(dir, 'db'), { recursive: true }); return path.join(dir, 'db'); } };
  const out = (await storePlugin.create({
    engine: 'sqlite', synchronous: 'normal', busy_timeout: 100, timeout: 10_000, events: true, event_exclude: [], position_field: 'position',
    kafka_field: 'kafka', batch_size: 2000, batch_timeout: 50, agent: 'a1', rollups: [HOUR, 24 * HOUR], retention: {}, retention_interval: 3_600_000, ...options,
  } as never, context)) as OutputInstance & { retention: Retention };
  await out.start?.();
  return { out, file: path.join(dir, 'db', 'visor.db') };
}

describe('store output: roll-ups and retention (SQLite, sqlite3 reads it back)', function () {
  this.timeout(60_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(function () { skipWhenMissing(this, SQLITE3 ? undefined : 'sqlite3 is not installed (apt-get install sqlite3)'); });
  beforeEach(async () => { tmp = await tempDir('visor-rollup-'); });
  afterEach(async () => { await tmp.remove(); });

  it('1h and 1d rows equal the merge of the 1m rows and a recount; writing again adds no row', async () => {
    const events = input();
    const results = minuteResults(events);
    const s = await openStore(tmp.dir, {});
    for (let i = 0; i < results.length; i += 100) await s.out.write(results.slice(i, i + 100)); // several batches per hour
    const rows = () => sq<{ resolution: string; window_start: number; window_end: number; group_key: string; count: number; metrics: string; fingerprint: string }>(s.file,
      'SELECT resolution, window_start, window_end, group_key, count, metrics, fingerprint FROM windows ORDER BY resolution, window_start, group_key');
    const first = rows();
    for (let i = 0; i < results.length; i += 250) await s.out.write(results.slice(i, i + 250)); // a replay, batched otherwise
    assert.deepEqual(rows(), first, 'recomputing the roll-ups changes and adds nothing');

    const hours = first.filter((r) => r.resolution === '1h');
    const days = first.filter((r) => r.resolution === '1d');
    assert.equal(hours.length, 3 * 3, '3 hours x 3 statuses');
    assert.equal(days.length, 3);
    for (const [res, size, list] of [['1h', HOUR, hours], ['1d', 24 * HOUR, days]] as const) {
      for (const r of list) {
        const status = JSON.parse(r.group_key)[0];
        const mine = events.filter((e) => e.status === status && (e.timestamp as number) >= r.window_start && (e.timestamp as number) < r.window_start + size);
        const m = JSON.parse(r.metrics);
        assert.equal(r.window_end - r.window_start, size);
        assert.equal(r.count, mine.length, `${res} count`);
        assert.equal(m.bytes, mine.reduce((a, e) => a + (e.bytes as number), 0), `${res} sum`);
        assert.equal(m.max_bytes, Math.max(...mine.map((e) => e.bytes as number)), `${res} max`);
        assert.equal(m.errors, status >= 500 ? mine.length : 0);
        assert.equal(m.distinct_client, new Set(mine.map((e) => e.client)).size, 'distinct: exact below 4096');
        // Top paths: each reported count is within the bound of the true count.
        const truth = new Map<string, number>();
        for (const e of mine) truth.set(e.path as string, (truth.get(e.path as string) ?? 0) + 1);
        for (const t of m.top_path as Array<{ value: string; count: number }>) {
          assert.ok(Math.abs(t.count - truth.get(t.value)!) <= m.top_path_error_bound, `top ${t.value}`);
        }
        const sorted = mine.map((e) => e.bytes as number).sort((a, b) => a - b);
        for (const p of [50, 95]) {
          const exact = sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
          assert.ok(Math.abs(m[`p${p}_bytes`] - exact) <= exact * 0.02 + 1, `p${p} ${m[`p${p}_bytes`]} vs ${exact}`);
        }
        // The rolled row equals the merge of the stored 1m rows (the same numbers from the finer rows).
        const minutes = first.filter((x) => x.resolution === '1m' && x.group_key === r.group_key && x.window_start >= r.window_start && x.window_start < r.window_start + size);
        assert.equal(minutes.reduce((a, x) => a + x.count, 0), r.count);
        assert.equal(minutes.reduce((a, x) => a + JSON.parse(x.metrics).bytes, 0), m.bytes);
      }
    }
    const fps = sq<{ n: number }>(s.file, "SELECT count(*) AS n FROM windows w WHERE NOT EXISTS (SELECT 1 FROM aggregates a WHERE a.fingerprint = w.fingerprint)");
    assert.equal(fps[0].n, 0, 'every row\'s fingerprint has its spec in aggregates');
    await s.out.close?.();
  });

  it('retention deletes exactly the expired rows, in batches, and keeps the rest', async () => {
    const s = await openStore(tmp.dir, { retention: { events: 7 * 24 * HOUR, '1m': 14 * 24 * HOUR, '1h': 400 * 24 * HOUR, '1d': 'forever' } });
    const now = Date.now();
    const old = minuteResults(input()); // 2020: expired at 1m and 1h, kept at 1d
    const recent = minuteResults(input().map((e) => ({ ...e, timestamp: (e.timestamp as number) - T0 + Math.floor((now - 2 * 24 * HOUR) / 86_400_000) * 86_400_000 })));
    await s.out.write([...old, ...recent]);
    const evs: Event[] = [];
    for (let i = 0; i < 2500; i++) evs.push({ message: `old ${i}`, timestamp: now - 8 * 24 * HOUR - i * 1000, position: { file: 'f', offset: i } });
    for (let i = 0; i < 30; i++) evs.push({ message: `new ${i}`, timestamp: now - 6 * 24 * HOUR + i, position: { file: 'f', offset: 10_000 + i } });
    await s.out.write(evs);
    const before = sq<{ resolution: string; n: number }>(s.file, 'SELECT resolution, count(*) AS n FROM windows GROUP BY resolution ORDER BY resolution');
    const deleted = await s.out.retention.run(now);
    const count = (sql: string) => Number(Object.values(sq(s.file, sql)[0])[0]);
    assert.equal(count('SELECT count(*) FROM events'), 30, 'events older than 7 days deleted (2500 rows: three batches)');
    assert.equal(count(`SELECT count(*) FROM events WHERE extra LIKE '%"old %'`), 0);
    assert.equal(count(`SELECT count(*) FROM windows WHERE resolution = '1m' AND window_end < ${now - 14 * 24 * HOUR}`), 0);
    assert.equal(count(`SELECT count(*) FROM windows WHERE resolution = '1m'`), recent.length, 'recent 1m rows kept');
    assert.equal(count(`SELECT count(*) FROM windows WHERE resolution = '1h' AND window_start < ${T0 + 24 * HOUR}`), 0, '2020 hours expired');
    assert.equal(count(`SELECT count(*) FROM windows WHERE resolution = '1d'`), before.find((b) => b.resolution === '1d')!.n, '1d kept forever');
    const total = before.reduce((a, b) => a + b.n, 0) - count('SELECT count(*) FROM windows') + 2500;
    assert.equal(deleted, total, 'run() reports what it deleted');
    assert.equal(await s.out.retention.run(now), 0, 'nothing left to delete');
    await s.out.close?.();
  });
});
