// Which parallel filters hand their results to an aggregate's PartialBuilder in the worker threads (Plugin.partials),
// decided from the config graph at start: a filter whose main output goes to exactly one component, an aggregate
// whose plugin declares partials and accepts its options. Any other reader of that output (an output writing the
// events, a second aggregate) needs the events themselves, so the filter then sends them back as usual.
import type { ComponentConfig } from '../../config/model.js';
import type { LoadedPlugin } from '../../registry.js';

/** The aggregate each such filter feeds, by filter id. Whether the filter itself runs in workers is decided later
 * (Plugin.parallel, no flush, options structured clone can copy); without that the target is unused. */
export function partialsTargets(components: readonly ComponentConfig[], loadedOf: (c: ComponentConfig) => LoadedPlugin): Map<string, ComponentConfig> {
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
    const a = main[0];
    const loaded = loadedOf(a);
    const split = a.kind === 'aggregate' ? loaded.plugin.partials : undefined;
    if (!split || !loaded.module || !clonable(a.options)) continue;
    let accepted: boolean;
    try {
      accepted = split.accepts(a.options);
    } catch {
      accepted = false;
    }
    if (accepted) targets.set(c.id, a);
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
