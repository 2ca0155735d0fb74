// A leaky bucket (CrowdSec's semantics): each matching event pours one unit in, one unit leaks out every `leak` ms
// of event time, and the bucket overflows (the rule fires) when it holds more than `capacity`. Time is the events'
// own (their timestamp), so replaying a day of logs detects what live tailing would, and tests need no clock.
// For `quiet` after firing the bucket does not fill: its matches are counted, with samples, for a digest (the
// detector's) or else the next firing's quiet_matches.
import type { CompiledRule } from './rule.js';

/** Matches poured into a bucket during its quiet period, not reported yet. `S`: a sample of evidence (the detect
 * aggregate's: a line; `visor analyze`'s: a line, or where to read it from the file once it is known to be kept). */
export interface QuietMatches<S = string> {
  count: number;
  first: number;
  last: number;
  samples: S[];
}

/** What a bucket held when it overflowed. */
export interface Overflow<S = string> {
  count: number;
  first: number;
  last: number;
  samples: S[];
  distinct: number;
  /** Matches counted during the quiet period before this firing and not reported by a digest. */
  quiet_matches: number;
}

export class Bucket<S = string> {
  private level = 0;
  private count = 0;
  private last = 0;
  private first = 0;
  private quietEnd = 0;
  private quiet?: QuietMatches<S>;
  /** Whether the detector holds this bucket's quiet matches for a digest (set and cleared by it). */
  awaitingDigest = false;
  private samples: S[] = [];
  private seen?: Set<unknown>;

  /** Pours one match at time `t` (`item`: what `sampleOf` takes evidence from, asked only while samples are
   * kept); returns what overflowed, if it did. */
  pour<T>(rule: CompiledRule, t: number, item: T, sampleOf: (item: T) => S, maxSamples: number, distinctValue?: unknown): Overflow<S> | undefined {
    if (t < this.last) t = this.last; // out of order lines: never leak backwards
    if (t < this.quietEnd) {
      const q = (this.quiet ??= { count: 0, first: t, last: t, samples: [] });
      q.count++;
      // Lines of two logs (access, error) interleave a little out of order: first and last bound them all.
      if (t < q.first) q.first = t;
      else if (t > q.last) q.last = t;
      if (q.samples.length < maxSamples) q.samples.push(sampleOf(item));
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
      count: this.count, first: this.first, last: t, samples: this.samples, distinct: this.seen?.size ?? 0, quiet_matches: this.quiet?.count ?? 0,
    };
    this.level = 0;
    this.reset();
    this.quiet = undefined;
    this.quietEnd = t + rule.quiet;
    return overflow;
  }

  /** When the quiet period after the last firing ends (event time; 0 before any firing). */
  get quietUntil(): number {
    return this.quietEnd;
  }

  /** Whether matches of the current quiet period wait to be reported. */
  get hasQuietMatches(): boolean {
    return this.quiet !== undefined;
  }

  /** Takes the quiet matches for a digest: reported there, they are not counted again in the next firing. */
  takeQuiet(): QuietMatches<S> | undefined {
    const q = this.quiet;
    this.quiet = undefined;
    return q;
  }

  private reset(): void {
    this.count = 0;
    this.samples = [];
    this.seen = undefined;
  }
}
