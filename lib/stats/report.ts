// The figures of one report interval, and their text and HTML renderings. Kept apart from the plugin so
// they can be tested (and reused) without a pipeline.
import { formatLocalTime, type Event } from '../../core/index.js';
import { renderErrorLogHtml, renderErrorLogText } from './error-log-render.js';
import { ErrorLogCounter, MESSAGE_LEVEL_DEFAULT, type SampleStore } from './error-log.js';
import { PanelAccumulator, renderPanelsHtml, renderPanelsText, type Panels } from './panels/index.js';
import { TopCounter } from './sketches.js';
import { AttackCounter, isAttack } from './attacks.js';
import { renderAttacksHtml, renderAttacksText } from './attacks-render.js';

export interface TopItem {
  value: string;
  count: number;
}

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx' | 'other';

const TOP_LISTS = ['top_clients', 'top_error_clients', 'top_paths'] as const;
type TopList = (typeof TOP_LISTS)[number];

/** Which event fields an accumulator reads (the report uses the defaults; summary makes two configurable). */
export interface AccumulatorFields {
  /** The HTTP status: an event with a finite number here is an access event (a request). Default `status`. */
  status?: string;
  /** The client of a request (top_clients, top_error_clients). Default `client_ip`. */
  client?: string;
  /** Also count the traffic panels (lib/stats/panels): the report event gets a `panels` field. */
  panels?: boolean;
}

/** How error-log lines are counted (error-log.ts). */
export interface ErrorLogOptions {
  /** The least severe level whose message templates are counted (top_error_messages); default warn. */
  messageLevel?: string;
  /** Where the sample messages are kept (the dashboard shares one among its slices). */
  samples?: SampleStore;
}

/** The interval traffic figures of access events, shared by the report and summary aggregates. */
export interface TrafficFigures {
  requests: number;
  /** requests / interval seconds; 0 for an empty interval. */
  requests_per_second: number;
  /** 5xx responses. */
  errors: number;
  /** errors / requests; null without requests. */
  error_rate: number | null;
  /** 4xx responses. */
  client_errors: number;
  /** client_errors / requests; null without requests. */
  client_error_rate: number | null;
  status_classes: Record<StatusClass, number>;
  bytes: number;
}

/** Counters for one interval. A new one is started for every interval: nothing carries over.
 * The one implementation of interval traffic statistics: used by `report` and `summary`. */
export class ReportAccumulator {
  requests = 0;
  errors = 0;
  bytes = 0;
  errorLogLines = 0;
  /** Access or error-log events absorbed (heartbeats and other events are not). */
  seen = 0;
  readonly statusClasses: Record<StatusClass, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 };
  /** Lines per level and module, message templates: error-log.ts. */
  readonly errorLog: ErrorLogCounter;
  readonly tops: Record<TopList, TopCounter>;
  /** The traffic panels, when asked for (AccumulatorFields.panels). */
  readonly panels: PanelAccumulator | undefined;
  /** The detect aggregate's alerts (attacks.ts); not counted in `seen` (they are not traffic). */
  readonly attacks: AttackCounter;

  private readonly statusField: string;
  private readonly clientField: string;

  readonly messageLevel: string;

  constructor(readonly start: number, capacity: number, fields: AccumulatorFields = {}, errorLog: ErrorLogOptions = {}) {
    this.statusField = fields.status ?? 'status';
    this.clientField = fields.client ?? 'client_ip';
    this.tops = {
      top_clients: new TopCounter(capacity),
      top_error_clients: new TopCounter(capacity),
      top_paths: new TopCounter(capacity),
    };
    this.messageLevel = errorLog.messageLevel ?? MESSAGE_LEVEL_DEFAULT;
    this.errorLog = new ErrorLogCounter(capacity, this.messageLevel, errorLog.samples);
    this.panels = fields.panels ? new PanelAccumulator(capacity) : undefined;
    this.attacks = new AttackCounter(capacity);
  }

  add(e: Event): void {
    if (e.heartbeat === true) return;
    // A window result (window, window_merge, report, summary: window_start and window_end) is no request, even with a
    // numeric `status` among its group fields: one grouped by status was counted as a request, and window_merge's
    // amended result of the same window as another (the dashboard charted 2 requests and 2 errors for one window).
    if (typeof e.window_start === 'number' && typeof e.window_end === 'number') return;
    if (isAttack(e)) {
      this.attacks.add(e, this.start);
      return;
    }
    const status = e[this.statusField];
    if (typeof status === 'number' && Number.isFinite(status)) {
      this.seen++;
      this.requests++;
      const cls: StatusClass = status >= 200 && status < 600 ? (`${Math.floor(status / 100)}xx` as StatusClass) : 'other';
      this.statusClasses[cls]++;
      if (typeof e.bytes === 'number' && Number.isFinite(e.bytes)) this.bytes += e.bytes;
      this.panels?.add(e, status);
      const clientValue = e[this.clientField];
      const client = typeof clientValue === 'string' && clientValue ? clientValue : undefined;
      if (client) this.tops.top_clients.add(client);
      if (typeof e.path === 'string' && e.path) this.tops.top_paths.add(e.path);
      if (status >= 500 && status < 600) {
        this.errors++;
        if (client) this.tops.top_error_clients.add(client);
      }
      return;
    }
    if (typeof e.level === 'string' && e.level) {
      this.seen++;
      this.errorLogLines++;
      this.errorLog.add(e.level, e);
    }
  }

  /** The access-traffic figures of [start, end): heartbeats excluded, no division by zero. */
  traffic(end: number): TrafficFigures {
    const seconds = (end - this.start) / 1000;
    const clientErrors = this.statusClasses['4xx'];
    return {
      requests: this.requests,
      requests_per_second: seconds > 0 ? this.requests / seconds : 0,
      errors: this.errors,
      error_rate: this.requests > 0 ? this.errors / this.requests : null,
      client_errors: clientErrors,
      client_error_rate: this.requests > 0 ? clientErrors / this.requests : null,
      status_classes: { ...this.statusClasses },
      bytes: this.bytes,
    };
  }

  /** The report event for [start, end). */
  toEvent(end: number, title: string, topN: number, withHtml: boolean): Event {
    const t = this.traffic(end);
    const event: Event = {
      report: title,
      window_start: this.start,
      window_end: end,
      requests: t.requests,
      requests_per_second: t.requests_per_second,
      errors: t.errors,
      error_rate: t.error_rate,
      status_classes: t.status_classes,
      bytes: t.bytes,
      top_clients: this.tops.top_clients.top(topN),
      top_error_clients: this.tops.top_error_clients.top(topN),
      top_paths: this.tops.top_paths.top(topN),
      error_log_lines: this.errorLogLines,
      error_log_levels: this.errorLog.levelCounts(),
      error_message_level: this.messageLevel,
      error_log_modules: this.errorLog.moduleCounts(this.messageLevel, topN),
      top_error_messages: this.errorLog.topMessages(topN),
      top_error_bounds: { ...Object.fromEntries(TOP_LISTS.map((k) => [k, this.tops[k].errorBound])), top_error_messages: this.errorLog.messagesBound() },
    };
    if (this.panels) event.panels = this.panels.result(topN) as unknown as Event[string];
    if (this.attacks.alerts > 0) event.attacks = this.attacks.toJSON(topN) as unknown as Event[string];
    event.message = renderReportText(event);
    if (withHtml) event.html = renderReportHtml(event);
    return event;
  }
}

// Times as the server's local time with its offset (mails, the terminal): people read them, not parsers.
const iso = (ms: unknown) => (typeof ms === 'number' ? formatLocalTime(ms) : '');
const pct = (r: unknown) => (typeof r === 'number' ? `${(r * 100).toFixed(2)}%` : 'n/a');
const topLine = (items: unknown) =>
  Array.isArray(items) && items.length ? (items as TopItem[]).map((t) => `${oneLine(t.value)} (${t.count})`).join(', ') : '-';
const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');

/** A multi-line plain-text rendering of a report event. */
export function renderReportText(r: Event): string {
  const sc = r.status_classes as Record<StatusClass, number>;
  const rps = typeof r.requests_per_second === 'number' ? r.requests_per_second.toFixed(2) : '0';
  return [
    `report ${r.report}: ${iso(r.window_start)} - ${iso(r.window_end)}`,
    `requests: ${r.requests} (${rps}/s)  errors (5xx): ${r.errors}  error rate: ${pct(r.error_rate)}  bytes: ${r.bytes}`,
    `status: 2xx ${sc['2xx']}  3xx ${sc['3xx']}  4xx ${sc['4xx']}  5xx ${sc['5xx']}  other ${sc.other}`,
    `top clients: ${topLine(r.top_clients)}`,
    `top 5xx clients: ${topLine(r.top_error_clients)}`,
    `top paths: ${topLine(r.top_paths)}`,
    ...renderErrorLogText(r),
    ...(r.panels ? renderPanelsText(r.panels as unknown as Panels, Infinity) : []),
    ...renderAttacksText(r),
  ].join('\n');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const TABLE = 'border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse;font-family:sans-serif;font-size:13px"';
const h = (v: unknown) => escapeHtml(v === null || v === undefined ? '' : String(v));

function htmlTop(heading: string, items: unknown, column: string): string {
  const rows = Array.isArray(items) ? (items as TopItem[]) : [];
  const body = rows.length
    ? rows.map((t, i) => `<tr><td>${i + 1}</td><td>${h(t.value)}</td><td align="right">${h(t.count)}</td></tr>`).join('')
    : '<tr><td colspan="3">none</td></tr>';
  return `<h4 style="font-family:sans-serif">${h(heading)}</h4><table ${TABLE}><tr><th>#</th><th>${h(column)}</th><th>count</th></tr>${body}</table>`;
}

/** An HTML fragment (tables) of a report event; every value is escaped. */
export function renderReportHtml(r: Event): string {
  const sc = r.status_classes as Record<StatusClass, number>;
  const rps = typeof r.requests_per_second === 'number' ? r.requests_per_second.toFixed(2) : '0';
  const summary: Array<[string, unknown]> = [
    ['window', `${iso(r.window_start)} - ${iso(r.window_end)}`],
    ['requests', r.requests],
    ['requests/s', rps],
    ['errors (5xx)', r.errors],
    ['error rate', pct(r.error_rate)],
    ['bytes', r.bytes],
    ['2xx / 3xx / 4xx / 5xx / other', `${sc['2xx']} / ${sc['3xx']} / ${sc['4xx']} / ${sc['5xx']} / ${sc.other}`],
    ['error log lines', r.error_log_lines],
  ];
  return `<div><h3 style="font-family:sans-serif">report ${h(r.report)}</h3>`
    + `<table ${TABLE}>${summary.map(([k, v]) => `<tr><th align="left">${h(k)}</th><td>${h(v)}</td></tr>`).join('')}</table>`
    + htmlTop('top clients', r.top_clients, 'client')
    + htmlTop('top 5xx clients', r.top_error_clients, 'client')
    + htmlTop('top paths', r.top_paths, 'path')
    + renderErrorLogHtml(r, TABLE, h)
    + (r.panels ? renderPanelsHtml(r.panels as unknown as Panels, Infinity, TABLE) : '')
    + renderAttacksHtml(r, TABLE, h)
    + '</div>';
}
