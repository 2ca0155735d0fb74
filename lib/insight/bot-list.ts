// The named bots the bot filter knows, by category, each with where its User-Agent is documented (the
// operator's own page where there is one). Patterns are JavaScript regexes matched case-insensitively; the
// first entry that matches names the bot, so more specific entries come first. Add a bot here with its source;
// users add their own with the filter's `patterns` option. Bots not listed but known to `isbot` get `other`.

export const BOT_CATEGORIES = ['search_engine', 'ai_crawler', 'seo', 'monitoring', 'feed_reader', 'library', 'scanner', 'other'] as const;
export type BotCategory = (typeof BOT_CATEGORIES)[number];

export interface BotEntry {
  name: string;
  category: BotCategory;
  /** A regex source, matched case-insensitively against the whole User-Agent. */
  pattern: string;
  /** Where the User-Agent is documented. */
  source: string;
}

const e = (category: BotCategory, name: string, pattern: string, source: string): BotEntry => ({ name, category, pattern, source });

export const BOT_LIST: readonly BotEntry[] = [
  // AI crawlers and AI assistants fetching for a user: before search engines, as some share words with them.
  e('ai_crawler', 'GPTBot', '\\bGPTBot\\b', 'https://platform.openai.com/docs/bots'),
  e('ai_crawler', 'ChatGPT-User', '\\bChatGPT-User\\b', 'https://platform.openai.com/docs/bots'),
  e('ai_crawler', 'OAI-SearchBot', '\\bOAI-SearchBot\\b', 'https://platform.openai.com/docs/bots'),
  e('ai_crawler', 'ClaudeBot', '\\bClaudeBot\\b', 'https://support.anthropic.com/en/articles/8896518-does-anthropic-crawl-data-from-the-web-and-how-can-site-owners-block-the-crawler'),
  e('ai_crawler', 'Claude-User', '\\bClaude-(User|SearchBot)\\b', 'https://support.anthropic.com/en/articles/8896518-does-anthropic-crawl-data-from-the-web-and-how-can-site-owners-block-the-crawler'),
  e('ai_crawler', 'anthropic-ai', '\\banthropic-ai\\b', 'https://support.anthropic.com/en/articles/8896518-does-anthropic-crawl-data-from-the-web-and-how-can-site-owners-block-the-crawler'),
  e('ai_crawler', 'CCBot', '\\bCCBot\\b', 'https://commoncrawl.org/ccbot'),
  e('ai_crawler', 'Bytespider', '\\bBytespider\\b', 'https://darkvisitors.com/agents/bytespider'),
  e('ai_crawler', 'PerplexityBot', '\\bPerplexity(Bot|-User)\\b', 'https://docs.perplexity.ai/guides/bots'),
  e('ai_crawler', 'Amazonbot', '\\bAmazonbot\\b', 'https://developer.amazon.com/amazonbot'),
  e('ai_crawler', 'Meta-ExternalAgent', '\\bmeta-external(agent|fetcher)\\b', 'https://developers.facebook.com/docs/sharing/webmasters/web-crawlers'),
  e('ai_crawler', 'cohere-ai', '\\bcohere-(ai|training-data-crawler)\\b', 'https://darkvisitors.com/agents/cohere-ai'),
  e('ai_crawler', 'Diffbot', '\\bDiffbot\\b', 'https://docs.diffbot.com/docs/getting-started-with-crawl'),
  e('ai_crawler', 'YouBot', '\\bYouBot\\b', 'https://about.you.com/youbot/'),
  e('ai_crawler', 'Applebot-Extended', '\\bApplebot-Extended\\b', 'https://support.apple.com/en-us/119829'),
  e('ai_crawler', 'Google-CloudVertexBot', '\\bGoogle-CloudVertexBot\\b', 'https://developers.google.com/search/docs/crawling-indexing/google-common-crawlers'),
  e('ai_crawler', 'ImagesiftBot', '\\bImagesiftBot\\b', 'https://imagesift.com/about'),
  e('ai_crawler', 'Timpibot', '\\bTimpibot\\b', 'https://timpi.io'),

  // Search engines.
  e('search_engine', 'Googlebot', '\\bGooglebot(-Image|-Video|-News)?\\b', 'https://developers.google.com/search/docs/crawling-indexing/overview-google-crawlers'),
  e('search_engine', 'Google-InspectionTool', '\\bGoogle-InspectionTool\\b', 'https://developers.google.com/search/docs/crawling-indexing/overview-google-crawlers'),
  e('search_engine', 'AdsBot-Google', '\\b(AdsBot-Google(-Mobile)?|Mediapartners-Google)\\b', 'https://developers.google.com/search/docs/crawling-indexing/google-special-case-crawlers'),
  e('search_engine', 'bingbot', '\\b(bingbot|BingPreview|adidxbot)\\b', 'https://www.bing.com/webmasters/help/which-crawlers-does-bing-use-8c184ec0'),
  e('search_engine', 'YandexBot', '\\bYandex(Bot|Images|Mobile(Bot)?|Metrika|Accessibility|Favicons|Market|Direct)\\b', 'https://yandex.com/support/webmaster/robot-workings/check-yandex-robots.html'),
  e('search_engine', 'Baiduspider', '\\bBaiduspider\\b', 'https://www.baidu.com/search/robots_english.html'),
  e('search_engine', 'DuckDuckBot', '\\bDuckDuck(Bot|Go-Favicons-Bot)\\b', 'https://duckduckgo.com/duckduckbot'),
  e('search_engine', 'Applebot', '\\bApplebot\\b', 'https://support.apple.com/en-us/119829'),
  e('search_engine', 'Yahoo! Slurp', '\\bYahoo! Slurp\\b', 'https://help.yahoo.com/kb/SLN22600.html'),
  e('search_engine', 'Sogou', '\\bSogou (web|inst|Pic) spider\\b', 'https://www.sogou.com/docs/help/webmasters.htm'),
  e('search_engine', 'SeznamBot', '\\bSeznamBot\\b', 'https://o-seznam.cz/napoveda/vyhledavani/en/seznambot-crawler/'),
  e('search_engine', 'PetalBot', '\\bPetalBot\\b', 'https://webmaster.petalsearch.com/site/petalbot'),
  e('search_engine', 'Qwantbot', '\\bQwant(bot|ify)\\b', 'https://help.qwant.com/bot/'),
  e('search_engine', 'MojeekBot', '\\bMojeekBot\\b', 'https://www.mojeek.com/bot.html'),
  e('search_engine', 'Naver Yeti', '\\bYeti/\\d', 'https://help.naver.com/service/5626/contents/19008'),

  // SEO tools and backlink crawlers.
  e('seo', 'AhrefsBot', '\\bAhrefs(Bot|SiteAudit)\\b', 'https://ahrefs.com/robot'),
  e('seo', 'SemrushBot', '\\b(SemrushBot|SiteAuditBot|SplitSignalBot)\\b', 'https://www.semrush.com/bot/'),
  e('seo', 'MJ12bot', '\\bMJ12bot\\b', 'https://mj12bot.com/'),
  e('seo', 'DotBot', '\\bDotBot\\b', 'https://moz.com/help/moz-procedures/crawlers/dotbot'),
  e('seo', 'rogerbot', '\\brogerbot\\b', 'https://moz.com/help/moz-procedures/crawlers/rogerbot'),
  e('seo', 'BLEXBot', '\\bBLEXBot\\b', 'https://webmeup-crawler.com/'),
  e('seo', 'serpstatbot', '\\bserpstatbot\\b', 'https://serpstatbot.com/'),
  e('seo', 'DataForSeoBot', '\\bDataForSeoBot\\b', 'https://dataforseo.com/dataforseo-bot'),
  e('seo', 'Screaming Frog SEO Spider', '\\bScreaming Frog SEO Spider\\b', 'https://www.screamingfrog.co.uk/seo-spider/user-guide/configuration/#user-agent'),
  e('seo', 'SEOkicks', '\\bSEOkicks\\b', 'https://www.seokicks.de/robot.html'),
  e('seo', 'Barkrowler', '\\bBarkrowler\\b', 'https://babbar.tech/crawler'),

  // Uptime and performance monitors, health checks.
  e('monitoring', 'UptimeRobot', '\\bUptimeRobot\\b', 'https://uptimerobot.com/help/faq/'),
  e('monitoring', 'Pingdom', '\\bPingdom', 'https://documentation.solarwinds.com/en/success_center/pingdom/content/topics/pingdom-probe-servers-ip-addresses.htm'),
  e('monitoring', 'StatusCake', '\\bStatusCake\\b', 'https://www.statuscake.com/kb/knowledge-base/what-is-your-user-agent/'),
  e('monitoring', 'Site24x7', '\\bSite24x7\\b', 'https://www.site24x7.com/help/admin/adding-a-monitor/user-agent.html'),
  e('monitoring', 'Better Uptime', '\\bBetter (Uptime|Stack) Bot\\b', 'https://betterstack.com/docs/uptime/uptime-monitor/'),
  e('monitoring', 'Datadog Synthetics', '\\bDatadog(Synthetics| Agent)\\b', 'https://docs.datadoghq.com/synthetics/guide/identify_synthetics_bots/'),
  e('monitoring', 'New Relic', '\\bNewRelicPinger\\b', 'https://docs.newrelic.com/docs/synthetics/synthetic-monitoring/administration/identify-synthetic-monitoring-requests-your-app/'),
  e('monitoring', 'Google Cloud uptime check', '\\bGoogleStackdriverMonitoring-UptimeChecks\\b', 'https://cloud.google.com/monitoring/uptime-checks'),
  e('monitoring', 'ELB-HealthChecker', '\\bELB-HealthChecker\\b', 'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html'),
  e('monitoring', 'kube-probe', '\\bkube-probe\\b', 'https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/'),
  e('monitoring', 'Zabbix', '\\bZabbix\\b', 'https://www.zabbix.com/documentation/current/en/manual/web_monitoring'),
  e('monitoring', 'check_http', '\\bcheck_(http|curl)/v', 'https://www.monitoring-plugins.org/doc/man/check_http.html'),
  e('monitoring', 'Blackbox Exporter', '\\bBlackbox Exporter/', 'https://github.com/prometheus/blackbox_exporter'),
  e('monitoring', 'Uptime Kuma', '\\bUptime-Kuma/', 'https://github.com/louislam/uptime-kuma'),

  // Feed readers (they fetch feeds on a schedule, for people who subscribed).
  e('feed_reader', 'Feedly', '\\bFeedly', 'https://feedly.com/fetcher.html'),
  e('feed_reader', 'Feedbin', '\\bFeedbin\\b', 'https://feedbin.com/'),
  e('feed_reader', 'Inoreader', '\\bInoreader\\b', 'https://www.inoreader.com/'),
  e('feed_reader', 'NewsBlur', '\\bNewsBlur\\b', 'https://www.newsblur.com/'),
  e('feed_reader', 'Tiny Tiny RSS', '\\bTiny Tiny RSS\\b', 'https://tt-rss.org/'),
  e('feed_reader', 'FreshRSS', '\\bFreshRSS\\b', 'https://freshrss.org/'),
  e('feed_reader', 'Miniflux', '\\bMiniflux\\b', 'https://miniflux.app/docs/faq.html'),
  e('feed_reader', 'NetNewsWire', '\\bNetNewsWire\\b', 'https://netnewswire.com/'),
  e('feed_reader', 'The Old Reader', '\\bTheOldReader\\b', 'https://theoldreader.com/'),
  e('feed_reader', 'Feedfetcher-Google', '\\bFeedFetcher-Google\\b', 'https://developers.google.com/search/docs/crawling-indexing/google-user-triggered-fetchers'),

  // Security scanners and attack tools: before libraries, as several of them run on one.
  e('scanner', 'sqlmap', '\\bsqlmap\\b', 'https://sqlmap.org/'),
  e('scanner', 'Nikto', '\\bNikto\\b', 'https://github.com/sullo/nikto/wiki'),
  e('scanner', 'masscan', '\\bmasscan(-ng)?\\b', 'https://github.com/robertdavidgraham/masscan'),
  e('scanner', 'zgrab', '\\bzgrab\\b', 'https://github.com/zmap/zgrab2'),
  e('scanner', 'Nuclei', '\\bNuclei\\b', 'https://github.com/projectdiscovery/nuclei'),
  e('scanner', 'Nmap', '\\bNmap Scripting Engine\\b', 'https://nmap.org/book/nse.html'),
  e('scanner', 'WPScan', '\\bWPScan\\b', 'https://wpscan.com/'),
  e('scanner', 'DirBuster', '\\bDirBuster\\b', 'https://www.kali.org/tools/dirbuster/'),
  e('scanner', 'gobuster', '\\bgobuster\\b', 'https://github.com/OJ/gobuster'),
  e('scanner', 'ffuf', '\\b(ffuf|Fuzz Faster U Fool)\\b', 'https://github.com/ffuf/ffuf'),
  e('scanner', 'Wfuzz', '\\bWfuzz\\b', 'https://github.com/xmendez/wfuzz'),
  e('scanner', 'Acunetix', '\\bAcunetix', 'https://www.acunetix.com/'),
  e('scanner', 'Nessus', '\\bNessus\\b', 'https://www.tenable.com/products/nessus'),
  e('scanner', 'OpenVAS', '\\bOpenVAS\\b', 'https://www.openvas.org/'),
  e('scanner', 'CensysInspect', '\\bCensysInspect\\b', 'https://support.censys.io/hc/en-us/articles/360043177092'),
  e('scanner', 'Expanse', '\\bExpanse, a Palo Alto Networks company\\b', 'https://www.paloaltonetworks.com/cortex/cortex-xpanse'),
  e('scanner', 'LeakIX', '\\bl9(explore|tcpid)\\b', 'https://leakix.net/'),
  e('scanner', 'Jorgee', '\\bJorgee\\b', 'https://www.checkpoint.com/'),

  // HTTP libraries and command-line clients: a script, not a browser.
  e('library', 'curl', '^curl/|\\bcurl/\\d', 'https://curl.se/docs/manpage.html#-A'),
  e('library', 'Wget', '^Wget/|\\bWget/\\d', 'https://www.gnu.org/software/wget/manual/wget.html'),
  e('library', 'python-requests', '\\bpython-requests/', 'https://requests.readthedocs.io/'),
  e('library', 'Python-urllib', '\\bPython-urllib/', 'https://docs.python.org/3/library/urllib.request.html'),
  e('library', 'python-httpx', '\\bpython-httpx/', 'https://www.python-httpx.org/'),
  e('library', 'aiohttp', '\\baiohttp/', 'https://docs.aiohttp.org/'),
  e('library', 'Scrapy', '\\bScrapy/', 'https://docs.scrapy.org/en/latest/topics/settings.html#user-agent'),
  e('library', 'Go-http-client', '\\bGo-http-client/', 'https://pkg.go.dev/net/http'),
  e('library', 'Java', '^Java/\\d|\\bJava-http-client/', 'https://docs.oracle.com/en/java/javase/17/docs/api/java.net.http/java/net/http/HttpClient.html'),
  e('library', 'Apache-HttpClient', '\\bApache-HttpClient/', 'https://hc.apache.org/'),
  e('library', 'okhttp', '^okhttp/', 'https://square.github.io/okhttp/'),
  e('library', 'node-fetch', '\\bnode-fetch\\b', 'https://github.com/node-fetch/node-fetch'),
  e('library', 'axios', '^axios/', 'https://axios-http.com/'),
  e('library', 'undici', '^undici\\b', 'https://undici.nodejs.org/'),
  e('library', 'libwww-perl', '\\blibwww-perl/', 'https://metacpan.org/pod/LWP::UserAgent'),
  e('library', 'GuzzleHttp', '\\bGuzzleHttp/', 'https://docs.guzzlephp.org/'),
  e('library', 'Ruby', '^Ruby$|\\bFaraday v\\d', 'https://lostisland.github.io/faraday/'),
  e('library', 'HTTPie', '^HTTPie/', 'https://httpie.io/docs/cli'),
  e('library', 'PostmanRuntime', '^PostmanRuntime/', 'https://learning.postman.com/docs/sending-requests/create-requests/headers/'),
  e('library', 'reqwest', '^reqwest/', 'https://docs.rs/reqwest'),
  e('library', 'PowerShell', '\\bWindowsPowerShell/', 'https://learn.microsoft.com/powershell/module/microsoft.powershell.utility/invoke-webrequest'),

  // Named bots of no category above: link previews of chat and social apps, archivers.
  e('other', 'facebookexternalhit', '\\bfacebook(externalhit|catalog)\\b', 'https://developers.facebook.com/docs/sharing/webmasters/web-crawlers'),
  e('other', 'Twitterbot', '\\bTwitterbot\\b', 'https://developer.x.com/en/docs/x-for-websites/cards/guides/getting-started'),
  e('other', 'LinkedInBot', '\\bLinkedInBot\\b', 'https://www.linkedin.com/robots.txt'),
  e('other', 'Slackbot', '\\bSlackbot(-LinkExpanding)?\\b', 'https://api.slack.com/robots'),
  e('other', 'Discordbot', '\\bDiscordbot\\b', 'https://discord.com/developers/docs/resources/message#embed-object'),
  e('other', 'TelegramBot', '\\bTelegramBot\\b', 'https://core.telegram.org/bots'),
  e('other', 'WhatsApp', '^WhatsApp/', 'https://faq.whatsapp.com/'),
  e('other', 'ia_archiver', '\\b(ia_archiver|archive\\.org_bot)\\b', 'https://archive.org/details/archive.org_bot'),
];
