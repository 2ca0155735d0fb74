// Time as the runtime's own bookkeeping sees it (rate-limited warnings), injectable so that tests can move it.
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`. The timer never keeps the process alive by itself. */
  after(ms: number, fn: () => void): { cancel(): void };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
