// Realistic defaults for what generated traffic contains: the mix of a busy public site on Apache 2.4
// (pages, static assets, an API, the usual scanners and bots), and the error log such a site writes.
import type { ContentInput, ContentOptions } from '../options.js';

export const DEFAULT_DOCROOT = '/var/www/html';

/** Response time (%D %T %{ms}T): log-normal, median in ms. */
export const DEFAULT_RESPONSE_TIME = { median: 18, sigma: 1.3 };

export const DEFAULT_STATUSES: Record<string, number> = {
  200: 780, 304: 62, 404: 48, 302: 24, 301: 16, 206: 6, 204: 5, 403: 9, 401: 5, 400: 4,
  500: 6, 502: 3, 503: 3, 504: 1,
};

export const DEFAULT_METHODS: Record<string, number> = { GET: 880, POST: 82, HEAD: 24, OPTIONS: 7, PUT: 5, DELETE: 2 };

/** Most popular first. */
export const DEFAULT_PATHS = [
  '/', '/index.html', '/css/style.css', '/js/app.js', '/favicon.ico', '/images/logo.png',
  '/js/jquery-3.7.1.min.js', '/css/bootstrap.min.css', '/api/v1/status', '/robots.txt', '/products',
  '/fonts/roboto-v30-latin-regular.woff2', '/search', '/about', '/blog/', '/api/v1/products', '/login',
  '/images/banner-spring.jpg', '/contact', '/api/v1/users/me', '/sitemap.xml', '/cart', '/products/item',
  '/static/img/hero.webp', '/apple-touch-icon.png', '/blog/2024/05/tuning-apache-mpm-event', '/checkout',
  '/wp-login.php', '/xmlrpc.php', '/feed/', '/downloads/annual-report-2023.pdf', '/api/v1/orders',
  '/help/faq', '/logout', '/wp-admin/', '/.env', '/admin/', '/video/intro.mp4', '/server-status',
  '/.git/config', '/phpmyadmin/index.php', '/cgi-bin/test.cgi', '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
];

export const DEFAULT_QUERIES = [
  'q=apache+access+log', 'page=2', 'id=1234', 'lang=en', 'utm_source=google&utm_medium=cpc&utm_campaign=spring',
  'sort=price&order=asc', 'ref=homepage', 'v=3.2.1', 'category=books&page=3', 's=test', 'page=1&per_page=50',
  'fbclid=IwAR2xY7k9Lq', 'redirect_to=%2Fwp-admin%2F&reauth=1', 'color=blue&size=m', 'format=json',
  'token=eyJhbGciOiJIUzI1NiJ9', 'debug=true', 'from=2024-05-01&to=2024-05-31',
];

/** Most common first ("-": no referer). */
export const DEFAULT_REFERERS = [
  '-', 'https://www.google.com/', 'https://www.example.com/', 'https://www.example.com/products',
  'https://www.bing.com/', 'https://www.example.com/blog/', 'https://duckduckgo.com/', 'https://t.co/',
  'https://www.facebook.com/', 'https://www.example.com/search?q=shoes', 'android-app://com.google.android.gm/',
  'https://www.reddit.com/', 'https://news.ycombinator.com/', 'https://www.linkedin.com/', 'http://example.com/',
];

/** Most common first: each client keeps one (see ClientPool). */
export const DEFAULT_USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.118 Mobile Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/109.0.0.0',
  'Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)',
  'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  'Mozilla/5.0 (Windows NT 6.1; Win64; x64; Trident/7.0; rv:11.0) like Gecko',
  'curl/8.5.0',
  'Wget/1.21.4',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'Mozilla/5.0 zgrab/0.x',
  'Apache-HttpClient/4.5.14 (Java/17.0.10)',
  'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
  'Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)',
];

export const DEFAULT_USERS = ['alice', 'bob', 'admin', 'jdoe', 'deploy', 'monitoring'];

export const DEFAULT_LEVELS: Record<string, number> = {
  error: 50, warn: 28, notice: 12, info: 5, crit: 2, alert: 1, emerg: 0.5, debug: 1.5,
};

export const DEFAULT_MODULES = [
  'core', 'authz_core', 'proxy', 'proxy_fcgi', 'proxy_http', 'ssl', 'cgid', 'php', 'php7', 'rewrite',
  'mpm_event', 'mpm_prefork', 'auth_basic', 'authn_file', 'autoindex', 'headers', 'http2', 'reqtimeout',
];

/**
 * Error message templates. Syntax: `[tags] (errno)Description: file.c(line): AHnnnnn: text {placeholder}`, every
 * part but the text optional:
 * - tags, comma separated: a module name (else one of `modules` is picked), levels the message is written at
 *   (a line of level L picks among the templates tagged L; untagged templates serve any level without one),
 *   and `noclient` for server-wide messages (no `[client ...]` part);
 * - `(errno)Description: `: an APR error, written before the client in 2.4 and after it in 2.2;
 * - `AHnnnnn: `: the 2.4 message number (2.2 had none: dropped there);
 * - placeholders: {docroot} {path} {vhost} {host} {backend} {user} {client} {n}; `{{` and `}}` write a brace.
 * Source locations (`mod_ssl.c(2385): `) are written at debug and trace levels in 2.4, as Apache does.
 */
export const DEFAULT_ERROR_MESSAGES = [
  '[core,error,info] AH00128: File does not exist: {docroot}{path}',
  '[authz_core,error] AH01630: client denied by server configuration: {docroot}{path}',
  "[proxy_fcgi,error] AH01071: Got error 'PHP message: PHP Fatal error:  Uncaught Error: Call to undefined function mysql_connect() in {docroot}/includes/db.php:42\\nStack trace:\\n#0 {{main}}\\n  thrown in {docroot}/includes/db.php on line 42'",
  '[proxy_fcgi,warn] AH01071: Got error \'PHP message: PHP Warning:  Undefined array key "id" in {docroot}/product.php on line 17\'',
  "[proxy_fcgi,error] AH01071: Got error 'Primary script unknown'",
  "[core,error] AH00124: Request exceeded the limit of 10 internal redirects due to probable configuration error. Use 'LimitInternalRecursion' to increase the limit if necessary. Use 'LogLevel debug' to get a backtrace.",
  '[autoindex,error] AH01276: Cannot serve directory {docroot}/uploads/: No matching DirectoryIndex (index.html,index.php) found, and server-generated directory index forbidden by Options directive',
  '[ssl,error] AH02032: Hostname {vhost} provided via SNI and hostname {host} provided via HTTP have no compatible SSL setup',
  '[core,error] (13)Permission denied: AH00035: access to {path} denied (filesystem path \'{docroot}{path}\') because search permissions are missing on a component of the path',
  "[core,crit] (13)Permission denied: AH00529: {docroot}/.htaccess pcfg_openfile: unable to check htaccess file, ensure it is readable and that '{docroot}/' is executable",
  "[core,alert] {docroot}/.htaccess: Invalid command 'RewriteEngine', perhaps misspelled or defined by a module not included in the server configuration",
  '[proxy,error] (111)Connection refused: AH00957: HTTP: attempt to connect to {backend} (localhost) failed',
  '[proxy,error] AH00959: ap_proxy_connect_backend disabling worker for ({backend}) for 60s',
  '[proxy_http,error] (70007)The timeout specified has expired: AH01102: error reading status line from remote server localhost:8080',
  '[proxy,error] AH00898: Error reading from remote server returned by {path}',
  '[cgid,error] AH01264: script not found or unable to stat: /usr/lib/cgi-bin/test.cgi',
  '[auth_basic,error] AH01618: user {user} not found: {path}',
  '[auth_basic,error] AH01617: user {user}: authentication failure for "{path}": Password Mismatch',
  '[reqtimeout,info] AH01382: Request header read timeout',
  '[ssl,info] AH01964: Connection to child {n} established (server {vhost}:443)',
  '[core,info] (104)Connection reset by peer: AH01075: Error dispatching request to : (passing brigade to output filters)',
  "[php,error] PHP Parse error:  syntax error, unexpected token \"}\" in {docroot}/index.php on line {n}",
  '[php7,warn] PHP Warning:  session_start(): Session cannot be started after headers have already been sent in {docroot}/login.php on line {n}',
  '[rewrite,debug] mod_rewrite.c(483): AH00670: Options FollowSymLinks and SymLinksIfOwnerMatch are both off, so the RewriteRule directive is also forbidden due to its similar ability to circumvent directory restrictions : {docroot}{path}',
  '[ssl,debug] ssl_engine_kernel.c(2385): AH02043: SSL virtual host for servername {vhost} found',
  '[rewrite,trace1,trace2,trace3,trace4,trace5,trace6,trace7,trace8] mod_rewrite.c(477): [perdir {docroot}/] strip per-dir prefix: {docroot}{path} -> {path}',
  '[mpm_event,notice,noclient] AH00489: Apache/2.4.58 (Ubuntu) OpenSSL/3.0.13 configured -- resuming normal operations',
  "[core,notice,noclient] AH00094: Command line: '/usr/sbin/apache2'",
  '[mpm_event,notice,noclient] AH00491: caught SIGTERM, shutting down',
  '[mpm_prefork,notice,noclient] AH00169: caught SIGTERM, shutting down',
  '[mpm_event,notice,noclient] AH00493: SIGUSR1 received.  Doing graceful restart',
  '[ssl,warn,noclient] AH01909: {vhost}:443:0 server certificate does NOT include an ID which matches the server name',
  '[core,warn,noclient] AH00098: pid file /var/run/apache2/apache2.pid overwritten -- Unclean shutdown of previous Apache run?',
  '[mpm_event,error,noclient] AH00484: server reached MaxRequestWorkers setting, consider raising the MaxRequestWorkers setting',
  '[mpm_event,warn,noclient] AH00488: long lost child came home! (pid {n})',
  '[core,emerg,noclient] (98)Address already in use: AH00072: make_sock: could not bind to address [::]:443',
  '[core,alert,noclient] AH00050: Child {n} returned a Fatal error... Apache is exiting!',
  '[ssl,emerg,noclient] AH02572: Failed to configure at least one certificate and key for {vhost}:443',
];

export const DEFAULT_CONTENT: ContentOptions = {
  statuses: DEFAULT_STATUSES,
  methods: DEFAULT_METHODS,
  paths: DEFAULT_PATHS,
  zipf_s: 1.1,
  query_ratio: 0.15,
  queries: DEFAULT_QUERIES,
  clients: { size: 1000, distribution: 'zipf', s: 1.1, p: 0.3, ipv6_ratio: 0.1 },
  users: DEFAULT_USERS,
  user_ratio: 0.03,
  referers: DEFAULT_REFERERS,
  user_agents: DEFAULT_USER_AGENTS,
  bytes: { median: 2500, sigma: 1.6 },
  vhosts: ['www.example.com', 'example.com', 'api.example.com', 'static.example.com'],
  ports: [443, 80],
  levels: DEFAULT_LEVELS,
  modules: DEFAULT_MODULES,
  error_messages: DEFAULT_ERROR_MESSAGES,
  docroot: DEFAULT_DOCROOT,
  response_time: DEFAULT_RESPONSE_TIME,
};

/** The defaults with what the user set on top (one level deep into `clients`, `bytes` and `response_time`;
 * lists and weight tables are replaced, not merged). */
export function resolveContent(partial: ContentInput | undefined): ContentOptions {
  const p = partial ?? {};
  return {
    ...DEFAULT_CONTENT,
    ...p,
    clients: { ...DEFAULT_CONTENT.clients, ...p.clients },
    bytes: { ...DEFAULT_CONTENT.bytes, ...p.bytes },
    response_time: { ...DEFAULT_RESPONSE_TIME, ...p.response_time },
  };
}
