import assert from 'node:assert/strict';
import { probe, startPipeline } from './support/pipeline-harness.js';

describe('runtime', () => {
  it('delivers every event in order through filters, and acknowledges each batch once', async () => {
    const { pipeline } = await startPipeline(`
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
    const { pipeline, metrics } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 6000, batch: 100 }
filters:
  f: { type: test_tag, inputs: [src], buffer: { max_events: 300 } }
outputs:
  slow: { type: test_record, inputs: [f], delay_ms: 2, watch: src, buffer: { max_events: 300 } }
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
    const { pipeline } = await startPipeline(`
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
    const { pipeline } = await startPipeline(`
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
    const { pipeline, metrics } = await startPipeline(`
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
    const { pipeline, metrics } = await startPipeline(`
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
    const { pipeline, metrics, logs } = await startPipeline(`
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
    const { pipeline, metrics } = await startPipeline(`
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
    const { pipeline } = await startPipeline(`
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

  it('stop() ends inputs and drains every buffer before outputs close', async () => {
    const { pipeline } = await startPipeline(`
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
    const { pipeline } = await startPipeline(`
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
});
