// Results of a worker sent back to the main thread as columns: one array per field, strings as an array of strings
// (a run of equal ones sent once), numbers as a Float64Array; the typed arrays are transferred, not copied.
// Why, measured as the main thread's event-loop active time per line (1000-line batches, apache_access in one worker,
// the 5 fields a window reads coming back; 2 runs each on a shared 2-core machine): both ways as event objects
// (structured clone) 1,060-1,160 ns; both ways as JSON text 1,490-2,190; both ways as columns with strings joined
// into one string 1,200-1,250, with strings as arrays 850-930; input events cloned as they are and results as
// these columns 600-800, the form used for results. (Slices of a joined string would also keep a whole batch's text
// alive.) Input batches whose events all hold the same string fields go packed instead (packUniform; a tail's lines
// go as their bytes, EncodedEvents, cheaper still for the main thread: see core/encoded-lines.ts):
// it saved the worker 4.4k of its 4.7k instructions a line deserializing them, while packing costs the main thread
// about what serializing the objects did (12.4k -> 12.2k a line in all; callgrind, P1 on 100k lines, threads: 2).
import type { Event } from '../../api.js';
import { decodeLines, type LinesData } from '../../encoded-lines.js';

type Column =
  | { kind: 'string'; strings: string[]; same: Uint8Array }
  | { kind: 'number'; values: Float64Array }
  /** Anything else (booleans, objects, undefined, a field with mixed types): structured clone. */
  | { kind: 'value'; values: unknown[] };

export interface ColumnBatch {
  count: number;
  /** The distinct key sequences (in the events' own key order, which JSON outputs keep). */
  shapes: string[][];
  /** The shape of each event. */
  shapeOf: Uint16Array;
  /** Per field, its values in event order (events without the field contribute none). */
  columns: Record<string, Column>;
}

/** Values of one field while a batch is encoded. */
class ColumnBuilder {
  values: unknown[] = [];
  strings = true;
  numbers = true;
  push(v: unknown): void {
    this.values.push(v);
    if (typeof v !== 'string') this.strings = false;
    if (typeof v !== 'number') this.numbers = false;
  }
  build(): Column {
    const values = this.values;
    if (this.strings) {
      const same = new Uint8Array(values.length);
      const strings: string[] = [];
      let previous: unknown;
      for (let i = 0; i < values.length; i++) {
        const s = values[i] as string;
        if (s === previous) same[i] = 1;
        else {
          strings.push(s);
          previous = s;
        }
      }
      return { kind: 'string', strings, same };
    }
    if (this.numbers) return { kind: 'number', values: Float64Array.from(values as number[]) };
    return { kind: 'value', values };
  }
}

interface Shape { keys: string[]; columns: ColumnBuilder[] }

/** Columns of `events`, with only the fields in `fields` when given. */
export function encodeColumns(events: readonly Event[], fields?: ReadonlySet<string>): ColumnBatch {
  const builders = new Map<string, ColumnBuilder>();
  const shapes: Shape[] = [];
  const shapeIndex = new Map<string, number>();
  const shapeOf = new Uint16Array(events.length);
  const keys: string[] = [];
  let last = -1;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    keys.length = 0;
    for (const k in event) if (!fields || fields.has(k)) keys.push(k);
    let s = last >= 0 && sameKeys(shapes[last].keys, keys) ? last : -1;
    if (s < 0) {
      const id = keys.join('\n');
      s = shapeIndex.get(id) ?? -1;
      if (s < 0) {
        if (shapes.length === 0xffff) throw new Error('more than 65535 distinct event shapes in one batch');
        s = shapes.length;
        shapes.push({ keys: keys.slice(), columns: keys.map((k) => builders.get(k) ?? builders.set(k, new ColumnBuilder()).get(k)!) });
        shapeIndex.set(id, s);
      }
      last = s;
    }
    shapeOf[i] = s;
    const columns = shapes[s].columns;
    for (let k = 0; k < keys.length; k++) columns[k].push(event[keys[k]]);
  }
  const columns: Record<string, Column> = {};
  for (const [k, b] of builders) columns[k] = b.build();
  return { count: events.length, shapes: shapes.map((s) => s.keys), shapeOf, columns };
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The buffers postMessage may move instead of copying. */
export function transferables(batch: ColumnBatch): ArrayBuffer[] {
  const list: ArrayBuffer[] = [batch.shapeOf.buffer as ArrayBuffer];
  for (const c of Object.values(batch.columns)) {
    if (c.kind === 'string') list.push(c.same.buffer as ArrayBuffer);
    else if (c.kind === 'number') list.push(c.values.buffer as ArrayBuffer);
  }
  return list;
}

/** Reads one column's values in order. */
class ColumnReader {
  private index = 0;
  private strings = 0;
  private previous: unknown;
  constructor(private readonly column: Column) {}
  next(): unknown {
    const c = this.column;
    const i = this.index++;
    if (c.kind === 'string') {
      if (c.same[i] === 1) return this.previous;
      return (this.previous = c.strings[this.strings++]);
    }
    return c.values[i];
  }
}

/** The events of a batch, rebuilt with their keys in their original order. */
export function decodeColumns(batch: ColumnBatch): Event[] {
  const readers = new Map<string, ColumnReader>();
  for (const k in batch.columns) readers.set(k, new ColumnReader(batch.columns[k]));
  const shapes = batch.shapes.map((keys) => ({ keys, readers: keys.map((k) => readers.get(k)!) }));
  const events = new Array<Event>(batch.count);
  for (let i = 0; i < batch.count; i++) {
    const { keys, readers: r } = shapes[batch.shapeOf[i]];
    const event: Event = {};
    for (let k = 0; k < keys.length; k++) event[keys[k]] = r[k].next();
    events[i] = event;
  }
  return events;
}

/** A batch's events packed to be kept for a while: each string column joined into one string, its lengths in a
 * typed array. A worker thread keeps a batch's input so (PartialBuilder.select replays the filter on it): keeping the
 * events themselves until the main thread had absorbed the batch's partial made the worker's young-generation
 * collections copy every kept string and object (1M-line P1, threads: 2: worker GC 2.4 s against 0.24 s keeping
 * nothing). */
export type PackedEvents =
  | { batch: ColumnBatch; texts: Record<string, { text: string; lengths: Uint32Array }> }
  | UniformEvents
  | EncodedEvents;

/** Lines as their bytes (EncodedLines): kept as they came, decoded again for a replay. */
export interface EncodedEvents { lines: LinesData }

/** Every event with the same keys in the same order, each holding a string (a tail's { message, file }): per key
 * the strings joined, or the one string all of them hold. Also how such batches travel to a worker: structured
 * clone then copies one string a key instead of an object with its key names and a string per key and event
 * (callgrind, 100k lines of P1 with threads: 2: deserializing the events cost the worker 4.7k instructions a line,
 * the packed form 0.3k). */
export interface UniformEvents { keys: string[]; count: number; texts: Array<{ text: string; lengths: Uint32Array } | { same: string }> }

export function packEvents(events: readonly Event[]): PackedEvents {
  return packUniform(events) ?? packColumns(events);
}

/** The common case without encodeColumns' bookkeeping; undefined when it is not that case. */
export function packUniform(events: readonly Event[]): UniformEvents | undefined {
  if (events.length === 0) return undefined;
  const keys = Object.keys(events[0]);
  const values = keys.map(() => new Array<string>(events.length));
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    let k = 0;
    for (const key in e) {
      const v = e[key];
      if (k >= keys.length || key !== keys[k] || typeof v !== 'string') return undefined;
      values[k++][i] = v;
    }
    if (k !== keys.length) return undefined;
  }
  return { keys, count: events.length, texts: values.map((v) => (allSame(v) ? { same: v[0] } : joined(v))) };
}

function allSame(strings: string[]): boolean {
  const first = strings[0];
  for (let i = 1; i < strings.length; i++) if (strings[i] !== first) return false;
  return true;
}

function joined(strings: string[]): { text: string; lengths: Uint32Array } {
  const lengths = new Uint32Array(strings.length);
  for (let i = 0; i < lengths.length; i++) lengths[i] = strings[i].length;
  return { text: strings.join(''), lengths };
}

function cut(t: { text: string; lengths: Uint32Array } | { same: string }, count = 0): string[] {
  if ('same' in t) return new Array<string>(count).fill(t.same);
  const strings = new Array<string>(t.lengths.length);
  for (let i = 0, at = 0; i < strings.length; i++) strings[i] = t.text.slice(at, (at += t.lengths[i]));
  return strings;
}

function packColumns(events: readonly Event[]): PackedEvents {
  const batch = encodeColumns(events);
  const texts: Record<string, { text: string; lengths: Uint32Array }> = {};
  for (const k in batch.columns) {
    const c = batch.columns[k];
    if (c.kind !== 'string') continue;
    texts[k] = joined(c.strings);
    c.strings = [];
  }
  return { batch, texts };
}

export function unpackEvents(packed: PackedEvents): Event[] {
  if ('lines' in packed) return decodeLines(packed.lines);
  if ('keys' in packed) {
    const columns = packed.texts.map((t) => cut(t, packed.count));
    const events = new Array<Event>(packed.count);
    for (let i = 0; i < events.length; i++) {
      const e: Event = {};
      for (let k = 0; k < packed.keys.length; k++) e[packed.keys[k]] = columns[k][i];
      events[i] = e;
    }
    return events;
  }
  const columns: Record<string, Column> = {};
  for (const k in packed.batch.columns) {
    const c = packed.batch.columns[k];
    const t = packed.texts[k];
    if (c.kind !== 'string' || !t) {
      columns[k] = c;
      continue;
    }
    columns[k] = { ...c, strings: cut(t) };
  }
  return decodeColumns({ ...packed.batch, columns });
}
