// Metrics of the running pipeline. The hot path only bumps plain number fields: prom-client sees the
// numbers only when /metrics is scraped, through `collect()` callbacks that copy them into its metrics.
// prom-client itself is imported at the first scrape: importing it (with @opentelemetry/api) cost 25-60 ms of every
// start-up, and most runs are never scraped. Until then the hub keeps the metric families as plain descriptions.
import type { Counter as PromCounter, Gauge as PromGauge, Registry } from 'prom-client';
import type { ComponentMetrics, ComponentStats, Counter, Gauge, PluginKind } from '../api.js';

export interface ComponentLabels {
  id: string;
  kind: PluginKind;
  type: string;
}

/** The `output` label value (and snapshot key) of a component's main output. Side outputs use their name. */
export const MAIN_OUTPUT = '_default';

const PREFIX = 'visor_';
// Prometheus' metric name grammar without `:`, which is reserved for recording rules.
const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class PlainCounter implements Counter {
  value = 0;
  inc(n = 1): void {
    // `!(n >= 0)` also rejects NaN, which would otherwise poison the counter for good.
    if (!(n >= 0)) throw new RangeError(`a counter can only increase; inc(${n}) is not allowed`);
    this.value += n;
  }
}

class PlainGauge implements Gauge {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

type CustomKind = 'counter' | 'gauge';
/** Called when a component declares a custom metric, so the hub can create its prom-client metric. */
type DeclareCustom = (fullName: string, kind: CustomKind, help: string, labelNames: string[]) => void;

/** One series of a custom metric: its own labels (besides the component's) and its value. */
interface CustomSeries<M> { labels: Record<string, string>; metric: M }
/** A custom metric of one component: its series by their label values. */
type CustomFamily<M> = Map<string, CustomSeries<M>>;

/** Returns the value stored under `key`, creating it first if needed. */
function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

export class ComponentMetricsImpl implements ComponentMetrics {
  /** Events that entered the component. */
  readonly receivedEvents: Counter = new PlainCounter();
  readonly receivedBytes: Counter = new PlainCounter();
  readonly sentBytes: Counter = new PlainCounter();
  /** Events currently queued at the component's input. */
  readonly bufferEvents: Gauge = new PlainGauge();
  /** Capacity of the component's input buffer. */
  bufferMaxEvents = 0;
  /** A parallel filter's batches and lines that reached its worker threads as the bytes of their lines (an input's
   * EncodedLines, InputRuntime.linesUndecoded), decoded there rather than on the main thread. */
  readonly workerUndecodedBatches: Counter = new PlainCounter();
  readonly workerUndecodedLines: Counter = new PlainCounter();
  /** Whether batches of this component go to worker threads (a parallel filter with threads > 1): only then are
   * the worker_* series exposed. */
  workerStage = false;

  /** By output name; the main output is stored under MAIN_OUTPUT. */
  readonly sentByOutput = new Map<string, Counter>();
  readonly discardedByReason = new Map<string, Counter>();
  readonly errorsByType = new Map<string, Counter>();
  /** By full Prometheus name (`visor_...`). */
  readonly customCounters = new Map<string, CustomFamily<Counter>>();
  readonly customGauges = new Map<string, CustomFamily<Gauge>>();
  /** The labels every series of this component carries, built once. */
  readonly promLabels: Readonly<Record<'component_id' | 'component_kind' | 'component_type', string>>;

  constructor(readonly labels: Readonly<ComponentLabels>, private readonly declareCustom: DeclareCustom) {
    this.promLabels = { component_id: labels.id, component_kind: labels.kind, component_type: labels.type };
  }

  // The methods below look a counter up by name on every call: callers on a hot path keep the result.

  /** Events sent on the main output (`''` or omitted) or on a side output. */
  sentEvents(output?: string): Counter {
    return getOrCreate(this.sentByOutput, output || MAIN_OUTPUT, () => new PlainCounter());
  }

  discarded(reason: string): Counter {
    return getOrCreate(this.discardedByReason, reason, () => new PlainCounter());
  }

  errors(type: string): Counter {
    return getOrCreate(this.errorsByType, type, () => new PlainCounter());
  }

  counter(name: string, help: string, labels: Record<string, string> = {}): Counter {
    validateCustom(name, help, labels);
    const fullName = PREFIX + (name.endsWith('_total') ? name : `${name}_total`);
    return this.series(this.customCounters, fullName, 'counter', help, labels, () => new PlainCounter());
  }

  gauge(name: string, help: string, labels: Record<string, string> = {}): Gauge {
    validateCustom(name, help, labels);
    return this.series(this.customGauges, PREFIX + name, 'gauge', help, labels, () => new PlainGauge());
  }

  private series<M>(families: Map<string, CustomFamily<M>>, fullName: string, kind: CustomKind, help: string,
    labels: Record<string, string>, create: () => M): M {
    const names = Object.keys(labels).sort();
    const family = getOrCreate(families, fullName, () => {
      this.declareCustom(fullName, kind, help, names);
      return new Map();
    });
    const key = JSON.stringify(names.map((n) => [n, labels[n]]));
    return getOrCreate(family, key, () => {
      const existing = family.values().next().value;
      if (existing && Object.keys(existing.labels).sort().join() !== names.join()) {
        throw new Error(`metric "${fullName}" has labels [${Object.keys(existing.labels).sort().join(', ')}]; it cannot also have [${names.join(', ')}]`);
      }
      return { labels: { ...labels }, metric: create() };
    }).metric;
  }
}

const RESERVED_LABELS = new Set(['component_id', 'component_kind', 'component_type']);

function validateCustom(name: string, help: string, labels: Record<string, string>): void {
  for (const [label, value] of Object.entries(labels)) {
    if (!METRIC_NAME.test(label) || label.startsWith('__') || RESERVED_LABELS.has(label)) {
      throw new Error(`invalid label name ${JSON.stringify(label)} for metric "${name}": use letters, digits and underscores, not starting with a digit or "__", and not a component_* label`);
    }
    if (typeof value !== 'string') throw new Error(`label "${label}" of metric "${name}" needs a string value`);
  }
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    throw new Error(
      `invalid metric name ${JSON.stringify(name)}: use letters, digits and underscores, not starting with a digit (e.g. "files_open")`,
    );
  }
  if (typeof help !== 'string' || help.trim() === '') {
    throw new Error(`metric "${name}" needs a help text describing what it measures`);
  }
}

/** Plain numbers of one component, for dashboards and health reports. */
/** A component's counters; health is added by the pipeline (see ComponentStats in the plugin API). */
export type ComponentSnapshot = Omit<ComponentStats, 'healthy' | 'reason'>;

/** One labelled value a collected metric reports at scrape time. */
interface Sample {
  labels: Record<string, string>;
  value: number;
}

const COMPONENT_LABELS = ['component_id', 'component_kind', 'component_type'] as const;

/** prom-client's exposition content type (Registry.PROMETHEUS_CONTENT_TYPE, the default of Registry#contentType),
 * known before prom-client is imported; a test compares the two. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A metric family as the hub registers it in prom-client: its series rebuilt from `samples` at every scrape. */
interface Family {
  kind: CustomKind;
  help: string;
  labelNames: string[];
  samples: () => Sample[];
}

export class MetricsHub {
  /** prom-client's registry, from the first scrape on. An own registry rather than prom-client's global one, so
   * hubs (e.g. in tests) never collide. */
  private registry: Registry | undefined;
  private prom: typeof import('prom-client') | undefined;
  private registryLoading: Promise<Registry> | undefined;
  /** The families, by full name, in registration order (the exposition's order). */
  private readonly families = new Map<string, Family>();
  private readonly components = new Map<string, ComponentMetricsImpl>();
  /** Kind of each custom metric declared so far, by full name. */
  private readonly customKinds = new Map<string, { kind: CustomKind; labelNames: string[] }>();
  readonly contentType: string = PROMETHEUS_CONTENT_TYPE;

  /** `version` is reported as `visor_build_info{version}`. */
  constructor(private readonly version = 'unknown') {
    this.registerProcessMetrics();
    this.registerComponentMetrics();
  }

  /** The metrics of a component. The same object comes back for the same id, kind and type, so counters
   * survive a config reload; a component whose kind or type changed starts from zero. */
  component(labels: ComponentLabels): ComponentMetricsImpl {
    const existing = this.components.get(labels.id);
    if (existing && existing.labels.kind === labels.kind && existing.labels.type === labels.type) return existing;
    const created = new ComponentMetricsImpl({ ...labels }, (name, kind, help, labelNames) => this.declareCustom(name, kind, help, labelNames));
    this.components.set(labels.id, created);
    if (existing) this.dropUnusedCustomFamilies();
    return created;
  }

  /** Forget the components whose id is not in `ids` (a reload removed them); their series disappear. */
  retain(ids: Iterable<string>): void {
    const keep = new Set(ids);
    for (const id of this.components.keys()) {
      if (!keep.has(id)) this.components.delete(id);
    }
    this.dropUnusedCustomFamilies();
  }

  snapshot(): Record<string, ComponentSnapshot> {
    const result: Record<string, ComponentSnapshot> = {};
    for (const [id, c] of this.components) {
      const sentByOutput = totals(c.sentByOutput);
      const discarded = totals(c.discardedByReason);
      const errors = totals(c.errorsByType);
      result[id] = {
        kind: c.labels.kind,
        type: c.labels.type,
        received_events: c.receivedEvents.value,
        sent_events: sum(sentByOutput),
        sent_events_by_output: sentByOutput,
        received_bytes: c.receivedBytes.value,
        sent_bytes: c.sentBytes.value,
        discarded: sum(discarded),
        discarded_by_reason: discarded,
        errors: sum(errors),
        errors_by_type: errors,
        buffer_events: c.bufferEvents.value,
        buffer_max_events: c.bufferMaxEvents,
        worker_undecoded_batches: c.workerUndecodedBatches.value,
        worker_undecoded_lines: c.workerUndecodedLines.value,
        custom: { ...familyTotals(c.customCounters), ...familyTotals(c.customGauges) },
      };
    }
    return result;
  }

  /** Everything in the Prometheus text format. prom-client's process metrics (CPU, memory, GC, event-loop
   * lag) start with the first scrape: its GC observer, running from start-up, made V8 double the young
   * generation under load (tail -> parse -> window: peak RSS 101-103 MB with it, 90-91 MB without). */
  async exposition(): Promise<string> {
    return (await this.promRegistry()).metrics();
  }

  /** prom-client's registry holding every family registered so far, then its default process metrics. */
  private promRegistry(): Promise<Registry> {
    this.registryLoading ??= import('prom-client').then((prom) => {
      const registry = new prom.Registry();
      this.prom = prom;
      this.registry = registry;
      for (const [fullName, family] of this.families) this.registerFamily(prom, registry, fullName, family);
      prom.collectDefaultMetrics({ register: registry, prefix: PREFIX });
      return registry;
    });
    return this.registryLoading;
  }

  private registerProcessMetrics(): void {
    this.addFamily(`${PREFIX}build_info`, {
      kind: 'gauge',
      help: 'Always 1; the labels tell which Visor is running.',
      labelNames: ['version'],
      samples: () => [{ labels: { version: this.version }, value: 1 }],
    });
    this.addFamily(`${PREFIX}uptime_seconds`, {
      kind: 'gauge',
      help: 'Seconds since the Visor process started.',
      labelNames: [],
      samples: () => [{ labels: {}, value: process.uptime() }],
    });
  }

  private registerComponentMetrics(): void {
    const each = (value: (c: ComponentMetricsImpl) => number) => (): Sample[] =>
      [...this.components.values()].map((c) => ({ labels: c.promLabels, value: value(c) }));
    const byKey = (label: string, counters: (c: ComponentMetricsImpl) => Map<string, Counter>) => (): Sample[] =>
      [...this.components.values()].flatMap((c) =>
        [...counters(c)].map(([key, counter]) => ({ labels: { ...c.promLabels, [label]: key }, value: counter.value })),
      );

    this.collected('counter', 'component_received_events_total', 'Events that entered the component.', [],
      each((c) => c.receivedEvents.value));
    this.collected('counter', 'component_sent_events_total', 'Events the component sent, by output.', ['output'],
      byKey('output', (c) => c.sentByOutput));
    this.collected('counter', 'component_received_bytes_total', 'Bytes the component read from the outside world.', [],
      each((c) => c.receivedBytes.value));
    this.collected('counter', 'component_sent_bytes_total', 'Bytes the component wrote to the outside world.', [],
      each((c) => c.sentBytes.value));
    this.collected('counter', 'component_discarded_events_total', 'Events the component chose not to pass on, by reason.', ['reason'],
      byKey('reason', (c) => c.discardedByReason));
    this.collected('counter', 'component_errors_total', 'Errors the component handled, by type.', ['error_type'],
      byKey('error_type', (c) => c.errorsByType));
    this.collected('gauge', 'buffer_events', "Events queued at the component's input.", [],
      each((c) => c.bufferEvents.value));
    this.collected('gauge', 'buffer_max_events', "Capacity of the component's input buffer, in events.", [],
      each((c) => c.bufferMaxEvents));
    const workers = (value: (c: ComponentMetricsImpl) => number) => (): Sample[] =>
      [...this.components.values()].filter((c) => c.workerStage).map((c) => ({ labels: c.promLabels, value: value(c) }));
    this.collected('counter', 'component_worker_undecoded_batches_total',
      "Batches a parallel filter's worker threads got as the bytes of their lines, decoded there.", [], workers((c) => c.workerUndecodedBatches.value));
    this.collected('counter', 'component_worker_undecoded_lines_total',
      "Lines a parallel filter's worker threads got as their bytes, decoded there.", [], workers((c) => c.workerUndecodedLines.value));
  }

  /** A family whose series are rebuilt from `samples` at every scrape, with the component labels first. */
  private collected(kind: CustomKind, name: string, help: string, extraLabels: string[], samples: () => Sample[]): void {
    this.addFamily(PREFIX + name, { kind, help, labelNames: [...COMPONENT_LABELS, ...extraLabels], samples });
  }

  private addFamily(fullName: string, family: Family): void {
    this.families.set(fullName, family);
    if (this.registry && this.prom) this.registerFamily(this.prom, this.registry, fullName, family);
  }

  /** The family as a prom-client counter or gauge. It needs no variable: `registers` makes the registry hold it. */
  private registerFamily(prom: typeof import('prom-client'), registry: Registry, fullName: string, family: Family): void {
    const Metric = family.kind === 'counter' ? prom.Counter : prom.Gauge;
    new Metric({
      name: fullName,
      help: family.help,
      labelNames: family.labelNames,
      registers: [registry],
      collect(this: PromCounter | PromGauge) {
        // reset() first so that series of forgotten components disappear; a counter's inc from zero sets it.
        this.reset();
        for (const s of family.samples()) this.inc(s.labels, s.value);
      },
    });
  }

  /** Components declaring the same custom name share one prom-client metric, told apart by their labels. */
  private declareCustom(fullName: string, kind: CustomKind, help: string, labelNames: string[]): void {
    const declared = this.customKinds.get(fullName);
    if (declared) {
      if (declared.kind !== kind) {
        throw new Error(`metric "${fullName}" is already registered as a ${declared.kind}; it cannot also be a ${kind}`);
      }
      if (declared.labelNames.join() !== labelNames.join()) {
        throw new Error(`metric "${fullName}" is already registered with labels [${declared.labelNames.join(', ')}]; it cannot also have [${labelNames.join(', ')}]`);
      }
      return;
    }
    // Once scraped, prom-client's registry also holds its process metrics (visor_process_...).
    if (this.families.has(fullName) || this.registry?.getSingleMetric(fullName)) {
      throw new Error(`metric name "${fullName}" is reserved by Visor; choose another name`);
    }
    const samples = (): Sample[] => {
      const samples: Sample[] = [];
      for (const c of this.components.values()) {
        const family: CustomFamily<Counter | Gauge> | undefined = (kind === 'counter' ? c.customCounters : c.customGauges).get(fullName);
        for (const s of family?.values() ?? []) samples.push({ labels: { ...c.promLabels, ...s.labels }, value: s.metric.value });
      }
      return samples;
    };
    const name = fullName.slice(PREFIX.length);
    this.collected(kind, name, help, labelNames, samples);
    this.customKinds.set(fullName, { kind, labelNames });
  }

  /** Unregisters custom metrics no component uses any more, so that a reloaded plugin may declare the name anew. */
  private dropUnusedCustomFamilies(): void {
    for (const [fullName, { kind }] of this.customKinds) {
      const used = [...this.components.values()].some((c) =>
        (kind === 'counter' ? c.customCounters : c.customGauges).has(fullName));
      if (!used) {
        this.families.delete(fullName);
        this.registry?.removeSingleMetric(fullName);
        this.customKinds.delete(fullName);
      }
    }
  }
}

function totals(map: Map<string, { value: number }>): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [key, metric] of map) result[key] = metric.value;
  return result;
}

/** Each custom metric's value summed over its series (the snapshot has no labels). */
function familyTotals(families: Map<string, CustomFamily<{ value: number }>>): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, family] of families) {
    let total = 0;
    for (const s of family.values()) total += s.metric.value;
    result[name] = total;
  }
  return result;
}

function sum(values: Record<string, number>): number {
  let total = 0;
  for (const v of Object.values(values)) total += v;
  return total;
}
