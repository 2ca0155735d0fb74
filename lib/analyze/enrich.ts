// `visor analyze`: the enrichment filters' work on every parsed access event, so that every traffic panel has its
// fields — browser and OS (the user_agent filter's parser), bot or human and which bot (the bot filter's
// classifier, by the User-Agent), country and continent (the geoip filter's lookup in the packaged database). The
// same lib/insight code the filters run, with their default options, called in the read loop (no pipeline).
// Not the bot filter's behaviour rules: they depend on the order a client's requests are read in, and a large file
// is read in parts by several threads; analyze classifies by the User-Agent only (as GoAccess does).
import type { Event } from '../../core/index.js';
import { cachedBotClassifier, cachedUserAgentParser, GeoLookup } from '../insight/index.js';

/** The filters' default cache sizes (user_agent, bot, geoip). */
const CACHE = 10_000;

export type Enrich = (event: Event) => void;

export async function openEnrichment(): Promise<Enrich> {
  const ua = cachedUserAgentParser(CACHE);
  const bots = cachedBotClassifier([], CACHE);
  const geo = await GeoLookup.open({}, CACHE);
  return (e) => {
    const agent = e.user_agent;
    const info = ua.get(agent);
    e.browser = info.browser;
    e.browser_version = info.browser_version;
    e.os = info.os;
    e.os_version = info.os_version;
    e.device_type = info.device_type;
    const bot = bots.get(agent);
    e.is_bot = bot.is_bot;
    e.bot_category = bot.bot_category;
    e.bot_name = bot.bot_name;
    const ip = e.client_ip;
    if (typeof ip === 'string') {
      const where = geo.lookup(ip);
      e.country = where.country;
      e.continent = where.continent;
    }
  };
}
