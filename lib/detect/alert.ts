// A detection as an alert event: the fields of the alert aggregate's events (name, severity, kind, state, message,
// time, count, samples, since), so email, http, store and the dashboard take them as they take alert's, plus rule,
// client_ip, vhost, first, last and evidence, which the decision outputs (fail2ban, cscli) read.
import { formatLocalTime, type Event } from '../../core/index.js';
import type { Detection } from './detector.js';

/** `time`: when the alert is emitted (the detect aggregate: now; `visor analyze`: the event time it fired at). */
export function detectionAlert(d: Detection, time = Date.now()): Event {
  const who = d.client_ip ?? 'unknown client';
  const where = d.vhost ? ` on ${d.vhost}` : '';
  const what = d.rule.distinct ? `${d.distinct} distinct` : `${d.count}`;
  return {
    name: d.rule.name,
    rule: d.rule.name,
    severity: d.rule.severity,
    kind: 'detect',
    state: 'firing',
    message: `[${d.rule.severity}] ${d.rule.name}: ${who}${where} — ${what} matching request${d.count === 1 ? '' : 's'} from ${formatLocalTime(d.first)} to ${formatLocalTime(d.last)}` +
      (d.samples.length ? ` — e.g. ${d.samples[0]}` : ''),
    time,
    count: d.count,
    samples: d.samples,
    evidence: d.samples,
    since: d.first,
    first: d.first,
    last: d.last,
    client_ip: d.client_ip,
    vhost: d.vhost,
    distinct: d.distinct,
    quiet_matches: d.quiet_matches,
  };
}
