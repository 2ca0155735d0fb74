// Runs compiled rules over events: one bucket per rule, client and vhost, held in a capped cache of clients (least
// recently seen go first, lib/insight's RecentCache), so memory stays bounded under a flood of distinct addresses.
import { detachString, type Event } from '../../core/index.js';
import { RecentCache } from '../insight/index.js';
import type { AllowList } from './allow.js';
import { Bucket, type Overflow } from './bucket.js';
import type { CompiledRule } from './rule.js';

export interface Detection extends Overflow {
  rule: CompiledRule;
  client_ip: string | null;
  vhost: string | null;
}

export interface DetectorOptions {
  maxClients: number;
  samples: number;
}

const newBuckets = (): (Bucket | undefined)[] => [];
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export class Detector {
  private readonly clients: RecentCache<string, (Bucket | undefined)[]>;
  allowed = 0;

  constructor(readonly rules: readonly CompiledRule[], private readonly allow: AllowList, private readonly options: DetectorOptions) {
    this.clients = new RecentCache(options.maxClients);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Pours `e` into the buckets of the rules it matches; pushes what overflowed to `out`. */
  process(e: Event, out: Detection[]): void {
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
      const t = typeof e.timestamp === 'number' ? e.timestamp : Date.now();
      const o = bucket.pour(rule, t, e, this.options.samples, rule.distinct?.(e));
      if (o) out.push({ ...o, rule, client_ip: client === null ? null : detachString(client), vhost: vhost === null ? null : detachString(vhost) });
    }
  }
}
