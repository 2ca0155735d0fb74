// When traffic peaks: scheduled bursts (every/for/multiplier/start) and random bursts (Poisson onsets), as
// one piecewise-constant multiplier on the rate. Shared by the rate stream and the error-level streams (their
// peak intervals apply while a burst is on).

import type { CheckProblem } from '../../../core/index.js';
import type { Random } from './contracts.js';
import type { GeneratorOptions, RandomBursts, ScheduledBurst } from './options.js';

/** The generator's `bursts` option. */
export type BurstOptions = GeneratorOptions['bursts'];

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

const isNumber = (v: unknown): v is number => typeof v === 'number';
const positive = (v: number) => v > 0 && Number.isFinite(v);

/** What is wrong with a scheduled burst (times in ms), at the key concerned: the check of a `bursts.scheduled`
 * entry, so that `visor validate` reports it; burstSchedule applies the same rules. Other types: left to the schema. */
export function scheduledBurstProblems(value: unknown): CheckProblem[] {
  const b = (value ?? {}) as Partial<Record<keyof ScheduledBurst, unknown>>;
  const problems: CheckProblem[] = [];
  if (isNumber(b.every) && !positive(b.every)) problems.push({ at: 'every', message: `every must be greater than 0 (got ${b.every}ms), e.g. every: 1h` });
  for (const key of ['for', 'multiplier', 'start'] as const) {
    const v = b[key];
    if (isNumber(v) && !(v >= 0)) problems.push({ at: key, message: `${key} must be at least 0 (got ${v})` });
  }
  return problems;
}

/** What is wrong with random bursts (times in ms): the check of `bursts.random`; burstSchedule applies the same rules. */
export function randomBurstsProblems(value: unknown): CheckProblem[] {
  const r = (value ?? {}) as Partial<Record<keyof RandomBursts, unknown>>;
  const problems: CheckProblem[] = [];
  if (isNumber(r.mean_gap) && !positive(r.mean_gap)) problems.push({ at: 'mean_gap', message: `mean_gap must be greater than 0 (got ${r.mean_gap}ms), e.g. mean_gap: 10m` });
  const ordered = (low: 'min_length' | 'min_multiplier', high: 'max_length' | 'max_multiplier', unit: string) => {
    const [a, b] = [r[low], r[high]];
    if (!isNumber(a) || !isNumber(b)) return;
    if (!(a >= 0)) problems.push({ at: low, message: `${low} must be at least 0 (got ${a}${unit})` });
    else if (!(b >= a)) problems.push({ at: high, message: `${high} (${b}${unit}) must not be below ${low} (${a}${unit})` });
  };
  ordered('min_length', 'max_length', 'ms');
  ordered('min_multiplier', 'max_multiplier', '');
  return problems;
}

/** Throws the first of `problems` as a RangeError naming the option (`bursts.random: ...`). */
function refuse(name: string, problems: CheckProblem[]): void {
  if (problems.length) throw new RangeError(`${name}: ${problems[0].message}`);
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
    refuse(`bursts.scheduled[${i}]`, scheduledBurstProblems(b));
    return { first: startMs + (b.start ?? b.every), every: b.every, length: b.for, multiplier: b.multiplier };
  });
  const rnd = options?.random;
  if (rnd) {
    if (!random) throw new TypeError('random bursts need a Random');
    refuse('bursts.random', randomBurstsProblems(rnd));
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
