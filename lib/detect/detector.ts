// Runs compiled rules over events: one bucket per rule, client and vhost, held in a capped cache of clients (least
// recently seen go first, lib/insight's RecentCache), so memory stays bounded under a flood of distinct addresses.
// With digests on, a bucket that counted matches during its quiet period is queued until that period ends in event
// time: when the newest event time seen (the watermark) passes its end, a digest reports them, so a client that
// keeps attacking below the quiet period is reported although its bucket never overflows again. A digested period's
// totals are held for as long again as the rule's quiet (event time, at most maxClients periods: the oldest goes
// first): a line of that period that arrives after its digest (a slow request's, stamped with its start; a line of
// the other log read a batch later) waits as any quiet match does, and since its period has ended it is released at
// the next advance of the watermark (a newer event, the idle clock, the flush): the period's digest again, amended,
// with the same identity (rule, client, vhost, `since`), which the store upserts over the first. Released there and
// not at once, the late lines between two advances make one digest, not one each (released at once, the crawler's
// 219 pages read after a newer line in test/detect.test.ts made 219 digests), and it depends on the order of the
// matches only, as every digest (threads 1, 2, 3 alike).
// Later than that horizon, a late line's matches start a digest of their own (a second row for the period: their
// count is not in the first).
// The work is in two halves: match (the rules' conditions, the costly part: their regexes) and pour (the buckets and
// the watermark, which depend on the order of the matches). process does both for an event; `visor analyze` matches
// in its worker threads and pours their matches in file order in one thread (lib/analyze/detect.ts), and the detect
// aggregate with service.threads > 1 matches in the parser's worker threads and pours on the main thread
// (plugins/aggregates/detect/split.ts).
import { detachString, type Event } from '../../core/index.js';
import { RecentCache } from '../insight/index.js';
import type { AllowList } from './allow.js';
import { Bucket, type DigestedMatches, type Overflow } from './bucket.js';
import { DueQueue } from './due.js';
import type { CompiledRule } from './rule.js';
import { RuleShapes } from './shape.js';

interface Who {
  rule: CompiledRule;
  client_ip: string | null;
  vhost: string | null;
}

export interface Detection<S = string> extends Overflow<S>, Who {
  state: 'firing';
}

/** The matches of one quiet period. `ended`: the quiet period ended (false: reported early, at flush or when
 * `maxClients` quiet periods were waiting). `amended`: it was reported before (same `since`), with fewer. */
export interface QuietDigest<S = string> extends DigestedMatches<S>, Who {
  state: 'digest';
  quietUntil: number;
  ended: boolean;
}

export type DetectorResult<S = string> = Detection<S> | QuietDigest<S>;

export interface DetectorOptions<T, S> {
  maxClients: number;
  samples: number;
  /** Report the matches of each quiet period in a digest when it ends (else in the next firing's quiet_matches). */
  digests: boolean;
  /** A sample of evidence from what was poured (the detect aggregate: describeEvent of the event). */
  sampleOf: (item: T) => S;
}

interface Waiting<S> extends Who {
  due: number;
  bucket: Bucket<S>;
}

/** A digested period whose totals the bucket holds for late lines, until event time passes `due`. */
interface Held<S> {
  due: number;
  bucket: Bucket<S>;
  quietUntil: number;
}

/** What identifies a quiet period's digest, amended or not (the store's key: rule, group, state, since). */
export const digestIdentity = (d: QuietDigest<unknown>): string => `${d.rule.name}\n${d.client_ip ?? ''}\n${d.vhost ?? ''}\n${d.since}`;
/** The client or vhost of an event as the buckets key it: a non-empty string, else null. */
export const keyOf = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
/** The time an event pours at and advances the watermark to: its timestamp, else now (never for the Apache parsers). */
export const eventTime = (e: Event): number => (typeof e.timestamp === 'number' ? e.timestamp : Date.now());
const detached = (s: string | null) => (s === null ? null : detachString(s));

export class Detector<T = Event, S = string> {
  private readonly clients: RecentCache<string, (Bucket<S> | undefined)[]>;
  private readonly waiting = new DueQueue<Waiting<S>>();
  private readonly held = new DueQueue<Held<S>>();
  private readonly matched: number[] = [];
  private readonly shapes: RuleShapes;
  /** processBatch: whether the items poured stay valid to the batch's end, and the buckets whose samples wait for it. */
  private deferring = false;
  private readonly settling: Bucket<S>[] = [];
  private readonly newBuckets = (): (Bucket<S> | undefined)[] => [];
  /** The newest event time seen: quiet periods that ended before it are reported. */
  private watermark = -Infinity;
  allowed = 0;

  constructor(readonly rules: readonly CompiledRule[], private readonly allow: AllowList, private readonly options: DetectorOptions<T, S>) {
    this.clients = new RecentCache(options.maxClients);
    this.shapes = new RuleShapes(rules);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The newest event time seen (-Infinity before any event): where advance() has taken the watermark. */
  get eventTime(): number {
    return this.watermark;
  }

  /** Quiet periods whose matches wait for their digest. */
  get waitingDigests(): number {
    return this.waiting.size;
  }

  /** Digested quiet periods whose totals are held for an amended digest (at most maxClients). */
  get heldDigests(): number {
    return this.held.size;
  }

  /** The indexes of the rules `e` matches, in rule order, into `into` (emptied first); none when an allow-list
   * allows the event (counted in `allowed`). */
  match(e: Event, into: number[]): void {
    // Emptied by pop: setting length is a runtime call (4.2% of the detect profile; most events match one rule).
    while (into.length > 0) into.pop();
    this.shapes.match(e, into);
    if (into.length > 0 && this.allow.allows(e)) {
      this.allowed++;
      while (into.length > 0) into.pop();
    }
  }

  /** Event time reached `t`: pushes the digests of the quiet periods it ends to `out`. */
  advance(t: number, out: DetectorResult<S>[]): void {
    if (t > this.watermark) {
      this.watermark = t;
      const next = this.waiting.peek();
      if (next !== undefined && next.due <= t) this.release(t, out);
      const old = this.held.peek();
      if (old !== undefined && old.due < t) this.forget(t);
    }
  }

  /** Pours one match of rule `r` (by index) at time `t` into the bucket of its client and vhost (advance first);
   * pushes an overflow to `out`. */
  pour(r: number, client: string | null, vhost: string | null, t: number, distinctValue: unknown, item: T, out: DetectorResult<S>[]): void {
    const buckets = this.clients.get(vhost === null ? client ?? '' : `${client ?? ''}\n${vhost}`, this.newBuckets);
    const rule = this.rules[r]!;
    const bucket = (buckets[r] ??= new Bucket<S>());
    const o = bucket.pour(rule, t, item, this.options.sampleOf, this.options.samples, distinctValue, this.deferring);
    if (this.deferring && !bucket.settling && bucket.hasPending) {
      bucket.settling = true;
      this.settling.push(bucket);
    }
    if (o) out.push({ ...o, state: 'firing', rule, client_ip: detached(client), vhost: detached(vhost) });
    else if (this.options.digests && !bucket.awaitingDigest && bucket.hasQuietMatches) this.wait(bucket, rule, client, vhost, out);
  }

  /** Both halves for one event: its time advances the watermark (the digests it ends come before its own
   * results), then it is poured into the buckets of the rules it matches. */
  process(this: Detector<Event, S>, e: Event, out: DetectorResult<S>[]): void {
    const t = eventTime(e);
    this.advance(t, out);
    const matched = this.matched;
    this.match(e, matched);
    if (matched.length === 0) return;
    const client = keyOf(e.client_ip);
    const vhost = keyOf(e.vhost);
    for (let k = 0; k < matched.length; k++) {
      const r = matched[k]!;
      this.pour(r, client, vhost, t, this.rules[r]!.distinct?.(e), e, out);
    }
  }

  /** process() for each event of a batch but heartbeats, the samples of evidence taken at the batch's end from the
   * events still in a fill (the batch holds them until then): a fill that leaks empty before the batch ends takes
   * none (most do on a benign day: 0.65 copies of a line per event were taken and dropped). The alerts, with their
   * samples, are those process() gives. */
  processBatch(this: Detector<Event, S>, events: readonly Event[], out: DetectorResult<S>[]): void {
    this.deferring = true;
    try {
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        if (e.heartbeat !== true) this.process(e, out);
      }
    } finally {
      this.deferring = false;
      const sampleOf = this.options.sampleOf;
      for (const b of this.settling) {
        b.settling = false;
        b.settle(sampleOf);
      }
      this.settling.length = 0;
    }
  }

  /** At shutdown: every quiet period still waiting is reported as it stands, so no counted match goes unsaid. */
  flush(out: DetectorResult<S>[]): void {
    this.release(Infinity, out);
  }

  private wait(bucket: Bucket<S>, rule: CompiledRule, client: string | null, vhost: string | null, out: DetectorResult<S>[]): void {
    // Bounded as the clients are: at the cap, the period ending first is reported now (its later matches, if any,
    // wait again), so a flood of attackers cannot grow the queue.
    if (this.waiting.size >= this.options.maxClients) this.report(this.waiting.pop()!, false, out);
    bucket.awaitingDigest = true;
    this.waiting.push({ due: bucket.quietUntil, bucket, rule, client_ip: detached(client), vhost: detached(vhost) });
  }

  private release(until: number, out: DetectorResult<S>[]): void {
    for (let w = this.waiting.peek(); w !== undefined && w.due <= until; w = this.waiting.peek()) {
      this.waiting.pop();
      this.report(w, w.due <= this.watermark, out);
    }
  }

  private report(w: Waiting<S>, ended: boolean, out: DetectorResult<S>[]): void {
    w.bucket.awaitingDigest = false;
    const q = w.bucket.takeQuiet();
    if (!q) return;
    out.push({ ...q, state: 'digest', rule: w.rule, client_ip: w.client_ip, vhost: w.vhost, quietUntil: w.due, ended });
    if (!q.amended) this.hold(w.bucket, w.due, w.rule.quiet);
  }

  /** Holds a period's totals, once digested, until event time passes its end by `quiet` more. Bounded as the
   * waiting periods are: at the cap, the oldest is forgotten now. */
  private hold(bucket: Bucket<S>, quietUntil: number, quiet: number): void {
    if (this.held.size >= this.options.maxClients) {
      const old = this.held.pop()!;
      old.bucket.forgetQuiet(old.quietUntil);
    }
    this.held.push({ due: quietUntil + quiet, bucket, quietUntil });
  }

  private forget(until: number): void {
    for (let h = this.held.peek(); h !== undefined && h.due < until; h = this.held.peek()) {
      this.held.pop();
      h.bucket.forgetQuiet(h.quietUntil);
    }
  }
}
