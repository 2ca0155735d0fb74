// The alert aggregate's options: the schema the loader validates them with (rules: RULE_SCHEMA), and their type
// derived from it.
import { positiveDuration, type OptionSchema, type OptionsOf } from '../../../core/index.js';
import { RULE_SCHEMA, ruleNameProblems } from './rules.js';

export const ALERT_SCHEMA = {
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
    evaluate_every: { duration: true, default: '1s', check: positiveDuration('evaluate_every: 1s'), description: 'How often window thresholds, `for` durations and absence are checked (processing time), for rules without their own evaluate_every.' },
    samples: { type: 'integer', minimum: 0, default: 5, description: 'Default number of sample messages in a digest.' },
  },
} as const satisfies OptionSchema;

export type AlertOptions = OptionsOf<typeof ALERT_SCHEMA>;
