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

// A bounded cache of recently used values, for lookups that repeat (a client's address on each of its requests).
//
// Two generations instead of a strict LRU list: a hit in the current Map costs one Map.get, with no reordering
// (a strict LRU on a Map deletes and re-inserts the key on every hit); a hit in the previous generation moves the
// entry to the current one. When the current generation holds `max / 2` entries it becomes the previous one and
// the old previous one is dropped: whatever was not used during a whole generation goes, so at most `max` entries
// are kept and every entry used since the last turnover survives it.
export class RecentCache<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly half: number;
  hits = 0;
  misses = 0;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  /** The cached value of `key`, or what `make(key)` returns for it (then cached). */
  get(key: K, make: (key: K) => V): V {
    let value = this.lookup(key);
    if (value === undefined) {
      value = make(key);
      this.set(key, value);
    }
    return value;
  }

  /** The cached value of `key` or undefined (counted as a hit or a miss), for callers that fill the cache
   * themselves with set (the maxmind reader's decoder cache has this get/set interface). */
  lookup(key: K): V | undefined {
    let value = this.current.get(key);
    if (value !== undefined) {
      this.hits++;
      return value;
    }
    value = this.previous.get(key);
    if (value === undefined) this.misses++;
    else {
      this.hits++;
      this.set(key, value); // used again: into the current generation, to survive the next turnover
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(key, value);
  }

  /** Entries held (one promoted from the previous generation counts twice until the next turnover). */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
