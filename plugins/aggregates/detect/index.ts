// Attack detection (issue 19): rules over parsed Apache access and error events, counted per client and vhost in
// CrowdSec-style leaky buckets; an overflowing bucket emits one alert event with its evidence, and (quiet_digest)
// the matches of the quiet period after it one digest when that period ends. The default pack runs when no rules
// are listed. A bucket's state lives in event time: a quiet period ends when a later event arrives (any client's),
// or by the clock on a server gone idle (idle.ts), and flush reports those still open, so no counted match goes
// unsaid at shutdown.
// With verify_crawlers, a batch first waits (at most dns_timeout) for the reverse DNS lookups of the crawlers its
// user agents claim. With service.threads > 1 the conditions run in the parser's worker threads (split.ts) and the
// buckets on the main thread (aggregate.ts).
import { definePlugin } from '../../../core/index.js';
import { detectReads } from '../../../lib/detect/index.js';
import { DetectAggregate } from './aggregate.js';
import { withIdleDigests } from './idle.js';
import { DETECT_SCHEMA } from './schema.js';
import { acceptsPartials, detectPartialBuilder } from './split.js';

export default definePlugin({
  kind: 'aggregate',
  name: 'detect',
  description: 'Attack detection on Apache access and error events: rules (a `where` condition, and a leaky bucket per client and vhost: capacity, leak, distinct, quiet) with a default pack (probing, sensitive files, path traversal, SQL injection, XSS, exploit strings, scanner user agents, aggressive crawling, brute force, error-log signals, fake crawlers), allow-lists (networks, a condition, crawlers verified by reverse DNS with verify_crawlers). Emits alert events {name, rule, severity, kind: detect, state: firing or digest (the matches of a quiet period), message, time, count, samples, evidence, since, first, last, client_ip, vhost, distinct, quiet_matches; digests: cooldown, quiet_until, quiet_ended, amended (the digest made again for late lines of its period, same since)}.',
  schema: DETECT_SCHEMA,
  // The parser before it cuts out only these (ident, user, query, protocol and bytes are left in the line).
  reads: detectReads,
  // It edits no event, but with verify_crawlers annotates them (crawler, crawler_verified) before its rules run.
  readOnly: (options) => !options.verify_crawlers,
  // With service.threads > 1 and a parallel parser feeding it, worker threads run the rules' conditions (split.ts).
  partials: { accepts: acceptsPartials, builder: detectPartialBuilder },
  create(options, context) {
    const detect = new DetectAggregate(options, context);
    return withIdleDigests({
      process: (events) => detect.process(events),
      absorbPartial: (partial, ctx) => detect.absorbPartial(partial, ctx),
      flush: () => detect.flush(),
      close: () => detect.close(),
    }, detect.detector, options, context, (found) => detect.alertsOf(found));
  },
});
