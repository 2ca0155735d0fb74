// Windowed aggregation: tumbling or hopping windows over event time (the `timestamp` field, epoch ms) or
// processing time, optionally per group; metrics are aggregate expressions (count(status >= 500) / count()),
// plus top-N values, percentiles and distinct counts. One result event per window and group.
import { definePlugin, detachString, getField, splitFieldPath, type AckHold, type AggregateRuntime, type Event } from '../../../core/index.js';
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
  /** The same states in the order of `accList`, for the per-event loop. */
  accList: AccState[];
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
/** The counting key of a value. Finite numbers (status, bytes...) go through String(), which V8 serves from its
 * number-to-string cache, rather than JSON.stringify, which makes a new string per call; same text either way. */
const key = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : JSON.stringify(v) ?? 'null');
/** A reader specialised for its field path (one level, the common case, without a loop). */
const reader = (path: string[]): ((e: Event) => unknown) => {
  if (path.length !== 1) return (e) => getField(e, path);
  const [k] = path;
  return (e) => (Object.hasOwn(e, k) ? e[k] : undefined);
};

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
    const readTime = reader(splitFieldPath(options.timestamp_field));
    const topReaders = options.top.map((t) => reader(splitFieldPath(t.field)));
    const pctReaders = options.percentiles.map((p) => reader(splitFieldPath(p.field)));
    const distinctReaders = options.distinct.map((f) => reader(splitFieldPath(f)));

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

    const newGroup = (values: unknown[]): GroupState => {
      const states = accList.map(() => newAccState());
      return {
        values,
        count: 0,
        accs: new Map(accList.map((a, i) => [a.key, states[i]])),
        accList: states,
        tops: options.top.map((t) => new TopCounter(t.capacity)),
        sketches: options.percentiles.map(() => new QuantileSketch()),
        distincts: options.distinct.map(() => new DistinctCounter()),
      };
    };

    const addTo = (g: GroupState, e: Event) => {
      g.count++;
      for (let i = 0; i < accList.length; i++) accumulate(accList[i], g.accList[i], e);
      for (let i = 0; i < topReaders.length; i++) {
        const v = topReaders[i](e);
        if (v !== undefined && v !== null) g.tops[i].add(key(v));
      }
      for (let i = 0; i < pctReaders.length; i++) {
        const v = pctReaders[i](e);
        if (typeof v === 'number' && Number.isFinite(v)) g.sketches[i].add(v);
      }
      for (let i = 0; i < distinctReaders.length; i++) {
        const v = distinctReaders[i](e);
        if (v !== undefined && v !== null) g.distincts[i].add(key(v));
      }
    };

    // Result field names, computed once.
    const groupNames = options.group_by.map(fieldName);
    const topNames = options.top.map((t) => [`top_${fieldName(t.field)}`, `top_${fieldName(t.field)}_error_bound`] as const);
    const pctNames = options.percentiles.map((p) => p.p.map((q) => pName(q, p.field)));
    const distinctNames = options.distinct.map((f) => `distinct_${fieldName(f)}`);

    const result = (w: WindowState, g: GroupState): Event => {
      const out: Event = { window_start: w.start, window_end: w.start + size };
      for (let i = 0; i < groupNames.length; i++) out[groupNames[i]] = g.values[i] ?? null;
      out.count = g.count;
      for (const [name, evaluate] of metrics) out[name] = evaluate(g.accs, seconds);
      for (let i = 0; i < topNames.length; i++) {
        out[topNames[i][0]] = g.tops[i].top(options.top[i].n);
        out[topNames[i][1]] = g.tops[i].errorBound;
      }
      for (let i = 0; i < pctNames.length; i++) {
        const ps = options.percentiles[i].p;
        for (let j = 0; j < ps.length; j++) out[pctNames[i][j]] = g.sketches[i].quantile(ps[j]);
      }
      for (let i = 0; i < distinctNames.length; i++) out[distinctNames[i]] = g.distincts[i].count();
      return out;
    };

    /** Emit, in order of start, every open window ending at or before `upTo`; later events for them are late. */
    const close = (upTo: number): Promise<void> => {
      if (upTo > closedUpTo) closedUpTo = upTo;
      let due: WindowState[] | undefined;
      for (const w of open.values()) if (w.start + size <= upTo) (due ??= []).push(w);
      if (!due) return emitting; // the common case (most batches close no window): nothing allocated
      due.sort((a, b) => a.start - b.start);
      for (const w of due) open.delete(w.start);
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
        let late: Event[] | undefined;
        const touched = options.ack === 'emit' ? new Set<WindowState>() : undefined;
        // Consecutive events mostly fall in the same window: look it up in `open` only when it changes.
        let last: WindowState | undefined;
        let newest = maxEventTime; // a local: a captured variable would box each new time into a heap number
        const add = (start: number, e: Event, values: unknown[], gk: string) => {
          let w = last !== undefined && last.start === start ? last : open.get(start);
          if (!w) open.set(start, (w = { start, groups: new Map(), holds: new Set() }));
          last = w;
          let g = w.groups.get(gk);
          if (!g) w.groups.set(detachString(gk), (g = newGroup(values.map((v) => (typeof v === 'string' ? detachString(v) : v)))));
          addTo(g, e);
          touched?.add(w);
        };
        for (let i = 0; i < events.length; i++) {
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
        maxEventTime = newest;
        if (late) {
          lateCounter.inc(late.length);
          ctx.emit(late, '_late');
        }
        if (touched?.size) {
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
