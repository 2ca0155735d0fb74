// One running component each. A node owns its input buffer, its plugin instance and its routes to
// downstream nodes; it moves batches, counts them and passes acknowledgements along.
import type {
  AckResult, AggregateEmitOptions, AggregateInstance, AggregatePartialContext, AggregateProcessContext, ComponentHealth, AnyPlugin, Counter, Emit, Event, FilterInstance,
  InputInstance, InputRuntime, Logger, OutputInstance, ProcessContext, EmitOptions,
} from '../api.js';
import type { ComponentConfig } from '../config/model.js';
import { AckGroup, Hold, releaseAll, retainAll } from './ack.js';
import type { Clock } from './clock.js';
import type { ComponentTimers } from './context.js';
import type { ComponentMetricsImpl } from './metrics.js';
import { BatchQueue, batchSize, linesBatch, type Batch, type PartialBatch } from './queue.js';
import type { EncodedLines } from '../encoded-lines.js';
import { Backoff } from '../backoff.js';
import { sleep } from '../sleep.js';
import { unreadReason, UnreadOutputWarnings } from './unread.js';

type Instance = InputInstance | FilterInstance | AggregateInstance | OutputInstance;
const NO_ACKS: AckGroup[] = [];
const RESOLVED = Promise.resolve();
const returnTrue = (): true => true;

export interface NodeDeps {
  config: ComponentConfig;
  plugin: AnyPlugin;
  instance: Instance;
  logger: Logger;
  metrics: ComponentMetricsImpl;
  timers: ComponentTimers;
  clock: Clock;
  /** Aggregates: the emitter their context was given in `create`. */
  emitter?: AggregateEmitter;
}

export abstract class Node {
  readonly id: string;
  readonly config: ComponentConfig;
  readonly logger: Logger;
  readonly metrics: ComponentMetricsImpl;
  readonly instance: Instance;
  /** Output name ('' for the main output) -> consumers. */
  readonly routes = new Map<string, Node[]>();
  /** Output name -> per consumer, whether it gets copies of the events (sharing.ts's copyPlan); set once wired. */
  readonly copies = new Map<string, boolean[]>();
  /** Takes batches of undecoded lines (Batch.lines) from an input whose only consumer it is. */
  readonly takesLines: boolean = false;
  queue: BatchQueue | undefined;
  /** Set once the node has stopped sending downstream; later emits are refused. */
  protected closed = false;
  failure: Error | undefined;
  private readonly timers: ComponentTimers;
  private readonly unread: UnreadOutputWarnings;
  private lastErrorLog = 0;
  private suppressedErrors = 0;

  constructor(deps: NodeDeps) {
    this.id = deps.config.id;
    this.config = deps.config;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.instance = deps.instance;
    this.timers = deps.timers;
    this.unread = new UnreadOutputWarnings(this.id, deps.plugin, deps.logger, deps.clock);
  }

  /** Whether events counted under this `discarded` reason are lost, rather than dropped by design (events sent to
   * a side output declared `unread: 'drop'`, such as where's `_rejected`, while nobody reads it). */
  isLoss(reason: string): boolean {
    const prefix = unreadReason('') + '_';
    return !reason.startsWith(prefix) || this.unread.isLoss(reason.slice(prefix.length));
  }

  /** Create the input buffer once the number of upstream writers is known. */
  openQueue(writers: number): void {
    const gauge = this.metrics.bufferEvents;
    this.metrics.bufferMaxEvents = this.config.buffer.max_events;
    this.queue = new BatchQueue(this.config.buffer.max_events, writers, (n) => gauge.set(n));
  }

  /** Send events on one of this node's outputs. Returns a promise only when a consumer is full. */
  protected route(output: string, sent: Event[] | EncodedLines, acks: AckGroup[]): Promise<void> | undefined {
    // Not instanceof: under tsx a module can be loaded twice (ESM and CommonJS), each with its own class.
    const lines = Array.isArray(sent) ? undefined : sent;
    const count = lines ? lines.count : (sent as Event[]).length;
    if (count === 0) return undefined;
    const consumers = this.routes.get(output);
    if (!consumers || consumers.length === 0) {
      // An output nobody reads: counted and logged, never silently lost (config validation warned about it).
      this.metrics.discarded(unreadReason(output)).inc(count);
      this.unread.discarded(output, count);
      return undefined;
    }
    if (this.closed) throw new Error(`component "${this.id}" has finished; it cannot emit any more`);
    this.metrics.sentEvents(output).inc(count);
    const n = consumers.length;
    retainAll(acks, n);
    if (lines && n === 1 && consumers[0].takesLines) return consumers[0].queue!.push(linesBatch(lines.own(), acks));
    const events = lines ? lines.decode() : (sent as Event[]);
    let waits: Promise<void>[] | undefined;
    const copies = this.copies.get(output);
    for (let i = 0; i < n; i++) {
      // Fan-out: consumers that may edit events get shallow copies (all but one when none shares: sharing.ts), so one
      // branch's edits never leak into another.
      const own = (copies ? copies[i] : i < n - 1) ? copyEvents(events) : events;
      const wait = consumers[i].queue!.push({ events: own, acks });
      if (wait) (waits ??= []).push(wait);
    }
    if (!waits) return undefined;
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
  }

  /** Tell every consumer that this node will send nothing more. */
  protected closeDownstream(): void {
    if (this.closed) return;
    this.closed = true;
    const seen = new Set<Node>();
    for (const consumers of this.routes.values()) {
      for (const c of consumers) {
        // A consumer reading two of our outputs counts us once as a writer.
        if (seen.has(c)) continue;
        seen.add(c);
        c.queue!.closeWriter();
      }
    }
  }

  async start(): Promise<void> {
    await this.instance.start?.();
  }

  protected stopTimers(): void {
    this.timers.cancelAll();
  }

  async close(): Promise<void> {
    this.timers.cancelAll();
    this.unread.close();
    try {
      await this.instance.close?.();
    } catch (err) {
      this.reportError('close', err);
    }
  }

  health(): ComponentHealth {
    if (this.failure) return { healthy: false, reason: this.failure.message };
    try {
      return this.instance.health?.() ?? { healthy: true };
    } catch (err) {
      return { healthy: false, reason: `health check threw: ${(err as Error).message}` };
    }
  }

  /** Count every error; log the first and then at most one line a second, with the number suppressed. */
  protected reportError(type: string, err: unknown, fields: Record<string, unknown> = {}): void {
    this.metrics.errors(type).inc();
    const now = Date.now();
    if (now - this.lastErrorLog < 1000) {
      this.suppressedErrors++;
      return;
    }
    this.lastErrorLog = now;
    const suppressed = this.suppressedErrors;
    this.suppressedErrors = 0;
    this.logger.error(`${type} failed`, { error: err as Error, ...fields, ...(suppressed ? { suppressed } : {}) });
  }

  /** Drain the input buffer until every upstream has closed, then finish.
   *
   * This loop never holds a batch itself: it only awaits `step()`'s promises, which resolve to a boolean.
   * A suspended async function keeps its whole register file, including registers that held a previous
   * batch (or the resolved `take()` promise carrying it), so a loop written as `batch = await queue.take();
   * await this.handle(batch)` kept the last batch it handled alive while it waited for the next one: with
   * an aggregate in the pipeline, heap snapshots between batches showed two whole batches (2,000 parsed
   * events with their lines, ~1.4 MB) still reachable from suspended consume() frames; without one, none.
   * Memory that outlives a scavenge counts toward V8's decision to double the young generation. */
  async consume(): Promise<void> {
    for (;;) {
      const more = this.step();
      if (more === false || (more !== true && !(await more))) break;
    }
    await this.finish();
  }

  /** Take the next batch and handle it: true when done synchronously, false at the end of input, else a
   * promise of one of those. The batch is referenced only from here and from handle(), never from consume(). */
  private step(): boolean | Promise<boolean> {
    const next = this.queue!.take();
    if (next === null) return false;
    if (next instanceof Promise) return next.then((batch) => (batch === null ? false : this.process(batch)));
    return this.process(next);
  }

  private process(batch: Batch): true | Promise<boolean> {
    this.metrics.receivedEvents.inc(batchSize(batch));
    const r = this.handle(batch);
    return r instanceof Promise ? r.then(returnTrue) : true;
  }

  protected handle(_batch: Batch): Promise<void> | void {}
  protected async finish(): Promise<void> {
    this.closeDownstream();
  }
}

function copyEvents(events: Event[]): Event[] {
  const out = new Array<Event>(events.length);
  for (let i = 0; i < events.length; i++) out[i] = { ...events[i] };
  return out;
}

export class InputNode extends Node {
  private readonly abort = new AbortController();
  /** Batches this input emitted whose acknowledgement said `failed`. */
  failedBatches = 0;
  private readonly countFailure = (result: AckResult) => {
    if (result.status === 'failed') this.failedBatches++;
  };

  stop(): void {
    this.abort.abort();
  }

  async run(): Promise<void> {
    const input = this.instance as InputInstance;
    const main = this.routes.get('');
    const runtime: InputRuntime = {
      signal: this.abort.signal,
      linesUndecoded: main !== undefined && main.length === 1 && main[0].takesLines,
      emit: (events: Event[] | EncodedLines, options?: EmitOptions) => {
        if (this.closed) return Promise.reject(new Error(`input "${this.id}" has finished; emit after run() returned`));
        const onAck = options?.onAck;
        const ack = new AckGroup(onAck ? (r) => { this.countFailure(r); onAck(r); } : this.countFailure);
        const acks = [ack];
        let wait: Promise<void> | undefined;
        try {
          wait = this.route('', events, acks);
        } finally {
          ack.release();
        }
        return wait ?? RESOLVED;
      },
    };
    try {
      await input.run(runtime);
    } catch (err) {
      this.failure = err as Error;
      this.reportError('run', err);
    } finally {
      this.closeDownstream();
    }
  }
}

/** Collects a plugin's synchronous `emit` calls made while it processes one batch. */
class EmitCollector {
  pending: Array<[string, Event[]]> = [];
  readonly emit: Emit = (events, output) => {
    if (events.length) this.pending.push([output ?? '', events]);
  };
  take(): Array<[string, Event[]]> {
    const p = this.pending;
    this.pending = [];
    return p;
  }
}

export class FilterNode extends Node {
  protected readonly collector = new EmitCollector();
  private readonly ctx: ProcessContext = { emit: this.collector.emit };

  protected override handle(batch: Batch): Promise<void> | void {
    const filter = this.instance as FilterInstance;
    let result: Event[] | void | Promise<Event[] | void>;
    try {
      result = filter.process(batch.events, this.ctx);
    } catch (err) {
      return this.processFailed(batch.acks, batch.events.length, err);
    }
    if (result instanceof Promise) {
      return result.then((r) => this.forward(batch.acks, r), (err) => this.processFailed(batch.acks, batch.events.length, err));
    }
    return this.forward(batch.acks, result);
  }

  /** Route a batch's results (and what the plugin emitted meanwhile), then drop the batch's own hold on its acks. */
  protected forward(acks: AckGroup[], result: Event[] | void): Promise<void> | void {
    let waits: Array<Promise<void>> | undefined;
    if (result && result.length) {
      const w = this.route('', result, acks);
      if (w) (waits ??= []).push(w);
    }
    if (this.collector.pending.length) {
      for (const [output, events] of this.collector.take()) {
        const w = this.route(output, events, acks);
        if (w) (waits ??= []).push(w);
      }
    }
    releaseAll(acks);
    if (waits) return Promise.all(waits).then(() => undefined);
  }

  /** A batch of `count` events that process() failed on: counted, logged, and its acks fail with the error. */
  protected processFailed(acks: AckGroup[], count: number, err: unknown): void {
    this.collector.take();
    this.reportError('process', err, { events: count });
    this.metrics.discarded('process_error').inc(count);
    releaseAll(acks, err instanceof Error ? err : new Error(String(err)));
  }

  protected override async finish(): Promise<void> {
    const filter = this.instance as FilterInstance;
    if (filter.flush) {
      try {
        await filter.flush(this.collector.emit);
      } catch (err) {
        this.reportError('flush', err);
      }
      for (const [output, events] of this.collector.take()) await this.route(output, events, NO_ACKS);
    }
    this.closeDownstream();
  }
}

/** An aggregate's `context.emit`: made before `create` (the node does not exist yet), connected to the node when it
 * starts, so that nothing is emitted into a pipeline that is not wired and started. */
export class AggregateEmitter {
  node: AggregateNode | undefined;
  constructor(private readonly id: string) {}

  readonly emit = (events: Event[], options?: AggregateEmitOptions): Promise<void> => {
    if (!this.node) return Promise.reject(new Error(`aggregate "${this.id}" can emit from start() on, not before`));
    return this.node.emitResults(events, options);
  };
}

export class AggregateNode extends Node {
  private readonly collector = new EmitCollector();
  private currentBatch: Batch | undefined;
  private readonly emitter: AggregateEmitter | undefined;
  private readonly ctx: AggregatePartialContext = this.makeContext();

  /** One context for every batch: builder and goneBuilders are those of the partial being absorbed. */
  private makeContext(): AggregatePartialContext {
    const node = this;
    return {
      emit: this.collector.emit,
      hold: () => {
        if (!node.currentBatch) throw new Error('hold() is only valid while process() runs');
        return new Hold(node.currentBatch.acks);
      },
      events: (request) => {
        const partial = node.currentBatch?.partial;
        if (!partial) return Promise.reject(new Error('events() is only valid while absorbPartial() runs'));
        return partial.events(request);
      },
      get builder() {
        return node.currentBatch?.partial?.builder ?? '';
      },
      get goneBuilders() {
        return node.currentBatch?.partial?.goneBuilders ?? NO_BUILDERS;
      },
    };
  }

  constructor(deps: NodeDeps) {
    super(deps);
    this.emitter = deps.emitter;
  }

  override async start(): Promise<void> {
    if (this.emitter) this.emitter.node = this;
    await super.start();
  }

  /** Results carry a fresh ack group whose outcome settles the holds they were built from. */
  emitResults(events: Event[], options: AggregateEmitOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`aggregate "${this.id}" has finished; it cannot emit any more`));
    const holds = options.acks;
    const group = holds && holds.length
      ? new AckGroup((r) => { for (const h of holds) r.status === 'delivered' ? h.release() : h.fail(r.error); })
      : undefined;
    let wait: Promise<void> | undefined;
    try {
      wait = this.route(options.output ?? '', events, group ? [group] : NO_ACKS);
    } finally {
      group?.release();
    }
    return wait ?? RESOLVED;
  }

  protected override async handle(batch: Batch): Promise<void> {
    const aggregate = this.instance as AggregateInstance;
    this.currentBatch = batch;
    const partial = batch.partial;
    try {
      const r = partial ? absorb(aggregate, partial, this.ctx) : aggregate.process(batch.events, this.ctx);
      if (r instanceof Promise) await r;
    } catch (err) {
      this.currentBatch = undefined;
      partial?.done();
      this.collector.take();
      this.reportError('process', err, { events: batchSize(batch) });
      this.metrics.discarded('process_error').inc(batchSize(batch));
      releaseAll(batch.acks, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.currentBatch = undefined;
    partial?.done();
    releaseAll(batch.acks); // holds taken during process keep their own references
    for (const [output, events] of this.collector.take()) await this.emitResults(events, { output });
  }

  protected override async finish(): Promise<void> {
    const aggregate = this.instance as AggregateInstance;
    // No timer-driven result may race the final flush (or come after it, into closed buffers).
    this.stopTimers();
    try {
      await aggregate.flush?.();
    } catch (err) {
      this.reportError('flush', err);
    }
    this.closeDownstream();
  }
}

const NO_BUILDERS: readonly string[] = [];

/** A partial reaches only an aggregate whose plugin declared `partials` (and so absorbPartial): see pipeline.ts. */
function absorb(aggregate: AggregateInstance, partial: PartialBatch, ctx: AggregatePartialContext): void | Promise<void> {
  if (!aggregate.absorbPartial) throw new Error('a partial reached an aggregate without absorbPartial');
  return aggregate.absorbPartial(partial.value, ctx);
}

export class OutputNode extends Node {
  /** Aborted when the grace period is over: retries give up so that shutdown completes. */
  readonly giveUp = new AbortController();
  private consecutiveFailures = 0;

  /** Batches a worker thread encoded for this output (Plugin.encodes), made with the first of them. */
  private encodedBatches: Counter | undefined;

  protected override async handle(first: Batch): Promise<void> {
    const output = this.instance as OutputInstance;
    // An encoded batch never meets `batch` merging: pipeline.ts refuses an output that declares both.
    const batch = output.batch && first.events.length < output.batch.max_events ? await this.fill(first, output.batch) : first;
    const encoded = batch.encoded;
    if (encoded) (this.encodedBatches ??= this.metrics.counter('worker_encoded_batches_total', 'Batches a worker thread encoded for this output (Plugin.encodes): written as they came.')).inc();
    const count = batchSize(batch);
    const { attempts, backoff, max_backoff } = this.config.retry;
    const delays = new Backoff({ initial: backoff, max: max_backoff });
    for (let attempt = 1; ; attempt++) {
      try {
        await (encoded ? output.writeEncoded!(encoded.data, encoded.count) : output.write(batch.events));
        this.consecutiveFailures = 0;
        this.metrics.sentEvents('').inc(count);
        releaseAll(batch.acks);
        return;
      } catch (err) {
        this.consecutiveFailures++;
        const permanent = (err as { retryable?: boolean })?.retryable === false;
        const exhausted = attempts > 0 && attempt >= attempts;
        if (permanent || exhausted || this.giveUp.signal.aborted) {
          this.reportError('write', err, { events: count, attempts: attempt, gave_up: true });
          this.metrics.discarded('write_failed').inc(count);
          releaseAll(batch.acks, err instanceof Error ? err : new Error(String(err)));
          return;
        }
        const delay = delays.next();
        this.reportError('write', err, { events: count, attempt, retry_in_ms: delay });
        await sleep(delay, this.giveUp.signal);
      }
    }
  }

  /** Merges batches queued behind `first` (waiting up to timeout_ms for more) until max_events, so that an output
   * with per-request costs (a Kafka produce, an HTTP call) writes fewer, larger batches. Acks travel along. */
  private async fill(first: Batch, limits: { max_events: number; timeout_ms: number }): Promise<Batch> {
    const queue = this.queue!;
    const events = first.events.slice();
    const acks = first.acks.slice();
    const deadline = Date.now() + limits.timeout_ms;
    while (events.length < limits.max_events) {
      const taken = queue.takeWithin(deadline - Date.now());
      const next = taken instanceof Promise ? await taken : taken;
      if (!next) break; // timed out, or every upstream has closed (take() keeps answering null)
      this.metrics.receivedEvents.inc(next.events.length);
      for (const e of next.events) events.push(e);
      for (const a of next.acks) acks.push(a);
    }
    return { events, acks };
  }

  override health(): ComponentHealth {
    const own = super.health();
    if (this.consecutiveFailures === 0) return own;
    // The output's own reason (e.g. the store's "cannot write to ...: database is locked") says why.
    const why = own.healthy ? '' : `: ${own.reason ?? 'unhealthy'}`;
    return { ...own, healthy: false, reason: `${this.consecutiveFailures} consecutive write failures${why}` };
  }

  protected override async finish(): Promise<void> {
    try {
      await (this.instance as OutputInstance).flush?.();
    } catch (err) {
      this.reportError('flush', err);
    }
    this.closed = true;
  }
}

