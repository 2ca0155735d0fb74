// One test run: a config checked as `visor validate` checks it, built and started as `visor run` does (without the
// agent's HTTP endpoint), its logs captured, and the scripted inputs and recordings of its test components.
import type { AckResult, ComponentStats, Event, PluginKind } from '../api.js';
import { ConfigError, type Diagnostic } from '../config/model.js';
import type { Clock } from '../runtime/clock.js';
import { createLogger, createLogSink } from '../runtime/logger.js';
import { MetricsHub } from '../runtime/metrics.js';
import { Pipeline } from '../runtime/pipeline.js';
import type { PipelineTestOptions, TestPipeline } from './api.js';
import { Bench } from './bench.js';
import { RECORD_TYPE, SCRIPT_TYPE } from './plugins.js';
import type { Recording } from './recording.js';
import { runDir, type RunDir } from './run-dir.js';
import type { AckRecord, ScriptedInput } from './script.js';

/** What the built-in tests may also set. Not part of visor/testing: the runtime's clock drives only the runtime's
 * own rate-limited warnings, no help to a plugin's tests, since plugins' timers and Date.now() do not follow it. */
export interface RunInternals {
  clock?: Clock;
}

/** TestPipeline (see api.ts for what each member does), plus the runtime objects the built-in tests look into. */
export class TestRun implements TestPipeline {
  constructor(
    readonly pipeline: Pipeline,
    readonly metrics: MetricsHub,
    readonly bench: Bench,
    readonly logs: string[],
    readonly warnings: Diagnostic[],
    private readonly dir: RunDir,
  ) {}

  /** The pipeline done, then the run's fresh directory removed (from start() on). */
  private finished?: Promise<void>;

  input(id?: string): ScriptedInput {
    return this.bench.input(this.pick('input', SCRIPT_TYPE, id));
  }

  send(events: Event[], input?: string): Promise<AckResult> {
    return this.input(input).send(events);
  }

  get acks(): AckRecord[] {
    return this.bench.acks;
  }

  output(id: string): Recording {
    return this.bench.output(this.pick('output', RECORD_TYPE, id));
  }

  get events(): Record<string, Event[]> {
    return Object.fromEntries(this.ids('output', RECORD_TYPE).map((id) => [id, this.bench.output(id).events]));
  }

  stats(id: string): ComponentStats {
    const stats = this.pipeline.view().components[id];
    if (!stats) throw new Error(`no component "${id}" (components: ${this.pipeline.componentIds().join(', ')})`);
    return stats;
  }

  async start(): Promise<void> {
    if (this.pipeline.state !== 'created') throw new Error(`the pipeline is already ${this.pipeline.state}`);
    try {
      await this.pipeline.start();
    } catch (err) {
      await this.dir.remove();
      throw err;
    }
    // Every component has closed when the pipeline is done, so nothing writes to the directory any more.
    this.finished = this.pipeline.done().finally(() => this.dir.remove());
  }

  async end(): Promise<void> {
    for (const id of this.ids('input', SCRIPT_TYPE)) this.bench.input(id).end();
    await this.done();
  }

  stop(graceMs = 5000): Promise<boolean> {
    return this.pipeline.stop(graceMs);
  }

  done(): Promise<void> {
    return this.finished ?? this.pipeline.done();
  }

  private ids(kind: PluginKind, type: string): string[] {
    return this.pipeline.config.components.filter((c) => c.kind === kind && c.type === type).map((c) => c.id);
  }

  /** `id` when it is a component of that kind and type; without an id, the only such component. */
  private pick(kind: PluginKind, type: string, id: string | undefined): string {
    const ids = this.ids(kind, type);
    if (id !== undefined) {
      if (ids.includes(id)) return id;
      throw new Error(`no ${type} ${kind} "${id}" (${type} ${kind}s: ${ids.join(', ') || 'none'})`);
    }
    if (ids.length === 1) return ids[0];
    throw new Error(ids.length ? `several ${type} ${kind}s (${ids.join(', ')}): say which` : `the pipeline has no ${type} ${kind}`);
  }
}

/** Check, build and (unless `start: false`) start the pipeline. Rejects with a ConfigError, whose `diagnostics` are
 * located in the YAML, when the config is invalid; with the plugin's error when a `create` or `start` throws.
 * `dir`: where the config is (by default the test's `file`, or a fresh directory: see run-dir.ts); the run removes
 * a fresh one when it has finished, or here when it fails to start. */
export async function startRun(options: PipelineTestOptions, internals: RunInternals = {}, dir?: RunDir): Promise<TestRun> {
  const where = dir ?? (await runDir(options.file));
  let run: TestRun;
  try {
    const bench = new Bench(options.plugins);
    const { config, registry, diagnostics } = await bench.load(options.yaml, where.file, options.env);
    if (!config || !registry) throw new ConfigError(diagnostics);
    const logs: string[] = [];
    const sink = createLogSink('debug', 'text', (line) => void logs.push(line));
    for (const secret of config.secrets) sink.secrets.add(secret);
    const metrics = new MetricsHub();
    const pipeline = await Pipeline.build(config, { registry, metrics, logger: createLogger(sink), clock: internals.clock });
    run = new TestRun(pipeline, metrics, bench, logs, config.warnings, where);
  } catch (err) {
    await where.remove();
    throw err;
  }
  if (options.start !== false) await run.start();
  return run;
}
