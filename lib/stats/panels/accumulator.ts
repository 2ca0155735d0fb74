// The traffic panels of access events (GoAccess's panels): visitors, requested / static / not-found files, hosts,
// operating systems, browsers, bots, referrers and referring sites, status codes, virtual hosts, countries, the
// hourly and daily distribution and response-time percentiles, each split into humans and bots when the `bot`
// filter ran. One accumulator per report interval, dashboard slice or analysis thread; states merge (toJSON/merge).
//
// Memory is bounded: every list is a pair of TopCounters (humans, bots) of `capacity` values each; the days are at
// most MAX_DAYS, each with two distinct counters (exact up to VISITORS_EXACT_LIMIT keys, then HyperLogLog, 1.6%
// standard error); the hours are fixed arrays; response times a log-bucketed sketch (1% relative error).
import { detachString, type Event } from '../../../core/index.js';
import { DistinctCounter, type DistinctJSON, QuantileSketch, type QuantileJSON, TopCounter, type TopJSON } from '../sketches.js';
import { DAY_MS, LocalClock, referringSite, responseTime, staticByExtension } from './derive.js';
import { countsAsVisit } from '../../insight/index.js';
import { VisitorKeys } from './visitors.js';

/** The lists, in the order shown; `needs`: what sets the field when no event carried it. */
export const PANEL_LISTS = [
  { id: 'requested_files', title: 'Requested files', column: 'request', needs: 'the apache_access parser' },
  { id: 'static_files', title: 'Static files', column: 'file', needs: 'the apache_access parser' },
  { id: 'not_found', title: 'Not found (404)', column: 'request', needs: 'the apache_access parser' },
  { id: 'hosts', title: 'Hosts', column: 'client', needs: 'a LogFormat with %h or %a' },
  { id: 'operating_systems', title: 'Operating systems', column: 'os', needs: 'the user_agent filter' },
  { id: 'browsers', title: 'Browsers', column: 'browser', needs: 'the user_agent filter' },
  { id: 'bot_categories', title: 'Bots by category', column: 'category', needs: 'the bot filter' },
  { id: 'bot_names', title: 'Bots', column: 'bot', needs: 'the bot filter' },
  { id: 'referrers', title: 'Referrers', column: 'referrer', needs: 'a LogFormat with %{Referer}i' },
  { id: 'referring_sites', title: 'Referring sites', column: 'site', needs: 'a LogFormat with %{Referer}i' },
  { id: 'status_codes', title: 'Status codes', column: 'status', needs: 'the apache_access parser' },
  { id: 'virtual_hosts', title: 'Virtual hosts', column: 'virtual host', needs: 'a LogFormat with %v' },
  { id: 'countries', title: 'Countries', column: 'country', needs: 'the geoip filter' },
] as const;
export type PanelListId = (typeof PANEL_LISTS)[number]['id'];
const LIST_COUNT = PANEL_LISTS.length;
const L = Object.fromEntries(PANEL_LISTS.map((l, i) => [l.id, i])) as Record<PanelListId, number>;

/** Days kept one by one; an older day is folded into `earlier` (its figures stay in the totals). A year of days
 * of more than VISITORS_EXACT_LIMIT visitors each would otherwise hold ~0.8 MB per day. */
export const MAX_DAYS = 100;
/** Visitor keys (address + user agent) per day and side counted exactly; beyond, HyperLogLog (1.6% error). A key
 * held exactly costs ~50 bytes beside its strings' share: 16384 of them ~0.8 MB. */
export const VISITORS_EXACT_LIMIT = 16384;
const SITE_CACHE = 4096;

/** Status codes 0..999 are counted in an array (two slots per code: humans, bots), not a TopCounter: one Map
 * get and set fewer per event (TopCounter.add was a quarter of analyze's profile). Others go to the list. */
const STATUS_SLOTS = 1000;
const STATUS_TEXT: string[] = Array.from({ length: STATUS_SLOTS }, (_, i) => String(i));

interface Day { hits: number; bots: number; bytes: number; visitors: [DistinctCounter, DistinctCounter] }

/** A serialized PanelAccumulator (a worker's state). */
export interface PanelJSON {
  requests: number;
  bots: number;
  /** Events that carried is_bot (the split is known for them). */
  classified: number;
  lists: Array<{ h: TopJSON; b: TopJSON; n: number }>;
  hours: { hits: number[]; bots: number[]; bytes: number[] };
  days: Array<{ day: number; hits: number; bots: number; bytes: number; v: [DistinctJSON, DistinctJSON] }>;
  earlier: { days: number; hits: number; bots: number; bytes: number; visitors: number; bot_visitors: number };
  rt: [QuantileJSON, QuantileJSON];
  /** Status code counts as [code, humans, bots, ...] (codes 0..999). */
  sc: number[];
}

export interface PanelItem { value: string; count: number; /** Of count, requests by bots (null: not known). */ bots: number | null }

export interface PanelList {
  id: PanelListId;
  title: string;
  column: string;
  /** Set when no event carried the field: what would set it ("the user_agent filter"). */
  needs?: string;
  /** Requests counted in this list. */
  total: number;
  /** Distinct values (null once a counter went past its capacity). */
  distinct: number | null;
  /** How much any count shown may exceed the true one (0: exact). */
  bound: number;
  items: PanelItem[];
}

/** The panels of an interval: JSON-serialisable, what report events, the dashboard and `visor analyze` carry. */
export interface Panels {
  requests: number;
  /** Requests by bots; null when no event carried is_bot (the bot filter did not run). */
  bot_requests: number | null;
  human_requests: number | null;
  split_needs?: string;
  visitors: { total: number; bots: number | null; humans: number | null; exact: boolean };
  lists: PanelList[];
  hourly: Array<{ hour: number; hits: number; bots: number | null; bytes: number }>;
  daily: Array<{ date: number; hits: number; bots: number | null; visitors: number; bytes: number }>;
  /** Days before the first in `daily` (more than MAX_DAYS were seen), folded. */
  earlier_days: number;
  response_time_ms: { count: number; p50: number | null; p90: number | null; p95: number | null; p99: number | null; bots_p50: number | null; needs?: string };
}

export class PanelAccumulator {
  requests = 0;
  bots = 0;
  classified = 0;
  private readonly lists: Array<[TopCounter, TopCounter]>;
  private readonly present = new Float64Array(LIST_COUNT);
  private readonly statuses = new Float64Array(STATUS_SLOTS * 2);
  private readonly hourHits = new Float64Array(24);
  private readonly hourBots = new Float64Array(24);
  private readonly hourBytes = new Float64Array(24);
  private readonly days = new Map<number, Day>();
  private earlier = { days: 0, hits: 0, bots: 0, bytes: 0, visitors: 0, bot_visitors: 0 };
  private readonly rt: [QuantileSketch, QuantileSketch] = [new QuantileSketch(), new QuantileSketch()];
  private readonly clock = new LocalClock();
  private readonly visitorKeys = new VisitorKeys();
  /** Referer -> referring site, for the last SITE_CACHE distinct referers (extracting it cost ~0.3 µs/event). */
  private sites = new Map<string, string | undefined>();
  private lastDay = NaN;
  private lastDayRow: Day | undefined;

  constructor(private readonly capacity: number) {
    this.lists = PANEL_LISTS.map(() => [new TopCounter(capacity), new TopCounter(capacity)]);
  }

  private count(list: number, value: string, side: number): void {
    this.present[list]++;
    this.lists[list]![side]!.add(value);
  }

  /** One access event (the caller checked its status is a number). */
  add(e: Event, status: number): void {
    this.requests++;
    const isBot = e.is_bot;
    let side = 0;
    if (typeof isBot === 'boolean') {
      this.classified++;
      if (isBot) {
        side = 1;
        this.bots++;
      }
    }
    const bytes = typeof e.bytes === 'number' && e.bytes > 0 ? e.bytes : 0;
    // The request as logged (path and query); a request line that is no request (a 408's "-", a 400's "") as "-"
    // and "", as GoAccess lists them.
    const url = typeof e.url === 'string' ? e.url : typeof e.path === 'string' && e.path ? e.path : e.url === null ? '-' : undefined;
    if (url !== undefined) {
      if (status === 404) this.count(L.not_found, url, side);
      else {
        const s = e.is_static;
        const isStatic = typeof s === 'boolean' ? s : typeof e.path === 'string' && staticByExtension(e.path, e.query);
        this.count(isStatic ? L.static_files : L.requested_files, url, side);
      }
    }
    if (status >= 0 && status < STATUS_SLOTS && status === Math.floor(status)) {
      this.present[L.status_codes]++;
      this.statuses[status * 2 + side]++;
    } else this.count(L.status_codes, String(status), side);
    const ip = typeof e.client_ip === 'string' && e.client_ip ? e.client_ip : undefined;
    if (ip) this.count(L.hosts, ip, side);
    if (typeof e.os === 'string' && e.os) this.count(L.operating_systems, e.os, side);
    if (typeof e.browser === 'string' && e.browser) this.count(L.browsers, e.browser, side);
    if (side === 1) {
      this.count(L.bot_categories, typeof e.bot_category === 'string' && e.bot_category ? e.bot_category : 'other', 1);
      if (typeof e.bot_name === 'string' && e.bot_name) this.count(L.bot_names, e.bot_name, 1);
    }
    const referer = e.referer;
    if (typeof referer === 'string' && referer && referer !== '-') {
      this.count(L.referrers, referer, side);
      let site = this.sites.get(referer);
      if (site === undefined && !this.sites.has(referer)) {
        site = referringSite(referer);
        if (site !== undefined) site = detachString(site);
        if (this.sites.size >= SITE_CACHE) this.sites = new Map();
        // Copies: a referer is a slice of a chunk of text, which a kept slice would keep alive.
        this.sites.set(detachString(referer), site);
      }
      if (site) this.count(L.referring_sites, site, side);
    }
    const vhost = typeof e.vhost === 'string' && e.vhost ? e.vhost : typeof e.server_name === 'string' && e.server_name ? e.server_name : undefined;
    if (vhost) this.count(L.virtual_hosts, vhost, side);
    if (typeof e.country === 'string' && e.country) this.count(L.countries, e.country, side);
    const rt = responseTime(e);
    if (rt !== null) this.rt[side]!.add(rt);

    const ts = e.timestamp;
    if (typeof ts !== 'number' || ts !== ts) return;
    const hour = this.clock.hour(ts);
    this.hourHits[hour]++;
    this.hourBytes[hour] += bytes;
    if (side === 1) this.hourBots[hour]++;
    const dayNo = this.clock.day(ts);
    const day = dayNo === this.lastDay ? this.lastDayRow : this.dayRow(dayNo);
    if (!day) return; // older than the days kept: in the totals and lists only
    day.hits++;
    day.bytes += bytes;
    if (side === 1) day.bots++;
    // GoAccess's unique visitor (lib/insight's visitorKey and countsAsVisit: a 4xx response makes none), so the
    // numbers compare.
    if (ip && countsAsVisit(status)) day.visitors[side]!.add(this.visitorKeys.key(ip, e.user_agent));
  }

  private dayRow(dayNo: number): Day | undefined {
    let day = this.days.get(dayNo);
    if (!day) {
      if (this.days.size >= MAX_DAYS) {
        const oldest = Math.min(...this.days.keys());
        if (dayNo < oldest) return undefined;
        this.fold(oldest);
      }
      day = { hits: 0, bots: 0, bytes: 0, visitors: [new DistinctCounter(VISITORS_EXACT_LIMIT), new DistinctCounter(VISITORS_EXACT_LIMIT)] };
      this.days.set(dayNo, day);
    }
    this.lastDay = dayNo;
    this.lastDayRow = day;
    return day;
  }

  private fold(dayNo: number): void {
    const d = this.days.get(dayNo)!;
    this.days.delete(dayNo);
    const e = this.earlier;
    e.days++;
    e.hits += d.hits;
    e.bots += d.bots;
    e.bytes += d.bytes;
    e.visitors += d.visitors[0].count() + d.visitors[1].count();
    e.bot_visitors += d.visitors[1].count();
    if (this.lastDay === dayNo) this.lastDay = NaN;
  }

  toJSON(): PanelJSON {
    return {
      requests: this.requests,
      bots: this.bots,
      classified: this.classified,
      lists: this.lists.map(([h, b], i) => ({ h: h.toJSON(), b: b.toJSON(), n: this.present[i]! })),
      hours: { hits: [...this.hourHits], bots: [...this.hourBots], bytes: [...this.hourBytes] },
      days: [...this.days].map(([day, d]) => ({ day, hits: d.hits, bots: d.bots, bytes: d.bytes, v: [d.visitors[0].toJSON(), d.visitors[1].toJSON()] })),
      earlier: { ...this.earlier },
      rt: [this.rt[0].toJSON(), this.rt[1].toJSON()],
      sc: this.statusList(),
    };
  }

  /** Adds another accumulator's state: the result is what one accumulator would hold after both inputs' events
   * (lists: counts and error bounds add, as TopCounter.merge documents; days: distinct counters unite). */
  merge(j: PanelJSON): void {
    this.requests += j.requests;
    this.bots += j.bots;
    this.classified += j.classified;
    j.lists.forEach((l, i) => {
      this.lists[i]![0].merge(l.h);
      this.lists[i]![1].merge(l.b);
      this.present[i] += l.n;
    });
    for (let h = 0; h < 24; h++) {
      this.hourHits[h] += j.hours.hits[h] ?? 0;
      this.hourBots[h] += j.hours.bots[h] ?? 0;
      this.hourBytes[h] += j.hours.bytes[h] ?? 0;
    }
    for (const d of j.days) {
      const row = this.dayRow(d.day);
      if (!row) {
        this.earlier.hits += d.hits;
        this.earlier.bots += d.bots;
        this.earlier.bytes += d.bytes;
        const h = DistinctCounter.fromJSON(d.v[0]).count();
        const b = DistinctCounter.fromJSON(d.v[1]).count();
        this.earlier.visitors += h + b;
        this.earlier.bot_visitors += b;
        continue;
      }
      row.hits += d.hits;
      row.bots += d.bots;
      row.bytes += d.bytes;
      row.visitors[0].merge(d.v[0]);
      row.visitors[1].merge(d.v[1]);
    }
    const e = this.earlier;
    e.days += j.earlier.days;
    e.hits += j.earlier.hits;
    e.bots += j.earlier.bots;
    e.bytes += j.earlier.bytes;
    e.visitors += j.earlier.visitors;
    e.bot_visitors += j.earlier.bot_visitors;
    this.rt[0].merge(j.rt[0]);
    this.rt[1].merge(j.rt[1]);
    for (let i = 0; i + 2 < j.sc.length; i += 3) {
      this.statuses[j.sc[i]! * 2] += j.sc[i + 1]!;
      this.statuses[j.sc[i]! * 2 + 1] += j.sc[i + 2]!;
    }
  }

  private statusList(): number[] {
    const out: number[] = [];
    for (let code = 0; code < STATUS_SLOTS; code++) {
      const h = this.statuses[code * 2]!;
      const b = this.statuses[code * 2 + 1]!;
      if (h || b) out.push(code, h, b);
    }
    return out;
  }

  /** The panels with `rows` entries per list. */
  result(rows: number): Panels {
    const split = this.classified > 0;
    const lists = PANEL_LISTS.map((def, i): PanelList => {
      const [h, b] = this.lists[i]!;
      const m = new Map<string, [number, number]>();
      const humans = h.top(this.capacity);
      for (const { value, count } of humans) m.set(value, [count, 0]);
      for (const { value, count } of b.top(this.capacity)) {
        const had = m.get(value);
        if (had) had[1] = count;
        else m.set(value, [count, count]);
      }
      // m holds [humans, bots] for values in h and [all, bots] for bot-only ones: make both [all, bots].
      for (const { value } of humans) {
        const v = m.get(value)!;
        v[0] += v[1];
      }
      if (def.id === 'status_codes') {
        const sc = this.statusList();
        for (let k = 0; k < sc.length; k += 3) m.set(STATUS_TEXT[sc[k]!] ?? String(sc[k]), [sc[k + 1]! + sc[k + 2]!, sc[k + 2]!]);
      }
      const items: PanelItem[] = [];
      m.forEach(([count, bots], value) => items.push({ value, count, bots: split ? bots : null }));
      items.sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
      const exact = h.errorBound === 0 && b.errorBound === 0;
      const list: PanelList = {
        id: def.id, title: def.title, column: def.column, total: this.present[i]!,
        distinct: exact ? items.length : null, bound: h.errorBound + b.errorBound, items: items.slice(0, rows),
      };
      const botList = def.id === 'bot_categories' || def.id === 'bot_names';
      if (this.present[i] === 0 && this.requests > 0 && !(botList && split)) list.needs = def.needs;
      return list;
    });
    const dayRows = [...this.days].sort((a, b) => a[0] - b[0]);
    let visitors = this.earlier.visitors;
    let botVisitors = this.earlier.bot_visitors;
    let exact = this.earlier.days === 0;
    const daily = dayRows.map(([day, d]) => {
      const h = d.visitors[0].count();
      const b = d.visitors[1].count();
      visitors += h + b;
      botVisitors += b;
      if (!d.visitors[0].exactCount || !d.visitors[1].exactCount) exact = false;
      return { date: day * DAY_MS, hits: d.hits, bots: split ? d.bots : null, visitors: h + b, bytes: d.bytes };
    });
    const all = QuantileSketch.fromJSON(this.rt[0].toJSON());
    all.merge(this.rt[1].toJSON());
    const q = (p: number) => all.quantile(p);
    const response_time_ms: Panels['response_time_ms'] = {
      count: all.n, p50: q(50), p90: q(90), p95: q(95), p99: q(99), bots_p50: split ? this.rt[1].quantile(50) : null,
    };
    if (all.n === 0 && this.requests > 0) response_time_ms.needs = 'a LogFormat with %D or %T (or the request filter)';
    const out: Panels = {
      requests: this.requests,
      bot_requests: split ? this.bots : null,
      human_requests: split ? this.requests - this.bots : null,
      visitors: { total: visitors, bots: split ? botVisitors : null, humans: split ? visitors - botVisitors : null, exact },
      lists,
      hourly: Array.from({ length: 24 }, (_, hour) => ({ hour, hits: this.hourHits[hour]!, bots: split ? this.hourBots[hour]! : null, bytes: this.hourBytes[hour]! })),
      daily,
      earlier_days: this.earlier.days,
      response_time_ms,
    };
    if (!split && this.requests > 0) out.split_needs = 'the bot filter';
    return out;
  }
}
