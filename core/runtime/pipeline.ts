// Builds the component graph from a validated config and runs it: outputs start first and inputs last;
// stopping ends the inputs, and every buffer drains downstream before outputs flush and close.
import { KeptValues } from './kept.js';
import type { AggregateInstance, AnyPlugin, OutputInstance, ComponentHealth, ComponentStats, Logger, PipelineView } from '../api.js';
import type { ComponentConfig, PipelineConfig } from '../config/model.js';
import type { LoadedPlugin, PluginRegistry } from '../registry.js';
import { systemClock, type Clock } from './clock.js';
import { ComponentTimers, createPluginContext } from './context.js';
import type { Loss } from './losses.js';
import type { MetricsHub } from './metrics.js';
import { downstreamFields } from './projection.js';
import { copyPlan, sharingComponents } from './sharing.js';
import { AggregateEmitter, AggregateNode, FilterNode, InputNode, type Node, type NodeDeps, OutputNode } from './nodes.js';
import { ParallelFilterNode } from './workers/parallel-filter.js';
import { WorkerPool } from './workers/pool.js';
import { partialsTargets } from './workers/partials.js';
import { encoderTargets } from './workers/encoders.js';

export type PipelineState = 'created' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface PipelineDeps {
  registry: PluginRegistry;
  metrics: MetricsHub;
  logger: Logger;
  /** Time for the runtime's own rate-limited warnings (default: the system clock). */
  clock?: Clock;
  /** PluginContext.kept: values kept over reloads (the agent's; a pipeline of its own when absent). */
  kept?: KeptValues;
}

const NODE_CLASS = { input: InputNode, filter: FilterNode, aggregate: AggregateNode, output: OutputNode } as const;
const START_ORDER = ['output', 'aggregate', 'filter', 'input'] as const;

export class Pipeline {
  state: PipelineState = 'created';
  private nodes: Node[] = [];
  private finished: Promise<void> | undefined;
  private readonly logger: Logger;
  /** PluginContext.shared: this pipeline's values, by key (gone with the pipeline). */
  private readonly sharedValues = new Map<string, unknown>();
  private readonly keptValues: KeptValues;
  /** The worker threads of parallel filters (service.threads > 1); started with the first batch sent to them. */
  private workers: WorkerPool | undefined;

  private constructor(readonly config: PipelineConfig, private readonly deps: PipelineDeps) {
    this.logger = deps.logger;
    this.keptValues = deps.kept ?? new KeptValues();
    this.ownsKept = deps.kept === undefined;
  }

  /** Without an agent, this pipeline's kept values end with it. */
  private readonly ownsKept: boolean;

  private async disposeOwnKept(): Promise<void> {
    if (this.ownsKept) await this.keptValues.disposeAll();
  }

  private async endWorkers(): Promise<void> {
    await this.workers?.close();
  }

  /** Instantiate every component (no I/O yet beyond what plugins do in `create`). */
  static async build(config: PipelineConfig, deps: PipelineDeps): Promise<Pipeline> {
    const p = new Pipeline(config, deps);
    const fields = downstreamFields(config.components, (c) => p.pluginOf(c));
    p.partialsTargets = config.service.threads > 1 ? partialsTargets(config.components, (c) => p.loadedOf(c)) : new Map();
    p.encoderTargets = config.service.threads > 1 ? encoderTargets(config.components, (c) => p.loadedOf(c)) : new Map();
    for (const c of config.components) p.nodes.push(await p.createNode(c, fields.get(c.id)));
    p.wire();
    for (const node of p.nodes) {
      const target = p.partialsTargets.get(node.id);
      if (target && node instanceof ParallelFilterNode) node.sendPartialsTo(p.nodes.find((n) => n.id === target.id)!);
      const output = p.encoderTargets.get(node.id);
      if (output && node instanceof ParallelFilterNode) node.sendEncodedTo(p.nodes.find((n) => n.id === output.id)!);
    }
    return p;
  }

  /** Parallel filters whose main output goes only to an aggregate split in two (Plugin.partials), by filter id. */
  private partialsTargets = new Map<string, ComponentConfig>();
  /** Parallel filters whose main output goes only to an output that encodes in the workers (Plugin.encodes). */
  private encoderTargets = new Map<string, ComponentConfig>();

  private pluginOf(c: ComponentConfig): AnyPlugin {
    return this.loadedOf(c).plugin as AnyPlugin;
  }

  private loadedOf(c: ComponentConfig): LoadedPlugin {
    const loaded = this.deps.registry.get(c.type, c.kind);
    if (!loaded) throw new Error(`component "${c.id}": no plugin "${c.type}"`);
    return loaded;
  }

  /** The worker pool, when this filter's batches may go to worker threads (Plugin.parallel); else undefined. */
  private workersFor(c: ComponentConfig, instance: NodeDeps['instance'], fields: ReadonlySet<string> | undefined, logger: Logger): WorkerPool | undefined {
    const threads = this.config.service.threads;
    const loaded = this.loadedOf(c);
    if (c.kind !== 'filter' || !(threads > 1) || !loaded.plugin.parallel || !loaded.module) return undefined;
    // A filter with a flush keeps something between batches: it stays on the main thread.
    if ((instance as { flush?: unknown }).flush) return undefined;
    try {
      structuredClone(c.options);
    } catch {
      logger.debug('options cannot be copied to a worker thread; the filter runs on the main thread');
      return undefined;
    }
    this.workers ??= new WorkerPool(threads - 1, this.logger);
    const service = { name: this.config.service.name, public_url: this.config.service.public_url };
    const target = this.partialsTargets.get(c.id);
    if (target) {
      // The aggregate's builder is made before the filter, so that the filter's first batch finds it.
      this.workers.add({ type: 'create', kind: 'aggregate', id: target.id, module: this.loadedOf(target).module!, name: target.type, options: target.options, configDir: this.config.dir, service }, logger);
    }
    const encodesTo = this.encoderTargets.get(c.id);
    if (encodesTo) {
      this.workers.add({ type: 'create', kind: 'output', id: encodesTo.id, module: this.loadedOf(encodesTo).module!, name: encodesTo.type, options: encodesTo.options, configDir: this.config.dir, service }, logger);
    }
    logger.debug('batches go to worker threads (Plugin.parallel)', { workers: threads - 1, ...(target ? { partials_to: target.id } : {}), ...(encodesTo ? { encoded_for: encodesTo.id } : {}) });
    this.workers.add({
      type: 'create', id: c.id, module: loaded.module, name: c.type, options: c.options, configDir: this.config.dir, service,
      ...(fields ? { downstreamFields: [...fields] } : {}),
      ...(target ? { partialsTo: target.id } : {}),
      ...(encodesTo ? { encodesTo: encodesTo.id } : {}),
    }, logger);
    return this.workers;
  }

  private async createNode(c: ComponentConfig, fields: ReadonlySet<string> | undefined): Promise<Node> {
    const plugin = this.pluginOf(c);
    const logger = this.logger.child({ component: c.id, type: c.type });
    const metrics = this.deps.metrics.component({ id: c.id, kind: c.kind, type: c.type });
    const timers = new ComponentTimers(logger);
    const base = createPluginContext({ id: c.id, logger, metrics, timers, dataRoot: this.config.service.data_dir, configDir: this.config.dir, service: { name: this.config.service.name, public_url: this.config.service.public_url }, pipeline: () => this.view(), shared: (key, create) => this.shared(key, create), kept: (key, create) => this.keptValues.get(c.id, c.type, key, create), downstreamFields: fields });
    // Aggregates get their emitter with the context (AggregateContext); it works once the node has started.
    const emitter = c.kind === 'aggregate' ? new AggregateEmitter(c.id) : undefined;
    const context = emitter ? { ...base, emit: emitter.emit } : base;
    let instance: NodeDeps['instance'];
    try {
      instance = await plugin.create(c.options as never, context as never);
    } catch (err) {
      throw new Error(`component "${c.id}" (${c.type}): ${(err as Error).message}`);
    }
    if (c.kind === 'aggregate' && [...this.partialsTargets.values()].includes(c) && !(instance as AggregateInstance).absorbPartial) {
      throw new Error(`component "${c.id}" (${c.type}): its plugin declares partials, but its instance has no absorbPartial`);
    }
    if (c.kind === 'output' && [...this.encoderTargets.values()].includes(c)) {
      const output = instance as OutputInstance;
      if (!output.writeEncoded) throw new Error(`component "${c.id}" (${c.type}): its plugin declares encodes, but its instance has no writeEncoded`);
      if (output.batch) throw new Error(`component "${c.id}" (${c.type}): its plugin's encodes accepts these options, but its instance asks for batch merging`);
    }
    const deps: NodeDeps = { config: c, plugin, instance, logger, metrics, timers, clock: this.deps.clock ?? systemClock, emitter };
    const workers = this.workersFor(c, instance, fields, logger);
    if (workers) {
      const node = new ParallelFilterNode(deps);
      node.useWorkers(workers);
      return node;
    }
    return new NODE_CLASS[c.kind](deps);
  }

  /** PluginContext.shared of this pipeline's components: the value stored under `key`, made by `create` on the
   * first call (also for embedders and tests that look at what the components share). */
  shared<T>(key: string, create: () => T): T {
    if (!this.sharedValues.has(key)) this.sharedValues.set(key, create());
    return this.sharedValues.get(key) as T;
  }

  /** Connect `inputs: [id | id.output]` references and size each buffer by its number of upstreams. */
  private wire(): void {
    const byId = new Map(this.nodes.map((n) => [n.id, n]));
    for (const node of this.nodes) {
      const upstreams = new Set<Node>();
      for (const ref of node.config.inputs) {
        const dot = ref.indexOf('.');
        const upstream = byId.get(dot < 0 ? ref : ref.slice(0, dot));
        const output = dot < 0 ? '' : ref.slice(dot + 1);
        if (!upstream) throw new Error(`component "${node.id}" reads unknown component "${ref}"`);
        const consumers = upstream.routes.get(output) ?? [];
        if (!consumers.includes(node)) consumers.push(node);
        upstream.routes.set(output, consumers);
        upstreams.add(upstream);
      }
      if (node.config.kind !== 'input') node.openQueue(upstreams.size);
    }
    const sharing = sharingComponents(this.config.components, (c) => this.pluginOf(c));
    for (const node of this.nodes) {
      for (const [output, consumers] of node.routes) node.copies.set(output, copyPlan(consumers.map((c) => sharing.has(c.id))));
    }
  }

  private of<K extends keyof typeof NODE_CLASS>(kind: K): InstanceType<(typeof NODE_CLASS)[K]>[] {
    return this.nodes.filter((n) => n.config.kind === kind) as InstanceType<(typeof NODE_CLASS)[K]>[];
  }

  /** Start components (outputs first) and let data flow. Throws, after closing what started, if one fails. */
  async start(): Promise<void> {
    this.state = 'starting';
    const started: Node[] = [];
    try {
      for (const kind of START_ORDER) {
        for (const node of this.of(kind)) {
          await node.start();
          started.push(node);
        }
      }
    } catch (err) {
      this.state = 'failed';
      for (const node of started.reverse()) await node.close();
      await this.endWorkers();
      await this.disposeOwnKept();
      throw err;
    }
    const consumers = this.nodes.filter((n) => n.config.kind !== 'input').map((n) => n.consume());
    const inputs = this.of('input').map((n) => n.run());
    this.state = 'running';
    this.finished = (async () => {
      await Promise.all(inputs);
      if (this.state === 'running') this.state = 'draining';
      await Promise.all(consumers);
      // Outputs close before inputs so that inputs receive the last acknowledgements and commit them.
      for (const kind of ['output', 'aggregate', 'filter', 'input'] as const) {
        for (const node of this.of(kind)) await node.close();
      }
      await this.endWorkers();
      await this.disposeOwnKept();
      this.state = 'stopped';
    })();
  }

  /** Resolves when the pipeline has ended: all inputs finished and everything drained and closed. */
  done(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }

  /** Stop the inputs and drain. If that takes longer than `graceMs`, outputs stop retrying; returns
   * false when the drain did not complete in time. */
  async stop(graceMs: number): Promise<boolean> {
    if (!this.finished) return true;
    if (this.state === 'running') this.state = 'draining';
    for (const input of this.of('input')) input.stop();
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      this.finished.then(() => true),
      new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), graceMs); }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      const queued = this.nodes.reduce((sum, n) => sum + (n.queue?.size ?? 0), 0);
      this.logger.warn('grace period over before the pipeline drained; events not yet delivered stay unacknowledged and will be read again', { grace_ms: graceMs, queued_events: queued });
      for (const output of this.of('output')) output.giveUp.abort();
    }
    return inTime;
  }

  health(): { healthy: boolean; state: PipelineState; components: Record<string, ComponentHealth> } {
    const components: Record<string, ComponentHealth> = {};
    let healthy = this.state === 'running';
    for (const node of this.nodes) {
      const h = node.health();
      components[node.id] = h;
      if (!h.healthy) healthy = false;
    }
    return { healthy, state: this.state, components };
  }

  /** Counters and health of this pipeline's components now (PluginContext.pipeline()). */
  view(): PipelineView {
    const snapshot = this.deps.metrics.snapshot();
    const health = this.health();
    const components: Record<string, ComponentStats> = {};
    for (const node of this.nodes) {
      const stats = snapshot[node.id];
      const h = health.components[node.id];
      if (stats) components[node.id] = { ...stats, healthy: h.healthy, ...(h.reason ? { reason: h.reason } : {}) };
    }
    return { state: health.state, healthy: health.healthy, components };
  }

  /** What this pipeline's components failed to deliver so far (see losses.ts for what counts). Counters are the
   * metrics hub's: for a component kept across a reload they include what it counted before. */
  losses(): Loss[] {
    const snapshot = this.deps.metrics.snapshot();
    const losses: Loss[] = [];
    for (const node of this.nodes) {
      const stats = snapshot[node.id];
      if (!stats) continue;
      for (const [reason, count] of Object.entries(stats.discarded_by_reason)) {
        if (count > 0 && node.isLoss(reason)) losses.push({ component: node.id, what: 'discarded', reason, count });
      }
      for (const step of node.config.kind === 'input' ? ['run'] : ['flush']) {
        const count = stats.errors_by_type[step] ?? 0;
        if (count > 0) losses.push({ component: node.id, what: 'failed', reason: step, count });
      }
      if (node instanceof InputNode && node.failedBatches > 0) losses.push({ component: node.id, what: 'failed_batches', count: node.failedBatches });
    }
    return losses;
  }

  componentIds(): string[] {
    return this.nodes.map((n) => n.id);
  }
}
