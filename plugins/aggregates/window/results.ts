// `emit: results`: the windows of the whole input, one result event per window and group. In event time a window
// closes when the watermark (newest event time - allowed_lateness) passes its end, or when the input is idle; in
// processing time, when the clock does.
import type { AggregateContext, AggregatePartialContext, AggregateProcessContext, Event } from '../../../core/index.js';
import { BuilderDictionaries, storedState } from '../../../lib/stats/index.js';
import { settleBatch, WindowEmitter, type WindowCounters } from './emission.js';
import type { WindowOptions } from './schema.js';
import type { LateRequest } from './split.js';
import { newBatch, Windowing, Windows, type WindowBatch } from './windows.js';

export class ResultWindows {
  private readonly windowing: Windowing;
  private readonly windows: Windows;
  private readonly emitter: WindowEmitter;
  /** absorbPartial: the string dictionary of each worker thread's builder. */
  private readonly dictionaries: BuilderDictionaries;

  constructor(private readonly options: WindowOptions, private readonly context: AggregateContext, private readonly counters: WindowCounters) {
    this.windowing = new Windowing(options, counters.invalidTime);
    this.windows = new Windows(this.windowing.size);
    this.emitter = new WindowEmitter(context);
    this.dictionaries = new BuilderDictionaries(context.metrics.gauge('window_partial_dictionaries', "String dictionaries kept of worker threads' partial builders (one per parallel filter and live worker thread)."));
  }

  start(): void {
    this.windows.lastArrival = Date.now();
    this.context.timers.every(this.windowing.tickInterval, () => this.tick());
  }

  async process(events: Event[], ctx: AggregateProcessContext): Promise<void> {
    const batch = newBatch(this.options.ack === 'emit');
    this.windowing.absorb(this.windows, events, 0, events.length, Date.now(), batch);
    settleBatch(batch, ctx, this.counters.late);
    if (this.windowing.eventTime) await this.close(this.windows.maxEventTime - this.windowing.lateness);
  }

  /** A batch's partial from a worker thread (split.ts): what process() does with the batch itself. Its late events
   * (rare: windows already closed) are fetched from the worker first, so that nothing is merged when that fails; a
   * window closed by the timer meanwhile makes more of them late, so they are asked for again. */
  async absorbPartial(partial: unknown, ctx: AggregatePartialContext): Promise<void> {
    const p = partial as WindowBatch;
    const table = this.dictionaries.add(ctx, p.strings);
    const { size } = this.windowing;
    const batch = newBatch(this.options.ack === 'emit');
    for (let closedUpTo = this.windows.closedUpTo; p.windows.some((w) => w.start + size <= closedUpTo); closedUpTo = this.windows.closedUpTo) {
      const late = await ctx.events({ closedUpTo } satisfies LateRequest);
      if (this.windows.closedUpTo !== closedUpTo) continue;
      if (late.length) batch.late = late;
      break;
    }
    this.windowing.merge(this.windows, p, table, Date.now(), batch);
    settleBatch(batch, ctx, this.counters.late);
    await this.close(this.windows.maxEventTime - this.windowing.lateness);
  }

  async flush(): Promise<void> {
    await this.close(Infinity);
  }

  private tick(): Promise<void> | undefined {
    const now = Date.now();
    if (!this.windowing.eventTime) return this.close(now);
    // Event time with an idle input: once no event arrived for idle_timeout, every window holding events is
    // closed and the watermark advances with processing time, so the last windows are not held open forever.
    const { size, idleTimeout } = this.windowing;
    const idle = now - this.windows.lastArrival;
    if (this.windows.open.size && idle >= idleTimeout) return this.close(this.windows.maxEventTime + size + (idle - idleTimeout));
    return undefined;
  }

  /** Emit, in order of start, every open window ending at or before `upTo`. */
  private close(upTo: number): Promise<void> {
    const due = this.windows.takeDue(upTo);
    if (!due) return this.emitter.emitted();
    const { shape, size } = this.windowing;
    return this.emitter.enqueue(async () => {
      for (const w of due) {
        const results = [...w.groups.values()].map((g) => shape.result(w.start, w.start + size, g));
        if (this.options.state) {
          let i = 0;
          for (const g of w.groups.values()) results[i++]._window = storedState(this.context.id, this.options.group_by, size, shape, g, this.options.partial_top);
        }
        this.counters.results.inc(results.length);
        await this.emitter.emitWindow(w, results);
      }
    });
  }
}
