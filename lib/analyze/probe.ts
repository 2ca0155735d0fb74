// `visor analyze`: the time range of a file from its first and last lines, read before the main pass — for --html's
// chart buckets (html.ts), and, with detection on, the order the files are read in (run.ts).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Event } from '../../core/index.js';
import { detectFormat, DETECT_LINES, type FormatChoice, type LineParse } from './format.js';

const PROBE_BYTES = 256 * 1024;

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

/** Earliest and latest timestamps of `lines`, parsed with the file's parser (detected from `headLines`). */
function range(headLines: string[], lines: string[], choice: FormatChoice): [number, number] | undefined {
  let parse: LineParse | undefined = choice.fixed?.parse;
  parse ??= detectFormat(headLines.filter((l) => l.trim()).slice(0, DETECT_LINES), choice).parse;
  let min = Infinity;
  let max = -Infinity;
  for (const line of lines) {
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

const headLinesOf = async (file: string, gzip: boolean) => (await head(file, gzip)).split('\n').slice(0, -1);

/** Earliest and latest timestamps among the first and last lines of a file, if any parse. */
export async function probe(file: string, gzip: boolean, size: number, choice: FormatChoice): Promise<[number, number] | undefined> {
  const headLines = await headLinesOf(file, gzip);
  const tailLines = (await tail(file, gzip, size)).split('\n').slice(1);
  return range(headLines, [...headLines, ...tailLines], choice);
}

/** The earliest timestamp among the first lines of a file (the first 256 KiB: cheap for gzip too), if any parse. */
export async function firstTime(file: string, gzip: boolean, choice: FormatChoice): Promise<number | undefined> {
  const headLines = await headLinesOf(file, gzip);
  return range(headLines, headLines, choice)?.[0];
}
