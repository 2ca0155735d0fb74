// PluginContext.kept: in-memory values a component keeps over a SIGHUP reload (the dashboard's chart history and
// recent alerts, its listening socket). The agent owns one KeptValues for its life; each pipeline it builds asks it
// for values, and once a pipeline has started, the values it did not ask for (components gone, changed type, or
// keys that changed with their options) are dropped. Nothing is kept across a restart: that is what a store is for.
// A value with a `dispose()` method (e.g. a server) is disposed when it is dropped and when its owner ends.

/** A kept value that holds a resource. */
interface Disposable {
  dispose(): void | Promise<void>;
}

function isDisposable(v: unknown): v is Disposable {
  return typeof v === 'object' && v !== null && typeof (v as Partial<Disposable>).dispose === 'function';
}

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
  async dropUnused(): Promise<void> {
    await this.drop((name) => !this.used.has(name));
    this.used = new Set();
  }

  /** Before a reload's pipeline starts: drop the values of components it does not have (same id and type), so that
   * what they hold (a port) is free for it. */
  async dropComponentsNotIn(components: readonly { id: string; type: string }[]): Promise<void> {
    const keep = new Set(components.map((c) => `${c.id}\0${c.type}\0`));
    await this.drop((name) => ![...keep].some((prefix) => name.startsWith(prefix)));
  }

  /** The owner ends: dispose of everything. */
  async disposeAll(): Promise<void> {
    await this.drop(() => true);
    this.used = new Set();
  }

  private async drop(which: (name: string) => boolean): Promise<void> {
    for (const [name, value] of [...this.values]) {
      if (!which(name)) continue;
      this.values.delete(name);
      if (isDisposable(value)) await value.dispose();
    }
  }
}
