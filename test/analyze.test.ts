// `visor analyze` as a user runs it (the built CLI, real files from ../shared/corpora read in place): the
// figures against a brute-force count done here with plain regular expressions, format detection per file,
// gzip told by content, JSON and text output, exit codes, and the progress bar (only on a terminal).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { renderReportText } from '../lib/stats/index.js';
import { corpus, readLines } from './support/corpora.js';
import { chartInk, requireChromium, watchPage } from './support/browser.js';
import { CLI, onPath, ROOT, runCli, tempDir } from './support/helpers.js';

interface Brute {
  lines: number;
  requests: number;
  errors: number;
  bytes: number;
  status: Record<string, number>;
  clients: Map<string, number>;
  errorLines: number;
  levels: Record<string, number>;
  unparsed: number;
}

const ACCESS = /^(\S+) \S+ \S+ \[[^\]]+\] "(?:[^"\\]|\\.)*" (\d{3}) (\d+|-)(?: "(?:[^"\\]|\\.)*" "(?:[^"\\]|\\.)*")?$/;
const ERROR = /^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:.]+ \d{4}\] \[(?:[\w-]+:)?(\w+)\] /;

/** Counts the lines of each file with the regexes above: access files with ACCESS, error files with ERROR. */
function bruteForce(files: Array<{ file: string; kind: 'access' | 'error' }>): Brute {
  const b: Brute = {
    lines: 0, requests: 0, errors: 0, bytes: 0, status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 },
    clients: new Map(), errorLines: 0, levels: {}, unparsed: 0,
  };
  for (const { file, kind } of files) {
    for (const line of readLines(file)) {
      b.lines++;
      if (kind === 'access') {
        const m = ACCESS.exec(line);
        if (!m) { b.unparsed++; continue; }
        const status = Number(m[2]);
        b.requests++;
        b.status[status >= 200 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other']++;
        if (status >= 500 && status < 600) b.errors++;
        if (m[3] !== '-') b.bytes += Number(m[3]);
        b.clients.set(m[1]!, (b.clients.get(m[1]!) ?? 0) + 1);
      } else {
        const m = ERROR.exec(line);
        if (!m) { b.unparsed++; continue; }
        b.errorLines++;
        b.levels[m[1]!] = (b.levels[m[1]!] ?? 0) + 1;
      }
    }
  }
  return b;
}

function topOf(m: Map<string, number>, n: number): Array<{ value: string; count: number }> {
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n).map(([value, count]) => ({ value, count }));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function analyzeJson(args: string[]): Promise<Json> {
  const r = await runCli(['analyze', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('visor analyze', function () {
  this.timeout(60000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir('visor-analyze-'); });
  afterEach(async () => { await tmp.remove(); });

  it('a rotated set (plain and .gz, access and error logs): totals equal a brute-force count', async function () {
    const dir = corpus(this, 'raspim-raspbian-apache22');
    const names = ['access.log', 'access.log.1', 'access.log.2.gz', 'error.log', 'error.log.1', 'error.log.2.gz'];
    const files = names.map((n) => ({ file: path.join(dir, n), kind: (n.startsWith('access') ? 'access' : 'error') as 'access' | 'error' }));
    const b = bruteForce(files);
    const j = await analyzeJson(['--top', '3', '--timezone', 'UTC', ...files.map((f) => f.file)]);
    assert.equal(j.requests, b.requests);
    assert.ok(b.requests > 17000, 'the corpus is the expected one');
    assert.deepEqual(j.status_classes, b.status);
    assert.equal(j.errors, b.errors);
    assert.equal(j.error_rate, b.errors / b.requests);
    assert.equal(j.bytes, b.bytes);
    assert.deepEqual(j.top_clients, topOf(b.clients, 3));
    assert.equal(j.error_log_lines, b.errorLines);
    assert.deepEqual(j.error_log_levels, b.levels);
    assert.equal(j.lines, b.lines);
    assert.equal(j.unparsed, b.unparsed);
    assert.ok(b.unparsed > 0, 'error.log.2.gz ends with a line that is no error-log line');
    // Per file: detection, gzip, line counts; the unparsed line is named with its reason and line number.
    assert.deepEqual(j.files.map((f: Json) => [path.basename(f.file), f.kind, f.gzip]), names.map((n) => [n, n.startsWith('access') ? 'access' : 'error', n.endsWith('.gz')]));
    for (const [i, f] of files.entries()) assert.equal(j.files[i].lines, readLines(f.file).length, f.file);
    const gzError = j.files[5];
    assert.equal(gzError.unparsed, 1);
    assert.deepEqual(gzError.unparsed_reasons, { no_timestamp: { count: 1, first_line: gzError.lines } });
    // The time range: the earliest and latest timestamps of all files.
    assert.equal(j.window_start, Math.min(...j.files.map((f: Json) => f.first_timestamp)));
    assert.equal(j.window_end, Math.max(...j.files.map((f: Json) => f.last_timestamp)));
    assert.equal(new Date(j.window_start).toISOString(), '2014-03-26T22:49:59.000Z'); // error.log.2.gz's first line, read as UTC
  });

  it('text output: the report aggregate\'s rendering, then one line per file with unparsed reasons', async function () {
    const nasa = path.join(corpus(this, 'nasa-http-aug95-subset'), 'nasa.log');
    const loghub = path.join(corpus(this, 'loghub-apache-error'), 'Apache_2k.log');
    const bad = path.join(corpus(this, 'lnav-tests'), 'logfile_bad_access_log.0');
    const args = ['analyze', '--timezone', 'UTC', nasa, loghub, bad];
    const text = await runCli(args);
    assert.equal(text.code, 0, text.stderr);
    const json = await analyzeJson(args.slice(1));
    const b = bruteForce([{ file: nasa, kind: 'access' }, { file: loghub, kind: 'error' }, { file: bad, kind: 'access' }]);
    assert.equal(json.requests, b.requests);
    assert.deepEqual(json.status_classes, b.status);
    assert.equal(json.bytes, b.bytes);
    assert.deepEqual(json.top_clients, topOf(b.clients, 10));
    assert.deepEqual(json.error_log_levels, b.levels);
    assert.equal(json.unparsed, b.unparsed);
    assert.equal(json.unparsed, 1);
    const all = text.stdout.split('\n');
    const f = all.indexOf('files:');
    // The summary is exactly the report aggregate's text rendering of the same figures.
    const { message: _m, ...event } = json;
    assert.equal(all.slice(0, f).join('\n'), renderReportText(event));
    assert.match(all[1]!, new RegExp(`^requests: ${b.requests} \\(`));
    assert.match(all[2]!, new RegExp(`^status: 2xx ${b.status['2xx']}  3xx ${b.status['3xx']}  4xx ${b.status['4xx']}  5xx ${b.status['5xx']}  other 0$`));
    // Loghub's 2,000 lines: 1,405 notices and 595 errors; the top error messages are the 4 error templates of its
    // structured CSV (E3 539, E4 32, E5 12, E6 12), one per line; no notice ("workerEnv.init() ok", "Found child").
    assert.equal(all[6], 'error log lines: 2000 (error 595, notice 1405)');
    assert.equal(all[7], 'error log modules (warn and worse): -');
    assert.deepEqual(all.slice(8, 13), [
      'top error messages (warn and worse):',
      '     539  error  mod_jk child workerEnv in error state <*>',
      '      32  error  Directory index forbidden by rule: <*>',
      '      12  error  jk2_init() Can\'t find child <*> in scoreboard',
      '      12  error  mod_jk child init <*> <*>',
    ]);
    // Then the traffic panels' lines, up to the file list.
    assert.ok(f > 13 && all[13]!.startsWith('requests 20002: '), all[13]);
    const lines = all.slice(f - 8);
    assert.equal(lines[8], 'files:');
    assert.match(lines[9]!, /nasa\.log: access \(common\), 20000 lines, 20000 parsed, 0 unparsed, 1995-08-01T/);
    assert.match(lines[10]!, /Apache_2k\.log: error, 2000 lines, 2000 parsed, 0 unparsed, 2005-12-04T04:47:44\.000Z - 2005-12-05T19:15:57\.000Z/);
    assert.match(lines[11]!, /logfile_bad_access_log\.0: access \(combined\), 3 lines, 2 parsed, 1 unparsed \(format_mismatch 1 from line 2\)/);
    assert.equal(lines[12], `unparsed lines: 1 of ${b.lines}`);
    assert.match(lines[13]!, /^read 22,003 lines \(\d+\.\d MB\) in \d+\.\d\d s: [\d,]+ lines\/s$/);
  });

  it('gzip is told by its magic bytes, not by the name', async function () {
    const dir = corpus(this, 'raspim-raspbian-apache22');
    const gz = tmp.dir + '/old-access'; // gzip without .gz
    copyFileSync(path.join(dir, 'access.log.2.gz'), gz);
    const plain = tmp.dir + '/looks-compressed.gz'; // plain text named .gz
    copyFileSync(path.join(dir, 'access.log'), plain);
    const made = await tmp.file('made.log.gz', '');
    writeFileSync(made, gzipSync(readFileSync(path.join(dir, 'error.log'))));
    const j = await analyzeJson([gz, plain, made]);
    assert.deepEqual(j.files.map((f: Json) => [f.gzip, f.kind, f.lines, f.unparsed]), [
      [true, 'access', readLines(path.join(dir, 'access.log.2.gz')).length, 0],
      [false, 'access', readLines(path.join(dir, 'access.log')).length, 0],
      [true, 'error', readLines(path.join(dir, 'error.log')).length, 0],
    ]);
  });

  it('--format and --log-format override detection; an unknown format exits 78', async function () {
    const dir = corpus(this, 'elastic-integrations-apache-tests');
    const access = path.join(dir, 'access', 'test-access-basic.log');
    // Not one line parsed: the summary is still printed, with a warning and exit status 65 (README, exit statuses).
    const forced = await runCli(['analyze', '--json', '--format', 'error', access]);
    assert.equal(forced.code, 65, forced.stderr);
    assert.match(forced.stderr, /none of the \d+ lines parsed as error/);
    const forcedError = JSON.parse(forced.stdout);
    assert.equal(forcedError.files[0].kind, 'error');
    assert.equal(forcedError.files[0].parsed, 0);
    assert.equal(forcedError.unparsed, forcedError.lines);
    const nick = await analyzeJson(['--format', 'combined', access]);
    assert.equal(nick.files[0].format, 'access (combined)');
    // A fixed nickname is the parser with that format only: the lines of other formats are unparsed, which
    // detection (the parser's format: auto) reads.
    const auto = await analyzeJson([access]);
    assert.equal(auto.requests, readLines(access).length);
    assert.ok(nick.unparsed > 0);
    assert.deepEqual(Object.keys(nick.files[0].unparsed_reasons), ['format_mismatch']);
    assert.equal(nick.requests + nick.unparsed, auto.requests);

    const custom = await tmp.file('custom.log', [
      '10.0.0.1 [25/Nov/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 100 1234',
      '10.0.0.2 [25/Nov/2026:10:00:01 +0000] "GET /b HTTP/1.1" 503 - 99',
      'not a line of that format',
    ].join('\n') + '\n');
    const lf = await analyzeJson(['--log-format', '%h %t "%r" %>s %b %D', custom]);
    assert.deepEqual([lf.requests, lf.errors, lf.bytes, lf.unparsed], [2, 1, 100, 1]);

    const unknown = await runCli(['analyze', '--format', 'nginx', custom]);
    assert.equal(unknown.code, 78);
    assert.match(unknown.stderr, /unknown --format "nginx": expected auto, access, error, or an access LogFormat nickname \(common, combined/);
    assert.equal(unknown.stdout, '');
    const badLf = await runCli(['analyze', '--log-format', '%h %{bad', custom]);
    assert.equal(badLf.code, 78);
    assert.match(badLf.stderr, /invalid --log-format/);
  });

  it('a missing file is named on stderr, the others are analysed, exit 1', async function () {
    const nasa = path.join(corpus(this, 'nasa-http-aug95-subset'), 'nasa.log');
    const missing = path.join(tmp.dir, 'nope.log');
    const r = await runCli(['analyze', '--json', missing, nasa, tmp.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`cannot read ${missing}: no such file or directory \\(ENOENT\\)`));
    assert.match(r.stderr, new RegExp(`cannot read ${tmp.dir}: is a directory`));
    const j = JSON.parse(r.stdout);
    assert.equal(j.requests, readLines(nasa).length);
    assert.match(j.files[0].error, /ENOENT/);
    assert.equal(j.files[1].parsed, readLines(nasa).length);
  });

  it('a file read in parts by worker threads gives the same report as one thread', async function () {
    const nasa = path.join(corpus(this, 'nasa-http-aug95-subset'), 'nasa.log');
    const elastic = path.join(corpus(this, 'elastic-examples-apache_logs'), 'apache_logs');
    // Two real logs one after the other, with blank and foreign lines scattered through every part.
    const lines = [...readLines(nasa), ...readLines(elastic)];
    let n = 0;
    for (let i = 1000; i < lines.length; i += 2500) lines.splice(i, 0, n++ % 3 === 1 ? '' : `garbage line ${i}`);
    const file = await tmp.file('mixed.log', lines.join('\n') + '\n');
    const strip = (r: { code: number | null; stdout: string; stderr: string }) => {
      assert.equal(r.code, 0, r.stderr);
      const { elapsed_ms: _e, lines_per_second: _l, ...rest } = JSON.parse(r.stdout);
      return rest;
    };
    const one = strip(await runCli(['analyze', '--json', '--top', '20', file], { env: { VISOR_ANALYZE_THREADS: '1' } }));
    const three = strip(await runCli(['analyze', '--json', '--top', '20', file], { env: { VISOR_ANALYZE_THREADS: '3' } }));
    assert.deepEqual(three, one);
    assert.equal(one.requests, readLines(nasa).length + readLines(elastic).length);
    assert.ok(one.unparsed >= 10);
    assert.deepEqual(Object.keys(one.files[0].unparsed_reasons).sort(), ['empty_line', 'format_mismatch']);
    assert.equal(one.files[0].unparsed_reasons.format_mismatch.first_line, 1001);
  });

  it('error logs: levels, modules and message templates (with samples) are the same read in parts; --message-level', async () => {
    const file = path.join(tmp.dir, 'gen-error.log');
    const gen = await runCli(['generate', '-f', 'error_2.4', '-n', '30000', '--seed', '11', '--start-time', '2026-01-01T00:00:00Z', '-o', file]);
    assert.equal(gen.code, 0, gen.stderr);
    const run = async (threads: string, extra: string[] = []) => {
      const r = await runCli(['analyze', '--json', '--timezone', 'UTC', ...extra, file], { env: { VISOR_ANALYZE_THREADS: threads } });
      assert.equal(r.code, 0, r.stderr);
      const { elapsed_ms: _e, lines_per_second: _l, ...rest } = JSON.parse(r.stdout);
      return rest;
    };
    const one = await run('1');
    const three = await run('3');
    assert.deepEqual(three, one);
    // A brute-force count of the levels, straight from the lines.
    const levels: Record<string, number> = {};
    for (const l of readLines(file)) { const m = /^\[[^\]]+\] \[[^:\]]+:(\w+)\]/.exec(l)!; levels[m[1]!] = (levels[m[1]!] ?? 0) + 1; }
    assert.deepEqual({ ...one.error_log_levels }, levels);
    assert.equal(one.error_message_level, 'warn');
    const rank = ['emerg', 'alert', 'crit', 'error', 'warn'];
    assert.ok(one.top_error_messages.length === 10 && one.top_error_messages.every((m: Json) => rank.includes(m.level) && typeof m.sample === 'string'));
    const errorsOnly = await run('1', ['--message-level', 'error']);
    assert.ok(errorsOnly.top_error_messages.every((m: Json) => rank.slice(0, 4).includes(m.level)), 'error and worse');
    assert.deepEqual(errorsOnly.error_log_levels, one.error_log_levels);
    const refused = await runCli(['analyze', '--message-level', 'loud', file]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /message-level/);
  });

  it('no progress bar when stderr is not a terminal', async function () {
    const nasa = path.join(corpus(this, 'nasa-http-aug95-subset'), 'nasa.log');
    const r = await runCli(['analyze', nasa]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.doesNotMatch(r.stdout, /[\r\x1b]/);
  });

  it('a progress bar on a terminal (script -qfc), erased at the end; none with --no-progress', async function () {
    const script = onPath('script');
    if (!script) {
      console.log('      (skipped: `script` from util-linux is not installed: no pseudo-terminal to test the bar)');
      this.skip();
    }
    // Enough lines for several redraws: a generated combined file of ~60 MB.
    const line = '203.0.113.9 - - [25/Nov/2026:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 5120 "-" "curl/8.4.0"\n';
    const big = path.join(tmp.dir, 'big.log');
    writeFileSync(big, line.repeat(600_000));
    const out = path.join(tmp.dir, 'out.txt');
    const run = (extra: string) => spawnSync(script, ['-qfc', `${process.execPath} ${CLI} analyze ${extra} ${big} > ${out}`, '/dev/null'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, COLUMNS: '100' } });
    const r = run('');
    assert.equal(r.status, 0, r.stderr);
    const tty = r.stdout; // what the terminal received: stderr only (stdout went to the file)
    assert.match(tty, /\r\[[#-]+\] +\d+% [\d.]+ MB\/[\d.]+ MB {2}[\d,]+ lines\/s {2}ETA [\d\w-]+ {2}big\.log\x1b\[K/);
    assert.ok(tty.endsWith('\r\x1b[K'), `the bar is erased at the end: ${JSON.stringify(tty.slice(-40))}`);
    const report = readFileSync(out, 'utf8');
    assert.match(report, /^report visor: /);
    assert.match(report, /requests: 600000 /);
    assert.doesNotMatch(report, /\x1b/);
    const quiet = run('--no-progress');
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stdout, '');
  });

  describe('--html in Chromium', function () {
    let browser: Browser;
    before(async function () { browser = await requireChromium(this); });
    after(async () => { await browser?.close(); });

    it('--html writes a self-contained report that renders in Chromium with the right totals', async function () {
      const dir = corpus(this, 'raspim-raspbian-apache22');
      const names = ['access.log', 'access.log.1', 'access.log.2.gz', 'error.log', 'error.log.1', 'error.log.2.gz'];
      const files = names.map((n) => ({ file: path.join(dir, n), kind: (n.startsWith('access') ? 'access' : 'error') as 'access' | 'error' }));
      const b = bruteForce(files);
      const html = path.join(tmp.dir, 'report.html');
      const j = await analyzeJson(['--html', html, '--timezone', 'UTC', ...files.map((f) => f.file)]);
      assert.equal(j.html, html);
      assert.equal(j.requests, b.requests);
      // The charts' buckets span the whole range (coarser than a minute for these 10 days): every request is in them.
      const state = JSON.parse(/<script type="application\/json" id="visor-state">([\s\S]*?)<\/script>/.exec(readFileSync(html, 'utf8'))![1]!);
      assert.equal(state.bucket_ms, 15 * 60_000);
      assert.ok(state.series.t[0] <= j.window_start);
      assert.equal(state.series.requests.reduce((a: number, n: number) => a + n, 0), b.requests);
      assert.equal(state.series.error_log_lines.reduce((a: number, n: number) => a + n, 0), b.errorLines);
      const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
      const problems = watchPage(page);
      try {
        await page.goto(`file://${html}`);
        await page.waitForSelector('body[data-rendered]');
        const kpi = (id: string) => page.getAttribute(`[data-test="kpi-${id}"]`, 'data-value');
        assert.equal(await kpi('requests'), String(b.requests));
        assert.equal(await kpi('error-log-lines'), String(b.errorLines));
        assert.equal(Number(await kpi('error-rate')), b.errors / b.requests);
        const rows = await page.$$eval('[data-test="row-clients"]', (trs) => trs.map((tr) => [tr.getAttribute('data-value'), Number(tr.getAttribute('data-count'))]));
        assert.deepEqual(rows.slice(0, 3), topOf(b.clients, 3).map((t) => [t.value, t.count]));
        const ink = await chartInk(page);
        for (const chart of ['chart-traffic', 'chart-status', 'chart-bytes']) assert.ok((ink[chart] ?? 0) > 0, `${chart} is drawn: ${JSON.stringify(ink)}`);
        // Error-log panels: lines per level equal the brute-force count; the templates are those of --json; no alerts panel.
        const levels = await page.$$eval('[data-test="row-error_levels"]', (trs) => trs.map((tr) => [tr.getAttribute('data-value'), Number(tr.getAttribute('data-count'))]));
        assert.deepEqual(Object.fromEntries(levels), b.levels);
        const messages = await page.$$eval('[data-test="row-error_messages"]', (trs) => trs.map((tr) => ({ value: tr.getAttribute('data-value'), count: Number(tr.getAttribute('data-count')), level: tr.getAttribute('data-level') })));
        assert.deepEqual(messages, j.top_error_messages.map(({ value, count, level }: Json) => ({ value, count, level })));
        assert.equal(await page.locator('[data-test="alerts"]').count(), 0, 'a static report has no recent-alerts panel');
        assert.deepEqual(problems.errors, []);
        assert.deepEqual(problems.requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:')), [], 'nothing loaded from the network');
      } finally {
        await page.close();
      }
    });
  });
});
