// The one code path above the engines: a batch of events becomes rows (classified, mapped, one row per identity),
// written in one transaction; write() resolves once it committed, which is the acknowledgement the core passes
// upstream. A failure of the database rejects write() (the core retries with backoff, and its queue fills up to
// the inputs: backpressure) and is what health() reports. Rows the database refuses for good are appended to the
// dead-letter file (durably, after the commit of the rest) and counted: never dropped silently, never retried forever.
import { appendDurable, PermanentError, type ComponentHealth, type ComponentMetrics, type Counter, type Event, type Logger } from '../../core/index.js';
import { classify, type EventKind } from './classify.js';
import { describeError, lastPerKey, type EventRows, type RejectedRow, type StoreEngine, type TableRows } from './engine.js';
import { Rollup } from './rollup.js';
import { eventTime, RowMapper, type MappedRow, type RowOptions } from './rows.js';
import { TABLES, type TableName } from './schema.js';

export interface StoreWriterOptions extends RowOptions {
  /** Store raw events (the events table); otherwise they are counted as discarded. */
  events: boolean;
  /** The dead-letter file (`<data_dir>/<id>/rejected.jsonl`). */
  deadLetter: string;
  /** Resolutions (ms) window rows are rolled up to after each batch (see rollup.ts). */
  rollups: number[];
}

/** Kinds that are never stored, with the reason they are counted under and what to do about it. */
const NOT_STORED: Partial<Record<EventKind, { reason: string; hint: string }>> = {
  partial: { reason: 'partial', hint: 'partials are window_merge\'s input: send window_merge\'s results (with state: true) to the store' },
  window_without_state: { reason: 'window_without_state', hint: 'a window result without _window names neither its aggregate nor its group: set state: true on the window (or window_merge) aggregate' },
};

/** Tables in the order a batch writes them (raw events after them). */
const ORDER: TableName[] = ['aggregates', 'windows', 'alerts', 'reports', 'events'];
const REJECT_LOG_INTERVAL = 60_000;

export class StoreWriter {
  private readonly mapper: RowMapper;
  private readonly rollup: Rollup;
  private readonly rowsWritten: Record<TableName, Counter>;
  private readonly rejectedRows: Counter;
  private readonly warned = new Set<string>();
  private lastError: { message: string; at: number } | undefined;
  private schemaVersion: number | undefined;
  private lastRejectLog = 0;
  private rejectsSinceLog = 0;

  constructor(
    readonly engine: StoreEngine,
    private readonly options: StoreWriterOptions,
    private readonly context: { logger: Logger; metrics: ComponentMetrics },
  ) {
    this.mapper = new RowMapper(options);
    this.rollup = new Rollup(engine, this.mapper, options.agent, options.rollups);
    const m = context.metrics;
    this.rowsWritten = Object.fromEntries(ORDER.map((t) => [t, m.counter('store_rows_total', 'Rows committed to the store, per table (a row written again counts again).', { table: t })])) as Record<TableName, Counter>;
    this.rejectedRows = m.counter('store_rejected_rows_total', 'Rows the database refused (constraint or type error), appended to rejected.jsonl.');
  }

  /** Connects and migrates. A database that cannot be reached yet is not fatal: writes retry until it can. */
  async open(): Promise<void> {
    try {
      this.schemaVersion = await this.engine.open();
      this.lastError = undefined;
    } catch (err) {
      if (err instanceof PermanentError) throw err;
      this.failed(err);
      this.context.logger.warn('store not reachable at start; writes will retry', { store: this.engine.location, error: describeError(err) });
    }
  }

  /** Commits the batch, then the roll-ups of its window rows (in following transactions): resolves after both, so a
   * batch whose roll-up failed is retried whole (upserts: the base rows are written again unchanged). */
  async write(events: Event[]): Promise<void> {
    const { batch, raw } = this.rows(events);
    if (!batch.length && !raw) return;
    await this.commit(batch, raw);
    const windows = batch.find((t) => t.table === TABLES.windows)?.rows as MappedRow[] | undefined;
    if (windows?.length) {
      try {
        await this.rollup.run(windows, (rolled) => this.commit(rolled));
      } catch (err) {
        this.failed(err);
        if (err instanceof PermanentError || (err as Error).message?.startsWith('store')) throw err;
        throw new Error(`store ${this.engine.dialect} ${this.engine.location}: roll-up: ${describeError(err)}`, { cause: err });
      }
    }
    this.lastError = undefined;
  }

  private async commit(batch: TableRows[], raw?: EventRows): Promise<void> {
    let rejected: RejectedRow[];
    try {
      this.schemaVersion ??= await this.engine.open();
      rejected = await this.engine.write(batch, raw);
    } catch (err) {
      this.failed(err);
      if (err instanceof PermanentError) throw err;
      throw new Error(`store ${this.engine.dialect} ${this.engine.location}: ${describeError(err)}`, { cause: err });
    }
    if (rejected.length) await this.deadLetter(rejected);
    this.lastError = undefined;
    const refused = new Set(rejected.map((r) => r.event));
    for (const { table, rows } of batch) {
      let n = 0;
      for (const r of rows) if (!refused.has(r.event)) n++;
      this.rowsWritten[table.name].inc(n);
    }
    if (raw) {
      let n = 0;
      for (const e of raw.events) if (!refused.has(e)) n++;
      this.rowsWritten.events.inc(n);
    }
  }

  health(): ComponentHealth {
    const details = { engine: this.engine.dialect, location: this.engine.location, schema_version: this.schemaVersion ?? null, rejected_rows: this.rejectedRows.value };
    if (this.lastError) return { healthy: false, reason: `cannot write to ${this.engine.dialect} ${this.engine.location}: ${this.lastError.message}`, details: { ...details, failing_since: new Date(this.lastError.at).toISOString() } };
    return { healthy: true, details };
  }

  private failed(err: unknown): void {
    this.lastError = { message: describeError(err), at: this.lastError?.at ?? Date.now() };
  }

  /** The batch's rows per table, one per identity (the last one wins, as it would in the database), and its raw
   * events (events: true), which the engine maps as it writes them (EventRows). */
  private rows(events: Event[]): { batch: TableRows[]; raw?: EventRows } {
    const byTable = new Map<TableName, MappedRow[]>();
    const add = (r: MappedRow) => {
      const rows = byTable.get(r.table.name);
      if (rows) rows.push(r);
      else byTable.set(r.table.name, [r]);
    };
    const raw: Event[] = [];
    const now = Date.now();
    for (const e of events) {
      const kind = classify(e);
      switch (kind) {
        case 'window': for (const r of this.mapper.window(e, now)) add(r); break;
        case 'alert': add(this.mapper.alert(e)); break;
        case 'report': case 'summary': add(this.mapper.report(e, kind)); break;
        case 'heartbeat': break; // liveness, not data
        case 'event':
          if (this.options.events) raw.push(e);
          else this.notStored('events_disabled', 'raw events reach the store but events is false: they are not stored (set events: true)');
          break;
        default: {
          const why = NOT_STORED[kind]!;
          this.notStored(why.reason, why.hint);
        }
      }
    }
    const batch = ORDER.filter((t) => byTable.has(t)).map((t) => ({ table: TABLES[t], rows: lastPerKey(byTable.get(t)!) }));
    return { batch, ...(raw.length ? { raw: { table: TABLES.events, events: raw, row: (e: Event) => this.mapper.event(e), time: eventTime } } : {}) };
  }

  private notStored(reason: string, hint: string): void {
    this.context.metrics.discarded(reason).inc();
    if (this.warned.has(reason)) return;
    this.warned.add(reason);
    this.context.logger.warn(`events not stored: ${hint}`, { reason });
  }

  private async deadLetter(rejected: RejectedRow[]): Promise<void> {
    const at = new Date().toISOString();
    const lines = rejected.map((r) => JSON.stringify({ time: at, table: r.table, error: r.error, event: r.event })).join('\n') + '\n';
    try {
      await appendDurable(this.options.deadLetter, lines);
    } catch (err) {
      // The rest is committed; written again on retry, it changes nothing, and the refused rows get another chance here.
      this.failed(err);
      throw new Error(`store: cannot append ${rejected.length} refused rows to ${this.options.deadLetter}: ${describeError(err)}`, { cause: err });
    }
    this.rejectedRows.inc(rejected.length);
    this.rejectsSinceLog += rejected.length;
    const now = Date.now();
    if (now - this.lastRejectLog < REJECT_LOG_INTERVAL) return;
    this.context.logger.warn(`the database refused ${this.rejectsSinceLog} rows; they are in ${this.options.deadLetter}`, { store: this.engine.location, first_error: rejected[0].error });
    this.lastRejectLog = now;
    this.rejectsSinceLog = 0;
  }
}
