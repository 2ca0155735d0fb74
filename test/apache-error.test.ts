// apache_error against every real error log in ../shared/corpora (read in place), and the tricky cases of
// the spec as unit tests. Ground truth (Loghub's structured CSV, Elastic's *-expected.json, CrowdSec's
// parser.assert) is compared field by field where it exists; the RaspIM logs, which have none, are checked
// line by line against an independent reading (a regex over the Apache 2.2 layout) and hand-read spot checks.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Event, FilterInstance, PluginContext } from '../core/index.js';
import { ComponentTimers } from '../core/runtime/context.js';
import { createLogger, createLogSink } from '../core/runtime/logger.js';
import { MetricsHub } from '../core/runtime/metrics.js';
import { compileErrorFormat } from '../lib/apache/index.js';
import errorPlugin from '../plugins/filters/apache_error.js';
import {
  assertUnparsed, corpus, CORPORA, pluginContext as contextFor, readLines, runFilterLines, type FileRun, type LineEvent,
} from './support/corpora.js';
import { ROOT } from './support/helpers.js';
import { startPipeline } from './support/pipeline-harness.js';


/** A parsed (or unparsed) event as the tests read it. */
type Parsed = LineEvent;

interface Options {
  timezone?: string;
  error_log_format?: string;
  unescape?: boolean;
  field?: string;
}

// ---------------------------------------------------------------------------------------------- helpers




async function createFilter(options: Options, hub = new MetricsHub()): Promise<FilterInstance> {
  return (await errorPlugin.create({ field: 'message', timezone: 'UTC', unescape: true, ...options }, contextFor('errors', 'apache_error', hub))) as FilterInstance;
}

/** Every line through the real filter, as a pipeline hands them over (runFilterLines); checks also that the
 * parser's own counters say the same. */
async function runLines(lines: string[], options: Options = {}): Promise<FileRun> {
  const hub = new MetricsHub();
  const run = runFilterLines(await createFilter(options, hub), lines);
  const custom = hub.snapshot().errors.custom;
  assert.equal(custom.visor_parser_parsed_lines_total ?? 0, run.parsed.size, 'parsed counter');
  assert.equal(custom.visor_parser_unparsed_lines_total ?? 0, run.unparsed.size, 'unparsed counter');
  return run;
}

/** The exact set of unparsed lines with their reasons (assertUnparsed); and no field was added to them. */
function assertUnparsedBare(run: FileRun, expected: Record<number, string>): void {
  assertUnparsed(run, expected);
  for (const [n, e] of run.unparsed) assert.deepEqual(Object.keys(e).sort(), ['message', 'n', 'parse_error'], `line ${n}`);
}

/** One line through the filter: its fields, or the reason it went to _unparsed. */
async function parseOne(line: unknown, options: Options = {}): Promise<Parsed | string> {
  const filter = await createFilter(options);
  let reason: string | undefined;
  const event: Event = { n: 1, [options.field ?? 'message']: line };
  const out = filter.process([event], { emit: (events) => { reason = events[0].parse_error as string; } }) as Event[];
  return out.length === 1 ? (out[0] as Parsed) : reason!;
}

async function fields(line: string, options: Options = {}): Promise<Parsed> {
  const r = await parseOne(line, options);
  assert.equal(typeof r, 'object', `expected ${JSON.stringify(line)} to parse, got ${JSON.stringify(r)}`);
  return r as Parsed;
}

function pick(e: Parsed, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, e[k]]));
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** `Sun Dec 04 04:47:44 2005` (or `...44.123456 2005`) read as UTC, by a regex and Date.UTC (independent of the parser's code). */
function ctimeUtc(text: string): number {
  const m = /^\w{3} (\w{3}) (\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{6}))? (\d{4})$/.exec(text);
  assert.ok(m, `not a ctime: ${text}`);
  const micros = m[6] === undefined ? 0 : Number(m[6]);
  return Date.UTC(Number(m[7]), MONTHS[m[1]], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) + micros / 1000;
}

/** Apache's error-log escaping undone (\\ \" \n \r \t \b \v and \xhh bytes, decoded as UTF-8): an independent copy. */
function apacheUnescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const hex = s.slice(i + 2, i + 4);
    if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (s[i] === '\\' && '\\"ntrbv'.includes(s[i + 1] ?? '@')) {
      bytes.push({ '\\': 92, '"': 34, n: 10, t: 9, r: 13, b: 8, v: 11 }[s[i + 1] as '\\']);
      i++;
    } else bytes.push(...Buffer.from(s[i]));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Every error-log file of the corpora, relative to CORPORA: the files the tests below must all cover. */
const ERROR_LOG_FILES = [
  'crowdsec-hub-tests/apache-cve-2021-41773/apache-cve-2021-41773.log', // mixed: 1 error line, 2 access lines
  'crowdsec-hub-tests/apache2-logs/apache2-logs.log', // mixed: 2 error lines, 7 access lines
  'elastic-integrations-apache-tests/error/test-error-basic.inputs-from-expected.log',
  'elastic-integrations-apache-tests/error/test-error-basic.log',
  'elastic-integrations-apache-tests/error/test-error-darwin.log',
  'elastic-integrations-apache-tests/error/test-error-trace.log',
  'elastic-integrations-apache-tests/error/test-error-ubuntu.inputs-from-expected.log',
  'elastic-integrations-apache-tests/error/test-error-ubuntu.log',
  'loghub-apache-error/Apache_2k.log',
  'loghub-apache-error/logparser-corrected/Apache_2k.log',
  'raspim-raspbian-apache22/error.log',
  'raspim-raspbian-apache22/error.log.1',
  'raspim-raspbian-apache22/error.log.2.gz',
];

/** Files holding at least one line that starts like an error-log line (`[Www Mmm ` or `[yyyy-mm-dd `). */
function findErrorLogFiles(dir: string, rel = ''): string[] {
  const found: string[] = [];
  for (const d of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) found.push(...findErrorLogFiles(dir, r));
    else if (!/\.(csv|json|txt|md|yaml|assert)$|LICENSE/.test(d.name) && readLines(path.join(dir, r)).some((l) => /^\[(\w{3} \w{3} |\d{4}-\d\d-\d\d )/.test(l))) found.push(r);
  }
  return found.sort();
}

// ------------------------------------------------------------------------------------------ the corpora

describe('apache_error on every error log of the corpora', function () {
  this.timeout(60000);

  it('knows every error-log file there is (a new one makes this fail until a test covers it)', function () {
    const base = corpus(this, '');
    assert.deepEqual(findErrorLogFiles(base), ERROR_LOG_FILES);
  });
});

describe('apache_error against Loghub ground truth (loghub-apache-error, Apache 2.0, CRLF)', function () {
  this.timeout(60000);

  /** LineId,Time,Level,Content,EventId,EventTemplate; Content may hold commas, the last two columns do not. */
  function readStructured(file: string): Array<{ time: string; level: string; content: string; template: string }> {
    return readLines(file).slice(1).map((row) => {
      const r = row.replace(/\r$/, '');
      const [, time, level] = r.split(',', 3);
      const start = r.indexOf(',', r.indexOf(',', r.indexOf(',') + 1) + 1) + 1;
      const last = r.lastIndexOf(',');
      const eventIdStart = r.lastIndexOf(',', last - 1);
      return { time, level, content: r.slice(start, eventIdStart), template: r.slice(last + 1) };
    });
  }

  for (const [log, csv] of [['Apache_2k.log', 'Apache_2k.log_structured.csv'], ['logparser-corrected/Apache_2k.log', 'logparser-corrected/Apache_2k.log_structured_corrected.csv']]) {
    it(`${log}: all 2,000 lines parse; level, time and content equal ${csv} on every line`, async function () {
      const dir = corpus(this, 'loghub-apache-error');
      const run = await runLines(readLines(path.join(dir, log)), { timezone: 'UTC' });
      const truth = readStructured(path.join(dir, csv));
      assert.equal(run.lines.length, 2000);
      assert.equal(truth.length, 2000);
      assertUnparsedBare(run, {});
      for (const [n, e] of run.parsed) {
        const t = truth[n - 1];
        const where = `line ${n}: ${run.lines[n - 1]}`;
        assert.equal(e.level, t.level, where);
        assert.equal(e.timestamp, ctimeUtc(t.time), where);
        // Loghub's Content is everything after the level: it keeps the `[client ...] ` part that we split off.
        const content = (e.client_ip === null ? '' : `[client ${e.client_ip}] `) + (e.message_text as string);
        assert.equal(content, t.content, where);
        assert.equal(e.client_ip !== null, t.template.startsWith('[client <*>]'), `${where}: a client exactly on the [client <*>] template`);
        const template = new RegExp(`^${t.template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<\\\*>/g, '.+?')}$`);
        assert.match(content, template, `${where}: the content fits its EventTemplate`);
        assert.deepEqual(pick(e, ['module', 'pid', 'tid', 'client_port', 'errno', 'error_code', 'referer']),
          { module: null, pid: null, tid: null, client_port: null, errno: null, error_code: null, referer: null }, where);
        assert.ok(!(e.message_text as string).endsWith('\r'), `${where}: the CR of CRLF is no part of the message`);
      }
      const byLevel: Record<string, number> = {};
      for (const e of run.parsed.values()) byLevel[e.level as string] = (byLevel[e.level as string] ?? 0) + 1;
      assert.deepEqual(byLevel, { notice: 1405, error: 595 }); // as `cut -d, -f3` of the CSV counts them
    });
  }
});

describe('apache_error on RaspIM (Apache 2.2.22 Debian, Europe/London, no ground truth: checked against an independent reading)', function () {
  this.timeout(60000);

  /** The 2.2 layout read by one regex: [time] [level] ([client ip] )?((errno)text: )?message(, referer: r)? */
  const ORACLE = /^\[\w{3} (\w{3}) (\d\d) (\d\d):(\d\d):(\d\d) (\d{4})\] \[(\w+)\] (?:\[client ([^\]]+)\] )?(?:\((\d+)\)([^:]*): )?(.*?)(?:, referer: (.*))?$/s;

  /** Local time in Europe/London in spring 2014: GMT until Sunday 30 March 01:00 GMT, BST (+1) from then. */
  function londonMs(m: RegExpExecArray): number {
    const asUtc = Date.UTC(Number(m[6]), MONTHS[m[1]], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
    return asUtc >= Date.UTC(2014, 2, 30, 2) ? asUtc - 3600000 : asUtc;
  }

  function assertOracle(run: FileRun): void {
    for (const [n, e] of run.parsed) {
      const line = run.lines[n - 1];
      const m = ORACLE.exec(line);
      assert.ok(m, `line ${n}: the oracle cannot read ${JSON.stringify(line)}`);
      // The oracle takes the first ", referer: ", the parser the last: equal unless a line holds two.
      assert.deepEqual(pick(e, ['timestamp', 'level', 'module', 'pid', 'tid', 'client_ip', 'client_port', 'errno', 'errno_text', 'error_code', 'message_text', 'referer']), {
        timestamp: londonMs(m), level: m[7], module: null, pid: null, tid: null, client_ip: m[8] ?? null, client_port: null,
        errno: m[9] === undefined ? null : Number(m[9]), errno_text: m[10] ?? null, error_code: null,
        message_text: apacheUnescape(m[11]), referer: m[12] === undefined ? null : apacheUnescape(m[12]),
      }, `line ${n}: ${JSON.stringify(line)}`);
    }
  }

  const files: Array<[string, number, Record<number, string>, Record<string, number>]> = [
    ['error.log', 26, {}, { notice: 1, error: 25 }],
    ['error.log.1', 3065, { 3065: 'no_timestamp' }, { notice: 38, error: 3026 }], // counts by `grep -c '^\[[^]]*\] \[notice\]'`
    ['error.log.2.gz', 3166, { 3166: 'no_timestamp' }, { notice: 102, error: 3063 }],
  ];
  for (const [file, count, unparsed, byLevel] of files) {
    it(`${file}: ${count} lines, all parse but 2.2's start-up notice (no AH code: nothing tells it from other stderr); fields equal the oracle's`, async function () {
      const dir = corpus(this, 'raspim-raspbian-apache22');
      const run = await runLines(readLines(path.join(dir, file)), { timezone: 'Europe/London' });
      assert.equal(run.lines.length, count);
      // `apache2: Could not reliably determine the server's fully qualified domain name...`: stderr text without time or level.
      assertUnparsedBare(run, unparsed);
      for (const n of Object.keys(unparsed)) assert.match(run.lines[Number(n) - 1], /^apache2: Could not reliably determine/);
      const levels: Record<string, number> = {};
      for (const e of run.parsed.values()) levels[e.level as string] = (levels[e.level as string] ?? 0) + 1;
      assert.deepEqual(levels, byLevel);
      assertOracle(run);
    });
  }

  it('hand-read lines: errno prefix after the client (2.2 order), referer suffix, escaped binary junk, BST', async function () {
    const dir = corpus(this, 'raspim-raspbian-apache22');
    const run = await runLines(readLines(path.join(dir, 'error.log.1')), { timezone: 'Europe/London' });
    assert.deepEqual(pick(run.parsed.get(25)!, ['timestamp', 'client_ip', 'errno', 'errno_text', 'message_text']), {
      timestamp: Date.parse('2014-04-02T07:22:57+01:00'), client_ip: '192.168.5.85', errno: 70007,
      errno_text: 'The timeout specified has expired', message_text: 'Error reading chunk  ', // Apache's two trailing spaces kept
    });
    const withReferer = [...run.parsed.values()].filter((e) => e.referer !== null);
    assert.equal(withReferer.length, 1290);
    assert.ok(withReferer.every((e) => !(e.message_text as string).includes(', referer: ')));
    // `Invalid URI in request \xd6\xf5L\x1a...L\r\xdb...`: \r and bytes decoded; the raw line stays in message.
    const junk = run.parsed.get(2254)!;
    assert.ok((junk.message_text as string).startsWith('Invalid URI in request \ufffd\ufffdL\x1a'));
    assert.ok((junk.message_text as string).includes('L\r\ufffd'));
    assert.equal(junk.message, run.lines[2253]);
    const gz = await runLines(readLines(path.join(dir, 'error.log.2.gz')), { timezone: 'Europe/London' });
    assert.equal(gz.parsed.get(1)!.timestamp, Date.parse('2014-03-26T22:49:59Z')); // GMT before 30 March
    assert.equal(gz.parsed.get(46)!.message_text, 'PHP Fatal error:  Call to a member function fetch_object() on a non-object in /var/www/chat/php/classes/Chat.class.php on line 102');
    assert.equal(gz.parsed.get(46)!.referer, 'http://192.168.5.1/chat/ajax-chat.html');
  });
});

describe('apache_error against Elastic ground truth (elastic-integrations-apache-tests/error)', function () {
  this.timeout(60000);

  interface Expected {
    '@timestamp': string;
    message: string;
    log: { level: string };
    event: { timezone: string; original: string };
    apache?: { error?: { module?: string } };
    process?: { pid?: number; thread?: { id?: number } };
    source?: { address?: string; ip?: string; port?: number };
    http?: { request?: { referrer?: string } };
  }

  /** Elastic's event.timezone (`GMT+2`) as our timezone option. */
  function zoneOption(tz: string): string {
    const m = /^GMT([+-])(\d{1,2})$/.exec(tz);
    assert.ok(m, `unexpected event.timezone ${tz}`);
    return `${m[1]}${m[2].padStart(2, '0')}:00`;
  }

  for (const name of ['test-error-basic', 'test-error-ubuntu']) {
    it(`${name}: every line equals ${name}.log-expected.json in each field Elastic extracts`, async function () {
      const dir = corpus(this, 'elastic-integrations-apache-tests/error');
      const expected = (JSON.parse(readFileSync(path.join(dir, `${name}.log-expected.json`), 'utf8')) as { expected: Expected[] }).expected;
      const lines = readLines(path.join(dir, `${name}.inputs-from-expected.log`));
      assert.equal(lines.length, expected.length);
      const zones = new Set(expected.map((x) => x.event.timezone));
      assert.deepEqual([...zones], ['GMT+2']);
      const run = await runLines(lines, { timezone: zoneOption('GMT+2') });
      assertUnparsedBare(run, {});
      for (const [n, e] of run.parsed) {
        const x = expected[n - 1];
        const where = `line ${n}: ${lines[n - 1]}`;
        assert.equal(x.event.original, lines[n - 1]);
        // Elastic keeps milliseconds; we keep the microseconds as the fraction of the millisecond.
        assert.equal(Math.floor(e.timestamp as number), Date.parse(x['@timestamp']), where);
        assert.equal(e.level, x.log.level, where);
        assert.equal(e.module, x.apache?.error?.module ?? null, where);
        assert.equal(e.pid, x.process?.pid ?? null, where);
        assert.equal(e.tid, x.process?.thread?.id ?? null, where);
        assert.equal(e.client_ip, x.source?.address ?? null, where);
        assert.equal(e.client_ip, x.source?.ip ?? null, where);
        assert.equal(e.client_port, x.source?.port ?? null, where);
        assert.equal(e.referer, x.http?.request?.referrer ?? null, where);
        // Elastic's message keeps the AH code and the referer suffix; ours are fields of their own.
        const message = (e.error_code ? `${e.error_code}: ` : '') + (e.message_text as string) + (e.referer ? `, referer: ${e.referer}` : '');
        assert.equal(message, x.message, where);
      }
    });
  }

  it('test-error-ubuntu.log (no expected file of its own) is the same input as test-error-ubuntu.inputs-from-expected.log', function () {
    const dir = corpus(this, 'elastic-integrations-apache-tests/error');
    assert.deepEqual(readLines(path.join(dir, 'test-error-ubuntu.log')), readLines(path.join(dir, 'test-error-ubuntu.inputs-from-expected.log')));
  });

  it('test-error-basic.log (newer, no expected output): hand-read fields; the unbracketed AH00558 start-up record parses without time', async function () {
    const dir = corpus(this, 'elastic-integrations-apache-tests/error');
    const run = await runLines(readLines(path.join(dir, 'test-error-basic.log')), { timezone: '+02:00' });
    assert.equal(run.lines.length, 7);
    assertUnparsedBare(run, {});
    assert.deepEqual(pick(run.parsed.get(6)!, ['timestamp', 'level', 'module', 'pid', 'tid', 'client_ip', 'client_port', 'errno', 'errno_text', 'error_code', 'message_text', 'referer']), {
      timestamp: null, level: 'warn', module: null, pid: null, tid: null, client_ip: null, client_port: null, errno: null, errno_text: null, error_code: 'AH00558',
      message_text: "apache2: Could not reliably determine the server's fully qualified domain name, using 127.0.1.1. Set the 'ServerName' directive globally to suppress this message",
      referer: null,
    });
    // The same shape (keys, in order) as the timestamped events.
    assert.deepEqual(Object.keys(run.parsed.get(6)!), Object.keys(run.parsed.get(2)!));
    const keys = ['timestamp', 'level', 'module', 'pid', 'tid', 'client_ip', 'client_port', 'error_code', 'message_text'];
    const want: Record<number, unknown[]> = {
      1: ['2016-12-26T16:22:08+02:00', 'error', null, null, null, '192.168.33.1', null, null, 'File does not exist: /var/www/favicon.ico'],
      2: ['2016-12-26T16:15:55.103+02:00', 'notice', 'core', 11379, null, null, null, 'AH00094', "Command line: '/usr/local/Cellar/httpd24/2.4.23_2/bin/httpd'"],
      3: ['2011-09-09T10:42:29.902+02:00', 'error', 'core', 35708, 4328636416, '89.160.20.156', null, null, 'File does not exist: /usr/local/apache2/htdocs/favicon.ico'],
      4: ['2011-09-09T10:42:29.902+02:00', 'error', null, 35708, 4328636416, '89.160.20.156', null, null, 'File does not exist: /usr/local/apache2/htdocs/favicon.ico'],
      5: ['2019-06-27T06:58:09.169+02:00', 'warn', 'include', 15934, null, '89.160.20.156', 12345, 'AH01374', "mod_include: Options +Includes (or IncludesNoExec) wasn't set, INCLUDES filter removed: /test.html"],
      // An ISO-8601 time with its own offset (%{cuz}t, 2.4.55+): the offset wins over the timezone option.
      7: ['2025-07-22T15:45:51.323+02:00', 'notice', 'core', 1, 139958433106048, null, null, 'AH00094', "Command line: 'httpd -D FOREGROUND'"],
    };
    for (const [n, values] of Object.entries(want)) {
      const e = run.parsed.get(Number(n))!;
      const got = pick(e, keys);
      got.timestamp = new Date(Math.floor(e.timestamp as number)).getTime();
      assert.deepEqual(got, Object.fromEntries(keys.map((k, i) => [k, i === 0 ? Date.parse(values[0] as string) : values[i]])), `line ${n}`);
    }
    assert.equal(run.parsed.get(2)!.timestamp, Date.parse('2016-12-26T16:15:55.103+02:00') + 0.786);
    const other = await runLines(run.lines, { timezone: 'America/New_York' });
    assert.equal(other.parsed.get(7)!.timestamp, run.parsed.get(7)!.timestamp, 'the offset on the line, not the option');
  });

  it('test-error-darwin.log and test-error-trace.log: hand-read fields (macOS 2.4.23 prefork, [:notice], ISO time, trace3 with source location)', async function () {
    const dir = corpus(this, 'elastic-integrations-apache-tests/error');
    const darwin = await runLines(readLines(path.join(dir, 'test-error-darwin.log')), { timezone: 'UTC' });
    assertUnparsedBare(darwin, {});
    assert.equal(darwin.lines.length, 4);
    assert.deepEqual(pick(darwin.parsed.get(1)!, ['timestamp', 'module', 'level', 'pid', 'tid', 'error_code', 'message_text']), {
      timestamp: Date.UTC(2016, 11, 26, 16, 15, 55, 103) + 0.522, module: 'mpm_prefork', level: 'notice', pid: 11379, tid: null,
      error_code: 'AH00163', message_text: 'Apache/2.4.23 (Unix) configured -- resuming normal operations',
    });
    assert.equal(darwin.parsed.get(3)!.module, null);
    assert.equal(darwin.parsed.get(4)!.timestamp, Date.parse('2025-07-22T13:45:51.323Z') + 0.61);
    const trace = await runLines(readLines(path.join(dir, 'test-error-trace.log')), { timezone: 'UTC' });
    assertUnparsedBare(trace, {});
    assert.deepEqual(pick(trace.parsed.get(1)!, ['level', 'module', 'pid', 'tid', 'source_file', 'source_line', 'client_ip', 'client_port', 'error_code', 'message_text']), {
      level: 'trace3', module: 'rewrite', pid: 121591, tid: 140413273032448, source_file: 'mod_rewrite.c', source_line: 470,
      client_ip: '10.121.192.8', client_port: 38350, error_code: null,
      message_text: "10.121.192.8 - - [api-dev.onintranet.com/sid#55a374e851c8][rid#7fb438083ac0/initial] applying pattern '^/bankimport/?(.*)$' to uri '/'",
    });
  });
});

describe('apache_error against CrowdSec ground truth (crowdsec-hub-tests, access and error lines mixed)', function () {
  this.timeout(60000);

  /** `results["s01-parse"]["crowdsecurity/apache2-logs"][i].Evt.Parsed["key"] == "value"` lines, by event index. */
  function parsedAssertions(file: string): Map<number, Record<string, string>> {
    const byIndex = new Map<number, Record<string, string>>();
    for (const line of readLines(file)) {
      const m = /^results\["s01-parse"\]\["crowdsecurity\/apache2-logs"\]\[(\d+)\]\.Evt\.Parsed\["(\w+)"\] == "(.*)"$/.exec(line);
      if (!m) continue;
      const fieldsOf = byIndex.get(Number(m[1])) ?? {};
      fieldsOf[m[2]] = JSON.parse(`"${m[3]}"`) as string;
      byIndex.set(Number(m[1]), fieldsOf);
    }
    return byIndex;
  }

  it('apache2-logs.log: the two error lines equal parser.assert; the seven access lines are unparsed (no_timestamp)', async function () {
    const dir = corpus(this, 'crowdsec-hub-tests/apache2-logs');
    const run = await runLines(readLines(path.join(dir, 'apache2-logs.log')));
    assertUnparsedBare(run, { 1: 'no_timestamp', 2: 'no_timestamp', 3: 'no_timestamp', 4: 'no_timestamp', 5: 'no_timestamp', 6: 'no_timestamp', 7: 'no_timestamp' });
    const truth = parsedAssertions(path.join(dir, 'parser.assert'));
    for (const n of [8, 9]) {
      const t = truth.get(n - 1)!;
      const e = run.parsed.get(n)!;
      const where = `line ${n}: ${run.lines[n - 1]}`;
      assert.ok(t && t.loglevel, `parser.assert has event ${n - 1}`);
      assert.equal(e.level, t.loglevel, where);
      assert.equal(e.module, t.module, where);
      assert.equal(String(e.pid), t.pid, where);
      assert.equal(String(e.tid), t.tid, where);
      assert.equal(e.client_ip, t.client, where);
      assert.equal(String(e.client_port), t.clientport, where);
      assert.equal(e.error_code, t.errorcode, where);
      assert.equal(e.message_text, t.message, where);
      assert.equal(e.errno === null ? undefined : String(e.errno), t.proxy_errorcode, where);
      assert.equal(e.errno_text ?? undefined, t.proxy_errormessage, where);
      // CrowdSec keeps the time text; ours, read as UTC, must be that text's instant.
      assert.equal(e.timestamp, ctimeUtc(t.timestamp), where);
    }
  });

  it('apache-cve-2021-41773.log (no parser.assert): the AH00126 line parses with its trailing space; the two access lines do not', async function () {
    const dir = corpus(this, 'crowdsec-hub-tests/apache-cve-2021-41773');
    const run = await runLines(readLines(path.join(dir, 'apache-cve-2021-41773.log')));
    assertUnparsedBare(run, { 2: 'no_timestamp', 3: 'no_timestamp' });
    assert.deepEqual(pick(run.parsed.get(1)!, ['module', 'level', 'pid', 'tid', 'client_ip', 'client_port', 'error_code', 'message_text']), {
      module: 'core', level: 'error', pid: 7005, tid: 140667133085440, client_ip: '88.168.206.87', client_port: 14532, error_code: 'AH00126',
      message_text: 'Invalid URI in request GET /cgi-bin/.%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd HTTP/1.1 ',
    });
  });
});

// ----------------------------------------------------------------------------- in a real pipeline (harness)


describe('apache_error in an in-process pipeline (test/support/pipeline-harness), _unparsed wired to an output', function () {
  this.timeout(60000);

  it('RaspIM error.log.1 + error.log.2.gz: parsed + unparsed = lines in, by the parser metrics and by what the outputs got', async function () {
    const dir = corpus(this, 'raspim-raspbian-apache22');
    const files = ['error.log.1', 'error.log.2.gz'].map((f) => path.join(dir, f));
    const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  corpus: { type: test_file_lines, files: ${JSON.stringify(files)} }
filters:
  errors: { type: apache_error, inputs: [corpus], timezone: Europe/London }
outputs:
  parsed: { type: test_record, inputs: [errors] }
  rejects: { type: test_record, inputs: [errors._unparsed] }
`);
    await pipeline.done();
    const s = metrics.snapshot().errors;
    assert.equal(s.received_events, 6231);
    assert.equal(s.custom.visor_parser_parsed_lines_total, 6229);
    assert.equal(s.custom.visor_parser_unparsed_lines_total, 2);
    assert.equal(s.custom.visor_parser_unparsed_no_timestamp_total, 2);
    assert.deepEqual(s.sent_events_by_output, { _default: 6229, _unparsed: 2 });
    assert.equal(probe('parsed').written.length, 6229);
    assert.deepEqual(probe('rejects').written.map((e) => e.parse_error), ['no_timestamp', 'no_timestamp']);
    assert.ok(probe('corpus').acks.length > 0 && probe('corpus').acks.every((a) => a.result.status === 'delivered'));
  });

  it('a config with an invalid timezone or error_log_format does not start', async function () {
    await assert.rejects(startPipeline(`
inputs: { corpus: { type: test_counter, total: 1 } }
filters: { errors: { type: apache_error, inputs: [corpus], timezone: Mars/Olympus } }
outputs: { out: { type: test_record, inputs: [errors, errors._unparsed] } }
`), /unknown time zone "Mars\/Olympus"/);
    await assert.rejects(startPipeline(`
inputs: { corpus: { type: test_counter, total: 1 } }
filters: { errors: { type: apache_error, inputs: [corpus], error_log_format: "[%t] %Q %M" } }
outputs: { out: { type: test_record, inputs: [errors, errors._unparsed] } }
`), /pipeline.yaml:3:\d+: invalid value "\[%t\] %Q %M" for error_log_format — unsupported directive %Q/); // located: checked with the config
  });
});

// ---------------------------------------------------------------------------------------- unit cases

describe('apache_error: the 2.2 and 2.4 layouts, told apart per line', function () {
  const ALL = ['timestamp', 'level', 'module', 'pid', 'tid', 'client_ip', 'client_port', 'errno', 'errno_text', 'error_code', 'message_text', 'referer'];

  it('2.2: [time] [level] [client ip] message; every standard field is present, null when absent', async function () {
    const e = await fields('[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test');
    assert.deepEqual(pick(e, ALL), {
      timestamp: Date.UTC(2000, 9, 11, 14, 32, 52), level: 'error', module: null, pid: null, tid: null, client_ip: '127.0.0.1', client_port: null,
      errno: null, errno_text: null, error_code: null, message_text: 'client denied by server configuration: /export/home/live/ap/htdocs/test', referer: null,
    });
    assert.equal(e.message, '[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test');
    assert.ok(!('remote_ip' in e) && !('source_file' in e), 'the occasional fields only when the line has them');
  });

  it('2.4: microseconds kept as the fraction of the millisecond, module, pid:tid, client ip:port, AH code, referer', async function () {
    const e = await fields('[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 123:tid 456] [client 1.2.3.4:5678] AH00124: Request exceeded the limit of 10 internal redirects, referer: http://example.com/a?b=c');
    assert.deepEqual(pick(e, ALL), {
      timestamp: Date.UTC(2000, 9, 11, 14, 32, 52, 123) + 0.456, level: 'error', module: 'core', pid: 123, tid: 456, client_ip: '1.2.3.4', client_port: 5678,
      errno: null, errno_text: null, error_code: 'AH00124', message_text: 'Request exceeded the limit of 10 internal redirects', referer: 'http://example.com/a?b=c',
    });
  });

  it('every level, trace1-8 included; an unknown level is no_level', async function () {
    for (const level of ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug', 'trace1', 'trace5', 'trace8']) {
      assert.equal((await fields(`[Wed Oct 11 14:32:52 2000] [${level}] x`)).level, level);
      assert.equal((await fields(`[Wed Oct 11 14:32:52.000001 2000] [ssl:${level}] [pid 1] x`)).level, level);
    }
    for (const bad of ['[Wed Oct 11 14:32:52 2000] [warning] x', '[Wed Oct 11 14:32:52 2000] [trace9] x', '[Wed Oct 11 14:32:52 2000] [core:ERROR] x',
      '[Wed Oct 11 14:32:52 2000] no level here', '[Wed Oct 11 14:32:52 2000]', '[Wed Oct 11 14:32:52 2000] [error x']) {
      assert.equal(await parseOne(bad), 'no_level', bad);
    }
  });

  it('[:error], [-:error] and [error]: no module is null, never "" or "-"', async function () {
    assert.equal((await fields('[Fri Sep 09 10:42:29.902022 2011] [-:error] [pid 35708] x')).module, null);
    assert.equal((await fields('[Fri Sep 09 10:42:29.902022 2011] [:error] [pid 35708:tid 4328636416] [client 89.160.20.156] x')).module, null);
    assert.equal((await fields('[Fri Sep 09 10:42:29 2011] [error] x')).module, null);
    assert.equal((await fields('[Fri Sep 09 10:42:29.902022 2011] [proxy_fcgi:error] [pid 1] x')).module, 'proxy_fcgi');
  });

  it('pid and tid: [pid N] without tid, none at all, a 64-bit tid beyond 2^53 kept as a string', async function () {
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:15:55.103786 2016] [core:notice] [pid 11379] AH00094: x'), ['pid', 'tid']), { pid: 11379, tid: null });
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:15:55.103786 2016] [core:notice] AH00094: x'), ['pid', 'tid', 'error_code']), { pid: null, tid: null, error_code: 'AH00094' });
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:15:55.103786 2016] [core:notice] [pid 1:tid 9007199254740991] x'), ['tid']), { tid: 9007199254740991 });
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:15:55.103786 2016] [core:notice] [pid 1:tid 9007199254740993] x'), ['tid']), { tid: '9007199254740993' });
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:15:55.103786 2016] [core:notice] [pid 1:tid 18446744073709551615] x'), ['tid']), { tid: '18446744073709551615' });
    // Not a pid part: left in the message.
    assert.equal((await fields('[Mon Dec 26 16:15:55.103786 2016] [core:notice] [pid x] hello')).message_text, '[pid x] hello');
  });

  it('client addresses: IPv4 and IPv6, with and without brackets and port, 2.4 vs 2.2 reading of `::1:58412`', async function () {
    const client = async (line: string) => pick(await fields(line), ['client_ip', 'client_port']);
    const v24 = (c: string) => `[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1] [client ${c}] AH00124: x`;
    const v22 = (c: string) => `[Wed Oct 11 14:32:52 2000] [error] [client ${c}] x`;
    assert.deepEqual(await client(v24('::1:58412')), { client_ip: '::1', client_port: 58412 }); // 2.4 writes ip:port, IPv6 unbracketed
    assert.deepEqual(await client(v24('2001:db8::8a2e:370:7334:443')), { client_ip: '2001:db8::8a2e:370:7334', client_port: 443 });
    assert.deepEqual(await client(v24('2001:db8:0:0:0:0:0:1:8080')), { client_ip: '2001:db8:0:0:0:0:0:1', client_port: 8080 });
    assert.deepEqual(await client(v24('::ffff:192.0.2.7:41000')), { client_ip: '::ffff:192.0.2.7', client_port: 41000 });
    assert.deepEqual(await client(v24('[2001:db8::1]:443')), { client_ip: '2001:db8::1', client_port: 443 });
    assert.deepEqual(await client(v24('[2001:db8::1]')), { client_ip: '2001:db8::1', client_port: null });
    assert.deepEqual(await client(v24('192.0.2.7')), { client_ip: '192.0.2.7', client_port: null }); // as in Elastic's hand-made line
    assert.deepEqual(await client(v24('2a02:cf40::1')), { client_ip: '2a02:cf40::1', client_port: null }); // `2a02:cf40:` is no address
    assert.deepEqual(await client(v24('2001:db8:0:0:0:0:0:1')), { client_ip: '2001:db8:0:0:0:0:0:1', client_port: null }); // 7 groups + port is impossible
    assert.deepEqual(await client(v22('::1')), { client_ip: '::1', client_port: null }); // 2.2 never writes a port
    assert.deepEqual(await client(v22('2001:db8::5')), { client_ip: '2001:db8::5', client_port: null });
    assert.deepEqual(await client(v22('192.168.5.206')), { client_ip: '192.168.5.206', client_port: null });
    assert.deepEqual(await client(v24('192.0.2.7:99999')), { client_ip: '192.0.2.7:99999', client_port: null }); // no such port
  });

  it('[remote ip:port] (2.4, a proxy backend connection): remote_ip and remote_port, the client stays null', async function () {
    const e = await fields('[Tue Mar 05 10:00:00.000001 2024] [proxy:error] [pid 9:tid 10] (111)Connection refused: [remote 10.0.0.5:8080] AH00957: http: attempt to connect to 10.0.0.5:8080 (backend) failed');
    assert.deepEqual(pick(e, ['client_ip', 'client_port', 'remote_ip', 'remote_port', 'errno', 'errno_text', 'error_code', 'message_text']), {
      client_ip: null, client_port: null, remote_ip: '10.0.0.5', remote_port: 8080, errno: 111, errno_text: 'Connection refused',
      error_code: 'AH00957', message_text: 'http: attempt to connect to 10.0.0.5:8080 (backend) failed',
    });
  });

  it('errno prefixes: 2.4 before the client, 2.2 after it, Windows (OS n) and resolver (EAI n) codes', async function () {
    const pickErr = async (line: string) => pick(await fields(line), ['errno', 'errno_text', 'client_ip', 'error_code', 'message_text']);
    assert.deepEqual(await pickErr('[Wed Apr 16 16:09:40.056610 2025] [ssl:info] [pid 120974:tid 120974] (70014)End of file found: [client 192.168.1.1:17036] AH02006: SSL handshake stopped: connection was closed'),
      { errno: 70014, errno_text: 'End of file found', client_ip: '192.168.1.1', error_code: 'AH02006', message_text: 'SSL handshake stopped: connection was closed' });
    assert.deepEqual(await pickErr('[Sun Apr 06 06:25:10 2014] [error] [client 192.168.5.1] (70007)The timeout specified has expired: Error reading chunk  '),
      { errno: 70007, errno_text: 'The timeout specified has expired', client_ip: '192.168.5.1', error_code: null, message_text: 'Error reading chunk  ' });
    assert.deepEqual(await pickErr('[Thu Feb 01 09:00:00.100000 2024] [proxy:error] [pid 4100:tid 1200] (OS 10060)A connection attempt failed because the connected party did not properly respond after a period of time.  : AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed'),
      { errno: 'OS 10060', errno_text: 'A connection attempt failed because the connected party did not properly respond after a period of time.  ', client_ip: null, error_code: 'AH00957', message_text: 'HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed' });
    assert.deepEqual(await pickErr('[Thu Feb 01 09:00:00.100000 2024] [proxy:error] [pid 1] (EAI 2)Name or service not known: AH00898: DNS lookup failure for: backend.local returned by /app'),
      { errno: 'EAI 2', errno_text: 'Name or service not known', client_ip: null, error_code: 'AH00898', message_text: 'DNS lookup failure for: backend.local returned by /app' });
    // Parentheses that are no status stay in the message; in 2.4 nothing after the client is an errno.
    assert.deepEqual(await pickErr('[Wed Oct 11 14:32:52 2000] [error] (null) value: x'), { errno: null, errno_text: null, client_ip: null, error_code: null, message_text: '(null) value: x' });
    assert.deepEqual(await pickErr('[Wed Oct 11 14:32:52.1 2000] [core:error] [pid 1] [client 1.2.3.4:5] (13)Permission denied: x'),
      { errno: null, errno_text: null, client_ip: '1.2.3.4', error_code: null, message_text: '(13)Permission denied: x' });
  });

  it('source location at debug and trace levels only (2.4 writes file.c(line) there)', async function () {
    const e = await fields('[Wed Oct 20 19:20:59.121211 2021] [ssl:debug] [pid 1:tid 2] ssl_engine_kernel.c(2374): [client 10.0.0.1:50000] AH02645: Server name not provided via TLS extension');
    assert.deepEqual(pick(e, ['source_file', 'source_line', 'client_ip', 'error_code']), { source_file: 'ssl_engine_kernel.c', source_line: 2374, client_ip: '10.0.0.1', error_code: 'AH02645' });
    const info = await fields('[Wed Oct 20 19:20:59.121211 2021] [ssl:info] [pid 1:tid 2] ssl_engine_kernel.c(2374): not a location at info');
    assert.equal(info.message_text, 'ssl_engine_kernel.c(2374): not a location at info');
    assert.ok(!('source_file' in info));
  });

  it('the referer suffix: removed from the message only on lines about a request (with a client), the last one wins', async function () {
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:22:00 2016] [error] [client 192.168.33.1] File does not exist: /var/www/favicon.ico, referer: http://192.168.33.72/'), ['message_text', 'referer']),
      { message_text: 'File does not exist: /var/www/favicon.ico', referer: 'http://192.168.33.72/' });
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:22:00 2016] [notice] worker said: a, referer: b'), ['message_text', 'referer']),
      { message_text: 'worker said: a, referer: b', referer: null });
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:22:00 2016] [error] [client 1.2.3.4] File does not exist: /x, referer: y, referer: http://r/'), ['message_text', 'referer']),
      { message_text: 'File does not exist: /x, referer: y', referer: 'http://r/' });
    assert.deepEqual(pick(await fields('[Mon Dec 26 16:22:00.5 2016] [core:error] [pid 1] [client 1.2.3.4:80] AH00128: File does not exist: /x, referer: http://h/%E2%82%AC\\xe2\\x82\\xac'), ['message_text', 'referer']),
      { message_text: 'File does not exist: /x', referer: 'http://h/%E2%82%AC€' });
  });

  it('PHP messages: the double space after the PHP level is kept; stack trace lines logged through Apache parse', async function () {
    const e = await fields('[Sat Mar 02 11:22:33.444555 2024] [php:warn] [pid 812] [client 203.0.113.9:51234] PHP Warning:  Undefined array key "id" in /var/www/html/item.php on line 12, referer: https://example.com/list');
    assert.deepEqual(pick(e, ['module', 'level', 'message_text', 'referer']), {
      module: 'php', level: 'warn', message_text: 'PHP Warning:  Undefined array key "id" in /var/www/html/item.php on line 12', referer: 'https://example.com/list',
    });
    assert.equal((await fields('[Sat Mar 02 11:22:33.444555 2024] [php:notice] [pid 812] [client 203.0.113.9:51234] PHP   1. {main}() /var/www/html/item.php:0')).message_text, 'PHP   1. {main}() /var/www/html/item.php:0');
    assert.equal((await fields('[Sat Mar 02 11:22:33 2024] [error] [client 10.0.0.2] PHP Parse error:  syntax error, unexpected \'}\' in /var/www/a.php on line 3')).message_text, "PHP Parse error:  syntax error, unexpected '}' in /var/www/a.php on line 3");
  });

  it('Windows paths: Apache doubles backslashes, so C:\\\\xampp is C:\\xampp; text with lone backslashes was not escaped and is kept', async function () {
    const doubled = '[Sat Mar 02 11:22:33.444555 2024] [php:warn] [pid 4012:tid 1880] [client ::1:50200] PHP Warning:  include(C:\\\\xampp\\\\htdocs\\\\inc\\\\db.php): Failed to open stream: No such file or directory in C:\\\\xampp\\\\htdocs\\\\index.php on line 4';
    const cases: Array<[line: string, options: Options, messageText: string]> = [
      [doubled, {}, 'PHP Warning:  include(C:\\xampp\\htdocs\\inc\\db.php): Failed to open stream: No such file or directory in C:\\xampp\\htdocs\\index.php on line 4'],
      [doubled, { unescape: false }, 'PHP Warning:  include(C:\\\\xampp\\\\htdocs\\\\inc\\\\db.php): Failed to open stream: No such file or directory in C:\\\\xampp\\\\htdocs\\\\index.php on line 4'],
      ['[Sat Mar 02 11:22:33 2024] [error] [client 127.0.0.1] File does not exist: C:/Program Files/Apache Group/Apache2/htdocs/favicon.ico', {}, 'File does not exist: C:/Program Files/Apache Group/Apache2/htdocs/favicon.ico'],
      // `\A` is no escape, so this text did not come through Apache's escaping: `\n` in `\new.pl` is no newline either.
      ['[Sat Mar 02 11:22:33 2024] [error] [client 127.0.0.1] script not found: C:\\Apache24\\cgi-bin\\new.pl', {}, 'script not found: C:\\Apache24\\cgi-bin\\new.pl'],
    ];
    for (const [line, options, messageText] of cases) assert.equal((await fields(line, options)).message_text, messageText, line);
  });

  it('escaped bytes: decoded as UTF-8 (U+FFFD for bytes that are not), or kept escaped with unescape: false', async function () {
    const line = '[Wed Apr 02 13:34:05 2014] [error] [client 192.168.5.148] Invalid method in request \\x16\\x03\\x01 caf\\xc3\\xa9 \\xff';
    assert.equal((await fields(line)).message_text, 'Invalid method in request \x16\x03\x01 café \ufffd');
    assert.equal((await fields(line, { unescape: false })).message_text, 'Invalid method in request \\x16\\x03\\x01 caf\\xc3\\xa9 \\xff');
  });

  it('mod_security on 2.4 writes a [client] of its own inside the message: only the first is the client part', async function () {
    const e = await fields('[Thu Jan 04 10:11:12.131415 2024] [:error] [pid 2201:tid 140000000000000] [client 198.51.100.4:33000] [client 198.51.100.4] ModSecurity: Access denied with code 403 (phase 2). [file "/etc/modsecurity/crs.conf"] [id "942100"] [hostname "example.com"] [uri "/login"]');
    assert.deepEqual(pick(e, ['module', 'client_ip', 'client_port']), { module: null, client_ip: '198.51.100.4', client_port: 33000 });
    assert.ok((e.message_text as string).startsWith('[client 198.51.100.4] ModSecurity: Access denied'));
  });

  it('CGI stderr through Apache (AH01215) parses; the same text written raw, stack traces and blank lines go to _unparsed (a start-up record parses)', async function () {
    const viaApache = await fields('[Tue Jan 09 08:00:00.000100 2024] [cgi:error] [pid 77] [client 10.1.1.1:4000] AH01215: sudo: no tty present and no askpass program specified: /usr/lib/cgi-bin/status.cgi');
    assert.deepEqual(pick(viaApache, ['error_code', 'message_text']), { error_code: 'AH01215', message_text: 'sudo: no tty present and no askpass program specified: /usr/lib/cgi-bin/status.cgi' });
    const run = await runLines([
      'sudo: no tty present and no askpass program specified',
      'PHP Stack trace:',
      'PHP   1. {main}() /var/www/html/index.php:0',
      'Traceback (most recent call last):',
      '  File "/usr/lib/cgi-bin/app.py", line 3, in <module>',
      '[22-Jul-2025 15:45:51 UTC] PHP Warning:  something', // PHP's own error_log format, not Apache's
      'AH00558: apache2: Could not reliably determine the server\'s fully qualified domain name, using 127.0.1.1', // a start-up record: parsed
      '',
      '   ',
      '\r',
      '[Wed Oct 11 14:32:52 2000] [error] ok',
      '[Wed Oct 11 14:32:52',
      'sudo: AH00558: not at the start of the line',
    ]);
    assertUnparsedBare(run, { 1: 'no_timestamp', 2: 'no_timestamp', 3: 'no_timestamp', 4: 'no_timestamp', 5: 'no_timestamp', 6: 'no_timestamp', 8: 'empty_line', 9: 'empty_line', 10: 'empty_line', 12: 'no_timestamp', 13: 'no_timestamp' });
    assert.equal(run.parsed.get(7)!.error_code, 'AH00558');
  });

  it('start-up records (AHnnnnn: without time, optionally after an APR error): code, message, errno, a level by rule; neighbours without a code stay unparsed', async function () {
    // What `apache2ctl start` or httpd write before the error log is set up, with and without ErrorLogFormat.
    const lines = [
      'AH00558: apache2: Could not reliably determine the server\'s fully qualified domain name, using 127.0.1.1. Set the \'ServerName\' directive globally to suppress this message',
      'AH00526: Syntax error on line 12 of /etc/apache2/apache2.conf:',
      'Invalid command \'RewriteEngine\', perhaps misspelled or defined by a module not included in the server configuration',
      'AH00016: Configuration Failed',
      '(98)Address already in use: AH00072: make_sock: could not bind to address [::]:80',
      '(98)Address already in use: AH00072: make_sock: could not bind to address 0.0.0.0:80',
      'no listening sockets available, shutting down',
      'AH00015: Unable to open logs',
      'Action \'start\' failed.',
      'The Apache error log may have more information.',
      'AH00112: Warning: DocumentRoot [/var/www/html] does not exist',
      'AH00111: Config variable ${APACHE_RUN_DIR} is not defined',
      'AH00543: apache2: bad user name ${APACHE_RUN_USER}',
      'AH00489: Apache/2.4.58 (Ubuntu) configured -- resuming normal operations',
      '(13)Permission denied: AH00091: apache2: could not open error log file /var/log/apache2/error.log.\r',
      'AH0055: four digits', 'AH000558: six digits', 'AH00558:no space', '(98)Address already in use: make_sock: no code (2.2)', 'ah00558: lower case',
      // Windows: the OS error text ends in blanks before its `: `.
      '(OS 10048)Only one usage of each socket address (protocol/network address/port) is normally permitted.  : AH00072: make_sock: could not bind to address 0.0.0.0:80',
    ];
    const want: Record<number, [string, string, number | string | null, string | null, string]> = {
      1: ['warn', 'AH00558', null, null, 'apache2: Could not reliably determine the server\'s fully qualified domain name, using 127.0.1.1. Set the \'ServerName\' directive globally to suppress this message'],
      2: ['error', 'AH00526', null, null, 'Syntax error on line 12 of /etc/apache2/apache2.conf:'],
      4: ['error', 'AH00016', null, null, 'Configuration Failed'],
      5: ['error', 'AH00072', 98, 'Address already in use', 'make_sock: could not bind to address [::]:80'],
      6: ['error', 'AH00072', 98, 'Address already in use', 'make_sock: could not bind to address 0.0.0.0:80'],
      8: ['error', 'AH00015', null, null, 'Unable to open logs'],
      11: ['warn', 'AH00112', null, null, 'Warning: DocumentRoot [/var/www/html] does not exist'],
      12: ['warn', 'AH00111', null, null, 'Config variable ${APACHE_RUN_DIR} is not defined'],
      13: ['error', 'AH00543', null, null, 'apache2: bad user name ${APACHE_RUN_USER}'],
      14: ['notice', 'AH00489', null, null, 'Apache/2.4.58 (Ubuntu) configured -- resuming normal operations'],
      15: ['error', 'AH00091', 13, 'Permission denied', 'apache2: could not open error log file /var/log/apache2/error.log.'],
      21: ['error', 'AH00072', 'OS 10048', 'Only one usage of each socket address (protocol/network address/port) is normally permitted.  ', 'make_sock: could not bind to address 0.0.0.0:80'],
    };
    const notRecords = [3, 7, 9, 10, 16, 17, 18, 19, 20];
    const format = '[%{u}t] [%-m:%l] [pid %P:tid %T] %7F: %E: [client\\ %a] %M% ,\\ referer\\ %{Referer}i';
    for (const [options, reason] of [[{}, 'no_timestamp'], [{ error_log_format: format }, 'format_mismatch']] as const) {
      const run = await runLines(lines, options);
      assertUnparsedBare(run, Object.fromEntries(notRecords.map((n) => [n, reason])));
      for (const [n, [level, code, errno, errnoText, message]] of Object.entries(want)) {
        const e = run.parsed.get(Number(n))!;
        assert.deepEqual(pick(e, ['timestamp', 'level', 'module', 'pid', 'tid', 'client_ip', 'client_port', 'errno', 'errno_text', 'error_code', 'message_text', 'referer']), {
          timestamp: null, level, module: null, pid: null, tid: null, client_ip: null, client_port: null, errno, errno_text: errnoText, error_code: code, message_text: message, referer: null,
        }, `line ${n} (${reason})`);
      }
      if (options.error_log_format !== undefined) {
        // The format's own fields are there too, null: one shape for every event of the format.
        const normal = await fields('[2024-01-02 03:04:05.000006] [core:error] [pid 1:tid 2] AH00124: x', { error_log_format: format });
        assert.deepEqual(Object.keys(run.parsed.get(1)!).filter((k) => k !== 'n'), Object.keys(normal).filter((k) => k !== 'n'));
      }
    }
    // The message is unescaped like any other (a start-up record is written through the same logger).
    assert.equal((await fields('AH00526: Syntax error in \\"x\\"')).message_text, 'Syntax error in "x"');
    assert.equal((await fields('AH00526: Syntax error in \\"x\\"', { unescape: false })).message_text, 'Syntax error in \\"x\\"');
  });

  it('start-up records have no time: an event-time window discards them, counted as invalid_timestamp; where can select them', async function () {
    const { pipeline, metrics, probe, script } = await startPipeline(`
inputs:
  src: { type: test_script }
filters:
  errors: { type: apache_error, inputs: [src], timezone: UTC }
  startup: { type: where, inputs: [errors], condition: 'timestamp == null' }
aggregates:
  per_minute: { type: window, inputs: [errors], window: { type: tumbling, size: 1m }, metrics: { n: count() } }
outputs:
  windows: { type: test_record, inputs: [per_minute] }
  records: { type: test_record, inputs: [startup] }
`);
    await script('src').send([
      '[Tue Mar 05 10:00:01.000001 2024] [mpm_prefork:notice] [pid 1] AH00169: caught SIGTERM, shutting down',
      'AH00558: apache2: Could not reliably determine the server\'s fully qualified domain name, using 127.0.1.1. Set the \'ServerName\' directive globally to suppress this message',
      '(98)Address already in use: AH00072: make_sock: could not bind to address [::]:80',
      '[Tue Mar 05 10:00:30.000001 2024] [mpm_prefork:notice] [pid 2] AH00163: Apache/2.4.58 configured -- resuming normal operations',
    ].map((message) => ({ message })));
    script('src').end();
    await pipeline.done();
    assert.deepEqual(probe('windows').written.map((w) => [w.window_start, w.n]), [[Date.UTC(2024, 2, 5, 10, 0), 2]]);
    assert.equal(metrics.snapshot().per_minute.discarded_by_reason.invalid_timestamp, 2);
    assert.deepEqual(probe('records').written.map((e) => [e.error_code, e.level]), [['AH00558', 'warn'], ['AH00072', 'error']]);
  });

  it('impossible timestamps are bad_timestamp (the shape fits), other bracketed starts no_timestamp', async function () {
    for (const t of ['Mon Feb 30 14:32:52 2000', 'Mon Feb 29 14:32:52 2001', 'Wed Oct 11 24:00:00 2000', 'Wed Oct 11 14:60:00 2000', 'Wed Oct 11 14:32:61 2000', 'Wed Foo 11 14:32:52 2000', 'Wed Oct 00 14:32:52 2000', '2024-13-01 00:00:00', 'Wed Oct 11 14:32:52 2000 +2500']) {
      assert.equal(await parseOne(`[${t}] [error] x`), 'bad_timestamp', t);
    }
    for (const t of ['11/Oct/2000:14:32:52 -0700', 'Wed Oct 11 2000', 'x', '', 'Wed Oct 11 14:32:52.123456']) {
      assert.equal(await parseOne(`[${t}] [error] x`), 'no_timestamp', t);
    }
    assert.equal((await fields('[Tue Feb 29 14:32:52 2000] [error] leap year')).timestamp, Date.UTC(2000, 1, 29, 14, 32, 52));
    assert.equal((await fields('[Wed Oct  1 14:32:52 2000] [error] asctime pads the day with a space')).timestamp, Date.UTC(2000, 9, 1, 14, 32, 52));
  });

  it('not a string, another field, CRLF', async function () {
    assert.equal(await parseOne(42), 'not_a_string');
    assert.equal(await parseOne(undefined), 'not_a_string');
    const e = await fields('[Wed Oct 11 14:32:52 2000] [error] [client 1.2.3.4] x, referer: http://r/\r', { field: 'raw' });
    assert.deepEqual(pick(e, ['raw', 'message_text', 'referer']), { raw: '[Wed Oct 11 14:32:52 2000] [error] [client 1.2.3.4] x, referer: http://r/\r', message_text: 'x', referer: 'http://r/' });
    assert.ok(!('message' in e));
  });
});

describe('apache_error: time zones', function () {
  const at = async (line: string, timezone: string) => (await fields(line, { timezone })).timestamp;
  const winter = '[Wed Jan 10 12:00:00 2024] [error] x';
  const summer = '[Wed Jul 10 12:00:00.250000 2024] [core:error] [pid 1] x';

  it('UTC, fixed offsets (+0100, -05:00) and IANA names with their daylight saving time', async function () {
    assert.equal(await at(winter, 'UTC'), Date.parse('2024-01-10T12:00:00Z'));
    assert.equal(await at(winter, '+0100'), Date.parse('2024-01-10T11:00:00Z'));
    assert.equal(await at(winter, '-05:00'), Date.parse('2024-01-10T17:00:00Z'));
    assert.equal(await at(winter, 'Europe/Paris'), Date.parse('2024-01-10T11:00:00Z'));
    assert.equal(await at(summer, 'Europe/Paris'), Date.parse('2024-07-10T10:00:00.250Z'));
    assert.equal(await at(summer, 'America/New_York'), Date.parse('2024-07-10T16:00:00.250Z'));
  });

  it('local is the agent\'s own zone (TZ)', async function () {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Tokyo';
      assert.equal(await at(winter, 'local'), Date.parse('2024-01-10T03:00:00Z'));
      process.env.TZ = 'America/Los_Angeles';
      assert.equal(await at(summer, 'local'), Date.parse('2024-07-10T19:00:00.250Z'));
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('lines across a DST change in one batch (each minute is converted with its own offset)', async function () {
    const run = await runLines([
      '[Sun Mar 31 01:59:59.999999 2024] [core:notice] [pid 1] before',
      '[Sun Mar 31 03:00:00.000001 2024] [core:notice] [pid 1] after',
      '[Sun Oct 27 01:59:00 2024] [notice] still summer time',
      '[Sun Oct 27 03:00:00 2024] [notice] winter time',
    ], { timezone: 'Europe/Paris' });
    assert.deepEqual([...run.parsed.values()].map((e) => e.timestamp), [
      Date.parse('2024-03-31T00:59:59.999Z') + 0.999, Date.parse('2024-03-31T01:00:00.000Z') + 0.001,
      Date.parse('2024-10-26T23:59:00Z'), Date.parse('2024-10-27T02:00:00Z'),
    ]);
  });

  it('an unknown zone is refused when the filter is created', async function () {
    await assert.rejects(createFilter({ timezone: 'Europe/Atlantis' }), /unknown time zone "Europe\/Atlantis"/);
  });
});

describe('apache_error: error_log_format (a custom ErrorLogFormat)', function () {
  const DOCS_EXAMPLE = '[%{u}t] [%-m:%l] [pid %P:tid %T] %7F: %E: [client\\ %a] %M% ,\\ referer\\ %{Referer}i';

  it('the documented example: optional fields dropped by Apache when empty, %-m as -, referer after %M', async function () {
    const run = await runLines([
      '[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 123:tid 456] [client 1.2.3.4:5678] AH00124: msg, with comma, referer http://x/y',
      '[Wed Oct 11 14:32:52.123456 2000] [-:error] [pid 123:tid 456] (70007)The timeout specified has expired: [client ::1:5678] AH01102: error reading status line',
      '[Wed Oct 11 14:32:52.123456 2000] [rewrite:trace3] [pid 123:tid 456] mod_rewrite.c(470): [client 10.0.0.1:5] applying pattern',
      '[Wed Oct 11 14:32:52.123456 2000] [mpm_prefork:notice] [pid 123:tid AH00163: Apache/2.4.23 configured', // prefork: no tid, so the ` %T]` field is dropped
      '[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] a 2.2 line does not fit',
      '[Wed Oct 11 14:32:52.123456 2000] [core:bogus] [pid 1:tid 2] x',
    ], { error_log_format: DOCS_EXAMPLE });
    assertUnparsedBare(run, { 5: 'format_mismatch', 6: 'format_mismatch' });
    const keys = ['module', 'level', 'pid', 'tid', 'errno', 'errno_text', 'client_ip', 'client_port', 'error_code', 'message_text', 'referer'];
    assert.deepEqual(pick(run.parsed.get(1)!, keys), { module: 'core', level: 'error', pid: 123, tid: 456, errno: null, errno_text: null, client_ip: '1.2.3.4', client_port: 5678, error_code: 'AH00124', message_text: 'msg, with comma', referer: 'http://x/y' });
    assert.deepEqual(pick(run.parsed.get(2)!, keys), { module: null, level: 'error', pid: 123, tid: 456, errno: 70007, errno_text: 'The timeout specified has expired', client_ip: '::1', client_port: 5678, error_code: 'AH01102', message_text: 'error reading status line', referer: null });
    assert.deepEqual(pick(run.parsed.get(3)!, ['source_file', 'source_line', 'client_ip', 'message_text']), { source_file: 'mod_rewrite.c', source_line: 470, client_ip: '10.0.0.1', message_text: 'applying pattern' });
    assert.deepEqual(pick(run.parsed.get(4)!, ['pid', 'tid', 'error_code', 'message_text']), { pid: 123, tid: null, error_code: 'AH00163', message_text: 'Apache/2.4.23 configured' });
    assert.equal(run.parsed.get(1)!.timestamp, Date.UTC(2000, 9, 11, 14, 32, 52, 123) + 0.456);
  });

  it('%{cu}t, %v, %A, %{c}a, %k, %L, %{User-Agent}i, %{X}e, %{X}n and %-x: the extra fields, present on every event (null when absent)', async function () {
    const format = '%{cu}t %v %A %-{c}a [%l] %k %L %{HTTPS}e %-{ratelimit}n %M% \\ ua=%{User-Agent}i';
    const run = await runLines([
      '2024-03-31 02:30:00.5 www.example.com 10.0.0.1:443 - [warn] 3 XyZ on - hello world ua=Mozilla/5.0 (X11; Linux)',
      '2024-07-01 12:00:00 www.example.com 10.0.0.1:443 [2001:db8::1]:5555 [info] 0 Ab on 12 hello',
    ], { error_log_format: format, timezone: 'Europe/Paris' });
    assertUnparsedBare(run, {});
    const keys = ['timestamp', 'level', 'vhost', 'local_ip', 'local_port', 'peer_ip', 'peer_port', 'keepalive_requests', 'log_id', 'env_https', 'note_ratelimit', 'message_text', 'user_agent'];
    assert.deepEqual(pick(run.parsed.get(1)!, keys), {
      timestamp: Date.parse('2024-03-31T01:30:00.500Z'), // 02:30 does not exist in Paris that night: read as 03:30 CEST
      level: 'warn', vhost: 'www.example.com', local_ip: '10.0.0.1', local_port: 443, peer_ip: null, peer_port: null, keepalive_requests: 3,
      log_id: 'XyZ', env_https: 'on', note_ratelimit: null, message_text: 'hello world', user_agent: 'Mozilla/5.0 (X11; Linux)',
    });
    assert.deepEqual(pick(run.parsed.get(2)!, ['timestamp', 'peer_ip', 'peer_port', 'note_ratelimit', 'message_text', 'user_agent']), {
      timestamp: Date.parse('2024-07-01T10:00:00Z'), peer_ip: '2001:db8::1', peer_port: 5555, note_ratelimit: '12', message_text: 'hello', user_agent: null,
    });
    assert.deepEqual(Object.keys(run.parsed.get(1)!), Object.keys(run.parsed.get(2)!), 'one shape per format');
  });

  it('compiles as Apache reads the format: fields split at spaces and `% `, `\\ ` a space inside a field', function () {
    const f = compileErrorFormat(DOCS_EXAMPLE);
    const show = f.fields.map((x) => `${x.optional ? '?' : ''}${x.items.map((it) => (it.kind === 'literal' ? JSON.stringify(it.text) : it.text)).join('')}`);
    assert.deepEqual(show, ['"["%{u}t"]"', '" ["%-m":"%l"]"', '" [pid"', '" "%P":tid"', '?" "%T"]"', '?" "%7F":"', '?" "%E":"', '?" [client "%a"]"', '" "%M', '?", referer "%{Referer}i']);
    assert.deepEqual(compileErrorFormat('%t %{Referer}i %{User-Agent}i %{X-Forwarded-For}i %M').extraFields, ['user_agent', 'http_x_forwarded_for']);
  });

  it('refuses what it cannot match, with the reason', async function () {
    await assert.rejects(createFilter({ error_log_format: '[%t] %Z %M' }), /invalid error_log_format: unsupported directive %Z/);
    await assert.rejects(createFilter({ error_log_format: '[%t] [%l] %M% %{Referer}i' }), /invalid error_log_format: .*literal text between %M/);
    await assert.rejects(createFilter({ error_log_format: '[%t] %M %M' }), /%M more than once/);
    await assert.rejects(createFilter({ error_log_format: 'plain text' }), /has no % directive/);
    await assert.rejects(createFilter({ error_log_format: '[%{u' }), /unclosed \{/);
  });

  it('the plugin declares the _unparsed side output and its options have defaults', function () {
    assert.deepEqual(Object.keys(errorPlugin.sideOutputs ?? {}), ['_unparsed']);
    const props = errorPlugin.schema.properties as Record<string, { default?: unknown }>;
    assert.deepEqual({ field: props.field.default, timezone: props.timezone.default, unescape: props.unescape.default, format: props.error_log_format.default },
      { field: 'message', timezone: 'local', unescape: true, format: undefined });
  });
});
