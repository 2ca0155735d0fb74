// `detect` split in two for worker threads (Plugin.partials; service.threads > 1 with a parallel parser feeding it),
// as lib/detect's Detector splits its work: each worker thread runs the rules' conditions (match: the costly half,
// their regexes) over the batch the parser made there, and sends back only its matches as compact records, in batch
// order; the main thread pours them into the buckets (aggregate.ts), batch after batch in order, exactly as process()
// pours a batch's events. On the generated benign day 63% of the events match (aggressive-crawl pours every
// non-static request), so a record is one row of a Float64Array, strings are sent once per worker (a dictionary, as
// window's partials send theirs), and the evidence line goes once per matching event, whether or not a bucket keeps it
// as a sample: which ones it keeps depends on the bucket, known only where it is poured (96% of the matches of that
// day take one: most buckets leak empty between a client's requests). The lines go end to end in one string, which
// structured clone copies at once: as an array of strings, cloning took 10% of the worker's time (300,000 lines);
// as ASCII bytes in a moved buffer (two calls into C++ a line, and a fallback for other text) the worker spent as much
// or a little more (215 against 207 CPU ticks per 1M lines, alternating, load 7.5).
//
// With verify_crawlers, an event whose user agent claims a verifiable crawler is not matched here: the reverse DNS
// check is asynchronous and its verdict cache is the main thread's. Such an event comes back whole, in its place in
// the records, and the main thread annotates and processes it as process() does (5% of the benign day's events).
import { describeEvent, evidenceLine } from '../../../lib/alerts/index.js';
import { AllowList, CrawlerClaims, Detector, eventTime, keyOf, rulesOf } from '../../../lib/detect/index.js';
import { StringIds, type StringDelta } from '../../../lib/stats/index.js';
import type { Event, PartialBuilder } from '../../../core/index.js';
import type { DetectOptions } from './schema.js';

/** The columns of one record (a row of DetectBatch.records). */
export const RULE = 0;
export const CLIENT = 1;
export const VHOST = 2;
export const VALUE = 3;
export const TIME = 4;
export const MARK = 5;
export const ITEM = 6;
export const ITEM_END = 7;
export const STRIDE = 8;
/** RULE of a record standing for a whole event (DetectBatch.events[ITEM]) that the main thread processes itself. */
export const WHOLE_EVENT = -1;
/** VALUE of a match of a rule without `distinct`. */
export const NO_VALUE = -1;

/** A batch's matches, in event order. Each record: RULE (the rule's index, or WHOLE_EVENT), CLIENT and VHOST (string
 * ids, -1: none), VALUE (the `distinct` value: a string id, NO_VALUE, or -2 - k for others[k]), TIME (the event's
 * time, which the bucket pours at), MARK (the newest time of the batch's events up to this one: the watermark
 * process() has advanced to when it pours this match) and ITEM: for a match, its evidence line, characters ITEM to
 * ITEM_END of `text` or, when ITEM is negative, lines[-1 - ITEM]; for a whole event, events[ITEM]. */
export interface DetectBatch {
  /** What its builder's string dictionary gained (AggregatePartialContext.builder says whose it is). */
  strings: StringDelta;
  n: number;
  records: Float64Array;
  /** The raw evidence lines, end to end. */
  text: string;
  /** Evidence made of fields, for events without a raw line. */
  lines: string[];
  /** `distinct` values other than strings (an expression's number, boolean, null ...), as they are. */
  others: unknown[];
  events: Event[];
  /** The newest time of the batch's events: the watermark once process() has seen the batch. */
  end: number;
  /** Matching events an allow-list kept out. */
  allowed: number;
}

/** Every option set splits: the records carry what the buckets need whatever the rules. */
export const acceptsPartials = (): boolean => true;

export function detectPartialBuilder(options: DetectOptions): PartialBuilder {
  const allow = new AllowList(options.allow_networks, options.allow_when, options.verify_crawlers);
  // Only match() is used here: the bucket options are the pour side's.
  const detector = new Detector(rulesOf(options), allow, { maxClients: 1, samples: 0, digests: false, sampleOf: () => '' });
  const claims = options.verify_crawlers ? new CrawlerClaims() : undefined;
  const rules = detector.rules;
  const ids = new StringIds();
  const matched: number[] = [];
  const idOf = (s: string | null) => (s === null ? -1 : ids.id(s));
  return {
    build(events) {
      ids.startBatch();
      let records = new Float64Array(STRIDE * (events.length + 16));
      let n = 0;
      let text = '';
      const lines: string[] = [];
      const others: unknown[] = [];
      const whole: Event[] = [];
      const allowedBefore = detector.allowed;
      let mark = -Infinity;
      const row = (): number => {
        if ((n + 1) * STRIDE > records.length) {
          const more = new Float64Array(records.length * 2);
          more.set(records);
          records = more;
        }
        return n++ * STRIDE;
      };
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        if (e.heartbeat === true) continue;
        const t = eventTime(e);
        if (t > mark) mark = t;
        if (claims) {
          if (claims.claimOf(e.user_agent) !== null) {
            const at = row();
            records[at + RULE] = WHOLE_EVENT;
            records[at + MARK] = mark;
            records[at + ITEM] = whole.push(e) - 1;
            continue;
          }
          // As CrawlerVerifier.annotate: only detect says a crawler is verified, not a field from upstream.
          if (e.crawler_verified !== undefined) delete e.crawler_verified;
        }
        detector.match(e, matched);
        if (matched.length === 0) continue;
        const client = idOf(keyOf(e.client_ip));
        const vhost = idOf(keyOf(e.vhost));
        const raw = evidenceLine(e);
        let item: number;
        let itemEnd = 0;
        if (raw !== undefined) {
          item = text.length;
          text += raw;
          itemEnd = text.length;
        } else item = -1 - (lines.push(describeEvent(e, 'evidence')) - 1);
        for (let k = 0; k < matched.length; k++) {
          const r = matched[k]!;
          const at = row();
          records[at + RULE] = r;
          records[at + CLIENT] = client;
          records[at + VHOST] = vhost;
          const distinct = rules[r]!.distinct;
          if (!distinct) records[at + VALUE] = NO_VALUE;
          else {
            const v = distinct(e);
            records[at + VALUE] = typeof v === 'string' ? ids.id(v) : -2 - (others.push(v) - 1);
          }
          records[at + TIME] = t;
          records[at + MARK] = mark;
          records[at + ITEM] = item;
          records[at + ITEM_END] = itemEnd;
        }
      }
      const partial: DetectBatch = {
        strings: ids.take(), n, records, text, lines, others, events: whole, end: mark, allowed: detector.allowed - allowedBefore,
      };
      return { partial, transfer: [records.buffer] };
    },
    // absorbPartial never asks for events: the records carry all it needs.
    select: () => [],
  };
}
