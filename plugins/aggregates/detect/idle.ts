// Quiet-period digests on a server gone idle (detect's idle_timeout). The detector ends quiet periods in event time,
// when a newer event arrives; on a server with no traffic none does, and a digest would wait for the next request or
// the shutdown. As `window` does with an idle input: once no event (heartbeats aside) has arrived for idle_timeout
// of processing time, event time is taken to run on with the clock from the newest event's (the watermark becomes
// that time plus the time since its batch arrived), so a period that ends meanwhile gets its digest when it ends by
// the clock. While events come closer together than that (a replay, any traffic at all), only their times count.
import type { AggregateContext, AggregateInstance, Event } from '../../../core/index.js';
import type { Detector, DetectorResult } from '../../../lib/detect/index.js';

const notHeartbeat = (e: Event) => e.heartbeat !== true;

export class IdleClock {
  /** The detector's event time after the last batch with events, and the clock when it was absorbed. */
  private base = -Infinity;
  private arrived: number;
  private busy = 0;
  private ticking = false;

  constructor(
    private readonly detector: Detector,
    private readonly timeout: number,
    private readonly emit: (found: DetectorResult[]) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {
    this.arrived = now();
  }

  /** How often the clock is looked at: a digest comes at most this long after its period ends by the clock. */
  get interval(): number {
    return Math.max(10, Math.min(this.timeout, 1000));
  }

  /** Runs the absorption of one batch (`events`: it held more than heartbeats). No tick meanwhile: a batch held up
   * by a slow output is no idle server, and the clock restarts when it is done. */
  async absorb<T>(events: boolean, work: () => T | Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await work();
    } finally {
      this.busy--;
      if (events) {
        this.base = this.detector.eventTime;
        this.arrived = this.now();
      }
    }
  }

  /** The timer's: once idle for the timeout, the digests of the periods the clock has ended. The watermark is set
   * from the last batch's time each tick (not moved on from the last tick's), so ticks add no time of their own. */
  async tick(): Promise<void> {
    if (this.busy > 0 || this.ticking || this.detector.waitingDigests === 0) return;
    const idle = this.now() - this.arrived;
    if (idle < this.timeout || !Number.isFinite(this.base)) return;
    const found: DetectorResult[] = [];
    this.detector.advance(this.base + idle, found);
    if (found.length === 0) return;
    this.ticking = true;
    try {
      await this.emit(found);
    } finally {
      this.ticking = false;
    }
  }
}

/** `instance` (detect's) with its batches timed and a timer for the clock, when digests are on. */
export function withIdleDigests(
  instance: AggregateInstance,
  detector: Detector,
  options: { idle_timeout: number; quiet_digest: boolean },
  context: AggregateContext,
  alertsOf: (found: DetectorResult[]) => Event[],
): AggregateInstance {
  if (!options.quiet_digest) return instance;
  const clock = new IdleClock(detector, options.idle_timeout, (found) => context.emit(alertsOf(found)));
  const { start, process, absorbPartial } = instance;
  return {
    ...instance,
    start() {
      context.timers.every(clock.interval, () => clock.tick());
      return start?.call(instance);
    },
    process: (events, ctx) => clock.absorb(events.some(notHeartbeat), () => process.call(instance, events, ctx)),
    ...(absorbPartial ? { absorbPartial: (partial, ctx) => clock.absorb(true, () => absorbPartial.call(instance, partial, ctx)) } : {}),
  };
}
