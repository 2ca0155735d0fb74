// The Attacks panel of a history view (lib/dashboard/history-attacks.ts: counted by the database) against the live
// panel's counting (AttackCounter fed the same alerts, oldest first): a random mix of stored detect alerts with the
// payloads a store can hold (rules and clients that are no strings or empty, long names cut to 200 characters,
// `last` missing or no number, digests, alerts outside the range, a rule whose severity changed), in a real SQLite
// file and a real PostgreSQL server; and the view reads a few rows per rule, client and chart bucket, not one per
// alert.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Event } from '../core/index.js';
import { historyState, type HistoryFilters, type HistoryState } from '../lib/dashboard/index.js';
import { AttackCounter, attackTime, isAttack, severityClass, type AttacksJSON } from '../lib/stats/index.js';
import { PostgresEngine, RowMapper, SqliteEngine, TABLES, type StoreEngine } from '../lib/store/index.js';
import { rng } from './bench/apache-lines.js';
import { skipWhenMissing, tempDir } from './support/helpers.js';
import { postgresMissing, sharedPostgres } from './support/postgres.js';

const T = Date.UTC(2026, 11, 3, 10, 0, 0);
const FROM = T + 7_000;
const TO = T + 2 * 3_600_000;
const LONG_RULE = 'r'.repeat(230);
const SEVERITY: Record<string, string> = { 'sensitive-files': 'warning', 'path-traversal': 'CRITICAL', 'xss-probe': 'high', [LONG_RULE]: 'x'.repeat(50) };
const CLIENTS = [...Array.from({ length: 30 }, (_, i) => `198.51.100.${i}`), 'ü-host', 'Ωmega', `${'c'.repeat(250)}1`, `${'c'.repeat(250)}2`];

/** `n` alerts, one every 10 s from 30 min before T (first_time = since: each its own primary key). */
function alerts(n: number, seed: number): Event[] {
  const rnd = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: Event[] = [];
  for (let i = 0; i < n; i++) {
    const since = T - 1_800_000 + i * 10_000;
    const u = rnd();
    const rule: unknown = u < 0.02 ? 7 : u < 0.04 ? '' : u < 0.05 ? null : pick(['probing', 'sensitive-files', 'path-traversal', 'xss-probe', LONG_RULE]);
    const v = rnd();
    const client: unknown = v < 0.03 ? '' : v < 0.05 ? 5 : v < 0.07 ? undefined : rnd() < 0.3 ? pick(CLIENTS.slice(0, 3)) : pick(CLIENTS);
    const w = rnd();
    const last: unknown = w < 0.05 ? undefined : w < 0.08 ? 'soon' : w < 0.15 ? since + 0.5 + Math.floor(rnd() * 60_000) : since + Math.floor(rnd() * 60_000);
    const severity = rule === 'probing' ? (i < n / 2 ? 'warning' : 'HIGH') : SEVERITY[String(rule)] ?? 'notice';
    const e: Event = { name: `detect ${String(rule)}`, rule, severity, kind: 'detect', state: rnd() < 0.05 ? 'digest' : 'firing', message: `alert ${i}`,
      time: since + 61_000, since, first: since, count: 3, evidence: [`evidence ${i} a`, `evidence ${i} b`], vhost: rnd() < 0.5 ? 'a.example' : 'b.example' };
    if (client !== undefined) e.client_ip = client;
    if (last !== undefined) e.last = last;
    out.push(e);
  }
  return out;
}

async function store(engine: StoreEngine, events: Event[]): Promise<void> {
  const mapper = new RowMapper({ agent: 't', positionField: 'position', kafkaField: 'kafka', exclude: [] });
  await engine.write([{ table: TABLES.alerts, rows: events.map((e) => mapper.alert(e)) }]);
}

/** What the live panel shows of the alerts a view of `filters` and `topN` counts, and its chart per severity class. */
function live(events: Event[], view: HistoryState, filters: HistoryFilters, topN: number): { attacks: AttacksJSON | undefined; chart: Record<string, number[]> } {
  const counter = new AttackCounter(1_000_000);
  const s = view.series;
  const chart = { critical: s.t.map(() => 0), warning: s.t.map(() => 0), info: s.t.map(() => 0) };
  for (const e of events) { // oldest first: in first_time order
    if (!isAttack(e) || (filters.client !== undefined && e.client_ip !== filters.client) || (filters.vhost !== undefined && e.vhost !== filters.vhost)) continue;
    const time = attackTime(e, e.time as number);
    if (time < FROM || time >= TO) continue;
    counter.add(e, time);
    const i = Math.floor((time - s.t[0]!) / view.bucket_ms);
    if (i >= 0 && i < s.t.length) chart[severityClass(e.severity)][i]!++;
  }
  return { attacks: counter.alerts ? counter.toJSON(topN) : undefined, chart };
}

async function compare(engine: StoreEngine, events: Event[]): Promise<void> {
  for (const [filters, topN] of [[{}, 10], [{}, 1000], [{ client: 'ü-host' }, 10], [{ vhost: 'b.example' }, 5], [{ client: 'nobody' }, 10]] as Array<[HistoryFilters, number]>) {
    const view = await historyState(engine, { from: FROM, to: TO, filters, topN, alerts: 0, title: 't', events: false });
    const want = live(events, view, filters, topN);
    const what = JSON.stringify(filters) + ` top ${topN}`;
    assert.deepEqual(view.attacks, want.attacks, what);
    assert.deepEqual({ critical: view.series.attacks_critical, warning: view.series.attacks_warning, info: view.series.attacks_info }, want.chart, what);
    if (filters.client === 'nobody') assert.equal(view.attacks, undefined);
    else assert.ok(view.attacks!.alerts > 0 && view.series.attacks_critical.some((n) => n > 0), what);
  }
}

describe('attacks history: the database counts what the live panel counts', () => {
  const events = alerts(900, 23);

  it('the mix is what it says: excluded payloads, digests, merged long clients, a severity change, times outside', () => {
    const counted = events.filter(isAttack);
    assert.ok(counted.length < events.length - 60 && counted.length > events.length / 2);
    assert.ok(events.some((e) => e.client_ip === `${'c'.repeat(250)}1`) && events.some((e) => e.client_ip === `${'c'.repeat(250)}2`));
    assert.ok(counted.some((e) => attackTime(e, e.time as number) < FROM) && counted.some((e) => attackTime(e, e.time as number) >= TO));
  });

  it('SQLite', async () => {
    const tmp = await tempDir('visor-attacks-history-');
    const file = path.join(tmp.dir, 'visor.db');
    const writer = new SqliteEngine({ file, synchronous: 'normal', busyTimeout: 5000 });
    try {
      await writer.open();
      await store(writer, events);
      await compare(writer, events);
    } finally {
      await writer.close();
      await tmp.remove();
    }
  });

  it('PostgreSQL (a real server)', async function () {
    skipWhenMissing(this, postgresMissing());
    const { server, release } = await sharedPostgres();
    const engine = new PostgresEngine({ url: await server.createDatabase('visor_attacks_history'), timeout: 10_000 });
    try {
      await engine.open();
      await store(engine, events);
      await compare(engine, events);
    } finally {
      await engine.close();
      await release();
    }
  });

  it('reads a few rows per rule, top client and chart bucket from the database, not one per alert', async () => {
    const tmp = await tempDir('visor-attacks-history-');
    const engine = new SqliteEngine({ file: path.join(tmp.dir, 'visor.db'), synchronous: 'normal', busyTimeout: 5000 });
    try {
      await engine.open();
      // 3,000 alerts of 3,000 clients, all in the same 10 minutes (a few chart buckets).
      const flood = alerts(3000, 5).map((e, i) => ({ ...e, rule: 'probing', client_ip: `10.0.${i >> 8}.${i & 255}`, state: 'firing', since: T + i * 200, first: T + i * 200, last: T + i * 200, time: T + i * 200 }));
      await store(engine, flood);
      let read = 0;
      const counting: StoreEngine = Object.create(engine, { query: { value: async (sql: string, params?: unknown[]) => { const rows = await engine.query(sql, params); read += rows.length; return rows; } } });
      const view = await historyState(counting, { from: T, to: T + 3_600_000, filters: {}, topN: 10, alerts: 0, title: 't', events: false });
      assert.equal(view.attacks?.alerts, 3000);
      assert.ok(read < 100, `${read} rows read for 3000 alerts`);
    } finally {
      await engine.close();
      await tmp.remove();
    }
  });
});
