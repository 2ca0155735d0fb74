// Attack detection (issue 19): rules over parsed Apache access and error events, counted per client and vhost in
// CrowdSec-style leaky buckets; an overflowing bucket emits one alert event with its evidence, and (quiet_digest)
// the matches of the quiet period after it one digest when that period ends. The default pack runs when no rules
// are listed. A bucket's state lives in event time: a quiet period ends when a later event arrives (any client's),
// or by the clock on a server gone idle (idle.ts), and flush reports those still open, so no counted match goes
// unsaid at shutdown.
// With verify_crawlers, a batch first waits (at most dns_timeout) for the reverse DNS lookups of the crawlers its
// user agents claim.
import { definePlugin, type Event } from '../../../core/index.js';
import { describeEvent } from '../../../lib/alerts/index.js';
import { alertOfResult, AllowList, detectReads, Detector, rulesOf, type DetectorResult } from '../../../lib/detect/index.js';
import { crawlerVerification } from './crawlers.js';
import { withIdleDigests } from './idle.js';
import { DETECT_SCHEMA } from './schema.js';

export default definePlugin({
  kind: 'aggregate',
  name: 'detect',
  description: 'Attack detection on Apache access and error events: rules (a `where` condition, and a leaky bucket per client and vhost: capacity, leak, distinct, quiet) with a default pack (probing, sensitive files, path traversal, SQL injection, XSS, exploit strings, scanner user agents, aggressive crawling, brute force, error-log signals, fake crawlers), allow-lists (networks, a condition, crawlers verified by reverse DNS with verify_crawlers). Emits alert events {name, rule, severity, kind: detect, state: firing or digest (the matches of a quiet period), message, time, count, samples, evidence, since, first, last, client_ip, vhost, distinct, quiet_matches; digests: cooldown, quiet_until, quiet_ended}.',
  schema: DETECT_SCHEMA,
  // The parser before it cuts out only these (ident, user, query, protocol and bytes are left in the line).
  reads: detectReads,
  // It edits no event, but with verify_crawlers annotates them (crawler, crawler_verified) before its rules run.
  readOnly: (options) => !options.verify_crawlers,
  create(options, context) {
    const allow = new AllowList(options.allow_networks, options.allow_when, options.verify_crawlers);
    const detector = new Detector(rulesOf(options), allow, {
      maxClients: options.max_clients, samples: options.samples, digests: options.quiet_digest, sampleOf: (e: Event) => describeEvent(e, 'evidence'),
    });
    const crawlers = options.verify_crawlers ? crawlerVerification(options, context.metrics) : undefined;
    const fired = context.metrics.counter('detect_alerts_total', 'Alert events emitted (buckets that overflowed).');
    const digests = context.metrics.counter('detect_digests_total', 'Digest events emitted (matches counted during a quiet period, quiet_digest).');
    const waiting = context.metrics.gauge('detect_digests_waiting', 'Quiet periods whose matches wait for their digest (at most max_clients).');
    const allowed = context.metrics.counter('detect_allowed_events_total', 'Matching events not counted because an allow-list (allow_networks, allow_when, crawlers verified with verify_crawlers) allowed them.');
    const clients = context.metrics.gauge('detect_clients', 'Clients (address and vhost) whose buckets are held.');
    context.metrics.gauge('detect_clients_max', 'The cap on detect_clients (max_clients); beyond, the least recently seen are forgotten.').set(options.max_clients);
    const alertsOf = (found: DetectorResult[]): Event[] => {
      let d = 0;
      for (const f of found) if (f.state === 'digest') d++;
      fired.inc(found.length - d);
      digests.inc(d);
      waiting.set(detector.waitingDigests);
      return found.map((d) => alertOfResult(d));
    };
    return withIdleDigests({
      async process(events) {
        if (crawlers) {
          await crawlers.verifier.annotate(events);
          crawlers.report();
        }
        const found: DetectorResult[] = [];
        const before = detector.allowed;
        for (let i = 0; i < events.length; i++) {
          const e = events[i];
          if (e.heartbeat !== true) detector.process(e, found);
        }
        allowed.inc(detector.allowed - before);
        clients.set(detector.clientCount);
        if (found.length) await context.emit(alertsOf(found));
        else waiting.set(detector.waitingDigests);
      },
      async flush() {
        const found: DetectorResult[] = [];
        detector.flush(found);
        // Awaited: the runtime closes downstream only after flush, so the digests reach the outputs before shutdown.
        if (found.length) await context.emit(alertsOf(found));
      },
      close() {
        crawlers?.close();
      },
    }, detector, options, context, alertsOf);
  },
});
