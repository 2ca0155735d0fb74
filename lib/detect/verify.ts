// The detect aggregate's verify_crawlers: before the rules see a batch, each event whose user agent claims a
// verifiable crawler (crawlers.ts) gets `crawler` (the operator) and `crawler_verified`: true when its address passed
// the forward-confirmed reverse DNS check (rdns.ts), false when it failed it, null when no answer came in time.
//
// The batch waits for the lookups it needs, all at once, at most `wait` ms: events are never dropped nor reordered,
// and the pipeline is never held longer than that per batch. An event whose answer is late is counted as unverified
// (null: not allowed, and not called fake); the lookup goes on, and its answer, cached, serves that address's next
// events. Holding rather than deciding at once: with a warm cache nothing waits, and deciding "unverified" for every
// first event of a new crawler address would count real crawlers' requests into the buckets on every cache expiry.
import type { Event } from '../../core/index.js';
import { CrawlerClaims } from './crawlers.js';
import type { ReverseDns, Verdict } from './rdns.js';

const FIELD: Record<Verdict, boolean | null> = { verified: true, fake: false, unknown: null };

/** Events that claimed a crawler, by how their claim ended (since start). */
export interface ClaimCounts { verified: number; fake: number; unverified: number }

export class CrawlerVerifier {
  readonly claims: ClaimCounts = { verified: 0, fake: 0, unverified: 0 };
  /** Batches that waited for lookups, and those that stopped waiting at `wait`. */
  waits = 0;
  lateBatches = 0;

  constructor(private readonly dns: ReverseDns, private readonly wait: number, private readonly crawlers = new CrawlerClaims()) {}

  async annotate(events: Event[]): Promise<void> {
    let waiting: Promise<void>[] | undefined;
    let open = true;
    const claimed: Event[] = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (e.heartbeat === true) continue;
      const operator = this.crawlers.claimOf(e.user_agent);
      if (operator === null) {
        // Only this component says a crawler is verified: a field of that name from upstream is not believed.
        if (e.crawler_verified !== undefined) delete e.crawler_verified;
        continue;
      }
      claimed.push(e);
      e.crawler = operator.name;
      const verdict = typeof e.client_ip === 'string' ? this.dns.verify(e.client_ip, operator.name, operator.domains) : 'unknown';
      if (typeof verdict === 'string') e.crawler_verified = FIELD[verdict];
      else {
        e.crawler_verified = null;
        (waiting ??= []).push(verdict.then((v) => { if (open) e.crawler_verified = FIELD[v]; }));
      }
    }
    if (waiting) {
      this.waits++;
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        Promise.all(waiting).then(() => false),
        new Promise<boolean>((resolve) => { timer = setTimeout(resolve, this.wait, true); }),
      ]);
      clearTimeout(timer);
      open = false;
      if (late) this.lateBatches++;
    }
    for (const e of claimed) {
      if (e.crawler_verified === true) this.claims.verified++;
      else if (e.crawler_verified === false) this.claims.fake++;
      else this.claims.unverified++;
    }
  }
}
