// `visor analyze --html FILE`: the live dashboard's model fed with event time, rendered once as a static page.
// The chart ring must span the whole time the logs cover, or the oldest buckets would be overwritten when
// files are read newest first (a rotated set: access.log access.log.1 ...). So before the main pass the time
// range is estimated from the first and last lines of each file (the last 256 KiB; a gzip file is
// decompressed once for that), and the bucket width chosen so the range fits in at most MAX_BUCKETS buckets.
import type { Event } from '../../core/index.js';
import { DashboardModel, renderStaticHtml } from '../dashboard/index.js';
import type { FormatChoice } from './format.js';
import { probe } from './probe.js';

/** Most chart points; beyond, buckets get coarser. */
export const MAX_BUCKETS = 1440;
/** Bucket widths tried in order: a minute (the default) up to a day. */
export const BUCKET_STEPS = [60_000, 5 * 60_000, 15 * 60_000, 3_600_000, 6 * 3_600_000, 86_400_000];

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
