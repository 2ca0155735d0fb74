// Forward-confirmed reverse DNS, Google's documented two-step check of a crawler: the PTR name of the address must be
// in the operator's domains, and a forward lookup (A for IPv4, AAAA for IPv6) of that name must return the address.
// Results are cached per operator and address (a bounded cache, answers and failures with their own TTLs); lookups
// of one key in flight are shared, and at most `maxInFlight` run at once.
import { promises as dns } from 'node:dns';
import { parseAddress, mappedIPv4, RecentCache, type ParsedAddress } from '../insight/index.js';
import { inDomains } from './crawlers.js';

/** verified: both steps passed. fake: a definite no (no PTR, a name elsewhere, a forward answer without the
 * address). unknown: no answer (timeout, server failure, unreachable server, lookups at their cap). */
export type Verdict = 'verified' | 'fake' | 'unknown';

export interface ReverseDnsOptions {
  /** Resolver addresses (`IP` or `IP:port`, `[IPv6]:port`); the system's (/etc/resolv.conf) when empty. */
  servers: readonly string[];
  /** How long one query may take (c-ares' timeout, one try). */
  timeout: number;
  maxInFlight: number;
  cacheSize: number;
  /** How long an answer (verified or fake) is kept, and a failure (unknown). */
  ttl: number;
  errorTtl: number;
}

/** Counts since start (the detect aggregate turns them into metrics). */
export interface ReverseDnsStats {
  /** Verifications started (each sends a PTR query, and A/AAAA queries for names in the domains). */
  lookups: number;
  cacheHits: number;
  /** Verifications that ended unknown for want of an answer. */
  failures: number;
  /** Verifications not started because maxInFlight were running. */
  skipped: number;
}

// NXDOMAIN and NODATA: the server answered that there is no such record, which makes a claim false. Every other
// error code (ETIMEOUT, ECONNREFUSED, ESERVFAIL, EREFUSED, ...) means no answer was had.
const DEFINITE = new Set(['ENOTFOUND', 'ENODATA']);

interface Entry { verdict: Verdict; until: number }

export class ReverseDns {
  private readonly resolver: dns.Resolver;
  private readonly cache: RecentCache<string, Entry>;
  private readonly pending = new Map<string, Promise<Verdict>>();
  readonly stats: ReverseDnsStats = { lookups: 0, cacheHits: 0, failures: 0, skipped: 0 };

  constructor(private readonly options: ReverseDnsOptions, private readonly now: () => number = Date.now) {
    this.resolver = new dns.Resolver({ timeout: options.timeout, tries: 1 });
    if (options.servers.length) this.resolver.setServers([...options.servers]);
    this.cache = new RecentCache(options.cacheSize);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  /** Ends the queries still running (their verifications end unknown). */
  close(): void {
    this.resolver.cancel();
  }

  /** The verdict on `ip` for an operator (`key` names it): at once from the cache, else a lookup's promise
   * (shared with the lookup of the same key already running), or unknown when maxInFlight lookups run. */
  verify(ip: string, key: string, domains: readonly string[]): Verdict | Promise<Verdict> {
    const k = `${key}\n${ip}`;
    const cached = this.cache.lookup(k);
    if (cached !== undefined && cached.until > this.now()) {
      this.stats.cacheHits++;
      return cached.verdict;
    }
    const running = this.pending.get(k);
    if (running) return running;
    let address = parseAddress(ip);
    // A hostname logged instead of an address (HostnameLookups On) has no PTR to check: nothing is asked.
    if (address === null) return 'unknown';
    const v4 = mappedIPv4(address);
    if (v4 !== null) address = { v4 };
    if (this.pending.size >= this.options.maxInFlight) {
      this.stats.skipped++;
      return 'unknown';
    }
    this.stats.lookups++;
    // check() catches what the resolver reports; anything else thrown is no answer either.
    const lookup = this.check(address, domains).catch((): Verdict => 'unknown').then((verdict) => {
      this.pending.delete(k);
      if (verdict === 'unknown') this.stats.failures++;
      this.cache.set(k, { verdict, until: this.now() + (verdict === 'unknown' ? this.options.errorTtl : this.options.ttl) });
      return verdict;
    });
    this.pending.set(k, lookup);
    return lookup;
  }

  private async check(address: ParsedAddress, domains: readonly string[]): Promise<Verdict> {
    let names: string[];
    try {
      // resolvePtr, not reverse: reverse() reports every failure as ENOTFOUND (measured on Node 20: an unreachable
      // server gave ENOTFOUND, resolvePtr ECONNREFUSED), which would call a crawler fake whenever DNS is down.
      names = await this.resolver.resolvePtr(arpaName(address));
    } catch (err) {
      return DEFINITE.has((err as NodeJS.ErrnoException).code ?? '') ? 'fake' : 'unknown';
    }
    // A few names at most: an address with many PTR records is not a crawler's.
    const candidates = names.filter((n) => inDomains(n, domains)).slice(0, 4);
    let unanswered = false;
    for (const name of candidates) {
      try {
        const found = 'v4' in address ? await this.resolver.resolve4(name) : await this.resolver.resolve6(name);
        if (found.some((a) => sameAddress(a, address))) return 'verified';
      } catch (err) {
        if (!DEFINITE.has((err as NodeJS.ErrnoException).code ?? '')) unanswered = true;
      }
    }
    return unanswered ? 'unknown' : 'fake';
  }
}

/** Why `text` is no resolver address (what c-ares' setServers refuses), or undefined. */
export function dnsServerProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    new dns.Resolver().setServers([text]);
    return undefined;
  } catch {
    return `"${text}" is no DNS server address: an IP address, with a port as 127.0.0.1:5353 or [::1]:5353`;
  }
}

/** The in-addr.arpa or ip6.arpa name of an address (RFC 1035 3.5, RFC 3596 2.5). */
export function arpaName(address: ParsedAddress): string {
  if ('v4' in address) {
    const v = address.v4;
    return `${v & 255}.${(v >>> 8) & 255}.${(v >>> 16) & 255}.${v >>> 24}.in-addr.arpa`;
  }
  const nibbles: string[] = [];
  for (let g = 7; g >= 0; g--) for (let s = 0; s < 16; s += 4) nibbles.push(((address.v6[g] >> s) & 15).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}

function sameAddress(text: string, address: ParsedAddress): boolean {
  const a = parseAddress(text);
  if (a === null) return false;
  if ('v4' in address) return 'v4' in a && a.v4 === address.v4;
  return 'v6' in a && a.v6.every((g, i) => g === address.v6[i]);
}
