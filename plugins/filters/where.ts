// Keeps the events for which a condition holds; the others go to the side output `_rejected`.
import { compileCondition, definePlugin, fieldPaths, parseCondition, type Event } from '../../core/index.js';

export const REJECTED_OUTPUT = '_rejected';

export default definePlugin({
  kind: 'filter',
  name: 'where',
  description: 'Passes on the events for which the condition is true (e.g. status >= 500 and path != "/health"); the others go to ID._rejected. See "Conditions and expressions" in the README for the syntax.',
  schema: {
    type: 'object',
    required: ['condition'],
    properties: {
      condition: { type: 'string', expression: true, description: 'The condition, e.g. status >= 500, level in ("error", "crit"), user_agent =~ "(?i)bot".' },
    },
  },
  // Dropping them is what a where filter is for: nobody reading _rejected is no loss (they are still counted).
  sideOutputs: { [REJECTED_OUTPUT]: { description: 'events for which the condition is false', unread: 'drop', carries: 'input' } },
  reads: (options) => fieldPaths(parseCondition(options.condition)).map((p) => p.join('.')),
  create(options, context) {
    const condition = compileCondition(options.condition);
    const kept = context.metrics.counter('where_kept_events_total', 'Events for which the condition was true (main output).');
    const rejected = context.metrics.counter('where_rejected_events_total', 'Events for which the condition was false (sent to _rejected).');
    return {
      process(events, { emit }) {
        const passed: Event[] = [];
        const failed: Event[] = [];
        for (let i = 0; i < events.length; i++) {
          const event = events[i];
          (condition(event) ? passed : failed).push(event);
        }
        kept.inc(passed.length);
        rejected.inc(failed.length);
        if (failed.length > 0) emit(failed, REJECTED_OUTPUT);
        return passed;
      },
    };
  },
});
