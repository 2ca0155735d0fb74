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
