// The generator's randomness: a seeded PRNG (xoshiro128**, seeded through splitmix32: integer arithmetic
// only, so a seed gives the same sequence on every machine) and the distributions content and traffic draw
// from, each compiled once into tables so a draw costs O(1) or O(log n).
//
// Continuous draws go through Math.log/exp/sqrt/cos, which V8 implements in software (fdlibm ports), so they
// too are the same on every machine running the same Node major version.
import type { Random } from './contracts.js';

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const INV_TWO_POW_53 = 1 / 9007199254740992;

/** splitmix32: turns any 32-bit seed into well-mixed state words (and never gets stuck on zero). */
function splitmix32(state: { a: number }): number {
  state.a = (state.a + 0x9e3779b9) | 0;
  let t = state.a ^ (state.a >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

/** xoshiro128** (Blackman & Vigna): 128 bits of state, period 2^128 - 1, passes BigCrush. */
class Xoshiro128 implements Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number, state?: readonly [number, number, number, number]) {
    if (state) {
      [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w | 0);
      if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
      return;
    }
    // Every bit of an integer seed up to 2^53 counts: the high word is mixed in after the low one.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const st = { a: lo };
    splitmix32(st);
    st.a = (st.a ^ Math.imul(hi, 0x85ebca6b)) | 0;
    this.s0 = splitmix32(st) | 0;
    this.s1 = splitmix32(st) | 0;
    this.s2 = splitmix32(st) | 0;
    this.s3 = splitmix32(st) | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result >>> 0;
  }

  next(): number {
    return this.nextUint32() * INV_TWO_POW_32;
  }

  /** Uniform in [0, 1) with 53 bits: for tails (log of a tiny number) and large ranges. */
  next53(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) * INV_TWO_POW_53;
  }

  int(n: number): number {
    // One 32-bit draw is unbiased to within n / 2^32 per value; beyond 2^16 values use 53 bits.
    return n <= 65536 ? Math.floor(this.nextUint32() * INV_TWO_POW_32 * n) : Math.floor(this.next53() * n);
  }

  /** Box-Muller, both values used. */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u = 1 - this.next53(); // (0, 1]
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * v;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next53());
  }
}

/** A seeded PRNG; `seed` is an integer (its low 53 bits count). */
export function createRandom(seed: number): Random {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  return new Xoshiro128(Math.trunc(seed));
}

/** xoshiro128** started from a raw state (four 32-bit words, not all zero), bypassing the seeding: for checking
 * the generator against the reference implementation's output. */
export function xoshiro128FromState(state: readonly [number, number, number, number]): Random & { nextUint32(): number } {
  return new Xoshiro128(0, state);
}

/** An independent seed for a named sub-stream (e.g. 'traffic', 'content'), so one part drawing more or fewer
 * numbers never shifts the sequence of another. */
export function deriveSeed(seed: number, stream: string): number {
  let h = 0x811c9dc5; // FNV-1a over the name, then mixed with the seed
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193);
  const st = { a: (Math.trunc(seed) >>> 0) ^ h };
  const hi = splitmix32(st);
  const lo = splitmix32({ a: (Math.floor(Math.trunc(seed) / TWO_POW_32) >>> 0) ^ hi });
  return (hi & 0x1fffff) * TWO_POW_32 + lo; // 53 bits
}

/** Something that draws values using a Random. */
export interface Sampler<T> {
  sample(random: Random): T;
}

// ------------------------------------------------------------------------------------------ discrete tables

/** Walker's alias table (Vose's construction): any finite discrete distribution, one O(1) draw. */
class AliasTable {
  readonly size: number;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new RangeError('a weighted choice needs at least one entry');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i];
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weights must be finite and >= 0, got ${w}`);
      total += w;
    }
    if (!(total > 0)) throw new RangeError('weights must not all be 0');
    this.size = n;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i] / total) * n;
      (scaled[i] < 1 ? small : large).push(i);
    }
    while (small.length && large.length) {
      const l = small.pop()!;
      const g = large.pop()!;
      this.prob[l] = scaled[l];
      this.alias[l] = g;
      scaled[g] = scaled[g] + scaled[l] - 1;
      (scaled[g] < 1 ? small : large).push(g);
    }
    // What is left is 1 up to rounding.
    for (const i of large) { this.prob[i] = 1; this.alias[i] = i; }
    for (const i of small) { this.prob[i] = 1; this.alias[i] = i; }
  }

  index(random: Random): number {
    const n = this.size;
    let i: number;
    let f: number;
    if (n <= 65536) {
      // One draw: its integer part picks the column, the fraction (at least 16 bits) the side.
      const u = random.next() * n;
      i = u | 0;
      f = u - i;
    } else {
      i = random.int(n);
      f = random.next();
    }
    return f < this.prob[i] ? i : this.alias[i];
  }
}

/** Picks one of `entries` with probability proportional to its weight (alias method: O(1) a draw). */
export class WeightedPicker<T> implements Sampler<T> {
  readonly values: readonly T[];
  private readonly table: AliasTable;

  constructor(entries: Array<[T, number]>) {
    this.values = entries.map((e) => e[0]);
    this.table = new AliasTable(entries.map((e) => e[1]));
  }

  sample(random: Random): T {
    return this.values[this.table.index(random)];
  }

  /** The index of the entry picked, for callers that keep parallel arrays. */
  sampleIndex(random: Random): number {
    return this.table.index(random);
  }
}

export function weightedPicker<T>(entries: Array<[T, number]>): WeightedPicker<T> {
  return new WeightedPicker(entries);
}

/** An index in [0, cdf.length) by binary search for the first cumulative probability above u. */
function searchCdf(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Zipf over ranks 0..n-1: P(k) ∝ 1 / (k + 1)^s. A precomputed CDF and binary search (n = 1e6: 8 MB, 20 steps). */
export class ZipfSampler implements Sampler<number> {
  private readonly cdf: Float64Array;

  constructor(readonly n: number, readonly s: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf needs n >= 1, got ${n}`);
    if (!(s >= 0) || !Number.isFinite(s)) throw new RangeError(`zipf needs an exponent s >= 0, got ${s}`);
    const cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) cdf[k] = sum += Math.pow(k + 1, -s);
    for (let k = 0; k < n; k++) cdf[k] /= sum;
    cdf[n - 1] = 1;
    this.cdf = cdf;
  }

  sample(random: Random): number {
    return searchCdf(this.cdf, random.next());
  }
}

export function zipfSampler(n: number, s: number): ZipfSampler {
  return new ZipfSampler(n, s);
}

/**
 * Binomial(n, p), exactly: the probability mass function is built once from the mode outwards with the ratio
 * P(k+1)/P(k) = (n-k)/(k+1) · p/(1-p) (no factorials, no overflow), cut where it falls below 1e-20 of the
 * mode (mass beyond that is far below anything a sample could show), and drawn by inversion over its CDF with
 * a binary search: O(n) once (less with the cut), O(log n) a draw, whatever n·p.
 */
export class BinomialSampler implements Sampler<number> {
  private readonly cdf: Float64Array;
  private readonly first: number;

  constructor(readonly n: number, readonly p: number) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`binomial needs an integer n >= 0, got ${n}`);
    if (!(p >= 0 && p <= 1)) throw new RangeError(`binomial needs 0 <= p <= 1, got ${p}`);
    if (p === 0 || p === 1 || n === 0) {
      this.first = p === 1 ? n : 0;
      this.cdf = Float64Array.of(1);
      return;
    }
    const mode = Math.min(n, Math.floor((n + 1) * p));
    const odds = p / (1 - p);
    const CUT = 1e-20;
    const up: number[] = [];
    for (let k = mode, v = 1; k < n; k++) {
      v *= ((n - k) / (k + 1)) * odds;
      if (v < CUT) break;
      up.push(v);
    }
    const down: number[] = [];
    for (let k = mode, v = 1; k > 0; k--) {
      v *= (k / (n - k + 1)) / odds;
      if (v < CUT) break;
      down.push(v);
    }
    this.first = mode - down.length;
    const pmf = [...down.reverse(), 1, ...up];
    const cdf = new Float64Array(pmf.length);
    let sum = 0;
    for (let i = 0; i < pmf.length; i++) cdf[i] = sum += pmf[i];
    for (let i = 0; i < pmf.length; i++) cdf[i] /= sum;
    cdf[pmf.length - 1] = 1;
    this.cdf = cdf;
  }

  sample(random: Random): number {
    return this.first + searchCdf(this.cdf, random.next());
  }
}

export function binomialSampler(n: number, p: number): BinomialSampler {
  return new BinomialSampler(n, p);
}

// ---------------------------------------------------------------------------------------------- continuous

/** Log-normal with the given median (e^mu) and sigma (of the underlying normal). */
export class LogNormalSampler implements Sampler<number> {
  constructor(readonly median: number, readonly sigma: number) {
    if (!(median > 0) || !(sigma >= 0)) throw new RangeError(`log-normal needs median > 0 and sigma >= 0, got ${median}, ${sigma}`);
  }

  sample(random: Random): number {
    return this.median * Math.exp(this.sigma * random.normal());
  }
}

export function logNormal(median: number, sigma: number): LogNormalSampler {
  return new LogNormalSampler(median, sigma);
}

/** Uniform integer in [0, n). */
export function uniformInt(n: number): Sampler<number> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`uniformInt needs n >= 1, got ${n}`);
  return { sample: (random) => random.int(n) };
}

/** Uniform real in [min, max). */
export function uniform(min: number, max: number): Sampler<number> {
  if (!(max >= min)) throw new RangeError(`uniform needs min <= max, got ${min}, ${max}`);
  const width = max - min;
  return { sample: (random) => min + random.next() * width };
}
