// What a window result is made of, shared by `window` (which fills group states from events) and
// `window_merge` (which fills them from partials): the per-group state, how an event is added, how a result
// event is built from a state, and how a state is serialized into a partial and merged back.
import { createHash } from 'node:crypto';
import {
  accumulate, detachString, fieldReader, mergeAccState, newAccState, splitFieldPath,
  type Accumulator, type AccState, type AggregateExpression, type CheckProblem, type Event, type OptionSchema, type OptionsOf,
} from '../../core/index.js';
import { checkMetric, compileMetric } from './metrics.js';
import { PARTIAL_VERSION } from './partial.js';
import { DistinctCounter, QuantileSketch, TopCounter, type DistinctJSON, type QuantileJSON, type TopJSON } from './sketches.js';

/** Schema properties of the shape options, shared by both plugins' schemas. */
export const shapeSchema = {
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
    check: windowShapeProblems,
  },
  group_by: { type: 'array', items: { type: 'string' }, default: [], description: 'Fields whose values split each window into groups.' },
  metrics: { type: 'object', additionalProperties: { type: 'string', check: checkMetric }, default: {}, description: 'name: aggregate expression over count(), count(cond), sum(x), avg(x), min(x), max(x), rate() with + - * / % and numbers; division by zero gives null.' },
  top: {
    type: 'array',
    default: [],
    items: {
      type: 'object',
      required: ['field'],
      additionalProperties: false,
      properties: {
        field: { type: 'string', description: 'Field whose values are counted.' },
        n: { type: 'integer', minimum: 1, default: 10, description: 'Most frequent values in the result.' },
        capacity: { type: 'integer', minimum: 1, default: 10000, description: 'Distinct values counted exactly; beyond, Space-Saving (with an error bound).' },
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
        field: { type: 'string', description: 'Numeric field.' },
        p: { type: 'array', items: { type: 'number', minimum: 0, maximum: 100 }, minItems: 1, description: 'Percentiles, 0 to 100, e.g. [50, 95, 99].' },
      },
    },
    description: 'Percentiles of a numeric field: p<NN>_<field>, within 1% relative error.',
  },
  distinct: { type: 'array', items: { type: 'string' }, default: [], description: 'Fields whose distinct values are counted: distinct_<field> (exact up to 4096, then HyperLogLog, ~1.6% standard error).' },
} as const satisfies Record<string, OptionSchema>;

/** The options that decide a result's shape (the same in `window` and `window_merge`), as validated. */
export type ShapeOptions = OptionsOf<{ type: 'object'; required: ['window']; properties: typeof shapeSchema }>;

export interface GroupState {
  values: unknown[];
  count: number;
  accs: Map<string, AccState>;
  /** The same states in the order of `accList`, for the per-event loop. */
  accList: AccState[];
  tops: TopCounter[];
  sketches: QuantileSketch[];
  distincts: DistinctCounter[];
}

/** A group's events of one batch as a worker thread gathers them (window's PartialBuilder): what it takes to leave
 * a GroupState exactly as adding the same events to it one by one would (Shape.mergeBatch). */
export interface BatchGroupState {
  values: unknown[];
  count: number;
  accList: AccState[];
  tops: BatchTop[];
  sketches: QuantileSketch[];
  /** The distinct values in order of first appearance (a Set keeps that order). */
  distincts: Set<string>[];
}

/** A top field's values over one batch: distinct values first seen first, their counts, each event's value in order. */
export class BatchTop {
  private readonly index = new Map<string, number>();
  readonly values: string[] = [];
  readonly counts: number[] = [];
  readonly order: number[] = [];
  add(value: string): void {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.index.set(value, i);
      this.values.push(value);
      this.counts.push(1);
    } else this.counts[i]++;
    this.order.push(i);
  }
}

/** A BatchGroupState as it travels (structured clone), group key included. Top and distinct values are numbers
 * of a dictionary the sender and the receiver keep (StringIds, StringTable): the same values come in every batch.
 * Plain arrays, not transferred typed arrays: moving ~30 small ArrayBuffers a batch cost the worker more than
 * copying the numbers. */
export interface BatchGroup {
  key: string;
  values: unknown[];
  count: number;
  accs: AccState[];
  /** Per top field: its distinct values (dictionary numbers), their counts, each event's value (an index into ids). */
  tops: Array<{ ids: number[]; counts: number[]; order: number[] }>;
  sketches: QuantileJSON[];
  distincts: number[][];
}

/** The sender's half of the dictionary: a number for each string, the strings new since the last take(). Starts
 * afresh past `limit` strings (a flood of distinct values: in the bench corpus most paths are new to each window),
 * which the receiver learns from `reset`; both halves hold at most that many. */
export class StringIds {
  private readonly ids = new Map<string, number>();
  private fresh: string[] = [];
  private base = 0;
  private reset = false;
  constructor(private readonly limit = 1 << 16) {}

  /** Call before a batch's first id(): a dictionary past its limit starts afresh here, between batches. */
  startBatch(): void {
    if (this.ids.size < this.limit) return;
    this.ids.clear();
    this.fresh = [];
    this.base = 0;
    this.reset = true;
  }

  id(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.ids.size;
      // Detached: a value cut out of a line keeps the line's whole batch text alive (P1, 1M lines: the worker's
      // heap grew to 250 MB).
      const own = detachString(s);
      this.ids.set(own, i);
      this.fresh.push(own);
    }
    return i;
  }

  /** What the receiver adds to its table: the strings from number `base` on. */
  take(): StringDelta {
    const d: StringDelta = { base: this.base, strings: this.fresh, ...(this.reset ? { reset: true } : {}) };
    this.base = this.ids.size;
    this.fresh = [];
    this.reset = false;
    return d;
  }
}

export interface StringDelta { base: number; strings: string[]; reset?: boolean }

/** The receiver's half: the strings by number, from the deltas in the order they were taken. */
export class StringTable {
  strings: string[] = [];
  add(d: StringDelta): void {
    if (d.reset) this.strings = [];
    if (d.base !== this.strings.length) throw new Error(`string dictionary out of step: ${this.strings.length} strings, the delta starts at ${d.base}`);
    for (const s of d.strings) this.strings.push(s);
  }
}

/** What addTo adds an event to: a window's group, or a batch's. */
type Adders = Pick<GroupState, 'count' | 'accList'> & { tops: Array<{ add(v: string): void }>; sketches: QuantileSketch[]; distincts: Array<{ add(v: string): unknown }> };

/** One group of a partial: counts, accumulator states (in accumulator order: [count, sum, n, min, max]), the top
 * entries (at most `partial_top` each), the percentile sketches and the distinct counters. */
export interface PartialGroup {
  values: unknown[];
  count: number;
  accs: Array<[number, number, number, number | null, number | null]>;
  tops: TopJSON[];
  sketches: QuantileJSON[];
  distincts: DistinctJSON[];
}

export const fieldName = (f: string) => f.replace(/[^A-Za-z0-9_]/g, '_');
const pName = (p: number, field: string) => `p${String(p).replace('.', '_')}_${fieldName(field)}`;
/** The counting key of a value. Finite numbers (status, bytes...) go through String(), which V8 serves from its
 * number-to-string cache, rather than JSON.stringify, which makes a new string per call; same text either way. */
export const key = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : JSON.stringify(v) ?? 'null');

export interface Shape {
  accList: Accumulator[];
  newGroup(values: unknown[]): GroupState;
  addTo(g: Adders, e: Event): void;
  newBatchGroup(values: unknown[]): BatchGroupState;
  /** What travels of a batch's group, and the buffers to transfer. */
  batchGroup(key: string, g: BatchGroupState, ids: StringIds): BatchGroup;
  /** Adds a batch's group into `g`: the state adding its events one by one would give (sums of fractions up to
   * floating-point rounding: they add per batch). */
  mergeBatch(g: GroupState, p: BatchGroup, table: StringTable): void;
  /** The result event of one window and group. */
  result(start: number, end: number, g: GroupState): Event;
  toPartial(g: GroupState, topLimit: number): PartialGroup;
  /** Adds a partial's group into `g`. `exactTop[i]`: top field i is the partition key (omitted entries add no error). */
  merge(g: GroupState, p: PartialGroup, exactTop: boolean[]): void;
  /** What partials carry so that a merger can check it was configured the same. */
  spec: Record<string, unknown>;
  fingerprint: string;
}

/** What is wrong with a window shape (sizes in ms, after conversion), each at the key it is about: the check of
 * the `window` option, so that `visor validate` reports it; windowTiming applies the same rules. */
function windowShapeProblems(value: unknown): CheckProblem[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return []; // left to `type`
  const w = value as Partial<Record<'type' | 'size' | 'advance', unknown>>;
  const size = typeof w.size === 'number' ? w.size : undefined;
  const advance = typeof w.advance === 'number' ? w.advance : undefined;
  if (size === undefined || (w.advance !== undefined && advance === undefined)) return []; // missing or invalid: reported by the schema
  if (!(size > 0)) return [{ at: 'size', message: 'size must be greater than 0, e.g. size: 1m' }];
  if (w.type === 'hopping') {
    if (advance === undefined) return [{ at: 'type', message: 'hopping windows need advance (the time between window starts), e.g. { type: hopping, size: 5m, advance: 1m }' }];
    if (!(advance > 0)) return [{ at: 'advance', message: 'advance must be greater than 0, e.g. advance: 1m' }];
    if (advance > size) return [{ at: 'advance', message: `advance (${advance}ms) must not exceed size (${size}ms)` }];
  } else if (advance !== undefined && advance !== size) {
    return [{ at: 'advance', message: 'advance is only for hopping windows: add type: hopping, or remove advance' }];
  }
  return [];
}

/** The window shape's [size, advance] in ms; throws for a shape the schema rejects (options not validated). */
export function windowTiming(w: ShapeOptions['window']): [number, number] {
  if (typeof w?.size !== 'number' || (w.advance !== undefined && typeof w.advance !== 'number')) throw new Error('window: size and advance must be durations in ms');
  const [problem] = windowShapeProblems(w);
  if (problem) throw new Error(`window: ${problem.message}`);
  return [w.size, w.type === 'hopping' ? w.advance! : w.size];
}

export function compileShape(options: ShapeOptions): Shape {
  const [size, advance] = windowTiming(options.window);
  const accumulators = new Map<string, Accumulator>();
  const metrics: Array<[string, AggregateExpression]> = Object.entries(options.metrics).map(([name, text]) => [name, compileMetric(name, text, accumulators)]);
  const accList = [...accumulators.values()];
  const topReaders = options.top.map((t) => fieldReader(splitFieldPath(t.field)));
  const pctReaders = options.percentiles.map((p) => fieldReader(splitFieldPath(p.field)));
  const distinctReaders = options.distinct.map((f) => fieldReader(splitFieldPath(f)));

  // Result field names, computed once.
  const groupNames = options.group_by.map(fieldName);
  const topNames = options.top.map((t) => [`top_${fieldName(t.field)}`, `top_${fieldName(t.field)}_error_bound`] as const);
  const pctNames = options.percentiles.map((p) => p.p.map((q) => pName(q, p.field)));
  const distinctNames = options.distinct.map((f) => `distinct_${fieldName(f)}`);

  const spec = {
    version: PARTIAL_VERSION,
    window: { size, advance },
    group_by: options.group_by,
    metrics: options.metrics,
    accumulators: accList.map((a) => a.key),
    top: options.top.map((t) => ({ field: t.field, n: t.n, capacity: t.capacity })),
    percentiles: options.percentiles.map((p) => ({ field: p.field, p: p.p })),
    distinct: options.distinct,
  };
  const fingerprint = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);

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

  return {
    accList,
    spec,
    fingerprint,
    newGroup,
    newBatchGroup: (values) => ({
      values,
      count: 0,
      accList: accList.map(() => newAccState()),
      tops: options.top.map(() => new BatchTop()),
      sketches: options.percentiles.map(() => new QuantileSketch()),
      distincts: options.distinct.map(() => new Set<string>()),
    }),
    batchGroup(key, g, ids) {
      const tops = g.tops.map((t) => {
        const numbers = new Array<number>(t.values.length);
        for (let i = 0; i < numbers.length; i++) numbers[i] = ids.id(t.values[i]);
        return { ids: numbers, counts: t.counts, order: t.order };
      });
      const distincts = g.distincts.map((d) => {
        const numbers: number[] = [];
        for (const v of d) numbers.push(ids.id(v));
        return numbers;
      });
      return { key, values: g.values, count: g.count, accs: g.accList, tops, sketches: g.sketches.map((q) => q.toJSON()), distincts };
    },
    mergeBatch(g, p, table) {
      const strings = table.strings;
      g.count += p.count;
      for (let i = 0; i < g.accList.length; i++) mergeAccState(g.accList[i], p.accs[i]);
      for (let i = 0; i < g.tops.length; i++) {
        const t = p.tops[i];
        const values = new Array<string>(t.ids.length);
        for (let j = 0; j < values.length; j++) values[j] = strings[t.ids[j]];
        g.tops[i].addBatch(values, t.counts, t.order);
      }
      for (let i = 0; i < g.sketches.length; i++) g.sketches[i].merge(p.sketches[i]);
      for (let i = 0; i < g.distincts.length; i++) for (const id of p.distincts[i]) g.distincts[i].add(strings[id]);
    },
    addTo(g, e) {
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
    },
    result(start, end, g) {
      const seconds = (end - start) / 1000;
      const out: Event = { window_start: start, window_end: end };
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
    },
    toPartial(g, topLimit) {
      return {
        values: g.values,
        count: g.count,
        accs: g.accList.map((s) => [s.count, s.sum, s.n, s.min, s.max]),
        tops: g.tops.map((t) => t.toJSON(topLimit)),
        sketches: g.sketches.map((s) => s.toJSON()),
        distincts: g.distincts.map((d) => d.toJSON()),
      };
    },
    merge(g, p, exactTop) {
      g.count += p.count;
      for (let i = 0; i < g.accList.length; i++) {
        const [count, sum, n, min, max] = p.accs[i];
        mergeAccState(g.accList[i], { count, sum, n, min, max });
      }
      for (let i = 0; i < g.tops.length; i++) g.tops[i].merge(p.tops[i], !exactTop[i]);
      for (let i = 0; i < g.sketches.length; i++) g.sketches[i].merge(p.sketches[i]);
      for (let i = 0; i < g.distincts.length; i++) g.distincts[i].merge(p.distincts[i]);
    },
  };
}
