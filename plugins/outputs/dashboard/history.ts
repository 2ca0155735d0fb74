// The dashboard's `store: ID`: GET /api/history (a DashboardState for a time range and filters, from the store's
// window rows or events; see lib/dashboard/history.ts) and, at a start, the live model refilled from the store. The
// store is reached through the pipeline's shared registry of store readers (lib/store), looked up by id when needed:
// the store may be created and started after the dashboard.
import type { Event, PluginContext } from '../../../core/index.js';
import { historyState, storedForModel, type DashboardModel, type HistoryFilters, type StatusClass } from '../../../lib/dashboard/index.js';
import { storeReaders, type StoreReader } from '../../../lib/store/index.js';

export interface HistoryOptions {
  store: string;
  aggregate?: string;
  maxEvents: number;
  topN: number;
  alerts: number;
  title: string;
  messageLevel: string;
}

/** Longest range one request may ask for. */
const MAX_RANGE_MS = 400 * 86_400_000;
/** How long a refill waits for the first live event. */
const REFILL_WAIT_MS = 3000;
/** Most stored events read back into the live model after a restart. */
const REFILL_MAX_EVENTS = 500_000;

type Answer = { status: number; body: string };
const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value) });

/** A time parameter: epoch ms or an ISO date/time. */
function time(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = /^-?\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isFinite(n) ? n : NaN;
}

export class HistoryApi {
  constructor(private readonly context: PluginContext, private readonly options: HistoryOptions) {}

  /** At start: the component `store` names must be a store output of this pipeline (the fix is named). */
  check(): void {
    const id = this.options.store;
    if (this.reader()) return;
    const c = this.context.pipeline().components[id];
    if (!c) throw new Error(`store: "${id}" names no component of this pipeline: set store to the id of a store output (outputs: { ${id}: { type: store, ... } })`);
    throw new Error(`store: "${id}" is a ${c.type} ${c.kind}, not a store output: set store to the id of a store output`);
  }

  private reader(): StoreReader | undefined {
    return storeReaders(this.context).get(this.options.store);
  }

  /** GET /api/history?from=&to=&vhost=&status=&status_class=&client=&path= */
  async answer(q: URLSearchParams): Promise<Answer> {
    const now = Date.now();
    const to = time(q.get('to')) ?? now;
    const from = time(q.get('from')) ?? to - 3_600_000;
    if (Number.isNaN(from) || Number.isNaN(to)) return json(400, { error: 'from and to are epoch milliseconds or ISO dates, e.g. from=2026-01-02T00:00:00Z' });
    if (!(to > from)) return json(400, { error: `from must be before to (from ${from}, to ${to})` });
    if (to - from > MAX_RANGE_MS) return json(400, { error: 'the range is longer than 400 days' });
    const filters: HistoryFilters = {};
    for (const k of ['vhost', 'client', 'path'] as const) {
      const v = q.get(k);
      if (v !== null && v !== '') filters[k] = v;
    }
    const status = q.get('status');
    if (status !== null && status !== '') {
      if (!/^\d{3}$/.test(status)) return json(400, { error: `status must be a 3-digit code (got ${JSON.stringify(status.slice(0, 20))})` });
      filters.status = Number(status);
    }
    const cls = q.get('status_class');
    if (cls !== null && cls !== '') {
      if (!/^[2-5]xx$/.test(cls)) return json(400, { error: `status_class must be one of 2xx, 3xx, 4xx, 5xx (got ${JSON.stringify(cls.slice(0, 20))})` });
      filters.status_class = cls as StatusClass;
    }
    const reader = this.reader();
    if (!reader) return json(503, { error: `store "${this.options.store}" is not running (yet)` });
    let engine;
    try {
      engine = await reader.open();
    } catch (err) {
      return json(503, { error: `store "${this.options.store}" cannot be read yet: ${(err as Error).message}` });
    }
    const state = await historyState(engine, {
      from, to, filters, aggregate: this.options.aggregate, maxEvents: this.options.maxEvents, topN: this.options.topN, alerts: this.options.alerts, title: this.options.title, messageLevel: this.options.messageLevel, events: reader.events,
    });
    return json(200, state);
  }

  /** After a start: the stored events of the last `historyMs` before the first event charted live, and the recent
   * alerts, into the model (so the page shows what it showed before the restart). Retried every second until the
   * store can be read, for at most a minute; a reload keeps its model and needs none of this. */
  refill(model: DashboardModel, historyMs: number, earliestLive: () => number, clock: (e: Event, now: number) => number): void {
    const { logger, timers } = this.context;
    let tries = 0;
    const started = Date.now();
    const attempt = async (): Promise<void> => {
      // Wait for the first live event (at most a few seconds): what the inputs read again after the restart (a tail
      // replaying from its checkpoint) is in the store too, and is charted live, from the earliest of it on.
      if (earliestLive() === Infinity && Date.now() - started < REFILL_WAIT_MS) return void timers.after(200, attempt);
      const reader = this.reader();
      let engine;
      try {
        if (!reader) throw new Error('not running yet');
        engine = await reader.open();
      } catch (err) {
        if (++tries < 60) timers.after(1000, attempt);
        else logger.warn('dashboard: could not refill from the store', { store: this.options.store, error: (err as Error).message });
        return;
      }
      const now = Date.now();
      // Events already charted live (e.g. a replay after the restart) are not read again: up to the earliest of them.
      const until = Math.min(now, earliestLive());
      const stored = await storedForModel(engine, now - historyMs, until, reader.events ? REFILL_MAX_EVENTS : 0, this.options.alerts);
      for (const e of stored.events) {
        const t = clock(e, now);
        model.add(e, t, t);
      }
      for (const a of stored.alerts) model.add(a.event, a.time);
      logger.info('dashboard refilled from the store', { store: this.options.store, events: stored.events.length, alerts: stored.alerts.length });
    };
    timers.after(0, attempt);
  }
}
