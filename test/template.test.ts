import assert from 'node:assert/strict';
import { compileTemplate, createEncoder, parseTimeZone } from '../core/index.js';

describe('templates ({{ field }} and strftime)', () => {
  const ts = Date.UTC(2026, 10, 25, 7, 5, 9);

  it('inserts fields (dotted paths, numbers, objects) and renders the event time', () => {
    const t = compileTemplate('out/{{ vhost }}/%Y-%m-%d/%H-{{status}}-{{ geo.city }}-{{ tags }}.log');
    assert.equal(t.dynamic, true);
    assert.deepEqual(t.fields, ['vhost', 'status', 'geo.city', 'tags']);
    assert.equal(t.render({ vhost: 'a.example', status: 503, geo: { city: 'Oslo' }, tags: ['x'], timestamp: ts }),
      'out/a.example/2026-11-25/07-503-Oslo-["x"].log');
  });

  it('uses the current time when the event has no numeric timestamp, and the given zone', () => {
    const now = Date.UTC(2030, 0, 2, 23, 30, 0);
    assert.equal(compileTemplate('%F %H:%M').render({}, now), '2030-01-02 23:30');
    assert.equal(compileTemplate('%F %H:%M %z', { timeZone: parseTimeZone('+0200') }).render({ timestamp: now }), '2030-01-03 01:30 +0200');
  });

  it('writes missing fields as the missing text; constants are not dynamic; %% is a percent sign', () => {
    assert.equal(compileTemplate('k-{{ nope }}', { missing: '_' }).render({}), 'k-_');
    const c = compileTemplate('apache-events');
    assert.equal(c.dynamic, false);
    assert.equal(c.render({ timestamp: ts }), 'apache-events');
    assert.equal(compileTemplate('100%% {{ a }}').render({ a: 1 }), '100% 1');
  });

  it('rejects unbalanced braces and unknown directives with a message saying what to write', () => {
    assert.throws(() => compileTemplate('x-{{ field'), /unbalanced .*write \{\{ field \}\}/);
    assert.throws(() => compileTemplate('x-%Q'), /unsupported time format directive %Q/);
  });

  it('encoders: json, text (JSON without a message), template', () => {
    const e = { message: 'hello', status: 200, timestamp: ts };
    assert.equal(createEncoder({ format: 'json' })(e), JSON.stringify(e));
    assert.equal(createEncoder({ format: 'text' })(e), 'hello');
    assert.equal(createEncoder({ format: 'text' })({ a: 1 }), '{"a":1}');
    assert.equal(createEncoder({ format: 'template', template: '{{ status }} %H:%M' })(e), '200 07:05');
    assert.throws(() => createEncoder({ format: 'template' }), /needs a `template` option/);
  });
});

describe('template options are checked with the config', () => {
  it('reports a bad template and a missing one at FILE:LINE:COL', async () => {
    const { loadConfigText } = await import('../core/config/load.js');
    const { formatDiagnostic } = await import('../core/config/model.js');
    const yaml = `inputs:
  in: { type: stdin }
outputs:
  f: { type: file, inputs: [in], path: "out/{{ vhost.log", format: template }
  s: { type: stdout, inputs: [in], format: template, template: "{{ a }} %Q" }
  k: { type: kafka, inputs: [in], brokers: [b:9092], topic: "x-{{ vhost }}", headers: { h: "{{ }}" } }
  ok: { type: tcp, inputs: [in], address: "127.0.0.1:9", format: template, template: "{{ client_ip }} %H:%M" }
`;
    const result = await loadConfigText(yaml, '/tmp/t.yaml');
    const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    assert.deepEqual(errors, [
      '/tmp/t.yaml:4:3: missing required option "template" for file',
      '/tmp/t.yaml:4:40: invalid value "out/{{ vhost.log" for path — unbalanced "{{ }}" in template "out/{{ vhost.log" (write {{ field }})',
      '/tmp/t.yaml:5:64: invalid value "{{ a }} %Q" for template — unsupported time format directive %Q in " %Q"',
      '/tmp/t.yaml:6:92: invalid value "{{ }}" for headers.h — unbalanced "{{ }}" in template "{{ }}" (write {{ field }})',
    ]);
  });
});
