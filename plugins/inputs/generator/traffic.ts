// When lines happen: traffic streams (a rate with bursts and a daily-style profile; the original Visor's
// per-level interval streams; heartbeats), their merge in time order, and the count/duration limits.
// Streams only compute timestamps; the clock decides when they are reached and content writes the lines.

import type { CheckProblem } from '../../../core/index.js';
import type { Random, TrafficStream } from './contracts.js';
import type { SineProfile } from './options.js';
import { burstSchedule, type BurstOptions, type BurstSchedule } from './traffic-bursts.js';

export { burstSchedule, type BurstOptions, type BurstSchedule, type BurstWindow } from './traffic-bursts.js';

// ---------------------------------------------------------------------------------------------------------
// Rate stream

export interface RateStreamOptions {
  /** Lines per second before bursts and profile. */
  rate: number;
  /** Bursts on top of the rate (ignored when `schedule` is given). */
  bursts?: BurstOptions;
  /** A burst schedule to use (and share with interval streams' `inPeak`) instead of building one from `bursts`. */
  schedule?: BurstSchedule;
  profile?: SineProfile;
  /** Where the profile's t is measured from (default 0, the Unix epoch: a period of 1 day follows the UTC day,
   * and `phase` is a time of day). */
  profileOrigin?: number;
  /** The generator's start: no events before it. */
  startMs: number;
  /** Draws the random bursts (needed only when `bursts.random` is set and no `schedule` is given). */
  random?: Random;
  /** Error-log level of the stream's lines, if any. */
  level?: string;
}

export interface RateStream extends TrafficStream {
  /** The instantaneous rate at t, lines per second: rate × profile(t) × burst(t) (0 before the start). */
  rateAt(t: number): number;
  /** Whether a burst is active at t. */
  inBurst(t: number): boolean;
  /** The integral of the rate over [from, to): the expected number of lines (stateless). */
  expected(from: number, to: number): number;
  readonly schedule: BurstSchedule;
}

/** What is wrong with a profile (period in ms), at the key concerned: the check of the `profile` option, so that
 * `visor validate` reports it; rateStream applies the same rules. Other types: left to the schema. */
export function profileProblems(value: unknown): CheckProblem[] {
  const p = (value ?? {}) as Partial<Record<keyof SineProfile, unknown>>;
  const problems: CheckProblem[] = [];
  if (typeof p.period === 'number' && !(p.period > 0)) problems.push({ at: 'period', message: `period must be greater than 0 (got ${p.period}ms), e.g. period: 24h` });
  if (typeof p.amplitude === 'number' && !(Math.abs(p.amplitude) <= 1)) problems.push({ at: 'amplitude', message: `amplitude must be within [-1, 1] (got ${p.amplitude})` });
  return problems;
}

/**
 * Lines at the rate r(t) = rate × profile(t) × burst(t), placed deterministically: with Λ(t) = ∫ r from the
 * start to t (computed exactly: the burst factor is piecewise constant and the sine has a closed-form
 * integral), the k-th line (k = 1, 2, ...) is at the time where Λ reaches k − ½. So the number of lines in any
 * window [a, b) is Λ(b) − Λ(a) rounded (within 1 of the integral), lines are spread evenly along the
 * intensity, and the lines do not depend on how time is cut into `due` windows. A window may skip ahead (the
 * lines in the gap are skipped); the part of a window before the end of the previous one is ignored, so no
 * line is given twice.
 */
export function rateStream(options: RateStreamOptions): RateStream {
  const { rate, startMs, profile, level } = options;
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a number >= 0, got ${rate}`);
  const [problem] = profile ? profileProblems(profile) : [];
  if (problem) throw new RangeError(`profile: ${problem.message}`);
  const schedule = options.schedule ?? burstSchedule(options.bursts, startMs, options.random);
  const perMs = rate / 1000;
  const amp = profile && profile.amplitude !== 0 ? profile.amplitude : 0;
  const period = profile?.period ?? 1;
  const shift = (profile?.phase ?? 0) + (options.profileOrigin ?? 0);
  const k2pi = (2 * Math.PI) / period;
  const kInt = (amp * period) / (2 * Math.PI);
  /** The angle 2π (t − phase − origin) / period, reduced exactly to [0, 2π). */
  const angle = (t: number): number => {
    let u = (t - shift) % period;
    if (u < 0) u += period;
    return u * k2pi;
  };
  /** profile(t). */
  const shape = amp === 0 ? () => 1 : (t: number) => 1 + amp * Math.sin(angle(t));
  /** ∫ profile over [a, b]. */
  const shapeIntegral = amp === 0 ? (a: number, b: number) => b - a : (a: number, b: number) => b - a + kInt * (Math.cos(angle(a)) - Math.cos(angle(b)));

  // The cursor: the constant-burst segment [segStart, segEnd) holding the latest time asked for, its factor
  // (lines per ms before the profile), Λ at its start and cos of the profile's angle there.
  let segStart = startMs;
  let segEnd = schedule.nextChange(startMs);
  let segRate = perMs * schedule.multiplierAt(startMs);
  let segLambda = 0;
  let segCos = Math.cos(angle(startMs));
  const nextSegment = (): void => {
    segLambda += segRate * shapeIntegral(segStart, segEnd);
    segStart = segEnd;
    segCos = Math.cos(angle(segStart));
    segRate = perMs * schedule.multiplierAt(segStart);
    segEnd = schedule.nextChange(segStart);
  };
  /** The end of the latest window: lines before it have been given (or skipped). */
  let reached = startMs;
  /** Λ(t) for t in the current segment (the same arithmetic as shapeIntegral, so the same bits). */
  const lambdaIn = amp === 0 ? (t: number): number => segLambda + segRate * (t - segStart) : (t: number): number => segLambda + segRate * (t - segStart + kInt * (segCos - Math.cos(angle(t))));

  /** The profile at the last point `invert` evaluated (close to the time it returned). */
  let lastShape = 1;
  /** The time in [lo, hi] where Λ reaches `target` (Λ(lo) <= target < Λ(hi)) in the current segment, whose
   * rate is not constant (profile): Newton's method from `guess`, kept inside a shrinking bracket (bisection
   * where the rate is near 0), to within `tol` ms. From a guess one line after the previous line it takes one
   * or two steps. */
  const invert = (target: number, lo: number, hi: number, guess: number, tol: number): number => {
    const need = (target - segLambda) / segRate; // ∫ profile from segStart to the answer
    let t = guess > lo && guess < hi ? guess : (lo + hi) / 2;
    for (let i = 0; i < 200; i++) {
      const theta = angle(t);
      const g = t - segStart + kInt * (segCos - Math.cos(theta)) - need;
      if (g < 0) lo = t;
      else hi = t;
      lastShape = 1 + amp * Math.sin(theta);
      const step = lastShape > 0 ? g / lastShape : NaN;
      if (Math.abs(step) <= tol) return t; // within a step below the resolution of t
      let next = t - step;
      if (!(next > lo && next < hi)) next = (lo + hi) / 2;
      if (hi - lo <= tol) return next;
      t = next;
    }
    return t;
  };

  /** Largest double below x (x > 0). */
  const below = (x: number): number => x - Math.max(Math.abs(x) * Number.EPSILON, Number.MIN_VALUE);

  return {
    level,
    schedule,
    rateAt(t) {
      return t < startMs ? 0 : rate * shape(t) * schedule.multiplierAt(t);
    },
    inBurst: (t) => schedule.inBurst(t),
    expected(from, to) {
      let a = Math.max(from, startMs);
      let sum = 0;
      while (a < to) {
        const b = Math.min(to, schedule.nextChange(a));
        sum += perMs * schedule.multiplierAt(a) * shapeIntegral(a, b);
        a = b;
      }
      return sum;
    },
    due(fromMs, toMs) {
      const from = Math.max(fromMs, reached);
      if (!(toMs > from)) return [];
      reached = toMs;
      while (from >= segEnd) nextSegment();
      const out: number[] = [];
      // Line k is at Λ = k − ½; the first one at or after `from`:
      let k = Math.ceil(lambdaIn(from) + 0.5);
      let prev = from;
      for (;;) {
        const hi = Math.min(toMs, segEnd);
        if (segRate > 0) {
          const top = lambdaIn(hi);
          const last = below(hi);
          if (amp === 0) {
            // Constant rate: even spacing.
            for (; k - 0.5 < top; k++) {
              let t = segStart + (k - 0.5 - segLambda) / segRate;
              if (t < prev) t = prev;
              if (t > last) t = last;
              out.push((prev = t));
            }
          } else {
            // Λ and the profile at the previous line are known: the next guess is one line further on.
            let prevLambda = lambdaIn(prev);
            lastShape = shape(prev);
            const tol = Math.max(1e-6, Math.abs(hi) * 2 * Number.EPSILON); // 1 ns, or two ulps of the time
            for (; k - 0.5 < top; k++) {
              const target = k - 0.5;
              const slope = segRate * lastShape;
              let t = invert(target, prev, hi, slope > 0 ? prev + (target - prevLambda) / slope : NaN, tol);
              if (t < prev) t = prev;
              if (t > last) t = last;
              out.push((prev = t));
              prevLambda = target;
            }
          }
        }
        if (hi >= toMs) break;
        nextSegment();
        prev = hi;
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Interval stream

export interface IntervalStreamOptions {
  /** Error-log level of the stream's lines. */
  level?: string;
  /** [min, max] gap between two lines, ms (the level_streams option: a list of two, checked by gapRangeProblem). */
  interval: readonly number[];
  /** [min, max] gap while inPeak. */
  peak_interval?: readonly number[];
  /** Whether t is in a peak (e.g. schedule.inBurst). */
  inPeak?: (t: number) => boolean;
  /** The next time after t at which inPeak may change (e.g. schedule.nextChange). With it, a peak's onset
   * cuts a pending normal gap: the stream switches to the peak range at once instead of after its next line. */
  nextPeakChange?: (t: number) => number;
  startMs: number;
  random: Random;
}

/** Why `[min, max]` (ms) is no gap range, or undefined: the check of `interval` and `peak_interval` of a level
 * stream, so that `visor validate` reports it; intervalStream applies the same rule. Other types: left to the schema. */
export function gapRangeProblem(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number')) return undefined;
  const [min, max] = value as number[];
  if (min >= 0 && max >= min && max > 0 && Number.isFinite(max)) return undefined;
  return `must be [min, max] with 0 <= min <= max and max > 0 (got [${min}ms, ${max}ms]), e.g. [2s, 5s]`;
}

function checkRange(name: string, r: readonly number[]): void {
  const problem = gapRangeProblem(r);
  if (problem) throw new RangeError(`${name} ${problem}`);
}

/**
 * The original Visor's per-level streams: the gap after a line at t is uniform in `peak_interval` when
 * inPeak(t), else uniform in `interval`; the first line comes one gap after the start. With `nextPeakChange`,
 * when a peak begins during a normal gap, that gap is dropped and the next line comes a peak gap after the
 * onset. One `random.next()` per gap. Lines before a window's start (when a window skips ahead) are skipped.
 */
export function intervalStream(options: IntervalStreamOptions): TrafficStream {
  const { level, interval, peak_interval, random, nextPeakChange } = options;
  checkRange('interval', interval);
  if (peak_interval) checkRange('peak_interval', peak_interval);
  const inPeak = peak_interval ? (options.inPeak ?? (() => false)) : () => false;
  const draw = (r: readonly number[]): number => r[0] + random.next() * (r[1] - r[0]);

  /** The line after one at (or a start at) `t`. */
  const after = (t: number): number => {
    if (inPeak(t)) return t + draw(peak_interval!);
    const next = t + draw(interval);
    if (!peak_interval || !nextPeakChange) return next;
    for (let b = nextPeakChange(t); b < next; b = nextPeakChange(b)) {
      if (!(b > t)) break; // a schedule that does not move on: ignore it
      if (inPeak(b)) return b + draw(peak_interval);
      t = b;
    }
    return next;
  };

  let pending = after(options.startMs);
  return {
    level,
    due(from, to) {
      const out: number[] = [];
      while (pending < to) {
        if (pending >= from) out.push(pending);
        pending = after(pending);
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Heartbeat

export interface HeartbeatStreamOptions {
  interval: number;
  message: string;
  startMs: number;
}

/** Why a heartbeat `interval` (ms) is refused, or undefined: the check of the option; heartbeatStream applies it. */
export function heartbeatIntervalProblem(interval: unknown): string | undefined {
  if (typeof interval !== 'number' || (interval > 0 && Number.isFinite(interval))) return undefined;
  return `must be greater than 0 (got ${interval}ms), e.g. interval: 10s`;
}

/** A line exactly every `interval` ms: at startMs + k·interval, k = 1, 2, ... */
export function heartbeatStream(options: HeartbeatStreamOptions): TrafficStream {
  const { interval, message, startMs } = options;
  const problem = heartbeatIntervalProblem(interval);
  if (problem) throw new RangeError(`heartbeat interval ${problem}`);
  let k = 1;
  return {
    heartbeat: { message },
    due(from, to) {
      const out: number[] = [];
      // Skip ahead to the first beat at or after `from` (windows that skip ahead skip beats).
      if (startMs + k * interval < from) {
        k = Math.max(k, Math.ceil((from - startMs) / interval));
        while (k > 1 && startMs + (k - 1) * interval >= from) k--;
        while (startMs + k * interval < from) k++;
      }
      for (let t = startMs + k * interval; t < to; t = startMs + ++k * interval) out.push(t);
      return out;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Merge

export interface DueEvent {
  ts: number;
  stream: TrafficStream;
}

/** The events of every stream due in [from, to), in time order; ties keep the order of `streams`. */
export function mergeDue(streams: readonly TrafficStream[], from: number, to: number): DueEvent[] {
  const lists: number[][] = [];
  const owners: TrafficStream[] = [];
  let total = 0;
  for (const s of streams) {
    const times = s.due(from, to);
    if (times.length === 0) continue;
    lists.push(times);
    owners.push(s);
    total += times.length;
  }
  const out: DueEvent[] = new Array(total);
  if (lists.length === 1) {
    const times = lists[0]!;
    const stream = owners[0]!;
    for (let i = 0; i < total; i++) out[i] = { ts: times[i]!, stream };
    return out;
  }
  // k-way merge; k is small (one rate stream, a few levels, a heartbeat), so a linear pick of the minimum
  // beats a heap. Strict < keeps the earlier stream first on ties.
  const pos = new Array<number>(lists.length).fill(0);
  for (let n = 0; n < total; n++) {
    let best = -1;
    let bestTs = Infinity;
    for (let j = 0; j < lists.length; j++) {
      const list = lists[j]!;
      const p = pos[j]!;
      if (p < list.length && (best < 0 || list[p]! < bestTs)) {
        best = j;
        bestTs = list[p]!;
      }
    }
    pos[best]!++;
    out[n] = { ts: bestTs, stream: owners[best]! };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Limits

export interface LimitsOptions {
  /** Most lines (heartbeats not counted); 0: no limit. */
  count: number;
  /** Most clock time from the start, ms: only events before startMs + duration; 0: no limit. */
  duration: number;
  startMs: number;
}

export interface Taken<T> {
  /** The prefix of the events still allowed. */
  events: T[];
  /** True once a limit is reached: nothing more will be allowed. */
  done: boolean;
}

/** Applies `count` and `duration` exactly: the count-th line is the last one let through (with the heartbeats
 * before it), and only events strictly before startMs + duration are. */
export class Limits {
  /** Events at or after this time are not allowed (Infinity without a duration). */
  readonly endMs: number;
  private readonly max: number;
  private taken = 0;
  private finished = false;

  constructor(options: LimitsOptions) {
    this.max = options.count > 0 ? options.count : Infinity;
    this.endMs = options.duration > 0 ? options.startMs + options.duration : Infinity;
  }

  /** Lines let through so far. */
  get lines(): number {
    return this.taken;
  }

  /** Lines still allowed (Infinity without a count). */
  get remaining(): number {
    return this.max - this.taken;
  }

  get done(): boolean {
    return this.finished;
  }

  /** `to` cut at the duration's end: the furthest a window needs to reach. */
  clamp(to: number): number {
    return Math.min(to, this.endMs);
  }

  /** The prefix of `events` (in time order) still allowed. `windowEnd`: the end of the window they were due
   * in; when it reaches the duration's end, the limits are done after these events. */
  take<T extends { ts: number; stream: { heartbeat?: unknown } }>(events: T[], windowEnd?: number): Taken<T> {
    if (this.finished) return { events: [], done: true };
    let n = 0;
    for (; n < events.length; n++) {
      const e = events[n]!;
      if (e.ts >= this.endMs) {
        this.finished = true;
        break;
      }
      if (!e.stream.heartbeat && ++this.taken >= this.max) {
        n++;
        this.finished = true;
        break;
      }
    }
    if (windowEnd !== undefined && windowEnd >= this.endMs) this.finished = true;
    return { events: n === events.length ? events : events.slice(0, n), done: this.finished };
  }
}
