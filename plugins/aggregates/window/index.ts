// Windowed aggregation: tumbling or hopping windows over event time (the `timestamp` field, epoch ms) or
// processing time, optionally per group; metrics are aggregate expressions (count(status >= 500) / count()),
// plus top-N values, percentiles and distinct counts. One result event per window and group.
import { definePlugin, getField, splitFieldPath, type AckHold, type AggregateRuntime, type Event } from '../../../core/index.js';
import { accumulate, compileMetric, newAccState, type Accumulator, type AccState, type MetricEval } from './metrics.js';
import { DistinctCounter, QuantileSketch, TopCounter } from './sketches.js';

interface WindowOptions {
  window: { type: 'tumbling' | 'hopping'; size: number; advance?: number };
  time: 'event' | 'processing';
  timestamp_field: string;
  allowed_lateness: number;
  group_by: string[];
  metrics: Record<string, string>;
  top: Array<{ field: string; n: number; capacity: number }>;
  percentiles: Array<{ field: string; p: number[] }>;
  distinct: string[];
  exclude_heartbeats: boolean;
  ack: 'absorb' | 'emit';
}

interface GroupState {
  values: unknown[];
  count: number;
  accs: Map<string, AccState>;
  tops: TopCounter[];
  sketches: QuantileSketch[];
  distincts: DistinctCounter[];
}

/** A batch's hold shared by the windows the batch touched: released once every one of their results is delivered. */
class SharedHold {
  pending = 0;
  private failed = false;
  constructor(private readonly hold: AckHold) {}
  /** One hold per window result, passed in that result's `acks`. */
  part(): AckHold {
    let settled = false;
    return {
      release: () => {
        if (settled) return;
        settled = true;
        if (--this.pending === 0 && !this.failed) this.hold.release();
      },
      fail: (error?: Error) => {
        if (settled) return;
        settled = true;
        this.pending--;
        if (!this.failed) {
          this.failed = true;
          this.hold.fail(error);
        }
      },
    };
  }
}

interface WindowState {
  start: number;
  groups: Map<string, GroupState>;
  holds: Set<SharedHold>;
}

const fieldName = (f: string) => f.replace(/[^A-Za-z0-9_]/g, '_');
const pName = (p: number, field: string) => `p${String(p).replace('.', '_')}_${fieldName(field)}`;
const key = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'null');

export default definePlugin<WindowOptions, 'aggregate'>({
  kind: 'aggregate',
  name: 'window',
  description: 'Tumbling or hopping windows over event or processing time, per group: metrics from aggregate expressions (count(status >= 500) / count()), top-N values, percentiles, distinct counts. One result event per window and group; late events go to the _late side output.',
  schema: {
    type: 'object',
    required: ['window'],
    properties: {
      window: {
        type: 'object',
        required: ['size'],
        additionalProperties: false,
        properties: {
          type: { enum: ['tumbling', 'hopping'], default: 'tumbling', description: 'tumbling: back-to-back windows; hopping: overlapping windows starting every advance.' },
          size: { duration: true, description: 'Length of each window.' },
          advance: { duration: true, description: 'Hopping only: time between window starts (at most size).' },
        },
        description: 'Window shape: { type: tumbling, size: 1m } or { type: hopping, size: 5m, advance: 1m }.',
      },
      time: { enum: ['event', 'processing'], default: 'event', description: 'event: windows by the timestamp field (epoch ms); processing: by arrival time.' },
      timestamp_field: { type: 'string', default: 'timestamp', description: 'Field holding the event time (epoch ms) in event-time mode.' },
      allowed_lateness: { duration: true, default: '0s', description: 'How far behind the newest event time a window stays open (event time).' },
      group_by: { type: 'array', items: { type: 'string' }, default: [], description: 'Fields whose values split each window into groups.' },
      metrics: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'name: aggregate expression over count(), count(cond), sum(x), avg(x), min(x), max(x), rate() with + - * / and numbers; division by zero gives null.' },
      top: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          required: ['field'],
          additionalProperties: false,
          properties: {
            field: { type: 'string' },
            n: { type: 'integer', minimum: 1, default: 10 },
            capacity: { type: 'integer', minimum: 1, default: 10000 },
          },
        },
        description: 'Most frequent values of a field: top_<field> [{value, count}] and top_<field>_error_bound (0 when exact; exact up to capacity distinct values, then Space-Saving).',
      },
      percentiles: {
        type: 'array',
        default: [],
        items: {
          type: 'object',
          required: ['field', 'p'],
          additionalProperties: false,
          properties: {
            field: { type: 'string' },
            p: { type: 'array', items: { type: 'number', minimum: 0, maximum: 100 }, minItems: 1 },
          },
        },
        description: 'Percentiles of a numeric field: p<NN>_<field>, within 1% relative error.',
      },
      distinct: { type: 'array', items: { type: 'string' }, default: [], description: 'Fields whose distinct values are counted: distinct_<field> (exact up to 4096, then HyperLogLog, ~1.6% standard error).' },
      exclude_heartbeats: { type: 'boolean', default: true, description: 'Ignore events with heartbeat: true.' },
      ack: { enum: ['absorb', 'emit'], default: 'absorb', description: 'absorb: a batch is acknowledged when absorbed; emit: only when the results of every window it touched are delivered.' },
    },
  },
  outputs: () => ['_late'],
  create(options, context) {
    const size = options.window.size;
    const type = options.window.type ?? 'tumbling';
    if (!(size > 0)) throw new Error('window.size must be greater than 0');
    if (type === 'tumbling' && options.window.advance !== undefined && options.window.advance !== size) {
      throw new Error('window.advance is only for hopping windows');
    }
    const advance = type === 'hopping' ? options.window.advance : size;
    if (advance === undefined || !(advance > 0)) throw new Error('hopping windows need window.advance greater than 0');
    if (advance > size) throw new Error(`window.advance (${advance}ms) must not exceed window.size (${size}ms)`);
    const lateness = options.time === 'event' ? options.allowed_lateness : 0;
    const seconds = size / 1000;

    const accumulators = new Map<string, Accumulator>();
    const metrics: Array<[string, MetricEval]> = Object.entries(options.metrics).map(([name, text]) => [name, compileMetric(name, text, accumulators)]);
    const accList = [...accumulators.values()];
    const groupPaths = options.group_by.map(splitFieldPath);
    const timePath = splitFieldPath(options.timestamp_field);
    const topPaths = options.top.map((t) => splitFieldPath(t.field));
    const pctPaths = options.percentiles.map((p) => splitFieldPath(p.field));
    const distinctPaths = options.distinct.map(splitFieldPath);

    const lateCounter = context.metrics.counter('window_late_events_total', 'Events that arrived after their window was emitted.');
    const windowsCounter = context.metrics.counter('window_results_total', 'Window results emitted (one per window and group).');
    const invalidTime = context.metrics.discarded('invalid_timestamp');

    let runtime: AggregateRuntime | undefined;
    const open = new Map<number, WindowState>();
    /** Every window ending at or before this is closed: its events are late. */
    let closedUpTo = -Infinity;
    let maxEventTime = -Infinity;
    let lastArrival = Date.now();
    let emitting: Promise<void> = Promise.resolve();

    /** Starts of the windows holding `t`, oldest first. Tumbling windows (the common case) allocate nothing. */
    const single = [0];
    const windowStarts = (t: number): number[] => {
      if (advance === size) {
        single[0] = Math.floor(t / size) * size;
        return single;
      }
      const starts: number[] = [];
      for (let s = Math.floor(t / advance) * advance; s + size > t; s -= advance) starts.push(s);
      return starts.reverse();
    };
    const NO_GROUP: unknown[] = [];

    const newGroup = (values: unknown[]): GroupState => ({
      values,
      count: 0,
      accs: new Map(accList.map((a) => [a.key, newAccState()])),
      tops: options.top.map((t) => new TopCounter(t.capacity)),
      sketches: options.percentiles.map(() => new QuantileSketch()),
      distincts: options.distinct.map(() => new DistinctCounter()),
    });

    const addTo = (g: GroupState, e: Event) => {
      g.count++;
      for (const a of accList) accumulate(a, g.accs.get(a.key)!, e);
      for (let i = 0; i < topPaths.length; i++) {
        const v = getField(e, topPaths[i]);
        if (v !== undefined && v !== null) g.tops[i].add(key(v));
      }
      for (let i = 0; i < pctPaths.length; i++) {
        const v = getField(e, pctPaths[i]);
        if (typeof v === 'number' && Number.isFinite(v)) g.sketches[i].add(v);
      }
      for (let i = 0; i < distinctPaths.length; i++) {
        const v = getField(e, distinctPaths[i]);
        if (v !== undefined && v !== null) g.distincts[i].add(key(v));
      }
    };

    const result = (w: WindowState, g: GroupState): Event => {
      const out: Event = { window_start: w.start, window_end: w.start + size };
      options.group_by.forEach((f, i) => (out[fieldName(f)] = g.values[i] ?? null));
      out.count = g.count;
      for (const [name, evaluate] of metrics) out[name] = evaluate(g.accs, seconds);
      options.top.forEach((t, i) => {
        out[`top_${fieldName(t.field)}`] = g.tops[i].top(t.n);
        out[`top_${fieldName(t.field)}_error_bound`] = g.tops[i].errorBound;
      });
      options.percentiles.forEach((p, i) => {
        for (const q of p.p) out[pName(q, p.field)] = g.sketches[i].quantile(q);
      });
      options.distinct.forEach((f, i) => (out[`distinct_${fieldName(f)}`] = g.distincts[i].count()));
      return out;
    };

    /** Emit, in order of start, every open window ending at or before `upTo`; later events for them are late. */
    const close = (upTo: number): Promise<void> => {
      if (upTo > closedUpTo) closedUpTo = upTo;
      const due = [...open.values()].filter((w) => w.start + size <= upTo).sort((a, b) => a.start - b.start);
      for (const w of due) open.delete(w.start);
      if (!due.length) return emitting;
      // Results leave in window order even when timers and process() both close windows.
      emitting = emitting.then(async () => {
        for (const w of due) {
          const results = [...w.groups.values()].map((g) => result(w, g));
          const acks = [...w.holds].map((h) => h.part());
          windowsCounter.inc(results.length);
          if (runtime) await runtime.emit(results, acks.length ? { acks } : undefined);
          else for (const a of acks) a.release();
        }
      });
      return emitting;
    };

    const tick = async () => {
      const now = Date.now();
      if (options.time === 'processing') return close(now);
      // Event time with an idle input: once no event arrived for size + allowed_lateness, the watermark
      // advances with processing time, so the last windows are not held open forever.
      const idle = now - lastArrival;
      if (open.size && idle >= size + lateness) return close(maxEventTime - lateness + idle);
    };

    return {
      attach(r) {
        runtime = r;
      },
      start() {
        lastArrival = Date.now();
        context.timers.every(Math.max(10, Math.min(advance, 1000)), tick);
      },
      async process(events, ctx) {
        const now = Date.now();
        lastArrival = now;
        const late: Event[] = [];
        const touched = new Set<WindowState>();
        for (const e of events) {
          if (options.exclude_heartbeats && e.heartbeat === true) continue;
          let t: number;
          if (options.time === 'processing') t = now;
          else {
            const v = getField(e, timePath);
            if (typeof v !== 'number' || !Number.isFinite(v)) {
              invalidTime.inc();
              continue;
            }
            t = v;
          }
          if (t > maxEventTime) maxEventTime = t;
          let isLate = false;
          let values: unknown[] | undefined;
          let gk = '';
          for (const start of windowStarts(t)) {
            if (start + size <= closedUpTo) {
              isLate = true;
              continue;
            }
            let w = open.get(start);
            if (!w) open.set(start, (w = { start, groups: new Map(), holds: new Set() }));
            if (!values) {
              values = groupPaths.length ? groupPaths.map((p) => getField(e, p)) : NO_GROUP;
              gk = groupPaths.length ? JSON.stringify(values) : '';
            }
            let g = w.groups.get(gk);
            if (!g) w.groups.set(gk, (g = newGroup(values)));
            addTo(g, e);
            touched.add(w);
          }
          if (isLate) late.push(e);
        }
        if (late.length) {
          lateCounter.inc(late.length);
          ctx.emit(late, '_late');
        }
        if (options.ack === 'emit' && touched.size) {
          const shared = new SharedHold(ctx.hold());
          shared.pending = touched.size;
          for (const w of touched) w.holds.add(shared);
        }
        if (options.time === 'event') await close(maxEventTime - lateness);
      },
      async flush() {
        await close(Infinity);
      },
    };
  },
});
