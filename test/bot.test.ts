import assert from 'node:assert/strict';
import { formatDiagnostic, type Event } from '../core/index.js';
import { testPlugin, validateConfig } from '../core/testing/index.js';
import { BOT_CATEGORIES, BOT_LIST, BotClassifier, ClientBehaviour, compileBotPattern } from '../lib/insight/index.js';
import path from 'node:path';
import type { FilterInstance } from '../core/index.js';
import accessPlugin from '../plugins/filters/apache_access.js';
import { corpus, pluginContext, readLines, runFilterLines } from './support/corpora.js';

// Real User-Agents, as their operators document them (the sources in lib/insight/bot-list.ts) or as they were
// logged (masscan's: ../shared/corpora/crowdsec-hub-tests), by the category and name the filter must give.
const BOTS: Array<[string, string, string]> = [
  ['search_engine', 'Googlebot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
  ['search_engine', 'Googlebot', 'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.216 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
  ['search_engine', 'bingbot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36'],
  ['search_engine', 'YandexBot', 'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)'],
  ['search_engine', 'Baiduspider', 'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)'],
  ['search_engine', 'DuckDuckBot', 'DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)'],
  ['search_engine', 'Applebot', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)'],
  ['ai_crawler', 'GPTBot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)'],
  ['ai_crawler', 'ChatGPT-User', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot'],
  ['ai_crawler', 'ClaudeBot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)'],
  ['ai_crawler', 'CCBot', 'CCBot/2.0 (https://commoncrawl.org/faq/)'],
  ['ai_crawler', 'Bytespider', 'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)'],
  ['ai_crawler', 'PerplexityBot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)'],
  ['ai_crawler', 'Amazonbot', 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot) Chrome/119.0.6045.214 Safari/537.36'],
  ['seo', 'AhrefsBot', 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)'],
  ['seo', 'SemrushBot', 'Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)'],
  ['seo', 'MJ12bot', 'Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)'],
  ['seo', 'DotBot', 'Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)'],
  ['monitoring', 'UptimeRobot', 'Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)'],
  ['monitoring', 'Pingdom', 'Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)'],
  ['monitoring', 'StatusCake', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/89.0.4389.90 Safari/537.36 StatusCake'],
  ['monitoring', 'kube-probe', 'kube-probe/1.29'],
  ['monitoring', 'ELB-HealthChecker', 'ELB-HealthChecker/2.0'],
  ['feed_reader', 'Feedly', 'Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)'],
  ['feed_reader', 'Tiny Tiny RSS', 'Tiny Tiny RSS/1.11 (http://tt-rss.org/)'],
  ['feed_reader', 'Feedbin', 'Feedbin - 1 subscribers'],
  ['feed_reader', 'Feedfetcher-Google', 'Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; 3 subscribers; feed-id=14171215010336145331)'],
  ['library', 'curl', 'curl/8.4.0'],
  ['library', 'curl', 'curl/7.22.0 (i686-pc-linux-gnu) libcurl/7.22.0 OpenSSL/1.0.1 zlib/1.2.3.4 libidn/1.23 librtmp/2.3'],
  ['library', 'Wget', 'Wget/1.21.3'],
  ['library', 'python-requests', 'python-requests/2.31.0'],
  ['library', 'Python-urllib', 'Python-urllib/3.11'],
  ['library', 'Go-http-client', 'Go-http-client/1.1'],
  ['library', 'Java', 'Java/17.0.2'],
  ['library', 'okhttp', 'okhttp/4.12.0'],
  ['library', 'libwww-perl', 'LWP::Simple/5.827 libwww-perl/5.833'],
  ['scanner', 'sqlmap', 'sqlmap/1.7.2#stable (https://sqlmap.org)'],
  ['scanner', 'Nikto', 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)'],
  ['scanner', 'masscan', 'masscan/1.0 (https://github.com/robertdavidgraham/masscan)'],
  ['scanner', 'zgrab', 'Mozilla/5.0 zgrab/0.x'],
  ['scanner', 'Nuclei', 'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)'],
  ['scanner', 'Nmap', 'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)'],
  ['scanner', 'WPScan', 'WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)'],
  ['scanner', 'CensysInspect', 'Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)'],
  ['other', 'facebookexternalhit', 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)'],
  ['other', 'Twitterbot', 'Twitterbot/1.0'],
];

// People whose browsers or apps carry a word close to a bot's: none of them is a bot.
const HUMANS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 YaBrowser/23.11.0.0 Safari/537.36', // Yandex's browser, not YandexBot
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 DuckDuckGo/7 Safari/605.1.15', // DuckDuckGo's browser
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/288.0.576558003 Mobile/15E148 Safari/604.1', // the Google app
  'Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/442.0.0.33.113;]', // Facebook's in-app browser
  'Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 305.0.0.19.110 (iPhone13,2; iOS 16_6; en_US; en; scale=3.00; 1170x2532; 532277234)',
  'Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36', // a Cubot phone ("bot")
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97',
  'Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/119.0',
];

/** User-Agents (or whole events) through the real filter, in one batch. */
const classify = async (input: Array<string | Event>, options: Record<string, unknown> = { behaviour: { enabled: false } }) => {
  const t = await testPlugin('bot', { options });
  await t.send(input.map((x) => (typeof x === 'object' && x !== null ? x : { user_agent: x })));
  await t.end();
  return { t, out: t.events.out };
};

describe('bot filter', () => {
  it('names each category\'s bots from their real User-Agents, and counts events by category', async () => {
    const uas = BOTS.map(([, , ua]) => ua);
    const { t, out: twice } = await classify([...uas, ...uas]);
    const out = twice.slice(0, BOTS.length);
    assert.deepEqual(twice.slice(BOTS.length), out, 'the same from the cache');
    assert.deepEqual(out.map((e) => [e.bot_category, e.bot_name]), BOTS.map(([c, n]) => [c, n]));
    assert.ok(out.every((e) => e.is_bot === true));
    assert.deepEqual(new Set(BOTS.map(([c]) => c)), new Set(BOT_CATEGORIES), 'every category is tested');
    // stats() adds a metric's label sets up (/metrics has one series per category).
    const custom = t.stats('bot').custom;
    assert.equal(custom.visor_bot_events_total, 2 * BOTS.length);
    assert.deepEqual([custom.visor_bot_cache_hits_total, custom.visor_bot_cache_misses_total], [BOTS.length, BOTS.length]);
  });

  it('near-misses are people: browsers and apps whose User-Agent carries a word close to a bot\'s', async () => {
    const { out } = await classify(HUMANS);
    assert.deepEqual(out.map((e) => [e.is_bot, e.bot_category, e.bot_name]), HUMANS.map(() => [false, null, null]));
  });

  it('a bot no list names is other, named after its product token; "-", empty or missing is no bot', async () => {
    const { out } = await classify(['Mozilla/5.0 (compatible; FooCrawler/1.2; +http://foo.example/bot)', 'WidgetSpider/3', '-', '', { path: '/' }]);
    assert.deepEqual(out.map((e) => [e.is_bot, e.bot_category, e.bot_name]), [
      [true, 'other', 'FooCrawler'], [true, 'other', 'WidgetSpider'], [false, null, null], [false, null, null], [false, null, null],
    ]);
  });

  it('the user\'s patterns come first (case-insensitive), named or by what they matched', async () => {
    const { out } = await classify(['AcmeWatch/2.0 (+https://acme.example)', 'curl/8.4.0', 'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0 InternalProbe'], {
      behaviour: { enabled: false },
      patterns: [
        { pattern: '\\bacmewatch/', category: 'monitoring', name: 'Acme Watch' },
        { pattern: '^curl/', category: 'monitoring', name: 'our health check' },
        { pattern: 'internalprobe', category: 'monitoring' },
      ],
    });
    assert.deepEqual(out.map((e) => [e.bot_category, e.bot_name]), [['monitoring', 'Acme Watch'], ['monitoring', 'our health check'], ['monitoring', 'InternalProbe']]);
  });

  it('a bad pattern or category is a config error at its place in the file, as visor validate reports it', async () => {
    const diagnostics = await validateConfig({
      file: '/srv/visor/pipeline.yaml',
      yaml: `inputs: { in: { type: test_script } }
filters:
  bots:
    type: bot
    inputs: [in]
    patterns:
      - { pattern: 'ok/', category: seo }
      - { pattern: 'Acme(Watch', category: monitoring }
      - { pattern: 'x', category: robots }
outputs: { out: { type: test_record, inputs: [bots] } }
`,
    });
    const errors = diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.match(errors[0], /^\/srv\/visor\/pipeline\.yaml:8:20: .*invalid regex "Acme\(Watch": Unterminated group/);
    assert.match(errors[1], /^\/srv\/visor\/pipeline\.yaml:9:\d+: .*category/);
    assert.throws(() => compileBotPattern('a['), /invalid regex "a\["/);
  });

  it('every entry of the list has a category, a source and a pattern that compiles and matches its own name', () => {
    const names = new Set<string>();
    for (const entry of BOT_LIST) {
      assert.ok(BOT_CATEGORIES.includes(entry.category), entry.name);
      assert.match(entry.source, /^https:\/\/\S+$/, `${entry.name}: source`);
      assert.ok(!names.has(entry.name), `${entry.name}: listed once`);
      names.add(entry.name);
      compileBotPattern(entry.pattern);
    }
    // The classifier picks the first entry that matches: no entry shadows a later one on the later one's own name.
    const classifier = new BotClassifier();
    for (const [, name, ua] of BOTS) assert.equal(classifier.classify(ua).bot_name, name);
  });

  describe('behaviour of clients whose User-Agent names no bot', () => {
    const browser = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
    const req = (client_ip: string, path: string, timestamp: number, user_agent = browser): Event => ({ client_ip, path, timestamp, user_agent });

    it('robots.txt first: a bot from that first request on; a person who opens robots.txt later stays a person', async () => {
      const t0 = Date.UTC(2026, 11, 3);
      const { t, out } = await classify([
        req('198.51.100.1', '/robots.txt', t0), req('198.51.100.1', '/', t0 + 1000),
        req('198.51.100.2', '/', t0), req('198.51.100.2', '/site.css', t0 + 100), req('198.51.100.2', '/robots.txt', t0 + 5000),
      ], {});
      assert.deepEqual(out.map((e) => [e.client_ip, e.is_bot, e.bot_category, e.bot_name]), [
        ['198.51.100.1', true, 'other', null], ['198.51.100.1', true, 'other', null],
        ['198.51.100.2', false, null, null], ['198.51.100.2', false, null, null], ['198.51.100.2', false, null, null],
      ]);
      assert.equal(t.stats('bot').custom.visor_bot_behaviour_flagged_clients_total, 1);
    });

    it('no static assets after no_assets_after pages; a browser loading assets is not flagged; known bots are not tracked', async () => {
      const t0 = Date.UTC(2026, 11, 3);
      const events: Event[] = [];
      for (let i = 0; i < 6; i++) {
        events.push(req('203.0.113.9', `/page/${i}`, t0 + i * 10_000));
        events.push(req('203.0.113.10', `/page/${i}`, t0 + i * 10_000), req('203.0.113.10', `/img/${i}.png`, t0 + i * 10_000 + 50));
        events.push(req('203.0.113.11', `/page/${i}`, t0 + i * 10_000, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'));
      }
      const { t, out } = await classify(events, { behaviour: { no_assets_after: 4, max_pages: 0 } });
      const flags = (ip: string) => out.filter((e) => e.client_ip === ip).map((e) => e.is_bot);
      assert.deepEqual(flags('203.0.113.9'), [false, false, false, true, true, true], 'the 4th page without assets decides');
      assert.ok(flags('203.0.113.10').every((b) => b === false));
      assert.ok(out.filter((e) => e.client_ip === '203.0.113.11').every((e) => e.bot_name === 'Googlebot'));
      assert.equal(t.stats('bot').custom.visor_bot_behaviour_clients, 2, 'the Googlebot is not tracked');
    });

    it('page rate: more than max_pages within per (event time) is a bot; the same pages spread out are not', async () => {
      const t0 = Date.UTC(2026, 11, 3);
      const events: Event[] = [];
      for (let i = 0; i < 12; i++) {
        events.push(req('192.0.2.1', `/p${i}`, t0 + i * 100), req('192.0.2.1', `/a${i}.js`, t0 + i * 100 + 1)); // 12 pages in 1.2 s
        events.push(req('192.0.2.2', `/p${i}`, t0 + i * 6000), req('192.0.2.2', `/a${i}.js`, t0 + i * 6000 + 1)); // one every 6 s
      }
      const { out } = await classify(events, { behaviour: { max_pages: 10, per: '1m', no_assets_after: 0 } });
      const pages = (ip: string) => out.filter((e) => e.client_ip === ip && !String(e.path).endsWith('.js')).map((e) => e.is_bot);
      assert.deepEqual(pages('192.0.2.1'), [...Array(10).fill(false), true, true], 'the 11th page within a minute decides');
      assert.ok(pages('192.0.2.2').every((b) => b === false));
    });

    it('on the Elastic sample: the hidden crawlers it finds are Baidu\'s addresses posing as Firefox 6, and old-browser scrapers', async function () {
      const parser = (await accessPlugin.create({ field: 'message', format: 'combined', timezone: 'UTC' }, pluginContext('access', 'apache_access'))) as FilterInstance;
      const run = runFilterLines(parser, readLines(path.join(corpus(this, 'elastic-examples-apache_logs'), 'apache_logs')));
      const events = [...run.parsed.values()].map(({ client_ip, path: p, timestamp, user_agent }) => ({ client_ip, path: p, timestamp, user_agent }));
      const { t, out } = await classify(events as Event[], {});
      const flagged = new Map<string, string>();
      const byUa = new Set<string>();
      const asHuman = new Set<string>();
      for (const e of out) {
        if (e.bot_category === 'other' && e.bot_name === null) flagged.set(`${e.client_ip} ${e.user_agent}`, String(e.path));
        else if (e.is_bot) byUa.add(String(e.client_ip));
        else asHuman.add(`${e.client_ip} ${e.user_agent}`);
      }
      const crawlers = [...flagged.keys()].filter((k) => k.startsWith('180.76.') && k.endsWith('Gecko/20100101 Firefox/6.0.2'));
      // 180.76.0.0/16 is registered to Baidu (Beijing Baidu Netcom), where Baiduspider crawls from; all 43 fetched
      // robots.txt first, with one outdated Firefox User-Agent.
      assert.equal(crawlers.length, 43);
      assert.equal(flagged.size, 48, [...flagged.keys()].join('\n'));
      // The other 5: 20 pages and no asset, each with a 2006-2009 browser's User-Agent (or none).
      assert.ok([...flagged.keys()].filter((k) => !crawlers.includes(k)).every((k) => /MSIE 6\.0|Firefox\/[23]\.|null$/.test(k)));
      const custom = t.stats('bot').custom;
      assert.equal(custom.visor_bot_behaviour_flagged_clients_total, 48);
      assert.ok(asHuman.size > 1000, `${asHuman.size} clients stay people`);
      assert.ok(byUa.size > 100);
    });

    it('keeps at most max_clients: the least recently seen client is forgotten and starts afresh', () => {
      const b = new ClientBehaviour({ max_clients: 2, robots_txt: true, no_assets_after: 3, max_pages: 0, per_ms: 60_000 });
      b.observe('a', '/1', 0); b.observe('a', '/2', 1);
      b.observe('b', '/1', 2);
      b.observe('c', '/1', 3); // evicts a
      assert.equal(b.clients.size, 2);
      assert.equal(b.observe('a', '/3', 4), null, 'a starts afresh: its third page is its first');
      assert.equal(b.observe('c', '/2', 5), null);
      assert.equal(b.observe('c', '/3', 6), 'no_static_assets');
      for (let i = 0; i < 10_000; i++) b.observe(`client-${i}`, '/', i);
      assert.equal(b.clients.size, 2);
    });

    it('static assets are the request filter\'s (fileType, DEFAULT_STATIC_EXTENSIONS), by the path without its query', () => {
      const b = new ClientBehaviour({ max_clients: 10, robots_txt: true, no_assets_after: 2, max_pages: 0, per_ms: 60_000 });
      assert.deepEqual(['/1', '/app.js?v=3', '/2'].map((p, i) => b.observe('a', p, i)), [null, null, null], 'an asset with a query');
      assert.deepEqual(['/1', '/p?next=/x.css', '/2'].map((p, i) => b.observe('b', p, i)), [null, 'no_static_assets', 'no_static_assets'], 'an extension in the query is none');
      assert.deepEqual(['/1', '/font.WOFF2', '/2'].map((p, i) => b.observe('c', p, i)), [null, null, null]);
    });

    it('a timestamp that is no finite number counts at arrival time', async () => {
      const events = [NaN, 'soon', Infinity, undefined, NaN].map((timestamp, i) => ({ client_ip: '192.0.2.8', path: `/p${i}`, timestamp, user_agent: browser }));
      const { out } = await classify(events as Event[], { behaviour: { max_pages: 3, no_assets_after: 0 } });
      assert.deepEqual(out.map((e) => e.is_bot), [false, false, false, true, true], 'the 4th page within a minute of arrival decides');
    });

    it('events without a path are classified by their User-Agent alone and not tracked', async () => {
      const { t, out } = await classify([{ client_ip: '192.0.2.7', user_agent: browser }, { client_ip: '192.0.2.7', user_agent: browser, path: 42 }], {});
      assert.deepEqual(out.map((e) => e.is_bot), [false, false]);
      assert.equal(t.stats('bot').custom.visor_bot_behaviour_clients, 0);
    });
  });
});
