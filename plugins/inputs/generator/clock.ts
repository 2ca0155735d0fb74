// The generator's notion of time: real, simulated (a multiple of real time, or as fast as possible) or manual
// (tests). Traffic streams only see timestamps; the clock decides when those timestamps are reached.

import { performance } from 'node:perf_hooks';
import { sleep } from '../../../core/index.js';

export interface Clock {
  /** Epoch ms of the generator's time. */
  now(): number;
  /** Resolves once `now() >= ms` (at once if it already is), or promptly when `signal` is aborted — it never
   * rejects: check `signal.aborted` afterwards. */
  sleepUntil(ms: number, signal: AbortSignal): Promise<void>;
  /** True when `sleepUntil` never waits (simulated speed 'max'): time advances only when asked to. */
  readonly instant: boolean;
}

export interface ManualClock extends Clock {
  /** Moves time forward by `ms` (never backwards) and wakes the sleepers whose time has come. */
  advance(ms: number): void;
  /** Sets the time (ignored if earlier than now) and wakes the sleepers whose time has come. */
  set(ms: number): void;
  /** How many `sleepUntil` calls are still waiting. */
  readonly sleepers: number;
}

/** Waits `realMs` of real time (resolves early when aborted; a very long wait ends early, the callers loop). */
function delay(realMs: number, signal: AbortSignal): Promise<void> {
  return realMs <= 0 ? Promise.resolve() : sleep(Math.ceil(realMs), signal);
}

/** The wall clock: Date.now and setTimeout. */
export function realClock(): Clock {
  return {
    instant: false,
    now: () => Date.now(),
    async sleepUntil(ms, signal) {
      // Timers may fire a little early (and Date.now may step): wait until the time has really come.
      for (let left = ms - Date.now(); left > 0 && !signal.aborted; left = ms - Date.now()) await delay(left, signal);
    },
  };
}

/** Simulated time from `startMs`: `speed` simulated ms per real ms, or with 'max' time that stands still
 * until `sleepUntil` jumps it (at once) to the time asked for — so a day of traffic is written as fast as the
 * pipeline takes it. */
export function simulatedClock(startMs: number, speed: number | 'max'): Clock {
  if (speed === 'max') {
    let current = startMs;
    return {
      instant: true,
      now: () => current,
      sleepUntil(ms) {
        if (ms > current) current = ms;
        return Promise.resolve();
      },
    };
  }
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`clock speed must be a positive number or 'max', got ${speed}`);
  const realStart = performance.now();
  const now = (): number => startMs + (performance.now() - realStart) * speed;
  return {
    instant: false,
    now,
    async sleepUntil(ms, signal) {
      for (let left = ms - now(); left > 0 && !signal.aborted; left = ms - now()) await delay(left / speed, signal);
    },
  };
}

/** A clock that moves only when told to (tests). */
export function manualClock(startMs: number): ManualClock {
  let current = startMs;
  const waiting = new Set<{ at: number; wake: () => void }>();
  const wakeDue = (): void => {
    for (const s of [...waiting]) if (s.at <= current) s.wake();
  };
  return {
    instant: false,
    now: () => current,
    sleepUntil(ms, signal) {
      if (ms <= current || signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const sleeper = {
          at: ms,
          wake: () => {
            waiting.delete(sleeper);
            signal.removeEventListener('abort', sleeper.wake);
            resolve();
          },
        };
        waiting.add(sleeper);
        signal.addEventListener('abort', sleeper.wake, { once: true });
      });
    },
    advance(ms) {
      if (ms > 0) current += ms;
      wakeDue();
    },
    set(ms) {
      if (ms > current) current = ms;
      wakeDue();
    },
    get sleepers() {
      return waiting.size;
    },
  };
}
