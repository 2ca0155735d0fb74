// The console summary the demo prints: figures equal a recount of the same parsed events.
import assert from 'node:assert/strict';
import { probe, startPipeline } from './support/pipeline-harness.js';

describe('summary aggregate', () => {
  it('counts, error shares and top clients equal a recount; heartbeats are not traffic', async () => {
    const { pipeline } = await startPipeline(`
inputs:
  gen: { type: generator, rate: max, count: 5000, seed: 21, heartbeat: { interval: 1ms } }
filters:
  access: { type: apache_access, inputs: [gen] }
aggregates:
  sum: { type: summary, inputs: [access, access._unparsed], interval: 1h, top: 3 }
outputs:
  out: { type: test_record, inputs: [sum] }
  parsed: { type: test_record, inputs: [access] }
  beats: { type: test_record, inputs: [access._unparsed] }
`);
    await pipeline.done();
    const events = probe('parsed').written;
    assert.equal(events.length, 5000);
    const [summary] = probe('out').written;
    assert.equal(probe('out').written.length, 1, 'one summary at the end');
    assert.ok(probe('beats').written.length > 0 && probe('beats').written.every((e) => e.heartbeat === true), 'heartbeats reached the summary too');
    assert.equal(summary.count, 5000, 'heartbeats (routed to _unparsed, marked) are not counted');
    const share = (pred: (s: number) => boolean) => events.filter((e) => pred(e.status as number)).length / 5000;
    assert.equal(summary.server_error_rate, share((s) => s >= 500));
    assert.equal(summary.client_error_rate, share((s) => s >= 400 && s < 500));
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.client_ip as string, (counts.get(e.client_ip as string) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3).map(([client, count]) => ({ client, count }));
    assert.deepEqual(summary.top_clients, top);
    assert.match(String(summary.message), /5000 requests .* top clients: /);
  });
});
