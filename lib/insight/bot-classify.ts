// Bot or human from the User-Agent alone: the user's patterns first, then the named list (bot-list.ts), then
// isbot's generic patterns (a bot of no known name is `other`, named after the product token that matched).
import { isbotMatch } from 'isbot';
import type { OptionSchema } from '../../core/index.js';
import { BOT_CATEGORIES, BOT_LIST, type BotCategory, type BotEntry } from './bot-list.js';
import { userAgentText, UserAgentMemo } from './ua-memo.js';

/** The fields the bot filter sets, as it sets them. */
export interface BotInfo {
  is_bot: boolean;
  /** null for humans. */
  bot_category: BotCategory | null;
  bot_name: string | null;
}

export const BOT_FIELDS = ['is_bot', 'bot_category', 'bot_name'] as const;

export const HUMAN: Readonly<BotInfo> = Object.freeze({ is_bot: false, bot_category: null, bot_name: null });

/** A user's own pattern (the bot filter's `patterns`). */
export interface BotPattern {
  pattern: string;
  category: BotCategory;
  name?: string;
}

/** Compiles a pattern as the classifier matches it; throws the reason a pattern is invalid. */
export function compileBotPattern(source: string): RegExp {
  try {
    return new RegExp(source, 'i');
  } catch (err) {
    throw new Error(`invalid regex ${JSON.stringify(source)}: ${(err as Error).message.replace(/^.*: /, '')}`);
  }
}

export const BOT_PATTERNS_SCHEMA = {
  type: 'array',
  default: [],
  description: 'Your own bots, checked before the built-in list: [{ pattern, category, name }], pattern a JavaScript regex matched case-insensitively against the User-Agent.',
  items: {
    type: 'object',
    required: ['pattern', 'category'],
    properties: {
      pattern: {
        type: 'string', minLength: 1, description: "A JavaScript regex, matched case-insensitively anywhere in the User-Agent (in YAML single quotes, e.g. '\\bAcmeMonitor/').",
        check: (v: unknown) => { if (typeof v === 'string') compileBotPattern(v); return undefined; },
      },
      category: { enum: BOT_CATEGORIES, description: 'The category of the bots it matches.' },
      name: { type: 'string', minLength: 1, description: 'bot_name of the bots it matches (default: the text the pattern matched).' },
    },
  },
} as const satisfies OptionSchema;

interface Compiled { re: RegExp; category: BotCategory; name: string | undefined }

const compile = (p: BotPattern | BotEntry): Compiled => ({ re: compileBotPattern(p.pattern), category: p.category, name: p.name });

// The product token around isbot's match ("FooCrawler/1.2" for "crawler"), without its version.
const TOKEN_SEPARATORS = /[\s;()+,]/;

function tokenAround(ua: string, match: string): string {
  const at = ua.toLowerCase().indexOf(match.toLowerCase());
  if (at < 0) return match;
  let start = at;
  while (start > 0 && !TOKEN_SEPARATORS.test(ua[start - 1])) start--;
  let end = at + match.length;
  while (end < ua.length && !TOKEN_SEPARATORS.test(ua[end])) end++;
  const token = ua.slice(start, end).replace(/\/.*$/, '').replace(/^https?:.*$/, '');
  return token || match;
}

/** The bot the first of `rules` that matches names (the alternation's leftmost match may be a later rule's). */
function firstMatch(rules: readonly Compiled[], ua: string): BotInfo | undefined {
  for (const rule of rules) {
    const m = rule.re.exec(ua);
    if (m) return { is_bot: true, bot_category: rule.category, bot_name: rule.name ?? m[0] };
  }
  return undefined;
}

/** Classifies user agents; `patterns` (the user's) come before the built-in list. */
export class BotClassifier {
  private readonly own: Compiled[];
  private readonly listed: Compiled[];
  // The list's patterns in one alternation, tested first: most user agents match none, and one regex over the
  // string costs a seventh of the patterns one by one (5 against 37 µs a user agent, the Elastic sample's 559, on a
  // loaded machine). The user's patterns are tested one by one: a backreference in one would change meaning there.
  private readonly anyListed: RegExp;

  constructor(patterns: readonly BotPattern[] = []) {
    this.own = patterns.map(compile);
    this.listed = BOT_LIST.map(compile);
    this.anyListed = new RegExp(BOT_LIST.map((p) => `(?:${p.pattern})`).join('|'), 'i');
  }

  classify(value: unknown): BotInfo {
    const ua = userAgentText(value);
    if (ua === undefined) return HUMAN;
    const found = firstMatch(this.own, ua) ?? (this.anyListed.test(ua) ? firstMatch(this.listed, ua) : undefined);
    if (found) return found;
    const generic = isbotMatch(ua);
    return generic === null ? HUMAN : { is_bot: true, bot_category: 'other', bot_name: tokenAround(ua, generic) };
  }
}

/** A BotClassifier behind a UserAgentMemo. */
export function cachedBotClassifier(patterns: readonly BotPattern[], capacity: number): UserAgentMemo<BotInfo> {
  const classifier = new BotClassifier(patterns);
  return new UserAgentMemo(capacity, (ua) => classifier.classify(ua), HUMAN);
}
