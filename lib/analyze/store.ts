// `visor analyze --store`: the parsed lines of the files, and what the analysis computes from them, written into a
// store (SQLite file or PostgreSQL) through the store output's own writer (lib/store's StoreWriter: the same row
// mapping, identities, upserts, roll-ups and dead-letter file), so that the database is the one an agent would have
// written. What goes in:
// - events: every parsed line, as the tail input (position_field: position) and apache_access / apache_error would
//   have made it: { message, file, position: { file: content identity, offset }, ...parsed fields }. Its row id is
//   the store's tail identity (agent + file content identity + byte offset + line), so a second backfill, or a tail
//   of the same file afterwards, lands on the same rows;
// - windows: one tumbling 1-minute window aggregate (ANALYZE_WINDOW, named by --aggregate), in the shape the window
//   aggregate with state: true gives its results (`_window`: lib/stats' shape and stored state), so its rows hold
//   mergeable sketches, the store rolls them up to 1h and 1d, and its spec goes to `aggregates`. Each minute a line of
//   this run falls in is computed, once the events are committed, from the events the store holds for the agent in
//   that minute (read back in chunks of CHUNK_MS, in time order): so a minute that spans two files backfilled by two
//   runs (the rotation's minute), or lines the agent stored by tailing, are counted once each and completely, and
//   memory does not grow with the time the logs cover;
// - reports: the analysis report over the whole time range (kind report, named by --title), when any line has a time.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { CONTENT_ID_BYTES, contentId, getField, splitFieldPath, type ComponentMetrics, type Counter, type Event, type Gauge, type Logger } from '../../core/index.js';
import { compileShape, STATE_TOP, storedState, type GroupState, type Shape, type ShapeOptions } from '../stats/index.js';
import { createEngine, describeError, StoreWriter, type StoreEngine } from '../store/index.js';
import type { EventSink } from './read.js';

/** The window aggregate the backfill computes: per minute, vhost, status (access lines) and level (error-log lines:
 * their status is null, access lines' level is null), the count, bytes and 5xx, the top clients and paths, the
 * percentiles of duration_us (read from the events' column: %D, %{ms}T or %T), the distinct clients. The same options
 * in a `window` aggregate (with state: true, the default partial_top) give the same rows (test/analyze-store). */
export const ANALYZE_WINDOW: ShapeOptions = {
  window: { type: 'tumbling', size: 60_000 },
  group_by: ['vhost', 'status', 'level'],
  metrics: { bytes: 'sum(bytes)', errors: 'count(status >= 500)' },
  top: [{ field: 'client_ip', n: 10, capacity: 10_000 }, { field: 'path', n: 10, capacity: 10_000 }],
  percentiles: [{ field: 'duration_us', p: [50, 95, 99] }],
  distinct: ['client_ip'],
};

/** Minutes read back from the events table at once (bounded memory: the events of at most this much time). */
const CHUNK_MS = 10 * 60_000;

/** The store output's defaults. */
const ROLLUPS = [3_600_000, 86_400_000];
/** Events per transaction (at least; a chunk's worth more). */
const EVENT_BATCH = 5000;
/** Window results per transaction (each transaction is followed by its roll-ups). */
const WINDOW_BATCH = 2000;

export interface StoreTarget {
  /** A SQLite file, or a postgres:// / postgresql:// URL. */
  store: string;
  agent?: string;
  aggregate: string;
  /** Rows the database refuses go here (default: beside the SQLite file, or in the working directory). */
  rejected?: string;
}

export interface StoreFigures {
  engine: 'sqlite' | 'postgres';
  location: string;
  agent: string;
  aggregate: string;
  /** Rows committed per table (upserts: a row written again, changed or not, counts again). */
  rows: Record<string, number>;
  rejected_rows: number;
  rejected_file: string;
  /** Time spent writing (transactions and roll-ups). */
  seconds: number;
  rows_per_second: number | null;
}

export const isPostgresUrl = (s: string) => /^postgres(ql)?:\/\//i.test(s);

/** The first bytes of a file (decompressed for gzip), enough for its content identity. */
export async function fileIdentity(file: string, gzip: boolean): Promise<string> {
  if (!gzip) {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(CONTENT_ID_BYTES);
      const { bytesRead } = await fh.read(buf, 0, CONTENT_ID_BYTES, 0);
      return contentId(buf.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
  }
  const raw = createReadStream(file);
  const gunzip = raw.pipe(createGunzip());
  raw.on('error', (e) => gunzip.destroy(e));
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of gunzip) {
      parts.push(chunk as Buffer);
      n += (chunk as Buffer).length;
      if (n >= CONTENT_ID_BYTES) break;
    }
  } finally {
    raw.destroy();
  }
  return contentId(Buffer.concat(parts));
}

class Count implements Counter, Gauge {
  value = 0;
  inc(n = 1): void { this.value += n; }
  dec(n = 1): void { this.value -= n; }
  set(v: number): void { this.value = v; }
}

/** The writer's counters, kept for the summary (by name and labels). */
class Metrics implements ComponentMetrics {
  readonly all = new Map<string, Count>();
  private get(name: string, labels?: Record<string, string>): Count {
    const k = labels ? `${name}${JSON.stringify(labels)}` : name;
    let c = this.all.get(k);
    if (!c) this.all.set(k, (c = new Count()));
    return c;
  }
  readonly receivedBytes = new Count();
  readonly sentBytes = new Count();
  discarded(reason: string): Counter { return this.get('discarded', { reason }); }
  errors(type: string): Counter { return this.get('errors', { type }); }
  counter(name: string, _help: string, labels?: Record<string, string>): Counter { return this.get(name, labels); }
  gauge(name: string, _help: string, labels?: Record<string, string>): Gauge { return this.get(name, labels); }
  value(name: string, labels?: Record<string, string>): number { return this.get(name, labels).value; }
}

/** The writer's warnings on stderr, as the command's other messages. */
function stderrLogger(): Logger {
  const write = (msg: string, fields?: Record<string, unknown>) =>
    process.stderr.write(`visor analyze: ${msg}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}\n`);
  const logger: Logger = { debug: () => undefined, info: () => undefined, warn: write, error: write, child: () => logger };
  return logger;
}

export class StoreFailure extends Error {}

const NUMBER_COLUMNS = new Set(['status', 'bytes', 'duration_us']);

/** An event of the fields the window shape reads, from a row of the events table (both drivers: PostgreSQL returns
 * bigint as text); a NULL column is an absent field, as it was in the event. */
function rowEvent(r: Record<string, unknown>, time: number): Event {
  const e: Event = { timestamp: time };
  for (const k of ['vhost', 'status', 'level', 'bytes', 'client_ip', 'path', 'duration_us']) {
    const v = r[k];
    if (v !== null && v !== undefined) e[k] = NUMBER_COLUMNS.has(k) ? Number(v) : v;
  }
  return e;
}

/** The backfill of one run: events as they are parsed, window results and the report at the end. */
export class Backfill implements EventSink {
  readonly agent: string;
  private readonly shape: Shape;
  private readonly groupPaths: string[][];
  private readonly size: number;
  /** Starts of the minutes the lines of this run fall in. */
  private readonly minutes = new Set<number>();
  private pending: Event[] = [];
  private writeNs = 0n;
  private readonly metrics = new Metrics();
  private readonly writer: StoreWriter;
  readonly rejectedFile: string;

  private constructor(readonly engine: StoreEngine, private readonly target: StoreTarget) {
    this.agent = target.agent ?? os.hostname();
    this.shape = compileShape(ANALYZE_WINDOW);
    this.groupPaths = ANALYZE_WINDOW.group_by.map(splitFieldPath);
    this.size = ANALYZE_WINDOW.window.size;
    this.rejectedFile = path.resolve(target.rejected ?? (engine.dialect === 'sqlite' ? `${engine.location}.rejected.jsonl` : 'visor-analyze-rejected.jsonl'));
    this.writer = new StoreWriter(engine, {
      agent: this.agent, events: true, exclude: [], positionField: 'position', kafkaField: 'kafka',
      deadLetter: this.rejectedFile, rollups: ROLLUPS,
    }, { logger: stderrLogger(), metrics: this.metrics });
  }

  /** Opens (creating the SQLite file and applying the migrations when needed); a database that cannot be reached
   * is a StoreFailure: a one-shot command does not wait for it. */
  static async open(target: StoreTarget): Promise<Backfill> {
    const pg = isPostgresUrl(target.store);
    const engine = await createEngine(
      pg ? { engine: 'postgres', url: target.store, synchronous: 'full', busy_timeout: 5000, timeout: 30_000 }
        : { engine: 'sqlite', path: target.store, synchronous: 'full', busy_timeout: 5000, timeout: 30_000 },
      { baseDir: process.cwd(), dataDir: async () => process.cwd() },
    );
    try {
      await engine.open();
    } catch (err) {
      await engine.close().catch(() => undefined);
      throw new StoreFailure(`cannot open the store ${engine.location}: ${describeError(err)}`);
    }
    return new Backfill(engine, target);
  }

  /** The content identity of a file, for its lines' positions. */
  identity(file: string, gzip: boolean): Promise<string> {
    return fileIdentity(file, gzip);
  }

  isFailure(err: unknown): err is StoreFailure {
    return err instanceof StoreFailure;
  }

  /** A parsed event (called in the parse loop: kept cheap). */
  add(e: Event): void {
    this.pending.push(e);
    const t = e.timestamp;
    // Without a time: stored with time 0, in no window (as `window` counts it invalid_timestamp).
    if (typeof t === 'number' && Number.isFinite(t)) this.minutes.add(Math.floor(t / this.size) * this.size);
  }

  async drain(): Promise<void> {
    if (this.pending.length >= EVENT_BATCH) await this.flushEvents();
  }

  private async write(events: Event[]): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await this.writer.write(events);
    } catch (err) {
      throw new StoreFailure(describeError(err));
    } finally {
      this.writeNs += process.hrtime.bigint() - started;
    }
  }

  private async flushEvents(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length) await this.write(batch);
  }

  /** Writes the remaining events, then the window results of the minutes of this run in time order (each batch
   * followed by its roll-ups), then the report (when given: it needs a time range). */
  async finish(report: Event | undefined): Promise<StoreFigures> {
    await this.flushEvents();
    const minutes = [...this.minutes].sort((a, b) => a - b);
    let results: Event[] = [];
    for (let i = 0; i < minutes.length;) {
      let j = i;
      while (j < minutes.length && minutes[j]! < minutes[i]! + CHUNK_MS) j++;
      const wanted = new Set(minutes.slice(i, j));
      results.push(...await this.windowResults(minutes[i]!, minutes[j - 1]! + this.size, wanted));
      i = j;
      if (results.length >= WINDOW_BATCH) {
        await this.write(results);
        results = [];
      }
    }
    if (results.length) await this.write(results);
    if (report) await this.write([report]);
    return this.figures();
  }

  /** The results of the `wanted` minutes in [from, to), from the stored events of the agent (the columns the shape
   * reads: every field ANALYZE_WINDOW uses has one). */
  private async windowResults(from: number, to: number, wanted: Set<number>): Promise<Event[]> {
    const pg = this.engine.dialect === 'postgres';
    const time = (ms: number) => (pg ? new Date(ms).toISOString() : ms);
    const sql = `SELECT time, vhost, status, level, bytes, client_ip, path, duration_us FROM events WHERE agent = ${pg ? '$1' : '?'} AND time >= ${pg ? '$2' : '?'} AND time < ${pg ? '$3' : '?'} ORDER BY time, id`;
    let rows: Record<string, unknown>[];
    const started = process.hrtime.bigint();
    try {
      rows = await this.engine.query(sql, [this.agent, time(from), time(to)]);
    } catch (err) {
      throw new StoreFailure(`reading the stored events back for the windows: ${describeError(err)}`);
    } finally {
      this.writeNs += process.hrtime.bigint() - started;
    }
    const windows = new Map<number, Map<string, GroupState>>();
    for (const r of rows) {
      const t = r.time instanceof Date ? r.time.getTime() : Number(r.time);
      const start = Math.floor(t / this.size) * this.size;
      if (!wanted.has(start)) continue;
      const e = rowEvent(r, t);
      let groups = windows.get(start);
      if (!groups) windows.set(start, (groups = new Map()));
      const values = this.groupPaths.map((p) => getField(e, p));
      const key = JSON.stringify(values);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = this.shape.newGroup(values)));
      this.shape.addTo(g, e);
    }
    const results: Event[] = [];
    for (const [start, groups] of windows) {
      for (const g of groups.values()) {
        const r = this.shape.result(start, start + this.size, g);
        r._window = storedState(this.target.aggregate, ANALYZE_WINDOW.group_by, this.size, this.shape, g, STATE_TOP);
        results.push(r);
      }
    }
    return results;
  }

  figures(): StoreFigures {
    const rows: Record<string, number> = {};
    let total = 0;
    for (const table of ['events', 'windows', 'aggregates', 'reports']) {
      rows[table] = this.metrics.value('store_rows_total', { table });
      total += rows[table];
    }
    const seconds = Number(this.writeNs) / 1e9;
    return {
      engine: this.engine.dialect, location: this.engine.location, agent: this.agent, aggregate: this.target.aggregate, rows,
      rejected_rows: this.metrics.value('store_rejected_rows_total'), rejected_file: this.rejectedFile,
      seconds, rows_per_second: seconds > 0 ? Math.round(total / seconds) : null,
    };
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}
