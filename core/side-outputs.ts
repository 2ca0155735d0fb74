// What a plugin says about its side outputs (`sideOutputs`, `outputs(options)`), resolved for one component:
// the names that exist, what each carries, and whether leaving it unread loses events or drops them by design.
import type { AnyPlugin, SideOutputSpec } from './api.js';

export interface SideOutput {
  name: string;
  /** Completes "sends … to": e.g. `lines it cannot parse`. */
  description: string;
  /** `drop`: nobody reading it is the normal way to drop its events (no warning, no loss). */
  unread: 'warn' | 'drop';
}

/** Said of a side output its plugin does not describe. */
export const UNDESCRIBED = 'events';

/** One side output of `plugin`, described from its `sideOutputs` declaration (or generically). */
export function sideOutput(plugin: AnyPlugin, name: string): SideOutput {
  const spec: SideOutputSpec | undefined = Object.hasOwn(plugin.sideOutputs ?? {}, name) ? plugin.sideOutputs![name] : undefined;
  if (typeof spec === 'string') return { name, description: spec, unread: 'warn' };
  return { name, description: spec?.description ?? UNDESCRIBED, unread: spec?.unread === 'drop' ? 'drop' : 'warn' };
}

/** The side outputs a component of `plugin` has with these (valid) options. `outputs(options)` may throw. */
export function sideOutputsOf(plugin: AnyPlugin, options: unknown): SideOutput[] {
  const names = plugin.outputs ? plugin.outputs(options as never) : Object.keys(plugin.sideOutputs ?? {});
  return names.map((name) => sideOutput(plugin, name));
}

/** Why a plugin's `sideOutputs` is malformed, or undefined. */
export function describeInvalidSideOutputs(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const must = '"sideOutputs" must map each side output name to a description, or to { description, unread: "drop" }';
  if (!value || typeof value !== 'object' || Array.isArray(value)) return must;
  for (const [name, spec] of Object.entries(value)) {
    if (name === '') return must;
    if (typeof spec === 'string') continue;
    const s = spec as Record<string, unknown> | null;
    if (!s || typeof s !== 'object' || typeof s.description !== 'string' || (s.unread !== undefined && s.unread !== 'warn' && s.unread !== 'drop')) {
      return `${must} (${JSON.stringify(name)} is not)`;
    }
  }
  return undefined;
}
