// A bounded map that forgets the least recently used entry first: the enrichment caches (keyed by user agent)
// and the bot filter's per-client state use it, so their memory is capped by an entry count whatever the traffic.
import { detachString } from '../../core/index.js';

export class LruCache<V> {
  /** Lookups that found their key, and those that did not (the hit ratio is hits / (hits + misses)). */
  hits = 0;
  misses = 0;
  // A Map iterates in insertion order: re-inserting an entry on use keeps the least recently used first.
  private readonly entries = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value under `key`, now the most recently used; undefined (a miss) when absent. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores `value` under a copy of `key` (keys are cut out of read chunks: a view would keep the whole chunk
   * alive), dropping the least recently used entry beyond capacity. A capacity of 0 stores nothing. */
  set(key: string, value: V): void {
    if (this.capacity <= 0) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(detachString(key), value);
  }
}
