// Alerting on the event stream: per-event rules (alert at once, then a digest per cooldown), thresholds
// (on fields of incoming events, or an aggregate expression over a sliding window of raw events, with `for`)
// and absence (no matching event for a duration). Results are alert events meant for a human (email, console).
// Scheduled rules (windows, `for`, absence) are checked every `evaluate_every`, the aggregate's or the rule's own.
// At shutdown, alerts still firing are reported as `stopped`: their resolution will never come.
import { definePlugin } from '../../../core/index.js';
import { Alerter, type AlertOptions } from './alerter.js';
import { positiveDuration, RULE_SCHEMA, ruleNameProblems } from './rules.js';

const DURATION = { duration: true } as const;

export default definePlugin<AlertOptions, 'aggregate'>({
  kind: 'aggregate',
  name: 'alert',
  description: 'Alert rules over events: per-event (alert at once, then one digest per cooldown), thresholds (on event fields or an aggregate expression over a sliding window, with `for`) and absence, each checked every evaluate_every (per rule or aggregate). Emits alert events {name, severity, kind, state (firing, resolved, digest, or stopped: still firing when the agent stopped, so no resolution will follow), message, time, count, samples, value, since}.',
  schema: {
    type: 'object',
    required: ['rules'],
    properties: {
      rules: {
        type: 'array',
        minItems: 1,
        description: 'Alert rules: {name, when, cooldown, severity, samples} per event; {name, when, for, over, evaluate_every} thresholds; {name, absent, where, evaluate_every} absence.',
        check: ruleNameProblems,
        items: RULE_SCHEMA,
      },
      evaluate_every: { ...DURATION, default: '1s', check: positiveDuration('evaluate_every: 1s'), description: 'How often window thresholds, `for` durations and absence are checked (processing time), for rules without their own evaluate_every.' },
      samples: { type: 'integer', minimum: 0, default: 5, description: 'Default number of sample messages in a digest.' },
    },
  },
  create(options, context) {
    const alerter = new Alerter(options, context);
    return {
      start: () => alerter.start(),
      process: (events, ctx) => alerter.process(events, ctx),
      flush: () => alerter.flush(),
    };
  },
});
