// Traffic insight as a library: who sends the requests (browser, OS, device; bot or human, which bot). Used by
// the user_agent and bot filters and by `visor analyze`.
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
export { isStaticPath, pathExtension } from './static-path.js';
export { userAgentText, UserAgentMemo } from './ua-memo.js';
export { LruCache } from './lru.js';
