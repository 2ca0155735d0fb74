// visor/testing: run plugins in a real pipeline in the test's process, with events in and events and
// acknowledgements out. `import { testPlugin, runPipeline } from 'visor/testing'`; see PLUGINS.md, "Testing your plugin".
import type { AnyPlugin } from '../api.js';
import type { Diagnostic } from '../config/model.js';
import type { PipelineTestOptions, PluginTestOptions, TestPipeline } from './api.js';
import { Bench } from './bench.js';
import { startPluginRun } from './plugin.js';
import { startRun } from './run.js';

export type { PipelineTestOptions, PluginTestOptions, RunOptions, TestPipeline } from './api.js';
export type { Recording, Write, WriteHandler } from './recording.js';
export type { AckRecord, ScriptedInput } from './script.js';
export { ConfigError, formatDiagnostic, type Diagnostic } from '../config/model.js';

/** Run a pipeline from YAML, with the built-ins, your `plugins` and the kit's two test plugins:
 * `test_script` (an input that emits what the test sends: `t.send(events)`) and `test_record` (an output that
 * records what reaches it: `t.output(id)`; options `delay_ms`, `fail: always | permanent | first` with
 * `fail_times`, `batch_max` with `batch_timeout_ms`). Rejects with a ConfigError (located `diagnostics`) for an
 * invalid config. */
export function runPipeline(options: PipelineTestOptions): Promise<TestPipeline> {
  return startRun(options);
}

/** Run one plugin between the kit's test plugins: a filter or aggregate reads `in` (test_script) and feeds `out`
 * (test_record) and one test_record per side output, named after it (`_unparsed`); an input feeds `out`; an output
 * reads `in`. The plugin's component id is its name (for `stats(plugin.name)`). `plugin` is your plugin object, or
 * the name of a built-in. */
export function testPlugin(plugin: AnyPlugin | string, options?: PluginTestOptions): Promise<TestPipeline> {
  return startPluginRun(plugin, options);
}

/** What `visor validate` says about `yaml` (errors and warnings, located), with your `plugins` and the kit's. */
export async function validateConfig(options: Omit<PipelineTestOptions, 'start'>): Promise<Diagnostic[]> {
  return (await new Bench(options.plugins).load(options.yaml, options.file, options.env)).diagnostics;
}
