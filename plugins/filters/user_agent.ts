// Browser, OS and device type from the User-Agent field (lib/insight: ua-parser-js 1.x behind a bounded cache).
import { definePlugin, fieldReader, splitFieldPath } from '../../core/index.js';
import { cachedUserAgentParser, DEVICE_TYPES } from '../../lib/insight/index.js';

export default definePlugin({
  kind: 'filter',
  name: 'user_agent',
  // Each event on its own (the cache only saves work): worker threads may run copies (service.threads).
  parallel: true,
  description: `Sets browser (e.g. "Chrome"), browser_version (major), os (e.g. "Windows", "iOS"), os_version and device_type (${DEVICE_TYPES.join(' | ')}) from the User-Agent, with ua-parser-js 1.x behind a bounded cache. A missing or "-" User-Agent gives nulls and device_type unknown. See "user_agent and bot" in the README.`,
  schema: {
    type: 'object',
    properties: {
      field: { type: 'string', minLength: 1, default: 'user_agent', description: 'Field holding the User-Agent (a.b for a nested one).' },
      cache_size: { type: 'integer', minimum: 0, default: 10000, description: 'Distinct User-Agents whose parse is kept (each kept for at least cache_size / 2 new ones after its last use; 0: none). Strings over 1024 characters are never kept.' },
    },
  },
  reads: (options) => [options.field],
  create(options, context) {
    const parser = cachedUserAgentParser(options.cache_size);
    // The hit ratio is hits / (hits + misses); counters (not a ratio gauge) so that worker threads' add up.
    const hits = context.metrics.counter('user_agent_cache_hits_total', 'User-Agent parses found in the cache.');
    const misses = context.metrics.counter('user_agent_cache_misses_total', 'User-Agent parses not found in the cache (parsed).');
    const read = fieldReader(splitFieldPath(options.field));
    return {
      process(events) {
        const cache = parser.cache;
        const h = cache.hits;
        const m = cache.misses;
        for (let i = 0; i < events.length; i++) {
          const event = events[i];
          const info = parser.get(read(event));
          event.browser = info.browser;
          event.browser_version = info.browser_version;
          event.os = info.os;
          event.os_version = info.os_version;
          event.device_type = info.device_type;
        }
        hits.inc(cache.hits - h);
        misses.inc(cache.misses - m);
        return events;
      },
    };
  },
});
