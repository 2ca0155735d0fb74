import assert from 'node:assert/strict';
import { definePlugin, type AnyPlugin, type Event } from '../core/index.js';
import type { ComponentConfig } from '../core/config/model.js';
import { copyPlan, sharingComponents } from '../core/runtime/sharing.js';
import alert from '../plugins/aggregates/alert/index.js';
import detect from '../plugins/aggregates/detect/index.js';
import { pipelineWith } from './support/pipeline-harness.js';

// An aggregate that keeps what it got (the event objects themselves), by component id, and says it edits none;
// with `late`, it sends them on as they came to `_late` (as window does).
const got = new Map<string, Event[]>();
const keeper = definePlugin<{ shares: boolean; late: boolean }, 'aggregate'>({
  kind: 'aggregate',
  name: 'test_keeper',
  description: 'Keeps the events it gets; readOnly when `shares`; sends them on to _late.',
  schema: { type: 'object', properties: { shares: { type: 'boolean', default: true }, late: { type: 'boolean', default: false } } },
  sideOutputs: { _late: { description: 'every event it got, as it came', carries: 'input' } },
  outputs: (o) => (o.late ? ['_late'] : []),
  readOnly: (o) => o.shares,
  create(options, context) {
    return {
      process(events, ctx) {
        got.set(context.id, [...(got.get(context.id) ?? []), ...events]);
        if (options.late) ctx.emit(events, '_late');
      },
    };
  },
});
const startPipeline = pipelineWith(keeper as AnyPlugin);

const component = (id: string, kind: ComponentConfig['kind'], type: string, inputs: string[], options: Record<string, unknown> = {}): ComponentConfig =>
  ({ id, kind, type, inputs, options, buffer: { max_events: 1000 }, retry: undefined as never });

describe('fan-out sharing (Plugin.readOnly)', () => {
  beforeEach(() => got.clear());

  it('consumers that edit nothing get the very events; one that edits gets copies, and its edits stay in its branch', async () => {
    const h = await startPipeline(`
inputs:
  src: { type: test_script }
filters:
  tagged: { type: test_tag, inputs: [src], field: status, value: edited }
aggregates:
  a: { type: test_keeper, inputs: [src] }
  b: { type: test_keeper, inputs: [src] }
outputs:
  out: { type: test_record, inputs: [tagged] }
`);
    const sent = [{ status: 200 }, { status: 404 }];
    void h.script('src').send(sent);
    await h.run.end();
    const [a, b] = [got.get('a')!, got.get('b')!];
    assert.equal(a.length, 2);
    assert.ok(a.every((e, i) => e === b[i] && e === sent[i]), 'both read-only consumers got the events that were sent');
    assert.deepEqual(a.map((e) => e.status), [200, 404], 'the filter edited a copy of its own');
    assert.deepEqual(h.probe('out').written.map((e) => e.status), ['edited', 'edited']);
  });

  it('a consumer that edits, or whose input events go on to one, gets copies as before', async () => {
    const h = await startPipeline(`
inputs:
  src: { type: test_script }
filters:
  tagged: { type: test_tag, inputs: [a._late], field: status, value: edited }
aggregates:
  a: { type: test_keeper, inputs: [src], late: true }
  b: { type: test_keeper, inputs: [src], late: true }
  c: { type: test_keeper, inputs: [src], shares: false }
  k: { type: test_keeper, inputs: [b._late] }
outputs:
  out: { type: test_record, inputs: [tagged] }
`);
    const sent = [{ status: 200 }];
    void h.script('src').send(sent);
    await h.run.end();
    assert.equal(got.get('b')![0], sent[0], 'b shares: its input events go on to k, which shares too');
    assert.equal(got.get('k')![0], sent[0]);
    assert.notEqual(got.get('a')![0], sent[0], 'a passes its events on to a filter that edits them');
    assert.notEqual(got.get('c')![0], sent[0], 'c does not say it edits nothing');
    assert.notEqual(got.get('a')![0], got.get('c')![0]);
    assert.deepEqual([got.get('a')![0].status, got.get('b')![0].status, got.get('c')![0].status], ['edited', 200, 200]);
  });

  it('alert shares always, detect unless it annotates crawlers; copies go to every consumer that may edit', () => {
    const alertOptions = { rules: [{ name: 'x', when: 'status >= 500', severity: 'warning' }], evaluate_every: 1000, samples: 5 };
    const plugins: Record<string, AnyPlugin> = { alert: alert as AnyPlugin, detect: detect as AnyPlugin, test_keeper: keeper as AnyPlugin };
    const sharing = sharingComponents([
      component('al', 'aggregate', 'alert', ['src'], alertOptions),
      component('d1', 'aggregate', 'detect', ['src'], { verify_crawlers: false }),
      component('d2', 'aggregate', 'detect', ['src'], { verify_crawlers: true }),
    ], (c) => plugins[c.type]);
    assert.deepEqual([...sharing].sort(), ['al', 'd1']);
    assert.deepEqual(copyPlan([false, false, false]), [true, true, false]);
    assert.deepEqual(copyPlan([true, false, true]), [false, true, false]);
    assert.deepEqual(copyPlan([true]), [false]);
  });
});
