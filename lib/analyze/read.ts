// `visor analyze`: reading one file (or a byte range of it) into a ReportAccumulator. Shared by the main
// thread and the workers that read parts of a large plain file in parallel.
import { isAscii } from 'node:buffer';
import { createReadStream, type ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { type Event, LineSplitter } from '../../core/index.js';
import { ReportAccumulator } from '../stats/index.js';
import type { DetectSink } from './detect.js';
import { detectFormat, DETECT_LINES, type Detection, type FormatChoice, type LineParse } from './format.js';

/** Lines longer than this are cut (and counted), as the tail input does by default. */
export const MAX_LINE_BYTES = 1 << 20;
export const CHUNK_BYTES = 1 << 20;

export interface ReasonCount { count: number; first_line: number }

export interface FileResult {
  file: string;
  format?: string;
  kind?: 'access' | 'error';
  gzip: boolean;
  /** Bytes as stored (compressed for gzip). */
  size: number;
  lines: number;
  parsed: number;
  unparsed: number;
  unparsed_reasons: Record<string, ReasonCount>;
  long_lines: number;
  first_timestamp: number | null;
  last_timestamp: number | null;
  error?: string;
}

/** Minimal view of the dashboard model --html feeds (lib/dashboard/model.ts). */
export interface DashboardSink { add(event: Event, now?: number): void }

/** Where `--store` sends the parsed events (store.ts): each as the tail input and apache_access / apache_error would
 * have made it (message, file, position, then the parsed fields). `drain` is awaited after each chunk. */
export interface EventSink { add(event: Event): void; drain(): Promise<void> }

/** The origin of one file's lines, for the events `--store` keeps: the path for the `file` field, the content
 * identity for the position's `file` (see core's contentId). */
export interface LineSource { path: string; id: string; sink: EventSink }

/** Where parsed events go, across all files. */
export class Totals {
  readonly acc: ReportAccumulator;
  /** Lines read (all files and parts this thread read). */
  lines = 0;
  /** `enrich`: the enrichment filters' work on each parsed access event (enrich.ts), before it is counted;
   * `detect`: attack detection's matching (detect.ts), after it. */
  constructor(
    capacity: number, readonly dashboard?: DashboardSink, messageLevel?: string, readonly enrich?: (event: Event) => void, readonly detect?: DetectSink,
  ) {
    // Every traffic panel on: analyze computes what GoAccess computes (lib/stats/panels).
    this.acc = new ReportAccumulator(0, capacity, { panels: true }, { messageLevel });
  }
}

/** Byte offsets where the lines of a stream start, found from its newlines (decompressed bytes, for gzip), handed
 * out in order as the LineSplitter returns the lines: it returns exactly one line per newline (a long line cut
 * once, CR stripped) and the last line without one, so the n-th line starts after the (n-1)-th newline. These are
 * the offsets the tail input's positions carry. */
export class LineStarts {
  private starts: number[];
  private head = 0;
  private base: number;

  constructor(start: number) {
    this.base = start;
    this.starts = [start];
  }

  /** Records the newlines of the next chunk of the stream. */
  scan(chunk: Buffer): void {
    if (this.head > 4096) {
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.starts.push(this.base + i + 1);
    this.base += chunk.length;
  }

  /** The starts of the next `n` lines. */
  take(n: number): number[] {
    const out = this.starts.slice(this.head, this.head + n);
    this.head += n;
    return out;
  }
}

export function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** One file's lines: detection on the first non-empty lines, then the tight parse loop. */
export class FileAnalysis {
  private parse: LineParse | undefined;
  private readonly pending: string[] = [];
  private pendingStarts: number[] = [];
  private sampled = 0;
  private readonly reasons = new Map<string, ReasonCount>();

  /** `preset`: the format, when already known (a fixed --format, or detected before the file was split).
   * `source`: with --store, where the parsed events go, with their origin. */
  constructor(
    readonly result: FileResult, private readonly choice: FormatChoice, private readonly totals: Totals, preset?: Detection,
    readonly source?: LineSource,
  ) {
    const known = preset ?? choice.fixed;
    if (known) this.use(known);
  }

  private use(d: { kind: 'access' | 'error'; label: string; parse: LineParse }): void {
    this.parse = d.parse;
    this.result.kind = d.kind;
    this.result.format = d.label;
  }

  /** Whether readFile must keep where the lines start (for --store's positions, or detection's evidence). */
  get wantsOffsets(): boolean {
    return this.source !== undefined || this.totals.detect?.offsets === true;
  }

  /** `starts`: when wantsOffsets, where the lines start (readFile keeps them). */
  lines(lines: string[], starts?: LineStarts): void {
    const offsets = starts?.take(lines.length);
    if (this.parse) return this.consume(lines, offsets);
    for (const line of lines) {
      this.pending.push(line);
      if (!isBlank(line)) this.sampled++;
    }
    if (offsets) this.pendingStarts.push(...offsets);
    if (this.sampled >= DETECT_LINES) this.decide();
  }

  end(): void {
    if (!this.parse) this.decide();
    this.result.unparsed_reasons = Object.fromEntries([...this.reasons.entries()].sort((a, b) => b[1].count - a[1].count));
  }

  private decide(): void {
    this.use(detectFormat(this.pending.filter((l) => !isBlank(l)).slice(0, DETECT_LINES), this.choice));
    const pending = this.pending.splice(0);
    const starts = this.pendingStarts;
    this.pendingStarts = [];
    this.consume(pending, this.wantsOffsets ? starts : undefined);
  }

  private unparsed(reason: string): void {
    const r = this.reasons.get(reason);
    if (r) r.count++;
    else this.reasons.set(reason, { count: 1, first_line: this.result.lines });
    this.result.unparsed++;
  }

  /** The hot loop: one event object per parsed line, nothing else allocated here (with --store, the event starts as
   * the tail input's would: the line, the file and its position). */
  private consume(lines: string[], offsets: number[] | undefined): void {
    const parse = this.parse!;
    const res = this.result;
    const totals = this.totals;
    const acc = totals.acc;
    const dashboard = totals.dashboard;
    const enrich = totals.enrich;
    const detect = totals.detect;
    const source = this.source;
    let first = res.first_timestamp ?? Infinity;
    let last = res.last_timestamp ?? -Infinity;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      res.lines++;
      if (isBlank(line)) {
        this.unparsed('empty_line');
        continue;
      }
      const event: Event = source ? { message: line, file: source.path, position: { file: source.id, offset: offsets![i] } } : {};
      let failure: string | undefined;
      try {
        failure = parse(line, event);
      } catch {
        failure = 'parser_error'; // a parser bug: counted with the line number, never thrown
      }
      if (failure !== undefined) {
        this.unparsed(failure);
        continue;
      }
      res.parsed++;
      // The store gets the event as `visor run` with the same parser stores it (no enrichment fields), so a backfill
      // and a tail of the same lines write the same rows; the copy only when both are on.
      if (source) source.sink.add(enrich ? { ...event } : event);
      if (enrich && typeof event.status === 'number') enrich(event);
      acc.add(event);
      if (detect) detect.event(event, line, offsets ? offsets[i]! : -1);
      const ts = event.timestamp;
      if (typeof ts === 'number' && ts === ts) {
        if (ts < first) first = ts;
        if (ts > last) last = ts;
        if (dashboard) dashboard.add(event, ts);
      }
    }
    totals.lines += lines.length;
    if (first !== Infinity) res.first_timestamp = first;
    if (last !== -Infinity) res.last_timestamp = last;
  }
}

export async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Splits decoded text on line ends. Chunks are cut after their last newline (never inside a UTF-8 character,
 * since a newline byte is never part of one) and the rest carried to the next chunk; a region that is all
 * ASCII, the usual case for access logs, is decoded as latin1, which is several times cheaper than UTF-8. */
export class ChunkDecoder {
  private carry: Buffer | undefined;

  /** Passes the text of the whole lines (each ending with '\n') in carry + chunk to `out`, in order: the
   * carried partial line completed by the chunk's first line, then the rest up to the chunk's last newline
   * (decoded apart, so the large part is never copied). */
  write(chunk: Buffer, out: (text: string) => void): void {
    let start = 0;
    if (this.carry) {
      const first = chunk.indexOf(10);
      if (first < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        if (this.carry.length > 4 * MAX_LINE_BYTES) this.flushLong(out);
        return;
      }
      out(decode(Buffer.concat([this.carry, chunk.subarray(0, first + 1)])));
      this.carry = undefined;
      start = first + 1;
    }
    const end = chunk.lastIndexOf(10) + 1;
    if (end > start) out(decode(chunk.subarray(start, end)));
    if (end < chunk.length) this.carry = chunk.subarray(Math.max(start, end));
    if (this.carry && this.carry.length > 4 * MAX_LINE_BYTES) this.flushLong(out);
  }

  /** A very long line: hand on what we have, up to a character boundary (the splitter cuts the line). */
  private flushLong(out: (text: string) => void): void {
    const buf = this.carry!;
    let end = buf.length;
    let i = end - 1;
    while (i > 0 && end - i < 4 && (buf[i]! & 0xc0) === 0x80) i--;
    if (buf[i]! >= 0xc0) end = i;
    out(decode(buf.subarray(0, end)));
    this.carry = end < buf.length ? Buffer.from(buf.subarray(end)) : undefined;
  }

  /** The last line when the file does not end with a newline. */
  end(): string {
    const rest = this.carry ? this.carry.toString('utf8') : '';
    this.carry = undefined;
    return rest;
  }
}

function decode(buf: Buffer): string {
  return buf.toString(isAscii(buf) ? 'latin1' : 'utf8');
}

/** Streams one file (or the byte range [start, end) of a plain file, starting at a line) through its
 * FileAnalysis; `onChunk` gets the bytes read from storage so far. */
export async function readFile(
  file: string, gzip: boolean, analysis: FileAnalysis, onChunk: (rawBytes: number) => void, range?: { start: number; end: number },
): Promise<void> {
  // `end` is exclusive here, inclusive for createReadStream.
  const raw: ReadStream = createReadStream(file, { highWaterMark: CHUNK_BYTES, ...(range ? { start: range.start, end: range.end - 1 } : {}) });
  let source: NodeJS.ReadableStream = raw;
  if (gzip) {
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    raw.on('error', (err) => gunzip.destroy(err));
    source = raw.pipe(gunzip);
  }
  const decoder = new ChunkDecoder();
  const splitter = new LineSplitter({
    maxLineBytes: MAX_LINE_BYTES,
    longLines: 'truncate',
    onLongLine: () => { analysis.result.long_lines++; },
  });
  const lines: string[] = [];
  const starts = analysis.wantsOffsets ? new LineStarts(range?.start ?? 0) : undefined;
  const sink = analysis.source?.sink;
  try {
    for await (const chunk of source) {
      lines.length = 0;
      starts?.scan(chunk as Buffer);
      decoder.write(chunk as Buffer, (text) => splitter.push(text, lines));
      analysis.lines(lines, starts);
      onChunk(raw.bytesRead);
      if (sink) await sink.drain();
    }
    lines.length = 0;
    splitter.push(decoder.end(), lines);
    splitter.end(lines);
    analysis.lines(lines, starts);
  } finally {
    raw.destroy();
  }
}

export function emptyResult(file: string): FileResult {
  return {
    file, gzip: false, size: 0, lines: 0, parsed: 0, unparsed: 0, unparsed_reasons: {}, long_lines: 0,
    first_timestamp: null, last_timestamp: null,
  };
}

