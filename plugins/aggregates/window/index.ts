// Windowed aggregation: tumbling or hopping windows over event time (the `timestamp` field, epoch ms) or
// processing time, optionally per group; metrics are aggregate expressions (count(status >= 500) / count()),
// plus top-N values, percentiles and distinct counts. One result event per window and group.
// With `emit: partials` (scale-out over Kafka) it keeps windows per source partition, each closed by that
// partition's own watermark, and emits mergeable partial states that `window_merge` combines.
import { definePlugin, detachString, getField, splitFieldPath, type AggregateRuntime, type CheckProblem, type Event } from '../../../core/index.js';
import { kafkaAssignments } from '../../inputs/kafka/assignment.js';
import { compileShape, PARTIAL_VERSION, reader, shapeSchema, SharedHold, windowTiming, type GroupState, type ShapeOptions } from './shape.js';
import { STATE_OPTION, storedState } from './stored.js';

interface WindowOptions extends ShapeOptions {
  time: 'event' | 'processing';
  timestamp_field: string;
  allowed_lateness: number;
  idle_timeout?: number;
  exclude_heartbeats: boolean;
  ack?: 'absorb' | 'emit';
  emit: 'results' | 'partials';
  partition_field: string;
  topic_field: string;
  offset_field: string;
  generation_field: string;
  partial_top: number;
  watermark_interval: number;
  state: boolean;
}

interface WindowState {
  start: number;
  groups: Map<string, GroupState>;
  holds: Set<SharedHold>;
  /** Partials: the lowest and highest source offsets of the events in this window. */
  offsetFrom: number;
  offsetTo: number;
}

/** The windows of one source: the whole input, or (partials) one topic-partition with its own watermark. */
interface Source {
  id: string;
  topic: unknown;
  partition: unknown;
  /** Partials: the consumer-group generation whose events fill these windows. */
  generation: number | undefined;
  open: Map<number, WindowState>;
  /** Every window ending at or before this is closed: its events are late. */
  closedUpTo: number;
  maxEventTime: number;
  lastArrival: number;
}

/** Options that do not go with `emit: partials`, each at its key: the check of the schema, so that `visor validate`
 * reports them. */
function partialsProblems(value: unknown): CheckProblem[] {
  const o = (value ?? {}) as Partial<WindowOptions>;
  if (o.emit !== 'partials') return [];
  const problems: CheckProblem[] = [];
  if (o.ack === 'absorb') problems.push({ at: 'ack', message: 'emit: partials acknowledges input events only when the partials holding them are delivered: remove ack: absorb (or set ack: emit)' });
  if (o.time === 'processing') problems.push({ at: 'time', message: 'emit: partials needs time: event (partitions are merged by event-time windows): remove time: processing' });
  return problems;
}

export default definePlugin<WindowOptions, 'aggregate'>({
  kind: 'aggregate',
  name: 'window',
  description: 'Tumbling or hopping windows over event or processing time, per group: metrics from aggregate expressions (count(status >= 500) / count()), top-N values, percentiles, distinct counts. One result event per window and group; in event time, late events go to the _late side output.',
  schema: {
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
      watermark_interval: { duration: true, default: '1s', description: 'Partials: how often (processing time) a watermark event is emitted for each partition.' },
      state: STATE_OPTION,
    },
  },
  sideOutputs: { _late: 'events that arrive after their window was emitted' },
  // In processing time no event is ever late.
  outputs: (options) => (options.time === 'event' ? ['_late'] : []),
  create(options, context) {
    const [size, advance] = windowTiming(options.window);
    const lateness = options.time === 'event' ? options.allowed_lateness : 0;
    const idleTimeout = options.idle_timeout ?? size + lateness;
    const partials = options.emit === 'partials';
    const holdAcks = partials || options.ack === 'emit';
    const shape = compileShape(options);

    const groupPaths = options.group_by.map(splitFieldPath);
    const readTime = reader(splitFieldPath(options.timestamp_field));
    const readPartition = reader(splitFieldPath(options.partition_field));
    const readTopic = reader(splitFieldPath(options.topic_field));
    const readOffset = reader(splitFieldPath(options.offset_field));
    const readGeneration = reader(splitFieldPath(options.generation_field));

    const lateCounter = context.metrics.counter('window_late_events_total', 'Events that arrived after their window was emitted.');
    const windowsCounter = context.metrics.counter('window_results_total', 'Window results emitted (one per window and group).');
    const partialsCounter = context.metrics.counter('window_partials_total', 'Partials emitted (one per partition and window).');
    const staleCounter = context.metrics.counter('window_stale_events_total', 'Partials: events of an older consumer-group generation, dropped (they are read again).');
    const invalidTime = context.metrics.discarded('invalid_timestamp');

    let runtime: AggregateRuntime | undefined;
    const newSource = (id: string, topic: unknown, partition: unknown, generation: number | undefined): Source => ({
      id, topic, partition, generation, open: new Map(), closedUpTo: -Infinity, maxEventTime: -Infinity, lastArrival: Date.now(),
    });
    /** Results mode: the one source. Partials: one per topic-partition. */
    const main = newSource('', undefined, undefined, undefined);
    const sources = new Map<string, Source>();
    let emitting: Promise<void> = Promise.resolve();

    /** Hopping windows: starts of the windows holding `t`, oldest first (tumbling ones are handled inline). */
    const windowStarts = (t: number): number[] => {
      const starts: number[] = [];
      for (let s = Math.floor(t / advance) * advance; s + size > t; s -= advance) starts.push(s);
      return starts.reverse();
    };
    const NO_GROUP: unknown[] = [];
    /** Set by groupValues: the key of the values it returned. */
    let groupKey = '';
    const groupValues = (e: Event): unknown[] => {
      if (!groupPaths.length) {
        groupKey = '';
        return NO_GROUP;
      }
      const values = groupPaths.map((p) => getField(e, p));
      groupKey = JSON.stringify(values);
      return values;
    };

    const watermarkOf = (upTo: number) => (Number.isFinite(upTo) ? upTo : null);
    const partialHeader = (src: Source) => ({
      version: PARTIAL_VERSION, fingerprint: shape.fingerprint, spec: shape.spec, topic: src.topic ?? null, partition: src.partition ?? null,
    });

    /** Emit, in order of start, every open window of `src` ending at or before `upTo`; later events for them are late. */
    const close = (src: Source, upTo: number): Promise<void> => {
      if (upTo > src.closedUpTo) src.closedUpTo = upTo;
      let due: WindowState[] | undefined;
      for (const w of src.open.values()) if (w.start + size <= upTo) (due ??= []).push(w);
      if (!due) return emitting; // the common case (most batches close no window): nothing allocated
      due.sort((a, b) => a.start - b.start);
      for (const w of due) src.open.delete(w.start);
      // Results leave in window order even when timers and process() both close windows.
      emitting = emitting.then(async () => {
        for (let i = 0; i < due.length; i++) {
          const w = due[i];
          let results: Event[];
          if (partials) {
            // The partition's watermark as of this partial: the windows after it in this close are still to come.
            const watermark = i === due.length - 1 ? watermarkOf(upTo) : w.start + size;
            results = [{
              partial: {
                ...partialHeader(src), window_start: w.start, window_end: w.start + size,
                offset_from: Number.isFinite(w.offsetFrom) ? w.offsetFrom : null, offset_to: Number.isFinite(w.offsetTo) ? w.offsetTo : null,
                watermark,
              },
              groups: [...w.groups.values()].map((g) => shape.toPartial(g, options.partial_top)),
            }];
            partialsCounter.inc();
          } else {
            results = [...w.groups.values()].map((g) => shape.result(w.start, w.start + size, g));
            if (options.state) {
              let i = 0;
              for (const g of w.groups.values()) results[i++]._window = storedState(context.id, options.group_by, size, shape, g, options.partial_top);
            }
            windowsCounter.inc(results.length);
          }
          const acks = [...w.holds].map((h) => h.part());
          if (runtime) await runtime.emit(results, acks.length ? { acks } : undefined);
          else for (const a of acks) a.release();
        }
      });
      return emitting;
    };

    /** Partials: is `src` still this process's, in the generation its windows were filled in? */
    const stillOwned = (src: Source): boolean => {
      const owner = kafkaAssignments.owner(src.topic, src.partition);
      return owner === null || (owner !== undefined && (src.generation === undefined || owner === src.generation));
    };

    const tick = async () => {
      const now = Date.now();
      if (options.time === 'processing') return close(main, now);
      if (!partials) {
        // Event time with an idle input: once no event arrived for idle_timeout, every window holding events is
        // closed and the watermark advances with processing time, so the last windows are not held open forever.
        const idle = now - main.lastArrival;
        if (main.open.size && idle >= idleTimeout) return close(main, main.maxEventTime + size + (idle - idleTimeout));
        return;
      }
      for (const src of [...sources.values()]) {
        // A partition that moved to another member (or is re-read after a rebalance) is dropped: its windows are
        // recomputed from the committed offset by its owner; its holds die with the old generation's offsets.
        if (!stillOwned(src)) {
          sources.delete(src.id);
          context.logger.info('partition no longer owned in this generation: its open windows are left to its owner', { topic: src.topic, partition: src.partition, open_windows: src.open.size });
          continue;
        }
        const idle = now - src.lastArrival;
        if (idle >= idleTimeout && Number.isFinite(src.maxEventTime)) void close(src, src.maxEventTime + size + (idle - idleTimeout));
      }
      return emitting;
    };

    /** Partials: one watermark event per owned partition, after the partials already queued. The values are taken
     * now: a window closed later is queued after this event, so a watermark never overtakes a partial. */
    const watermarks = () => {
      const snapshot: Array<[Source, number]> = [];
      for (const src of sources.values()) if (Number.isFinite(src.closedUpTo)) snapshot.push([src, src.closedUpTo]);
      if (!snapshot.length) return emitting;
      emitting = emitting.then(async () => {
        const events: Event[] = [];
        for (const [src, watermark] of snapshot) if (sources.get(src.id) === src && stillOwned(src)) events.push({ partial: { ...partialHeader(src), watermark } });
        if (events.length && runtime) await runtime.emit(events);
      });
      return emitting;
    };

    /** Adds events[from..to) (of one source) to its windows; returns the events that were late. */
    const absorb = (src: Source, events: Event[], from: number, to: number, now: number, touched: Set<WindowState> | undefined, late: Event[] | undefined): Event[] | undefined => {
      src.lastArrival = now;
      const open = src.open;
      const closedUpTo = src.closedUpTo;
      // Consecutive events mostly fall in the same window: look it up in `open` only when it changes.
      let last: WindowState | undefined;
      let newest = src.maxEventTime; // a local: a captured variable would box each new time into a heap number
      let offset = NaN;
      const add = (start: number, e: Event, values: unknown[], gk: string) => {
        let w = last !== undefined && last.start === start ? last : open.get(start);
        if (!w) open.set(start, (w = { start, groups: new Map(), holds: new Set(), offsetFrom: Infinity, offsetTo: -Infinity }));
        last = w;
        let g = w.groups.get(gk);
        if (!g) w.groups.set(detachString(gk), (g = shape.newGroup(values.map((v) => (typeof v === 'string' ? detachString(v) : v)))));
        shape.addTo(g, e);
        if (partials) {
          if (offset < w.offsetFrom) w.offsetFrom = offset;
          if (offset > w.offsetTo) w.offsetTo = offset;
        }
        touched?.add(w);
      };
      for (let i = from; i < to; i++) {
        const e = events[i];
        if (options.exclude_heartbeats && e.heartbeat === true) continue;
        let t: number;
        if (options.time === 'processing') t = now;
        else {
          const v = readTime(e);
          if (typeof v !== 'number' || !Number.isFinite(v)) {
            invalidTime.inc();
            continue;
          }
          t = v;
        }
        if (partials) {
          const o = readOffset(e);
          offset = typeof o === 'number' ? o : NaN;
        }
        if (t > newest) newest = t;
        if (advance === size) {
          // Tumbling: exactly one window; late when it was already emitted.
          const start = Math.floor(t / size) * size;
          if (start + size <= closedUpTo) (late ??= []).push(e);
          else add(start, e, groupValues(e), groupKey);
          continue;
        }
        let isLate = false;
        let values: unknown[] | undefined;
        let gk = '';
        for (const start of windowStarts(t)) {
          if (start + size <= closedUpTo) {
            isLate = true;
            continue;
          }
          if (!values) {
            values = groupValues(e);
            gk = groupKey;
          }
          add(start, e, values, gk);
        }
        if (isLate) (late ??= []).push(e);
      }
      src.maxEventTime = newest;
      return late;
    };

    /** Partials: the source of an event's partition (created, or reset for a newer generation); undefined for a
     * stale event (an older generation's, read again by now). */
    const sourceOf = (topic: unknown, partition: unknown, g: unknown): Source | undefined => {
      const generation = typeof g === 'number' ? g : undefined;
      const id = `${String(topic)}\0${String(partition)}`;
      let src = sources.get(id);
      if (src && generation !== undefined && src.generation !== undefined && generation !== src.generation) {
        if (generation < src.generation) return undefined;
        // kafkajs re-reads a partition from its committed offset after a rebalance: start its windows afresh.
        sources.delete(id);
        src = undefined;
      }
      if (!src) sources.set(id, (src = newSource(id, topic, partition, generation)));
      return src;
    };

    return {
      attach(r) {
        runtime = r;
      },
      start() {
        main.lastArrival = Date.now();
        context.timers.every(Math.max(10, Math.min(advance, 1000)), tick);
        if (partials) context.timers.every(options.watermark_interval, watermarks);
      },
      async process(events, ctx) {
        const now = Date.now();
        let late: Event[] | undefined;
        const touched = holdAcks ? new Set<WindowState>() : undefined;
        const closing: Source[] = [];
        if (!partials) {
          late = absorb(main, events, 0, events.length, now, touched, late);
          closing.push(main);
        } else {
          // A batch from the kafka input is one partition's; split it into runs of one source each.
          let runStart = 0;
          let src: Source | undefined;
          let topic: unknown;
          let partition: unknown;
          let generation: unknown;
          const flushRun = (end: number) => {
            if (end <= runStart) return;
            if (!src) staleCounter.inc(end - runStart);
            else {
              late = absorb(src, events, runStart, end, now, touched, late);
              if (!closing.includes(src)) closing.push(src);
            }
          };
          for (let i = 0; i < events.length; i++) {
            const e = events[i];
            const t = readTopic(e);
            const p = readPartition(e);
            const g = readGeneration(e);
            if (i > 0 && t === topic && p === partition && g === generation) continue;
            flushRun(i);
            runStart = i;
            topic = t;
            partition = p;
            generation = g;
            src = sourceOf(t, p, g);
          }
          flushRun(events.length);
        }
        if (late) {
          lateCounter.inc(late.length);
          ctx.emit(late, '_late');
        }
        if (touched?.size) {
          const shared = new SharedHold(ctx.hold());
          shared.pending = touched.size;
          for (const w of touched) w.holds.add(shared);
        }
        if (options.time === 'event') for (const src of closing) await close(src, src.maxEventTime - lateness);
      },
      async flush() {
        // Partials: windows still open are left unacknowledged, for the partition's next owner to recompute from
        // the committed offset (a partial of half a window would later overlap the owner's complete one).
        if (partials) return emitting;
        await close(main, Infinity);
      },
    };
  },
});
