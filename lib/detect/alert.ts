// Detections as alert events: the fields of the alert aggregate's events (name, severity, kind, state, message,
// time, count, samples, since; digests also cooldown), so email, http, store and the dashboard take them as they
// take alert's, plus rule, client_ip, vhost, first, last and evidence, which the decision outputs (fail2ban, cscli)
// read. A firing is a bucket that overflowed; a digest, the matches of the quiet period after it (`since`: its first
// match when first digested, kept by an amended digest, so the store's row for the period is overwritten). Shared by the
// detect aggregate (emitted now) and `visor analyze` (emitted at the event time they fired at).
import { formatLocalTime, type Event } from '../../core/index.js';
import { formatDuration } from '../alerts/index.js';
import type { Detection, DetectorResult, QuietDigest } from './detector.js';

const requests = (n: number) => `request${n === 1 ? '' : 's'}`;

/** What firings and digests share: who, where, when, the evidence. */
function alertOf(d: DetectorResult, what: string, extra: Event, time: number, since = d.first): Event {
  const who = d.client_ip ?? 'unknown client';
  const where = d.vhost ? ` on ${d.vhost}` : '';
  return {
    name: d.rule.name,
    rule: d.rule.name,
    severity: d.rule.severity,
    kind: 'detect',
    state: d.state,
    message: `[${d.rule.severity}] ${d.rule.name}: ${who}${where} — ${what} from ${formatLocalTime(d.first)} to ${formatLocalTime(d.last)}` +
      (d.samples.length ? ` — e.g. ${d.samples[0]}` : ''),
    time,
    count: d.count,
    samples: d.samples,
    evidence: d.samples,
    since,
    first: d.first,
    last: d.last,
    client_ip: d.client_ip,
    vhost: d.vhost,
    ...extra,
  };
}

/** `time`: when the alert is emitted. */
export function detectionAlert(d: Detection, time = Date.now()): Event {
  const what = d.rule.distinct ? `${d.distinct} distinct matching ${requests(d.count)}` : `${d.count} matching ${requests(d.count)}`;
  return alertOf(d, what, { distinct: d.distinct, quiet_matches: d.quiet_matches }, time);
}

/** `cooldown` is the rule's quiet, named as alert's digests name theirs (the email subject reads it). */
export function digestAlert(d: QuietDigest, time = Date.now()): Event {
  const quiet = formatDuration(d.rule.quiet);
  const period = d.ended ? `during the ${quiet} quiet period after the alert` : `so far in the ${quiet} quiet period after the alert (reported before it ended)`;
  const amended = d.amended ? ' (amended: lines of the period that arrived after its digest)' : '';
  return alertOf(d, `${d.count} more matching ${requests(d.count)} ${period}${amended}`, { cooldown: quiet, quiet_until: d.quietUntil, quiet_ended: d.ended, amended: d.amended }, time, d.since);
}

export const alertOfResult = (d: DetectorResult, time = Date.now()): Event => (d.state === 'firing' ? detectionAlert(d, time) : digestAlert(d, time));
