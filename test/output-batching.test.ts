// Outputs that declare `batch` get queued batches merged into fewer writes, with every ack carried along.
import assert from 'node:assert/strict';
import { startPipeline } from './support/pipeline-harness.js';

describe('runtime: output batching (OutputInstance.batch)', () => {
  it('merges queued batches up to max_events into one write, in order, and acknowledges every input batch', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs: { src: { type: test_counter, total: 2000, batch: 10 } }
outputs: { out: { type: test_record, inputs: [src], delay_ms: 15, batch_max: 100, batch_timeout_ms: 1000, buffer: { max_events: 5000 } } }
`);
    await pipeline.done();
    const out = probe('out');
    assert.equal(out.written.length, 2000);
    assert.deepEqual(out.written.map((e) => e.n), Array.from({ length: 2000 }, (_, i) => i));
    // Batches of 10 were merged: far fewer than 200 writes, none above max_events plus one input batch.
    assert.ok(out.writes <= 40, `writes: ${out.writes} (${out.writeSizes.join(',')})`);
    assert.ok(Math.max(...out.writeSizes) <= 109, `largest write ${Math.max(...out.writeSizes)}`);
    const acks = probe('src').acks;
    assert.equal(acks.length, 200);
    assert.ok(acks.every((a) => a.result.status === 'delivered'));
  });

  it('writes a partial batch after timeout_ms when nothing more comes', async () => {
    const started = Date.now();
    const { pipeline, probe, script } = await startPipeline(`
inputs: { src: { type: test_script } }
outputs: { out: { type: test_record, inputs: [src], batch_max: 1000, batch_timeout_ms: 300 } }
`);
    // One batch, and the input stays open: no end of stream to flush the partial batch.
    const src = script('src');
    void src.send(Array.from({ length: 5 }, (_, n) => ({ n })));
    const out = probe('out');
    try {
      const deadline = Date.now() + 5000;
      while (out.writes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(out.writes, 1);
      assert.equal(out.written.length, 5);
      const waited = out.writeTimes[0] - started;
      assert.ok(waited >= 250, `wrote after ${waited} ms, before the 300 ms linger`);
      assert.equal(src.acks[0]?.result.status, 'delivered');
    } finally {
      await pipeline.stop(5000);
    }
  });

  it('does not wait for the timeout at end of stream', async () => {
    const started = Date.now();
    const { pipeline, probe } = await startPipeline(`
inputs: { src: { type: test_counter, total: 7, batch: 7 } }
outputs: { out: { type: test_record, inputs: [src], batch_max: 1000, batch_timeout_ms: 10000 } }
`);
    await pipeline.done();
    assert.equal(probe('out').written.length, 7);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  });
});
