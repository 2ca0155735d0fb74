// The `tail` input: follows files as they grow, through rotation and truncation, and resumes after a
// restart from checkpoints advanced only by acknowledged delivery.
import { definePlugin } from '../../../core/index.js';
import { TAIL_SCHEMA } from './schema.js';
import { Tailer } from './tailer.js';

export default definePlugin({
  kind: 'input',
  name: 'tail',
  description: 'Follows files matching globs, one event per line ({ message, file }). Survives rotation (rename+create, copytruncate), truncation and restarts: checkpoints advance only when the lines were delivered by every output.',
  schema: TAIL_SCHEMA,
  create(options, context) {
    const tailer = new Tailer(options, context);
    return {
      start: () => tailer.start(),
      run: (runtime) => tailer.run(runtime),
      close: () => tailer.close(),
      health: () => ({ healthy: true, details: { lag_bytes: tailer.lagByFile() } }),
    };
  },
});
