// A worker thread of the pool: makes instances of parallel filters (Plugin.parallel) from their modules and runs
// their process() on the batches it is sent, one at a time in arrival order, answering with the results as columns.
// A filter whose main output feeds an aggregate split in two (Plugin.partials) hands those results to the
// aggregate's PartialBuilder here and answers with the partial instead; it keeps the results until the main thread
// has absorbed the partial, for PartialBuilder.select. A filter whose main output goes only to an output that
// encodes (Plugin.encodes) answers with that output's encoding of the results, as UTF-8 bytes, instead.
import { parentPort } from 'node:worker_threads';
import type { AnyPlugin, Emit, Event, FilterInstance, Logger, LogFields, PartialBuilder, PluginContext } from '../../api.js';
import { carriesInput } from '../projection.js';
import { encodeColumns, packEvents, transferables, unpackEvents, type ColumnBatch, type PackedEvents } from './columns.js';
import { WorkerMetrics } from './metrics.js';
import type { BatchMessage, CreateMessage, EncodedBatch, FromWorker, LogMessage, MetricDelta, SelectMessage, ToWorker } from './protocol.js';

const port = parentPort!;

interface Component {
  plugin: AnyPlugin;
  filter: FilterInstance;
  metrics: WorkerMetrics;
  /** Fields the results are cut down to (downstreamFields); undefined: every field. */
  fields?: ReadonlySet<string>;
  /** The aggregate builder its main output goes to (CreateMessage.partialsTo). */
  partialsTo?: string;
  /** The output encoder its main output goes to (CreateMessage.encodesTo). */
  encodesTo?: string;
  /** How it was made: a second instance replays batches for PartialBuilder.select. */
  message: CreateMessage;
  replay?: Promise<FilterInstance>;
}

interface Builder { builder: PartialBuilder; metrics: WorkerMetrics }

/** Instances by component id, made in arrival order: a batch waits for its component's create. */
const components = new Map<string, Promise<Component>>();
const builders = new Map<string, Promise<Builder>>();
const encoders = new Map<string, Promise<(events: Event[]) => Uint8Array>>();
/** The input of batches whose partial the main thread has not absorbed yet, by seq (for PartialBuilder.select). */
const kept = new Map<number, { component: Component; builder: Builder; input: PackedEvents }>();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Lines go to the component's logger on the main thread, which adds the component's own fields. */
function forwardingLogger(id: string, bound: LogFields = {}): Logger {
  const log = (level: LogMessage['level']) => (msg: string, fields?: LogFields) => {
    const all = { ...bound, ...fields };
    try {
      post({ type: 'log', id, level, msg, fields: all });
    } catch {
      // A field structured clone cannot copy (a function, a socket): sent as text.
      post({ type: 'log', id, level, msg, fields: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, String(v)])) });
    }
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (fields) => forwardingLogger(id, { ...bound, ...fields }) };
}

/** What a parallel filter may not use (Plugin.parallel) throws, so that a plugin marked by mistake fails loudly. */
function unavailable(what: string): never {
  throw new Error(`${what} is not available to a filter running in a worker thread (Plugin.parallel)`);
}

async function pluginOf(m: CreateMessage, kind: 'filter' | 'aggregate' | 'output'): Promise<AnyPlugin> {
  const mod = (await import(m.module)) as Record<string, unknown>;
  const exported = mod.default ?? mod.plugins ?? mod.plugin;
  const plugin = (Array.isArray(exported) ? exported : [exported]).find((p: AnyPlugin) => p?.kind === kind && p.name === m.name) as AnyPlugin | undefined;
  if (!plugin) throw new Error(`module ${m.module} has no ${kind} plugin "${m.name}"`);
  return plugin;
}

async function createBuilder(m: CreateMessage): Promise<Builder> {
  const plugin = await pluginOf(m, 'aggregate');
  if (!plugin.partials) throw new Error(`aggregate plugin "${m.name}" has no partials`);
  const metrics = new WorkerMetrics();
  const builder = await plugin.partials.builder(m.options, workerContext(m, metrics, undefined));
  return { builder, metrics };
}

async function createEncoder(m: CreateMessage): Promise<(events: Event[]) => Uint8Array> {
  const plugin = await pluginOf(m, 'output');
  if (!plugin.encodes) throw new Error(`output plugin "${m.name}" has no encodes`);
  return plugin.encodes.encoder(m.options);
}

/** The output's encoding of `events` (bytes whose buffer is theirs alone: moved, not copied, to the main thread);
 * undefined when the encoder threw, so that the events go back and the output's write meets the same error there, as
 * with threads: 1. */
function encoded(encode: (events: Event[]) => Uint8Array, events: Event[]): EncodedBatch | undefined {
  try {
    return { data: encode(events), count: events.length };
  } catch {
    return undefined;
  }
}

async function create(m: CreateMessage): Promise<Component> {
  const plugin = await pluginOf(m, 'filter');
  const metrics = new WorkerMetrics();
  const fields = m.downstreamFields ? new Set(m.downstreamFields) : undefined;
  const context = workerContext(m, metrics, fields);
  const filter = (await plugin.create(m.options as never, context as never)) as FilterInstance;
  return { plugin, filter, metrics, fields, partialsTo: m.partialsTo, encodesTo: m.encodesTo, message: m };
}

const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLogger };

function workerContext(m: CreateMessage, metrics: WorkerMetrics, fields: ReadonlySet<string> | undefined, logger = forwardingLogger(m.id)): PluginContext {
  return {
    id: m.id,
    logger,
    metrics,
    timers: { every: () => unavailable('timers'), after: () => unavailable('timers') },
    dataDir: () => unavailable('dataDir()'),
    configDir: m.configDir,
    service: m.service,
    pipeline: () => unavailable('pipeline()'),
    shared: () => unavailable('shared()'),
    kept: () => unavailable('kept()'),
    downstreamFields: fields,
  };
}

async function processBatch(m: BatchMessage): Promise<void> {
  const component = components.get(m.id);
  let metrics: WorkerMetrics | undefined;
  try {
    if (!component) throw new Error(`no component "${m.id}" in this worker`);
    const c = await component;
    metrics = c.metrics;
    const emitted: Array<[string, Event[]]> = [];
    const emit: Emit = (events, output) => { if (events.length) emitted.push([output ?? '', events]); };
    const events = Array.isArray(m.events) ? m.events : unpackEvents(m.events);
    // The filter may change its input in place: what select replays is packed first (or came packed).
    const input = c.partialsTo === undefined ? undefined : Array.isArray(m.events) ? packEvents(m.events) : m.events;
    const main = await c.filter.process(events, { emit });
    const outputs: Array<[string, ColumnBatch]> = [];
    const transfer: ArrayBuffer[] = [];
    const add = (output: string, events: Event[]) => {
      // Side outputs carrying the input events go whole (their readers were left out of downstreamFields).
      const batch = encodeColumns(events, carriesInput(c.plugin, output) ? undefined : c.fields);
      outputs.push([output, batch]);
      transfer.push(...transferables(batch));
    };
    let partial: { value: unknown; count: number; metrics: MetricDelta[] } | undefined;
    let encodedMain: EncodedBatch | undefined;
    if (main && main.length && c.encodesTo !== undefined) {
      const encode = await encoders.get(c.encodesTo);
      if (!encode) throw new Error(`no output "${c.encodesTo}" in this worker`);
      encodedMain = encoded(encode, main);
      if (encodedMain) transfer.push(encodedMain.data.buffer as ArrayBuffer);
      else add('', main);
    } else if (main && main.length && c.partialsTo !== undefined) {
      const b = await builders.get(c.partialsTo);
      if (!b) throw new Error(`no aggregate "${c.partialsTo}" in this worker`);
      const built = b.builder.build(main);
      if (built.transfer) transfer.push(...built.transfer);
      partial = { value: built.partial, count: main.length, metrics: b.metrics.takeDeltas() };
      kept.set(m.seq, { component: c, builder: b, input: input! });
    } else if (main && main.length) add('', main);
    for (const [output, events] of emitted) add(output, events);
    post({ type: 'result', seq: m.seq, outputs, metrics: metrics.takeDeltas(), ...(partial ? { partial } : {}), ...(encodedMain ? { encoded: encodedMain } : {}) }, transfer);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'failed', seq: m.seq, error: { message: e.message, stack: e.stack }, metrics: metrics?.takeDeltas() ?? [] });
  }
}

/** The events of batch m.seq that its builder's select picks, as columns: the filter's main output for the kept
 * input again, from a second instance (Plugin.parallel: the same output for the same batch) whose counters and side
 * outputs go nowhere: the first run counted them. */
async function select(m: SelectMessage): Promise<void> {
  try {
    const k = kept.get(m.seq);
    if (!k) throw new Error(`the events of batch ${m.seq} are no longer kept`);
    const c = k.component;
    c.replay ??= (async () => (await c.plugin.create(c.message.options as never, workerContext(c.message, new WorkerMetrics(), c.fields, silentLogger) as never)) as FilterInstance)();
    const replay = await c.replay;
    const main = (await replay.process(unpackEvents(k.input), { emit: () => undefined })) ?? [];
    const batch = encodeColumns(k.builder.builder.select(main, m.request), c.fields);
    post({ type: 'selected', seq: m.seq, events: batch }, transferables(batch));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'selected', seq: m.seq, error: { message: e.message, stack: e.stack } });
  }
}

function release(upTo: number): void {
  for (const seq of kept.keys()) if (seq <= upTo) kept.delete(seq);
}

// Batches of one component are answered in the order they came: each waits for the one before it.
let previous: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  if (m.type === 'create') {
    const made = m.kind === 'aggregate' ? createBuilder(m) : m.kind === 'output' ? createEncoder(m) : create(m);
    made.catch(() => undefined); // reported with each batch that needs it
    if (m.kind === 'aggregate') builders.set(m.id, made as Promise<Builder>);
    else if (m.kind === 'output') encoders.set(m.id, made as Promise<(events: Event[]) => Uint8Array>);
    else components.set(m.id, made as Promise<Component>);
    return;
  }
  if (m.type === 'select') return void select(m);
  if (m.release !== undefined) release(m.release);
  previous = previous.then(() => processBatch(m));
});
