// Alerting on the event stream: per-event rules (alert at once, then a digest per cooldown), thresholds
// (on fields of incoming events, or an aggregate expression over a sliding window of raw events, with `for`)
// and absence (no matching event for a duration). Results are alert events meant for a human (email, console).
// Scheduled rules (windows, `for`, absence) are checked every `evaluate_every`, the aggregate's or the rule's own.
// At shutdown, alerts still firing are reported as `stopped`: their resolution will never come.
import { definePlugin } from '../../../core/index.js';
import { Alerter } from './alerter.js';
import { alertReads } from './reads.js';
import { ALERT_SCHEMA } from './schema.js';

export default definePlugin({
  kind: 'aggregate',
  name: 'alert',
  description: 'Alert rules over events: per-event (alert at once, then one digest per cooldown), thresholds (on event fields or an aggregate expression over a sliding window, with `for`) and absence, each checked every evaluate_every (per rule or aggregate). Emits alert events {name, severity, kind, state (firing, resolved, digest, or stopped: still firing when the agent stopped, so no resolution will follow), message, time, count, samples, value, since}.',
  schema: ALERT_SCHEMA,
  reads: alertReads,
  // Rules only read events: fan-out hands it the events themselves, no copies (core/runtime/sharing.ts).
  readOnly: () => true,
  create(options, context) {
    const alerter = new Alerter(options, context);
    return {
      start: () => alerter.start(),
      process: (events, ctx) => alerter.process(events, ctx),
      flush: () => alerter.flush(),
    };
  },
});
