// A batch of lines still as the bytes they were read as: an input hands them over undecoded, and only a consumer
// that needs events decodes them. A parallel filter's worker thread gets the bytes themselves (one copy out of the
// reader's buffer, transferred), so the main thread makes no string per line and packs none: measured per 1M lines
// (tail's 256 KiB reads, 1000-line batches, to a worker that only receives them) 0.39 CPU-s of the main thread
// as strings, events and packUniform against 0.13 s as bytes, the file's read included in both; in the whole
// pipeline (1M-line P1, threads: 2) the main thread went from 1.25-1.30 to 1.02-1.06 CPU-s and the worker, which
// decodes from bytes instead of cutting joined strings, from 1.61-1.62 to 1.53-1.56.
import type { Event } from './api.js';

/** What travels to a worker: `bounds` holds a start and an end offset in `bytes` per line. */
export interface LinesData {
  bytes: Uint8Array;
  bounds: Uint32Array;
  /** The number of lines, which stays when the buffers are moved to a worker (and read as empty here). */
  count: number;
  encoding: 'utf8' | 'latin1';
  /** The line goes to `message`; then these fields, in this order, the same in every event (tail's path_field). */
  fields: Record<string, string>;
}

/** The events of `data`, as the input would have built them: { message, ...fields }. */
export function decodeLines(data: LinesData): Event[] {
  const { bounds, encoding, fields } = data;
  if (bounds.length >> 1 !== data.count) {
    throw new Error('the bytes of these lines were handed to a worker thread: they cannot be decoded here');
  }
  const buf = Buffer.from(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength);
  const keys = Object.keys(fields);
  const events = new Array<Event>(bounds.length >> 1);
  for (let i = 0; i < events.length; i++) {
    const e: Event = { message: buf.toString(encoding, bounds[2 * i], bounds[2 * i + 1]) };
    for (let k = 0; k < keys.length; k++) e[keys[k]] = fields[keys[k]];
    events[i] = e;
  }
  return events;
}

/** Lines an input emits undecoded (InputRuntime.emit). `bytes` may be a view of the reader's own buffer, valid only
 * until emit returns: the runtime decodes them, or copies them out (own()), before that. */
export class EncodedLines {
  private readonly data: LinesData;

  constructor(data: Omit<LinesData, 'count'>) {
    this.data = { ...data, count: data.bounds.length >> 1 };
  }

  get count(): number {
    return this.data.count;
  }

  decode(): Event[] {
    return decodeLines(this.data);
  }

  /** The lines with bytes of their own, in a buffer nothing else holds (so that it can be transferred). */
  own(): LinesData {
    const bytes = new Uint8Array(this.data.bytes.byteLength);
    bytes.set(this.data.bytes);
    return { ...this.data, bytes, bounds: this.data.bounds.slice() };
  }
}
