import assert from 'node:assert/strict';
import { loadConfigText } from '../core/config/load.js';
import { formatDiagnostic } from '../core/config/model.js';
import { startPipeline, testBench } from './support/pipeline-harness.js';

/** Run `total` test_counter events ({n, message: "line <n+1>"}) through one modify filter with these options. */
async function modified(options: string, total = 3) {
  const harness = await startPipeline(`
inputs:
  src: { type: test_counter, total: ${total}, batch: ${total} }
filters:
  m:
    type: modify
    inputs: [src]
${options.trim().split('\n').map((l) => `    ${l}`).join('\n')}
outputs:
  out: { type: test_record, inputs: [m] }
`);
  await harness.pipeline.done();
  assert.ok(harness.probe('src').acks.every((a) => a.result.status === 'delivered'));
  return { events: harness.probe('out').written, metrics: harness.metrics.snapshot().m };
}

describe('modify filter', () => {
  it('rename, copy, set (overwrites) and add (only when absent), with dotted names for nested fields', async () => {
    const { events } = await modified(`
rename: { message: text, missing: nowhere }
copy: { n: meta.n, nothing: copied }
set: { n: 100, service: web, meta.env: prod, limits: { max: 5, tags: [a] } }
add: { service: api, region: eu, meta.env: dev, meta.zone: z1 }
`, 2);
    assert.deepEqual(events, [
      { n: 100, text: 'line 1', meta: { n: 0, env: 'prod', zone: 'z1' }, service: 'web', limits: { max: 5, tags: ['a'] }, region: 'eu' },
      { n: 100, text: 'line 2', meta: { n: 1, env: 'prod', zone: 'z1' }, service: 'web', limits: { max: 5, tags: ['a'] }, region: 'eu' },
    ]);
    // Each event gets its own copy of an object value.
    assert.notEqual(events[0].limits, events[1].limits);
    assert.notEqual((events[0].limits as { tags: unknown }).tags, (events[1].limits as { tags: unknown }).tags);
  });

  it('set_expr computes values with the expression language; later entries see earlier ones', async () => {
    const { events } = await modified(`
set_expr:
  class: floor(n / 2)
  next: class + 1
  label: '"#" + string(n)'
  ratio: 1 / n
  is_first: n == 0
`);
    assert.deepEqual(events.map(({ class: c, next, label, ratio, is_first }) => ({ c, next, label, ratio, is_first })), [
      { c: 0, next: 1, label: '#0', ratio: null, is_first: true }, // division by zero is null, not Infinity
      { c: 0, next: 1, label: '#1', ratio: 1, is_first: false },
      { c: 1, next: 2, label: '#2', ratio: 0.5, is_first: false },
    ]);
  });

  it('applies rename, copy, set, add, set_expr, remove, keep in that order, whatever the order in the file', async () => {
    const { events } = await modified(`
keep: [num, double, copy, fixed, added, gone]
remove: [gone]
set_expr: { double: num * 2, gone: fixed }
add: { fixed: 2, added: true }
set: { fixed: 1 }
copy: { num: copy }
rename: { n: num }
`, 2);
    // rename before copy and set_expr (they read num); set before add (fixed stays 1); set_expr before keep
    // (double survives); remove applies although keep names the field.
    assert.deepEqual(events, [
      { num: 0, copy: 0, fixed: 1, added: true, double: 0 },
      { num: 1, copy: 1, fixed: 1, added: true, double: 2 },
    ]);
  });

  it('remove and keep handle nested fields and leave missing ones alone', async () => {
    const { events } = await modified(`
set: { a: { b: 1, c: 2, d: { e: 3 } }, x: 1, y: 2 }
remove: [a.c, y, nope, a.nope.deeper]
keep: [a.b, a.d.e, x, ghost]
`, 1);
    assert.deepEqual(events, [{ a: { b: 1, d: { e: 3 } }, x: 1 }]);
  });

  it('moves a field into or out of itself', async () => {
    const into = await modified('rename: { message: message.text }', 1);
    assert.deepEqual(into.events, [{ n: 0, message: { text: 'line 1' } }]);
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 1, batch: 1 }
filters:
  wrap: { type: modify, inputs: [src], set: { box: { item: { v: 1 }, other: 2 } } }
  unwrap: { type: modify, inputs: [wrap], rename: { box.item: box } }
outputs:
  out: { type: test_record, inputs: [unwrap] }
`);
    await pipeline.done();
    assert.deepEqual(probe('out').written, [{ n: 0, message: 'line 1', box: { v: 1 } }]);
  });

  it('never throws: an edit through a value that is not an object is skipped, counted and the event kept', async () => {
    const { events, metrics } = await modified(`
set: { message.sub: 1, n.x: 2, ok: yes }
rename: { message: n.inner }
`, 2);
    assert.deepEqual(events, [
      { n: 0, message: 'line 1', ok: 'yes' },
      { n: 1, message: 'line 2', ok: 'yes' },
    ]);
    assert.equal(metrics.errors_by_type.field_not_an_object, 6);
  });

  it('edits nested objects by copying them, so a fan-out sibling never sees the change', async () => {
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_counter, total: 5, batch: 5 }
filters:
  base: { type: modify, inputs: [src], set: { meta: { env: prod, tier: 1 } } }
  dev: { type: modify, inputs: [base], set: { meta.env: dev }, remove: [meta.tier] }
outputs:
  as_is: { type: test_record, inputs: [base], delay_ms: 20 }
  edited: { type: test_record, inputs: [dev] }
`);
    await pipeline.done();
    assert.ok(probe('as_is').written.every((e) => (e.meta as { env: string }).env === 'prod' && (e.meta as { tier?: number }).tier === 1));
    assert.ok(probe('edited').written.every((e) => (e.meta as { env: string }).env === 'dev' && !('tier' in (e.meta as object))));
    assert.equal(probe('as_is').written.length, 5);
  });

  it('cannot reach the prototype: __proto__ and constructor are ordinary field names', async () => {
    const { events } = await modified(`
set: { __proto__.polluted: yes, constructor.name: x }
copy: { toString: stolen }
set_expr: { proto_seen: __proto__.polluted, hidden: hasOwnProperty }
`, 1);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(events[0]), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(events[0], '__proto__')?.value, { polluted: 'yes' });
    assert.deepEqual(events[0].constructor, { name: 'x' });
    assert.equal('stolen' in events[0], false);
    assert.equal(events[0].proto_seen, 'yes');
    assert.equal(events[0].hidden, null);
  });

  it('reports invalid options at their place in the file', async () => {
    const reg = await testBench().registry();
    const result = await loadConfigText(`inputs: { src: { type: test_counter } }
filters:
  m:
    type: modify
    inputs: [src]
    set_expr: { bad: 'n +' }
    remove: [a..b]
    rename: { a: 1 }
    keep: fields
outputs: { out: { type: test_record, inputs: [m] } }
`, 'pipeline.yaml', { env: {}, registryFor: async () => reg });
    assert.equal(result.config, undefined);
    const messages = result.diagnostics.map(formatDiagnostic);
    assert.deepEqual(messages, [
      'pipeline.yaml:6:22: invalid value "n +" for set_expr.bad — unexpected end of expression at column 4; expected a value',
      'pipeline.yaml:7:14: invalid value "a..b" for remove[0] — must match pattern "^[^.]+(\\.[^.]+)*$"',
      'pipeline.yaml:9:11: invalid value "fields" for keep — expected a list',
    ]);
  });
});
