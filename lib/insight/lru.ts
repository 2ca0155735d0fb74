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
