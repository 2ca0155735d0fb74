// What reached a `test_record` output, and the test's say over its writes.
import type { Event } from '../api.js';

/** One write the output accepted: its events, and when it began (ms since the epoch). */
export interface Write {
  events: Event[];
  at: number;
}

/** See Recording.onWrite. */
export type WriteHandler = (events: Event[]) => void | Promise<void>;

/** The test's view of one `test_record` output. Like the scripted inputs, it belongs to the test run. */
export class Recording {
  /** Every event written, in order (arrays are appended to as writes complete, never replaced). */
  readonly events: Event[] = [];
  /** Every accepted write, in order: a write that failed (and was retried) is not in it. */
  readonly writes: Write[] = [];
  private readonly handlers: WriteHandler[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(readonly id: string) {}

  /** Run `handler` at the start of every write, before the output's own `delay_ms` and `fail` options apply: throw
   * to fail the write (the core retries it; a PermanentError fails the batch at once), or return a promise to make
   * the write that slow. Set handlers up before data flows (`start: false`, then `start()`). */
  onWrite(handler: WriteHandler): void {
    this.handlers.push(handler);
  }

  /** Resolves with `events` once at least `count` events have been written; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<Event[]> {
    if (this.events.length >= count) return Promise.resolve(this.events);
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.events.length < count) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(this.events);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`output "${this.id}": ${this.events.length} events written after ${timeoutMs} ms, waiting for ${count}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** For the `test_record` output: a write begins (runs the handlers, which may throw). */
  async begin(events: Event[]): Promise<void> {
    for (const handler of this.handlers) await handler(events);
  }

  /** For the `test_record` output: a write that began at `at` succeeded. */
  record(events: Event[], at: number): void {
    this.writes.push({ events, at });
    this.events.push(...events);
    for (const check of [...this.waiters]) check();
  }
}
