// verify_crawlers for the detect aggregate: the reverse DNS verifier made from the options, and its counts as metrics
// (turned into counters after each batch, as the detector's allowed count is).
import type { ComponentMetrics } from '../../../core/index.js';
import { CrawlerVerifier, ReverseDns } from '../../../lib/detect/index.js';
import type { DetectOptions } from './schema.js';

export interface CrawlerVerification {
  verifier: CrawlerVerifier;
  /** Brings the metrics up to the counts. */
  report(): void;
  close(): void;
}

export function crawlerVerification(options: DetectOptions, metrics: ComponentMetrics): CrawlerVerification {
  const dns = new ReverseDns({
    servers: options.dns_servers, timeout: options.dns_timeout, maxInFlight: options.dns_max_lookups,
    cacheSize: options.dns_cache_size, ttl: options.dns_cache_ttl, errorTtl: options.dns_error_ttl,
  });
  const verifier = new CrawlerVerifier(dns, options.dns_timeout);
  const counters: [{ inc(n: number): void; readonly value: number }, () => number][] = [
    [metrics.counter('detect_crawler_verified_total', 'Events whose user agent claims a verifiable crawler and whose address passed the reverse DNS check (allowed).'), () => verifier.claims.verified],
    [metrics.counter('detect_crawler_fake_total', 'Events whose user agent claims a verifiable crawler and whose address failed the check (crawler_verified false: fake-crawler).'), () => verifier.claims.fake],
    [metrics.counter('detect_crawler_unverified_total', 'Events whose user agent claims a verifiable crawler with no answer in time (crawler_verified null: not allowed, not fake).'), () => verifier.claims.unverified],
    [metrics.counter('detect_dns_lookups_total', 'Reverse DNS verifications started (a PTR query, then A or AAAA for a name in the operator\'s domains).'), () => dns.stats.lookups],
    [metrics.counter('detect_dns_cache_hits_total', 'Claims answered from the verdict cache, without a query.'), () => dns.stats.cacheHits],
    [metrics.counter('detect_dns_failures_total', 'Verifications without an answer (timeout, server failure, unreachable server): unverified, kept dns_error_ttl.'), () => dns.stats.failures],
    [metrics.counter('detect_dns_skipped_total', 'Claims not looked up because dns_max_lookups were in flight (unverified for that batch).'), () => dns.stats.skipped],
    [metrics.counter('detect_dns_late_batches_total', 'Batches that stopped waiting for lookups at dns_timeout.'), () => verifier.lateBatches],
  ];
  const inFlight = metrics.gauge('detect_dns_in_flight', 'Reverse DNS verifications running.');
  const cached = metrics.gauge('detect_dns_cache_entries', 'Verdicts held in the cache (at most dns_cache_size).');
  return {
    verifier,
    report() {
      for (const [counter, read] of counters) counter.inc(read() - counter.value);
      inFlight.set(dns.inFlight);
      cached.set(dns.cacheSize);
    },
    close: () => dns.close(),
  };
}
