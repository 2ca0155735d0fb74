// The one abortable sleep of the codebase, and the one wait for a wake-up from another task.

/** setTimeout's longest delay (a longer one would fire at once): a longer sleep ends after this. */
const MAX_TIMER = 2 ** 31 - 1;

/** Resolves after `ms`, or as soon as `signal` aborts (at once when it already has); never rejects.
 * Waits of more than about 24.8 days end early: loop on the time left for longer ones. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, MAX_TIMER));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A loop that sleeps until there is work waits here (`wait`) until another task calls `wake`, or until the
 * signal aborts. A wake while nobody waits is not kept: the waiter checks for work before it waits. */
export class Wakeup {
  private waiter: (() => void) | undefined;

  /** Resolves at the next wake(), or as soon as `signal` aborts (at once when it already has); never rejects. */
  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.waiter = undefined;
        resolve();
      };
      this.waiter = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  wake(): void {
    this.waiter?.();
  }
}
