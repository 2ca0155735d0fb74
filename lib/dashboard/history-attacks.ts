// The attacks of the dashboard's history, from the store's `alerts` table: the detect alerts (kind 'detect', whose
// payload is the whole alert event: rule, client_ip, vhost, severity, last, evidence) of a range, counted as the
// live panel counts them (AttackCounter) and charted by severity class at their own time (attackTime); and, for the
// live view after a restart, the stored alerts as the events they were.
import type { Event } from '../../core/index.js';
import { AttackCounter, attackClient, attackTime, evidenceLines, isAttack, severityClass } from '../stats/index.js';
import type { StoreEngine } from '../store/index.js';
import { ms, parsed, Sql } from './history-sql.js';
import type { DashboardAlert, DashboardState } from './model.js';
import type { HistoryFilters } from './history.js';

/** Most detect alerts one view counts (rule, client and time are read from each payload in one JSON parse; the
 * evidence for the clients shown only); beyond, the view says so. Measured (test/bench/attacks-history.ts, SQLite,
 * load ~1): a 24 h view of 10,000 alerts 77 ms p50 (a count(*) of those rows 16 ms, the view without the attacks
 * 23 ms), of 100,000 alerts 1.3 s (count(*) 0.18 s): the reads run on the agent's event loop, as events' do. */
const ATTACKS_MAX = 200_000;
/** Distinct rules and clients one view counts: as many as alerts, so the counts are exact and nothing is ever
 * evicted (the counter's eviction scans all entries: with a capacity of 10,000, a view of 100,000 alerts from
 * distinct clients took 29x a count(*) of their rows, against 3.3x now in a run at the same load of 10-15). */
const CAPACITY = ATTACKS_MAX;
/** Most detect alerts read back into the live model after a restart. */
const REFILL_ATTACKS_MAX = 50_000;

interface Range { from: number; to: number; topN: number; filters: HistoryFilters }

const PRIMARY_KEY = ['agent', 'rule', 'grp', 'state', 'first_time'] as const;

/** The detect alerts whose time lies in the range, into state.attacks and the series' attacks_* (the chart buckets
 * of state.series.t). A detect alert is stored with first_time = its first matching line and last_time = when it
 * was raised, so one whose last line is in [from, to) overlaps the range: the index on first_time narrows the rows,
 * attackTime decides. Client and vhost filters apply (an alert has both); a status or path filter leaves the panel
 * out (an alert is not a request), and the view says so. */
export async function storedAttacks(engine: StoreEngine, req: Range, state: DashboardState & { history: { missing: string[] } }): Promise<void> {
  const f = req.filters;
  if (f.status !== undefined || f.status_class !== undefined || f.path !== undefined) {
    state.history.missing.push('attacks (a detect alert has no status or path to filter by)');
    return;
  }
  const q = new Sql(engine.dialect === 'postgres');
  const cols = `agent, rule, grp, state, first_time, last_time, severity, ${q.jsonArray('payload', ['rule', 'client_ip', 'last'])} AS fields`;
  const w = [`kind = ${q.text('detect')}`, `state <> ${q.text('digest')}`, `first_time < ${q.time(req.to)}`, `last_time >= ${q.time(req.from)}`];
  if (f.client !== undefined) w.push(`${q.jsonText('payload', 'client_ip')} = ${q.text(f.client)}`);
  if (f.vhost !== undefined) w.push(`${q.jsonText('payload', 'vhost')} = ${q.text(f.vhost)}`);
  const rows = await engine.query(`SELECT ${cols} FROM alerts WHERE ${w.join(' AND ')} ORDER BY first_time DESC LIMIT ${q.int(ATTACKS_MAX + 1)}`, q.params);
  if (rows.length > ATTACKS_MAX) {
    rows.length = ATTACKS_MAX;
    state.history.missing.push(`attacks before the newest ${ATTACKS_MAX.toLocaleString('en-US')} detect alerts of the range`);
  }
  const counter = new AttackCounter(CAPACITY);
  const s = state.series;
  const t0 = s.t[0] ?? req.from;
  const width = state.bucket_ms;
  /** Per client, its newest alert's row (the evidence shown is that alert's). */
  const newest = new Map<string, { time: number; row: Record<string, unknown> }>();
  // Oldest first, as the live model receives them (the counter keeps the evidence of a client's newest alert).
  for (let k = rows.length - 1; k >= 0; k--) {
    const r = rows[k]!;
    const [rule, ip, last] = (parsed(r.fields) ?? []) as unknown[];
    const e: Event = { kind: 'detect', rule: rule ?? '', state: r.state, severity: r.severity ?? '', time: ms(r.last_time), client_ip: ip, last };
    if (!isAttack(e)) continue; // a quiet-period digest is no detection: the live panel leaves it out too
    const time = attackTime(e, ms(r.last_time));
    if (time < req.from || time >= req.to) continue;
    counter.add(e, time);
    const i = Math.floor((time - t0) / width);
    if (i >= 0 && i < s.t.length) s[`attacks_${severityClass(e.severity)}`][i]! += 1;
    const client = attackClient(e);
    const had = newest.get(client);
    if (!had || time >= had.time) newest.set(client, { time, row: r });
  }
  if (counter.alerts === 0) return;
  const attacks = counter.toJSON(req.topN);
  for (const c of attacks.clients) {
    const at = newest.get(c.client);
    if (at) c.evidence = evidenceLines(await payloadOf(engine, at.row));
  }
  state.attacks = attacks;
}

/** One stored alert's payload, by its primary key. */
async function payloadOf(engine: StoreEngine, row: Record<string, unknown>): Promise<Event> {
  const q = new Sql(engine.dialect === 'postgres');
  const w = PRIMARY_KEY.map((k) => `${k} = ${k === 'first_time' ? q.time(ms(row[k])) : q.text(String(row[k]))}`);
  const [r] = await engine.query(`SELECT payload FROM alerts WHERE ${w.join(' AND ')}`, q.params);
  const p = r ? parsed(r.payload) : undefined;
  return p && typeof p === 'object' ? (p as Event) : {};
}

/** The alerts a restarted live view is refilled with, oldest first with their time: `recent` (the recent-alerts
 * list, as storedAlerts maps them: not counted as attacks) and every stored detect alert whose time lies in [from, to)
 * (the span of the charts and tables), as the event it was (its payload: counted in the attacks panel), at most
 * REFILL_ATTACKS_MAX; a detect alert in both is taken once, as the event. */
export async function storedAlertEvents(engine: StoreEngine, from: number, to: number, recent: DashboardAlert[]): Promise<Array<{ event: Event; time: number }>> {
  const q = new Sql(engine.dialect === 'postgres');
  const rows = await engine.query(`SELECT rule, state, last_time, message, payload FROM alerts
    WHERE kind = ${q.text('detect')} AND first_time < ${q.time(to)} AND last_time >= ${q.time(from)} ORDER BY last_time DESC LIMIT ${q.int(REFILL_ATTACKS_MAX)}`, q.params);
  const key = (name: unknown, state: unknown, time: number, message: unknown) => JSON.stringify([String(name), String(state), time, String(message ?? '')]);
  const out: Array<{ event: Event; time: number }> = [];
  /** How many of the recent list each refilled detect alert stands for (a key may repeat). */
  const taken = new Map<string, number>();
  for (const r of rows) {
    const p = parsed(r.payload);
    const time = ms(r.last_time);
    if (!p || typeof p !== 'object' || !isAttack(p as Event)) continue;
    const at = attackTime(p as Event, time);
    if (at < from || at >= to) continue;
    out.push({ event: p as Event, time });
    const k = key(r.rule, r.state, time, r.message);
    taken.set(k, (taken.get(k) ?? 0) + 1);
  }
  for (const a of recent) {
    const k = key(a.name, a.state, a.time, a.message);
    const n = taken.get(k) ?? 0;
    if (n > 0) taken.set(k, n - 1);
    else out.push({ event: a as unknown as Event, time: a.time });
  }
  return out.sort((a, b) => a.time - b.time);
}
