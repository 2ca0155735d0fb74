// The generator's traffic: rates (exact counts per window), bursts, the sine profile, per-level interval
// streams, heartbeats, the merge, the limits and the clocks. Fixed seeds, simulated time: no real sleeping
// except where the real-time behaviour of a clock is what is measured.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { manualClock, realClock, simulatedClock } from '../plugins/inputs/generator/clock.js';
import type { TrafficStream } from '../plugins/inputs/generator/contracts.js';
import { createRandom } from '../plugins/inputs/generator/random.js';
import {
  Limits,
  burstSchedule,
  heartbeatStream,
  intervalStream,
  mergeDue,
  rateStream,
  type DueEvent,
} from '../plugins/inputs/generator/traffic.js';

const T0 = Date.UTC(2024, 0, 15, 0, 0, 0); // a Monday, midnight UTC
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

/** Calls due over [from, to) in steps of `step`, collecting every timestamp. */
function collect(stream: TrafficStream, from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let a = from; a < to; a += step) for (const t of stream.due(a, Math.min(a + step, to))) out.push(t);
  return out;
}

/** Number of sorted timestamps in [a, b). */
function countIn(sorted: readonly number[], a: number, b: number): number {
  const lower = (x: number): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return lower(b) - lower(a);
}

function assertSortedWithin(times: readonly number[], from: number, to: number): void {
  for (let i = 0; i < times.length; i++) {
    if (!(times[i]! >= from && times[i]! < to)) assert.fail(`timestamp ${times[i]} outside [${from}, ${to})`);
    if (i > 0 && times[i]! < times[i - 1]!) assert.fail(`timestamps go back at ${i}`);
  }
}

describe('generator traffic', function () {
  this.timeout(60000);

  describe('rate stream', () => {
    for (const rate of [1, 10, 1000, 100000]) {
      it(`${rate} lines/s: every sliding 10 s window over 10 minutes holds rate × 10 lines (within 1 line)`, () => {
        const stream = rateStream({ rate, bursts: { scheduled: [] }, startMs: T0, random: createRandom(1) });
        const perSecond: number[] = [];
        for (let s = 0; s < 600; s++) {
          const from = T0 + s * S;
          const times = stream.due(from, from + S);
          assertSortedWithin(times, from, from + S);
          perSecond.push(times.length);
        }
        const expected = rate * 10;
        for (let s = 0; s + 10 <= 600; s++) {
          let n = 0;
          for (let i = s; i < s + 10; i++) n += perSecond[i]!;
          // Required: within 2% (and ±1 line at 1/s); the stream is exact to within 1 line of the integral.
          assert.ok(Math.abs(n - expected) <= Math.max(1, 0.02 * expected), `window at ${s}s: ${n} lines, expected ${expected}`);
          assert.ok(Math.abs(n - expected) <= 1, `window at ${s}s: ${n} lines, expected ${expected} ± 1`);
        }
        assert.equal(perSecond.reduce((a, b) => a + b, 0), rate * 600);
      });

      it(`${rate} lines/s: irregular windows (1 ms … 3 s) give the same lines as one big call`, () => {
        const span = rate >= 100000 ? MIN : 10 * MIN; // one call of 10 minutes at 100k/s would be 60M numbers
        const bursts = { scheduled: [{ every: 45 * S, for: 7 * S, multiplier: 3 }] };
        const big = rateStream({ rate, bursts, startMs: T0 }).due(T0, T0 + span);
        const stream = rateStream({ rate, bursts, startMs: T0 });
        const random = createRandom(rate);
        const pieces: number[] = [];
        let calls = 0;
        for (let a = T0; a < T0 + span; calls++) {
          const b = Math.min(T0 + span, a + 1 + random.next() * (3 * S - 1));
          const times = stream.due(a, b);
          assertSortedWithin(times, a, b);
          for (const t of times) pieces.push(t);
          a = b;
        }
        assert.ok(calls > span / (2 * S));
        assert.equal(pieces.length, big.length);
        assert.equal(big.length, Math.round(stream.expected(T0, T0 + span)));
        // The same lines: a window's start may round a time up by an ulp (it is kept inside its window).
        for (let i = 0; i < big.length; i++) if (!(Math.abs(pieces[i]! - big[i]!) <= 1e-3)) assert.fail(`line ${i}: ${pieces[i]} != ${big[i]}`);
      });
    }

    it('with bursts and a profile, irregular windows still give the same count as one big call', () => {
      const options = {
        rate: 500,
        bursts: { scheduled: [{ every: 50 * S, for: 5 * S, multiplier: 4 }], random: { mean_gap: 30 * S, min_length: S, max_length: 10 * S, min_multiplier: 2, max_multiplier: 6 } },
        profile: { type: 'sine' as const, period: 7 * MIN, amplitude: 0.9, phase: 13 * S },
        startMs: T0,
      };
      const big = rateStream({ ...options, random: createRandom(7) }).due(T0, T0 + 20 * MIN);
      const stream = rateStream({ ...options, random: createRandom(7) });
      const random = createRandom(99);
      const pieces: number[] = [];
      for (let a = T0; a < T0 + 20 * MIN; ) {
        const b = Math.min(T0 + 20 * MIN, a + 1 + random.next() * (3 * S - 1));
        for (const t of stream.due(a, b)) pieces.push(t);
        a = b;
      }
      assert.equal(pieces.length, big.length);
      assert.ok(Math.abs(big.length - stream.expected(T0, T0 + 20 * MIN)) <= 1);
      for (let i = 0; i < big.length; i++) assert.ok(Math.abs(pieces[i]! - big[i]!) < 1e-3, `line ${i}: ${pieces[i]} vs ${big[i]}`);
    });

    it('spreads lines evenly inside a window and starts half a gap after the start', () => {
      const stream = rateStream({ rate: 4, startMs: T0 });
      assert.deepEqual(stream.due(T0, T0 + S), [T0 + 125, T0 + 375, T0 + 625, T0 + 875]);
      assert.deepEqual(stream.due(T0 + S, T0 + 1250), [T0 + 1125]);
      assert.deepEqual(stream.due(T0 - S, T0), []);
    });

    it('never gives a line twice when a window overlaps the previous one', () => {
      const stream = rateStream({ rate: 10, startMs: T0 });
      assert.equal(stream.due(T0, T0 + 10 * S).length, 100);
      assert.deepEqual(stream.due(T0 + S, T0 + 2 * S), []);
      const next = stream.due(T0 + 9 * S, T0 + 11 * S);
      assert.equal(next.length, 10);
      assertSortedWithin(next, T0 + 10 * S, T0 + 11 * S);
    });

    it('skips the lines of a gap between windows', () => {
      const stream = rateStream({ rate: 10, startMs: T0 });
      assert.equal(stream.due(T0, T0 + S).length, 10);
      const later = stream.due(T0 + 5 * S, T0 + 6 * S);
      assert.equal(later.length, 10);
      assertSortedWithin(later, T0 + 5 * S, T0 + 6 * S);
    });
  });

  describe('scheduled bursts', () => {
    it('multiply the rate inside each burst, with onsets exactly at start + k·every', () => {
      const base = 1000;
      const burst = { every: 60 * S, for: 10 * S, multiplier: 5 };
      const stream = rateStream({ rate: base, bursts: { scheduled: [burst] }, startMs: T0 });
      const onsets = stream.schedule.scheduledBursts(T0, T0 + 10 * MIN).map((b) => b.start);
      assert.deepEqual(onsets, Array.from({ length: 9 }, (_, k) => T0 + 60 * S * (k + 1)));
      for (const on of onsets) {
        assert.equal(stream.inBurst(on), true);
        assert.equal(stream.inBurst(on - 0.001), false);
        assert.equal(stream.inBurst(on + 10 * S - 0.001), true);
        assert.equal(stream.inBurst(on + 10 * S), false);
        assert.equal(stream.rateAt(on), 5000);
        assert.equal(stream.rateAt(on - 1), 1000);
      }
      const all = collect(stream, T0, T0 + 10 * MIN, 700);
      for (let s = 0; s < 600; s++) {
        const a = T0 + s * S;
        const n = countIn(all, a, a + S);
        const expected = stream.inBurst(a) ? 5000 : 1000;
        assert.ok(Math.abs(n - expected) <= 1, `second ${s}: ${n} lines, expected ${expected}`);
      }
      for (const on of onsets) {
        const n = countIn(all, on, on + 10 * S);
        assert.ok(Math.abs(n - 50000) <= 0.02 * 50000, `burst at ${on}: ${n}`);
        const before = countIn(all, on - 10 * S, on);
        assert.ok(Math.abs(before - 10000) <= 0.02 * 10000, `before ${on}: ${before}`);
      }
    });

    it('honour start, and overlapping schedules add their extra traffic', () => {
      const schedule = burstSchedule({ scheduled: [{ every: 30 * S, for: 10 * S, multiplier: 3, start: 5 * S }, { every: 60 * S, for: 20 * S, multiplier: 2, start: 0 }] }, T0);
      assert.deepEqual(schedule.scheduledBursts(T0, T0 + 70 * S).map((b) => (b.start - T0) / S), [0, 5, 35, 60, 65]);
      assert.equal(schedule.multiplierAt(T0 + 1 * S), 2);
      assert.equal(schedule.multiplierAt(T0 + 6 * S), 4); // 1 + (3 − 1) + (2 − 1)
      assert.equal(schedule.multiplierAt(T0 + 16 * S), 2);
      assert.equal(schedule.multiplierAt(T0 + 25 * S), 1);
      assert.equal(schedule.nextChange(T0 + 25 * S), T0 + 35 * S);
      assert.equal(schedule.nextChange(T0 + 35 * S), T0 + 45 * S);
      const stream = rateStream({ rate: 100, schedule, startMs: T0 });
      const n = stream.due(T0, T0 + 60 * S).length;
      // 100/s × (60 s + 2·10 s (×3 extra) + 20 s (×2 extra))
      assert.equal(n, 100 * (60 + 2 * 2 * 10 + 1 * 20));
    });

    it('a burst starting far into a long run still starts exactly on time', () => {
      const schedule = burstSchedule({ scheduled: [{ every: 7 * S + 3, for: 1234, multiplier: 2 }] }, T0);
      const k = 1_000_003;
      const on = T0 + (k + 1) * (7 * S + 3);
      assert.equal(schedule.inBurst(on), true);
      assert.equal(schedule.inBurst(on - 1e-3), false);
      assert.equal(schedule.nextChange(on - 1), on);
      assert.equal(schedule.nextChange(on), on + 1234);
    });
  });

  describe('random bursts', () => {
    const cfg = { mean_gap: 60 * S, min_length: 5 * S, max_length: 20 * S, min_multiplier: 2, max_multiplier: 5 };

    it('have exponential gaps with the mean gap, lengths and multipliers in range', () => {
      const schedule = burstSchedule({ scheduled: [], random: cfg }, T0, createRandom(42));
      const bursts = schedule.randomBursts(T0, T0 + 5000 * HOUR / 30); // ≈ 10,000 bursts
      const n = bursts.length;
      assert.ok(n > 9000 && n < 11000, `${n} bursts`);
      const gaps = bursts.map((b, i) => b.start - (i === 0 ? T0 : bursts[i - 1]!.start));
      const mean = gaps.reduce((a, b) => a + b, 0) / n;
      // The mean of n exponentials has standard error mean/√n: within 4 of them.
      assert.ok(Math.abs(mean - cfg.mean_gap) < (4 * cfg.mean_gap) / Math.sqrt(n), `mean gap ${mean}`);
      // Kolmogorov-Smirnov against Exp(mean_gap), α = 0.001.
      const sorted = [...gaps].sort((a, b) => a - b);
      let d = 0;
      for (let i = 0; i < n; i++) {
        const f = 1 - Math.exp(-sorted[i]! / cfg.mean_gap);
        d = Math.max(d, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
      }
      assert.ok(d < 1.95 / Math.sqrt(n), `KS D = ${d}`);
      // …and it is not uniform: that would fail the same test.
      let du = 0;
      for (let i = 0; i < n; i++) {
        const f = Math.min(1, sorted[i]! / (2 * cfg.mean_gap));
        du = Math.max(du, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
      }
      assert.ok(du > 1.95 / Math.sqrt(n));
      for (const b of bursts) {
        assert.ok(b.end - b.start >= cfg.min_length && b.end - b.start <= cfg.max_length);
        assert.ok(b.multiplier >= cfg.min_multiplier && b.multiplier <= cfg.max_multiplier);
      }
      // Uniform over the whole range: the extremes come close to its ends.
      const lengths = bursts.map((b) => b.end - b.start);
      const mults = bursts.map((b) => b.multiplier);
      assert.ok(Math.min(...lengths) < cfg.min_length + 20 && Math.max(...lengths) > cfg.max_length - 20);
      assert.ok(Math.min(...mults) < cfg.min_multiplier + 0.01 && Math.max(...mults) > cfg.max_multiplier - 0.01);
      const meanLength = bursts.reduce((a, b) => a + b.end - b.start, 0) / n;
      const meanMult = bursts.reduce((a, b) => a + b.multiplier, 0) / n;
      assert.ok(Math.abs(meanLength - 12.5 * S) < 0.3 * S, `mean length ${meanLength}`);
      assert.ok(Math.abs(meanMult - 3.5) < 0.05, `mean multiplier ${meanMult}`);
    });

    it('are deterministic per seed, whatever order the schedule is asked in', () => {
      const span = 10 * HOUR;
      const a = burstSchedule({ scheduled: [], random: cfg }, T0, createRandom(5)).randomBursts(T0, T0 + span);
      const lazy = burstSchedule({ scheduled: [], random: cfg }, T0, createRandom(5));
      for (let t = T0; t < T0 + span; t = lazy.nextChange(t)) lazy.inBurst(t);
      assert.deepEqual(lazy.randomBursts(T0, T0 + span), a);
      const other = burstSchedule({ scheduled: [], random: cfg }, T0, createRandom(6)).randomBursts(T0, T0 + span);
      assert.notDeepEqual(other, a);
    });

    it('answer before the start, and stay right over a long run (old bursts are forgotten)', () => {
      const early = burstSchedule({ scheduled: [], random: cfg }, T0, createRandom(5));
      assert.equal(early.inBurst(T0 - S), false);
      assert.equal(early.multiplierAt(T0 - S), 1);
      assert.ok(early.nextChange(T0 - S) > T0);
      const fast = { ...cfg, mean_gap: 5 * S, min_length: 100, max_length: 2 * S };
      const walked = burstSchedule({ scheduled: [], random: fast }, T0, createRandom(12));
      const reference = burstSchedule({ scheduled: [], random: fast }, T0, createRandom(12)).randomBursts(T0, T0 + 48 * HOUR);
      assert.ok(reference.length > 30000);
      let i = 0;
      let changes = 0;
      for (let t = T0; t < T0 + 48 * HOUR - 10 * S; t = walked.nextChange(t), changes++) {
        while (i < reference.length && reference[i]!.end <= t) i++;
        // Bursts here do not overlap often; when one is on at t, the walked schedule says so.
        const on = reference.slice(Math.max(0, i - 3), i + 3).some((b) => b.start <= t && t < b.end);
        if (on !== walked.inBurst(t)) assert.fail(`at ${t - T0}: ${walked.inBurst(t)} instead of ${on}`);
      }
      assert.ok(changes >= 2 * reference.length - 10);
    });

    it('multiply the rate while they last', () => {
      const stream = rateStream({ rate: 20, bursts: { scheduled: [], random: cfg }, startMs: T0, random: createRandom(11) });
      const span = 3 * HOUR;
      const all = collect(stream, T0, T0 + span, 2500);
      const bursts = stream.schedule.randomBursts(T0, T0 + span);
      let checked = 0;
      for (let i = 1; i + 1 < bursts.length; i++) {
        const b = bursts[i]!;
        if (bursts[i - 1]!.end > b.start || b.end > bursts[i + 1]!.start || b.end > T0 + span) continue; // overlaps
        checked++;
        const expected = (20 * b.multiplier * (b.end - b.start)) / S;
        assert.ok(Math.abs(countIn(all, b.start, b.end) - expected) <= 1, `burst ${i}`);
        assert.equal(stream.inBurst(b.start), true);
        assert.equal(stream.rateAt(b.start + 1), 20 * b.multiplier);
        assert.equal(stream.inBurst(b.end), false);
        assert.ok(Math.abs(countIn(all, b.end, bursts[i + 1]!.start) - (20 * (bursts[i + 1]!.start - b.end)) / S) <= 1);
      }
      assert.ok(checked > 50, `${checked} bursts checked`);
      assert.ok(Math.abs(all.length - stream.expected(T0, T0 + span)) <= 1);
    });
  });

  describe('sine profile', () => {
    const P = 60 * S;
    const A = 0.8;
    const rate = 1000;
    const quarter = (i: number): number => {
      // ∫ rate (1 + A sin(2π t / P)) over the i-th quarter, lines.
      const c = (x: number): number => Math.cos((2 * Math.PI * x) / 4);
      return (rate / S) * (P / 4 + ((A * P) / (2 * Math.PI)) * (c(i) - c(i + 1)));
    };

    it('gives each quarter period the lines of its integral', () => {
      const stream = rateStream({ rate, profile: { type: 'sine', period: P, amplitude: A, phase: 0 }, profileOrigin: T0, startMs: T0 });
      const all = collect(stream, T0, T0 + 10 * P, 333);
      assertSortedWithin(all, T0, T0 + 10 * P);
      for (let p = 0; p < 10; p++) {
        for (let q = 0; q < 4; q++) {
          const a = T0 + p * P + (q * P) / 4;
          const n = countIn(all, a, a + P / 4);
          assert.ok(Math.abs(n - quarter(q)) <= 1, `period ${p} quarter ${q}: ${n} lines, integral ${quarter(q)}`);
        }
      }
      assert.ok(quarter(0) > 22000 && quarter(2) < 7400); // the check above tells the quarters apart
      assert.ok(Math.abs(stream.rateAt(T0 + P / 4) - 1800) < 1e-6);
      assert.ok(Math.abs(stream.rateAt(T0 + (3 * P) / 4) - 200) < 1e-6);
      // Per second, the count follows the rate at the middle of the second.
      for (let s = 0; s < 120; s++) {
        const a = T0 + s * S;
        const n = countIn(all, a, a + S);
        assert.ok(Math.abs(n - stream.rateAt(a + S / 2)) <= 0.01 * stream.rateAt(a + S / 2) + 1, `second ${s}: ${n}`);
      }
    });

    it('measures t from the epoch by default, shifted by phase', () => {
      const day = 24 * HOUR;
      const stream = rateStream({ rate: 100, profile: { type: 'sine', period: day, amplitude: 0.5, phase: 6 * HOUR }, startMs: T0 + HOUR });
      assert.ok(Math.abs(stream.rateAt(T0 + 12 * HOUR) - 150) < 1e-9); // peak at noon UTC
      assert.ok(Math.abs(stream.rateAt(T0 + 24 * HOUR) - 50) < 1e-9); // trough at midnight
      assert.equal(stream.rateAt(T0), 0); // before the start
      const n = stream.due(T0 + 9 * HOUR, T0 + 15 * HOUR).length;
      const integral = 100 * (6 * 3600 + (0.5 * 86400) / (2 * Math.PI) * 2 * Math.sin(Math.PI / 4));
      assert.ok(Math.abs(n - integral) <= 1, `${n} vs ${integral}`);
    });

    it('with amplitude 1 reaches a rate of 0 and still counts exactly', () => {
      const stream = rateStream({ rate: 50, profile: { type: 'sine', period: 10 * S, amplitude: 1, phase: 0 }, profileOrigin: T0, startMs: T0 });
      const all = collect(stream, T0, T0 + 100 * S, 1000);
      assert.ok(Math.abs(all.length - 5000) <= 1);
      assert.equal(stream.rateAt(T0 + 7.5 * S), 0);
      assert.ok(countIn(all, T0 + 7.4 * S, T0 + 7.6 * S) <= 1);
    });
  });

  describe('interval streams', () => {
    const schedule = burstSchedule({ scheduled: [{ every: 60 * S, for: 10 * S, multiplier: 3 }] }, T0);

    it('draw gaps uniformly in interval, and in peak_interval while in a peak', () => {
      const stream = intervalStream({ level: 'error', interval: [1000, 3000], peak_interval: [100, 300], inPeak: (t) => schedule.inBurst(t), startMs: T0, random: createRandom(3) });
      assert.equal(stream.level, 'error');
      const times = collect(stream, T0, T0 + 6 * HOUR, 4321);
      const normal: number[] = [];
      const peak: number[] = [];
      let prev = T0;
      for (const t of times) {
        (schedule.inBurst(prev) ? peak : normal).push(t - prev);
        prev = t;
      }
      const stats = (g: number[]) => ({ min: Math.min(...g), max: Math.max(...g), mean: g.reduce((a, b) => a + b, 0) / g.length, n: g.length });
      const n = stats(normal);
      const p = stats(peak);
      assert.ok(n.min >= 1000 && n.min < 1010 && n.max <= 3000 && n.max > 2990, JSON.stringify(n));
      assert.ok(p.min >= 100 && p.min < 102 && p.max <= 300 && p.max > 298, JSON.stringify(p));
      // Uniform: mean (max+min)/2 within 4 standard errors (σ = width/√12).
      assert.ok(Math.abs(n.mean - 2000) < (4 * 2000) / Math.sqrt(12 * n.n), `normal mean ${n.mean}`);
      assert.ok(Math.abs(p.mean - 200) < (4 * 200) / Math.sqrt(12 * p.n), `peak mean ${p.mean}`);
      // Each burst holds about 10 s / 200 ms = 50 lines, the rest about 50 s / 2 s = 25.
      assert.ok(p.n > 6 * 60 * 40 && n.n < 6 * 60 * 30, `${p.n} peak gaps, ${n.n} normal gaps`);
      // Uniform spread: each tenth of the range holds about a tenth of the gaps.
      const bins = new Array<number>(10).fill(0);
      for (const g of normal) bins[Math.min(9, Math.floor((g - 1000) / 200))]!++;
      for (const b of bins) assert.ok(Math.abs(b - normal.length / 10) < 5 * Math.sqrt(normal.length / 10), `bins ${bins}`);
    });

    it('with nextPeakChange, switch to the peak range at the onset itself', () => {
      const stream = intervalStream({ interval: [20 * S, 40 * S], peak_interval: [100, 300], inPeak: (t) => schedule.inBurst(t), nextPeakChange: (t) => schedule.nextChange(t), startMs: T0, random: createRandom(4) });
      const times = collect(stream, T0, T0 + 2 * HOUR, 10 * S);
      let prev = T0;
      let cut = 0;
      for (const t of times) {
        const gap = t - prev;
        if (schedule.inBurst(prev)) assert.ok(gap >= 100 && gap <= 300);
        else {
          const onset = schedule.scheduledBursts(prev + 1e-6, t).map((b) => b.start)[0];
          if (onset !== undefined && onset > prev) {
            cut++;
            assert.ok(t - onset >= 100 && t - onset <= 300, `line ${t - T0} after onset ${onset - T0}`);
          } else assert.ok(gap >= 20 * S && gap <= 40 * S, `gap ${gap}`);
        }
        prev = t;
      }
      assert.ok(cut > 60, `${cut} gaps cut by an onset`);
      // Every burst has its first line within 300 ms of its onset.
      for (const b of schedule.scheduledBursts(T0, T0 + 2 * HOUR - MIN)) assert.ok(countIn(times, b.start, b.start + 300) >= 1);
    });

    it('without peak_interval ignore peaks; invalid ranges are refused', () => {
      const stream = intervalStream({ interval: [500, 500], inPeak: () => true, startMs: T0, random: createRandom(1) });
      assert.deepEqual(stream.due(T0, T0 + 2600), [T0 + 500, T0 + 1000, T0 + 1500, T0 + 2000, T0 + 2500]);
      assert.throws(() => intervalStream({ interval: [0, 0], startMs: T0, random: createRandom(1) }), RangeError);
      assert.throws(() => intervalStream({ interval: [3, 2], startMs: T0, random: createRandom(1) }), RangeError);
    });

    it('are deterministic per seed', () => {
      const make = (seed: number) => intervalStream({ interval: [10, 1000], startMs: T0, random: createRandom(seed) }).due(T0, T0 + HOUR);
      assert.deepEqual(make(8), make(8));
      assert.notDeepEqual(make(8), make(9));
    });
  });

  describe('heartbeat', () => {
    it('beats exactly every interval from one interval after the start, whatever the windows', () => {
      const stream = heartbeatStream({ interval: 5 * S, message: 'visor heartbeat', startMs: T0 });
      assert.deepEqual(stream.heartbeat, { message: 'visor heartbeat' });
      assert.deepEqual(stream.due(T0, T0 + 5 * S), []);
      assert.deepEqual(stream.due(T0 + 5 * S, T0 + 5 * S + 1), [T0 + 5 * S]);
      const random = createRandom(2);
      const times: number[] = [];
      for (let a = T0 + 5 * S + 1; a < T0 + HOUR; ) {
        const b = Math.min(T0 + HOUR, a + random.next() * 12 * S);
        times.push(...stream.due(a, b));
        a = b;
      }
      assert.deepEqual(times, Array.from({ length: 718 }, (_, i) => T0 + (i + 2) * 5 * S));
      // A window that skips ahead picks up from the first beat in it.
      assert.deepEqual(stream.due(T0 + 2 * HOUR + 1, T0 + 2 * HOUR + 12 * S), [T0 + 2 * HOUR + 5 * S, T0 + 2 * HOUR + 10 * S]);
    });
  });

  describe('mergeDue', () => {
    const fixed = (times: number[], extra: Partial<TrafficStream> = {}): TrafficStream => ({ ...extra, due: (a, b) => times.filter((t) => t >= a && t < b) });

    it('orders events by time, ties in stream order', () => {
      const a = fixed([1, 2, 2, 3]);
      const b = fixed([0, 2, 3, 9]);
      const c = fixed([2]);
      const merged = mergeDue([a, b, c], 0, 5);
      const name = (s: TrafficStream) => (s === a ? 'a' : s === b ? 'b' : 'c');
      assert.deepEqual(merged.map((e) => `${e.ts}${name(e.stream)}`), ['0b', '1a', '2a', '2a', '2b', '2c', '3a', '3b']);
      assert.deepEqual(mergeDue([fixed([]), a], 2, 3).map((e) => e.ts), [2, 2]);
    });

    it('merges 100k events a call quickly, keeping every stream whole', () => {
      const rate = rateStream({ rate: 100000, startMs: T0 });
      const errors = intervalStream({ level: 'error', interval: [1, 20], startMs: T0, random: createRandom(1) });
      const warns = intervalStream({ level: 'warn', interval: [1, 5], startMs: T0, random: createRandom(2) });
      const beat = heartbeatStream({ interval: 100, message: 'hb', startMs: T0 });
      let slowest = 0;
      for (let s = 0; s < 5; s++) {
        const began = performance.now();
        const merged = mergeDue([rate, errors, warns, beat], T0 + s * S, T0 + (s + 1) * S);
        slowest = Math.max(slowest, performance.now() - began);
        assert.ok(merged.length > 100000 + 200 + 10);
        for (let i = 1; i < merged.length; i++) if (merged[i]!.ts < merged[i - 1]!.ts) assert.fail(`out of order at ${i}`);
        assert.equal(merged.filter((e) => e.stream === beat).length, s === 0 ? 9 : 10); // from T0 + 100 ms
      }
      assert.ok(slowest < 500, `slowest merge ${slowest} ms`);
    });
  });

  describe('limits', () => {
    const line: TrafficStream = { due: () => [] };
    const beat: TrafficStream = { heartbeat: { message: 'hb' }, due: () => [] };
    const events = (spec: string, t0 = 0): DueEvent[] => [...spec].map((c, i) => ({ ts: t0 + i, stream: c === 'h' ? beat : line }));

    it('count: lets exactly count lines through, heartbeats not counted, nothing after the last', () => {
      const limits = new Limits({ count: 5, duration: 0, startMs: 0 });
      const first = limits.take(events('hllh'));
      assert.equal(first.events.length, 4);
      assert.equal(first.done, false);
      assert.equal(limits.remaining, 3);
      const second = limits.take(events('lhllhlh', 10));
      assert.deepEqual(second.events.map((e) => e.ts), [10, 11, 12, 13]);
      assert.equal(second.done, true);
      assert.equal(limits.lines, 5);
      assert.deepEqual(limits.take(events('lll', 20)), { events: [], done: true });
    });

    it('count: exact with a real stream and heartbeats', () => {
      const limits = new Limits({ count: 12345, duration: 0, startMs: T0 });
      const streams = [rateStream({ rate: 700, startMs: T0 }), heartbeatStream({ interval: 250, message: 'hb', startMs: T0 })];
      const kept: DueEvent[] = [];
      let done = false;
      for (let a = T0; !done; a += 333) {
        const taken = limits.take(mergeDue(streams, a, a + 333), a + 333);
        kept.push(...taken.events);
        done = taken.done;
      }
      const lines = kept.filter((e) => !e.stream.heartbeat);
      assert.equal(lines.length, 12345);
      assert.equal(kept.at(-1)!.stream.heartbeat, undefined); // the last allowed line ends it
      const last = lines.at(-1)!.ts;
      assert.equal(kept.filter((e) => e.stream.heartbeat).length, Math.floor((last - T0) / 250));
    });

    it('duration: only events before start + duration, and done once a window reaches it', () => {
      const limits = new Limits({ count: 0, duration: 10 * S, startMs: T0 });
      assert.equal(limits.endMs, T0 + 10 * S);
      assert.equal(limits.clamp(T0 + 60 * S), T0 + 10 * S);
      const streams = [rateStream({ rate: 10, startMs: T0 }), heartbeatStream({ interval: 5 * S, message: 'hb', startMs: T0 }), fixedAt(T0 + 10 * S - 0.001, T0 + 10 * S)];
      const kept: DueEvent[] = [];
      const a1 = limits.take(mergeDue(streams, T0, T0 + 6 * S), T0 + 6 * S);
      assert.equal(a1.done, false);
      kept.push(...a1.events);
      const a2 = limits.take(mergeDue(streams, T0 + 6 * S, T0 + 12 * S), T0 + 12 * S);
      assert.equal(a2.done, true);
      kept.push(...a2.events);
      assert.equal(kept.filter((e) => e.stream === streams[0]).length, 100);
      assert.deepEqual(kept.filter((e) => e.stream.heartbeat).map((e) => e.ts), [T0 + 5 * S]); // not the one at 10 s
      assert.deepEqual(kept.filter((e) => e.stream === streams[2]).map((e) => e.ts), [T0 + 10 * S - 0.001]);
      // A window that ends exactly at the end is the last.
      const exact = new Limits({ count: 0, duration: 10 * S, startMs: T0 });
      assert.equal(exact.take([], T0 + 9 * S).done, false);
      assert.equal(exact.take([], T0 + 10 * S).done, true);
    });

    function fixedAt(...times: number[]): TrafficStream {
      return { due: (a, b) => times.filter((t) => t >= a && t < b) };
    }
  });

  describe('clocks', () => {
    it('simulated at speed 60 runs 60× real time', async () => {
      const clock = simulatedClock(T0, 60);
      assert.equal(clock.instant, false);
      // Each simulated reading is bracketed by two real ones and set against their middle, so a pause between the
      // readings (two test files share the 2 cores) does not skew the ratio: a skew of 1.7 ms once read as 60.5x.
      const bracket = () => { const a = performance.now(); const sim = clock.now(); const b = performance.now(); return { sim, real: (a + b) / 2, spread: b - a }; };
      const start = bracket();
      assert.ok(start.sim - T0 < 60 * 5);
      await new Promise((r) => setTimeout(r, 200));
      const end = bracket();
      const real = end.real - start.real;
      const sim = end.sim - start.sim;
      // The readings' own spread bounds what the ratio can be off by.
      const slack = 0.5 + (60 * (start.spread + end.spread)) / real;
      assert.ok(Math.abs(sim / real - 60) < slack, `simulated ${sim} ms in ${real} ms real (slack ${slack.toFixed(2)})`);
      // sleepUntil: 6 s of simulated time is 100 ms real.
      const signal = new AbortController().signal;
      const target = clock.now() + 6 * S;
      const began = performance.now();
      await clock.sleepUntil(target, signal);
      const slept = performance.now() - began;
      assert.ok(clock.now() >= target);
      assert.ok(slept >= 95 && slept < 400, `slept ${slept} ms`); // not 6 s
    });

    it("'max' never sleeps: time jumps to what is asked for, a day of traffic in one go", async () => {
      const clock = simulatedClock(T0, 'max');
      assert.equal(clock.instant, true);
      assert.equal(clock.now(), T0);
      const signal = new AbortController().signal;
      const stream = rateStream({ rate: 10, startMs: T0 });
      const began = performance.now();
      let lines = 0;
      for (let t = T0; t < T0 + 24 * HOUR; ) {
        const next = t + MIN;
        // Resolved before anything queued on the event loop (a timer, an immediate) gets to run.
        const first = await Promise.race([clock.sleepUntil(next, signal).then(() => 'clock'), new Promise((r) => setImmediate(() => r('immediate')))]);
        assert.equal(first, 'clock');
        assert.equal(clock.now(), next);
        lines += stream.due(t, next).length;
        t = next;
      }
      assert.equal(lines, 864000);
      assert.ok(performance.now() - began < 2000);
      await clock.sleepUntil(T0, signal); // never back
      assert.equal(clock.now(), T0 + 24 * HOUR);
      assert.throws(() => simulatedClock(T0, 0), RangeError);
    });

    it('manual: sleepers wake when time is advanced past them, or when aborted', async () => {
      const clock = manualClock(T0);
      const controller = new AbortController();
      const woke: string[] = [];
      void clock.sleepUntil(T0 + 100, controller.signal).then(() => woke.push('100'));
      void clock.sleepUntil(T0 + 200, controller.signal).then(() => woke.push('200'));
      await clock.sleepUntil(T0, controller.signal); // already due
      await Promise.resolve();
      assert.deepEqual(woke, []);
      assert.equal(clock.sleepers, 2);
      clock.advance(99);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(woke, []);
      clock.advance(1);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(woke, ['100']);
      assert.equal(clock.now(), T0 + 100);
      controller.abort();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(woke, ['100', '200']);
      assert.equal(clock.sleepers, 0);
      assert.equal(clock.now(), T0 + 100);
    });

    it('real: follows Date.now, sleeps until the time and stops sleeping when aborted', async () => {
      const clock = realClock();
      assert.ok(Math.abs(clock.now() - Date.now()) < 5);
      const signal = new AbortController().signal;
      const target = clock.now() + 30;
      await clock.sleepUntil(target, signal);
      assert.ok(Date.now() >= target);
      const controller = new AbortController();
      const began = performance.now();
      setTimeout(() => controller.abort(), 20);
      await clock.sleepUntil(Date.now() + HOUR, controller.signal);
      assert.ok(performance.now() - began < 500);
    });
  });
});
