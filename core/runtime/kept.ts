// PluginContext.kept: in-memory values a component keeps over a SIGHUP reload (the dashboard's chart history and
// recent alerts). The agent owns one KeptValues for its life; each pipeline it builds asks it for values, and
// once a pipeline has started, the values it did not ask for (components gone, changed type, or keys that
// changed with their options) are dropped. Nothing is kept across a restart: that is what a store is for.
export class KeptValues {
  /** `id\0type\0key` -> value. */
  private readonly values = new Map<string, unknown>();
  /** Names asked for since the last `dropUnused`. */
  private used = new Set<string>();

  /** The value `key` of component `id` of plugin `type`, made by `create` when there is none yet. */
  get<T>(id: string, type: string, key: string, create: () => T): T {
    const name = `${id}\0${type}\0${key}`;
    this.used.add(name);
    if (!this.values.has(name)) this.values.set(name, create());
    return this.values.get(name) as T;
  }

  /** A pipeline started: forget every value it (and any pipeline built since the last call) did not ask for. */
  dropUnused(): void {
    for (const name of this.values.keys()) if (!this.used.has(name)) this.values.delete(name);
    this.used = new Set();
  }
}
