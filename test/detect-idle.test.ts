// detect's quiet-period digests on a server gone idle (plugins/aggregates/detect/idle.ts): once no event has
// arrived for idle_timeout, event time runs on with the clock, so a digest comes when its period ends by the clock
// rather than at the next request or the shutdown.
import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import type { Event } from '../core/index.js';
import { AllowList, compileRule, Detector, type DetectorResult } from '../lib/detect/index.js';
import { IdleClock } from '../plugins/aggregates/detect/idle.js';
import { CliProcess, tempDir } from './support/helpers.js';
import { BASE, idleDetectConfig, line, SQLMAP } from './support/idle-detect.js';
import { startPipeline } from './support/pipeline-harness.js';


describe('detect: quiet-period digests on an idle server (idle_timeout)', function () {
  this.timeout(30_000);

  it('visor run tailing a file: the digest comes when the quiet period ends by the clock, with no later request and before any shutdown', async () => {
    const tmp = await tempDir('visor-detect-idle-');
    const log = await tmp.file('access.log', line('198.51.100.40', '/', 0) + line('198.51.100.40', '/a', 1) + line('198.51.100.41', '/', 0));
    const config = await tmp.file('visor.yaml', idleDetectConfig(tmp.dir, log));
    const agent = new CliProcess(['run', '-c', config]);
    const alerts = () => agent.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
    const digests = () => alerts().filter((a) => a.state === 'digest');
    try {
      // 198.51.100.40 fires at 10:00:00 and matches again at 10:00:01, its quiet period ends at 10:00:01.5: with no
      // event after it, event time stands at 10:00:01 until the clock moves it on.
      await agent.waitFor(() => digests().length === 1, 'the first digest');
      const [fired, other, digest] = alerts();
      assert.deepEqual([fired, other, digest].map((a) => `${a.state} ${a.client_ip}`), ['firing 198.51.100.40', 'firing 198.51.100.41', 'digest 198.51.100.40']);
      assert.equal(agent.child.exitCode, null, 'still running: no flush reported it');
      assert.equal(digest.count, 1);
      assert.equal(digest.first, BASE + 1000);
      assert.equal(digest.quiet_until, BASE + 1500);
      assert.equal(digest.quiet_ended, true, 'the period ended (by the clock), it is not reported early');
      assert.ok(Number(digest.time) - Number(fired.time) >= 500, `emitted ${Number(digest.time) - Number(fired.time)} ms after the firing: not before the 500 ms left of the period after the last event`);

      // Traffic again, then idle again: a new firing and its digest, timed from the new batch.
      await appendFile(log, line('198.51.100.40', '/b', 10) + line('198.51.100.40', '/c', 11));
      await agent.waitFor(() => digests().length === 2, 'the second digest');
      const [again, second] = alerts().slice(3);
      assert.deepEqual([again, second].map((a) => `${a.state} ${a.client_ip} ${a.count}`), ['firing 198.51.100.40 1', 'digest 198.51.100.40 1']);
      assert.equal(second.quiet_until, BASE + 11_500);
      assert.ok(Number(second.time) - Number(again.time) >= 500);

      agent.child.kill('SIGTERM');
      const r = await agent.exited;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(alerts().length, 5, 'nothing was left for the shutdown to report (198.51.100.41 had no quiet matches)');
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
      await tmp.remove();
    }
  });

  it('heartbeats are no traffic: under a steady stream of them the digest still comes by the clock', async () => {
    const h = await startPipeline(`
inputs:
  src: { type: test_script }
aggregates:
  det: { type: detect, inputs: [src], idle_timeout: 200ms, override: { scanner-user-agent: { quiet: 1s } } }
outputs:
  out: { type: test_record, inputs: [det] }
`);
    const src = h.script('src');
    const out = h.probe('out').written;
    await src.send([{ client_ip: '198.51.100.42', user_agent: SQLMAP, timestamp: BASE }, { client_ip: '198.51.100.42', user_agent: SQLMAP, timestamp: BASE + 10 }]);
    // Each heartbeat batch is sent once the last one went through and the event loop had its turn (timers run):
    // far more often than idle_timeout. Were they taken for events, the server would never be idle and the digest
    // would wait for the end of input.
    let heartbeats = 0;
    for (const start = Date.now(); !out.some((a) => a.state === 'digest') && Date.now() - start < 10_000; heartbeats++) {
      await src.send([{ heartbeat: true, timestamp: BASE + 5000 }]);
      await new Promise(setImmediate);
    }
    const [fired, digest] = out;
    assert.equal(digest?.state, 'digest', `no digest after ${heartbeats} heartbeat batches`);
    assert.ok(heartbeats > 10, `${heartbeats} heartbeat batches came meanwhile`);
    assert.ok(Number(digest.time) - Number(fired.time) >= 990, 'not before the period ended by the clock (990 ms after the last event)');
    assert.equal(digest.quiet_ended, true);
    src.end();
    await h.pipeline.done();
    assert.equal(out.length, 2);
  });

  describe('IdleClock, on a real detector, its clock given', () => {
    const rules = [compileRule({ name: 'short', when: 'status == 200', quiet: 1000 }), compileRule({ name: 'long', when: 'status == 404', quiet: 3000 })];
    function setup() {
      const detector = new Detector(rules, new AllowList([]), { maxClients: 10, samples: 1, digests: true, sampleOf: (e) => String(e.path) });
      const clock = { now: 0 };
      const emitted: string[] = [];
      const idle = new IdleClock(detector, 200, async (found: DetectorResult[]) => void emitted.push(...found.map((f) => `${f.state} ${f.rule.name} ${f.count} ${f.state === 'digest' && f.ended}`)), () => clock.now);
      const batch = (events: Event[]) => idle.absorb(events.length > 0, () => {
        const out: DetectorResult[] = [];
        for (const e of events) detector.process(e, out);
        return out;
      });
      // Each rule fires at BASE and matches again 10 ms later: quiet until BASE + 1 s and BASE + 3 s.
      const attack = [200, 200, 404, 404].map((status, i) => ({ client_ip: '192.0.2.1', status, path: `/${i}`, timestamp: BASE + (i % 2) * 10 }));
      return { detector, clock, emitted, idle, batch, attack };
    }
    const at = async (s: ReturnType<typeof setup>, now: number) => {
      s.clock.now = now;
      await s.idle.tick();
    };

    it('releases each digest when its period ends by the clock, once idle for the timeout; ticks add no time of their own', async () => {
      const s = setup();
      const fired = await s.batch(s.attack);
      assert.equal(fired.length, 2);
      await at(s, 150); // idle 150 ms < 200 ms: event time still stands
      await at(s, 500); // idle, but BASE + 510 ms is before either end
      assert.deepEqual(s.emitted, []);
      await at(s, 989);
      assert.deepEqual(s.emitted, []);
      await at(s, 990); // BASE + 10 ms + 990 ms: the short period's end
      assert.deepEqual(s.emitted, ['digest short 1 true']);
      // Had each tick moved event time on from the last one, the long period (BASE + 3 s) would end here.
      await at(s, 2000);
      await at(s, 2989);
      assert.deepEqual(s.emitted, ['digest short 1 true']);
      await at(s, 2990);
      assert.deepEqual(s.emitted, ['digest short 1 true', 'digest long 1 true']);
      assert.equal(s.detector.waitingDigests, 0);
    });

    it('near-misses: not before the timeout, a heartbeat batch is no event, nothing while a batch is absorbed', async () => {
      const s = setup();
      await s.batch(s.attack);
      s.clock.now = 890;
      await s.batch([{ client_ip: '192.0.2.9', status: 301, timestamp: BASE + 900 }]); // no rule's, but an event
      await at(s, 1040); // BASE + 900 ms + 150 ms is past the short period's end, but 150 ms is no idle server yet
      assert.deepEqual(s.emitted, []);
      s.clock.now = 1060;
      await s.batch([]); // heartbeats only (absorb is told so): still idle since 890
      await at(s, 1090); // idle 200 ms: BASE + 1.1 s
      assert.deepEqual(s.emitted, ['digest short 1 true']);
      // A batch held up (by a slow output) for 8 s: no tick meanwhile, though 8 s of idleness would end the long period.
      let release!: () => void;
      const held = s.idle.absorb(true, () => new Promise<void>((r) => { release = r; }));
      await at(s, 9000);
      assert.deepEqual(s.emitted, ['digest short 1 true'], 'busy: no tick');
      s.clock.now = 9100;
      release();
      await held;
      await at(s, 10_999); // event time BASE + 1.1 s when the batch was done, + 1899 ms
      assert.deepEqual(s.emitted, ['digest short 1 true']);
      await at(s, 11_000);
      assert.deepEqual(s.emitted, ['digest short 1 true', 'digest long 1 true']);
    });

    it('has nothing to do without quiet matches waiting', async () => {
      const s = setup();
      await s.batch([{ client_ip: '192.0.2.2', status: 200, timestamp: BASE }]); // fires, nothing after it
      await at(s, 10_000);
      assert.deepEqual(s.emitted, []);
      assert.equal(s.detector.eventTime, BASE, 'event time was not moved on: nothing waited for it');
    });
  });
});
