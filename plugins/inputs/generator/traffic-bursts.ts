// When traffic peaks: scheduled bursts (every/for/multiplier/start) and random bursts (Poisson onsets), as
// one piecewise-constant multiplier on the rate. Shared by the rate stream and the error-level streams (their
// peak intervals apply while a burst is on).

import type { Random } from './contracts.js';
import type { RandomBursts, ScheduledBurst } from './options.js';

export interface BurstOptions {
  scheduled: ScheduledBurst[];
  random?: RandomBursts;
}

/** One burst: active over [start, end). */
export interface BurstWindow {
  start: number;
  end: number;
  multiplier: number;
}

export interface BurstSchedule {
  /** The factor on the rate at t: 1 + Σ (multiplier − 1) over the bursts active at t (overlapping bursts add
   * their extra traffic), never below 0. 1 when none is active. */
  multiplierAt(t: number): number;
  /** Whether any burst is active at t (bursts are half-open: [onset, onset + length)). */
  inBurst(t: number): boolean;
  /** The next time after t at which multiplierAt/inBurst may change (a burst starts or ends); Infinity if
   * none ever will. */
  nextChange(t: number): number;
  /** The random bursts with onset in [from, to), generated as needed. */
  randomBursts(from: number, to: number): BurstWindow[];
  /** The scheduled bursts with onset in [from, to). */
  scheduledBursts(from: number, to: number): BurstWindow[];
}

/** Random bursts ending this long before the latest time asked about are forgotten (memory stays bounded
 * over long runs); asking about them again gives wrong answers. */
const RETENTION_MS = 3_600_000;

interface Periodic {
  first: number;
  every: number;
  length: number;
  multiplier: number;
}

function checkPositive(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`${name} must be a positive number, got ${v}`);
}

/** Index k of the last onset first + k·every at or before t (t >= first), exact despite rounding. */
function periodIndex(p: Periodic, t: number): number {
  let k = Math.floor((t - p.first) / p.every);
  while (k > 0 && p.first + k * p.every > t) k--;
  while (p.first + (k + 1) * p.every <= t) k++;
  return k;
}

/**
 * The burst schedule of a generator started at `startMs`. Scheduled bursts start at
 * startMs + (start ?? every) + k·every (k = 0, 1, ...) and last `for` ms. Random bursts (needs `random`) have
 * onsets at startMs + E1, + E2, ... with Ei exponential of mean `mean_gap`, each lasting uniform
 * [min_length, max_length] with a multiplier uniform [min_multiplier, max_multiplier]; they are drawn lazily,
 * in onset order, three draws per burst (gap, length, multiplier), so the schedule depends only on the seed —
 * give the schedule a Random of its own so that it does not depend on how other parts draw.
 */
export function burstSchedule(options: BurstOptions | undefined, startMs: number, random?: Random): BurstSchedule {
  const periodic: Periodic[] = (options?.scheduled ?? []).map((b, i) => {
    checkPositive(`bursts.scheduled[${i}].every`, b.every);
    if (!(b.for >= 0)) throw new RangeError(`bursts.scheduled[${i}].for must be >= 0, got ${b.for}`);
    if (!(b.multiplier >= 0)) throw new RangeError(`bursts.scheduled[${i}].multiplier must be >= 0, got ${b.multiplier}`);
    const start = b.start ?? b.every;
    if (!(start >= 0)) throw new RangeError(`bursts.scheduled[${i}].start must be >= 0, got ${start}`);
    return { first: startMs + start, every: b.every, length: b.for, multiplier: b.multiplier };
  });
  const rnd = options?.random;
  if (rnd) {
    if (!random) throw new TypeError('random bursts need a Random');
    checkPositive('bursts.random.mean_gap', rnd.mean_gap);
    if (!(rnd.min_length >= 0 && rnd.max_length >= rnd.min_length)) {
      throw new RangeError(`bursts.random: need 0 <= min_length <= max_length, got ${rnd.min_length}, ${rnd.max_length}`);
    }
    if (!(rnd.min_multiplier >= 0 && rnd.max_multiplier >= rnd.min_multiplier)) {
      throw new RangeError(`bursts.random: need 0 <= min_multiplier <= max_multiplier, got ${rnd.min_multiplier}, ${rnd.max_multiplier}`);
    }
  }

  // Scheduled ---------------------------------------------------------------------------------------------
  /** Whether a burst of p is active at t. */
  const periodicActive = (p: Periodic, t: number): boolean => {
    if (t < p.first || p.length <= 0) return false;
    if (p.length >= p.every) return true;
    const k = periodIndex(p, t);
    return t < p.first + k * p.every + p.length;
  };
  const periodicNext = (p: Periodic, t: number): number => {
    if (p.length <= 0) return Infinity; // never active
    if (t < p.first) return p.first;
    if (p.length >= p.every) return Infinity; // active for good from the first onset
    const k = periodIndex(p, t);
    const end = p.first + k * p.every + p.length;
    return t < end ? end : p.first + (k + 1) * p.every;
  };

  // Random ------------------------------------------------------------------------------------------------
  // Bursts in onset order; `dropped` of them have been forgotten (arrays hold the rest).
  const onsets: number[] = [];
  const ends: number[] = [];
  const mults: number[] = [];
  let lastOnset = startMs;
  let highWater = -Infinity;
  let nextPrune = -Infinity;
  /** Draw bursts until one has its onset after t. */
  const ensure = (t: number): void => {
    if (!rnd || !random) return;
    if (t > highWater) {
      highWater = t;
      if (t >= nextPrune) {
        prune();
        nextPrune = t + 60_000;
      }
    }
    while (onsets.length === 0 || lastOnset <= t) {
      lastOnset += random.exponential(rnd.mean_gap);
      const length = rnd.min_length + random.next() * (rnd.max_length - rnd.min_length);
      const multiplier = rnd.min_multiplier + random.next() * (rnd.max_multiplier - rnd.min_multiplier);
      onsets.push(lastOnset);
      ends.push(lastOnset + length);
      mults.push(multiplier);
    }
  };
  const prune = (): void => {
    const before = highWater - RETENTION_MS - (rnd?.max_length ?? 0);
    let n = 0;
    while (n < onsets.length && onsets[n]! < before && ends[n]! < before) n++;
    if (n >= 1024 && n * 2 >= onsets.length) {
      onsets.splice(0, n);
      ends.splice(0, n);
      mults.splice(0, n);
    }
  };
  /** Index of the last burst with onset <= t, or -1. */
  const lastAtOrBefore = (t: number): number => {
    let lo = 0;
    let hi = onsets.length; // first index with onset > t
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (onsets[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  };
  /** Calls fn for each random burst active at t. */
  const eachActive = (t: number, fn: (i: number) => void): void => {
    if (!rnd) return;
    ensure(t);
    const earliest = t - rnd.max_length;
    for (let i = lastAtOrBefore(t); i >= 0 && onsets[i]! >= earliest; i--) if (t < ends[i]!) fn(i);
  };

  return {
    multiplierAt(t) {
      let f = 1;
      for (const p of periodic) if (periodicActive(p, t)) f += p.multiplier - 1;
      eachActive(t, (i) => (f += mults[i]! - 1));
      return f > 0 ? f : 0;
    },
    inBurst(t) {
      for (const p of periodic) if (periodicActive(p, t)) return true;
      let on = false;
      eachActive(t, () => (on = true));
      return on;
    },
    nextChange(t) {
      let next = Infinity;
      for (const p of periodic) next = Math.min(next, periodicNext(p, t));
      if (rnd) {
        ensure(t);
        const i = lastAtOrBefore(t);
        next = Math.min(next, onsets[i + 1]!); // exists: ensure drew past t
        eachActive(t, (j) => (next = Math.min(next, ends[j]!)));
      }
      return next;
    },
    randomBursts(from, to) {
      if (!rnd) return [];
      ensure(to);
      const out: BurstWindow[] = [];
      for (let i = Math.max(0, lastAtOrBefore(from)); i < onsets.length && onsets[i]! < to; i++) {
        if (onsets[i]! >= from) out.push({ start: onsets[i]!, end: ends[i]!, multiplier: mults[i]! });
      }
      return out;
    },
    scheduledBursts(from, to) {
      const out: BurstWindow[] = [];
      for (const p of periodic) {
        let k = from <= p.first ? 0 : periodIndex(p, from);
        for (; p.first + k * p.every < to; k++) {
          const start = p.first + k * p.every;
          if (start >= from) out.push({ start, end: start + p.length, multiplier: p.multiplier });
        }
      }
      return out.sort((a, b) => a.start - b.start);
    },
  };
}
