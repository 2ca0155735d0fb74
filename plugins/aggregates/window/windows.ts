// The window bookkeeping both modes of `window` share (results.ts, partials.ts): the windows of one source (the
// whole input, or one partition), how a batch's events fill them, and which are due to close.
import { detachString, fieldReader, getField, splitFieldPath, type Counter, type Event } from '../../../core/index.js';
import { compileShape, windowTiming, type GroupState, type Shape, type SharedHold } from '../../../lib/stats/index.js';
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

/** A new batch; `holdAcks`: its acknowledgement waits for the results of the windows it touches. */
export const newBatch = (holdAcks: boolean): Batch => ({ late: undefined, touched: holdAcks ? new Set() : undefined });

/** The windows of one source: those open, and the watermark state that decides when they close. */
export class Windows {
  readonly open = new Map<number, WindowState>();
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
    for (const w of due) this.open.delete(w.start);
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
  private groupKey = '';

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
    // Consecutive events mostly fall in the same window: look it up in `open` only when it changes.
    let last: WindowState | undefined;
    let newest = windows.maxEventTime; // a local: a captured variable would box each new time into a heap number
    let offset = NaN;
    const add = (start: number, e: Event, values: unknown[], gk: string) => {
      let w = last !== undefined && last.start === start ? last : open.get(start);
      if (!w) open.set(start, (w = { start, groups: new Map(), holds: new Set(), offsetFrom: Infinity, offsetTo: -Infinity }));
      last = w;
      let g = w.groups.get(gk);
      if (!g) w.groups.set(detachString(gk), (g = shape.newGroup(values.map((v) => (typeof v === 'string' ? detachString(v) : v)))));
      shape.addTo(g, e);
      if (readOffset) {
        if (offset < w.offsetFrom) w.offsetFrom = offset;
        if (offset > w.offsetTo) w.offsetTo = offset;
      }
      touched?.add(w);
    };
    for (let i = from; i < to; i++) {
      const e = events[i];
      if (this.options.exclude_heartbeats && e.heartbeat === true) continue;
      let t: number;
      if (!this.eventTime) t = now;
      else {
        const v = this.readTime(e);
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          this.invalidTime.inc();
          continue;
        }
        t = v;
      }
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
      for (const start of this.windowStarts(t)) {
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

  /** Hopping windows: starts of the windows holding `t`, oldest first (tumbling ones are handled inline). */
  private windowStarts(t: number): number[] {
    const starts: number[] = [];
    for (let s = Math.floor(t / this.advance) * this.advance; s + this.size > t; s -= this.advance) starts.push(s);
    return starts.reverse();
  }

  private groupValues(e: Event): unknown[] {
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
