// The state of one test run (scripted inputs, recordings) and the plugin registry its pipelines are built with:
// the built-ins, the kit's test_script and test_record bound to this state, the test's own plugins and the
// config's `service.plugins`.
import os from 'node:os';
import path from 'node:path';
import type { AnyPlugin } from '../api.js';
import { loadConfigText, type LoadResult } from '../config/load.js';
import { loadRegistry, PluginRegistry } from '../registry.js';
import { kitPlugins, type KitState } from './plugins.js';
import { Recording } from './recording.js';
import { ScriptedInput, type AckRecord } from './script.js';

/** Where a config that is only validated (validateConfig) "is" unless the test says: diagnostics name this file, and
 * relative paths resolve against its directory; nothing is made there. A run's config is in a fresh directory of
 * its own instead (run-dir.ts). */
export const DEFAULT_CONFIG_FILE = path.join(os.tmpdir(), 'visor-test', 'pipeline.yaml');

// The built-ins are modules, loaded once per process like any import; each run copies them into its own registry.
let builtins: Promise<PluginRegistry> | undefined;

export class Bench implements KitState {
  readonly inputs = new Map<string, ScriptedInput>();
  readonly outputs = new Map<string, Recording>();
  /** Every acknowledgement the scripted inputs received, in the order they arrived. */
  readonly acks: AckRecord[] = [];
  private readonly kit = kitPlugins(this);

  constructor(private readonly plugins: readonly AnyPlugin[] = []) {}

  input(id: string): ScriptedInput {
    let input = this.inputs.get(id);
    if (!input) this.inputs.set(id, (input = new ScriptedInput(id, (ack) => this.acks.push(ack))));
    return input;
  }

  output(id: string): Recording {
    let recording = this.outputs.get(id);
    if (!recording) this.outputs.set(id, (recording = new Recording(id)));
    return recording;
  }

  /** A registry for one pipeline (LoadOptions.registryFor): `specifiers` are the config's `service.plugins`. */
  async registry(specifiers: string[] = [], baseDir = process.cwd()): Promise<PluginRegistry> {
    const registry = new PluginRegistry();
    for (const { plugin, source, module } of (await (builtins ??= loadRegistry())).list()) registry.register(plugin, source, module);
    for (const plugin of this.kit) registry.register(plugin, 'visor/testing');
    for (const plugin of this.plugins) registry.register(plugin, 'test');
    for (const specifier of specifiers) await registry.loadModule(specifier, baseDir);
    return registry;
  }

  /** Validate `yaml` as `visor validate` does, with this bench's plugins. */
  load(yaml: string, file = DEFAULT_CONFIG_FILE, env: Record<string, string | undefined> = process.env): Promise<LoadResult> {
    return loadConfigText(yaml, file, { env, registryFor: (specifiers, baseDir) => this.registry(specifiers, baseDir) });
  }
}
