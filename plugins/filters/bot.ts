// Bot or human, and which bot, from the User-Agent (lib/insight: the user's patterns, the named list with its
// sources, isbot), and from behaviour for clients whose User-Agent does not say (lib/insight/bot-behaviour.ts).
import { definePlugin, fieldReader, positiveDuration, splitFieldPath, type Counter, type OptionSchema } from '../../core/index.js';
import {
  BEHAVIOUR_SIGNALS, BOT_CATEGORIES, BOT_PATTERNS_SCHEMA, cachedBotClassifier, ClientBehaviour, clientKey, type BehaviourSignal, type BotInfo,
} from '../../lib/insight/index.js';

const BEHAVIOUR_SCHEMA = {
  type: 'object',
  default: {},
  description: 'Bots that hide behind a browser\'s User-Agent, told by what they do, per client (the key_fields), from the request on which one rule holds: robots_txt, no_assets_after, max_pages per. Flagged as bot_category other, bot_name null.',
  properties: {
    enabled: { type: 'boolean', default: true, description: 'Track clients whose User-Agent names no bot.' },
    key_fields: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, default: ['client_ip', 'user_agent'], description: 'Fields whose values together name a client.' },
    path_field: { type: 'string', minLength: 1, default: 'path', description: 'Field holding the request path (events without one are not tracked).' },
    timestamp_field: { type: 'string', minLength: 1, default: 'timestamp', description: 'Field holding the event time (epoch ms; the arrival time when absent), for the rate.' },
    max_clients: { type: 'integer', minimum: 1, default: 50000, description: 'Clients tracked at most; one is kept for at least max_clients / 2 new clients after its last request (measured: 282 bytes each with a 118-character User-Agent, so 50,000 take about 14 MB).' },
    robots_txt: { type: 'boolean', default: true, description: 'A client whose first request is /robots.txt is a bot (browsers never fetch it).' },
    no_assets_after: { type: 'integer', minimum: 0, default: 20, description: 'A client with this many page requests and no static asset (css, js, images, fonts, ...) is a bot; 0: off.' },
    max_pages: { type: 'integer', minimum: 0, default: 60, description: 'A client with more page requests than this within one `per` is a bot; 0: off.' },
    per: { duration: true, default: '1m', check: positiveDuration('per: 1m'), description: 'The window of max_pages (fixed windows of event time).' },
  },
} as const satisfies OptionSchema;

// What a client found by its behaviour is: its User-Agent names no bot, so there is no name to give.
const BY_BEHAVIOUR: Readonly<BotInfo> = Object.freeze({ is_bot: true, bot_category: 'other', bot_name: null });

export default definePlugin({
  kind: 'filter',
  name: 'bot',
  description: `Sets is_bot, bot_category (${BOT_CATEGORIES.join(' | ')}; null for humans) and bot_name from the User-Agent: your patterns, then a list of named bots kept with its sources, then isbot's patterns (other); and, for clients whose User-Agent names no bot, from behaviour (robots.txt first, no static assets, page rate) over a bounded per-client state. See "user_agent and bot" in the README.`,
  schema: {
    type: 'object',
    properties: {
      field: { type: 'string', minLength: 1, default: 'user_agent', description: 'Field holding the User-Agent (a.b for a nested one).' },
      patterns: BOT_PATTERNS_SCHEMA,
      cache_size: { type: 'integer', minimum: 0, default: 10000, description: 'Distinct User-Agents whose classification is kept (each kept for at least cache_size / 2 new ones after its last use; 0: none). Strings over 1024 characters are never kept.' },
      behaviour: BEHAVIOUR_SCHEMA,
    },
  },
  reads: (o) => [o.field, ...(o.behaviour.enabled ? [...o.behaviour.key_fields, o.behaviour.path_field, o.behaviour.timestamp_field] : [])],
  create(options, context) {
    const classifier = cachedBotClassifier(options.patterns, options.cache_size);
    const readUa = fieldReader(splitFieldPath(options.field));
    const b = options.behaviour;
    const behaviour = b.enabled ? new ClientBehaviour({ max_clients: b.max_clients, robots_txt: b.robots_txt, no_assets_after: b.no_assets_after, max_pages: b.max_pages, per_ms: b.per }) : undefined;
    const readKeys = b.key_fields.map((f) => fieldReader(splitFieldPath(f)));
    const readPath = fieldReader(splitFieldPath(b.path_field));
    const readTime = fieldReader(splitFieldPath(b.timestamp_field));

    const m = context.metrics;
    const hits = m.counter('bot_cache_hits_total', 'User-Agent classifications found in the cache.');
    const misses = m.counter('bot_cache_misses_total', 'User-Agent classifications not found in the cache (classified).');
    const byCategory = new Map<string, Counter>([...BOT_CATEGORIES, 'human'].map((c) => [c, m.counter('bot_events_total', 'Events by bot_category (human: not a bot).', { category: c })]));
    const flagged = new Map<BehaviourSignal, Counter>(BEHAVIOUR_SIGNALS.map((s) => [s, m.counter('bot_behaviour_flagged_clients_total', 'Clients found to be bots by their behaviour, by the rule that decided.', { signal: s })]));
    const tracked = m.gauge('bot_behaviour_clients', 'Clients whose behaviour is tracked now.');
    const onFlag = (signal: BehaviourSignal) => flagged.get(signal)!.inc();
    const counts = new Map<string, number>();

    const values: unknown[] = new Array(readKeys.length);
    const keyOf = (event: Record<string, unknown>): string | undefined => {
      for (let k = 0; k < readKeys.length; k++) values[k] = readKeys[k](event);
      return clientKey(values);
    };

    return {
      process(events) {
        const cache = classifier.cache;
        const h = cache.hits;
        const mi = cache.misses;
        counts.clear();
        const now = Date.now();
        for (let i = 0; i < events.length; i++) {
          const event = events[i];
          let info = classifier.get(readUa(event));
          if (!info.is_bot && behaviour) {
            const path = readPath(event);
            const key = typeof path === 'string' ? keyOf(event) : undefined;
            if (key !== undefined) {
              const t = readTime(event);
              if (behaviour.observe(key, path as string, typeof t === 'number' && Number.isFinite(t) ? t : now, onFlag) !== null) info = BY_BEHAVIOUR;
            }
          }
          event.is_bot = info.is_bot;
          event.bot_category = info.bot_category;
          event.bot_name = info.bot_name;
          const c = info.bot_category ?? 'human';
          counts.set(c, (counts.get(c) ?? 0) + 1);
        }
        for (const [c, n] of counts) byCategory.get(c)!.inc(n);
        hits.inc(cache.hits - h);
        misses.inc(cache.misses - mi);
        if (behaviour) tracked.set(behaviour.clients.size);
        return events;
      },
    };
  },
});
