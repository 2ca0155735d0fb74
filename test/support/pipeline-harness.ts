// Test plugins built on the public plugin API, and a way to run a pipeline from YAML in-process.
// They are real plugins (registered exactly as external ones are); only their data source is scripted.
import { loadConfigText } from '../../core/config/load.js';
import { formatDiagnostic } from '../../core/config/model.js';
import { definePlugin, PermanentError, type AckResult, type AckHold, type Event } from '../../core/index.js';
import { loadRegistry, type PluginRegistry } from '../../core/registry.js';
import { createLogger, createLogSink } from '../../core/runtime/logger.js';
import type { Clock } from '../../core/runtime/clock.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import { Pipeline } from '../../core/runtime/pipeline.js';
import { readLines } from './corpora.js';

/** What the test plugins observed, keyed by component id. */
export interface Probe {
  emitted: number;
  acks: Array<{ batch: number; result: AckResult; at: number }>;
  written: Event[];
  writes: number;
  /** Input's lead over this output when each write began (emitted - written). */
  leads: number[];
  /** Events per write call, and when each began. */
  writeSizes: number[];
  writeTimes: number[];
  failuresLeft?: number;
}
export const probes = new Map<string, Probe>();
export function probe(id: string): Probe {
  let p = probes.get(id);
  if (!p) probes.set(id, (p = { emitted: 0, acks: [], written: [], writes: 0, leads: [], writeSizes: [], writeTimes: [] }));
  return p;
}

const counterInput = definePlugin<{ total: number; batch: number; forever: boolean }, 'input'>({
  kind: 'input',
  name: 'test_counter',
  description: 'Emits numbered events {n, message} in batches; records every acknowledgement.',
  schema: {
    type: 'object',
    properties: {
      total: { type: 'integer', default: 1000 },
      batch: { type: 'integer', default: 100 },
      forever: { type: 'boolean', default: false },
    },
  },
  create(options, ctx) {
    const p = probe(ctx.id);
    return {
      async run({ emit, signal }) {
        let n = 0;
        for (let b = 0; (options.forever || n < options.total) && !signal.aborted; b++) {
          const size = options.forever ? options.batch : Math.min(options.batch, options.total - n);
          const events: Event[] = [];
          for (let i = 0; i < size; i++) events.push({ n: n++, message: `line ${n}` });
          p.emitted = n;
          await emit(events, { onAck: (result) => p.acks.push({ batch: b, result, at: Date.now() }) });
        }
      },
    };
  },
});

const recordOutput = definePlugin<{ delay_ms: number; fail: 'never' | 'always' | 'permanent' | 'first'; fail_times: number; watch: string; batch_max: number; batch_timeout_ms: number }, 'output'>({
  kind: 'output',
  name: 'test_record',
  description: 'Records what it is given; can be slow or fail.',
  schema: {
    type: 'object',
    properties: {
      delay_ms: { type: 'integer', default: 0 },
      fail: { enum: ['never', 'always', 'permanent', 'first'], default: 'never' },
      fail_times: { type: 'integer', default: 0 },
      watch: { type: 'string', default: '' },
      batch_max: { type: 'integer', default: 0, description: 'When > 0, ask the core to merge queued batches up to this many events.' },
      batch_timeout_ms: { type: 'integer', default: 0 },
    },
  },
  create(options, ctx) {
    const p = probe(ctx.id);
    p.failuresLeft = options.fail_times;
    return {
      batch: options.batch_max > 0 ? { max_events: options.batch_max, timeout_ms: options.batch_timeout_ms } : undefined,
      async write(events) {
        p.writeSizes.push(events.length);
        p.writeTimes.push(Date.now());
        if (options.watch) p.leads.push(probe(options.watch).emitted - p.written.length);
        if (options.delay_ms) await new Promise((r) => setTimeout(r, options.delay_ms));
        if (options.fail === 'permanent') throw new PermanentError('rejected for good');
        if (options.fail === 'always') throw new Error('peer unreachable');
        if (options.fail === 'first' && p.failuresLeft! > 0) {
          p.failuresLeft!--;
          throw new Error('transient failure');
        }
        p.writes++;
        p.written.push(...events);
      },
    };
  },
});

const tagFilter = definePlugin<{ field: string; value: string; throw_on: number; unparsed_every: number }, 'filter'>({
  kind: 'filter',
  name: 'test_tag',
  description: 'Sets a field on every event; can throw on a given n or send every k-th event to _unparsed.',
  schema: {
    type: 'object',
    properties: {
      field: { type: 'string', default: 'tag' },
      value: { type: 'string', default: 'x' },
      throw_on: { type: 'integer', default: -1 },
      unparsed_every: { type: 'integer', default: 0 },
    },
  },
  sideOutputs: { _unparsed: 'events it cannot tag' },
  create(options) {
    return {
      process(events, { emit }) {
        const kept: Event[] = [];
        const bad: Event[] = [];
        for (const e of events) {
          if (e.n === options.throw_on) throw new Error(`cannot handle event ${e.n}`);
          e[options.field] = options.value;
          (options.unparsed_every && (e.n as number) % options.unparsed_every === 0 ? bad : kept).push(e);
        }
        if (bad.length) emit(bad, '_unparsed');
        return kept;
      },
    };
  },
});

/** Counts events and emits one total at flush, holding every absorbed batch's ack until then. */
const holdingAggregate = definePlugin<{ hold: boolean }, 'aggregate'>({
  kind: 'aggregate',
  name: 'test_total',
  description: 'Counts events; emits {total} when flushed.',
  schema: { type: 'object', properties: { hold: { type: 'boolean', default: true } } },
  create(options, context) {
    let total = 0;
    const holds: AckHold[] = [];
    return {
      process(events, ctx) {
        total += events.length;
        if (options.hold) holds.push(ctx.hold());
      },
      async flush() {
        await context.emit([{ total }], { acks: holds });
      },
    };
  },
});

/** Emits every line of the given files (gunzipped for .gz) as { message }, in batches; records the acks. */
const fileLinesInput = definePlugin<{ files: string[]; batch: number }, 'input'>({
  kind: 'input',
  name: 'test_file_lines',
  description: 'Emits the lines of files as {message} events, in batches; records every acknowledgement.',
  schema: { type: 'object', properties: { files: { type: 'array', items: { type: 'string' } }, batch: { type: 'integer', default: 500 } } },
  create(options, ctx) {
    const p = probe(ctx.id);
    return {
      async run({ emit }) {
        const lines = options.files.flatMap(readLines);
        for (let i = 0, b = 0; i < lines.length; i += options.batch, b++) {
          const events = lines.slice(i, i + options.batch).map((message) => ({ message }));
          p.emitted += events.length;
          await emit(events, { onAck: (result) => p.acks.push({ batch: b, result, at: Date.now() }) });
        }
      },
    };
  },
});

/** The batches a `test_script` input emits, sent by the test; the same script survives a reload (it is keyed by id). */
export class Script {
  private readonly items: Array<{ events: Event[]; acked: (result: AckResult) => void }> = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: Error | undefined;

  /** Emit `events` as one batch; resolves with its acknowledgement, i.e. once every component has handled it. */
  send(events: Event[]): Promise<AckResult> {
    return new Promise((acked) => {
      this.items.push({ events, acked });
      this.wake?.();
    });
  }

  /** End of input: the input returns, which ends the pipeline. */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  /** The input's run throws `error` once the batches sent so far are emitted. */
  fail(error: Error): void {
    this.failure = error;
    this.wake?.();
  }

  async next(signal: AbortSignal): Promise<{ events: Event[]; acked: (result: AckResult) => void } | undefined> {
    for (;;) {
      if (this.items.length) return this.items.shift();
      if (this.failure) throw this.failure;
      if (this.ended || signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      this.wake = undefined;
    }
  }
}
const scripts = new Map<string, Script>();
export function script(id: string): Script {
  let s = scripts.get(id);
  if (!s) scripts.set(id, (s = new Script()));
  return s;
}

const scriptInput = definePlugin<Record<string, never>, 'input'>({
  kind: 'input',
  name: 'test_script',
  description: 'Emits the batches the test sends with script(id).send(events), until script(id).end().',
  schema: { type: 'object', properties: {} },
  create(_options, ctx) {
    const s = script(ctx.id);
    return {
      async run({ emit, signal }) {
        for (let item = await s.next(signal); item; item = await s.next(signal)) await emit(item.events, { onAck: item.acked });
      },
    };
  },
});

/** A clock that moves only when the test says so; its timers fire, in order, as it passes them. */
export class ManualClock implements Clock {
  private t = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): { cancel(): void } {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => { timer.live = false; } };
  }

  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.t = due.at;
      due.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
    this.t = until;
  }
}

export const testPlugins = [counterInput, recordOutput, tagFilter, holdingAggregate, fileLinesInput, scriptInput];

let registry: PluginRegistry | undefined;
export async function testRegistry(): Promise<PluginRegistry> {
  if (!registry) {
    registry = await loadRegistry();
    for (const p of testPlugins) registry.register(p, 'test');
  }
  return registry;
}

export interface Harness {
  pipeline: Pipeline;
  metrics: MetricsHub;
  logs: string[];
}

/** Forget what the test plugins observed and the scripts of test_script inputs. */
export function resetTestPlugins(): void {
  probes.clear();
  scripts.clear();
}

/** Build and start a pipeline from YAML text using the built-ins plus the test plugins. */
export async function startPipeline(yaml: string, opts: { clock?: Clock } = {}): Promise<Harness> {
  resetTestPlugins();
  const reg = await testRegistry();
  const result = await loadConfigText(yaml, '/tmp/visor-test/pipeline.yaml', { registryFor: async () => reg });
  if (!result.config) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  const logs: string[] = [];
  const sink = createLogSink('debug', 'text', (l) => void logs.push(l));
  const metrics = new MetricsHub();
  const pipeline = await Pipeline.build(result.config, { registry: reg, metrics, logger: createLogger(sink), clock: opts.clock });
  await pipeline.start();
  return { pipeline, metrics, logs };
}
