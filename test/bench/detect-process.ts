// Issue 19: the detect aggregate's own cost per event, in one process: the same fully parsed events (a generated
// benign day, as the whole-process benchmark uses) through the default pack's Detector, beside a loop reading the
// same fields of the same events (what any consumer pays to touch them), alternating in the same run. Whole
// processes (detect.ts) add the parse, queue and fan-out costs around it; this isolates the rules and buckets.
import { readFileSync } from 'node:fs';
import type { Event } from '../../core/index.js';
import { buildAccessParser } from '../../lib/apache/index.js';
import { AllowList, DEFAULT_PACK, Detector, compileRule, type Detection } from '../../lib/detect/index.js';

/** The fields the default pack reads of an access event. */
const FIELDS = ['client_ip', 'vhost', 'timestamp', 'status', 'method', 'url', 'path', 'user_agent', 'referer', 'bot_category', 'message_text', 'error_code', 'heartbeat'];

/** The lines of `file` parsed as apache_access (combined, UTC) parses them, every field. */
export function parsedEvents(file: string, limit = Infinity): Event[] {
  const parser = buildAccessParser({ format: 'combined', timezone: 'UTC' } as Parameters<typeof buildAccessParser>[0]);
  const events: Event[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (events.length >= limit) break;
    if (!line) continue;
    const e: Event = { message: line };
    if (parser.parse(line, e) === undefined) events.push(e);
  }
  return events;
}

/** A Detector of the default pack, as the detect aggregate builds it with its default options. */
export function packDetector(): Detector {
  return new Detector(DEFAULT_PACK.map(compileRule), new AllowList([]), { maxClients: 100_000, samples: 3 });
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

function detectAll(events: Event[]): number {
  const d = packDetector();
  const out: Detection[] = [];
  for (let i = 0; i < events.length; i++) d.process(events[i], out);
  return out.length;
}

const nsPer = (events: Event[], f: (e: Event[]) => number): number => {
  const t = process.hrtime.bigint();
  f(events);
  return Number(process.hrtime.bigint() - t) / events.length;
};

/** ns per event of the pack and of the field-reading loop, best of `rounds`, alternating. */
export function measureInProcess(events: Event[], rounds = 5): { events: number; rounds: number; detect: number; read: number; alerts: number } {
  let detect = Infinity;
  let read = Infinity;
  for (let r = 0; r < rounds; r++) {
    read = Math.min(read, nsPer(events, readFields));
    detect = Math.min(detect, nsPer(events, detectAll));
  }
  return { events: events.length, rounds, detect, read, alerts: detectAll(events) };
}

if (process.argv[1]?.endsWith('detect-process.js') && process.argv[2]) {
  const events = parsedEvents(process.argv[2]);
  const rounds = Number(process.argv[3] ?? 5);
  console.log(events.length, measureInProcess(events, rounds));
}
