// Events to standard output: one JSON object per line, the `message` field as text, or a template.
import { createEncoder, definePlugin, encodeLines, encoderReads, encodingSchema, ENCODING_RULES, PermanentError } from '../../core/index.js';

export default definePlugin({
  kind: 'output',
  name: 'stdout',
  description: 'Writes events to standard output, one per line: as JSON, the message field as plain text (events without a message are written as JSON), or a template.',
  // What it writes, when only some fields (only_fields, a template): the parsers upstream may skip the rest.
  reads: encoderReads,
  schema: {
    type: 'object',
    allOf: [ENCODING_RULES],
    properties: {
      ...encodingSchema('json'),
    },
  },
  create(options, context) {
    const stream = process.stdout;
    const encode = createEncoder(options);
    return {
      write(events) {
        const text = encodeLines(events, encode);
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
