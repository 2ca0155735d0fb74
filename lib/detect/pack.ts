// The default rule pack: what `type: detect` runs when no rules are listed. Each rule is plain Visor config (a
// `when` condition in the expression language and bucket settings), so a user can read, disable or tune it, or copy
// it into their own `rules`. The descriptions state each rule's false-positive trade-off; they are the README's.
import { DEFAULT_STATIC_EXTENSIONS } from '../insight/index.js';
import type { RuleSpec } from './rule.js';

/** A regex as an expression-language string literal: every backslash doubled (the language reads `\\` as one). */
const lit = (regex: string): string => `"${regex.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const matches = (fields: readonly string[], regex: string): string => fields.map((f) => `${f} =~ ${lit(regex)}`).join(' or ');

/** A cheap regex (a character class, no case folding: a few tens of ns) that every match of `regex` also matches,
 * tested first: case-insensitive alternations cost 250 to 1100 ns per event on this machine (measured per rule
 * on 200,000 generated lines), and most requests hold none of the characters an attack needs. */
const guarded = (field: string, guard: string, regex: string): string => `(${field} =~ ${lit(guard)} and ${field} =~ ${lit(regex)})`;

const STATIC = String.raw`(?i)\.(${DEFAULT_STATIC_EXTENSIONS.join('|')})$`;
/** Login and admin entry points brute-forced by bots (WordPress, Joomla, phpMyAdmin, generic). */
const LOGIN = String.raw`(?i)(wp-login\.php|xmlrpc\.php|/wp-admin|/administrator|/phpmyadmin|/login|/signin|/user/login|/admin)`;
const SP = String.raw`(\s|\+|%20|/\*.*?\*/)`;

export const SENSITIVE_FILES = String.raw`(?i)(/\.(env(\.[\w-]+)?|git|svn|hg|bzr|cvs|htpasswd|htaccess|htdigest|DS_Store|aws|ssh|passwd|pwd|rhosts|profile|bashrc|bash_history|sh_history|zsh_history|mysql_history|psql_history|listings?|subversion|npmrc|pypirc|dockercfg|docker|kube|idea|vscode)(/|$)|/id_(rsa|dsa|ecdsa|ed25519)|wp-config\.php.|/config\.php.|\.(sql|sql\.gz|sql\.zip|sqlite|mdb|bak|old|orig|save|swp|backup)$|~$|/(backup|dump|db|database|www|wwwroot|htdocs|site)[^/]*\.(zip|tar|tar\.gz|tgz|gz|7z|rar)$|/etc/(passwd|shadow))`;
/** Plain and encoded `../`, overlong UTF-8, and Apache 2.4.49/50's CVE-2021-41773 (`.%2e/`) and CVE-2021-42013 (`%%32%65`). */
export const TRAVERSAL = String.raw`(?i)(\.\./|\.\.\\|\.\.%2f|\.\.%5c|%2e%2e(/|\\|%2f|%5c)|\.%2e(/|%2f)|%2e\.(/|%2f)|%%32%65|%252e|%c0%ae|%c0%af|%e0%80%ae)`;
/** Error-log messages that quote the client's request target as sent: Apache 2.4's AH00126 `Invalid URI in request
 * GET /... HTTP/1.1` (2.2 writes it unnumbered; trunk quotes the URI and the line), AH10244 `invalid URI path (/...)`
 * (2.4.51+, the CVE-2021-42013 fix), AH00127 `Cannot map GET /... HTTP/1.1 to file` and AH00026 `found %2f (encoded
 * '/') in URI path (/...), returning 404`. Only these are searched for traversal: other messages name files on
 * disk or quote application code (PHP's `include(../lib/x.php): failed to open stream`), where `../` is benign. */
export const REQUEST_IN_ERROR = String.raw`(?i)^(invalid URI (in request|path) |cannot map |found %2f \(encoded '/'\) in URI path )`;
export const SQLI = String.raw`(?i)(union${SP}+(all${SP}+)?select${SP}|select${SP}+.{0,80}${SP}from${SP}|information_schema|sleep(\(|%28)\s*\d|benchmark(\(|%28)|waitfor${SP}+delay|('|%27)${SP}*(or|and)${SP}+('|%27)?\d+('|%27)?${SP}*(=|%3d)|('|%27)${SP}*(--|%2d%2d|#|%23)|order${SP}+by${SP}+\d+${SP}*(--|%2d%2d|#|%23))`;
export const XSS = String.raw`(?i)((<|%3c)${SP}*(script|svg|iframe|img${SP}+src|body${SP}+onload)|javascript(:|%3a)|on(error|load|mouseover)${SP}*(=|%3d)|document\.(cookie|domain)|alert(\(|%28)\s*(1|document|'|%27|"|%22))`;
export const EXPLOITS = String.raw`(?i)(\$\{jndi:|\$\{\$\{|%24%7bjndi|\$%7bjndi|%24\{jndi|\(\)\s*\{\s*:\s*;\s*\}|\(\)%20%7b|php://(input|filter)|data://text|expect://|phar://|zip://|(;|%3b|\||%7c|&&|%26%26)\s*(wget|curl|nc|bash|sh|chmod|busybox)(\s|\+|%20)|\$\((wget|curl|id|cat)|%24%28|/bin/(ba)?sh|cmd\.exe|powershell|base64_decode\(|eval\(|allow_url_include)`;
export const SCANNER_UAS = String.raw`(?i)(sqlmap|nikto|masscan|zgrab|nuclei|nmap|dirbuster|gobuster|wpscan|feroxbuster|ffuf|wfuzz|acunetix|netsparker|openvas|nessus|jaeles|whatweb|zmeu|morfeus|fimap|havij|httpx - open-source|l9explore|dirb/|hydra)`;
/** In headers (user agent, referer) the payloads are Log4Shell and Shellshock: agents hold ( ; and : anyway.
 * Each needs a { (or an encoded one, %7b), which contains() finds far faster than the regex (3.9% of the detect
 * profile without the guard). */
export const HEADER_EXPLOITS = String.raw`(\$\{|\$%7[bB]|%24%7[bB]|\(\)\s*\{)`;
/** The error-log lines fail2ban's apache-auth filter reads. */
export const AUTH_FAILURES = String.raw`(user .* not found|Password Mismatch|authentication failure for|client denied by server configuration)`;
export const ERROR_SIGNALS = String.raw`(Invalid URI in request|URI too long|ModSecurity: Access denied|request failed: error reading the headers)`;

export const DEFAULT_PACK: readonly RuleSpec[] = [
  {
    name: 'probing',
    description: 'One client asks for more than 15 distinct non-static paths answered 400, 403 or 404 within about two and a half minutes (one leaks every 10 s). Trade-off: a site with many broken links crawled by one client, or a client behind a large NAT, can reach it; static files (images, scripts, fonts) never count.',
    when: `status in (400, 403, 404) and path !~ ${lit(STATIC)}`,
    distinct: 'path', capacity: 15, leak: 10_000, severity: 'warning',
  },
  {
    name: 'sensitive-files',
    description: 'A request for a file no site serves on purpose: .env, .git/, .svn/, .htpasswd, .htaccess, shell histories and profiles, .ssh/, .aws/, keys, editor and backup copies (wp-config.php~, *.bak, *.old, *.swp, *.sql, backup*.zip). Three such requests fire (CrowdSec\'s http-sensitive-files uses a bucket too). Trade-off: a site that really publishes *.sql or *.bak downloads must disable it or allow those clients.',
    when: matches(['path'], SENSITIVE_FILES),
    capacity: 2, leak: 60_000, severity: 'warning',
  },
  {
    name: 'path-traversal',
    description: 'Plain or encoded ../ in the request target, overlong UTF-8 dots, and Apache 2.4.49/2.4.50\'s CVE-2021-41773 (/.%2e/) and CVE-2021-42013 (%%32%65, %252e); in the access log\'s url, and in the error-log lines that quote the request as sent (AH00126 Invalid URI in request, AH10244 invalid URI path, AH00127 Cannot map ... to file, AH00026 found %2f ... in URI path), where Apache logs the requests it refuses (400, 403, 404). One request fires; one logged in both logs fires once (the second line falls in the quiet period). Trade-off: none known for browsers, which resolve ../ before sending; other error messages are not searched (a PHP include(../x.php) warning is benign).',
    when: `((contains(url, "..") or contains(url, "%")) and url =~ ${lit(TRAVERSAL)}) or (message_text =~ ${lit(REQUEST_IN_ERROR)} and message_text =~ ${lit(TRAVERSAL)})`,
    severity: 'critical',
  },
  {
    name: 'sql-injection',
    description: 'SQL injection probe indicators in the request target: UNION SELECT, SELECT ... FROM, information_schema, sleep(N), benchmark(, WAITFOR DELAY, quote-OR-digit comparisons (\' or 1=1), a quote followed by a comment, ORDER BY N--. One request fires. Trade-off: a search form whose query is literally "select x from y" fires; plain words (select, union, order) alone never do.',
    when: guarded('url', String.raw`[(%'+#\s]`, SQLI),
    severity: 'critical',
  },
  {
    name: 'xss-probe',
    description: 'Cross-site scripting probe indicators in the request target: <script, <svg, <iframe, <img src, javascript:, onerror= / onload=, document.cookie, alert(1). One request fires. Trade-off: a site that passes HTML in query strings (a CMS preview) fires on it.',
    when: guarded('url', String.raw`[<%(:]|document\.`, XSS),
    severity: 'critical',
  },
  {
    name: 'exploit-strings',
    description: 'Exploit payloads in the request target, user agent, referer or an error-log message: Log4Shell ${jndi: (and encoded), Shellshock () { :; } and its AH01215 "error importing function definition", PHP wrappers (php://input, data://, expect://, phar://), command injection (; wget, | sh, $(curl, /bin/sh, cmd.exe, base64_decode(, allow_url_include). One event fires. Trade-off: none known for ordinary traffic.',
    when: `${guarded('url', String.raw`[$(;|&%:]|/bin/|cmd\.exe|powershell|allow_url`, EXPLOITS)} or ${['user_agent', 'referer'].map((f) => `((contains(${f}, "{") or contains(${f}, "%7")) and ${f} =~ ${lit(HEADER_EXPLOITS)})`).join(' or ')} or message_text =~ ${lit(EXPLOITS)} or message_text =~ "error importing function definition"`,
    severity: 'critical',
  },
  {
    name: 'scanner-user-agent',
    description: 'The user agent of an attack or audit tool (sqlmap, Nikto, masscan, zgrab, Nuclei, Nmap, DirBuster, gobuster, WPScan, ffuf, wfuzz, Acunetix, Netsparker, OpenVAS, Nessus, ZmEu, Hydra ...), or bot_category "scanner" when the bot filter ran. One request fires. Trade-off: your own authorised audits fire (allow their addresses).',
    when: `bot_category == "scanner" or ${matches(['user_agent'], SCANNER_UAS)}`,
    severity: 'warning',
  },
  {
    name: 'aggressive-crawl',
    description: 'One client requests more than 100 distinct non-static pages beyond a sustained 2 per second (one leaks every 500 ms), i.e. a crawl far faster than any reader (distinct paths, as CrowdSec\'s http-crawl-non_statics: a busy proxy or NAT address asks for the same popular pages again and again, a crawler for new ones). Trade-off: a search engine crawling hard, a load test over many URLs, or a large site browsed by many users behind one address (allow them); static files never count.',
    when: `path !~ ${lit(STATIC)}`,
    distinct: 'path', capacity: 100, leak: 500, severity: 'notice',
  },
  {
    name: 'brute-force',
    description: 'More than 5 authentication failures within about a minute (one leaks every 10 s, CrowdSec\'s http-generic-bf values): 401 or 403 answered to a POST or to a login/admin path (wp-login.php, xmlrpc.php, /administrator, /login ...), and the error-log lines fail2ban\'s apache-auth reads (user ... not found, Password Mismatch, authentication failure, client denied by server configuration). Trade-off: a user who mistypes a password six times in a minute fires; a slow brute force (fail2ban\'s default counts 5 in 10 minutes) does not: set override.brute-force.leak: 2m for it (on the generated benign day, a 1m leak fired 2 per million requests on its busiest address).',
    when: `(status in (401, 403) and (method == "POST" or path =~ ${lit(LOGIN)})) or message_text =~ ${lit(AUTH_FAILURES)}`,
    capacity: 5, leak: 10_000, severity: 'warning',
  },
  {
    name: 'error-log-signals',
    description: 'Error-log lines that only malformed or hostile requests cause: Invalid URI in request (AH00126), URI too long (AH00565), ModSecurity "Access denied". More than 2 within about 3 minutes fire. Trade-off: a ModSecurity rule with its own false positives is repeated here.',
    when: `message_text =~ ${lit(ERROR_SIGNALS)} or error_code in ("AH00126", "AH00565")`,
    capacity: 2, leak: 60_000, severity: 'warning',
  },
  {
    name: 'fake-crawler',
    description: 'With verify_crawlers on: a client whose user agent claims a search-engine crawler (Googlebot, bingbot, Applebot, YandexBot, Baiduspider, Amazonbot) from an address that fails the operator\'s reverse DNS check (no PTR record, a name outside the operator\'s domains, or a name that does not resolve back to the address). One request fires. Trade-off: SEO tools set to send a crawler\'s user agent fire (allow them); a DNS failure or timeout never fires (crawler_verified is null then, not false).',
    when: 'crawler_verified == false',
    severity: 'notice',
  },
];
