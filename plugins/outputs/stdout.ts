// Events to standard output: one JSON object per line, or the `message` field as text.
import { definePlugin, PermanentError, type Event } from '../../core/index.js';

interface StdoutOptions {
  format: 'json' | 'text';
}

export function formatEvents(events: Event[], format: 'json' | 'text'): string {
  let out = '';
  for (const e of events) {
    if (format === 'text' && typeof e.message === 'string') out += e.message + '\n';
    else out += JSON.stringify(e) + '\n';
  }
  return out;
}

export default definePlugin<StdoutOptions, 'output'>({
  kind: 'output',
  name: 'stdout',
  description: 'Writes events to standard output, one per line: as JSON, or the message field as plain text (events without a message are written as JSON).',
  schema: {
    type: 'object',
    properties: {
      format: { enum: ['json', 'text'], default: 'json', description: 'json: one JSON object per line; text: the message field only.' },
    },
  },
  create(options, context) {
    const stream = process.stdout;
    return {
      write(events) {
        const text = formatEvents(events, options.format);
        return new Promise<void>((resolve, reject) => {
          // The callback fires once the data has been handed to the OS; waiting for it is the backpressure.
          stream.write(text, (err) => {
            if (!err) {
              context.metrics.sentBytes.inc(Buffer.byteLength(text));
              return resolve();
            }
            // A closed pipe (reader gone) will not come back: do not retry forever.
            const code = (err as NodeJS.ErrnoException).code;
            reject(code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' ? new PermanentError(`stdout is closed (${code})`) : err);
          });
        });
      },
    };
  },
});
