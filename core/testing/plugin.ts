// testPlugin: one plugin (an object, or the name of a built-in) in the smallest pipeline around it. A filter or an
// aggregate reads the scripted input `in` and feeds the recording output `out`, and one recording output per side
// output, named after it (`_late`); an input feeds `out`; an output reads `in`. The plugin's component id is its name.
import { stringify } from 'yaml';
import type { AnyPlugin, PluginKind } from '../api.js';
import { ConfigError } from '../config/model.js';
import { sideOutputsOf } from '../side-outputs.js';
import type { PluginTestOptions } from './api.js';
import { Bench } from './bench.js';
import { RECORD_TYPE, SCRIPT_TYPE } from './plugins.js';
import { runDir } from './run-dir.js';
import { startRun, type TestRun } from './run.js';

const INPUT = 'in';
const OUTPUT = 'out';
const SECTION = { input: 'inputs', filter: 'filters', aggregate: 'aggregates', output: 'outputs' } as const;
const KINDS = Object.keys(SECTION) as PluginKind[];

export async function startPluginRun(subject: AnyPlugin | string, options: PluginTestOptions = {}): Promise<TestRun> {
  const plugin = typeof subject === 'string' ? await registered(subject, options) : subject;
  const id = plugin.name;
  if (id === INPUT || id === OUTPUT) throw new Error(`testPlugin names the test's components "${INPUT}" and "${OUTPUT}": a plugin called "${id}" needs runPipeline`);
  const plugins = typeof subject === 'string' ? options.plugins : [plugin, ...(options.plugins ?? [])];
  const yaml = (sideOutputs: string[]) => pipelineYaml(plugin, options, sideOutputs);
  // The check below and the run name the same file (diagnostics of either locate it alike).
  const dir = await runDir(options.file);
  let sideOutputs: string[];
  try {
    // Which side outputs exist may depend on the options as validated (defaults applied), so check the config first.
    const { config, diagnostics } = await new Bench(plugins).load(yaml([]), dir.file, options.env);
    if (!config) throw new ConfigError(diagnostics);
    const component = config.components.find((c) => c.id === id)!;
    sideOutputs = plugin.kind === 'output' ? [] : sideOutputsOf(plugin, component.options).map((s) => s.name);
    const taken = sideOutputs.find((name) => name === INPUT || name === OUTPUT || name === id);
    if (taken) throw new Error(`testPlugin records side output "${taken}" in an output of that name, which is taken: use runPipeline`);
  } catch (err) {
    await dir.remove();
    throw err;
  }
  return startRun({ ...options, plugins, yaml: yaml(sideOutputs) }, {}, dir);
}

/** The plugin a run would use for `type: name` (a built-in, or one of `options.plugins`). */
async function registered(name: string, options: PluginTestOptions): Promise<AnyPlugin> {
  const registry = await new Bench(options.plugins).registry();
  const kinds = KINDS.filter((kind) => registry.get(name, kind) && (!options.kind || options.kind === kind));
  if (kinds.length === 1) return registry.get(name, kinds[0])!.plugin;
  if (kinds.length > 1) throw new Error(`${kinds.join(' and ')} plugins are called "${name}": set kind`);
  throw new Error(`no ${options.kind ? `${options.kind} ` : ''}plugin "${name}"`);
}

function pipelineYaml(plugin: AnyPlugin, options: PluginTestOptions, sideOutputs: string[]): string {
  const id = plugin.name;
  const sections: Record<string, Record<string, unknown>> = { inputs: {}, filters: {}, aggregates: {}, outputs: {} };
  const reads = plugin.kind === 'input' ? {} : { inputs: [INPUT] };
  sections[SECTION[plugin.kind]][id] = { ...options.options, type: id, ...reads };
  if (plugin.kind !== 'input') sections.inputs[INPUT] = { type: SCRIPT_TYPE };
  if (plugin.kind !== 'output') {
    sections.outputs[OUTPUT] = { type: RECORD_TYPE, inputs: [id] };
    for (const name of sideOutputs) sections.outputs[name] = { type: RECORD_TYPE, inputs: [`${id}.${name}`] };
  }
  const config: Record<string, unknown> = options.service ? { service: options.service } : {};
  for (const [section, components] of Object.entries(sections)) if (Object.keys(components).length) config[section] = components;
  return stringify(config);
}
