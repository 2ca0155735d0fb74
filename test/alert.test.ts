import assert from 'node:assert/strict';
import { formatLocalTime, type Event } from '../core/index.js';
import { runCli, tempDir } from './support/helpers.js';
import { startPipeline, type Harness, type Probes } from './support/pipeline-harness.js';
import { startSmtp } from './support/smtp.js';

// A script stands in for the input: it emits batches when it likes (through the kit's test_script input, without
// waiting for their acknowledgements: the alert aggregate may hold them) and waits on the alerts written.
type Script = (emit: (events: Event[]) => Promise<void>) => Promise<void>;
/** The probes of the pipeline whose script runs (the helpers below are called from scripts). */
let probe: Probes;

/** Runs `script` as the test_script input `src` of `h`, then ends that input and waits for the pipeline to end. */
async function feed(h: Harness, script: Script): Promise<void> {
  probe = h.probe;
  const src = h.script('src');
  await script(async (events) => void src.send(events));
  await h.run.end();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alerts = () => probe('out').written;
/** Wait (polling the output) until `pred` holds; fails after `ms`. */
async function waitFor(pred: (written: Event[]) => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred(alerts())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; got ${JSON.stringify(alerts(), null, 1)}`);
    await sleep(2);
  }
}
const of = (state: string, name?: string) => alerts().filter((a) => a.state === state && (!name || a.name === name));

/** The pipeline of these tests: the test_script input src into an alert aggregate `alerts` with `rules` (YAML list
 * items) and `options` (more lines of its map), read by `outputs` (test_record `out` unless given); `head` comes
 * first (a service section). */
function alertPipeline(rules: string, o: { options?: string; outputs?: string; head?: string } = {}): string {
  return `${o.head ?? ''}
inputs:
  src: { type: test_script }
aggregates:
  alerts:
    type: alert
    inputs: [src]${o.options ?? ''}
    rules:
${rules}
outputs:
${o.outputs ?? '  out: { type: test_record, inputs: [alerts] }'}
`;
}

async function run(script: Script, rules: string, extra = '', evaluateEvery = '20ms') {
  const h = await startPipeline(alertPipeline(rules, { options: `
    evaluate_every: ${evaluateEvery}${extra}` }));
  await feed(h, script);
  return alerts();
}

describe('alert aggregate', () => {

  it('per-event: alerts at once, groups matches within the cooldown into one digest; cooldown 0 alerts each', async () => {
    let latency = Infinity;
    const out = await run(async (emit) => {
      const t0 = Date.now();
      await emit([{ client_ip: '203.0.113.7', method: 'GET', path: '/api', status: 503 }]);
      await waitFor((w) => w.length >= 1, 'first alert');
      latency = Date.now() - t0;
      await emit([{ path: '/a', status: 500 }, { path: '/b', status: 502 }, { heartbeat: true, status: 500 }]);
      await emit([{ path: '/c', status: 504 }, { path: '/ok', status: 200 }]);
      await emit([{ path: '/x', status: 404 }, { path: '/y', status: 404 }, { path: '/z', status: 404 }]);
      await waitFor(() => of('digest').length === 1, 'digest');
    }, `      - { name: server-error, when: 'status >= 500', cooldown: 300ms, samples: 2 }
      - { name: not-found, when: 'status == 404', cooldown: 0, severity: info }`);
    assert.ok(latency < 100, `alert latency ${latency}ms`);
    const firing = out.filter((a) => a.name === 'server-error' && a.state === 'firing');
    assert.equal(firing.length, 1);
    assert.equal(firing[0].message, '[warning] server-error: status >= 500 — 203.0.113.7 GET /api 503');
    assert.equal(firing[0].kind, 'event');
    assert.equal(firing[0].severity, 'warning');
    assert.equal(typeof firing[0].time, 'number');
    const digest = of('digest', 'server-error')[0];
    assert.equal(digest.count, 3);
    assert.deepEqual(digest.samples, ['/a 500', '/b 502']);
    assert.match(digest.message as string, /3 more matches of status >= 500/);
    const notFound = out.filter((a) => a.name === 'not-found');
    assert.equal(notFound.length, 3);
    assert.ok(notFound.every((a) => a.state === 'firing' && a.severity === 'info'));
  });

  it('10,000 matches within the cooldown: one alert and one digest counting 9,999', async () => {
    const out = await run(async (emit) => {
      const batch: Event[] = [];
      for (let i = 0; i < 10_000; i++) batch.push({ level: 'error', message: `failure ${i}` });
      for (let i = 0; i < 10_000; i += 1000) await emit(batch.slice(i, i + 1000));
      await waitFor(() => of('digest').length === 1, 'digest');
    }, `      - { name: error-level, when: 'level in ("error", "crit", "alert", "emerg")', cooldown: 250ms }`);
    assert.equal(out.length, 2);
    assert.equal(out[0].state, 'firing');
    assert.equal(out[0].message, '[warning] error-level: level in ("error", "crit", "alert", "emerg") — [error] failure 0');
    assert.equal(out[1].count, 9_999);
    assert.deepEqual(out[1].samples, [1, 2, 3, 4, 5].map((i) => `[error] failure ${i}`));
  });

  it('a digest still open at shutdown is emitted by flush', async () => {
    const out = await run(async (emit) => {
      await emit([{ status: 500 }, { status: 501 }]);
    }, `      - { name: server-error, when: 'status >= 500', cooldown: 1h }`);
    assert.deepEqual(out.map((a) => [a.state, a.count]), [['firing', 1], ['digest', 1]]);
  });

  it('threshold on event fields with for: fires once after holding, resolves when it clears', async () => {
    let firstTrue = 0;
    const out = await run(async (emit) => {
      firstTrue = Date.now();
      await emit([{ error_rate: 0.1 }]);
      await emit([{ requests: 5 }]); // no error_rate: does not clear it
      await sleep(80);
      assert.equal(of('firing').length, 0, 'fired before "for" elapsed');
      await emit([{ error_rate: 0.2 }]);
      await waitFor(() => of('firing').length === 1, 'firing');
      await emit([{ error_rate: 0.3 }]);
      await emit([{ error_rate: 0.01 }]);
      await waitFor(() => of('resolved').length === 1, 'resolved');
      // A short blip shorter than `for` does not fire.
      await emit([{ error_rate: 0.5 }]);
      await emit([{ error_rate: 0.0 }]);
      await sleep(250);
    }, `      - { name: error-rate, when: 'error_rate > 0.05', for: 200ms, severity: critical }`);
    assert.deepEqual(out.map((a) => a.state), ['firing', 'resolved']);
    const [firing, resolved] = out;
    assert.equal(firing.kind, 'threshold');
    assert.ok(Math.abs((firing.since as number) - firstTrue) < 50, 'since is when the condition started holding');
    assert.ok((firing.time as number) - (firing.since as number) >= 200);
    assert.equal(firing.value, 0.2);
    assert.match(firing.message as string, /^\[critical\] error-rate: error_rate > 0.05 \(value 0.2\) for /);
    assert.equal(resolved.value, 0.01);
    assert.match(resolved.message as string, /resolved after/);
    assert.equal(typeof resolved.duration_ms, 'number');
  });

  it('threshold over a sliding window of raw events fires and resolves; heartbeats are not traffic', async () => {
    const out = await run(async (emit) => {
      await emit(Array.from({ length: 20 }, () => ({ heartbeat: true, status: 503 })));
      await sleep(60);
      assert.equal(alerts().length, 0, 'heartbeats counted');
      await emit(Array.from({ length: 4 }, () => ({ status: 503 })));
      await emit([{ status: 200 }, { status: 200 }]);
      await sleep(40);
      assert.equal(alerts().length, 0, 'fired at 4');
      await emit([{ status: 503 }, { status: 503 }]);
      await waitFor(() => of('firing').length === 1, 'firing');
      await waitFor(() => of('resolved').length === 1, 'resolved after the window slid past');
    }, `      - { name: many-503, when: 'count(status == 503) > 5', over: 300ms }
      - { name: ratio, when: 'count(status >= 500) / count() > 2', over: 300ms }`);
    assert.deepEqual(out.map((a) => [a.name, a.state]), [['many-503', 'firing'], ['many-503', 'resolved']]);
    assert.equal(out[0].value, 6);
    assert.ok((out[1].value as number) <= 5); // the first 4 left the window first
    assert.match(out[0].message as string, /count\(status == 503\) > 5 \(value 6\) over the last 300ms/);
  });

  it('absence fires after the gap and resolves when (matching) events return', async () => {
    const out = await run(async (emit) => {
      await emit([{ heartbeat: true }]);
      for (let i = 0; i < 10; i++) {
        await emit([{ status: 200 }]); // traffic, but not heartbeats
        await sleep(20);
      }
      await waitFor(() => of('firing').length === 1, 'firing');
      await emit([{ heartbeat: true }]);
      await waitFor(() => of('resolved').length === 1, 'resolved');
    }, `      - { name: silent-server, absent: 150ms, where: 'heartbeat == true' }`);
    assert.deepEqual(out.map((a) => [a.kind, a.state]), [['absence', 'firing'], ['absence', 'resolved']]);
    assert.match(out[0].message as string, /^\[warning\] silent-server: no event matching heartbeat == true for /);
  });

  it('invalid rules are errors located at the bad key, value or expression (all checked with the config)', async () => {
    const bad = async (rules: string, re: RegExp) => {
      await assert.rejects(run(async () => {}, rules), re);
    };
    // Expressions are checked with the config, at FILE:LINE:COL of the value (line 10 is the first rule).
    await bad(`      - { name: r1, when: 'status >>= 5' }`, /pipeline\.yaml:10:27: invalid value "status >>= 5" for rules\[0\]\.when — unexpected ">="/);
    await bad(`      - { name: r2, when: 'status > 1', colldown: 1s }`, /colldown/);
    await bad(`      - { name: r3, absent: 1s, when: 'status > 1' }`, /pipeline\.yaml:10:33: rules\[0\]: "when" cannot be used with "absent"/);
    await bad(`      - { name: r4, absent: 0 }`, /pipeline\.yaml:10:29: invalid value 0 for rules\[0\]\.absent — needs a duration greater than 0/);
    await bad(`      - { name: r5, when: 'count(status == 5) > 1 > 2', over: 1s }`, /pipeline\.yaml:10:27: .*rules\[0\]\.when — with "over", "when" must compare aggregate expressions/);
    await bad(`      - { name: r6, when: 'bogus(x) > 1', over: 1s }`, /pipeline\.yaml:10:27: .*rules\[0\]\.when — unknown aggregate "bogus"/);
    await bad(`      - { name: r7 }`, /pipeline\.yaml:10:9: rules\[0\]: needs "when"/);
    await bad(`      - { name: r8, when: 'status >= 500', evaluate_every: 1s }`, /pipeline\.yaml:10:44: rules\[0\]: "evaluate_every" is for threshold/);
    await bad(`      - { name: r9, absent: 1s, evaluate_every: 0 }`, /pipeline\.yaml:10:49: invalid value 0 for rules\[0\]\.evaluate_every — needs a duration greater than 0/);
    await bad(`      - { name: r10, when: 'status > 1', for: 1s, cooldown: 1s }`, /pipeline\.yaml:10:51: rules\[0\]: "cooldown" is for per-event rules/);
    await bad(`      - { name: r11, when: 'status > 1' }
      - { name: r11, absent: 1s }`, /pipeline\.yaml:11:11: rules: rules\[1\] has the name of rules\[0\] \("r11"\)/);
  });

  it('a rule\'s own evaluate_every overrides the aggregate\'s: each rule is checked on its own schedule', async () => {
    // Three absence rules, none of which ever sees an event: each fires at its first check after 30ms.
    const out = await run(async () => {
      await waitFor(() => of('firing', 'slow').length === 1, 'the slow rule to fire');
    }, `      - { name: fast, absent: 30ms, evaluate_every: 20ms }
      - { name: slow, absent: 30ms, evaluate_every: 300ms }
      - { name: default, absent: 30ms }`, '', '1h');
    const firing = (name: string) => out.find((a) => a.name === name && a.state === 'firing')!;
    const fast = firing('fast');
    const slow = firing('slow');
    const waited = (a: Event) => (a.time as number) - (a.since as number);
    assert.ok(waited(fast) >= 30 && waited(fast) < 150, `fast fired after ${waited(fast)}ms`);
    assert.ok(waited(slow) >= 290 && waited(slow) < 550, `slow fired after ${waited(slow)}ms`);
    assert.ok(out.indexOf(fast) < out.indexOf(slow));
    // The rule without its own interval uses the aggregate's (1h): never checked during the test.
    assert.equal(out.filter((a) => a.name === 'default').length, 0);
  });

  it('at shutdown, each alert still firing is reported once as stopped; resolved and pending ones are not', async () => {
    const out = await run(async (emit) => {
      await emit([{ status: 503 }, { status: 503 }, { status: 503 }]);
      await emit([{ error_rate: 0.9 }, { load: 5 }, { heartbeat: true }]);
      await waitFor(() => of('firing', 'many-503').length === 1 && of('firing', 'error-rate').length === 1, 'both thresholds firing');
      await emit([{ error_rate: 0.1 }, { heartbeat: true }]);
      await waitFor(() => of('resolved').length === 1, 'error-rate resolved');
      await waitFor(() => of('firing', 'silent').length === 1, 'silent firing');
    }, `      - { name: many-503, when: 'count(status == 503) > 2', over: 1h, severity: critical }
      - { name: error-rate, when: 'error_rate > 0.5', for: 0s }
      - { name: high-load, when: 'load > 1', for: 1h }
      - { name: beat, absent: 1h, where: 'heartbeat == true' }
      - { name: silent, absent: 30ms, where: 'nothing == true' }
      - { name: server-error, when: 'status >= 500', cooldown: 0 }`);
    // Everything was written by the time the pipeline had shut down (run awaits pipeline.done()).
    const stopped = out.filter((a) => a.state === 'stopped');
    assert.deepEqual(stopped.map((a) => [a.name, a.kind]), [['many-503', 'threshold'], ['silent', 'absence']]);
    assert.deepEqual(out.slice(-2), stopped, 'stopped events are the last ones, emitted by the final flush');
    const firing503 = of('firing', 'many-503')[0];
    const [s503, silent] = stopped;
    assert.equal(s503.since, firing503.since);
    assert.equal(s503.value, 3);
    assert.equal(s503.severity, 'critical');
    assert.ok((s503.duration_ms as number) >= 0 && (s503.duration_ms as number) >= (s503.time as number) - (firing503.time as number) - 1);
    assert.equal(s503.message, `[critical] many-503: the agent stopped while the alert was firing since ${formatLocalTime(firing503.since as number)} (count(status == 503) > 2), so its resolution will not be reported`);
    assert.equal(silent.since, of('firing', 'silent')[0].since);
    assert.match(silent.message as string, /^\[warning\] silent: the agent stopped while the alert was firing since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \(no event matching nothing == true\), so its resolution will not be reported$/);
    // Resolved (error-rate), pending (high-load: for not elapsed), never-firing (beat) and per-event rules: nothing.
    assert.equal(of('resolved', 'error-rate').length, 1);
    assert.equal(out.filter((a) => a.name === 'high-load' || a.name === 'beat').length, 0);
  });

  it('a stopped alert reaches an email output before shutdown completes', async () => {
    const smtp = await startSmtp();
    const tmp = await tempDir();
    try {
      const h = await startPipeline(alertPipeline(`      - { name: many-503, when: 'count(status == 503) > 1', over: 1h }`, {
        head: `service: { data_dir: ${JSON.stringify(tmp.dir)}, name: web01 }`,
        outputs: `  mail: { type: email, inputs: [alerts], host: 127.0.0.1, port: ${smtp.port}, from: visor@example.com, to: [ops@example.com] }`,
      }));
      await feed(h, async (emit) => {
        await emit([{ status: 503 }, { status: 503 }]);
      });
      // No waiting: shutdown completed only once the mails were accepted by the server.
      assert.deepEqual(smtp.messages.map((m) => m.subject), ['[visor web01] warning many-503', '[visor web01] warning many-503 stopped: the agent stopped while it was firing']);
      assert.match(smtp.messages[1].text, /the agent stopped while the alert was firing since .*, so its resolution will not be reported/);
      assert.doesNotMatch(smtp.messages[0].text, /the agent stopped/);
    } finally {
      await smtp.close();
      await tmp.remove();
    }
  });

  it('visor validate locates a bad rule expression at FILE:LINE:COL of its value and exits 78', async function () {
    this.timeout(30000);
    const tmp = await tempDir();
    try {
      const config = await tmp.file('alerts.yaml', `inputs:
  in: { type: stdin }
aggregates:
  alerts:
    type: alert
    inputs: [in]
    rules:
      - name: ok-ratio
        when: count(status >= 500) / count() > 0.05
        over: 1m
      - name: bad-ratio
        over: 1m
        when: 'count(status >= 500) / cont() > 0.05'
      - name: bad-condition
        when: status >>= 500
      - { name: bad-absence, absent: 30s, where: 'heartbeat ==' }
      - { name: bad-side, when: 'sum() > 1', over: 1m }
outputs:
  out: { type: stdout, inputs: [alerts] }
`);
      const r = await runCli(['validate', '-c', config]);
      assert.equal(r.code, 78, r.stderr);
      const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith(`${config}:`) && !l.endsWith(" errors"));
      assert.match(r.stderr, /: 4 errors/, 'the valid over rule (line 9) is not reported');
      assert.deepEqual(lines, [
        `${config}:13:15: invalid value "count(status >= 500) / cont() > 0.05" for rules[1].when — unknown aggregate "cont" (expected one of count, sum, avg, min, max, rate; fields are only read inside a call, e.g. sum(bytes)) at column 24 of "count(status >= 500) / cont()"`,
        `${config}:15:15: invalid value "status >>= 500" for rules[2].when — unexpected ">=" at column 9; expected a value`,
        `${config}:16:50: invalid value "heartbeat ==" for rules[3].where — unexpected end of expression at column 13; expected a value`,
        `${config}:17:33: invalid value "sum() > 1" for rules[4].when — sum() needs a field or expression, e.g. sum(bytes) at column 6 of "sum()"`,
      ]);
    } finally {
      await tmp.remove();
    }
  });
});
