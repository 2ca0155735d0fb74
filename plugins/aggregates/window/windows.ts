// The window bookkeeping both modes of `window` share (results.ts, partials.ts): the windows of one source (the
// whole input, or one partition), how a batch's events fill them, and which are due to close.
import { detachString, fieldReader, getField, splitFieldPath, type Counter, type Event } from '../../../core/index.js';
import { compileShape, windowTiming, type BatchGroup, type GroupState, type Shape, type SharedHold, type StringDelta, type StringTable } from '../../../lib/stats/index.js';
import type { WindowOptions } from './schema.js';

export interface WindowState {
  start: number;
  groups: Map<string, GroupState>;
  holds: Set<SharedHold>;
  /** Partials: the lowest and highest source offsets of the events in this window. */
  offsetFrom: number;
  offsetTo: number;
}

/** What one process() call gathers while its events fill windows: the late ones, and (when acks are held until
 * results are delivered) the windows it touched. */
export interface Batch {
  late: Event[] | undefined;
  touched: Set<WindowState> | undefined;
}

/** What a worker thread's PartialBuilder makes of one batch (split.ts): the newest event time, and per window the
 * batch touched (first touched first) its groups (first seen first). */
export interface WindowBatch {
  /** What its builder's string dictionary gained (AggregatePartialContext.builder says whose it is). */
  strings: StringDelta;
  maxTime: number;
  windows: Array<{ start: number; groups: BatchGroup[] }>;
}

const newWindow = (start: number): WindowState => ({ start, groups: new Map(), holds: new Set(), offsetFrom: Infinity, offsetTo: -Infinity });

/** A new batch; `holdAcks`: its acknowledgement waits for the results of the windows it touches. */
export const newBatch = (holdAcks: boolean): Batch => ({ late: undefined, touched: holdAcks ? new Set() : undefined });

/** The windows of one source: those open, and the watermark state that decides when they close. */
export class Windows {
  /** Replaced, not emptied, when windows close (takeDue). */
  open = new Map<number, WindowState>();
  /** Every window ending at or before this is closed: its events are late. */
  closedUpTo = -Infinity;
  maxEventTime = -Infinity;
  lastArrival = Date.now();

  constructor(private readonly size: number) {}

  /** Close every open window ending at or before `upTo`: they are removed and returned in order of start
   * (undefined when none is due); later events for them are late. */
  takeDue(upTo: number): WindowState[] | undefined {
    if (upTo > this.closedUpTo) this.closedUpTo = upTo;
    let due: WindowState[] | undefined;
    for (const w of this.open.values()) if (w.start + this.size <= upTo) (due ??= []).push(w);
    if (!due) return undefined; // the common case (most batches close no window): nothing allocated
    due.sort((a, b) => a.start - b.start);
    // A new Map of the windows left, not delete(): V8 rebuilds a Map's hash table as entries come and go, and the
    // table it leaves keeps its entries and a link to the next one. Once a table of this long-lived Map had been
    // promoted to the old generation, every later table and every window they held (its groups, top-value Maps
    // and strings) survived the young-generation GC through that chain until a full GC, whatever else the
    // process had loaded: on the 1M-line P1 pipeline (~4,000 windows) 1.6 MB of each scavenge's 11.6 MB survived
    // and was promoted (170 MB in all, scavenges 2-5 ms, 0.3-0.6 CPU-s), against 0.04 MB (0.3-0.5 ms) with
    // this copy. A fresh Map is young, and what it replaces links to nothing newer.
    const left = new Map<number, WindowState>();
    for (const w of this.open.values()) if (w.start + this.size > upTo) left.set(w.start, w);
    this.open = left;
    return due;
  }
}

/** The windowing of one aggregate: the timing and shape of its windows, and how events fill them. */
export class Windowing {
  readonly size: number;
  readonly advance: number;
  readonly lateness: number;
  /** Event time: processing time without events after which windows holding events close (see idle_timeout). */
  readonly idleTimeout: number;
  readonly shape: Shape;
  readonly eventTime: boolean;
  /** How often windows are checked for closing on processing time. */
  readonly tickInterval: number;
  private readonly groupPaths: string[][];
  private readonly readTime: (e: Event) => unknown;
  /** Partials: the source offset of an event (windows carry their offset range). */
  private readonly readOffset: ((e: Event) => unknown) | undefined;
  /** Set by groupValues: the key of the values it returned. */
  groupKey = '';

  constructor(private readonly options: WindowOptions, private readonly invalidTime: Counter) {
    [this.size, this.advance] = windowTiming(options.window);
    this.eventTime = options.time === 'event';
    this.lateness = this.eventTime ? options.allowed_lateness : 0;
    this.idleTimeout = options.idle_timeout ?? this.size + this.lateness;
    this.tickInterval = Math.max(10, Math.min(this.advance, 1000));
    this.shape = compileShape(options);
    this.groupPaths = options.group_by.map(splitFieldPath);
    this.readTime = fieldReader(splitFieldPath(options.timestamp_field));
    this.readOffset = options.emit === 'partials' ? fieldReader(splitFieldPath(options.offset_field)) : undefined;
  }

  /** Adds events[from..to) (of one source) to its windows; late events and touched windows go into `batch`. */
  absorb(windows: Windows, events: Event[], from: number, to: number, now: number, batch: Batch): void {
    const { size, advance, shape, readOffset } = this;
    const touched = batch.touched;
    let late = batch.late;
    windows.lastArrival = now;
    const open = windows.open;
    const closedUpTo = windows.closedUpTo;
    // Consecutive events mostly fall in the same window and group: look them up (and note the window as touched)
    // only when they change. Without group_by every event's group is '', a Map lookup a line all the same.
    let last: WindowState | undefined;
    let lastGroup: GroupState | undefined;
    let lastKey = '';
    let newest = windows.maxEventTime; // a local: a captured variable would box each new time into a heap number
    let offset = NaN;
    const add = (start: number, e: Event, values: unknown[], gk: string) => {
      let w = last !== undefined && last.start === start ? last : open.get(start);
      if (!w) open.set(start, (w = newWindow(start)));
      let g = w === last && gk === lastKey ? lastGroup : undefined;
      if (g === undefined) {
        g = w.groups.get(gk);
        if (!g) w.groups.set(detachString(gk), (g = shape.newGroup(values.map((v) => (typeof v === 'string' ? detachString(v) : v)))));
      }
      shape.addTo(g, e);
      if (readOffset) {
        if (offset < w.offsetFrom) w.offsetFrom = offset;
        if (offset > w.offsetTo) w.offsetTo = offset;
      }
      if (w !== last) touched?.add(w);
      last = w;
      lastGroup = g;
      lastKey = gk;
    };
    for (let i = from; i < to; i++) {
      const e = events[i];
      const t = this.timeOf(e, now, true);
      if (t !== t) continue; // NaN: left out
      if (readOffset) {
        const o = readOffset(e);
        offset = typeof o === 'number' ? o : NaN;
      }
      if (t > newest) newest = t;
      if (advance === size) {
        // Tumbling: exactly one window; late when it was already emitted.
        const start = Math.floor(t / size) * size;
        if (start + size <= closedUpTo) (late ??= []).push(e);
        else add(start, e, this.groupValues(e), this.groupKey);
        continue;
      }
      let isLate = false;
      let values: unknown[] | undefined;
      let gk = '';
      for (const start of this.startsOf(t)) {
        if (start + size <= closedUpTo) {
          isLate = true;
          continue;
        }
        if (!values) {
          values = this.groupValues(e);
          gk = this.groupKey;
        }
        add(start, e, values, gk);
      }
      if (isLate) (late ??= []).push(e);
    }
    windows.maxEventTime = newest;
    batch.late = late;
  }

  /** The time of `e` in its windows (`now` in processing time), or NaN for an event left out: a heartbeat, or an
   * invalid event time (counted when `count`). */
  timeOf(e: Event, now: number, count: boolean): number {
    if (this.options.exclude_heartbeats && e.heartbeat === true) return NaN;
    if (!this.eventTime) return now;
    const v = this.readTime(e);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      if (count) this.invalidTime.inc();
      return NaN;
    }
    return v;
  }

  /** Whether an event at `t` is late for a window closed up to `closedUpTo` (absorb's rule, for a batch's partial). */
  isLate(t: number, closedUpTo: number): boolean {
    const { size, advance } = this;
    if (advance === size) return Math.floor(t / size) * size + size <= closedUpTo;
    return this.startsOf(t).some((start) => start + size <= closedUpTo);
  }

  /** Adds a batch's partial (a worker's PartialBuilder made it of the events absorb() would have been given) to
   * `windows`: the state absorb() leaves, except for the late events, which the caller fetches (their windows are
   * skipped here; `batch.late` is the caller's). */
  merge(windows: Windows, p: WindowBatch, table: StringTable, now: number, batch: Batch): void {
    const { size, shape } = this;
    const touched = batch.touched;
    windows.lastArrival = now;
    const closedUpTo = windows.closedUpTo;
    for (const pw of p.windows) {
      if (pw.start + size <= closedUpTo) continue; // its events are late
      let w = windows.open.get(pw.start);
      if (!w) windows.open.set(pw.start, (w = newWindow(pw.start)));
      for (const pg of pw.groups) {
        let g = w.groups.get(pg.key);
        if (!g) w.groups.set(pg.key, (g = shape.newGroup(pg.values)));
        shape.mergeBatch(g, pg, table);
      }
      touched?.add(w);
    }
    if (p.maxTime > windows.maxEventTime) windows.maxEventTime = p.maxTime;
  }

  /** Hopping windows: starts of the windows holding `t`, oldest first (tumbling ones are handled inline). */
  startsOf(t: number): number[] {
    const starts: number[] = [];
    for (let s = Math.floor(t / this.advance) * this.advance; s + this.size > t; s -= this.advance) starts.push(s);
    return starts.reverse();
  }

  /** The group values of `e`; sets groupKey to their key. */
  groupValues(e: Event): unknown[] {
    if (!this.groupPaths.length) {
      this.groupKey = '';
      return NO_GROUP;
    }
    const values = this.groupPaths.map((p) => getField(e, p));
    this.groupKey = JSON.stringify(values);
    return values;
  }
}

const NO_GROUP: unknown[] = [];
