// How `window` sends what it computes, in both modes: closed windows in order (timers and process() both close
// windows), each with the holds of the batches that fed it; late events to _late; and its counters.
import { type AggregateContext, type AggregateProcessContext, type Counter, type Event } from '../../../core/index.js';
import { SharedHold } from '../../../lib/stats/index.js';
import type { Batch, WindowState } from './windows.js';

export interface WindowCounters {
  late: Counter;
  results: Counter;
  partials: Counter;
  stale: Counter;
  invalidTime: Counter;
}

/** Every counter of the aggregate, whichever the mode (its metrics show the same series either way). */
export function windowCounters(context: Pick<AggregateContext, 'metrics'>): WindowCounters {
  const { metrics } = context;
  return {
    late: metrics.counter('window_late_events_total', 'Events that arrived after their window was emitted.'),
    results: metrics.counter('window_results_total', 'Window results emitted (one per window and group).'),
    partials: metrics.counter('window_partials_total', 'Partials emitted (one per partition and window).'),
    stale: metrics.counter('window_stale_events_total', 'Partials: events of an older consumer-group generation, dropped (they are read again).'),
    invalidTime: metrics.discarded('invalid_timestamp'),
  };
}

/** Once a batch is absorbed: its late events go to _late, and its hold is shared by the windows it touched,
 * released when the results of all of them are delivered. */
export function settleBatch(batch: Batch, ctx: AggregateProcessContext, lateCounter: Counter): void {
  if (batch.late) {
    lateCounter.inc(batch.late.length);
    ctx.emit(batch.late, '_late');
  }
  if (batch.touched?.size) {
    const shared = new SharedHold(ctx.hold());
    shared.pending = batch.touched.size;
    for (const w of batch.touched) w.holds.add(shared);
  }
}

/** Emits in order: each task runs after those queued before it. */
export class WindowEmitter {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly context: AggregateContext) {}

  /** Queue `task`; resolves when it has run. */
  enqueue(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task);
    return this.queue;
  }

  /** Resolves when everything queued so far has run. */
  emitted(): Promise<void> {
    return this.queue;
  }

  /** A closed window's results, carrying the holds of the batches that fed it. */
  emitWindow(w: WindowState, results: Event[]): Promise<void> {
    const acks = [...w.holds].map((h) => h.part());
    return this.context.emit(results, acks.length ? { acks } : undefined);
  }

  emit(events: Event[]): Promise<void> {
    return this.context.emit(events);
  }
}
