// Pipeline health rows for the dashboard: the counters of context.pipeline() turned into rates by differencing
// two samples, plus buffer fill, unparsed and dropped counts, errors and a lag gauge where a component has one.
import type { PipelineView } from '../../../core/index.js';
import type { HealthRow } from '../../../lib/dashboard/index.js';

export interface HealthSample {
  at: number;
  view: PipelineView;
}

/** A custom metric that is a lag gauge: `visor_tail_lag_bytes`, `visor_kafka_consumer_lag`, `..._lag_seconds`. */
const LAG = /_lag(?:_([a-z]+))?$/;

/** Rows per component, in config order; rates are per second between `prev` and `cur` (0 without `prev`). */
export function healthRows(cur: HealthSample, prev?: HealthSample): HealthRow[] {
  const seconds = prev ? (cur.at - prev.at) / 1000 : 0;
  const rate = (now: number, before: number | undefined) =>
    seconds > 0 && before !== undefined ? Math.max(0, (now - before) / seconds) : 0;
  return Object.entries(cur.view.components).map(([id, c]) => {
    const p = prev?.view.components[id];
    const row: HealthRow = {
      id,
      kind: c.kind,
      type: c.type,
      healthy: c.healthy,
      reason: c.reason ?? null,
      in_per_s: rate(c.received_events, p?.received_events),
      out_per_s: rate(c.sent_events, p?.sent_events),
      buffer_fill: c.buffer_max_events > 0 ? Math.min(1, c.buffer_events / c.buffer_max_events) : 0,
      buffer_events: c.buffer_events,
      buffer_max_events: c.buffer_max_events,
      unparsed: c.sent_events_by_output._unparsed ?? 0,
      dropped: c.discarded,
      errors: c.errors,
    };
    for (const [name, value] of Object.entries(c.custom)) {
      const m = LAG.exec(name);
      if (!m || !Number.isFinite(value)) continue;
      row.lag = (row.lag ?? 0) + value;
      if (m[1]) row.lag_unit = m[1];
    }
    return row;
  });
}
