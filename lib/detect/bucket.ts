// A leaky bucket (CrowdSec's semantics): each matching event pours one unit in, one unit leaks out every `leak` ms
// of event time, and the bucket overflows (the rule fires) when it holds more than `capacity`. Time is the events'
// own (their timestamp), so replaying a day of logs detects what live tailing would, and tests need no clock.
import type { CompiledRule } from './rule.js';

/** What a bucket held when it overflowed. `S`: a sample of evidence (the detect aggregate's: a line; `visor
 * analyze`'s: a line, or where to read it from the file once the alert is known). */
export interface Overflow<S = string> {
  count: number;
  first: number;
  last: number;
  samples: S[];
  distinct: number;
  /** Matches dropped during the quiet period before this firing. */
  quiet_matches: number;
}

export class Bucket<S = string> {
  private level = 0;
  private count = 0;
  private last = 0;
  private first = 0;
  private quietUntil = 0;
  private quietMatches = 0;
  private samples: S[] = [];
  private seen?: Set<unknown>;

  /** Pours one match at time `t` (`item`: what `sampleOf` takes evidence from, asked only while samples are
   * kept); returns what overflowed, if it did. */
  pour<T>(rule: CompiledRule, t: number, item: T, sampleOf: (item: T) => S, maxSamples: number, distinctValue?: unknown): Overflow<S> | undefined {
    if (t < this.last) t = this.last; // out of order lines: never leak backwards
    if (t < this.quietUntil) {
      this.quietMatches++;
      return undefined;
    }
    if (this.level > 0) {
      this.level = Math.max(0, this.level - (t - this.last) / rule.leak);
      if (this.level === 0) this.reset();
    }
    this.last = t;
    if (rule.distinct) {
      this.seen ??= new Set();
      if (this.seen.has(distinctValue)) return undefined;
      // capacity + 1 values are enough to overflow, so the set never grows beyond it
      this.seen.add(distinctValue);
    }
    if (this.count === 0) this.first = t;
    this.level++;
    this.count++;
    if (this.samples.length < maxSamples) this.samples.push(sampleOf(item));
    if (this.level <= rule.capacity) return undefined;
    const overflow: Overflow<S> = {
      count: this.count, first: this.first, last: t, samples: this.samples, distinct: this.seen?.size ?? 0, quiet_matches: this.quietMatches,
    };
    this.level = 0;
    this.reset();
    this.quietMatches = 0;
    this.quietUntil = t + rule.quiet;
    return overflow;
  }

  private reset(): void {
    this.count = 0;
    this.samples = [];
    this.seen = undefined;
  }
}
