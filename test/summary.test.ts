// The console summary the demo prints: figures equal a recount of the same parsed events.
import assert from 'node:assert/strict';
import type { Event } from '../core/index.js';
import { mixedEvents } from './support/mixed-events.js';
import { startPipeline, type Harness } from './support/pipeline-harness.js';

describe('summary aggregate', () => {
  it('counts, error shares and top clients equal a recount; heartbeats are not traffic', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  gen: { type: generator, rate: max, count: 5000, seed: 21, heartbeat: { interval: 1ms } }
filters:
  access: { type: apache_access, inputs: [gen] }
aggregates:
  sum: { type: summary, inputs: [access, access._unparsed], interval: 1h, top: 3 }
outputs:
  out: { type: test_record, inputs: [sum] }
  parsed: { type: test_record, inputs: [access] }
  unparsed: { type: test_record, inputs: [access._unparsed] }
`);
    await pipeline.done();
    const beats = probe('parsed').written.filter((e) => e.heartbeat === true);
    const events = probe('parsed').written.filter((e) => e.heartbeat !== true);
    assert.equal(events.length, 5000);
    assert.deepEqual(probe('unparsed').written, [], 'heartbeats are not unparsed lines');
    const [summary] = probe('out').written;
    assert.equal(probe('out').written.length, 1, 'one summary at the end');
    assert.ok(beats.length > 0 && beats.every((e) => e.status === undefined), 'heartbeats reached the summary too, unparsed');
    assert.equal(summary.count, 5000, 'heartbeats (passed on by the parser, marked) are not counted');
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

/** Sends copies of `events` through the test_script input src of `h`, 250 a batch, without waiting for their
 * acknowledgements (the aggregates hold them until they emit). */
function send(h: Harness, events: Event[]): void {
  for (let i = 0; i < events.length; i += 250) void h.script('src').send(events.slice(i, i + 250).map((e) => ({ ...e })));
}

describe('summary aggregate and report agree', () => {
  for (const capacity of [1000, 8]) {
    it(`same events, same figures as a report (heartbeats, error-log lines, other events; capacity ${capacity})`, async () => {
      const h = await startPipeline(`
inputs:
  src: { type: test_script }
aggregates:
  sum: { type: summary, inputs: [src], interval: 1h, top: 5, capacity: ${capacity} }
  rep: { type: report, inputs: [src], interval: 1h, top: 5, capacity: ${capacity}, emit_empty: false }
outputs:
  s: { type: test_record, inputs: [sum] }
  r: { type: test_record, inputs: [rep] }
`);
      const sentAt = Date.now();
      send(h, mixedEvents(capacity, 4000));
      await h.run.end();
      const endedAt = Date.now();
      const { probe } = h;
      assert.equal(probe('s').written.length, 1);
      assert.equal(probe('r').written.length, 1);
      const [summary] = probe('s').written;
      const [report] = probe('r').written;
      const classes = report.status_classes as Record<string, number>;
      const requests = report.requests as number;
      assert.ok(requests > 3000 && requests < 4000, 'heartbeats, error-log lines and status-less events are not requests');
      assert.equal(summary.count, requests);
      assert.equal(summary.server_error_rate, report.error_rate);
      assert.equal(summary.client_error_rate, classes['4xx']! / requests);
      assert.deepEqual(summary.top_clients, (report.top_clients as Array<{ value: string; count: number }>).map((t) => ({ client: t.value, count: t.count })));
      assert.equal(summary.top_clients_error_bound, (report.top_error_bounds as Record<string, number>).top_clients);
      if (capacity < 100) assert.ok((summary.top_clients_error_bound as number) > 0, 'Space-Saving beyond capacity, as in the report');
      else assert.equal(summary.top_clients_error_bound, 0);
      // Rates of the same interval: each is its requests over its own interval, and both intervals hold the whole
      // sending. (Comparing the two rates within 50% failed under load: the run lasts ~0.2 s, and a stall of a
      // tenth of a second between the two aggregates' start or flush moves one rate by over half.)
      for (const [name, rate, e] of [['summary', summary.rate, summary], ['report', report.requests_per_second, report]] as const) {
        const [start, end] = [e.window_start as number, e.window_end as number];
        assert.equal(rate, requests / ((end - start) / 1000), `${name}: requests over its interval`);
        assert.ok(start <= sentAt && end >= sentAt && end <= endedAt, `${name}: its interval [${start}, ${end}] holds the sending (${sentAt} to ${endedAt})`);
      }
      // Error-log lines per level: the report's counts, at the end of the line.
      assert.equal(summary.error_log_lines, report.error_log_lines);
      assert.deepEqual(summary.error_log_levels, report.error_log_levels);
      assert.ok((summary.error_log_lines as number) > 0);
      const levels = Object.entries(report.error_log_levels as Record<string, number>).map(([l, n]) => `${l} ${n}`).join(', ');
      assert.match(String(summary.message), new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${requests} requests \\(\\d+\\.\\d/s\\)  4xx \\d+\\.\\d%  5xx \\d+\\.\\d%  top clients: \\S+ \\(\\d+\\)(, \\S+ \\(\\d+\\)){4}  error log: ${levels}$`));
    });
  }

  it('an empty interval gives zero shares, not NaN', async () => {
    const h = await startPipeline(`
inputs:
  src: { type: test_script }
aggregates:
  sum: { type: summary, inputs: [src], interval: 100ms }
outputs:
  s: { type: test_record, inputs: [sum] }
`);
    const { pipeline, probe } = h;
    send(h, [{ heartbeat: true, status: 200 }]); // and the input stays up: no end of input to flush the summary
    const deadline = Date.now() + 5000;
    while (probe('s').written.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await pipeline.stop(2000);
    const [summary] = probe('s').written;
    assert.ok(summary, 'a summary every interval, even an empty one');
    assert.equal(summary.count, 0);
    assert.equal(summary.client_error_rate, 0);
    assert.equal(summary.server_error_rate, 0);
    assert.deepEqual(summary.top_clients, []);
    assert.match(String(summary.message), /  0 requests \(0\.0\/s\)  4xx 0\.0%  5xx 0\.0%$/);
  });
});
