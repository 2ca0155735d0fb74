// The crawlers whose operators document a forward-confirmed reverse DNS check (the PTR name of the address ends in
// one of their domains, and that name resolves back to the address), each with the page that documents the domains.
// Their user agents are lib/insight's bot list entries, named here, so a crawler is recognised one way only.
//
// Left out on purpose: operators that publish address lists instead of DNS names (OpenAI's GPTBot, ChatGPT-User and
// OAI-SearchBot: https://platform.openai.com/docs/bots; DuckDuckBot: https://duckduckgo.com/duckduckgo-help-pages/results/duckduckbot;
// Anthropic's ClaudeBot; Common Crawl's CCBot; Meta): a reverse DNS check would prove nothing for them, so a claim of
// one is neither allowed nor called fake. Google's user-triggered fetchers (gae.googleusercontent.com) are left out
// too: Google Cloud customers' machines have googleusercontent.com names as well.
import { BOT_LIST, UserAgentMemo } from '../insight/index.js';

export interface CrawlerOperator {
  /** The operator, the `crawler` field of the events claiming one of its bots. */
  name: string;
  /** bot_name of lib/insight's BOT_LIST entries whose user agent claims this operator. */
  bots: readonly string[];
  /** A PTR name must be one of these or end in `.` + one of these. */
  domains: readonly string[];
  source: string;
}

export const VERIFIABLE_CRAWLERS: readonly CrawlerOperator[] = [
  { name: 'Google', bots: ['Googlebot', 'Google-InspectionTool', 'AdsBot-Google'], domains: ['googlebot.com', 'google.com'], source: 'https://developers.google.com/search/docs/crawling-indexing/verifying-googlebot' },
  { name: 'Bing', bots: ['bingbot'], domains: ['search.msn.com'], source: 'https://www.bing.com/webmasters/help/how-to-verify-bingbot-3905dc26' },
  { name: 'Apple', bots: ['Applebot', 'Applebot-Extended'], domains: ['applebot.apple.com'], source: 'https://support.apple.com/en-us/119829' },
  { name: 'Yandex', bots: ['YandexBot'], domains: ['yandex.ru', 'yandex.net', 'yandex.com'], source: 'https://yandex.com/support/webmaster/robot-workings/check-yandex-robots.html' },
  { name: 'Baidu', bots: ['Baiduspider'], domains: ['baidu.com', 'baidu.jp'], source: 'https://www.baidu.com/search/spider_english.html' },
  { name: 'Amazon', bots: ['Amazonbot'], domains: ['crawl.amazonbot.amazon'], source: 'https://developer.amazon.com/amazonbot' },
];

/** Whether `name` (a PTR answer, any case, with or without the final dot) is in one of `domains`. */
export function inDomains(name: string, domains: readonly string[]): boolean {
  const n = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  return domains.some((d) => n === d || n.endsWith(`.${d}`));
}

/** Which operator a user agent claims to crawl for, if any (by the bot list's patterns, cached per user agent). */
export class CrawlerClaims {
  private readonly patterns: { re: RegExp; operator: CrawlerOperator }[];
  private readonly memo: UserAgentMemo<CrawlerOperator | null>;

  constructor(operators: readonly CrawlerOperator[] = VERIFIABLE_CRAWLERS, cacheSize = 10_000) {
    this.patterns = operators.flatMap((operator) => operator.bots.map((bot) => {
      const entry = BOT_LIST.find((b) => b.name === bot);
      if (!entry) throw new Error(`crawler ${operator.name}: no bot named "${bot}" in lib/insight's BOT_LIST`);
      return { re: new RegExp(entry.pattern, 'i'), operator };
    }));
    this.memo = new UserAgentMemo(cacheSize, (ua) => this.patterns.find((p) => p.re.test(ua))?.operator ?? null, null);
  }

  claimOf(userAgent: unknown): CrawlerOperator | null {
    return this.memo.get(userAgent);
  }
}
