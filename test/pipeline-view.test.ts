// PluginContext.pipeline(): what a dashboard or self-monitoring plugin sees of the running pipeline.
import assert from 'node:assert/strict';
import { definePlugin, type PipelineView } from '../core/index.js';
import { pipelineWith } from './support/pipeline-harness.js';

const views: PipelineView[] = [];
const viewer = definePlugin<Record<string, never>, 'output'>({
  kind: 'output',
  name: 'test_pipeline_viewer',
  description: 'Records context.pipeline() after each write.',
  schema: { type: 'object' },
  create: (_options, context) => ({
    async write() {
      views.push(context.pipeline());
    },
  }),
});

describe('PluginContext.pipeline()', () => {
  const startPipeline = pipelineWith(viewer);

  it('reports each component in config order with its counters, buffer and health', async () => {
    views.length = 0;
    const { pipeline } = await startPipeline(`
inputs: { src: { type: test_counter, total: 300, batch: 100 } }
filters: { tag: { type: test_tag, inputs: [src], unparsed_every: 10 } }
outputs:
  view: { type: test_pipeline_viewer, inputs: [tag] }
  rest: { type: test_record, inputs: [tag._unparsed] }
`);
    await pipeline.done();
    const last = views[views.length - 1];
    assert.deepEqual(Object.keys(last.components), ['src', 'tag', 'view', 'rest']);
    assert.equal(last.components.src.kind, 'input');
    assert.equal(last.components.tag.type, 'test_tag');
    assert.equal(last.components.tag.received_events, 300);
    assert.equal(last.components.tag.sent_events_by_output._unparsed, 30);
    assert.equal(last.components.view.received_events, 270);
    assert.equal(last.components.view.buffer_max_events, 10000);
    assert.equal(last.components.view.healthy, true);
    assert.equal(views[0].state, 'running');
    assert.equal(last.state, 'draining', 'the input ended: the pipeline drains');
  });
});
