// Runs compiled rules over events: one bucket per rule, client and vhost, held in a capped cache of clients (least
// recently seen go first, lib/insight's RecentCache), so memory stays bounded under a flood of distinct addresses.
// With digests on, a bucket that counted matches during its quiet period is queued until that period ends in event
// time: when the newest event time seen (the watermark) passes its end, a digest reports them, so a client that
// keeps attacking below the quiet period is reported although its bucket never overflows again.
import { detachString, type Event } from '../../core/index.js';
import { RecentCache } from '../insight/index.js';
import type { AllowList } from './allow.js';
import { Bucket, type Overflow, type QuietMatches } from './bucket.js';
import { DueQueue } from './due.js';
import type { CompiledRule } from './rule.js';

interface Who {
  rule: CompiledRule;
  client_ip: string | null;
  vhost: string | null;
}

export interface Detection extends Overflow, Who {
  state: 'firing';
}

/** The matches of one quiet period. `ended`: the quiet period ended (false: reported early, at flush or when
 * `maxClients` quiet periods were waiting). */
export interface QuietDigest extends QuietMatches, Who {
  state: 'digest';
  quietUntil: number;
  ended: boolean;
}

export type DetectorResult = Detection | QuietDigest;

export interface DetectorOptions {
  maxClients: number;
  samples: number;
  /** Report the matches of each quiet period in a digest when it ends (else in the next firing's quiet_matches). */
  digests: boolean;
}

interface Waiting extends Who {
  due: number;
  bucket: Bucket;
}

const newBuckets = (): (Bucket | undefined)[] => [];
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const detached = (s: string | null) => (s === null ? null : detachString(s));

export class Detector {
  private readonly clients: RecentCache<string, (Bucket | undefined)[]>;
  private readonly waiting = new DueQueue<Waiting>();
  /** The newest event time seen: quiet periods that ended before it are reported. */
  private watermark = -Infinity;
  allowed = 0;

  constructor(readonly rules: readonly CompiledRule[], private readonly allow: AllowList, private readonly options: DetectorOptions) {
    this.clients = new RecentCache(options.maxClients);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Quiet periods whose matches wait for their digest. */
  get waitingDigests(): number {
    return this.waiting.size;
  }

  /** Pours `e` into the buckets of the rules it matches; pushes what overflowed, and the digests of the quiet
   * periods its time ends (before its own results), to `out`. */
  process(e: Event, out: DetectorResult[]): void {
    const t = typeof e.timestamp === 'number' ? e.timestamp : Date.now();
    if (t > this.watermark) {
      this.watermark = t;
      const next = this.waiting.peek();
      if (next !== undefined && next.due <= t) this.release(t, out);
    }
    let buckets: (Bucket | undefined)[] | undefined;
    let checkedAllow = false;
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r];
      if (!rule.match(e)) continue;
      if (!checkedAllow) {
        checkedAllow = true;
        if (this.allow.allows(e)) {
          this.allowed++;
          return;
        }
      }
      const client = str(e.client_ip);
      const vhost = str(e.vhost);
      buckets ??= this.clients.get(vhost === null ? client ?? '' : `${client ?? ''}\n${vhost}`, newBuckets);
      const bucket = (buckets[r] ??= new Bucket());
      const o = bucket.pour(rule, t, e, this.options.samples, rule.distinct?.(e));
      if (o) out.push({ ...o, state: 'firing', rule, client_ip: detached(client), vhost: detached(vhost) });
      else if (this.options.digests && !bucket.awaitingDigest && bucket.hasQuietMatches) this.wait(bucket, rule, client, vhost, out);
    }
  }

  /** At shutdown: every quiet period still waiting is reported as it stands, so no counted match goes unsaid. */
  flush(out: DetectorResult[]): void {
    this.release(Infinity, out);
  }

  private wait(bucket: Bucket, rule: CompiledRule, client: string | null, vhost: string | null, out: DetectorResult[]): void {
    // Bounded as the clients are: at the cap, the period ending first is reported now (its later matches, if any,
    // wait again), so a flood of attackers cannot grow the queue.
    if (this.waiting.size >= this.options.maxClients) this.report(this.waiting.pop()!, false, out);
    bucket.awaitingDigest = true;
    this.waiting.push({ due: bucket.quietUntil, bucket, rule, client_ip: detached(client), vhost: detached(vhost) });
  }

  private release(until: number, out: DetectorResult[]): void {
    for (let w = this.waiting.peek(); w !== undefined && w.due <= until; w = this.waiting.peek()) {
      this.waiting.pop();
      this.report(w, w.due <= this.watermark, out);
    }
  }

  private report(w: Waiting, ended: boolean, out: DetectorResult[]): void {
    w.bucket.awaitingDigest = false;
    const q = w.bucket.takeQuiet();
    if (q) out.push({ ...q, state: 'digest', rule: w.rule, client_ip: w.client_ip, vhost: w.vhost, quietUntil: w.due, ended });
  }
}
