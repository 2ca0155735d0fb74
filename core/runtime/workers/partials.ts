// Which parallel filters hand their results to an aggregate's PartialBuilder in the worker threads (Plugin.partials),
// decided from the config graph at start: a filter whose main output goes to exactly one component, an aggregate
// whose plugin declares partials and accepts its options.
import type { ComponentConfig } from '../../config/model.js';
import type { LoadedPlugin } from '../../registry.js';
import { soleReaders } from './sole-reader.js';

/** The aggregate each such filter feeds, by filter id. */
export function partialsTargets(components: readonly ComponentConfig[], loadedOf: (c: ComponentConfig) => LoadedPlugin): Map<string, ComponentConfig> {
  return soleReaders(components, loadedOf, (a, loaded) => a.kind === 'aggregate' && !!loaded.plugin.partials?.accepts(a.options));
}
