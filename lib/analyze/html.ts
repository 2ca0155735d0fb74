// `visor analyze --html FILE`: the live dashboard's model fed with event time, rendered once as a static page.
// The chart ring must span the whole time the logs cover, or the oldest buckets would be overwritten when
// files are read newest first (a rotated set: access.log access.log.1 ...). So before the main pass the time
// range is estimated from the first and last lines of each file (the last 256 KiB; a gzip file is
// decompressed once for that), and the bucket width chosen so the range fits in at most MAX_BUCKETS buckets.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Event } from '../../core/index.js';
import { DashboardModel, renderStaticHtml } from '../dashboard/index.js';
import { detectFormat, DETECT_LINES, type FormatChoice, type LineParse } from './format.js';

/** Most chart points; beyond, buckets get coarser. */
export const MAX_BUCKETS = 1440;
/** Bucket widths tried in order: a minute (the default) up to a day. */
export const BUCKET_STEPS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000];
const PROBE_BYTES = 256 * 1024;

/** The bucket width and count for a log covering `rangeMs`: minutes while they fit in MAX_BUCKETS, else
 * the first coarser step that fits; a range beyond MAX_BUCKETS days keeps only its last MAX_BUCKETS days
 * in the charts (the tables and totals still cover everything). */
export function bucketsFor(rangeMs: number): { bucketMs: number; buckets: number } {
  for (const step of BUCKET_STEPS) {
    const n = Math.ceil(Math.max(0, rangeMs) / step) + 2;
    if (n <= MAX_BUCKETS) return { bucketMs: step, buckets: Math.max(n, 10) };
  }
  return { bucketMs: BUCKET_STEPS[BUCKET_STEPS.length - 1]!, buckets: MAX_BUCKETS };
}

async function readAll(stream: NodeJS.ReadableStream, keep: (chunk: Buffer) => boolean): Promise<void> {
  for await (const chunk of stream) if (!keep(chunk as Buffer)) break;
}

/** The first PROBE_BYTES of text, decompressed for gzip. */
async function head(file: string, gzip: boolean): Promise<string> {
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  const src = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => (src as NodeJS.ReadableStream & { destroy(e: Error): void }).destroy(e));
  const parts: Buffer[] = [];
  let n = 0;
  try {
    await readAll(src, (c) => { parts.push(c); n += c.length; return n < PROBE_BYTES; });
  } finally {
    raw.destroy();
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The last PROBE_BYTES of text: read at the end of a plain file, kept while decompressing a gzip one. */
async function tail(file: string, gzip: boolean, size: number): Promise<string> {
  if (!gzip) {
    const fh = await open(file, 'r');
    try {
      const len = Math.min(size, PROBE_BYTES);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  }
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const src = raw.pipe(createGunzip({ chunkSize: 1 << 20 }));
  raw.on('error', (e) => src.destroy(e));
  let last: Buffer = Buffer.alloc(0);
  await readAll(src, (c) => {
    last = c.length >= PROBE_BYTES ? c.subarray(c.length - PROBE_BYTES) : Buffer.concat([last, c]).subarray(-PROBE_BYTES);
    return true;
  });
  return last.toString('utf8');
}

/** Earliest and latest timestamps among the first and last lines of a file, if any parse. */
async function probe(file: string, gzip: boolean, size: number, choice: FormatChoice): Promise<[number, number] | undefined> {
  const headLines = (await head(file, gzip)).split('\n').slice(0, -1);
  const tailLines = (await tail(file, gzip, size)).split('\n').slice(1);
  let parse: LineParse | undefined = choice.fixed?.parse;
  parse ??= detectFormat(headLines.filter((l) => l.trim()).slice(0, DETECT_LINES), choice).parse;
  let min = Infinity;
  let max = -Infinity;
  for (const line of [...headLines, ...tailLines]) {
    const e: Event = {};
    try {
      if (parse(line, e) !== undefined) continue;
    } catch {
      continue;
    }
    const ts = e.timestamp;
    if (typeof ts === 'number' && ts === ts) {
      if (ts < min) min = ts;
      if (ts > max) max = ts;
    }
  }
  return min <= max ? [min, max] : undefined;
}

export interface HtmlReport {
  sink: { add(event: Event, now?: number): void };
  bucketMs: number;
  buckets: number;
  /** The page, at `last` (the latest event time). */
  render(last: number): string;
}

export async function htmlReport(
  files: Array<{ file: string; gzip: boolean; size: number }>, choice: FormatChoice, opts: { top: number; capacity: number; title: string; messageLevel?: string },
): Promise<HtmlReport> {
  let min = Infinity;
  let max = -Infinity;
  for (const f of files) {
    const r = await probe(f.file, f.gzip, f.size, choice).catch(() => undefined); // unreadable: reported by the main pass
    if (!r) continue;
    if (r[0] < min) min = r[0];
    if (r[1] > max) max = r[1];
  }
  const { bucketMs, buckets } = bucketsFor(min <= max ? max - min : 0);
  const model = new DashboardModel({ bucketMs, buckets, topN: opts.top, topWindowMs: Infinity, capacity: opts.capacity, alerts: 0, title: opts.title, messageLevel: opts.messageLevel });
  return {
    sink: model,
    bucketMs,
    buckets,
    render: (last) => renderStaticHtml(model.snapshot(last, last)),
  };
}
