// The detect aggregate's main-thread instance: the Detector, its metrics, and the two ways batches reach it —
// process() with the events (one thread, or a parser that is not parallel), absorbPartial() with a worker thread's
// match records (split.ts), poured in the same order into the same buckets, so both give the same alerts.
import { detachString, type AggregateContext, type Counter, type Event, type Gauge } from '../../../core/index.js';
import { describeEvent } from '../../../lib/alerts/index.js';
import { alertOfResult, AllowList, Detector, rulesOf, type DetectorResult } from '../../../lib/detect/index.js';
import { BuilderDictionaries, type PartialSource } from '../../../lib/stats/index.js';
import { crawlerVerification, type CrawlerVerification } from './crawlers.js';
import type { DetectOptions } from './schema.js';
import { CLIENT, ITEM, ITEM_END, MARK, NO_VALUE, RULE, STRIDE, TIME, VALUE, VHOST, WHOLE_EVENT, type DetectBatch } from './split.js';

/** Where absorbPartial's evidence line is: a slice of a partial's text, cut (and detached: the text is a whole batch's)
 * only if a bucket keeps it. One is reused for every record: the bucket takes its sample at once or never. */
class TextRef {
  text = '';
  start = 0;
  end = 0;
}

/** What a sample is taken from: the event (process), or its evidence line made by the worker (absorbPartial). */
type Item = Event | string | TextRef;
const sampleOf = (item: Item): string => (typeof item === 'string' ? item : item instanceof TextRef ? detachString(item.text.slice(item.start, item.end)) : describeEvent(item, 'evidence'));

export class DetectAggregate {
  /** Read by idle.ts's clock (quiet periods ended on an idle server). */
  readonly detector: Detector<Item>;
  private readonly crawlers?: CrawlerVerification;
  private readonly fired: Counter;
  private readonly digests: Counter;
  private readonly waiting: Gauge;
  private readonly amended: Counter;
  private readonly held: Gauge;
  private readonly allowed: Counter;
  private readonly clients: Gauge;
  /** absorbPartial: the string dictionary of each worker thread's builder. */
  private readonly dictionaries: BuilderDictionaries;

  constructor(options: DetectOptions, private readonly context: AggregateContext) {
    const allow = new AllowList(options.allow_networks, options.allow_when, options.verify_crawlers);
    this.detector = new Detector<Item>(rulesOf(options), allow, { maxClients: options.max_clients, samples: options.samples, digests: options.quiet_digest, sampleOf });
    this.crawlers = options.verify_crawlers ? crawlerVerification(options, context.metrics) : undefined;
    const m = context.metrics;
    this.fired = m.counter('detect_alerts_total', 'Alert events emitted (buckets that overflowed).');
    this.digests = m.counter('detect_digests_total', 'Digest events emitted (matches counted during a quiet period, quiet_digest).');
    this.waiting = m.gauge('detect_digests_waiting', 'Quiet periods whose matches wait for their digest (at most max_clients).');
    this.amended = m.counter('detect_digests_amended_total', 'Digests emitted again, amended (amended: true, the same since), for lines of a digested quiet period that arrived after its digest; also in detect_digests_total.');
    this.held = m.gauge('detect_digests_held', 'Digested quiet periods whose totals are held for late lines (an amended digest), until event time passes their end by the rule\'s quiet (at most max_clients).');
    this.allowed = m.counter('detect_allowed_events_total', 'Matching events not counted because an allow-list (allow_networks, allow_when, crawlers verified with verify_crawlers) allowed them.');
    this.clients = m.gauge('detect_clients', 'Clients (address and vhost) whose buckets are held.');
    this.dictionaries = new BuilderDictionaries(m.gauge('detect_partial_dictionaries', "String dictionaries kept of worker threads' partial builders (one per parallel filter and live worker thread)."));
    m.gauge('detect_clients_max', 'The cap on detect_clients (max_clients); beyond, the least recently seen are forgotten.').set(options.max_clients);
  }

  async process(events: Event[]): Promise<void> {
    await this.verify(events);
    const found: DetectorResult[] = [];
    const before = this.detector.allowed;
    this.detector.processBatch(events, found);
    await this.settle(found, this.detector.allowed - before);
  }

  /** A batch's records from a worker thread (split.ts), poured as process() pours the batch's events: each match
   * after the watermark reached the newest time before it, then the rest of the batch's times. */
  async absorbPartial(partial: unknown, source: PartialSource): Promise<void> {
    const p = partial as DetectBatch;
    const table = this.dictionaries.add(source, p.strings);
    await this.verify(p.events);
    const { strings } = table;
    const { records, lines, others, events } = p;
    const ref = new TextRef();
    ref.text = p.text;
    const d = this.detector;
    const found: DetectorResult[] = [];
    const before = d.allowed;
    for (let at = 0, end = p.n * STRIDE; at < end; at += STRIDE) {
      d.advance(records[at + MARK]!, found);
      const rule = records[at + RULE]!;
      if (rule === WHOLE_EVENT) {
        d.process(events[records[at + ITEM]!]!, found);
        continue;
      }
      const c = records[at + CLIENT]!;
      const v = records[at + VHOST]!;
      const value = records[at + VALUE]!;
      const distinct = value === NO_VALUE ? undefined : value >= 0 ? strings[value] : others[-2 - value];
      const item = records[at + ITEM]!;
      let evidence: Item = ref;
      if (item < 0) evidence = lines[-1 - item]!;
      else {
        ref.start = item;
        ref.end = records[at + ITEM_END]!;
      }
      d.pour(rule, c < 0 ? null : strings[c]!, v < 0 ? null : strings[v]!, records[at + TIME]!, distinct, evidence, found);
    }
    d.advance(p.end, found);
    await this.settle(found, d.allowed - before + p.allowed);
  }

  async flush(): Promise<void> {
    const found: DetectorResult[] = [];
    this.detector.flush(found);
    // Awaited: the runtime closes downstream only after flush, so the digests reach the outputs before shutdown.
    if (found.length) await this.context.emit(this.alertsOf(found));
  }

  close(): void {
    this.crawlers?.close();
  }

  /** verify_crawlers: the crawler claims of these events, checked (the batch waits at most dns_timeout). */
  private async verify(events: Event[]): Promise<void> {
    if (!this.crawlers) return;
    await this.crawlers.verifier.annotate(events);
    this.crawlers.report();
  }

  /** A batch's end: its counts, and its alerts emitted. */
  private async settle(found: DetectorResult[], allowed: number): Promise<void> {
    this.allowed.inc(allowed);
    this.clients.set(this.detector.clientCount);
    if (found.length) await this.context.emit(this.alertsOf(found));
    else this.gauges();
  }

  private gauges(): void {
    this.waiting.set(this.detector.waitingDigests);
    this.held.set(this.detector.heldDigests);
  }

  /** The alert events of these results, counted (also idle.ts's digests). */
  alertsOf(found: DetectorResult[]): Event[] {
    let d = 0;
    let amended = 0;
    for (const f of found) {
      if (f.state !== 'digest') continue;
      d++;
      if (f.amended) amended++;
    }
    this.fired.inc(found.length - d);
    this.digests.inc(d);
    this.amended.inc(amended);
    this.gauges();
    return found.map((f) => alertOfResult(f));
  }
}
