// A worker thread of the pool: makes instances of parallel filters (Plugin.parallel) from their modules and runs
// their process() on the batches it is sent, one at a time in arrival order, answering with the results as columns.
import { parentPort } from 'node:worker_threads';
import type { AnyPlugin, Emit, Event, FilterInstance, Logger, LogFields, PluginContext } from '../../api.js';
import { carriesInput } from '../projection.js';
import { encodeColumns, transferables, type ColumnBatch } from './columns.js';
import { WorkerMetrics } from './metrics.js';
import type { BatchMessage, CreateMessage, FromWorker, LogMessage, ToWorker } from './protocol.js';

const port = parentPort!;

interface Component {
  plugin: AnyPlugin;
  filter: FilterInstance;
  metrics: WorkerMetrics;
  /** Fields the results are cut down to (downstreamFields); undefined: every field. */
  fields?: ReadonlySet<string>;
}

/** Instances by component id, made in arrival order: a batch waits for its component's create. */
const components = new Map<string, Promise<Component>>();

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

async function create(m: CreateMessage): Promise<Component> {
  const mod = (await import(m.module)) as Record<string, unknown>;
  const exported = mod.default ?? mod.plugins ?? mod.plugin;
  const plugin = (Array.isArray(exported) ? exported : [exported]).find((p: AnyPlugin) => p?.kind === 'filter' && p.name === m.name) as AnyPlugin | undefined;
  if (!plugin) throw new Error(`module ${m.module} has no filter plugin "${m.name}"`);
  const metrics = new WorkerMetrics();
  const fields = m.downstreamFields ? new Set(m.downstreamFields) : undefined;
  const context: PluginContext = {
    id: m.id,
    logger: forwardingLogger(m.id),
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
  const filter = (await plugin.create(m.options as never, context as never)) as FilterInstance;
  return { plugin, filter, metrics, fields };
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
    const main = await c.filter.process(m.events, { emit });
    const outputs: Array<[string, ColumnBatch]> = [];
    const transfer: ArrayBuffer[] = [];
    const add = (output: string, events: Event[]) => {
      // Side outputs carrying the input events go whole (their readers were left out of downstreamFields).
      const batch = encodeColumns(events, carriesInput(c.plugin, output) ? undefined : c.fields);
      outputs.push([output, batch]);
      transfer.push(...transferables(batch));
    };
    if (main && main.length) add('', main);
    for (const [output, events] of emitted) add(output, events);
    post({ type: 'result', seq: m.seq, outputs, metrics: metrics.takeDeltas() }, transfer);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'failed', seq: m.seq, error: { message: e.message, stack: e.stack }, metrics: metrics?.takeDeltas() ?? [] });
  }
}

// Batches of one component are answered in the order they came: each waits for the one before it.
let previous: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
  if (m.type === 'create') {
    const made = create(m);
    made.catch(() => undefined); // reported with each batch that needs it
    components.set(m.id, made);
    return;
  }
  previous = previous.then(() => processBatch(m));
});
