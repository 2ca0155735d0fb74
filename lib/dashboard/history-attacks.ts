// The attacks of the dashboard's history, from the store's `alerts` table: the detect alerts (kind 'detect', whose
// payload is the whole alert event: rule, client_ip, vhost, severity, last, evidence) of a range, counted as the
// live panel counts them (AttackCounter) and charted by severity class at their own time (attackTime); and, for the
// live view after a restart, the stored alerts as the events they were.
import type { Event } from '../../core/index.js';
import { attackTime, byAlerts, evidenceLines, isAttack, severityClass, type AttackClient, type AttackRule } from '../stats/index.js';
import type { StoreEngine } from '../store/index.js';
import { ms, num, parsed, Sql } from './history-sql.js';
import type { DashboardAlert, DashboardState } from './model.js';
import type { HistoryFilters } from './history.js';

/** Most detect alerts one view counts (the newest of the range); beyond, the view says so. The counting is done by
 * the database (one statement: the rows' fields read once into a materialized table, then grouped per rule, per
 * client and per chart bucket), not by reading each alert into JS: measured (test/bench/attacks-history.ts, SQLite,
 * 2 alternating rounds, load 3-6), the 24 h view of 100,000 alerts took 0.96-1.06 CPU-s against 1.38-1.41 s
 * before (a count(*) of those rows 0.21-0.25 s), and grows with the alerts where reading them into JS grew faster
 * (10,000: 90-94 ms against 93-98 ms). Still about 4.5x the count(*): the payload's JSON is parsed per alert
 * (`last` is only there). SQLite's reads run on the agent's event loop, as events' do. */
const ATTACKS_MAX = 200_000;
/** Most detect alerts read back into the live model after a restart. */
const REFILL_ATTACKS_MAX = 50_000;

interface Range { from: number; to: number; topN: number; filters: HistoryFilters }

const PRIMARY_KEY = ['agent', 'rule', 'grp', 'state', 'first_time'] as const;

/** The detect alerts whose time lies in the range, into state.attacks and the series' attacks_* (the chart buckets
 * of state.series.t). A detect alert is stored with first_time = its first matching line and last_time = when it
 * was raised, so one whose last line is in [from, to) overlaps the range: the index on first_time narrows the rows,
 * the alert's time (attackTime) decides. Client and vhost filters apply (an alert has both); a status or path filter
 * leaves the panel out (an alert is not a request), and the view says so.
 *
 * The figures are the live panel's (AttackCounter fed the same alerts, oldest first; test/attacks-history.test.ts
 * compares them): exact (as many entries as alerts: nothing is evicted, error_bound 0), a quiet-period digest left
 * out, rule and client cut to 200 characters, a rule's severity its newest alert's (by first_time), a client's
 * evidence its newest alert's (by time, then first_time). One difference the SQL cannot avoid: names are compared
 * (the tie order of equally alerted clients) and cut in code points, JS in UTF-16 units, which differ only for
 * characters beyond U+FFFF. */
export async function storedAttacks(engine: StoreEngine, req: Range, state: DashboardState & { history: { missing: string[] } }): Promise<void> {
  const f = req.filters;
  if (f.status !== undefined || f.status_class !== undefined || f.path !== undefined) {
    state.history.missing.push('attacks (a detect alert has no status or path to filter by)');
    return;
  }
  const s = state.series;
  const t0 = s.t[0] ?? req.from;
  const rows = await engine.query(...attacksSql(engine.dialect === 'postgres', req, t0, state.bucket_ms));
  const rules = new Map<string, AttackRule & { newest: number }>();
  const clients = new Map<string, AttackClient>();
  const newest = new Map<string, Record<string, unknown>>();
  let counted = 0;
  for (const r of rows) {
    const name = String(r.name);
    if (r.part === 'count') counted = num(r.n);
    else if (r.part === 'rule') {
      // One rule, severity and chart bucket.
      const sev = String(r.name2);
      const i = num(r.b);
      if (i >= 0 && i < s.t.length) s[`attacks_${severityClass(sev)}`][i]! += num(r.n);
      const first = ms(r.first_time);
      const had = rules.get(name);
      if (!had) rules.set(name, { rule: name, severity: sev.slice(0, 40), alerts: num(r.n), last: num(r.t), newest: first });
      else {
        had.alerts += num(r.n);
        if (num(r.t) > had.last) had.last = num(r.t);
        if (first > had.newest) { had.newest = first; had.severity = sev.slice(0, 40); }
      }
    }
    else if (r.part === 'client') clients.set(name, { client: name, alerts: num(r.n), rules: [], last: num(r.t), evidence: [] });
    else if (r.part === 'client_rule') clients.get(name)?.rules.push(String(r.name2));
    else if (r.part === 'newest') newest.set(name, r);
  }
  if (counted >= ATTACKS_MAX && await olderRows(engine, req)) state.history.missing.push(`attacks before the newest ${ATTACKS_MAX.toLocaleString('en-US')} detect alerts of the range`);
  const ruleList = [...rules.values()].map(({ newest: _, ...r }) => r);
  const alerts = ruleList.reduce((n, r) => n + r.alerts, 0);
  if (alerts === 0) return;
  const top = [...clients.values()].sort(byAlerts<AttackClient>((c) => c.client));
  for (const c of top) {
    c.rules.sort();
    const at = newest.get(c.client);
    if (at) c.evidence = evidenceLines(await payloadOf(engine, at));
  }
  state.attacks = { alerts, rules: ruleList.sort(byAlerts<AttackRule>((r) => r.rule)).slice(0, req.topN), clients: top, error_bound: 0 };
}

/** The range's stored detect alerts, by the index on first_time (client and vhost filters: a member of the payload),
 * as SQL conditions. */
function rangeWhere(q: Sql, req: Range): string {
  const f = req.filters;
  const w = [`kind = ${q.text('detect')}`, `state <> ${q.text('digest')}`, `first_time < ${q.time(req.to)}`, `last_time >= ${q.time(req.from)}`];
  if (f.client !== undefined) w.push(`${q.jsonText('payload', 'client_ip')} = ${q.text(f.client)}`);
  if (f.vhost !== undefined) w.push(`${q.jsonText('payload', 'vhost')} = ${q.text(f.vhost)}`);
  return w.join(' AND ');
}

/** Whether the range holds more than the ATTACKS_MAX newest rows the view counted (asked only when it counted
 * that many). */
async function olderRows(engine: StoreEngine, req: Range): Promise<boolean> {
  const q = new Sql(engine.dialect === 'postgres');
  const where = rangeWhere(q, req);
  return (await engine.query(`SELECT 1 AS x FROM alerts WHERE ${where} ORDER BY first_time DESC LIMIT 1 OFFSET ${q.int(ATTACKS_MAX)}`, q.params)).length > 0;
}

/** The one statement of storedAttacks and its parameters: rows of `part` 'count' (n: the range's rows counted, at
 * most ATTACKS_MAX), 'rule' (per rule (name), severity (name2) and chart bucket (b, -1 before the first): n, t: the
 * last time, first_time: the newest), 'client' (the topN clients: name, n, t), 'client_rule' (name: a top client,
 * name2: one of its rules), 'newest' (name: a top client; agent, rule, grp, state, first_time: the primary key of
 * its newest alert). The rows' fields are read once, into the materialized `a` (AS MATERIALIZED: SQLite >= 3.35,
 * PostgreSQL >= 12). Its parameters are bound in the order they appear in the
 * text (SQLite's are positional). */
function attacksSql(pg: boolean, req: Range, t0: number, width: number): [string, unknown[]] {
  const q = new Sql(pg);
  const real = (v: number) => q.bind(v, '::float8');
  const nul = (type: string) => (pg ? `NULL::${type}` : 'NULL');
  // The payload's members, each read once a row, into a materialized table (SQLite parses the payload once for
  // all of them; read where used, as type and as value, the statement took 0.75 CPU-s per 100,000 alerts against
  // 0.71 s), then what the live panel makes of them. Without MATERIALIZED SQLite inlined range_rows into each
  // part that reads it: 2.3 s.
  const type = (k: string) => (pg ? `jsonb_typeof(payload->${q.text(k)})` : `json_type(payload, ${q.bind(`$."${k}"`)})`);
  const value = (k: string) => (pg ? `payload->>${q.text(k)}` : `json_extract(payload, ${q.bind(`$."${k}"`)})`);
  const text = pg ? "'string'" : "'text'";
  const lastIsNumber = pg ? "lt = 'number'" : "typeof(lv) IN ('integer', 'real')";
  const lastMs = pg ? '(extract(epoch from last_time) * 1000)::float8' : 'last_time';
  const name = pg ? 'COLLATE "C"' : '';
  const raw = `SELECT agent, rule, grp, state, first_time, last_time, severity, ${type('rule')} AS rt, ${value('rule')} AS rv,
        ${type('client_ip')} AS ct, ${value('client_ip')} AS cv, ${pg ? `${type('last')} AS lt, ` : ''}${value('last')} AS lv
      FROM alerts WHERE ${rangeWhere(q, req)} ORDER BY first_time DESC LIMIT ${q.int(ATTACKS_MAX)}`;
  const head = `WITH range_rows AS MATERIALIZED (
      SELECT agent, rule, grp, state, first_time, rt = ${text} AND rv <> '' AS a_ok, substr(rv, 1, 200) AS a_rule,
        CASE WHEN ct = ${text} AND cv <> '' THEN substr(cv, 1, 200) ELSE '(no client)' END AS a_client,
        CASE WHEN ${lastIsNumber} THEN lv${pg ? '::float8' : ''} ELSE ${lastMs} END AS a_time,
        coalesce(severity, '') AS a_sev
      FROM (${raw}) raw),
    a AS MATERIALIZED (SELECT * FROM range_rows WHERE a_ok AND a_time >= ${real(req.from)} AND a_time < ${real(req.to)}),
    top_clients AS (SELECT a_client, count(*) AS n, max(a_time) AS t FROM a GROUP BY a_client ORDER BY n DESC, a_client ${name} LIMIT ${q.int(req.topN)})`;
  const noTime = nul(pg ? 'timestamptz' : '');
  const cols = (part: string, nameCol: string, name2: string, n: string, t: string, b: string, first: string, key = false) =>
    `SELECT '${part}' AS part, ${nameCol} AS name, ${name2} AS name2, ${n} AS n, ${t} AS t, ${b} AS b, `
    + (key ? 'agent, rule, grp, state' : `${nul('text')} AS agent, ${nul('text')} AS rule, ${nul('text')} AS grp, ${nul('text')} AS state`) + `, ${first} AS first_time`;
  // The chart bucket's index; -1 before the first (SQLite's CAST truncates towards 0, not down).
  const start = real(t0);
  const offset = `(a_time - ${real(t0)}) / ${real(width)}`;
  const bucket = `CASE WHEN a_time >= ${start} THEN ${pg ? `floor(${offset})` : `CAST(${offset} AS INTEGER)`} ELSE -1 END`;
  const parts = [
    `${cols('count', nul('text'), nul('text'), 'count(*)', nul('float8'), nul('float8'), noTime)} FROM range_rows`,
    // Per rule, severity and chart bucket: the rules' counts, last times and newest severities, and the chart's
    // severity classes, from one grouping (two cost 0.08 CPU-s more per 100,000 alerts).
    `${cols('rule', 'a_rule', 'a_sev', 'count(*)', 'max(a_time)', 'b', 'max(first_time)')} FROM (SELECT a_rule, a_sev, a_time, first_time, ${bucket} AS b FROM a) r GROUP BY a_rule, a_sev, b`,
    `${cols('client', 'a_client', nul('text'), 'n', 't', nul('float8'), noTime)} FROM top_clients`,
    `${cols('client_rule', 'a_client', 'a_rule', nul('bigint'), nul('float8'), nul('float8'), noTime)} FROM a WHERE a_client IN (SELECT a_client FROM top_clients) GROUP BY a_client, a_rule`,
    `${cols('newest', 'a_client', nul('text'), nul('bigint'), nul('float8'), nul('float8'), 'first_time', true)} FROM (SELECT a_client, agent, rule, grp, state, first_time,
      row_number() OVER (PARTITION BY a_client ORDER BY a_time DESC, first_time DESC) AS rn FROM a WHERE a_client IN (SELECT a_client FROM top_clients)) c WHERE rn = 1`,
  ];
  return [`${head}\n${parts.join('\nUNION ALL ')}`, q.params];
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
