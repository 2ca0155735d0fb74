// detect's digests and late lines: a line of a quiet period that event time (or the idle clock) has ended already
// arrives late (Apache writes a line when its request ends, stamped with its start). Its period's digest is made
// again, amended, with the same identity (rule, client, vhost, since), so the store overwrites the period's row
// instead of adding a second; the totals are held for the rule's quiet after the period's end, then forgotten.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import type { Event } from '../core/index.js';
import { DashboardModel } from '../lib/dashboard/index.js';
import { alertOfResult, AllowList, compileRule, Detector, type DetectorResult, type QuietDigest } from '../lib/detect/index.js';
import { CliProcess, onPath, runCli, skipWhenMissing, tempDir } from './support/helpers.js';
import { BASE, idleDetectConfig, line, SQLMAP } from './support/idle-detect.js';
import { startPipeline } from './support/pipeline-harness.js';

const SQLITE3 = onPath('sqlite3');

describe('detect: late lines of a digested quiet period (an amended digest)', function () {
  this.timeout(30_000);

  describe('on a real Detector', () => {
    // One-shot: the first match fires, then 10 s of quiet.
    const rule = compileRule({ name: 'probe', when: 'status == 404', quiet: 10_000 });
    function setup(maxClients = 10) {
      const detector = new Detector([rule], new AllowList([]), { maxClients, samples: 3, digests: true, sampleOf: (e) => String(e.path) });
      const out: DetectorResult[] = [];
      const hit = (s: number, ip = '192.0.2.1') => detector.process({ client_ip: ip, status: 404, path: `/${ip}/${s}`, timestamp: BASE + s * 1000 }, out);
      /** An event of no rule that moves event time to `s`. */
      const tick = (s: number) => detector.process({ client_ip: '192.0.2.200', status: 200, timestamp: BASE + s * 1000 }, out);
      const digests = () => out.filter((r): r is QuietDigest => r.state === 'digest');
      const show = (d: QuietDigest) => `${d.client_ip} count=${d.count} since=${(d.since - BASE) / 1000} first=${(d.first - BASE) / 1000} last=${(d.last - BASE) / 1000} amended=${d.amended}`;
      return { detector, out, hit, tick, digests, show };
    }

    it('a late line of an ended period gives its digest again at the next newer event: all its matches, the same since, amended', () => {
      const s = setup();
      s.hit(0); // fires; quiet until 10 s
      s.hit(2);
      s.hit(3);
      s.tick(12); // the period ended: its digest
      assert.deepEqual(s.digests().map(s.show), ['192.0.2.1 count=2 since=2 first=2 last=3 amended=false']);
      assert.equal(s.detector.heldDigests, 1);
      s.hit(5); // stamped inside the period, arriving after its digest
      assert.equal(s.digests().length, 1, 'waits, as any quiet match, for the watermark to move');
      s.hit(1); // older than the period's first match: first moves, since (the identity) does not
      s.tick(13);
      assert.deepEqual(s.digests().map(s.show), ['192.0.2.1 count=2 since=2 first=2 last=3 amended=false', '192.0.2.1 count=4 since=2 first=1 last=5 amended=true']);
      assert.deepEqual(s.digests()[1]!.samples, ['/192.0.2.1/2', '/192.0.2.1/3', '/192.0.2.1/5'], 'the first samples of the period, the late one after them');
      assert.deepEqual(s.digests()[0]!.samples, ['/192.0.2.1/2', '/192.0.2.1/3'], 'the first digest handed out is not changed under its holder');
      // The next firing's quiet_matches: those of the period were all reported.
      s.hit(30);
      const firing = s.out.at(-1)!;
      assert.equal(firing.state, 'firing');
      assert.equal(firing.state === 'firing' && firing.quiet_matches, 0);
    });

    it('near-misses: a line of a new period makes a new digest; another client\'s a digest of its own', () => {
      const s = setup();
      s.hit(0);
      s.hit(2);
      s.tick(12);
      s.hit(14); // after the period: fires again, a new quiet period until 24 s
      s.hit(15);
      s.hit(3, '192.0.2.2'); // another client, at an older time: fires (its own bucket), no digest of 192.0.2.1's
      s.tick(30);
      assert.deepEqual(s.digests().map(s.show), ['192.0.2.1 count=1 since=2 first=2 last=2 amended=false', '192.0.2.1 count=1 since=15 first=15 last=15 amended=false']);
      assert.deepEqual(s.out.filter((r) => r.state === 'firing').map((r) => `${r.client_ip} ${(r.first - BASE) / 1000}`), ['192.0.2.1 0', '192.0.2.1 14', '192.0.2.2 3']);
    });

    it('holds a period\'s totals for the rule\'s quiet after its end; a line later than that starts a digest of its own', () => {
      const s = setup();
      s.hit(0);
      s.hit(2);
      s.tick(12); // digest; held until event time passes 10 s + 10 s
      s.tick(20);
      assert.equal(s.detector.heldDigests, 1, 'at the horizon still held');
      s.hit(4);
      s.tick(21);
      assert.deepEqual(s.digests().map(s.show).at(-1), '192.0.2.1 count=2 since=2 first=2 last=4 amended=true', 'a line at the horizon amends');
      s.tick(21.001);
      assert.equal(s.detector.heldDigests, 0, 'past it: forgotten');
      s.hit(6);
      s.tick(22);
      assert.deepEqual(s.digests().map(s.show).at(-1), '192.0.2.1 count=1 since=6 first=6 last=6 amended=false');
    });

    it('holds at most maxClients periods: at the cap the oldest is forgotten first', () => {
      // One client (the cache of clients holds it), three rules: three quiet periods, ending at 10, 11 and 12 s.
      const rules = ['a', 'b', 'c'].map((name) => compileRule({ name, when: `starts_with(path, "/${name}")`, quiet: 10_000 }));
      const detector = new Detector(rules, new AllowList([]), { maxClients: 2, samples: 1, digests: true, sampleOf: (e) => String(e.path) });
      const out: DetectorResult[] = [];
      const hit = (name: string, s: number) => detector.process({ client_ip: '192.0.2.1', path: `/${name}`, timestamp: BASE + s * 1000 }, out);
      for (const [name, t] of [['a', 0], ['b', 1], ['c', 2]] as const) {
        hit(name, t);
        hit(name, t + 1); // c's makes the third period waiting: a's, ending first, is reported early
      }
      detector.process({ path: '/', timestamp: BASE + 15_000 }, out); // b's and c's end: at the cap, a's is forgotten
      assert.equal(detector.heldDigests, 2);
      for (const name of ['a', 'b', 'c']) hit(name, 5);
      detector.process({ path: '/', timestamp: BASE + 16_000 }, out);
      const show = (d: QuietDigest) => `${d.rule.name} count=${d.count} since=${(d.since - BASE) / 1000} amended=${d.amended}`;
      assert.deepEqual(out.filter((r): r is QuietDigest => r.state === 'digest').map(show), [
        'a count=1 since=1 amended=false', 'b count=1 since=2 amended=false', 'c count=1 since=3 amended=false',
        'a count=1 since=5 amended=false', // forgotten at the cap: a digest of its own
        'b count=2 since=2 amended=true',
        'c count=2 since=3 amended=true',
      ]);
    });

    it('a period reported early (at the cap of waiting periods) is amended by its later matches, not split in two', () => {
      const s = setup(1);
      s.hit(0);
      s.hit(1);
      s.hit(0, '192.0.2.2');
      s.hit(1, '192.0.2.2'); // 192.0.2.1's period is reported early to make room
      s.hit(2); // 192.0.2.1 again, in its period
      s.tick(15);
      assert.deepEqual(s.digests().map((d) => `${s.show(d)} ended=${d.ended}`), [
        '192.0.2.1 count=1 since=1 first=1 last=1 amended=false ended=false',
        '192.0.2.2 count=1 since=1 first=1 last=1 amended=false ended=false',
        '192.0.2.1 count=2 since=1 first=1 last=2 amended=true ended=true',
      ]);
    });
  });

  it('the live dashboard lists an amended digest in the place of the one it corrects (as the store keeps one row)', () => {
    const rule = compileRule({ name: 'probe', when: 'status == 404', quiet: 10_000 });
    const detector = new Detector([rule], new AllowList([]), { maxClients: 10, samples: 1, digests: true, sampleOf: (e) => String(e.path) });
    const model = new DashboardModel({ bucketMs: 1000, buckets: 60, topN: 10, topWindowMs: Infinity, capacity: 100, alerts: 2 });
    const feed = (ip: string, s: number, status = 404) => {
      const out: DetectorResult[] = [];
      detector.process({ client_ip: ip, status, path: `/${s}`, timestamp: BASE + s * 1000 }, out);
      for (const r of out) model.add(alertOfResult(r, BASE + s * 1000), BASE + s * 1000);
    };
    const listed = () => model.snapshot(BASE + 60_000).alerts.map((a) => `${a.state} ${a.count}`);
    feed('192.0.2.1', 0); // fires
    feed('192.0.2.1', 2);
    feed('192.0.2.9', 12, 200); // the period ends: its digest
    feed('192.0.2.1', 3); // late
    feed('192.0.2.9', 13, 200);
    assert.deepEqual(listed(), ['digest 2', 'firing 1'], 'newest first: the amended digest where its first was');
    feed('192.0.2.2', 14); // another client fires: the oldest entry (the firing) leaves the list of 2
    feed('192.0.2.1', 4); // late again
    feed('192.0.2.9', 15, 200);
    assert.deepEqual(listed(), ['firing 1', 'digest 3']);
  });

  it('the aggregate counts amended digests and the held periods in its metrics; amended digests carry amended: true', async () => {
    const h = await startPipeline(`
inputs:
  src: { type: test_script }
aggregates:
  det: { type: detect, inputs: [src], override: { scanner-user-agent: { quiet: 10s } } }
outputs:
  out: { type: test_record, inputs: [det] }
`);
    const src = h.script('src');
    const at = (s: number, ua = SQLMAP) => ({ client_ip: '198.51.100.50', user_agent: ua, path: `/${s}`, timestamp: BASE + s * 1000 });
    await src.send([at(0), at(1), at(12, 'curl/8.4.0')]); // fires, a quiet match, the period ends
    await src.send([at(2), at(13, 'curl/8.4.0')]); // a late line, then a newer event
    const custom = () => h.run.stats('det').custom;
    assert.equal(custom().visor_detect_digests_amended_total, 1);
    assert.equal(custom().visor_detect_digests_total, 2);
    assert.equal(custom().visor_detect_digests_held, 1);
    await src.send([at(40, 'curl/8.4.0')]); // past 10 s + 10 s: forgotten
    assert.equal(custom().visor_detect_digests_held, 0);
    src.end();
    await h.pipeline.done();
    const digests = h.probe('out').written.filter((a) => a.state === 'digest');
    assert.deepEqual(digests.map((d) => `${d.count} ${d.since === BASE + 1000} ${d.amended}`), ['1 true false', '2 true true']);
    assert.match(String(digests[1]!.message), /2 more matching requests during the 10s quiet period after the alert \(amended: lines of the period that arrived after its digest\)/);
  });

  it('visor analyze: a line out of order in the file (its period ended) gives one digest for the period, amended, in the place of the first', async () => {
    const tmp = await tempDir('visor-detect-late-analyze-');
    try {
      const browser = (s: number) => line('203.0.113.1', '/', s).replace(SQLMAP, 'Mozilla/5.0');
      // Fires at 10:00:00, a match at 10:00:05; the period (10m) ends with the line of 10:11:00; a slow request of
      // 10:00:02 is written after it; then a newer line.
      const log = await tmp.file('access.log', line('198.51.100.40', '/', 0) + line('198.51.100.40', '/a', 5) + browser(660) + line('198.51.100.40', '/slow', 2) + browser(720));
      const r = await runCli(['analyze', log, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { alerts: Event[]; detect: { alerts: number; digests: number } };
      const mine = j.alerts.filter((a) => a.rule === 'scanner-user-agent');
      assert.deepEqual(mine.map((a) => `${a.state} ${a.count} ${Number(a.since) - BASE} ${Number(a.first) - BASE} ${a.amended}`), ['firing 1 0 0 undefined', 'digest 2 5000 2000 true']);
      assert.equal(j.detect.digests, j.alerts.filter((a) => a.state === 'digest').length, 'the superseded digest is not counted');
    } finally {
      await tmp.remove();
    }
  });

  it('visor run tailing a file: a line that arrives after the clock ended its period leaves exactly one stored digest row, with the corrected count', async function () {
    skipWhenMissing(this, SQLITE3 ? undefined : 'sqlite3 is not installed (apt-get install sqlite3)');
    const tmp = await tempDir('visor-detect-late-');
    const log = await tmp.file('access.log', line('198.51.100.40', '/', 0) + line('198.51.100.40', '/a', 1));
    const db = path.join(tmp.dir, 'visor.db');
    const config = await tmp.file('visor.yaml', idleDetectConfig(tmp.dir, log, [`db: { type: store, inputs: [det], path: ${JSON.stringify(db)}, agent: web01 }`]));
    const agent = new CliProcess(['run', '-c', config]);
    const digests = () => agent.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event).filter((a) => a.state === 'digest');
    try {
      // Fired at 10:00:00, a match at 10:00:01, the period ends at 10:00:01.5: by the clock, on this idle server.
      await agent.waitFor(() => digests().length === 1, 'the digest the clock released');
      // A slow request of 10:00:00 (after the firing, before the period's first match) whose line is written now:
      // its period was digested already.
      await appendFile(log, line('198.51.100.40', '/slow', 0));
      await agent.waitFor(() => digests().length === 2, 'the amended digest');
      // Near-miss: a new firing and a match of its own quiet period, a new digest (a row of its own).
      await appendFile(log, line('198.51.100.40', '/b', 10) + line('198.51.100.40', '/c', 11));
      await agent.waitFor(() => digests().length === 3, 'the digest of the new period');
      assert.deepEqual(digests().map((d) => `${d.count} ${Number(d.since) - BASE} ${d.amended}`), ['1 1000 false', '2 1000 true', '1 11000 false']);
      agent.child.kill('SIGTERM');
      const r = await agent.exited;
      assert.equal(r.code, 0, r.stderr);
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    }
    try {
      const sql = "SELECT state, first_time - " + BASE + " AS since, count, json_extract(payload, '$.amended') AS amended, json_extract(payload, '$.first') - " + BASE + " AS first, json_extract(payload, '$.last') - " + BASE + " AS last FROM alerts WHERE rule = 'scanner-user-agent' ORDER BY state, first_time";
      const rows = JSON.parse(execFileSync(SQLITE3!, ['-json', '-readonly', db, sql], { encoding: 'utf8' })) as unknown[];
      assert.deepEqual(rows, [
        { state: 'digest', since: 1000, count: 2, amended: 1, first: 0, last: 1000 },
        { state: 'digest', since: 11000, count: 1, amended: 0, first: 11000, last: 11000 },
        { state: 'firing', since: 0, count: 1, amended: null, first: 0, last: 0 },
        { state: 'firing', since: 10000, count: 1, amended: null, first: 10000, last: 10000 },
      ]);
      // visor query reads the same: one digest row per quiet period.
      const q = await runCli(['query', '-c', config, '--store', 'db', '--format', 'json', '--sql', "SELECT count(*) AS digests, sum(count) AS matches FROM alerts WHERE state = 'digest'"]);
      assert.equal(q.code, 0, q.stderr);
      assert.deepEqual(JSON.parse(q.stdout), [{ digests: 2, matches: 3 }]);
    } finally {
      await tmp.remove();
    }
  });
});
