// `visor analyze`: the enrichment filters' work on every parsed access event, so that every traffic panel has its
// fields — browser and OS (the user_agent filter's parser), bot or human and which bot (the bot filter's
// classifier, by the User-Agent), country and continent (the geoip filter's lookup in the packaged database). The
// same lib/insight code the filters run, with their default cache sizes, called in the read loop (no pipeline).
// Not the bot filter's behaviour rules: they depend on the order a client's requests are read in, and a large file
// is read in parts by several threads; analyze classifies by the User-Agent only (as GoAccess does).
//
// One cache keyed by the User-Agent holds both answers (the parse and the classification): one Map lookup per
// event on a hit instead of one per filter. It is the filters' UserAgentMemo (a RecentCache, whose keys are copies:
// an agent is a slice of a 1 MiB chunk of text, which a kept slice would keep alive).
import type { Event } from '../../core/index.js';
import { BotClassifier, type BotInfo, GeoLookup, HUMAN, UserAgentMemo, UserAgentParser, type UserAgentInfo } from '../insight/index.js';

/** The filters' default cache sizes (user_agent, bot, geoip). */
const CACHE = 10_000;

export type Enrich = (event: Event) => void;

interface Agent { ua: UserAgentInfo; bot: BotInfo }

export async function openEnrichment(): Promise<Enrich> {
  const parser = new UserAgentParser();
  const classifier = new BotClassifier([]);
  const none: Agent = { ua: parser.parse(undefined), bot: HUMAN };
  const agents = new UserAgentMemo<Agent>(CACHE, (ua) => ({ ua: parser.parse(ua), bot: classifier.classify(ua) }), none);
  const geo = await GeoLookup.open({}, CACHE);
  return (e) => {
    const agent = agents.get(e.user_agent);
    const info = agent.ua;
    e.browser = info.browser;
    e.browser_version = info.browser_version;
    e.os = info.os;
    e.os_version = info.os_version;
    e.device_type = info.device_type;
    const bot = agent.bot;
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
