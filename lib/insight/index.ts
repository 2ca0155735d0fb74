// Traffic insight (issue 18): enrichment of access-log events — who sends the requests (browser, OS, device; bot or
// human, which bot: user_agent, bot), where a client is (geoip), what a request asked for (request), unique visitors
// as GoAccess counts them. Used by the filters, the panels (lib/stats/panels) and `visor analyze`. (Merged from h18-ua-bot and h18-geo-request.)
export {
  cachedUserAgentParser, DEVICE_TYPES, USER_AGENT_FIELDS, UserAgentParser,
  type DeviceType, type UserAgentInfo,
} from './user-agent.js';
export {
  BOT_FIELDS, BOT_PATTERNS_SCHEMA, BotClassifier, cachedBotClassifier, compileBotPattern, HUMAN,
  type BotInfo, type BotPattern,
} from './bot-classify.js';
export { BOT_CATEGORIES, BOT_LIST, type BotCategory, type BotEntry } from './bot-list.js';
export { BEHAVIOUR_SIGNALS, ClientBehaviour, clientKey, type BehaviourOptions, type BehaviourSignal } from './bot-behaviour.js';
export { userAgentText, UserAgentMemo } from './ua-memo.js';
export { GeoLookup, NOT_AN_ADDRESS, packagedCountryDatabase, PACKAGED_DATABASE_ATTRIBUTION, PRIVATE_COUNTRY, type GeoDatabasePaths, type GeoResult } from './geoip.js';
export { continentOf, CONTINENT_CODES } from './continents.js';
export { parseAddress, mappedIPv4, formatIPv4, type ParsedAddress } from './ip-address.js';
export { specialPurpose } from './special-addresses.js';
export { decodePath, DEFAULT_STATIC_EXTENSIONS, fileType, GOACCESS_STATIC_EXTENSIONS, isStaticContentType, responseTimeMs, splitQuery } from './request.js';
export { countsAsVisit, UniqueVisitors, visitorDate, VisitorDates, visitorKey } from './visitors.js';
export { RecentCache } from './lru.js';
