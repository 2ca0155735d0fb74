import type { ValueCheck } from './config/schema.js';
// The one retry schedule of the codebase: exponential backoff with jitter. The core's output retries
// (`retry: { backoff, max_backoff }`), the tcp output's reconnects, the email sender and the kafka input's
// connect loop all wait by it, so they space their attempts the same way.
//
// Each delay is the previous one times `factor` (2: "doubling"), from `initial` up to `max`, minus up to
// `jitter` (20%) of it at random. Jitter spreads the attempts of the many clients that lost the same server at
// the same moment (every agent behind one mail relay, every partition's consumer), which would otherwise all
// retry in step and meet it together when it comes back. It only ever shortens a delay, so `max` stays the
// longest wait, as configured and documented.

export interface BackoffOptions {
  /** First delay, ms. */
  initial: number;
  /** Longest delay, ms (the first delay is `initial` even when this is smaller). */
  max: number;
  /** Growth per failure (default 2). */
  factor?: number;
  /** Largest fraction taken off each delay at random, 0..1 (default 0.2; 0 for a fixed schedule). */
  jitter?: number;
  /** Source of randomness in [0, 1) (default Math.random), for tests. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_JITTER = 0.2;

/** Delays between attempts: `next()` after each failure, `reset()` after a success. */
export class Backoff {
  private base: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    this.base = options.initial;
    this.factor = options.factor ?? 2;
    this.jitter = Math.min(Math.max(options.jitter ?? DEFAULT_BACKOFF_JITTER, 0), 1);
    this.random = options.random ?? Math.random;
  }

  /** The delay (whole ms) to wait before the next attempt; the one after it grows, up to `max`. */
  next(): number {
    const delay = Math.round(this.base * (1 - this.jitter * this.random()));
    this.base = Math.min(this.base * this.factor, this.options.max);
    return delay;
  }

  /** Back to `initial`, after an attempt succeeded. */
  reset(): void {
    this.base = this.options.initial;
  }
}

/** The schema `check` of an object holding `backoff` and `max_backoff` (durations, ms once converted): a first
 * delay longer than the longest would be cut to it at once, which is never what the config meant. */
export const backoffOrder: ValueCheck = (o) => {
  const { backoff, max_backoff: max } = (o ?? {}) as { backoff?: unknown; max_backoff?: unknown };
  return typeof backoff === 'number' && typeof max === 'number' && backoff > max
    ? { at: 'backoff', message: `backoff (${backoff}ms) must not exceed max_backoff (${max}ms): lower backoff, or raise max_backoff` }
    : undefined;
};
