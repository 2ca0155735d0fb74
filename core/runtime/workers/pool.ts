// The worker threads of one pipeline (service.threads - 1), shared by its parallel filters. A worker that dies
// fails the batches it held (the filter node fails them like a throwing filter) and is started afresh, with
// every component's instance, for the next batch sent to it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Event, Logger } from '../../api.js';
import type { LinesData } from '../../encoded-lines.js';
import type { ColumnBatch } from './columns.js';
import type { MetricDelta } from './protocol.js';
import type { CreateMessage, FromWorker, ResultMessage, ToWorker } from './protocol.js';
import { decodeColumns, packUniform } from './columns.js';

export type WorkerOutcome =
  | { ok: true; outputs: Array<[string, ColumnBatch]>; metrics: MetricDelta[]; partial?: ResultMessage['partial']; encoded?: ResultMessage['encoded'] }
  | { ok: false; error: Error; metrics: MetricDelta[] };

/** A worker thread running worker-entry.js beside this module (dist/), or worker-entry.ts when this runs from source
 * with tsx: Node 20 does not apply the parent's --import loader to worker threads, so that worker registers tsx itself. */
function startThread(): Worker {
  const ext = path.extname(new URL(import.meta.url).pathname);
  const entry = new URL(`./worker-entry${ext}`, import.meta.url);
  if (ext !== '.ts') return new Worker(entry);
  const tsx = tsxEsmApi();
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true });
}

/** tsx's ESM api module. Found through its package.json: import.meta.resolve is missing where tsx runs this module as
 * CommonJS (under mocha), and require.resolve gives the CommonJS build, which import() cannot use there. */
function tsxEsmApi(): string {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(manifest), pkg.exports['./esm/api'].import.default)).href;
}

/** A batch sent to a worker thread. */
export interface BatchRef { readonly worker: PoolWorker; readonly seq: number }

class PoolWorker {
  readonly thread: Worker;
  private readonly pending = new Map<number, (outcome: WorkerOutcome) => void>();
  /** PartialBuilder.select requests by batch seq. */
  private readonly selecting = new Map<number, { resolve: (events: Event[]) => void; reject: (err: Error) => void }>();
  /** The highest seq absorbed and not yet told to the thread (sent with the next batch). */
  released: number | undefined;
  alive = true;

  /** `slot`: its place in the pool (a dead worker's successor takes the same); `serial`: never another worker's. */
  constructor(private readonly pool: WorkerPool, readonly slot: number, readonly serial: number) {
    this.thread = startThread();
    this.thread.on('message', (m: FromWorker) => this.received(m));
    this.thread.on('error', (err) => this.died(err));
    this.thread.on('exit', (code) => this.died(new Error(`worker thread exited with code ${code}`)));
  }

  private received(m: FromWorker): void {
    if (m.type === 'log') return this.pool.log(m.id, m.level, m.msg, m.fields);
    if (m.type === 'selected') {
      const s = this.selecting.get(m.seq);
      this.selecting.delete(m.seq);
      if (m.events) s?.resolve(decodeColumns(m.events));
      else s?.reject(Object.assign(new Error(m.error?.message ?? 'select failed'), { stack: m.error?.stack }));
      return;
    }
    const resolve = this.pending.get(m.seq);
    if (!resolve) return;
    this.pending.delete(m.seq);
    if (m.type === 'result') resolve({ ok: true, outputs: m.outputs, metrics: m.metrics, partial: m.partial, encoded: m.encoded });
    else resolve({ ok: false, error: Object.assign(new Error(m.error.message), { stack: m.error.stack }), metrics: m.metrics });
  }

  private died(err: Error): void {
    if (!this.alive) return;
    this.alive = false;
    if (this.pending.size && !this.pool.closing) this.pool.log(undefined, 'error', 'worker thread died; the batches it held failed', { error: err, batches: this.pending.size });
    const error = new Error(`worker thread died while processing the batch: ${err.message}`);
    for (const resolve of this.pending.values()) resolve({ ok: false, error, metrics: [] });
    this.pending.clear();
    for (const s of this.selecting.values()) s.reject(new Error(`worker thread died before sending the events asked for: ${err.message}`));
    this.selecting.clear();
  }

  select(seq: number, request: unknown): Promise<Event[]> {
    if (!this.alive) return Promise.reject(new Error('worker thread died: the events of the batch are gone'));
    return new Promise((resolve, reject) => {
      this.selecting.set(seq, { resolve, reject });
      this.thread.postMessage({ type: 'select', seq, request } satisfies ToWorker);
    });
  }

  /** Throws when the message cannot be copied (structured clone); nothing is then pending. */
  send(message: ToWorker, onOutcome?: (outcome: WorkerOutcome) => void, transfer?: ArrayBuffer[]): void {
    this.thread.postMessage(message, transfer);
    if (message.type === 'batch' && onOutcome) this.pending.set(message.seq, onOutcome);
  }
}

export class WorkerPool {
  private readonly workers: Array<PoolWorker | undefined>;
  private readonly creates: CreateMessage[] = [];
  private readonly loggers = new Map<string, Logger>();
  private seq = 0;
  private started = 0;
  closing = false;

  constructor(readonly size: number, private readonly logger: Logger) {
    this.workers = new Array(size).fill(undefined);
  }

  /** A component whose batches workers may process; its instance is made in each worker before its first batch. */
  add(create: CreateMessage, logger: Logger): void {
    this.creates.push(create);
    this.loggers.set(create.id, logger);
    for (const w of this.workers) if (w?.alive) w.send(create);
  }

  /** Process a batch in worker `index` (mod size). Throws when the events cannot be copied (structured clone). */
  process(index: number, id: string, events: Event[] | LinesData): Promise<WorkerOutcome> & { batch: BatchRef } {
    const worker = this.worker(index % this.size);
    let resolve!: (outcome: WorkerOutcome) => void;
    const outcome = new Promise<WorkerOutcome>((r) => { resolve = r; });
    const seq = ++this.seq;
    const release = worker.released;
    // Undecoded lines go as they are, their buffers moved (they are the batch's own: EncodedLines.own).
    const lines = Array.isArray(events) ? undefined : events;
    const sent = lines ? { lines } : packUniform(events as Event[]) ?? (events as Event[]);
    worker.send({ type: 'batch', id, seq, events: sent, ...(release !== undefined ? { release } : {}) }, resolve, lines ? [lines.bytes.buffer as ArrayBuffer, lines.bounds.buffer as ArrayBuffer] : undefined);
    worker.released = undefined;
    return Object.assign(outcome, { batch: { worker, seq } });
  }

  /** The events of a batch its partial's builder selects (AggregatePartialContext.events). */
  select(batch: BatchRef, request: unknown): Promise<Event[]> {
    return batch.worker.select(batch.seq, request);
  }

  /** The batch's partial was absorbed: its thread may drop the events it kept (told with its next batch). */
  release(batch: BatchRef): void {
    if (batch.worker.released === undefined || batch.seq > batch.worker.released) batch.worker.released = batch.seq;
  }

  private worker(i: number): PoolWorker {
    let w = this.workers[i];
    if (!w?.alive) {
      w = this.workers[i] = new PoolWorker(this, i, ++this.started);
      for (const c of this.creates) w.send(c);
    }
    return w;
  }

  log(id: string | undefined, level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    const logger = (id !== undefined && this.loggers.get(id)) || this.logger;
    logger[level](msg, fields);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w?.thread.terminate()));
  }
}
