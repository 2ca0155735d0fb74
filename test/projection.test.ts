import assert from 'node:assert/strict';
import { definePlugin, type AnyPlugin, type Event } from '../core/index.js';
import type { ComponentConfig } from '../core/config/model.js';
import { downstreamFields } from '../core/runtime/projection.js';
import apacheAccess from '../plugins/filters/apache_access.js';
import where from '../plugins/filters/where.js';
import tail from '../plugins/inputs/tail/index.js';
import window from '../plugins/aggregates/window/index.js';
import blackhole from '../plugins/outputs/blackhole.js';
import stdout from '../plugins/outputs/stdout.js';
import { combinedLines } from './bench/apache-lines.js';
import { pipelineWith } from './support/pipeline-harness.js';

// An output that says it reads `status` only, and records which fields the events it got had.
const keysSeen: string[][] = [];
const statusOnly = definePlugin({
  kind: 'output',
  name: 'test_status_reader',
  description: 'Reads status only; records the fields of what it got.',
  schema: { type: 'object', properties: {} },
  reads: () => ['status'],
  create() {
    return { async write(events: Event[]) { for (const e of events) keysSeen.push(Object.keys(e).sort()); } };
  },
});
const startPipeline = pipelineWith(statusOnly);

const component = (id: string, kind: ComponentConfig['kind'], type: string, inputs: string[], options: Record<string, unknown> = {}): ComponentConfig =>
  ({ id, kind, type, inputs, options, buffer: { max_events: 1000 }, retry: undefined as never });
const plugins = new Map<string, AnyPlugin>([tail, apacheAccess, where, window, blackhole, stdout].map((p) => [p.name, p as AnyPlugin]));
const pluginOf = (c: ComponentConfig) => plugins.get(c.type) ?? (statusOnly as AnyPlugin);

const WINDOW = {
  window: { type: 'tumbling', size: 60_000 }, time: 'event', timestamp_field: 'timestamp', group_by: ['vhost'], exclude_heartbeats: true, emit: 'results',
  metrics: { errors: 'count(status >= 500)', bytes: 'sum(bytes)' }, top: [{ field: 'client_ip' }], percentiles: [{ field: 'duration.us', p: [95] }], distinct: [],
};

describe('field projection (Plugin.reads, PluginContext.downstreamFields)', () => {
  it('gives each component the fields read downstream of it, through filters and an aggregate\'s side outputs', () => {
    const graph = (late: string, unparsed = 'blackhole') => downstreamFields([
      component('logs', 'input', 'tail', []),
      component('access', 'filter', 'apache_access', ['logs'], { field: 'message' }),
      component('errors', 'filter', 'where', ['access'], { condition: 'status >= 500 and method == "POST"' }),
      component('per_minute', 'aggregate', 'window', ['errors'], WINDOW),
      component('sink', 'output', 'blackhole', ['per_minute']),
      component('bad_lines', 'output', unparsed, ['access._unparsed']),
      component('late', 'output', late, ['per_minute._late']),
    ], pluginOf);
    const fields = graph('blackhole');
    // The window's own reads (a nested path by its top level; metrics' arguments), where's, and apache_access's field.
    assert.deepEqual([...fields.get('errors')!].sort(), ['bytes', 'client_ip', 'duration', 'heartbeat', 'status', 'timestamp', 'vhost']);
    assert.deepEqual([...fields.get('access')!].sort(), ['bytes', 'client_ip', 'duration', 'heartbeat', 'method', 'status', 'timestamp', 'vhost']);
    assert.deepEqual([...fields.get('logs')!].sort(), ['bytes', 'client_ip', 'duration', 'heartbeat', 'message', 'method', 'status', 'timestamp', 'vhost']);
    assert.deepEqual([...fields.get('per_minute')!], []); // a blackhole reads nothing
    // An output writing whole events on the window's _late (its input events) needs every field upstream.
    const all = graph('stdout');
    assert.equal(all.get('access'), undefined);
    assert.equal(all.get('logs'), undefined);
    // _unparsed carries apache_access's input events as they came: a whole-event reader there needs every field of
    // the lines (the tail's), none of the parsed ones.
    const unparsedWhole = graph('blackhole', 'stdout');
    assert.deepEqual([...unparsedWhole.get('access')!].sort(), ['bytes', 'client_ip', 'duration', 'heartbeat', 'method', 'status', 'timestamp', 'vhost']);
    assert.equal(unparsedWhole.get('logs'), undefined);
  });

  it('apache_access leaves out the fields nobody reads, and keeps them all when an output writes whole events', async () => {
    const lines = combinedLines(200, 7);
    const run = async (withWholeEvents: boolean) => {
      keysSeen.length = 0;
      const h = await startPipeline(`
inputs:
  src: { type: test_script }
filters:
  access: { type: apache_access, inputs: [src], timezone: UTC }
  errors: { type: where, inputs: [access], condition: 'status >= 400' }
outputs:
  statuses: { type: test_status_reader, inputs: [errors] }
  unparsed: { type: test_record, inputs: [access._unparsed] }
${withWholeEvents ? '  whole: { type: test_record, inputs: [access] }' : ''}
`);
      const result = h.script('src').send(lines.map((message) => ({ message })));
      h.script('src').end();
      assert.equal((await result).status, 'delivered');
      await h.pipeline.done();
      return { keys: keysSeen.map((k) => k.join(',')), whole: withWholeEvents ? h.probe('whole').written : [] };
    };
    const projected = await run(false);
    assert.ok(projected.keys.length > 0, 'some lines have status >= 400');
    // The raw line (apache_access's field), status (read downstream) and the time, which is always assigned.
    assert.deepEqual([...new Set(projected.keys)], ['message,status,timestamp']);
    const full = await run(true);
    assert.equal(full.keys.length, projected.keys.length); // the same events pass
    assert.ok(full.whole.length === lines.length);
    for (const k of ['client_ip', 'method', 'path', 'query', 'protocol', 'bytes', 'referer', 'user_agent', 'ident', 'user', 'url']) {
      assert.ok(full.whole.every((e) => Object.hasOwn(e, k)), `every parsed event has ${k} when a whole-event output reads it`);
    }
  });
});
