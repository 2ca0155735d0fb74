// The plugin API: everything a plugin author needs, and nothing of the runtime's internals.
// Built-in plugins import only from this module (through core/index.ts), exactly as external ones do.
import type { EncodedLines } from './encoded-lines.js';
import type { OptionSchema, OptionsOf } from './option-types.js';

export type { OptionSchema, OptionsOf } from './option-types.js';

/** An event is a plain object. Parsers keep the raw line in `message`. */
export type Event = Record<string, unknown>;

export type PluginKind = 'input' | 'filter' | 'aggregate' | 'output';

/** A JSON schema. Visor adds seven keywords: `duration`, `size` (strings such as `5s` or `64KiB`
 * are converted to milliseconds / bytes), `secret` (the value is never logged or printed), `expression` (a condition
 * that must compile), `check` (the plugin's own check of a value or of a combination of options; see ValueCheck) and
 * `file` (a path relative to the config file that must exist when the config is validated) and `component: TYPE` (the
 * id of a component of this pipeline whose plugin type is TYPE, e.g. a dashboard's store). */
export type JsonSchema = { [key: string]: unknown };

export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface Counter { inc(n?: number): void; readonly value: number }
export interface Gauge { set(v: number): void; inc(n?: number): void; dec(n?: number): void; readonly value: number }

/** Metrics of one component. Every metric is labelled with the component's id, kind and type. */
export interface ComponentMetrics {
  /** Bytes the component read from the outside world (inputs) or wrote to it (outputs). */
  readonly receivedBytes: Counter;
  readonly sentBytes: Counter;
  /** Events the component chose not to pass on (e.g. oversized lines skipped). Give a reason. */
  discarded(reason: string): Counter;
  /** Errors handled by the component (counted, logged, not fatal). */
  errors(type: string): Counter;
  /** Extra plugin-specific metrics; `name` is prefixed with `visor_` and labelled with the component.
   * `labels` (e.g. `{ file }`) make one series per distinct value set; a metric keeps one set of label
   * names. Keep their values few: every distinct value is a series for as long as the component runs. */
  counter(name: string, help: string, labels?: Record<string, string>): Counter;
  gauge(name: string, help: string, labels?: Record<string, string>): Gauge;
}

export interface Timers {
  /** Like setInterval, cleared automatically when the component stops. Errors thrown are logged. */
  every(ms: number, fn: () => void | Promise<void>): { cancel(): void };
  /** Like setTimeout, cleared automatically when the component stops. */
  after(ms: number, fn: () => void | Promise<void>): { cancel(): void };
}

/** What `create` receives besides the options (aggregates get an AggregateContext, which adds `emit`). */
/** `service.name` (the host name unless configured) and `service.public_url` (the dashboard as people reach it). */
export interface ServiceIdentity {
  readonly name: string;
  readonly public_url?: string;
}

export interface PluginContext {
  /** The component id from the config (e.g. `access`). */
  readonly id: string;
  readonly logger: Logger;
  readonly metrics: ComponentMetrics;
  readonly timers: Timers;
  /** A directory of this component's own under `service.data_dir` (created on first call). */
  dataDir(): Promise<string>;
  /** The directory of the config file, for resolving relative paths in options. */
  readonly configDir: string;
  /** Who this agent is to people reading its alerts and reports (`service.name`, `service.public_url`). */
  readonly service: ServiceIdentity;
  /** The running pipeline as its metrics and health checks see it now (for dashboards and self-monitoring). */
  pipeline(): PipelineView;
  /** State shared by the components of one pipeline (e.g. the kafka input's partition assignments, read by
   * `window`): the value stored under `key`, made by `create` on the first call for that key. One value per key
   * per running pipeline: a reload builds a new pipeline, hence new values, and two pipelines in one process
   * (in-process tests) never share. Never use module-level variables for this. Prefix keys with your plugin's or
   * library's name; every caller of a key must store the same type under it (export a typed accessor). */
  shared<T>(key: string, create: () => T): T;
  /** In-memory state of this component kept over a SIGHUP reload: the value stored under `key`, made by `create`
   * on the first call; the component with the same id and type in the pipeline a reload builds gets the same value
   * back (e.g. the dashboard's chart history and recent alerts). Dropped when the component leaves the config or
   * changes type; never kept across a restart (use a store). Put what the value depends on in the key (an option
   * that changes its shape), so that a reload with other options starts afresh. A value with a `dispose()` method
   * (a resource: the dashboard keeps its listening server so) is disposed when it is dropped, when the component
   * leaves the config on a reload (before the new pipeline starts), and when the agent stops. */
  kept<T>(key: string, create: () => T): T;
  /** The top-level fields that the components downstream read of the events this one emits, when all of them say
   * which they read (Plugin.reads): a parser may leave the other fields out. Undefined when one may read any field
   * (an output writing whole events). Computed from the config graph at start. */
  readonly downstreamFields?: ReadonlySet<string>;
}

/** One component's counters (totals since start) and health, as `/metrics` and `/health` report them. */
export interface ComponentStats {
  kind: PluginKind;
  type: string;
  healthy: boolean;
  reason?: string;
  received_events: number;
  /** Over all outputs. */
  sent_events: number;
  /** Keyed by output name; the main output is `_default`. */
  sent_events_by_output: Record<string, number>;
  received_bytes: number;
  sent_bytes: number;
  discarded: number;
  discarded_by_reason: Record<string, number>;
  errors: number;
  errors_by_type: Record<string, number>;
  buffer_events: number;
  buffer_max_events: number;
  /** A parallel filter's batches and lines that its worker threads got as the bytes of their lines (decoded there,
   * not on the main thread; 0 elsewhere). */
  worker_undecoded_batches: number;
  worker_undecoded_lines: number;
  /** Plugin-defined counters and gauges, keyed by their Prometheus name (`visor_...`). */
  custom: Record<string, number>;
}

export interface PipelineView {
  /** starting | running | stopping | stopped */
  state: string;
  healthy: boolean;
  /** By component id, in config order. */
  components: Record<string, ComponentStats>;
}

/** How a batch ended, reported to the input that emitted it. */
export interface AckResult {
  /** `delivered`: every output that received part of the batch accepted it (or an aggregate absorbed it).
   *  `failed`: at least one of them gave up on it (after its retries) or a filter threw. */
  status: 'delivered' | 'failed';
  error?: Error;
}

export interface EmitOptions {
  /** Called once, when every component downstream has finished with the batch. */
  onAck?: (result: AckResult) => void;
}

export interface InputRuntime {
  /** Send a batch downstream. Resolves when there is room for more: await it, that is the backpressure. Lines not yet
   * decoded (EncodedLines) go to a parallel filter's worker as bytes and are decoded here for any other consumer. */
  emit(events: Event[] | EncodedLines, options?: EmitOptions): Promise<void>;
  /** Aborted when the input must stop (shutdown, reload). `run` should then return promptly. */
  readonly signal: AbortSignal;
  /** Whether EncodedLines emitted go to a parallel filter's worker thread as bytes (its only consumer is one): if not,
   * the runtime decodes them here, a step an input saves by emitting events (tail: 0.03-0.04 CPU-s per 1M lines). */
  readonly linesUndecoded: boolean;
}

/** A hold on the acknowledgement of events an aggregate absorbed; released when the result built from
 * them is delivered (pass it to `emit`), or explicitly. */
export interface AckHold {
  release(): void;
  fail(error?: Error): void;
}

export interface AggregateEmitOptions {
  /** Side output name; the main output when omitted. */
  output?: string;
  /** Holds released when this emitted batch has been delivered downstream. */
  acks?: AckHold[];
}

/** Sends events downstream from a filter's `process` or `flush`, or an aggregate's `process` (collected, and
 * sent once the call returns). */
export type Emit = (events: Event[], output?: string) => void;

/** What a filter's `process` receives. */
export interface ProcessContext {
  /** Route events to a side output (`id.name` in config), or to the main output when `output` is omitted. */
  emit: Emit;
}

/** What an aggregate's `process` receives. */
export interface AggregateProcessContext extends ProcessContext {
  /** Keep this batch unacknowledged until the hold is released (pass it in `acks` of `context.emit`, or by hand). */
  hold(): AckHold;
}

/** What an aggregate's `create` receives: the plugin context, and the emitter of its results. */
export interface AggregateContext extends PluginContext {
  /** Emit results at any time from `start()` on (timers, `process`, `flush`); rejects when called earlier (during
   * `create`) or after the aggregate finished. Resolves when there is room downstream: await it. */
  emit(events: Event[], options?: AggregateEmitOptions): Promise<void>;
}

export interface ComponentHealth {
  healthy: boolean;
  reason?: string;
  details?: Record<string, unknown>;
}

interface Lifecycle {
  /** Called once before data flows (outputs first, inputs last). Connect, open files, bind sockets here. */
  start?(): void | Promise<void>;
  /** Called once at the end, after the component has been drained. */
  close?(): void | Promise<void>;
  /** Health for /health; unhealthy makes the endpoint answer 503. `details` are shown as they are
   * (e.g. the tail input's lag per file). */
  health?(): ComponentHealth;
}

export interface InputInstance extends Lifecycle {
  /** Produce events until done (finite inputs) or until `runtime.signal` is aborted. */
  run(runtime: InputRuntime): Promise<void>;
}

export interface FilterInstance extends Lifecycle {
  /** Transform a batch. The returned array goes to the main output; `ctx.emit` reaches side outputs.
   * Events may be modified in place: fan-out gives each consumer its own shallow copy. */
  process(events: Event[], ctx: ProcessContext): Event[] | void | Promise<Event[] | void>;
  /** Emit anything still buffered (e.g. a pending multi-line event) before the pipeline ends. */
  flush?(emit: Emit): void | Promise<void>;
}

/** What an aggregate's `absorbPartial` receives: what `process` does, and the batch's own events when it needs some
 * of them as they are (e.g. late ones for a side output). */
export interface AggregatePartialContext extends AggregateProcessContext {
  /** The events of this batch that the worker's PartialBuilder.select picks for `request` (structured clone copies
   * the request there and the events back). Rejects when they are gone (the worker thread died): the batch then fails
   * like one whose process() threw. */
  events(request: unknown): Promise<Event[]>;
  /** The PartialBuilder that made this partial (one per parallel filter and worker thread): the same for all its
   * partials, never another's; what the aggregate keeps per builder (a string dictionary) is keyed by it. */
  readonly builder: string;
  /** Builders none of whose partials is still to come: their worker thread died, and the one started in its place
   * sent this partial (partials arrive in batch order, so the dead thread's came before). What the aggregate keeps
   * for them can go. */
  readonly goneBuilders: readonly string[];
}

export interface AggregateInstance extends Lifecycle {
  /** Absorb a batch. Without `ctx.hold()`, the batch counts as delivered when this returns. */
  process(events: Event[], ctx: AggregateProcessContext): void | Promise<void>;
  /** With `Plugin.partials`: absorb the partial a worker's PartialBuilder.build made of one batch, as process() would
   * have absorbed the batch itself (holds, side outputs and counters alike). Partials and batches arrive in order. */
  absorbPartial?(partial: unknown, ctx: AggregatePartialContext): void | Promise<void>;
  /** Emit (with `context.emit`, awaited) everything held (open windows) before the pipeline ends. */
  flush?(): void | Promise<void>;
}

export interface OutputInstance extends Lifecycle {
  /** Resolves when the data is safe (written, sent and acknowledged). Reject to have the core retry. */
  write(events: Event[]): Promise<void>;
  /** Write out anything buffered; called before close on shutdown. */
  flush?(): Promise<void>;
  /** Ask the core to merge queued batches into one write of up to max_events, waiting at most timeout_ms
   * for more (for outputs with a cost per request, e.g. Kafka's batch_size/linger). */
  batch?: { max_events: number; timeout_ms: number };
  /** With `Plugin.encodes`, required then: write a batch of `count` events that a worker thread already encoded
   * (`encoder(options)(events)`) exactly as `write` would have written those events; the same
   * promise contract (reject to have the core retry it). */
  writeEncoded?(data: Uint8Array, count: number): Promise<void>;
}

export interface InstanceByKind {
  input: InputInstance;
  filter: FilterInstance;
  aggregate: AggregateInstance;
  output: OutputInstance;
}

/** What `create` receives, by kind: aggregates also get their emitter. */
export interface ContextByKind {
  input: PluginContext;
  filter: PluginContext;
  aggregate: AggregateContext;
  output: PluginContext;
}

/** What a side output carries (see `Plugin.sideOutputs`): a description, or a description and `unread: 'drop'`;
 * `carries: 'input'` when it carries the component's input events as they came (a field added at most, such as
 * parse_error), not what the component made of them: what its readers read is then left out of the fields the
 * component is told are read downstream of it (PluginContext.downstreamFields). */
export type SideOutputSpec = string | { description: string; unread?: 'warn' | 'drop'; carries?: 'input' };

export interface Plugin<K extends PluginKind = PluginKind, O = any> {
  kind: K;
  /** The `type` used in config. Lowercase, digits and underscores. */
  name: string;
  description: string;
  /** JSON schema of the options object (an object schema with `properties`). */
  schema: JsonSchema;
  /** The side outputs the component may send to (`ctx.emit(events, name)`, read in config as `id.name`), each with
   * what it sends there, worded to complete "sends … to": `{ _unparsed: 'lines it cannot parse' }`. An event sent
   * to a side output nobody reads is a loss: `visor validate` and start-up warn, the running agent logs how many it
   * discards, and a finite run exits 3. Use `{ description, unread: 'drop' }` for one that is left unread by
   * design (`where`'s `_rejected`): its events are still counted as discarded, but that is no warning nor loss. */
  sideOutputs?: Record<string, SideOutputSpec>;
  /** Only when they depend on the options: the names of the side outputs that exist for these options (default:
   * every key of `sideOutputs`). A name not in `sideOutputs` is described as "events". */
  outputs?: (options: O) => string[];
  /** Only when the component reads some fields of its input events and no others: their names (`a.b` for a nested
   * one), for these options. A filter lists what it reads itself (the fields downstream of it are added). Leave it
   * out, or return undefined for the options that make it, when it may read any field (an output writing whole
   * events): then every field is kept for it. */
  reads?: (options: O) => string[] | undefined;
  /** Aggregates and outputs only: true when, for these options, the component never changes the events it gets nor
   * the arrays they come in (it may keep them), so that fan-out can hand it the very events another consumer gets
   * rather than shallow copies (detect and alert on one parser: 170-490 instructions a line less of ~32,000,
   * callgrind, 2 runs). Its side outputs with `carries: 'input'` must then reach only such components too (the
   * runtime checks). Leave it out when it may edit them. */
  readOnly?: (options: O) => boolean;
  /** Filters only: `process()` depends on nothing but its batch and the options (and `downstreamFields`): it uses no
   * timers, `dataDir`, `shared`, `kept` or `pipeline()`, keeps no state from one batch to the next and has no `flush`.
   * With `service.threads` > 1 the runtime may then run copies of the component (made by `create` with the same
   * options) in worker threads, deliver their results in batch order, and add their counters to the component's
   * metrics. The plugin must come from a module file (a built-in, or a plugin module loaded by path or name). */
  parallel?: boolean;
  /** Aggregates only: the aggregate splits into a builder of partials, run in the worker threads beside a parallel
   * filter that feeds it, and a merger on the main thread (the instance's `absorbPartial`, required with this). With
   * `service.threads` > 1, when a parallel filter's main output goes to this aggregate and nowhere else and
   * `accepts(options)`, each worker thread runs the filter and then `builder(...).build()` on its results: only the
   * partial comes back (and the filter's side outputs), not the events. Acknowledgements stay on the main thread:
   * the batch's are held or released by `absorbPartial` as process() would. The merged result must be the one
   * process() gives for the same events in the same order. The plugin must come from a module file. */
  partials?: PartialSplit<O>;
  /** Outputs only: how the output turns a batch into what it writes, when for these options that is a pure function
   * of the events. With `service.threads` > 1, when a parallel filter's main output goes to this output and nowhere
   * else and `accepts(options)`, each worker thread runs the filter and then `encoder(options)` on its results: only
   * the encoded batch comes back (as UTF-8 bytes, moved, not copied), and the instance's `writeEncoded` writes it
   * instead of `write` getting the events. Acks, retries, order and counters stay as they are. The instance must not
   * ask for `batch` merging then. The plugin must come from a module file. */
  encodes?: EncodeSplit<O>;
  create(options: O, context: ContextByKind[K]): InstanceByKind[K] | Promise<InstanceByKind[K]>;
}

/** A worker thread's half of an aggregate split in two (Plugin.partials). */
export interface PartialBuilder {
  /** The partial of one batch (the events a parallel filter sent to its main output, in order): a value structured
   * clone can copy, and the buffers in it to move rather than copy. Counters go to the context's metrics, which are
   * added to the aggregate's. */
  build(events: Event[]): { partial: unknown; transfer?: ArrayBuffer[] };
  /** The events of the batch `build` was given that the aggregate asks for (AggregatePartialContext.events). */
  select(events: Event[], request: unknown): Event[];
}

/** Aggregates only (see Plugin.partials). */
export interface PartialSplit<O = any> {
  /** Whether these options can be split (else the aggregate always runs process() on the main thread). */
  accepts(options: O): boolean;
  /** Made in each worker thread with the same options; the context has what a parallel filter's has. */
  builder(options: O, context: PluginContext): PartialBuilder | Promise<PartialBuilder>;
}

/** Outputs only (see Plugin.encodes). */
export interface EncodeSplit<O = any> {
  /** Whether, for these options, the encoding depends on the events alone (else `write` always gets the events). */
  accepts(options: O): boolean;
  /** Made once in each worker thread with the same options: the UTF-8 bytes `write` would write for a batch, in a
   * buffer of their own (moved to the main thread, so never a view of a buffer kept or shared: TextEncoder's output,
   * or a part of it, is such a buffer). May throw: the batch's events then come back as they are and `write` meets
   * the same error on the main thread. */
  encoder(options: O): (events: Event[]) => Uint8Array;
}

export type AnyPlugin = { [K in PluginKind]: Plugin<K> }[PluginKind];

/** Whether a schema's type says nothing about the options: `any`, or a type with an index signature (a schema
 * declared as JsonSchema). definePlugin then leaves the options untyped (`any`), as before types were derived. */
type Unknowable<S> = 0 extends 1 & S ? true : string extends keyof S ? true : false;

/** Declare a plugin. An identity function that gives the object its types: without type arguments, the options
 * `create` and `outputs` receive are typed from the schema (OptionsOf; write the schema inline, or `as const`);
 * `definePlugin<MyOptions, 'filter'>({...})` types them by hand instead. */
export function definePlugin<const S extends OptionSchema, K extends PluginKind>(
  plugin: (Unknowable<S> extends true ? never : Plugin<K, NoInfer<OptionsOf<S>>>) & { kind: K; schema: S },
): Plugin<K, OptionsOf<S>>;
export function definePlugin<O = any, K extends PluginKind = PluginKind>(plugin: Plugin<K, O> & { kind: K }): Plugin<K, O>;
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
}

/** Thrown by an output's `write` for a failure that retrying cannot fix; the batch fails at once. */
export class PermanentError extends Error {
  readonly retryable = false;
}
