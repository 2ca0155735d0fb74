// Issue 19: the detect aggregate's own cost per event, in one process: the same parsed events (a generated benign
// day, as the whole-process benchmark uses) through the default pack's Detector, beside a loop reading the same
// fields of the same events (what any consumer pays to touch them), alternating in the same run. Each batch of
// 1,000 lines is parsed (untimed) just before it is timed, so the events are as fresh in the CPU caches as in a
// pipeline, and given to the Detector as the aggregate gives it a batch (processBatch). Whole processes (detect.ts) add the parse, queue and fan-out costs around it.
import { readFileSync } from 'node:fs';
import type { Event } from '../../core/index.js';
import { buildAccessParser } from '../../lib/apache/index.js';
import { AllowList, DEFAULT_PACK, Detector, FieldMemos, compileRule, type Detection } from '../../lib/detect/index.js';
import { describeEvent } from '../../lib/alerts/index.js';

/** The fields the default pack reads of an access event. */
const FIELDS = ['client_ip', 'vhost', 'timestamp', 'status', 'method', 'url', 'path', 'user_agent', 'referer', 'bot_category', 'message_text', 'error_code', 'heartbeat'];
const BATCH = 1000;

/** The lines of `file` (at most `limit`) that apache_access (combined, UTC) parses. */
export function accessLines(file: string, limit = Infinity): string[] {
  const parser = buildAccessParser({ format: 'combined', timezone: 'UTC' } as Parameters<typeof buildAccessParser>[0]);
  const lines: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (lines.length >= limit) break;
    if (line && parser.parse(line, {}) === undefined) lines.push(line);
  }
  return lines;
}

/** Parses lines as apache_access does (every field), each event keeping its line as tail's `message`. */
export function eventParser(): (lines: readonly string[]) => Event[] {
  const parser = buildAccessParser({ format: 'combined', timezone: 'UTC' } as Parameters<typeof buildAccessParser>[0]);
  return (lines) => lines.map((line) => {
    const e: Event = { message: line };
    parser.parse(line, e);
    return e;
  });
}

/** The same lines with every path, url and user agent made unique (a suffix before the extension, so static files
 * stay static): the worst case of lib/detect/memo.ts's caches, which then only cost. */
export function uniqueValues(lines: readonly string[]): string[] {
  return lines.map((line, i) => line
    .replace(/^(\S+ \S+ \S+ \[[^\]]*\] "\S+ )([^ ?"]*?)(\.\w+)?([ ?])/, (_m, head: string, p: string, ext = '', end: string) => `${head}${p}-u${i}${ext}${end}`)
    .replace(/"([^"]*)"$/, (_m, ua: string) => `"${ua} u${i}"`));
}

/** A Detector of the default pack, as the detect aggregate builds it with its default options (`cache: false`: its
 * conditions without the field caches of lib/detect/memo.ts). */
export function packDetector(cache = true): Detector {
  const memos = cache ? new FieldMemos() : undefined;
  return new Detector(DEFAULT_PACK.map((s) => compileRule(s, memos)), new AllowList([]), { maxClients: 100_000, samples: 3, digests: false, sampleOf: (e: Event) => describeEvent(e, 'evidence') });
}

/** Reads every field the pack reads of each event: the floor any consumer of these events pays. */
function readFields(events: Event[]): number {
  let n = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    for (let f = 0; f < FIELDS.length; f++) if (e[FIELDS[f]] !== undefined) n++;
  }
  return n;
}

const timed = (f: () => void): number => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t);
};

export interface InProcess { events: number; rounds: number; read: number; detect: number; uncached: number; alerts: number; uncachedAlerts: number }

/** ns per event of the pack (with and without its caches) and of the field-reading loop, best of `rounds`. */
export function measureInProcess(lines: readonly string[], rounds = 3): InProcess {
  const parse = eventParser();
  const best = { read: Infinity, detect: Infinity, uncached: Infinity };
  let alerts = 0;
  let uncachedAlerts = 0;
  for (let r = 0; r < rounds; r++) {
    const cachedDetector = packDetector(true);
    const plainDetector = packDetector(false);
    const ns = { read: 0, detect: 0, uncached: 0 };
    const found: Detection[] = [];
    const plainFound: Detection[] = [];
    for (let b = 0; b < lines.length; b += BATCH) {
      const batch = lines.slice(b, b + BATCH);
      const forRead = parse(batch);
      ns.read += timed(() => readFields(forRead));
      const forDetect = parse(batch);
      ns.detect += timed(() => cachedDetector.processBatch(forDetect, found));
      const forPlain = parse(batch);
      ns.uncached += timed(() => plainDetector.processBatch(forPlain, plainFound));
    }
    for (const k of ['read', 'detect', 'uncached'] as const) best[k] = Math.min(best[k], ns[k] / lines.length);
    alerts = found.length;
    uncachedAlerts = plainFound.length;
  }
  return { events: lines.length, rounds, ...best, alerts, uncachedAlerts };
}

if (process.argv[1]?.endsWith('detect-process.js') && process.argv[2]) {
  const lines = accessLines(process.argv[2], Number(process.argv[3] ?? 200_000));
  console.log('as generated', measureInProcess(lines));
  console.log('unique values', measureInProcess(uniqueValues(lines)));
}
