// The figures the dashboard shows, kept apart from the server so that `visor analyze --html` can build the same
// state from files (event time, one-minute buckets) and render it with the same page.
//
// Every access or error-log event goes through ONE ReportAccumulator (the one implementation of interval traffic
// statistics): the accumulator of the top-window slice the event falls in. The per-bucket chart figures are the
// changes that add() made to that accumulator's counters, so classification (heartbeats excluded, status classes,
// bytes, 5xx) is never re-implemented here. Memory is bounded: a fixed ring of buckets, a fixed number of slices
// (each with top lists of `capacity` values), a capped list of alerts.
import type { Event } from '../../core/index.js';
import { ERROR_LOG_LEVELS, ErrorLogCounter, MESSAGE_LEVEL_DEFAULT, ReportAccumulator, SampleStore, type ErrorLogJSON, type MessageItem, type TopItem } from '../stats/index.js';
import { PanelAccumulator, type PanelJSON, type Panels } from '../stats/index.js';
import { AttackCounter, attackTime, isAttack, severityClass, type AttacksJSON } from '../stats/index.js';

export interface DashboardModelOptions {
  /** Width of one chart bucket (1000 live; 60000 for an analysis of files). */
  bucketMs: number;
  /** Buckets kept for the charts (history / bucketMs). Events older than the newest bucket minus this many are
   * counted in the tables and totals but not charted. Memory: 10 numbers per bucket. */
  buckets: number;
  /** Rows per table. */
  topN: number;
  /** How far back the tables and totals reach; Infinity: everything seen. */
  topWindowMs: number;
  /** Distinct values counted exactly per top list and slice; beyond, Space-Saving (see top.error_bounds). */
  capacity: number;
  /** Recent alert events kept. */
  alerts: number;
  /** Shown in the page header. */
  title?: string;
  /** The level the page's error-message filter starts at (default warn: error-log.ts). */
  messageLevel?: string;
  /** Rows per traffic panel (lib/stats/panels) in the state; 0: no panels. Default 100 (the page pages them). */
  panelRows?: number;
}

export interface HealthRow {
  id: string;
  kind: string;
  type: string;
  healthy: boolean;
  reason: string | null;
  /** Events received per second since the previous sample. */
  in_per_s: number;
  /** Events sent (all outputs) per second since the previous sample. */
  out_per_s: number;
  /** buffer_events / buffer_max_events (0 for inputs, which have no buffer). */
  buffer_fill: number;
  buffer_events: number;
  buffer_max_events: number;
  /** Events sent to the `_unparsed` side output (totals since start). */
  unparsed: number;
  /** Events discarded (totals since start). */
  dropped: number;
  errors: number;
  /** A lag gauge the component exposes (e.g. visor_tail_lag_bytes), when it has one. */
  lag?: number;
  lag_unit?: string;
}

export interface DashboardSeries {
  /** Bucket start, epoch ms, oldest first. */
  t: number[];
  requests: number[];
  /** 5xx responses. */
  errors: number[];
  /** errors / requests; null for a bucket without requests. */
  error_rate: Array<number | null>;
  bytes: number[];
  status_2xx: number[];
  status_3xx: number[];
  status_4xx: number[];
  status_5xx: number[];
  /** Error-log lines. */
  error_log_lines: number[];
  /** Detect alerts by severity class (lib/stats/attacks.ts severityClass), at their time (attackTime): the attacks
   * panel's timeline. */
  attacks_critical: number[];
  attacks_warning: number[];
  attacks_info: number[];
}

export interface DashboardTotals {
  /** The span the totals and tables cover: [start, end) (slices of the top window). */
  start: number;
  end: number;
  requests: number;
  errors: number;
  /** errors / requests; null without requests. */
  error_rate: number | null;
  bytes: number;
  error_log_lines: number;
  status_classes: { '2xx': number; '3xx': number; '4xx': number; '5xx': number; other: number };
}

export interface DashboardTop {
  clients: TopItem[];
  paths: TopItem[];
  /** Clients of 5xx responses. */
  error_clients: TopItem[];
  /** Error-log message templates: the top of each level, most severe level first (the page filters by level). */
  error_messages: MessageItem[];
  /** Per list: how much any count shown may exceed the true one (0: exact). */
  error_bounds: { clients: number; paths: number; error_clients: number; error_messages: number };
}

/** The error-log lines of the tables' window by level and module (error-log.ts). */
export interface DashboardErrorLog {
  /** Lines per level, most severe first. */
  levels: Record<string, number>;
  /** [level, module, lines]. */
  modules: Array<[string, string, number]>;
  /** The level the page's filter starts at. */
  message_level: string;
  /** Per level: how much a count of its templates may exceed the true one (0: exact). */
  message_bounds: Record<string, number>;
  /** Rows per table. */
  top_n: number;
}

/** An alert event as the dashboard keeps it (the alert aggregate's fields, long texts cut). */
export interface DashboardAlert {
  name: string;
  severity: string;
  state: string;
  kind?: string;
  message: string;
  time: number;
  count?: number;
  value?: unknown;
}

/** Everything the page renders; JSON-serialisable. */
export interface DashboardState {
  title: string;
  generated_at: number;
  bucket_ms: number;
  top_window_ms: number | null;
  series: DashboardSeries;
  totals: DashboardTotals;
  top: DashboardTop;
  /** Absent from a history view read from window rows (they count requests only). */
  error_log?: DashboardErrorLog;
  /** Newest first. */
  alerts: DashboardAlert[];
  /** Events that were neither traffic, error-log lines nor alerts (e.g. reports), and alerts out of order. */
  ignored: number;
  /** Per component, in config order (live dashboard only). */
  health?: HealthRow[];
  /** Set by the live dashboard: `running`, `draining`, ... */
  pipeline_state?: string;
  /** Refresh interval of the live dashboard, ms. */
  update_ms?: number;
  /** The traffic panels over the same span as the tables (absent with panelRows 0). */
  panels?: Panels;
  /** The detect aggregate's alerts since start (rules, clients: lib/stats/attacks.ts); absent until one arrives. */
  attacks?: AttacksJSON;
}

const LISTS = [
  ['clients', 'top_clients'],
  ['paths', 'top_paths'],
  ['error_clients', 'top_error_clients'],
] as const;
type ListName = (typeof LISTS)[number][0] | 'error_messages';

/** Slices per top window: the window is covered to within one slice (a tenth of it). */
const SLICES = 10;
/** The least severe level: templates of every level are counted. */
const ALL_LEVELS = ERROR_LOG_LEVELS[ERROR_LOG_LEVELS.length - 1]!;
const DEFAULT_PANEL_ROWS = 100;
const ALERT_TEXT_MAX = 500;

interface Slice {
  key: number;
  acc: ReportAccumulator;
  /** Full lists (value -> count) computed once the slice has stopped changing. */
  cache?: Record<Exclude<ListName, 'error_messages'>, TopItem[]>;
  errorLog?: ErrorLogJSON;
  /** Its panels' state, likewise. */
  panelCache?: PanelJSON;
}

export class DashboardModel {
  private readonly bucketMs: number;
  private readonly n: number;
  private readonly sliceMs: number;
  private readonly sliceCount: number;
  private readonly title: string;
  // The chart ring: column arrays, one slot per bucket; slot i holds the bucket starting at start[i] (NaN: empty).
  private readonly start: Float64Array;
  private readonly cols: Record<'requests' | 'errors' | 'bytes' | 's2' | 's3' | 's4' | 's5' | 'log' | 'attacks_critical' | 'attacks_warning' | 'attacks_info', Float64Array>;
  private readonly slices: Slice[] = [];
  private readonly alertRing: DashboardAlert[] = [];
  /** Beside each ring entry, its period's identity when it is a digest a later amended one may correct (else ''). */
  private readonly alertKeys: string[] = [];
  private ignored = 0;
  /** Detect alerts since start: few (one per client and rule per bucket fill), so not sliced like the tables. */
  private readonly attacks: AttackCounter;
  /** The sample messages of every slice's templates, in one bounded store. */
  private readonly samples: SampleStore;
  private readonly messageLevel: string;
  /** The latest clock value add() has seen (event time in analysis). */
  latest = -Infinity;
  /** The earliest clock value add() has seen. */
  earliest = Infinity;

  constructor(private readonly opts: DashboardModelOptions) {
    if (!(opts.bucketMs > 0)) throw new Error('bucketMs must be positive');
    this.bucketMs = opts.bucketMs;
    this.n = Math.max(1, Math.floor(opts.buckets));
    this.title = opts.title ?? 'Visor';
    this.messageLevel = opts.messageLevel ?? MESSAGE_LEVEL_DEFAULT;
    this.samples = new SampleStore(opts.capacity);
    const finite = Number.isFinite(opts.topWindowMs) && opts.topWindowMs > 0;
    // An infinite window is one slice that never ends.
    this.sliceMs = finite ? Math.max(1, Math.ceil(opts.topWindowMs / SLICES)) : Infinity;
    this.sliceCount = finite ? Math.ceil(opts.topWindowMs / this.sliceMs) : 1;
    this.start = new Float64Array(this.n).fill(NaN);
    const col = () => new Float64Array(this.n);
    this.cols = { requests: col(), errors: col(), bytes: col(), s2: col(), s3: col(), s4: col(), s5: col(), log: col(), attacks_critical: col(), attacks_warning: col(), attacks_info: col() };
    this.attacks = new AttackCounter(opts.capacity);
  }

  /** Absorb one event. `now` is the clock of the tables and totals (arrival time live, event time in analysis);
   * default Date.now(). `at` is the chart bucket's time (default `now`): the live dashboard passes the event's own
   * time, so that a backlog read after downtime is charted where it happened. */
  add(event: Event, now: number = Date.now(), at: number = now): void {
    if (now > this.latest) this.latest = now;
    if (now < this.earliest) this.earliest = now;
    if (typeof event.severity === 'string' && typeof event.state === 'string') {
      this.addAlert(event, now);
      if (isAttack(event)) {
        this.attacks.add(event, now);
        // Charted at its own time, never later than `at` (a clock ahead of ours).
        const i = this.slot(Math.min(attackTime(event, at), at));
        if (i >= 0) this.cols[`attacks_${severityClass(event.severity)}`][i]++;
      }
      return;
    }
    const slice = this.sliceFor(now);
    if (!slice) {
      this.ignored++;
      return;
    }
    const acc = slice.acc;
    const r = acc.requests, er = acc.errors, b = acc.bytes, lines = acc.errorLogLines;
    const sc = acc.statusClasses;
    const c2 = sc['2xx'], c3 = sc['3xx'], c4 = sc['4xx'], c5 = sc['5xx'];
    const seen = acc.seen;
    acc.add(event);
    if (acc.seen === seen) {
      if (event.heartbeat !== true) this.ignored++;
      return;
    }
    slice.cache = undefined;
    slice.errorLog = undefined;
    slice.panelCache = undefined;
    const i = this.slot(at);
    if (i < 0) return; // older than the chart history: counted in the tables only
    const c = this.cols;
    c.requests[i] += acc.requests - r;
    c.errors[i] += acc.errors - er;
    c.bytes[i] += acc.bytes - b;
    c.s2[i] += sc['2xx'] - c2;
    c.s3[i] += sc['3xx'] - c3;
    c.s4[i] += sc['4xx'] - c4;
    c.s5[i] += sc['5xx'] - c5;
    c.log[i] += acc.errorLogLines - lines;
  }

  /** The state at `now` (default Date.now()): tables and totals over the top window ending at `now`, charts over the
   * history ending with the bucket that contains `seriesEnd` (default `now`; the live dashboard passes the last
   * complete second so the charts do not dip at their right edge). */
  snapshot(now: number = Date.now(), seriesEnd: number = now): DashboardState {
    return {
      title: this.title,
      generated_at: now,
      bucket_ms: this.bucketMs,
      top_window_ms: Number.isFinite(this.opts.topWindowMs) ? this.opts.topWindowMs : null,
      series: this.series(seriesEnd),
      ...this.tables(now),
      alerts: this.alertRing.slice().reverse(),
      ignored: this.ignored,
      ...(this.attacks.alerts > 0 ? { attacks: this.attacks.toJSON(this.opts.topN) } : {}),
    };
  }

  private slot(now: number): number {
    const bucketStart = Math.floor(now / this.bucketMs) * this.bucketMs;
    const i = Math.floor(now / this.bucketMs) % this.n;
    const idx = i < 0 ? i + this.n : i;
    const held = this.start[idx]!;
    if (held === bucketStart) return idx;
    if (held > bucketStart) return -1; // that slot already holds a newer bucket
    this.start[idx] = bucketStart;
    for (const k in this.cols) this.cols[k as keyof typeof this.cols][idx] = 0;
    return idx;
  }

  private series(end: number): DashboardSeries {
    const last = Math.floor(end / this.bucketMs);
    const s: DashboardSeries = {
      t: [], requests: [], errors: [], error_rate: [], bytes: [],
      status_2xx: [], status_3xx: [], status_4xx: [], status_5xx: [], error_log_lines: [], attacks_critical: [], attacks_warning: [], attacks_info: [],
    };
    const c = this.cols;
    for (let k = last - this.n + 1; k <= last; k++) {
      const bucketStart = k * this.bucketMs;
      const i = ((k % this.n) + this.n) % this.n;
      const has = this.start[i] === bucketStart;
      const v = (col: Float64Array) => (has ? col[i]! : 0);
      const requests = v(c.requests);
      const errors = v(c.errors);
      s.t.push(bucketStart);
      s.requests.push(requests);
      s.errors.push(errors);
      s.error_rate.push(requests > 0 ? errors / requests : null);
      s.bytes.push(v(c.bytes));
      s.status_2xx.push(v(c.s2));
      s.status_3xx.push(v(c.s3));
      s.status_4xx.push(v(c.s4));
      s.status_5xx.push(v(c.s5));
      s.error_log_lines.push(v(c.log));
      s.attacks_critical.push(v(c.attacks_critical));
      s.attacks_warning.push(v(c.attacks_warning));
      s.attacks_info.push(v(c.attacks_info));
    }
    return s;
  }

  /** The slice accumulating events at `now`, creating it (and retiring slices beyond the window) as needed;
   * undefined for a time already beyond the window of the slices kept. */
  private sliceFor(now: number): Slice | undefined {
    const key = Number.isFinite(this.sliceMs) ? Math.floor(now / this.sliceMs) : 0;
    for (let j = this.slices.length - 1; j >= 0; j--) {
      const s = this.slices[j]!;
      if (s.key === key) return s;
      if (s.key < key) break;
    }
    const newest = this.slices.length ? this.slices[this.slices.length - 1]!.key : -Infinity;
    if (key <= newest - this.sliceCount) return undefined;
    // Templates of every level are counted: the page's filter may go down to debug.
    const panels = (this.opts.panelRows ?? DEFAULT_PANEL_ROWS) > 0;
    const acc = new ReportAccumulator(Number.isFinite(this.sliceMs) ? key * this.sliceMs : 0, this.opts.capacity, { panels }, { messageLevel: ALL_LEVELS, samples: this.samples });
    const slice: Slice = { key, acc };
    // Keep the slices sorted by key (an out-of-order event time may open an older one).
    let at = this.slices.length;
    while (at > 0 && this.slices[at - 1]!.key > key) at--;
    this.slices.splice(at, 0, slice);
    const newestKey = this.slices[this.slices.length - 1]!.key;
    while (this.slices.length && this.slices[0]!.key <= newestKey - this.sliceCount) this.slices.shift();
    return slice;
  }

  private tables(now: number): Pick<DashboardState, 'totals' | 'top' | 'error_log' | 'panels'> {
    const finite = Number.isFinite(this.sliceMs);
    const lastKey = finite ? Math.floor(now / this.sliceMs) : 0;
    const inWindow = this.slices.filter((s) => s.key <= lastKey && s.key > lastKey - this.sliceCount);
    const totals: DashboardTotals = {
      start: finite ? (lastKey - this.sliceCount + 1) * this.sliceMs : Math.min(this.earliest, now),
      end: now,
      requests: 0, errors: 0, error_rate: null, bytes: 0, error_log_lines: 0,
      status_classes: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 },
    };
    const merged: Record<Exclude<ListName, 'error_messages'>, Map<string, number>> = { clients: new Map(), paths: new Map(), error_clients: new Map() };
    const error_bounds = { clients: 0, paths: 0, error_clients: 0, error_messages: 0 };
    const errorLog = new ErrorLogCounter(Infinity, ALL_LEVELS, this.samples);
    for (const s of inWindow) {
      const a = s.acc;
      totals.requests += a.requests;
      totals.errors += a.errors;
      totals.bytes += a.bytes;
      totals.error_log_lines += a.errorLogLines;
      for (const k of Object.keys(totals.status_classes) as Array<keyof DashboardTotals['status_classes']>) totals.status_classes[k] += a.statusClasses[k];
      // Exact counts add; a value missing from one slice's list was counted there at most its error bound,
      // and counts shown there exceed the truth by at most that bound: the bounds add too.
      s.cache ??= Object.fromEntries(LISTS.map(([name, list]) => [name, a.tops[list].top(this.opts.capacity)])) as Slice['cache'] & object;
      s.errorLog ??= a.errorLog.toJSON(this.opts.capacity);
      errorLog.merge(s.errorLog);
      for (const [name, list] of LISTS) {
        const m = merged[name];
        for (const item of s.cache[name]) m.set(item.value, (m.get(item.value) ?? 0) + item.count);
        error_bounds[name] += a.tops[list].errorBound;
      }
    }
    totals.error_rate = totals.requests > 0 ? totals.errors / totals.requests : null;
    const top = Object.fromEntries(LISTS.map(([name]) => [name, topOf(merged[name], this.opts.topN)])) as Record<Exclude<ListName, 'error_messages'>, TopItem[]>;
    error_bounds.error_messages = errorLog.messagesBound(ALL_LEVELS);
    const tables = {
      totals,
      top: { ...top, error_messages: errorLog.topMessagesPerLevel(this.opts.topN), error_bounds },
      error_log: { levels: errorLog.levelCounts(), modules: errorLog.moduleEntries(), message_level: this.messageLevel, message_bounds: errorLog.messageBounds(), top_n: this.opts.topN },
    };
    const rows = this.opts.panelRows ?? DEFAULT_PANEL_ROWS;
    if (rows <= 0) return tables;
    return { ...tables, panels: this.panels(inWindow, rows) };
  }

  /** The slices' panels together: one slice's directly, several merged (each slice's state cached once it stops
   * changing, as its lists are). */
  private panels(slices: Slice[], rows: number): Panels {
    if (slices.length === 1) return slices[0]!.acc.panels!.result(rows);
    const all = new PanelAccumulator(this.opts.capacity);
    for (const s of slices) all.merge(s.panelCache ??= s.acc.panels!.toJSON());
    return all.result(rows);
  }

  private addAlert(e: Event, now: number): void {
    const text = (v: unknown, max = ALERT_TEXT_MAX) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v)).slice(0, max);
    const alert: DashboardAlert = {
      name: text(e.name, 200),
      severity: text(e.severity, 40),
      state: text(e.state, 40),
      message: text(e.message),
      time: typeof e.time === 'number' && Number.isFinite(e.time) ? e.time : now,
    };
    if (typeof e.kind === 'string') alert.kind = e.kind.slice(0, 40);
    if (typeof e.count === 'number') alert.count = e.count;
    if (typeof e.value === 'number' || typeof e.value === 'string' || typeof e.value === 'boolean') alert.value = e.value;
    const key = periodKey(e);
    // An amended digest (detect's, for late lines of its period) takes the place of the one it corrects, as the
    // store overwrites its row: the list and the history after a restart show the period once.
    const at = e.amended === true && key !== '' ? this.alertKeys.lastIndexOf(key) : -1;
    if (at >= 0) {
      this.alertRing[at] = alert;
      return;
    }
    this.alertRing.push(alert);
    this.alertKeys.push(key);
    if (this.alertRing.length > Math.max(0, this.opts.alerts)) {
      const over = this.alertRing.length - Math.max(0, this.opts.alerts);
      this.alertRing.splice(0, over);
      this.alertKeys.splice(0, over);
    }
  }
}

/** A digest's period as the store keys its row (name, client and vhost, since), '' for any other alert. */
function periodKey(e: Event): string {
  if (e.state !== 'digest' || typeof e.since !== 'number') return '';
  return JSON.stringify([e.name, e.client_ip ?? null, e.vhost ?? null, Math.floor(e.since)]);
}

/** The state with the chart buckets before `from` left out (e.g. `model.earliest`: an analysis of a few hours
 * with a history of days then charts only the hours that have data). Returns a new state. */
export function trimSeries(state: DashboardState, from: number): DashboardState {
  const first = Math.floor(from / state.bucket_ms) * state.bucket_ms;
  let i = 0;
  while (i < state.series.t.length - 1 && state.series.t[i]! < first) i++;
  const series = Object.fromEntries(Object.entries(state.series).map(([k, v]) => [k, (v as unknown[]).slice(i)])) as unknown as DashboardSeries;
  return { ...state, series };
}

/** The n largest counts, by count (descending) then value. */
function topOf(m: Map<string, number>, n: number): TopItem[] {
  const items: TopItem[] = [];
  m.forEach((count, value) => items.push({ value, count }));
  items.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return items.slice(0, n);
}
