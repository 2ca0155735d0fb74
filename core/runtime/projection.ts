// Field projection: which fields of the events a component emits anything downstream reads, computed once from the
// config graph at start. Plugins that read only some fields say which (Plugin.reads); a parser told that nothing
// downstream reads `user_agent` need not cut it out of each line. Unknown means every field: an output that writes
// whole events, or a plugin that does not say.
import type { AnyPlugin } from '../api.js';
import type { ComponentConfig } from '../config/model.js';

/** Fields by component id; undefined: some component downstream may read any field. */
export type DownstreamFields = Map<string, ReadonlySet<string> | undefined>;

/** Whether a side output carries the component's input events as they came (SideOutputSpec.carries). */
export function carriesInput(plugin: AnyPlugin, output: string): boolean {
  const spec = output === '' ? undefined : plugin.sideOutputs?.[output];
  return typeof spec === 'object' && spec.carries === 'input';
}

/** The top-level field of a path (`a.b` is read through `a`). */
const topLevel = (field: string) => field.split('.')[0];

/** The consumers of each component by its id, each with the output it reads ('' is the main one). */
export function consumersOf(components: readonly ComponentConfig[]): Map<string, Array<{ output: string; consumer: ComponentConfig }>> {
  const consumers = new Map<string, Array<{ output: string; consumer: ComponentConfig }>>();
  for (const c of components) {
    for (const ref of c.inputs) {
      const dot = ref.indexOf('.');
      const id = dot < 0 ? ref : ref.slice(0, dot);
      const list = consumers.get(id) ?? [];
      list.push({ output: dot < 0 ? '' : ref.slice(dot + 1), consumer: c });
      consumers.set(id, list);
    }
  }
  return consumers;
}

export function downstreamFields(components: readonly ComponentConfig[], pluginOf: (c: ComponentConfig) => AnyPlugin): DownstreamFields {
  const consumers = consumersOf(components);
  const memo = new Map<string, Set<string> | undefined>();
  /** What the consumers of some of `id`'s outputs read of the events they get: of every output; of its side outputs
   * only; or of those carrying what it emits (not its input events as they came: see SideOutputSpec.carries). */
  const neededOf = (c: ComponentConfig, which: 'all' | 'side' | 'emitted'): Set<string> | undefined => {
    const key = `${c.id}\n${which}`;
    if (memo.has(key)) return memo.get(key);
    memo.set(key, undefined); // a cycle (rejected by validation) reads everything
    const fields = new Set<string>();
    let all = false;
    for (const { output, consumer } of consumers.get(c.id) ?? []) {
      if (which === 'side' && output === '') continue;
      if (which === 'emitted' && carriesInput(pluginOf(c), output)) continue;
      const reads = readsOf(consumer);
      if (!reads) { all = true; break; }
      for (const f of reads) fields.add(f);
    }
    const result = all ? undefined : fields;
    memo.set(key, result);
    return result;
  };
  /** What a consumer reads of its input events: its own reads, and what is read downstream of it through any output
   * that may carry those events on: a filter's (they pass through it), an aggregate's side outputs (window's `_late`). */
  const readsOf = (c: ComponentConfig): Set<string> | undefined => {
    const plugin = pluginOf(c);
    if (!plugin.reads) return undefined;
    let reads: string[] | undefined;
    try {
      reads = (plugin.reads as (o: unknown) => string[] | undefined)(c.options);
    } catch {
      return undefined; // a plugin that cannot tell keeps every field
    }
    if (!reads) return undefined; // these options may read any field
    const own = new Set(reads.map(topLevel));
    if (c.kind === 'output') return own;
    const passed = neededOf(c, c.kind === 'filter' ? 'all' : 'side');
    if (!passed) return undefined;
    for (const f of passed) own.add(f);
    return own;
  };
  const out: DownstreamFields = new Map();
  for (const c of components) out.set(c.id, neededOf(c, 'emitted'));
  return out;
}
