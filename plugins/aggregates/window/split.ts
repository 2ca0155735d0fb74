// `window` split in two for worker threads (Plugin.partials; service.threads > 1 with a parallel parser feeding it):
// each worker thread sorts a batch's events into its windows and groups and sends back only that (WindowBatch), the
// main thread merges it into its windows (ResultWindows.absorbPartial) and closes and emits them as usual. Only for
// emit: results in event time: a processing-time window needs the main thread's clock at absorption, and emit:
// partials keeps windows per source partition already.
import type { Event, PartialBuilder, PluginContext } from '../../../core/index.js';
import { StringIds, type BatchGroupState } from '../../../lib/stats/index.js';
import { windowCounters } from './emission.js';
import type { WindowOptions } from './schema.js';
import { Windowing, type WindowBatch } from './windows.js';

/** What absorbPartial asks the worker for: the batch's events late for windows closed up to `closedUpTo`. */
export interface LateRequest { closedUpTo: number }

export const acceptsPartials = (o: WindowOptions): boolean => o.emit === 'results' && o.time === 'event';

export function windowPartialBuilder(options: WindowOptions, context: PluginContext): PartialBuilder {
  const windowing = new Windowing(options, windowCounters(context).invalidTime);
  const { shape, size, advance } = windowing;
  const ids = new StringIds();
  return {
    build(events) {
      ids.startBatch();
      const windows = new Map<number, Map<string, BatchGroupState>>();
      let maxTime = -Infinity;
      let lastStart = NaN;
      let last: Map<string, BatchGroupState> | undefined;
      const add = (start: number, e: Event, values: unknown[], key: string) => {
        let groups = start === lastStart ? last : windows.get(start);
        if (!groups) windows.set(start, (groups = new Map()));
        lastStart = start;
        last = groups;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = shape.newBatchGroup(values)));
        shape.addTo(g, e);
      };
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        const t = windowing.timeOf(e, 0, true);
        if (t !== t) continue; // NaN: left out
        if (t > maxTime) maxTime = t;
        const values = windowing.groupValues(e);
        const key = windowing.groupKey;
        if (advance === size) add(Math.floor(t / size) * size, e, values, key);
        else for (const start of windowing.startsOf(t)) add(start, e, values, key);
      }
      const out: WindowBatch['windows'] = [];
      for (const [start, groups] of windows) out.push({ start, groups: [...groups].map(([key, g]) => shape.batchGroup(key, g, ids)) });
      const partial: WindowBatch = { strings: ids.take(), maxTime, windows: out };
      return { partial };
    },
    select(events, request) {
      const { closedUpTo } = request as LateRequest;
      const late: Event[] = [];
      for (const e of events) {
        const t = windowing.timeOf(e, 0, false);
        if (t === t && windowing.isLate(t, closedUpTo)) late.push(e);
      }
      return late;
    },
  };
}
