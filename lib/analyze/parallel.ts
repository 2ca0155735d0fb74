// `visor analyze`: a large plain file is cut at line boundaries into parts read at once — the first by the main
// thread, the others by worker threads — each into its own ReportAccumulator. The counters add up exactly; the
// top lists are merged like the dashboard merges its slices (counts add, error bounds add), which is exact
// while no list went past --capacity distinct values (error bounds 0).
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Event } from '../../core/index.js';
import type { DetectSettings } from '../detect/index.js';
import type { ErrorLogJSON, PanelJSON, ReportAccumulator, TopItem } from '../stats/index.js';
import type { MatchRecords } from './detect.js';
import { detectFormat, DETECT_LINES, type Detection, type FormatChoice } from './format.js';
import { isBlank, type FileResult } from './read.js';

/** Files smaller than this are read by one thread (a worker costs ~50 ms to start). */
export const PARALLEL_MIN_BYTES = 32 << 20;
/** Each part at least this large. */
const PART_MIN_BYTES = 16 << 20;
const MAX_THREADS = 4;
const PROBE_BYTES = 64 << 10;

const LISTS = ['top_clients', 'top_error_clients', 'top_paths'] as const;
type ListName = (typeof LISTS)[number];

/** A ReportAccumulator's counts, as a worker sends them. */
export interface AccState {
  requests: number;
  errors: number;
  bytes: number;
  errorLogLines: number;
  seen: number;
  statusClasses: Record<string, number>;
  /** Levels, modules and message templates (with samples). */
  errorLog: ErrorLogJSON;
  tops: Record<ListName, { items: TopItem[]; bound: number }>;
  panels?: PanelJSON;
}

export interface PartJob {
  file: string;
  start: number;
  end: number;
  /** The --format / --log-format that gives the parser chosen for the file. */
  parser: { format?: string; logFormat?: string };
  label: string;
  timezone: string;
  errorLogFormat?: string;
  capacity: number;
  messageLevel?: string;
  /** Attack detection's options, when on: the worker records its part's matches (detect.ts). */
  detect?: DetectSettings;
}

export type PartMessage =
  | { type: 'progress'; bytes: number; lines: number }
  | { type: 'done'; result: FileResult; acc: AccState; matches?: MatchRecords }
  | { type: 'error'; message: string; code?: string };

export function accState(acc: ReportAccumulator, capacity: number): AccState {
  return {
    requests: acc.requests,
    errors: acc.errors,
    bytes: acc.bytes,
    errorLogLines: acc.errorLogLines,
    seen: acc.seen,
    statusClasses: { ...acc.statusClasses },
    errorLog: acc.errorLog.toJSON(capacity),
    tops: Object.fromEntries(LISTS.map((l) => [l, { items: acc.tops[l].top(capacity), bound: acc.tops[l].errorBound }])) as AccState['tops'],
    panels: acc.panels?.toJSON(),
  };
}

/** Adds a part's counters to `acc` (the main thread's). Top lists are kept apart: see mergedTops. */
export function addCounters(acc: ReportAccumulator, s: AccState): void {
  acc.requests += s.requests;
  acc.errors += s.errors;
  acc.bytes += s.bytes;
  acc.errorLogLines += s.errorLogLines;
  acc.seen += s.seen;
  for (const k of Object.keys(acc.statusClasses) as Array<keyof ReportAccumulator['statusClasses']>) acc.statusClasses[k] += s.statusClasses[k] ?? 0;
  acc.errorLog.merge(s.errorLog);
  if (s.panels) acc.panels?.merge(s.panels);
}

/** Replaces the top lists of a report event (made by `acc`) with those of `acc` and the parts together (the error
 * log's are merged by addCounters already). */
export function mergeTops(event: Event, acc: ReportAccumulator, parts: AccState[], topN: number, capacity: number): void {
  const bounds: Record<string, number> = {};
  for (const list of LISTS) {
    const m = new Map<string, number>();
    let bound = acc.tops[list].errorBound;
    for (const { value, count } of acc.tops[list].top(capacity)) m.set(value, count);
    for (const p of parts) {
      for (const { value, count } of p.tops[list].items) m.set(value, (m.get(value) ?? 0) + count);
      bound += p.tops[list].bound;
    }
    const items: TopItem[] = [];
    m.forEach((count, value) => items.push({ value, count }));
    items.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    event[list] = items.slice(0, topN);
    bounds[list] = bound;
  }
  event.top_error_bounds = { ...(event.top_error_bounds as Record<string, number>), ...bounds };
}

/** Adds a later part's file figures to the file's result (line numbers shifted by the lines before it). */
export function addPart(r: FileResult, p: FileResult): void {
  const offset = r.lines;
  r.lines += p.lines;
  r.parsed += p.parsed;
  r.unparsed += p.unparsed;
  r.long_lines += p.long_lines;
  const reasons = { ...r.unparsed_reasons };
  for (const [k, v] of Object.entries(p.unparsed_reasons)) {
    const had = reasons[k];
    reasons[k] = had ? { count: had.count + v.count, first_line: had.first_line } : { count: v.count, first_line: v.first_line + offset };
  }
  r.unparsed_reasons = Object.fromEntries(Object.entries(reasons).sort((a, b) => b[1].count - a[1].count));
  if (p.first_timestamp !== null && (r.first_timestamp === null || p.first_timestamp < r.first_timestamp)) r.first_timestamp = p.first_timestamp;
  if (p.last_timestamp !== null && (r.last_timestamp === null || p.last_timestamp > r.last_timestamp)) r.last_timestamp = p.last_timestamp;
}

/** Threads for a file of `size` bytes: VISOR_ANALYZE_THREADS when set (tests), else by size and cores. */
export function threadsFor(size: number): number {
  const forced = Number(process.env.VISOR_ANALYZE_THREADS);
  if (Number.isInteger(forced) && forced >= 1) return forced;
  if (size < PARALLEL_MIN_BYTES) return 1;
  return Math.max(1, Math.min(os.availableParallelism(), MAX_THREADS, Math.floor(size / PART_MIN_BYTES)));
}

export interface PartPlan {
  detection: Detection;
  /** Part boundaries: [0, b1, ..., size]; every boundary but 0 and size follows a newline. */
  bounds: number[];
}

/** Detects the format from the file's head (the same first lines the one-thread reading uses) and cuts the
 * file after a newline near each 1/threads of it; undefined when that is not possible (few, huge lines). */
export async function planParts(file: string, size: number, threads: number, choice: FormatChoice): Promise<PartPlan | undefined> {
  const fh = await open(file, 'r');
  try {
    const read = async (pos: number) => {
      const buf = Buffer.alloc(Math.min(PROBE_BYTES, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      return buf.subarray(0, bytesRead);
    };
    const headBuf = await read(0);
    const lastNl = headBuf.lastIndexOf(10);
    if (lastNl < 0) return undefined;
    const sample = headBuf.subarray(0, lastNl).toString('utf8').split('\n').filter((l) => !isBlank(l));
    if (sample.length < DETECT_LINES) return undefined;
    const detection = choice.fixed ?? detectFormat(sample.slice(0, DETECT_LINES), choice);
    const bounds = [0];
    for (let k = 1; k < threads; k++) {
      const pos = Math.floor((k * size) / threads);
      const buf = await read(pos);
      const nl = buf.indexOf(10);
      if (nl < 0) return undefined;
      const at = pos + nl + 1;
      if (at > bounds[bounds.length - 1]! && at < size) bounds.push(at);
    }
    bounds.push(size);
    return bounds.length > 2 ? { detection, bounds } : undefined;
  } finally {
    await fh.close();
  }
}

/** A worker thread running worker.js beside this module (dist/), or worker.ts when this runs from source with
 * tsx: Node 20 does not apply the parent's --import loader to worker threads, so that worker registers tsx
 * itself before loading its entry. */
function startWorker(job: PartJob): Worker {
  const ext = path.extname(new URL(import.meta.url).pathname);
  const entry = new URL(`./worker${ext}`, import.meta.url);
  if (ext !== '.ts') return new Worker(entry, { workerData: job });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData: job });
}

/** Starts a worker on one part; `onProgress` gets its bytes and lines so far. */
export function runPart(job: PartJob, onProgress: (bytes: number, lines: number) => void): Promise<{ result: FileResult; acc: AccState; matches?: MatchRecords }> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(job);
    let settled = false;
    worker.on('message', (m: PartMessage) => {
      if (m.type === 'progress') onProgress(m.bytes, m.lines);
      else if (m.type === 'done') {
        settled = true;
        resolve({ result: m.result, acc: m.acc, matches: m.matches });
      } else {
        settled = true;
        reject(Object.assign(new Error(m.message), { code: m.code }));
      }
    });
    worker.on('error', (err) => { if (!settled) { settled = true; reject(err); } });
    worker.on('exit', (code) => { if (!settled) { settled = true; reject(new Error(`worker exited with code ${code}`)); } });
  });
}
