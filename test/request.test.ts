// The request filter and lib/insight's request classification and unique visitors; the visitors, static
// requests and status split equal GoAccess's on the same generated log (Debian's goaccess, its default config).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseTimeZone, type Event } from '../core/index.js';
import { ConfigError, runPipeline, testPlugin } from '../core/testing/index.js';
import {
  decodePath, fileType, GOACCESS_STATIC_EXTENSIONS, isStaticContentType, responseTimeMs, splitQuery, UniqueVisitors, visitorDate, VisitorDates, visitorKey,
} from '../lib/insight/index.js';
import { onPath, skipWhenMissing, tempDir } from './support/helpers.js';
import { rng } from './bench/apache-lines.js';

async function classify(events: Event[], options: Record<string, unknown> = {}): Promise<Event[]> {
  const t = await testPlugin('request', { options });
  await t.send(events);
  await t.end();
  return t.events.out;
}

describe('request', function () {
  this.timeout(30000);

  it('file type and static by extension: the last segment\'s, lowercased; dot files, path info and a trailing dot have none', async () => {
    const cases: Array<[string, string | null, boolean]> = [
      ['/', null, false], ['/index.php', 'php', false], ['/a/b.CSS', 'css', true], ['/img/x.PNG', 'png', true],
      ['/app.min.js', 'js', true], ['/x.tar.gz', 'gz', true], ['/.env', null, false], ['/a.b/c', null, false],
      ['/index.php/x.y/z', null, false], ['/file.', null, false], ['/fonts/a.woff2', 'woff2', true], ['/pic.webp', 'webp', true],
      ['/about', null, false], ['/.well-known/security.txt', 'txt', true], ['/wp-login.php', 'php', false],
      ['/a.jsp;jsessionid=F00', 'jsp', false], ['/s/x.css;v=2', 'css', true], ['/a;b.c', null, false], ['/a.;x', null, false], ['a.gif', 'gif', true],
    ];
    const out = await classify(cases.map(([path]) => ({ path, query: null })));
    assert.deepEqual(out.map((e) => [e.path, e.file_type, e.is_static]), cases);
    for (const [p, ext] of cases) assert.equal(fileType(p), ext, p);
  });

  it('static by content type when it is logged, and static_extensions replaces the list', async () => {
    const out = await classify([
      { path: '/download.php', sent_http_content_type: 'application/pdf' }, { path: '/thumb', sent_http_content_type: 'image/jpeg' },
      { path: '/', sent_http_content_type: 'text/html; charset=UTF-8' }, { path: '/api/x', sent_http_content_type: 'application/json' },
      { path: '/s', sent_http_content_type: ' Text/CSS' }, { path: '/a.css', sent_http_content_type: 'text/html' }, { path: '/a.webp', sent_http_content_type: null },
    ], { static_extensions: [...GOACCESS_STATIC_EXTENSIONS] });
    assert.deepEqual(out.map((e) => e.is_static), [true, true, false, false, true, true, false]);
    assert.ok(isStaticContentType('font/woff2') && isStaticContentType('application/javascript; charset=utf-8') && !isStaticContentType('text/plain'));
  });

  it('splits the query from the path when the field still holds it; keeps the query the event has', async () => {
    const out = await classify([
      { path: '/a?b=1&c', query: null }, { path: '/a', query: 'x=1' }, { path: '/a?', query: undefined }, { path: null }, { path: 42 },
    ]);
    assert.deepEqual(out.map((e) => [e.path, e.query, e.is_static, e.file_type]), [
      ['/a', 'b=1&c', false, null], ['/a', 'x=1', false, null], ['/a', '', false, null], [null, undefined, false, null], [42, undefined, false, null],
    ]);
    const fromUrl = await classify([{ url: '/s/app.js?v=3' }, { url: '/plain' }], { field: 'url' });
    assert.deepEqual(fromUrl.map((e) => [e.path, e.query, e.is_static]), [['/s/app.js', 'v=3', true], ['/plain', null, false]]);
    assert.deepEqual(splitQuery('/x?y?z'), ['/x', 'y?z']);
  });

  it('decode: percent-decoding as UTF-8, invalid escapes kept, %2F kept, bad UTF-8 as U+FFFD', async () => {
    const cases: Array<[string, string]> = [
      ['/plain', '/plain'], ['/a%20b', '/a b'], ['/caf%C3%A9', '/café'], ['/%E2%82%AC%20', '/€ '], ['/a%2Fb%2fc', '/a%2Fb%2fc'],
      ['/a%zz%4', '/a%zz%4'], ['/end%', '/end%'], ['/%E9t%E9', '/\uFFFDt\uFFFD'], ['/%C3%28', '/\uFFFD('], ['/a+b', '/a+b'],
      ['/%252F', '/%2F'], ['/%41%42%2F%43', '/AB%2FC'],
    ];
    const out = await classify(cases.map(([path]) => ({ path })), { decode: true });
    assert.deepEqual(out.map((e) => [e.path, e.path_decoded]), cases);
    for (const [p, d] of cases) assert.equal(decodePath(p), d);
    const plain = await classify([{ path: '/a%20b' }]);
    assert.ok(!('path_decoded' in plain[0]), 'no path_decoded without decode: true');
  });

  it('response_time_ms from %D, %{ms}T and %T as apache_access parses them', async () => {
    const t = await runPipeline({ yaml: `
inputs:  { src: { type: test_script } }
filters:
  d:  { type: apache_access, inputs: [src], log_format: '%h %t "%r" %>s %D "%{Content-Type}o"' }
  ms: { type: apache_access, inputs: [src], log_format: '%h %t "%r" %>s %{ms}T "%{Content-Type}o"' }
  s:  { type: apache_access, inputs: [src], log_format: '%h %t "%r" %>s %T "%{Content-Type}o"' }
  rd: { type: request, inputs: [d] }
  rms: { type: request, inputs: [ms] }
  rs: { type: request, inputs: [s] }
outputs:
  out_d: { type: test_record, inputs: [rd] }
  out_ms: { type: test_record, inputs: [rms] }
  out_s: { type: test_record, inputs: [rs] }
` });
    await t.send([
      { message: '203.0.113.9 [10/Oct/2026:13:55:36 +0200] "GET /x.png?s=2 HTTP/1.1" 200 1534 "image/png"' },
      { message: '203.0.113.9 [10/Oct/2026:13:55:37 +0200] "GET /page HTTP/1.1" 200 2 "text/html"' },
    ]);
    await t.end();
    assert.deepEqual(t.events.out_d.map((e) => [e.response_time_ms, e.is_static, e.path, e.query]), [[1.534, true, '/x.png', 's=2'], [0.002, false, '/page', null]]);
    assert.deepEqual(t.events.out_ms.map((e) => e.response_time_ms), [1534, 2]);
    assert.deepEqual(t.events.out_s.map((e) => e.response_time_ms), [1534000, 2000]);
    assert.equal(responseTimeMs({ status: 200 }), null);
    assert.equal(responseTimeMs({ duration_us: 10, duration_s: 0 }), 0.01, 'the most precise one');
  });

  it('visitor: date in the time zone + client_ip + user_agent; the date turns at midnight there', async () => {
    const midnight = Date.UTC(2026, 0, 1, 22, 0, 0); // 2026-01-02 00:00 at +0200
    const out = await classify([
      { timestamp: midnight - 1, client_ip: '198.51.100.1', user_agent: 'UA|1' },
      { timestamp: midnight, client_ip: '198.51.100.1', user_agent: 'UA|1' },
      { timestamp: midnight, client_ip: '198.51.100.1', user_agent: null },
      { timestamp: 'yesterday', client_ip: '198.51.100.1' },
    ], { visitor: true, timezone: '+0200' });
    assert.deepEqual(out.map((e) => e.visitor), ['2026-01-01|198.51.100.1|UA|1', '2026-01-02|198.51.100.1|UA|1', '2026-01-02|198.51.100.1|', null]);
    const berlin = parseTimeZone('Europe/Berlin');
    assert.equal(visitorDate(Date.UTC(2026, 6, 1, 21, 59, 59), berlin), '2026-07-01');
    assert.equal(visitorDate(Date.UTC(2026, 6, 1, 22, 0, 0), berlin), '2026-07-02', 'CEST is +0200');
    assert.equal(visitorKey('2026-07-02', undefined, undefined), '2026-07-02||');
    // The quarter-hour memo gives the date visitorDate gives, across midnights and DST changes, in zones with
    // whole-hour, quarter-hour (Kathmandu, +0545) and half-hour DST (Lord Howe) offsets.
    for (const name of ['Europe/Berlin', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'America/St_Johns', 'UTC']) {
      const zone = parseTimeZone(name);
      const memo = new VisitorDates(zone);
      for (const start of [Date.UTC(2026, 2, 28, 12), Date.UTC(2026, 3, 4, 6), Date.UTC(2026, 9, 3, 6), Date.UTC(2026, 9, 24, 12)]) {
        for (let ts = start; ts < start + 2 * 86_400_000; ts += 7 * 60_000 + 13_000) assert.equal(memo.of(ts), visitorDate(ts, zone), `${name} ${new Date(ts).toISOString()}`);
      }
    }
  });

  it('bad options are config errors, located', async () => {
    for (const options of [{ static_extensions: ['.css'] }, { static_extensions: [] }, { timezone: 'Mars/Olympus' }, { decode: 'yes please' }, { field: '' }]) {
      const err = await testPlugin('request', { options }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof ConfigError, JSON.stringify(options));
      assert.match(err.message, /pipeline\.yaml:\d+:\d+: /);
    }
  });

  describe('beside GoAccess', () => {
    before(function () {
      skipWhenMissing(this, onPath('goaccess') ? undefined : 'goaccess is not installed (Debian package goaccess)');
    });

    it('unique visitors per day, static requests and not-found hits equal GoAccess\'s on a generated log', async () => {
      // 3 days of combined lines logged at +0200, from 80 addresses with 5 user agents, some 404s and other 4xx.
      const rand = rng(7);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
      const uas = ['Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/119.0 Safari/537.36', 'curl/8.4.0', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1', '-'];
      const paths = ['/', '/index.php', '/a/b.css', '/img/x.PNG', '/app.js', '/doc.pdf', '/about', '/x.tar.gz', '/fonts/f.woff2', '/feed.xml'];
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) {
        const day = 1 + Math.floor((i * 3) / 3000);
        const time = `${String(day).padStart(2, '0')}/Mar/2026:${String(Math.floor(rand() * 24)).padStart(2, '0')}:${String(Math.floor(rand() * 60)).padStart(2, '0')}:07 +0200`;
        const ip = rand() < 0.5 ? `198.51.100.${1 + Math.floor(rand() * 40)}` : `2001:db8::${(1 + Math.floor(rand() * 40)).toString(16)}`;
        lines.push(`${ip} - - [${time}] "GET ${pick(paths)} HTTP/1.1" ${pick([200, 200, 200, 304, 404, 403])} 512 "-" "${pick(uas)}"`);
      }
      const tmp = await tempDir();
      try {
        const log = await tmp.file('access.log', lines.join('\n') + '\n');
        const json = path.join(tmp.dir, 'report.json');
        // Debian's /etc/goaccess/goaccess.conf holds GoAccess's static-file list (GOACCESS_STATIC_EXTENSIONS).
        const r = spawnSync('goaccess', [log, '--log-format=COMBINED', '-o', json], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const report = JSON.parse(await readFile(json, 'utf8'));

        const t = await runPipeline({ yaml: `
inputs:  { src: { type: test_script } }
filters:
  access: { type: apache_access, inputs: [src], format: combined }
  req: { type: request, inputs: [access], visitor: true, timezone: '+0200', static_extensions: [${GOACCESS_STATIC_EXTENSIONS.join(', ')}] }
outputs:
  out: { type: test_record, inputs: [req] }
` });
        await t.send(lines.map((message) => ({ message })));
        await t.end();
        const events = t.events.out;
        assert.equal(events.length, lines.length);

        const visitors = new UniqueVisitors(parseTimeZone('+0200'));
        for (const e of events) visitors.add(e.timestamp, e.client_ip, e.user_agent, e.status);
        const theirs = (report.visitors.data as Array<{ data: string; visitors: { count: number } }>)
          .map((d) => ({ date: `${d.data.slice(0, 4)}-${d.data.slice(4, 6)}-${d.data.slice(6)}`, visitors: d.visitors.count }))
          .sort((a, b) => (a.date < b.date ? -1 : 1));
        assert.deepEqual(visitors.perDate(), theirs);
        assert.equal(visitors.total, report.general.unique_visitors);
        // The visitor field is the same key: its distinct values over the counted requests are the same number.
        assert.equal(new Set(events.filter((e) => !(Number(e.status) >= 400 && Number(e.status) < 500)).map((e) => e.visitor)).size, report.general.unique_visitors);

        const staticHits = events.filter((e) => e.is_static && e.status !== 404).length;
        assert.equal(staticHits, report.static_requests.metadata.hits.total.value);
        assert.equal(events.filter((e) => e.status === 404).length, report.not_found.metadata.hits.total.value);
        assert.ok(staticHits > 0 && visitors.total > 100, 'the log exercises both');
      } finally {
        await tmp.remove();
      }
    });
  });
});
