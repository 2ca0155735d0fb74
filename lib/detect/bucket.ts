// A leaky bucket (CrowdSec's semantics): each matching event pours one unit in, one unit leaks out every `leak` ms
// of event time, and the bucket overflows (the rule fires) when it holds more than `capacity`. Time is the events'
// own (their timestamp), so replaying a day of logs detects what live tailing would, and tests need no clock.
// For `quiet` after firing the bucket does not fill: its matches are counted, with samples, for a digest (the
// detector's) or else the next firing's quiet_matches. Once digested, a quiet period's totals stay in the bucket
// until the detector forgets them (forgetQuiet), so that a line of that period arriving late (Apache writes a line
// when its request ends, stamped with its start) adds to them and the digest is reported again, amended.
import { detachString } from '../../core/index.js';
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

/** The matches of the current quiet period, all of them, and how many a digest reported already. */
interface HeldQuiet<S> extends QuietMatches<S> {
  reported: number;
  /** `first` when the first digest reported them: the period's identity (a store row's first_time), kept by the
   * amended digests although a late line may be older. */
  since: number;
}

/** What a digest reports: every match of the period so far. `amended`: a digest of this period was reported before
 * (the same `since`), this one adds the matches counted since. */
export interface DigestedMatches<S = string> extends QuietMatches<S> {
  since: number;
  amended: boolean;
}

const kept = (v: unknown): unknown => (typeof v === 'string' ? detachString(v) : v);
/** Set's equality (NaN equals NaN), for the first value held outside a Set. */
const sameValueZero = (a: unknown, b: unknown): boolean => a === b || (a !== a && b !== b);

export class Bucket<S = string> {
  private level = 0;
  private count = 0;
  private last = 0;
  private first = 0;
  private quietEnd = 0;
  private quiet?: HeldQuiet<S>;
  /** Whether the detector holds this bucket's quiet matches for a digest (set and cleared by it). */
  awaitingDigest = false;
  /** The first samples of the fill: `taken` samples, then the items of this batch whose samples are not taken yet
   * (one array: a second per bucket would cost memory for every client held). Most fills of aggressive-crawl leak
   * empty before the client's next request, and their samples were copied (describeEvent detaches the line) only
   * to be dropped: 0.62 copies per event on the generated day, 0.24 taken at the batch's end. */
  private samples: unknown[] = [];
  private taken = 0;
  /** Whether the detector lists this bucket among those to settle at the end of its batch (set and cleared by it). */
  settling = false;
  /** The distinct values poured since the bucket was last empty: the first alone, then a Set from the second on.
   * aggressive-crawl pours nearly every non-static request, and most clients' buckets have leaked empty by their
   * next one, so most fills hold one value: no Set is made for them. Strings are stored detached (a path is cut out
   * of a read chunk, and a kept view would keep the whole chunk alive for as long as the bucket lives). */
  private firstValue: unknown;
  private values = 0;
  private seen?: Set<unknown>;

  /** Pours one match at time `t` (`item`: what `sampleOf` takes evidence from, asked only while samples are
   * kept); returns what overflowed, if it did. `defer`: the item stays valid until settle() is called (the end of
   * the detector's batch), so its sample may be taken then, or never if the fill leaks empty before. */
  pour<T>(rule: CompiledRule, t: number, item: T, sampleOf: (item: T) => S, maxSamples: number, distinctValue?: unknown, defer = false): Overflow<S> | undefined {
    if (t < this.last) t = this.last; // out of order lines: never leak backwards
    if (t < this.quietEnd) {
      const q = (this.quiet ??= { count: 0, first: t, last: t, samples: [], reported: 0, since: t });
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
    if (rule.distinct && !this.addDistinct(distinctValue)) return undefined;
    if (this.count === 0) this.first = t;
    this.level++;
    this.count++;
    if (this.samples.length < maxSamples) {
      this.samples.push(item);
      if (!defer) this.settle(sampleOf);
    }
    if (this.level <= rule.capacity) return undefined;
    this.settle(sampleOf);
    const overflow: Overflow<S> = {
      count: this.count, first: this.first, last: t, samples: this.samples as S[], distinct: this.values, quiet_matches: this.quiet ? this.quiet.count - this.quiet.reported : 0,
    };
    this.level = 0;
    this.samples = []; // handed out with the overflow
    this.taken = 0;
    this.reset();
    this.quiet = undefined;
    this.quietEnd = t + rule.quiet;
    return overflow;
  }

  /** Whether items wait for their samples to be taken (settle). */
  get hasPending(): boolean {
    return this.taken < this.samples.length;
  }

  /** Takes the samples of the items that wait for it, in pour order. */
  settle<T>(sampleOf: (item: T) => S): void {
    const samples = this.samples;
    for (let i = this.taken; i < samples.length; i++) samples[i] = sampleOf(samples[i] as T);
    this.taken = samples.length;
  }

  /** When the quiet period after the last firing ends (event time; 0 before any firing). */
  get quietUntil(): number {
    return this.quietEnd;
  }

  /** Whether matches of the current quiet period wait to be reported. */
  get hasQuietMatches(): boolean {
    return this.quiet !== undefined && this.quiet.count > this.quiet.reported;
  }

  /** The quiet matches for a digest (all of the period's, copied: the bucket keeps them for a late line to add to),
   * undefined when none is new since the last. Reported there, they are not counted again in the next firing. */
  takeQuiet(): DigestedMatches<S> | undefined {
    const q = this.quiet;
    if (q === undefined || q.count === q.reported) return undefined;
    const amended = q.reported > 0;
    if (!amended) q.since = q.first;
    q.reported = q.count;
    return { count: q.count, first: q.first, last: q.last, samples: q.samples.slice(), since: q.since, amended };
  }

  /** Drops the totals of the quiet period ending at `quietUntil` once all were reported (a later period's, or
   * matches still waiting for their digest, are kept). A line of that period arriving after it starts a digest of
   * its own. */
  forgetQuiet(quietUntil: number): void {
    const q = this.quiet;
    if (q !== undefined && this.quietEnd === quietUntil && q.count === q.reported) this.quiet = undefined;
  }


  /** Whether `v` is new in the bucket (then it is kept). capacity + 1 values are enough to overflow, so at most
   * that many are ever kept. */
  private addDistinct(v: unknown): boolean {
    if (this.values === 0) this.firstValue = kept(v);
    else if (this.seen === undefined) {
      if (sameValueZero(this.firstValue, v)) return false;
      this.seen = new Set([this.firstValue, kept(v)]);
    } else {
      if (this.seen.has(v)) return false;
      this.seen.add(kept(v));
    }
    this.values++;
    return true;
  }

  /** Empties the bucket, keeping its arrays for the next fill (a leaked-empty bucket refills at once in a crawl). */
  private reset(): void {
    this.count = 0;
    // at most `samples` (3) entries; setting length is a runtime call (2% of the detect profile)
    while (this.samples.length > 0) this.samples.pop();
    this.taken = 0;
    this.values = 0;
    this.firstValue = undefined;
    this.seen = undefined;
  }
}
