// Attack detection (issue 19): rules over parsed Apache access and error events, counted per client and vhost in
// CrowdSec-style leaky buckets; an overflowing bucket emits one alert event with its evidence. The default pack
// runs when no rules are listed. Alerts are emitted as the events arrive (one-shot, no resolution): a bucket's
// state lives in event time, so nothing waits on a timer and flush has nothing to report. With verify_crawlers, a
// batch first waits (at most dns_timeout) for the reverse DNS lookups of the crawlers its user agents claim.
import { definePlugin } from '../../../core/index.js';
import { AllowList, Detector, detectionAlert, evidenceOf, rulesOf, type Detection } from '../../../lib/detect/index.js';
import { crawlerVerification } from './crawlers.js';
import { DETECT_SCHEMA } from './schema.js';

export default definePlugin({
  kind: 'aggregate',
  name: 'detect',
  description: 'Attack detection on Apache access and error events: rules (a `where` condition, and a leaky bucket per client and vhost: capacity, leak, distinct, quiet) with a default pack (probing, sensitive files, path traversal, SQL injection, XSS, exploit strings, scanner user agents, aggressive crawling, brute force, error-log signals, fake crawlers), allow-lists (networks, a condition, crawlers verified by reverse DNS with verify_crawlers). Emits alert events {name, rule, severity, kind: detect, state: firing, message, time, count, samples, evidence, since, first, last, client_ip, vhost, distinct, quiet_matches}.',
  schema: DETECT_SCHEMA,
  create(options, context) {
    const allow = new AllowList(options.allow_networks, options.allow_when, options.verify_crawlers);
    const detector = new Detector(rulesOf(options), allow, { maxClients: options.max_clients, samples: options.samples, sampleOf: evidenceOf });
    const crawlers = options.verify_crawlers ? crawlerVerification(options, context.metrics) : undefined;
    const fired = context.metrics.counter('detect_alerts_total', 'Alert events emitted (buckets that overflowed).');
    const allowed = context.metrics.counter('detect_allowed_events_total', 'Matching events not counted because an allow-list (allow_networks, allow_when, crawlers verified with verify_crawlers) allowed them.');
    const clients = context.metrics.gauge('detect_clients', 'Clients (address and vhost) whose buckets are held.');
    context.metrics.gauge('detect_clients_max', 'The cap on detect_clients (max_clients); beyond, the least recently seen are forgotten.').set(options.max_clients);
    return {
      async process(events) {
        if (crawlers) {
          await crawlers.verifier.annotate(events);
          crawlers.report();
        }
        const found: Detection[] = [];
        const before = detector.allowed;
        for (let i = 0; i < events.length; i++) {
          const e = events[i];
          if (e.heartbeat !== true) detector.process(e, found);
        }
        allowed.inc(detector.allowed - before);
        clients.set(detector.clientCount);
        fired.inc(found.length);
        if (found.length) await context.emit(found.map((d) => detectionAlert(d)));
      },
      close() {
        crawlers?.close();
      },
    };
  },
});
