// The one abortable sleep of the codebase.

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
