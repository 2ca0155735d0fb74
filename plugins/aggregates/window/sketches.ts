// Small streaming summaries used by the window aggregate: top-N (exact, then Space-Saving), distinct counts
// (exact, then HyperLogLog) and percentiles (a log-bucketed sketch with bounded relative error).
import { detachString } from '../../../core/index.js';

/** Top-N counter: exact while at most `capacity` distinct values were seen, then Space-Saving
 * (Metwally et al.): the least counted value is replaced and the newcomer inherits its count as error.
 * Counts are plain numbers in the map (no object per distinct value): a window's counters are built for
 * every window and group, so they should cost as little as the values themselves. */

export class TopCounter {
  private readonly counts = new Map<string, number>();
  /** Upper bound on how much any reported count exceeds the true one (0 while exact). */
  errorBound = 0;
  constructor(private readonly capacity: number) {}

  add(value: string): void {
    const count = this.counts.get(value);
    if (count !== undefined) {
      this.counts.set(value, count + 1);
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(detachString(value), 1);
      return;
    }
    // The first least counted value (in insertion order) makes room; the newcomer inherits its count.
    let minKey = '';
    let min = Infinity;
    this.counts.forEach((c, k) => {
      if (c < min) {
        min = c;
        minKey = k;
      }
    });
    this.counts.delete(minKey);
    this.counts.set(detachString(value), min + 1);
    if (min > this.errorBound) this.errorBound = min;
  }

  /** The n most counted values, by count (descending) then value; a bounded selection, not a full sort. */
  top(n: number): Array<{ value: string; count: number }> {
    const keys: string[] = [];
    const counts: number[] = [];
    this.counts.forEach((c, k) => {
      if (keys.length === n) {
        const lastCount = counts[n - 1];
        if (c < lastCount || (c === lastCount && k > keys[n - 1])) return;
        keys.pop();
        counts.pop();
      }
      let i = keys.length;
      while (i > 0 && (counts[i - 1] < c || (counts[i - 1] === c && keys[i - 1] > k))) i--;
      keys.splice(i, 0, k);
      counts.splice(i, 0, c);
    });
    return keys.map((value, i) => ({ value, count: counts[i] }));
  }
}

function murmur32(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= s.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export const HLL_BITS = 12;
/** Exact distinct counting up to this many values, then HyperLogLog (2^12 registers, ~1.6% standard error). */
export const DISTINCT_EXACT_LIMIT = 4096;

export class DistinctCounter {
  private exact: Set<string> | undefined = new Set();
  private registers: Uint8Array | undefined;

  add(value: string): void {
    if (this.exact) {
      this.exact.add(value);
      if (this.exact.size <= DISTINCT_EXACT_LIMIT) return;
      this.registers = new Uint8Array(1 << HLL_BITS);
      for (const v of this.exact) this.addHll(v);
      this.exact = undefined;
      return;
    }
    this.addHll(value);
  }

  get exactCount(): boolean {
    return this.exact !== undefined;
  }

  private addHll(value: string): void {
    const index = murmur32(value, 0x9747b28c) & ((1 << HLL_BITS) - 1);
    const w = murmur32(value, 0x5bd1e995);
    const rank = w === 0 ? 33 : Math.clz32(w) + 1;
    if (rank > this.registers![index]) this.registers![index] = rank;
  }

  count(): number {
    if (this.exact) return this.exact.size;
    const m = 1 << HLL_BITS;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers!) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    let estimate = (alpha * m * m) / sum;
    if (estimate <= 2.5 * m && zeros > 0) estimate = m * Math.log(m / zeros);
    return Math.round(estimate);
  }
}

/** Relative accuracy of the percentile sketch: a reported percentile is within 1% of a value of the
 * right rank (DDSketch-style logarithmic buckets; zero and negative values are kept in their own buckets). */
export const PERCENTILE_RELATIVE_ERROR = 0.01;
const GAMMA = (1 + PERCENTILE_RELATIVE_ERROR) / (1 - PERCENTILE_RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);

export class QuantileSketch {
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  private zeros = 0;
  n = 0;

  add(x: number): void {
    this.n++;
    if (x === 0) this.zeros++;
    else if (x > 0) {
      const k = Math.ceil(Math.log(x) / LOG_GAMMA);
      this.positive.set(k, (this.positive.get(k) ?? 0) + 1);
    } else {
      const k = Math.ceil(Math.log(-x) / LOG_GAMMA);
      this.negative.set(k, (this.negative.get(k) ?? 0) + 1);
    }
  }

  /** The value at percentile p (0..100), nearest-rank; null when empty. */
  quantile(p: number): number | null {
    if (this.n === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    const value = (k: number) => (2 * GAMMA ** k) / (GAMMA + 1);
    let seen = 0;
    for (const k of [...this.negative.keys()].sort((a, b) => b - a)) {
      seen += this.negative.get(k)!;
      if (seen >= rank) return -value(k);
    }
    seen += this.zeros;
    if (seen >= rank) return 0;
    for (const k of [...this.positive.keys()].sort((a, b) => a - b)) {
      seen += this.positive.get(k)!;
      if (seen >= rank) return value(k);
    }
    return null;
  }
}
