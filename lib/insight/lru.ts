// The one bounded cache of lib/insight: the enrichment caches (keyed by user agent or address), the bot filter's
// per-client state and the maxmind reader's decoded records use it, so their memory is capped by an entry count
// whatever the traffic.
//
// Two generations instead of a strict LRU list: a hit in the current Map costs one Map.get, with no reordering
// (a strict LRU on a Map deletes and re-inserts the key on every hit: measured 913 ns against 614 ns median per
// hit, same process); a hit in the previous generation moves the entry to the current one. When the current
// generation holds `max / 2` entries it becomes the previous one and the old previous one is dropped: whatever
// was not used during a whole generation goes, so at most `max` entries are kept (2 when max is 1) and every
// entry used since the last turnover survives it.
import { detachString } from '../../core/index.js';

export class RecentCache<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  /** Entries per generation; 0 when the cache stores nothing. */
  private readonly half: number;
  /** Lookups that found their key, and those that did not (the hit ratio is hits / (hits + misses)). */
  hits = 0;
  misses = 0;

  /** A `max` of 0 (or less) stores nothing: every lookup is a miss. */
  constructor(max: number) {
    this.half = max > 0 ? Math.max(1, Math.floor(max / 2)) : 0;
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
      // Used again: into the current generation, to survive the next turnover; out of the previous one, so that
      // size counts it once. set stores a copy of the caller's key, not the caller's (possibly sliced) string.
      this.previous.delete(key);
      this.set(key, value);
    }
    return value;
  }

  /** Stores `value` under `key`; a string key is stored as a copy (detachString): keys are cut out of read
   * chunks (user agents and addresses of 1 MiB chunks of text), and a kept view would keep the whole chunk alive. */
  set(key: K, value: V): void {
    if (this.half === 0) return;
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(typeof key === 'string' ? (detachString(key) as K) : key, value);
  }

  /** Entries held. */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}
