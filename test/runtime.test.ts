import assert from 'node:assert/strict';
import { definePlugin } from '../core/index.js';
import { describeLosses } from '../core/runtime/losses.js';
import { ManualClock, startPipeline } from './support/pipeline-harness.js';

/** Events {n} numbered from `from`. */
function numbered(from: number, count: number): Array<{ n: number }> {
  return Array.from({ length: count }, (_, i) => ({ n: from + i }));
}

describe('runtime', () => {
  it('delivers every event in order through filters, and acknowledges each batch once', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 10000, batch: 250 }
filters:
  a: { type: test_tag, inputs: [src], field: a }
  b: { type: test_tag, inputs: [a], field: b }
outputs:
  out: { type: test_record, inputs: [b] }
`);
    await pipeline.done();
    const written = probe('out').written;
    assert.equal(written.length, 10000);
    assert.deepEqual(written.map((e) => e.n), [...Array(10000).keys()]);
    assert.equal(written[9999].a, 'x');
    assert.equal(written[9999].b, 'x');
    const acks = probe('src').acks;
    assert.equal(acks.length, 40);
    assert.ok(acks.every((a) => a.result.status === 'delivered'));
    assert.deepEqual(acks.map((a) => a.batch), [...Array(40).keys()]);
  });

  it('backpressure: a slow output slows the input and buffers stay bounded; nothing is lost', async () => {
    const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 6000, batch: 100 }
filters:
  f: { type: test_tag, inputs: [src], buffer: { max_events: 300 } }
outputs:
  slow: { type: test_record, inputs: [f], delay_ms: 2, buffer: { max_events: 300 } }
`);
    let peakQueued = 0;
    const sampler = setInterval(() => {
      const s = metrics.snapshot();
      peakQueued = Math.max(peakQueued, s.f.buffer_events + s.slow.buffer_events);
    }, 1);
    await pipeline.done();
    clearInterval(sampler);
    const out = probe('slow');
    assert.equal(out.written.length, 6000);
    assert.equal(new Set(out.written.map((e) => e.n)).size, 6000);
    // The input may run ahead of the output by at most the two buffers (300 each, plus one batch
    // of overshoot each), one batch inside the filter, one being written and one inside emit.
    const bound = 300 + 100 + 300 + 100 + 100 + 100 + 100;
    const maxLead = Math.max(...out.leads);
    assert.ok(maxLead <= bound, `input ran ${maxLead} events ahead (bound ${bound})`);
    assert.ok(maxLead >= 300, `the input should have filled the buffers (lead ${maxLead})`);
    assert.ok(peakQueued <= 800, `peak queued ${peakQueued}`);
  });

  it('fan-out: a batch is acknowledged only after every output that received it has written it', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 500, batch: 50 }
outputs:
  fast: { type: test_record, inputs: [src] }
  slow: { type: test_record, inputs: [src], delay_ms: 5 }
`);
    const src = probe('src');
    const checks: boolean[] = [];
    // Wrap the ack recording: at each ack, both outputs must already hold the whole batch.
    const push = src.acks.push.bind(src.acks);
    src.acks.push = (...items) => {
      for (const a of items) {
        const last = (a.batch + 1) * 50;
        checks.push(probe('fast').written.length >= last && probe('slow').written.length >= last);
      }
      return push(...items);
    };
    await pipeline.done();
    assert.equal(checks.length, 10);
    assert.ok(checks.every(Boolean), 'an ack arrived before both outputs had written the batch');
  });

  it('fan-out gives each consumer its own copy: one branch editing events does not affect another', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 10, batch: 10 }
filters:
  red: { type: test_tag, inputs: [src], field: color, value: red }
  blue: { type: test_tag, inputs: [src], field: color, value: blue }
outputs:
  r: { type: test_record, inputs: [red] }
  b: { type: test_record, inputs: [blue] }
`);
    await pipeline.done();
    assert.ok(probe('r').written.every((e) => e.color === 'red'));
    assert.ok(probe('b').written.every((e) => e.color === 'blue'));
  });

  it('a permanent output failure fails the ack, while the other branch still delivers', async () => {
    const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 100, batch: 50 }
outputs:
  ok: { type: test_record, inputs: [src] }
  broken: { type: test_record, inputs: [src], fail: permanent }
`);
    await pipeline.done();
    const acks = probe('src').acks;
    assert.equal(acks.length, 2);
    for (const a of acks) {
      assert.equal(a.result.status, 'failed');
      assert.match(String(a.result.error?.message), /rejected for good/);
    }
    assert.equal(probe('ok').written.length, 100);
    const s = metrics.snapshot().broken;
    assert.equal(s.discarded_by_reason.write_failed, 100);
    assert.equal(s.errors_by_type.write, 2);
  });

  it('a transient output failure is retried with backoff and delivered exactly once', async () => {
    const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 30, batch: 10 }
outputs:
  flaky: { type: test_record, inputs: [src], fail: first, fail_times: 2, retry: { backoff: 10ms } }
`);
    await pipeline.done();
    assert.deepEqual(probe('flaky').written.map((e) => e.n), [...Array(30).keys()]);
    assert.ok(probe('src').acks.every((a) => a.result.status === 'delivered'));
    assert.equal(metrics.snapshot().flaky.errors_by_type.write, 2);
  });

  it('a filter that throws fails that batch only; the pipeline goes on', async () => {
    const { pipeline, metrics, logs, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 30, batch: 10 }
filters:
  f: { type: test_tag, inputs: [src], throw_on: 15 }
outputs:
  out: { type: test_record, inputs: [f] }
`);
    await pipeline.done();
    assert.deepEqual(probe('out').written.map((e) => e.n), [...Array(10).keys(), ...Array.from({ length: 10 }, (_, i) => 20 + i)]);
    // Acks are not ordered: the failed batch is settled at once, while the first may still be in the output.
    const byBatch = [...probe('src').acks].sort((a, b) => a.batch - b.batch);
    assert.deepEqual(byBatch.map((a) => a.result.status), ['delivered', 'failed', 'delivered']);
    assert.equal(metrics.snapshot().f.discarded_by_reason.process_error, 10);
    assert.ok(logs.some((l) => l.includes('cannot handle event 15')));
  });

  it('side outputs are routed by id.name; an unread side output is counted, not silently lost', async () => {
    const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 100, batch: 25 }
filters:
  parse: { type: test_tag, inputs: [src], unparsed_every: 10 }
  parse2: { type: test_tag, inputs: [src], unparsed_every: 10 }
outputs:
  good: { type: test_record, inputs: [parse, parse2] }
  bad: { type: test_record, inputs: [parse._unparsed] }
`);
    await pipeline.done();
    assert.equal(probe('bad').written.length, 10);
    assert.ok(probe('bad').written.every((e) => (e.n as number) % 10 === 0));
    assert.equal(probe('good').written.length, 90 + 90);
    assert.equal(metrics.snapshot().parse2.discarded_by_reason['unread_output__unparsed'], 10);
  });

  it('an aggregate holding acks releases them only when its result is delivered', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 300, batch: 100 }
aggregates:
  total: { type: test_total, inputs: [src] }
outputs:
  out: { type: test_record, inputs: [total], delay_ms: 20 }
`);
    const src = probe('src');
    let acksBeforeResult = -1;
    const out = probe('out');
    const push = out.written.push.bind(out.written);
    out.written.push = (...items) => {
      acksBeforeResult = src.acks.length;
      return push(...items);
    };
    await pipeline.done();
    assert.deepEqual([...out.written], [{ total: 300 }]);
    assert.equal(acksBeforeResult, 0, 'acks arrived before the aggregate result was written');
    assert.equal(src.acks.length, 3);
    assert.ok(src.acks.every((a) => a.result.status === 'delivered'));
  });

  it("an aggregate's context.emit is refused during create and works from start() on", async () => {
    let duringCreate: Promise<void> | undefined;
    const emitAtStart = definePlugin<Record<string, never>, 'aggregate'>({
      kind: 'aggregate',
      name: 'test_emit_at_start',
      description: 'Tries to emit in create, emits {started} in start.',
      schema: { type: 'object', properties: {} },
      create(_options, context) {
        duringCreate = context.emit([{ created: true }]);
        duringCreate.catch(() => {});
        return { start: () => void context.emit([{ started: true }]), process() {} };
      },
    });
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 1 }
aggregates:
  agg: { type: test_emit_at_start, inputs: [src] }
outputs:
  out: { type: test_record, inputs: [agg] }
`, { plugins: [emitAtStart] });
    await pipeline.done();
    await assert.rejects(duringCreate!, /aggregate "agg" can emit from start\(\) on/);
    assert.deepEqual(probe('out').written, [{ started: true }]);
  });

  it('stop() ends inputs and drains every buffer before outputs close', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, forever: true, batch: 100 }
filters:
  f: { type: test_tag, inputs: [src] }
outputs:
  out: { type: test_record, inputs: [f], delay_ms: 1 }
`);
    const out = probe('out');
    while (out.writes < 5) await new Promise((r) => setImmediate(r));
    assert.equal(await pipeline.stop(5000), true);
    assert.equal(pipeline.state, 'stopped');
    const src = probe('src');
    assert.ok(src.emitted > 500);
    assert.equal(out.written.length, src.emitted, 'every emitted event was written before the pipeline ended');
    assert.equal(src.acks.length, src.emitted / 100);
  });

  it('stop() gives up after the grace period when an output cannot deliver', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 10, batch: 10 }
outputs:
  down: { type: test_record, inputs: [src], fail: always, retry: { backoff: 20ms, max_backoff: 50ms } }
`);
    const started = Date.now();
    assert.equal(await pipeline.stop(300), false);
    const took = Date.now() - started;
    assert.ok(took >= 290 && took < 2000, `stop took ${took} ms`);
    await pipeline.done();
    assert.equal(probe('src').acks[0].result.status, 'failed');
  });

  describe('an output nobody reads', () => {
    it('is logged at the first discard, then at most once a minute with the count since the last warning, and at the end', async () => {
      const clock = new ManualClock();
      const { pipeline, metrics, logs, probe, script } = await startPipeline(`
inputs:
  src: { type: test_script }
filters:
  p: { type: test_tag, inputs: [src], unparsed_every: 2 }
outputs:
  out: { type: test_record, inputs: [p] }
`, { clock });
      const src = script('src');
      const warnings = () => logs.filter((l) => / WARN .*p\._unparsed/.test(l));
      // test_tag sends even n to _unparsed; a batch is acknowledged once p has routed all of it.
      await src.send(numbered(0, 10)); // 5 discarded
      assert.equal(warnings().length, 1);
      assert.match(warnings()[0], /WARN +discarded 5 events sent to "p\._unparsed" \(events it cannot tag\): no component reads it; add "p\._unparsed" to some component's inputs to keep them \(further discards are logged at most once a minute\) component=p type=test_tag output=p\._unparsed discarded=5 total=5\n$/);

      clock.advance(10_000);
      await src.send(numbered(10, 4)); // 2
      clock.advance(20_000);
      await src.send(numbered(14, 6)); // 3
      clock.advance(29_999);
      assert.equal(warnings().length, 1, 'nothing more within the minute');
      clock.advance(1); // a minute after the first warning
      assert.equal(warnings().length, 2);
      assert.match(warnings()[1], /discarded 5 more events sent to "p\._unparsed" \(events it cannot tag\) since the last warning, 10 in all: no component reads it; .* discarded=5 total=10\n$/);

      clock.advance(120_000);
      assert.equal(warnings().length, 2, 'nothing discarded, nothing logged');
      await src.send(numbered(20, 2)); // 1, more than a minute after the last warning: at once
      assert.equal(warnings().length, 3);
      assert.match(warnings()[2], /discarded 1 more event sent to "p\._unparsed" .* since the last warning, 11 in all: .* discarded=1 total=11\n$/);
      await src.send(numbered(22, 2)); // 1, held back...
      assert.equal(warnings().length, 3);
      src.end();
      await pipeline.done(); // ...and logged when the component closes
      assert.equal(warnings().length, 4);
      assert.match(warnings()[3], /discarded 1 more event .* 12 in all: .* discarded=1 total=12\n$/);

      assert.equal(metrics.snapshot().p.discarded_by_reason.unread_output__unparsed, 12);
      assert.equal(probe('out').written.length, 12);
      assert.deepEqual(pipeline.losses(), [{ component: 'p', what: 'discarded', reason: 'unread_output__unparsed', count: 12 }]);
    });

    it('a component whose main output nobody reads is logged and its events counted as lost too', async () => {
      const { pipeline, logs } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 30, batch: 10 }
filters:
  used: { type: test_tag, inputs: [src] }
  spare: { type: test_tag, inputs: [src] }
outputs:
  out: { type: test_record, inputs: [used] }
`);
      await pipeline.done();
      const warnings = logs.filter((l) => l.includes(' WARN '));
      assert.equal(warnings.length, 2, warnings.join(''));
      assert.match(warnings[0], /discarded 10 events sent to its main output: no component reads it; add "spare" to some component's inputs to keep them .*component=spare /);
      assert.match(warnings[1], /discarded 20 more events sent to its main output since the last warning, 30 in all: .*component=spare /);
      assert.deepEqual(pipeline.losses(), [{ component: 'spare', what: 'discarded', reason: 'unread_output', count: 30 }]);
    });

    it("a side output declared unread: 'drop' (where's _rejected) is counted, but neither logged nor a loss", async () => {
      const { pipeline, metrics, logs } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 20, batch: 10 }
filters:
  odd: { type: where, inputs: [src], condition: 'n % 2 == 1' }
outputs:
  out: { type: test_record, inputs: [odd] }
`);
      await pipeline.done();
      assert.equal(metrics.snapshot().odd.discarded_by_reason.unread_output__rejected, 10);
      assert.deepEqual(logs.filter((l) => l.includes(' WARN ')), []);
      assert.deepEqual(pipeline.losses(), []);
    });
  });

  it('losses(): events discarded by a throwing filter and by an output that gave up, and the failed batches', async () => {
    const { pipeline } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 40, batch: 10 }
filters:
  f: { type: test_tag, inputs: [src], throw_on: 15 }
outputs:
  ok: { type: test_record, inputs: [f] }
  down: { type: test_record, inputs: [src], fail: permanent }
`);
    await pipeline.done();
    const byKey = (l: { component: string; what: string }) => `${l.component}/${l.what}`;
    assert.deepEqual([...pipeline.losses()].sort((a, b) => byKey(a).localeCompare(byKey(b))), [
      { component: 'down', what: 'discarded', reason: 'write_failed', count: 40 },
      { component: 'f', what: 'discarded', reason: 'process_error', count: 10 },
      { component: 'src', what: 'failed_batches', count: 4 },
    ]);
  });

  it('losses(): an input whose run threw', async () => {
    const { pipeline, probe, script } = await startPipeline(`
inputs:
  src: { type: test_script }
outputs:
  out: { type: test_record, inputs: [src] }
`);
    const src = script('src');
    assert.equal((await src.send([{ n: 0 }])).status, 'delivered');
    src.fail(new Error('disk gone'));
    await pipeline.done();
    assert.deepEqual(probe('out').written, [{ n: 0 }]);
    assert.deepEqual(pipeline.losses(), [{ component: 'src', what: 'failed', reason: 'run', count: 1 }]);
  });

  it('describeLosses: one line, by component, as a finite visor run prints it', () => {
    assert.equal(describeLosses([
      { component: 'f', what: 'discarded', reason: 'process_error', count: 2 },
      { component: 'src', what: 'failed_batches', count: 1 },
      { component: 'p', what: 'discarded', reason: 'unread_output__unparsed', count: 1 },
      { component: 'src', what: 'failed', reason: 'run', count: 1 },
      { component: 'w', what: 'failed', reason: 'flush', count: 2 },
    ]), '3 events discarded (f: 2 process_error; p: 1 unread_output__unparsed); 1 batch failed (src: 1); src failed; w failed to flush (2 times)');
    assert.equal(describeLosses([]), '');
  });

  it('losses(): nothing for a run that delivered everything', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 40, batch: 10 }
filters:
  f: { type: test_tag, inputs: [src], unparsed_every: 4 }
outputs:
  ok: { type: test_record, inputs: [f, f._unparsed] }
`);
    await pipeline.done();
    assert.equal(probe('ok').written.length, 40);
    assert.deepEqual(pipeline.losses(), []);
  });
});
