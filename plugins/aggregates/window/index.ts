// Windowed aggregation: tumbling or hopping windows over event time (the `timestamp` field, epoch ms) or
// processing time, optionally per group; metrics are aggregate expressions (count(status >= 500) / count()),
// plus top-N values, percentiles and distinct counts. One result event per window and group.
// With `emit: partials` (scale-out over Kafka) it keeps windows per source partition, each closed by that
// partition's own watermark, and emits mergeable partial states that `window_merge` combines.
import { definePlugin } from '../../../core/index.js';
import { windowCounters } from './emission.js';
import { PartialWindows } from './partials.js';
import { ResultWindows } from './results.js';
import { WINDOW_SCHEMA, windowReads } from './schema.js';
import { acceptsPartials, windowPartialBuilder } from './split.js';

export default definePlugin({
  kind: 'aggregate',
  name: 'window',
  description: 'Tumbling or hopping windows over event or processing time, per group: metrics from aggregate expressions (count(status >= 500) / count()), top-N values, percentiles, distinct counts. One result event per window and group; in event time, late events go to the _late side output.',
  schema: WINDOW_SCHEMA,
  sideOutputs: { _late: { description: 'events that arrive after their window was emitted', carries: 'input' } },
  // In processing time no event is ever late.
  outputs: (options) => (options.time === 'event' ? ['_late'] : []),
  reads: windowReads,
  // It reads the events into its accumulators (and copies late ones into late partials) but edits none.
  readOnly: () => true,
  // With service.threads > 1 and a parallel parser feeding it, worker threads sort events into windows (split.ts).
  partials: { accepts: acceptsPartials, builder: windowPartialBuilder },
  create(options, context) {
    const counters = windowCounters(context);
    if (options.emit === 'partials') {
      const windows = new PartialWindows(options, context, counters);
      return { start: () => windows.start(), process: (events, ctx) => windows.process(events, ctx), flush: () => windows.flush() };
    }
    const windows = new ResultWindows(options, context, counters);
    return {
      start: () => windows.start(),
      process: (events, ctx) => windows.process(events, ctx),
      absorbPartial: (partial, ctx) => windows.absorbPartial(partial, ctx),
      flush: () => windows.flush(),
    };
  },
});
