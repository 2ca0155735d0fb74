import assert from 'node:assert/strict';
import type { AnyPlugin } from '../core/index.js';
import type { ComponentConfig } from '../core/config/model.js';
import { downstreamFields } from '../core/runtime/projection.js';
import alert from '../plugins/aggregates/alert/index.js';
import apacheAccess from '../plugins/filters/apache_access.js';
import blackhole from '../plugins/outputs/blackhole.js';
import { startPipeline } from './support/pipeline-harness.js';

type AlertRules = Parameters<NonNullable<typeof alert.reads>>[0]['rules'];
const reads = (rules: AlertRules) => alert.reads!({ rules, evaluate_every: 1000, samples: 5 })!.sort();
const component = (id: string, kind: ComponentConfig['kind'], type: string, inputs: string[], options: Record<string, unknown> = {}): ComponentConfig =>
  ({ id, kind, type, inputs, options, buffer: { max_events: 1000 }, retry: undefined as never });

describe('alert aggregate: the fields it reads (Plugin.reads)', () => {
  it('reads its rules\' fields, heartbeats, amended (window_merge\'s corrected results, taken by no rule), and for per-event rules what a description shows', () => {
    // A per-event rule: its condition's fields and describeEvent's (the request's main fields, the raw line, a level).
    assert.deepEqual(reads([{ name: 'e', when: 'status >= 500 and lower(vhost) == "a"', severity: 'warning' }]),
      ['amended', 'client_ip', 'heartbeat', 'level', 'message', 'method', 'path', 'status', 'vhost']);
    // Thresholds (on fields, and over a window: both sides of the comparison) and absence show no event.
    assert.deepEqual(reads([
      { name: 't', when: 'error_rate > 0.05', for: 60_000, severity: 'warning' },
      { name: 'w', when: 'count(duration.us > 1000) / count() > sum(bytes)', over: 300_000, severity: 'warning' },
      { name: 'a', absent: 30_000, where: 'exists(job)', severity: 'warning' },
      { name: 'b', absent: 30_000, severity: 'warning' },
    ]), ['amended', 'bytes', 'duration.us', 'error_rate', 'heartbeat', 'job']);
  });

  it('a parser before it cuts out only what neither it nor another consumer reads', () => {
    const when = 'status >= 500 and path =~ "^/api"';
    const graph = downstreamFields([
      component('access', 'filter', 'apache_access', []),
      component('det', 'aggregate', 'alert', ['access'], { rules: [{ name: 'x', when, severity: 'warning' }], evaluate_every: 1000, samples: 5 }),
      component('sink', 'output', 'blackhole', ['det']),
    ], (c) => ({ apache_access: apacheAccess, alert, blackhole })[c.type] as AnyPlugin);
    assert.deepEqual([...graph.get('access')!].sort(), ['amended', 'client_ip', 'heartbeat', 'level', 'message', 'method', 'path', 'status']);
  });

  it('alerts on lines a projecting parser parsed describe them as before', async () => {
    const h = await startPipeline(`
inputs:
  src: { type: test_script }
filters:
  access: { type: apache_access, inputs: [src], timezone: UTC }
aggregates:
  det: { type: alert, inputs: [access], rules: [{ name: errors, when: 'status >= 500', cooldown: 1h, samples: 1 }] }
outputs:
  out: { type: test_record, inputs: [det] }
`);
    const line = (ip: string, path: string, status: number) => `${ip} - - [01/Dec/2026:10:00:00 +0000] "POST ${path}?q=1 HTTP/1.1" ${status} 12 "-" "curl/8.0"`;
    const src = h.script('src');
    void src.send([line('203.0.113.7', '/api/a', 200), line('203.0.113.7', '/api/b', 503), line('198.51.100.2', '/c', 502)].map((message) => ({ message })));
    await h.run.end();
    const written = h.probe('out').written;
    assert.deepEqual(written.map((a) => [a.state, a.message, a.samples]), [
      ['firing', '[warning] errors: status >= 500 — 203.0.113.7 POST /api/b 503', ['203.0.113.7 POST /api/b 503']],
      ['digest', '[warning] errors: 1 more match of status >= 500 in 1h after the alert — e.g. 198.51.100.2 POST /c 502', ['198.51.100.2 POST /c 502']],
    ]);
  });
});
