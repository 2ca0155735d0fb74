// Accepts and discards events, counting them: for benchmarks and for testing a pipeline's upstream.
import { definePlugin } from '../../core/index.js';

export default definePlugin({
  kind: 'output',
  name: 'blackhole',
  description: 'Discards every event it receives (counted in its metrics); optionally logs the running total.',
  schema: {
    type: 'object',
    properties: {
      print_interval: { duration: true, default: 0, description: 'Log the number of events received this often; 0 never logs.' },
    },
  },
  reads: () => [], // it looks at no field
  readOnly: () => true, // nor edits one: a fan-out can hand it the events themselves
  create(options, context) {
    let total = 0;
    return {
      start() {
        if (options.print_interval > 0) context.timers.every(options.print_interval, () => context.logger.info('events received', { total }));
      },
      async write(events) {
        total += events.length;
      },
    };
  },
});
