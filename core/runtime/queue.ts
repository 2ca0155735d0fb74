// A component's bounded input buffer. Capacity is counted in events; one batch is always accepted
// into an empty buffer so that a batch larger than the capacity cannot deadlock the pipeline.
import type { Event } from '../api.js';
import { decodeLines, type LinesData } from '../encoded-lines.js';
import type { AckGroup } from './ack.js';

export interface Batch {
  events: Event[];
  acks: AckGroup[];
  /** Instead of events (which then is empty): what a worker thread built of `count` events for the aggregate
   * consuming this batch (Plugin.partials). */
  partial?: PartialBatch;
  /** Instead of events (which then is empty): `count` events as the output consuming this batch encodes them, done by
   * a worker thread (Plugin.encodes), as UTF-8. */
  encoded?: { data: Uint8Array; count: number };
  /** The events still as the bytes of their lines (EncodedLines, for a parallel filter): `events` decodes them when
   * first read, which their trip to a worker makes impossible (it takes the bytes). */
  lines?: LinesData;
}

/** A batch of undecoded lines, whose events are made only if something reads them. */
export function linesBatch(lines: LinesData, acks: AckGroup[]): Batch {
  let events: Event[] | undefined;
  return { acks, lines, get events() { return (events ??= decodeLines(lines)); } };
}

export interface PartialBatch {
  value: unknown;
  count: number;
  /** AggregatePartialContext.builder and .goneBuilders. */
  builder: string;
  goneBuilders: readonly string[];
  /** The batch's events a worker's PartialBuilder.select picks for `request`. */
  events(request: unknown): Promise<Event[]>;
  /** Called once the aggregate has absorbed it: its events will not be asked for any more. */
  done(): void;
}

/** The events a batch stands for. */
export const batchSize = (b: Batch): number => (b.partial ? b.partial.count : b.encoded ? b.encoded.count : b.lines ? b.lines.count : b.events.length);

export class BatchQueue {
  private readonly items: Batch[] = [];
  private head = 0;
  private queuedEvents = 0;
  private roomWaiters: Array<() => void> = [];
  private dataWaiter: ((b: Batch | null) => void) | undefined;
  private openWriters: number;

  constructor(readonly capacity: number, writers: number, private readonly onFill?: (events: number) => void) {
    this.openWriters = writers;
  }

  get size(): number {
    return this.queuedEvents;
  }

  /** Enqueue; returns a promise only when the caller must wait for room (the fast path allocates nothing). */
  push(batch: Batch): Promise<void> | undefined {
    if (this.dataWaiter) {
      const w = this.dataWaiter;
      this.dataWaiter = undefined;
      w(batch);
      return undefined;
    }
    this.items.push(batch);
    this.queuedEvents += batchSize(batch);
    this.onFill?.(this.queuedEvents);
    if (this.queuedEvents <= this.capacity || this.items.length - this.head === 1) return undefined;
    return new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Next batch, or null once every writer has closed and the buffer is empty. */
  take(): Batch | null | Promise<Batch | null> {
    if (this.head < this.items.length) {
      const batch = this.items[this.head];
      this.items[this.head++] = undefined as unknown as Batch;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      this.queuedEvents -= batchSize(batch);
      this.onFill?.(this.queuedEvents);
      this.wakeWriters();
      return batch;
    }
    if (this.openWriters === 0) return null;
    return new Promise<Batch | null>((resolve) => { this.dataWaiter = resolve; });
  }

  /** Like take, but resolves undefined when the buffer stays empty for `ms` (used to fill output batches). */
  takeWithin(ms: number): Batch | null | Promise<Batch | null | undefined> {
    const next = this.take();
    if (!(next instanceof Promise)) return next;
    if (ms <= 0) {
      this.dataWaiter = undefined;
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const waiter = this.dataWaiter;
      const timer = setTimeout(() => {
        if (this.dataWaiter === waiter) this.dataWaiter = undefined;
        resolve(undefined);
      }, ms);
      void next.then((batch) => {
        clearTimeout(timer);
        resolve(batch);
      });
    });
  }

  /** One upstream has finished for good. */
  closeWriter(): void {
    if (--this.openWriters === 0 && this.dataWaiter && this.head >= this.items.length) {
      const w = this.dataWaiter;
      this.dataWaiter = undefined;
      w(null);
    }
  }

  private wakeWriters(): void {
    if (this.roomWaiters.length === 0 || this.queuedEvents > this.capacity) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }
}
