// `visor analyze`: the enrichment filters' work on every parsed access event, so that every traffic panel has its
// fields — browser and OS (the user_agent filter's parser), bot or human and which bot (the bot filter's
// classifier, by the User-Agent), country and continent (the geoip filter's lookup in the packaged database). The
// same lib/insight code the filters run, with their default cache sizes, called in the read loop (no pipeline).
// Not the bot filter's behaviour rules: they depend on the order a client's requests are read in, and a large file
// is read in parts by several threads; analyze classifies by the User-Agent only (as GoAccess does).
//
// One cache keyed by the User-Agent holds both answers (the parse and the classification): one Map lookup per
// event, where the two filters' LRU caches (a delete and a set on every hit, each) took six. It is emptied when
// full (a log has far fewer distinct agents than CACHE: 559 in the Elastic sample's 10,000 lines), and its keys
// are copies: an agent is a slice of a 1 MiB chunk of text, which a kept slice would keep alive.
import { detachString, type Event } from '../../core/index.js';
import { BotClassifier, type BotInfo, GeoLookup, HUMAN, UserAgentParser, type UserAgentInfo, userAgentText } from '../insight/index.js';

/** The filters' default cache sizes (user_agent, bot, geoip). */
const CACHE = 10_000;
/** Longer User-Agents are computed, not kept (as UserAgentMemo does: attack payloads run to kilobytes). */
const MAX_CACHED_LENGTH = 1024;

export type Enrich = (event: Event) => void;

interface Agent { ua: UserAgentInfo; bot: BotInfo }

export async function openEnrichment(): Promise<Enrich> {
  const parser = new UserAgentParser();
  const classifier = new BotClassifier([]);
  let agents = new Map<string, Agent>();
  const make = (ua: string): Agent => ({ ua: parser.parse(ua), bot: classifier.classify(ua) });
  const cached = (ua: string): Agent => {
    let a = agents.get(ua);
    if (a === undefined) {
      a = make(ua);
      if (agents.size >= CACHE) agents = new Map();
      agents.set(detachString(ua), a);
    }
    return a;
  };
  const none: Agent = { ua: parser.parse(undefined), bot: HUMAN };
  const geo = await GeoLookup.open({}, CACHE);
  return (e) => {
    const text = userAgentText(e.user_agent);
    const agent = text === undefined ? none : text.length > MAX_CACHED_LENGTH ? make(text) : cached(text);
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
