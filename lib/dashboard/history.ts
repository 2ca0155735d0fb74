// The dashboard's history: the same DashboardState the live model computes, for any time range, read from a store
// (lib/store) instead of memory. Two sources, chosen per request:
// - window rows (an aggregate's `window` results with state: true, and the store's roll-ups 1m -> 1h -> 1d): cheap
//   for long ranges (a day is 1440 rows per group at 1m), and they answer the filters on the aggregate's group_by;
// - raw events (the store's `events: true`): exact for any filter, at the cost of reading every event of the range.
// A filter neither can answer is refused with the reason (`unavailable`), never answered with unfiltered figures.
// Every value of a request reaches the database as a bound parameter. SQL is written once for both engines: the
// few differences (time values, JSON access, bucketing) are the small helpers of `Dialect` below.
import type { Event } from '../../core/index.js';
import { MESSAGE_LEVEL_DEFAULT, type TopItem } from '../stats/index.js';
import { formatResolution, type StoreEngine } from '../store/index.js';
import { storedAttacks, storedAlertEvents } from './history-attacks.js';
import { storedErrorLog, storedMessages } from './history-errors.js';
import { ms, num, parsed, Sql } from './history-sql.js';
import type { DashboardAlert, DashboardSeries, DashboardState, DashboardTotals } from './model.js';

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx';

/** Most distinct stored error-log texts one view groups into templates (they are few: templates exist because texts
 * repeat); beyond, the view says so. */
const STORED_TEXTS_MAX = 20_000;

/** Drill-down filters: every figure of the state is computed over the matching requests only. */
export interface HistoryFilters {
  vhost?: string;
  status?: number;
  status_class?: StatusClass;
  client?: string;
  path?: string;
}

export interface HistoryRequest {
  /** Epoch ms, [from, to). */
  from: number;
  to: number;
  filters: HistoryFilters;
  /** The aggregate whose window rows to read; default: the only (else the first by name) aggregate stored. */
  aggregate?: string;
  topN: number;
  alerts: number;
  title: string;
  /** The level the page's error-message filter starts at (default warn). */
  messageLevel?: string;
  /** Whether the store keeps raw events. */
  events: boolean;
  /** Most stored events a view reads (beyond, `unavailable` says so); default 200,000. */
  maxEvents?: number;
  /** Most window groups named in one statement (default 1000); beyond, the rows are summed in JavaScript. */
  maxGroupsInSql?: number;
  /** Most chart buckets wanted (the resolution is the finest that stays within it). */
  maxBuckets?: number;
}

/** Where the figures came from. */
export interface HistoryInfo {
  source: 'windows' | 'events' | 'none';
  /** The chart bucket, e.g. `1m` (the window rows' resolution, or the events' bucketing). */
  resolution: string | null;
  aggregate: string | null;
  from: number;
  to: number;
  filters: HistoryFilters;
  /** Set when the request cannot be answered (a filter no source can apply): the figures are then empty. */
  unavailable?: string;
  /** Figures the source does not hold (shown as such, e.g. error-log lines from window rows). */
  missing: string[];
}

export type HistoryState = DashboardState & { history: HistoryInfo };

const FILTER_FIELDS: Record<keyof HistoryFilters, string> = { vhost: 'vhost', status: 'status', status_class: 'status', client: 'client_ip', path: 'path' };
const MAX_BUCKETS = 1500;
const MAX_EVENTS = 200_000;
const EVENT_BUCKETS = [1000, 10_000, 60_000, 300_000, 3_600_000, 86_400_000];
const ROLLUPS = [3_600_000, 86_400_000];

function emptySeries(from: number, to: number, width: number): { series: DashboardSeries; index: (t: number) => number } {
  const first = Math.floor(from / width) * width;
  const n = Math.max(1, Math.ceil((to - first) / width));
  const zeros = () => new Array<number>(n).fill(0);
  const series: DashboardSeries = {
    t: Array.from({ length: n }, (_, i) => first + i * width),
    requests: zeros(), errors: zeros(), error_rate: new Array(n).fill(null), bytes: zeros(),
    status_2xx: zeros(), status_3xx: zeros(), status_4xx: zeros(), status_5xx: zeros(), error_log_lines: zeros(),
    attacks_critical: zeros(), attacks_warning: zeros(), attacks_info: zeros(),
  };
  return { series, index: (t) => { const i = Math.floor((t - first) / width); return i >= 0 && i < n ? i : -1; } };
}

function emptyTotals(from: number, to: number): DashboardTotals {
  return { start: from, end: to, requests: 0, errors: 0, error_rate: null, bytes: 0, error_log_lines: 0, status_classes: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 } };
}

function finish(s: DashboardSeries, totals: DashboardTotals): void {
  s.error_rate = s.requests.map((r, i) => (r > 0 ? s.errors[i]! / r : null));
  totals.error_rate = totals.requests > 0 ? totals.errors / totals.requests : null;
}

function classOf(status: number): keyof DashboardTotals['status_classes'] {
  return status >= 200 && status < 600 ? (`${Math.floor(status / 100)}xx` as StatusClass) : 'other';
}

/** The n largest counts, by count (descending) then value. */
function topOf(m: Map<string, number>, n: number): TopItem[] {
  const items: TopItem[] = [];
  m.forEach((count, value) => items.push({ value, count }));
  items.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return items.slice(0, n);
}

/** The stored aggregates (window results with state: true): name, group_by fields, window size. */
interface StoredAggregate { name: string; groupBy: string[]; size: number; agents: string[] }

async function aggregates(engine: StoreEngine): Promise<StoredAggregate[]> {
  const rows = await engine.query('SELECT agent, aggregate, spec, first_seen FROM aggregates ORDER BY aggregate, first_seen DESC');
  const out = new Map<string, StoredAggregate>();
  for (const r of rows) {
    const name = String(r.aggregate);
    const spec = parsed(r.spec) as { group_by?: unknown; window?: { size?: unknown } };
    const size = Number(spec?.window?.size);
    if (!Number.isFinite(size) || size <= 0) continue;
    const groupBy = Array.isArray(spec.group_by) ? spec.group_by.map(String) : [];
    // The newest spec of the finest size: the base rows (roll-ups record a spec of their own, with a larger size).
    const had = out.get(name);
    const agents = [...new Set([...(had?.agents ?? []), String(r.agent)])];
    if (!had || size < had.size) out.set(name, { name, groupBy, size, agents });
    else had.agents = agents;
  }
  return [...out.values()];
}

/** The filters a window group cannot answer (their field is not in group_by). */
const unanswered = (filters: HistoryFilters, groupBy: string[]) =>
  (Object.keys(filters) as Array<keyof HistoryFilters>).filter((k) => filters[k] !== undefined && !groupBy.includes(FILTER_FIELDS[k]));

export async function historyState(engine: StoreEngine, req: HistoryRequest): Promise<HistoryState> {
  const state = await figuresOf(engine, req);
  // The attacks panel: from the alerts table, whatever the source of the traffic figures (and whether it has any).
  await storedAttacks(engine, req, state);
  return state;
}

/** Everything but the attacks. */
async function figuresOf(engine: StoreEngine, req: HistoryRequest): Promise<HistoryState> {
  const maxBuckets = req.maxBuckets ?? MAX_BUCKETS;
  const span = Math.max(1, req.to - req.from);
  const all = await aggregates(engine);
  const agg = req.aggregate !== undefined ? all.find((a) => a.name === req.aggregate) : all[0];
  const info: HistoryInfo = { source: 'none', resolution: null, aggregate: agg?.name ?? null, from: req.from, to: req.to, filters: req.filters, missing: [] };
  const alerts = await storedAlerts(engine, req);
  const base = (width: number): HistoryState => {
    const { series } = emptySeries(req.from, req.to, width);
    return {
      title: req.title, generated_at: Date.now(), bucket_ms: width, top_window_ms: span, series, totals: emptyTotals(req.from, req.to),
      top: { clients: [], paths: [], error_clients: [], error_messages: [], error_bounds: { clients: 0, paths: 0, error_clients: 0, error_messages: 0 } },
      alerts, ignored: 0, history: info,
    };
  };
  const skipped = agg ? unanswered(req.filters, agg.groupBy) : [];
  if (agg && skipped.length === 0) {
    // The finest level that keeps the chart within maxBuckets; finer levels when that one holds no rows (roll-ups
    // off, or not written yet).
    const levels = [agg.size, ...ROLLUPS.filter((r) => r > agg.size)];
    let at = levels.findIndex((l) => span / l <= maxBuckets);
    if (at < 0) at = levels.length - 1;
    for (let i = at; i >= 0; i--) {
      const state = await fromWindows(engine, req, agg, levels[i]!, base(levels[i]!), levels[i + 1]);
      if (state) return state;
    }
    if (!req.events) {
      info.source = 'windows';
      info.resolution = formatResolution(levels[at]!);
      return base(levels[at]!);
    }
  }
  if (req.events) {
    // Reading events costs a few microseconds each (and SQLite's reads run on the agent's event loop): a range
    // holding more than maxEvents is refused, with the way out, instead of stalling the agent.
    const max = req.maxEvents ?? MAX_EVENTS;
    const q = new Sql(engine.dialect === 'postgres');
    const [row] = await engine.query(`SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE time >= ${q.time(req.from)} AND time < ${q.time(req.to)} LIMIT ${q.int(max + 1)}) AS e`, q.params);
    if (num(row?.n) <= max) return fromEvents(engine, req, base(EVENT_BUCKETS.find((b) => span / b <= maxBuckets) ?? EVENT_BUCKETS[EVENT_BUCKETS.length - 1]!));
    const state = base(60_000);
    const what = agg ? `filter by ${skipped.map((k) => k.replace('_', ' ')).join(', ')} (aggregate "${agg.name}" does not group by ${[...new Set(skipped.map((k) => FILTER_FIELDS[k]))].join(', ')})` : 'read this range (no window rows are stored)';
    state.history.unavailable = `cannot ${what}: the range holds more than ${max.toLocaleString('en-US')} stored events, too many to read for one view (store_max_events): choose a shorter range${agg ? ', or add the field to the aggregate\'s group_by' : ''}`;
    return state;
  }
  const state = base(60_000);
  if (!agg) info.unavailable = 'the store holds no window rows (a window aggregate with state: true into the store) and no events (events: true)';
  else info.unavailable = `cannot filter by ${skipped.map((k) => k.replace('_', ' ')).join(', ')}: aggregate "${agg.name}" does not group by ${[...new Set(skipped.map((k) => FILTER_FIELDS[k]))].join(', ')} (add it to its group_by), and the store does not keep events (events: true)`;
  return state;
}

/** Most groups named in one statement (beyond, the rows are summed in JavaScript). */
const MAX_KEYS_IN_SQL = 1000;

/** A number of a window row's metrics (a `bytes: sum(bytes)` metric, say), NULL when the row has none. PostgreSQL
 * reads it from jsonb. In SQLite, json_extract would parse the whole metrics text of every row (top lists
 * included: most of the time of a day's view); the text is the store's JSON.stringify of a flat object whose keys
 * are metric and field names, so `"bytes":` occurs once, as that key (a string value containing it is escaped), and
 * CAST reads the number that follows it. */
function metricNumber(q: Sql, key: string): string {
  if (q.pg) return `(metrics->>${q.text(key)})::double precision`;
  const needle = `"${key}":`;
  // NULL when the key is absent (nullif), a JSON null reads as 0.
  return `CAST(substr(metrics, nullif(instr(metrics, ${q.bind(needle)}), 0) + ${q.bind(needle.length)}) AS REAL)`;
}

/** A window group's values by field, parsed once per distinct group key (a day of 1m rows repeats each key 1440
 * times); `keep` says whether the group passes the filters. */
function groupReader(groupBy: string[], f: HistoryFilters) {
  const cache = new Map<string, { status: number; keep: boolean }>();
  return (key: unknown): { status: number; keep: boolean } => {
    const k = String(key);
    let g = cache.get(k);
    if (!g) {
      const values = parsed(k) as unknown[];
      const v: Record<string, unknown> = {};
      groupBy.forEach((field, i) => (v[field] = Array.isArray(values) ? values[i] : undefined));
      const status = typeof v.status === 'number' ? v.status : typeof v.status === 'string' ? Number(v.status) : NaN;
      const keep = (f.vhost === undefined || v.vhost === f.vhost) && (f.status === undefined || status === f.status)
        && (f.status_class === undefined || classOf(status) === f.status_class)
        && (f.client === undefined || v.client_ip === f.client) && (f.path === undefined || v.path === f.path);
      cache.set(k, (g = { status, keep }));
    }
    return g;
  };
}

/** From the window rows of one resolution; undefined when the range holds none of that resolution. The charts and
 * totals read only counts and bytes of those rows; the top lists, the bulkier part, are read from the next coarser
 * level (the roll-ups) for its windows wholly inside the range whose count agrees with the finer rows (rolled up
 * already), and from the finer rows for the rest (the range's ends). */
async function fromWindows(engine: StoreEngine, req: HistoryRequest, agg: StoredAggregate, size: number, state: HistoryState, coarser: number | undefined): Promise<HistoryState | undefined> {
  const pg = engine.dialect === 'postgres';
  const first = Math.floor(req.from / size) * size;
  const where = (q: Sql) => `aggregate = ${q.text(agg.name)} AND resolution = ${q.text(formatResolution(size))}
      AND window_start >= ${q.time(first)} AND window_start < ${q.time(req.to)}`;
  const group = groupReader(agg.groupBy, req.filters);
  const byStatus = agg.groupBy.includes('status');
  // The groups of the range, each classified once: the sums per window are then made by the database over the
  // groups that pass the filters (a day of 1m rows is 1440 rows per group: they are summed, not sent).
  const kq = new Sql(pg);
  // With the agents named, the primary key (agent, aggregate, resolution, window_start, group_key) covers the query.
  const range = where(kq);
  const agents = agg.agents.length ? ` AND agent IN (${agg.agents.map((a) => kq.text(a)).join(', ')})` : '';
  const keys = (await engine.query(`SELECT DISTINCT group_key FROM windows WHERE ${range}${agents}`, kq.params)).map((r) => String(r.group_key));
  if (!keys.length) return undefined;
  const info = state.history;
  info.source = 'windows';
  info.resolution = formatResolution(size);
  const kept = keys.filter((k) => group(k).keep);
  const byClass = (c: StatusClass) => kept.filter((k) => classOf(group(k).status) === c);
  const buckets: Array<{ t: number; n: number; bytes: number | null; errors: number | null; s2: number; s3: number; s4: number; s5: number }> = [];
  if (kept.length > 0 && kept.length <= (req.maxGroupsInSql ?? MAX_KEYS_IN_SQL)) {
    const q = new Sql(pg);
    const list = (ks: string[]) => ks.map((k) => q.text(k)).join(', ');
    // One row per window; a sum per status class (of the groups a CASE names; one GROUP BY key: cheapest). 2xx,
    // the largest class as a rule, is what the others leave.
    const sumOf = (ks: string[]) => (ks.length ? `sum(CASE WHEN group_key IN (${list(ks)}) THEN count ELSE 0 END)` : q.int(0));
    const others = byStatus ? kept.filter((k) => classOf(group(k).status) === 'other') : [];
    const errors = byStatus ? 'NULL' : `sum(${metricNumber(q, 'errors')})`;
    const c3 = sumOf(byStatus ? byClass('3xx') : []), c4 = sumOf(byStatus ? byClass('4xx') : []), c5 = sumOf(byStatus ? byClass('5xx') : []), co = sumOf(others);
    const bytes = metricNumber(q, 'bytes');
    const range = where(q);
    // Every group passes (no filter): no need to name them.
    const only = kept.length === keys.length ? '' : ` AND group_key IN (${list(kept)})`;
    const sql = `SELECT window_start, sum(count) AS n, ${c3} AS s3, ${c4} AS s4, ${c5} AS s5, ${co} AS so, sum(${bytes}) AS bytes, ${errors} AS errors
      FROM windows WHERE ${range}${only} GROUP BY window_start`;
    for (const r of await engine.query(sql, q.params)) {
      const n = num(r.n), s3 = num(r.s3), s4 = num(r.s4), s5 = num(r.s5);
      buckets.push({ t: ms(r.window_start), n, bytes: r.bytes === null ? null : num(r.bytes), errors: r.errors === null ? null : num(r.errors), s2: byStatus ? n - s3 - s4 - s5 - num(r.so) : 0, s3, s4, s5 });
    }
  } else if (kept.length > 0) {
    // Too many groups to name in the statement (e.g. grouped by client): the rows, summed here.
    const q = new Sql(pg);
    const rows = await engine.query(`SELECT window_start, group_key, count, ${metricNumber(q, 'bytes')} AS bytes, ${metricNumber(q, 'errors')} AS errors FROM windows WHERE ${where(q)}`, q.params);
    const at = new Map<number, (typeof buckets)[number]>();
    for (const r of rows) {
      const g = group(r.group_key);
      if (!g.keep) continue;
      const t = ms(r.window_start);
      let b = at.get(t);
      if (!b) at.set(t, (b = { t, n: 0, bytes: null, errors: null, s2: 0, s3: 0, s4: 0, s5: 0 }));
      const n = num(r.count);
      b.n += n;
      if (r.bytes !== null && r.bytes !== undefined) b.bytes = (b.bytes ?? 0) + Number(r.bytes);
      if (r.errors !== null && r.errors !== undefined) b.errors = (b.errors ?? 0) + Number(r.errors);
      const c = byStatus ? classOf(g.status) : 'other';
      if (c !== 'other') b[`s${c[0]}` as 's2'] += n;
    }
    buckets.push(...at.values());
  }
  const { index } = emptySeries(req.from, req.to, size);
  const s = state.series;
  const t = state.totals;
  let sawErrors = false, sawBytes = false;
  /** Requests per coarse window, from the fine rows: what a roll-up row must agree with to stand in for them. */
  const perCoarse = new Map<number, number>();
  for (const b of buckets) {
    const i = index(b.t);
    if (b.bytes !== null) sawBytes = true;
    if (b.errors !== null) sawErrors = true;
    if (coarser) {
      const c = Math.floor(b.t / coarser) * coarser;
      perCoarse.set(c, (perCoarse.get(c) ?? 0) + b.n);
    }
    addFigures(state, i, { requests: b.n, errors: byStatus ? b.s5 : b.errors ?? 0, bytes: b.bytes ?? 0, s2: b.s2, s3: b.s3, s4: b.s4, s5: b.s5, log: 0 }, byStatus);
  }

  // Top lists: the per-window lists added up, their error bounds too.
  const lists = { clients: new Map<string, number>(), paths: new Map<string, number>(), error_clients: new Map<string, number>() };
  const bounds = state.top.error_bounds;
  let sawClients = false, sawPaths = false;
  const add = (m: Map<string, number>, items: unknown): boolean => {
    const list = parsed(items);
    if (!Array.isArray(list)) return false;
    for (const it of list as TopItem[]) if (it && typeof it.value === 'string') m.set(it.value, (m.get(it.value) ?? 0) + Number(it.count));
    return true;
  };
  const topRows = async (resolution: number, from: number, to: number) => {
    const q = new Sql(pg);
    // The whole metrics, parsed here: V8 parses JSON faster than SQLite's json_extract does.
    const rows = await engine.query(`SELECT window_start, group_key, count, metrics
      FROM windows WHERE aggregate = ${q.text(agg.name)} AND resolution = ${q.text(formatResolution(resolution))}
        AND window_start >= ${q.time(from)} AND window_start < ${q.time(to)}`, q.params);
    return rows.map((r) => {
      const m = (parsed(r.metrics) ?? {}) as Record<string, unknown>;
      return { window_start: r.window_start, group_key: r.group_key, count: r.count, clients: m.top_client_ip, clients_bound: m.top_client_ip_error_bound, paths: m.top_path, paths_bound: m.top_path_error_bound };
    });
  };
  const absorb = (r: Record<string, unknown>) => {
    const g = group(r.group_key);
    if (!g.keep) return;
    if (add(lists.clients, r.clients)) {
      sawClients = true;
      bounds.clients += num(r.clients_bound);
      if (byStatus && g.status >= 500 && g.status < 600) { add(lists.error_clients, r.clients); bounds.error_clients += num(r.clients_bound); }
    }
    if (add(lists.paths, r.paths)) { sawPaths = true; bounds.paths += num(r.paths_bound); }
  };
  // The coarse windows wholly inside [first, to) whose rolled-up count equals the fine rows' count.
  const fine: Array<[number, number]> = [];
  let covered: Set<number> = new Set();
  if (coarser) {
    const cFrom = Math.ceil(first / coarser) * coarser;
    const cTo = Math.floor(req.to / coarser) * coarser;
    if (cTo > cFrom) {
      const coarse = await topRows(coarser, cFrom, cTo);
      const counts = new Map<number, number>();
      for (const r of coarse) if (group(r.group_key).keep) counts.set(ms(r.window_start), (counts.get(ms(r.window_start)) ?? 0) + num(r.count));
      covered = new Set([...counts].filter(([c, n]) => perCoarse.get(c) === n).map(([c]) => c));
      for (const r of coarse) if (covered.has(ms(r.window_start))) absorb(r);
    }
  }
  // The rest from the fine rows, as few ranges as possible.
  for (let at = first; at < req.to;) {
    const c = coarser ? Math.floor(at / coarser) * coarser : NaN;
    if (coarser && covered.has(c)) { at = c + coarser; continue; }
    const startAt = at;
    while (at < req.to && !(coarser && covered.has(Math.floor(at / coarser) * coarser))) at = coarser ? Math.min(Math.floor(at / coarser) * coarser + coarser, req.to) : req.to;
    fine.push([startAt, at]);
  }
  for (const [a, b] of fine) for (const r of await topRows(size, a, b)) absorb(r);

  if (!byStatus) info.missing.push('status classes (the aggregate does not group by status)');
  if (!byStatus && !sawErrors) info.missing.push('5xx (no status in group_by, no errors metric)');
  if (!byStatus) info.missing.push('top 5xx clients');
  if (!sawBytes) info.missing.push('bytes (no bytes metric)');
  if (!sawClients) info.missing.push('top clients (no top client_ip)');
  if (!sawPaths) info.missing.push('top URLs (no top path)');
  info.missing.push('error-log lines and messages (window rows count requests)');
  state.top.clients = topOf(lists.clients, req.topN);
  state.top.paths = topOf(lists.paths, req.topN);
  state.top.error_clients = topOf(lists.error_clients, req.topN);
  finish(s, t);
  return state;
}

/** From raw events: exact for every filter. */
async function fromEvents(engine: StoreEngine, req: HistoryRequest, state: HistoryState): Promise<HistoryState> {
  const width = state.bucket_ms;
  state.history.source = 'events';
  state.history.resolution = formatResolution(width);
  const pg = engine.dialect === 'postgres';
  // SQLite's parameters are positional: everything is bound in the order of the text (`more` after the range).
  const where = (q: Sql, more?: () => string) => {
    const f = req.filters;
    const w = [`time >= ${q.time(req.from)}`, `time < ${q.time(req.to)}`];
    if (f.vhost !== undefined) w.push(`vhost = ${q.text(f.vhost)}`);
    if (f.status !== undefined) w.push(`status = ${q.int(f.status)}`);
    if (f.status_class !== undefined) {
      const c = Number(f.status_class[0]) * 100;
      w.push(`status >= ${q.int(c)} AND status < ${q.int(c + 100)}`);
    }
    if (f.client !== undefined) w.push(`client_ip = ${q.text(f.client)}`);
    if (f.path !== undefined) w.push(`path = ${q.text(f.path)}`);
    if (more) w.push(more());
    return ` WHERE ${w.join(' AND ')}`;
  };
  const figures = (q: Sql) => `count(status) AS requests,
      sum(CASE WHEN status >= 500 AND status < 600 THEN 1 ELSE 0 END) AS errors,
      sum(CASE WHEN status IS NOT NULL THEN bytes ELSE 0 END) AS bytes,
      sum(CASE WHEN status >= 200 AND status < 300 THEN 1 ELSE 0 END) AS s2,
      sum(CASE WHEN status >= 300 AND status < 400 THEN 1 ELSE 0 END) AS s3,
      sum(CASE WHEN status >= 400 AND status < 500 THEN 1 ELSE 0 END) AS s4,
      sum(CASE WHEN status >= 500 AND status < 600 THEN 1 ELSE 0 END) AS s5,
      sum(CASE WHEN status IS NULL AND level IS NOT NULL AND level <> ${q.text('')} THEN 1 ELSE 0 END) AS log`;
  // Series.
  {
    const q = new Sql(pg);
    const b = q.bucket('time', width);
    const rows = await engine.query(`SELECT ${b} AS t, ${figures(q)} FROM events${where(q)} GROUP BY 1`, q.params);
    const { index } = emptySeries(req.from, req.to, width);
    const s = state.series;
    const t = state.totals;
    for (const r of rows) {
      const i = index(ms(r.t));
      addFigures(state, i, { requests: num(r.requests), errors: num(r.errors), bytes: num(r.bytes), s2: num(r.s2), s3: num(r.s3), s4: num(r.s4), s5: num(r.s5), log: num(r.log) });
    }
    finish(s, t);
  }
  // Top lists, exact.
  const top = async (column: (q: Sql) => string, condition: (q: Sql) => string): Promise<TopItem[]> => {
    const q = new Sql(pg);
    const c = column(q);
    const w = where(q, () => `${condition(q)} AND ${column(q)} IS NOT NULL AND ${column(q)} <> ${q.text('')}`);
    const rows = await engine.query(`SELECT ${c} AS v, count(*) AS n FROM events${w} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${q.int(req.topN)}`, q.params);
    return rows.map((r) => ({ value: String(r.v), count: num(r.n) }));
  };
  const client = () => 'client_ip';
  state.top.clients = await top(client, () => 'status IS NOT NULL');
  state.top.paths = await top(() => 'path', () => 'status IS NOT NULL');
  state.top.error_clients = await top(client, (q) => `status >= ${q.int(500)} AND status < ${q.int(600)}`);
  // Error-log lines by level and module (exact), and their texts grouped by template in JavaScript.
  {
    const q = new Sql(pg);
    const mod = q.jsonText('extra', 'module');
    const w = where(q, () => 'status IS NULL AND level IS NOT NULL');
    state.error_log = storedErrorLog(await engine.query(`SELECT level, ${mod} AS module, count(*) AS n FROM events${w} GROUP BY 1, 2`, q.params)
      .then((rows) => rows.map((r) => ({ level: r.level, module: r.module, n: num(r.n) }))), req.messageLevel ?? MESSAGE_LEVEL_DEFAULT, req.topN);
  }
  {
    const q = new Sql(pg);
    const cols = ['message_text', 'error_code', 'errno', 'errno_text'].map((k) => `${q.jsonText('extra', k)} AS ${k}`).join(', ');
    const w = where(q, () => 'status IS NULL AND level IS NOT NULL');
    const rows = await engine.query(`SELECT level, ${cols}, count(*) AS n FROM events${w} GROUP BY 1, 2, 3, 4, 5 ORDER BY 6 DESC LIMIT ${q.int(STORED_TEXTS_MAX)}`, q.params);
    if (rows.length === STORED_TEXTS_MAX) state.history.missing.push(`error-log texts beyond the ${STORED_TEXTS_MAX} most frequent`);
    state.top.error_messages = storedMessages(rows.map((r) => ({ level: r.level, message_text: r.message_text, error_code: r.error_code, errno: r.errno, errno_text: r.errno_text, n: num(r.n) })), req.topN);
  }
  return state;
}

/** The alerts stored over the range, newest first (not filtered: an alert is not a request). */
async function storedAlerts(engine: StoreEngine, req: HistoryRequest): Promise<DashboardAlert[]> {
  if (req.alerts <= 0) return [];
  const q = new Sql(engine.dialect === 'postgres');
  const rows = await engine.query(`SELECT rule, state, first_time, last_time, count, severity, kind, message, value FROM alerts
    WHERE last_time >= ${q.time(req.from)} AND first_time < ${q.time(req.to)} ORDER BY last_time DESC, rule LIMIT ${q.int(req.alerts)}`, q.params);
  return rows.map((r) => {
    const a: DashboardAlert = { name: String(r.rule), severity: String(r.severity ?? ''), state: String(r.state), message: String(r.message ?? ''), time: ms(r.last_time) };
    if (r.kind !== null && r.kind !== undefined) a.kind = String(r.kind);
    if (r.count !== null && r.count !== undefined) a.count = Number(r.count);
    if (r.value !== null && r.value !== undefined) a.value = Number(r.value);
    return a;
  });
}

/** Stored events of [from, to) as the live model reads them (oldest first, at most `limit`), to refill its charts
 * and tables after a restart; and the stored alerts as the events they were, oldest first (storedAlertEvents). */
export async function storedForModel(engine: StoreEngine, from: number, to: number, limit: number, alerts: number): Promise<{ events: Event[]; alerts: Array<{ event: Event; time: number }> }> {
  const q = new Sql(engine.dialect === 'postgres');
  const m = q.jsonText('extra', 'message_text');
  const rows = await engine.query(`SELECT time, vhost, status, bytes, client_ip, path, level, ${m} AS message_text FROM events
    WHERE time >= ${q.time(from)} AND time < ${q.time(to)} ORDER BY time LIMIT ${q.int(limit)}`, q.params);
  const events = rows.map((r) => {
    const e: Event = { timestamp: ms(r.time) };
    for (const k of ['vhost', 'client_ip', 'path', 'level', 'message_text'] as const) if (r[k] !== null && r[k] !== undefined) e[k] = String(r[k]);
    for (const k of ['status', 'bytes'] as const) if (r[k] !== null && r[k] !== undefined) e[k] = Number(r[k]);
    return e;
  });
  const recent = await storedAlerts(engine, { from: 0, to, alerts } as HistoryRequest);
  return { events, alerts: await storedAlertEvents(engine, from, to, recent) };
}

/** One bucket's figures, from window rows or from stored events. */
interface Figures { requests: number; errors: number; bytes: number; s2: number; s3: number; s4: number; s5: number; log: number }

/** Add one bucket's figures to the totals and, when it lies within the chart (i >= 0), to its chart bucket. Status
 * classes count in the totals only when the source knows them (statusKnown); unknown, a request is in none. */
function addFigures(state: DashboardState, i: number, v: Figures, statusKnown = true): void {
  const t = state.totals;
  t.requests += v.requests;
  t.errors += v.errors;
  t.bytes += v.bytes;
  t.error_log_lines += v.log;
  if (statusKnown) {
    t.status_classes['2xx'] += v.s2;
    t.status_classes['3xx'] += v.s3;
    t.status_classes['4xx'] += v.s4;
    t.status_classes['5xx'] += v.s5;
    t.status_classes.other += v.requests - v.s2 - v.s3 - v.s4 - v.s5;
  }
  if (i < 0) return;
  const s = state.series;
  s.requests[i] += v.requests;
  s.errors[i] += v.errors;
  s.bytes[i] += v.bytes;
  s.status_2xx[i] += v.s2;
  s.status_3xx[i] += v.s3;
  s.status_4xx[i] += v.s4;
  s.status_5xx[i] += v.s5;
  s.error_log_lines[i] += v.log;
}
