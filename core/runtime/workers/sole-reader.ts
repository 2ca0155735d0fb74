// The one component that reads a parallel filter's main output, when only one does: what Plugin.partials and
// Plugin.encodes may move into the worker threads beside the filter. Any second reader of that output (an output
// writing the events, a second aggregate) needs the events themselves, so the filter then sends them back as usual.
import type { ComponentConfig } from '../../config/model.js';
import type { LoadedPlugin } from '../../registry.js';

/** By filter id, the sole reader of each parallel filter's main output whose plugin comes from a module file and
 * whose options structured clone can copy to a worker, when `accepts` says so (a throwing `accepts` says no).
 * Whether the filter itself runs in workers is decided later (Plugin.parallel, no flush, options structured clone can
 * copy); without that the target is unused. */
export function soleReaders(
  components: readonly ComponentConfig[],
  loadedOf: (c: ComponentConfig) => LoadedPlugin,
  accepts: (reader: ComponentConfig, loaded: LoadedPlugin) => boolean,
): Map<string, ComponentConfig> {
  const readers = new Map<string, ComponentConfig[]>();
  for (const c of components) {
    for (const ref of c.inputs) {
      const list = readers.get(ref) ?? [];
      if (!list.includes(c)) list.push(c);
      readers.set(ref, list);
    }
  }
  const targets = new Map<string, ComponentConfig>();
  for (const c of components) {
    if (c.kind !== 'filter' || !loadedOf(c).plugin.parallel) continue;
    const main = readers.get(c.id);
    if (!main || main.length !== 1) continue;
    const reader = main[0];
    const loaded = loadedOf(reader);
    if (!loaded.module || !clonable(reader.options)) continue;
    let accepted: boolean;
    try {
      accepted = accepts(reader, loaded);
    } catch {
      accepted = false;
    }
    if (accepted) targets.set(c.id, reader);
  }
  return targets;
}

function clonable(v: unknown): boolean {
  try {
    structuredClone(v);
    return true;
  } catch {
    return false;
  }
}
