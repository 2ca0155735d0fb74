// `emit: partials` (scale-out over Kafka): windows per source partition, each closed by that partition's own
// watermark, emitted as mergeable partial states for `window_merge`, plus a watermark event per partition every
// watermark_interval. Events late for a window of their partition (already emitted) follow it in a late partial,
// so that the merger counts them or says they are missing. A partition this process no longer owns (in this
// consumer-group generation) is dropped: its owner recomputes its windows from the committed offset.
import { fieldReader, splitFieldPath, type AggregateContext, type AggregateProcessContext, type Event } from '../../../core/index.js';
import { partitionAssignments, type PartitionAssignments } from '../../../lib/kafka/index.js';
import { partialHeader, type PartialEvent } from '../../../lib/stats/index.js';
import { settleBatch, WindowEmitter, type WindowCounters } from './emission.js';
import type { WindowOptions } from './schema.js';
import { newBatch, Windowing, Windows, type WindowState } from './windows.js';

/** One topic-partition: its windows, filled by the events of one consumer-group generation. */
class Partition {
  readonly windows: Windows;
  constructor(readonly id: string, readonly topic: unknown, readonly partition: unknown, readonly generation: number | undefined, size: number) {
    this.windows = new Windows(size);
  }
}

export class PartialWindows {
  private readonly windowing: Windowing;
  private readonly emitter: WindowEmitter;
  private readonly assignments: PartitionAssignments;
  private readonly partitions = new Map<string, Partition>();
  private readonly readTopic: (e: Event) => unknown;
  private readonly readPartition: (e: Event) => unknown;
  private readonly readGeneration: (e: Event) => unknown;

  constructor(private readonly options: WindowOptions, private readonly context: AggregateContext, private readonly counters: WindowCounters) {
    this.windowing = new Windowing(options, counters.invalidTime);
    this.emitter = new WindowEmitter(context);
    this.assignments = partitionAssignments(context);
    this.readTopic = fieldReader(splitFieldPath(options.topic_field));
    this.readPartition = fieldReader(splitFieldPath(options.partition_field));
    this.readGeneration = fieldReader(splitFieldPath(options.generation_field));
  }

  start(): void {
    this.context.timers.every(this.windowing.tickInterval, () => this.tick());
    this.context.timers.every(this.options.watermark_interval, () => this.watermarks());
  }

  async process(events: Event[], ctx: AggregateProcessContext): Promise<void> {
    const now = Date.now();
    const batch = newBatch(true);
    const closing: Partition[] = [];
    const late: Array<[Partition, WindowState[]]> = [];
    // A batch from the kafka input is one partition's; split it into runs of one partition each.
    let runStart = 0;
    let source: Partition | undefined;
    let topic: unknown;
    let partition: unknown;
    let generation: unknown;
    const flushRun = (end: number) => {
      if (end <= runStart) return;
      if (!source) this.counters.stale.inc(end - runStart);
      else {
        const lateBefore = batch.late?.length ?? 0;
        const closedUpTo = source.windows.closedUpTo;
        this.windowing.absorb(source.windows, events, runStart, end, now, batch);
        if (batch.late && batch.late.length > lateBefore) {
          const windows = this.lateWindows(batch.late.slice(lateBefore), closedUpTo, now);
          // Their batch is acknowledged once these partials are delivered too (settleBatch).
          for (const w of windows) batch.touched!.add(w);
          late.push([source, windows]);
        }
        if (!closing.includes(source)) closing.push(source);
      }
    };
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const t = this.readTopic(e);
      const p = this.readPartition(e);
      const g = this.readGeneration(e);
      if (i > 0 && t === topic && p === partition && g === generation) continue;
      flushRun(i);
      runStart = i;
      topic = t;
      partition = p;
      generation = g;
      source = this.partitionOf(t, p, g);
    }
    flushRun(events.length);
    settleBatch(batch, ctx, this.counters.late);
    for (const [p, windows] of late) void this.emitLate(p, windows);
    for (const p of closing) await this.close(p, p.windows.maxEventTime - this.windowing.lateness);
  }

  /** Windows still open are left unacknowledged, for the partition's next owner to recompute from the committed
   * offset (a partial of half a window would later overlap the owner's complete one). */
  flush(): Promise<void> {
    return this.emitter.emitted();
  }

  /** The partition of an event (created, or reset for a newer generation); undefined for a stale event (an older
   * generation's, read again by now). */
  private partitionOf(topic: unknown, partition: unknown, g: unknown): Partition | undefined {
    const generation = typeof g === 'number' ? g : undefined;
    const id = `${String(topic)}\0${String(partition)}`;
    let p = this.partitions.get(id);
    if (p && generation !== undefined && p.generation !== undefined && generation !== p.generation) {
      if (generation < p.generation) return undefined;
      // kafkajs re-reads a partition from its committed offset after a rebalance: start its windows afresh.
      this.partitions.delete(id);
      p = undefined;
    }
    if (!p) this.partitions.set(id, (p = new Partition(id, topic, partition, generation, this.windowing.size)));
    return p;
  }

  /** Is `p` still this process's, in the generation its windows were filled in? */
  private stillOwned(p: Partition): boolean {
    const owner = this.assignments.owner(p.topic, p.partition);
    return owner === null || (owner !== undefined && (p.generation === undefined || owner === p.generation));
  }

  private tick(): Promise<void> {
    const now = Date.now();
    const { size, idleTimeout } = this.windowing;
    for (const p of [...this.partitions.values()]) {
      // A partition that moved to another member (or is re-read after a rebalance) is dropped: its windows are
      // recomputed from the committed offset by its owner; its holds die with the old generation's offsets.
      if (!this.stillOwned(p)) {
        this.partitions.delete(p.id);
        this.context.logger.info('partition no longer owned in this generation: its open windows are left to its owner', { topic: p.topic, partition: p.partition, open_windows: p.windows.open.size });
        continue;
      }
      const idle = now - p.windows.lastArrival;
      if (idle >= idleTimeout && Number.isFinite(p.windows.maxEventTime)) void this.close(p, p.windows.maxEventTime + size + (idle - idleTimeout));
    }
    return this.emitter.emitted();
  }

  /** One watermark event per owned partition, after the partials already queued. The values are taken now: a
   * window closed later is queued after this event, so a watermark never overtakes a partial. */
  private watermarks(): Promise<void> {
    const snapshot: Array<[Partition, number]> = [];
    for (const p of this.partitions.values()) if (Number.isFinite(p.windows.closedUpTo)) snapshot.push([p, p.windows.closedUpTo]);
    if (!snapshot.length) return this.emitter.emitted();
    return this.emitter.enqueue(async () => {
      const events: Event[] = [];
      for (const [p, watermark] of snapshot) {
        if (this.partitions.get(p.id) === p && this.stillOwned(p)) events.push({ partial: { ...partialHeader(this.windowing.shape, p.topic, p.partition), watermark } });
      }
      if (events.length) await this.emitter.emit(events);
    });
  }

  /** The windows (closed up to `closedUpTo`) that `events` of one partition were late for, each holding only its
   * late events and their offset range, in order of start. A hopping window's event is late only for the windows
   * already closed; those still open (start + size > closedUpTo) took it in absorb() and are left out here. */
  private lateWindows(events: Event[], closedUpTo: number, now: number): WindowState[] {
    const windows = new Windows(this.windowing.size);
    this.windowing.absorb(windows, events, 0, events.length, now, newBatch(false));
    return windows.takeDue(closedUpTo) ?? [];
  }

  /** Late partials of `p`, after the partials already queued (so after the window's own). The watermark is taken
   * now, before this batch closes more windows: partials queued after these must not be overtaken by it. */
  private emitLate(p: Partition, windows: WindowState[]): Promise<void> {
    const watermark = Number.isFinite(p.windows.closedUpTo) ? p.windows.closedUpTo : null;
    return this.emitter.enqueue(async () => {
      for (const w of windows) {
        const partial = this.partialOf(p, w, watermark);
        partial.partial.late = true;
        this.counters.partials.inc();
        await this.emitter.emitWindow(w, [partial]);
      }
    });
  }

  /** Emit, in order of start, a partial of every open window of `p` ending at or before `upTo`. */
  private close(p: Partition, upTo: number): Promise<void> {
    const due = p.windows.takeDue(upTo);
    if (!due) return this.emitter.emitted();
    return this.emitter.enqueue(async () => {
      for (let i = 0; i < due.length; i++) {
        // The partition's watermark as of this partial: the windows after it in this close are still to come.
        const watermark = i === due.length - 1 ? (Number.isFinite(upTo) ? upTo : null) : due[i].start + this.windowing.size;
        const partial = this.partialOf(p, due[i], watermark);
        this.counters.partials.inc();
        await this.emitter.emitWindow(due[i], [partial]);
      }
    });
  }

  private partialOf(p: Partition, w: WindowState, watermark: number | null): PartialEvent {
    const { shape, size } = this.windowing;
    return {
      partial: {
        ...partialHeader(shape, p.topic, p.partition), window_start: w.start, window_end: w.start + size,
        offset_from: Number.isFinite(w.offsetFrom) ? w.offsetFrom : null, offset_to: Number.isFinite(w.offsetTo) ? w.offsetTo : null,
        watermark,
      },
      groups: [...w.groups.values()].map((g) => shape.toPartial(g, this.options.partial_top)),
    };
  }
}
