// The built-in tests' layer over the test kit (core/testing, published as visor/testing): startPipeline(yaml) runs a
// pipeline exactly as the kit does, with the kit's test_script and test_record plus the runtime's own test plugins
// below (stand-ins for inputs, filters and aggregates), a manual clock, and `probe(id)`: what one component
// observed, in one shape for test inputs and outputs alike. Everything is per pipeline: nothing is module-wide.
import { definePlugin, type AckHold, type AckResult, type AnyPlugin, type Event, type PluginContext } from '../../core/index.js';
import type { Clock } from '../../core/runtime/clock.js';
import type { MetricsHub } from '../../core/runtime/metrics.js';
import type { Pipeline } from '../../core/runtime/pipeline.js';
import { Bench } from '../../core/testing/bench.js';
import { RECORD_TYPE } from '../../core/testing/plugins.js';
import type { Recording, WriteHandler } from '../../core/testing/recording.js';
import { startRun, type TestRun } from '../../core/testing/run.js';
import type { ScriptedInput } from '../../core/testing/script.js';
import { readLines } from './corpora.js';

/** What a test component observed, by component id: inputs fill `emitted` and `acks`, outputs the rest. */
export interface Probe {
  emitted: number;
  acks: Array<{ batch: number; result: AckResult; at: number }>;
  written: Event[];
  writes: number;
  /** How far the pipeline's test inputs had run ahead of this output when each write began (emitted - written). */
  leads: number[];
  /** Events per accepted write, and when each began. */
  writeSizes: number[];
  writeTimes: number[];
}
export type Probes = (id: string) => Probe;

/** The probes of one pipeline, kept in its PluginContext.shared; a test_record output's probe shows its Recording. */
class ProbeStore {
  private readonly byId = new Map<string, Probe>();

  probe(id: string): Probe {
    let p = this.byId.get(id);
    if (!p) this.byId.set(id, (p = { emitted: 0, acks: [], written: [], writes: 0, leads: [], writeSizes: [], writeTimes: [] }));
    return p;
  }

  /** Make `id`'s probe show `recording` (before data flows, so that every write is seen). */
  adopt(id: string, recording: Recording): void {
    const leads: number[] = [];
    recording.onWrite(() => void leads.push(this.emitted() - recording.events.length));
    this.byId.set(id, {
      emitted: 0,
      acks: [],
      written: recording.events,
      get writes() { return recording.writes.length; },
      leads,
      get writeSizes() { return recording.writes.map((w) => w.events.length); },
      get writeTimes() { return recording.writes.map((w) => w.at); },
    });
  }

  private emitted(): number {
    let n = 0;
    for (const p of this.byId.values()) n += p.emitted;
    return n;
  }
}

const PROBES = 'visor-tests/probes';
function storeOf(owner: Pick<PluginContext, 'shared'>): ProbeStore {
  return owner.shared(PROBES, () => new ProbeStore());
}

/** The probes of the pipeline that `owner` (a plugin's context, or the pipeline) belongs to. */
export function probesOf(owner: Pick<PluginContext, 'shared'>): Probes {
  const store = storeOf(owner);
  return (id) => store.probe(id);
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
    const p = probesOf(ctx)(ctx.id);
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
    const p = probesOf(ctx)(ctx.id);
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

/** The runtime's test plugins (the kit adds test_script and test_record). */
export const testPlugins: AnyPlugin[] = [counterInput, tagFilter, holdingAggregate, fileLinesInput] as AnyPlugin[];

/** A kit bench with the test plugins (and `extra`), for tests that build pipelines themselves (the Agent's). */
export function testBench(extra: AnyPlugin[] = []): Bench {
  return new Bench([...testPlugins, ...extra]);
}

export interface Harness {
  /** The kit's handle on the run (visor/testing's TestPipeline, with the runtime objects behind it). */
  run: TestRun;
  pipeline: Pipeline;
  metrics: MetricsHub;
  logs: string[];
  probe: Probes;
  /** The test_script input `id`. */
  script(id: string): ScriptedInput;
}

export interface StartOptions {
  clock?: Clock;
  /** Plugins of the test file, besides the test plugins. */
  plugins?: AnyPlugin[];
  /** Handlers of test_record outputs' writes, by output id, in place before data flows (Recording.onWrite: throw
   * to fail a write). */
  onWrite?: Record<string, WriteHandler>;
}

/** Build and start a pipeline from YAML text using the built-ins, the kit's and the test plugins. */
export async function startPipeline(yaml: string, opts: StartOptions = {}): Promise<Harness> {
  const run = await startRun({ yaml, plugins: [...testPlugins, ...(opts.plugins ?? [])], start: false }, { clock: opts.clock });
  const store = storeOf(run.pipeline);
  for (const c of run.pipeline.config.components) if (c.type === RECORD_TYPE) store.adopt(c.id, run.output(c.id));
  for (const [id, handler] of Object.entries(opts.onWrite ?? {})) run.output(id).onWrite(handler);
  await run.start();
  return { run, pipeline: run.pipeline, metrics: run.metrics, logs: run.logs, probe: (id) => store.probe(id), script: (id) => run.input(id) };
}

/** startPipeline with the test file's own plugins. */
export function pipelineWith(...plugins: AnyPlugin[]): (yaml: string, opts?: StartOptions) => Promise<Harness> {
  return (yaml, opts = {}) => startPipeline(yaml, { ...opts, plugins: [...plugins, ...(opts.plugins ?? [])] });
}
