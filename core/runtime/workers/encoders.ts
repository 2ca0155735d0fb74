// Which parallel filters hand their results to an output's encoder in the worker threads (Plugin.encodes), decided
// from the config graph at start: a filter whose main output goes to exactly one component, an output whose plugin
// declares encodes and accepts its options. That output then gets the batch as bytes, written as they came.
import type { ComponentConfig } from '../../config/model.js';
import type { LoadedPlugin } from '../../registry.js';
import { soleReaders } from './sole-reader.js';

/** The output each such filter feeds, by filter id. */
export function encoderTargets(components: readonly ComponentConfig[], loadedOf: (c: ComponentConfig) => LoadedPlugin): Map<string, ComponentConfig> {
  return soleReaders(components, loadedOf, (o, loaded) => o.kind === 'output' && !!loaded.plugin.encodes?.accepts(o.options));
}
