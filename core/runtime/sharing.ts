// Fan-out without copies where they protect nothing. An output with several consumers gives each but one a shallow
// copy of every event, so that one branch's edits never leak into another; a consumer whose plugin says it leaves
// the events it gets as they are (Plugin.readOnly) can be handed the very events instead, once no consumer that may
// edit them gets them too. Computed once from the config graph at start.
import type { AnyPlugin } from '../api.js';
import type { ComponentConfig } from '../config/model.js';
import { carriesInput, consumersOf } from './projection.js';

/** The ids of the components that may share their input events with other consumers: aggregates and outputs whose
 * plugin says readOnly for their options, and whose side outputs carrying their input events on (window's `_late`)
 * reach only such components. */
export function sharingComponents(components: readonly ComponentConfig[], pluginOf: (c: ComponentConfig) => AnyPlugin): Set<string> {
  const readers = consumersOf(components);
  const memo = new Map<string, boolean>();
  const shares = (c: ComponentConfig): boolean => {
    const known = memo.get(c.id);
    if (known !== undefined) return known;
    memo.set(c.id, false); // a cycle (rejected by validation) shares nothing
    const plugin = pluginOf(c);
    let result = (c.kind === 'aggregate' || c.kind === 'output') && readOnly(plugin, c.options);
    for (const { output, consumer } of readers.get(c.id) ?? []) {
      if (result && carriesInput(plugin, output) && !shares(consumer)) result = false;
    }
    memo.set(c.id, result);
    return result;
  };
  return new Set(components.filter(shares).map((c) => c.id));
}

function readOnly(plugin: AnyPlugin, options: unknown): boolean {
  if (!plugin.readOnly) return false;
  try {
    return (plugin.readOnly as (o: unknown) => boolean)(options) === true;
  } catch {
    return false; // a plugin that cannot tell gets copies
  }
}

/** Per consumer of one output, in order: whether it gets copies. With sharing consumers, they get the events and
 * every other consumer a copy; without, all but the last get copies (the last may edit the originals). */
export function copyPlan(shares: readonly boolean[]): boolean[] {
  if (!shares.includes(true)) return shares.map((_, i) => i < shares.length - 1);
  return shares.map((s) => !s);
}
