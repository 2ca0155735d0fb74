// The test kit's two plugins, real plugins registered as any other: `test_script` emits what the test sends,
// `test_record` records what reaches it. They are made per test run, bound to its inputs and recordings, so two
// runs in one process never share anything.
import { definePlugin, PermanentError, type AnyPlugin } from '../api.js';
import type { Recording } from './recording.js';
import type { ScriptedInput } from './script.js';

/** Where the plugins of one test run find their state, by component id (made on first use). */
export interface KitState {
  input(id: string): ScriptedInput;
  output(id: string): Recording;
}

export const SCRIPT_TYPE = 'test_script';
export const RECORD_TYPE = 'test_record';

interface RecordOptions {
  delay_ms: number;
  fail: 'never' | 'always' | 'permanent' | 'first';
  fail_times: number;
  batch_max: number;
  batch_timeout_ms: number;
}

export function kitPlugins(state: KitState): AnyPlugin[] {
  const script = definePlugin<Record<string, never>, 'input'>({
    kind: 'input',
    name: SCRIPT_TYPE,
    description: 'Emits the batches the test sends (send(events), resolved with their acknowledgement), until the test ends it.',
    schema: { type: 'object', properties: {} },
    create(_options, ctx) {
      const input = state.input(ctx.id);
      return {
        async run({ emit, signal }) {
          for (let item = await input.next(signal); item; item = await input.next(signal)) await emit(item.events, { onAck: item.acked });
        },
      };
    },
  });

  const record = definePlugin<RecordOptions, 'output'>({
    kind: 'output',
    name: RECORD_TYPE,
    description: 'Records what it is given; can be slow or fail.',
    schema: {
      type: 'object',
      properties: {
        delay_ms: { type: 'integer', minimum: 0, default: 0, description: 'Each write takes this long.' },
        fail: {
          enum: ['never', 'always', 'permanent', 'first'], default: 'never',
          description: 'always: every write fails (and is retried); permanent: every write fails for good; first: the first fail_times writes fail.',
        },
        fail_times: { type: 'integer', minimum: 0, default: 0 },
        batch_max: { type: 'integer', minimum: 0, default: 0, description: 'When > 0, ask the core to merge queued batches up to this many events.' },
        batch_timeout_ms: { type: 'integer', minimum: 0, default: 0, description: 'With batch_max: how long to wait for more.' },
      },
    },
    create(options, ctx) {
      const recording = state.output(ctx.id);
      let failuresLeft = options.fail_times;
      return {
        batch: options.batch_max > 0 ? { max_events: options.batch_max, timeout_ms: options.batch_timeout_ms } : undefined,
        async write(events) {
          const at = Date.now();
          await recording.begin(events);
          if (options.delay_ms) await new Promise((r) => setTimeout(r, options.delay_ms));
          if (options.fail === 'permanent') throw new PermanentError('rejected for good');
          if (options.fail === 'always') throw new Error('peer unreachable');
          if (options.fail === 'first' && failuresLeft > 0) {
            failuresLeft--;
            throw new Error('transient failure');
          }
          recording.record(events, at);
        },
      };
    },
  });

  return [script, record] as AnyPlugin[];
}
