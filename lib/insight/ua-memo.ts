// What both User-Agent enrichments share: which values carry a User-Agent, and the cache keyed by it.
import { RecentCache } from './lru.js';

/** The User-Agent as a string, or undefined when it carries no information: absent, not a string, empty, or
 * Apache's "-". */
export function userAgentText(ua: unknown): string | undefined {
  return typeof ua !== 'string' || ua === '' || ua === '-' ? undefined : ua;
}

// Attack payloads in the User-Agent run to kilobytes: such strings are computed (ua-parser-js reads the first
// 500 characters) but not cached, so a cache's memory stays about capacity x a normal user agent's length.
const MAX_CACHED_LENGTH = 1024;

/** `compute` of a user agent behind a RecentCache keyed by the string (a log has far fewer distinct user agents
 * than lines: 559 in the 10,000 lines of the Elastic sample, so most lookups skip the work); `empty` for a user
 * agent that says nothing (userAgentText), which is neither computed nor counted. */
export class UserAgentMemo<V> {
  readonly cache: RecentCache<string, V>;

  constructor(capacity: number, private readonly compute: (ua: string) => V, private readonly empty: V) {
    this.cache = new RecentCache(capacity);
  }

  get(value: unknown): V {
    const ua = userAgentText(value);
    if (ua === undefined) return this.empty;
    if (ua.length > MAX_CACHED_LENGTH) {
      this.cache.misses++;
      return this.compute(ua);
    }
    return this.cache.get(ua, this.compute);
  }
}

