// Outputs that declare `batch` get queued batches merged into fewer writes, with every ack carried along.
import assert from 'node:assert/strict';
import { definePlugin } from '../core/index.js';
import { pipelineWith, probesOf } from './support/pipeline-harness.js';

/** Emits one batch of `size` numbered events, then stays open until the pipeline stops (no end-of-stream). */
const oneBatchThenIdle = definePlugin<{ size: number }, 'input'>({
  kind: 'input',
  name: 'test_one_batch_idle',
  description: 'One batch, then idle until stopped.',
  schema: { type: 'object', properties: { size: { type: 'integer', default: 5 } } },
  create(options, ctx) {
    const p = probesOf(ctx)(ctx.id);
    return {
      async run({ emit, signal }) {
        p.emitted = options.size;
        await emit(Array.from({ length: options.size }, (_, n) => ({ n })), { onAck: (result) => p.acks.push({ batch: 0, result, at: Date.now() }) });
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      },
    };
  },
});

describe('runtime: output batching (OutputInstance.batch)', () => {
  const startPipeline = pipelineWith(oneBatchThenIdle);

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
    const { pipeline, probe } = await startPipeline(`
inputs: { src: { type: test_one_batch_idle, size: 5 } }
outputs: { out: { type: test_record, inputs: [src], batch_max: 1000, batch_timeout_ms: 300 } }
`);
    const out = probe('out');
    try {
      const deadline = Date.now() + 5000;
      while (out.writes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(out.writes, 1);
      assert.equal(out.written.length, 5);
      const waited = out.writeTimes[0] - started;
      assert.ok(waited >= 250, `wrote after ${waited} ms, before the 300 ms linger`);
      assert.equal(probe('src').acks[0]?.result.status, 'delivered');
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
