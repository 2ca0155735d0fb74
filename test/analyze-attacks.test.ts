// `visor analyze`'s attack detection as a user runs it (the built CLI): the alerts on the attack fixtures equal those
// of the detect aggregate in a real tail -> apache_access / apache_error -> detect pipeline over the same lines; a
// file read in parts by worker threads gives the one-thread alerts exactly (attack sequences straddle the parts, the
// evidence of worker parts read back from the file); a rotated set given newest first is read oldest first; benign
// corpora give none; --no-detect and --detect-config; the --html page's Attacks panel in real Chromium.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { Event } from '../core/index.js';
import { DEFAULT_PACK } from '../lib/detect/index.js';
import { attackTimeline, requireChromium, watchPage } from './support/browser.js';
import { corpus, readLines } from './support/corpora.js';
import { ROOT, runCli, tempDir } from './support/helpers.js';
import { startPipeline } from './support/pipeline-harness.js';
import { runGenerate } from '../bin/generate-run.js';
import { benignDay } from './bench/detect.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const FIXTURE = path.join(ROOT, 'test/fixtures/attacks/side-by-side.access.txt');
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

/** A combined line at epoch ms `t`. */
function line(ip: string, target: string, status: number, t: number, ua = UA): string {
  const d = new Date(t);
  const ts = `${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
  return `${ip} - - [${ts}] "GET ${target} HTTP/1.1" ${status} 512 "-" "${ua}"`;
}

async function analyze(args: string[], threads = '1'): Promise<Json> {
  const r = await runCli(['analyze', '--json', '--timezone', 'UTC', ...args], { env: { VISOR_ANALYZE_THREADS: threads } });
  assert.equal(r.code, 0, r.stderr);
  const { elapsed_ms: _e, lines_per_second: _l, ...rest } = JSON.parse(r.stdout);
  return rest;
}

/** An alert without the fields that name when it was emitted (the aggregate's clock; analyze's event time). */
const comparable = (a: Event) => {
  const { time: _t, ...rest } = a;
  return rest;
};

/** The detect aggregate's alerts over the files, in a pipeline (tail -> parser -> detect). */
async function pipelineAlerts(access: string[], errors: string[] = []): Promise<Event[]> {
  const h = await startPipeline(`
inputs:
${access.length ? `  a: { type: tail, path: ${JSON.stringify(access)}, read_from: beginning, exit_on_eof: true }` : ''}
${errors.length ? `  e: { type: tail, path: ${JSON.stringify(errors)}, read_from: beginning, exit_on_eof: true }` : ''}
filters:
${access.length ? '  access: { type: apache_access, inputs: [a], format: auto, timezone: UTC }' : ''}
${errors.length ? '  error: { type: apache_error, inputs: [e], timezone: UTC }' : ''}
  bot: { type: bot, inputs: [${[access.length ? 'access' : '', errors.length ? 'error' : ''].filter(Boolean).join(', ')}] }
aggregates:
  det: { type: detect, inputs: [bot] }
outputs:
  out: { type: test_record, inputs: [det] }
`);
  await h.pipeline.done();
  return h.probe('out').written;
}

describe('visor analyze: attack detection', function () {
  this.timeout(120_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir('visor-analyze-attacks-'); });
  afterEach(async () => { await tmp.remove(); });

  it('the attack fixture: the alerts of the detect aggregate in a pipeline, in --json and in the text', async () => {
    const j = await analyze([FIXTURE]);
    const expected = await pipelineAlerts([FIXTURE]);
    assert.deepEqual(j.alerts.map(comparable), expected.map(comparable));
    assert.equal(j.detect.alerts + j.detect.digests, expected.length);
    // analyze emits each alert at the event time it fired at (a one-shot report has no "now").
    for (const a of j.alerts) assert.equal(a.time, a.last);
    // The attacks the fixture was written to hold (README: CrowdSec side by side), each with its evidence lines.
    const fired = new Set(j.alerts.map((a: Json) => `${a.rule} ${a.client_ip}`));
    for (const f of ['probing 203.0.113.10', 'sensitive-files 203.0.113.11', 'path-traversal 203.0.113.12', 'path-traversal 203.0.113.13',
      'sql-injection 203.0.113.14', 'xss-probe 203.0.113.15', 'exploit-strings 203.0.113.16', 'brute-force 203.0.113.20']) assert.ok(fired.has(f), `${f}: ${[...fired].join(', ')}`);
    const lines = new Set(readLines(FIXTURE));
    for (const a of j.alerts) assert.ok(a.evidence.length > 0 && a.evidence.every((l: string) => lines.has(l)), `${a.rule}: evidence is lines of the file`);
    // The near-misses of the fixture (one client each) fire nothing.
    for (const ip of ['198.51.100.30', '198.51.100.31', '198.51.100.32']) assert.ok(!j.alerts.some((a: Json) => a.client_ip === ip), `${ip} is a near-miss`);
    // The attacks summary counts the firings (a quiet period's digest is no new attack: lib/stats/attacks.ts).
    const firings = expected.filter((a) => a.state === 'firing');
    assert.ok(firings.length > 0 && firings.length < expected.length, 'the fixture has firings and digests');
    assert.equal(j.attacks.alerts, firings.length);
    assert.deepEqual(Object.fromEntries(j.attacks.rules.map((r: Json) => [r.rule, r.alerts])),
      firings.reduce((m: Record<string, number>, a) => ({ ...m, [a.rule as string]: (m[a.rule as string] ?? 0) + 1 }), {}));
    const text = await runCli(['analyze', '--timezone', 'UTC', FIXTURE]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^attacks: ${firings.length} alerts$`, 'm'));
    assert.match(text.stdout, /^attack rules: .*probing \[warning\] \(1\)/m);
    assert.match(text.stdout, /^attacking clients: .*203\.0\.113\.10 \(1: probing; last 2026-12-01 10:00:16 \+00:00\)/m);
    assert.match(text.stdout, new RegExp(`^attack detection: ${DEFAULT_PACK.length} rules, ${j.detect.matches} matching events, ${firings.length} alerts and ${expected.length - firings.length} quiet-period digests \\(above\\)$`, 'm'));
  });

  it('the crowdsec-hub-tests corpus (access and error lines): the pipeline\'s alerts', async function () {
    const dir = corpus(this, 'crowdsec-hub-tests');
    const access: string[] = [];
    const errors: string[] = [];
    for (const d of ['apache-cve-2021-41773', 'apache_log4j2_cve-2021-44228', 'apache2-http-sensitive-files', 'apache-http-probing', 'apache2-logs']) {
      for (const l of readLines(path.join(dir, d, `${d}.log`))) (l.startsWith('[') ? errors : access).push(l);
    }
    const a = await tmp.file('access.log', access.join('\n') + '\n');
    const e = await tmp.file('error.log', errors.join('\n') + '\n');
    const j = await analyze([a, e]);
    const rules = new Set(j.alerts.map((x: Json) => x.rule));
    for (const r of ['path-traversal', 'exploit-strings', 'sensitive-files', 'probing']) assert.ok(rules.has(r), `${r} did not fire: ${[...rules].join(', ')}`);
    // The pipeline reads the two files at once (two tail inputs): compare per client and rule, not in order.
    const key = (x: Json) => `${x.rule} ${x.client_ip} ${x.first} ${x.count}`;
    assert.deepEqual(j.alerts.map(key).sort(), (await pipelineAlerts([a], [e])).map(key).sort());
  });

  it('a file read in parts by worker threads gives the one-thread alerts exactly, across the parts', async function () {
    const elastic = readLines(path.join(corpus(this, 'elastic-examples-apache_logs'), 'apache_logs'));
    const base = Date.UTC(2026, 0, 5, 8, 0, 0);
    // Attackers whose sequences run through the whole file, so every bucket crosses the part boundaries: a prober
    // (404s 2 s apart, 16 distinct fire), a crawler (distinct pages 0.2 s apart), a scanner agent in every
    // part (one-shot, then quiet), a traversal with a UTF-8 path (evidence read back from a worker's part).
    const out: string[] = [];
    let k = 0;
    for (let i = 0; i < elastic.length; i++) {
      out.push(elastic[i]!);
      if (i % 300 === 0) out.push(line('192.0.2.201', `/probe/${k}.php`, 404, base + k * 2000));
      if (i % 40 === 0) out.push(line('192.0.2.202', `/page/${i}`, 200, base + (i / 40) * 200));
      if (i % 2500 === 0) out.push(line('192.0.2.203', '/', 200, base + i * 1000, 'sqlmap/1.7.2#stable (https://sqlmap.org)'));
      if (i % 3000 === 1500) out.push(line('192.0.2.204', `/caf\u00e9/${i}/..%2f..%2fetc/passwd`, 400, base + i * 1000));
      if (i % 300 === 0) k++;
    }
    const file = await tmp.file('mixed.log', out.join('\n') + '\n');
    const one = await analyze([file], '1');
    const three = await analyze([file], '3');
    assert.deepEqual(three, one);
    const fired = one.alerts.map((a: Json) => `${a.rule} ${a.client_ip}`);
    for (const ip of ['192.0.2.201', '192.0.2.202', '192.0.2.203', '192.0.2.204']) assert.ok(fired.some((f: string) => f.endsWith(ip)), `${ip}: ${fired.join(', ')}`);
    const lines = new Set(out);
    for (const a of one.alerts) assert.ok(a.evidence.every((l: string) => lines.has(l)), `${a.rule} ${a.client_ip}: evidence is lines of the file`);
    assert.ok(one.alerts.some((a: Json) => a.evidence.some((l: string) => l.includes('caf\u00e9'))), 'a UTF-8 line read back whole');
    // A probe every 2 s leaks 1 per 10 s: the 16th distinct path within the bucket fires, more than once over the file.
    assert.ok(fired.filter((f: string) => f === 'probing 192.0.2.201').length >= 1);
  });

  it('a rotated set given newest first is read oldest first (buckets never leak backwards)', async () => {
    // One client browsing 120 distinct pages a day, one every 10 minutes: never a crawl. Read today before
    // yesterday, yesterday's pages would all pour at today's last time and overflow aggressive-crawl.
    const day = Date.UTC(2026, 10, 20);
    const page = (d: number, i: number) => line('192.0.2.210', `/article/${d}-${i}`, 200, day + d * 86_400_000 + i * 600_000);
    const older = await tmp.file('access.log.1', Array.from({ length: 120 }, (_, i) => page(0, i)).join('\n') + '\n');
    const newer = await tmp.file('access.log', Array.from({ length: 120 }, (_, i) => page(1, i)).join('\n') + '\n');
    const given = await analyze([newer, older]);
    assert.deepEqual(given.alerts, []);
    assert.deepEqual(given.files.map((f: Json) => path.basename(f.file)), ['access.log', 'access.log.1'], 'listed as given');
    // The same lines in one file in the wrong order do fire: the test can tell.
    const wrong = await tmp.file('wrong.log', `${readFileSync(newer, 'utf8')}${readFileSync(older, 'utf8')}`);
    assert.ok((await analyze([wrong])).alerts.some((a: Json) => a.rule === 'aggressive-crawl'));
  });

  it('benign corpora and a generated benign day give no alerts', async function () {
    const files = [
      path.join(corpus(this, 'elastic-examples-apache_logs'), 'apache_logs'),
      path.join(corpus(this, 'nasa-http-aug95-subset'), 'nasa.log'),
    ];
    // The detect aggregate's benign day (test/bench/detect.ts: the generator's traffic minus its attacks by design).
    const gen = path.join(tmp.dir, 'day.log');
    const { type: _type, ...day } = benignDay(150_000, 5);
    await runGenerate(day, { kind: 'stream', file: gen });
    for (const f of [...files, gen]) {
      const j = await analyze([f]);
      assert.ok(j.detect.matches > 1000, `${f}: the rules saw its requests (${j.detect.matches} matches)`);
      assert.deepEqual(j.alerts.map((a: Json) => `${a.rule} ${a.client_ip}`), [], f);
      assert.equal(j.attacks, undefined);
    }
  });

  it('--no-detect runs none; --detect-config takes a pipeline\'s detect aggregate, validated as visor validate does', async () => {
    const off = await analyze(['--no-detect', FIXTURE]);
    assert.equal(off.alerts, undefined);
    assert.equal(off.detect, undefined);
    assert.equal(off.attacks, undefined);
    const config = await tmp.file('visor.yaml', `inputs:
  logs: { type: tail, path: /var/log/apache2/access.log }
filters:
  access: { type: apache_access, inputs: [logs] }
aggregates:
  det: { type: detect, inputs: [access], disable: [probing], allow_networks: [203.0.113.12/32], override: { sensitive-files: { capacity: 100 } } }
outputs:
  out: { type: blackhole, inputs: [det] }
`);
    const tuned = await analyze(['--detect-config', config, FIXTURE]);
    const fired = tuned.alerts.map((a: Json) => `${a.rule} ${a.client_ip}`);
    assert.equal(tuned.detect.rules, DEFAULT_PACK.length - 1);
    assert.ok(tuned.detect.allowed > 0);
    for (const gone of ['probing 203.0.113.10', 'sensitive-files 203.0.113.11', 'path-traversal 203.0.113.12']) assert.ok(!fired.includes(gone), gone);
    assert.ok(fired.includes('path-traversal 203.0.113.13'));
    const bad = await tmp.file('bad.yaml', `inputs:
  logs: { type: tail, path: /var/log/apache2/access.log }
aggregates:
  det: { type: detect, inputs: [logs], disable: [no-such-rule], allow_networks: [10.0.0.0/33] }
outputs:
  out: { type: blackhole, inputs: [det] }
`);
    const r = await runCli(['analyze', '--detect-config', bad, FIXTURE]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /bad\.yaml:4:\d+: .*no rule is named "no-such-rule"/);
    assert.match(r.stderr, /bad\.yaml:4:\d+: .*prefix length/);
    assert.equal(r.stdout, '');
    const none = await tmp.file('none.yaml', 'inputs:\n  i: { type: stdin }\noutputs:\n  o: { type: blackhole, inputs: [i] }\n');
    const r2 = await runCli(['analyze', '--detect-config', none, FIXTURE]);
    assert.equal(r2.code, 78);
    assert.match(r2.stderr, /none\.yaml: has no detect aggregate/);
    const both = await runCli(['analyze', '--no-detect', '--detect-config', config, FIXTURE]);
    assert.equal(both.code, 78);
    // verify_crawlers looks crawlers up as they arrive: over logs already written, analyze says it does not.
    const dns = await tmp.file('dns.yaml', readFileSync(config, 'utf8').replace('disable: [probing]', 'verify_crawlers: true'));
    const r3 = await runCli(['analyze', '--json', '--detect-config', dns, FIXTURE]);
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stderr, /verify_crawlers is not applied to logs already written/);
  });

  describe('--html in Chromium', function () {
    let browser: Browser;
    before(async function () { browser = await requireChromium(this); });
    after(async () => { await browser?.close(); });

    it('the page shows the Attacks panel with the alerts of --json', async () => {
      const html = path.join(tmp.dir, 'report.html');
      const j = await analyze(['--html', html, FIXTURE]);
      const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
      const problems = watchPage(page);
      try {
        await page.goto(`file://${html}`);
        await page.waitForSelector('body[data-rendered]');
        await page.waitForSelector('[data-test="attacks"]');
        const rows = (sel: string) => page.$$eval(sel, (trs) => trs.map((tr) => [tr.getAttribute('data-value'), Number(tr.getAttribute('data-count'))]));
        assert.deepEqual(Object.fromEntries(await rows('[data-test="row-attack_rules"]')), Object.fromEntries(j.attacks.rules.map((r: Json) => [r.rule, r.alerts])));
        assert.deepEqual(Object.fromEntries(await rows('[data-test="row-attack_clients"]')), Object.fromEntries(j.attacks.clients.map((c: Json) => [c.client, c.alerts])));
        const timeline = await attackTimeline(page);
        assert.equal(Object.values(timeline.counts).flat().reduce((s, n) => s + n, 0), j.attacks.alerts, 'every firing in a bar of the timeline');
        // The evidence of a client: hidden, then its lines whole after the click.
        const first = j.attacks.clients[0];
        const row = page.locator(`[data-test="row-attack_clients"][data-value="${first.client}"]`);
        await row.locator('[data-test="evidence-toggle"]').click();
        assert.equal(await page.locator(`[data-test="evidence-row"][data-value="${first.client}"] [data-test="evidence"]`).textContent(), first.evidence.join('\n'));
        assert.deepEqual(problems.errors, []);
        assert.deepEqual(problems.requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:')), [], 'nothing loaded from the network');
      } finally {
        await page.close();
      }
    });
  });
});
