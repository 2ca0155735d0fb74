// The window aggregate's options: the schema the loader validates them with (and its check of the options that do
// not go together), and their type derived from it.
import { aggregateFields, positiveDuration, type CheckProblem, type OptionSchema, type OptionsOf } from '../../../core/index.js';
import { shapeSchema, STATE_OPTION } from '../../../lib/stats/index.js';

/** Options that do not go with `emit: partials`, each at its key: the check of the schema, so that `visor validate`
 * reports them. */
function partialsProblems(value: unknown): CheckProblem[] {
  const o = (value ?? {}) as { emit?: unknown; ack?: unknown; time?: unknown };
  if (o.emit !== 'partials') return [];
  const problems: CheckProblem[] = [];
  if (o.ack === 'absorb') problems.push({ at: 'ack', message: 'emit: partials acknowledges input events only when the partials holding them are delivered: remove ack: absorb (or set ack: emit)' });
  if (o.time === 'processing') problems.push({ at: 'time', message: 'emit: partials needs time: event (partitions are merged by event-time windows): remove time: processing' });
  return problems;
}

export const WINDOW_SCHEMA = {
  type: 'object',
  required: ['window'],
  check: partialsProblems,
  properties: {
    window: shapeSchema.window,
    time: { enum: ['event', 'processing'], default: 'event', description: 'event: windows by the timestamp field (epoch ms); processing: by arrival time.' },
    timestamp_field: { type: 'string', default: 'timestamp', description: 'Field holding the event time (epoch ms) in event-time mode.' },
    allowed_lateness: { duration: true, default: '0s', description: 'How far behind the newest event time a window stays open (event time).' },
    idle_timeout: { duration: true, description: 'Event time: after this much processing time without events (per partition with emit: partials), every window holding events is closed and the watermark then advances with processing time. Default: window size + allowed_lateness.' },
    group_by: shapeSchema.group_by,
    metrics: shapeSchema.metrics,
    top: shapeSchema.top,
    percentiles: shapeSchema.percentiles,
    distinct: shapeSchema.distinct,
    exclude_heartbeats: { type: 'boolean', default: true, description: 'Ignore events with heartbeat: true.' },
    ack: { enum: ['absorb', 'emit'], description: 'absorb: a batch is acknowledged when absorbed; emit: only when the results of every window it touched are delivered. Default absorb; emit (required) with emit: partials.' },
    emit: { enum: ['results', 'partials'], default: 'results', description: 'results: one result per window and group; partials (scale-out, see window_merge): per source partition, mergeable partial states closed by that partition\'s own watermark, plus a watermark event per partition every watermark_interval.' },
    partition_field: { type: 'string', default: 'kafka.partition', description: 'Partials: field holding the source partition (with topic_field, the partition identity).' },
    topic_field: { type: 'string', default: 'kafka.topic', description: 'Partials: field holding the source topic.' },
    offset_field: { type: 'string', default: 'kafka.offset', description: 'Partials: field holding the source offset (partials carry their offset range, so that the merger discards duplicates).' },
    generation_field: { type: 'string', default: 'kafka.generation', description: 'Partials: field holding the consumer-group generation (after a rebalance kafkajs re-reads from the committed offsets: windows of an older generation are dropped and recomputed).' },
    partial_top: { type: 'integer', minimum: 1, default: 1000, description: 'Partials (and state): most top entries shipped per field and group (the merged error bound adds the count of the first entry left out, except for the partition key).' },
    watermark_interval: { duration: true, default: '1s', check: positiveDuration('watermark_interval: 1s'), description: 'Partials: how often (processing time) a watermark event is emitted for each partition.' },
    state: STATE_OPTION,
  },
} as const satisfies OptionSchema;

export type WindowOptions = OptionsOf<typeof WINDOW_SCHEMA>;

/** The fields a window reads of its input events (Plugin.reads): upstream parsers may leave the others out. */
export function windowReads(o: WindowOptions): string[] {
  return [
    ...(o.time === 'event' ? [o.timestamp_field] : []),
    ...o.group_by,
    ...Object.values(o.metrics).flatMap((text) => aggregateFields(text)),
    ...o.top.map((t) => t.field),
    ...o.percentiles.map((p) => p.field),
    ...o.distinct,
    ...(o.exclude_heartbeats ? ['heartbeat'] : []),
    ...(o.emit === 'partials' ? [o.partition_field, o.topic_field, o.offset_field, o.generation_field] : []),
  ];
}
