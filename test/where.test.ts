import assert from 'node:assert/strict';
import { testPlugin } from '../core/testing/index.js';
import { startPipeline } from './support/pipeline-harness.js';

describe('where filter', () => {
  it('sends events that match to the main output and the others to ID._rejected, counting both', async () => {
    const t = await testPlugin('where', { options: { condition: 'n % 3 == 0 and n < 30' } });
    const events = Array.from({ length: 100 }, (_, n) => ({ n, message: `line ${n + 1}` }));
    for (let i = 0; i < events.length; i += 30) assert.equal((await t.send(events.slice(i, i + 30))).status, 'delivered');
    await t.end();
    const kept = t.output('out').events.map((e) => e.n);
    const rejected = t.output('_rejected').events.map((e) => e.n as number);
    assert.deepEqual(kept, [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    assert.equal(rejected.length, 90);
    assert.deepEqual([...kept, ...rejected].sort((a, b) => Number(a) - Number(b)), [...Array(100).keys()]);
    assert.ok(rejected.every((n) => n % 3 !== 0 || n >= 30));
    const s = t.stats('where');
    assert.equal(s.custom.visor_where_kept_events_total, 10);
    assert.equal(s.custom.visor_where_rejected_events_total, 90);
    assert.deepEqual(s.sent_events_by_output, { _default: 10, _rejected: 90 });
    assert.ok(t.acks.every((a) => a.result.status === 'delivered'));
    assert.equal(t.acks.length, 4);
  });

  it('matches strings and regexes; rejected events nobody reads are counted as discarded, not lost silently', async () => {
    const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 25, batch: 10 }
filters:
  ones: { type: where, inputs: [src], condition: 'message =~ "^line 1\\d?$" and message != "line 10"' }
outputs:
  out: { type: test_record, inputs: [ones] }
`);
    await pipeline.done();
    // message is "line <n + 1>"
    assert.deepEqual(probe('out').written.map((e) => e.message), ['line 1', 'line 11', 'line 12', 'line 13', 'line 14', 'line 15', 'line 16', 'line 17', 'line 18', 'line 19']);
    assert.equal(metrics.snapshot().ones.discarded_by_reason.unread_output__rejected, 15);
    assert.ok(probe('src').acks.every((a) => a.result.status === 'delivered'));
  });

  it('events without the field are rejected by a comparison but kept by == null', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 4, batch: 4 }
filters:
  some: { type: modify, inputs: [src], set_expr: { half: 'n / 2' }, remove: [message] }
  compared: { type: where, inputs: [some], condition: 'message != "line 1"' }
  absent: { type: where, inputs: [some], condition: 'message == null and half >= 1' }
outputs:
  compared_out: { type: test_record, inputs: [compared] }
  absent_out: { type: test_record, inputs: [absent] }
`);
    await pipeline.done();
    assert.deepEqual(probe('compared_out').written, []);
    assert.deepEqual(probe('absent_out').written.map((e) => e.n), [2, 3]);
  });

  it('a condition that does not compile stops the pipeline from being built, located in the file', async () => {
    await assert.rejects(startPipeline(`
inputs:
  src: { type: test_counter }
filters:
  bad: { type: where, inputs: [src], condition: 'n >= 500 or' }
outputs:
  out: { type: test_record, inputs: [bad] }
`), /pipeline\.yaml:5:49: invalid value "n >= 500 or" for condition — unexpected end of expression at column 12; expected a value/);
  });
});
