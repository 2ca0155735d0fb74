// Runs compiled rules over events: one bucket per rule, client and vhost, held in a capped cache of clients (least
// recently seen go first, lib/insight's RecentCache), so memory stays bounded under a flood of distinct addresses.
// The work is in two halves: match (the rules' conditions, the costly part: their regexes) and pour (the buckets,
// which depend on the order of the matches). process does both; `visor analyze` matches in its worker threads and
// pours their matches in file order in one thread (lib/analyze/detect.ts).
import { detachString, type Event } from '../../core/index.js';
import { RecentCache } from '../insight/index.js';
import type { AllowList } from './allow.js';
import { Bucket, type Overflow } from './bucket.js';
import type { CompiledRule } from './rule.js';

export interface Detection<S = string> extends Overflow<S> {
  rule: CompiledRule;
  client_ip: string | null;
  vhost: string | null;
}

export interface DetectorOptions<T, S> {
  maxClients: number;
  samples: number;
  /** A sample of evidence from what was poured (the detect aggregate: evidenceOf, of the event). */
  sampleOf: (item: T) => S;
}

const newBuckets = (): (Bucket<never> | undefined)[] => [];
/** The client or vhost of an event as the buckets key it: a non-empty string, else null. */
export const keyOf = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export class Detector<T = Event, S = string> {
  private readonly clients: RecentCache<string, (Bucket<S> | undefined)[]>;
  private readonly matched: number[] = [];
  allowed = 0;

  constructor(readonly rules: readonly CompiledRule[], private readonly allow: AllowList, private readonly options: DetectorOptions<T, S>) {
    this.clients = new RecentCache(options.maxClients);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** The indexes of the rules `e` matches, in rule order, into `into` (emptied first); none when an allow-list
   * allows the event (counted in `allowed`). */
  match(e: Event, into: number[]): void {
    into.length = 0;
    const rules = this.rules;
    for (let r = 0; r < rules.length; r++) if (rules[r]!.match(e)) into.push(r);
    if (into.length > 0 && this.allow.allows(e)) {
      this.allowed++;
      into.length = 0;
    }
  }

  /** Pours one match of rule `r` (by index) into the bucket of its client and vhost; pushes an overflow to `out`. */
  pour(r: number, client: string | null, vhost: string | null, t: number, distinctValue: unknown, item: T, out: Detection<S>[]): void {
    const buckets = this.clients.get(vhost === null ? client ?? '' : `${client ?? ''}\n${vhost}`, newBuckets as () => (Bucket<S> | undefined)[]);
    const rule = this.rules[r]!;
    const bucket = (buckets[r] ??= new Bucket<S>());
    const o = bucket.pour(rule, t, item, this.options.sampleOf, this.options.samples, distinctValue);
    if (o) out.push({ ...o, rule, client_ip: client === null ? null : detachString(client), vhost: vhost === null ? null : detachString(vhost) });
  }

  /** Both halves for one event: pours `e` into the buckets of the rules it matches at its timestamp (the clock's
   * when it has none); pushes what overflowed to `out`. */
  process(this: Detector<Event, S>, e: Event, out: Detection<S>[]): void {
    const matched = this.matched;
    this.match(e, matched);
    if (matched.length === 0) return;
    const client = keyOf(e.client_ip);
    const vhost = keyOf(e.vhost);
    const t = typeof e.timestamp === 'number' ? e.timestamp : Date.now();
    for (let k = 0; k < matched.length; k++) {
      const r = matched[k]!;
      this.pour(r, client, vhost, t, this.rules[r]!.distinct?.(e), e, out);
    }
  }
}
