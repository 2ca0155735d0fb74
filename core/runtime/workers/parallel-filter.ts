// A filter whose batches worker threads process (Plugin.parallel, service.threads > 1): each batch goes to the next
// worker in turn, and the results come back downstream strictly in batch order, with the batch's acks exactly as on
// the main thread (the acks never leave it): released once downstream accepted the results, failed with the error
// when process() threw or the worker died, as FilterNode does for a throwing filter.
// With partials (Plugin.partials; see pipeline.ts) the main output's one consumer is an aggregate whose builder runs
// in the worker too: the result is then that builder's partial, queued for the aggregate as a batch of its own
// carrying this batch's acks, counted as the events it stands for. With an encoder (Plugin.encodes) the main output's
// one consumer is an output whose encoding runs in the worker: the result is then that encoding, queued for the
// output the same way.
import type { Event, FilterInstance } from '../../api.js';
import { FilterNode, type Node } from '../nodes.js';
import { retainAll, type AckGroup } from '../ack.js';
import { batchSize, type Batch } from '../queue.js';
import { decodeColumns } from './columns.js';
import { applyDeltas } from './metrics.js';
import type { BatchRef, WorkerOutcome, WorkerPool } from './pool.js';

/** Batches in flight per worker: 2, so that a worker has the next batch while its result travels back, and no more:
 * each one more kept more young objects alive on the main thread across scavenges (1M-line P1, threads: 2, main-thread
 * GC: 1 in flight 118 ms, 2: 256 ms, 4: 360-460 ms, 16: 536 ms; threads: 1: 150-220 ms), and the upstream buffer
 * waits beyond that (backpressure). */
const IN_FLIGHT_PER_WORKER = 2;

/** A batch's results by output ('' first), or why it failed. */
type Outcome = { ok: true; outputs: Array<[string, Event[]]> } | { ok: false; error: Error };
/** A batch in flight keeps its acks, not its events: the worker has its own copy, and input events kept alive
 * until their results came back outlived young-generation GCs (main-thread GC 150 -> 700 ms over the 1M lines). */
type InFlight = { acks: AckGroup[]; count: number; outcome: Promise<WorkerOutcome | Outcome>; batch?: BatchRef };
const NO_EVENTS: Event[] = [];
const NO_BUILDERS: readonly string[] = [];

export class ParallelFilterNode extends FilterNode {
  /** A tail's lines come as their bytes, decoded in the worker (EncodedLines). */
  override readonly takesLines = true;
  private pool!: WorkerPool;
  private readonly inFlight: InFlight[] = [];
  private next = 0;
  private delivering: Promise<void> | undefined;
  private roomWaiter: (() => void) | undefined;

  /** Called once, before data flows. */
  useWorkers(pool: WorkerPool): void {
    this.pool = pool;
    this.metrics.workerStage = true;
  }

  /** The aggregate the main output's partials go to (the only consumer of that output), set once before data flows. */
  private partialsTo: Node | undefined;

  sendPartialsTo(aggregate: Node): void {
    this.partialsTo = aggregate;
  }

  /** The output the main output's encoded batches go to (its only consumer), set once before data flows. */
  private encodedTo: Node | undefined;

  sendEncodedTo(output: Node): void {
    this.encodedTo = output;
  }

  /** The builder (AggregatePartialContext.builder) whose partials this filter delivered last, per pool slot. */
  private readonly builders = new Map<number, string>();

  private get limit(): number {
    return this.pool.size * IN_FLIGHT_PER_WORKER;
  }

  protected override handle(batch: Batch): Promise<void> | void {
    let outcome: InFlight['outcome'];
    let ref: BatchRef | undefined;
    try {
      const sent = this.pool.process(this.next++, this.id, batch.lines ?? batch.events);
      outcome = sent;
      ref = sent.batch;
      // How one sees that a tail's lines took the bytes path (metrics: worker_undecoded_*).
      if (batch.lines) {
        this.metrics.workerUndecodedBatches.inc();
        this.metrics.workerUndecodedLines.inc(batch.lines.count);
      }
    } catch (err) {
      // Events structured clone cannot copy (a function in a field): this batch is processed here, still delivered
      // in order (the plugin keeps no state between batches: Plugin.parallel). Anything else (a worker thread that
      // cannot start) fails the batch.
      const error = err instanceof Error ? err : new Error(String(err));
      outcome = error.name === 'DataCloneError' ? this.processHere(batch.events) : Promise.resolve({ ok: false, error });
    }
    this.inFlight.push({ acks: batch.acks, count: batchSize(batch), outcome, batch: ref });
    this.delivering ??= this.deliverInOrder();
    if (this.inFlight.length >= this.limit) return new Promise<void>((resolve) => { this.roomWaiter = resolve; });
  }

  /** The batch processed by the main thread's own instance. */
  private async processHere(events: Event[]): Promise<Outcome> {
    const outputs: Array<[string, Event[]]> = [];
    try {
      const main = await (this.instance as FilterInstance).process(events, { emit: (e, output) => { if (e.length) outputs.push([output ?? '', e]); } });
      if (main && main.length) outputs.unshift(['', main]);
      return { ok: true, outputs };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  private async deliverInOrder(): Promise<void> {
    while (this.inFlight.length > 0) {
      const { acks, count, outcome, batch } = this.inFlight[0];
      const done = await outcome;
      if ('metrics' in done) applyDeltas(this.metrics, done.metrics);
      if (done.ok) try {
        let main: Event[] | undefined;
        for (const [output, events] of done.outputs) {
          const decoded = Array.isArray(events) ? events : decodeColumns(events);
          if (output === '' && main === undefined) main = decoded;
          else this.collector.emit(decoded, output);
        }
        const partial = 'partial' in done ? done.partial : undefined;
        const encoded = 'encoded' in done ? done.encoded : undefined;
        const wait = partial && batch ? this.forwardPartial(acks, batch, partial) : encoded ? this.forwardEncoded(acks, encoded) : this.forward(acks, main);
        if (wait) await wait;
      } catch (err) {
        this.processFailed(acks, count, err);
      } else {
        this.processFailed(acks, count, done.error);
      }
      this.inFlight.shift();
      if (this.roomWaiter && this.inFlight.length < this.limit) {
        const wake = this.roomWaiter;
        this.roomWaiter = undefined;
        wake();
      }
    }
    this.delivering = undefined;
  }

  /** forward(), with the partial in place of the main output's events. */
  private forwardPartial(acks: AckGroup[], batch: BatchRef, partial: NonNullable<Extract<WorkerOutcome, { ok: true }>['partial']>): Promise<void> | void {
    const aggregate = this.partialsTo!;
    applyDeltas(aggregate.metrics, partial.metrics);
    this.metrics.sentEvents('').inc(partial.count);
    retainAll(acks, 1);
    const pool = this.pool;
    // A partial from a worker that took a dead one's slot: the dead one's partials were all delivered before
    // (in batch order), so what the aggregate keeps for its builder can go.
    const builder = `${this.id}/${batch.worker.serial}`;
    const before = this.builders.get(batch.worker.slot);
    const goneBuilders = before !== undefined && before !== builder ? [before] : NO_BUILDERS;
    this.builders.set(batch.worker.slot, builder);
    const wait = aggregate.queue!.push({
      events: NO_EVENTS,
      acks,
      partial: { value: partial.value, count: partial.count, builder, goneBuilders, events: (request) => pool.select(batch, request), done: () => pool.release(batch) },
    });
    return this.joined(wait, this.forward(acks, undefined)); // the side outputs, and this node's own hold on the acks
  }

  /** forward(), with the output's encoding in place of the main output's events. */
  private forwardEncoded(acks: AckGroup[], encoded: NonNullable<Extract<WorkerOutcome, { ok: true }>['encoded']>): Promise<void> | void {
    this.metrics.sentEvents('').inc(encoded.count);
    retainAll(acks, 1);
    const wait = this.encodedTo!.queue!.push({ events: NO_EVENTS, acks, encoded });
    return this.joined(wait, this.forward(acks, undefined));
  }

  private joined(a: Promise<void> | void, b: Promise<void> | void): Promise<void> | void {
    if (!a) return b;
    return b ? Promise.all([a, b]).then(() => undefined) : a;
  }

  protected override async finish(): Promise<void> {
    while (this.delivering) await this.delivering;
    await super.finish();
  }
}
