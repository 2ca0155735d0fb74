// Retention: rows older than their keep time (per resolution for windows, `events` for raw events) are deleted on a
// timer, in small batches (one short statement of at most BATCH rows each, yielding between statements), so that
// the agent's writes interleave with a long deletion instead of waiting behind it. Alerts and reports are kept.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { describeError, type ExpireTarget, type StoreEngine } from './engine.js';
import type { Logger } from '../../core/index.js';

/** Keep time per key: `events`, or a resolution as the windows table names it (1m, 1h, 1d); ms or `forever`. */
export type RetentionOptions = Record<string, number | 'forever'>;

const BATCH = 1000;

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  private readonly keep: RetentionOptions;

  constructor(private readonly engine: StoreEngine, keep: RetentionOptions | undefined, private readonly logger: Logger) {
    this.keep = keep ?? {};
  }

  /** Runs every `interval` ms (the first run at once), never two at a time. */
  start(interval: number): void {
    if (this.timer || !Object.values(this.keep).some((v) => v !== 'forever')) return;
    const tick = () => { this.run().catch((err) => this.logger.warn('store retention failed; retried at the next run', { error: describeError(err) })); };
    this.timer = setInterval(tick, interval);
    this.timer.unref();
    tick();
  }

  stop(): Promise<unknown> | undefined {
    clearInterval(this.timer);
    this.timer = undefined;
    return this.running?.catch(() => undefined);
  }

  /** Deletes every expired row; resolves with how many. */
  run(now = Date.now()): Promise<number> {
    this.running ??= this.expireAll(now).finally(() => { this.running = undefined; });
    return this.running;
  }

  private async expireAll(now: number): Promise<number> {
    let total = 0;
    for (const [key, keep] of Object.entries(this.keep)) {
      if (keep === 'forever') continue;
      const target: ExpireTarget = key === 'events' ? { table: 'events' } : { table: 'windows', resolution: key };
      for (;;) {
        const n = await this.engine.expire(target, now - keep, BATCH);
        total += n;
        if (n < BATCH) break;
        await yieldToLoop();
      }
    }
    return total;
  }
}
