// Bots that hide behind a browser's User-Agent (or send none), told by what they do. Per client (the values of
// the key fields: client_ip and user_agent by default) it keeps a few counters, in a RecentCache of at most
// `max_clients` clients (a client is kept for at least max_clients / 2 new clients after its last request), and
// flags the client from the request on which one of these holds:
//  - robots_txt: its first request seen is /robots.txt (browsers never fetch it; crawlers start with it);
//  - no_static_assets: `no_assets_after` page requests and not one static asset (browsers load the style
//    sheets, scripts and images of the pages they show; a cache can hide them, hence a threshold of many pages);
//  - rate: more than `max_pages` page requests within one `per` (fixed windows of event time).
// So it needs a few requests of a client, except for robots_txt: the requests before the one that decided are
// not flagged. A flagged client stays flagged while it is tracked; an evicted client starts afresh.
import { RecentCache } from './lru.js';
import { DEFAULT_STATIC_EXTENSIONS, fileType, splitQuery } from './request.js';

/** A static asset: the request filter's default list, by the extension of the path without its query. */
const STATIC = new Set(DEFAULT_STATIC_EXTENSIONS);

export const BEHAVIOUR_SIGNALS = ['robots_txt', 'no_static_assets', 'rate'] as const;
export type BehaviourSignal = (typeof BEHAVIOUR_SIGNALS)[number];

export interface BehaviourOptions {
  /** Clients tracked at most (RecentCache: one is kept for at least max_clients / 2 new clients after its last request). */
  max_clients: number;
  robots_txt: boolean;
  /** Page requests without any static asset after which a client is a bot; 0: never. */
  no_assets_after: number;
  /** More page requests than this within `per_ms` makes a bot; 0: never. */
  max_pages: number;
  per_ms: number;
}

interface ClientState {
  pages: number;
  assets: number;
  windowStart: number;
  windowPages: number;
  flagged: BehaviourSignal | null;
}

export class ClientBehaviour {
  readonly clients: RecentCache<string, ClientState>;

  constructor(private readonly options: BehaviourOptions) {
    this.clients = new RecentCache(options.max_clients);
  }

  /** Records one request of the client `key` to `path` at `time` (epoch ms); the signal that makes it a bot
   * from this request on, or null. `onFlag` is called once per client, on the request that decided. */
  observe(key: string, path: string, time: number, onFlag?: (signal: BehaviourSignal) => void): BehaviourSignal | null {
    const o = this.options;
    let state = this.clients.lookup(key);
    if (state === undefined) {
      state = { pages: 0, assets: 0, windowStart: time, windowPages: 0, flagged: null };
      this.clients.set(key, state);
      if (o.robots_txt && isRobotsTxt(path)) return flag(state, 'robots_txt', onFlag);
    }
    if (state.flagged !== null) return state.flagged;
    const ext = fileType(path.includes('?') ? splitQuery(path)[0] : path); // path_field may hold a query
    if (ext !== null && STATIC.has(ext)) {
      state.assets++;
      return null;
    }
    state.pages++;
    if (o.no_assets_after > 0 && state.assets === 0 && state.pages >= o.no_assets_after) return flag(state, 'no_static_assets', onFlag);
    if (o.max_pages > 0) {
      if (time - state.windowStart >= o.per_ms || time < state.windowStart) {
        state.windowStart = time;
        state.windowPages = 0;
      }
      if (++state.windowPages > o.max_pages) return flag(state, 'rate', onFlag);
    }
    return null;
  }
}

/** A client's key from the values of its key fields (client_ip, user_agent, ...); undefined when none has one. */
export function clientKey(values: readonly unknown[]): string | undefined {
  let key = '';
  let any = false;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v !== undefined && v !== null && v !== '') any = true;
    key += (k ? '\n' : '') + String(v ?? '');
  }
  return any ? key : undefined;
}

function flag(state: ClientState, signal: BehaviourSignal, onFlag?: (signal: BehaviourSignal) => void): BehaviourSignal {
  state.flagged = signal;
  onFlag?.(signal);
  return signal;
}

function isRobotsTxt(path: string): boolean {
  return path === '/robots.txt' || path.startsWith('/robots.txt?');
}
