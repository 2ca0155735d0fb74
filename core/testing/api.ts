// The test kit's public types (visor/testing): options of a test run, and the handle a test drives it with.
import type { AckResult, AnyPlugin, ComponentStats, Event, PluginKind } from '../api.js';
import type { Diagnostic } from '../config/model.js';
import type { Recording } from './recording.js';
import type { AckRecord, ScriptedInput } from './script.js';

/** What every test run takes besides the pipeline itself. */
export interface RunOptions {
  /** Your plugins (the objects your modules export), usable by their names as `type`, besides the built-ins,
   * `test_script` and `test_record`. */
  plugins?: AnyPlugin[];
  /** The config file the pipeline is said to come from: diagnostics name it, and relative paths (among them
   * `service.data_dir`, `./data` by default) resolve against its directory. Default: `pipeline.yaml` in a fresh
   * directory per run (`<tmpdir>/visor-test-XXXXXX/`), removed when the run has finished (or the process exits), so
   * no state carries over from one run to the next; `validateConfig` names `<tmpdir>/visor-test/pipeline.yaml` and
   * makes nothing. A test whose state must outlive a run (a restart) gives a `service.data_dir` (or `file`) of its
   * own. */
  file?: string;
  /** Variables for `${VAR}` in the config (default: process.env). */
  env?: Record<string, string | undefined>;
  /** `false`: build the pipeline (every plugin's `create` has run) but let no data flow until `start()`, e.g. to set
   * up `output(id).onWrite` handlers first. Default true. */
  start?: boolean;
}

export interface PipelineTestOptions extends RunOptions {
  /** The pipeline, as in a config file (`service:` is optional). */
  yaml: string;
}

export interface PluginTestOptions extends RunOptions {
  /** The plugin's options, as its config entry would hold them (defaults applied, units converted, checked). */
  options?: Record<string, unknown>;
  /** The `service:` section (e.g. `{ data_dir: dir }`). */
  service?: Record<string, unknown>;
  /** When the plugin is given by name, and an input and an output share that name (`tcp`): which one. */
  kind?: PluginKind;
}

/** A pipeline running in the test's process: the real runtime, with its buffers, backpressure, retries and
 * acknowledgements. Stop it (`end()` or `stop()`) before the test ends. */
export interface TestPipeline {
  /** The scripted input `id`; without an id, the only one. */
  input(id?: string): ScriptedInput;
  /** `input(id).send(events)`: emit one batch; resolves with its acknowledgement. */
  send(events: Event[], input?: string): Promise<AckResult>;
  /** Every acknowledgement the scripted inputs received, in the order they arrived. */
  readonly acks: AckRecord[];
  /** The `test_record` output `id` (throws for an id that is none). */
  output(id: string): Recording;
  /** What every `test_record` output has received so far, by id. */
  readonly events: Record<string, Event[]>;
  /** A component's counters and health, as `/metrics` and `/health` report them. */
  stats(id: string): ComponentStats;
  /** Every line the pipeline logged (debug level and up, text format; secret option values masked). */
  readonly logs: string[];
  /** The config's warnings (e.g. a side output nobody reads). */
  readonly warnings: Diagnostic[];
  /** Let data flow (only after `start: false`). */
  start(): Promise<void>;
  /** End the scripted inputs and wait for the pipeline to finish: everything drained downstream, aggregates and
   * filters flushed, every component closed. Other inputs must end by themselves; use stop() for those that do not. */
  end(): Promise<void>;
  /** Stop every input and drain, as a shutdown does; false when that took longer than `graceMs` (default 5000). */
  stop(graceMs?: number): Promise<boolean>;
  /** Resolves when the pipeline has finished (its inputs ended, or after stop()). */
  done(): Promise<void>;
}
